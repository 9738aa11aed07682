"""Strict construction of frozen dataclasses from plain data (validate, then build).

Each config dataclass declares its fields with :func:`spec`, which attaches the
value check and the words used in error messages. The same checks run when an
object is built in Python (``__post_init__``) and when it is built from YAML
(:func:`build`), so a sweep that sets ``array.rows = 0`` fails exactly like a
file that says so.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import math
import types
import typing
from dataclasses import MISSING
from typing import Any, Callable, Iterator, Mapping

from accelsim.errors import ConfigError, describe, expected

PYTHON = "<python>"


@dataclasses.dataclass(frozen=True)
class Check:
    """A predicate on a field's value, with the phrase for "expected ...": errors.

    ``maximum`` is the field's documented upper bound (docs/hardware.md, docs/workloads.md:
    the tables there are generated from these checks): a value that passes ``ok`` but exceeds
    it is reported as "expected at most ...". ``json`` is the check in JSON Schema terms.
    """

    what: str
    ok: Callable[[Any], bool]
    maximum: int | float | None = None
    json: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    unit: str = ""  # of the bound: " characters" for strings

    def within(self, value: Any) -> bool:
        """The bound, on a number or a string's length (``ok`` judges the rest: tuples, and ``.inf``,
        which only the bandwidth allows)."""
        if isinstance(value, str):
            value = len(value)
        if self.maximum is None or not isinstance(value, (int, float)):
            return True
        return value <= self.maximum or value == math.inf


# Documented upper bounds. A value beyond one cannot be simulated in reasonable memory and time
# (sizes multiply into fold tables, DMA chunks and cycle counts) or makes later arithmetic
# overflow. Each is far beyond any real design or network.
MAX_CLOCK_MHZ = 100_000            # 100 GHz
MAX_ARRAY_SIDE = 16_384            # PE rows or columns
MAX_ELEMENT_BYTES = 16             # bytes per input, weight, partial sum or output element
MAX_BUFFER_KIB = 2**24             # 16 GiB per buffer
MAX_DRAM_GB_PER_S = 1_000_000      # finite peak bandwidth (.inf: an ideal memory)
MAX_DRAM_LATENCY_NS = 1_000_000    # 1 ms
MAX_BURST_BYTES = 2**20
MAX_CHANNELS = 1_024
MAX_OUTSTANDING = 2**20
MAX_DMA_ENGINES = 1_024
MAX_CORES = 64                     # cores on one chip (each an array with its own buffers)
MAX_SETUP_CYCLES = 1_000_000
MAX_CHUNK_BYTES = 2**30
MAX_VECTOR_ELEMENTS = 2**20        # vector unit elements per cycle
MAX_OVERHEAD_CYCLES = 10**9        # per layer
MAX_ENERGY_PJ = 1_000_000          # per MAC or per byte
MAX_STATIC_MW = 10**9              # 1 MW
MAX_AREA_MM2 = 1_000_000
MAX_COST_USD = 10**12
MAX_NAME_CHARS = 1_000             # design, workload and layer names
MAX_BATCH = 65_536
MAX_SPATIAL = 65_536               # H, W, R, S, strides, dilations, padding
MAX_CHANNELS_PER_LAYER = 2**20     # C, K, groups
MAX_GEMM_DIM = 2**24               # M, N, K, in_features, out_features
MAX_GEMM_COUNT = 65_536            # GEMM instances per sample
MAX_NONGEMM_OPS = 2**40            # element operations per sample
MAX_LAYERS = 100_000               # layers per workload


def positive_int(maximum: int | None = None) -> Check:
    return Check("a positive integer", lambda v: v > 0, maximum, {"type": "integer", "minimum": 1})


def non_negative_int(maximum: int | None = None) -> Check:
    return Check("a non-negative integer", lambda v: v >= 0, maximum, {"type": "integer", "minimum": 0})


def positive_number(maximum: float | None = None) -> Check:
    """Positive, ``.inf`` included (documented where a field allows it: an ideal memory)."""
    return Check("a positive number", lambda v: v > 0 and not math.isnan(v), maximum,
                 {"type": "number", "exclusiveMinimum": 0})


def finite_positive_number(maximum: float | None = None) -> Check:
    return Check("a finite positive number", lambda v: 0 < v < math.inf, maximum,
                 {"type": "number", "exclusiveMinimum": 0})


def non_negative_number(maximum: float | None = None) -> Check:
    """Finite and non-negative (energies, power, latency: an infinite one cannot be reported)."""
    return Check("a finite non-negative number", lambda v: 0 <= v < math.inf, maximum,
                 {"type": "number", "minimum": 0})


def fraction() -> Check:
    return Check("a number in (0, 1]", lambda v: 0 < v <= 1, None,
                 {"type": "number", "exclusiveMinimum": 0, "maximum": 1})


def non_empty_string(maximum: int | None = MAX_NAME_CHARS) -> Check:
    return Check("a non-empty string", lambda v: bool(v.strip()), maximum, {"type": "string", "minLength": 1},
                 " characters")


def bound_phrase(check: Check) -> str:
    """The "expected ..." phrase with the bound, for documentation."""
    return check.what if check.maximum is None else f"{check.what}, at most {check.maximum:,}{check.unit}"


def spec(check: Check | None = None, *, default: Any = MISSING, doc: str = "",
         parse: Callable[[Any, str], Any] | None = None) -> Any:
    """Declare a validated field.

    ``parse(value, what_path)`` converts a YAML value (for example ``stride: 2``
    to ``(2, 2)``); it raises ``ValueError(expected-phrase)`` on bad input.
    """
    metadata = {"check": check, "doc": doc, "parse": parse}
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable default")
    if default is MISSING:
        return dataclasses.field(metadata=metadata)
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: default, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class FrozenMap(Mapping):
    """An immutable, hashable mapping: the value of a ``Mapping[str, X]`` field (a YAML mapping
    of names to values), so that config objects stay frozen and hashable. Equal to any mapping
    with the same items; keeps the order it was given."""

    __slots__ = ("_items", "_index")

    def __init__(self, items: Mapping | Any = ()):
        pairs = tuple((items.items() if isinstance(items, Mapping) else items))
        self._items = tuple((k, v) for k, v in pairs)
        self._index = dict(self._items)

    def __getitem__(self, key: Any) -> Any:
        return self._index[key]

    def __iter__(self) -> Iterator:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __hash__(self) -> int:
        return hash(frozenset(self._items))

    def __repr__(self) -> str:
        return f"FrozenMap({self._index!r})"


class Validated:
    """Mixin: check every declared field on construction, then ``validate()``."""

    def __post_init__(self) -> None:
        for f, tp, is_mapping, passes in _plan(type(self)):
            value = getattr(self, f.name)
            if is_mapping and isinstance(value, Mapping) and not isinstance(value, FrozenMap):
                value = FrozenMap(value)  # a dict given in Python: frozen like one read from YAML
                object.__setattr__(self, f.name, value)
            if passes is None or not passes(value):
                _check_value(tp, f, value, PYTHON, f.name)  # raises the error, or checks what passes cannot
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; raise ``ConfigError(PYTHON, field, message)``."""


