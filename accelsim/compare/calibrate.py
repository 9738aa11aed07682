"""Fit a few physical parameters of a hwconfig to measured per-layer cycles.

The parameters (``PARAMETERS``) are the ones a datasheet does not give and a
real chip differs on: the achievable DRAM efficiency, the DMA setup cost per
descriptor and a fixed per-layer overhead. None of them changes the schedule
(tiling depends on the array and the buffers only), so the schedule is built
once and every evaluation re-runs only the model on it.

Objective: the residual of layer ``i`` is ``log(simulated_i / measured_i)``,
so a 10% miss counts the same on a small layer and a large one, and over- and
under-prediction by the same factor count alike. Bounded least squares
(``scipy.optimize.least_squares``, trust-region reflective) with a Jacobian
by forward differences whose steps are large enough to see through the
model's integer cycles (``Parameter.step``). Integer parameters are fitted as
continuous values (rounded inside every evaluation), then the floor and
ceiling of the result are both tried.

Cross-validation: the measured layers are dealt round-robin, in workload
order, into ``K`` folds; each fold is predicted by a fit to the others, which
gives the held-out error before (the hwconfig as given) and after. The final
fit, written out, uses every layer.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from accelsim.compare.agreement import mape
from accelsim.compare.measured import Measured
from accelsim.config.hardware import Hardware
from accelsim.config.loader import with_overrides
from accelsim.config.schema import to_data
from accelsim.config.workload import Workload
from accelsim.errors import ConfigError

DEFAULT_FOLDS = 5
MAX_NFEV = 60            # least-squares function evaluations per fit (each may cost 1 + parameters runs)
RELATIVE_STEP = 0.01     # finite-difference step, as a fraction of the parameter's value
FLOAT_DIGITS = 6         # significant digits kept of a fitted continuous parameter


@dataclass(frozen=True)
class Parameter:
    """A hardware field the calibration may change, with default bounds."""

    path: str
    lower: float
    upper: float
    integer: bool
    step: float   # the smallest finite-difference step (results are whole cycles)
    unit: str
    doc: str

    def value(self, x: float) -> int | float:
        """The field's value for the continuous variable ``x``."""
        x = min(max(x, self.lower), self.upper)
        return int(round(x)) if self.integer else float(f"{x:.{FLOAT_DIGITS}g}")


PARAMETERS: dict[str, Parameter] = {p.path: p for p in (
    Parameter("dram.efficiency", 0.05, 1.0, False, 0.005, "fraction of peak",
              "achievable DRAM bandwidth as a fraction of the peak"),
    Parameter("dma.setup_cycles", 0, 10_000, True, 2, "cycles per descriptor",
              "fixed DMA cost per transfer descriptor"),
    Parameter("control.layer_overhead_cycles", 0, 1_000_000, True, 10, "cycles per layer",
              "fixed cost at the start of every layer (launch, synchronisation)"),
    # issue costs hide behind the wait for data until they exceed it: steps large enough to
    # see through that from zero
    Parameter("control.step_overhead_cycles", 0, 100_000, True, 32, "cycles per step",
              "issue cost of every compute instruction (one per step)"),
    Parameter("control.descriptor_overhead_cycles", 0, 100_000, True, 16, "cycles per descriptor",
              "issue cost of every DMA descriptor, paid by the array"),
)}


# What `calibrate` fits unless told otherwise (--fit): the per-step and per-descriptor issue costs
# trade off against the per-layer overhead on most data, so they are fitted only when asked.
DEFAULT_FIT = ("dram.efficiency", "dma.setup_cycles", "control.layer_overhead_cycles")


def parse_bounds(texts: list[str]) -> dict[str, tuple[float, float]]:
    """``["dram.efficiency=0.3:1"]`` -> ``{"dram.efficiency": (0.3, 1.0)}``; errors name the option."""
    out = {}
    for text in texts:
        path, sep, rest = text.partition("=")
        lo, sep2, hi = rest.partition(":")
        path = path.strip()
        if path not in PARAMETERS:
            raise ConfigError("--bounds", path or text, "expected one of: " + ", ".join(PARAMETERS))
        try:
            lower, upper = float(lo), float(hi)
        except ValueError:
            lower = upper = math.nan
        p = PARAMETERS[path]
        if not (sep and sep2) or not (p.lower <= lower < upper <= p.upper):
            raise ConfigError("--bounds", path, f"expected LOWER:UPPER with {p.lower:g} <= LOWER < UPPER <= "
                                                f"{p.upper:g}, got {rest!r}")
        out[path] = (lower, upper)
    return out


