"""``accelsim list``: the shipped hardware configs and workloads."""

from __future__ import annotations

import argparse

from accelsim.config import catalog, load_hardware, load_workload
from accelsim.reports.table import render_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("list")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    rows = []
    for name, path in catalog.shipped("hwconfigs").items():
        hw = load_hardware(path)
        a = hw.array
        rows.append([name, str(hw.cores), f"{a.rows}x{a.cols}", a.dataflow.value, f"{hw.clock_mhz:g}", f"{hw.peak_tops:.3g}",
                     f"{hw.dram.bandwidth_gb_per_s:g}", "pipelined" if a.pipelined_folds else "scalesim"])
    print("Hardware (--hw NAME):")
    print(render_table(["name", "cores", "array", "dataflow", "MHz", "peak TOPS", "DRAM GB/s", "fold timing"], rows,
                       "lrlrrrrl"))
    rows = []
    for name, path in catalog.shipped("workloads").items():
        wl = load_workload(path)
        rows.append([name, str(len(wl.layers)), str(len(wl.gemm_layers)), f"{wl.macs() / 1e9:.4g}",
                     path.suffix.lstrip(".")])
    print("\nWorkloads (--workload NAME), batch 1:")
    print(render_table(["name", "layers", "GEMM layers", "GMACs", "format"], rows, "lrrrl"))
    return 0
