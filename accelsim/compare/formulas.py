"""Closed-form cycle formulas checked against the simulator, layer by layer.

A formula sees a :class:`LayerView` (the layer's shape, its GEMM view and
mapping on the array, its compulsory DRAM bytes: never a simulated result) and
the :class:`Hardware`, and returns the layer's predicted cycles. Built-ins
(``BUILTINS``), each returning its cycles split by cause so that a miss can be
traced to the cause it gets wrong:

=============  ==========================================================================
``peak``       ``MACs / PEs``: every PE busy every cycle
``roofline``   ``max(MACs / PEs, compulsory bytes / peak DRAM bytes per cycle)``
``mapping``    ``MACs / (PEs x mapping efficiency)``: only the idle PEs of partial folds
``scalesim``   SCALE-Sim's fold formula: ``folds x (2R + C + T - 2)`` (WS, IS) or
               ``folds x (T + R + C - 2)`` (OS), folds strictly one after another
``tpu_ridge``  TPU v1 paper's roofline over weight bytes only (activations stay on chip):
               ``MACs / min(PEs, I x DRAM bytes per cycle)`` with ``I = MACs / weight
               bytes``; the ridge point is ``PEs / DRAM bytes per cycle`` MACs per weight byte
=============  ==========================================================================

User formulas are loaded from a file (``path.py:function``): ``f(layer, hw)``
returns predicted cycles, a mapping of cause -> cycles (``CAUSES``; summed),
or a utilization when the function has the attribute ``returns =
"utilization"`` (cycles = MACs / (PEs x utilization)).

A miss (``|relative error|`` above a threshold) is explained by comparing the
simulated cycles by cause (``simulated_causes``) with the formula's: the cause
the simulator charges most beyond the formula (under-prediction), or the one
the formula charges most beyond the simulator (over-prediction).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from accelsim.compare.agreement import ErrorDistribution, relative_error
from accelsim.config.hardware import Dataflow, Hardware
from accelsim.config.workload import Layer
from accelsim.errors import ConfigError
from accelsim.stats import LayerResult, RunResult

# What cycles can be charged to, for formulas and the simulator alike: the ideal
# MACs / PEs, the idle PEs of partial folds (mapping), the array's fill and drain,
# preloading stationary tiles, waiting for DRAM (memory: the stall_* parts), the fixed
# per-layer overhead.
CAUSES = ("ideal", "mapping", "fill_drain", "preload", "memory", "overhead")


@dataclass(frozen=True)
class LayerView:
    """What a formula may use about one layer on one hardware (no simulated results)."""

    name: str
    kind: str
    layer: Layer                # the workload layer (Conv2d or Gemm)
    batch: int
    macs: int
    M: int                      # the GEMM view: out[M x N] = in[M x K] . w[K x N], `repeats` times
    K: int
    N: int
    repeats: int
    rows: int                   # Sr: the GEMM extent on the array's rows (docs/mapping.md)
    cols: int                   # Sc: on its columns
    time: int                   # T: streamed in time
    row_folds: int
    col_folds: int
    folds: int                  # row_folds x col_folds x repeats
    mapping_efficiency: float
    input_bytes: int            # compulsory DRAM bytes (each tensor moved once)
    weight_bytes: int
    output_bytes: int

    @property
    def compulsory_bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.output_bytes


def layer_view(layer: Layer, hw: Hardware, batch: int) -> LayerView | None:
    """The view of a GEMM layer, or None for work that does not run on the array."""
    from accelsim.mapping import map_layer
    from accelsim.traffic import compulsory_traffic

    mapping = map_layer(layer, hw.array, batch)
    if mapping is None:
        return None
    traffic = compulsory_traffic(layer, hw, batch)
    g, e = mapping.gemm, mapping.extents
    return LayerView(name=layer.name, kind=layer.kind, layer=layer, batch=batch, macs=g.macs, M=g.M, K=g.K, N=g.N,
                     repeats=g.repeats, rows=e.rows, cols=e.cols, time=e.time, row_folds=mapping.row_folds,
                     col_folds=mapping.col_folds, folds=mapping.folds,
                     mapping_efficiency=mapping.mapping_efficiency, input_bytes=traffic.input_read,
                     weight_bytes=traffic.weight_read, output_bytes=traffic.output_write)


# ---------------------------------------------------------------- built-in formulas


def peak(v: LayerView, hw: Hardware) -> dict[str, float]:
    """MACs / PEs: every PE does a useful MAC every cycle."""
    return {"ideal": v.macs / hw.peak_macs_per_cycle}


def roofline(v: LayerView, hw: Hardware) -> dict[str, float]:
    """max(MACs / PEs, compulsory bytes / peak DRAM bytes per cycle)."""
    ideal = v.macs / hw.peak_macs_per_cycle
    memory = 0.0 if math.isinf(hw.dram_bytes_per_cycle) else v.compulsory_bytes / hw.dram_bytes_per_cycle
    return {"ideal": ideal, "memory": max(0.0, memory - ideal)}


def mapping(v: LayerView, hw: Hardware) -> dict[str, float]:
    """MACs / (PEs x mapping efficiency): the PEs partial folds leave idle, nothing else."""
    ideal = v.macs / hw.peak_macs_per_cycle
    return {"ideal": ideal, "mapping": v.macs / (hw.peak_macs_per_cycle * v.mapping_efficiency) - ideal}


def scalesim(v: LayerView, hw: Hardware) -> dict[str, float]:
    """SCALE-Sim's folds x (2R + C + T - 2) (WS, IS) or folds x (T + R + C - 2) (OS)."""
    R, C = hw.array.rows, hw.array.cols
    ideal = v.macs / hw.peak_macs_per_cycle
    preload = 0 if hw.array.dataflow is Dataflow.OS else R
    return {"ideal": ideal, "mapping": v.folds * v.time - ideal, "fill_drain": v.folds * (R + C - 2),
            "preload": v.folds * preload}