# ---------------------------------------------------------------- evaluating the model


@dataclass(frozen=True)
class Target:
    """The measured layers the fit uses: names and measured cycles, in workload order."""

    names: tuple[str, ...]
    cycles: np.ndarray
    metric: str                      # which measured column the cycles came from
    skipped: tuple[str, ...] = ()    # measured layers the fit cannot use, with the reason


def target_cycles(measured: Measured, hw: Hardware, workload: Workload) -> Target:
    """Measured cycles per layer: ``cycles``, else ``latency_s x clock``, else from utilization."""
    for metric in ("cycles", "latency_s", "utilization"):
        if metric in measured.metrics:
            break
    else:
        raise ConfigError(measured.file.path, "", "calibration needs cycles, a latency or utilization per layer; "
                                                  f"the file gives {', '.join(measured.metrics)}")
    macs = {layer.name: layer.macs(workload.batch) for layer in workload.layers}
    names, cycles, skipped = [], [], []
    for m in measured.layers:
        if metric not in m.values:
            continue
        value = m.values[metric]
        if metric == "latency_s":
            value *= hw.clock_hz
        elif metric == "utilization":
            if value == 0 or macs[m.name] == 0:
                skipped.append(f"{m.name} (utilization 0 or no MACs)")
                continue
            value = macs[m.name] / (hw.peak_macs_per_cycle * value)
        names.append(m.name)
        cycles.append(value)
    return Target(names=tuple(names), cycles=np.asarray(cycles, dtype=float), metric=metric,
                  skipped=tuple(skipped))


class Evaluator:
    """Simulated cycles of the target layers for a parameter vector; one schedule, memoised.

    Counts evaluations and the time they take (the cost of a calibration).
    """

    def __init__(self, hw: Hardware, workload: Workload, model: str, params: list[Parameter],
                 names: tuple[str, ...], schedule=None):
        from accelsim.schedule import build_schedule

        if model not in ("engine", "analytical"):
            raise ConfigError("--model", "", f"expected engine or analytical, got {model!r}")
        self.hw, self.workload, self.model, self.params = hw, workload, model, params
        self.schedule = schedule if schedule is not None else build_schedule(hw, workload)
        if model == "engine" and schedule is None:
            from accelsim.limits import check_schedule

            check_schedule(self.schedule)
        index = {ls.name: i for i, ls in enumerate(self.schedule.layers)}
        self.rows = [index[name] for name in names]
        self.cache: dict[tuple, np.ndarray] = {}
        self.evaluations = 0
        self.seconds = 0.0
        self.meter = None  # an accelsim.progress.Progress counting the evaluations

    def overrides(self, x) -> dict:
        return {p.path: p.value(xi) for p, xi in zip(self.params, x)}

    def hardware(self, x) -> Hardware:
        return with_overrides(self.hw, self.overrides(x), source="calibrate")

    def cycles(self, x) -> np.ndarray:
        key = tuple(self.overrides(x).values())
        if key not in self.cache:
            began = time.perf_counter()
            hw = self.hardware(x)
            if self.model == "engine":  # simulated until the last measured layer ends
                from accelsim.engine.simulator import layer_cycles

                cycles = layer_cycles(replace(self.schedule, hardware=hw), max(self.rows)) if self.rows else []
                values = [cycles[i] for i in self.rows]
            else:
                from accelsim.analytical import TransferLanes, analytical_breakdown

                lanes = TransferLanes(hw)
                values = [analytical_breakdown(self.schedule.layers[i], hw, lanes).total for i in self.rows]
            self.cache[key] = np.asarray(values, dtype=float)
            self.evaluations += 1
            self.seconds += time.perf_counter() - began
            if self.meter is not None:
                self.meter.update()
        return self.cache[key]


# ---------------------------------------------------------------- fitting


@dataclass(frozen=True)
class Fit:
    x: np.ndarray          # the field values (integers rounded), in parameter order
    nfev: int
    message: str


def _residuals(ev: Evaluator, x, idx, measured: np.ndarray) -> np.ndarray:
    return np.log(ev.cycles(x)[idx] / measured[idx])


