import numpy as np
import pytest

from accelsim import load_hardware, load_workload
from accelsim.config import DataKind, catalog
from accelsim.config.loader import with_overrides
from accelsim.schedule import build_schedule


@pytest.mark.parametrize("config", list(catalog.shipped("hwconfigs")))
def test_every_claimed_byte_is_freed_and_steps_fit_their_slots(config):
    hw = load_hardware(config)
    for name in ("resnet50", "mobilenet_v2", "bert_base_layer"):
        schedule = build_schedule(hw, load_workload(name, batch=2))
        for ls in schedule.layers:
            s = ls.steps
            assert s["load_input"].sum() == s["release_input"].sum(), ls.name
            assert s["load_weight"].sum() == s["release_weight"].sum(), ls.name
            assert s["output_acquire"].sum() + s["load_psum"].sum() == s["store_release"].sum(), ls.name
            if ls.tiling is not None:  # each step's new data fits a slot of the room its tiling had
                slots = {op.value: nbytes for op, nbytes in ls.tiling.slot_bytes}
                # (the whole room, for an operand whose tiles stay for the whole layer)
                slots.update({op.value: nbytes for op, nbytes in ls.tiling.room_bytes if op in ls.tiling.whole})
                assert (s["load_input"] <= max(slots["input"], 0)).all()
                assert (s["load_weight"] <= slots["weight"]).all()
                assert (s["output_acquire"] + s["load_psum"] <= slots["output"]).all()
            free = dict(ls.plan.space.free_bytes)
            for column, kind in (("load_input", DataKind.ACTIVATIONS), ("load_weight", DataKind.WEIGHTS),
                                 ("output_acquire", DataKind.PSUMS)):
                assert (s[column] <= free[hw.memory.buffer_for(kind).name]).all(), (ls.name, column)
            if ls.mapping is not None:
                assert ls.compute_cycles == ls.mapping.compute.total  # tiling never changes compute
                assert ls.total("folds") >= ls.mapping.folds


def test_step_view():
    ls = build_schedule(load_hardware("gemmini"), load_workload("alexnet")).layers[0]
    step = ls.step(0)
    assert step.load_input > 0 and step.compute_cycles == step.stream + step.fill_drain + step.preload


def _greedy_steps(load_input, load_weight, output_claim, mergeable, slot_input, slot_weight, slot_output):
    """The merge rule written fold by fold, as the first version's compiled kernel ran it."""
    starts, i, n = [], 0, len(load_input)
    while i < n:
        starts.append(i)
        a, b, c = load_input[i], load_weight[i], output_claim[i]
        i += 1
        if not mergeable[i - 1]:
            continue
        while i < n and mergeable[i]:
            a, b, c = a + load_input[i], b + load_weight[i], c + output_claim[i]
            if a > slot_input or b > slot_weight or c > slot_output:
                break
            i += 1
    return starts


@pytest.mark.parametrize("form", ["numpy", "compiled"])
def test_steps_merge_folds_as_the_fold_by_fold_rule_does(form):
    # random fold loads (zeros included), mergeable flags and slots (tiny to unbounded), in the
    # numpy form (small runs) and the compiled one (large runs)
    from accelsim._compiled import segments
    from accelsim.schedule import _segments

    if form == "compiled":
        _segments = segments  # noqa: F811
    rng = np.random.default_rng(7)
    for _ in range(2000):
        n = int(rng.integers(0, 50))
        loads = [np.where(rng.random(n) < 0.3, 0, rng.integers(0, 60, n)).astype(np.int64) for _ in range(3)]
        mergeable = rng.random(n) < rng.random()
        slots = [int(rng.integers(0, 250)) if rng.random() < 0.9 else 2 ** 62 for _ in range(3)]
        assert _segments(*loads, mergeable, *slots).tolist() == _greedy_steps(*loads, mergeable, *slots)


