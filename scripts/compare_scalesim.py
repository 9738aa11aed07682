#!/usr/bin/env python3
"""SCALE-Sim 3.0.0 beside accelsim, layer by layer: compute cycles, utilization, mapping efficiency.

    python scripts/compare_scalesim.py --hw scalesim_32x32 --workload resnet50
    python scripts/compare_scalesim.py --hw gemmini --dataflow os --workload alexnet --layers conv1,conv2

It creates (once, then reuses) a virtual environment with ``scalesim==3.0.0`` and
``numpy==2.3.5`` (SCALE-Sim needs numpy < 2.4), writes SCALE-Sim's config, topology
and layout files (SCALE-Sim requires a layout file even with custom layouts off) for
the accelsim hwconfig and workload, runs SCALE-Sim, reads its COMPUTE_REPORT.csv and
prints both simulators' numbers with the differences. accelsim runs in its SCALE-Sim
compatible mode (``array.pipelined_folds: false``), from the mapping module: the
compute cycles of the layer with every operand on chip.

What is compared, per accelsim layer:

- compute cycles: SCALE-Sim's ``Total Cycles - Stall Cycles + 1`` (it reports the
  0-based index of the last cycle) against accelsim's; SCALE-Sim runs with
  ``InterfaceBandwidth: CALC`` so that memory does not stall it;
- mapping efficiency: both average the fraction of PEs holding work over folds;
- utilization: SCALE-Sim's ``Overall Util %`` is MACs / (R.C.reported cycles), its
  0-based count; accelsim's is MACs / (R.C.cycles). The difference is reported, not
  failed on.

Layers become SCALE-Sim rows as the same GEMM: a convolution keeps its filter and
stride, with the input sized ``(P - 1).stride + R`` so that SCALE-Sim's output size
``ceil((H - R + stride) / stride)`` is accelsim's ``P`` (padding and dilation do not
change the GEMM); batch B multiplies the output height; a layer with G groups (or
repeats) becomes G rows, whose SCALE-Sim numbers are added up again. Rows are named
``L<layer>g<group>`` (SCALE-Sim treats any name containing ``DP`` as depthwise).

Exit status: 0 no difference in cycles or mapping efficiency, 1 a difference, 2 bad
input, 3 SCALE-Sim could not be installed, failed or ran past ``--timeout-s``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's accelsim, installed or not

from accelsim.config import Conv2d, Hardware, Workload, load_hardware, load_workload  # noqa: E402
from accelsim.config.loader import with_overrides  # noqa: E402
from accelsim.errors import AccelsimError  # noqa: E402
from accelsim.mapping import gemm_view, map_layer  # noqa: E402

REQUIREMENTS = ["scalesim==3.0.0", "numpy==2.3.5"]
RUN_NAME = "accelsim_compare"
EXIT_DIFFERENCE = 1
EXIT_USAGE = 2
EXIT_SCALESIM = 3
# Relative tolerance on mapping efficiency: both are the same ratio, summed in a different order.
EFFICIENCY_TOLERANCE = 1e-9


class ScaleSimFailed(Exception):
    """SCALE-Sim could not be installed, failed, or ran out of time (exit 3)."""


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "accelsim" / "scalesim-venv"


def installed_versions(python: Path) -> list[str] | None:
    """``name==version`` of the required packages in the environment of ``python``, or None."""
    names = [r.split("==")[0] for r in REQUIREMENTS]
    code = "import importlib.metadata as m, sys; print(' '.join(m.version(n) for n in sys.argv[1:]))"
    try:
        proc = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [f"{n}=={v}" for n, v in zip(names, proc.stdout.split())]


def ensure_venv(path: Path) -> Path:
    """The python of a venv with SCALE-Sim 3.0.0, creating the venv on first use.

    An existing environment with the pinned versions is used as it is; one this script
    made earlier (``accelsim-scalesim.txt`` inside) is rebuilt; anything else is left
    alone and reported, so that a mistyped ``--venv`` never deletes a directory.
    """
    python = path / "bin" / "python"
    if python.exists() and installed_versions(python) == REQUIREMENTS:
        return python
    marker = path / "accelsim-scalesim.txt"
    if path.exists() and any(path.iterdir()):
        if not marker.exists():
            raise ScaleSimFailed(f"{path} exists but is not a SCALE-Sim 3.0.0 environment made by this "
                                 "script: remove it or pass another --venv")
        shutil.rmtree(path)
    print(f"compare_scalesim: installing {' '.join(REQUIREMENTS)} into {path} (once)", file=sys.stderr)
    venv.EnvBuilder(with_pip=True).create(path)
    marker.write_text("made by accelsim scripts/compare_scalesim.py\n")
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *REQUIREMENTS], capture_output=True, text=True)
    if proc.returncode != 0 or installed_versions(python) != REQUIREMENTS:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ScaleSimFailed(f"pip install {' '.join(REQUIREMENTS)} into {path} failed: {last}")
    return python


@dataclass(frozen=True)
class TopologyRow:
    """One SCALE-Sim topology row and the accelsim layer it belongs to."""

    layer: int        # index into the workload's layers
    name: str         # SCALE-Sim's layer name
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    filters: int
    stride: int
    macs: int

    def csv(self) -> str:
        return (f"{self.name}, {self.ifmap_h}, {self.ifmap_w}, {self.filter_h}, {self.filter_w}, "
                f"{self.channels}, {self.filters}, {self.stride},")


def topology_rows(workload: Workload, selected: set[str] | None) -> list[TopologyRow]:
    """SCALE-Sim rows with the same GEMMs as the workload's (selected) layers."""
    rows = []
    for index, layer in enumerate(workload.layers):
        gemm = gemm_view(layer, workload.batch)
        if gemm is None or (selected is not None and layer.name not in selected):
            continue
        if isinstance(layer, Conv2d):
            sh, sw = layer.stride
            stride = sh if sh == sw else 1
            out_h, out_w = workload.batch * layer.P, layer.Q
            shape = ((out_h - 1) * stride + layer.R, (out_w - 1) * stride + layer.S, layer.R, layer.S,
                     layer.C // layer.groups, layer.K // layer.groups, stride)
        else:  # a GEMM is a 1x1 convolution whose output has M pixels
            shape = (gemm.M, 1, 1, 1, gemm.K, gemm.N, 1)
        for g in range(gemm.repeats):
            rows.append(TopologyRow(index, f"L{index:03d}g{g:04d}", *shape, macs=gemm.M * gemm.K * gemm.N))
    return rows


def scalesim_config(hw: Hardware) -> str:
    """SCALE-Sim's .cfg for the array (SRAM sizes in SCALE-Sim's kB = KiB, rounded up)."""
    from accelsim.config import DataKind

    a = hw.array
    kib = [max(1, math.ceil(hw.memory.buffer_for(kind).size_kib))
           for kind in (DataKind.ACTIVATIONS, DataKind.WEIGHTS, DataKind.PSUMS)]
    return f"""[general]
run_name = {RUN_NAME}

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False

[architecture_presets]
ArrayHeight = {a.rows}
ArrayWidth = {a.cols}
IfmapSramSzkB = {kib[0]}
FilterSramSzkB = {kib[1]}
OfmapSramSzkB = {kib[2]}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {a.dataflow.value}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = False
"""


TOPOLOGY_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
# SCALE-Sim reads the layout file even with custom layouts off; one row per layer, unit factors.
LAYOUT_HEADER = ("Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, "
                 "Filter Height Intraline Factor, Filter Width Intraline Factor, Channel Intraline Factor, "
                 "Num Filter Intraline Factor, IFMAP Height Intraline Order, IFMAP Width Intraline Order, "
                 "Channel Intraline Order, IFMAP Height Interline Order, IFMAP Width Interline Order, "
                 "Channel Interline Order, Num Filter Intraline Order, Channel Intraline Order, "
                 "Filter Height Intraline Order, Filter Width Intraline Order, Num Filter Interline Order, "
                 "Channel Interline Order, Filter Height Interline Order, Filter Width Interline Order,")
LAYOUT_ROW = "1, 1, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3,"

# Runs inside SCALE-Sim's venv: one topology row at a time (SCALE-Sim keeps every layer's memory
# state until the end of a run, gigabytes for a whole network), printing each row's index when done.
DRIVER = """
import gc, sys
from scalesim.scale_sim import scalesim
cfg, workdir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    s = scalesim(save_disk_space=True, verbose=False, config=cfg,
                 topology=f"{workdir}/topology_{i:05d}.csv", layout=f"{workdir}/layout_{i:05d}.csv")
    s.run_scale(top_path=f"{workdir}/out_{i:05d}")
    del s
    gc.collect()
    print(i, flush=True)
"""


@dataclass(frozen=True)
class ScaleSimRow:
    total_cycles: int  # as reported: the 0-based index of the last cycle
    stall_cycles: int
    overall_util_pct: float
    mapping_efficiency_pct: float


def read_report(path: Path) -> ScaleSimRow:
    cells = [c.strip() for c in path.read_text().splitlines()[1].split(",")]
    return ScaleSimRow(int(cells[2]), int(cells[3]), float(cells[4]), float(cells[5]))


def run_scalesim(python: Path, workdir: Path, hw: Hardware, rows: list[TopologyRow],
                 timeout_s: float | None) -> tuple[list[ScaleSimRow], float]:
    """Write the inputs into ``workdir``, run SCALE-Sim row by row, return its COMPUTE_REPORT rows.

    Stops at ``timeout_s`` and returns the rows finished by then (fewer than ``rows``).
    The first topology and layout file hold every row (the inputs one would give SCALE-Sim
    by hand); the per-row files are what the driver runs.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "scale.cfg"
    cfg.write_text(scalesim_config(hw))
    (workdir / "topology.csv").write_text("\n".join([TOPOLOGY_HEADER] + [r.csv() for r in rows]) + "\n")
    (workdir / "layout.csv").write_text("\n".join([LAYOUT_HEADER] + [f"{r.name}, {LAYOUT_ROW}" for r in rows]) + "\n")
    for i, r in enumerate(rows):
        (workdir / f"topology_{i:05d}.csv").write_text(f"{TOPOLOGY_HEADER}\n{r.csv()}\n")
        (workdir / f"layout_{i:05d}.csv").write_text(f"{LAYOUT_HEADER}\n{r.name}, {LAYOUT_ROW}\n")
    print(f"compare_scalesim: running SCALE-Sim on {len(rows)} topology rows in {workdir}", file=sys.stderr)
    began = time.perf_counter()
    proc = subprocess.Popen([str(python), "-c", DRIVER, str(cfg), str(workdir), str(len(rows))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workdir)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(timeout_s, stop) if timeout_s else None
    if watchdog:
        watchdog.start()
    done = 0
    for line in proc.stdout:
        done = int(line) + 1
        last = done == len(rows) or rows[done].layer != rows[done - 1].layer
        if last:
            print(f"compare_scalesim: [{done}/{len(rows)}] {time.perf_counter() - began:.0f} s", file=sys.stderr)
    err = proc.stderr.read()
    proc.wait()
    if watchdog:
        watchdog.cancel()
    seconds = time.perf_counter() - began
    if proc.returncode != 0 and not timed_out.is_set():
        last_line = (err.strip().splitlines() or ["no output"])[-1]
        raise ScaleSimFailed(f"SCALE-Sim failed (exit {proc.returncode}) on row {done}: {last_line}")
    reports = [workdir / f"out_{i:05d}" / RUN_NAME / "COMPUTE_REPORT.csv" for i in range(done)]
    return [read_report(path) for path in reports], seconds


@dataclass(frozen=True)
class LayerComparison:
    name: str
    macs: int
    scalesim_cycles: int             # reported + 1, stalls removed
    accelsim_cycles: int
    scalesim_stall_cycles: int
    scalesim_utilization: float      # SCALE-Sim's definition: MACs / (R.C.reported cycles)
    accelsim_utilization: float      # MACs / (R.C.cycles)
    scalesim_mapping_efficiency: float
    accelsim_mapping_efficiency: float

    @property
    def cycles_differ(self) -> bool:
        return self.scalesim_cycles != self.accelsim_cycles

    @property
    def efficiency_differs(self) -> bool:
        return not math.isclose(self.scalesim_mapping_efficiency, self.accelsim_mapping_efficiency,
                                rel_tol=EFFICIENCY_TOLERANCE)


def compare(hw: Hardware, workload: Workload, rows: list[TopologyRow],
            reported: list[ScaleSimRow]) -> list[LayerComparison]:
    pes = hw.array.rows * hw.array.cols
    by_layer: dict[int, list[tuple[TopologyRow, ScaleSimRow]]] = {}
    for row, rep in zip(rows, reported):
        by_layer.setdefault(row.layer, []).append((row, rep))
    result = []
    for index, pairs in by_layer.items():
        layer = workload.layers[index]
        mapping = map_layer(layer, hw.array, workload.batch)
        macs = sum(r.macs for r, _ in pairs)
        ss_reported = sum(rep.total_cycles for _, rep in pairs)
        ss_stalls = sum(rep.stall_cycles for _, rep in pairs)
        ss_cycles = ss_reported - ss_stalls + len(pairs)
        ours = mapping.compute.total
        result.append(LayerComparison(
            name=layer.name, macs=macs, scalesim_cycles=ss_cycles, accelsim_cycles=ours,
            scalesim_stall_cycles=ss_stalls,
            scalesim_utilization=(pairs[0][1].overall_util_pct / 100 if len(pairs) == 1
                                  else macs / (pes * ss_reported)),
            accelsim_utilization=macs / (pes * ours),
            scalesim_mapping_efficiency=sum(rep.mapping_efficiency_pct for _, rep in pairs) / len(pairs) / 100,
            accelsim_mapping_efficiency=mapping.mapping_efficiency))
    return result


def render(hw: Hardware, workload: Workload, layers: list[LayerComparison], seconds: float) -> str:
    def pct(x: float) -> str:
        return f"{100 * x:.3f}"

    headers = ["layer", "cycles SCALE-Sim", "cycles accelsim", "diff", "util% SCALE-Sim", "util% accelsim",
               "diff (pp)", "map.eff% SCALE-Sim", "map.eff% accelsim", "diff (pp)"]
    table = [headers]
    for c in layers:
        table.append([c.name, f"{c.scalesim_cycles}", f"{c.accelsim_cycles}",
                      f"{c.accelsim_cycles - c.scalesim_cycles:+d}", pct(c.scalesim_utilization),
                      pct(c.accelsim_utilization), f"{100 * (c.accelsim_utilization - c.scalesim_utilization):+.4f}",
                      pct(c.scalesim_mapping_efficiency), pct(c.accelsim_mapping_efficiency),
                      f"{100 * (c.accelsim_mapping_efficiency - c.scalesim_mapping_efficiency):+.4f}"])
    ss_total = sum(c.scalesim_cycles for c in layers)
    ours_total = sum(c.accelsim_cycles for c in layers)
    table.append(["TOTAL", f"{ss_total}", f"{ours_total}", f"{ours_total - ss_total:+d}"] + [""] * 6)
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             .rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    a = hw.array
    cycle_diffs = sum(c.cycles_differ for c in layers)
    eff_diffs = sum(c.efficiency_differs for c in layers)
    util_gap = max(abs(c.accelsim_utilization - c.scalesim_utilization) for c in layers)
    stalls = sum(c.scalesim_stall_cycles for c in layers)
    head = (f"SCALE-Sim 3.0.0 vs accelsim (SCALE-Sim compatible folds): {hw.name}, {a.rows}x{a.cols} "
            f"{a.dataflow.value}; {workload.name}, batch {workload.batch}; SCALE-Sim took {seconds:.1f} s")
    tail = [f"{len(layers)} layers: {cycle_diffs} differ in cycles, {eff_diffs} in mapping efficiency; "
            f"utilization differs by up to {100 * util_gap:.4f} pp (SCALE-Sim divides by its 0-based cycle count)"]
    if stalls:
        tail.append(f"note: SCALE-Sim reported {stalls} stall cycles in CALC mode (removed above)")
    return "\n".join([head, *lines, *tail]) + "\n"


def render_csv(layers: list[LayerComparison]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["layer", "macs", "scalesim_cycles", "accelsim_cycles", "scalesim_stall_cycles",
                     "scalesim_utilization", "accelsim_utilization", "scalesim_mapping_efficiency",
                     "accelsim_mapping_efficiency"])
    for c in layers:
        writer.writerow([c.name, c.macs, c.scalesim_cycles, c.accelsim_cycles, c.scalesim_stall_cycles,
                         repr(c.scalesim_utilization), repr(c.accelsim_utilization),
                         repr(c.scalesim_mapping_efficiency), repr(c.accelsim_mapping_efficiency)])
    return out.getvalue()


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="exit status: 0 no difference in cycles or mapping efficiency, "
                                       "1 a difference, 2 bad input, 3 SCALE-Sim failed or timed out")
    p.add_argument("--hw", required=True, metavar="PATH|NAME", help="accelsim hwconfig (YAML, .cfg or shipped name)")
    p.add_argument("--workload", required=True, metavar="PATH|NAME", help="accelsim workload (or SCALE-Sim CSV)")
    p.add_argument("--dataflow", choices=["os", "ws", "is"], help="override array.dataflow")
    p.add_argument("--batch", type=int, help="override the workload's batch size")
    p.add_argument("--layers", metavar="NAME,...", help="compare only these layers")
    p.add_argument("--venv", type=Path, default=default_venv(), metavar="DIR",
                   help="SCALE-Sim's virtual environment, created on first use (default: %(default)s)")
    p.add_argument("--workdir", type=Path, metavar="DIR",
                   help="keep SCALE-Sim's inputs and reports here (default: a temporary directory)")
    p.add_argument("--timeout-s", type=positive_seconds, metavar="S", help="stop SCALE-Sim after S seconds")
    p.add_argument("--format", choices=["table", "csv"], default="table")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        hw = load_hardware(args.hw)
        overrides = {"array.pipelined_folds": False}
        if args.dataflow:
            overrides["array.dataflow"] = args.dataflow
        hw = with_overrides(hw, overrides)
        workload = load_workload(args.workload, batch=args.batch)
        selected = None
        if args.layers:
            selected = {n.strip() for n in args.layers.split(",") if n.strip()}
            unknown = sorted(selected - {layer.name for layer in workload.layers})
            if unknown:
                raise AccelsimError(f"--layers: no such layer in {workload.name}: {', '.join(unknown)}")
        rows = topology_rows(workload, selected)
        if not rows:
            raise AccelsimError(f"{workload.name}: no GEMM layers to compare")
    except AccelsimError as err:
        print(str(err), file=sys.stderr)
        return EXIT_USAGE
    try:
        python = ensure_venv(args.venv)
        if args.workdir:
            reported, seconds = run_scalesim(python, args.workdir, hw, rows, args.timeout_s)
        else:
            with tempfile.TemporaryDirectory(prefix="accelsim-scalesim-") as tmp:
                reported, seconds = run_scalesim(python, Path(tmp), hw, rows, args.timeout_s)
    except ScaleSimFailed as err:
        print(f"compare_scalesim: {err}", file=sys.stderr)
        return EXIT_SCALESIM
    complete = len(reported) == len(rows)
    if not complete:  # compare the layers whose every row finished
        finished = len(reported)
        while finished and rows[finished].layer == rows[finished - 1].layer:
            finished -= 1
        rows, reported = rows[:finished], reported[:finished]
    layers = compare(hw, workload, rows, reported) if rows else []
    if layers:
        sys.stdout.write(render_csv(layers) if args.format == "csv" else render(hw, workload, layers, seconds))
    if not complete:
        print(f"compare_scalesim: SCALE-Sim did not finish within {args.timeout_s:g} s: {len(layers)} layers "
              "compared; compare the others with --layers", file=sys.stderr)
        return EXIT_SCALESIM
    differ = any(c.cycles_differ or c.efficiency_differs for c in layers)
    return EXIT_DIFFERENCE if differ else 0


if __name__ == "__main__":
    sys.exit(main())
