"""Tiling: how a layer's folds walk through the buffers, chosen to move the fewest DRAM bytes.

The folds themselves are fixed by the mapping (dataflow.py): a stationary tile
of at most R x C, a streamed extent T. The tiler decides, per layer:

* the **fold order**: row folds outer and column folds inner (``cols_inner``)
  or the reverse (``rows_inner``); an operand that does not depend on the
  inner loop stays resident across it;
* the **time block** ``T_b``: weight- and input-stationary layers in the
  pipelined fold mode may split the streamed extent into blocks (the
  stationary tile is then reloaded per block), which lets partial sums or the
  streamed operand stay on chip. Only blocks of at least R cycles are used,
  so the compute cycles do not change; SCALE-Sim fold timing and OS never
  block (SCALE-Sim streams the whole extent; OS keeps its outputs in the PEs).

Each operand's tiles live in the buffer that holds its kind of data
(``hw.memory.buffer_for``): inputs in the one holding activations, weights in
the one holding weights, partial sums in the one holding psums. The tiler may
use what resident tensors leave free in each buffer (:class:`WorkingSpace`,
from the residency plan); operands that share a buffer share that room, and
the tiler tries a few splits of it. An operand whose data is already on chip
(a layer input resident in the activation buffer) is read in place: it is
never loaded and takes no room. A "slot" is half of an operand's room when its
buffer is double-buffered, all of it otherwise.

Residency rules, per operand:

* the stationary tile of every fold is loaded for that fold and must fit a
  slot, else :class:`~accelsim.errors.MappingError`;
* a streamed-operand tile that depends on the outer fold loop stays while the
  inner loop runs (mode ``outer``); one that depends on the inner loop stays
  across the outer loop only if all of its tiles of the block fit one slot
  together (``set``), else it is reloaded for every fold (``tile``);
* a tile larger than a slot is streamed through the buffer in chunks and
  reloaded at every use (``stream``);
* partial sums (WS, IS: the outputs, reduced over row folds) accumulate in
  the output buffer when the same rules keep them resident; otherwise every
  row fold but the last writes them to DRAM and every one but the first reads
  them back, both counted.

Candidates considered: for each split of shared buffers, both fold orders x
{no time block} plus, where allowed, the largest time blocks that make the
streamed tile, the set of streamed tiles, the partial-sum tile or the set of
partial-sum tiles fit a slot. Each candidate's traffic is computed in closed
form and the one with the least DRAM traffic is laid out fold by fold
(:class:`FoldTable`); ties: fewer, longer blocks, then ``cols_inner``, then
the even split.

Convolution inputs count as their real footprint in the input feature map:
the band of input rows under a range of output pixels (with the halo of
overlapping windows, clipped at the borders) times the channels that a range
of the reduction touches, not the im2col copy. The reduction is ordered
channel by channel with each channel's R x S window positions together, so a
fold's rows cover whole windows of few channels.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Conv2d, Layer
from accelsim.errors import MappingError
from accelsim.mapping.dataflow import DataflowStrategy, strategy_for, timing_for
from accelsim.mapping.gemm import Operand
from accelsim.mapping.layer_mapping import array_gemm, fold_counts

OPERAND_DIMS = {Operand.INPUT: ("M", "K"), Operand.WEIGHT: ("K", "N"), Operand.OUTPUT: ("M", "N")}

# Columns of a fold table and of a schedule's steps (see schedule.Step for meanings).
STEP_FIELDS = ("folds", "load_input", "load_weight", "load_psum", "output_acquire", "stream", "fill_drain",
               "preload", "vector", "store_output", "store_psum", "store_release", "release_input",
               "release_weight")


def split(extent: int, size: int) -> list[tuple[int, int]]:
    """``[0, extent)`` in consecutive ranges of ``size`` (the last may be shorter)."""
    return [(start, min(start + size, extent)) for start in range(0, extent, size)]


def balanced(extent: int, count: int) -> list[tuple[int, int]]:
    """``[0, extent)`` in ``count`` ranges whose lengths differ by at most one."""
    base, extra = divmod(extent, count)
    out, start = [], 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def touched(lo: int, hi: int, stride: int, pad: int, span: int, size: int) -> int:
    """How many of ``size`` input rows the windows of outputs ``lo..hi`` touch.

    Window ``p`` covers ``[p.stride - pad, p.stride - pad + span)``, clipped to
    the input; windows overlap (a band) when ``span >= stride``, else they
    leave gaps that a strided transfer skips.
    """
    def clipped(p: int) -> int:
        start = p * stride - pad
        return max(0, min(size, start + span) - max(0, start))

    if span >= stride:
        return max(0, min(size, hi * stride - pad + span) - max(0, lo * stride - pad))
    if hi == lo:
        return clipped(lo)
    return clipped(lo) + clipped(hi) + (hi - lo - 1) * span


class Geometry:
    """Byte sizes of operand tiles of one GEMM layer, given index ranges of M, K, N.

    ``packed`` > 1: the GEMM is that many groups side by side and its weights are
    block-diagonal, so a weight tile holds only its overlap with the diagonal blocks.
    """

    def __init__(self, layer: Layer, hw: Hardware, packed: int = 1):
        a = hw.array
        self.packed = packed
        self.bytes = {Operand.INPUT: a.bytes_per_input, Operand.WEIGHT: a.bytes_per_weight}
        self.bytes_psum = a.bytes_per_psum
        self.bytes_output = a.bytes_per_output
        self.conv = layer if isinstance(layer, Conv2d) else None
        if self.conv is not None:
            c = self.conv
            self.window = c.R * c.S
            span_h, span_w = c.dilation[0] * (c.R - 1) + 1, c.dilation[1] * (c.S - 1) + 1
            self._shape = (c.P, c.Q, c.H, c.W, c.stride[0], c.stride[1], c.padding[0], c.padding[2], span_h, span_w)
            self.full_cols = touched(0, c.Q - 1, c.stride[1], c.padding[2], span_w, c.W)

    def spatial(self, m0: int, m1: int) -> int:
        """Input pixels under output pixels ``[m0, m1)`` (raster order: image, row, column):
        the input rows their windows touch (halo included) times the input columns."""
        P, Q, H, W, sh, sw, pt, pl, span_h, span_w = self._shape
        plane = P * Q
        total = 0
        for image in range(m0 // plane, (m1 - 1) // plane + 1):
            lo = max(m0, image * plane) - image * plane
            hi = min(m1, (image + 1) * plane) - image * plane - 1
            p_lo, p_hi = lo // Q, hi // Q
            rows = touched(p_lo, p_hi, sh, pt, span_h, H)
            cols = touched(lo % Q, hi % Q, sw, pl, span_w, W) if p_lo == p_hi else self.full_cols
            total += rows * cols
        return total

    def channels(self, k0: int, k1: int) -> int:
        """Distinct input channels in reduction indices ``[k0, k1)``.

        The reduction runs channel by channel, the R x S window positions of a
        channel together (k = c.R.S + r.S + s), so a fold of the array's rows
        covers whole windows of few channels and neighbouring folds share at
        most one channel.
        """
        return (k1 - 1) // self.window - k0 // self.window + 1

    def table(self, operand: Operand, ranges1: list, ranges2: list, psum: bool = False) -> np.ndarray:
        """Tile bytes of ``operand`` for every pair of ranges of its two dims (OPERAND_DIMS order)."""
        if operand is Operand.INPUT and self.conv is not None:
            a = np.array([self.spatial(*r) for r in ranges1], dtype=np.int64)
            b = np.array([self.channels(*r) for r in ranges2], dtype=np.int64)
            return np.outer(a, b) * self.bytes[operand]
        size = self.bytes.get(operand) or (self.bytes_psum if psum else self.bytes_output)
        if operand is Operand.WEIGHT and self.packed > 1:
            return self._diagonal(ranges1, ranges2) * size
        a = np.array([r[1] - r[0] for r in ranges1], dtype=np.int64)
        b = np.array([r[1] - r[0] for r in ranges2], dtype=np.int64)
        return np.outer(a, b) * size

    def _diagonal(self, k_ranges: list, n_ranges: list) -> np.ndarray:
        """Weights of each (K range, N range) tile that lie in the diagonal blocks."""
        def overlap(ranges: list, extent: int) -> np.ndarray:
            block = extent // self.packed
            starts = np.arange(self.packed) * block
            lo = np.array([r[0] for r in ranges])[:, None]
            hi = np.array([r[1] for r in ranges])[:, None]
            return np.clip(np.minimum(hi, starts + block) - np.maximum(lo, starts), 0, None)
        return (overlap(k_ranges, self.k_extent) @ overlap(n_ranges, self.n_extent).T).astype(np.int64)


@dataclass(frozen=True)
class Candidate:
    order: str        # "cols_inner" (row folds outer) or "rows_inner"
    time_block: int   # streamed extent per block (T when not blocked)
    dram_bytes: int


@dataclass(frozen=True)
class Tiling:
    """The chosen walk of one layer's folds (one group of its repeats) through the buffers."""

    layer: str
    order: str
    time_blocks: int
    considered: tuple[Candidate, ...]
    slot_bytes: tuple[tuple[Operand, int], ...] = ()  # each operand's slot under the chosen split


