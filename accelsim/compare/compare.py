"""A simulated run against measured per-layer numbers: errors, agreement, the worst layers.

For each metric the file measured (``measured.METRICS``), every measured layer
gets its simulated value, the error ``simulated - measured`` in the metric's
unit, the relative error, and the category that dominates its simulated cycles
(so a layer that is far off says whether the model thought it was computing or
waiting for DRAM). Per metric: the statistics of ``agreement`` and the layers
with the largest ``|relative error|``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

from accelsim.compare.agreement import Agreement, relative_error
from accelsim.compare.measured import METRICS, Measured
from accelsim.config.hardware import Hardware
from accelsim.stats import LayerResult, RunResult, latency_s, utilization

# How each metric is shown in tables: (display unit, factor from the base unit).
DISPLAY = {"cycles": ("cycles", 1.0), "latency_s": ("ms", 1e3), "dram_bytes": ("MB", 1e-6),
           "utilization": ("%", 100.0)}
TITLES = {"cycles": "cycles", "latency_s": "latency", "dram_bytes": "DRAM traffic (read + write)",
          "utilization": "utilization (MACs / (PEs x cycles))"}


def simulated_value(metric: str, layer: LayerResult, hw: Hardware) -> float:
    """The simulated counterpart of a measured metric, in the metric's base unit."""
    if metric == "cycles":
        return float(layer.cycles)
    if metric == "latency_s":
        return latency_s(layer.cycles, hw.clock_hz)
    if metric == "dram_bytes":
        return float(layer.dram.total)
    if metric == "utilization":
        return utilization(layer.macs, hw.peak_macs_per_cycle, layer.cycles)
    raise KeyError(metric)


def dominant(layer: LayerResult) -> tuple[str, float]:
    """The cycle category with the most simulated cycles, and its share of the layer."""
    if not layer.cycles:
        return "-", 0.0
    name = layer.breakdown.dominant()
    return name, getattr(layer.breakdown, name) / layer.cycles


@dataclass(frozen=True)
class LayerComparison:
    layer: str
    metric: str
    simulated: float
    measured: float
    error: float                 # simulated - measured, in the metric's base unit
    rel_error: float | None      # error / measured (None when measured is 0)
    dominant: str                # cycle category dominating the simulated layer
    dominant_share: float
    where: str                   # the row(s) of the measured file


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    rows: tuple[LayerComparison, ...]
    agreement: Agreement
    total_simulated: float | None  # sums over the measured layers (additive metrics only)
    total_measured: float | None
    worst: tuple[LayerComparison, ...]


@dataclass(frozen=True)
class Comparison:
    run: RunResult
    measured: Measured
    metrics: tuple[MetricComparison, ...]


def compare_run(run: RunResult, measured: Measured, worst: int = 3) -> Comparison:
    """Every measured metric of every measured layer against the run."""
    by_name = {layer.name: layer for layer in run.layers}
    out = []
    for metric in measured.metrics:
        rows = []
        for m in measured.layers:
            if metric not in m.values:
                continue
            layer = by_name[m.name]
            sim, meas = simulated_value(metric, layer, run.hardware), m.values[metric]
            dom, share = dominant(layer)
            rows.append(LayerComparison(layer=m.name, metric=metric, simulated=sim, measured=meas,
                                        error=sim - meas, rel_error=relative_error(sim, meas), dominant=dom,
                                        dominant_share=share, where=m.where))
        agreement = Agreement.of([r.simulated for r in rows], [r.measured for r in rows])
        additive = METRICS[metric].additive
        ranked = sorted((r for r in rows if r.rel_error is not None), key=lambda r: -abs(r.rel_error))
        out.append(MetricComparison(
            metric=metric, rows=tuple(rows), agreement=agreement,
            total_simulated=sum(r.simulated for r in rows) if additive else None,
            total_measured=sum(r.measured for r in rows) if additive else None,
            worst=tuple(ranked[:worst])))
    return Comparison(run=run, measured=measured, metrics=tuple(out))


# ---------------------------------------------------------------- text, CSV, JSON


