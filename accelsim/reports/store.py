"""The sweep results file (HDF5): the only module that imports h5py.

Layout and columns are documented in docs/results.md (``SCHEMA_VERSION``). Result columns are
not listed here: they are derived from the flat records (``reports.records.flat``) of the
points themselves, so fields added to the records appear in the store without a change here.

Why the file survives ``kill -9``: HDF5 is not journaled, and a process killed while the
library rewrites its own metadata (a dataset that grows, a new object) can leave a file that
no longer opens. So metadata never changes while points are stored: every dataset is
contiguous, written whole (allocated) when the file is made, and storing a batch of points
overwrites only those points' slots, then, after an fsync, their status bytes. A kill leaves a
point whose status is not written pending (its slots possibly half written; resume rewrites
them), and so are the points still waiting for their batch. When the layout itself
must change (the first finished point fixes the result columns; a longer string needs a wider
field; a column meets a float) the whole file is written anew beside the old one and renamed
over it, which is atomic: a kill leaves the old file or the new one. Files use the default
(earliest) HDF5 format, whose superblock carries no open-for-writing flag that a killed writer
would leave set and that would make HDF5 refuse to reopen the file.
"""

from __future__ import annotations

import json
import math
import operator
import os
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import h5py
import numpy as np

from accelsim.errors import ConfigError

FORMAT = "accelsim-sweep"
SCHEMA_VERSION = 1
STATUS = {"pending": 0, "done": 1, "failed": 2, "error": 3}
STATUS_NAMES = {code: name for name, code in STATUS.items()}
MAX_ERROR_BYTES = 2000
STRING_QUANTUM = 16  # string fields grow in steps of this many bytes, so relayouts stay rare

# Column kinds: every value of a flat record is one of these. NONE (a null, such as the
# arithmetic intensity of a layer that moves no bytes) is stored as a float NaN.
NONE, BOOL, INT, FLOAT, STR = "none", "bool", "int", "float", "str"
_ORDER = {BOOL: 0, INT: 1, FLOAT: 2}
FILL = {BOOL: False, INT: 0, FLOAT: math.nan, NONE: math.nan, STR: b""}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    width: int = 0  # bytes, STR only

    @property
    def dtype(self) -> str:
        return {BOOL: "?", INT: "<i8", FLOAT: "<f8", NONE: "<f8", STR: f"S{max(self.width, 1)}"}[self.kind]


@dataclass(frozen=True)
class StaticPoint:
    """What the store knows of a point before it runs."""

    key: str
    base: str
    hardware: str        # the design's name
    workload: str
    batch: int
    layer_count: int
    axes: dict[str, Any]
    config: dict[str, Any]   # the resolved hwconfig, flattened to dotted paths
    hardware_yaml: str


@dataclass(frozen=True)
class Content:
    """A whole results file in memory (``read``); strings decoded, result tables as stored."""

    attrs: dict[str, Any]
    spec: str
    points: np.ndarray
    axes: np.ndarray | None
    axis_names: list[str]
    json_axes: list[str]        # axis columns holding JSON text (values that are not scalars)
    config: np.ndarray
    hardware_yaml: list[str]
    status: np.ndarray
    error: list[str]
    timing: np.ndarray
    totals: np.ndarray | None   # None until a point is done
    layers: np.ndarray | None


# ------------------------------------------------------------ columns from records


