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

A candidate is a loop nest: time blocks outermost, then groups of the inner
role's folds, then the outer folds, then the group's inner folds (blocking of
the outer fold loop: several inner tiles per pass of the outer operand); or the
outer folds, then time blocks, then the inner folds ("time inside": an outer
tile is visited once, and one outer fold's stationary tiles may stay across the
time blocks).

Residency rules, per operand (a *run* of tiles held together counts the union
of their footprints: neighbouring row folds share the channel a fold boundary
splits):

* an operand whose footprint (:func:`operand_footprints`) fits its whole room
  stays for the whole layer: each part is loaded at its first use, once; such a
  set needs no second slot (``whole``);
* the stationary tile of every fold is loaded for that fold and time block and
  must fit a slot, else :class:`~accelsim.errors.MappingError`; with time
  inside, one outer fold's stationary tiles stay across its time blocks when
  they fit a slot together;
* a streamed-operand tile that depends on the outer fold loop stays while the
  group's inner folds run (``outer``; all of a block's outer tiles stay across
  the groups when their run fits a slot); one that depends on the inner loop
  stays across the outer loop if the run of the group's tiles fits one slot
  (``set``), else it is reloaded for every fold (``tile``);
* a tile larger than a slot is streamed through the buffer in chunks and
  reloaded at every use (``stream``);
* partial sums (WS, IS: the outputs, reduced over row folds) accumulate in
  the output buffer when the same rules keep them resident for their whole
  reduction; otherwise every visit but the last writes them to DRAM and every
  visit but the first reads them back, both counted.

Candidates considered: for each split of shared buffers (even, each operand
favoured, in proportion to the footprints), both fold orders x {no time block}
plus, where allowed, the largest time blocks that make the streamed tile, the
run of a block's streamed tiles (by union, and by sum: the first tiler's
measure) or the partial-sum tiles fit a slot, x groups {all, one, the most whose
run fits a slot} with time outside, and time inside. Each candidate's traffic is
computed in closed form and the one with the least DRAM traffic is laid out
fold by fold (:class:`FoldTable`); ties: fewer, longer blocks, no grouping, time
outside, ``cols_inner``, the even split. The first tiler's candidates are all
in the set, each moving at most what it moved then. Once the best so far moves
the floor (every operand brought in once, :meth:`LayerTiler.floor_bytes`), a
candidate that could only tie it and lose the tie is not evaluated, nor are the
groups and time blocks searched for whose candidates all would: the choice is
the one of every candidate, at a fraction of the cost where buffers are large.

Convolution inputs count as their real footprint in the input feature map:
the band of input rows under a range of output pixels (with the halo of
overlapping windows, clipped at the borders) times the channels that a range
of the reduction touches, not the im2col copy. The reduction is ordered
channel by channel with each channel's R x S window positions together, so a
fold's rows cover whole windows of few channels, and a run of row folds holds each
of its channels once.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Conv2d, Layer
from accelsim.errors import MappingError
from accelsim.mapping.dataflow import DataflowStrategy, strategy_for, timing_for
from accelsim.mapping.gemm import GemmShape, Operand
from accelsim.mapping.layer_mapping import array_gemm, fold_counts
from accelsim.mapping.sparse import index_bits, skipped_nm, sparse_gemm

OUTER_KINDS_FROM = 4  # outer folds laid out by kind when there are this many per kind on average
OUTER_KINDS_MIN_FOLDS = 16_384  # ... and at least this many folds (fewer lay out in a few ms)
FEW_RANGES = 8  # a convolution input's pixels of at most this many ranges are counted in Python
SEARCH_LEVELS = 4  # halvings of a binary search whose probes are computed together (2**4 - 1 of them)
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
    stops = np.cumsum(base + (np.arange(count) < extra))
    return list(zip((stops - (base + (np.arange(count) < extra))).tolist(), stops.tolist()))


def _as_array(ranges) -> np.ndarray:
    """A list of ``(start, stop)`` ranges (or an array of them) as an (n, 2) int64 array."""
    return np.asarray(ranges, dtype=np.int64).reshape(-1, 2)


def _lengths(ranges) -> np.ndarray:
    r = _as_array(ranges)
    return r[:, 1] - r[:, 0]


def touched(lo, hi, stride: int, pad: int, span: int, size: int):
    """How many of ``size`` input rows the windows of outputs ``lo..hi`` touch (ints, or arrays of
    them: one answer per pair).

    Window ``p`` covers ``[p.stride - pad, p.stride - pad + span)``, clipped to
    the input; windows overlap (a band) when ``span >= stride``, else they
    leave gaps that a strided transfer skips: then each window inside the input
    touches ``span`` rows, and of those not inside only the one across the top
    edge and the one across the bottom edge touch any (windows in the padding
    touch none, as where the padding is wider than the stride).
    """
    def clipped(p):
        start = p * stride - pad
        return np.maximum(0, np.minimum(size, start + span) - np.maximum(0, start))

    if span >= stride:
        return np.maximum(0, np.minimum(size, hi * stride - pad + span) - np.maximum(0, lo * stride - pad))
    first, last = _inside(stride, pad, span, size)
    top, bottom = first - 1, last + 1
    inside = np.maximum(0, np.minimum(hi, last) - np.maximum(lo, first) + 1) * span
    edges = np.where((lo <= top) & (top <= hi), clipped(top), 0)
    return inside + edges + np.where((lo <= bottom) & (bottom <= hi) & (bottom != top), clipped(bottom), 0)


