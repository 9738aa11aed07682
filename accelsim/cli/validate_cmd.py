"""``accelsim validate``: the fold timing formulas against the cycle-level register model.

For every distinct fold shape of the workload on the hardware, two consecutive
folds run through :mod:`accelsim.reference` (register by register, random int8
operands) and are compared with :mod:`accelsim.mapping.dataflow`: each fold's
stream start, the cycles of the two folds, and the product itself.

Exit status: 0 every shape checked and matching; 1 at least one mismatch;
3 no mismatch, but some shapes were skipped because they did not fit the time
budget (not validated, so not a success); 2 bad input.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from accelsim.errors import ConfigError
from accelsim.cli.common import add_hw_options, add_workload_options, hardware_from_args, workload_from_args
from accelsim.reports.table import render_table

if TYPE_CHECKING:
    from accelsim.reference.checks import FoldShape, ShapeCheck

HEADERS = ["fold (rows x cols)", "T", "layers", "fold starts (formula)", "fold starts (model)", "cycles (formula)",
           "cycles (model)", "product", "seconds", "result"]
MAX_REFERENCE_PES = 2**20  # documented in docs/hardware.md (Input limits)
EXIT_MISMATCH = 1
EXIT_INCOMPLETE = 3
FOLDS_PER_SHAPE = 2
# Seconds per PE-cycle assumed before the first measurement (a slow machine), and the margin
# on measured rates, so that a shape is skipped rather than run past the budget.
PRIOR_S_PER_PE_CYCLE = 10e-9
RATE_MARGIN = 1.5


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "validate",
        description="For every distinct fold shape of the workload on the hardware, run two consecutive "
                    "folds through the register-level model of the array and compare fold start cycles, "
                    "total cycles and the computed product with the formulas the simulator uses.",
        epilog="exit status: 0 all shapes checked and matching, 1 a mismatch, 3 no mismatch but some "
               "shapes skipped (over the time budget), 2 bad input")
    add_hw_options(p)
    add_workload_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--budget-s", type=positive_seconds, default=120.0, metavar="S",
                   help="wall-clock budget; shapes that would exceed it are skipped (default: %(default)g)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    hw = hardware_from_args(args)
    workload = workload_from_args(args)
    if hw.array.pes > MAX_REFERENCE_PES:  # the register model keeps state for every PE
        raise ConfigError(args.hw, "array", f"{hw.array.rows} x {hw.array.cols} PEs, the register model runs at most "
                                            f"{MAX_REFERENCE_PES:,} PEs (1024 x 1024)")
    began = time.perf_counter()
    # Imported here: loading the compiled kernels is only worth it for this command.
    from accelsim.reference.checks import check_fold_shape, fold_shapes, warm_up

    array = hw.array
    shapes = sorted(fold_shapes(array, workload), key=lambda s: s.pe_cycles(array, FOLDS_PER_SHAPE))
    overhead_s = None  # seconds of one tiny run, measured once the kernel is compiled
    rate = PRIOR_S_PER_PE_CYCLE
    largest = 0
    rows, hazards, mismatches, skipped = [], [], 0, 0
    from accelsim.progress import Progress

    meter = Progress(len(shapes), "validate", " fold shapes", enabled=not args.quiet)
    for n, shape in enumerate(shapes, start=1):
        work = shape.pe_cycles(array, FOLDS_PER_SHAPE)
        label = f"{shape.rows_used}x{shape.cols_used}, T={shape.time}"
        elapsed = time.perf_counter() - began
        if elapsed + RATE_MARGIN * rate * work > args.budget_s:
            skipped += 1
            rows.append(_row(shape, None))
            meter.write(f"validate: [{n}/{len(shapes)}] {label}: skipped (about {rate * work:.1f} s, "
                        f"{args.budget_s - elapsed:.1f} s of budget left)")
            meter.update("failed")
            continue
        if overhead_s is None:
            # Compiling (tens of seconds without numba's cache) counts against the budget, but
            # not in the rate that predicts each shape's time.
            meter.bar.set_postfix_str("loading the register model (compiled on first use)")
            overhead_s = warm_up(array)
        check = check_fold_shape(array, shape, FOLDS_PER_SHAPE)
        if work >= largest:  # the biggest run so far predicts the rest best
            largest, rate = work, max((check.seconds - overhead_s) / work, 1e-12)
        mismatches += not check.matches
        rows.append(_row(shape, check))
        if check.hazard:
            hazards.append(f"{shape.rows_used} x {shape.cols_used}, T={shape.time}: {check.hazard}")
        if not check.matches:
            meter.write(f"validate: [{n}/{len(shapes)}] {label}: MISMATCH ({check.seconds:.1f} s)")
        meter.update("done" if check.matches else "error")
    meter.close()
    mode = "pipelined" if array.pipelined_folds else "SCALE-Sim compatible"
    print(f"hardware {hw.name}: {array.rows}x{array.cols} {array.dataflow.value}, {mode} folds; "
          f"workload {workload.name}, batch {workload.batch}; {FOLDS_PER_SHAPE} consecutive folds per shape")
    print(render_table(HEADERS, rows, "lrlrrrrlrl"))
    checked = len(shapes) - skipped
    print(f"{checked} fold shapes checked, {mismatches} mismatches")
    if skipped:
        print(f"{skipped} fold shapes skipped (over the {args.budget_s:g} s budget): not validated")
    for line in hazards:
        print(line)
    if mismatches:
        return EXIT_MISMATCH
    return EXIT_INCOMPLETE if skipped else 0


def _row(shape: FoldShape, check: ShapeCheck | None) -> list[str]:
    """One table row; ``check`` is None for a skipped shape."""
    layers = shape.layers[0] + (f" +{len(shape.layers) - 1}" if len(shape.layers) > 1 else "")
    packed = f" ({shape.packed} groups)" if shape.packed > 1 else ""
    head = [f"{shape.rows_used} x {shape.cols_used}{packed}", str(shape.time), layers]
    if check is None:
        return head + ["-", "-", "-", "-", "-", "-", "skipped"]
    starts = ", ".join(map(str, check.formula_starts))
    if check.hazard:
        return head + [starts, "-", f"{check.formula_cycles:,}", "-", "-", f"{check.seconds:.2f}", "HAZARD"]
    return head + [starts, ", ".join(map(str, check.reference_starts)), f"{check.formula_cycles:,}",
                   f"{check.reference_cycles:,}", "exact" if check.outputs_exact else "WRONG",
                   f"{check.seconds:.2f}", "ok" if check.matches else "MISMATCH"]
