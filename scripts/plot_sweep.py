#!/usr/bin/env python3
"""Plots of a stored sweep (PNG): a heatmap of a metric over two axes, and the Pareto front of
latency against a cost proxy, one of each per workload.

The cost proxy is ``PEs x --pe-bytes + SRAM bytes``: silicon spent on compute and on buffers in
one unit (bytes of SRAM). With the default ``--pe-bytes 1`` it is literally "PEs plus SRAM
bytes"; set it to the SRAM bytes one PE costs in your technology for an area-like proxy. A
design is on the front when no other design is at least as cheap and at least as fast.

    python scripts/plot_sweep.py sweep.h5 -o plots/
    python scripts/plot_sweep.py sweep.h5 --x array.rows --y dram.bandwidth_gb_per_s --where array.dataflow=ws
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

KIB = 1024


def pareto_front(cost: np.ndarray, latency: np.ndarray) -> np.ndarray:
    """Indices of the designs no other design beats on both cost and latency, cheapest first."""
    order = np.lexsort((latency, cost))
    front, best = [], np.inf
    for i in order:
        if latency[i] < best:
            front.append(i)
            best = latency[i]
    return np.array(front, dtype=int)


def cost_proxy(config, pe_bytes: float) -> np.ndarray:
    """PEs x pe_bytes + SRAM bytes, per point of ``results.config``."""
    pes = config["array.rows"].astype(float) * config["array.cols"].astype(float)
    names = config.dtype.names if getattr(getattr(config, "dtype", None), "names", None) else list(config)
    sizes = [name for name in names if name.endswith(".size_kib")]  # every on-chip buffer, either form
    sram = sum(np.nan_to_num(config[name].astype(float)) for name in sizes) * KIB
    return pes * pe_bytes + sram


def independent(totals, x: str, y: str) -> bool:
    """Whether ``y`` varies for a fixed ``x`` (``array.cols`` with ``array.rows == array.cols`` does not)."""
    return len(set(zip(totals[x].tolist(), totals[y].tolist()))) > len(set(totals[x].tolist()))


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def heatmap(ax, totals, x: str, y: str, metric: str, aggregate) -> None:
    xs, ys = sorted(set(totals[x].tolist())), sorted(set(totals[y].tolist()))
    grid = np.full((len(ys), len(xs)), np.nan)
    for j, yv in enumerate(ys):
        for i, xv in enumerate(xs):
            cell = totals[metric][(totals[x] == xv) & (totals[y] == yv)]
            if len(cell):
                grid[j, i] = aggregate(cell)
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, float) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, float) else str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for j in range(len(ys)):
        for i in range(len(xs)):
            if not np.isnan(grid[j, i]):
                ax.text(i, j, f"{grid[j, i]:.3g}", ha="center", va="center", color="w", fontsize=8)
    ax.figure.colorbar(image, ax=ax, label=metric)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results file written by accelsim sweep")
    p.add_argument("-o", "--output", default="plots", help="directory for the PNG files (default: plots)")
    p.add_argument("--x", help="heatmap x axis (default: the sweep's first axis)")
    p.add_argument("--y", help="heatmap y axis (default: the first axis after --x with several values)")
    p.add_argument("--metric", default="utilization", help="heatmap metric, a total (default: utilization)")
    p.add_argument("--aggregate", choices=["max", "min", "mean"], default="max",
                   help="how points that differ in other axes share a cell (default: max)")
    p.add_argument("--where", action="append", default=[], metavar="AXIS=VALUE",
                   help="keep only points with this axis value (repeatable)")
    p.add_argument("--pe-bytes", type=float, default=1.0, help="SRAM bytes one PE counts as in the cost proxy")
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False  # workload names are drawn as written, never as TeX
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from accelsim.errors import AccelsimError
    from accelsim.results import load

    try:
        results = load(args.results, as_pandas=False)
    except AccelsimError as err:
        print(err, file=sys.stderr)
        return 2
    totals = results.totals
    cost_all = cost_proxy(results.config, args.pe_bytes)
    cost = cost_all[totals["point"]]
    keep = np.ones(len(totals), dtype=bool)
    for condition in args.where:
        axis, _, value = condition.partition("=")
        if axis not in totals.dtype.names:
            print(f"--where: {axis}: not an axis of {args.results} (axes: {', '.join(results.axes)})", file=sys.stderr)
            return 2
        keep &= totals[axis] == _value(value)
    totals, cost = totals[keep], cost[keep]
    varied = [a for a in results.axes if len(set(totals[a].tolist())) > 1]
    x = args.x or (varied[0] if varied else None)
    y = args.y or next((a for a in varied if a != x and independent(totals, x, a)), None)
    if len(totals) == 0:
        print(f"{args.results}: no done points to plot", file=sys.stderr)
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    aggregate = {"max": np.max, "min": np.min, "mean": np.mean}[args.aggregate]
    color_axis = "array.dataflow" if "array.dataflow" in varied else None
    written = []
    for workload in sorted(set(totals["workload"].tolist())):
        mine = totals["workload"] == workload
        if x and y:
            fig, ax = plt.subplots(figsize=(7, 5))
            heatmap(ax, totals[mine], x, y, args.metric, aggregate)
            others = [a for a in varied if a not in (x, y)]
            ax.set_title(f"{args.metric}, {workload}" + (f" ({args.aggregate} over {', '.join(others)})"
                                                        if others else ""))
            path = out / f"heatmap_{workload}.png"
            fig.savefig(path, dpi=120, bbox_inches="tight")
            plt.close(fig)
            written.append(path)
        fig, ax = plt.subplots(figsize=(7, 5))
        latency_ms = totals["latency_s"][mine] * 1e3
        c = cost[mine]
        groups = sorted(set(totals[color_axis][mine].tolist())) if color_axis else [None]
        for group in groups:
            sel = totals[color_axis][mine] == group if color_axis else np.ones(len(c), dtype=bool)
            ax.scatter(c[sel], latency_ms[sel], s=18, alpha=0.7, label=f"{color_axis}={group}" if group else None)
        front = pareto_front(c, latency_ms)
        ax.step(c[front], latency_ms[front], where="post", color="k", linewidth=1.2, label="Pareto front")
        if c.max() > 10 * c.min():  # a narrow range (SRAM dominates) reads better on a linear scale
            ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e6:.4g}"))
        ax.set_xlabel(f"cost proxy: PEs x {args.pe_bytes:g} + SRAM bytes (millions)")
        ax.set_ylabel("latency (ms)")
        ax.set_title(f"latency vs cost, {workload} ({len(front)} of {len(c)} designs on the front)")
        ax.legend(fontsize=8)
        path = out / f"pareto_{workload}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
