"""Report figures with matplotlib, returned as PNG bytes (no pyplot, no global state).

Each function takes plain numbers (suite rows, layer records) and draws one
figure: a roofline per design, utilization per layer, stacked cycle
breakdowns, and a rank-correlation matrix. Fonts and colours are fixed so the
same inputs give the same picture.
"""

from __future__ import annotations

import io
import math

from matplotlib.figure import Figure

from accelsim.stats import CycleBreakdown

DPI = 90
PARTS = [f for f in CycleBreakdown.__dataclass_fields__]  # computing, fill_drain, ..., overhead
PART_COLORS = {"computing": "#2ca02c", "fill_drain": "#98df8a", "preload": "#bcbd22", "stall_input": "#1f77b4",
               "stall_weight": "#ff7f0e", "stall_output": "#d62728", "vector": "#9467bd", "overhead": "#7f7f7f",
               "load_imbalance": "#e377c2"}
MARKERS = "o^sDvP*X"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _stacked_axes(n: int, width_in: float, panel_in: float, gap_in: float, left_in: float = 0.7,
                  right_in: float = 0.2, top_in: float = 0.5, bottom_in: float = 0.5) -> tuple[Figure, list]:
    """A figure of ``n`` panels stacked vertically, laid out in inches (no layout engine: one draw)."""
    height = top_in + n * panel_in + (n - 1) * gap_in + bottom_in
    fig = Figure(figsize=(width_in, height))
    axes = []
    for i in range(n):
        y = height - top_in - (i + 1) * panel_in - i * gap_in
        axes.append(fig.add_axes((left_in / width_in, y / height, (width_in - left_in - right_in) / width_in,
                                  panel_in / height)))
    return fig, axes


def _palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def ridge_point(peak_tops: float, dram_gb_per_s: float) -> float:
    """Arithmetic intensity (MACs per DRAM byte) where the bandwidth roof meets the compute roof."""
    return peak_tops * 1e12 / 2 / (dram_gb_per_s * 1e9)


def roofline(design: str, peak_tops: float, dram_gb_per_s: float, points: list[dict]) -> bytes:
    """Delivered TOPS against arithmetic intensity (MACs per DRAM byte), log-log, under the design's roofs:
    ``peak_tops`` and ``dram_gb_per_s``, the DRAM rate the engine can reach
    (``Hardware.achievable_dram_gb_per_s``: requests in flight may cap it below the configured peak).

    ``points``: ``{"x", "y", "group", "batch", "total"}``; layers are small markers, whole runs
    (``total``) large ones; colour by group, marker shape by batch.
    """
    fig, (ax,) = _stacked_axes(1, 7.5, 4.0, 0, left_in=0.8, top_in=0.35, bottom_in=0.6)
    xs = [p["x"] for p in points if p["x"] and p["y"]]
    finite = math.isfinite(dram_gb_per_s)
    ridge = ridge_point(peak_tops, dram_gb_per_s) if finite else None
    lo = min(xs + [ridge or 1.0]) / 3
    hi = max(xs + [ridge or 1.0]) * 3
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    if finite:
        ax.plot(grid, [min(peak_tops, 2 * x * dram_gb_per_s / 1e3) for x in grid], color="black", linewidth=1.5)
        ax.axvline(ridge, color="black", linestyle=":", linewidth=0.8)
        ax.annotate(f"ridge {ridge:,.3g} MACs/B" if ridge < 100 else f"ridge {ridge:,.0f} MACs/B", (ridge, peak_tops),
                    textcoords="offset points", xytext=(-4, -12), ha="right", fontsize=7)
    else:
        ax.axhline(peak_tops, color="black", linewidth=1.5)
    groups = list(dict.fromkeys(p["group"] for p in points))
    batches = sorted({p["batch"] for p in points})
    colors = dict(zip(groups, _palette(len(groups))))
    markers = {b: MARKERS[i % len(MARKERS)] for i, b in enumerate(batches)}
    for g in groups:
        for b in batches:
            layer = [(p["x"], p["y"]) for p in points if p["group"] == g and p["batch"] == b and not p["total"]
                     and p["x"] and p["y"]]
            if layer:
                ax.scatter(*zip(*layer), s=12, color=colors[g], marker=markers[b], alpha=0.6, linewidths=0)
            total = [(p["x"], p["y"]) for p in points if p["group"] == g and p["batch"] == b and p["total"]
                     and p["x"] and p["y"]]
            if total:
                ax.scatter(*zip(*total), s=70, color=colors[g], marker=markers[b], edgecolors="black",
                           linewidths=0.8, label=f"{g} b{b}" if len(batches) > 1 else g)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ys = [p["y"] for p in points if p["y"]]
    ax.set_ylim(min(ys + [peak_tops]) / 3, peak_tops * 2)
    ax.set_xlabel("arithmetic intensity (MACs per DRAM byte)")
    ax.set_ylabel("delivered TOPS")
    ax.set_title(f"{design}: peak {peak_tops:.3g} TOPS, DRAM {dram_gb_per_s:g} GB/s", fontsize=10)
    ax.grid(True, which="both", linewidth=0.3, alpha=0.5)
    if groups:
        ax.legend(fontsize=7, loc="lower right", ncol=2 if len(groups) > 6 else 1, title="whole run",
                  title_fontsize=7)
    return _png(fig)


