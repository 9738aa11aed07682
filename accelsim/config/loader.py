"""Files -> config objects. The only module that reads YAML.

Load, validate, then build: every problem is reported at load time as one
line naming the file, the dotted path, the bad value and what was expected.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import yaml

from accelsim.config import catalog
from accelsim.config.hardware import Hardware
from accelsim.config.memory import DataKind
from accelsim.config.sparsity import Sparsity
from accelsim.config.schema import (
    MAX_CHANNELS_PER_LAYER,
    MAX_GEMM_DIM,
    MAX_NONGEMM_OPS,
    MAX_SPATIAL,
    PYTHON,
    FrozenMap,
    build,
    non_empty_string,
    non_negative_int,
    positive_int,
    spec,
    to_data,
)
from accelsim.config.dims import dim_sizes, substitute
from accelsim.config.workload import (
    Concat,
    Conv2d,
    Gemm,
    Layer,
    NetworkInput,
    NonGemm,
    Phase,
    StateTensor,
    Workload,
    _padding_check,
    _pair_check,
    inputs_spec,
    names_text,
    parse_pair,
    parse_padding,
)
from accelsim.config.schema import Validated
from accelsim.errors import ConfigError, describe, expected


# Bounds on any text file accelsim reads (documented in docs/hardware.md, "Input limits").
MAX_FILE_BYTES = 16 * 2**20       # YAML, CSV, JSON and .cfg files
MAX_YAML_DEPTH = 64               # nested collections
MAX_YAML_ALIASES = 1_000          # *alias references
MAX_YAML_NODES = 1_000_000        # values after aliases are expanded ("billion laughs")
MAX_NUMBER_DIGITS = 40            # digits of one integer literal

_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
         b"\xfe\xff": "UTF-16"}


def read_text(path: str | Path, what: str = "text") -> str:
    """A text file as UTF-8 (with or without a byte-order mark), at most ``MAX_FILE_BYTES``.

    Anything else (a directory, Latin-1, UTF-16, a binary file, a huge file) is one ConfigError.
    """
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ConfigError(source, "", f"cannot read: {err.strerror or err}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(source, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB, the bound for a {what} file")
    for bom, encoding in _BOMS.items():
        if data.startswith(bom):
            raise ConfigError(source, "", f"{encoding} text, expected UTF-8: save the file as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ConfigError(source, "", f"not UTF-8 text (byte 0x{data[err.start]:02x} on line {line}), "
                                      f"expected UTF-8: save the file as UTF-8") from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars, bounded nesting and aliases, no repeated keys.

    PyYAML follows YAML 1.1, which silently changes values: ``010`` is 8 (octal), ``1:40`` is 100
    (base 60), ``yes`` is true, ``2024-05-02`` a date. Under the 1.2 core schema used here
    ``010`` is 10, ``0o10`` is 8, ``0x10`` is 16, and ``1:40``, ``yes``, ``1_000`` and dates are
    strings, which the field checks then reject. Only the core types are constructed (no
    ``!!binary``, ``!!set``, ``!!timestamp``, no ``<<`` merge keys).
    """

    yaml_implicit_resolvers: dict = {}
    yaml_constructors = {tag: f for tag, f in yaml.SafeLoader.yaml_constructors.items()
                         if tag is None or tag.rpartition(":")[2] in ("null", "bool", "int", "float", "str",
                                                                      "seq", "map")}

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_YAML_ALIASES:,} aliases",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                              self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:
    class _ShippedLoader(yaml.cyaml.CParser, _StrictLoader):
        """The strict loader's schema and constructors on libyaml's parser and composer (~2x faster
        than composing in Python), for the shipped files: ``accelsim run`` reads two at every start.
        libyaml's composer does not bound nesting or aliases, which only a hostile file needs and
        the shipped ones are not; tests/config checks that both loaders read every shipped file
        alike. Other files keep PyYAML's own parser, whose messages the errors quote."""

        def __init__(self, stream: str):
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:
    _ShippedLoader = _StrictLoader


