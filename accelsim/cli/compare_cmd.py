"""``accelsim compare``: a simulated run against measured per-layer numbers.

Also holds the options and input handling ``calibrate`` shares: the measured
file's metadata supplies defaults for ``--hw`` and ``--workload`` and is
honoured for the batch (the workload runs at the measured batch) and the clock
(the hardware runs at the measured clock).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from accelsim.cli.common import (add_hw_options, add_workload_options, make_dir, positive_int, workload_from_args,
                                 write_file)
from accelsim.compare.measured import Measured, MeasuredFile, match_layers, read_measured
from accelsim.config import Hardware, Workload, load_hardware
from accelsim.config.loader import parse_override, with_overrides
from accelsim.errors import ConfigError
from accelsim.models import MODELS


def add_measured_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--measured", required=True, metavar="FILE|NAME",
                        help="measured per-layer data: CSV, ONNX Runtime profile JSON, or a shipped name "
                             "(e.g. eyeriss_alexnet_jssc2017); format in docs/calibration.md")
    add_hw_options(parser, default=None)
    add_workload_options(parser, default=None)
    defaults = {"hw": "hwconfig YAML, SCALE-Sim .cfg, or a shipped name (default: the measured file's "
                      "'hardware' metadata)",
                "workload": "workload YAML, SCALE-Sim topology CSV, ONNX, or a shipped name (default: the "
                            "measured file's 'workload' metadata)",
                "batch": "the workload's batch size (default: the measured file's 'batch', which must agree)"}
    for action in parser._actions:  # the shared options, with defaults that come from the measured file
        action.help = defaults.get(action.dest, action.help)
    parser.add_argument("--model", choices=list(MODELS), default=next(iter(MODELS)),
                        help="engine: discrete-event simulation; analytical: closed form (default: %(default)s)")


@dataclass(frozen=True)
class MeasuredInputs:
    hardware: Hardware        # as simulated: --set overrides and the measured clock applied
    original: Hardware        # as loaded from --hw
    hardware_source: str      # the --hw argument (name or path)
    workload: Workload
    measured: Measured
    notes: tuple[str, ...]  # what the metadata changed, for stderr


def _near_file(value: str, mfile: MeasuredFile) -> str:
    """A metadata path is read relative to the measured file when it exists there."""
    candidate = Path(mfile.path).parent / value
    return str(candidate) if not Path(value).is_file() and candidate.is_file() else value


def inputs_from_args(args: argparse.Namespace) -> MeasuredInputs:
    mfile = read_measured(args.measured)
    meta = mfile.meta
    notes = []
    hw_name = args.hw or (meta.hardware and _near_file(meta.hardware, mfile))
    if not hw_name:
        raise ConfigError("--hw", "", f"missing: {mfile.path} names no hardware (metadata 'hardware'); pass --hw")
    hw = original = load_hardware(hw_name)
    overrides = dict(parse_override(s) for s in args.set)
    if args.dataflow:
        overrides["array.dataflow"] = args.dataflow
    if meta.clock_mhz is not None and meta.clock_mhz != overrides.get("clock_mhz", hw.clock_mhz):
        if "clock_mhz" in overrides:
            raise ConfigError("--set", "clock_mhz", f"{overrides['clock_mhz']} differs from the measured clock "
                                                    f"{meta.clock_mhz:g} MHz ({mfile.path})")
        notes.append(f"clock_mhz {hw.clock_mhz:g} -> {meta.clock_mhz:g} (the measured clock, {mfile.path})")
        overrides["clock_mhz"] = meta.clock_mhz
    if overrides:
        hw = with_overrides(hw, overrides)
    if meta.batch is not None and args.batch is not None and args.batch != meta.batch:
        raise ConfigError("--batch", "", f"{args.batch} differs from the measured batch {meta.batch} ({mfile.path})")
    workload_name = args.workload or (meta.workload and _near_file(meta.workload, mfile))
    if not workload_name:
        raise ConfigError("--workload", "", f"missing: {mfile.path} names no workload (metadata 'workload'); "
                                            "pass --workload")
    args = argparse.Namespace(**{**vars(args), "workload": workload_name,
                                 "batch": meta.batch if meta.batch is not None else args.batch})
    workload = workload_from_args(args)
    return MeasuredInputs(hardware=hw, original=original, hardware_source=hw_name, workload=workload,
                          measured=match_layers(mfile, workload), notes=tuple(notes))


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        description="Simulate the workload and compare it layer by layer with measured numbers (cycles, "
                    "latency, DRAM traffic, utilization): errors, MAPE, geometric-mean ratio, Pearson and "
                    "Spearman correlation, the worst layers and what dominates their simulated cycles.")
    add_measured_options(p)
    p.add_argument("--worst", type=positive_int, default=3, metavar="N",
                   help="worst layers listed per metric (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write compare.csv, compare.json and PNG plots (<metric>_scatter.png, <metric>_error.png)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from accelsim.compare.compare import comparison_csv, comparison_json, comparison_table, compare_run
    from accelsim.models import run_model

    inputs = inputs_from_args(args)
    for note in inputs.notes:
        print(f"compare: {note}", file=sys.stderr)
    run = run_model(args.model, inputs.hardware, inputs.workload)
    comparison = compare_run(run, inputs.measured, worst=args.worst)
    sys.stdout.write(comparison_table(comparison))
    if args.output:
        from accelsim.compare.plots import write_plots

        directory = make_dir(args.output)
        write_file(directory / "compare.csv", comparison_csv(comparison))
        write_file(directory / "compare.json", comparison_json(comparison))
        written = [directory / "compare.csv", directory / "compare.json", *write_plots(comparison, directory)]
        print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0
