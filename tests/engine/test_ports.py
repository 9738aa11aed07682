"""Per-buffer DRAM ports, in the engine and the closed form, on a case worked out by hand.

The layer is tests/engine/test_hand_worked.py's: an 8 x 4 x 4 GEMM on tiny()'s 4 x 4 WS array,
inputs 32 B, weights 16 B, outputs 32 B, compute 18 cycles; with one shared DRAM channel at
1 B/cycle it takes 98 cycles (weights [0, 16), inputs [16, 48), compute [48, 66), store [66, 98)).
"""

from dataclasses import replace

from accelsim.analytical import analyze
from accelsim.config.hardware import BufferConfig, DramConfig, SramConfig
from accelsim.config.workload import Gemm, Workload
from accelsim.engine import simulate
from tests_shared import tiny

WORKLOAD = Workload(name="w", layers=(Gemm(name="g", M=8, N=4, K=4),))


def ported(input_port, weight_port, output_port, independent, dram_gb_per_s=1.0):
    hw = tiny()
    return replace(
        hw,
        sram=SramConfig(input=BufferConfig(size_kib=1, dram_port_bytes_per_cycle=input_port),
                        weight=BufferConfig(size_kib=1, dram_port_bytes_per_cycle=weight_port),
                        output=BufferConfig(size_kib=1, dram_port_bytes_per_cycle=output_port)),
        dram=DramConfig(bandwidth_gb_per_s=dram_gb_per_s, latency_ns=0, burst_bytes=64, max_outstanding=1024,
                        ports_independent=independent))


def test_independent_ports_let_the_loads_overlap():
    # Each buffer its own port at 1 B/cycle, none waiting for another: weights [0, 16) on the
    # weight port while the inputs move [0, 32) on the input port; the array starts at 32
    # (inputs last), computes [32, 50); the 32 output bytes drain [50, 82) on the output port.
    # 82 cycles: 32 waiting for inputs, 18 computing, 32 draining.
    layer = simulate(ported(1, 1, 1, independent=True), WORKLOAD).layers[0]
    b = layer.breakdown
    assert layer.cycles == 82
    assert (b.stall_input, b.stall_weight, b.computing + b.fill_drain + b.preload, b.stall_output) == (32, 0, 18, 32)
    # the closed form: max(compute 18, the busiest port: inputs 32 / 1, weights 16 / 1, outputs 32 / 1) = 32
    assert analyze(ported(1, 1, 1, independent=True), WORKLOAD).layers[0].cycles == 32
    # the same bytes through the one shared DRAM: 98 in the engine, 80 / 1 = 80 in the closed form
    assert simulate(tiny(), WORKLOAD).layers[0].cycles == 98
    assert analyze(tiny(), WORKLOAD).layers[0].cycles == 80


def test_ports_that_share_the_dram_take_the_slower_of_the_two():
    # Ports of 2, 2 and 4 B/cycle sharing the 1 B/cycle DRAM: a chunk holds its port and the
    # DRAM from the same start, each for its own time, and ends with the slower (the DRAM):
    # weights [0, 16) (port free at 8), inputs start when the DRAM is free, [16, 48); compute
    # [48, 66); store [66, 98). Exactly the shared DRAM's timeline: 98 cycles.
    assert simulate(ported(2, 2, 4, independent=False), WORKLOAD).layers[0].cycles == 98
    assert analyze(ported(2, 2, 4, independent=False), WORKLOAD).layers[0].cycles == 80


def test_a_slow_port_on_a_fast_shared_dram():
    # DRAM at 4 B/cycle, the input buffer's port at 1 B/cycle, the others without a port.
    # Weights (DRAM only) [0, 4). Inputs: port free, DRAM free at 4, so they start at 4; the DRAM
    # is busy for 32 / 4 = 8 cycles (to 12), the port for 32 (to 36): data in at 36. Compute
    # [36, 54). Store (DRAM only, free since 12): [54, 62). 62 cycles: 36 waiting for inputs,
    # 18 computing, 8 draining.
    hw = ported(1, None, None, independent=False, dram_gb_per_s=4.0)
    layer = simulate(hw, WORKLOAD).layers[0]
    b = layer.breakdown
    assert layer.cycles == 62
    assert (b.stall_input, b.stall_weight, b.stall_output) == (36, 0, 8)
    # closed form: max(compute 18, DRAM 80 / 4 = 20, input port 32 / 1 = 32, engine 0: 32 / 1) = 32
    assert analyze(hw, WORKLOAD).layers[0].cycles == 32
    # the DRAM trace still counts every byte (inputs included)
    assert layer.dram.total == 80
