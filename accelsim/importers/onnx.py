"""ONNX models -> workloads: matrix work becomes array layers, the rest non-GEMM work.

The model is loaded with the ``onnx`` package, every dynamic input dimension
is given a size, ONNX shape inference fills in every tensor's shape, and the
nodes are read in topological order:

- ``Conv`` (and ``ConvInteger``, ``QLinearConv``) with 1 or 2 spatial axes is a
  :class:`Conv2d` (padding from ``pads`` or ``auto_pad``); 3-D convolutions and
  convolutions that see several images per sample are the equivalent im2col
  :class:`Gemm`. ``ConvTranspose`` is its GEMM form (``M`` input pixels,
  ``K = C / groups``, ``N = K_out / groups x kernel``, ``groups`` instances).
- ``Gemm``, ``MatMul`` (``MatMulInteger``, ``QLinearMatMul``) and two-operand
  ``Einsum`` are :class:`Gemm` layers: against a constant operand it is a
  weight GEMM whose ``M`` is the flattened leading dimensions of a sample;
  between two activations (attention) ``shared_weights`` is false and
  ``count`` is the number of products per sample.
- Everything else is :class:`NonGemm` with an operation count per sample
  (``NONGEMM_OPS``); operators not in that table are kept, estimated at one
  operation per output element, and listed in :attr:`OnnxImport.unsupported`.
  ``Softmax``, ``LayerNormalization`` and ``Gelu`` are the vector ops ``softmax``,
  ``layernorm`` and ``gelu`` (whose cost per element the hwconfig states), and GELU
  written out with ``Erf`` (``x * 0.5 * (1 + erf(x / sqrt 2))``, five nodes) is one
  ``gelu`` layer.
- Nodes computed only from weights, constants and shapes are folded away,
  as every runtime does.
- The edges are kept: a layer's ``inputs`` are the layers (or graph inputs)
  that produce its non-constant inputs; ``Add`` reads both addends, a channel
  ``Concat`` becomes a :class:`Concat`, a MatMul of two activations reads both.
  Where accelsim's layer cannot take a producer's tensor as it is (the unfolded
  input of an im2col convolution, one output of a multi-output node), the
  layer reads an input of its own, ``<layer>:input``, as a legacy chain does.

Layers are per sample. The batch is the leading dimension of the first input
of rank 2 or more: a dynamic one is set to 1 for shape inference (the shapes
are then those of one sample) and the workload's batch is ``batch``, its size
in ``dims``, or 1; a fixed one is divided out of every layer.

Every problem is a one-line :class:`ConfigError`: ``file: nodes[<name>] (<Op>): what``.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from accelsim.config.sparsity import Sparsity
from accelsim.config.dims import parse_dims  # noqa: F401  (the --dim values; here since the first version)
from accelsim.config.workload import Concat, Conv2d, Gemm, Layer, NetworkInput, NonGemm, Workload
from accelsim.errors import ConfigError
from accelsim.graph import LEGACY_INPUT, Shape, expected_input, fits, natural_input, output_shape

INSTALL_HINT = "pip install 'accelsim[onnx]'"

# ---------------------------------------------------------------- operator coverage

# How a non-GEMM operator's work is counted, per sample:
#   output: one operation per element of its first output
#   input:  one operation per element of its first input (reductions, splits)
#   window: output elements x kernel size (pooling, like a `pool` layer in YAML)
#   none:   a change of view, no data moves

_NONGEMM_TABLE: tuple[tuple[str, str, str], ...] = (
    ("element-wise", "output",
     "Add Sub Mul Div Pow Mod Max Min Mean Sum Neg Abs Reciprocal Sqrt Exp Log Erf Sin Cos Tan Asin Acos "
     "Atan Sinh Cosh Asinh Acosh Atanh Floor Ceil Round Sign Clip Where Cast CastLike Equal Greater "
     "GreaterOrEqual Less LessOrEqual And Or Xor Not IsNaN IsInf BitShift BitwiseAnd BitwiseOr BitwiseXor "
     "BitwiseNot QuantizeLinear DequantizeLinear DynamicQuantizeLinear CumSum Trilu"),
    ("activation", "output",
     "Relu LeakyRelu PRelu Elu Selu Celu Gelu Sigmoid HardSigmoid HardSwish Swish Mish Softplus Softsign "
     "Tanh ThresholdedRelu Shrink"),
    ("softmax", "output", "Softmax LogSoftmax Hardmax"),
    ("normalisation", "output",
     "BatchNormalization LayerNormalization InstanceNormalization GroupNormalization RMSNormalization "
     "LpNormalization MeanVarianceNormalization LRN"),
    ("pooling", "window", "MaxPool AveragePool LpPool"),
    ("reduction", "input",
     "GlobalAveragePool GlobalMaxPool GlobalLpPool ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd "
     "ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceSumSquare ArgMax ArgMin TopK"),
    ("resize", "output", "Resize Upsample GridSample RoiAlign"),
    ("data movement", "output",
     "Concat Slice Gather GatherElements GatherND ScatterND ScatterElements Transpose Pad Expand Tile "
     "DepthToSpace SpaceToDepth ReverseSequence OneHot"),
    ("data movement", "input", "Split"),
    ("view", "none", "Reshape Flatten Squeeze Unsqueeze Identity Dropout"),
)

# op type -> (category, count rule), for the ONNX default domain.
NONGEMM_OPS: dict[str, tuple[str, str]] = {
    op: (category, rule) for category, rule, ops in _NONGEMM_TABLE for op in ops.split()
}

# The op names whose vector-unit cost the hwconfig states (vector.op_cycles_per_element); other
# operators keep their name in lower case.
VECTOR_OPS = {"Softmax": "softmax", "LayerNormalization": "layernorm", "Gelu": "gelu"}

# Always folded: their output is known once the input shapes are (every shape is static here).
SHAPE_OPS = frozenset({"Shape", "Size"})

# Operators that do matrix work this importer does not map: failing is better than a silent
# undercount. Any operator (any domain) whose name contains one of these words is matrix work.
_MATRIX_WORDS = re.compile(r"(Conv|MatMul|Gemm|Attention|Einsum|LSTM|GRU|RNN)(?![a-z])")

SUPPORTED_GEMM_OPS = ("Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "Gemm", "MatMul",
                      "MatMulInteger", "QLinearMatMul", "Einsum")


# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class OnnxImport:
    """An imported model and what the import had to decide, for summaries and file headers."""

    workload: Workload
    file: str
    nodes: int                                  # nodes in the graph
    folded: int                                 # nodes computed from constants and shapes only
    dims: tuple[tuple[str, int, str], ...]      # (dynamic dimension, size, where the size came from)
    batch_origin: str                           # where the workload's batch came from
    nongemm: tuple[tuple[str, int], ...]        # (op type, layers), every non-GEMM operator
    unsupported: tuple[tuple[str, tuple[str, ...]], ...]  # (op type, layer names), estimated
    own_inputs: tuple[str, ...] = ()            # layers that read an input of their own (see _wire)

    def notes(self) -> list[str]:
        """What a reader of the imported workload should know, one fact per line."""
        wl = self.workload
        kinds = Counter(layer.kind for layer in wl.layers)
        gemm = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()) if kind != "nongemm")
        lines = [
            f"imported from {Path(self.file).name}: {self.nodes} nodes -> {len(wl.layers)} layers "
            f"({gemm or 'no GEMM layers'}, {kinds.get('nongemm', 0)} non-GEMM), "
            f"{wl.macs():,} MACs at batch {wl.batch}",
            f"batch {wl.batch} ({self.batch_origin})",
        ]
        if self.dims:
            lines.append("dynamic dimensions: " + ", ".join(f"{k}={v} ({why})" for k, v, why in self.dims))
        if self.nongemm:
            lines.append("not run on the array: " + ", ".join(f"{op} x{n}" for op, n in self.nongemm))
        if self.folded:
            lines.append(f"folded: {self.folded} nodes computed only from weights, constants and shapes")
        for op, names in self.unsupported:
            lines.append(f"unsupported operator {op} ({_few(names)}): estimated at one operation per element")
        if self.own_inputs:
            lines.append(f"read from outside: {_few(self.own_inputs)} (a producer's tensor does not fit the layer)")
        return lines


def _few(names: tuple[str, ...]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


# ---------------------------------------------------------------- public API


def import_onnx(path: str | Path, batch: int | None = None, dims: Mapping[str, int] | None = None) -> Workload:
    """The workload of an ONNX model; ``dims`` sizes its dynamic input dimensions (``{"seq": 128}``)."""
    return read_onnx(path, batch=batch, dims=dims).workload


def read_onnx(path: str | Path, batch: int | None = None, dims: Mapping[str, int] | None = None) -> OnnxImport:
    """Import an ONNX model and keep what the import decided (see :class:`OnnxImport`)."""
    source = str(path)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ConfigError(source, "batch", f"expected a positive integer, got {batch!r}")
    onnx = _onnx_package(source)
    model = _load(onnx, Path(path), source)
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in initializers]
    plan = _plan_dims(inputs, batch, dict(dims or {}), source)
    _set_dims(graph, plan)
    order = _topological(graph, source)
    names = dict(zip((tuple(node.output) for node in order), _layer_names(order)))  # before any folding
    _replace(graph.node, order)  # shape inference reads the nodes in file order
    densities = _weight_densities(graph)  # before the weights' bytes are dropped for inference
    weights = _strip_weights(onnx, graph)
    model = _infer_shapes(onnx, model, source, weights)
    g = _Graph(model.graph, source, plan.graph_batch, names, weights)
    layers: list[Layer] = []
    sources: list[list[str]] = []        # per layer: the accelsim tensors holding its non-constant inputs
    held_by: dict[str, str] = {}         # ONNX tensor -> the layer that produces it
    plain: dict[str, Layer] = {}         # a channel Concat's non-GEMM form, should its inputs not join
    nongemm: Counter[str] = Counter()
    unsupported: dict[str, list[str]] = {}
    folded = len(order) - len(g.nodes)  # evaluated while inferring shapes
    # the graph's data inputs are the network inputs, renamed should a layer have the same name
    taken = set(names.values())
    network = {x: x if x not in taken else LEGACY_INPUT.format(layer=x)
               for x in (vi.name for vi in model.graph.input) if not g.is_static(x)}
    gelus = _erf_gelus(g)  # the last node of each Erf GELU -> its input x, the nodes it replaces
    fused = {member for _, members in gelus.values() for member in members} - set(gelus)
    for node in g.nodes:
        name = names[tuple(node.output)]
        if g.fold(node):
            folded += 1
            continue
        if id(node) in fused:  # part of an Erf GELU, which its last node stands for
            continue
        if id(node) in gelus:
            x = gelus[id(node)][0]
            layer, estimated = NonGemm(name=name, op="gelu", ops=_nongemm_ops(g, node, "output")), False
            reads = [held_by[x] if x in held_by else network[x]]
            nongemm["Gelu (Erf pattern)"] += 1
        else:
            layer, estimated = _layer(g, node, name)
            layer = _with_density(layer, node, densities)
            reads = [held_by[x] if x in held_by else network[x] for x in node.input if x and not g.is_static(x)]
            if isinstance(layer, NonGemm):
                nongemm[_op_name(node)] += 1
        if isinstance(layer, NonGemm):
            layer = replace(layer, shape=g.sample_shape(node.output[0]))
            if _joins_channels(g, node, reads):
                plain[name], layer = layer, Concat(name=name, inputs=tuple(reads))
        if estimated:
            unsupported.setdefault(_op_name(node), []).append(name)
        held_by.update((out, name) for out in node.output if out)
        layers.append(layer)
        sources.append(reads)
    if not layers:
        raise ConfigError(source, "", "no layers: no node of the graph works on its inputs")
    inputs = {name: g.sample_shape(x) or (1,) for x, name in network.items()}
    layers, declared, own = _wire(layers, sources, inputs, plain)
    try:
        workload = Workload(name=Path(path).stem or "onnx_model", layers=tuple(layers), batch=plan.batch,
                            inputs=declared, source=source)
    except ConfigError as err:  # more layers, or a larger batch, than the documented bounds
        raise err.relocated(source) from None
    return OnnxImport(
        workload=workload, file=source, nodes=len(order), folded=folded, dims=plan.report,
        batch_origin=plan.batch_origin, nongemm=tuple(sorted(nongemm.items())),
        unsupported=tuple((op, tuple(names)) for op, names in sorted(unsupported.items())), own_inputs=own,
    )


def _weight_densities(graph: Any) -> dict[str, float]:
    """Non-zero fraction of every initializer whose data is in the file (external data is not
    read): a pruned model's weight density (docs/onnx.md). An initializer of zeros only is a
    placeholder (a graph exported without its trained weights), not a pruned tensor: left out."""
    from onnx import TensorProto, numpy_helper

    out = {}
    for t in graph.initializer:
        if t.data_location == TensorProto.EXTERNAL or not math.prod(t.dims):
            continue
        try:
            nonzero = int((numpy_helper.to_array(t) != 0).sum())
        except (ValueError, TypeError):  # data that does not fill its dims: density unknown, dense
            continue
        if nonzero:
            out[t.name] = nonzero / math.prod(t.dims)
    return out


def _with_density(layer: Layer, node: Any, densities: dict[str, float]) -> Layer:
    """A conv or gemm layer whose weight initializer holds zeros gets that density
    (``sparsity.weight_density``); a dense one is left as it is."""
    if not isinstance(layer, (Conv2d, Gemm)) or len(node.input) < 2 or densities.get(node.input[1], 1.0) >= 1.0:
        return layer
    density = densities[node.input[1]]
    return replace(layer, sparsity=Sparsity(weight_density=density))


def _erf_gelus(g: _Graph) -> dict[int, tuple[str, list[int]]]:
    """GELU as exporters write it with Erf, ``x * 0.5 * (1 + erf(x / sqrt 2))``: ``Div`` (or ``Mul``)
    by a constant, ``Erf``, ``Add`` of a constant, and two ``Mul`` (``x`` times the sum, times 0.5,
    or ``x`` times 0.5 first), each intermediate read only by the next. Returns, per last node
    (by id), ``x`` and the ids of the nodes the one ``gelu`` layer replaces."""
    static = set(g.static)
    for node in g.nodes:  # what folding will find constant (weights, constants, shape arithmetic)
        if not _has_subgraph(node) and (node.op_type in SHAPE_OPS or all(not x or x in static for x in node.input)):
            static.update(node.output)
    producer = {out: node for node in g.nodes for out in node.output if out}
    readers: dict[str, list] = {}
    for node in g.nodes:
        for x in dict.fromkeys(node.input):
            readers.setdefault(x, []).append(node)

    def only(tensor: str, op: str) -> Any:
        nodes = readers.get(tensor, [])
        return nodes[0] if len(nodes) == 1 and nodes[0].op_type == op and nodes[0].domain in ("", "ai.onnx") else None

    def other(node: Any, tensor: str) -> str | None:
        rest = [x for x in node.input if x != tensor]
        return rest[0] if len(rest) == 1 and len(node.input) == 2 else None

    found = {}
    for erf in g.nodes:
        if erf.op_type != "Erf" or erf.domain not in ("", "ai.onnx"):
            continue
        scale = producer.get(erf.input[0])
        if scale is None or scale.op_type not in ("Div", "Mul") or only(scale.output[0], "Erf") is not erf:
            continue
        xs = [x for x in scale.input if x not in static]
        if len(xs) != 1 or (scale.op_type == "Div" and scale.input[0] != xs[0]):
            continue
        x = xs[0]
        add = only(erf.output[0], "Add")
        if add is None or other(add, erf.output[0]) not in static:
            continue
        times = only(add.output[0], "Mul")
        if times is None:
            continue
        factor = other(times, add.output[0])
        if factor == x:  # x * (1 + erf), then * 0.5
            last = only(times.output[0], "Mul")
            if last is None or other(last, times.output[0]) not in static:
                continue
            members = [scale, erf, add, times, last]
        else:  # (x * 0.5) * (1 + erf)
            half = producer.get(factor)
            if half is None or half.op_type != "Mul" or only(factor, "Mul") is not times or \
                    other(half, x) not in static:
                continue
            last, members = times, [scale, erf, add, half, times]
        found[id(last)] = (x, [id(node) for node in members])
    return found


def _joins_channels(g: _Graph, node: Any, reads: list[str]) -> bool:
    """A ``Concat`` of 4-D activations along the channels (NCHW axis 1), each read once: a concat layer."""
    if node.op_type != "Concat" or node.domain not in ("", "ai.onnx"):
        return False
    shape = g.known_shape(node.output[0])
    axis = _attrs(node).get("axis", 1)
    return (shape is not None and len(shape) == 4 and axis in (1, -3) and len(reads) == len(node.input) >= 2
            and len(set(reads)) == len(reads))


def _wire(layers: list[Layer], sources: list[list[str]], inputs: dict[str, Shape],
          plain: dict[str, Layer]) -> tuple[list[Layer], tuple[NetworkInput, ...], tuple[str, ...]]:
    """Give every layer its ``inputs``, declared only where the previous layer's output is not it.

    Each edge is checked as the workload's graph will check it. A producer's tensor that does
    not fit (an im2col GEMM reads the unfolded input, not the tensor) is replaced by an input
    of the layer's own, ``<layer>:input``; a GEMM's right operand that does not fit stays a
    per-sample constant; a channel concat whose inputs do not join is plain non-GEMM work.
    Returns the layers, the network inputs (graph inputs that a layer reads, then the own ones)
    and the names of the layers that read an own input.
    """
    shapes = dict(inputs)
    own: list[NetworkInput] = []
    wired: list[tuple[Layer, list[str]]] = []
    for layer, reads in zip(layers, sources):
        if isinstance(layer, Concat) and not _join(shapes[r] for r in reads):
            layer = plain[layer.name]
        kept = []
        for position, tensor in enumerate(reads[: _operands(layer)]):
            if fits(shapes[tensor], expected_input(layer, position)):
                kept.append(tensor)
            elif position == 0:
                kept.append(_own_input(layer, own, shapes))
        if not kept:
            kept.append(_own_input(layer, own, shapes))
        shapes[layer.name] = output_shape(layer, [shapes[t] for t in kept])
        wired.append((layer, kept))
    read = {t for _, kept in wired for t in kept}
    network = tuple(NetworkInput(name=name, shape=shape) for name, shape in inputs.items() if name in read)
    network += tuple(own)
    out = []
    for i, (layer, kept) in enumerate(wired):
        default = [network[0].name] if i == 0 else [wired[i - 1][0].name]
        out.append(replace(layer, inputs=None if kept == default else tuple(kept)))
    reading_own = tuple(layer.name for layer, kept in wired if LEGACY_INPUT.format(layer=layer.name) in kept)
    return out, network, reading_own


def _operands(layer: Layer) -> int | None:
    """How many of a node's non-constant inputs the layer reads (None: all)."""
    if isinstance(layer, Conv2d) or (isinstance(layer, Gemm) and layer.shared_weights):
        return 1
    return 2 if isinstance(layer, Gemm) else None