def kind_of(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT if -2**63 <= value < 2**63 else FLOAT
    if isinstance(value, float):
        return FLOAT
    return STR


def join(a: str, b: str) -> str:
    """The narrowest kind that holds both (a lattice join, so the result ignores arrival order)."""
    if a == b:
        return a
    if STR in (a, b):
        return STR
    if NONE in (a, b):
        return FLOAT  # null is NaN; booleans and integers have none
    return max(a, b, key=_ORDER.__getitem__)


def encode(value: Any, column: Column) -> Any:
    """A Python value as the column stores it."""
    kind = column.kind
    if kind == STR:
        if isinstance(value, str):
            return value.encode()
        if value is None:
            return b""
        if isinstance(value, bool):
            return b"true" if value else b"false"
        if isinstance(value, (int, float)):
            return repr(value).encode()
        return json.dumps(value, sort_keys=True).encode()
    if value is None:
        return FILL[kind]
    if kind == INT:
        return int(value)
    if kind == BOOL:
        return bool(value)
    return float(value)


_KIND_OF_TYPE = {type(None): NONE, bool: BOOL, float: FLOAT, str: STR}  # int: by its range (kind_of)


def _kind_of_values(values: list[Any]) -> str | None:
    """The join of ``kind_of`` over ``values`` (None for none), one type at a time, not one value."""
    kind = None
    types = set(map(type, values))
    for t in types:
        if t is int:
            ints = values if len(types) == 1 else [v for v in values if type(v) is int]
            kinds = {kind_of(min(ints)), kind_of(max(ints))}
        elif t in _KIND_OF_TYPE:
            kinds = {_KIND_OF_TYPE[t]}
        else:  # subclasses (numpy scalars) and containers: value by value
            kinds = {kind_of(v) for v in values if type(v) is t}
        for k in kinds:
            kind = k if kind is None else join(kind, k)
    return kind


def _column_values(records: list[dict], names: list[str]) -> list[tuple]:
    """Per name, its value in every record (None where a record lacks it): the records transposed."""
    if not names:
        return []
    if not records:
        return [() for _ in names]
    try:
        rows = list(map(operator.itemgetter(*names), records))
    except KeyError:  # some record lacks a column
        rows = [tuple(r.get(name) for name in names) for r in records]
    return list(zip(*rows)) if len(names) > 1 else [tuple(rows)]


def _encoded_strings(values: tuple, column: Column) -> list[bytes]:
    if all(type(v) is str for v in values):
        return [v.encode() for v in values]
    return [encode(v, column) for v in values]


def merge_columns(columns: list[Column], records: Iterable[dict]) -> list[Column]:
    """Columns that hold ``records`` as well as everything the old columns held.

    A column is null (NONE) in the records that lack it, from the first record that holds it on
    (an old column: in every record). Worked out column by column over all the records at once.
    """
    records = list(records)
    kinds = {c.name: c.kind for c in columns}
    widths = {c.name: c.width for c in columns}
    first = dict.fromkeys(kinds, 0)  # the first record each column is looked up in
    for i, record in enumerate(records):
        if record.keys() != first.keys():
            for name in record:
                first.setdefault(name, i)
    for (name, start), values in zip(first.items(), _column_values(records, list(first))):
        kind = _kind_of_values(values[start:])
        if kind is not None:
            kinds[name] = join(kinds[name], kind) if name in kinds else kind
    strings = [name for name, kind in kinds.items() if kind == STR]
    for name, values in zip(strings, _column_values(records, strings)):
        longest = max(map(len, _encoded_strings(values, Column(name, STR))), default=0)
        widths[name] = max(widths.get(name, 0), -(-max(longest, 1) // STRING_QUANTUM) * STRING_QUANTUM)
    return [Column(name, kind, widths[name] if kind == STR else 0) for name, kind in kinds.items()]


def columns_of(dtype: np.dtype) -> list[Column]:
    out = []
    for name in dtype.names or ():
        field = dtype.fields[name][0]
        if field.kind == "S":
            out.append(Column(name, STR, field.itemsize))
        else:
            out.append(Column(name, {"b": BOOL, "i": INT, "f": FLOAT}[field.kind]))
    return out


def table(columns: list[Column], records: list[dict]) -> np.ndarray:
    """``records`` as rows of ``columns``, column by column (numbers converted by numpy at once)."""
    return _table(columns, records, strict=False)


def _table(columns: list[Column], records: list[dict], strict: bool) -> np.ndarray | None:
    """``table``; if ``strict``, None when a record needs other columns than ``columns`` (a new
    name, another kind, a longer string): exactly when ``merge_columns`` would change them."""
    names = [c.name for c in columns]
    if strict:
        known = set(names)
        if not all(r.keys() <= known for r in records):
            return None
    out = np.empty(len(records), dtype=np.dtype([(c.name, c.dtype) for c in columns]))
    for c, values in zip(columns, _column_values(records, names)):
        if strict:
            kind = _kind_of_values(values)
            if kind is not None and join(c.kind, kind) != c.kind:
                return None
        if c.kind == STR:
            encoded = _encoded_strings(values, c)
            if strict and max(map(len, encoded), default=0) > c.width:
                return None
            out[c.name] = encoded
        elif None in values:
            out[c.name] = np.array([FILL[c.kind] if v is None else v for v in values], dtype=c.dtype)
        else:
            out[c.name] = np.array(values, dtype=c.dtype)
    return out


def filled(columns: list[Column], n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.dtype([(c.name, c.dtype) for c in columns]))
    for c in columns:
        out[c.name] = FILL[c.kind]
    return out


def _converted(old: np.ndarray | None, columns: list[Column], keep: np.ndarray) -> np.ndarray:
    """``old`` in the new columns; rows not in ``keep`` hold the fill (so history leaves no trace)."""
    new = filled(columns, len(keep))
    if old is None:
        return new
    previous = {c.name: c for c in columns_of(old.dtype)}
    for c in columns:
        if c.name not in previous:
            continue
        values = old[c.name][keep]
        if c.kind == STR and previous[c.name].kind != STR:
            values = np.array([encode(v.item(), c) for v in values], dtype=c.dtype)
        new[c.name][keep] = values.astype(c.dtype)
    return new


def _scalar_column(values: list[Any]) -> bool:
    """All strings, or all numbers and booleans: a typed column; anything else is stored as JSON text."""
    if all(isinstance(v, str) for v in values):
        return True
    return all(isinstance(v, (bool, int, float)) for v in values)


def _error_bytes(message: str) -> bytes:
    raw = message.encode()
    if len(raw) <= MAX_ERROR_BYTES:
        return raw
    return raw[: MAX_ERROR_BYTES - 3].decode(errors="ignore").encode() + b"..."


# ------------------------------------------------------------ whole-file images

_STRING = h5py.string_dtype()


# Raw data is laid out in this order (small per-point slots first, the large layer table last),
# every object header before any raw data: a file truncated part way keeps its metadata and
# the seals and slots of the first points, which ``repair`` recovers.
_LAYOUT = ("status", "seal", "timing", "error", "points", "axes", "config", "totals", "layers")
SEAL_DTYPE = np.dtype([("status", "u1"), ("crc32", "<u4")])
TIMING_DTYPE = np.dtype([("seconds", "<f8"), ("finished_unix_s", "<f8")])


def _write_file(path: Path, attrs: dict[str, Any], datasets: dict[str, Any]) -> None:
    """Write a complete file beside ``path`` and rename it over ``path`` (atomic on POSIX)."""
    tmp = path.with_name(path.name + ".tmp")
    datasets = {**datasets, "seal": _seals(datasets)}
    with h5py.File(tmp, "w") as f:  # default libver: see the module docstring
        for name, value in attrs.items():
            f.attrs[name] = value
        fixed = [n for n in _LAYOUT if n in datasets] + [n for n, d in datasets.items()
                                                         if n not in _LAYOUT and not isinstance(d, (str, list))]
        for name in fixed:  # headers first (raw data is allocated when written, below)
            f.create_dataset(name, shape=datasets[name].shape, dtype=datasets[name].dtype, track_times=False)
        for name, data in datasets.items():
            if isinstance(data, str):
                f.create_dataset(name, data=data, dtype=_STRING)
            elif isinstance(data, list):
                f.create_dataset(name, data=np.array(data, dtype=object), dtype=_STRING)
        for name in fixed:
            if datasets[name].size:
                f[name][...] = datasets[name]
        _describe(f)
    _fsync_path(tmp)
    os.replace(tmp, path)
    _fsync_path(path.parent)


def _seal(status: int, rows: list[bytes]) -> tuple[int, int]:
    """A stored point's status and the CRC-32 of its slots as stored (repair checks it)."""
    crc = zlib.crc32(bytes([status]))
    for raw in rows:
        crc = zlib.crc32(raw, crc)
    return status, crc


def _slots(datasets: dict[str, Any], index: int) -> list[bytes]:
    points = datasets["points"]
    offset, count = int(points["layer_offset"][index]), int(points["layer_count"][index])
    rows = [datasets["error"][index].tobytes(), datasets["timing"][index].tobytes()]
    if datasets.get("totals") is not None:
        rows += [datasets["totals"][index].tobytes(), datasets["layers"][offset:offset + count].tobytes()]
    return rows


def _seals(datasets: dict[str, Any]) -> np.ndarray:
    seals = np.zeros(len(datasets["status"]), dtype=SEAL_DTYPE)
    for i in np.flatnonzero(datasets["status"]):
        seals[i] = _seal(int(datasets["status"][i]), _slots(datasets, int(i)))
    return seals


def column_unit(name: str) -> str:
    """The unit of a record column, from its name (docs/metrics.md defines every metric)."""
    last = name.rsplit(".", 1)[-1]
    rules = [("_gb_per_s", "GB/s (10^9 bytes per second)"), ("_per_s_per_w", "inferences per joule"),
             ("_per_s_per_mm2", "inferences/s per mm^2"), ("_per_s_per_usd", "inferences/s per USD"),
             ("inferences_per_s", "inferences/s"), ("tops_per_w", "10^12 operations/s per W"),
             ("tops", "10^12 operations/s"), ("_bytes", "bytes"), ("_j", "J"), ("_w", "W"), ("latency_s", "s"),
             ("seconds", "s"), ("finished_unix_s", "s since 1970-01-01 UTC"), ("macs", "MACs"),
             ("cycles", "cycles"), ("utilization", "fraction"), ("efficiency", "fraction"),
             ("fraction", "fraction"), ("ratio", "ratio"), ("gap", "ratio"), ("intensity", "MACs per DRAM byte"),
             ("events", "events"), ("folds", "folds"), ("batch", "samples")]
    if name.startswith(("breakdown.",)):
        return "cycles"
    if name.startswith(("dram_bytes.", "sram_bytes.")):
        return "bytes"
    if name.startswith("energy_breakdown_j."):
        return "J"
    for suffix, unit in rules:
        if last.endswith(suffix) or last == suffix.strip("_"):
            return unit
    return ""


def _describe(f: h5py.File) -> None:
    """Units and meanings as attributes, so the file explains itself to any HDF5 tool."""
    f.attrs["description"] = ("accelsim sweep results (docs/results.md): one row per point in points, status, "
                              "seal, timing, error, config, totals; layers holds every point's layer records")
    f["status"].attrs["meanings"] = json.dumps({str(code): name for name, code in STATUS.items()})
    f["status"].attrs["description"] = ("0 pending (not run), 1 done, 2 failed (the design cannot run the "
                                        "workload: error says why), 3 error (an internal error: please report)")
    f["seal"].attrs["description"] = "per stored point: its status and the CRC-32 of its slots (accelsim runs repair)"
    f["timing"].attrs["units"] = json.dumps({"seconds": "s (simulation wall time in the worker)",
                                             "finished_unix_s": "s since 1970-01-01 UTC"})
    f["error"].attrs["description"] = f"the failure's message, UTF-8, at most {MAX_ERROR_BYTES} bytes"
    for name in ("totals", "layers", "config"):
        if name in f:
            units = {c: column_unit(c) for c in f[name].dtype.names or () if column_unit(c)}
            f[name].attrs["units"] = json.dumps(units)
    if "totals" in f:
        f["totals"].attrs["description"] = "the run's total record per point (rows of points not done hold fills)"


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_all(f: h5py.File) -> tuple[dict[str, Any], dict[str, Any]]:
    attrs = {name: f.attrs[name] for name in f.attrs}
    datasets: dict[str, Any] = {}
    for name, ds in f.items():
        info = h5py.check_string_dtype(ds.dtype)
        if info is not None and info.length is None:  # variable-length text (spec, hwconfig YAML)
            value = ds.asstr()[()]
            datasets[name] = value if isinstance(value, str) else list(value)
        else:
            datasets[name] = ds[()]
    return attrs, datasets


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _not_hdf5(path: Path) -> ConfigError:
    size = path.stat().st_size
    return ConfigError(str(path), "", f"not a readable HDF5 file ({size:,} bytes without the HDF5 signature); "
                                      f"left as it is")


def _open(path: Path) -> h5py.File:
    """Open a results file to read; anything that is not HDF5 is refused before h5py reads it.

    Readers do not lock: `accelsim runs show` works while a sweep writes the file (the writer
    holds the lock on a plain descriptor, ``Store``).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(len(HDF5_SIGNATURE))
    except FileNotFoundError:
        raise ConfigError(str(path), "", "no such file") from None
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror or err}") from None
    if head != HDF5_SIGNATURE:
        raise _not_hdf5(path)
    try:
        return h5py.File(path, "r", locking=False)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "no such file") from None
    except OSError as err:
        raise ConfigError(str(path), "", f"not a readable HDF5 file ({err})") from None


def _check_format(path: Path, attrs: dict[str, Any]) -> None:
    if attrs.get("format") != FORMAT:
        raise ConfigError(str(path), "", "not an accelsim sweep results file")
    version = int(attrs.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise ConfigError(str(path), "", f"written with results schema {version}, this accelsim reads up to "
                                         f"{SCHEMA_VERSION} (upgrade accelsim)")


# ------------------------------------------------------------ the writer

# Finished points wait in the writer's memory until one of these is reached, then go to the
# file together (one fsync for all of them). A SIGKILL loses the waiting points, which are still
# pending in the file, so --resume runs them again: at most this many points, and this much of
# their simulation time, is done twice (docs/sweeps.md).
BATCH_POINTS = 32
BATCH_SIMULATION_S = 1.0

_SLOTS = ("status", "seal", "error", "timing", "totals", "layers")  # the datasets a point writes


@dataclass(frozen=True)
class _Finished:
    """A point received but not yet written."""

    status: str
    error: bytes
    seconds: float
    finished_unix_s: float
    total: dict | None
    layers: list[dict]


def _lock(path: Path) -> int:
    """A descriptor of ``path`` holding the exclusive lock HDF5 writers take (``flock``)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "no such file") from None
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot write: {err.strerror or err}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(str(path), "", "in use by another process (is a sweep writing it?)") from None
    return fd


class Store:
    """An open results file, written by one process (the sweep's coordinator).

    HDF5 only reads the layout when the file is opened: points are written with ``os.pwrite``
    straight into their slots (contiguous, allocated datasets, whose bytes are the numpy rows),
    several at a time, so a point costs an encoding and a few system calls, not HDF5 calls.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._batch: dict[int, _Finished] = {}
        self._fd = _lock(self.path)
        try:
            self._read_layout()
        except BaseException:
            os.close(self._fd)
            raise

    def _read_layout(self) -> None:
        with _open(self.path) as f:
            self.attrs = dict(f.attrs)
            _check_format(self.path, self.attrs)
            self.points = f["points"][()]
            self._layer_rows = list(zip(self.points["layer_offset"].tolist(), self.points["layer_count"].tolist()))
            self._axes = f["axes"][()] if "axes" in f else None
            self._status = f["status"][()]
            # where each slot dataset's rows start in the file, and their type
            self._row = {name: (f[name].id.get_offset(), f[name].dtype) for name in _SLOTS if name in f}
            self._totals = columns_of(f["totals"].dtype) if "totals" in f else []
            self._layers = columns_of(f["layers"].dtype) if "layers" in f else []

    @classmethod
    def create(cls, path: str | Path, attrs: dict[str, Any], spec_text: str,
               points: list[StaticPoint]) -> "Store":
        path = Path(path)
        counts = np.array([p.layer_count for p in points], dtype="<i8")
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype("<i8")
        ids = [{"index": i, "key": p.key, "base": p.base, "hardware": p.hardware, "workload": p.workload,
                "batch": p.batch, "layer_offset": int(o), "layer_count": int(c)}
               for i, (p, o, c) in enumerate(zip(points, offsets, counts))]
        id_columns = merge_columns([], ids)
        axis_names = list(dict.fromkeys(name for p in points for name in p.axes))
        json_axes = [name for name in axis_names if not _scalar_column([p.axes.get(name) for p in points])]
        axes = [{name: json.dumps(value, sort_keys=True) if name in json_axes else value
                 for name, value in p.axes.items()} for p in points]
        axis_columns = merge_columns([], axes)
        header = {"format": FORMAT, "schema_version": SCHEMA_VERSION,
                  "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "axes": json.dumps(axis_names), "json_axes": json.dumps(json_axes), **attrs}
        datasets: dict[str, Any] = {
            "spec": spec_text,
            "points": table(id_columns, ids),
            "config": table(merge_columns([], [p.config for p in points]), [p.config for p in points]),
            "hardware": [p.hardware_yaml for p in points],
            "status": np.zeros(len(points), dtype="u1"),
            "error": np.zeros(len(points), dtype=f"S{STRING_QUANTUM}"),
            "timing": np.array([(math.nan, math.nan)] * len(points), dtype=TIMING_DTYPE),
        }
        if axis_columns:
            datasets["axes"] = table(axis_columns, axes)
        try:
            _write_file(path, header, datasets)
        except OSError as err:
            raise ConfigError(str(path), "", f"cannot write: {err.strerror or err}") from None
        return cls(path)

    def keys(self) -> list[str]:
        return [k.decode() for k in self.points["key"]]

    def statuses(self) -> np.ndarray:
        """Every point's status as stored (the points still waiting are written first)."""
        self.flush()
        return self._status.copy()

    def write(self, index: int, status: str, error: str = "", seconds: float = math.nan,
              total: dict | None = None, layers: list[dict] = ()) -> None:
        """Store one point; it reaches the file with the next batch (at most ``BATCH_POINTS``
        points or ``BATCH_SIMULATION_S`` of their simulation time later), or at ``flush``."""
        count = self._layer_rows[index][1]
        if status == "done" and (total is None or len(layers) != count):
            status, error = "error", f"expected a total and {count} layer records, got {len(layers)} layers"
        done = status == "done"
        if done:  # the totals table names its rows itself: workload, batch and axes beside the results
            total = {**self._identity(index, total), **total}
        self._batch[index] = _Finished(status, _error_bytes(error), seconds, time.time(),
                                       total if done else None, list(layers) if done else [])
        waiting = sum(p.seconds for p in self._batch.values() if math.isfinite(p.seconds))
        if len(self._batch) >= BATCH_POINTS or waiting >= BATCH_SIMULATION_S:
            self.flush()

    def flush(self) -> None:
        """Write the waiting points: their slots first, then (once those are on disk) their seals
        and statuses, so a kill at any moment leaves each point either stored whole or pending."""
        if not self._batch:
            return
        batch, seals = self._batch, {}
        done = [i for i, p in batch.items() if p.status == "done"]
        total_records = [batch[i].total for i in done]
        layer_records = [r for i in done for r in batch[i].layers]
        longest_error = max(len(p.error) for p in batch.values())
        # the result tables, encoded for every done point at once, in the columns of the file if they fit
        totals = _table(self._totals, total_records, strict=True)
        layers = _table(self._layers, layer_records, strict=True)
        if totals is None or layers is None or longest_error > self._row["error"][1].itemsize:
            self._relayout(merge_columns(self._totals, total_records), merge_columns(self._layers, layer_records),
                           longest_error)
            totals, layers = table(self._totals, total_records), table(self._layers, layer_records)
        position = {i: n for n, i in enumerate(done)}
        first_layer = dict(zip(done, np.cumsum([0] + [len(batch[i].layers) for i in done]).tolist()))
        for index, point in batch.items():
            offset, count = self._layer_rows[index]
            rows = {"error": np.array(point.error, dtype=self._row["error"][1]).tobytes(),
                    "timing": np.array((point.seconds, point.finished_unix_s), dtype=TIMING_DTYPE).tobytes()}
            if self._totals and point.status == "done":
                n, first = position[index], first_layer[index]
                rows["totals"], rows["layers"] = totals[n:n + 1].tobytes(), layers[first:first + count].tobytes()
            elif self._totals:  # not done: fills, whatever an earlier run left there
                rows["totals"] = filled(self._totals, 1).tobytes()
                rows["layers"] = filled(self._layers, count).tobytes()
            for name, raw in rows.items():
                self._put(name, offset if name == "layers" else index, raw)
            # sealed as repair reads the slots back (``_slots``: a string without its padding)
            rows["error"] = np.array(point.error, dtype=self._row["error"][1])[()].tobytes()
            seals[index] = _seal(STATUS[point.status], list(rows.values()))
        os.fsync(self._fd)
        for index, seal in seals.items():
            if "seal" in self._row:  # files of earlier versions have none
                self._put("seal", index, np.array(seal, dtype=SEAL_DTYPE).tobytes())
            self._put("status", index, bytes([seal[0]]))
            self._status[index] = seal[0]
        self._batch = {}

    def _put(self, dataset: str, row: int, raw: bytes) -> None:
        """``raw`` over the rows of ``dataset`` from ``row`` on."""
        if raw:
            offset, dtype = self._row[dataset]
            os.pwrite(self._fd, raw, offset + row * dtype.itemsize)

    def _identity(self, index: int, total: dict) -> dict:
        row = self.points[index]
        out = {name: row[name].decode() for name in ("hardware", "base", "workload")}
        out["batch"] = int(row["batch"])
        if self._axes is not None:
            axes = self._axes[index]
            for name in axes.dtype.names:
                value = axes[name]
                value = value.decode() if isinstance(value, bytes) else value.item()
                out[f"axis.{name}" if name in total or name in out else name] = value
        return out

    def _relayout(self, totals: list[Column], layers: list[Column], longest_error: int) -> None:
        """Write the file anew (beside it, then renamed over it) in these columns and a wide enough
        error field, with what it stores converted."""
        with _open(self.path) as f:
            attrs, datasets = _read_all(f)
        stored = datasets["status"] == STATUS["done"]
        if totals:  # result tables exist once a point is done
            datasets["totals"] = _converted(datasets.get("totals"), totals, stored)
            datasets["layers"] = _converted(datasets.get("layers"), layers,
                                            np.repeat(stored, self.points["layer_count"]))
        width = max(self._row["error"][1].itemsize, -(-longest_error // STRING_QUANTUM) * STRING_QUANTUM)
        datasets["error"] = datasets["error"].astype(f"S{width}")
        os.close(self._fd)
        self._fd = None
        _write_file(self.path, attrs, datasets)
        self._fd = _lock(self.path)
        self._read_layout()

    def close(self) -> None:
        """Write the waiting points and release the file."""
        if self._fd is None:
            return
        try:
            self.flush()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_leftovers(path: str | Path) -> None:
    """Delete the temporary file a killed relayout may have left beside ``path``."""
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    if tmp.exists():
        tmp.unlink()


# ------------------------------------------------------------ the reader


def read(path: str | Path) -> Content:
    """The whole file; status is read first, so rows a running sweep is writing stay pending."""
    path = Path(path)
    with _open(path) as f:
        attrs = {name: f.attrs[name] for name in f.attrs}
        _check_format(path, attrs)
        status = f["status"][()]
        axis_names = json.loads(attrs.get("axes", "[]"))
        return Content(
            attrs=attrs,
            spec=f["spec"].asstr()[()],
            points=f["points"][()],
            axes=f["axes"][()] if "axes" in f else None,
            axis_names=axis_names,
            json_axes=json.loads(attrs.get("json_axes", "[]")),
            config=f["config"][()],
            hardware_yaml=list(f["hardware"].asstr()[()]),
            status=status,
            error=[e.decode(errors="replace") for e in f["error"][()]],
            timing=f["timing"][()],
            totals=f["totals"][()] if "totals" in f else None,
            layers=f["layers"][()] if "layers" in f else None,
        )


# ------------------------------------------------------------ repair

_EOF_ADDRESS = slice(40, 48)  # superblock version 0 (the default format): end-of-file address


@dataclass(frozen=True)
class RepairReport:
    path: Path
    points: int
    recovered: list[int]      # stored points whose slots are intact (seal and CRC agree)
    lost: list[int]           # stored points whose slots were damaged or cut off
    unknown: list[int]        # pending, or stored with their seal cut off: run again on resume
    damaged: bool             # False: the file was intact, nothing was changed

    def summary(self) -> str:
        if not self.damaged:
            return f"{self.path}: intact, {len(self.recovered)} of {self.points} points stored; nothing to repair"
        text = f"{self.path}: repaired: {len(self.recovered)} of {self.points} points recovered"
        if self.lost:
            text += f"; lost (damaged records): points {_ranges(self.lost)}"
        if self.unknown:
            text += f"; not stored or not recoverable (pending again): points {_ranges(self.unknown)}"
        return text


def _ranges(indices: list[int]) -> str:
    out, start = [], None
    for i, n in enumerate(indices):
        if start is None:
            start = n
        if i + 1 == len(indices) or indices[i + 1] != n + 1:
            out.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ", ".join(out)


def _readable(path: Path) -> bool:
    try:
        with h5py.File(path, "r", locking=False) as f:
            for name in f:
                f[name][()]
        return True
    except Exception:  # noqa: BLE001 - any failure to read is damage
        return False


def repair(path: str | Path) -> RepairReport:
    """Recover every point of a damaged results file whose slots are intact, in place.

    A truncated file is padded back to the length its superblock records (so HDF5 opens it),
    every dataset that still reads is read, and a point is kept only if its seal (status and
    CRC-32 of its slots, written after them) agrees with the slots as read. The original is
    kept as ``FILE.damaged``; the repaired file has the same points, the recovered ones stored
    and the others pending, so ``--resume`` runs exactly those again.
    """
    import shutil
    import tempfile

    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror or err}") from None
    if not head.startswith(HDF5_SIGNATURE):
        raise _not_hdf5(path)
    if _readable(path):
        with _open(path) as f:
            _check_format(path, dict(f.attrs))
            status = f["status"][()]
        stored = [int(i) for i in np.flatnonzero(status)]
        return RepairReport(path, len(status), stored, [], [], damaged=False)
    end = int.from_bytes(head[_EOF_ADDRESS], "little")
    with tempfile.TemporaryDirectory(prefix="accelsim-repair-") as tmp:
        padded = Path(tmp) / "padded.h5"
        shutil.copyfile(path, padded)
        if 0 < end <= 2**40 and padded.stat().st_size < end:
            with open(padded, "r+b") as f:
                f.truncate(end)  # zeros where the file was cut off
        try:
            f = h5py.File(padded, "r", locking=False)
        except Exception as err:  # noqa: BLE001
            raise ConfigError(str(path), "", f"damaged beyond repair: HDF5 cannot open it even padded "
                                             f"({str(err).splitlines()[0][:120]})") from None
        with f:
            attrs = {name: f.attrs[name] for name in f.attrs}
            datasets: dict[str, Any] = {}
            for name in f:
                try:
                    ds = f[name]
                    info = h5py.check_string_dtype(ds.dtype)
                    if info is not None and info.length is None:
                        value = ds.asstr()[()]
                        datasets[name] = value if isinstance(value, str) else list(value)
                    else:
                        datasets[name] = ds[()]
                except Exception:  # noqa: BLE001 - this dataset is lost
                    continue
    if attrs.get("format") != FORMAT or "points" not in datasets:
        raise ConfigError(str(path), "", "damaged beyond repair: the point table is lost")
    points = datasets["points"]
    n = len(points)
    seals = datasets.get("seal")
    slots_ok = all(name in datasets for name in ("status", "error", "timing")) and seals is not None
    recovered, lost, unknown = [], [], []
    for i in range(n):
        seal = int(seals[i]["status"]) if seals is not None else 0
        if not slots_ok or seal == 0:
            unknown.append(i)
            continue
        try:
            good = _seal(seal, _slots(datasets, i)) == (seal, int(seals[i]["crc32"]))
        except Exception:  # noqa: BLE001 - a slot cut off
            good = False
        (recovered if good else lost).append(i)
    status = np.zeros(n, dtype="u1")
    for i in recovered:
        status[i] = int(seals[i]["status"])
    keep = np.zeros(n, dtype=bool)
    keep[recovered] = True
    fixed = {"spec": datasets.get("spec", ""), "points": points, "status": status,
             "config": datasets.get("config", np.zeros(n, dtype=[("unknown", "u1")])),
             "hardware": datasets.get("hardware", [""] * n) if isinstance(datasets.get("hardware"), list) else [""] * n,
             "timing": _kept(datasets.get("timing"), keep, np.array([(math.nan, math.nan)] * n, dtype=TIMING_DTYPE)),
             "error": _kept(datasets.get("error"), keep, np.zeros(n, dtype=f"S{STRING_QUANTUM}"))}
    if "axes" in datasets:
        fixed["axes"] = datasets["axes"]
    done = status == STATUS["done"]
    if datasets.get("totals") is not None and datasets.get("layers") is not None:
        fixed["totals"] = _converted(datasets["totals"], columns_of(datasets["totals"].dtype), done)
        fixed["layers"] = _converted(datasets["layers"], columns_of(datasets["layers"].dtype),
                                     np.repeat(done, points["layer_count"]))
    backup = path.with_name(path.name + ".damaged")
    shutil.copyfile(path, backup)
    _write_file(path, attrs, fixed)
    return RepairReport(path, n, recovered, lost, unknown, damaged=True)


def _kept(values: np.ndarray | None, keep: np.ndarray, fill: np.ndarray) -> np.ndarray:
    if values is None:
        return fill
    out = values.copy()
    out[~keep] = fill[~keep]
    return out
