"""The schedule: every layer as an ordered list of steps, pure data.

A step is a run of consecutive folds (or one chunk of a fold's stream) that
the array executes in one go. Per step: the bytes to load per operand (zero
when the tile stays resident), the output-buffer bytes it claims, its compute
cycles by phase (the fold timing's share of each fold it runs), the bytes it
stores, and the buffer bytes it frees. Consecutive folds are merged into one
step while the data they bring in fits one slot of each buffer. The engine and
the analytical model both consume this; neither changes what is moved, only
when.

Dependencies, which the engine enforces:

* the array runs steps in order; a step computes once its loads are in and
  it has claimed its output-buffer bytes;
* loads of one operand are issued in step order, each once its buffer has
  room (so how far prefetch runs ahead follows from capacity);
* a layer's input loads wait until the previous layer has finished (its
  outputs, the next layer's inputs, are in DRAM); its other loads may start
  during the previous layer's tail when ``dma.prefetch_next_layer`` is true,
  else they wait too;
* stores start when their step's compute ends; a step's output-buffer bytes
  are freed when its stores complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Layer, NonGemm, Workload
from accelsim.mapping import LayerMapping, Operand, PhaseCycles, map_layer, strategy_for, timing_for
from accelsim.mapping.tiling import STEP_FIELDS, FoldTable, LayerTiler, Tiling
from accelsim.stats import DramTraffic, SramAccesses
from accelsim.traffic import array_sram, compulsory_traffic, sram_accesses

STEP_DTYPE = np.dtype([(name, np.int64) for name in STEP_FIELDS])

# Which DMA engine (modulo dma.engines) moves each kind of transfer, and the step columns it moves.
DMA_ENGINE = {"input": 0, "weight": 1, "psum": 2, "store": 2}
DMA_COLUMNS = {"input": ("load_input",), "weight": ("load_weight",), "psum": ("load_psum",),
               "store": ("store_output", "store_psum")}


def dma_engine(kind: str, engines: int) -> int:
    return DMA_ENGINE[kind] % engines


@dataclass(frozen=True)
class Step:
    """One step, for reading a schedule (``LayerSchedule.step(i)``); the schedule stores
    steps as rows of a numpy structured array with these fields."""

    folds: int            # folds that start in this step
    load_input: int       # DRAM -> input buffer
    load_weight: int      # DRAM -> weight buffer
    load_psum: int        # DRAM -> output buffer (spilled partial sums read back)
    output_acquire: int   # output-buffer bytes claimed before compute
    stream: int           # compute cycles by phase (mapping.PhaseCycles)
    fill_drain: int
    preload: int
    vector: int           # vector-unit cycles (non-GEMM layers)
    store_output: int     # output buffer -> DRAM, final outputs
    store_psum: int       # output buffer -> DRAM, spilled partial sums
    store_release: int    # output-buffer bytes freed when the stores complete
    release_input: int    # input-buffer bytes freed when the compute ends
    release_weight: int   # weight-buffer bytes freed when the compute ends

    @property
    def compute_cycles(self) -> int:
        return self.stream + self.fill_drain + self.preload + self.vector


@dataclass(frozen=True, eq=False)
class LayerSchedule:
    layer: Layer
    unit: str                 # "array", "vector" or "fused"
    steps: np.ndarray         # structured array, STEP_DTYPE
    mapping: LayerMapping | None
    tiling: Tiling | None
    traffic: DramTraffic      # the sum of the steps' loads and stores
    compulsory: DramTraffic
    sram: SramAccesses

    @property
    def name(self) -> str:
        return self.layer.name

    def step(self, i: int) -> Step:
        return Step(**{name: int(self.steps[name][i]) for name in STEP_FIELDS})

    def total(self, field: str) -> int:
        return int(self.steps[field].sum())

    @property
    def compute(self) -> PhaseCycles:
        return PhaseCycles(stream=self.total("stream"), fill_drain=self.total("fill_drain"),
                           preload=self.total("preload"))

    @property
    def compute_cycles(self) -> int:
        return self.compute.total + self.total("vector")


@dataclass(frozen=True, eq=False)
class Schedule:
    hardware: Hardware
    workload: Workload
    layers: tuple[LayerSchedule, ...]

    @property
    def steps(self) -> int:
        return sum(len(layer.steps) for layer in self.layers)


@njit(cache=True)
def _segments(load_input, load_weight, output_claim, mergeable, slot_input, slot_weight, slot_output):
    """Greedy merge of consecutive folds into steps while each buffer's new data fits a slot."""
    n = load_input.size
    starts = np.empty(n, dtype=np.int64)
    count = 0
    i = 0
    while i < n:
        starts[count] = i
        count += 1
        a, b, c = load_input[i], load_weight[i], output_claim[i]
        i += 1
        if not mergeable[i - 1]:
            continue
        while i < n and mergeable[i]:
            a2, b2, c2 = a + load_input[i], b + load_weight[i], c + output_claim[i]
            if a2 > slot_input or b2 > slot_weight or c2 > slot_output:
                break
            a, b, c = a2, b2, c2
            i += 1
    return starts[:count]


# Where a fold's non-streamed quantities go when its stream is cut into chunks.
_AT_FIRST_CHUNK = ("folds", "load_input", "load_weight", "load_psum", "output_acquire", "preload")
_AT_LAST_CHUNK = ("fill_drain", "store_output", "store_psum", "store_release", "release_input", "release_weight")