def _join(shapes: Iterable[Shape]) -> bool:
    shapes = list(shapes)
    return all(len(s) == 3 and s[:2] == shapes[0][:2] for s in shapes)


def _own_input(layer: Layer, own: list[NetworkInput], shapes: dict[str, Shape]) -> str:
    spec = NetworkInput(name=LEGACY_INPUT.format(layer=layer.name), shape=natural_input(layer))
    own.append(spec)
    shapes[spec.name] = spec.shape
    return spec.name


# ---------------------------------------------------------------- loading


def _onnx_package(source: str) -> Any:
    try:
        import onnx
        import onnx.shape_inference
    except ImportError:
        raise ConfigError(source, "", f"reading ONNX needs the onnx package: {INSTALL_HINT}") from None
    return onnx


def _load(onnx: Any, path: Path, source: str) -> Any:
    """Parse the file; weights stored outside it are not needed (only their shapes)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(source, "", f"cannot read: {err.strerror}") from None
    if not data:
        raise ConfigError(source, "", "not an ONNX model: the file is empty")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as err:  # protobuf's DecodeError and friends
        why = _first_line(err).rpartition(": ")[2] or type(err).__name__
        raise ConfigError(source, "", f"not an ONNX model: cannot parse it as ONNX protobuf ({why})") from None
    if model.ir_version < 1 or not model.HasField("graph"):
        raise ConfigError(source, "", "not an ONNX model: no ir_version or no graph in the file")
    if not _text_fields_ok(model.graph):
        raise ConfigError(source, "", "not an ONNX model: a node's name, operator or tensor name is not UTF-8 text")
    _load_small_external_data(onnx, model, path.parent)
    if model.functions:
        import onnx.inliner

        model = onnx.inliner.inline_local_functions(model)
    return model


def _text_fields_ok(graph: Any) -> bool:
    """Protobuf hands damaged (non-UTF-8) string fields back as bytes; every name must be text."""
    for node in graph.node:
        if not all(isinstance(v, str) for v in (node.name, node.op_type, node.domain, *node.input, *node.output)):
            return False
        for a in node.attribute:
            if (a.HasField("g") and not _text_fields_ok(a.g)) or not all(_text_fields_ok(sub) for sub in a.graphs):
                return False
    return all(isinstance(v.name, str) for v in (*graph.input, *graph.output, *graph.initializer))


def _load_small_external_data(onnx: Any, model: Any, base_dir: Path) -> None:
    """Read the small tensors kept in an external data file (shape constants); weights stay on disk."""
    import onnx.external_data_helper

    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL and math.prod(t.dims) <= _EVALUATE_LIMIT:
            try:
                onnx.external_data_helper.load_external_data_for_tensor(t, str(base_dir))
            except Exception:  # a missing data file only costs inference this value
                continue
            t.data_location = onnx.TensorProto.DEFAULT  # older onnx leaves the tensor marked external
            del t.external_data[:]


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


# ---------------------------------------------------------------- dynamic dimensions


@dataclass(frozen=True)
class _DimPlan:
    sizes: dict[str, int]                   # dim_param -> size, wherever that name is used
    positions: dict[tuple[str, int], int]   # (input, axis) -> size, for unnamed dynamic dimensions
    graph_batch: int                        # the batch inside the inferred shapes, divided out of every layer
    batch: int                              # the workload's batch
    batch_origin: str
    report: tuple[tuple[str, int, str], ...]


def _plan_dims(inputs: list, batch: int | None, dims: dict[str, int], source: str) -> _DimPlan:
    """Give every dynamic input dimension a size, or say which one needs one.

    A dynamic dimension is known by its ``dim_param`` name, or as ``INPUT:AXIS`` (which
    also works for named ones). A dynamic batch is inferred at 1, so shapes are per sample.
    """
    dynamic: dict[str, list[tuple[str, int]]] = {}   # key -> where it appears
    named: set[str] = set()
    aliases: dict[str, str] = {}                     # "input:axis" -> key
    batch_key: str | None = None
    graph_batch: int | None = None
    for vi in inputs:
        if not vi.type.HasField("tensor_type"):
            raise ConfigError(source, f"inputs[{vi.name}]", "not a tensor; accelsim imports tensor inputs only")
        if not vi.type.tensor_type.HasField("shape"):
            raise ConfigError(source, f"inputs[{vi.name}]", "no shape declared; every input needs its rank and sizes")
        shape = vi.type.tensor_type.shape.dim
        for axis, d in enumerate(shape):
            if d.WhichOneof("value") == "dim_value" and d.dim_value > 0:
                continue
            key = d.dim_param if d.WhichOneof("value") == "dim_param" and d.dim_param else f"{vi.name}:{axis}"
            if key == d.dim_param:
                named.add(key)
            dynamic.setdefault(key, []).append((vi.name, axis))
            aliases[f"{vi.name}:{axis}"] = key
        if graph_batch is None and batch_key is None and len(shape) >= 2:
            first = shape[0]
            if first.WhichOneof("value") == "dim_value" and first.dim_value > 0:
                graph_batch = first.dim_value
            else:
                batch_key = aliases[f"{vi.name}:0"]
    given: dict[str, int] = {}
    for name, value in dims.items():
        key = aliases.get(name, name)
        if key not in dynamic:
            have = ", ".join(dynamic) or "none"
            raise ConfigError(source, "dims", f"no dynamic input dimension {name!r} in the model (dynamic: {have})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(source, f"dims.{name}", f"expected a positive integer size, got {value!r}")
        given[key] = value
    missing = [key for key in dynamic if key != batch_key and key not in given]
    if missing:
        key = missing[0]
        name, axis = dynamic[key][0]
        also = f"; also without a size: {', '.join(missing[1:])}" if len(missing) > 1 else ""
        raise ConfigError(source, f"inputs[{name}].shape[{axis}]",
                          f"dynamic dimension {key!r} needs a size: give it with --dim {key}=N "
                          f"(Python: dims={{{key!r}: N}}){also}")
    if batch is not None:
        final, origin = batch, "given"
    elif batch_key is not None and batch_key in given:
        final, origin = given[batch_key], f"the size given for {batch_key}"
    elif graph_batch is not None:
        final, origin = graph_batch, "from the model"
    else:
        final, origin = 1, "the default" + ("; the model's batch is dynamic" if batch_key else "")
    used = {key: 1 if key == batch_key else given[key] for key in dynamic}
    return _DimPlan(
        sizes={key: size for key, size in used.items() if key in named},
        positions={where: size for key, size in used.items() if key not in named for where in dynamic[key]},
        graph_batch=graph_batch or 1, batch=final, batch_origin=origin,
        report=tuple((key, final, "batch") if key == batch_key else (key, size, "given") for key, size in used.items()),
    )


def _set_dims(graph: Any, plan: _DimPlan) -> None:
    """Write the chosen sizes into the graph's declared shapes, so inference sees numbers."""
    for vi in (*graph.input, *graph.output, *graph.value_info):
        if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
            continue
        for axis, d in enumerate(vi.type.tensor_type.shape.dim):
            if d.WhichOneof("value") == "dim_param" and d.dim_param in plan.sizes:
                d.dim_value = plan.sizes[d.dim_param]
            elif (vi.name, axis) in plan.positions and d.WhichOneof("value") != "dim_value":
                d.dim_value = plan.positions[(vi.name, axis)]


