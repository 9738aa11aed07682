import math

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