def _inside(stride: int, pad: int, span: int, size: int) -> tuple[int, int]:
    """The first and the last window wholly inside the input (the last may be before the first:
    none is)."""
    return -(-pad // stride), (size - span + pad) // stride


def _touched_int(lo: int, hi: int, stride: int, pad: int, span: int, size: int) -> int:
    """:func:`touched` of one pair of Python ints, in Python (no numpy call: a few ranges at a
    time is most of the tiler's asks, and numpy's cost is per call)."""
    if span >= stride:
        return max(0, min(size, hi * stride - pad + span) - max(0, lo * stride - pad))

    def clipped(p: int) -> int:
        start = p * stride - pad
        return max(0, min(size, start + span) - max(0, start))
    first, last = _inside(stride, pad, span, size)
    top, bottom = first - 1, last + 1
    total = max(0, min(hi, last) - max(lo, first) + 1) * span
    if lo <= top <= hi:
        total += clipped(top)
    if lo <= bottom <= hi and bottom != top:
        total += clipped(bottom)
    return total


class Geometry:
    """Byte sizes of operand tiles of one GEMM layer, given index ranges of M, K, N.

    Besides each tile's own bytes, :meth:`table` gives the part of a tile that is *new* along
    some of its dims: what it holds that the tiles before it along those dims (in order, from
    index 0) do not. A run of tiles that stay in a buffer together holds the union of their
    footprints, which is the first tile plus the new parts of the others: neighbouring row
    folds of a convolution share the channel a fold boundary splits, neighbouring ranges of
    output pixels share the halo of their windows.

    ``gemm.packed`` > 1: the GEMM is that many groups side by side and its weights are
    block-diagonal (``gemm.K`` x ``gemm.N``), so a weight tile holds only its overlap with the
    diagonal blocks. Without ``gemm`` only the input footprints are asked for (one group).
    """

    def __init__(self, layer: Layer, hw: Hardware, gemm: GemmShape | None = None):
        a = hw.array
        self.packed = gemm.packed if gemm is not None else 1
        if gemm is not None:
            self.k_extent, self.n_extent = gemm.K, gemm.N
        self.bytes = {Operand.INPUT: a.bytes_per_input, Operand.WEIGHT: a.bytes_per_weight}
        self.bytes_psum = a.bytes_per_psum
        self.bytes_output = a.bytes_per_output
        self.conv = layer if isinstance(layer, Conv2d) else None
        # N:M skipping (mapping.sparse): reduction index k stands for dense index k.M/N, and every
        # kept weight carries index bits
        self.nm = skipped_nm(layer, a) or (1, 1)
        self.weight_bits = 8 * a.bytes_per_weight + index_bits(layer, a)
        if self.conv is not None:
            c = self.conv
            self.window = c.R * c.S
            span_h, span_w = c.dilation[0] * (c.R - 1) + 1, c.dilation[1] * (c.S - 1) + 1
            self._shape = (c.P, c.Q, c.H, c.W, c.stride[0], c.stride[1], c.padding[0], c.padding[2], span_h, span_w)
            self.full_cols = int(touched(0, c.Q - 1, c.stride[1], c.padding[2], span_w, c.W))
            self._whole_image = self._in_image(np.zeros(1, dtype=np.int64), np.full(1, c.P * c.Q - 1))
            self._whole_image_int = int(self._whole_image[0])

    def spatial(self, m0: int, m1: int) -> int:
        """Input pixels under output pixels ``[m0, m1)`` (raster order: image, row, column):
        the input rows their windows touch (halo included) times the input columns."""
        return int(self.spatial_of(np.array([m0]), np.array([m1]))[0])

    def spatial_of(self, m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
        """:meth:`spatial` of every range ``[m0[i], m1[i])`` at once (1-D arrays): the part in its
        first image, the whole images after it, and the part in its last image."""
        plane = self._shape[0] * self._shape[1]
        first, last = m0 // plane, (m1 - 1) // plane
        one = first == last
        # the heads and the tails in one call: numpy's cost here is per call, not per element
        lo = np.concatenate([m0 - first * plane, np.zeros_like(m1)])
        hi = np.concatenate([np.where(one, m1 - 1 - first * plane, plane - 1), m1 - 1 - last * plane])
        both = self._in_image(lo, hi)
        head, tail = both[:m0.size], both[m0.size:]
        return head + np.where(one, 0, (last - first - 1) * self._whole_image + tail)

    def _spatial_int(self, m0: int, m1: int) -> int:
        """:meth:`spatial_of` of one range, in Python ints, step for step."""
        P, Q, H, W, sh, sw, pt, pl, span_h, span_w = self._shape
        plane = P * Q

        def in_image(lo: int, hi: int) -> int:
            p_lo, p_hi = lo // Q, hi // Q
            rows = _touched_int(p_lo, p_hi, sh, pt, span_h, H)
            return rows * (_touched_int(lo % Q, hi % Q, sw, pl, span_w, W) if p_lo == p_hi else self.full_cols)
        first, last = m0 // plane, (m1 - 1) // plane
        if first == last:
            return in_image(m0 - first * plane, m1 - 1 - first * plane)
        return (in_image(m0 - first * plane, plane - 1) + (last - first - 1) * self._whole_image_int
                + in_image(0, m1 - 1 - last * plane))

    def _in_image(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Input pixels under output pixels ``lo..hi`` (inclusive) of one image."""
        P, Q, H, W, sh, sw, pt, pl, span_h, span_w = self._shape
        p_lo, p_hi = lo // Q, hi // Q
        rows = touched(p_lo, p_hi, sh, pt, span_h, H)
        return rows * np.where(p_lo == p_hi, touched(lo % Q, hi % Q, sw, pl, span_w, W), self.full_cols)

    def channels(self, k0, k1):
        """Distinct input channels in reduction indices ``[k0, k1)`` (ints, or arrays of them).

        The reduction runs channel by channel, the R x S window positions of a
        channel together (k = c.R.S + r.S + s), so a fold of the array's rows
        covers whole windows of few channels and neighbouring folds share at
        most one channel.
        """
        return (k1 - 1) // self.window - k0 // self.window + 1

    def _extents(self, dim: str, lo: np.ndarray, hi: np.ndarray, new: bool) -> np.ndarray:
        """The input's share of dim ``dim`` (M: pixels, K: channels) of each range, or of its new
        part (beyond the earlier ranges', measured from index 0: both measures are monotone)."""
        if dim == "M":
            if not new:
                return self.spatial_of(lo, hi)
            zero, n = np.zeros_like(lo), lo.size  # the three measures in one call
            both = self.spatial_of(np.concatenate([lo, zero, zero]), np.concatenate([hi, hi, np.maximum(lo, 1)]))
            return np.where(lo == 0, both[:n], both[n:2 * n] - both[2 * n:])
        if not new:
            return self.channels(lo, hi)
        return np.where(lo == 0, self.channels(lo, hi), (hi - 1) // self.window - (lo - 1) // self.window)

    def table(self, operand: Operand, ranges1: list, ranges2: list, psum: bool = False,
              new: tuple[bool, bool] = (False, False)) -> np.ndarray:
        """Tile bytes of ``operand`` for every pair of ranges of its two dims (OPERAND_DIMS order);
        ``new[i]``: only the part not held by the earlier ranges of dim ``i`` (convolution inputs:
        other operands' tiles never overlap)."""
        n, m = self.nm
        if operand is Operand.INPUT and self.conv is not None:
            return self.input_table(self.input_extents("M", ranges1, new[0]), self.input_extents("K", ranges2, new[1]))
        size = self.bytes.get(operand) or (self.bytes_psum if psum else self.bytes_output)
        if operand is Operand.WEIGHT and self.packed > 1:
            return self._diagonal(ranges1, ranges2) * size
        a, b = _lengths(ranges1), _lengths(ranges2)
        if operand is Operand.WEIGHT and self.weight_bits % 8:  # kept weights with their index bits
            return -(-np.outer(a, b) * self.weight_bits // 8)
        if operand is Operand.INPUT and m > n:  # each row selects from the M inputs of its group
            b = -(-b * m // n)
        return np.outer(a, b) * size

    def input_extents(self, dim: str, ranges, new: bool) -> np.ndarray:
        """A convolution input's share of each range of ``dim`` (M: pixels, K: channels; see
        :meth:`_extents`); :meth:`table` of the input is :meth:`input_table` of the two."""
        if dim == "M" and len(ranges) <= FEW_RANGES:  # the same values, without numpy's cost per call
            spatial = self._spatial_int
            return np.array([spatial(a, b) if not new or a == 0 else spatial(0, b) - spatial(0, a)
                             for a, b in ((int(a), int(b)) for a, b in ranges)], dtype=np.int64)
        lo, hi = _as_array(ranges).T
        if dim == "K":
            n, m = self.nm
            lo, hi = lo * m // n, -(-hi * m // n)
        return self._extents(dim, lo, hi, new)

    def input_table(self, pixels: np.ndarray, channels: np.ndarray) -> np.ndarray:
        return np.outer(pixels, channels) * self.bytes[Operand.INPUT]

    def _diagonal(self, k_ranges: list, n_ranges: list) -> np.ndarray:
        """Weights of each (K range, N range) tile that lie in the diagonal blocks."""
        def overlap(ranges: list, extent: int) -> np.ndarray:
            block = extent // self.packed
            starts = np.arange(self.packed) * block
            lo, hi = _as_array(ranges).T[:, :, None]
            return np.clip(np.minimum(hi, starts + block) - np.maximum(lo, starts), 0, None)
        return (overlap(k_ranges, self.k_extent) @ overlap(n_ranges, self.n_extent).T).astype(np.int64)


def operand_footprints(layer: Layer, hw: Hardware, batch: int) -> dict[Operand, int]:
    """Bytes of each operand of a GEMM layer with every element once (all its repeats): the
    input pixels its windows touch (halo and strided gaps accounted), the weights, the partial
    sums. What a buffer must hold for a tile set to stay for the whole layer; the residency
    planner reserves exactly this room (docs/engine.md), the tiler keeps an operand resident
    for the whole layer when its share of the buffer holds it."""
    gemm = sparse_gemm(array_gemm(layer, hw.array, batch), layer, hw.array)
    geo = Geometry(layer, hw, gemm)
    whole_m, whole_k, whole_n = [(0, gemm.M)], [(0, gemm.K)], [(0, gemm.N)]
    per_repeat = {Operand.INPUT: geo.table(Operand.INPUT, whole_m, whole_k),
                  Operand.WEIGHT: geo.table(Operand.WEIGHT, whole_k, whole_n),
                  Operand.OUTPUT: geo.table(Operand.OUTPUT, whole_m, whole_n, psum=True)}
    return {op: int(t.sum()) * gemm.repeats for op, t in per_repeat.items()}


@dataclass(frozen=True)
class Candidate:
    order: str        # "cols_inner" (row folds outer) or "rows_inner"
    time_block: int   # streamed extent per block (T when not blocked)
    dram_bytes: int
    group: int = 0    # inner-loop folds per pass of the outer loop (0: all of them, no blocking)
    time_inside: bool = False  # the time-block loop inside the outer fold loop (stationary sets stay)


@dataclass(frozen=True)
class Tiling:
    """The chosen walk of one layer's folds (one group of its repeats) through the buffers."""

    layer: str
    order: str
    time_blocks: int
    considered: tuple[Candidate, ...]                 # the candidates evaluated (not those skipped: choose_blocks)
    slot_bytes: tuple[tuple[Operand, int], ...] = ()  # each operand's slot under the chosen split
    group: int = 0                                    # inner folds per group (0: no blocking)
    whole: tuple[Operand, ...] = ()                   # operands resident for the whole layer
    room_bytes: tuple[tuple[Operand, int], ...] = ()  # each operand's room (two slots when double-buffered)
    time_inside: bool = False                         # time blocks inside the outer fold loop


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
        self.barrier = np.zeros(n, dtype=bool)  # a fold no step may share with the folds after it
        self.streamed: dict[str, np.ndarray] = {}  # column -> bytes to spread over the chunks

    def repeat_blocks(self, kinds: np.ndarray) -> "FoldTable":
        """The table of a run of blocks (time blocks, or outer folds), from this one of one block
        of each kind (in order): block ``t`` runs the folds of block ``kinds[t]`` of this table."""
        count = int(kinds.max()) + 1

        def blocks(values: np.ndarray) -> np.ndarray:  # whole blocks at once: a copy of rows
            return values.reshape(count, -1)[kinds].ravel()
        out = FoldTable(0)
        out.columns = {name: blocks(values) for name, values in self.columns.items()}
        out.chunks, out.barrier = blocks(self.chunks), blocks(self.barrier)
        out.streamed = {name: blocks(values) for name, values in self.streamed.items()}
        return out

    @property
    def dram_bytes(self) -> int:
        moved = ("load_input", "load_weight", "load_psum", "store_output", "store_psum")
        return int(sum(self.columns[k].sum() for k in moved)
                   + sum(v.sum() for k, v in self.streamed.items() if k in moved))


@functools.lru_cache(maxsize=64)
def _row_multipliers(width: int) -> np.ndarray:
    """The odd pseudo-random multipliers of :func:`_distinct_rows` for rows of ``width`` values:
    the splitmix64 sequence from 0, always the same, made once per width. Which values they are
    does not matter (rows are compared after hashing, and kinds are numbered in order of first
    use), only that they scatter; numpy.random would cost a tenth of a run's start-up to import."""
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        z = (np.arange(1, width + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out = (z ^ (z >> np.uint64(31))) | np.uint64(1)
    out.flags.writeable = False
    return out


def _by_first_use(first: np.ndarray, inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_distinct_rows`' kinds renumbered in order of first use: each row's kind, and the
    first row of each kind."""
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse], first[order]


def _distinct_rows(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct value of the rows of ``parts`` side by side (arrays of one
    row each per item) and each row's index among those: by a hash of each row (fast, a product
    with random multipliers modulo 2**64, part by part), checked row by row; on a collision, by
    comparing whole rows."""
    parts = [p.astype(np.int64, copy=False).reshape(p.shape[0], -1) for p in parts]
    widths = np.cumsum([0] + [p.shape[1] for p in parts])
    multipliers = _row_multipliers(int(widths[-1]))
    keys = np.zeros(parts[0].shape[0], dtype=np.uint64)
    for p, a, b in zip(parts, widths[:-1], widths[1:]):
        keys += p.view(np.uint64) @ multipliers[a:b]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not all((p[first[inverse]] == p).all() for p in parts):
        _, first, inverse = np.unique(np.hstack(parts), axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


class LayerTiler:
    """Evaluates the candidate tilings of one GEMM layer and lays out the chosen one.

    A candidate is a loop nest over the folds of one repeat: time blocks (outermost), then
    groups of the inner role's folds, then the outer role's folds, then the inner folds of the
    group. With one group (``group`` 0) it is the plain fold order; smaller groups block the
    outer loop (several inner tiles per pass of the outer operand).
    """

    def __init__(self, layer: Layer, hw: Hardware, batch: int, space: WorkingSpace | None = None,
                 footprints: dict[Operand, int] | None = None):
        self.layer = layer
        self.hw = hw
        self.gemm = sparse_gemm(array_gemm(layer, hw.array, batch), layer, hw.array)
        self.strategy: DataflowStrategy = strategy_for(hw.array.dataflow)
        self.timing = timing_for(hw.array)
        self.extents = self.strategy.extents(self.gemm)
        self.geo = Geometry(layer, hw, self.gemm)
        self.rows = split(self.extents.rows, hw.array.rows)
        self.cols = split(self.extents.cols, hw.array.cols)
        self.nr, self.nc = fold_counts(self.extents, hw.array)
        self._tables: dict = {}
        self._blocks: dict = {}
        self._sizes: dict = {}
        self._times: dict[int, list[tuple[int, int]]] = {}
        self._distinct: dict[int, tuple] = {}
        self._memo: dict[tuple, object] = {}  # LayerTiler._memoised
        self._kinds: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = {}
        self._long: dict[int, tuple[list, np.ndarray]] = {}  # id -> (a long list of ranges, its array)
        self.space = space if space is not None else WorkingSpace.whole(hw)
        self.on_chip = self.space.on_chip
        self.buffer = {op: hw.memory.buffer_for(op.kind) for op in Operand}
        dims = {"row": self.strategy.row_dim, "col": self.strategy.col_dim, "time": self.strategy.time_dim}
        self.dim_role = {dim: role for role, dim in dims.items()}
        # each operand with every element once, per repeat: what staying for the whole layer needs
        if footprints is None:
            footprints = operand_footprints(layer, hw, batch)
        self.footprint = {op: nbytes // self.gemm.repeats for op, nbytes in footprints.items()}
        self.splits, self._rooms = self._slot_splits()
        self.slots, self.room = self.splits[0], self._rooms[0]

    def _slot_splits(self) -> tuple[list[dict[Operand, int]], list[dict[Operand, int]]]:
        """Each operand's slot bytes (and its whole room), for every split of the buffers that
        operands share: the even split, each operand favoured, and one in proportion to the
        operands' footprints (so that each may stay for the whole layer where the room allows)."""
        users: dict[str, list[Operand]] = {}
        for op in Operand:
            if op not in self.on_chip:
                users.setdefault(self.buffer[op].name, []).append(op)
        per_buffer = []
        for name, ops in users.items():
            level, free = self.buffer[ops[0]], self.space.free(name)
            shares = share_splits(len(ops))
            total = sum(self.footprint[op] for op in ops)
            if len(ops) > 1 and total:
                shares = shares + [tuple(self.footprint[op] / total for op in ops)]
            per_buffer.append([{op: int(free * share) for op, share in zip(ops, split_)} for split_ in shares])
        splits, rooms = [], []
        for combo in itertools.product(*per_buffer):
            room = dict.fromkeys(Operand, 0)
            for part in combo:
                room.update(part)
            rooms.append(room)
            splits.append({op: self.buffer[op].slot_bytes(nbytes) for op, nbytes in room.items()})
        return splits, rooms

    # ------------------------------------------------------------ tile tables
    def roles(self, operand: Operand) -> tuple[str, str]:
        d1, d2 = OPERAND_DIMS[operand]
        return self.dim_role[d1], self.dim_role[d2]

    def table(self, operand: Operand, parts: dict[str, list], psum: bool = False, new: tuple = ()) -> dict:
        """Tile bytes indexed by role name: ``(table, role1, role2)``; ``new``: the roles along
        which only the part not held by the earlier tiles counts. Memoised on the ranges:
        candidates and splits of the buffers ask for the same tables again and again."""
        r1, r2 = self.roles(operand)
        key = (operand, self._key(parts[r1]), self._key(parts[r2]), psum, new)
        table = self._tables.get(key)
        if table is None:
            geo, new1, new2 = self.geo, r1 in new, r2 in new
            if operand is Operand.INPUT and geo.conv is not None:  # each factor is shared by several tables
                table = geo.input_table(
                    self._memoised(("M", key[1], new1), lambda: geo.input_extents("M", self._ranges(parts[r1]), new1)),
                    self._memoised(("K", key[2], new2), lambda: geo.input_extents("K", self._ranges(parts[r2]), new2)))
            else:
                table = geo.table(operand, self._ranges(parts[r1]), self._ranges(parts[r2]), psum, (new1, new2))
            self._tables[key] = table
            table.flags.writeable = False  # shared by every caller: never changed in place
        return {"table": table, "roles": (r1, r2)}

    def _key(self, ranges: list) -> tuple:
        """What memoised tables are keyed on for a list of ranges: its ranges, or, for a long one
        (every time block of a candidate), the list itself, kept so that its id stays its own."""
        if len(ranges) <= 64:
            return tuple(ranges)
        if id(ranges) not in self._long:
            self._long[id(ranges)] = (ranges, np.array(ranges, dtype=np.int64).reshape(-1, 2))
        return ("list", id(ranges))

    def _ranges(self, ranges: list):
        """``ranges`` as Geometry.table takes them: a long list as its array (made once)."""
        return self._long[id(ranges)][1] if len(ranges) > 64 else ranges

    def along(self, operand: Operand, parts: dict[str, list], psum: bool, fold_role: str, new: tuple = ()):
        """``operand``'s tiles as (time block, fold along ``fold_role``)."""
        t = self.table(operand, parts, psum, new)
        return t["table"] if t["roles"][0] == "time" else t["table"].T

    def passes(self, operand: Operand, parts: dict[str, list], psum: bool, fold_role: str) -> tuple:
        """Per time block: each tile along ``fold_role``, its part not in the tile before it, and
        the running sum of those parts (a run of tiles ``a..b`` in one buffer holds
        ``full[a] + cum[b] - cum[a]``: the union of their footprints). Memoised."""
        key = (operand, self._key(parts[fold_role]), self._key(parts["time"]), psum, fold_role)
        if key not in self._blocks:
            full = self.along(operand, parts, psum, fold_role)
            # neighbouring tiles share input channels along K; along M (pixels) their windows'
            # halos are not counted as shared (the measure from index 0 is for whole-layer sets)
            along_k = {"row": self.strategy.row_dim, "col": self.strategy.col_dim}[fold_role] == "K"
            new = self.along(operand, parts, psum, fold_role, (fold_role,)) if along_k else full
            self._blocks[key] = (full, new, np.cumsum(new, axis=1))
        return self._blocks[key]

    @staticmethod
    def run_bytes(full: np.ndarray, cum: np.ndarray, a: int, b: int) -> np.ndarray:
        """Per time block, the union of tiles ``a..b-1`` (see :meth:`passes`)."""
        return full[:, a] + cum[:, b - 1] - cum[:, a]

    @staticmethod
    def gather(t: dict, idx: dict[str, np.ndarray]) -> np.ndarray:
        r1, r2 = t["roles"]
        return t["table"][idx[r1], idx[r2]]

    def fold_tile_bytes(self) -> dict[Operand, int]:
        """The largest tile of one fold per operand: the stationary tile, and each streamed
        operand's tile over a fold's whole stream (what loads without cutting it into chunks)."""
        whole = {"row": self.rows, "col": self.cols, "time": [(0, self.extents.time)]}
        return {op: int(self.table(op, whole, psum=op is Operand.OUTPUT)["table"].max()) for op in Operand}

    def whole(self, operand: Operand) -> bool:
        """Whether every tile of ``operand`` may stay for the whole layer: its footprint fits its
        room (a tile that never leaves needs no second slot)."""
        return operand not in self.on_chip and self.footprint[operand] <= self.room[operand]

    def check_stationary(self) -> None:
        """One fold's stationary tile must fit its buffer slot (unless it is on chip already, or
        stays for the whole layer)."""
        operand = self.strategy.stationary
        if operand in self.on_chip or (operand is not Operand.OUTPUT and self.whole(operand)):
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
        if time_block not in self._times:
            self._times[time_block] = self._time_ranges(time_block)
        return self._times[time_block]

    def _time_ranges(self, time_block: int) -> list[tuple[int, int]]:
        T, R = self.extents.time, self.hw.array.rows
        count = math.ceil(T / time_block)
        if time_block < T:
            count = min(count, max(1, T // R))  # keep every block at least R long
        return balanced(T, count)

    def time_block_candidates(self) -> list[int]:
        """T, and the largest blocks (binary search, at least R) that make one streamed tile, or
        the set of a block's tiles, fit a slot; sets counted both as the union of the tiles'
        footprints and (the first tiler's measure, kept so that its candidates stay in the set)
        as their sum."""
        T, R = self.extents.time, self.hw.array.rows
        if not self.hw.array.pipelined_folds or self.strategy.stationary is Operand.OUTPUT or T < 2 * R:
            return [T]
        blocks = {T}
        for operand, fold_role in self.streamed():
            # what the searches find depends on the operand's slot alone: splits of a buffer the
            # operand does not share give it the same slot, and the same blocks
            blocks.update(self._memoised(("time blocks", operand, fold_role, self.slots[operand]),
                                         lambda: self._time_blocks_fitting(operand, fold_role)))
        return sorted(blocks, reverse=True)

    def _time_blocks_fitting(self, operand: Operand, fold_role: str) -> set[int]:
        """:meth:`time_block_candidates`' searches for one streamed operand, at its slot."""
        T, R = self.extents.time, self.hw.array.rows
        found = set()
        fold_parts = self.rows if fold_role == "row" else self.cols
        psum = operand is Operand.OUTPUT
        for subset, measure in ((fold_parts[:1], "sum"), (fold_parts, "sum"), (fold_parts, "union")):
            def sizes(tbs: list[int]) -> list[int]:
                """The probe's bytes at each block length, the ones not yet known at once (the
                tiles of each time range apart: every range's row of the tables is its own)."""
                keys = [(operand, fold_role, len(subset), measure, tb) for tb in tbs]  # alike for every split
                todo = sorted({tb for tb, key in zip(tbs, keys) if key not in self._sizes})
                if todo:
                    times = [r for tb in todo for r in ((0, tb), ((T - tb) // 2, (T - tb) // 2 + tb))]
                    probe = {fold_role: subset, "time": times}
                    if measure == "sum":  # the tiles alone, not what they share
                        per = self.along(operand, probe, psum, fold_role).sum(axis=1)
                    else:
                        full, _, cum = self.passes(operand, probe, psum, fold_role)
                        per = self.run_bytes(full, cum, 0, len(subset))
                    for tb, value in zip(todo, per.reshape(-1, 2).max(axis=1).tolist()):
                        self._sizes[operand, fold_role, len(subset), measure, tb] = value
                return [self._sizes[key] for key in keys]
            slot = self.slots[operand]
            at_t, at_r = sizes([T, R])
            if at_t <= slot or at_r > slot:
                continue
            lo, hi = R, T
            while hi - lo > 1:
                # the probes of the search's next few halvings, all of them at once
                probes, frontier = [], [(lo, hi)]
                for _ in range(SEARCH_LEVELS):
                    frontier = [pair for pair in frontier if pair[1] - pair[0] > 1]
                    probes += [(a + b) // 2 for a, b in frontier]
                    frontier = [half for a, b in frontier for half in ((a, (a + b) // 2), ((a + b) // 2, b))]
                known = dict(zip(probes, sizes(probes)))
                for _ in range(SEARCH_LEVELS):
                    if hi - lo <= 1:
                        break
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if known[mid] <= slot else (lo, mid)
            found.add(lo)
        return found

    def group_candidates(self, order: str, time_block: int) -> list[int]:
        """Inner folds per group: all (0, no blocking), one, and the most whose tiles of the
        inner operand fit one slot together (binary search)."""
        inner = "col" if order == "cols_inner" else "row"
        n = self.nc if inner == "col" else self.nr
        if n <= 1:
            return [0]
        groups = {0, 1}
        operand = next((op for op, role in self.streamed() if role == inner), None)
        if operand is not None:
            largest = self._memoised(("first runs", time_block, operand, inner),
                                     lambda: self._first_runs(time_block, operand, inner))
            slot = self.slots[operand]
            lo, hi = 1, n
            if largest[0] <= slot:
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if largest[mid - 1] <= slot else (lo, mid)
                groups.add(lo if lo < n else 0)
        return sorted(groups)

    def _first_runs(self, time_block: int, operand: Operand, inner: str) -> list[int]:
        """For a group of the first ``g`` inner folds (``g`` from 1 to all but one), the largest
        run of ``operand``'s tiles over the time blocks (one block of each kind is enough): what
        :meth:`group_candidates` searches, the same for every split of the buffers."""
        parts = self.distinct_blocks(time_block)[0]
        full, _, cum = self.passes(operand, parts, operand is Operand.OUTPUT, inner)
        return (full[:, :1] + cum[:, :full.shape[1] - 1] - cum[:, :1]).max(axis=0).tolist()

    def candidates(self):
        """Every candidate at the current slots, evaluated, in :meth:`nests` order."""
        for order, time_block, group, time_inside in self.nests():
            yield Candidate(order, time_block, self.dram_bytes(order, time_block, group, time_inside), group,
                            time_inside)

    def nests(self, loses=lambda tie: False, beaten=lambda time_block, tie: False):
        """Each candidate's (order, time block, group, time inside) at the current slots, not yet
        evaluated: time blocks from the longest (T), each in both orders, its groups (0 first),
        then time inside. ``loses(tie)``: whether every candidate whose tie-break key starts at
        or after ``tie`` (-time block, grouped, time inside, not ``cols_inner``) loses to the best
        so far; such candidates are not made, nor their groups and blocks searched for.
        ``beaten(time_block, tie)``: the same for the candidates of one time block with the time
        blocks outside (:meth:`lower_bytes`); their groups are not searched for."""
        T = self.extents.time

        def blocks():
            yield T  # time_block_candidates' first: the others are all shorter
            if not loses((1 - T, False, False, False)):
                yield from self.time_block_candidates()[1:]
        for time_block in blocks():
            if loses((-time_block, False, False, False)):
                return
            for order in ("cols_inner", "rows_inner"):
                late = order != "cols_inner"
                if loses((-time_block, False, False, late)):
                    continue
                if not beaten(time_block, (-time_block, False, False, late)):
                    yield order, time_block, 0, False
                    grouped = (-time_block, True, False, late)
                    if not loses(grouped) and not beaten(time_block, grouped):
                        for group in self.group_candidates(order, time_block)[1:]:  # after 0, always the first
                            yield order, time_block, group, False
                if len(self.time_ranges(time_block)) > 1 and not loses((-time_block, False, True, late)):
                    yield order, time_block, 0, True

    def floor_bytes(self) -> int:
        """The fewest DRAM bytes any candidate can move: every operand brought in (and the
        outputs written) once, as when every tile stays resident for the whole layer."""
        whole = {"row": self.rows, "col": self.cols, "time": [(0, self.extents.time)]}
        total = sum(self.footprint[op] if op is not Operand.OUTPUT else int(self.table(op, whole)["table"].sum())
                    for op in Operand if op not in self.on_chip)
        return total * self.gemm.repeats

    def lower_bytes(self, time_block: int) -> int:
        """A lower bound on the DRAM bytes of every candidate of ``time_block`` with the time
        blocks outside (not time inside) at the current split: its stationary operand's and
        final outputs' bytes, the same for every order and group of the time block, and every
        other streamed operand's tiles brought in once per time block (the union of a block's
        tiles, which no order or grouping brings in less often; once, for an operand that
        stays), partial sums spilled never: what :meth:`dram_bytes` counts, each term at its
        least. It reads the split's room (which operands stay), not its slots."""
        parts, count, n_time = self.distinct_blocks(time_block)
        total = self._stationary_bytes(parts, n_time, None, time_block)
        for operand, fold_role in self.streamed():
            if operand is Operand.OUTPUT:
                total += self._final_outputs(time_block, fold_role)
            elif self.whole(operand):
                total += self.footprint[operand]
            else:
                total += self._over_blocks(self._run_stats(time_block, operand, fold_role, None)[0], count)
        return total * self.gemm.repeats

    def choose(self) -> tuple[Tiling, FoldTable]:
        """The candidate with the fewest DRAM bytes over every split, laid out. Splits are tried
        even first; once a split reaches :meth:`floor_bytes`, no other can do better."""
        tiling, ft, kinds = self.choose_blocks()
        return tiling, ft if kinds.size == 1 else ft.repeat_blocks(kinds)

    def choose_blocks(self) -> tuple[Tiling, FoldTable, np.ndarray]:
        """:meth:`choose`, laid out as :meth:`lay_out_blocks` (one block of each kind, and the
        blocks' kinds).

        Once the best candidate so far moves :meth:`floor_bytes`, no candidate can move fewer: one
        that would lose the tie to it is not evaluated (nor listed in ``considered``), nor are the
        groups and time blocks searched for whose candidates would all lose it (:meth:`nests`).
        At batch 1 that settles most layers on the larger buffers with their first candidate
        (T, ``cols_inner``, one group). Likewise a candidate with the time blocks outside moves at
        least :meth:`lower_bytes` of its time block: where that loses to the best so far, it is not
        evaluated (a third of the candidates on the smaller buffers, ResNet-50 at batch 1). The
        choice is the one evaluating every candidate gives."""
        first_error, options, best = None, [], None
        floor = self.floor_bytes()

        def settled() -> bool:
            return best is not None and best[0][0] <= floor

        def loses(tie: tuple) -> bool:  # (nests' test: the best's key is settled and before ``tie``)
            return settled() and best[0][1:5] < tie

        lows: dict[int, int] = {}  # time block -> its lower_bytes at the current split

        def beaten(time_block: int, tie: tuple) -> bool:  # (the same with the time block's lower bound)
            if best is None:
                return False
            low = lows.get(time_block)
            if low is None:
                low = lows[time_block] = self.lower_bytes(time_block)
            return low > best[0][0] or (low == best[0][0] and best[0][1:1 + len(tie)] < tie)
        for index, (slots, room) in enumerate(zip(self.splits, self._rooms)):
            if settled():
                break
            self.slots, self.room = slots, room
            lows.clear()
            try:
                self.check_stationary()
            except MappingError as err:
                first_error = first_error or err
                continue
            for order, time_block, group, time_inside in self.nests(loses, beaten):
                tie = (-time_block, group != 0, time_inside, order != "cols_inner", -group, index)
                if settled() and tie > best[0][1:]:
                    continue  # it could at best move the floor too, and would lose the tie
                if not time_inside and beaten(time_block, tie):
                    continue  # it moves at least its time block's lower bound, and would lose
                c = Candidate(order, time_block, self.dram_bytes(order, time_block, group, time_inside), group,
                              time_inside)
                options.append(((c.dram_bytes,) + tie, c, slots, room))
                if best is None or options[-1][0] < best[0]:
                    best = options[-1]
        if not options:
            raise first_error
        _, best, self.slots, self.room = best
        os_outputs = self.strategy.stationary is Operand.OUTPUT  # OS outputs live in the PEs: never 'whole'
        whole = tuple(op for op in Operand if self.whole(op) and not (os_outputs and op is Operand.OUTPUT))
        tiling = Tiling(layer=self.layer.name, order=best.order, time_blocks=len(self.time_ranges(best.time_block)),
                        considered=tuple(c for _, c, _, _ in options), slot_bytes=tuple(self.slots.items()),
                        group=best.group, whole=whole, room_bytes=tuple(self.room.items()),
                        time_inside=best.time_inside)
        self._forget()
        return (tiling,) + self.lay_out_blocks(best.order, best.time_block, best.group, best.time_inside)

    def _forget(self) -> None:
        """Drop the memoised tables of every candidate (at large batches they outweigh the layer's
        steps); the chosen one's lay-out makes the few it needs again, the same values."""
        for memo in (self._tables, self._blocks, self._memo, self._long):
            memo.clear()

    def _nest(self, order: str, group: int) -> tuple[str, str, list[tuple[int, int]]]:
        def compute():
            outer, inner = ("row", "col") if order == "cols_inner" else ("col", "row")
            n_inner = self.nc if inner == "col" else self.nr
            return outer, inner, split(n_inner, group or n_inner)
        return self._memoised(("nest", order, group), compute)

    def _memoised(self, key: tuple, compute):
        """``compute()``, once per ``key``: what candidates share across orders, groups and
        splits (everything that does not depend on the slots)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _run_stats(self, time_block: int, operand: Operand, fold_role: str, group: int | None) -> tuple:
        """Per kind of time block, the tiles of ``operand`` along ``fold_role``: with ``group``
        None, the union of all of them, the largest and their sum; else the same per group of
        ``group`` folds along ``fold_role`` (0: all of them; the groups of :meth:`_nest`), by kind
        and group. Slot-independent, so memoised (on the group's size: its ranges follow)."""
        key = ("runs", time_block, operand, fold_role, group)
        stats = self._memo.get(key)
        if stats is None:
            parts = self.distinct_blocks(time_block)[0]
            full, _, cum = self.passes(operand, parts, operand is Operand.OUTPUT, fold_role)
            n = full.shape[1]
            if group is None:
                stats = self.run_bytes(full, cum, 0, n), full.max(axis=1), full.sum(axis=1)
            else:  # per group at once, (time block, group): split(n, group or n)'s ranges
                starts = np.arange(0, n, group or n)
                stops = np.minimum(starts + (group or n), n)
                stats = (full[:, starts] + cum[:, stops - 1] - cum[:, starts],
                         np.maximum.reduceat(full, starts, axis=1), np.add.reduceat(full, starts, axis=1))
            self._memo[key] = stats
        return stats

    def dram_bytes(self, order: str, time_block: int, group: int = 0, time_inside: bool = False) -> int:
        """DRAM bytes of a candidate, in closed form: what :meth:`lay_out` would move."""
        if time_inside:
            return self._dram_bytes_time_inside(order, time_block)
        parts, count, n_time = self.distinct_blocks(time_block)
        outer, inner, groups = self._nest(order, group)
        n = {"row": self.nr, "col": self.nc}
        total = self._stationary_bytes(parts, n_time, None, time_block)
        for operand, fold_role in self.streamed():
            psum = operand is Operand.OUTPUT
            whole = self.whole(operand)
            if psum:
                total += self._final_outputs(time_block, fold_role)  # once
                if whole or self.nr == 1:
                    continue
            elif whole:
                total += self.footprint[operand]
                continue
            slot = self.slots[operand]
            if fold_role == outer:
                run, largest, sums = self._run_stats(time_block, operand, fold_role, None)
                fits, kept = largest <= slot, run <= slot
                if psum:  # spilled between groups (or, streamed, between folds) unless all stay
                    passes = np.where(fits, len(groups), self.nr)
                    total += self._over_blocks(np.where(kept, 0, 2 * (passes - 1) * sums), count)
                else:
                    total += self._over_blocks(np.where(kept, run, np.where(fits, len(groups) * run,
                                                                            n[inner] * sums)), count)
                continue
            run, largest, sums = self._run_stats(time_block, operand, fold_role, group)  # the inner role's
            fits, kept = largest <= slot, run <= slot
            if psum:
                total += self._over_blocks(np.where(kept, 0, 2 * (self.nr - 1) * sums), count)
            else:
                total += self._over_blocks(np.where(kept, run, n[outer] * np.where(fits, run, sums)), count)
        return total * self.gemm.repeats

    def _final_outputs(self, time_block: int, fold_role: str) -> int:
        """The final outputs' DRAM bytes (written once), with the partial sums along ``fold_role``."""
        def compute():
            parts, count, _ = self.distinct_blocks(time_block)
            return self._over_blocks(self.along(Operand.OUTPUT, parts, False, fold_role), count)
        return self._memoised(("final", time_block, fold_role), compute)

    def distinct_blocks(self, time_block: int) -> tuple[dict[str, list], np.ndarray, int]:
        """The parts of a candidate with one time block of each kind (:meth:`_block_kinds`: the
        blocks alike in every tile), how many blocks each stands for, and the number of blocks.
        A candidate's bytes are sums over its blocks of what each moves: summed over the kinds,
        times their counts, they are the same. Memoised: every order, group and split asks."""
        if time_block not in self._distinct:
            times = self.time_ranges(time_block)
            kinds, firsts = self._block_kinds(time_block, ends=False)
            parts = {"row": self.rows, "col": self.cols, "time": [times[i] for i in firsts]}
            self._distinct[time_block] = (parts, np.bincount(kinds), len(times))
        return self._distinct[time_block]

    @staticmethod
    def _over_blocks(per_block: np.ndarray, count: np.ndarray) -> int:
        """The sum over every time block of ``per_block`` (one row per kind of block)."""
        if count.size == 1:  # blocks of one kind (most candidates): two numpy calls fewer
            return int(per_block.sum()) * int(count[0])
        return int((per_block.reshape(count.size, -1).sum(axis=1) * count).sum())

    @staticmethod
    def _group_bounds(groups: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        return np.array([a for a, _ in groups]), np.array([b for _, b in groups])

    def _stationary_bytes(self, parts: dict, n_time: int, outer: str | None, time_block: int) -> int:
        """The stationary operand's DRAM bytes: once when every tile stays for the whole layer
        or (time blocks inside the outer loop) when one outer fold's tiles fit a slot together;
        else once per time block."""
        S = self.strategy.stationary
        if S in self.on_chip:
            return 0
        once = self._memoised(("stationary", time_block), lambda: int(self.table(S, parts)["table"].sum()))
        if S is Operand.OUTPUT:
            return once
        if self.whole(S):
            return self.footprint[S]
        if outer is not None and self._stationary_sets(parts, outer).all():
            return once
        return once * n_time

    def _stationary_sets(self, parts: dict, outer: str) -> np.ndarray:
        """Per outer fold: whether its stationary tiles fit one slot together."""
        t = self.table(self.strategy.stationary, parts)
        per_outer = t["table"].sum(axis=1 if t["roles"][0] == outer else 0)
        return per_outer <= self.slots[self.strategy.stationary]

    def _dram_bytes_time_inside(self, order: str, time_block: int) -> int:
        """The nest outer fold, time block, inner fold: a tile of the outer loop is visited once;
        one of the inner loop once per outer fold."""
        parts, count, n_time = self.distinct_blocks(time_block)
        outer, inner, _ = self._nest(order, 0)
        n = {"row": self.nr, "col": self.nc}
        total = self._stationary_bytes(parts, n_time, outer, time_block)
        for operand, fold_role in self.streamed():
            psum = operand is Operand.OUTPUT
            run, largest, sums = self._run_stats(time_block, operand, fold_role, None)
            whole, slot = self.whole(operand), self.slots[operand]
            fits = largest <= slot
            if psum:
                total += self._final_outputs(time_block, fold_role)
                if whole or self.nr == 1:
                    continue
                passes = np.where(fits, 1, self.nr) if fold_role == outer else self.nr
                total += self._over_blocks(2 * (passes - 1) * sums, count)
            elif whole:
                total += self.footprint[operand]
            elif fold_role == outer:
                total += self._over_blocks(np.where(fits, sums, n[inner] * sums), count)
            else:
                total += self._over_blocks(np.where(fits, n[outer] * run, n[outer] * sums), count)
        return total * self.gemm.repeats

    # ------------------------------------------------------------ layout
    def lay_out(self, order: str, time_block: int, group: int = 0, time_inside: bool = False) -> FoldTable:
        """Every fold of one group in execution order, with the bytes it moves.

        With time blocks outside, every block runs the same pattern of folds, and what a fold moves
        depends on its block only through the block's tiles, its length and whether it is the first
        or the last: blocks alike in all of these lay out alike. So one block of each kind is laid
        out and the table is assembled from those (at large batches a layer has tens of thousands
        of blocks of a few kinds)."""
        ft, kinds = self.lay_out_blocks(order, time_block, group, time_inside)
        return ft if kinds.size == 1 else ft.repeat_blocks(kinds)

    def lay_out_blocks(self, order: str, time_block: int, group: int = 0,
                       time_inside: bool = False) -> tuple[FoldTable, np.ndarray]:
        """:meth:`lay_out` before its blocks are repeated: the table of one time block of each kind
        (in order of first use, all with the same number of folds) and each block's kind. With
        one time block and one group the blocks are the outer folds, where that pays
        (:meth:`_outer_kinds`: a fully connected layer at batch 1 has a million folds, of three
        kinds); otherwise, with time inside or at most two time blocks, the whole layout is one
        block."""
        times = self.time_ranges(time_block)
        if len(times) == 1 and not time_inside:
            outer = self._outer_kinds(order, group)
            if outer is not None:
                kinds, firsts = outer
                return self._lay_out(order, times, group, False, outers=firsts), kinds
        if time_inside or len(times) <= 2:
            return self._lay_out(order, times, group, time_inside), np.zeros(1, dtype=np.int64)
        kinds, firsts = self._block_kinds(time_block, ends=True)
        return self._lay_out(order, [times[i] for i in firsts], group, False), kinds

    def _outer_kinds(self, order: str, group: int) -> tuple[np.ndarray, np.ndarray] | None:
        """With one time block and one group, the folds run outer fold by outer fold, each with
        every inner fold, and an outer fold's rows depend on it only through its tiles and whether
        it is the first or the last: each outer fold's kind (numbered in order of first use) and
        the first outer fold of each kind. Its tiles are alike when its range is as long and, for
        a convolution's input, touches as many pixels or channels, all and new (the other tiles
        are products of range lengths). None for packed weights (their tiles depend on where
        the range lies) or several groups (the outer folds run once per group), and where it
        does not pay: several repeats, few folds, or hardly any alike."""
        outer, inner, groups = self._nest(order, group)
        ranges = self.rows if outer == "row" else self.cols
        n = len(ranges)
        folds = n * (self.nc if inner == "col" else self.nr)
        if len(groups) > 1 or self.geo.packed > 1 or self.gemm.repeats > 1 or folds < OUTER_KINDS_MIN_FOLDS:
            return None
        features = [_lengths(ranges), np.arange(n) == 0, np.arange(n) == n - 1]
        dim = {"row": self.strategy.row_dim, "col": self.strategy.col_dim}[outer]
        if self.geo.conv is not None and dim in ("M", "K"):  # a convolution's input tiles
            features += [self.geo.input_extents(dim, ranges, new) for new in (False, True)]
        first, inverse = _distinct_rows(features)
        if first.size * OUTER_KINDS_FROM > n:
            return None
        return _by_first_use(first, inverse)

    def _block_kinds(self, time_block: int, ends: bool) -> tuple[np.ndarray, np.ndarray]:
        """Each time block's kind (numbered in order of first use), and the first block of each
        kind. Blocks are alike when they have the same length and the same tiles of every streamed
        operand (whole, new along the fold role, new along time and the fold role, final outputs)
        and (``ends``) neither is the first or the last block: with ends, the kinds are those of
        the kinds without them and the two flags. Memoised."""
        key = (time_block, ends)
        if key in self._kinds:
            return self._kinds[key]
        n = len(self.time_ranges(time_block))
        if ends:
            kinds, _ = self._block_kinds(time_block, False)
            features = [kinds, np.arange(n) == 0, np.arange(n) == n - 1]
        else:
            times = self.time_ranges(time_block)
            parts = {"row": self.rows, "col": self.cols, "time": times}
            features = [np.array([b - a for a, b in times])]
            time_dim = self.strategy.time_dim
            for operand, fold_role in self.streamed():
                if self._by_length_along_time(operand):  # its tiles: the length's (features[0])
                    continue
                if operand is Operand.INPUT and time_dim in OPERAND_DIMS[operand]:
                    # a convolution's input tile is its share of the time dim times its share of
                    # the fold's (Geometry.input_table): blocks whose shares of time, whole and
                    # new, are alike have alike tiles (whole, new along the fold role, new along
                    # time too), so these two vectors stand for the three tables (blocks x folds).
                    # (Were every fold's share zero, all blocks' tiles would be alike and these
                    # kinds merely finer: each is laid out to the same rows.)
                    features += [self.geo.input_extents(time_dim, times, new) for new in (False, True)]
                    continue
                psum = operand is Operand.OUTPUT
                features += list(self.passes(operand, parts, psum, fold_role)[:2])
                features.append(self.along(operand, parts, psum, fold_role, ("time", fold_role)))
                if psum:
                    features.append(self.along(operand, parts, False, fold_role))
        self._kinds[key] = _by_first_use(*_distinct_rows(features))
        return self._kinds[key]

    def _by_length_along_time(self, operand: Operand) -> bool:
        """Whether ``operand``'s tiles depend on a time block only through its length: not a
        convolution's input (its windows' halos and image borders lie where the block does) nor
        packed weights along time (their diagonal blocks do; only WS packs groups, and it streams
        the inputs); every other tile is a product of range lengths, and holds nothing of its
        neighbours'."""
        dims = OPERAND_DIMS[operand]
        if operand is Operand.INPUT:
            return self.geo.conv is None
        return not (operand is Operand.WEIGHT and self.geo.packed > 1 and self.strategy.time_dim in dims)

    def _lay_out(self, order: str, times: list[tuple[int, int]], group: int, time_inside: bool,
                 outers: np.ndarray | None = None) -> FoldTable:
        """:meth:`lay_out` over the time blocks ``times``, fold by fold (``outers``: only those
        outer folds, in that order, time blocks outside: each fold's rows are what they are in
        the whole layout)."""
        parts = {"row": self.rows, "col": self.cols, "time": times}
        outer, inner, groups = self._nest(order, group)
        n = {"row": self.nr, "col": self.nc, "time": len(times)}
        outers = np.arange(n[outer]) if outers is None else outers
        if time_inside:  # outer fold, then time block, then inner fold
            o_idx = np.repeat(np.arange(n[outer]), n["time"] * n[inner])
            t_idx = np.tile(np.repeat(np.arange(n["time"]), n[inner]), n[outer])
            i_idx = np.tile(np.arange(n[inner]), n[outer] * n["time"])
            g_idx, g_start, g_stop = np.zeros_like(i_idx), np.zeros_like(i_idx), np.full_like(i_idx, n[inner])
        else:  # per time block: per group, the outer folds, each with the group's inner folds
            o_blk = np.concatenate([np.repeat(outers, b - a) for a, b in groups])
            i_blk = np.concatenate([np.tile(np.arange(a, b), outers.size) for a, b in groups])
            g_blk = np.concatenate([np.full(outers.size * (b - a), g) for g, (a, b) in enumerate(groups)])
            start_blk = np.array([a for a, _ in groups])[g_blk]
            stop_blk = np.array([b for _, b in groups])[g_blk]
            per = o_blk.size
            t_idx = np.repeat(np.arange(n["time"]), per)
            o_idx, i_idx, g_idx = np.tile(o_blk, n["time"]), np.tile(i_blk, n["time"]), np.tile(g_blk, n["time"])
            g_start, g_stop = np.tile(start_blk, n["time"]), np.tile(stop_blk, n["time"])
        idx = {"time": t_idx, outer: o_idx, inner: i_idx}
        first_inner, last_inner = i_idx == g_start, i_idx == g_stop - 1
        first_outer, last_outer = o_idx == 0, o_idx == n[outer] - 1
        first_group, last_group = g_idx == 0, g_idx == len(groups) - 1
        block_end = last_inner & last_outer & last_group
        if time_inside:  # a time block's tiles may be used again by the next outer fold
            block_end = np.arange(t_idx.size) == t_idx.size - 1
        ft = FoldTable(t_idx.size)
        col = ft.columns
        field = {Operand.INPUT: ("load_input", "release_input"), Operand.WEIGHT: ("load_weight", "release_weight")}

        # compute: T_i cycles of stream per fold, the fold timing's share for a middle fold
        shares = [self.timing.fold(self.strategy, self.hw.array, b - a, 1, 3) for a, b in times]
        for phase in ("stream", "fill_drain", "preload"):
            col[phase][:] = np.array([getattr(share, phase) for share in shares], dtype=np.int64)[t_idx]

        # the stationary tile: loaded for every fold (OS: claimed, then stored as outputs), or,
        # when all of them stay for the whole layer, for the first time block only
        S = self.strategy.stationary
        if S in self.on_chip:
            pass  # read from its buffer in place
        elif S is Operand.OUTPUT:
            claim = self.gather(self.table(S, parts, psum=True), idx)
            col["output_acquire"] += claim
            col["store_output"] += self.gather(self.table(S, parts), idx)
            col["store_release"] += claim
        elif self.whole(S) or time_inside and self._stationary_sets(parts, outer).all():
            size = self.gather(self.table(S, parts, new=("row", "col") if self.whole(S) else ()), idx)
            col[field[S][0]] += np.where(t_idx == 0, size, 0)
            col[field[S][1]] += np.where(t_idx == n["time"] - 1, size, 0)
        else:
            size = self.gather(self.table(S, parts), idx)
            col[field[S][0]] += size
            col[field[S][1]] += size

        for operand, fold_role in self.streamed():
            psum = operand is Operand.OUTPUT
            full, new, cum = self.passes(operand, parts, psum, fold_role)
            f_idx = idx[fold_role]
            size = full[t_idx, f_idx]
            slot = self.slots[operand]
            whole = self.whole(operand)
            if time_inside:
                self._time_inside(ft, operand, fold_role, outer, parts, idx, (full, new), block_end)
                continue
            if fold_role == outer:
                run = self.run_bytes(full, cum, 0, full.shape[1])[t_idx]
                fits, kept = full.max(axis=1)[t_idx] <= slot, run <= slot
                passes = (first_inner, last_inner, first_group, last_group)  # a visit: one group's inner folds
                joined = np.where(f_idx == 0, size, new[t_idx, f_idx])  # shares what the tile before it held
                if psum and len(groups) == 1:
                    kept = kept | fits  # one pass: the tile stays for its whole reduction
            else:
                run = full[t_idx, g_start] + cum[t_idx, g_stop - 1] - cum[t_idx, g_start]
                g_max = np.maximum.reduceat(full, self._group_bounds(groups)[0], axis=1)  # (time, group)
                fits, kept = g_max[t_idx, g_idx] <= slot, run <= slot
                every = np.ones(t_idx.size, dtype=bool)
                passes = (every, every, first_outer, last_outer)  # a visit: one fold of the outer loop
                joined = np.where(f_idx == g_start, size, new[t_idx, f_idx])
            if psum:
                in_place = (kept | (self.nr == 1)) & fits | whole
                self._psums(ft, idx, size, in_place, ~fits & ~in_place, parts, passes)
                continue
            load, release = field[operand]
            if whole:  # each part at its first use, every part kept until its time block ends
                # (each fold along the fold role has its first use once per time block: the
                # block frees all of its parts)
                first_use = (first_group & first_inner) if fold_role == outer else first_outer
                parts_of = self.along(operand, parts, psum, fold_role, ("time", fold_role))
                col[load] += np.where(first_use, parts_of[t_idx, f_idx], 0)
                col[release] += np.where(block_end, parts_of.sum(axis=1)[t_idx], 0)
                continue
            if fold_role == outer:
                kept_all = kept  # every outer tile of the block stays across the groups
                col[load] += np.where(kept_all & first_group & first_inner, joined, 0)
                col[release] += np.where(kept_all & block_end, run, 0)
                per_group = ~kept_all & fits  # "outer": kept while the group's inner folds run
                col[load] += np.where(per_group & first_inner, joined, 0)
                col[release] += np.where(per_group & last_inner, joined, 0)
            else:
                group_end = last_outer & last_inner
                col[load] += np.where(kept & first_outer, joined, 0)    # "set": the group's tiles stay
                col[release] += np.where(kept & group_end, run, 0)
                tile_mode = ~kept & fits                                # reloaded for every outer fold
                col[load] += np.where(tile_mode, joined, 0)
                col[release] += np.where(tile_mode, joined, 0)
            self._stream(ft, load, np.where(~fits, size, 0), slot, operand)
        # a set larger than a slot that stays for the whole layer is freed at its end: the next
        # repeat's loads must not share a step with that (they would claim before it is freed)
        ft.barrier[-1] = any(self.whole(op) and self.footprint[op] > self.slots[op] for op in Operand)
        return ft

    def _time_inside(self, ft: FoldTable, operand: Operand, fold_role: str, outer: str, parts: dict, idx: dict,
                     tiles: tuple, layer_end: np.ndarray) -> None:
        """A streamed operand in the nest outer fold, time block, inner fold."""
        full, new = tiles
        t_idx, f_idx = idx["time"], idx[fold_role]
        size = full[t_idx, f_idx]
        slot, whole, psum = self.slots[operand], self.whole(operand), operand is Operand.OUTPUT
        fits = full.max(axis=1)[t_idx] <= slot
        inner_first = idx[fold_role] == 0 if fold_role != outer else None
        o_first = idx[outer] == 0
        o_last = idx[outer] == (self.nr if outer == "row" else self.nc) - 1
        inner = "col" if outer == "row" else "row"
        i_first, i_last = idx[inner] == 0, idx[inner] == (self.nr if inner == "row" else self.nc) - 1
        col = ft.columns
        if psum:
            every = np.ones(t_idx.size, dtype=bool)
            if fold_role == outer:  # visited once, for its whole reduction
                in_place, passes = fits | whole, (i_first, i_last, every, every)
            else:
                in_place, passes = whole | (self.nr == 1) & fits, (every, every, o_first, o_last)
            self._psums(ft, idx, size, in_place, ~fits & ~in_place, parts, passes)
            return
        load, release = {Operand.INPUT: ("load_input", "release_input"),
                         Operand.WEIGHT: ("load_weight", "release_weight")}[operand]
        if whole:  # each part at its first use, all kept to the layer's end
            first_use = i_first if fold_role == outer else o_first
            part = np.where(first_use, self.along(operand, parts, False, fold_role, ("time", fold_role))[t_idx, f_idx], 0)
            col[load] += part
            col[release] += np.where(layer_end, int(part.sum()), 0)
            return
        if fold_role == outer:  # loaded for its one visit
            col[load] += np.where(fits & i_first, size, 0)
            col[release] += np.where(fits & i_last, size, 0)
        else:  # reloaded for every outer fold, sharing with the tile before it
            joined = np.where(inner_first, size, new[t_idx, f_idx])
            col[load] += np.where(fits, joined, 0)
            col[release] += np.where(fits, joined, 0)
        self._stream(ft, load, np.where(~fits, size, 0), slot, operand)

    def _psums(self, ft: FoldTable, idx, size, in_place, stream, parts, passes) -> None:
        """Partial sums (WS, IS), reduced over the row folds: in place, spilled, or streamed.

        ``passes``: where a visit of a psum tile starts and ends, and which visit is its first
        and its last (a tile of the inner loop is visited once per outer fold; one of the outer
        loop once per group of inner folds)."""
        col = ft.columns
        starts, ends, first_pass, last_pass = passes
        r = idx["row"]
        first, last = r == 0, r == self.nr - 1
        final = self.gather(self.table(Operand.OUTPUT, parts), idx)
        spill = ~in_place & ~stream
        col["output_acquire"] += np.where((in_place | spill) & first, size, 0)
        col["load_psum"] += np.where(spill & ~first_pass & starts, size, 0)
        col["store_output"] += np.where(~stream & last, final, 0)
        col["store_psum"] += np.where(spill & ~last_pass & ends, size, 0)
        col["store_release"] += np.where((in_place & last) | (spill & ends), size, 0)
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