def _jacobian(ev: Evaluator, x, idx, measured, free: np.ndarray, lower, upper) -> np.ndarray:
    f0 = _residuals(ev, x, idx, measured)
    jac = np.zeros((len(idx), len(x)))
    for k in np.flatnonzero(free):
        p = ev.params[k]
        h = max(p.step, RELATIVE_STEP * abs(x[k]))
        if x[k] + h > upper[k]:
            h = -h
        x2 = np.array(x, dtype=float)
        x2[k] += h
        jac[:, k] = (_residuals(ev, x2, idx, measured) - f0) / h
    return jac


def fit(ev: Evaluator, measured: np.ndarray, idx: np.ndarray, x0: np.ndarray, lower: np.ndarray,
        upper: np.ndarray, free: np.ndarray) -> Fit:
    """Bounded least squares of the log residuals over layers ``idx``; fixed parameters stay at ``x0``."""
    from scipy.optimize import least_squares

    x0 = np.clip(np.asarray(x0, dtype=float), lower, upper)
    if not free.any():
        return Fit(x=np.array([p.value(v) for p, v in zip(ev.params, x0)], dtype=float), nfev=0,
                   message="nothing to fit")
    k = np.flatnonzero(free)

    def full(z):
        x = x0.copy()
        x[k] = z
        return x

    result = least_squares(
        lambda z: _residuals(ev, full(z), idx, measured), x0[k],
        jac=lambda z: _jacobian(ev, full(z), idx, measured, free, lower, upper)[:, k],
        bounds=(lower[k], upper[k]), x_scale="jac", method="trf", max_nfev=MAX_NFEV)
    x = full(result.x)
    # integers: the continuous optimum's floor and ceiling, whichever fits the layers better
    ints = [i for i in k if ev.params[i].integer]
    best, best_cost = None, math.inf
    for combo in itertools.product(*[sorted({math.floor(x[i]), math.ceil(x[i])}) for i in ints]):
        trial = x.copy()
        trial[ints] = combo
        trial = np.array([p.value(v) for p, v in zip(ev.params, np.clip(trial, lower, upper))], dtype=float)
        cost = float(np.sum(_residuals(ev, trial, idx, measured) ** 2))
        if cost < best_cost:
            best, best_cost = trial, cost
    return Fit(x=best, nfev=int(result.nfev), message=str(result.message))


# ---------------------------------------------------------------- the whole calibration


@dataclass(frozen=True)
class FittedParameter:
    path: str
    unit: str
    initial: float
    fitted: float
    lower: float
    upper: float
    at_bound: str | None           # "lower" / "upper" when the fit stopped there
    identifiable: bool             # False: no effect on the fitted layers' cycles, left as it was
    fold_values: tuple[float, ...] = ()


@dataclass(frozen=True)
class FoldResult:
    held_out: tuple[str, ...]
    fitted: tuple[float, ...]
    mape_before: float
    mape_after: float


@dataclass(frozen=True)
class Calibration:
    hardware_before: Hardware
    hardware_after: Hardware
    model: str
    target: Target
    parameters: tuple[FittedParameter, ...]
    folds: tuple[FoldResult, ...]
    heldout_mape_before: float | None    # pooled over every fold's held-out layers
    heldout_mape_after: float | None
    fit_mape_before: float               # the final fit's own layers (all of them)
    fit_mape_after: float
    fit_nfev: int = 0                    # least-squares iterations of the final fit
    predictions: dict = field(default_factory=dict)  # name -> (measured, before, held-out, after) cycles
    evaluations: int = 0
    seconds: float = 0.0
    seconds_per_evaluation: float = 0.0


def _identifiable(ev: Evaluator, x0: np.ndarray, lower, upper) -> np.ndarray:
    """Which parameters change any fitted layer's cycles when moved a tenth of their range.

    One that does not (DMA setup in the analytical model, DRAM efficiency when
    Little's law caps the bandwidth, overhead hidden behind transfers) cannot
    be fitted and keeps its value.
    """
    out = np.zeros(len(x0), dtype=bool)
    base = ev.cycles(x0)
    for k in range(len(x0)):
        x = x0.copy()
        far = upper[k] if upper[k] - x0[k] >= x0[k] - lower[k] else lower[k]
        x[k] += 0.1 * (far - x0[k])
        out[k] = not np.array_equal(ev.cycles(x), base)
    return out


