import numpy as np
import pytest

from accelsim import load_hardware, load_workload
from accelsim.config.hardware import Dataflow
from accelsim.config.loader import with_overrides
from accelsim.config.workload import Conv2d, Gemm
from accelsim.errors import MappingError
from accelsim.mapping.gemm import Operand
from accelsim.mapping.tiling import (FEW_RANGES, Geometry, LayerTiler, WorkingSpace, _touched_int, balanced,
                                     share_splits, touched)
from tests_shared import SHARED_SCRATCHPAD as SHARED



def test_touched_rows_worked_by_hand():
    # 3x3, stride 1, pad 1 on 8 rows: outputs 0..7 read rows 0..7; outputs 2..3 read rows 1..4
    assert touched(0, 7, 1, 1, 3, 8) == 8
    assert touched(2, 3, 1, 1, 3, 8) == 4
    # 1x1, stride 2: outputs 0..3 read rows 0, 2, 4, 6 (a strided transfer skips the rest)
    assert touched(0, 3, 2, 0, 1, 8) == 4
    # 3x3, stride 2, pad 1 on 8 rows, output 0 reads rows -1..1 -> 0..1 (clipped)
    assert touched(0, 0, 2, 1, 3, 8) == 2


def test_touched_rows_are_the_rows_of_every_window_counted_one_by_one():
    # The oracle: each window's rows, one by one, clipped to the input (a set: overlapping
    # windows share rows). Padding wider than the stride puts whole windows outside the input
    # (a 1 x 1 window, stride 2, padding 3 on 19 rows: windows 0, 1, 11 and 12 touch nothing).
    assert touched(0, 12, 2, 3, 1, 19) == 9 and _touched_int(0, 12, 2, 3, 1, 19) == 9
    rng = np.random.default_rng(11)
    cases = rng.integers([0, 0, 1, 0, 1, 1], [20, 8, 6, 10, 9, 31], size=(4000, 6))
    for lo, extra, stride, pad, span, size in cases.tolist():
        hi = lo + extra
        rows = {r for p in range(lo, hi + 1) for r in range(p * stride - pad, p * stride - pad + span) if 0 <= r < size}
        assert int(touched(np.array([lo]), np.array([hi]), stride, pad, span, size)[0]) == len(rows)
        assert _touched_int(lo, hi, stride, pad, span, size) == len(rows), (lo, hi, stride, pad, span, size)


def test_footprint_and_channels_worked_by_hand():
    conv = Conv2d(name="c", H=8, W=8, C=4, K=8, R=3, S=3, padding=(1, 1, 1, 1))
    geo = Geometry(conv, load_hardware("gemmini"))
    assert geo.spatial(0, 8) == 2 * 8     # output row 0 needs input rows 0-1, all 8 columns
    assert geo.spatial(0, 64) == 64       # the whole output needs the whole input
    assert geo.spatial(9, 11) == 3 * 4    # outputs (1,1),(1,2): rows 0-2, columns 0-3
    # the reduction runs channel by channel, 9 window positions each: k in [0, 16) covers
    # channels 0 and 1, [16, 36) covers channels 1, 2, 3
    assert geo.channels(0, 16) == 2 and geo.channels(16, 36) == 3


def test_balanced_split():
    assert balanced(10, 3) == [(0, 4), (4, 7), (7, 10)]


def test_stationary_tile_that_does_not_fit_is_a_mapping_error():  # the buffer is named
    hw = with_overrides(load_hardware("tpu_v1"), {"sram.weight.size_kib": 64})  # 32 KiB slots < 64 KiB tile
    with pytest.raises(MappingError, match=r"layer fc: does not fit the weight_fifo buffer: needs 65536 bytes, "
                                           r"32768 bytes available \(one fold's stationary tile of 256 x 256"):
        LayerTiler(Gemm(name="fc", M=1, N=1000, K=2048), hw, 1).choose()


@pytest.mark.parametrize("config", ["gemmini", "nvdla_small", "scalesim_32x32", "eyeriss_like", "tpu_v1"])
@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_closed_form_traffic_equals_the_laid_out_folds(config, dataflow):
    hw = with_overrides(load_hardware(config), {"array.dataflow": dataflow.value})
    for layer in load_workload("resnet18").gemm_layers:
        tiler = LayerTiler(layer, hw, 2)
        tiling, table = tiler.choose()
        # the laid-out folds move what the closed form said of the candidate chosen: the least
        assert table.dram_bytes * tiler.gemm.repeats == min(c.dram_bytes for c in tiling.considered), layer.name


