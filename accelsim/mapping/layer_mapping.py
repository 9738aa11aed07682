"""One layer on the array: extents, folds, mapping efficiency and compute cycles."""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.config.hardware import ArrayConfig
from accelsim.config.workload import Conv2d, Layer
from accelsim.mapping.dataflow import Extents, PhaseCycles, strategy_for, timing_for
from accelsim.mapping.gemm import GemmShape, gemm_view, groups_per_fold


@dataclass(frozen=True)
class LayerMapping:
    """How a GEMM layer folds onto the array, before tiling for the buffers.

    ``compute`` is the array's cycles with every operand on chip in time: the
    compute bound of the layer, by phase.
    """

    layer: str
    gemm: GemmShape
    extents: Extents
    row_folds: int
    col_folds: int
    mapping_efficiency: float
    compute: PhaseCycles

    @property
    def folds(self) -> int:
        """Folds of the whole layer (all repeats)."""
        return self.row_folds * self.col_folds * self.gemm.repeats


def fold_counts(extents: Extents, array: ArrayConfig) -> tuple[int, int]:
    return math.ceil(extents.rows / array.rows), math.ceil(extents.cols / array.cols)


def mapping_efficiency(extents: Extents, array: ArrayConfig, packed: int = 1) -> float:
    """Fraction of PEs holding real work, averaged over folds (as SCALE-Sim does).

    Row and column folds are independent, so the average of
    ``used_rows * used_cols / (R * C)`` over folds factors into two ratios; a fold of
    ``packed`` groups side by side uses only its diagonal blocks, ``1 / packed`` of its tile.
    """
    row_folds, col_folds = fold_counts(extents, array)
    return (extents.rows / (row_folds * array.rows)) * (extents.cols / (col_folds * array.cols)) / packed


def array_gemm(layer: Layer, array: ArrayConfig, batch: int) -> GemmShape | None:
    """The GEMM a layer runs as on this array: a grouped or depthwise convolution packs as many
    groups per fold as fit, side by side, where the dataflow allows it (``packs_groups``: WS),
    the fold timing is pipelined (SCALE-Sim's runs one group after another) and
    ``array.pack_groups`` is on; otherwise one group per GEMM."""
    gemm = gemm_view(layer, batch)
    if gemm is None or gemm.repeats == 1 or not isinstance(layer, Conv2d):
        return gemm
    strategy = strategy_for(array.dataflow)
    if not (strategy.packs_groups and array.pipelined_folds and array.pack_groups):
        return gemm
    across, down = (gemm.K, gemm.N) if strategy.row_dim == "K" else (gemm.N, gemm.K)
    packed = groups_per_fold(layer.groups, across, down, array.rows, array.cols)
    return gemm_view(layer, batch, packed) if packed > 1 else gemm


def map_layer(layer: Layer, array: ArrayConfig, batch: int) -> LayerMapping | None:
    """The array mapping of a GEMM layer, or None for non-GEMM work."""
    from accelsim.mapping.sparse import sparse_gemm  # (sparse imports the config layer only)

    gemm = sparse_gemm(array_gemm(layer, array, batch), layer, array)  # N:M skipping compresses K
    if gemm is None:
        return None
    strategy = strategy_for(array.dataflow)
    extents = strategy.extents(gemm)
    row_folds, col_folds = fold_counts(extents, array)
    folds = row_folds * col_folds * gemm.repeats
    compute = timing_for(array).folds(strategy, array, extents.time, folds)
    return LayerMapping(layer=layer.name, gemm=gemm, extents=extents, row_folds=row_folds,
                        col_folds=col_folds, mapping_efficiency=mapping_efficiency(extents, array, gemm.packed),
                        compute=compute)


@dataclass(frozen=True)
class ArrayAccesses:
    """Elements the array reads from (and writes to) each operand's buffer.

    Per GEMM: the operand streamed from the left is read ``T`` times per used
    row in every column fold, the one along the columns ``T`` times per used
    column in every row fold, the stationary tile once per fold. Outputs that
    leave at the bottom (WS, IS) are written per row fold and read back to
    accumulate on every fold after the first; stationary outputs (OS) are
    written once.
    """

    reads: dict
    writes: dict


def array_accesses(mapping: LayerMapping, array: ArrayConfig) -> ArrayAccesses:
    from accelsim.mapping.gemm import Operand

    strategy = strategy_for(array.dataflow)
    ext, rep = mapping.extents, mapping.gemm.repeats
    left = ext.time * ext.rows * mapping.col_folds * rep
    down = ext.time * ext.cols * mapping.row_folds * rep
    stationary = ext.rows * ext.cols * rep // mapping.gemm.packed  # packed: its diagonal blocks
    reads = {Operand.INPUT: 0, Operand.WEIGHT: 0, Operand.OUTPUT: 0}
    writes = dict(reads)
    reads[strategy.from_left] += left
    reads[strategy.stationary] += stationary
    if strategy.along_cols is Operand.OUTPUT:
        writes[Operand.OUTPUT] += down
        reads[Operand.OUTPUT] += down - ext.time * ext.cols * rep
    else:
        reads[strategy.along_cols] += down
    if strategy.stationary is Operand.OUTPUT:
        reads[Operand.OUTPUT] -= stationary
        writes[Operand.OUTPUT] += stationary
    return ArrayAccesses(reads=reads, writes=writes)