def test_the_compiled_merge_is_loaded_only_for_a_merge_that_pays_for_the_import(monkeypatch):
    # numba's import (about 0.5 s) is paid only for a merge the numpy form would take as long over;
    # once it is loaded, every large merge uses it
    import sys

    from accelsim.schedule import COMPILED_FROM_ROWS, LOAD_COMPILED_FROM_ROWS, _compiled_pays

    assert COMPILED_FROM_ROWS < LOAD_COMPILED_FROM_ROWS
    for loaded in (False, True):
        if loaded:
            monkeypatch.setitem(sys.modules, "accelsim._compiled", object())
        else:
            monkeypatch.delitem(sys.modules, "accelsim._compiled", raising=False)
        assert not _compiled_pays(COMPILED_FROM_ROWS - 1)
        assert _compiled_pays(COMPILED_FROM_ROWS) is loaded
        assert _compiled_pays(LOAD_COMPILED_FROM_ROWS - 1) is loaded
        assert _compiled_pays(LOAD_COMPILED_FROM_ROWS)


def _random_blocks(rng, kinds_count: int, per: int):
    """A fold table of ``kinds_count`` blocks of ``per`` folds: random loads (zeros included),
    chunks, streamed bytes and barriers."""
    from accelsim.mapping.tiling import FoldTable

    n = kinds_count * per
    ft = FoldTable(n)
    for name in ("load_input", "load_weight", "load_psum", "output_acquire", "stream", "store_output"):
        ft.columns[name][:] = np.where(rng.random(n) < 0.3, 0, rng.integers(0, 60, n))
    if rng.random() < 0.3:
        ft.chunks = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 1)
        ft.columns["stream"] = np.maximum(ft.columns["stream"], ft.chunks)
        ft.streamed["load_input"] = np.where(ft.chunks > 1, rng.integers(0, 90, n), 0)
    ft.barrier = rng.random(n) < rng.random() * 0.3
    return ft


def test_steps_from_one_block_of_each_kind_are_the_merge_of_every_row():
    # the oracle: the blocks laid out in full (FoldTable.repeat_blocks), repeated, and merged row by row
    from accelsim.mapping import Operand
    from accelsim.schedule import _blocked_steps, _expand, _steps_of

    rng = np.random.default_rng(11)
    for trial in range(500):
        count, per = int(rng.integers(1, 5)), int(rng.integers(1, 12))
        ft = _random_blocks(rng, count, per)
        blocks = int(rng.integers(1, 40))
        kinds = np.concatenate([np.arange(count), rng.integers(0, count, blocks)])
        if rng.random() < 0.5:  # periodic runs, as time blocks are
            kinds = np.concatenate([np.arange(count), np.tile(rng.integers(0, count, 3), blocks)])
        repeats = int(rng.integers(1, 4))
        slots = {op: int(rng.integers(0, 400)) if rng.random() < 0.9 else 2 ** 62 for op in Operand}
        rows, mergeable = _expand(ft.repeat_blocks(kinds))
        rows = {name: np.tile(values, repeats) for name, values in rows.items()}
        expected = _steps_of(rows, np.tile(mergeable, repeats), slots)
        got = _blocked_steps(ft, kinds, repeats, slots)
        assert got.shape == expected.shape and (got == expected).all(), trial


def _tilings_only(cache):
    """``cache`` without the schedules and splits it kept: what follows asks its tilings."""
    cache._kept.clear()
    cache.schedule_bytes = 0
    return cache


def _same_schedules(a, b):
    assert a.residency == b.residency
    assert len(a.layers) == len(b.layers)
    for x, y in zip(a.layers, b.layers):
        assert x.name == y.name and x.tiling == y.tiling and x.traffic == y.traffic, x.name
        assert np.array_equal(x.steps, y.steps), x.name