def tpu_ridge(v: LayerView, hw: Hardware) -> dict[str, float]:
    """MACs / min(PEs, I x DRAM bytes per cycle), I = MACs per weight byte (TPU v1 paper's roofline)."""
    ideal = v.macs / hw.peak_macs_per_cycle
    if math.isinf(hw.dram_bytes_per_cycle) or not v.weight_bytes:
        return {"ideal": ideal}
    intensity = v.macs / v.weight_bytes
    attainable = min(hw.peak_macs_per_cycle, intensity * hw.dram_bytes_per_cycle)
    return {"ideal": ideal, "memory": v.macs / attainable - ideal}


def ridge_macs_per_weight_byte(hw: Hardware) -> float:
    """The TPU-paper ridge point: the MACs per weight byte at which the weight stream keeps up."""
    return hw.peak_macs_per_cycle / hw.dram_bytes_per_cycle


@dataclass(frozen=True)
class Formula:
    name: str
    function: Callable[[LayerView, Hardware], Any]
    returns: str = "cycles"      # or "utilization"
    description: str = ""


BUILTINS: tuple[Formula, ...] = (
    Formula("peak", peak, description="MACs / PEs"),
    Formula("roofline", roofline, description="max(MACs / PEs, compulsory bytes / peak DRAM B/cycle)"),
    Formula("mapping", mapping, description="MACs / (PEs x mapping efficiency)"),
    Formula("scalesim", scalesim, description="folds x (2R + C + T - 2), OS: folds x (T + R + C - 2)"),
    Formula("tpu_ridge", tpu_ridge, description="MACs / min(PEs, MACs per weight byte x DRAM B/cycle)"),
)


def formula(returns: str = "cycles", name: str | None = None):
    """Decorator for user formulas: ``@formula(returns="utilization")`` (the same as setting
    the function's ``returns`` attribute)."""
    def mark(function):
        function.returns = returns
        if name:
            function.formula_name = name
        return function
    return mark


def load_formula(spec: str) -> Formula:
    """``path/to/file.py:function`` -> a Formula; errors are one line naming the file."""
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text or not name:
        raise ConfigError("--formula", spec, "expected FILE.py:FUNCTION")
    path = Path(path_text)
    if not path.is_file():
        raise ConfigError(path_text, "", "no such file (--formula FILE.py:FUNCTION)")
    module_name = f"accelsim_user_formula_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(path_text, "", "not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    try:
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's code: any failure is one line
        sys.modules.pop(module_name, None)
        raise ConfigError(path_text, "", f"cannot be imported: {type(err).__name__}: {err}") from None
    function = getattr(module, name, None)
    if not callable(function):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module_name)
        raise ConfigError(path_text, name, "no such function" + (f", found: {', '.join(found)}" if found else ""))
    returns = getattr(function, "returns", "cycles")
    if returns not in ("cycles", "utilization"):
        raise ConfigError(path_text, f"{name}.returns", f"expected cycles or utilization, got {returns!r}")
    doc = (function.__doc__ or "").strip().splitlines()
    return Formula(getattr(function, "formula_name", name), function, returns, doc[0] if doc else str(path))


def predict(f: Formula, v: LayerView, hw: Hardware, source: str = "") -> dict[str, float]:
    """The formula's cycles for one layer, by cause (a plain number is one unnamed cause)."""
    where = f"{f.name}({v.name})"
    try:
        value = f.function(v, hw)
    except Exception as err:  # noqa: BLE001 - the user's code: any failure is one line
        raise ConfigError(source or f.name, where, f"raised {type(err).__name__}: {err}") from None
    if isinstance(value, dict):
        bad = [k for k in value if k not in CAUSES]
        if bad:
            raise ConfigError(source or f.name, where, f"unknown cause {bad[0]!r}, expected one of: "
                                                       + ", ".join(CAUSES))
        parts = value
    else:
        parts = {"formula": value}
    for key, x in parts.items():
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
            raise ConfigError(source or f.name, where, f"expected a finite non-negative number, got {x!r}")
    if f.returns == "utilization":
        total = sum(parts.values())
        if not 0 < total <= 1:
            raise ConfigError(source or f.name, where, f"expected a utilization in (0, 1], got {total!r}")
        return {"formula": v.macs / (hw.peak_macs_per_cycle * total)}
    return {k: float(x) for k, x in parts.items()}