# ---------------------------------------------------------------- shape inference

# Shape arithmetic is small; a tensor larger than this is never evaluated (weights stay unread).
_EVALUATE_LIMIT = 1 << 16
_MAX_ROUNDS = 64


def _strip_weights(onnx: Any, graph: Any) -> set[str]:
    """Turn large (or external) initializers into typed graph inputs; returns their names.

    Inference needs a weight's shape, not its bytes, and serializes the model on every call.
    """
    from onnx import TensorProto

    big = [t for t in graph.initializer
           if math.prod(t.dims) > _EVALUATE_LIMIT or t.data_location == TensorProto.EXTERNAL]
    names = {t.name for t in big}
    if names:
        declared = [onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in big]
        _replace(graph.input, [vi for vi in graph.input if vi.name not in names] + declared)
        _replace(graph.initializer, [t for t in graph.initializer if t.name not in names])
    return names


def _infer_shapes(onnx: Any, model: Any, source: str, weights: set[str]) -> Any:
    """ONNX shape inference, helped by evaluating the shape arithmetic it does not propagate.

    Exporters compute reshape targets from ``Shape`` through ``Div``, ``Cast`` and the like;
    ONNX's data propagation stops at some of them. Such constant inputs of a node whose
    output shape is unknown are evaluated (ONNX's reference evaluator), stored as
    initializers, and inference runs again, until nothing more can be learnt.
    """
    cache: dict[str, Any] = {}  # values of constant tensors, kept across rounds
    for round_ in range(_MAX_ROUNDS):
        try:
            model = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
        except Exception as err:  # onnx raises several unrelated types here; all mean "inference failed"
            raise ConfigError(source, "", f"ONNX shape inference failed: {_first_line(err)}") from None
        values = _evaluate_shape_inputs(model, source, weights, cache) if round_ < _MAX_ROUNDS - 1 else {}
        if not values:
            return model
        graph = model.graph
        _replace(graph.node, [node for node in graph.node if not any(out in values for out in node.output)])
        from onnx import numpy_helper

        graph.initializer.extend(numpy_helper.from_array(value, name) for name, value in values.items())
        # forget the partial shapes of the last round: inference keeps a declared unknown over what it learns
        _replace(graph.value_info, [vi for vi in graph.value_info if vi.name not in values and _fully_known(vi)])
        for vi in graph.output:
            if not _fully_known(vi):
                vi.type.tensor_type.ClearField("shape")
    return model


