"""The schedule: every layer as an ordered list of steps, pure data.

A step is a run of consecutive folds (or one chunk of a fold's stream) that
the array executes in one go. Per step: the bytes to load per operand (zero
when the tile stays resident or the tensor is on chip), the output-buffer
bytes it claims, its compute cycles by phase (the fold timing's share of each
fold it runs), the bytes it stores, the buffer bytes it frees, and where its
transfers come from and go to (``input_from``, ``weight_from``, ``output_to``:
an index into ``Schedule.levels``, DRAM first, or ``ON_CHIP`` when the data is
in a per-core buffer and nothing moves). Consecutive folds are merged into one
step while the data they bring in fits one slot of each buffer. The engine and
the analytical model both consume this; neither changes what is moved, only
when.

Where tensors live comes from the residency plan (:mod:`accelsim.residency`):
a layer whose input is resident reads it in place (no input loads), one whose
output is resident writes it into its buffer (no store to DRAM); pooling,
element-wise and activation layers load their inputs and store their output
exactly when those are off chip.

Dependencies, which the engine enforces:

* the array runs steps in order; a step computes once its loads are in and
  it has claimed its output-buffer bytes;
* loads of one operand are issued in step order, each once its buffer has
  room (so how far prefetch runs ahead follows from capacity);
* a layer's input loads take their room in order but move only once the layer
  has started (their producers have finished); its other loads may start
  during the previous layer's tail when ``dma.prefetch_next_layer`` is true,
  else they wait too;
* stores start when their step's compute ends; a step's output-buffer bytes
  are freed when its stores complete;
* a resident tensor's bytes are claimed (in order, as soon as they fit) before
  the layer that writes it starts and freed when the last layer that reads it
  ends.
"""

from __future__ import annotations

import math
import sys
from collections import ChainMap
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from functools import cached_property
from typing import Callable, Iterable

import numpy as np

from accelsim.config.hardware import Hardware
from accelsim.config.memory import DRAM, DataKind
from accelsim.config.sparsity import Compression, compressed_fraction
from accelsim.config.workload import GEMM_LAYERS, Conv2d, Layer, NonGemm, Workload
from accelsim.mapping import LayerMapping, Operand, PhaseCycles, map_layer, strategy_for, timing_for
from accelsim.mapping.sparse import skipped_nm
from accelsim.mapping.tiling import STEP_FIELDS, FoldTable, LayerTiler, Tiling, operand_footprints
from accelsim.residency import LayerPlan, Residency, plan_residency, right_operand
from accelsim.stats import DramTraffic, SramAccesses
from accelsim.traffic import (array_sram, dram_lower_bound, input_footprint_bytes, layer_traffic_classes,
                              sram_accesses, vector_sram)

# Where a step's transfers come from / go to: an index into Schedule.levels, or ON_CHIP.
LEVEL_FIELDS = ("input_from", "weight_from", "output_to")
ON_CHIP = -1  # the data is in (or goes into) a per-core buffer: nothing moves
STEP_DTYPE = np.dtype([(name, np.int64) for name in STEP_FIELDS + LEVEL_FIELDS])

# Told (phase, layers done, layers in all) as a run goes: "schedule" while building, "simulate"
# as the engine finishes each layer (``accelsim run``'s progress bar).
LayerProgress = Callable[[str, int, int], None]

# Which DMA engine (modulo dma.engines) moves each kind of transfer, and the step columns it moves.
DMA_ENGINE = {"input": 0, "weight": 1, "psum": 2, "store": 2}
DMA_COLUMNS = {"input": ("load_input",), "weight": ("load_weight",), "psum": ("load_psum",),
               "store": ("store_output", "store_psum")}
# The operand whose buffer each kind of transfer fills or drains (its port to DRAM, if it has one).
DMA_OPERAND = {"input": Operand.INPUT, "weight": Operand.WEIGHT, "psum": Operand.OUTPUT, "store": Operand.OUTPUT}
# The level column saying where each moved column's bytes come from or go to (None: DRAM).
DMA_LEVEL = {"load_input": "input_from", "load_weight": "weight_from", "load_psum": None,
             "store_output": "output_to", "store_psum": None}


def dma_engine(kind: str, engines: int) -> int:
    return DMA_ENGINE[kind] % engines


def descriptors(steps: np.ndarray) -> np.ndarray:
    """DMA descriptors each step issues: one per load it makes, one for its stores to DRAM and
    one for its stores to the global buffer (the engine's store path, ``engine.array``)."""
    out = (steps["load_input"] > 0).astype(np.int64) + (steps["load_weight"] > 0) + (steps["load_psum"] > 0)
    to_dram = steps["store_psum"] + np.where(steps["output_to"] == 0, steps["store_output"], 0)
    to_other = np.where(steps["output_to"] > 0, steps["store_output"], 0)
    return out + (to_dram > 0) + (to_other > 0)


def issue_cycles(steps: np.ndarray, hw: Hardware) -> np.ndarray:
    """The controller's cost of each step: ``control.step_overhead_cycles`` plus
    ``control.descriptor_overhead_cycles`` per DMA descriptor it issues."""
    c = hw.control
    if not (c.step_overhead_cycles or c.descriptor_overhead_cycles) or not len(steps):
        return np.zeros(len(steps), dtype=np.int64)
    return c.step_overhead_cycles + c.descriptor_overhead_cycles * descriptors(steps)


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
    input_from: int       # level the input loads come from (Schedule.levels index; ON_CHIP: none)
    weight_from: int      # level the weight loads come from
    output_to: int        # level the final outputs go to (ON_CHIP: written into a per-core buffer)

    @property
    def compute_cycles(self) -> int:
        return self.stream + self.fill_drain + self.preload + self.vector


@dataclass(frozen=True)
class StepSums:
    """A layer's steps summarised in a few passes over all their columns at once (not one pass
    per column and level: the build and the closed form read some thirty such sums per layer):
    each column's sum and its count of non-zero steps, and each level column's one value when
    every step has the same (None when they differ or there are no steps)."""

    total: dict[str, int]
    nonzero: dict[str, int]
    level: dict[str, int | None]

    def moved(self, steps: np.ndarray, column: str, where: str | None, code: int) -> int:
        """Bytes of ``column`` the steps whose ``where`` level is ``code`` move (``where`` None: all)."""
        if where is None:
            return self.total[column]
        one = self.level[where]
        if one is not None or not len(steps):
            return self.total[column] if one == code else 0
        return int(steps[column][steps[where] == code].sum())