def _resolve(tag: str, pattern: str, first: str) -> None:
    _StrictLoader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern, re.X), list(first))


# The YAML 1.2 core schema (yaml.org/spec/1.2.2, 10.3.2).
_resolve("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_resolve("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolve("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolve("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")


def _int(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    digits = text.lstrip("+-")
    if len(digits) > MAX_NUMBER_DIGITS:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(digits):,} digits (at most "
                                                            f"{MAX_NUMBER_DIGITS})", node.start_mark)
    sign = -1 if text.startswith("-") else 1
    if digits.startswith(("0o", "0x")):
        return sign * int(digits[2:], 8 if digits[1] == "o" else 16)
    return sign * int(digits, 10)  # 010 is 10: YAML 1.2 has no implicit octal


def _float(loader: _StrictLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.lstrip("+-") == ".inf":
        return -math.inf if text.startswith("-") else math.inf
    return math.nan if text == ".nan" else float(text)


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """Keys are scalars and appear once (PyYAML silently keeps the last of a repeated key)."""
    seen: set = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(None, None, "a list or mapping used as a key, expected a name",
                                                    key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"repeated key {describe(key)}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _float)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _measure(node: yaml.Node, limit: int) -> tuple[int, int, int]:
    """The document's values once aliases are expanded (shared nodes counted at every use; at
    most ``limit + 1``), its deepest nesting (a top-level value is at 1) and its aliases (every
    use of a node after its first), in one walk in document order."""
    sizes: dict[int, int] = {}  # id -> expanded values, once measured
    depth_of: dict[int, int] = {}  # id -> depth, once seen
    deepest = aliases = 0
    stack: list = [(node, 1, None)]  # (node, depth, its children once they are on the stack)
    while stack:
        current, depth, children = stack.pop()
        if children is not None:  # its children are measured
            sizes[id(current)] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
            continue
        if id(current) in depth_of:  # an alias: the node it names came earlier, and is measured
            aliases += 1
            continue
        depth_of[id(current)] = depth
        if depth > deepest:
            deepest = depth
        if isinstance(current, yaml.ScalarNode):
            sizes[id(current)] = 1
            continue
        children = [c for pair in current.value for c in pair] if isinstance(current, yaml.MappingNode) \
            else current.value
        stack.append((current, depth, children))
        stack.extend([(c, depth + 1, None) for c in reversed(children)])
    return sizes[id(node)], deepest, aliases


def parse_yaml(text: str, source: str, shipped: bool = False) -> Any:
    """YAML text -> plain data, strictly (1.2 core schema, bounded); problems are one-line ConfigErrors.

    ``shipped``: a shipped file's text, read with libyaml's parser and composer
    (``_ShippedLoader``), whose nesting and aliases are bounded here, after composing, instead of
    while composing (the other files' errors name the line).
    """
    loader = None
    try:
        loader = (_ShippedLoader if shipped else _StrictLoader)(text)  # its reader refuses control characters
        node = loader.get_single_node()
        if node is None:
            return None
        size, deepest, aliases = _measure(node, MAX_YAML_NODES)
        for value, bound, what in ((deepest, MAX_YAML_DEPTH, f"nested more than {MAX_YAML_DEPTH} levels deep"),
                                   (aliases, MAX_YAML_ALIASES, f"more than {MAX_YAML_ALIASES:,} aliases"),
                                   (size, MAX_YAML_NODES, f"more than {MAX_YAML_NODES:,} values once aliases "
                                                          f"are expanded")):
            if value > bound:
                raise ConfigError(source, "", f"not valid YAML: {what}")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        problem = (err.problem or err.context or "").splitlines()[0] if (err.problem or err.context) else ""
        raise ConfigError(source, "", f"not valid YAML: {where}{problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(source, "", f"not valid YAML: {str(err).splitlines()[0] if str(err) else ''}") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path) -> Any:
    """Parse a YAML file strictly (``parse_yaml``); every problem is one line."""
    shipped = Path(path).resolve().parent in {catalog.shipped_dir("hwconfigs"), catalog.shipped_dir("workloads")}
    return parse_yaml(read_text(path, "YAML"), str(path), shipped)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's dumper when PyYAML has it (same text, ~5x faster: sweeps dump one config per point),
    quoting every string that either YAML 1.1 or 1.2 would read as something else (``0o10``)."""


for _first, _resolvers in _StrictLoader.yaml_implicit_resolvers.items():
    for _tag, _pattern in _resolvers:
        _Dumper.add_implicit_resolver(_tag, _pattern, [_first])


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=100)


# ---------------------------------------------------------------- hardware


def hardware_from_data(data: Any, source: str) -> Hardware:
    return build(Hardware, data, source)


def load_hardware(name_or_path: str | Path) -> Hardware:
    """A shipped name (``tpu_v1``), a hwconfig YAML, or a SCALE-Sim ``.cfg``."""
    path = catalog.resolve("hwconfigs", name_or_path)
    if path.suffix == ".cfg":
        from accelsim.config.scalesim import load_scalesim_cfg

        return load_scalesim_cfg(path)
    return hardware_from_data(read_yaml(path), str(path))


def hardware_to_yaml(hw: Hardware, data: dict | None = None) -> str:
    """The resolved hwconfig as YAML text; ``load_hardware`` reads it back unchanged (``data``:
    ``to_data(hw)``, when the caller has made it)."""
    return dump_yaml(to_data(hw) if data is None else data)


# ---------------------------------------------------------------- workloads


@dataclass(frozen=True)
class _FcSpec(Validated):
    name: str = spec(non_empty_string())
    in_features: int = spec(positive_int(MAX_GEMM_DIM))
    out_features: int = spec(positive_int(MAX_GEMM_DIM))
    inputs: tuple[str, ...] | None = inputs_spec()

    def layer(self) -> Gemm:
        return Gemm(name=self.name, M=1, K=self.in_features, N=self.out_features, inputs=self.inputs)


@dataclass(frozen=True)
class _PoolSpec(Validated):
    name: str = spec(non_empty_string())
    op: str = spec(non_empty_string(), doc="max or avg")
    H: int = spec(positive_int(MAX_SPATIAL))
    W: int = spec(positive_int(MAX_SPATIAL))
    C: int = spec(positive_int(MAX_CHANNELS_PER_LAYER))
    R: int = spec(positive_int(MAX_SPATIAL))
    S: int = spec(positive_int(MAX_SPATIAL))
    stride: tuple[int, int] = spec(_pair_check(), default=(1, 1), parse=parse_pair)
    padding: tuple[int, int, int, int] = spec(_padding_check(), default=(0, 0, 0, 0), parse=parse_padding)
    inputs: tuple[str, ...] | None = inputs_spec()

    def layer(self) -> NonGemm:
        if self.inputs is not None and len(self.inputs) != 1:
            raise ConfigError(PYTHON, "inputs", f"expected one tensor name for a pool, got {names_text(self.inputs)}")
        # A pooling window is a depthwise conv without weights: reuse its shape rules.
        shape = Conv2d(name=self.name, H=self.H, W=self.W, C=self.C, K=self.C, R=self.R, S=self.S,
                       stride=self.stride, padding=self.padding, groups=self.C)
        return NonGemm(name=self.name, op=f"{self.op}pool", ops=shape.P * shape.Q * self.C * self.R * self.S,
                       inputs=self.inputs, input_shape=(self.H, self.W, self.C), shape=(shape.P, shape.Q, self.C))


@dataclass(frozen=True)
class _EltwiseSpec(Validated):
    name: str = spec(non_empty_string())
    op: str = spec(non_empty_string(), doc="add, mul, relu, ...")
    elements: int | None = spec(non_negative_int(MAX_NONGEMM_OPS), default=None,
                                doc="output elements per sample (default, with inputs: its first input's)")
    inputs: tuple[str, ...] | None = inputs_spec()

    def layer(self) -> NonGemm:
        if self.elements is None and self.inputs is None:
            raise ConfigError(PYTHON, "elements", "missing required key, expected a non-negative integer "
                                                  "(it may be left out when inputs are given)")
        # every input must hold `elements` values; left out, the loader infers it from the graph
        return NonGemm(name=self.name, op=self.op, ops=self.elements or 0, inputs=self.inputs,
                       input_shape=(self.elements,) if self.elements else None)


def _direct(cls: type) -> Callable[[dict, str, str], Layer]:
    return lambda data, source, path: build(cls, data, source, path)


def _via(cls: type) -> Callable[[dict, str, str], Layer]:
    def make(data: dict, source: str, path: str) -> Layer:
        spec_ = build(cls, data, source, path)
        try:
            return spec_.layer()
        except ConfigError as err:
            raise err.relocated(source, path) from None

    return make


LAYER_TYPES: dict[str, Callable[[dict, str, str], Layer]] = {
    "conv2d": _direct(Conv2d),
    "gemm": _direct(Gemm),
    "fc": _via(_FcSpec),
    "pool": _via(_PoolSpec),
    "eltwise": _via(_EltwiseSpec),
    "nongemm": _direct(NonGemm),
    "concat": _direct(Concat),
}


# The class each layer type's YAML mapping is built as (its fields' types say which hold integers).
_LAYER_CLASSES: dict[str, type] = {"conv2d": Conv2d, "gemm": Gemm, "fc": _FcSpec, "pool": _PoolSpec,
                                   "eltwise": _EltwiseSpec, "nongemm": NonGemm, "concat": Concat}


def layer_from_data(data: Any, source: str, path: str, dims: dict[str, int] | None = None) -> Layer:
    """One layer from its YAML mapping; ``dims``: the sizes its integer fields may be written with."""
    if not isinstance(data, dict):
        raise expected(source, path, "a mapping", data)
    if "type" not in data:
        raise ConfigError(source, f"{path}.type", "missing required key, expected one of: " + ", ".join(LAYER_TYPES))
    kind = data["type"]
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise expected(source, f"{path}.type", "one of " + ", ".join(LAYER_TYPES), kind)
    fields = substitute(_LAYER_CLASSES[kind], {k: v for k, v in data.items() if k != "type"}, dims or {}, source,
                        path)
    return LAYER_TYPES[kind](fields, source, path)


def _listed(cls: type, data: dict, key: str, what: str, source: str, dims: dict[str, int]) -> tuple:
    """The ``key:`` list of ``cls`` mappings (network inputs, state tensors), built strictly."""
    items = data.get(key, [])
    if not isinstance(items, list):
        raise expected(source, key, f"a list of {what}", items)
    return tuple(build(cls, substitute(cls, item, dims, source, f"{key}[{i}]") if isinstance(item, dict) else item,
                       source, f"{key}[{i}]") for i, item in enumerate(items))


def workload_from_data(data: Any, source: str, dims: dict[str, int] | None = None) -> Workload:
    """A workload from its YAML mapping; ``dims`` sizes the dimensions it declares (``--dim``)."""
    if not isinstance(data, dict):
        raise expected(source, "", "a mapping with name, batch and layers", data)
    allowed = ("name", "batch", "phase", "dims", "inputs", "state", "sparsity", "layers")
    for key in data:
        if key not in allowed:
            raise ConfigError(source, str(key), "unknown key, expected one of: " + ", ".join(allowed))
    sizes = dim_sizes(data.get("dims"), dims, source)
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise expected(source, "layers", "a non-empty list of layers", layers_data)
    layers = [layer_from_data(item, source, f"layers[{i}]", sizes) for i, item in enumerate(layers_data)]
    inputs = _listed(NetworkInput, data, "inputs", "network inputs ({name, shape})", source, sizes)
    state = _listed(StateTensor, data, "state", "state tensors ({name, shape, appended_by})", source, sizes)
    phase = data.get("phase")
    if phase is not None and phase not in [p.value for p in Phase]:
        raise expected(source, "phase", "one of " + ", ".join(p.value for p in Phase) + " or null", phase)
    if "name" not in data:
        raise ConfigError(source, "name", "missing required key, expected a non-empty string")
    name, batch = _str_field(data, "name", source), _int_field(data, "batch", source, 1)
    sparsity = build(Sparsity, data["sparsity"], source, "sparsity") if data.get("sparsity") is not None else None

    def make() -> Workload:
        try:
            return Workload(name=name, batch=batch, layers=tuple(layers), inputs=inputs, state=state,
                            phase=Phase(phase) if phase is not None else None, dims=FrozenMap(sizes),
                            source=source, sparsity=sparsity)
        except ConfigError as err:
            raise err.relocated(source) from None

    workload = make()
    # an eltwise without `elements` holds as many as its first input, known once the graph is built
    inferred = [i for i, item in enumerate(layers_data) if item["type"] == "eltwise" and "elements" not in item]
    if not inferred:
        return workload
    for i in inferred:
        elements = workload.graph.inputs_of(i)[0].elements
        layers[i] = replace(layers[i], ops=elements, input_shape=(elements,))
    return make()


def _str_field(data: dict, key: str, source: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise expected(source, key, "a non-empty string", value)
    return value


def _int_field(data: dict, key: str, source: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise expected(source, key, "a positive integer", value)
    return value


def load_workload(name_or_path: str | Path, batch: int | None = None,
                  dims: dict[str, int] | None = None) -> Workload:
    """A shipped name (``resnet50``), a workload YAML, a SCALE-Sim topology CSV, or ONNX.

    ``dims`` sizes the dynamic dimensions of an ONNX model, or the dimensions a workload YAML
    declares (``{"seq": 128}``; accelsim.config.dims).
    """
    path = catalog.resolve("workloads", name_or_path)
    if dims and path.suffix == ".csv":
        raise ConfigError("--dim", "", f"applies to ONNX models and workloads that declare dims, got {name_or_path}")
    if path.suffix == ".csv":
        from accelsim.config.scalesim import load_scalesim_topology

        workload = load_scalesim_topology(path)
    elif path.suffix == ".onnx":
        from accelsim.importers.onnx import import_onnx

        workload = import_onnx(path, batch=batch, dims=dims)
    else:
        workload = workload_from_data(read_yaml(path), str(path), dims)
    return workload.with_batch(batch) if batch is not None else workload


def layer_to_data(layer: Layer) -> dict:
    """The YAML form of one layer (``type``, then ``inputs`` when it names them; fields left at null
    are left out); ``layer_from_data`` reads it back."""
    kind = {Conv2d: "conv2d", Gemm: "gemm", NonGemm: "nongemm", Concat: "concat"}[type(layer)]
    data = {key: value for key, value in to_data(layer).items() if value is not None}
    head = {"name": data.pop("name"), "type": kind}
    if "inputs" in data:
        head["inputs"] = data.pop("inputs")
    return {**head, **data}


def workload_to_yaml(workload: Workload) -> str:
    data: dict[str, Any] = {"name": workload.name, "batch": workload.batch}
    if workload.sparsity is not None:
        data["sparsity"] = to_data(workload.sparsity)
    if workload.phase is not None:
        data["phase"] = workload.phase.value
    if workload.dims:
        data["dims"] = to_data(workload.dims)
    if workload.inputs:
        data["inputs"] = [to_data(spec_) for spec_ in workload.inputs]
    if workload.state:
        data["state"] = [{k: v for k, v in to_data(spec_).items() if v is not None} for spec_ in workload.state]
    data["layers"] = [layer_to_data(layer) for layer in workload.layers]
    return dump_yaml(data)


def parse_override(text: str) -> tuple[str, Any]:
    """``"dram.bandwidth_gb_per_s=17"`` -> ``("dram.bandwidth_gb_per_s", 17)`` (value as YAML)."""
    if "=" not in text:
        raise ConfigError("--set", text, "expected PATH=VALUE, e.g. dram.bandwidth_gb_per_s=17")
    path, raw = text.split("=", 1)
    try:
        value = parse_yaml(raw, "--set")
    except ConfigError:
        value = raw
    return path.strip(), value


_KIND_OF_SRAM_BUFFER = {"input": DataKind.ACTIVATIONS, "weight": DataKind.WEIGHTS, "output": DataKind.PSUMS}


def _three_buffer_path(hw: Hardware, path: str, source: str) -> str:
    """``sram.weight.size_kib`` on a config written as a buffers list names the buffer that holds
    that kind (``buffers.weight_fifo.size_kib``), so sweeps written for the three-buffer form keep
    working on the list form."""
    parts = path.split(".")
    if hw.sram is not None or parts[0] != "sram" or len(parts) < 3 or parts[1] not in _KIND_OF_SRAM_BUFFER:
        return path
    level = hw.memory.buffer_for(_KIND_OF_SRAM_BUFFER[parts[1]])
    return ".".join(["buffers", level.name] + parts[2:])


def field_value(hw: Hardware, path: str, section: bool = False, data: dict | None = None) -> Any:
    """The plain-data value at a dotted hardware path, named as :func:`with_overrides` names it
    (list items by name, the three-buffer paths on a list); a whole section only if ``section``.
    A path that names no field raises ``LookupError`` with a one-line reason. ``data``:
    ``to_data(hw)``, when the caller has made it (a sweep reads each point's axes from one)."""
    node: Any = to_data(hw) if data is None else data
    parts = _three_buffer_path(hw, path, "").split(".")
    for depth, part in enumerate(parts):
        if isinstance(node, list):
            node = {item.get("name"): item for item in node if isinstance(item, dict)}
        if not isinstance(node, dict) or part not in node:
            prefix = ".".join(parts[:depth])
            raise LookupError(f"{path}: no such hardware field" + (f" ({prefix} is null)" if node is None else ""))
        node = node[part]
    if isinstance(node, (dict, list)) and not section:
        keys = node if isinstance(node, dict) else [item.get("name") for item in node if isinstance(item, dict)]
        raise LookupError(f"{path}: a section, not a field (expected one of: {', '.join(map(str, keys))})")
    return node


def with_overrides(hw: Hardware, overrides: dict[str, Any], source: str = "--set") -> Hardware:
    """A copy of ``hw`` with dotted-path fields replaced, validated like a file.

    ``{"array.rows": 64, "sram.input.size_kib": 128}``; an item of a list is named by its
    ``name`` (``buffers.unified_buffer.size_kib``), and on a config written as a buffers list
    ``sram.input`` / ``sram.weight`` / ``sram.output`` name the buffer holding activations,
    weights or partial sums. A path that names no field is an error naming it.
    """
    data = to_data(hw)
    as_written: dict[str, str] = {}  # the path an error names (buffers[1].size_kib) -> the path given
    for path, value in overrides.items():
        node = data
        parts = _three_buffer_path(hw, path, source).split(".")
        indexed: list[str] = []
        fresh = False  # inside an optional section that was absent: build() checks its keys
        for depth, part in enumerate(parts):
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):  # a list of named items: buffers.<name>
                named = {item.get("name"): i for i, item in enumerate(node) if isinstance(item, dict)}
                if part not in named or depth == len(parts) - 1:
                    raise ConfigError(source, where, "no such hardware field, expected one of: "
                                      + ", ".join(str(n) for n in named))
                indexed[-1] += f"[{named[part]}]"
                node = node[named[part]]
                continue
            indexed.append(part)
            if not isinstance(node, dict) or (part not in node and not fresh):
                allowed = ", ".join(node) if isinstance(node, dict) else "nothing (not a section)"
                raise ConfigError(source, where, f"no such hardware field, expected one of: {allowed}")
            if depth == len(parts) - 1:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part], fresh = {}, True
                node = node[part]
        as_written[".".join(indexed)] = path
    try:
        return hardware_from_data(data, source)
    except ConfigError as err:
        if err.path in as_written:
            raise ConfigError(source, as_written[err.path], err.message) from None
        raise