def _bound(value: float, p: Parameter, lower: float, upper: float) -> str | None:
    tol = max(p.step / 2, 1e-9 * (upper - lower))
    if value <= lower + tol:
        return "lower"
    if value >= upper - tol:
        return "upper"
    return None


def calibrate(hw: Hardware, workload: Workload, measured: Measured, fit_paths: list[str] | None = None,
              bounds: dict[str, tuple[float, float]] | None = None, folds: int = DEFAULT_FOLDS,
              model: str = "engine", progress: bool = False) -> Calibration:
    """Fit ``fit_paths`` (default: ``DEFAULT_FIT``) to the measured layers' cycles.

    ``progress``: count the model evaluations on a bar (on a terminal only, accelsim.progress).
    """
    from accelsim.progress import Progress

    from accelsim import limits

    limits.check_mapping(hw, workload)  # the evaluations reuse one schedule: the run's size is checked once
    meter = Progress(None, "calibrate", " evaluations", enabled=progress)
    try:
        return _calibrate(hw, workload, measured, fit_paths, bounds, folds, model, meter)
    finally:
        meter.close()


def _calibrate(hw: Hardware, workload: Workload, measured: Measured, fit_paths, bounds, folds: int, model: str,
               meter) -> Calibration:
    began = time.perf_counter()
    paths = list(fit_paths or DEFAULT_FIT)
    for path in paths:
        if path not in PARAMETERS:
            raise ConfigError("--fit", path, "expected one of: " + ", ".join(PARAMETERS))
    params = [PARAMETERS[p] for p in paths]
    bounds = bounds or {}
    lower = np.array([bounds.get(p.path, (p.lower, p.upper))[0] for p in params], dtype=float)
    upper = np.array([bounds.get(p.path, (p.lower, p.upper))[1] for p in params], dtype=float)
    target = target_cycles(measured, hw, workload)
    data = to_data(hw)
    x_initial = np.array([_get(data, p.path) for p in params], dtype=float)
    ev = Evaluator(hw, workload, model, params, target.names)
    ev.meter = meter
    before_all = ev.cycles(x_initial)
    usable = before_all > 0  # fused layers take no cycles in the model: nothing to fit them with
    skipped = list(target.skipped) + [f"{n} (0 simulated cycles: fused)" for n, ok in zip(target.names, usable)
                                      if not ok]
    if not usable.all():
        names = tuple(n for n, ok in zip(target.names, usable) if ok)
        target = Target(names=names, cycles=target.cycles[usable], metric=target.metric, skipped=tuple(skipped))
        ev = Evaluator(hw, workload, model, params, names, schedule=ev.schedule)
        ev.meter = meter
        before_all = ev.cycles(x_initial)
    n = len(target.names)
    every = np.arange(n)
    free = _identifiable(ev, np.clip(x_initial, lower, upper), lower, upper)
    if folds < 2 or folds > n:
        raise ConfigError("--folds", str(folds), f"expected 2 to {n} (the number of measured layers the fit can use)")
    if n - math.ceil(n / folds) < max(1, int(free.sum())):
        raise ConfigError("--folds", str(folds), f"too few layers: {n} layers in {folds} folds leave "
                                                 f"{n - math.ceil(n / folds)} to fit {int(free.sum())} parameters")

    fold_of = every % folds
    fold_results, heldout_pred = [], np.zeros(n)
    for k in range(folds):
        test, train = every[fold_of == k], every[fold_of != k]
        result = fit(ev, target.cycles, train, x_initial, lower, upper, free)
        predicted = ev.cycles(result.x)[test]
        heldout_pred[test] = predicted
        fold_results.append(FoldResult(
            held_out=tuple(target.names[i] for i in test), fitted=tuple(float(v) for v in result.x),
            mape_before=mape(before_all[test], target.cycles[test]),
            mape_after=mape(predicted, target.cycles[test])))
    final = fit(ev, target.cycles, every, x_initial, lower, upper, free)
    # a parameter the fit leaves within a step of a bound is reported as stopped there: written as the bound
    stops = [_bound(value, p, lower[i], upper[i]) if free[i] else None for i, (p, value) in enumerate(zip(params, final.x))]
    x_final = np.array(final.x, dtype=float)
    for i, stop in enumerate(stops):
        if stop is not None:
            x_final[i] = lower[i] if stop == "lower" else upper[i]
    after_all = ev.cycles(x_final)
    _check_schedule_reuse(ev, x_final, after_all)
    fitted = []
    for i, p in enumerate(params):
        value = x_final[i]
        fitted.append(FittedParameter(
            path=p.path, unit=p.unit, initial=float(x_initial[i]), fitted=float(value if free[i] else x_initial[i]),
            lower=float(lower[i]), upper=float(upper[i]),
            at_bound=stops[i],
            identifiable=bool(free[i]), fold_values=tuple(float(f.fitted[i]) for f in fold_results)))
    hw_after = ev.hardware(np.array([f.fitted for f in fitted]))
    predictions = {name: (float(target.cycles[i]), float(before_all[i]), float(heldout_pred[i]),
                          float(after_all[i])) for i, name in enumerate(target.names)}
    evaluations = ev.evaluations
    return Calibration(
        hardware_before=hw, hardware_after=hw_after, model=model, target=target, parameters=tuple(fitted),
        folds=tuple(fold_results), heldout_mape_before=mape(before_all, target.cycles),
        heldout_mape_after=mape(heldout_pred, target.cycles), fit_mape_before=mape(before_all, target.cycles),
        fit_mape_after=mape(after_all, target.cycles), fit_nfev=final.nfev, predictions=predictions, evaluations=evaluations,
        seconds=time.perf_counter() - began,
        seconds_per_evaluation=ev.seconds / evaluations if evaluations else 0.0)


