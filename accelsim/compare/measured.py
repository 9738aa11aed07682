"""Measured per-layer numbers in: a CSV format and ONNX Runtime profiles, matched to a workload.

Reading and matching are separate steps so that a command can read the file's
metadata (batch, clock, hardware, workload) before it loads the workload:

    mfile = read_measured("eyeriss_alexnet_jssc2017.csv")   # parse, check values
    measured = match_layers(mfile, workload)                # pair rows with layers

Every value is converted to one base unit per metric (``METRICS``): cycles,
seconds, bytes, a fraction. Every problem is a one-line :class:`ConfigError`
naming the file, the row (the file's line number, as an editor shows it) or
event, and the column or field. The format is documented in docs/calibration.md.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accelsim.config import catalog
from accelsim.config.workload import GEMM_LAYERS, Workload
from accelsim.errors import ConfigError, describe


@dataclass(frozen=True)
class Metric:
    """A measurable per-layer quantity, in its base unit."""

    name: str
    unit: str        # base unit, for tables
    additive: bool   # layers add up to a run total (not utilization)
    doc: str


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("cycles", "cycles", True, "cycles of the measured chip's clock"),
    Metric("latency_s", "s", True, "wall-clock time of the layer"),
    Metric("dram_bytes", "bytes", True, "bytes read from and written to DRAM"),
    Metric("utilization", "fraction", False, "MACs / (PEs x cycles), a fraction in [0, 1]"),
)}

# Column -> (metric, factor to the base unit). Units are decimal (docs/metrics.md: MB = 10^6 B).
UNIT_COLUMNS: dict[str, dict[str, float]] = {
    "latency": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9},
    "dram": {"bytes": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9},
}
COLUMNS: dict[str, tuple[str, float]] = {
    "cycles": ("cycles", 1.0),
    "utilization": ("utilization", 1.0),
    **{f"latency_{u}": ("latency_s", f) for u, f in UNIT_COLUMNS["latency"].items()},
    **{f"dram_{u}": ("dram_bytes", f) for u, f in UNIT_COLUMNS["dram"].items()},
}
LABEL_COLUMN = "layer"
NOTE_COLUMN = "note"  # free text, kept for the report (e.g. the source's own layer label)

SIDECAR_SUFFIX = ".meta.yaml"
MATCH_RULES = ("name", "order")
SHOWN_NAMES = 8  # layer names listed in an error message before "..."


# ---------------------------------------------------------------- metadata


@dataclass(frozen=True)
class MeasuredMeta:
    """What the measurement was taken under, from ``# key: value`` header lines or a sidecar YAML.

    ``clock_mhz`` and ``batch`` are honoured by compare and calibrate (the
    simulated hardware runs at the measured clock, the workload at the measured
    batch); ``hardware`` and ``workload`` are defaults for ``--hw`` and
    ``--workload``; ``match`` and ``subset`` say how rows pair with layers;
    ``aliases`` (file label -> layer) and ``ignore`` (labels to drop) exist
    for profiles whose node names differ from the workload's layer names.
    """

    source: str = ""
    clock_mhz: float | None = None
    batch: int | None = None
    hardware: str | None = None
    workload: str | None = None
    match: str = "name"
    subset: bool = False
    aliases: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _positive_number(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf:
        return float(value)
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _rule(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() in MATCH_RULES else None


# key -> (parser returning None when invalid, expected phrase, allowed in header comments)
_META_KEYS: dict[str, tuple[Any, str, bool]] = {
    "source": (_text, "a non-empty string", True),
    "clock_mhz": (_positive_number, "a finite positive number", True),
    "batch": (_positive_int, "a positive integer", True),
    "hardware": (_text, "a hwconfig name or path", True),
    "workload": (_text, "a workload name or path", True),
    "match": (_rule, "one of " + ", ".join(MATCH_RULES), True),
    "subset": (_boolean, "true or false", True),
    "aliases": (None, "a mapping of file label -> workload layer name", False),
    "ignore": (None, "a list of labels", False),
}


def _meta_value(key: str, value: Any, source: str, where: str) -> Any:
    if key not in _META_KEYS:
        close = difflib.get_close_matches(key, _META_KEYS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(source, where, f"unknown metadata key{hint}, expected one of: " + ", ".join(_META_KEYS))
    parse, phrase, _ = _META_KEYS[key]
    if key == "aliases":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                  for k, v in value.items()):
            raise ConfigError(source, where, f"expected {phrase}, got {describe(value)}")
        return tuple((k.strip(), v.strip()) for k, v in value.items())
    if key == "ignore":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(source, where, f"expected {phrase}, got {describe(value)}")
        return tuple(v.strip() for v in value)
    parsed = parse(value)
    if parsed is None:
        raise ConfigError(source, where, f"expected {phrase}, got {describe(value)}")
    return parsed


# A comment line "# key: value" with a lowercase key is metadata (unknown keys are errors, which
# catches typos such as clock_mz); prose comments start with a capital or have no "word:" prefix.
_META_LINE = re.compile(r"^#\s*([a-z][a-z0-9_]*)\s*:\s*(.*?)\s*$")


def sidecar_path(path: Path) -> Path:
    """``run.csv`` -> ``run.meta.yaml`` (metadata next to the data)."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def _merge_meta(header: dict[str, tuple[Any, str]], path: Path) -> MeasuredMeta:
    """Header-comment metadata plus the sidecar's; a key given in both must agree."""
    values = {key: value for key, (value, _) in header.items()}
    side = sidecar_path(path)
    if side.is_file():
        from accelsim.config.loader import read_yaml  # the one module that reads YAML

        data = read_yaml(side)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(str(side), "", f"expected a mapping of metadata keys, got {describe(data)}")
        for key, raw in data.items():
            value = _meta_value(str(key), raw, str(side), str(key))
            if key in header and header[key][0] != value:
                raise ConfigError(str(side), str(key), f"{describe(raw)} differs from {path} "
                                                      f"{header[key][1]} ({key}: {describe(header[key][0])})")
            values[key] = value
    return MeasuredMeta(**values)


