"""Sweep specifications: which designs and workloads a sweep runs, from YAML or built in Python.

A spec names base hwconfigs, axes (dotted hardware paths with value lists or ranges), how the
axes combine (product or zip), constraints over them, workloads and the model. ``points()``
resolves it into :class:`SweepPoint` objects, each a validated ``Hardware`` made with
``with_overrides``, so a sweep can only produce designs a hwconfig file could describe. Every
problem is one ``ConfigError`` naming the spec file and the dotted path in it.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from accelsim import __version__
from accelsim.config import Hardware, Workload, load_hardware, load_workload
from accelsim.config.loader import (
    dump_yaml,
    field_value,
    hardware_to_yaml,
    parse_yaml,
    read_text,
    with_overrides,
    workload_to_yaml,
)
from accelsim.config.schema import PYTHON, Check, Validated, build, positive_int, spec, to_data
from accelsim.errors import ConfigError, describe, expected
from accelsim.models import MODELS
from accelsim.sweep.constraints import Constraint, Undefined, parse_constraint

COMBINE = ("product", "zip")
SPEC_KEYS = ("name", "hardware", "axes", "combine", "constraints", "workloads", "model")
MAX_RANGE_VALUES = 10_000  # a typo such as step: 0.001 should not build a million-point sweep
# Documented in docs/sweeps.md: what a spec may ask for before anything is resolved.
MAX_COMBINATIONS = 1_000_000  # axis combinations considered (before constraints)
MAX_POINTS = 100_000          # points of one sweep (each a row of the results file)
MAX_LAYER_ROWS = 2_000_000    # layer records of all points (the results file holds them all)
MAX_ENTRIES = 1_000           # hardware bases, workloads, constraints


def _finite_number(allow_none: bool = False, positive: bool = False) -> Check:
    what = "a finite positive number" if positive else "a finite number"

    def ok(v: Any) -> bool:
        if v is None:
            return allow_none
        return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                and (v > 0 or not positive))

    return Check(what, ok)


@dataclass(frozen=True)
class Range(Validated):
    """Evenly spaced axis values, both ends included: ``num`` values (linear or log) or every ``step``.

    Integer ends give integer values where the spacing lands on integers, so
    ``Range(8, 64, num=4, scale="log")`` is ``(8, 16, 32, 64)``.
    """

    start: int | float = spec(_finite_number(), doc="first value")
    stop: int | float = spec(_finite_number(), doc="last value (included)")
    num: int | None = spec(positive_int(), default=None, doc="how many values")
    step: int | float | None = spec(_finite_number(allow_none=True, positive=True), default=None,
                                    doc="distance between values (linear only)")
    scale: str = spec(Check("linear or log", lambda v: v in ("linear", "log")), default="linear")

    def validate(self) -> None:
        if (self.num is None) == (self.step is None):
            raise ConfigError(PYTHON, "num", "expected exactly one of num (how many values) or step")
        if self.scale == "log" and (self.start <= 0 or self.stop <= 0):
            raise ConfigError(PYTHON, "start", f"expected positive ends for scale: log, got {self.start} "
                                               f"and {self.stop}")
        if self.step is not None and self.scale == "log":
            raise ConfigError(PYTHON, "step", "expected num with scale: log (a log range has no fixed step)")
        if self.step is not None and self.stop < self.start:
            raise ConfigError(PYTHON, "stop", f"expected at least start ({self.start}) with step, got {self.stop}")
        count = self.num if self.num is not None else math.floor((self.stop - self.start) / self.step + 1e-9) + 1
        if count > MAX_RANGE_VALUES:  # counted before any value is made
            raise ConfigError(PYTHON, "num" if self.num is not None else "step",
                              f"expected at most {MAX_RANGE_VALUES:,} values, got {count:,}")

    def _raw(self) -> list[float]:
        if self.num is not None:
            if self.num == 1:
                return [self.start]
            last = self.num - 1
            if self.scale == "log":
                ratio = self.stop / self.start
                inner = [self.start * ratio ** (i / last) for i in range(1, last)]
            else:
                inner = [self.start + (self.stop - self.start) * i / last for i in range(1, last)]
            return [self.start, *inner, self.stop]
        count = math.floor((self.stop - self.start) / self.step + 1e-9) + 1
        return [self.start + i * self.step for i in range(min(count, MAX_RANGE_VALUES + 1))]

    def values(self) -> tuple:
        integral = all(isinstance(v, int) for v in (self.start, self.stop, self.step) if v is not None)
        return tuple(_tidy(v, integral) for v in self._raw())


def _tidy(value: float, integral: bool) -> int | float:
    """Drop float noise: 16.000000000000004 -> 16 (integer ends) or 12 significant digits."""
    if integral and abs(value - round(value)) <= 1e-9 * max(1.0, abs(value)):
        return int(round(value))
    return float(f"{value:.12g}")


@dataclass(frozen=True)
class WorkloadRef:
    """A workload of the sweep: a shipped name, a file, or a ``Workload``; ``batch`` None keeps its own."""

    workload: str | Path | Workload
    batch: int | None = None

    @property
    def label(self) -> str:
        return self.workload.name if isinstance(self.workload, Workload) else str(self.workload)


@dataclass(frozen=True)
class SweepPoint:
    """One design running one workload: what a worker simulates and the store keeps.

    ``key`` identifies the point across runs (a hash of the resolved hwconfig, the workload,
    the model and the accelsim version), which is what ``--resume`` matches on.
    """

    index: int
    key: str
    hardware: Hardware
    workload: Workload
    model: str
    axes: dict[str, object]       # dotted path -> this point's (resolved) value
    base: str                     # the base hwconfig as the spec names it
    hardware_yaml: str = field(default="", repr=False, compare=False)

    def describe(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.axes.items())
        return f"point {self.index} ({self.base}{': ' + where if where else ''}; {self.workload.name}, " \
               f"batch {self.workload.batch})"


@dataclass(frozen=True)
class SweepSpec:
    """A sweep, validated on construction; ``points()`` resolves it (and reports what cannot be).

    ``hardware``: base hwconfigs (names, paths or ``Hardware`` objects); ``axes``: dotted
    path -> list of values or :class:`Range` (or a ``{start, stop, num|step, scale}`` mapping);
    ``combine``: ``product`` (every combination) or ``zip`` (the i-th value of every axis);
    ``constraints``: expressions a point must satisfy; ``workloads``: names, paths, ``Workload``
    objects or :class:`WorkloadRef` (``{"workload": ..., "batch": 8}``); ``model``: ``engine``
    or ``analytical``. ``source`` is the spec file (``<python>`` when built in code): errors
    name it, and relative paths in the spec are looked up next to it first.
    """

    hardware: Any
    workloads: Any
    axes: Mapping[str, Any] = field(default_factory=dict)
    combine: str = "product"
    constraints: Any = ()
    model: str = "engine"
    name: str = ""
    source: str = PYTHON
    text: str = field(default="", repr=False, compare=False)  # the spec as written, kept with the results
    _compiled: tuple[Constraint, ...] = field(default=(), init=False, repr=False, compare=False)
    _points: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        src = self.source
        hardware = self.hardware if isinstance(self.hardware, (list, tuple)) else [self.hardware]
        if not hardware:
            raise expected(src, "hardware", "a hwconfig name or path, or a list of them", self.hardware)
        for i, hw in enumerate(hardware):
            if not isinstance(hw, (str, Path, Hardware)) or (isinstance(hw, str) and not hw.strip()):
                raise expected(src, f"hardware[{i}]", "a hwconfig name or path", hw)
        if len(hardware) > MAX_ENTRIES:
            raise ConfigError(src, "hardware", f"{len(hardware):,} hwconfigs, expected at most {MAX_ENTRIES:,}")
        object.__setattr__(self, "hardware", tuple(hardware))
        object.__setattr__(self, "workloads", tuple(_workload_refs(self.workloads, src)))
        if not isinstance(self.axes, Mapping):
            raise expected(src, "axes", "a mapping of dotted hardware paths to values", self.axes)
        object.__setattr__(self, "axes", {str(path): _axis_values(values, src, f"axes.{path}")
                                          for path, values in self.axes.items()})
        sizes = [len(values) for values in self.axes.values()]
        combinations = (min(sizes, default=1) if self.combine == "zip" else math.prod(sizes)) if sizes else 1
        if combinations * len(self.hardware) > MAX_COMBINATIONS:
            raise ConfigError(src, "axes", f"{combinations * len(self.hardware):,} designs to consider, expected at "
                                           f"most {MAX_COMBINATIONS:,} (fewer values, or combine: zip)")
        _check_overlaps(list(self.axes), src)
        if self.combine not in COMBINE:
            raise expected(src, "combine", "product or zip", self.combine)
        if self.combine == "zip":
            lengths = {path: len(values) for path, values in self.axes.items()}
            first = next(iter(lengths), None)
            for path, n in lengths.items():
                if n != lengths[first]:
                    raise ConfigError(src, f"axes.{path}", f"expected {lengths[first]} values like {first} "
                                                           f"(combine: zip), got {n}")
        constraints = [self.constraints] if isinstance(self.constraints, str) else self.constraints
        if not isinstance(constraints, (list, tuple)):
            raise expected(src, "constraints", "a list of expressions", self.constraints)
        if len(constraints) > MAX_ENTRIES:
            raise ConfigError(src, "constraints", f"{len(constraints):,} constraints, expected at most {MAX_ENTRIES:,}")
        object.__setattr__(self, "constraints", tuple(constraints))
        object.__setattr__(self, "_compiled", tuple(parse_constraint(text, src, f"constraints[{i}]")
                                                    for i, text in enumerate(constraints)))
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise expected(src, "model", "one of " + ", ".join(MODELS), self.model)
        if not isinstance(self.name, str):
            raise expected(src, "name", "a string", self.name)

    # ------------------------------------------------------------ resolution

    def points(self) -> list[SweepPoint]:
        """Every point, in order: base hwconfigs, then axis combinations, then workloads."""
        if not self._points:
            self._points.extend(self._resolve())
        return list(self._points)

    def _resolve(self) -> list[SweepPoint]:
        src = self.source
        bases = [(self._label(entry), self._load_hardware(entry, i)) for i, entry in enumerate(self.hardware)]
        workloads = [self._load_workload(ref, i) for i, ref in enumerate(self.workloads)]
        for label, base in bases:
            self._check_axes(label, base, len(bases) > 1)
            self._check_constraint_names(label, base)
        combos = self._combinations()
        identity = {id(wl): workload_to_yaml(wl) for wl in workloads}
        points: list[SweepPoint] = []
        rows = 0
        seen: dict[str, SweepPoint] = {}
        for label, base in bases:
            for combo in combos:
                if not all(self._holds(c, i, combo, base, label) for i, c in enumerate(self._compiled)):
                    continue
                try:
                    hw = with_overrides(base, combo, src)
                except ConfigError as err:
                    where = ", ".join(f"{k}={describe(v)}" for k, v in combo.items())
                    raise ConfigError(src, "axes", f"{label} with {where}: {err.path}: {err.message} "
                                                   f"(add a constraint to skip such points)") from None
                data = to_data(hw)
                hw_yaml = hardware_to_yaml(hw, data)
                axes = {path: _lookup(hw, path, section=True, data=data) for path in self.axes}
                if len(points) + len(workloads) > MAX_POINTS:
                    raise ConfigError(src, "axes", f"more than {MAX_POINTS:,} points, expected at most {MAX_POINTS:,} "
                                                   f"(fewer values, constraints or workloads)")
                for wl in workloads:
                    rows += len(wl.layers)
                    if rows > MAX_LAYER_ROWS:
                        raise ConfigError(src, "axes", f"more than {MAX_LAYER_ROWS:,} layer records in the results "
                                                       f"file, expected at most {MAX_LAYER_ROWS:,} (fewer points)")
                    key = point_key(hw_yaml, identity[id(wl)], self.model)
                    point = SweepPoint(index=len(points), key=key, hardware=hw, workload=wl, model=self.model,
                                       axes=axes, base=label, hardware_yaml=hw_yaml)
                    if key in seen:
                        raise ConfigError(src, "axes", f"{point.describe()} repeats {seen[key].describe()}: "
                                                       f"the same design and workload; remove the repetition")
                    seen[key] = point
                    points.append(point)
        if not points:
            why = f"the constraints exclude every design ({len(combos) * len(bases)} considered)" \
                if self._compiled else "nothing to run"
            raise ConfigError(src, "constraints" if self._compiled else "axes", f"no points: {why}")
        return points

    def bandwidth_warnings(self) -> list[str]:
        """One line per swept DRAM bandwidth the requests in flight keep the DRAM from reaching."""
        path = "dram.bandwidth_gb_per_s"
        if path not in self.axes:
            return []
        out = {}
        for point in self.points():
            note = point.hardware.dram_rate_note()
            if note is not None:
                value = point.hardware.dram.bandwidth_gb_per_s
                out.setdefault((point.base, value), f"{self.source}: axes.{path} = {value:g} on {point.base} "
                                                    f"has no effect beyond {point.hardware.achievable_dram_gb_per_s:.3g}"
                                                    f" GB/s: {note}")
        return list(out.values())

    def _label(self, entry: str | Path | Hardware) -> str:
        return entry.name if isinstance(entry, Hardware) else str(entry)

    def _local(self, entry: str | Path) -> str | Path:
        """A relative path in a spec file means next to the spec, when such a file exists."""
        if self.source != PYTHON and not Path(entry).is_absolute():
            beside = Path(self.source).parent / entry
            if beside.is_file():
                return beside
        return entry

    def _load_hardware(self, entry: str | Path | Hardware, i: int) -> Hardware:
        if isinstance(entry, Hardware):
            return entry
        try:
            return load_hardware(self._local(entry))
        except ConfigError as err:
            raise ConfigError(self.source, f"hardware[{i}]", str(err)) from None

    def _load_workload(self, ref: WorkloadRef, i: int) -> Workload:
        if isinstance(ref.workload, Workload):
            return ref.workload if ref.batch is None else ref.workload.with_batch(ref.batch)
        try:
            return load_workload(self._local(ref.workload), batch=ref.batch)
        except ConfigError as err:
            raise ConfigError(self.source, f"workloads[{i}]", str(err)) from None

    def _check_axes(self, label: str, base: Hardware, several: bool) -> None:
        """Each axis value on its own, so a bad one is reported at its axis with its value."""
        on = f" (on {label})" if several else ""
        for path, values in self.axes.items():
            for value in values:
                try:
                    with_overrides(base, {path: value}, self.source)
                except ConfigError as err:
                    if err.path == path or err.path.startswith(path + ".") or path.startswith(err.path + "."):
                        # the axis itself: a value of the wrong type, or a path naming no field
                        raise ConfigError(self.source, f"axes.{err.path}", err.message + on) from None
                    # a rule between fields (array.bytes_per_psum >= array.bytes_per_output)
                    raise ConfigError(self.source, f"axes.{path}", f"{path} = {describe(value)} makes "
                                                                   f"{err.path} invalid: {err.message}{on}") from None

    def _check_constraint_names(self, label: str, base: Hardware) -> None:
        for i, constraint in enumerate(self._compiled):
            for name in constraint.names:
                if name in self.axes:
                    continue
                try:
                    _lookup(base, name)
                except Undefined as err:
                    raise ConfigError(self.source, f"constraints[{i}]", f"{err.args[0]} in {constraint.text!r}"
                                                                        f" (on {label})") from None

    def _combinations(self) -> list[dict[str, Any]]:
        paths = list(self.axes)
        columns = [self.axes[p] for p in paths]
        rows = zip(*columns) if self.combine == "zip" else itertools.product(*columns)
        return [dict(zip(paths, row)) for row in rows] if paths else [{}]

    def _holds(self, constraint: Constraint, i: int, combo: dict, base: Hardware, label: str) -> bool:
        def lookup(name: str) -> Any:
            return combo[name] if name in combo else _lookup(base, name)

        try:
            return constraint.holds(lookup)
        except (TypeError, ZeroDivisionError, OverflowError, Undefined) as err:
            where = ", ".join(f"{k}={describe(v)}" for k, v in combo.items()) or "the base design"
            raise ConfigError(self.source, f"constraints[{i}]", f"cannot evaluate {constraint.text!r} for "
                                                                f"{label} with {where}: {err}") from None

    # ------------------------------------------------------------ text forms

    def canonical(self) -> dict:
        """The normalized spec as plain data (ranges expanded): what the points follow from."""
        return {
            "name": self.name,
            "hardware": [to_data(h) if isinstance(h, Hardware) else str(h) for h in self.hardware],
            "axes": {path: list(values) for path, values in self.axes.items()},
            "combine": self.combine,
            "constraints": list(self.constraints),
            "workloads": [{"workload": ref.label, "batch": ref.batch} for ref in self.workloads],
            "model": self.model,
        }

    def as_text(self) -> str:
        """The spec as written (for a file) or its canonical YAML (built in Python)."""
        return self.text or dump_yaml(self.canonical())


def point_key(hardware_yaml: str, workload_yaml: str, model: str) -> str:
    """sha256 of what determines a point's results: accelsim version, model, hwconfig, workload."""
    text = f"accelsim {__version__}\nmodel {model}\n--- hardware\n{hardware_yaml}--- workload\n{workload_yaml}"
    return hashlib.sha256(text.encode()).hexdigest()