@functools.cache
def _plan(cls: type) -> tuple:
    """Per field of ``cls``: the field, its type, whether it is a mapping, and a quick test that
    passes exactly the values :func:`_check_value` accepts (None: ask it). Layers are made by the
    hundred while a schedule is built (a core's share of each), so the type analysis is done once
    per class."""
    hints = field_types(cls)
    plan = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        inner = _optional_inner(tp)
        base = inner or tp
        plan.append((f, tp, _mapping_value(base) is not None, _quick_check(base, inner is not None, f)))
    return tuple(plan)


def _quick_check(tp: Any, optional: bool, f: dataclasses.Field) -> Callable[[Any], bool] | None:
    """:func:`_check_value` as a predicate, for the field types that are neither lists nor mappings."""
    if _list_item(tp) is not None or _mapping_value(tp) is not None:
        return None
    check: Check | None = f.metadata.get("check")
    if dataclasses.is_dataclass(tp) or isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda value: value is None and optional or isinstance(value, tp)
    if check is None:
        return lambda value: value is None and optional or _type_ok(tp, value)
    return lambda value: value is None and optional or _type_ok(tp, value) and check.ok(value) and check.within(value)


@functools.cache
def _init_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The fields a YAML mapping may set, by name (read once per class)."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of ``cls`` (its annotations are strings: resolving them
    compiles each one, so it is done once per class)."""
    return typing.get_type_hints(cls)


@functools.cache  # a handful of field types, asked about for every value read
def _optional_inner(tp: Any) -> Any | None:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


@functools.cache  # a handful of field types, asked about for every value read
def _list_item(tp: Any) -> Any | None:
    """``X`` for ``tuple[X, ...]`` (a YAML list of X), else None."""
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


@functools.cache  # a handful of field types, asked about for every value read
def _mapping_value(tp: Any) -> Any | None:
    """``X`` for ``Mapping[str, X]`` (a YAML mapping of names to X), else None."""
    if typing.get_origin(tp) is collections.abc.Mapping:
        args = typing.get_args(tp)
        if len(args) == 2 and args[0] is str:
            return args[1]
    return None


def mapping_phrase(tp: Any, check: Check | None) -> str:
    """The "expected ..." phrase of a ``Mapping[str, X]`` field; its check applies to each value."""
    return "a mapping of names to values, each " + type_phrase(_mapping_value(tp), check)


def type_phrase(tp: Any, check: Check | None) -> str:
    """The "expected ..." phrase for a field of type ``tp``."""
    if _mapping_value(_optional_inner(tp) or tp) is not None:
        phrase = mapping_phrase(_optional_inner(tp) or tp, check)
        return phrase + (" or null" if _optional_inner(tp) is not None else "")
    if check is not None:
        return check.what
    inner = _optional_inner(tp)
    if inner is not None:
        return type_phrase(inner, None) + " or null"
    item = _list_item(tp)
    if item is not None:
        return "a list of " + ("mappings" if dataclasses.is_dataclass(item) else type_phrase(item, None))
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return str(tp)


def _type_ok(tp: Any, value: Any) -> bool:
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    return True


def _check_value(tp: Any, f: dataclasses.Field, value: Any, source: str, path: str) -> None:
    check: Check | None = f.metadata.get("check")
    inner = _optional_inner(tp)
    if inner is not None:
        if value is None:
            return
        tp = inner
    item = _list_item(tp)
    if item is not None:
        if not isinstance(value, tuple) or not all(isinstance(v, item) for v in value):
            raise expected(source, path, type_phrase(tp, None), value)
        if check is not None and not check.ok(value):
            raise expected(source, path, check.what, value)
        return
    value_tp = _mapping_value(tp)
    if value_tp is not None:
        if not isinstance(value, Mapping):
            raise expected(source, path, mapping_phrase(tp, check), value)
        for key, v in value.items():
            if not isinstance(key, str) or not key.strip():
                raise expected(source, path, "a mapping whose keys are non-empty names", key)
            if not _type_ok(value_tp, v) or (check is not None and not check.ok(v)):
                raise expected(source, f"{path}.{key}", type_phrase(value_tp, check), v)
        return
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, tp):
            raise expected(source, path, f"a {tp.__name__}", value)
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if not isinstance(value, tp):
            raise expected(source, path, type_phrase(tp, check), value)
        return
    if not _type_ok(tp, value):
        raise expected(source, path, type_phrase(tp, check), value)
    if check is not None and not check.ok(value):
        raise expected(source, path, check.what, value)
    if check is not None and not check.within(value):
        shown = f"{len(value):,} characters" if isinstance(value, str) else describe(value)
        raise ConfigError(source, path, f"expected at most {check.maximum:,}{check.unit} (the documented bound), "
                                        f"got {shown}")


def build(cls: type, data: Any, source: str, path: str = "") -> Any:
    """Build ``cls`` from a mapping, strictly: unknown, missing or mistyped keys are errors."""
    if not isinstance(data, Mapping):
        raise expected(source, path, "a mapping", data)
    hints = field_types(cls)
    fields = _init_fields(cls)
    for key in data:
        if key not in fields:
            where = _join(path, str(key))
            allowed = ", ".join(fields)
            raise ConfigError(source, where, f"unknown key, expected one of: {allowed}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        where = _join(path, name)
        tp = hints[name]
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                phrase = type_phrase(tp, f.metadata.get("check"))
                raise ConfigError(source, where, f"missing required key, expected {phrase}")
            continue
        kwargs[name] = convert(tp, f, data[name], source, where)
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise err.relocated(source, path) from None


def convert(tp: Any, f: dataclasses.Field, value: Any, source: str, path: str) -> Any:
    """Turn one YAML value into the field's Python value, or raise ConfigError."""
    parse = f.metadata.get("parse")
    if parse is not None:
        try:
            return parse(value)
        except ValueError as err:
            raise expected(source, path, str(err), value) from None
    inner = _optional_inner(tp)
    if inner is not None:
        if value is None:
            return None
        tp = inner
    item = _list_item(tp)
    if item is not None:
        check = f.metadata.get("check")
        if not isinstance(value, list):
            raise expected(source, path, type_phrase(tp, check), value)
        items = tuple(_convert_one(item, v, source, f"{path}[{i}]") for i, v in enumerate(value))
        if check is not None and not check.ok(items):
            raise expected(source, path, check.what, value)
        return items
    value_tp = _mapping_value(tp)
    if value_tp is not None:  # the field's check applies to each value
        if not isinstance(value, Mapping):
            raise expected(source, path, mapping_phrase(tp, f.metadata.get("check")), value)
        for key in value:
            if not isinstance(key, str) or not key.strip():
                raise expected(source, path, "a mapping whose keys are non-empty names", key)
        return FrozenMap((key, _convert_one(value_tp, v, source, f"{path}.{key}", f)) for key, v in value.items())
    return _convert_one(tp, value, source, path, f)