def _spread(total: np.ndarray, chunks: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``total`` of each fold cut into ``chunks`` near-equal integer pieces (chunk ``position``)."""
    base, extra = np.divmod(total, chunks)
    return base + (position < extra)


def _expand(ft: FoldTable) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Cut folds into their chunks; returns the rows and which rows may merge with neighbours."""
    chunks = ft.chunks
    if (chunks == 1).all() and not ft.streamed:
        return ft.columns, np.ones(chunks.size, dtype=np.bool_)
    fold = np.repeat(np.arange(chunks.size), chunks)
    starts = np.cumsum(chunks) - chunks
    position = np.arange(fold.size) - starts[fold]
    first, last = position == 0, position == chunks[fold] - 1
    rows = {}
    for name, values in ft.columns.items():
        v = values[fold]
        if name == "stream":
            rows[name] = _spread(v, chunks[fold], position)
        elif name in _AT_FIRST_CHUNK:
            rows[name] = np.where(first, v, 0)
        elif name in _AT_LAST_CHUNK:
            rows[name] = np.where(last, v, 0)
        else:
            rows[name] = v
    for name, values in ft.streamed.items():
        rows[name] = rows[name] + _spread(values[fold], chunks[fold], position)
    return rows, chunks[fold] == 1


def _steps_of(rows: dict[str, np.ndarray], mergeable: np.ndarray, slots: dict[Operand, int]) -> np.ndarray:
    starts = _segments(rows["load_input"], rows["load_weight"], rows["output_acquire"] + rows["load_psum"],
                       mergeable, slots[Operand.INPUT], slots[Operand.WEIGHT], slots[Operand.OUTPUT])
    steps = np.zeros(starts.size, dtype=STEP_DTYPE)
    for name in STEP_FIELDS:
        steps[name] = np.add.reduceat(rows[name], starts)
    return steps


def _gemm_layer(layer: Layer, hw: Hardware, batch: int) -> LayerSchedule:
    mapping = map_layer(layer, hw.array, batch)
    tiler = LayerTiler(layer, hw, batch)
    tiling, table = tiler.choose()
    rows, mergeable = _expand(table)
    repeats = mapping.gemm.repeats
    if repeats > 1:  # the groups run one after another; small ones merge into shared steps
        rows = {name: np.tile(values, repeats) for name, values in rows.items()}
        mergeable = np.tile(mergeable, repeats)
    steps = _steps_of(rows, mergeable, tiler.slots)
    _exact_ends(steps, table, mapping, hw)
    traffic = DramTraffic(
        input_read=int(steps["load_input"].sum()), weight_read=int(steps["load_weight"].sum()),
        psum_read=int(steps["load_psum"].sum()), output_write=int(steps["store_output"].sum()),
        psum_write=int(steps["store_psum"].sum()))
    extra_stationary = (tiling.time_blocks - 1) * mapping.extents.rows * mapping.extents.cols * mapping.gemm.repeats
    return LayerSchedule(layer=layer, unit="array", steps=steps, mapping=mapping, tiling=tiling, traffic=traffic,
                         compulsory=compulsory_traffic(layer, hw, batch),
                         sram=array_sram(mapping, hw, traffic, extra_stationary))


def _exact_ends(steps: np.ndarray, table: FoldTable, mapping: LayerMapping, hw: Hardware) -> None:
    """Give the layer's first and last folds their own shares (the table used the middle one)."""
    strategy, timing, array = strategy_for(hw.array.dataflow), timing_for(hw.array), hw.array
    total = int(table.columns["folds"].sum()) * mapping.gemm.repeats
    first_time, last_time = int(table.columns["stream"][0]), int(table.columns["stream"][-1])
    middle_first = timing.fold(strategy, array, first_time, 1, 3)
    middle_last = timing.fold(strategy, array, last_time, 1, 3)
    first = timing.fold(strategy, array, first_time, 0, total)
    last = timing.fold(strategy, array, last_time, total - 1, total)
    if total == 1:
        deltas = [(0, first, middle_first)]
    else:
        deltas = [(0, first, middle_first), (-1, last, middle_last)]
    for row, exact, middle in deltas:
        steps["preload"][row] += exact.preload - middle.preload
        steps["fill_drain"][row] += exact.fill_drain - middle.fill_drain
        steps["stream"][row] += exact.stream - middle.stream


def vector_cycles(layer: NonGemm, hw: Hardware, batch: int) -> int:
    """``ceil(ops x batch / vector.elements_per_cycle)``, or 0 when fused."""
    if hw.vector is None:
        return 0
    return -(-layer.ops * batch // hw.vector.elements_per_cycle)


def _non_gemm_layer(layer: NonGemm, hw: Hardware, batch: int) -> LayerSchedule:
    unit = "vector" if hw.vector is not None else "fused"
    steps = np.zeros(1 if unit == "vector" else 0, dtype=STEP_DTYPE)
    if unit == "vector":
        steps["vector"][0] = vector_cycles(layer, hw, batch)
    return LayerSchedule(layer=layer, unit=unit, steps=steps, mapping=None, tiling=None, traffic=DramTraffic(),
                         compulsory=DramTraffic(), sram=sram_accesses(hw, {}, {}))


def schedule_layer(layer: Layer, hw: Hardware, batch: int) -> LayerSchedule:
    if isinstance(layer, NonGemm):
        return _non_gemm_layer(layer, hw, batch)
    return _gemm_layer(layer, hw, batch)


def build_schedule(hw: Hardware, workload: Workload) -> Schedule:
    """Map, tile and schedule every layer of a workload on a hardware."""
    return Schedule(hardware=hw, workload=workload,
                    layers=tuple(schedule_layer(layer, hw, workload.batch) for layer in workload.layers))