# ---------------------------------------------------------------- parsed files


@dataclass(frozen=True)
class MeasuredRow:
    """One row (CSV) or node (profile) as read, values in base units (absent: not measured)."""

    label: str                 # the layer as the file names it
    where: str                 # "row 7" or "node 'conv1' (events 4, 31)"
    values: dict[str, float]   # metric -> value
    note: str = ""


@dataclass(frozen=True)
class MeasuredFile:
    """A parsed measurement file, not yet paired with a workload."""

    path: str
    kind: str                         # "csv" or "onnxruntime"
    meta: MeasuredMeta
    rows: tuple[MeasuredRow, ...]
    columns: tuple[str, ...]          # measurement columns as written (latency_ms, dram_mb, ...)
    metrics: tuple[str, ...]          # the metrics those columns give, in METRICS order
    label_column: str = LABEL_COLUMN  # where errors about labels point
    sums_repeats: bool = False        # several rows of one layer add up (profiles), else an error


def read_measured(name_or_path: str | Path) -> MeasuredFile:
    """A measured-data file: CSV (``.csv``) or an ONNX Runtime profile (``.json``), or the
    name of a shipped one (``measurements/``)."""
    path = catalog.resolve("measurements", name_or_path)
    if path.suffix.lower() == ".json":
        return read_onnxruntime_profile(path)
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    raise ConfigError(str(path), "", "expected a measured-data file ending in .csv or .json "
                                     "(an ONNX Runtime profile)")


