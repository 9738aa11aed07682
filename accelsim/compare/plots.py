"""PNG plots of a comparison: measured vs simulated (log-log, with y = x) and per-layer errors.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot, so no
global figure state and no display backend), one file per metric and kind.
"""

from __future__ import annotations

from pathlib import Path

from accelsim.compare.compare import DISPLAY, TITLES, Comparison, MetricComparison
from accelsim.reports.plots import literal_text

DPI = 120


def _scatter(mc: MetricComparison, title: str):
    from matplotlib.figure import Figure

    unit, factor = DISPLAY[mc.metric]
    pairs = [(r.measured * factor, r.simulated * factor, r.layer) for r in mc.rows
             if r.measured > 0 and r.simulated > 0]
    fig = Figure(figsize=(5.5, 5.0), dpi=DPI)
    ax = fig.add_subplot()
    if pairs:
        xs, ys, names = zip(*pairs)
        lo, hi = min(xs + ys) / 1.5, max(xs + ys) * 1.5
        ax.plot([lo, hi], [lo, hi], color="0.5", linestyle="--", linewidth=1, label="y = x")
        ax.plot([lo, hi], [2 * lo, 2 * hi], color="0.8", linestyle=":", linewidth=1, label="2x / 0.5x")
        ax.plot([lo, hi], [lo / 2, hi / 2], color="0.8", linestyle=":", linewidth=1)
        ax.scatter(xs, ys, zorder=3)
        for x, y, name in pairs:
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"measured ({unit})")
    ax.set_ylabel(f"simulated ({unit})")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def _errors(mc: MetricComparison, title: str):
    from matplotlib.figure import Figure

    rows = [r for r in mc.rows if r.rel_error is not None]
    fig = Figure(figsize=(max(5.5, 0.35 * len(rows) + 2), 4.5), dpi=DPI)
    ax = fig.add_subplot()
    values = [100 * r.rel_error for r in rows]
    ax.bar(range(len(rows)), values, color=["tab:red" if v > 0 else "tab:blue" for v in values])
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r.layer for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("(simulated - measured) / measured (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def write_plots(comparison: Comparison, directory: str | Path) -> list[Path]:
    """``<metric>_scatter.png`` and ``<metric>_error.png`` per measured metric; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    run = comparison.run
    written = []
    for mc in comparison.metrics:
        title = f"{TITLES[mc.metric]}\n{run.workload.name} (batch {run.workload.batch}) on {run.hardware.name}, " \
                f"{run.model} model"
        for kind, make in (("scatter", _scatter), ("error", _errors)):
            path = directory / f"{mc.metric}_{kind}.png"
            with literal_text():  # layer and workload names are drawn as written, never as TeX
                make(mc, title).savefig(path)
            written.append(path)
    return written