@dataclass(frozen=True)
class WorkingSpace:
    """The room one layer's working tiles have.

    ``free_bytes``: per per-core buffer (by name), the bytes resident tensors leave free while
    the layer runs; ``on_chip``: operands whose data is already in its buffer (read in place,
    never loaded, no room needed).
    """

    free_bytes: tuple[tuple[str, int], ...]
    on_chip: frozenset = frozenset()

    @staticmethod
    def whole(hw: Hardware) -> "WorkingSpace":
        """Every buffer empty: nothing resident."""
        return WorkingSpace(tuple((level.name, level.size_bytes) for level in hw.memory.local))

    def free(self, name: str) -> int:
        return dict(self.free_bytes)[name]


def share_splits(n: int) -> list[tuple[float, ...]]:
    """How ``n`` operands may split one buffer's room: evenly first, then each one favoured."""
    if n <= 1:
        return [(1.0,)] * n
    favoured = 0.5 + 0.5 / n
    rest = (1 - favoured) / (n - 1)
    return [(1 / n,) * n] + [tuple(favoured if i == j else rest for i in range(n)) for j in range(n)]


class FoldTable:
    """One candidate laid out fold by fold, for one group: per fold, what moves and when.

    ``columns[name]`` is an int64 array over folds in execution order (the
    STEP_FIELDS, with compute phases at the fold timing's *middle* share; the
    schedule fixes the first and last folds of the layer); ``chunks`` is how
    many pieces each fold's stream must be cut into for streamed tiles to fit.
    """

    def __init__(self, n: int):
        self.columns = {name: np.zeros(n, dtype=np.int64) for name in STEP_FIELDS}
        self.columns["folds"][:] = 1
        self.chunks = np.ones(n, dtype=np.int64)
        self.streamed: dict[str, np.ndarray] = {}  # column -> bytes to spread over the chunks

    @property
    def dram_bytes(self) -> int:
        moved = ("load_input", "load_weight", "load_psum", "store_output", "store_psum")
        return int(sum(self.columns[k].sum() for k in moved)
                   + sum(v.sum() for k, v in self.streamed.items() if k in moved))