def step_sums(steps: np.ndarray) -> StepSums:
    names = STEP_DTYPE.names
    if not len(steps):
        return StepSums(dict.fromkeys(names, 0), dict.fromkeys(names, 0), dict.fromkeys(LEVEL_FIELDS))
    table = np.ascontiguousarray(steps).view(np.int64).reshape(len(steps), len(names))
    levels = table[:, len(STEP_FIELDS):]
    same = (levels.min(axis=0) == levels.max(axis=0)).tolist()
    return StepSums(total=dict(zip(names, table.sum(axis=0).tolist())),
                    nonzero=dict(zip(names, np.count_nonzero(table, axis=0).tolist())),
                    level={name: int(levels[0, j]) if same[j] else None for j, name in enumerate(LEVEL_FIELDS)})


@dataclass(frozen=True, eq=False)
class LayerSchedule:
    layer: Layer
    unit: str                 # "array", "vector" or "fused"
    steps: np.ndarray         # structured array, STEP_DTYPE
    mapping: LayerMapping | None
    tiling: Tiling | None
    traffic: DramTraffic      # DRAM bytes: the sum of the steps' loads and stores from / to DRAM
    compulsory: DramTraffic   # the network's compulsory bytes this layer moves (docs/metrics.md)
    spill: DramTraffic        # DRAM bytes of tensors the residency plan could not keep on chip
    sram: SramAccesses
    plan: LayerPlan | None = None
    global_traffic: DramTraffic = DramTraffic()  # bytes moved to and from the global buffer
    lower_bound: int = 0      # the least DRAM bytes any schedule could move (traffic.dram_lower_bound)
    gated_macs: int = 0       # MACs with a zero operand the design gates (no MAC energy)
    macs: int = 0                                # the layer's MACs, wherever it runs
    # cores > 1: each core's share, scheduled as a layer of its own (``accelsim.partition``); then
    # ``steps`` are the shares' steps one after another (for totals) and traffic, SRAM accesses and
    # MACs are their sums, while compulsory and spilled bytes are the whole layer's
    cores: tuple["LayerSchedule", ...] = ()
    partition: str = ""                          # the split's name ("": one core)

    @property
    def name(self) -> str:
        return self.layer.name

    def step(self, i: int) -> Step:
        return Step(**{name: int(self.steps[name][i]) for name in STEP_FIELDS + LEVEL_FIELDS})

    @cached_property
    def sums(self) -> StepSums:
        return step_sums(self.steps)

    def total(self, field: str) -> int:
        return self.sums.total[field]

    @property
    def compute(self) -> PhaseCycles:
        return PhaseCycles(stream=self.total("stream"), fill_drain=self.total("fill_drain"),
                           preload=self.total("preload"))

    @property
    def compute_cycles(self) -> int:
        """The compute bound: the steps' compute cycles (cores > 1: the busiest core's)."""
        if self.cores:
            return max(part.compute_cycles for part in self.cores)
        return self.compute.total + self.total("vector")

    def core(self, c: int) -> "LayerSchedule":
        """What core ``c`` runs of this layer (one core: the layer)."""
        return self.cores[c] if self.cores else self


@dataclass(frozen=True, eq=False)
class Schedule:
    hardware: Hardware
    workload: Workload
    layers: tuple[LayerSchedule, ...]
    residency: Residency | None = None
    levels: tuple[str, ...] = (DRAM,)   # what input_from / weight_from / output_to index: DRAM first

    @property
    def steps(self) -> int:
        return sum(len(layer.steps) for layer in self.layers)


COMPILED_FROM_ROWS = 250_000          # about 40 ms of the numpy form: the compiled one, once loaded, ...
LOAD_COMPILED_FROM_ROWS = 2_000_000   # ... and loaded for this many (the numpy form: about 0.35 s, what
#                                       numba's import costs; its row lists grow by 90 bytes a row)


def _compiled_pays(rows: int) -> bool:
    """Whether a merge of ``rows`` rows runs compiled (``accelsim._compiled``): once numba is
    loaded, from COMPILED_FROM_ROWS on; loading it, only for a merge that costs the numpy form
    what the import costs. Both forms give the same steps (tests/test_schedule.py)."""
    return rows >= LOAD_COMPILED_FROM_ROWS or (rows >= COMPILED_FROM_ROWS and "accelsim._compiled" in sys.modules)


def _segments(load_input: np.ndarray, load_weight: np.ndarray, output_claim: np.ndarray, mergeable: np.ndarray,
              slot_input: int, slot_weight: int, slot_output: int) -> np.ndarray:
    """Greedy merge of consecutive folds into steps while each buffer's new data fits a slot.

    A step starting at fold ``i`` takes ``i`` and then each following mergeable fold while the
    sums of the three loads stay within their slots. Every fold's reach (where a step starting
    there would end) is found at once on the running sums, which only grow (loads are not
    negative); the steps are then the chain ``0, reach[0], reach[reach[0]], ...``: one Python
    operation per step, not per fold. Large merges run the compiled form of the same rule
    (:func:`_compiled_pays`)."""
    n = load_input.size
    if _compiled_pays(n):
        from accelsim._compiled import segments

        return segments(load_input, load_weight, output_claim, mergeable, slot_input, slot_weight, slot_output)
    return np.array(_chain(_after(load_input, load_weight, output_claim, mergeable, slot_input, slot_weight,
                                  slot_output), 0), dtype=np.int64)


def _chain(after: list[int], i: int) -> list[int]:
    """The steps' first folds from fold ``i`` on: ``i, after[i], after[after[i]], ...``."""
    n, starts = len(after), []
    while i < n:
        starts.append(i)
        i = after[i]
    return starts


def _after(load_input: np.ndarray, load_weight: np.ndarray, output_claim: np.ndarray, mergeable: np.ndarray,
           slot_input: int, slot_weight: int, slot_output: int) -> list[int]:
    """Where a step starting at each fold ends (the fold after its last; see :func:`_segments`)."""
    n = load_input.size
    index = np.arange(n, dtype=np.int64)
    reach = np.full(n, n, dtype=np.int64)
    for load, slot in ((load_input, slot_input), (load_weight, slot_weight), (output_claim, slot_output)):
        running = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(load, out=running[1:])
        room = min(int(slot), int(running[-1]))  # no overflow for a huge slot
        reach = np.minimum(reach, np.searchsorted(running, running[:-1] + room, side="right") - 1)
    blocked = np.append(np.flatnonzero(~mergeable), n)   # a step never takes an unmergeable fold after its first
    run_end = blocked[np.searchsorted(blocked, index, side="right")]
    return np.where(mergeable, np.maximum(index + 1, np.minimum(reach, run_end)), index + 1).tolist()


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
        return ft.columns, ~ft.barrier
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
    return rows, (chunks[fold] == 1) & ~ft.barrier[fold]