def test_partial_sums_spill_when_the_accumulators_are_too_small():
    # SCALE-Sim fold timing never blocks the stream, so a WS layer whose partial sums (T x C)
    # exceed the output slot spills them on every row fold but the last.
    hw = with_overrides(load_hardware("scalesim_32x32"), {"array.dataflow": "ws", "sram.output.size_kib": 8})
    layer = Gemm(name="g", M=1024, N=32, K=96)  # 3 row folds of 32, one column fold, T = 1024
    tiler = LayerTiler(layer, hw, 1)
    _, table = tiler.choose()
    psum = 1024 * 32 * hw.array.bytes_per_psum
    spilled = sum(int(v.sum()) for k, v in table.streamed.items() if k == "store_psum") \
        + int(table.columns["store_psum"].sum())
    read_back = sum(int(v.sum()) for k, v in table.streamed.items() if k == "load_psum") \
        + int(table.columns["load_psum"].sum())
    assert spilled == read_back == 2 * psum  # (3 - 1) row folds write, (3 - 1) read back


def test_share_splits_are_even_first_then_each_favoured():
    assert share_splits(1) == [(1.0,)]
    assert share_splits(2) == [(0.5, 0.5), (0.75, 0.25), (0.25, 0.75)]
    assert [sum(split) for split in share_splits(3)] == pytest.approx([1.0] * 4)