# ---------------------------------------------------------------- checking against the simulator


def simulated_causes(result: LayerResult, hw: Hardware) -> dict[str, float]:
    """The simulated cycles of an array layer by cause (they sum to its cycles)."""
    b = result.breakdown
    ideal = result.macs / hw.peak_macs_per_cycle
    return {"ideal": ideal, "mapping": b.computing - ideal, "fill_drain": b.fill_drain, "preload": b.preload,
            "memory": b.stall_input + b.stall_weight + b.stall_output, "overhead": b.overhead + b.vector}


def _memory_label(result: LayerResult) -> str:
    b = result.breakdown
    stalls = {"stall_input": b.stall_input, "stall_weight": b.stall_weight, "stall_output": b.stall_output}
    name = max(stalls, key=stalls.get)
    return name if stalls[name] else "memory"


@dataclass(frozen=True)
class LayerCheck:
    layer: str
    simulated: float
    predicted: float
    rel_error: float            # (predicted - simulated) / simulated
    cause: str                  # what explains the difference (see module docstring)
    detail: str                 # "simulated 1,234 vs formula 0 cycles"
    point: int | None = None    # sweep point index (None outside a sweep)


def explain(sim: dict[str, float], pred: dict[str, float], result: LayerResult) -> tuple[str, str]:
    """The cause that accounts for most of the gap between simulated and predicted cycles."""
    gap = sum(sim.values()) - sum(pred.values())
    if "formula" in pred:  # an opaque total: blame the largest simulated cause beyond the ideal
        if gap <= 0:
            return "-", "the formula exceeds the simulated total"
        cause = max((c for c in sim if c != "ideal"), key=lambda c: sim[c])
        label = _memory_label(result) if cause == "memory" else cause
        return label, f"simulated {label} {sim[cause]:,.0f} cycles ({sim[cause] / gap:.0%} of the gap)"
    diffs = {c: sim.get(c, 0.0) - pred.get(c, 0.0) for c in CAUSES}
    cause = max(diffs, key=diffs.get) if gap > 0 else min(diffs, key=diffs.get)
    label = _memory_label(result) if cause == "memory" else cause
    return label, f"{label}: simulated {sim.get(cause, 0.0):,.0f} vs formula {pred.get(cause, 0.0):,.0f} cycles"


@dataclass(frozen=True)
class FormulaReport:
    formula: Formula
    checks: tuple[LayerCheck, ...]
    distribution: ErrorDistribution
    misses: tuple[LayerCheck, ...]          # |rel_error| > threshold, worst first
    causes: tuple[tuple[str, int], ...]     # cause -> number of misses it explains, most first


def check_run(run: RunResult, formulas: list[Formula], point: int | None = None,
              sources: dict[str, str] | None = None) -> dict[str, list[LayerCheck]]:
    """Every formula on every array layer of one run: formula name -> checks."""
    hw, batch = run.hardware, run.workload.batch
    layers = {layer.name: layer for layer in run.workload.layers}
    out: dict[str, list[LayerCheck]] = {f.name: [] for f in formulas}
    for result in run.layers:
        if result.unit != "array" or not result.cycles:
            continue
        view = layer_view(layers[result.name], hw, batch)
        sim = simulated_causes(result, hw)
        for f in formulas:
            pred = predict(f, view, hw, (sources or {}).get(f.name, ""))
            predicted = sum(pred.values())
            cause, detail = explain(sim, pred, result)
            out[f.name].append(LayerCheck(layer=result.name, simulated=float(result.cycles), predicted=predicted,
                                          rel_error=relative_error(predicted, result.cycles), cause=cause,
                                          detail=detail, point=point))
    return out


def summarize(formulas: list[Formula], checks: dict[str, list[LayerCheck]], threshold: float) -> list[FormulaReport]:
    """Error distribution and misses (``|relative error| > threshold``) per formula."""
    reports = []
    for f in formulas:
        rows = checks[f.name]
        misses = sorted((c for c in rows if abs(c.rel_error) > threshold), key=lambda c: -abs(c.rel_error))
        counts: dict[str, int] = {}
        for c in misses:
            counts[c.cause] = counts.get(c.cause, 0) + 1
        reports.append(FormulaReport(formula=f, checks=tuple(rows),
                                     distribution=ErrorDistribution.of(c.rel_error for c in rows),
                                     misses=tuple(misses),
                                     causes=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))))
    return reports