def _fully_known(vi: Any) -> bool:
    t = vi.type.tensor_type
    return vi.type.HasField("tensor_type") and t.HasField("shape") and all(
        d.WhichOneof("value") == "dim_value" for d in t.shape.dim)


def _evaluate_shape_inputs(model: Any, source: str, weights: set[str], values: dict[str, Any]) -> dict[str, Any]:
    """Values of the constant inputs of nodes whose output shapes inference left unknown.

    Returns every output of each evaluated node (so the node can be replaced), or {} when
    nothing useful can be computed.
    """
    import numpy as np
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    g = _Graph(graph, source, 1, constants=weights)
    producer: dict[str, Any] = {}
    targets: list[str] = []
    for node in g.nodes:
        for out in node.output:
            producer[out] = node
        if g.fold(node):
            continue
        if any(out and g.known_shape(out) is None for out in node.output):
            targets.extend(x for x in node.input if x in producer and g.is_static(x))
    if not targets:
        return {}
    # the constant nodes the targets need, in graph order
    needed: set[int] = set()
    stack = [producer[t] for t in targets]
    while stack:
        node = stack.pop()
        if id(node) in needed:
            continue
        needed.add(id(node))
        if node.op_type not in SHAPE_OPS:
            stack.extend(producer[x] for x in node.input if x in producer)
    opsets = {o.domain: o.version for o in model.opset_import}
    initializers = {t.name: t for t in graph.initializer}
    for node in g.nodes:
        if id(node) not in needed or node.domain not in ("", "ai.onnx") or all(out in values for out in node.output):
            continue
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            continue
        if node.op_type in SHAPE_OPS:
            shape = g.known_shape(node.input[0])
            if shape is None:
                continue
            if node.op_type == "Size":
                values[node.output[0]] = np.array(math.prod(shape), dtype=np.int64)
            else:
                attrs = _attrs(node)
                start, end = attrs.get("start", 0), attrs.get("end", len(shape))
                values[node.output[0]] = np.array(shape[start:end], dtype=np.int64)
            continue
        feeds = {}
        for x in node.input:
            if not x:
                continue
            if x not in values and x in initializers:
                t = initializers[x]
                values[x] = numpy_helper.to_array(t)  # small: _strip_weights took the rest
            if x not in values:
                break
            feeds[x] = values[x]
        else:
            try:
                outputs = ReferenceEvaluator(node, opsets=opsets).run(None, feeds)
            except Exception:  # an operator the evaluator lacks: inference keeps what it has
                continue
            values.update((out, np.asarray(v)) for out, v in zip(node.output, outputs) if out)
    return {out: values[out] for t in targets if t in values for out in producer[t].output
            if out and out in values and out not in initializers}