def _convert_one(tp: Any, value: Any, source: str, path: str, f: dataclasses.Field | None = None) -> Any:
    if dataclasses.is_dataclass(tp):
        return build(tp, value, source, path)
    check = f.metadata.get("check") if f is not None else None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if value == member.value:
                return member
        raise expected(source, path, type_phrase(tp, check), value)
    if f is not None:
        _check_value(tp, f, value, source, path)  # on the value as written, so errors echo it
    elif not _type_ok(tp, value):
        raise expected(source, path, type_phrase(tp, None), value)
    return float(value) if tp is float else value


def to_data(obj: Any) -> Any:
    """The plain-data (YAML/JSON-able) form of a config object; ``build`` inverts it."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, tuple):
        return [to_data(v) for v in obj]
    if isinstance(obj, FrozenMap):
        return {k: to_data(v) for k, v in obj.items()}
    return obj


def field_docs(cls: type, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted path, expected phrase with its bound, default, doc) for every field, for the docs.

    A list of sections (``tuple[BufferConfig, ...]``) is ``path`` and its items ``path[].field``.
    """
    rows = []
    hints = field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        path = _join(prefix, f.name)
        inner = _optional_inner(tp) or tp
        item = _list_item(inner)
        null = " or null" if inner is not tp else ""
        if dataclasses.is_dataclass(inner):
            rows.append((path, "a mapping" + null, _default_text(f), f.metadata.get("doc", "")))
            rows.extend(field_docs(inner, path))
            continue
        if item is not None and dataclasses.is_dataclass(item):
            rows.append((path, "a list of mappings" + null, _default_text(f), f.metadata.get("doc", "")))
            rows.extend(field_docs(item, path + "[]"))
            continue
        check = f.metadata.get("check")
        expected = bound_phrase(check) if check is not None else type_phrase(tp, None)
        if check is not None and _mapping_value(inner) is not None:
            expected = "a mapping of names to values, each " + expected + null
        rows.append((path, expected, _default_text(f), f.metadata.get("doc", "")))
    return rows


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not MISSING:
        value = to_data(f.default)
        if isinstance(value, list):
            return "[" + ", ".join(describe(v) for v in value) + "]"
        return describe(value) if value is not None else "null"
    if f.default_factory is not MISSING:
        return "(section defaults)"
    return "required"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# ---------------------------------------------------------------- JSON Schema

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema_of(cls: type) -> dict[str, Any]:
    """The JSON Schema of a config dataclass, walked from the same field specs ``build`` checks.

    Types, enums, nested sections, optional (null) sections and lists of sections
    (``tuple[X, ...]``), with each field's bound, default and documentation, so an editor
    validates a file the way the loader will. Rules between fields (``validate()``) are not
    expressible here and stay the loader's.
    """
    properties: dict[str, Any] = {}
    required = []
    hints = field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        prop = _json_type(hints[f.name], f.metadata.get("check"))
        doc = f.metadata.get("doc", "")
        check = f.metadata.get("check")
        if check is not None:
            doc = f"{doc} ({bound_phrase(check)})" if doc else bound_phrase(check)
        if doc:
            prop["description"] = doc
        if f.default is not MISSING:
            prop["default"] = to_data(f.default)
        elif f.default_factory is MISSING:
            required.append(f.name)
        properties[f.name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _json_type(tp: Any, check: Check | None) -> dict[str, Any]:
    inner = _optional_inner(tp)
    if inner is not None:
        return {"anyOf": [_json_type(inner, check), {"type": "null"}]}
    item = _list_item(tp)
    if item is not None:
        return {"type": "array", "items": _json_type(item, None)}
    value = _mapping_value(tp)
    if value is not None:  # names to values, the check on each value
        return {"type": "object", "additionalProperties": _json_type(value, check)}
    if dataclasses.is_dataclass(tp):
        return json_schema_of(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    out: dict[str, Any] = {bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"},
                           str: {"type": "string"}}.get(tp, {})
    if check is not None:
        out = {**out, **check.json}
        if check.maximum is not None and "anyOf" not in out:
            key = "maxLength" if out.get("type") == "string" else "maximum"
            infinite = out.get("type") == "number" and check.ok(math.inf)  # .inf allowed (an ideal memory)
            if not infinite:
                out[key] = check.maximum
    return out
