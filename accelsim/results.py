"""Stored sweep results as tables: ``accelsim.results.load("results.h5")``.

Tables are numpy structured arrays, or pandas DataFrames when pandas is installed (pandas is
not a dependency). Their columns come from the file, so fields added to the result records
show up here without a change. Schema: docs/results.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from accelsim.reports.store import Content

IDENTITY = ("point", "key", "base", "hardware", "workload", "batch")


@dataclass(frozen=True)
class Results:
    """A sweep's results.

    ``points``: every point (identity, axes, ``status``: done, failed, error or pending,
    ``error``: the message, ``seconds``: simulation time); ``totals``: one row per done point
    (identity, axes, the run's totals); ``layers``: one row per layer of every done point
    (``point``, ``layer``: position in the workload, the layer's record); ``config``: the
    resolved hwconfig of every point, flattened (``array.rows``, ``sram.input.size_kib``, ...).
    """

    path: Path
    points: Any
    totals: Any
    layers: Any
    config: Any
    axes: tuple[str, ...]          # the swept dotted paths, in spec order
    hardware_yaml: tuple[str, ...]  # the resolved hwconfig of every point, as YAML text
    spec: str                      # the spec the sweep was made from, as written
    model: str
    accelsim_version: str
    schema_version: int

    def count(self, status: str) -> int:
        return int(sum(1 for s in self.points["status"] if s == status))


def _decoded(values: np.ndarray) -> np.ndarray:
    return np.char.decode(values, "utf-8") if values.dtype.kind == "S" else values


def _columns(array: np.ndarray | None, rows: np.ndarray) -> dict[str, np.ndarray]:
    if array is None:
        return {}
    return {name: _decoded(array[name][rows]) for name in array.dtype.names}


def _axis_columns(content: "Content", rows: np.ndarray, taken: set[str]) -> dict[str, np.ndarray]:
    """Axis values under their dotted path (``axis.<path>`` if a result column has that name)."""
    out = {}
    for name in content.axis_names:
        values = _decoded(content.axes[name][rows])
        if name in content.json_axes:  # values that are not scalars (a whole section) are JSON text
            parsed = np.empty(len(values), dtype=object)
            for i, text in enumerate(values):
                parsed[i] = json.loads(text)
            values = parsed
        out[f"axis.{name}" if name in taken else name] = values
    return out


def _table(columns: dict[str, np.ndarray], n: int, as_pandas: bool) -> Any:
    if as_pandas:
        import pandas as pd

        return pd.DataFrame(columns, index=pd.RangeIndex(n))
    dtype = np.dtype([(name, values.dtype) for name, values in columns.items()])
    out = np.empty(n, dtype=dtype)
    for name, values in columns.items():
        out[name] = values
    return out


def _pandas_available() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def load(path: str | Path, as_pandas: bool | None = None) -> Results:
    """Read a results file; ``as_pandas`` None means DataFrames if pandas is installed."""
    from accelsim.reports.store import STATUS, STATUS_NAMES, read  # h5py only when results are read

    content = read(path)
    as_pandas = _pandas_available() if as_pandas is None else as_pandas
    n = len(content.status)
    everyone = np.arange(n)
    done = np.flatnonzero(content.status == STATUS["done"])

    def identity(rows: np.ndarray) -> dict[str, np.ndarray]:
        points = content.points
        return {"point": points["index"][rows], "key": _decoded(points["key"][rows]),
                "base": _decoded(points["base"][rows]), "hardware": _decoded(points["hardware"][rows]),
                "workload": _decoded(points["workload"][rows]), "batch": points["batch"][rows]}

    point_columns = identity(everyone)
    point_columns.update(_axis_columns(content, everyone, set(point_columns) | {"status", "error", "seconds"}))
    point_columns["status"] = np.array([STATUS_NAMES[int(s)] for s in content.status], dtype="U7")
    point_columns["error"] = np.array(content.error, dtype=f"U{max([1, *map(len, content.error)])}")
    point_columns["seconds"] = content.timing["seconds"]

    total_results = _columns(content.totals, done)
    total_columns = identity(done)
    axes = _axis_columns(content, done, set(total_columns) | {n for n in total_results if n not in content.axis_names})
    total_columns.update(axes)
    # the file's totals repeat the identity and axes (so the table reads on its own); keep the typed ones
    total_columns.update({name: values for name, values in total_results.items() if name not in total_columns})

    counts = content.points["layer_count"][done]
    offsets = content.points["layer_offset"][done]
    rows = np.concatenate([np.arange(o, o + c) for o, c in zip(offsets, counts)]) if len(done) else \
        np.zeros(0, dtype=int)
    layer_columns = {"point": np.repeat(content.points["index"][done], counts),
                     "layer": np.concatenate([np.arange(c) for c in counts]) if len(done) else
                     np.zeros(0, dtype="<i8")}
    layer_columns.update(_columns(content.layers, rows))

    config_columns = {"point": content.points["index"]}
    config_columns.update(_columns(content.config, everyone))

    return Results(
        path=Path(path),
        points=_table(point_columns, n, as_pandas),
        totals=_table(total_columns, len(done), as_pandas),
        layers=_table(layer_columns, len(rows), as_pandas),
        config=_table(config_columns, n, as_pandas),
        axes=tuple(content.axis_names),
        hardware_yaml=tuple(content.hardware_yaml),
        spec=content.spec,
        model=str(content.attrs.get("model", "")),
        accelsim_version=str(content.attrs.get("accelsim_version", "")),
        schema_version=int(content.attrs["schema_version"]),
    )
