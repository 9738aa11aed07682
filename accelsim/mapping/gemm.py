"""Layers as matrix products: ``out[M x N] = in[M x K] . w[K x N]``, repeated.

A convolution with batch B, output P x Q, C/G input channels per group and
K/G filters per group is ``repeats = G`` GEMMs of ``M = B.P.Q``,
``K = (C/G).R.S``, ``N = K/G``. Depthwise (G = C) is therefore C tiny GEMMs
with ``K = R.S`` and ``N = 1``, which is why it runs badly on a systolic array.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from accelsim.config.memory import DataKind
from accelsim.config.workload import Conv2d, Gemm, Layer


class Operand(enum.Enum):
    """The three tensors of a GEMM."""

    INPUT = "input"    # in[M x K]: activations (im2col view for convolutions)
    WEIGHT = "weight"  # w[K x N]
    OUTPUT = "output"  # out[M x N]: partial sums until the reduction is complete

    @property
    def kind(self) -> DataKind:
        """The kind of data its tiles are: which buffer holds them (config.memory)."""
        return _KIND[self]


_KIND = {Operand.INPUT: DataKind.ACTIVATIONS, Operand.WEIGHT: DataKind.WEIGHTS, Operand.OUTPUT: DataKind.PSUMS}


@dataclass(frozen=True)
class GemmShape:
    """``repeats`` independent GEMMs of the same ``M x K x N`` shape."""

    M: int
    K: int
    N: int
    repeats: int = 1

    @property
    def macs(self) -> int:
        return self.repeats * self.M * self.K * self.N

    def extent(self, dim: str) -> int:
        return {"M": self.M, "K": self.K, "N": self.N}[dim]


def gemm_view(layer: Layer, batch: int) -> GemmShape | None:
    """The GEMM form of a layer, or None for work that never runs on the array."""
    if isinstance(layer, Conv2d):
        groups = layer.groups
        return GemmShape(M=batch * layer.P * layer.Q, K=(layer.C // groups) * layer.R * layer.S,
                         N=layer.K // groups, repeats=groups)
    if isinstance(layer, Gemm):
        if layer.shared_weights:
            return GemmShape(M=batch * layer.M, K=layer.K, N=layer.N, repeats=layer.count)
        return GemmShape(M=layer.M, K=layer.K, N=layer.N, repeats=layer.count * batch)
    return None
