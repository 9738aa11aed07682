"""Workloads: a batch size and an ordered list of layers, as frozen dataclasses.

Layer shapes use the field's usual letters (Eyeriss / Timeloop notation): an
input of ``H x W x C``, ``K`` filters of ``R x S``, output ``P x Q``. The
mathematical sizes of a layer (MACs, element counts of its tensors) live here;
how a layer becomes GEMMs on an array lives in :mod:`accelsim.mapping`. Each
layer produces one tensor, named after it, and names the tensors it reads
(``inputs``); :mod:`accelsim.graph` resolves those names and checks the shapes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Mapping, Union

from accelsim.config.schema import (  # MAX_*: the documented bounds (docs/workloads.md)
    MAX_BATCH, MAX_CHANNELS_PER_LAYER, MAX_GEMM_COUNT, MAX_GEMM_DIM, MAX_LAYERS, MAX_NAME_CHARS, MAX_NONGEMM_OPS,
    MAX_SPATIAL,
    PYTHON,
    Check,
    FrozenMap,
    Validated,
    non_empty_string,
    non_negative_int,
    positive_int,
    spec,
)
from accelsim.config.sparsity import Sparsity
from accelsim.errors import ConfigError

if TYPE_CHECKING:
    from accelsim.graph import Graph


def _ints(value: object, n: int, phrase: str) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise ValueError(phrase)
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise ValueError(phrase)


PAIR = f"a positive integer or a list [h, w] of positive integers, at most {MAX_SPATIAL:,}"
PADDING = f"a non-negative integer, [h, w] or [top, bottom, left, right], at most {MAX_SPATIAL:,}"


def parse_pair(value: object) -> tuple[int, int]:
    """``2`` -> ``(2, 2)``; ``[2, 1]`` -> ``(2, 1)``."""
    out = _ints(value, 2, PAIR)
    if len(out) != 2 or min(out) < 1 or max(out) > MAX_SPATIAL:
        raise ValueError(PAIR)
    return out  # type: ignore[return-value]


def parse_padding(value: object) -> tuple[int, int, int, int]:
    """``1`` -> all sides; ``[h, w]`` -> symmetric; ``[t, b, l, r]`` as given."""
    out = _ints(value, 4, PADDING)
    if len(out) == 2:
        out = (out[0], out[0], out[1], out[1])
    if len(out) != 4 or min(out) < 0 or max(out) > MAX_SPATIAL:
        raise ValueError(PADDING)
    return out  # type: ignore[return-value]


MAX_INPUTS = 1_000  # tensors one layer reads
MAX_SHAPE_AXES = 8
NAMES = f"a non-empty list of at most {MAX_INPUTS:,} tensor names"
SHAPE = f"a non-empty list of at most {MAX_SHAPE_AXES} positive integers, each at most {MAX_GEMM_DIM:,}"


def parse_names(value: object) -> tuple[str, ...]:
    """``[a, b]`` -> ``("a", "b")``; a bare string is refused (a typo for a list, or a list of letters)."""
    if isinstance(value, list) and 0 < len(value) <= MAX_INPUTS and all(
            isinstance(v, str) and v.strip() and len(v) <= MAX_NAME_CHARS for v in value):
        return tuple(value)
    raise ValueError(NAMES)


def parse_shape(value: object) -> tuple[int, ...]:
    """``[224, 224, 3]`` -> ``(224, 224, 3)``."""
    if isinstance(value, list) and 0 < len(value) <= MAX_SHAPE_AXES and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_GEMM_DIM for v in value):
        return tuple(value)
    raise ValueError(SHAPE)


def _names_check() -> Check:
    return Check(NAMES, lambda v: isinstance(v, tuple) and 0 < len(v) <= MAX_INPUTS
                 and all(isinstance(x, str) and x.strip() and len(x) <= MAX_NAME_CHARS for x in v))


def _shape_check() -> Check:
    return Check(SHAPE, lambda v: isinstance(v, tuple) and 0 < len(v) <= MAX_SHAPE_AXES
                 and all(isinstance(x, int) and not isinstance(x, bool) and 0 < x <= MAX_GEMM_DIM for x in v))


def inputs_spec() -> object:
    """The ``inputs`` field every layer type has."""
    return spec(_names_check(), default=None, parse=parse_names,
                doc="tensors it reads, in order (default: the previous layer's output)")


def names_text(names: tuple[str, ...]) -> str:
    """``("a", "b")`` -> ``['a', 'b']``, the way an error echoes a list of names."""
    return "[" + ", ".join(repr(n) for n in names) + "]"


def _check_arity(inputs: tuple[str, ...] | None, most: int, what: str) -> None:
    if inputs is not None and len(inputs) > most:
        raise ConfigError(PYTHON, "inputs", f"expected {what}, got {names_text(inputs)}")


_PAIR_JSON = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_SPATIAL},
                        {"type": "array", "minItems": 2, "maxItems": 2,
                         "items": {"type": "integer", "minimum": 1, "maximum": MAX_SPATIAL}}]}
_PADDING_JSON = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_SPATIAL}] + [
    {"type": "array", "minItems": n, "maxItems": n, "items": {"type": "integer", "minimum": 0, "maximum": MAX_SPATIAL}}
    for n in (2, 4)]}


def _pair_check() -> Check:
    return Check(PAIR, lambda v: isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, int) and 1 <= x <= MAX_SPATIAL
                                                                             for x in v), json=_PAIR_JSON)


def _padding_check() -> Check:
    return Check(PADDING, lambda v: isinstance(v, tuple) and len(v) == 4 and all(isinstance(x, int) and 0 <= x <= MAX_SPATIAL
                                                                                for x in v), json=_PADDING_JSON)


@dataclass(frozen=True)
class Conv2d(Validated):
    """2-D convolution (grouped and depthwise included), NHWC, per sample."""

    name: str = spec(non_empty_string())
    H: int = spec(positive_int(MAX_SPATIAL), doc="input height")
    W: int = spec(positive_int(MAX_SPATIAL), doc="input width")
    C: int = spec(positive_int(MAX_CHANNELS_PER_LAYER), doc="input channels")
    K: int = spec(positive_int(MAX_CHANNELS_PER_LAYER), doc="output channels (filters)")
    R: int = spec(positive_int(MAX_SPATIAL), doc="filter height")
    S: int = spec(positive_int(MAX_SPATIAL), doc="filter width")
    stride: tuple[int, int] = spec(_pair_check(), default=(1, 1), parse=parse_pair)
    padding: tuple[int, int, int, int] = spec(_padding_check(), default=(0, 0, 0, 0), parse=parse_padding,
                                              doc="top, bottom, left, right")
    dilation: tuple[int, int] = spec(_pair_check(), default=(1, 1), parse=parse_pair)
    groups: int = spec(positive_int(MAX_CHANNELS_PER_LAYER), default=1,
                       doc="C and K split into groups; groups = C is depthwise")
    inputs: tuple[str, ...] | None = inputs_spec()
    sparsity: Sparsity | None = spec(default=None, doc="zeros in its weights and inputs (null: the workload's "
                                                       "default, docs/workloads.md)")

    def validate(self) -> None:
        _check_arity(self.inputs, 1, "one tensor name for a conv2d")
        for dim in ("C", "K"):
            if getattr(self, dim) % self.groups:
                raise ConfigError(PYTHON, "groups", f"expected a divisor of {dim} = {getattr(self, dim)}, "
                                                    f"got {self.groups}")
        for axis, (size, kernel, pads, dil) in {
            "R": (self.H, self.R, self.padding[0] + self.padding[1], self.dilation[0]),
            "S": (self.W, self.S, self.padding[2] + self.padding[3], self.dilation[1]),
        }.items():
            span = dil * (kernel - 1) + 1
            if span > size + pads:
                raise ConfigError(PYTHON, axis, f"expected a kernel no larger than the padded input "
                                                f"({size} + {pads} padding), got {kernel}"
                                                + (f" (dilated span {span})" if dil > 1 else ""))

    @property
    def P(self) -> int:
        """Output height."""
        span = self.dilation[0] * (self.R - 1) + 1
        return (self.H + self.padding[0] + self.padding[1] - span) // self.stride[0] + 1

    @property
    def Q(self) -> int:
        """Output width."""
        span = self.dilation[1] * (self.S - 1) + 1
        return (self.W + self.padding[2] + self.padding[3] - span) // self.stride[1] + 1

    @property
    def kind(self) -> str:
        if self.groups > 1 and self.groups == self.C:
            return "dwconv"
        if self.groups > 1:
            return "gconv"
        if self.R == self.S == 1:
            return "pwconv"
        return "conv"

    def macs(self, batch: int) -> int:
        return batch * self.P * self.Q * self.K * (self.C // self.groups) * self.R * self.S

    def input_elements(self, batch: int) -> int:
        return batch * self.H * self.W * self.C

    def weight_elements(self, batch: int) -> int:
        return self.K * (self.C // self.groups) * self.R * self.S

    def output_elements(self, batch: int) -> int:
        return batch * self.P * self.Q * self.K


@dataclass(frozen=True)
class Gemm(Validated):
    """``out[M x N] = in[M x K] . w[K x N]``, ``count`` independent instances per sample.

    ``shared_weights``: the right operand is a weight shared by the batch (fully
    connected, projections), so batch multiplies M. Otherwise both operands are
    activations (attention scores), and batch multiplies the instances.
    """

    name: str = spec(non_empty_string())
    M: int = spec(positive_int(MAX_GEMM_DIM), doc="rows of the output per sample")
    N: int = spec(positive_int(MAX_GEMM_DIM), doc="columns of the output")
    K: int = spec(positive_int(MAX_GEMM_DIM), doc="reduction length")
    count: int = spec(positive_int(MAX_GEMM_COUNT), default=1, doc="independent GEMMs per sample (e.g. attention heads)")
    shared_weights: bool = spec(default=True, doc="right operand is a weight shared across the batch")
    inputs: tuple[str, ...] | None = inputs_spec()
    sparsity: Sparsity | None = spec(default=None, doc="zeros in its weights and inputs (null: the workload's "
                                                       "default, docs/workloads.md)")

    def validate(self) -> None:
        if self.shared_weights:
            _check_arity(self.inputs, 1, "one tensor name (the right operand is a weight; with shared_weights: "
                                         "false a second name is the right operand)")
        else:
            _check_arity(self.inputs, 2, "one or two tensor names (the left operand, then the right one)")

    @property
    def kind(self) -> str:
        return "gemm"

    def macs(self, batch: int) -> int:
        return batch * self.count * self.M * self.N * self.K

    def input_elements(self, batch: int) -> int:
        return batch * self.count * self.M * self.K

    def weight_elements(self, batch: int) -> int:
        return self.count * self.K * self.N * (1 if self.shared_weights else batch)

    def output_elements(self, batch: int) -> int:
        return batch * self.count * self.M * self.N


@dataclass(frozen=True)
class NonGemm(Validated):
    """Work that never runs on the array: pooling, element-wise, activation, reshape.

    ``ops`` is element operations per sample; the vector unit (when the hwconfig
    has one) retires ``vector.elements_per_cycle`` of them per cycle, else the
    layer is fused into its neighbour and free. ``shape`` is its output per
    sample (default: its first input's); ``input_shape``, when given, is checked
    against every input (a pool's ``H x W x C``, an element-wise op's count).
    """

    name: str = spec(non_empty_string())
    op: str = spec(non_empty_string(), doc="what it does: maxpool, add, relu, ...")
    ops: int = spec(non_negative_int(MAX_NONGEMM_OPS), doc="element operations per sample")
    inputs: tuple[str, ...] | None = inputs_spec()
    shape: tuple[int, ...] | None = spec(_shape_check(), default=None, parse=parse_shape,
                                         doc="output shape per sample (default: its first input's)")
    input_shape: tuple[int, ...] | None = spec(_shape_check(), default=None, parse=parse_shape,
                                               doc="the shape every input must match (default: any)")

    @property
    def kind(self) -> str:
        return "nongemm"

    def macs(self, batch: int) -> int:
        return 0

    def input_elements(self, batch: int) -> int:
        return 0

    def weight_elements(self, batch: int) -> int:
        return 0

    def output_elements(self, batch: int) -> int:
        return 0


@dataclass(frozen=True)
class Concat(NonGemm):
    """Tensors joined along their channels (the last axis), which must agree on ``H x W``.

    No arithmetic: its producers can write into slices of one tensor, so a
    residency model may treat it as free. It is a :class:`NonGemm` of op
    ``concat`` and 0 ops, so everything that runs non-GEMM work runs it.
    """

    op: str = field(default="concat", init=False)
    ops: int = field(default=0, init=False)
    shape: tuple[int, ...] | None = field(default=None, init=False)
    input_shape: tuple[int, ...] | None = field(default=None, init=False)

    def validate(self) -> None:
        if self.inputs is None:
            raise ConfigError(PYTHON, "inputs", "missing required key, expected a list of at least 2 tensor "
                                                "names to concatenate")
        if len(self.inputs) < 2:
            raise ConfigError(PYTHON, "inputs", f"expected at least 2 tensor names to concatenate, "
                                                f"got {names_text(self.inputs)}")
        for j, name in enumerate(self.inputs):
            first = self.inputs.index(name)
            if first < j:
                raise ConfigError(PYTHON, f"inputs[{j}]", f"expected each tensor once in a concat, got {name!r} "
                                                          f"again (also inputs[{first}])")


Layer = Union[Conv2d, Gemm, NonGemm]
GEMM_LAYERS = (Conv2d, Gemm)


@dataclass(frozen=True)
class NetworkInput(Validated):
    """A tensor the network reads from outside (an image, a sequence of embeddings), per sample."""

    name: str = spec(non_empty_string())
    shape: tuple[int, ...] = spec(_shape_check(), parse=parse_shape, doc="per sample, e.g. [224, 224, 3]")


@dataclass(frozen=True)
class StateTensor(Validated):
    """A tensor that exists before the step and outlives it: a decode step's KV cache.

    Some layers read it (attention's right operands); ``appended_by`` names the layer whose
    output is written into it (the new token's keys or values: a slice of the state, not a
    tensor of its own). The residency planner places it like any tensor (docs/engine.md,
    "Residency"): it may live on chip, for the whole step, if it fits.
    """

    name: str = spec(non_empty_string())
    shape: tuple[int, ...] = spec(_shape_check(), parse=parse_shape, doc="per sample, e.g. [1024, 768]")
    appended_by: str | None = spec(non_empty_string(), default=None,
                                   doc="the layer whose output is appended to it (null: none)")


class Phase(enum.Enum):
    """What step of a language model's inference a workload is (``phase:``)."""

    PREFILL = "prefill"  # the prompt, all tokens at once: its latency is the time to first token
    DECODE = "decode"    # one new token per sequence: tokens per second


@dataclass(frozen=True)
class Workload(Validated):
    name: str = spec(non_empty_string())
    layers: tuple = spec(Check(f"a non-empty list of at most {MAX_LAYERS:,} layers", lambda v: isinstance(v, tuple) and 0 < len(v) <= MAX_LAYERS))
    batch: int = spec(positive_int(MAX_BATCH), default=1)
    source: str = spec(default="", doc="the file it was loaded from")
    inputs: tuple = spec(Check(f"a list of at most {MAX_INPUTS:,} network inputs", lambda v: isinstance(v, tuple)
                               and len(v) <= MAX_INPUTS and all(
        isinstance(x, NetworkInput) for x in v)), default=(),
        doc="the network's inputs (default: one named input, shaped as the first layer's input)")
    sparsity: Sparsity | None = spec(default=None, doc="default sparsity of its conv and gemm layers (null: dense)")
    state: tuple = spec(Check("a list of state tensors", lambda v: isinstance(v, tuple) and all(
        isinstance(x, StateTensor) for x in v)), default=(),
        doc="tensors that exist before the step and outlive it (a KV cache)")
    phase: Phase | None = spec(default=None, doc="prefill or decode: a language model's step (null: neither)")
    dims: Mapping[str, int] = spec(positive_int(), default=FrozenMap(),
                                   doc="the sizes of the dimensions its layers are written with (seq: 128)")

    def validate(self) -> None:
        seen: dict[str, int] = {}
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (Conv2d, Gemm, NonGemm)):
                raise ConfigError(PYTHON, f"layers[{i}]", f"expected a layer, got {type(layer).__name__}")
            if layer.name in seen:
                raise ConfigError(PYTHON, f"layers[{i}].name",
                                  f"expected a unique layer name, got {layer.name!r} "
                                  f"(also layers[{seen[layer.name]}])")
            seen[layer.name] = i
        self.graph  # noqa: B018  (built here, so that a bad edge is an error at load time)

    @cached_property
    def graph(self) -> "Graph":
        """The tensor graph (:mod:`accelsim.graph`): edges resolved, shapes checked; per sample."""
        from accelsim.graph import build_graph  # the graph sits above config

        return build_graph(self)

    def sparsity_of(self, layer: Layer) -> Sparsity:
        """A layer's sparsity: its own, else the workload's default, else dense."""
        return getattr(layer, "sparsity", None) or self.sparsity or Sparsity()

    def with_batch(self, batch: int) -> "Workload":
        return replace(self, batch=batch)

    @property
    def gemm_layers(self) -> tuple:
        return tuple(layer for layer in self.layers if isinstance(layer, GEMM_LAYERS))

    def macs(self) -> int:
        return sum(layer.macs(self.batch) for layer in self.layers)