def _cell_number(text: str, column: str, source: str, where: str) -> float | None:
    metric, factor = COLUMNS[column]
    unit = column.partition("_")[2] if metric in ("latency_s", "dram_bytes") else METRICS[metric].unit
    text = text.strip()
    if not text:
        return None
    percent = metric == "utilization" and text.endswith("%")
    raw = text[:-1].strip() if percent else text
    try:
        value = float(raw)
    except ValueError:
        hint = f" (the unit is in the column name: {unit})" if re.search(r"[A-Za-z]", raw) else ""
        raise ConfigError(source, where, f"expected a number{hint}, got {text!r}") from None
    if not math.isfinite(value):
        raise ConfigError(source, where, f"expected a finite number, got {text!r}")
    if value < 0:
        raise ConfigError(source, where, f"expected a non-negative number, got {text}")
    if percent:
        value /= 100
    if metric in ("cycles", "latency_s") and value == 0:
        raise ConfigError(source, where, f"expected a positive number (a layer takes time), got {text}")
    if metric == "utilization" and value > 1:
        raise ConfigError(source, where, f"expected a fraction in [0, 1] (or a percentage with %), got {text}")
    return value * factor


def _check_columns(header: list[str], source: str, line: int) -> dict[int, str]:
    """Column index -> column name; one column per metric, known names only."""
    known, by_metric = {}, {}
    for i, raw in enumerate(header):
        name = raw.strip().lower()
        where = f"row {line} (header), column {raw.strip() or i + 1}"
        if not name:
            raise ConfigError(source, where, "empty column name")
        if name in known.values():
            raise ConfigError(source, where, "repeated column")
        if name in (LABEL_COLUMN, NOTE_COLUMN):
            known[i] = name
            continue
        if name not in COLUMNS:
            stem, _, unit = name.partition("_")
            if stem in UNIT_COLUMNS and unit:
                raise ConfigError(source, where, f"unknown unit {unit!r}, expected one of: "
                                                 + ", ".join(UNIT_COLUMNS[stem]))
            raise ConfigError(source, where, "unknown column, expected one of: layer, note, cycles, "
                                             "latency_s|ms|us|ns, dram_bytes|kb|mb|gb, utilization")
        metric = COLUMNS[name][0]
        if metric in by_metric:
            raise ConfigError(source, where, f"{metric} is already given by column {by_metric[metric]}; "
                                             "keep one column per metric")
        by_metric[metric] = name
        known[i] = name
    if not by_metric:
        raise ConfigError(source, f"row {line} (header)", "no measurement column, expected at least one of: "
                                                         "cycles, latency_s|ms|us|ns, dram_bytes|kb|mb|gb, "
                                                         "utilization")
    return known


def read_csv(path: str | Path) -> MeasuredFile:
    """One row per layer; ``# key: value`` lines before the header are metadata."""
    path = Path(path)
    source = str(path)
    from accelsim.config.loader import read_text

    lines = read_text(path, "measured-data CSV").splitlines()
    header_meta: dict[str, tuple[Any, str]] = {}
    columns: dict[int, str] | None = None
    header_line = 0
    rows: list[MeasuredRow] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            found = _META_LINE.match(stripped)
            if found and columns is None:
                key, value = found.group(1), found.group(2)
                where = f"row {number}, metadata {key}"
                if key in _META_KEYS and not _META_KEYS[key][2]:
                    raise ConfigError(source, where, f"give {key} in the sidecar {sidecar_path(path).name}")
                if key in header_meta:
                    raise ConfigError(source, where, f"repeated metadata key (also {header_meta[key][1]})")
                header_meta[key] = (_meta_value(key, value, source, where), f"row {number}")
            continue
        if len(line) > MAX_LINE_CHARS:
            raise ConfigError(source, f"row {number}", f"{len(line):,} characters, expected at most "
                                                       f"{MAX_LINE_CHARS:,} in a row")
        try:
            cells = next(csv.reader([line]))
        except csv.Error as err:
            raise ConfigError(source, f"row {number}", f"not a CSV row: {err}") from None
        if columns is None:
            columns, header_line = _check_columns(cells, source, number), number
            continue
        if len(cells) != len(columns):
            raise ConfigError(source, f"row {number}", f"{len(cells)} cells, expected {len(columns)} "
                                                       f"(the header, row {header_line}, has {len(columns)} columns)")
        label, note, values = "", "", {}
        for i, name in columns.items():
            where = f"row {number}, column {name}"
            if name == LABEL_COLUMN:
                label = cells[i].strip()
                if not label:
                    raise ConfigError(source, where, "empty layer name")
            elif name == NOTE_COLUMN:
                note = cells[i].strip()
            else:
                value = _cell_number(cells[i], name, source, where)
                if value is not None:
                    values[COLUMNS[name][0]] = value
        if not values:
            raise ConfigError(source, f"row {number}", "no measured value in this row")
        rows.append(MeasuredRow(label=label or f"#{len(rows) + 1}", where=f"row {number}", values=values,
                                note=note))
    if columns is None:
        raise ConfigError(source, "", "no header row (expected a CSV with a layer column and measurement columns)")
    if not rows:
        raise ConfigError(source, "", "no data rows after the header")
    meta = _merge_meta(header_meta, path)
    if LABEL_COLUMN not in columns.values() and meta.match == "name":
        raise ConfigError(source, f"row {header_line} (header), column layer",
                          "missing; rows are matched to layers by name (or declare match: order)")
    names = [n for n in columns.values() if n in COLUMNS]
    metrics = tuple(m for m in METRICS if any(COLUMNS[n][0] == m for n in names))
    return MeasuredFile(path=source, kind="csv", meta=meta, rows=tuple(rows), columns=tuple(names),
                        metrics=metrics)


