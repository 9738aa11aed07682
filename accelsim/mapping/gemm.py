"""Layers as matrix products: ``out[M x N] = in[M x K] . w[K x N]``, repeated.

A convolution with batch B, output P x Q, C/G input channels per group and
K/G filters per group is G GEMMs of ``M = B.P.Q``, ``K = (C/G).R.S``,
``N = K/G``. Depthwise (G = C) is therefore C tiny GEMMs with ``K = R.S`` and
``N = 1``, which is why it runs badly on a systolic array, unless the dataflow
packs several groups into one fold (:func:`gemm_view` with ``packed``): ``p``
groups side by side make one GEMM of ``K = p.Kg``, ``N = p.Ng`` whose weight
matrix is block-diagonal (each group uses its own rows and columns), repeated
``G / p`` times.
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

    # Operands key the tiler's tables and every per-operand dict, tens of thousands of lookups per
    # schedule: the identity hash (members are singletons) is a C call, Enum's hashes the name in
    # Python. Neither is the same from one process to the next, so no output may depend on it.
    __hash__ = object.__hash__

    @property
    def kind(self) -> DataKind:
        """The kind of data its tiles are: which buffer holds them (config.memory)."""
        return _KIND[self]


_KIND = {Operand.INPUT: DataKind.ACTIVATIONS, Operand.WEIGHT: DataKind.WEIGHTS, Operand.OUTPUT: DataKind.PSUMS}


@dataclass(frozen=True)
class GemmShape:
    """``repeats`` independent GEMMs of the same ``M x K x N`` shape.

    ``packed`` > 1: each GEMM is ``packed`` groups side by side, its weight matrix
    block-diagonal (``packed`` blocks of ``K/packed x N/packed``): only those blocks are
    weights and MACs; the rest of the tile holds zeros.
    """

    M: int
    K: int
    N: int
    repeats: int = 1
    packed: int = 1

    @property
    def macs(self) -> int:
        return self.repeats * self.M * self.K * self.N // self.packed

    @property
    def weight_elements(self) -> int:
        """Real weights per GEMM (the diagonal blocks when packed)."""
        return self.K * self.N // self.packed

    def extent(self, dim: str) -> int:
        return {"M": self.M, "K": self.K, "N": self.N}[dim]


def groups_per_fold(groups: int, k_group: int, n_group: int, rows: int, cols: int) -> int:
    """How many groups of ``k_group x n_group`` fit side by side in one ``rows x cols`` fold,
    taken as the largest divisor of ``groups`` that fits (so every fold is the same shape)."""
    most = min(rows // k_group, cols // n_group, groups)
    return max(p for p in range(1, max(most, 1) + 1) if groups % p == 0)


def gemm_view(layer: Layer, batch: int, packed: int = 1) -> GemmShape | None:
    """The GEMM form of a layer, or None for work that never runs on the array; a grouped
    convolution with ``packed`` groups per GEMM (a divisor of its groups)."""
    if isinstance(layer, Conv2d):
        groups = layer.groups
        k, n = (layer.C // groups) * layer.R * layer.S, layer.K // groups
        return GemmShape(M=batch * layer.P * layer.Q, K=k * packed, N=n * packed, repeats=groups // packed,
                         packed=packed)
    if isinstance(layer, Gemm):
        if layer.shared_weights:
            return GemmShape(M=batch * layer.M, K=layer.K, N=layer.N, repeats=layer.count)
        return GemmShape(M=layer.M, K=layer.K, N=layer.N, repeats=layer.count * batch)
    return None