def _num(value: float | None, factor: float = 1.0, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    x = value * factor
    if abs(x) >= 1e5:
        return f"{x:+,.0f}" if sign else f"{x:,.0f}"
    return f"{x:+.4g}" if sign else f"{x:.4g}"


def _pct(value: float | None, sign: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:+.1f}%" if sign else f"{100 * value:.1f}%"


def _corr(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def header_lines(comparison: Comparison) -> list[str]:
    run, measured = comparison.run, comparison.measured
    hw, meta = run.hardware, measured.meta
    lines = [f"compare    {hw.name} ({run.model} model, {hw.clock_mhz:g} MHz) vs {measured.file.path}"]
    if meta.source:
        lines.append(f"source     {meta.source}")
    workload = f"workload   {run.workload.name}, batch {run.workload.batch}; {len(measured.layers)} of " \
               f"{len(run.workload.layers)} layers measured"
    if measured.unmeasured:
        shown = ", ".join(measured.unmeasured[:8]) + (", ..." if len(measured.unmeasured) > 8 else "")
        workload += f" (not measured: {shown})"
    lines.append(workload)
    return lines


def comparison_table(comparison: Comparison) -> str:
    """The terminal report: a table per metric, its statistics and worst layers."""
    from accelsim.reports.table import BREAKDOWN_SHORT, render_table, wrap

    out = header_lines(comparison)
    for mc in comparison.metrics:
        unit, factor = DISPLAY[mc.metric]
        rows = []
        for r in mc.rows:
            dom = f"{BREAKDOWN_SHORT.get(r.dominant, r.dominant)} {100 * r.dominant_share:.0f}%" \
                if r.dominant != "-" else "-"
            rows.append([r.layer, _num(r.simulated, factor), _num(r.measured, factor),
                         _num(r.error, factor, sign=True), _pct(r.rel_error), dom])
        if mc.total_simulated is not None and len(mc.rows) > 1:
            rows.append(["total", _num(mc.total_simulated, factor), _num(mc.total_measured, factor),
                         _num(mc.total_simulated - mc.total_measured, factor, sign=True),
                         _pct(relative_error(mc.total_simulated, mc.total_measured)), ""])
        out += ["", f"{TITLES[mc.metric]} ({unit})",
                render_table(["layer", "simulated", "measured", "error", "rel.error", "simulated cycles are"],
                             rows, "lrrrrl")]
        a = mc.agreement
        out.append(f"MAPE {_pct(a.mape, sign=False)}   geomean ratio (sim/meas) "
                   f"{'n/a' if a.geomean_ratio is None else f'{a.geomean_ratio:.3f}'}   "
                   f"Pearson {_corr(a.pearson)}   Spearman {_corr(a.spearman)}   ({a.pairs} layers)")
        if mc.worst:
            out.append(wrap("worst      " + "; ".join(
                f"{r.layer} {_pct(r.rel_error)} (simulated: {r.dominant} {100 * r.dominant_share:.0f}%)"
                for r in mc.worst)))
    return "\n".join(out) + "\n"


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def comparison_record(comparison: Comparison) -> dict:
    """The comparison as JSON-able data (values in base units)."""
    run, measured = comparison.run, comparison.measured
    meta = measured.meta
    return {
        "hardware": run.hardware.name,
        "clock_mhz": run.hardware.clock_mhz,
        "model": run.model,
        "workload": {"name": run.workload.name, "batch": run.workload.batch},
        "measured": {"file": measured.file.path, "kind": measured.file.kind, "source": meta.source,
                     "batch": meta.batch, "clock_mhz": meta.clock_mhz, "columns": list(measured.file.columns),
                     "layers": len(measured.layers), "unmeasured": list(measured.unmeasured)},
        "metrics": {
            mc.metric: {
                "unit": METRICS[mc.metric].unit,
                "mape": mc.agreement.mape,
                "geomean_ratio": mc.agreement.geomean_ratio,
                "pearson": mc.agreement.pearson,
                "spearman": mc.agreement.spearman,
                "pairs": mc.agreement.pairs,
                "total_simulated": mc.total_simulated,
                "total_measured": mc.total_measured,
                "worst": [r.layer for r in mc.worst],
                "layers": [{"name": r.layer, "simulated": _clean(r.simulated), "measured": r.measured,
                            "error": _clean(r.error), "rel_error": r.rel_error, "dominant": r.dominant,
                            "dominant_share": r.dominant_share} for r in mc.rows],
            } for mc in comparison.metrics
        },
    }


def comparison_json(comparison: Comparison) -> str:
    return json.dumps(comparison_record(comparison), indent=2, allow_nan=False) + "\n"


def comparison_csv(comparison: Comparison) -> str:
    """One row per (layer, metric), values in base units."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["layer", "metric", "unit", "simulated", "measured", "error", "rel_error", "dominant",
                     "dominant_share"])
    for mc in comparison.metrics:
        for r in mc.rows:
            writer.writerow([r.layer, r.metric, METRICS[r.metric].unit, repr(r.simulated), repr(r.measured),
                             repr(r.error), "" if r.rel_error is None else repr(r.rel_error), r.dominant,
                             repr(r.dominant_share)])
    return buffer.getvalue()