# ---------------------------------------------------------------- ONNX Runtime profiles

ORT_KERNEL_SUFFIX = "_kernel_time"
MAX_JSON_DEPTH = 64          # a trace-event file is a list (or object) of flat events
MAX_NUMBER_DIGITS = 40       # digits of one integer in a profile
MAX_LINE_CHARS = 10_000      # characters of one measured-data CSV row


def _json_depth(text: str) -> int:
    """Deepest nesting of brackets outside strings, without parsing (``json`` recurses per level)."""
    import numpy as np

    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", text).encode()
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.isin(codes, (91, 123)).astype(np.int64) - np.isin(codes, (93, 125))  # [ { minus ] }
    return int(np.cumsum(steps).max(initial=0))


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-')):,} digits (at most {MAX_NUMBER_DIGITS})")
    return int(text)


def read_onnxruntime_profile(path: str | Path) -> MeasuredFile:
    """An ONNX Runtime profile (``SessionOptions.enable_profiling``): a JSON list of trace events.

    Per node, the ``dur`` (microseconds) of its ``<node>_kernel_time`` events
    (``cat: Node``) is summed within each ``model_run`` (``cat: Session``) and
    the median over runs is the node's latency, so a warm-up run does not
    count. Fence events (synchronisation around the kernel) are left out.
    Metadata comes from the sidecar ``<stem>.meta.yaml``.
    """
    path = Path(path)
    source = str(path)
    from accelsim.config.loader import read_text

    text = read_text(path, "ONNX Runtime profile")
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ConfigError(source, "", f"not an ONNX Runtime profile: nested {depth:,} levels deep, expected at "
                                      f"most {MAX_JSON_DEPTH}")
    try:
        events = json.loads(text, parse_int=_json_int)
    except ValueError as err:  # JSONDecodeError, and numbers beyond the bound
        raise ConfigError(source, "", f"not valid JSON: {str(err).splitlines()[0][:200]}") from None
    if isinstance(events, dict) and isinstance(events.get("traceEvents"), list):
        events = events["traceEvents"]
    if not isinstance(events, list):
        raise ConfigError(source, "", "expected a list of trace events (an ONNX Runtime profile)")
    runs: list[tuple[float, float]] = []
    kernels: list[tuple[int, str, float, float | None]] = []  # event index, node, dur us, ts us
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise ConfigError(source, f"event {i}", f"expected a mapping, got {describe(event)}")
        name, cat = event.get("name"), event.get("cat")
        is_run = cat == "Session" and name == "model_run"
        is_kernel = cat == "Node" and isinstance(name, str) and name.endswith(ORT_KERNEL_SUFFIX)
        if not (is_run or is_kernel):
            continue
        where = f"event {i} ({name})"
        dur = event.get("dur")
        if not isinstance(dur, (int, float)) or isinstance(dur, bool) or not math.isfinite(dur) or dur < 0:
            raise ConfigError(source, f"{where}, field dur",
                              f"expected a non-negative number of microseconds, got {describe(dur)}")
        ts = event.get("ts")
        if ts is not None and (not isinstance(ts, (int, float)) or isinstance(ts, bool) or not math.isfinite(ts)):
            raise ConfigError(source, f"{where}, field ts", f"expected a number of microseconds, got {describe(ts)}")
        if is_run:
            if ts is None:
                raise ConfigError(source, f"{where}, field ts", "missing; model_run events need a start time")
            runs.append((float(ts), float(ts) + float(dur)))
        else:
            node = name[: -len(ORT_KERNEL_SUFFIX)]
            if not node:
                raise ConfigError(source, f"{where}, field name", "the node has no name; name it in the model "
                                                                  "or map it with aliases")
            kernels.append((i, node, float(dur), None if ts is None else float(ts)))
    if not kernels:
        raise ConfigError(source, "", "no node events (cat 'Node', name '<node>_kernel_time'); "
                                      "write the profile with SessionOptions.enable_profiling")
    runs.sort()
    per_node: dict[str, dict[int, float]] = {}
    indices: dict[str, list[int]] = {}
    for i, node, dur, ts in kernels:
        run = 0
        if len(runs) > 1:
            if ts is None:
                raise ConfigError(source, f"event {i} ({node}{ORT_KERNEL_SUFFIX}), field ts",
                                  "missing; needed to tell the profile's runs apart")
            run = max(0, sum(1 for start, _ in runs if start <= ts) - 1)
        per_node.setdefault(node, {}).setdefault(run, 0.0)
        per_node[node][run] += dur
        indices.setdefault(node, []).append(i)
    rows = []
    for node, by_run in per_node.items():
        shown = ", ".join(str(i) for i in indices[node][:3]) + (", ..." if len(indices[node]) > 3 else "")
        rows.append(MeasuredRow(label=node, where=f"node {node!r} (events {shown})",
                                values={"latency_s": statistics.median(by_run.values()) * 1e-6}))
    meta = _merge_meta({}, path)
    if meta.match != "name":
        raise ConfigError(str(sidecar_path(path)), "match", "profiles are matched by node name only, got 'order'")
    return MeasuredFile(path=source, kind="onnxruntime", meta=meta, rows=tuple(rows), columns=("dur (us)",),
                        metrics=("latency_s",), label_column="node", sums_repeats=True)


