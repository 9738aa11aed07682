#!/usr/bin/env python3
"""accelsim beside SCALE-Sim 3.0.0 in USER bandwidth mode, layer by layer (docs/validation.md).

    python scripts/scalesim_user_mode.py                                   # example cfg, test.csv + 5 ResNet-50 layers
    python scripts/scalesim_user_mode.py --from-csv tests/data/scalesim_user_mode.csv   # stored SCALE-Sim numbers
    python scripts/scalesim_user_mode.py --write-csv tests/data/scalesim_user_mode.csv  # run SCALE-Sim, store them

The hardware is a SCALE-Sim ``.cfg`` (default ``hwconfigs/scalesim_example.cfg``, USER mode); the
workloads are SCALE-Sim topology files, each limited to its first ``--layers`` rows. SCALE-Sim runs
from the Python given by ``--scalesim-python`` (default ``$ACCELSIM_SCALESIM_PYTHON``, else
``/tmp/venv-scalesim/bin/python``, else the venv ``compare_scalesim.py`` creates), one topology row
per run. The cfg it gets is the input's, completed with the keys SCALE-Sim 3.0.0 requires and the
accelsim example leaves out: ``ReadRequestBuffer``/``WriteRequestBuffer`` (32, unused without
Ramulator) and a ``[layout]`` section with custom layouts off, one bank, and
``IfmapSRAMBankBandwidth`` = ``FilterSRAMBankBandwidth`` = ``Bandwidth`` (in 3.0.0 those two keys,
not ``Bandwidth``, set the ifmap and filter ports in USER mode: ``single_layer_sim.py``).

Per layer it prints SCALE-Sim's cycles (``Total Cycles + 1``: it reports the 0-based index of the
last cycle) and stall cycles, accelsim's engine and analytical cycles as imported (each buffer its
own DRAM port) and, for contrast, with one shared DRAM of the same per-port bandwidth (the import
before per-buffer ports), and the ratios accelsim / SCALE-Sim.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from accelsim.config import Workload, load_hardware  # noqa: E402
from accelsim.config.loader import with_overrides  # noqa: E402
from accelsim.config.scalesim import load_scalesim_topology  # noqa: E402
from accelsim.models import run_model  # noqa: E402

CFG = ROOT / "hwconfigs" / "scalesim_example.cfg"
TOPOLOGIES = [ROOT / "tests/data/scalesim_topologies/scale-sim-v2__topologies_conv_nets_test.csv",
              ROOT / "tests/data/scalesim_topologies/scale-sim-v2__topologies_conv_nets_Resnet50.csv"]
RUN_NAME = "accelsim_compare"  # compare_scalesim.DRIVER reads the report under this name
CSV_FIELDS = ["topology", "layer", "scalesim_total_cycles", "scalesim_stall_cycles"]


@dataclass(frozen=True)
class Measured:
    topology: str
    layer: str
    total_cycles: int  # as SCALE-Sim reports it: the 0-based index of the last cycle
    stall_cycles: int

    @property
    def cycles(self) -> int:
        return self.total_cycles + 1


def topology_rows(path: Path, limit: int) -> list[str]:
    """The first ``limit`` layer rows of a SCALE-Sim topology, as SCALE-Sim rows (8 fields)."""
    rows = []
    for line in path.read_text().splitlines()[1:]:
        cells = [c.strip() for c in line.split(",")]
        if cells and cells[0]:
            rows.append(", ".join(cells[:8]) + ",")
        if len(rows) == limit:
            break
    return rows


def scalesim_cfg(path: Path) -> str:
    """The input cfg completed with the keys SCALE-Sim 3.0.0 needs (module docstring)."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(path)
    arch = cp["architecture_presets"]
    bandwidth = arch["Bandwidth"].split(",")[0].strip()
    cp["general"]["run_name"] = RUN_NAME
    arch.setdefault("ReadRequestBuffer", "32")
    arch.setdefault("WriteRequestBuffer", "32")
    if not cp.has_section("layout"):
        cp["layout"] = {"IfmapCustomLayout": "False", "FilterCustomLayout": "False",
                        "IfmapSRAMBankBandwidth": bandwidth, "IfmapSRAMBankNum": "1", "IfmapSRAMBankPort": "2",
                        "FilterSRAMBankBandwidth": bandwidth, "FilterSRAMBankNum": "1", "FilterSRAMBankPort": "2"}
    out = io.StringIO()
    cp.write(out)
    return out.getvalue()


