"""N:M structured weights on an array that skips their zeros (``array.sparse_nm``).

A layer whose weights have the N:M structure the array supports (or a sparser one: fewer
non-zeros in every group of the same M) keeps only its non-zero weights: in every group of M
consecutive reduction indices, N stay. The array maps the kept weights only, so the reduction
becomes ``K' = ceil(K N / M)`` rows (WS, IS) or cycles (OS): fewer folds, fewer MACs (the
zero MACs are skipped), the same outputs. The mapping cost: every kept weight carries
``ceil(log2 M)`` bits of index (moved from DRAM and held in the weight buffer with it), and each
PE row selects its input from the M of its group, so the input footprint is the dense one.
"""

from __future__ import annotations

import math
from dataclasses import replace

from accelsim.config.hardware import ArrayConfig
from accelsim.config.sparsity import Sparsity, parse_nm
from accelsim.config.workload import Layer
from accelsim.mapping.gemm import GemmShape


def skipped_nm(layer: Layer, array: ArrayConfig) -> tuple[int, int] | None:
    """(N, M) when the array skips the zero weights of ``layer``, else None."""
    sparsity: Sparsity | None = getattr(layer, "sparsity", None)
    if array.sparse_nm is None or sparsity is None or sparsity.nm is None:
        return None
    n, m = parse_nm(array.sparse_nm)
    layer_n, layer_m = sparsity.nm
    return (n, m) if layer_m == m and layer_n <= n else None


def sparse_gemm(gemm: GemmShape | None, layer: Layer, array: ArrayConfig) -> GemmShape | None:
    """The GEMM the array runs: the reduction compressed to the kept weights when it skips them."""
    nm = skipped_nm(layer, array)
    if gemm is None or nm is None:
        return gemm
    n, m = nm
    return replace(gemm, K=-(-gemm.K * n // m))


def index_bits(layer: Layer, array: ArrayConfig) -> int:
    """Bits of index each kept weight carries (0 when the array does not skip)."""
    nm = skipped_nm(layer, array)
    return 0 if nm is None else math.ceil(math.log2(nm[1]))