def test_operands_sharing_a_buffer_split_its_room(write):
    hw = load_hardware(write("shared.yaml", SHARED))
    layer = load_workload("resnet18").gemm_layers[3]
    tiler = LayerTiler(layer, hw, 1)
    room = 256 * 1024
    # double-buffered: each operand's slot is half its share; the accumulator is not shared.
    # The last split is in proportion to the footprints: the 56 x 56 x 64 input (200,704 B) and
    # the 3 x 3 x 64 x 64 weights (36,864 B) of 237,568 B: shares of 221,466 B and 40,677 B.
    assert [(s[Operand.INPUT], s[Operand.WEIGHT]) for s in tiler.splits] == [
        (room // 4, room // 4), (room * 3 // 8, room // 8), (room // 8, room * 3 // 8), (221466 // 2, 40677 // 2)]
    assert all(s[Operand.OUTPUT] == 32 * 1024 for s in tiler.splits)
    tiling, table = tiler.choose()
    chosen = dict(tiling.slot_bytes)
    best = min(c.dram_bytes for c in tiling.considered)
    assert table.dram_bytes * tiler.gemm.repeats == best
    assert chosen[Operand.INPUT] + chosen[Operand.WEIGHT] <= room // 2


def test_closed_form_traffic_equals_the_laid_out_folds_with_a_shared_buffer(write):
    hw = load_hardware(write("shared.yaml", SHARED))
    for layer in load_workload("resnet18").gemm_layers:
        tiler = LayerTiler(layer, hw, 2)
        tiling, table = tiler.choose()
        assert table.dram_bytes * tiler.gemm.repeats == min(c.dram_bytes for c in tiling.considered), layer.name


def test_an_operand_on_chip_is_never_loaded_and_takes_no_room():
    hw = load_hardware("tpu_v1")
    layer = Conv2d(name="c", H=28, W=28, C=128, K=128, R=3, S=3, padding=(1, 1, 1, 1))
    space = WorkingSpace(WorkingSpace.whole(hw).free_bytes, on_chip=frozenset({Operand.INPUT}))
    tiler = LayerTiler(layer, hw, 1, space)
    _, table = tiler.choose()
    assert int(table.columns["load_input"].sum()) == 0 and "load_input" not in table.streamed
    assert int(table.columns["release_input"].sum()) == 0
    # the weights still come in: 3 x 3 x 128 x 128 bytes, once (the 256 x 128 fold fits)
    assert table.dram_bytes >= 3 * 3 * 128 * 128


@pytest.mark.parametrize("config", ["gemmini", "nvdla_small", "eyeriss_like", "tpu_v1"])
def test_the_first_tilers_candidates_are_kept_so_the_choice_never_moves_more(config):
    # DRAM bytes never rise against the first tiler (431bebc): its candidates (both fold orders x
    # its time blocks, one group, time blocks outermost) are all in the new set, and each moves at
    # most what it did then (a run of tiles counts the union of their footprints, at most their
    # sum; an operand that stays for the whole layer moves its footprint once), so the minimum
    # can only be lower or equal. Checked here: the old nests are considered, the choice is the
    # least, and no run of tiles counts more than the sum of its tiles.
    # (Every candidate at the chosen split: the choice skips those that can only lose, below.)
    hw = load_hardware(config)
    for layer in load_workload("resnet18").gemm_layers:
        tiler = LayerTiler(layer, hw, 1)
        tiling, _ = tiler.choose()
        every = list(tiler.candidates())
        old = {(order, tb) for tb in tiler.time_block_candidates() for order in ("cols_inner", "rows_inner")}
        kept = {(c.order, c.time_block) for c in every if c.group == 0 and not c.time_inside}
        assert old <= kept, layer.name
        best = min(c.dram_bytes for c in tiling.considered)
        assert all(best <= c.dram_bytes for c in every if (c.order, c.time_block) in old)
        parts = {"row": tiler.rows, "col": tiler.cols, "time": tiler.time_ranges(tiler.extents.time)}
        full, _, cum = tiler.passes(Operand.INPUT, parts, False, "row")
        assert (tiler.run_bytes(full, cum, 0, full.shape[1]) <= full.sum(axis=1)).all()


def _stationary_splits(tiler: LayerTiler):
    """Each split of ``tiler`` in order whose stationary tile fits, made the current one: its
    index and slots (the oracles' own walk over the splits, not the choice's)."""
    for index, (slots, room) in enumerate(zip(tiler.splits, tiler._rooms)):
        tiler.slots, tiler.room = slots, room
        try:
            tiler.check_stationary()
        except MappingError:
            continue
        yield index, slots


def _choice_of_every_candidate(tiler: LayerTiler) -> tuple:
    """The oracle for LayerTiler.choose_blocks' skipping: every candidate of a split evaluated
    (the splits tried in order until one reaches the floor, as the choice defines), the least
    DRAM bytes with the documented ties; the chosen candidate and its split's slots."""
    floor, options = tiler.floor_bytes(), []
    for index, slots in _stationary_splits(tiler):
        if options and min(key[0] for key, _, _ in options) <= floor:
            break
        for c in tiler.candidates():
            options.append(((c.dram_bytes, -c.time_block, c.group != 0, c.time_inside, c.order != "cols_inner",
                             -c.group, index), c, slots))
    _, best, slots = min(options, key=lambda option: option[0])
    return best, tuple(slots.items()), len(options)


@pytest.mark.parametrize("config", ["tpu_v1", "gemmini", "nvdla_small", "eyeriss_like", "scalesim_32x32", "tpu_v4i",
                                    "shared"])
def test_candidates_that_can_only_lose_the_tie_at_the_floor_are_skipped_not_chosen(config, write):
    # Once the best candidate moves the fewest bytes any can (floor_bytes), the rest are skipped
    # where they would lose the tie: the choice (candidate and split) must be the one of every
    # candidate evaluated, and candidates must have been skipped somewhere.
    hw = load_hardware(write("shared.yaml", SHARED)) if config == "shared" else load_hardware(config)
    skipped = 0
    for layer, batch in [(layer, 1) for layer in load_workload("resnet18").gemm_layers] + KIND_LAYERS:
        tiler = LayerTiler(layer, hw, batch)
        tiling, _, _ = tiler.choose_blocks()
        best, slots, evaluated = _choice_of_every_candidate(LayerTiler(layer, hw, batch))
        assert (tiling.order, tiling.time_blocks, tiling.group, tiling.time_inside, tiling.slot_bytes) == \
            (best.order, len(tiler.time_ranges(best.time_block)), best.group, best.time_inside, slots), layer.name
        assert min(c.dram_bytes for c in tiling.considered) == best.dram_bytes
        assert len(tiling.considered) <= evaluated
        skipped += len(tiling.considered) < evaluated
    assert skipped, config


def _bounded_and_every(tiler: LayerTiler, unbounded: LayerTiler, choose=LayerTiler.choose_blocks) -> tuple:
    """Checks that every candidate of every split of ``tiler`` with its time blocks outside
    moves at least its time block's lower_bytes, then chooses with ``tiler`` and with
    ``unbounded`` (the same tiler, bound 0: nothing skipped by it); both choices."""
    for _ in _stationary_splits(tiler):
        for c in tiler.candidates():
            assert c.time_inside or c.dram_bytes >= tiler.lower_bytes(c.time_block), (tiler.layer.name, c)
    tiler.slots, tiler.room = tiler.splits[0], tiler._rooms[0]
    unbounded.lower_bytes = lambda time_block: 0
    return choose(tiler), choose(unbounded)


@pytest.mark.parametrize("config", ["gemmini", "nvdla_small", "eyeriss_like"])
def test_a_time_blocks_lower_bound_bounds_its_candidates_and_skips_some(config):
    # Every candidate with the time blocks outside moves at least lower_bytes of its time block
    # (each evaluated against it, every split); skipping by it changes no choice (the tiling,
    # but for the candidates it lists, is the one of a tiler whose bound is 0, which skips none
    # by it) and evaluates fewer candidates somewhere.
    from dataclasses import replace

    hw = load_hardware(config)
    fewer = 0
    for layer, batch in [(layer, 1) for layer in load_workload("resnet18").gemm_layers] + KIND_LAYERS:
        (bounded, *_), (every, *_) = _bounded_and_every(LayerTiler(layer, hw, batch), LayerTiler(layer, hw, batch))
        assert repr(replace(bounded, considered=())) == repr(replace(every, considered=())), layer.name
        fewer += len(bounded.considered) < len(every.considered)
    assert fewer, config


@pytest.mark.parametrize("config", ["edge_example", "tpu_v1"])
def test_the_lower_bound_holds_where_the_schedule_keeps_operands_on_chip(config, monkeypatch):
    # The tilers a schedule makes, with tensors kept on chip and the free space they leave
    # (residency): each candidate with its time blocks outside moves at least its time block's
    # bound, and the choice is the one of a tiler whose bound is 0.
    from dataclasses import replace

    from accelsim.schedule import build_schedule

    choose, made, spaces = LayerTiler.choose_blocks, {}, []

    def checked(self):
        chosen, every = _bounded_and_every(self, LayerTiler(*made[id(self)]), choose)
        assert repr(replace(chosen[0], considered=())) == repr(replace(every[0], considered=())), self.layer.name
        spaces.append(bool(self.on_chip) or self.space != WorkingSpace.whole(self.hw))
        return chosen

    init = LayerTiler.__init__

    def recorded(self, *args):
        made[id(self)] = args
        init(self, *args)
    monkeypatch.setattr(LayerTiler, "__init__", recorded)
    monkeypatch.setattr(LayerTiler, "choose_blocks", checked)
    build_schedule(load_hardware(config), load_workload("resnet18"))
    assert any(spaces) and len(spaces) > 5, spaces


def test_the_floor_bounds_every_candidate_where_windows_lie_in_the_padding():
    # Found by fuzzing: a 1 x 1, stride 2 convolution padded by 3 has windows wholly in the
    # padding; counted as if they touched rows, the layer's footprint (so the floor) exceeded
    # what its time blocks move, and the skipping settled on the first candidate, not the best.
    hw = with_overrides(load_hardware("eyeriss_like"), {"array.rows": 10, "array.cols": 29, "sram.input.size_kib": 12,
                                                        "sram.weight.size_kib": 32, "sram.output.size_kib": 32,
                                                        "sram.output.double_buffered": False})
    layer = Conv2d(name="c", H=19, W=16, C=219, K=1, R=1, S=1, stride=(2, 2), padding=(3, 3, 3, 3))
    tiler = LayerTiler(layer, hw, 38)
    floor = tiler.floor_bytes()
    for slots, room in zip(tiler.splits, tiler._rooms):
        tiler.slots, tiler.room = slots, room
        assert all(c.dram_bytes >= floor for c in tiler.candidates())
    tiling, _, _ = LayerTiler(layer, hw, 38).choose_blocks()
    best, slots, _ = _choice_of_every_candidate(LayerTiler(layer, hw, 38))
    assert (tiling.order, tiling.group, tiling.time_inside, tiling.slot_bytes) == \
        (best.order, best.group, best.time_inside, slots)
    assert tiling.time_blocks == len(tiler.time_ranges(best.time_block))
    assert min(c.dram_bytes for c in tiling.considered) == best.dram_bytes


def test_a_run_of_row_folds_holds_each_channel_once_worked_by_hand():
    # 3 x 3 conv, C = 4 on 8 x 8 (padding 1), on a 16-row array: K = 36 in folds [0, 16), [16, 32),
    # [32, 36). Fold 0 covers channels 0-1, fold 1 channels 1-3, fold 2 channel 3: 2 + 3 + 1 = 6
    # channel-planes summed, 4 in their union. Each plane is the whole 8 x 8 input (64 B).
    conv = Conv2d(name="c", H=8, W=8, C=4, K=8, R=3, S=3, padding=(1, 1, 1, 1))
    tiler = LayerTiler(conv, load_hardware("gemmini"), 1)
    parts = {"row": tiler.rows, "col": tiler.cols, "time": [(0, 64)]}
    full, new, cum = tiler.passes(Operand.INPUT, parts, False, "row")
    assert full.tolist() == [[2 * 64, 3 * 64, 1 * 64]] and new.tolist() == [[2 * 64, 2 * 64, 0]]
    assert tiler.run_bytes(full, cum, 0, 3).tolist() == [4 * 64] and tiler.footprint[Operand.INPUT] == 4 * 64
    # the run of the last two folds alone: fold 1 whole (3 planes) and nothing new in fold 2
    assert tiler.run_bytes(full, cum, 1, 3).tolist() == [3 * 64]


def _spatial_image_by_image(geo: Geometry, m0: int, m1: int) -> int:
    """The oracle for Geometry.spatial_of: image by image, with the scalar rule."""
    P, Q, H, W, sh, sw, pt, pl, span_h, span_w = geo._shape
    total = 0
    for image in range(m0 // (P * Q), (m1 - 1) // (P * Q) + 1):
        lo = max(m0, image * P * Q) - image * P * Q
        hi = min(m1, (image + 1) * P * Q) - image * P * Q - 1
        rows = touched(lo // Q, hi // Q, sh, pt, span_h, H)
        cols = touched(lo % Q, hi % Q, sw, pl, span_w, W) if lo // Q == hi // Q else geo.full_cols
        total += int(rows) * int(cols)
    return total


@pytest.mark.parametrize("conv", [Conv2d(name="c", H=9, W=7, C=3, K=4, R=3, S=3, padding=(1, 1, 1, 1)),
                                  Conv2d(name="s", H=11, W=11, C=2, K=4, R=3, S=3, stride=(2, 2)),
                                  Conv2d(name="g", H=8, W=8, C=2, K=4, R=1, S=1, stride=(3, 3))])
def test_input_footprints_of_many_ranges_at_once_equal_the_image_by_image_sums(conv):
    geo = Geometry(conv, load_hardware("gemmini"))
    plane, batch = conv.P * conv.Q, 3
    ranges = [(a, b) for a in range(0, batch * plane, 5) for b in (a + 1, a + 7, a + plane + 2, batch * plane)
              if b <= batch * plane]
    lo, hi = (np.array(r) for r in zip(*ranges))
    assert geo.spatial_of(lo, hi).tolist() == [_spatial_image_by_image(geo, a, b) for a, b in ranges]
    # a few ranges are counted in Python ints (Geometry._spatial_int), many at once in numpy: the
    # same pixels, whole and new (beyond the pixels from index 0 to the range's start)
    oracle = {(a, b): _spatial_image_by_image(geo, a, b) for a, b in ranges}
    assert len(ranges) > 2 * FEW_RANGES
    for new in (False, True):
        want = [oracle[a, b] if not new or a == 0 else _spatial_image_by_image(geo, 0, b) -
                _spatial_image_by_image(geo, 0, a) for a, b in ranges]
        assert geo.input_extents("M", ranges, new).tolist() == want
        few = [geo.input_extents("M", ranges[i:i + n], new).tolist() for n in (1, FEW_RANGES)
               for i in range(0, len(ranges), n)]
        assert [v for part in few[:len(ranges)] for v in part] == want
        assert [v for part in few[len(ranges):] for v in part] == want


def _every_block(tiler: LayerTiler):
    """The oracle for LayerTiler.distinct_blocks: every time block, each standing for itself."""
    def distinct_blocks(time_block: int):
        times = tiler.time_ranges(time_block)
        return {"row": tiler.rows, "col": tiler.cols, "time": times}, np.ones(len(times), dtype=np.int64), len(times)
    return distinct_blocks


def _considered_and_every(tiler: LayerTiler, tiling) -> list:
    """The candidates the choice evaluated and every candidate at the chosen split (the choice
    skips those that can only lose), each once: what the layout tests lay out."""
    every = {(c.order, c.time_block, c.group, c.time_inside): c for c in tiling.considered}
    every.update({(c.order, c.time_block, c.group, c.time_inside): c for c in tiler.candidates()})
    return list(every.values())


# edge tiles (K, N not multiples of the array), groups (packed weights), batch > 1, halos and strides
KIND_LAYERS = [(Conv2d(name="halo", H=30, W=30, C=20, K=40, R=3, S=3, padding=(1, 1, 1, 1)), 3),
               (Conv2d(name="strided", H=29, W=29, C=12, K=36, R=3, S=3, stride=(2, 2)), 4),
               (Conv2d(name="grouped", H=14, W=14, C=32, K=32, R=3, S=3, padding=(1, 1, 1, 1), groups=8), 2),
               (Gemm(name="fc", M=37, N=300, K=250), 5)]


def _assert_same_folds(laid, per_fold, context) -> None:
    """Every column, chunk count, barrier and streamed column of two fold tables is the same."""
    for name, values in per_fold.columns.items():
        assert (laid.columns[name] == values).all(), (context, name)
    assert (laid.chunks == per_fold.chunks).all() and (laid.barrier == per_fold.barrier).all()
    assert laid.streamed.keys() == per_fold.streamed.keys()
    assert all((laid.streamed[k] == v).all() for k, v in per_fold.streamed.items())


# (IS streams the weights along time, WS the inputs: kinds found from the lengths alone, or not)
@pytest.mark.parametrize("config", ["nvdla_small", "gemmini", "eyeriss_like", "nvdla_small:is", "gemmini:is"])
@pytest.mark.parametrize("layer,batch", KIND_LAYERS, ids=[layer.name for layer, _ in KIND_LAYERS])
def test_blocks_of_one_kind_give_the_sums_and_folds_of_every_block(config, layer, batch):
    config, _, dataflow = config.partition(":")
    hw = with_overrides(load_hardware(config), {"buffers.cbuf.size_kib": 16}) if config == "nvdla_small" \
        else load_hardware(config)
    if dataflow:
        hw = with_overrides(hw, {"array.dataflow": dataflow})
    tiler = LayerTiler(layer, hw, batch)
    oracle = LayerTiler(layer, hw, batch)
    oracle.distinct_blocks = _every_block(oracle)
    tiling, _ = tiler.choose()
    assert repr(oracle.choose()[0]) == repr(tiling)  # every candidate's bytes, and the choice
    for c in _considered_and_every(tiler, tiling):
        times = tiler.time_ranges(c.time_block)
        kinds, per_fold = tiler.lay_out(c.order, c.time_block, c.group, c.time_inside), \
            tiler._lay_out(c.order, times, c.group, c.time_inside)
        _assert_same_folds(kinds, per_fold, c)


def _kinds_by_tables(tiler: LayerTiler, time_block: int) -> list[int]:
    """The oracle for LayerTiler._block_kinds: blocks alike in their length and in every row of
    each streamed operand's tables (whole, new along the fold role, new along time and the fold
    role; partial sums also as final outputs), compared row by row, numbered in order of first use."""
    times = tiler.time_ranges(time_block)
    parts = {"row": tiler.rows, "col": tiler.cols, "time": times}
    tables = []
    for operand, role in tiler.streamed():
        psum = operand is Operand.OUTPUT
        tables += [tiler.along(operand, parts, psum, role, new) for new in ((), (role,), ("time", role))]
        if psum:
            tables.append(tiler.along(operand, parts, False, role))
    seen: dict = {}
    return [seen.setdefault((b - a,) + tuple(tuple(t[i].tolist()) for t in tables), len(seen))
            for i, (a, b) in enumerate(times)]


@pytest.mark.parametrize("config", ["nvdla_small", "gemmini", "eyeriss_like", "gemmini:is"])
def test_block_kinds_are_the_blocks_with_alike_tiles(config):
    # A convolution input's kinds come from its share of the time dim alone (whole and new), not
    # from its tables: the same blocks must come out alike as when every tile is compared.
    config, _, dataflow = config.partition(":")
    hw = with_overrides(load_hardware(config), {"buffers.cbuf.size_kib": 16}) if config == "nvdla_small" \
        else load_hardware(config)
    if dataflow:
        hw = with_overrides(hw, {"array.dataflow": dataflow})
    compared = 0
    for layer, batch in KIND_LAYERS + [(Conv2d(name="wide", H=56, W=56, C=64, K=64, R=3, S=3,
                                               padding=(1, 1, 1, 1)), 4)]:
        tiler = LayerTiler(layer, hw, batch)
        for slots, room in zip(tiler.splits, tiler._rooms):
            tiler.slots, tiler.room = slots, room
            for time_block in tiler.time_block_candidates():
                kinds = tiler._block_kinds(time_block, ends=False)[0].tolist()
                assert kinds == _kinds_by_tables(tiler, time_block), (config, layer.name, time_block)
                compared += len(kinds) > 1 and len(set(kinds)) > 1
    assert compared  # blocks of several kinds were compared


@pytest.mark.parametrize("config", ["nvdla_small", "gemmini", "eyeriss_like", "tpu_v1"])
def test_searches_with_probes_computed_together_find_what_one_probe_at_a_time_finds(config, monkeypatch):
    # the oracle: every halving's probe on its own (the search as written one probe at a time)
    import accelsim.mapping.tiling as tiling

    hw = load_hardware(config)
    small = with_overrides(hw, {"buffers.cbuf.size_kib": 16}) if config == "nvdla_small" else hw
    searched = 0
    for layer, batch in KIND_LAYERS + [(Conv2d(name="wide", H=56, W=56, C=64, K=64, R=3, S=3,
                                               padding=(1, 1, 1, 1)), 4)]:
        for h in (hw, small):
            for slots in LayerTiler(layer, h, batch).splits:
                found = []
                for levels in (tiling.SEARCH_LEVELS, 1):
                    monkeypatch.setattr(tiling, "SEARCH_LEVELS", levels)
                    tiler = LayerTiler(layer, h, batch)
                    tiler.slots = slots
                    found.append(tiler.time_block_candidates())
                assert found[0] == found[1], (config, layer.name)
                searched += len(found[0]) > 1
    assert searched or config == "tpu_v1"  # (no time blocks there)


@pytest.mark.parametrize("config", ["nvdla_small", "gemmini", "eyeriss_like"])
def test_searches_of_every_split_find_what_a_fresh_tiler_at_its_slots_finds(config):
    # The searches of the splits of a buffer share what they find where an operand keeps its slot
    # (here the partial sums, in a buffer of their own). The oracle: a new tiler per split, given
    # that split's slots, with nothing found before.
    hw = load_hardware(config)
    for layer, batch in KIND_LAYERS:
        shared = LayerTiler(layer, hw, batch)
        for slots, room in zip(shared.splits, shared._rooms):
            shared.slots, shared.room = slots, room
            fresh = LayerTiler(layer, hw, batch)
            fresh.slots, fresh.room = slots, room
            blocks = shared.time_block_candidates()
            assert blocks == fresh.time_block_candidates(), (config, layer.name, slots)
            for time_block in blocks:
                for order in ("cols_inner", "rows_inner"):
                    assert shared.group_candidates(order, time_block) == fresh.group_candidates(order, time_block)


# one time block and a great many folds: laid out outer fold by kind (LayerTiler._outer_kinds)
# (WS streams M, OS K, IS N: each of them is 1-3 in one of these)
OUTER_LAYERS = [(Gemm(name="fc6", M=1, N=4096, K=25088), 1),          # VGG-16's first classifier layer
                (Gemm(name="ragged", M=3, N=1000, K=9000), 1),        # edge folds along both roles
                (Conv2d(name="deep", H=2, W=2, C=2048, K=2050, R=3, S=3, padding=(1, 1, 1, 1)), 1),
                (Gemm(name="flat", M=4200, N=4200, K=1), 1),
                (Gemm(name="wide", M=2050, N=3, K=8200), 1)]
BY_KIND = {Dataflow.WS: {"fc6", "deep"}, Dataflow.OS: {"flat"}, Dataflow.IS: {"wide"}}  # at least these


@pytest.mark.parametrize("config", ["nvdla_small", "gemmini", "eyeriss_like", "scalesim_32x32"])
@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_outer_folds_of_one_kind_lay_out_as_every_fold_does(config, dataflow, monkeypatch):
    # The oracle: every fold laid out (LayerTiler._lay_out over all outer folds) and its steps
    # merged row by row; the layout by kind must give the same folds and the same steps. For the
    # chosen candidate at the shipped thresholds (the path taken where it is meant to be), then
    # for every candidate of one time block with the thresholds at their lowest.
    import accelsim.mapping.tiling as tiling
    from accelsim.mapping import map_layer
    from accelsim.schedule import _layer_steps

    hw = with_overrides(load_hardware(config), {"array.dataflow": dataflow.value})

    def same(tiler, mapping, order, group):
        table, kinds = tiler.lay_out_blocks(order, tiler.extents.time, group, False)
        full = tiler._lay_out(order, [(0, tiler.extents.time)], group, False)
        _assert_same_folds(table if kinds.size == 1 else table.repeat_blocks(kinds), full,
                           (tiler.layer.name, order, group))
        steps = _layer_steps(table, kinds, tiler.slots, mapping, hw)
        whole = _layer_steps(full, np.zeros(1, dtype=np.int64), tiler.slots, mapping, hw)
        assert steps.shape == whole.shape and (steps == whole).all(), (tiler.layer.name, order, group)
        return kinds.size > 1

    by_kind = set()
    for layer, batch in OUTER_LAYERS:
        tiler = LayerTiler(layer, hw, batch)
        chosen = tiler.choose_blocks()[0]
        if chosen.time_blocks == 1 and not chosen.time_inside \
                and same(tiler, map_layer(layer, hw.array, batch), chosen.order, chosen.group):
            by_kind.add(layer.name)
    assert BY_KIND[dataflow] <= by_kind  # the path under test was taken

    monkeypatch.setattr(tiling, "OUTER_KINDS_MIN_FOLDS", 0)
    monkeypatch.setattr(tiling, "OUTER_KINDS_FROM", 1)
    laid_by_kind = 0
    for layer, batch in OUTER_LAYERS[1:2] + KIND_LAYERS:
        tiler = LayerTiler(layer, hw, batch)
        considered = _considered_and_every(tiler, tiler.choose_blocks()[0])
        mapping = map_layer(layer, hw.array, batch)
        for c in considered:
            if c.time_block == tiler.extents.time and not c.time_inside:
                laid_by_kind += same(tiler, mapping, c.order, c.group)
    assert laid_by_kind


def test_distinct_rows_match_the_rows_compared_whole():
    from accelsim.mapping.tiling import _distinct_rows

    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        parts = [rng.integers(0, int(rng.integers(1, 4)), (n, int(rng.integers(1, 4)))) for _ in range(3)]
        parts.append(rng.random(n) < 0.5)
        first, inverse = _distinct_rows(parts)
        rows = np.hstack([p.reshape(n, -1).astype(np.int64) for p in parts])
        for i in range(n):  # each row's class is the first row equal to it
            assert first[inverse[i]] == int(np.flatnonzero((rows == rows[i]).all(axis=1))[0])
        assert len(set(map(tuple, rows.tolist()))) == first.size


def test_forgetting_the_candidates_tables_lays_out_the_same_folds(monkeypatch):
    """choose_blocks drops every candidate's memoised tables before laying out the chosen one
    (memory at large batches); the lay-out then makes its tables again. Against a tiler that keeps
    them all: the same tiling and the same fold table, column by column."""
    hw = load_hardware("nvdla_small")
    layers = [layer for layer in load_workload("resnet18").layers if isinstance(layer, Conv2d)][:6]

    def laid_out(layer):
        tiling, table, kinds = LayerTiler(layer, hw, 2).choose_blocks()
        return tiling, kinds.tolist(), table.chunks.tolist(), {k: v.tolist() for k, v in table.columns.items()}

    forgetting = [laid_out(layer) for layer in layers]
    monkeypatch.setattr(LayerTiler, "_forget", lambda self: None)
    assert forgetting == [laid_out(layer) for layer in layers]
