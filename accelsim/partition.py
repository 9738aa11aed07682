"""Splitting a layer's work between the cores of a chip (``cores`` > 1): pure, deterministic.

One strategy object per kind of split; each turns a layer (and the batch) into one share per
core, a layer of the same type with a smaller shape, or says the split is not legal for the
layer (``None``). What a split replicates follows from the shapes of the shares, which the
tiler and the schedule then count as traffic like any other layer's:

* ``channels``: each core computes a range of output channels (a convolution's filters, a
  GEMM's columns N). The weights are divided; every core reads the whole input (replicated n
  times; a grouped convolution divides whole groups, so each core reads only its groups'
  channels).
* ``pixels``: each core computes a range of output rows (a convolution's rows P, a GEMM's rows
  M per sample). The weights are replicated to every core; a convolution's share reads the input
  rows its windows touch, so neighbouring cores both read the rows between them (the halo:
  ``(R - 1) x dilation - (stride - 1)`` rows per boundary when positive), and the padding of the
  edges stays with the edge cores.
* ``batch``: each core computes some of the samples. Weights replicated, nothing else.
* ``heads``: each core computes some of a GEMM's independent products (``count``: attention's
  heads). Each reads and writes only its own; nothing is replicated. Where a head is narrow
  (scores x V: 64 columns per head) this keeps every fold as wide as the head, which splitting
  its columns would cut by the number of cores.

Shares are near-equal: ``n // cores`` each, the first ``n % cores`` one more. A split whose
smallest share would be empty is not legal. Layers off the array (vector, depthwise engine,
fused) are split element-wise by the schedule (``schedule.split_elements``), not here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accelsim.config.hardware import Partition
from accelsim.config.workload import Conv2d, Gemm, Layer


@dataclass(frozen=True)
class Share:
    """One core's part of a layer: a layer of the same type, run at ``batch``."""

    core: int
    layer: Layer
    batch: int


def near_equal(n: int, parts: int) -> tuple[int, ...]:
    """``n`` cut into ``parts`` integers differing by at most one, larger first."""
    return tuple(n // parts + (i < n % parts) for i in range(parts))


def _ranges(n: int, parts: int) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for size in near_equal(n, parts):
        out.append((start, start + size))
        start += size
    return tuple(out)


class ChannelSplit:
    """Output channels: weights divided, inputs replicated (grouped convolutions: whole groups)."""

    name = "channels"
    replicates = "inputs"

    def split(self, layer: Layer, batch: int, cores: int) -> tuple[Share, ...] | None:
        if isinstance(layer, Conv2d):
            if layer.groups == 1:
                if layer.K < cores:
                    return None
                return tuple(Share(c, replace(layer, K=k), batch) for c, k in enumerate(near_equal(layer.K, cores)))
            if layer.groups < cores:
                return None
            per_c, per_k = layer.C // layer.groups, layer.K // layer.groups
            return tuple(Share(c, replace(layer, C=g * per_c, K=g * per_k, groups=g), batch)
                         for c, g in enumerate(near_equal(layer.groups, cores)))
        if isinstance(layer, Gemm):
            if layer.N < cores:
                return None
            return tuple(Share(c, replace(layer, N=n), batch) for c, n in enumerate(near_equal(layer.N, cores)))
        return None


class PixelSplit:
    """Output rows: weights replicated, each core reads its rows' input band (halo included)."""

    name = "pixels"
    replicates = "weights (and halo rows)"

    def split(self, layer: Layer, batch: int, cores: int) -> tuple[Share, ...] | None:
        if isinstance(layer, Conv2d):
            if layer.P < cores:
                return None
            shares = []
            for c, (p0, p1) in enumerate(_ranges(layer.P, cores)):
                sub = conv_rows(layer, p0, p1)
                if sub is None:
                    return None
                shares.append(Share(c, sub, batch))
            return tuple(shares)
        if isinstance(layer, Gemm):
            if layer.M < cores:
                return None
            return tuple(Share(c, replace(layer, M=m), batch) for c, m in enumerate(near_equal(layer.M, cores)))
        return None


def conv_rows(layer: Conv2d, p0: int, p1: int) -> Conv2d | None:
    """The convolution computing output rows ``[p0, p1)`` of ``layer``: the input rows those
    windows touch (clipped to the input) and the padding that is left at the edges; None when
    the rows lie wholly in the padding."""
    top, bottom, left, right = layer.padding
    sh, dh = layer.stride[0], layer.dilation[0]
    first = p0 * sh - top                               # input row of the first window's top (unpadded)
    last = (p1 - 1) * sh - top + (layer.R - 1) * dh     # input row of the last window's bottom
    rows = min(last, layer.H - 1) - max(first, 0) + 1
    if rows < 1:
        return None
    return replace(layer, H=rows, padding=(max(0, -first), max(0, last - (layer.H - 1)), left, right))


class BatchSplit:
    """Samples: weights replicated, each core reads and writes only its samples."""

    name = "batch"
    replicates = "weights"

    def split(self, layer: Layer, batch: int, cores: int) -> tuple[Share, ...] | None:
        if batch < cores or not isinstance(layer, (Conv2d, Gemm)):
            return None
        return tuple(Share(c, layer, b) for c, b in enumerate(near_equal(batch, cores)))


class HeadSplit:
    """Whole independent GEMMs (attention heads): each core reads and writes only its own."""

    name = "heads"
    replicates = "nothing"

    def split(self, layer: Layer, batch: int, cores: int) -> tuple[Share, ...] | None:
        if not isinstance(layer, Gemm) or layer.count < cores:
            return None
        return tuple(Share(c, replace(layer, count=h), batch) for c, h in enumerate(near_equal(layer.count, cores)))


class WholeLayer:
    """The last resort when no split is legal: the whole layer on core 0, the others wait."""

    name = "single"
    replicates = "nothing"

    def split(self, layer: Layer, batch: int, cores: int) -> tuple[Share, ...]:
        return (Share(0, layer, batch),)


STRATEGIES = {Partition.CHANNELS: ChannelSplit(), Partition.PIXELS: PixelSplit(), Partition.BATCH: BatchSplit(),
              Partition.HEADS: HeadSplit()}
WHOLE = WholeLayer()


def candidates(layer: Layer, batch: int, cores: int, choice: Partition) -> list[tuple[str, tuple[Share, ...]]]:
    """The splits to consider for ``layer``: the fixed one when it is legal, else (``auto``, or
    a fixed one that is not legal here) every legal one in the order channels, pixels, batch, heads;
    the whole layer on one core when none is."""
    if choice is not Partition.AUTO:
        shares = STRATEGIES[choice].split(layer, batch, cores)
        if shares is not None:
            return [(STRATEGIES[choice].name, shares)]
    out = []
    for strategy in STRATEGIES.values():
        shares = strategy.split(layer, batch, cores)
        if shares is not None:
            out.append((strategy.name, shares))
    return out or [(WHOLE.name, WHOLE.split(layer, batch, cores))]