def _check_schedule_reuse(ev: Evaluator, x: np.ndarray, cycles: np.ndarray) -> None:
    """The evaluations reuse one schedule, which is right only while the calibrated parameters do
    not change the schedule: check it once, on the result, against a run from scratch."""
    from accelsim.errors import SimulationError
    from accelsim.models import run_model

    fresh = {layer.name: layer.cycles for layer in run_model(ev.model, ev.hardware(x), ev.workload).layers}
    names = [ev.schedule.layers[i].name for i in ev.rows]
    if [fresh[n] for n in names] != [int(c) for c in cycles]:
        raise SimulationError("calibrate: a run from scratch disagrees with the evaluations on the reused "
                              "schedule; a calibrated parameter now changes the schedule (a bug to report)")


def _get(data: dict, path: str):
    node = data
    for part in path.split("."):
        node = node[part]
    return node


# ---------------------------------------------------------------- the calibrated hwconfig


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}


def _scalar(value) -> str:
    """One YAML scalar that PyYAML reads back as the same Python value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent if exponent[0] in '+-' else '+' + exponent}"
        return text
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    import json

    return json.dumps(text)  # a JSON string is a valid double-quoted YAML scalar


def _render(data: dict, old, reasons: dict[str, str], prefix: str = "", indent: int = 0) -> list[str]:
    lines, pad = [], "  " * indent
    for key, value in data.items():
        path = f"{prefix}{key}"
        old_value = old.get(key, "<absent>") if isinstance(old, dict) else "<absent>"
        if isinstance(value, dict):
            note = "  # was null (absent)" if old_value is None else ""
            lines.append(f"{pad}{key}:{note}")
            lines.extend(_render(value, old_value if isinstance(old_value, dict) else None, reasons,
                                 path + ".", indent + 1))
            continue
        line = f"{pad}{key}: {_scalar(value)}"
        if old_value != value:
            was = _scalar(old_value) if old_value != "<absent>" else "absent"
            line += f"  # was {was}" + (f"; {reasons[path]}" if path in reasons else "")
        lines.append(line)
    return lines


def leading_comments(path: str | Path | None) -> list[str]:
    """The comment block a hwconfig YAML opens with (its source and assumptions)."""
    if path is None or Path(path).suffix not in (".yaml", ".yml") or not Path(path).is_file():
        return []
    out = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            out.append(line)
        elif line.strip():
            break
    return out


def calibrated_yaml(new: Hardware, old: Hardware, reasons: dict[str, str], header: list[str],
                    original: str | Path | None = None) -> str:
    """The calibrated hwconfig as YAML text: the original's opening comments, ``header`` (as
    comments), then every field in block style, each changed one commented with its old value."""
    lines = leading_comments(original)
    if lines:
        lines.append("#")
    lines += [f"# {h}" if h else "#" for h in header]
    lines += _render(to_data(new), to_data(old), reasons)
    return "\n".join(lines) + "\n"