def layer_utilization(title: str, panels: list[tuple[str, dict[str, list[tuple[str, float]]]]]) -> bytes:
    """Utilization of every layer, one line per design; ``panels``: ``(subtitle, {design: [(layer, util)]})``."""
    fig, axes = _stacked_axes(len(panels), 10, 1.9, 1.25, top_in=0.6, bottom_in=1.0)
    designs = list(dict.fromkeys(d for _, series in panels for d in series))
    colors = dict(zip(designs, _palette(len(designs))))
    for i, (ax, (subtitle, series)) in enumerate(zip(axes, panels)):
        n = 0
        for d, points in series.items():
            n = max(n, len(points))
            ax.plot(range(len(points)), [100 * u for _, u in points], marker=".", markersize=4, linewidth=1,
                    color=colors[d], label=d)
        names = next(iter(series.values()), [])
        step = max(1, math.ceil(len(names) / 40))
        ax.set_xticks(range(0, len(names), step))
        ax.set_xticklabels([names[j][0] for j in range(0, len(names), step)], rotation=90, fontsize=6)
        ax.set_ylim(0, 105)
        ax.set_ylabel("utilization %")
        ax.set_title(subtitle, fontsize=9)
        ax.grid(True, axis="y", linewidth=0.3)
        if i == 0:
            ax.legend(fontsize=7, loc="upper right", ncol=min(4, len(designs)))
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def grouped_bars(title: str, ylabel: str, labels: list[str], series: dict[str, list[float | None]],
                 percent: bool = False) -> bytes:
    """One bar per design for each label (e.g. utilization per kernel)."""
    fig, (ax,) = _stacked_axes(1, max(7.0, 0.2 * len(labels) * max(1, len(series)) + 1), 3.0, 0, top_in=0.35,
                               bottom_in=1.6)
    colors = dict(zip(series, _palette(len(series))))
    width = 0.8 / max(1, len(series))
    for i, (d, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(xs, [(100 if percent else 1) * (v or 0) for v in values], width=width, color=colors[d], label=d)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_ylabel(ylabel)
    if percent:
        ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="y", linewidth=0.3)
    ax.legend(fontsize=7, ncol=min(4, len(series)))
    return _png(fig)


def breakdown_bars(title: str, panels: list[tuple[str, list[tuple[str, dict[str, int]]]]]) -> bytes:
    """Stacked bars of where the cycles went, as shares of each bar's cycles.

    ``panels``: ``(subtitle, [(bar label, breakdown dict)])``.
    """
    widest = max((len(bars) for _, bars in panels), default=1)
    fig, axes = _stacked_axes(len(panels), max(7.5, 0.25 * widest + 1), 2.2, 1.9, top_in=0.6, bottom_in=2.2)
    for i, (ax, (subtitle, bars)) in enumerate(zip(axes, panels)):
        bottoms = [0.0] * len(bars)
        for part in PARTS:
            shares = [100 * b.get(part, 0) / (sum(b.values()) or 1) for _, b in bars]
            ax.bar(range(len(bars)), shares, bottom=bottoms, color=PART_COLORS[part], width=0.8,
                   label=part if i == 0 else None)
            bottoms = [x + y for x, y in zip(bottoms, shares)]
        ax.set_xticks(range(len(bars)))
        ax.set_xticklabels([label for label, _ in bars], rotation=90, fontsize=7)
        ax.set_ylim(0, 100)
        ax.set_ylabel("% of cycles")
        ax.set_title(subtitle, fontsize=9)
    fig.suptitle(title, fontsize=10)
    if panels:
        fig.legend(loc="lower center", ncol=4, fontsize=7, frameon=False)
    return _png(fig)


def correlation_matrix(title: str, labels: list[str], matrix: list[list[float | None]]) -> bytes:
    """A labelled heat map of a correlation matrix in [-1, 1] (grey where undefined)."""
    import numpy as np

    n = len(labels)
    side = 0.6 * n
    fig, (ax,) = _stacked_axes(1, side + 2.6, side, 0, left_in=1.3, right_in=1.3, top_in=0.4, bottom_in=1.2)
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float).reshape(n, n)
    from matplotlib import colormaps

    cmap = colormaps["RdBu"].copy()
    cmap.set_bad("#dddddd")
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=-1, vmax=1)
    for r in range(n):
        for c in range(n):
            text = "-" if np.isnan(data[r, c]) else f"{data[r, c]:+.2f}"
            ax.text(c, r, text, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_title(title, fontsize=9)
    bar = fig.add_axes((1 - 1.0 / fig.get_figwidth(), ax.get_position().y0, 0.15 / fig.get_figwidth(),
                        ax.get_position().height))
    fig.colorbar(image, cax=bar)
    return _png(fig)


FIGURES = {"roofline": roofline, "layer_utilization": layer_utilization, "grouped_bars": grouped_bars,
           "breakdown_bars": breakdown_bars, "correlation_matrix": correlation_matrix}


def literal_text():
    """A context in which every text is drawn as written: a layer named ``$\\frac{$`` is not TeX.

    Names come from users (workloads, ONNX graphs); matplotlib would parse ``$...$`` in them as
    mathtext and fail on it. Tick labels are made when the figure is drawn, so the context
    covers drawing and saving as well.
    """
    from matplotlib import rc_context

    return rc_context({"text.parse_math": False, "text.usetex": False})


def _draw(spec: tuple[str, tuple]) -> bytes:
    name, args = spec
    with literal_text():
        return FIGURES[name](*args)


def draw_all(specs: list[tuple[str, tuple]], jobs: int = 1) -> list[bytes]:
    """PNG bytes of each ``(figure name, args)``, drawn in ``jobs`` worker processes when more than one
    (a report's figures are independent, and drawing dominates once the simulations are done)."""
    if jobs <= 1 or len(specs) <= 1:
        return [_draw(spec) for spec in specs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(specs))) as pool:
        return list(pool.map(_draw, specs))
