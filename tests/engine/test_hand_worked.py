"""The engine on cases small enough to work out by hand (golden numbers from the arithmetic)."""

from accelsim.config.hardware import (
    ArrayConfig,
    BufferConfig,
    Dataflow,
    DmaConfig,
    DramConfig,
    Hardware,
    SramConfig,
)
from accelsim.config.workload import Gemm, NonGemm, Workload
from accelsim.engine import simulate


def tiny(latency_ns=0.0, setup=0, overhead=0, vector=None):
    from accelsim.config.hardware import ControlConfig, VectorUnitConfig

    return Hardware(
        name="tiny", clock_mhz=1000,
        array=ArrayConfig(rows=4, cols=4, dataflow=Dataflow.WS, bytes_per_psum=4, pipelined_folds=True),
        sram=SramConfig(input=BufferConfig(size_kib=1), weight=BufferConfig(size_kib=1),
                        output=BufferConfig(size_kib=1)),
        # 1 GB/s at 1 GHz: one byte per cycle; plenty of requests in flight
        dram=DramConfig(bandwidth_gb_per_s=1, latency_ns=latency_ns, burst_bytes=64, max_outstanding=1024),
        dma=DmaConfig(engines=3, setup_cycles=setup, chunk_bytes=16384),
        vector=VectorUnitConfig(elements_per_cycle=vector) if vector else None,
        control=ControlConfig(layer_overhead_cycles=overhead),
    )


GEMM = Gemm(name="g", M=8, N=4, K=4)  # inputs 8x4 = 32 B, weights 4x4 = 16 B, outputs 8x4 = 32 B


def test_one_fold_by_hand():
    # WS on 4x4: one fold, T = M = 8: compute = T + 2R + C - 2 = 8 + 8 + 4 - 2 = 18 cycles.
    # One DRAM channel, first come first served at 1 B/cycle. Weights may load before the layer
    # starts (prefetch), inputs wait for it, so the weights (16 B) take cycles [0, 16) and the
    # input (32 B) [16, 48). The array starts at 48, having waited last for its inputs; computes
    # until 66; the 32 output bytes drain over [66, 98).
    layer = simulate(tiny(), Workload(name="w", layers=(GEMM,))).layers[0]
    assert layer.compute_cycles == 18
    assert layer.cycles == 98
    b = layer.breakdown
    assert (b.stall_input, b.stall_weight, b.computing + b.fill_drain + b.preload, b.stall_output) == (48, 0, 18, 32)
    assert (layer.dram.input_read, layer.dram.weight_read, layer.dram.output_write) == (32, 16, 32)


def test_latency_setup_and_overhead_by_hand():
    # + 10 cycles of DRAM latency, 5 cycles of DMA setup per descriptor, 100 of layer overhead.
    # Weights: setup until 5, transfer [5, 21), arrive 31 (during the overhead). Inputs wait for
    # the layer to start at 100: setup until 105, transfer [105, 137), arrive 147. Compute
    # [147, 165). Store: setup until 170, transfer [170, 202), in DRAM at 212.
    layer = simulate(tiny(latency_ns=10, setup=5, overhead=100), Workload(name="w", layers=(GEMM,))).layers[0]
    b = layer.breakdown
    assert layer.cycles == 212
    assert (b.overhead, b.stall_input, b.stall_weight, b.stall_output) == (100, 47, 0, 212 - 165)


def test_vector_layer_and_fused():
    pool = NonGemm(name="p", op="maxpool", ops=1000)
    run = simulate(tiny(vector=64), Workload(name="w", layers=(pool,), batch=2))
    assert run.layers[0].cycles == -(-2000 // 64) and run.layers[0].unit == "vector"
    run = simulate(tiny(), Workload(name="w", layers=(pool,)))
    assert run.layers[0].cycles == 0 and run.layers[0].unit == "fused"


def test_layers_run_in_sequence_and_sum():
    run = simulate(tiny(), Workload(name="w", layers=(GEMM, Gemm(name="h", M=8, N=4, K=4))))
    assert run.cycles == sum(layer.cycles for layer in run.layers)
    # the second layer's weights were prefetched during the first layer's tail: it is shorter
    assert run.layers[1].cycles < run.layers[0].cycles


def test_dma_setup_is_paid_per_descriptor_after_the_previous_transfer():
    # Two identical layers, 20 cycles of setup per descriptor. Layer 1 as before but with
    # setup: weights [20, 36); inputs wait for the layer: setup to 20, but the bus is busy until
    # 36, so [36, 68); compute [68, 86); store (engine 2): setup to 106, [106, 138).
    # Layer 2's weights (engine 1, prefetched): setup starts once engine 1's previous transfer
    # left the bus (36): setup to 56, transfer [68, 84) after the input chunk booked [36, 68).
    # Layer 2 starts at 138: inputs (engine 0) setup to 158, [158, 190); compute [190, 208);
    # store: setup to 228, [228, 260). Layer 2 = 260 - 138 = 122 cycles.
    second = Gemm(name="h", M=8, N=4, K=4)
    run = simulate(tiny(setup=20), Workload(name="w", layers=(GEMM, second)))
    assert [layer.cycles for layer in run.layers] == [138, 122]
    assert run.layers[1].breakdown.stall_input == 190 - 138
