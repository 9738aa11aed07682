"""Dataflows on an R x C array, and how long a fold takes.

SCALE-Sim's convention (so results can be checked against it):

=========  ==================  ===================  ========================
dataflow   rows hold (Sr)      columns hold (Sc)    streamed in time (T)
=========  ==================  ===================  ========================
OS         M (output pixels)   N (filters)          K (window C.R.S)
WS         K (window)          N (filters)          M (output pixels)
IS         K (window)          M (output pixels)    N (filters)
=========  ==================  ===================  ========================

A *fold* is one placement of a stationary tile (at most R x C) on the array;
``folds = ceil(Sr / R) * ceil(Sc / C)`` per GEMM. Each fold has four phases:

* **preload** (WS, IS): the stationary operand shifts into the PEs from the
  top, one row per cycle: R cycles.
* **fill**: operands enter skewed, row i one cycle after row i-1: R - 1 cycles
  until the last row starts.
* **stream**: T operand vectors enter, one per cycle: T cycles.
* **drain**: the last results travel across the remaining C - 1 columns; in
  OS the finished outputs then shift out of each column: R cycles.

Two fold timings (``array.pipelined_folds``), each one object:

* :class:`ScaleSimFoldTiming` reproduces SCALE-Sim 3.0.0: folds run one after
  another, OS ``T + R + C - 2`` cycles per fold (its outputs drain behind the
  next fold), WS and IS ``2R + C + T - 2`` (preload R + fill + stream + drain).
* :class:`PipelinedFoldTiming`: stationary registers are double-buffered (as in
  TPU v1), so the next fold's preload (WS, IS) or the previous fold's output
  shift-out (OS) overlaps the current fold's stream, and consecutive folds'
  fill and drain overlap. A new fold starts every ``max(T, R)`` cycles; only
  the first preload and the last fill/drain are exposed::

      layer cycles = (F - 1) * max(T, R) + T + 2R + C - 2      (F = all folds)

  the same for OS, WS and IS. ``docs/mapping.md`` derives it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from accelsim.config.hardware import ArrayConfig, Dataflow
from accelsim.mapping.gemm import GemmShape, Operand


@dataclass(frozen=True)
class Extents:
    """A GEMM as seen by a dataflow: spatial rows, spatial columns, time."""

    rows: int  # Sr
    cols: int  # Sc
    time: int  # T


class DataflowStrategy:
    """Which GEMM dimension goes where, and which operand stays in the PEs."""

    dataflow: Dataflow
    row_dim: str
    col_dim: str
    time_dim: str
    stationary: Operand
    from_left: Operand   # streamed into the rows from the left edge
    along_cols: Operand  # streamed down the columns (from the top, or out of the bottom)
    packs_groups: bool   # may put several groups of a grouped conv side by side in one fold

    def extents(self, gemm: GemmShape) -> Extents:
        return Extents(gemm.extent(self.row_dim), gemm.extent(self.col_dim), gemm.extent(self.time_dim))

    def preload_cycles(self, array: ArrayConfig) -> int:
        """Cycles to shift a stationary operand tile (inputs, weights) into the PEs."""
        return 0 if self.stationary is Operand.OUTPUT else array.rows

    def shift_out_cycles(self, array: ArrayConfig) -> int:
        """Cycles to shift finished stationary results (OS outputs) out of the PEs."""
        return array.rows if self.stationary is Operand.OUTPUT else 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class OutputStationary(DataflowStrategy):
    dataflow = Dataflow.OS
    row_dim, col_dim, time_dim = "M", "N", "K"
    stationary = Operand.OUTPUT
    from_left = Operand.INPUT
    along_cols = Operand.WEIGHT
    # no: a row's input vector enters every column, but each group needs its own channels
    packs_groups = False


class WeightStationary(DataflowStrategy):
    dataflow = Dataflow.WS
    row_dim, col_dim, time_dim = "K", "N", "M"
    stationary = Operand.WEIGHT
    from_left = Operand.INPUT
    along_cols = Operand.OUTPUT
    # yes: groups on disjoint rows (their channels) and columns (their filters); a column sums
    # over every row, but the other groups' rows hold zero weights in it (block-diagonal)
    packs_groups = True


class InputStationary(DataflowStrategy):
    dataflow = Dataflow.IS
    row_dim, col_dim, time_dim = "K", "M", "N"
    stationary = Operand.INPUT
    from_left = Operand.WEIGHT
    along_cols = Operand.OUTPUT
    # no: the columns hold output pixels and sum over every row, so rows of different groups
    # (different channels, different filters streamed in) would add into the same output
    packs_groups = False


DATAFLOWS: dict[Dataflow, DataflowStrategy] = {
    s.dataflow: s for s in (OutputStationary(), WeightStationary(), InputStationary())
}


def strategy_for(dataflow: Dataflow) -> DataflowStrategy:
    return DATAFLOWS[dataflow]


@dataclass(frozen=True)
class PhaseCycles:
    """Array cycles by phase; ``total`` is their sum.

    ``stream``: operands entering the array (useful work, at mapping efficiency);
    ``fill_drain``: skew fill and drain, and OS result shift-out;
    ``preload``: shifting stationary operands in (WS, IS).
    """

    stream: int = 0
    fill_drain: int = 0
    preload: int = 0

    @property
    def total(self) -> int:
        return self.stream + self.fill_drain + self.preload

    def __add__(self, other: "PhaseCycles") -> "PhaseCycles":
        return PhaseCycles(self.stream + other.stream, self.fill_drain + other.fill_drain,
                           self.preload + other.preload)

    def scaled(self, n: int) -> "PhaseCycles":
        return PhaseCycles(self.stream * n, self.fill_drain * n, self.preload * n)


class FoldTiming(ABC):
    """How the cycles of a sequence of folds with the same T add up."""

    pipelined: bool

    @abstractmethod
    def fold(self, strategy: DataflowStrategy, array: ArrayConfig, time: int,
             index: int, count: int) -> PhaseCycles:
        """Cycles attributed to fold ``index`` of ``count`` consecutive folds.

        Summing over ``index`` gives the cycles of the whole sequence; the
        schedule hands out each fold's share to the step that runs it.
        """

    def folds(self, strategy: DataflowStrategy, array: ArrayConfig, time: int, count: int) -> PhaseCycles:
        """Cycles of ``count`` consecutive folds (closed form of the sum of ``fold``)."""
        if count <= 0:
            return PhaseCycles()
        if count == 1:
            return self.fold(strategy, array, time, 0, 1)
        first = self.fold(strategy, array, time, 0, count)
        middle = self.fold(strategy, array, time, 1, count)
        last = self.fold(strategy, array, time, count - 1, count)
        return first + middle.scaled(count - 2) + last

    def per_fold_cycles(self, strategy: DataflowStrategy, array: ArrayConfig, time: int) -> int:
        """Cycles of one fold on its own."""
        return self.fold(strategy, array, time, 0, 1).total

    @abstractmethod
    def stream_start(self, strategy: DataflowStrategy, array: ArrayConfig, time: int, index: int) -> int:
        """Cycle (0-based, from the layer's first cycle) at which fold ``index``'s first
        operand vector enters the array. The cycle-level reference model checks it."""


class ScaleSimFoldTiming(FoldTiming):
    """SCALE-Sim 3.0.0: folds in sequence, ``preload + (R - 1) + T + (C - 1)`` each."""

    pipelined = False

    def fold(self, strategy, array, time, index, count):
        return PhaseCycles(stream=time, fill_drain=array.rows + array.cols - 2,
                           preload=strategy.preload_cycles(array))

    def stream_start(self, strategy, array, time, index):
        return index * self.per_fold_cycles(strategy, array, time) + strategy.preload_cycles(array)


class PipelinedFoldTiming(FoldTiming):
    """Double-buffered stationary registers: folds overlap, one every ``max(T, R)`` cycles."""

    pipelined = True

    def fold(self, strategy, array, time, index, count):
        rows, cols = array.rows, array.cols
        # Waiting for the next stationary tile (WS/IS preload, OS shift-out) when T < R.
        wait = max(0, rows - time)
        preload = strategy.preload_cycles(array)
        shift_out = strategy.shift_out_cycles(array)
        pre = (preload if index == 0 else wait) if preload else 0
        post = 0
        if shift_out and index < count - 1:
            post = wait
        if index == count - 1:
            post += rows + cols - 2 + shift_out
        return PhaseCycles(stream=time, fill_drain=post, preload=pre)

    def stream_start(self, strategy, array, time, index):
        return strategy.preload_cycles(array) + index * max(time, array.rows)


def timing_for(array: ArrayConfig) -> FoldTiming:
    return PipelinedFoldTiming() if array.pipelined_folds else ScaleSimFoldTiming()