def _steps_of(rows: dict[str, np.ndarray], mergeable: np.ndarray, slots: dict[Operand, int]) -> np.ndarray:
    starts = _segments(rows["load_input"], rows["load_weight"], rows["output_acquire"] + rows["load_psum"],
                       mergeable, slots[Operand.INPUT], slots[Operand.WEIGHT], slots[Operand.OUTPUT])
    steps = np.zeros(starts.size, dtype=STEP_DTYPE)
    for name in STEP_FIELDS:
        steps[name] = np.add.reduceat(rows[name], starts)
    return steps


def _blocked_steps(ft: FoldTable, kinds: np.ndarray, repeats: int, slots: dict[Operand, int]) -> np.ndarray:
    """:func:`_steps_of` on the folds of a run of blocks, ``repeats`` times over, from one block of
    each kind: block ``t`` of the run runs the folds of block ``kinds[t]`` of ``ft`` (each block
    of ``ft`` has as many folds). Exactly the steps the merge gives on the rows laid out in full,
    without laying them out.

    The greedy merge crosses a block boundary in one of two states: the step then open, with the
    bytes it has taken of each buffer's slot, or none (its one fold may merge with nothing). In
    the next block, an open step takes the first ``e`` rows that still fit (found on the block's
    running sums), and from row ``e`` on the block's steps depend on nothing before it: they are
    the merge of the block's rows from ``e``. Both are memoised, on (kind, state) and on
    (kind, ``e``); a run of blocks of few kinds reaches few states, so the merge runs once per
    distinct (kind, ``e``) and the run is assembled from those steps. Each step's columns are
    sums over its rows, taken from running sums of the blocks' rows."""
    rows, mergeable = _expand(ft)
    count = int(kinds.max()) + 1
    per = ft.chunks.size // count
    fold_rows = np.cumsum(ft.chunks) - ft.chunks          # each fold's first row
    total_rows = int(mergeable.size)
    bounds = np.append(fold_rows[::per], total_rows).tolist()  # kind k: rows bounds[k] .. bounds[k + 1]
    loads = (rows["load_input"], rows["load_weight"], rows["output_acquire"] + rows["load_psum"])
    slot = (int(slots[Operand.INPUT]), int(slots[Operand.WEIGHT]), int(slots[Operand.OUTPUT]))
    values = np.zeros((len(STEP_FIELDS), total_rows + 1), dtype=np.int64)  # running sums of each column
    for j, name in enumerate(STEP_FIELDS):
        np.cumsum(rows[name], out=values[j, 1:])
    running = [np.concatenate(([0], np.cumsum(load))) for load in loads]  # all kinds' rows
    blocked = np.append(np.flatnonzero(~mergeable), total_rows)

    entries: list[tuple[np.ndarray, np.ndarray]] = []  # (first rows, end rows) of a block's steps from e
    entry_of: dict[tuple[int, int], tuple[int, tuple | None]] = {}
    afters: dict[int, list[int]] = {}  # per kind: where a step starting at each of its rows ends

    def steps_from(k: int, e: int) -> tuple[int, tuple | None]:
        """The steps of block kind ``k`` from its row ``e`` on, and the state it leaves."""
        if (k, e) not in entry_of:
            lo, hi = bounds[k] + e, bounds[k + 1]
            if _compiled_pays(bounds[k + 1] - bounds[k]):
                starts = _segments(*(load[lo:hi] for load in loads), mergeable[lo:hi], *slot) + lo
            else:
                if k not in afters:
                    block = slice(bounds[k], bounds[k + 1])
                    afters[k] = _after(*(load[block] for load in loads), mergeable[block], *slot)
                starts = np.array(_chain(afters[k], e), dtype=np.int64) + bounds[k]
            last = int(starts[-1])
            state = tuple(int(r[hi] - r[last]) for r in running) if mergeable[last] else None
            entries.append((starts, np.append(starts[1:], hi)))
            entry_of[k, e] = (len(entries) - 1, state)
        return entry_of[k, e]

    def joined(k: int, state: tuple) -> int:
        """How many of block kind ``k``'s first rows an open step with ``state`` bytes takes."""
        lo, hi = bounds[k], bounds[k + 1]
        e = min(int(blocked[np.searchsorted(blocked, lo)]), hi) - lo  # up to its first unmergeable row
        for r, taken, room in zip(running, state, slot):
            limit = min(room - taken + int(r[lo]), int(r[hi]))
            e = min(e, int(np.searchsorted(r[lo:hi + 1], limit, side="right")) - 1)
        return max(e, 0)

    moves: dict[tuple, tuple[int, int, tuple | None]] = {}
    block_e, block_entry, state = [], [], None
    sequence = np.tile(kinds, repeats).tolist()
    none = -1
    for k in sequence:
        move = moves.get((k, state))
        if move is None:
            e = 0 if state is None else joined(k, state)
            if e == bounds[k + 1] - bounds[k]:  # the whole block joins the open step
                tot = tuple(int(r[bounds[k + 1]] - r[bounds[k]]) for r in running)
                move = (e, none, tuple(a + b for a, b in zip(state, tot)))
            else:
                move = (e,) + steps_from(k, e)
            moves[k, state] = move
        e, entry, state = move
        block_e.append(e)
        block_entry.append(entry)

    # every piece of a step: a block's rows joining the step open before it, or a step of its own
    starts = np.concatenate([s for s, _ in entries] + [np.zeros(1, dtype=np.int64)])
    ends = np.concatenate([t for _, t in entries] + [np.zeros(1, dtype=np.int64)])
    lengths = np.array([s.size for s, _ in entries] + [0], dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    block_e, block_entry = np.array(block_e, dtype=np.int64), np.array(block_entry, dtype=np.int64)
    block_lo = np.array(bounds, dtype=np.int64)[np.array(sequence, dtype=np.int64)]
    has = (block_e > 0).astype(np.int64)
    pieces = has + lengths[block_entry]
    of = np.repeat(np.arange(block_e.size), pieces)
    j = np.arange(of.size) - (np.cumsum(pieces) - pieces)[of]
    cont = (has[of] == 1) & (j == 0)
    at = np.where(cont, 0, offsets[block_entry[of]] + j - has[of])
    first = np.where(cont, block_lo[of], starts[at])
    end = np.where(cont, block_lo[of] + block_e[of], ends[at])
    heads = np.flatnonzero(~cont)
    steps = np.zeros(heads.size, dtype=STEP_DTYPE)
    for j, name in enumerate(STEP_FIELDS):
        steps[name] = np.add.reduceat(values[j, end] - values[j, first], heads)
    return steps


def transfer_levels(hw: Hardware) -> tuple[str, ...]:
    """The levels transfers move between and the per-core buffers: DRAM, then the global buffer."""
    g = hw.memory.global_buffer
    return (DRAM,) + ((g.name,) if g is not None else ())


def level_code(level: str, levels: tuple[str, ...]) -> int:
    """``level``'s index in ``levels``, or ON_CHIP for a per-core buffer."""
    return levels.index(level) if level in levels else ON_CHIP


def _traffic(steps: np.ndarray, code: int, sums: StepSums) -> DramTraffic:
    """Bytes the steps move to and from the level ``code`` (partial sums always spill to DRAM)."""
    def at(column: str) -> int:
        return sums.moved(steps, column, DMA_LEVEL[column], code)
    dram = code == 0
    return DramTraffic(input_read=at("load_input"), weight_read=at("load_weight"),
                       psum_read=at("load_psum") if dram else 0, output_write=at("store_output"),
                       psum_write=at("store_psum") if dram else 0)


def _summed(ls: LayerSchedule, sums: StepSums) -> LayerSchedule:
    """``ls`` holding ``sums`` as its ``sums``: the sums ``_level_traffic`` made of these very
    steps (never changed after), so that the first reader does not make them again (the closed
    form reads them for every layer of every run)."""
    ls.__dict__["sums"] = sums  # where functools.cached_property keeps its value
    return ls


def _level_traffic(steps: np.ndarray, levels: tuple[str, ...]) -> tuple[DramTraffic, DramTraffic, StepSums]:
    """The steps' DRAM traffic, their global-buffer traffic (none without one) and their sums."""
    sums = step_sums(steps)
    return _traffic(steps, 0, sums), _traffic(steps, 1, sums) if len(levels) > 1 else DramTraffic(), sums


def _with_levels(steps: np.ndarray, codes: dict[str, int]) -> np.ndarray:
    out = steps.astype(STEP_DTYPE, copy=True)  # one copy of the rows (steps are STEP_DTYPE already)
    for name, code in codes.items():
        out[name] = code
    return out


def _shape_key(layer: Layer) -> tuple:
    """What a layer's tiling depends on besides the hardware: its type and shape, not its name
    or the names of the tensors it reads."""
    return (type(layer),) + tuple(getattr(layer, f.name) for f in fields(layer) if f.name not in ("name", "inputs"))


TILING_CACHE_BYTES = 256 * 2**20  # the steps a sweep worker keeps for its next points (docs/sweeps.md)
MAX_FOOTPRINTS = 100_000          # layers' footprints it keeps (~1 KB each)
MAX_RESIDENCIES = 64              # residency plans it keeps (a few hundred KB each at most)
SCHEDULE_CACHE_BYTES = 64 * 2**20  # steps of whole schedules (several cores: splits) it keeps, apart from the tilings'
MAX_SCHEDULES = 16                 # schedules and sets of splits it keeps
# Fields of a design a one-core build never reads (build_schedule's memo leaves them out of its
# key): its name, what only the engine and the closed form time (clock, DRAM, DMA, control) and
# what only the reports use. With several cores a layer's split is chosen by its analytical
# cycles, which read the clock (DRAM bytes per cycle), DRAM, DMA and control; the candidate
# splits themselves read none of them, so they are what is kept (TilingCache.splits_key).
UNREAD_BY_THE_BUILD = frozenset({"name", "clock_mhz", "dram", "dma", "control", "static_mw", "area_mm2", "cost_usd"})


class TilingCache:
    """Layers' tilings and their steps, memoised within a run (ResNet-50's 54 GEMM layers have
    24 distinct shapes) and, when a caller keeps one for its next runs, across them (a sweep
    worker's points: designs that differ only in DRAM, clock or DMA share every tiling, and
    the residency plan: :meth:`residency`).

    Keyed on everything the tiler and the step builder read: the layer's type and shape (not its
    name or its inputs' names), the batch, its room (``WorkingSpace``), the array and the per-core
    buffers. So a hit gives the very tiling and steps a fresh build would, and no output changes.
    Only the steps are kept, not the fold table (at large batches a layer has millions of folds
    and a few thousand steps), and at most ``max_bytes`` of them (None: no bound), the least
    recently used dropped first; a tiling larger than the bound is not kept. A run's own cache
    is told how many layers will ask for each tiling (:meth:`expect`) and drops the steps after
    the last of them: at large batches they would double the schedule's memory while it is built.
    A cache kept across runs also keeps their whole schedules (:meth:`schedule_key`): a one-core
    design that differs from an earlier one only in what the build does not read is not built
    again; with several cores, one that differs only there has its layers' candidate splits
    from the cache and only chooses among them again (:meth:`splits_key`). These have their own
    bound (SCHEDULE_CACHE_BYTES, not ``max_bytes``), and the steps of a schedule built with a
    cache kept across runs are read-only, as they may be shared.
    """

    def __init__(self, max_bytes: int | None = TILING_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.hits = self.misses = 0
        self._entries: dict[tuple, tuple[Tiling, np.ndarray]] = {}  # in order of last use
        self._footprints: dict[tuple, dict[Operand, int]] = {}
        self._residencies: dict[tuple, Residency] = {}  # in order of last use
        self._uses: dict[tuple, int] = {}  # key -> the requests still to come, where told (expect)
        self._kept: dict[tuple, tuple[object, int]] = {}  # schedules and splits, their bytes; in order of last use
        self.schedule_bytes = 0

    @staticmethod
    def key(layer: Layer, hw: Hardware, batch: int, space) -> tuple:
        """What a tiling is memoised on (see the class)."""
        return (_shape_key(layer), batch, space, hw.array, hw.memory.local)

    def expect(self, keys: Iterable[tuple]) -> None:
        """Each of ``keys`` (:meth:`key`) will be asked for once more: once the last of them is
        served, its steps are not kept."""
        for key in keys:
            self._uses[key] = self._uses.get(key, 0) + 1

    def tiled(self, layer: Layer, hw: Hardware, batch: int, space, mapping: LayerMapping) -> tuple[Tiling, np.ndarray]:
        """The layer's tiling and its steps (before levels and coding)."""
        key = self.key(layer, hw, batch, space)
        entry = self._entries.pop(key, None)
        if entry is None:
            self.misses += 1
            tiler = LayerTiler(layer, hw, batch, space, self.footprints(layer, hw, batch))
            tiling, table, kinds = tiler.choose_blocks()
            slots = tiler.slots
            del tiler  # and its tables: the steps are built from the fold table alone
            entry = (tiling, _layer_steps(table, kinds, slots, mapping, hw))
            self.nbytes += entry[1].nbytes
        else:
            self.hits += 1
        left = self._uses.pop(key, None)
        if left is not None and left <= 1:  # its last layer: not kept
            self.nbytes -= entry[1].nbytes
        else:
            if left is not None:
                self._uses[key] = left - 1
            self._entries[key] = entry  # the most recent
            while self.max_bytes is not None and self.nbytes > self.max_bytes and self._entries:
                self.nbytes -= self._entries.pop(next(iter(self._entries)))[1].nbytes
        return replace(entry[0], layer=layer.name), entry[1]

    @staticmethod
    def schedule_key(hw: Hardware, workload: Workload) -> tuple:
        """What a one-core schedule is memoised on: the workload and every field of the design
        but UNREAD_BY_THE_BUILD."""
        return ("schedule",) + _built_from(hw, workload)

    @staticmethod
    def splits_key(hw: Hardware, workload: Workload) -> tuple:
        """What a several-core build's candidate splits are memoised on: the same fields (a
        split's shares are built as one core's layers are; only the choice reads the others)."""
        return ("splits",) + _built_from(hw, workload)

    def built(self, key: tuple):
        """What is kept under ``key`` (:meth:`schedule_key`: a Schedule; :meth:`splits_key`: the
        build's ``_Splits``), or None."""
        entry = self._kept.pop(key, None)
        if entry is None:
            return None
        self._kept[key] = entry  # the most recent
        return entry[0]

    def keep(self, key: tuple, value, steps: list[np.ndarray]) -> None:
        """Keep ``value`` (holding the step arrays ``steps``, each once: ``_distinct_steps``) for
        the next runs of ``key``; the steps become read-only, as they are shared. At most
        SCHEDULE_CACHE_BYTES of steps and MAX_SCHEDULES values, the least recently used dropped
        first; one larger than the bound is not kept."""
        nbytes = sum(s.nbytes for s in steps)
        if nbytes > SCHEDULE_CACHE_BYTES:
            return
        for s in steps:
            s.flags.writeable = False
        while self._kept and (len(self._kept) >= MAX_SCHEDULES or self.schedule_bytes + nbytes > SCHEDULE_CACHE_BYTES):
            self.schedule_bytes -= self._kept.pop(next(iter(self._kept)))[1]
        self._kept[key] = (value, nbytes)
        self.schedule_bytes += nbytes

    def residency(self, hw: Hardware, workload: Workload) -> Residency:
        """``plan_residency``, memoised on everything the planner reads: the workload, the array
        (tensor widths, footprints), the memory levels, the cores and the vector unit (whether
        vector work moves data). Designs that differ only in DRAM, clock or DMA share one plan.
        At most MAX_RESIDENCIES kept, the least recently used dropped first."""
        key = (workload, hw.array, hw.memory, hw.cores, hw.vector)
        plan = self._residencies.pop(key, None)
        if plan is None:
            plan = plan_residency(hw, workload, self.footprints)
            if len(self._residencies) >= MAX_RESIDENCIES:
                self._residencies.pop(next(iter(self._residencies)))
        self._residencies[key] = plan  # the most recent
        return plan

    def footprints(self, layer: Layer, hw: Hardware, batch: int) -> dict[Operand, int]:
        """``tiling.operand_footprints``, memoised on the layer's shape, the batch and the array
        (a few ints each; at most MAX_FOOTPRINTS kept). Never change what it returns."""
        key = (_shape_key(layer), batch, hw.array)
        if key not in self._footprints:
            if len(self._footprints) >= MAX_FOOTPRINTS:
                self._footprints.clear()
            self._footprints[key] = operand_footprints(layer, hw, batch)
        return self._footprints[key]


def _built_from(hw: Hardware, workload: Workload) -> tuple:
    """The workload and every field of the design a build of its shares reads."""
    return (workload,) + tuple(getattr(hw, f.name) for f in fields(hw) if f.name not in UNREAD_BY_THE_BUILD)


def _distinct_steps(layers: Iterable[LayerSchedule], seen: dict | None = None) -> list[np.ndarray]:
    """The step arrays of ``layers`` and of their cores' shares, each once (a merged split holds
    its shares, which a build's splits also hold on their own); ``seen``: id -> array, of
    arrays already counted (updated)."""
    seen = {} if seen is None else seen
    out = []
    for ls in layers:
        for part in (ls,) + ls.cores:
            if id(part.steps) not in seen:
                seen[id(part.steps)] = part.steps
                out.append(part.steps)
    return out


def _layer_steps(table: FoldTable, kinds: np.ndarray, slots: dict[Operand, int], mapping: LayerMapping,
                 hw: Hardware) -> np.ndarray:
    """The steps of a laid-out layer (``table``: one block of each kind, time blocks or outer
    folds, ``kinds``: each block's, ``LayerTiler.lay_out_blocks``): its folds cut into chunks,
    its repeats one after another (the groups run one after another; small ones merge into
    shared steps), merged into steps, the first and last folds at their exact shares. Never
    changed in place."""
    repeats = mapping.gemm.repeats
    if kinds.size == 1 and repeats == 1:
        steps = _steps_of(*_expand(table), slots)
    else:
        steps = _blocked_steps(table, kinds, repeats, slots)
    stream, folds = table.columns["stream"], table.columns["folds"]
    per = folds.size // (int(kinds.max()) + 1)
    total = int((folds.reshape(-1, per).sum(axis=1)[kinds]).sum()) * repeats
    _exact_ends(steps, int(stream[0]), int(stream[(int(kinds[-1]) + 1) * per - 1]), total, hw)
    steps.flags.writeable = False  # shared by every layer of the shape: _with_levels copies it
    return steps


def _gemm_layer(index: int, layer: Layer, hw: Hardware, workload: Workload, plan: LayerPlan,
                levels: tuple[str, ...], tilings: TilingCache) -> LayerSchedule:
    batch = workload.batch
    mapping = map_layer(layer, hw.array, batch)
    tiling, steps = tilings.tiled(layer, hw, batch, plan.space, mapping)
    right = right_operand(layer, workload.graph, index)
    weight_level = plan.inputs[1] if right is not None else DRAM
    steps = _with_levels(steps, {"input_from": level_code(plan.inputs[0], levels),
                                 "weight_from": level_code(weight_level, levels),
                                 "output_to": level_code(plan.output, levels)})
    coding = coded_fractions(index, layer, hw, workload)
    _code(steps, coding)
    traffic, global_traffic, sums = _level_traffic(steps, levels)
    compulsory, spill = layer_traffic_classes(index, layer, hw, workload, plan)
    extra_stationary = (tiling.time_blocks - 1) * mapping.extents.rows * mapping.extents.cols * mapping.gemm.repeats
    on_chip = sums.moved(steps, "store_output", "output_to", ON_CHIP)
    sram = array_sram(mapping, hw, _moved(sums), global_traffic, on_chip, extra_stationary,
                      weight_on_chip=Operand.WEIGHT in plan.space.on_chip)
    bound = layer_lower_bound(index, layer, hw, workload, plan, mapping.gemm.macs, compulsory + spill, coding)
    return _summed(LayerSchedule(layer=layer, unit="array", steps=steps, mapping=mapping, tiling=tiling,
                                 traffic=traffic, compulsory=compulsory, spill=spill, plan=plan, sram=sram,
                                 global_traffic=global_traffic, lower_bound=bound,
                                 gated_macs=gated_macs(layer, mapping.gemm.macs, hw, workload),
                                 macs=mapping.gemm.macs), sums)


def layer_lower_bound(index: int, layer: Layer, hw: Hardware, workload: Workload, plan: LayerPlan, macs: int,
                      must: DramTraffic, coding: dict[str, float]) -> int:
    """``traffic.dram_lower_bound`` of a whole array layer (all of its cores' shares): what it
    must move anyway (``must``: its compulsory and spilled bytes, each as ``coding`` codes it)
    and the Hong-Kung bound on the chip's on-chip capacity, less what is resident."""
    batch = workload.batch
    must_move = sum(math.ceil(nbytes * coding[kind]) for nbytes, kind in (
        (must.input_read, "input"), (must.weight_read, "weight"), (must.output_write, "output")))
    resident = sum(tensor.elements * batch for tensor, level in zip(workload.graph.inputs_of(index), plan.inputs)
                   if level != DRAM) + (layer.output_elements(batch) if plan.output != DRAM else 0)
    return dram_lower_bound(macs, layer, hw, must_move, resident, min(coding.values()))


def _density_read_by(index: int, workload: Workload) -> float:
    """Non-zero fraction of the tensor layer ``index`` writes, as its first array consumer states
    for its input (through pooling and element-wise layers); 1 for a network output."""
    graph, layers = workload.graph, workload.layers
    seen, todo = set(), [index]
    while todo:
        i = todo.pop(0)
        for consumer in graph.output_of(i).consumers:
            if isinstance(layers[consumer], GEMM_LAYERS):
                return 1 - workload.sparsity_of(layers[consumer]).input_zero_fraction
            if consumer not in seen:
                seen.add(consumer)
                todo.append(consumer)
    return 1.0


def coded_fractions(index: int, layer: Layer, hw: Hardware, workload: Workload) -> dict[str, float]:
    """Coded over raw size of the layer's DRAM transfers of inputs, weights and outputs
    (config.sparsity: 1 when the design codes nothing)."""
    config = hw.sparsity
    if config is None:
        return {"input": 1.0, "weight": 1.0, "output": 1.0}
    a, sparsity = hw.array, workload.sparsity_of(layer)
    nm = skipped_nm(layer, a)
    kept = sparsity.density / (nm[0] / nm[1] if nm else 1.0)  # non-zero fraction of the weights moved
    bits = config.run_length_bits
    return {"input": compressed_fraction(config.activations, 1 - sparsity.input_zero_fraction,
                                         8 * a.bytes_per_input, bits),
            "weight": compressed_fraction(config.weights, kept, 8 * a.bytes_per_weight, bits),
            "output": compressed_fraction(config.activations, _density_read_by(index, workload),
                                          8 * a.bytes_per_output, bits)}


def _code(steps: np.ndarray, coding: dict[str, float]) -> None:
    """Scale the steps' DRAM transfers to their coded sizes, in place. A load and the release of
    its buffer bytes scale alike (the buffer holds what came in), through their running sums, so
    every claimed byte is still freed."""
    columns = (("input", ("load_input", "release_input"), "input_from"),
               ("weight", ("load_weight", "release_weight"), "weight_from"),
               ("output", ("store_output",), "output_to"))
    for kind, names, where in columns:
        frac = coding[kind]
        if frac >= 1 or not len(steps) or steps[where][0] != 0:  # raw, or not a DRAM transfer
            continue
        for name in names:
            running = np.ceil(np.cumsum(steps[name]) * frac).astype(np.int64)
            steps[name] = np.diff(running, prepend=0)


def gated_macs(layer: Layer, macs: int, hw: Hardware, workload: Workload) -> int:
    """MACs with a zero operand, when the design gates them: the MACs run times the chance that
    the weight or the input is zero (independent zeros); skipped N:M zeros are not run at all."""
    if hw.sparsity is None or not hw.sparsity.gate_zero_macs:
        return 0
    sparsity = workload.sparsity_of(layer)
    nm = skipped_nm(layer, hw.array)
    weights = sparsity.density / (nm[0] / nm[1] if nm else 1.0)
    return round(macs * (1 - weights * (1 - sparsity.input_zero_fraction)))


def _moved(sums: StepSums) -> DramTraffic:
    """Every load and store of the steps, whatever level it comes from or goes to."""
    t = sums.total
    return DramTraffic(input_read=t["load_input"], weight_read=t["load_weight"], psum_read=t["load_psum"],
                       output_write=t["store_output"], psum_write=t["store_psum"])


def _exact_ends(steps: np.ndarray, first_time: int, last_time: int, total: int, hw: Hardware) -> None:
    """Give the layer's first and last folds (of ``total``; ``first_time``, ``last_time``: their
    streams) their own shares (the table used the middle one)."""
    strategy, timing, array = strategy_for(hw.array.dataflow), timing_for(hw.array), hw.array
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
    """``ceil(ops x batch x cycles per element of its op / vector.elements_per_cycle)``, or 0 when
    fused; the cost per element is ``vector.op_cycles_per_element`` (1 for an op it does not list)."""
    if hw.vector is None:
        return 0
    cost = Fraction(hw.vector.cycles_per_element(layer.op))  # exact: 2.5 cycles stay 2.5
    return math.ceil(layer.ops * batch * cost / hw.vector.elements_per_cycle)


def on_depthwise_engine(layer: Layer, hw: Hardware) -> bool:
    """A depthwise convolution runs on the dedicated engine when the hardware has one."""
    return hw.depthwise is not None and isinstance(layer, Conv2d) and layer.kind == "dwconv"


def runs_off_array(layer: Layer, hw: Hardware) -> bool:
    """Whether a layer runs on the vector unit or the depthwise engine, not tiled on the array."""
    return isinstance(layer, NonGemm) or on_depthwise_engine(layer, hw)


def _vector_layer(index: int, layer: Layer, hw: Hardware, workload: Workload, plan: LayerPlan,
                  levels: tuple[str, ...], tilings: TilingCache) -> LayerSchedule:
    """Work beside the array: pooling, element-wise and activation work on the vector unit (or
    fused, free), and depthwise convolutions on a dedicated depthwise engine.

    The inputs that are off chip are loaded into the activation buffer, each level's bytes in
    its own run of steps (a convolution's input footprint), a depthwise layer's weights into the
    weight buffer, and the output, when it goes off chip, is staged in the partial-sum buffer
    and stored; each piece fits one slot of its buffer. Inputs a concatenation joins are already
    in its output's storage and move nothing. With ``activations: dram`` (the first version,
    kept as it was) vector work moves nothing: its data passes on chip.
    """
    batch = workload.batch
    compulsory, spill = layer_traffic_classes(index, layer, hw, workload, plan)
    depthwise = isinstance(layer, Conv2d)
    if not depthwise and hw.vector is None:
        return LayerSchedule(layer=layer, unit="fused", steps=np.zeros(0, dtype=STEP_DTYPE), mapping=None,
                             tiling=None, traffic=DramTraffic(), compulsory=DramTraffic(), spill=DramTraffic(),
                             sram=sram_accesses(hw, {}, {}), plan=plan, macs=0)
    graph, memory = workload.graph, hw.memory
    loads: dict[int, int] = {}  # level code -> bytes to load
    # with activations: dram (the first version) vector work moves nothing; the depthwise engine
    # is new, and moves what its tensors' places say
    moving = depthwise or memory.activations_on_chip
    for j, (tensor, level, aliased) in enumerate(zip(graph.inputs_of(index), plan.inputs, plan.aliased)):
        code = level_code(level, levels)
        if moving and not aliased and code != ON_CHIP:
            nbytes = input_footprint_bytes(layer, hw, batch) if depthwise else \
                tensor.elements * batch * hw.array.bytes_per_input
            loads[code] = loads.get(code, 0) + nbytes
    out_code = level_code(plan.output, levels) if moving else ON_CHIP
    stored = 0
    if out_code != ON_CHIP:  # a concat writes only what it loaded; the rest is in place already
        stored = sum(loads.values()) if any(plan.aliased) else graph.output_of(index).elements * batch \
            * hw.array.bytes_per_output
    weights = layer.weight_elements(batch) * hw.array.bytes_per_weight if depthwise else 0
    free = dict(plan.space.free_bytes)
    in_level, out_level = memory.buffer_for(DataKind.ACTIVATIONS), memory.buffer_for(DataKind.PSUMS)
    wt_level = memory.buffer_for(DataKind.WEIGHTS)
    sharing = len({in_level.name, out_level.name} | ({wt_level.name} if weights else set()))
    ways = 3 - sharing + 1 if sharing < 3 else 1  # operands in one buffer share it

    def slot(level) -> int:
        return max(1, level.slot_bytes(free[level.name] // ways))
    runs = [(code, nbytes, -(-nbytes // slot(in_level))) for code, nbytes in sorted(loads.items())]
    n = max(1, sum(r[2] for r in runs), -(-stored // slot(out_level)), -(-weights // slot(wt_level)))
    steps = np.zeros(n, dtype=STEP_DTYPE)
    steps["input_from"], steps["weight_from"], steps["output_to"] = ON_CHIP, 0, out_code
    position = np.arange(n)
    start = 0
    for code, nbytes, count in runs:
        pieces = _spread(np.full(count, nbytes), np.full(count, count), np.arange(count))
        steps["load_input"][start:start + count] = pieces
        steps["input_from"][start:start + count] = code
        start += count
    steps["release_input"] = steps["load_input"]
    if weights:
        steps["load_weight"] = steps["release_weight"] = _spread(np.full(n, weights), np.full(n, n), position)
    cycles = -(-layer.macs(batch) // hw.depthwise.macs_per_cycle) if depthwise else vector_cycles(layer, hw, batch)
    steps["vector"] = _spread(np.full(n, cycles), np.full(n, n), position)
    if stored:
        steps["store_output"] = _spread(np.full(n, stored), np.full(n, n), position)
        steps["output_acquire"] = steps["store_release"] = steps["store_output"]
    traffic, global_traffic, sums = _level_traffic(steps, levels)
    return _summed(LayerSchedule(layer=layer, unit="depthwise" if depthwise else "vector", steps=steps, mapping=None,
                                 tiling=None, traffic=traffic, compulsory=compulsory, spill=spill, plan=plan,
                                 global_traffic=global_traffic, sram=vector_sram(hw, _moved(sums), global_traffic),
                                 macs=layer.macs(batch)), sums)


def build_schedule(hw: Hardware, workload: Workload, tilings: TilingCache | None = None,
                   progress: LayerProgress | None = None) -> Schedule:
    """Place the tensors, then map, tile and schedule every layer of a workload on a hardware
    (with several cores: split every layer between them, ``accelsim.partition``); ``tilings``:
    the tilings and schedules of earlier runs to reuse (a new, unbounded one for this run by
    default); ``progress("schedule", done, total)`` is called after each layer."""
    own = tilings is None
    tilings = TilingCache(max_bytes=None) if own else tilings
    key = None if own or hw.cores > 1 else TilingCache.schedule_key(hw, workload)
    kept = None if key is None else tilings.built(key)
    if kept is not None:
        if progress is not None:
            for index in range(len(workload.layers)):
                progress("schedule", index + 1, len(workload.layers))
        return replace(kept, hardware=hw, workload=workload)
    residency = tilings.residency(hw, workload)
    levels = transfer_levels(hw)
    # with several cores and a cache kept across runs: the layers' candidate splits, kept (or
    # reused) whole while within SCHEDULE_CACHE_BYTES; else each layer's are dropped after it
    made, splits_key = None, None
    if not own and hw.cores > 1:
        splits_key = TilingCache.splits_key(hw, workload)
        kept_splits = tilings.built(splits_key)
        if kept_splits is None:
            made = _Splits()
        else:  # complete but for the merged splits not chosen before: those are this run's own
            made, splits_key = ChainMap({}, kept_splits), None
    if own and hw.cores == 1:  # nothing outlives the run: each tiling goes after its last layer
        tilings.expect(TilingCache.key(layer, hw, workload.batch, plan.space)
                       for layer, plan in zip(workload.layers, residency.layers) if not runs_off_array(layer, hw))
    layers = []
    batches: dict[int, Workload] = {workload.batch: workload}
    for index, layer in enumerate(workload.layers):
        plan = residency.layers[index]
        off_array = runs_off_array(layer, hw)
        build = _vector_layer if off_array else _gemm_layer
        if hw.cores == 1:
            layers.append(build(index, layer, hw, workload, plan, levels, tilings))
        else:
            if splits_key is not None and made.nbytes > SCHEDULE_CACHE_BYTES:
                made, splits_key = None, None  # too large to keep
            here = {} if made is None else made
            if off_array:
                if index not in here:
                    here[index] = split_elements(build(index, layer, hw, workload, plan, levels, tilings), hw, levels)
                layers.append(here[index])
            else:
                layers.append(_split_gemm_layer(index, layer, hw, workload, plan, levels, tilings, batches, here))
        if progress is not None:
            progress("schedule", index + 1, len(workload.layers))
    schedule = Schedule(hardware=hw, workload=workload, layers=tuple(layers), residency=residency, levels=levels)
    if splits_key is not None:
        tilings.keep(splits_key, made, list(made.steps.values()))
    if key is not None:
        tilings.keep(key, schedule, _distinct_steps(schedule.layers))
    return schedule


class _Splits(dict):
    """A several-core build's candidate splits, their shares' schedules and the merged splits, by
    layer index (``_split_gemm_layer``), with the step arrays put in (``steps``: id -> array, each
    once) and their bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.nbytes = 0
        self.steps: dict[int, np.ndarray] = {}

    def __setitem__(self, key, value) -> None:
        if isinstance(value, LayerSchedule):
            self.nbytes += sum(s.nbytes for s in _distinct_steps((value,), self.steps))
        super().__setitem__(key, value)


def _split_gemm_layer(index: int, layer: Layer, hw: Hardware, workload: Workload, plan: LayerPlan,
                      levels: tuple[str, ...], tilings: TilingCache, batches: dict, made: dict) -> LayerSchedule:
    """An array layer split between the cores: every legal split (``partition.candidates``) is
    scheduled, share by share, and the one with the fewest analytical cycles is kept (ties: the
    earlier of channels, pixels, batch, heads). Equal shares (a split's equal parts, and the same
    part in several candidates) are scheduled and costed once; only the kept split is merged.
    ``made``: the candidates, their shares' schedules and the merged splits of this build's
    layers, by layer index, filled as they are made; none of them reads what the choice does
    (DRAM, DMA, control, clock), so a design differing only there reuses them (``splits_key``)."""
    from accelsim.analytical import TransferLanes, analytical_breakdown, split_cycles  # the closed form sits above
    from accelsim.partition import candidates

    lanes = TransferLanes(hw)
    best, best_cycles = None, None
    built: dict[tuple[Layer, int], tuple[LayerSchedule, int]] = {}  # a share: its schedule and its cycles
    splits = made.get(("splits", index))
    if splits is None:
        splits = made["splits", index] = candidates(layer, workload.batch, hw.cores, hw.partition)
    for name, shares in splits:
        for share in shares:
            key = (share.layer, share.batch)
            if key not in built:
                part = made.get(("share", index) + key)
                if part is None:
                    if share.batch not in batches:
                        batches[share.batch] = replace(workload, batch=share.batch)
                    part = made["share", index, share.layer, share.batch] = _gemm_layer(
                        index, share.layer, hw, batches[share.batch], plan, levels, tilings)
                built[key] = part, analytical_breakdown(part, hw, lanes).total
        parts, own = (list(column) for column in zip(*(built[share.layer, share.batch] for share in shares)))
        idle = hw.cores - len(parts)  # cores with nothing to do
        if idle:
            empty = _idle(parts[0])
            parts += [empty] * idle
            own += [analytical_breakdown(empty, hw, lanes).total] * idle
        cycles = split_cycles(tuple(parts), tuple(own), "array", hw)
        if best_cycles is None or cycles < best_cycles:
            best, best_cycles = (name, tuple(parts)), cycles
    name, parts = best
    merged = made.get(("merged", index, name))
    if merged is None:
        compulsory, spill = layer_traffic_classes(index, layer, hw, workload, plan)
        merged = merge_cores(layer, parts, compulsory, spill, plan, name, "array")
        coding = coded_fractions(index, layer, hw, workload)
        merged = made["merged", index, name] = replace(merged, lower_bound=layer_lower_bound(
            index, layer, hw, workload, plan, merged.macs, compulsory + spill, coding))
    return merged


def _idle(like: LayerSchedule) -> LayerSchedule:
    """A core with nothing to do in a layer (the whole layer runs on core 0)."""
    return replace(like, steps=np.zeros(0, dtype=STEP_DTYPE), traffic=DramTraffic(), global_traffic=DramTraffic(),
                   sram=SramAccesses(tuple((n, 0, 0) for n, _, _ in like.sram.buffers)), macs=0, gated_macs=0)


def merge_cores(layer: Layer, parts: tuple[LayerSchedule, ...], compulsory: DramTraffic, spill: DramTraffic,
                plan: LayerPlan, partition: str, unit: str) -> LayerSchedule:
    """One layer made of its cores' shares: the shares' steps in core order, their traffic, SRAM
    accesses and MACs summed; the whole layer's compulsory and spilled bytes."""
    def total(attr: str, zero):
        return sum((getattr(p, attr) for p in parts), zero)
    return LayerSchedule(layer=layer, unit=unit, steps=np.concatenate([p.steps for p in parts]),
                         mapping=parts[0].mapping, tiling=parts[0].tiling, traffic=total("traffic", DramTraffic()),
                         compulsory=compulsory, spill=spill, sram=total("sram", SramAccesses()), plan=plan,
                         global_traffic=total("global_traffic", DramTraffic()), macs=sum(p.macs for p in parts),
                         gated_macs=sum(p.gated_macs for p in parts), cores=parts, partition=partition)


def split_elements(ls: LayerSchedule, hw: Hardware, levels: tuple[str, ...]) -> LayerSchedule:
    """A layer off the array (vector unit, depthwise engine, fused) split element-wise: each core
    takes a near-equal integer share of every step's bytes and cycles (``_spread``; the level
    columns are copied), so nothing is replicated."""
    cores = hw.cores
    parts = []
    n = np.full(len(ls.steps), cores)
    for c in range(cores):
        steps = ls.steps.copy()
        for name in STEP_FIELDS:
            steps[name] = _spread(ls.steps[name], n, np.full(len(ls.steps), c))
        traffic, global_traffic, sums = _level_traffic(steps, levels)
        sram = ls.sram if ls.unit == "fused" else vector_sram(hw, _moved(sums), global_traffic)
        parts.append(_summed(replace(ls, steps=steps, traffic=traffic, global_traffic=global_traffic, sram=sram,
                                     macs=ls.macs // cores + (c < ls.macs % cores)), sums))
    return merge_cores(ls.layer, tuple(parts), ls.compulsory, ls.spill, ls.plan, "elements", ls.unit)
