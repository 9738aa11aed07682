import math

import numpy as np
import pytest
import simpy

from accelsim import load_hardware
from accelsim.config.loader import with_overrides
from accelsim.engine.dram import Dram, Trace
from accelsim.engine.sram import BufferPool
from accelsim.errors import SimulationError


def test_dram_rate_is_limited_by_requests_in_flight():
    hw = load_hardware("gemmini")  # 16 B/cycle peak, 16 x 64 B in flight, 100 ns = 100 cycles
    dram = Dram(hw)
    assert dram.channel_rate == pytest.approx(16 * 64 / 100)  # Little's law: 10.24 B/cycle
    assert dram.service_cycles(1024) == math.ceil(1024 / 10.24)
    fast = Dram(with_overrides(hw, {"dram.latency_ns": 10}))
    assert fast.channel_rate == 16  # the peak binds when latency is hidden


def test_dram_channels_and_efficiency():
    hw = with_overrides(load_hardware("gemmini"), {"dram.latency_ns": 0, "dram.channels": 2, "dram.efficiency": 0.5})
    dram = Dram(hw)
    assert dram.channel_rate == 4.0  # 16 x 0.5 shared by 2 channels
    assert dram.reserve(0, 40) == (0, 10) and dram.reserve(0, 40) == (0, 10)  # both channels
    assert dram.reserve(0, 40) == (10, 20)  # first free channel


def test_bandwidth_trace_windows():
    dram = Dram(with_overrides(load_hardware("gemmini"), {"dram.latency_ns": 0}))
    dram.reserve(0, 1600)     # 100 cycles at 16 B/cycle
    dram.reserve(1000, 800)   # 50 cycles
    trace = Trace(dram)
    assert trace.peak_bytes_per_cycle(0, 2000, 1000) == pytest.approx(1.6)
    assert trace.peak_bytes_per_cycle(0, 100, 1000) == pytest.approx(16)  # a span shorter than a window


def test_bandwidth_trace_matches_its_definition_bit_for_bit():
    """The trace is built with few temporaries (integer sort, in-place sums); it must equal the
    plain float formulation of the module docstring's definition exactly, ties and zero-time
    chunks included."""
    rng = np.random.default_rng(7)
    dram = Dram(with_overrides(load_hardware("gemmini"), {"dram.latency_ns": 0}))
    for start, span, nbytes in zip(rng.integers(0, 500, 3000), rng.integers(0, 4, 3000), rng.integers(1, 999, 3000)):
        dram.record(int(start), int(start + span), int(nbytes))
    starts, ends, sizes = (np.array(a, dtype=np.float64) for a in (dram.starts, dram.ends, dram.sizes))
    ends = np.maximum(ends, starts + 1.0)
    rate = sizes / (ends - starts)
    points = np.concatenate([starts, ends])
    order = np.argsort(points, kind="stable")
    level = np.cumsum(np.concatenate([rate, -rate])[order])
    area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(points[order]))])
    trace = Trace(dram)
    assert np.array_equal(trace.points, points[order]) and np.array_equal(trace.area, area)
    released = Trace(dram, release=True)  # the simulation's way: the port's records dropped as read
    assert np.array_equal(released.points, trace.points) and np.array_equal(released.area, trace.area)
    assert len(dram.starts) == len(dram.ends) == len(dram.sizes) == 0
    assert Trace(Dram(load_hardware("gemmini"))).moved(np.arange(3.0)).tolist() == [0.0, 0.0, 0.0]


def test_buffer_pool_grants_claims_in_schedule_order():
    env = simpy.Environment()
    pool = BufferPool(env, "input", 100)
    assert pool.claim(0, 60) is None
    first, second = pool.claim(1, 50), pool.claim(2, 10)
    assert first is not None and second is not None  # in order: the small one waits behind the big one
    pool.release(60)
    assert first.triggered and second.triggered and pool.free == 40
    # a later claim that asks first waits for its turn even when it would fit
    late = pool.claim(4, 10)
    assert late is not None and not late.triggered
    assert pool.claim(3, 20) is None  # its turn: granted, and then claim 4 is
    assert late.triggered and pool.free == 10
    with pytest.raises(SimulationError, match="input buffer: a claim of 101 bytes exceeds its 100 bytes"):
        pool.claim(5, 101)


