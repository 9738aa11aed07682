"""The fold shapes of a workload on an array, and one check of the timing formulas per shape.

A fold's timing depends on the array, the dataflow, the fold mode and T; its
values on how many rows and columns it uses. ``accelsim validate`` runs each
distinct shape through the register model (two consecutive folds, so that the
interval between folds is exercised) and compares with
:mod:`accelsim.mapping.dataflow`, the formulas the engine and the analytical
model use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from accelsim.config.hardware import ArrayConfig, Dataflow
from accelsim.config.workload import Workload
from accelsim.mapping import map_layer, strategy_for, timing_for
from accelsim.reference.model import HazardError, simulate_gemm


@dataclass(frozen=True)
class FoldShape:
    """One placement of a stationary tile: used rows and columns of the array, vectors streamed."""

    rows_used: int
    cols_used: int
    time: int  # T
    layers: tuple[str, ...]  # the layers that have a fold of this shape
    packed: int = 1          # groups side by side in the fold (block-diagonal weights)

    def gemm_dims(self, dataflow: Dataflow) -> tuple[int, int, int]:
        """(M, K, N) of a GEMM that is exactly one fold of this shape."""
        r, c, t = self.rows_used, self.cols_used, self.time
        return {Dataflow.OS: (r, t, c), Dataflow.WS: (t, r, c), Dataflow.IS: (c, r, t)}[dataflow]

    def pe_cycles(self, array: ArrayConfig, folds: int) -> int:
        """An upper bound of the register model's work: PEs x cycles (for the time budget)."""
        return array.rows * array.cols * (folds * (self.time + 2 * array.rows + array.cols) + array.rows)


def fold_shapes(array: ArrayConfig, workload: Workload) -> list[FoldShape]:
    """Every distinct fold shape of the workload's GEMM layers, in layer order of first use."""
    found: dict[tuple[int, int, int, int], list[str]] = {}
    for layer in workload.layers:
        mapping = map_layer(layer, array, workload.batch)
        if mapping is None:
            continue
        ext = mapping.extents
        rows = {min(array.rows, ext.rows - f * array.rows) for f in range(mapping.row_folds)}
        cols = {min(array.cols, ext.cols - f * array.cols) for f in range(mapping.col_folds)}
        for r in sorted(rows, reverse=True):
            for c in sorted(cols, reverse=True):
                names = found.setdefault((r, c, ext.time, mapping.gemm.packed), [])
                if layer.name not in names:
                    names.append(layer.name)
    return [FoldShape(r, c, t, tuple(names), packed) for (r, c, t, packed), names in found.items()]


@dataclass(frozen=True)
class ShapeCheck:
    """The register model against the formulas for ``folds`` consecutive folds of one shape."""

    shape: FoldShape
    folds: int
    formula_starts: tuple[int, ...]    # stream_start of each fold, from accelsim.mapping
    formula_cycles: int                # timing_for(array).folds(...).total
    reference_starts: tuple[int, ...]  # empty when the model stopped on a hazard
    reference_cycles: int              # -1 when the model stopped on a hazard
    outputs_exact: bool
    hazard: str
    seconds: float

    @property
    def matches(self) -> bool:
        return (not self.hazard and self.outputs_exact and self.reference_starts == self.formula_starts
                and self.reference_cycles == self.formula_cycles)


def warm_up(array: ArrayConfig) -> float:
    """Compile (or load from numba's cache) the kernel for this array; return the seconds a
    tiny run then takes, the fixed cost of one :func:`simulate_gemm` call."""
    one = np.ones((1, 1), dtype=np.int32)
    simulate_gemm(one, one, array)
    began = time.perf_counter()
    simulate_gemm(one, one, array)
    return time.perf_counter() - began


def check_fold_shape(array: ArrayConfig, shape: FoldShape, folds: int = 2, seed: int = 0) -> ShapeCheck:
    """Run ``folds`` folds of ``shape`` (random int8 operands) and compare with the formulas."""
    strategy = strategy_for(array.dataflow)
    timing = timing_for(array)
    starts = tuple(timing.stream_start(strategy, array, shape.time, f) for f in range(folds))
    cycles = timing.folds(strategy, array, shape.time, folds).total
    m, k, n = shape.gemm_dims(array.dataflow)
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(folds, m, k), dtype=np.int32)
    b = rng.integers(-128, 128, size=(folds, k, n), dtype=np.int32)
    if shape.packed > 1:  # groups side by side: block-diagonal weights
        b = b * block_diagonal(k, n, shape.packed)
    began = time.perf_counter()
    try:
        run = simulate_gemm(a, b, array)
    except HazardError as err:
        return ShapeCheck(shape, folds, starts, cycles, (), -1, False, str(err), time.perf_counter() - began)
    seconds = time.perf_counter() - began
    exact = bool(np.array_equal(run.output, expected_output(a, b, shape.packed)))
    return ShapeCheck(shape, folds, starts, cycles, run.stream_starts, run.cycles, exact, "", seconds)


def block_diagonal(k: int, n: int, groups: int) -> np.ndarray:
    """A ``k x n`` mask of ``groups`` diagonal blocks of ``k/groups x n/groups`` ones."""
    kg, ng = k // groups, n // groups
    mask = np.zeros((k, n), dtype=np.int32)
    for g in range(groups):
        mask[g * kg:(g + 1) * kg, g * ng:(g + 1) * ng] = 1
    return mask


def expected_output(a: np.ndarray, b: np.ndarray, groups: int) -> np.ndarray:
    """What the array must compute, worked per group: each group's columns of the output are its
    own rows of the input times its own block of the weights (for one group, ``a @ b``)."""
    a, b = a.astype(np.int64), b.astype(np.int64)
    if groups == 1:
        return np.matmul(a, b)
    k, n = b.shape[-2:]
    kg, ng = k // groups, n // groups
    return np.concatenate([np.matmul(a[..., g * kg:(g + 1) * kg], b[..., g * kg:(g + 1) * kg, g * ng:(g + 1) * ng])
                           for g in range(groups)], axis=-1)
