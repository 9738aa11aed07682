"""Layers -> GEMMs -> folds on the array (dataflow strategies, fold timing) -> tiles."""

from accelsim.mapping.dataflow import (
    DATAFLOWS,
    DataflowStrategy,
    Extents,
    FoldTiming,
    PhaseCycles,
    PipelinedFoldTiming,
    ScaleSimFoldTiming,
    strategy_for,
    timing_for,
)
from accelsim.mapping.gemm import GemmShape, Operand, gemm_view
from accelsim.mapping.layer_mapping import LayerMapping, array_gemm, map_layer, mapping_efficiency

__all__ = [
    "DATAFLOWS", "DataflowStrategy", "Extents", "FoldTiming", "GemmShape", "LayerMapping", "Operand",
    "PhaseCycles", "PipelinedFoldTiming", "ScaleSimFoldTiming", "array_gemm", "gemm_view", "map_layer",
    "mapping_efficiency", "strategy_for", "timing_for",
]