class LayerTiler:
    """Evaluates the candidate tilings of one GEMM layer and lays out the chosen one."""

    def __init__(self, layer: Layer, hw: Hardware, batch: int, space: WorkingSpace | None = None):
        self.layer = layer
        self.hw = hw
        self.gemm = array_gemm(layer, hw.array, batch)
        self.strategy: DataflowStrategy = strategy_for(hw.array.dataflow)
        self.timing = timing_for(hw.array)
        self.extents = self.strategy.extents(self.gemm)
        self.geo = Geometry(layer, hw, self.gemm.packed)
        self.geo.k_extent, self.geo.n_extent = self.gemm.K, self.gemm.N
        self.rows = split(self.extents.rows, hw.array.rows)
        self.cols = split(self.extents.cols, hw.array.cols)
        self.nr, self.nc = fold_counts(self.extents, hw.array)
        self._tables: dict = {}
        self._blocks: dict = {}
        self._sizes: dict = {}
        self.space = space if space is not None else WorkingSpace.whole(hw)
        self.on_chip = self.space.on_chip
        self.buffer = {op: hw.memory.buffer_for(op.kind) for op in Operand}
        self.splits = self._slot_splits()
        self.slots = self.splits[0]
        dims = {"row": self.strategy.row_dim, "col": self.strategy.col_dim, "time": self.strategy.time_dim}
        self.dim_role = {dim: role for role, dim in dims.items()}

    def _slot_splits(self) -> list[dict[Operand, int]]:
        """Each operand's slot bytes, for every split of the buffers that operands share."""
        users: dict[str, list[Operand]] = {}
        for op in Operand:
            if op not in self.on_chip:
                users.setdefault(self.buffer[op].name, []).append(op)
        per_buffer = []
        for name, ops in users.items():
            level, free = self.buffer[ops[0]], self.space.free(name)
            per_buffer.append([{op: level.slot_bytes(int(free * share)) for op, share in zip(ops, shares)}
                               for shares in share_splits(len(ops))])
        splits = []
        for combo in itertools.product(*per_buffer):
            slots = dict.fromkeys(Operand, 0)
            for part in combo:
                slots.update(part)
            splits.append(slots)
        return splits

    # ------------------------------------------------------------ tile tables
    def roles(self, operand: Operand) -> tuple[str, str]:
        d1, d2 = OPERAND_DIMS[operand]
        return self.dim_role[d1], self.dim_role[d2]

    def table(self, operand: Operand, parts: dict[str, list], psum: bool = False) -> dict:
        """Tile bytes indexed by role name: ``(table, role1, role2)``. Memoised on the ranges:
        candidates and splits of the buffers ask for the same tables again and again."""
        r1, r2 = self.roles(operand)
        key = (operand, tuple(parts[r1]), tuple(parts[r2]), psum)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = self.geo.table(operand, parts[r1], parts[r2], psum)
            table.flags.writeable = False  # shared by every caller: never changed in place
        return {"table": table, "roles": (r1, r2)}

    def per_block(self, operand: Operand, parts: dict[str, list], psum: bool, fold_role: str) -> tuple:
        """Per block of the other role: the sum and the largest of ``operand``'s tiles along
        ``fold_role`` (memoised like the tables)."""
        key = (operand, tuple(parts[fold_role]), tuple(parts["time"]), psum, fold_role)
        if key not in self._blocks:
            t = self.table(operand, parts, psum)
            axis = 0 if t["roles"][0] == fold_role else 1
            self._blocks[key] = (t["table"].sum(axis=axis), t["table"].max(axis=axis))
        return self._blocks[key]

    @staticmethod
    def gather(t: dict, idx: dict[str, np.ndarray]) -> np.ndarray:
        r1, r2 = t["roles"]
        return t["table"][idx[r1], idx[r2]]

    def fold_tile_bytes(self) -> dict[Operand, int]:
        """The largest tile of one fold per operand: the stationary tile, and each streamed
        operand's tile over a fold's whole stream (what loads without cutting it into chunks)."""
        whole = {"row": self.rows, "col": self.cols, "time": [(0, self.extents.time)]}
        return {op: int(self.table(op, whole, psum=op is Operand.OUTPUT)["table"].max()) for op in Operand}

    def check_stationary(self) -> None:
        """One fold's stationary tile must fit its buffer slot (unless it is on chip already)."""
        operand = self.strategy.stationary
        if operand in self.on_chip:
            return
        parts = {"row": self.rows[:1], "col": self.cols[:1], "time": [(0, self.extents.time)]}
        need = int(self.table(operand, parts, psum=operand is Operand.OUTPUT)["table"].max())
        if need > self.slots[operand]:
            rr, cr = self.rows[0], self.cols[0]
            raise MappingError(self.layer.name, self.buffer[operand].name, need, self.slots[operand],
                               f"one fold's stationary tile of {rr[1] - rr[0]} x {cr[1] - cr[0]} elements")

    def streamed(self) -> tuple[tuple[Operand, str], ...]:
        """The streamed operands that must be brought in, with their fold role."""
        return tuple((op, role) for op, role in ((self.strategy.from_left, "row"), (self.strategy.along_cols, "col"))
                     if op not in self.on_chip)

    # ------------------------------------------------------------ candidates
    def time_ranges(self, time_block: int) -> list[tuple[int, int]]:
        T, R = self.extents.time, self.hw.array.rows
        count = math.ceil(T / time_block)
        if time_block < T:
            count = min(count, max(1, T // R))  # keep every block at least R long
        return balanced(T, count)

    def time_block_candidates(self) -> list[int]:
        T, R = self.extents.time, self.hw.array.rows
        if not self.hw.array.pipelined_folds or self.strategy.stationary is Operand.OUTPUT or T < 2 * R:
            return [T]
        blocks = {T}
        for operand, fold_role in self.streamed():
            fold_parts = self.rows if fold_role == "row" else self.cols
            psum = operand is Operand.OUTPUT
            for subset in (fold_parts[:1], fold_parts):
                def size(tb: int) -> int:
                    key = (operand, fold_role, len(subset), tb)  # the same probes for every split
                    if key not in self._sizes:
                        mid = (T - tb) // 2
                        parts = {fold_role: subset, "time": [(0, tb), (mid, mid + tb)]}
                        per_block, _ = self.per_block(operand, parts, psum, fold_role)
                        self._sizes[key] = int(per_block.max())
                    return self._sizes[key]
                slot = self.slots[operand]
                if size(T) <= slot or size(R) > slot:
                    continue
                lo, hi = R, T
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if size(mid) <= slot else (lo, mid)
                blocks.add(lo)
        return sorted(blocks, reverse=True)

    def floor_bytes(self) -> int:
        """The fewest DRAM bytes any candidate can move: every operand brought in (and the
        outputs written) once, as when every tile stays resident for the whole layer."""
        whole = {"row": self.rows, "col": self.cols, "time": [(0, self.extents.time)]}
        total = sum(int(self.table(op, whole)["table"].sum()) for op in Operand if op not in self.on_chip)
        return total * self.gemm.repeats

    def choose(self) -> tuple[Tiling, FoldTable]:
        """The candidate with the fewest DRAM bytes over every split, laid out. Splits are tried
        even first; once a split reaches :meth:`floor_bytes`, no other can do better."""
        first_error, options = None, []
        floor = self.floor_bytes() if len(self.splits) > 1 else None
        for index, slots in enumerate(self.splits):
            if floor is not None and options and min(option[0][0] for option in options) <= floor:
                break
            self.slots = slots
            try:
                self.check_stationary()
            except MappingError as err:
                first_error = first_error or err
                continue
            for c in (Candidate(order, time_block, self.dram_bytes(order, time_block))
                      for time_block in self.time_block_candidates() for order in ("cols_inner", "rows_inner")):
                options.append(((c.dram_bytes, -c.time_block, c.order != "cols_inner", index), c, slots))
        if not options:
            raise first_error
        _, best, self.slots = min(options, key=lambda option: option[0])
        tiling = Tiling(layer=self.layer.name, order=best.order, time_blocks=len(self.time_ranges(best.time_block)),
                        considered=tuple(c for _, c, _ in options), slot_bytes=tuple(self.slots.items()))
        return tiling, self.lay_out(best.order, best.time_block)

    def dram_bytes(self, order: str, time_block: int) -> int:
        """DRAM bytes of a candidate, in closed form: what :meth:`lay_out` would move."""
        times = self.time_ranges(time_block)
        parts = {"row": self.rows, "col": self.cols, "time": times}
        outer = "row" if order == "cols_inner" else "col"
        trips = {"row": self.nr, "col": self.nc}
        S = self.strategy.stationary
        total = 0
        if S not in self.on_chip:
            total = int(self.table(S, parts)["table"].sum()) * (1 if S is Operand.OUTPUT else len(times))
        for operand, fold_role in self.streamed():
            psum = operand is Operand.OUTPUT
            per_block, largest = self.per_block(operand, parts, psum, fold_role)
            fits = largest <= self.slots[operand]
            resident = fits if fold_role == outer else fits & (per_block <= self.slots[operand])
            if psum:
                total += int(self.table(Operand.OUTPUT, parts)["table"].sum())
                if self.nr > 1:
                    total += 2 * (self.nr - 1) * int(per_block[~resident].sum())
            else:
                other = "col" if fold_role == "row" else "row"
                total += int(np.where(resident, per_block, per_block * trips[other]).sum())
        return total * self.gemm.repeats

    # ------------------------------------------------------------ layout
    def lay_out(self, order: str, time_block: int) -> FoldTable:
        """Every fold of one group in execution order, with the bytes it moves."""
        times = self.time_ranges(time_block)
        parts = {"row": self.rows, "col": self.cols, "time": times}
        outer, inner = ("row", "col") if order == "cols_inner" else ("col", "row")
        n = {"row": self.nr, "col": self.nc, "time": len(times)}
        t_idx, o_idx, i_idx = (a.ravel() for a in np.indices((n["time"], n[outer], n[inner])))
        idx = {"time": t_idx, outer: o_idx, inner: i_idx}
        first_inner, last_inner = i_idx == 0, i_idx == n[inner] - 1
        first_outer = o_idx == 0
        block_end = last_inner & (o_idx == n[outer] - 1)
        ft = FoldTable(t_idx.size)
        col = ft.columns
        field = {Operand.INPUT: ("load_input", "release_input"), Operand.WEIGHT: ("load_weight", "release_weight")}

        # compute: T_i cycles of stream per fold, the fold timing's share for a middle fold
        shares = [self.timing.fold(self.strategy, self.hw.array, b - a, 1, 3) for a, b in times]
        for phase in ("stream", "fill_drain", "preload"):
            col[phase][:] = np.array([getattr(share, phase) for share in shares], dtype=np.int64)[t_idx]

        # the stationary tile: loaded for every fold (OS: claimed, then stored as outputs)
        S = self.strategy.stationary
        if S in self.on_chip:
            pass  # read from its buffer in place
        elif S is Operand.OUTPUT:
            claim = self.gather(self.table(S, parts, psum=True), idx)
            col["output_acquire"] += claim
            col["store_output"] += self.gather(self.table(S, parts), idx)
            col["store_release"] += claim
        else:
            size = self.gather(self.table(S, parts), idx)
            col[field[S][0]] += size
            col[field[S][1]] += size

        for operand, fold_role in self.streamed():
            psum = operand is Operand.OUTPUT
            t = self.table(operand, parts, psum=psum)
            size = self.gather(t, idx)
            # per block: the biggest tile and the sum of the block's tiles along the fold role
            axis = 0 if t["roles"][0] == fold_role else 1
            per_block_max = t["table"].max(axis=axis)[t_idx]
            per_block_set = t["table"].sum(axis=axis)[t_idx]
            slot = self.slots[operand]
            fits = per_block_max <= slot
            if fold_role == outer:
                resident = fits
            else:
                resident = fits & (per_block_set <= slot)
            stream = ~fits
            if psum:
                self._psums(ft, idx, size, resident, stream, parts)
                continue
            load, release = field[operand]
            if fold_role == outer:  # "outer": with the first inner fold, kept for the inner loop
                keep = resident
                col[load] += np.where(keep & first_inner, size, 0)
                col[release] += np.where(keep & last_inner, size, 0)
            else:  # "set": every tile once per block, all freed at the block's end
                keep = resident
                col[load] += np.where(keep & first_outer, size, 0)
                col[release] += np.where(keep & block_end, per_block_set, 0)
            tile_mode = ~keep & fits  # reloaded for every fold
            col[load] += np.where(tile_mode, size, 0)
            col[release] += np.where(tile_mode, size, 0)
            self._stream(ft, load, np.where(stream, size, 0), slot, operand)
        return ft

    def _psums(self, ft: FoldTable, idx, size, resident, stream, parts) -> None:
        """Partial sums (WS, IS), reduced over the row folds: in place, spilled, or streamed."""
        col = ft.columns
        r = idx["row"]
        first, last = r == 0, r == self.nr - 1
        final = self.gather(self.table(Operand.OUTPUT, parts), idx)
        in_place = (resident | (self.nr == 1)) & ~stream
        spill = ~in_place & ~stream
        col["output_acquire"] += np.where((in_place | spill) & first, size, 0)
        col["load_psum"] += np.where(spill & ~first, size, 0)
        col["store_output"] += np.where(~stream & last, final, 0)
        col["store_psum"] += np.where(spill & ~last, size, 0)
        col["store_release"] += np.where((in_place & last) | spill, size, 0)
        # streamed partial sums: every chunk claims (or reads back) and stores its piece
        streamed = np.where(stream, size, 0)
        out = Operand.OUTPUT
        self._stream(ft, "output_acquire", np.where(first, streamed, 0), self.slots[out], out)
        self._stream(ft, "load_psum", np.where(~first, streamed, 0), self.slots[out], out)
        self._stream(ft, "store_output", np.where(stream & last, final, 0), None, out)
        self._stream(ft, "store_psum", np.where(~last, streamed, 0), None, out)
        self._stream(ft, "store_release", streamed, None, out)

    def _stream(self, ft: FoldTable, column: str, size: np.ndarray, slot: int | None, operand: Operand) -> None:
        """Bytes that pass through the buffer in chunks; chunk count so each piece fits ``slot``."""
        if not size.any():
            return
        ft.streamed[column] = ft.streamed.get(column, 0) + size
        if column.startswith("load_"):  # a streamed load is freed with its own chunk
            release = "release_" + column[len("load_"):]
            if release in ft.columns:
                ft.streamed[release] = ft.streamed.get(release, 0) + size
        if slot is not None:
            need = -(-size // slot)
            lengths = ft.columns["stream"]
            if (need > np.maximum(lengths, 1)).any():
                worst = int(np.argmax(need - lengths))
                raise MappingError(self.layer.name, self.buffer[operand].name,
                                   int(-(-size[worst] // max(lengths[worst], 1))),
                                   slot, "the data of a single stream step of one fold")
            ft.chunks = np.maximum(ft.chunks, need)