@pytest.mark.parametrize("config", ["gemmini", "edge_example_2core"])
def test_a_tiling_cache_gives_what_a_fresh_build_gives(config):
    # Designs that differ in DRAM and clock share every tiling; a changed buffer or array does not.
    # The oracle is a build of each design with nothing kept from the others.
    from accelsim.schedule import TilingCache

    base = load_hardware(config)
    designs = [base, with_overrides(base, {"dram.bandwidth_gb_per_s": base.dram.bandwidth_gb_per_s * 3,
                                           "clock_mhz": 400.0}),
               with_overrides(base, {"sram.weight.size_kib": 24.0}),
               with_overrides(base, {"sram.weight.double_buffered": False}),
               with_overrides(base, {"array.rows": base.array.rows // 2})]
    wl = load_workload("resnet50")
    cache = TilingCache()
    for i, hw in enumerate(designs):
        misses = cache.misses
        _same_schedules(build_schedule(hw, wl, _tilings_only(cache)), build_schedule(hw, wl))
        if i == 1:
            assert cache.misses == misses  # DRAM and clock: every layer from the cache
        elif i > 1:
            assert cache.misses > misses   # new buffers or array: tiled again
    assert cache.hits > 0


@pytest.mark.parametrize("workload", ["gpt2_decode", "resnet50"])
def test_a_tiling_cache_plans_residency_once_per_array_and_memory(workload):
    # The oracle: plan_residency on each design with nothing kept. The designs that must miss
    # change the plan (checked), so a key that left out what they change would fail here.
    from accelsim.residency import plan_residency
    from accelsim.schedule import TilingCache

    base, wl = load_hardware("tpu_v1"), load_workload(workload)
    cache = TilingCache()
    first = cache.residency(base, wl)
    assert first == plan_residency(base, wl)
    faster = with_overrides(base, {"dram.bandwidth_gb_per_s": 100.0, "clock_mhz": 400.0, "dma.engines": 3})
    assert cache.residency(faster, wl) is first  # nothing the planner reads changed
    for override in ({"sram.input.size_kib": 2048.0}, {"array.bytes_per_output": 2}):
        hw = with_overrides(base, override)
        fresh = plan_residency(hw, wl)
        assert fresh != first and cache.residency(hw, wl) == fresh, override
    other = load_workload(workload, batch=2)
    assert cache.residency(base, other) == plan_residency(base, other) != first
    assert cache.residency(base, wl) is first  # still kept
    two = load_hardware("edge_example_2core")
    one = with_overrides(two, {"cores": 1})
    assert cache.residency(two, wl) == plan_residency(two, wl) != plan_residency(one, wl) == cache.residency(one, wl)


def _same_layer_schedules(a, b):
    # Every field of every layer (and of its cores' shares), steps row by row.
    from dataclasses import fields

    assert len(a) == len(b)
    for x, y in zip(a, b):
        for f in fields(x):
            u, v = getattr(x, f.name), getattr(y, f.name)
            if f.name == "steps":
                assert u.dtype == v.dtype and np.array_equal(u, v), x.name
            elif f.name == "cores":
                _same_layer_schedules(u, v)
            else:
                assert u == v, (x.name, f.name)


@pytest.mark.parametrize("config", ["tpu_v1", "gemmini", "edge_example_2core"])
def test_a_kept_schedule_is_what_a_fresh_build_of_the_design_gives(config):
    # The oracle is a fresh build of each design. A design that differs from a kept one only in
    # fields the build does not read (UNREAD_BY_THE_BUILD) gets the kept layers; with several
    # cores, the splits are chosen again (by analytical cycles, which read DRAM, DMA, control and
    # the clock, and here change) among the kept ones; a design that differs in a field the build
    # reads is built again.
    from accelsim.schedule import TilingCache

    base, wl = load_hardware(config), load_workload("resnet18")
    timed = {"clock_mhz": base.clock_mhz * 8, "dram.bandwidth_gb_per_s": base.dram.bandwidth_gb_per_s / 16,
             "dma.setup_cycles": 2000, "control.step_overhead_cycles": 2000}
    unread = {"name": "renamed", "static_mw": 5.0, **timed}
    cache = TilingCache()
    first = build_schedule(base, wl, cache)
    _same_layer_schedules(first.layers, build_schedule(base, wl).layers)
    timed_only = with_overrides(base, unread)
    fresh = build_schedule(timed_only, wl)
    again = build_schedule(timed_only, wl, cache)
    assert again.hardware is timed_only and again.workload is wl
    _same_layer_schedules(again.layers, fresh.layers)
    def kept(layers):  # the very layer schedules of the first build: nothing built again
        return all(x is y for x, y in zip(layers, first.layers))

    if base.cores == 1:
        assert again.layers is first.layers  # kept: not built again
        _same_layer_schedules(fresh.layers, first.layers)  # the build reads none of those fields
    else:
        for field, value in timed.items():  # each alone changes a split: chosen again, from kept shares
            hw = with_overrides(base, {field: value})
            fresh, asked = build_schedule(hw, wl), (cache.hits, cache.misses)
            got = build_schedule(hw, wl, cache)
            assert not kept(got.layers) and (cache.hits, cache.misses) == asked, field
            _same_layer_schedules(got.layers, fresh.layers)
            assert any(x.partition != y.partition for x, y in zip(fresh.layers, first.layers)), field
        renamed = with_overrides(base, {"name": "renamed", "static_mw": 5.0})
        assert kept(build_schedule(renamed, wl, cache).layers)
    for override in ({"array.rows": base.array.rows // 2}, {"activations": "dram"}):
        hw = with_overrides(base, override)
        got = build_schedule(hw, wl, cache)
        assert not kept(got.layers), override
        _same_layer_schedules(got.layers, build_schedule(hw, wl).layers)
    other = load_workload("resnet18", batch=2)
    _same_layer_schedules(build_schedule(base, other, cache).layers, build_schedule(base, other).layers)
    assert kept(build_schedule(base, wl, cache).layers)  # still kept
    assert not any(part.steps.flags.writeable for ls in first.layers for part in (ls,) + ls.cores)


@pytest.mark.parametrize("config", ["tpu_v1", "gemmini", "eyeriss_like", "edge_example_2core", "tpu_v4i"])
def test_the_build_reads_no_field_it_leaves_out_of_its_key(config, monkeypatch):
    # What the memo's keys rest on, checked at the source: a fresh build reads no field of
    # UNREAD_BY_THE_BUILD (nor a property made from one), except, with several cores, within the
    # closed form that chooses each layer's split. A field wrongly counted as unread is read here.
    import sys

    import accelsim.analytical as analytical
    import accelsim.schedule as schedule
    from accelsim.config.hardware import Hardware

    unread, reads = schedule.UNREAD_BY_THE_BUILD, []
    plain = object.__getattribute__

    def spied(self, name):
        if name in unread:
            frame, chooser = sys._getframe(1), False
            while frame is not None:
                chooser = chooser or frame.f_globals.get("__name__") == analytical.__name__
                frame = frame.f_back
            reads.append((name, chooser))
        return plain(self, name)

    hw = load_hardware(config)
    monkeypatch.setattr(Hardware, "__getattribute__", spied)
    for workload in ("resnet18", "mobilenet_v2", "bert_base_layer"):
        build_schedule(hw, load_workload(workload))
    monkeypatch.undo()
    outside = sorted({name for name, chooser in reads if not chooser})
    assert outside == [], outside
    assert (len(reads) > 0) == (hw.cores > 1)  # the split's choice does read them


def test_a_kept_schedule_still_tells_progress_of_every_layer():
    from accelsim.schedule import TilingCache

    hw, wl = load_hardware("tpu_v1"), load_workload("resnet18")
    cache, told = TilingCache(), []
    build_schedule(hw, wl, cache)
    build_schedule(with_overrides(hw, {"clock_mhz": 100.0}), wl, cache, lambda *a: told.append(a))
    n = len(wl.layers)
    assert told == [("schedule", i, n) for i in range(1, n + 1)]


def test_the_fields_the_build_leaves_out_of_its_key_are_the_designs(monkeypatch):
    # A renamed field of Hardware must be renamed here too; a new field is in the key by default.
    from dataclasses import fields

    import accelsim.schedule as schedule
    from accelsim.config.hardware import Hardware

    names = {f.name for f in fields(Hardware)}
    assert schedule.UNREAD_BY_THE_BUILD <= names
    # The bounds: at most MAX_SCHEDULES schedules and SCHEDULE_CACHE_BYTES of steps, the least
    # recently used dropped first; one larger than the bound is not kept.
    hw, wl = load_hardware("tpu_v1"), load_workload("resnet18")
    size = sum(ls.steps.nbytes for ls in build_schedule(hw, wl).layers)
    monkeypatch.setattr(schedule, "MAX_SCHEDULES", 2)
    monkeypatch.setattr(schedule, "SCHEDULE_CACHE_BYTES", 3 * size)
    cache = schedule.TilingCache()
    designs = [with_overrides(hw, {"array.rows": rows}) for rows in (256, 128, 64)]
    kept = [build_schedule(d, wl, cache) for d in designs]
    assert len(cache._kept) == 2 and cache.schedule_bytes <= 3 * size
    assert build_schedule(designs[2], wl, cache).layers is kept[2].layers
    assert build_schedule(designs[0], wl, cache).layers is not kept[0].layers  # dropped first
    monkeypatch.setattr(schedule, "SCHEDULE_CACHE_BYTES", size - 1)
    small = schedule.TilingCache()
    assert build_schedule(hw, wl, small).layers is not build_schedule(hw, wl, small).layers
    assert not small._kept and small.schedule_bytes == 0
    # with several cores the candidate splits are kept too, unless they outgrow the bound while
    # they are built; either way a design differing only in DRAM gets what a fresh build gives
    two = load_hardware("edge_example_2core")
    slower = with_overrides(two, {"dram.bandwidth_gb_per_s": two.dram.bandwidth_gb_per_s / 16})
    for bound in (2**40, size // 4):
        monkeypatch.setattr(schedule, "SCHEDULE_CACHE_BYTES", bound)
        cache = schedule.TilingCache()
        build_schedule(two, wl, cache)
        kinds = sorted(key[0] for key in cache._kept)
        assert kinds == (["splits"] if bound > size else []), bound
        asked = (cache.hits, cache.misses)
        _same_layer_schedules(build_schedule(slower, wl, cache).layers, build_schedule(slower, wl).layers)
        assert ((cache.hits, cache.misses) == asked) == (bound > size), bound  # shares reused, or built again


def test_a_bounded_tiling_cache_keeps_at_most_its_bytes():
    from accelsim.schedule import TilingCache

    hw, wl = load_hardware("gemmini"), load_workload("resnet50", batch=4)
    fresh = build_schedule(hw, wl)
    largest = max(ls.steps.nbytes for ls in fresh.layers if ls.tiling is not None)
    for bound in (0, largest // 2, 3 * largest):
        cache = TilingCache(max_bytes=bound)
        _same_schedules(build_schedule(hw, wl, cache), fresh)
        _same_schedules(build_schedule(hw, wl, _tilings_only(cache)), fresh)
        assert cache.nbytes <= bound


def test_a_runs_own_tiling_cache_keeps_each_tiling_only_until_its_last_layer(monkeypatch):
    # A run's own cache is told how many layers ask for each tiling and is empty at the end,
    # having still served the repeated shapes; the oracle for the steps is a build with a cache
    # that keeps everything (no uses told).
    import accelsim.schedule as schedule

    made = []

    class Recorded(schedule.TilingCache):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    hw, wl = load_hardware("nvdla_small"), load_workload("resnet50", batch=2)
    kept = build_schedule(hw, wl, schedule.TilingCache(max_bytes=None))
    monkeypatch.setattr(schedule, "TilingCache", Recorded)
    _same_schedules(build_schedule(hw, wl), kept)
    (own,) = made
    assert own.hits == 30 and own.misses == 24  # ResNet-50: 54 GEMM layers of 24 shapes
    assert own.nbytes == 0 and not own._entries and not own._uses


def test_a_tiling_cache_told_of_two_uses_drops_the_steps_after_the_second():
    from accelsim.mapping import map_layer
    from accelsim.mapping.tiling import WorkingSpace
    from accelsim.schedule import TilingCache

    hw, layer = load_hardware("gemmini"), load_workload("resnet18").gemm_layers[1]
    space, mapping = WorkingSpace.whole(hw), map_layer(layer, hw.array, 1)
    cache = TilingCache(max_bytes=None)
    cache.expect([TilingCache.key(layer, hw, 1, space)] * 2)
    first = cache.tiled(layer, hw, 1, space, mapping)[1]
    assert cache.nbytes == first.nbytes and cache.misses == 1
    assert cache.tiled(layer, hw, 1, space, mapping)[1] is first and cache.hits == 1
    assert cache.nbytes == 0 and not cache._entries
    again = cache.tiled(layer, hw, 1, space, mapping)[1]  # asked once more than told: tiled anew
    assert cache.misses == 2 and again is not first and np.array_equal(again, first)
    assert cache.nbytes == again.nbytes  # and kept, as a cache told nothing keeps it


def test_step_sums_are_the_column_by_column_sums():
    # The oracle: each column summed, counted and masked by level on its own, as the build and
    # the closed form did before StepSums; random steps with mixed and shared levels, and none.
    from accelsim.schedule import LEVEL_FIELDS, ON_CHIP, STEP_DTYPE, _traffic, step_sums

    rng = np.random.default_rng(5)
    for trial in range(200):
        n = int(rng.integers(0, 6))
        steps = np.zeros(n, dtype=STEP_DTYPE)
        for name in STEP_DTYPE.names:
            steps[name] = rng.integers(0, 3, n) * rng.integers(0, 2**40, n)
        for name in LEVEL_FIELDS:
            steps[name] = rng.integers(ON_CHIP, 2, n) if rng.random() < 0.5 else int(rng.integers(ON_CHIP, 2))
        sums = step_sums(steps)
        for name in STEP_DTYPE.names:
            assert sums.total[name] == int(steps[name].sum()) and sums.nonzero[name] == np.count_nonzero(steps[name])
        for code in (ON_CHIP, 0, 1):
            def at(column, where):
                return int(steps[column][steps[where] == code].sum())
            got = _traffic(steps, code, sums)
            assert (got.input_read, got.weight_read, got.output_write) == \
                (at("load_input", "input_from"), at("load_weight", "weight_from"), at("store_output", "output_to")), trial
            assert (got.psum_read, got.psum_write) == ((int(steps["load_psum"].sum()), int(steps["store_psum"].sum()))
                                                       if code == 0 else (0, 0))


@pytest.mark.parametrize("config, workload", [("tpu_v1", "resnet50"), ("edge_example", "mobilenet_v2"),
                                              ("edge_example_2core", "mobilenet_v2"), ("tpu_v4i", "bert_base_layer")])
def test_every_layer_holds_the_sums_of_its_own_steps(config, workload):
    """The build hands each layer the sums it made of its steps (so they are not made twice);
    they must be those of the steps the layer ends up with: made again here from the steps."""
    from accelsim.schedule import step_sums

    for ls in build_schedule(load_hardware(config), load_workload(workload)).layers:
        for part in (ls,) + ls.cores:
            assert part.sums == step_sums(part.steps), (config, ls.name)


@pytest.mark.parametrize("config", ["tpu_v4i", "edge_example_2core"])
def test_each_core_runs_what_its_share_builds_on_its_own(config):
    """A split's equal shares are built once and shared; each core's part must still be exactly
    what its own share builds alone (the oracle: _gemm_layer on that share, in a new cache)."""
    from dataclasses import replace

    from accelsim.partition import candidates
    from accelsim.schedule import TilingCache, _gemm_layer, transfer_levels

    hw, wl = load_hardware(config), load_workload("resnet50")
    schedule = build_schedule(hw, wl)
    levels, shared = transfer_levels(hw), 0
    for index, ls in enumerate(schedule.layers):
        if ls.unit != "array":
            continue
        shares = dict(candidates(ls.layer, wl.batch, hw.cores, hw.partition))[ls.partition]
        shared += len(shares) - len({id(part) for part in ls.cores[:len(shares)]})
        for share, part in zip(shares, ls.cores):
            alone = _gemm_layer(index, share.layer, hw, replace(wl, batch=share.batch), ls.plan, levels,
                                TilingCache(max_bytes=None))
            assert np.array_equal(part.steps, alone.steps), ls.name
            assert (part.tiling, part.traffic, part.sram, part.macs) == \
                (alone.tiling, alone.traffic, alone.sram, alone.macs), ls.name
    assert shared > 0  # some layers split into equal shares, which were built once