def _lookup(hw: Hardware, path: str, section: bool = False, data: dict | None = None) -> Any:
    """The value at a dotted path (as ``--set`` names it); a whole section only if ``section``
    (an axis may set one); ``data``: as for ``field_value``."""
    try:
        return field_value(hw, path, section, data)
    except LookupError as err:
        raise Undefined(err.args[0]) from None


def _axis_values(values: Any, source: str, where: str) -> tuple:
    if isinstance(values, Range):
        return values.values()
    if isinstance(values, Mapping):
        return build(Range, values, source, where).values()
    if isinstance(values, (list, tuple)):
        if not values:
            raise expected(source, where, "a non-empty list of values", values)
        if len(values) > MAX_RANGE_VALUES:
            raise ConfigError(source, where, f"{len(values):,} values, expected at most {MAX_RANGE_VALUES:,}")
        for i, value in enumerate(values):
            if value in values[:i]:
                raise ConfigError(source, where, f"repeated value {describe(value)}")
        return tuple(values)
    raise expected(source, where, f"a list of values (write [{describe(values)}] for one) or a range "
                                  f"{{start, stop, num or step, scale}}", values)


def _check_overlaps(paths: Sequence[str], source: str) -> None:
    for a in paths:
        for b in paths:
            if b.startswith(a + "."):
                raise ConfigError(source, f"axes.{b}", f"overlaps the axis {a} (sweep one or the other)")


