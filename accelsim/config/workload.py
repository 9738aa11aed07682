"""Workloads: a batch size and an ordered list of layers, as frozen dataclasses.

Layer shapes use the field's usual letters (Eyeriss / Timeloop notation): an
input of ``H x W x C``, ``K`` filters of ``R x S``, output ``P x Q``. The
mathematical sizes of a layer (MACs, element counts of its tensors) live here;
how a layer becomes GEMMs on an array lives in :mod:`accelsim.mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Union

from accelsim.config.schema import (  # MAX_*: the documented bounds (docs/workloads.md)
    MAX_BATCH, MAX_CHANNELS_PER_LAYER, MAX_GEMM_COUNT, MAX_GEMM_DIM, MAX_LAYERS, MAX_NONGEMM_OPS, MAX_SPATIAL,
    PYTHON,
    Check,
    Validated,
    non_empty_string,
    non_negative_int,
    positive_int,
    spec,
)
from accelsim.errors import ConfigError


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
    groups: int = spec(positive_int(MAX_CHANNELS_PER_LAYER), default=1, doc="C and K split into groups; groups = C is depthwise")

    def validate(self) -> None:
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
    layer is fused into its neighbour and free.
    """

    name: str = spec(non_empty_string())
    op: str = spec(non_empty_string(), doc="what it does: maxpool, add, relu, ...")
    ops: int = spec(non_negative_int(MAX_NONGEMM_OPS), doc="element operations per sample")

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


Layer = Union[Conv2d, Gemm, NonGemm]
GEMM_LAYERS = (Conv2d, Gemm)


@dataclass(frozen=True)
class Workload(Validated):
    name: str = spec(non_empty_string())
    layers: tuple = spec(Check(f"a non-empty list of at most {MAX_LAYERS:,} layers", lambda v: isinstance(v, tuple) and 0 < len(v) <= MAX_LAYERS))
    batch: int = spec(positive_int(MAX_BATCH), default=1)
    source: str = spec(default="", doc="the file it was loaded from")

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

    def with_batch(self, batch: int) -> "Workload":
        return replace(self, batch=batch)

    @property
    def gemm_layers(self) -> tuple:
        return tuple(layer for layer in self.layers if isinstance(layer, GEMM_LAYERS))

    def macs(self) -> int:
        return sum(layer.macs(self.batch) for layer in self.layers)