def scalesim_python(given: str | None) -> Path:
    for candidate in (given, os.environ.get("ACCELSIM_SCALESIM_PYTHON"), "/tmp/venv-scalesim/bin/python"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    import compare_scalesim

    return compare_scalesim.ensure_venv(compare_scalesim.default_venv())


def run_scalesim(python: Path, cfg: Path, topology: Path, rows: list[str], workdir: Path) -> list[Measured]:
    from compare_scalesim import DRIVER, LAYOUT_HEADER, LAYOUT_ROW, TOPOLOGY_HEADER

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "scale.cfg").write_text(scalesim_cfg(cfg))
    for i, row in enumerate(rows):
        name = row.split(",")[0]
        (workdir / f"topology_{i:05d}.csv").write_text(f"{TOPOLOGY_HEADER}\n{row}\n")
        (workdir / f"layout_{i:05d}.csv").write_text(f"{LAYOUT_HEADER}\n{name}, {LAYOUT_ROW}\n")
    began = time.perf_counter()
    subprocess.run([str(python), "-c", DRIVER, str(workdir / "scale.cfg"), str(workdir), str(len(rows))],
                   check=True, cwd=workdir, stdout=subprocess.DEVNULL)
    print(f"scalesim_user_mode: SCALE-Sim ran {topology.name} ({len(rows)} rows) in "
          f"{time.perf_counter() - began:.0f} s", file=sys.stderr)
    out = []
    for i, row in enumerate(rows):
        report = (workdir / f"out_{i:05d}" / RUN_NAME / "COMPUTE_REPORT.csv").read_text().splitlines()[1]
        cells = [c.strip() for c in report.split(",")]
        out.append(Measured(topology.name, row.split(",")[0], int(cells[2]), int(cells[3])))
    return out


def read_csv(path: Path) -> list[Measured]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return [Measured(r["topology"], r["layer"], int(r["scalesim_total_cycles"]), int(r["scalesim_stall_cycles"]))
            for r in csv.DictReader(lines)]


def write_csv(path: Path, measured: list[Measured], cfg: Path, limit: int) -> None:
    header = ("# SCALE-Sim 3.0.0 (pip install scalesim==3.0.0 numpy==2.3.5), USER bandwidth mode, one topology\n"
              f"# row per run, on {cfg.relative_to(ROOT)} completed as scripts/scalesim_user_mode.py says\n"
              f"# (ifmap, filter and ofmap ports at Bandwidth words per cycle). Produced by\n"
              f"# python scripts/scalesim_user_mode.py --layers {limit} --write-csv {path.relative_to(ROOT)}\n"
              "# scalesim_total_cycles is COMPUTE_REPORT.csv's Total Cycles (the 0-based index of the last cycle).\n")
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for m in measured:
        writer.writerow([m.topology, m.layer, m.total_cycles, m.stall_cycles])
    path.write_text(header + body.getvalue())


def accelsim_layers(cfg: Path, topology: Path, limit: int) -> list[dict]:
    """Per layer: engine and analytical cycles as imported, and the engine with one shared DRAM."""
    hw = load_hardware(cfg)
    full = load_scalesim_topology(topology)
    workload = Workload(name=full.name, batch=1, layers=full.layers[:limit], source=full.source)
    port = hw.memory.local[0].dram_port_bytes_per_cycle
    shared = with_overrides(hw, {"dram.ports_independent": False, "dram.bandwidth_gb_per_s": port,
                                 **{f"sram.{n}.dram_port_bytes_per_cycle": None
                                    for n in ("input", "weight", "output")}})
    engine, analytical, before = (run_model(model, h, workload) for model, h in
                                  (("engine", hw), ("analytical", hw), ("engine", shared)))
    return [{"layer": e.name, "engine": e.cycles, "analytical": a.cycles, "shared_dram": b.cycles,
             "compute": e.compute_cycles}
            for e, a, b in zip(engine.layers, analytical.layers, before.layers)]


def render(topology: str, ours: list[dict], theirs: list[Measured]) -> str:
    head = ("| layer | SCALE-Sim cycles | SCALE-Sim stalls | accelsim engine | ratio | accelsim analytical | ratio "
            "| one shared DRAM (before) | ratio | compute only |")
    lines = [f"`{topology}`", "", head, "|" + "---|" * 10]
    for o, m in zip(ours, theirs):
        lines.append(f"| {o['layer']} | {m.cycles:,} | {m.stall_cycles:,} | {o['engine']:,} | "
                     f"{o['engine'] / m.cycles:.3f} | {o['analytical']:,} | {o['analytical'] / m.cycles:.3f} | "
                     f"{o['shared_dram']:,} | {o['shared_dram'] / m.cycles:.3f} | {o['compute']:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cfg", type=Path, default=CFG)
    parser.add_argument("--topology", type=Path, nargs="*", default=TOPOLOGIES)
    parser.add_argument("--layers", type=int, default=5, help="first N rows of each topology")
    parser.add_argument("--scalesim-python", help="python of a venv with scalesim==3.0.0")
    parser.add_argument("--from-csv", type=Path, help="SCALE-Sim numbers stored by --write-csv (no SCALE-Sim run)")
    parser.add_argument("--write-csv", type=Path, help="store the SCALE-Sim numbers measured here")
    parser.add_argument("--workdir", type=Path, help="keep SCALE-Sim's files here (default: a temporary dir)")
    args = parser.parse_args(argv)
    if args.from_csv:
        stored = read_csv(args.from_csv)
        measured = {t.name: [m for m in stored if m.topology == t.name] for t in args.topology}
    else:
        python = scalesim_python(args.scalesim_python)
        measured = {}
        with tempfile.TemporaryDirectory() as tmp:
            for t in args.topology:
                workdir = (args.workdir or Path(tmp)) / t.stem
                measured[t.name] = run_scalesim(python, args.cfg, t, topology_rows(t, args.layers), workdir)
        if args.write_csv:
            write_csv(args.write_csv, [m for t in args.topology for m in measured[t.name]], args.cfg, args.layers)
    for t in args.topology:
        print(render(t.name, accelsim_layers(args.cfg, t, args.layers), measured[t.name]))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