def _workload_refs(entries: Any, source: str) -> list[WorkloadRef]:
    entries = entries if isinstance(entries, (list, tuple)) else [entries]
    if not entries:
        raise expected(source, "workloads", "a non-empty list of workloads", entries)
    if len(entries) > MAX_ENTRIES:
        raise ConfigError(source, "workloads", f"{len(entries):,} workloads, expected at most {MAX_ENTRIES:,}")
    refs = []
    for i, entry in enumerate(entries):
        where = f"workloads[{i}]"
        if isinstance(entry, WorkloadRef):
            refs.append(entry)
        elif isinstance(entry, (Workload, Path)) or (isinstance(entry, str) and entry.strip()):
            refs.append(WorkloadRef(entry))
        elif isinstance(entry, Mapping):
            for key in entry:
                if key not in ("workload", "batch"):
                    raise ConfigError(source, f"{where}.{key}", "unknown key, expected one of: workload, batch")
            if "workload" not in entry:
                raise ConfigError(source, f"{where}.workload", "missing required key, expected a workload "
                                                               "name or path")
            name = entry["workload"]
            if not isinstance(name, (str, Path, Workload)) or (isinstance(name, str) and not name.strip()):
                raise expected(source, f"{where}.workload", "a workload name or path", name)
            batches = entry.get("batch")
            batches = batches if isinstance(batches, (list, tuple)) else [batches]
            if len(batches) > MAX_ENTRIES or not batches:
                raise expected(source, f"{where}.batch", f"a positive integer or a list of at most {MAX_ENTRIES:,}",
                               entry.get("batch"))
            for batch in batches:
                if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool) or batch < 1):
                    raise expected(source, f"{where}.batch", "a positive integer or a list of them",
                                   entry.get("batch"))
                refs.append(WorkloadRef(name, batch))
        else:
            raise expected(source, where, "a workload name or path, or {workload: ..., batch: ...}", entry)
    return refs


def spec_from_data(data: Any, source: str, text: str = "") -> SweepSpec:
    """Build a spec from parsed YAML, strictly: unknown or missing keys name their path."""
    if not isinstance(data, dict):
        raise expected(source, "", "a mapping with hardware, axes and workloads", data)
    for key in data:
        if key not in SPEC_KEYS:
            raise ConfigError(source, str(key), "unknown key, expected one of: " + ", ".join(SPEC_KEYS))
    for key, what in (("hardware", "hwconfig"), ("workloads", "workload")):
        if key not in data:
            raise ConfigError(source, key, f"missing required key, expected a {what} name or path, or a list of them")
    def given(key: str, default: Any) -> Any:  # absent or null is the default; 0, false, "" are values
        return default if data.get(key) is None else data[key]

    return SweepSpec(hardware=data["hardware"], workloads=data["workloads"], axes=given("axes", {}),
                     combine=given("combine", "product"), constraints=given("constraints", ()),
                     model=given("model", "engine"), name=given("name", ""), source=source, text=text)


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec YAML and resolve its points, so every problem is reported now."""
    path = Path(path)
    text = read_text(path, "YAML")
    sweep = spec_from_data(parse_yaml(text, str(path)), str(path), text)
    sweep.points()
    return sweep