@pytest.mark.parametrize("piece", [7, 4096])
def test_layer_steps_hand_each_reader_the_rows_it_reads(monkeypatch, piece):
    """LayerSteps.rows and .claims (the array's and a loader's steps, a layer at a time, read in
    pieces of READ_STEPS steps; 7 puts piece boundaries inside every layer) against walking every
    row of the layer as the readers did before: the rows with their issue cycles; the steps with
    bytes to load, their bytes, their claim ordinal and the level they come from, in step order."""
    from accelsim import load_workload
    from accelsim.engine import array
    from accelsim.engine.array import CLAIMS, INPUT_FROM, LOAD_INPUT, LOAD_PSUM, OUTPUT_ACQUIRE, LayerSteps
    from accelsim.engine.simulator import claim_ordinals
    from accelsim.schedule import build_schedule, issue_cycles

    monkeypatch.setattr(array, "READ_STEPS", piece)
    hw = load_hardware("nvdla_small")
    schedule = build_schedule(hw, load_workload("resnet18"))
    pools = tuple(object() for _ in CLAIMS)
    ordinals, _ = claim_ordinals([(ls.unit, ls.steps) for ls in schedule.layers], pools,
                                 [[] for _ in schedule.layers])
    steps = LayerSteps(schedule.layers, lambda s: issue_cycles(s, hw), ordinals)
    assert len(steps) == len(schedule.layers) and steps.counts == [len(ls.steps) for ls in schedule.layers]
    slot = {name: i for i, (name, _) in enumerate(CLAIMS)}
    seen = 0
    for li, ls in enumerate(schedule.layers):
        unit, read = steps.rows(li)
        read = list(read)
        rows = ls.steps.tolist()
        assert unit == ls.unit and read == list(zip(rows, issue_cycles(ls.steps, hw).tolist()))
        table = ordinals[li].tolist()
        for name, column, level in (("load_input", LOAD_INPUT, INPUT_FROM), ("load_psum", LOAD_PSUM, None),
                                    ("output_acquire", OUTPUT_ACQUIRE, None)):
            expected = [(si, row[column], table[si][slot[name]]) + ((row[level],) if level else ())
                        for si, row in enumerate(rows) if row[column]]
            got = list(steps.claims(li, name, slot[name], "input_from" if level else None))
            assert got == expected, (li, name)
            seen += len(got)
    assert seen > 100  # the layers do load and claim
    assert max(steps.counts) > piece or piece > 7  # pieces do end inside layers


def _ordinals_layer_by_layer(layers, pool_of_claim, residents):
    """The claim order written layer by layer, as the engine numbered claims before it did all
    layers at once: a layer's residents, then its steps' claims row by row in CLAIMS order."""
    from accelsim.engine.array import CLAIMS

    counts, out, resident_out = {}, [], []
    for (_, steps), here in zip(layers, residents):
        mine = []
        for pool, _ in here:
            mine.append(counts.get(pool, 0))
            counts[pool] = mine[-1] + 1
        resident_out.append(mine)
        table = np.full((len(steps), len(CLAIMS)), -1, dtype=np.int64)
        for si in range(len(steps)):
            for slot, (name, _) in enumerate(CLAIMS):
                if steps[name][si] > 0:
                    pool = pool_of_claim[slot]
                    table[si, slot] = counts.get(pool, 0)
                    counts[pool] = table[si, slot] + 1
        out.append(table)
    return out, resident_out


@pytest.mark.parametrize("chunk_rows", [2**16, 40])  # one group of layers, or many
def test_claim_ordinals_number_claims_in_grant_order(monkeypatch, chunk_rows):
    import random

    import accelsim.engine.simulator as simulator

    from accelsim import load_workload
    from accelsim.engine.array import CLAIMS
    from accelsim.engine.simulator import claim_ordinals
    from accelsim.schedule import build_schedule

    monkeypatch.setattr(simulator, "ORDINAL_CHUNK_ROWS", chunk_rows)
    rng = random.Random(7)
    schedule = build_schedule(load_hardware("edge_example_2core"), load_workload("resnet18"))
    empty = schedule.layers[0].steps[:0]
    layers = [("array", empty)] + [(ls.unit, ls.steps) for ls in schedule.layers] + [("array", empty)]
    pools = [object() for _ in range(3)]
    for _ in range(4):  # claims sharing pools or not, residents in those pools and in others
        pool_of_claim = tuple(rng.choice(pools) for _ in CLAIMS)
        residents = [[(rng.choice(pools + [object()]), 1) for _ in range(rng.choice([0, 0, 1, 3]))] for _ in layers]
        got, got_residents = claim_ordinals(layers, pool_of_claim, residents)
        want, want_residents = _ordinals_layer_by_layer(layers, pool_of_claim, residents)
        assert got_residents == want_residents
        assert len(got) == len(want) and all(g.shape == w.shape and (g == w).all() for g, w in zip(got, want))
