"""``accelsim runs show results.h5``: a stored sweep as a table, best points first."""

from __future__ import annotations

import argparse
import math

import numpy as np

from accelsim.cli.common import positive_int
from accelsim.errors import ConfigError
from accelsim.reports.table import render_table

DEFAULT_METRIC = "latency_s"
# Metrics where more is better; every other metric sorts smallest first (cycles, bytes, latency,
# energy, power). Throughput, utilization and efficiency metrics added later follow the patterns.
HIGHER_IS_BETTER = {"array_busy_fraction", "arithmetic_intensity"}
HIGHER_PATTERNS = ("utilization", "efficiency", "tops", "inferences_per_s", "_per_w", "_per_mm2", "_per_usd")


def higher_is_better(metric: str) -> bool:
    return metric in HIGHER_IS_BETTER or any(p in metric for p in HIGHER_PATTERNS)
# (column, header, format) shown for every point when the file has the column.
SHOWN = [
    ("cycles", "cycles", lambda v: f"{int(v):,}"),
    ("latency_s", "latency ms", lambda v: f"{v * 1e3:.4g}"),
    ("utilization", "util", lambda v: f"{100 * v:.1f}%"),
    ("inferences_per_s", "inf/s", lambda v: f"{v:.4g}"),
    ("dram_read_bytes", "DRAM rd MB", lambda v: f"{v / 1e6:.4g}"),
    ("dram_write_bytes", "DRAM wr MB", lambda v: f"{v / 1e6:.4g}"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("runs", description="Inspect the HDF5 results of `accelsim sweep`.")
    commands = p.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)
    show = commands.add_parser("show", help="summary table of a results file, best points first",
                               description="Print a results file's points, best first by a metric "
                                           "(any numeric column of the totals).")
    show.add_argument("file", metavar="FILE", help="results file written by accelsim sweep")
    show.add_argument("--sort", default=DEFAULT_METRIC, metavar="METRIC",
                      help=f"rank by this total (default: {DEFAULT_METRIC})")
    show.add_argument("--order", choices=["asc", "desc"],
                      help="smallest or largest first (default: largest first for utilization, "
                           "efficiency, throughput and TOPS metrics, smallest first for the others)")
    show.add_argument("--top", type=positive_int, default=10, metavar="N", help="show N points (default: 10)")
    show.add_argument("--workload", metavar="NAME", help="only the points of this workload")
    show.set_defaults(func=main)
    fix = commands.add_parser("repair", help="recover the intact points of a damaged results file",
                              description="Recover every point of a damaged (e.g. truncated) results file whose "
                                          "records are intact, in place: each stored point carries a seal (its "
                                          "status and a CRC-32 of its records) that is checked. The original is "
                                          "kept as FILE.damaged; the points that are lost become pending, so "
                                          "`accelsim sweep --resume` runs exactly those again. An intact file is "
                                          "left as it is.")
    fix.add_argument("file", metavar="FILE", help="results file written by accelsim sweep")
    fix.set_defaults(func=repair_main)


def repair_main(args: argparse.Namespace) -> int:
    from accelsim.reports.store import repair

    report = repair(args.file)
    print(report.summary() + (f"; the damaged original is {args.file}.damaged" if report.damaged else ""))
    return 0


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def _axis_column(axis: str, table: np.ndarray) -> str:
    """An axis is stored under its path, or ``axis.<path>`` when a result has that name (docs/results.md)."""
    return f"axis.{axis}" if f"axis.{axis}" in table.dtype.names else axis


def main(args: argparse.Namespace) -> int:
    from accelsim.results import load

    results = load(args.file, as_pandas=False)
    totals, points = results.totals, results.points
    if args.workload is not None:
        workloads = sorted(set(points["workload"]))
        if args.workload not in workloads:
            raise ConfigError("--workload", args.workload, f"not in {args.file}, expected one of: "
                                                            f"{', '.join(workloads)}")
        totals = totals[totals["workload"] == args.workload]
        points = points[points["workload"] == args.workload]
    numeric = [n for n in results.totals.dtype.names
               if results.totals.dtype[n].kind in "iuf" and n not in ("point", "batch", *results.axes)
               and not n.startswith("axis.")]
    if len(results.totals) and args.sort not in numeric:
        raise ConfigError("--sort", args.sort, "expected a numeric total: " + ", ".join(numeric))
    descending = args.order == "desc" if args.order else higher_is_better(args.sort)
    counts = {s: int((points["status"] == s).sum()) for s in ("done", "failed", "error", "pending")}
    state = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s in ("done", "failed"))
    about = f"{args.file}: {len(results.points)} points ({results.model} model, accelsim {results.accelsim_version})"
    print(f"{about}; {args.workload}: {len(points)} points: {state}" if args.workload else f"{about}: {state}")
    if not len(totals):
        print("no point is done yet")
    way = "largest" if descending else "smallest"
    shown = [(c, h, f) for c, h, f in SHOWN if c in totals.dtype.names]
    if args.sort not in [c for c, _, _ in shown]:
        shown.append((args.sort, args.sort, _cell))
    axes = [_axis_column(a, totals) for a in results.axes]
    # Points of different workloads (or batches) are not comparable: rank each group on its own.
    groups = list(dict.fromkeys(zip(totals["workload"].tolist(), totals["batch"].tolist())))
    for i, (workload, batch) in enumerate(groups):
        group = totals[(totals["workload"] == workload) & (totals["batch"] == batch)]
        values = group[args.sort].astype(float)
        values = np.where(np.isnan(values), math.inf if not descending else -math.inf, values)
        best = group[np.argsort(-values if descending else values, kind="stable")][: args.top]
        within = f" of {workload}, batch {batch}" if len(groups) > 1 else ""
        print(("\n" if i else "") + f"best {len(best)} of {len(group)}{within} by {args.sort} ({way} first):\n")
        headers = ["rank", "point", "hardware", *results.axes, *(h for _, h, _ in shown)]
        rows = [[str(rank), str(row["point"]), row["base"], *(_cell(row[a]) for a in axes),
                 *(f(row[c]) for c, _, f in shown)] for rank, row in enumerate(best, 1)]
        print(render_table(headers, rows, "rrl" + "l" * len(axes) + "r" * len(shown)))
    problems = points[(points["status"] == "failed") | (points["status"] == "error")]
    if len(problems):
        print(f"\nnot done ({len(problems)}):")
        for row in problems[: args.top]:
            where = ", ".join(f"{a}={_cell(row[_axis_column(a, points)])}" for a in results.axes)
            print(f"  point {row['point']} ({row['base']}{': ' + where if where else ''}; {row['workload']}): "
                  f"{row['status']}: {row['error']}")
        if len(problems) > args.top:
            print(f"  ... and {len(problems) - args.top} more")
    return 0