# ---------------------------------------------------------------- matching to a workload


@dataclass(frozen=True)
class MeasuredLayer:
    """Measured values of one workload layer."""

    name: str                  # the workload's layer name
    labels: tuple[str, ...]    # as the file names it (several when a profile's nodes add up)
    where: str
    values: dict[str, float]
    note: str = ""


@dataclass(frozen=True)
class Measured:
    """A measurement file paired with a workload, layers in workload order."""

    file: MeasuredFile
    workload: str
    layers: tuple[MeasuredLayer, ...]
    unmeasured: tuple[str, ...] = field(default=())  # workload layers with no row

    @property
    def meta(self) -> MeasuredMeta:
        return self.file.meta

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.file.metrics

    def values(self, metric: str) -> dict[str, float]:
        """Layer name -> measured value, for the layers that have one."""
        return {m.name: m.values[metric] for m in self.layers if metric in m.values}


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f", ... ({len(names)} in all)" if len(names) > SHOWN_NAMES else "")


def match_layers(mfile: MeasuredFile, workload: Workload) -> Measured:
    """Pair the file's rows with the workload's layers (``meta.match``).

    ``name`` (the default): a row's label is a layer name, compared after
    stripping spaces and ignoring case; unknown labels and repeated layers are
    errors, and every conv/gemm layer needs a row unless ``subset: true``.
    ``order``: the rows are the workload's conv/gemm layers in order, as many
    rows as layers.
    """
    source = mfile.path
    if mfile.meta.match == "order":
        gemm = [layer.name for layer in workload.layers if isinstance(layer, GEMM_LAYERS)]
        if len(mfile.rows) != len(gemm):
            raise ConfigError(source, "", f"{len(mfile.rows)} rows, but workload {workload.name} has {len(gemm)} "
                                          f"conv/gemm layers (match: order pairs them one to one, in order)")
        layers = tuple(MeasuredLayer(name=name, labels=(row.label,), where=row.where, values=dict(row.values),
                                     note=row.note) for name, row in zip(gemm, mfile.rows))
        return Measured(file=mfile, workload=workload.name, layers=layers)
    by_key: dict[str, str] = {}
    for layer in workload.layers:
        key = layer.name.strip().casefold()
        if key in by_key:
            raise ConfigError(source, "", f"workload {workload.name} has layers {by_key[key]!r} and {layer.name!r}, "
                                          "which differ only in case; match: order can pair them")
        by_key[key] = layer.name
    sidecar = str(sidecar_path(Path(source)))
    aliases = {}
    for label, target in mfile.meta.aliases:
        if target.casefold() not in by_key:
            raise ConfigError(sidecar, f"aliases.{label}", f"unknown layer {target!r} of workload {workload.name} "
                                                           f"(layers: {_names(list(by_key.values()))})")
        aliases[label.casefold()] = by_key[target.casefold()]
    ignore = {label.casefold() for label in mfile.meta.ignore}
    found: dict[str, list[MeasuredRow]] = {}
    for row in mfile.rows:
        key = row.label.strip().casefold()
        if key in ignore:
            continue
        name = aliases.get(key) or by_key.get(key)
        where = f"{row.where}, column {mfile.label_column}" if mfile.kind == "csv" else row.where
        if name is None:
            hint = " (totals are computed, not read)" if key in ("total", "sum") else ""
            if mfile.kind != "csv":
                hint = f"; map it with aliases or drop it with ignore in {Path(sidecar).name}"
            raise ConfigError(source, where, f"unknown layer {row.label!r}{hint}; workload {workload.name} has "
                                             f"{_names(list(by_key.values()))}")
        if name in found and not mfile.sums_repeats:
            raise ConfigError(source, where, f"layer {name} again (also {found[name][0].where})")
        found.setdefault(name, []).append(row)
    missing = [layer.name for layer in workload.layers if isinstance(layer, GEMM_LAYERS) and layer.name not in found]
    if missing and not mfile.meta.subset:
        raise ConfigError(source, mfile.label_column,
                          f"no {'row' if mfile.kind == 'csv' else 'node'} for {_names(missing)} of workload "
                          f"{workload.name} (every conv/gemm layer needs one; declare subset: true if the "
                          "measurements cover only some layers)")
    layers = []
    for layer in workload.layers:
        rows = found.get(layer.name)
        if not rows:
            continue
        values: dict[str, float] = {}
        for row in rows:
            for metric, value in row.values.items():
                values[metric] = values.get(metric, 0.0) + value
        layers.append(MeasuredLayer(name=layer.name, labels=tuple(r.label for r in rows),
                                    where="; ".join(r.where for r in rows), values=values,
                                    note="; ".join(r.note for r in rows if r.note)))
    unmeasured = tuple(layer.name for layer in workload.layers if layer.name not in found)
    return Measured(file=mfile, workload=workload.name, layers=tuple(layers), unmeasured=unmeasured)


def load_measured(name_or_path: str | Path, workload: Workload) -> Measured:
    """Read a measured-data file and pair it with ``workload``."""
    return match_layers(read_measured(name_or_path), workload)