# ---------------------------------------------------------------- the graph after inference


class _Graph:
    """Shapes, constness and topological order of an inferred graph; errors name the node."""

    def __init__(self, graph: Any, source: str, graph_batch: int, names: dict[tuple, str] | None = None,
                 constants: set[str] = frozenset()):
        self.source = source
        self.batch = graph_batch
        self.names = names or {}  # layer name by the node's outputs (unique in a valid graph)
        self.shapes: dict[str, tuple[int | None, ...]] = {}
        for vi in (*graph.input, *graph.output, *graph.value_info):
            if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
                self.shapes[vi.name] = tuple(d.dim_value if d.WhichOneof("value") == "dim_value" else None
                                             for d in vi.type.tensor_type.shape.dim)
        for t in graph.initializer:
            self.shapes[t.name] = tuple(t.dims)
        self.static: set[str] = {t.name for t in graph.initializer} | constants
        self.nodes = _topological(graph, source)

    def fold(self, node: Any) -> bool:
        """True (and remember its outputs as constants) when the node needs no input data.

        Nodes with subgraphs are never folded: a subgraph reads outer tensors without naming them.
        """
        if _has_subgraph(node):
            return False
        if (node.domain in ("", "ai.onnx") and node.op_type in SHAPE_OPS) or all(
                not x or x in self.static for x in node.input):
            self.static.update(node.output)
            return True
        return False

    def is_static(self, tensor: str) -> bool:
        return tensor in self.static

    def error(self, node: Any, message: str) -> ConfigError:
        name = self.names.get(tuple(node.output)) or node.name or node.op_type
        return ConfigError(self.source, f"nodes[{name}] ({_op_name(node)})", message)

    def shape(self, node: Any, tensor: str, role: str) -> tuple[int, ...]:
        """The inferred shape of one of the node's tensors, all sizes known."""
        shape = self.shapes.get(tensor)
        if shape is None:
            raise self.error(node, f"no shape for {role} {tensor!r} after ONNX shape inference")
        if None in shape:
            text = "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
            raise self.error(node, f"{role} {tensor!r} has shape {text} after ONNX shape inference: "
                                   f"dimension {shape.index(None)} is unknown")
        return shape  # type: ignore[return-value]

    def known_shape(self, tensor: str) -> tuple[int, ...] | None:
        shape = self.shapes.get(tensor)
        return shape if shape is not None and None not in shape else None  # type: ignore[return-value]

    def sample_shape(self, tensor: str) -> tuple[int, ...] | None:
        """A tensor's shape per sample, as accelsim's layers see it: the batch taken off the leading
        axis, and an image ``[N, C, H, W]`` as ``(H, W, C)``; None when unknown or empty."""
        shape = self.known_shape(tensor)
        if shape is None or 0 in shape:
            return None
        if len(shape) == 4 and shape[0] == self.batch:
            return (shape[2], shape[3], shape[1])
        if len(shape) >= 2 and shape[0] == self.batch:
            return shape[1:]
        if shape and shape[0] % self.batch == 0:
            return (shape[0] // self.batch, *shape[1:])
        return (max(1, -(-math.prod(shape) // self.batch)),)

    def per_sample(self, node: Any, total: int, what: str) -> int:
        """Take the graph's batch out of a size that contains it."""
        if total % self.batch:
            raise self.error(node, f"cannot take the model's batch of {self.batch} out of {what} = {total}; "
                                   f"export the model with batch 1 or a dynamic batch")
        return total // self.batch


def _topological(graph: Any, source: str) -> list:
    """Nodes in an order where every input is produced first; ties keep the file's order."""
    nodes = list(graph.node)
    available = {vi.name for vi in graph.input} | {t.name for t in graph.initializer} | {""}
    producer = {out: i for i, node in enumerate(nodes) for out in node.output if out}
    waiting = [0] * len(nodes)
    consumers: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        needed = {x for x in node.input if x not in available}
        for x in needed:
            if x not in producer:
                name = node.name or f"{node.op_type}_{i}"
                raise ConfigError(source, f"nodes[{name}] ({_op_name(node)})",
                                  f"input {x!r} is produced by no node and is not a graph input or initializer")
            consumers.setdefault(x, []).append(i)
        waiting[i] = len(needed)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(nodes[i])
        for out in nodes[i].output:
            for j in consumers.pop(out, []):
                waiting[j] -= 1
                if waiting[j] == 0:
                    heapq.heappush(ready, j)
    if len(order) < len(nodes):
        stuck = next(i for i, n in enumerate(waiting) if n)
        node = nodes[stuck]
        raise ConfigError(source, f"nodes[{node.name or f'{node.op_type}_{stuck}'}] ({_op_name(node)})",
                          "the graph has a cycle through this node")
    return order


def _replace(repeated: Any, items: list) -> None:
    """Set a repeated protobuf field to ``items`` (copied first: they may be its own elements)."""
    copies = []
    for item in items:
        copy = type(item)()
        copy.CopyFrom(item)
        copies.append(copy)
    del repeated[:]
    repeated.extend(copies)


def _layer_names(nodes: list) -> list[str]:
    """Node names, unique: unnamed nodes are ``<OpType>_<position>``, repeats get ``_2``, ``_3``."""
    base = [node.name.strip() or f"{node.op_type}_{i}" for i, node in enumerate(nodes)]
    reserved = set(base)
    used: set[str] = set()
    names = []
    for name in base:
        if name in used:
            k = 2
            while f"{name}_{k}" in reserved or f"{name}_{k}" in used:
                k += 1
            name = f"{name}_{k}"
        used.add(name)
        names.append(name)
    return names


def _op_name(node: Any) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def _attrs(node: Any) -> dict[str, Any]:
    import onnx.helper

    out = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        out[a.name] = value.decode() if isinstance(value, bytes) else value
    return out


# ---------------------------------------------------------------- nodes -> layers


def _layer(g: _Graph, node: Any, name: str) -> tuple[Layer, bool]:
    """One node's layer, and whether its operation count is an estimate (unsupported operator)."""
    op = node.op_type
    standard = node.domain in ("", "ai.onnx")
    try:
        if standard and op in _GEMM_HANDLERS:
            if len(node.input) < _GEMM_INPUTS[op]:
                raise g.error(node, f"{len(node.input)} inputs, expected at least {_GEMM_INPUTS[op]}")
            return _GEMM_HANDLERS[op](g, node, name), False
        hidden = sorted({inner for inner in _subgraph_ops(node) if _is_matrix_op(inner)})
        if hidden:
            raise g.error(node, f"its subgraph contains {', '.join(hidden)}, which accelsim cannot unroll; "
                                f"export the model without control flow")
        if _is_matrix_op(op):
            raise g.error(node, f"matrix work accelsim does not map (it maps {', '.join(SUPPORTED_GEMM_OPS)}); "
                                f"replace the operator or write its layer in the workload YAML by hand")
        if standard and op in NONGEMM_OPS:
            return NonGemm(name=name, op=VECTOR_OPS.get(op, op.lower()), ops=_nongemm_ops(g, node, NONGEMM_OPS[op][1])), \
                False
        return NonGemm(name=name, op=op.lower(), ops=_estimate(g, node)), True
    except ConfigError as err:
        if err.source == g.source:
            raise
        # a layer rejected its sizes: report the node, then the field
        raise g.error(node, f"{err.path}: {err.message}" if err.path else err.message) from None


def _is_matrix_op(op: str) -> bool:
    return bool(_MATRIX_WORDS.search(op))


def _has_subgraph(node: Any) -> bool:
    return any(a.HasField("g") or len(a.graphs) for a in node.attribute)


def _subgraph_ops(node: Any) -> set[str]:
    """Operator types inside the node's subgraphs (If, Loop, Scan), recursively."""
    ops: set[str] = set()
    for a in node.attribute:
        for sub in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            for inner in sub.node:
                ops.add(inner.op_type)
                ops |= _subgraph_ops(inner)
    return ops


def _nongemm_ops(g: _Graph, node: Any, rule: str) -> int:
    if rule == "none":
        return 0
    if rule == "input":
        total = math.prod(g.shape(node, node.input[0], "input"))
    else:
        total = math.prod(g.shape(node, node.output[0], "output"))
        if rule == "window":
            total *= math.prod(_attrs(node).get("kernel_shape", []))
    return -(-total // g.batch)


def _estimate(g: _Graph, node: Any) -> int:
    """An unsupported operator: one operation per output element, or per input element if unknown."""
    for tensor in (*node.output, *node.input):
        shape = g.known_shape(tensor) if tensor else None
        if shape is not None:
            return -(-math.prod(shape) // g.batch)
    return 0


# ---- convolutions

_CONV_OPERANDS = {"Conv": (0, 1), "ConvInteger": (0, 1), "QLinearConv": (0, 3)}


def _conv_pads(g: _Graph, node: Any, attrs: dict, size: tuple[int, ...], kernel: tuple[int, ...],
               strides: tuple[int, ...], dilations: tuple[int, ...]) -> list[tuple[int, int]]:
    """(begin, end) padding per spatial axis, from ``pads`` or ``auto_pad``."""
    mode = attrs.get("auto_pad", "NOTSET") or "NOTSET"
    n = len(size)
    if mode == "NOTSET":
        pads = list(attrs.get("pads", [0] * 2 * n))
        if len(pads) != 2 * n or min(pads) < 0:
            raise g.error(node, f"pads: expected {2 * n} non-negative integers, got {pads}")
        return [(pads[i], pads[i + n]) for i in range(n)]
    if mode == "VALID":
        return [(0, 0)] * n
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        out = []
        for x, k, s, d in zip(size, kernel, strides, dilations):
            total = max(0, (-(-x // s) - 1) * s + d * (k - 1) + 1 - x)
            small, big = total // 2, total - total // 2
            out.append((small, big) if mode == "SAME_UPPER" else (big, small))  # the odd pixel at the end / start
        return out
    raise g.error(node, f"auto_pad: expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got {mode!r}")


def _conv(g: _Graph, node: Any, name: str) -> Layer:
    xi, wi = _CONV_OPERANDS[node.op_type]
    x = g.shape(node, node.input[xi], "input")
    w = g.shape(node, node.input[wi], "weight")
    y = g.shape(node, node.output[0], "output")
    n_spatial = len(x) - 2
    if n_spatial < 1 or len(w) != len(x):
        raise g.error(node, f"expected input [N, C, spatial...] and weight [K, C/group, kernel...], "
                            f"got input {list(x)} and weight {list(w)}")
    attrs = _attrs(node)
    groups = attrs.get("group", 1)
    kernel = tuple(w[2:])
    strides = tuple(attrs.get("strides", [1] * n_spatial))
    dilations = tuple(attrs.get("dilations", [1] * n_spatial))
    pads = _conv_pads(g, node, attrs, x[2:], kernel, strides, dilations)
    n, C, K = x[0], x[1], w[0]
    if C != w[1] * groups:
        raise g.error(node, f"input has {C} channels but the weight expects {w[1]} x group {groups}")
    images = g.per_sample(node, n, "the input's batch dimension")
    if n_spatial <= 2 and images == 1:
        if n_spatial == 1:  # a 1-D convolution is a 2-D one of height 1
            size, kernel = (1, x[2]), (1, kernel[0])
            strides, dilations, pads = (1, strides[0]), (1, dilations[0]), [(0, 0), pads[0]]
        else:
            size = (x[2], x[3])
        conv = Conv2d(name=name, H=size[0], W=size[1], C=C, K=K, R=kernel[0], S=kernel[1], stride=strides,
                      padding=(pads[0][0], pads[0][1], pads[1][0], pads[1][1]), dilation=dilations, groups=groups)
        if (conv.P, conv.Q) != ((1,) + tuple(y[2:]) if n_spatial == 1 else tuple(y[2:])):
            raise g.error(node, f"computed output {conv.P}x{conv.Q} disagrees with ONNX's {list(y[2:])}")
        return conv
    # the im2col GEMM: every output pixel of every image is a row
    return Gemm(name=name, M=images * math.prod(y[2:]), N=K // groups, K=(C // groups) * math.prod(kernel),
                count=groups)


def _conv_transpose(g: _Graph, node: Any, name: str) -> Layer:
    """Each input pixel times the weight gives a kernel-sized patch per output channel (col2im adds)."""
    x = g.shape(node, node.input[0], "input")
    w = g.shape(node, node.input[1], "weight")
    if len(x) < 3 or len(w) != len(x):
        raise g.error(node, f"expected input [N, C, spatial...] and weight [C, K/group, kernel...], "
                            f"got input {list(x)} and weight {list(w)}")
    groups = _attrs(node).get("group", 1)
    if x[1] != w[0]:
        raise g.error(node, f"input has {x[1]} channels but the weight expects {w[0]}")
    images = g.per_sample(node, x[0], "the input's batch dimension")
    return Gemm(name=name, M=images * math.prod(x[2:]), N=w[1] * math.prod(w[2:]), K=x[1] // groups, count=groups)


# ---- matrix products


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(max(x, y) if min(x, y) == 1 else x for x, y in zip(a, b))


def _check_broadcast(g: _Graph, node: Any, a: tuple[int, ...], b: tuple[int, ...]) -> None:
    """Leading (batch) dimensions must broadcast: equal, or one of them 1."""
    for x, y in zip(reversed(a), reversed(b)):
        if x != y and 1 not in (x, y):
            raise g.error(node, f"leading dimensions {list(a)} and {list(b)} do not broadcast")


def _product(g: _Graph, node: Any, name: str, a: str, b: str, *, lead: int, lead_a: int, lead_b: int,
             M: int, N: int, K: int) -> Gemm:
    """``lead`` products ``[M x K] . [K x N]`` between tensors ``a`` and ``b`` (``lead_a``, ``lead_b``:
    how many distinct matrices each operand holds), per sample."""
    if g.is_static(b):  # a weight on the right: the rows of every sample share it
        return Gemm(name=name, M=g.per_sample(node, lead // lead_b * M, "the rows"), N=N, K=K, count=lead_b)
    if g.is_static(a):  # a weight on the left: out^T = b^T . a^T
        return Gemm(name=name, M=g.per_sample(node, lead // lead_a * N, "the columns"), N=M, K=K, count=lead_a)
    if lead % g.batch == 0:
        return Gemm(name=name, M=M, N=N, K=K, count=lead // g.batch, shared_weights=False)
    return Gemm(name=name, M=g.per_sample(node, M, "the rows"), N=N, K=K, count=lead, shared_weights=False)


_MATMUL_OPERANDS = {"MatMul": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3)}


def _matmul(g: _Graph, node: Any, name: str) -> Gemm:
    ai, bi = _MATMUL_OPERANDS[node.op_type]
    a_name, b_name = node.input[ai], node.input[bi]
    a = g.shape(node, a_name, "input A")
    b = g.shape(node, b_name, "input B")
    a = (1,) + a if len(a) == 1 else a  # numpy rules: a vector is a one-row / one-column matrix
    b = b + (1,) if len(b) == 1 else b
    if not a or not b or a[-1] != b[-2]:
        raise g.error(node, f"input A {list(a)} and input B {list(b)} do not multiply: A has {a[-1] if a else 0} "
                            f"columns, B {b[-2] if len(b) > 1 else 0} rows")
    _check_broadcast(g, node, a[:-2], b[:-2])
    return _product(g, node, name, a_name, b_name, lead=math.prod(_broadcast(a[:-2], b[:-2])),
                    lead_a=math.prod(a[:-2]), lead_b=math.prod(b[:-2]), M=a[-2], N=b[-1], K=a[-1])


def _gemm(g: _Graph, node: Any, name: str) -> Gemm:
    attrs = _attrs(node)
    a = g.shape(node, node.input[0], "input A")
    b = g.shape(node, node.input[1], "input B")
    if len(a) != 2 or len(b) != 2:
        raise g.error(node, f"expected two matrices, got shapes {list(a)} and {list(b)}")
    M, K = (a[1], a[0]) if attrs.get("transA", 0) else a
    K_b, N = (b[1], b[0]) if attrs.get("transB", 0) else b
    if K != K_b:
        raise g.error(node, f"input A {list(a)} and input B {list(b)} do not multiply (transA "
                            f"{attrs.get('transA', 0)}, transB {attrs.get('transB', 0)}): A gives K = {K}, B "
                            f"K = {K_b}")
    return _product(g, node, name, node.input[0], node.input[1], lead=1, lead_a=1, lead_b=1, M=M, N=N, K=K)


def _einsum(g: _Graph, node: Any, name: str) -> Layer:
    """Two-operand Einsum: indices in both inputs and the output are instances, in both inputs only
    the reduction, in one input and the output the rows (first) or columns (second)."""
    equation = _attrs(node).get("equation", "").replace(" ", "")
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) == 1:  # a transpose or a sum of one tensor
        return NonGemm(name=name, op="einsum", ops=_nongemm_ops(g, node, "input"))
    if len(terms) != 2 or "." in equation:
        raise g.error(node, f"equation {equation!r}: accelsim maps Einsum of two operands without '...'")
    ta, tb = terms
    if not arrow:  # implicit output: the indices that appear once, in alphabetical order
        out = "".join(sorted(c for c in set(ta + tb) if (ta + tb).count(c) == 1))
    a = g.shape(node, node.input[0], "input A")
    b = g.shape(node, node.input[1], "input B")
    if len(a) != len(ta) or len(b) != len(tb) or len(set(ta)) < len(ta) or len(set(tb)) < len(tb):
        raise g.error(node, f"equation {equation!r} does not match shapes {list(a)} and {list(b)} "
                            f"(or repeats an index within an operand)")
    size = {**dict(zip(ta, a)), **dict(zip(tb, b))}
    lone = (set(ta) ^ set(tb)) - set(out)
    if lone:
        raise g.error(node, f"equation {equation!r} sums index {''.join(sorted(lone))} within one operand; "
                            f"accelsim maps products only")
    both = set(ta) & set(tb)
    lead = math.prod(size[c] for c in both & set(out))
    return _product(g, node, name, node.input[0], node.input[1], lead=lead, lead_a=lead, lead_b=lead,
                    M=math.prod(size[c] for c in set(ta) - both), N=math.prod(size[c] for c in set(tb) - both),
                    K=math.prod(size[c] for c in both - set(out)))


# inputs each matrix operator needs (ONNX operator specs; the quantized forms carry scales and zero points)
_GEMM_INPUTS = {"Conv": 2, "ConvInteger": 2, "QLinearConv": 8, "ConvTranspose": 2, "Gemm": 2, "MatMul": 2,
                "MatMulInteger": 2, "QLinearMatMul": 8, "Einsum": 1}
_GEMM_HANDLERS: dict[str, Callable[[_Graph, Any, str], Layer]] = {
    "Conv": _conv, "ConvInteger": _conv, "QLinearConv": _conv, "ConvTranspose": _conv_transpose,
    "Gemm": _gemm, "MatMul": _matmul, "MatMulInteger": _matmul, "QLinearMatMul": _matmul, "Einsum": _einsum,
}
