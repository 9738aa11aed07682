"""The engine on cases small enough to work out by hand (golden numbers from the arithmetic)."""

from accelsim.config.workload import Gemm, NonGemm, Workload
from accelsim.engine import simulate
from tests_shared import tiny


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
    # A lone pool reads the network input (1000 elements per sample, batch 2: 2000 B) from DRAM
    # and writes its output (2000 B) back: 4000 B through one channel at 1 B/cycle. Its pieces
    # (the input buffer's 512 B slots: 4 loads of 500 B; the stores likewise) keep the channel
    # busy from cycle 0 to the last store's end at 4000; the vector unit's ceil(2000 / 64) = 32
    # cycles hide under the transfers.
    pool = NonGemm(name="p", op="maxpool", ops=1000)
    run = simulate(tiny(vector=64, activations="on_chip"), Workload(name="w", layers=(pool,), batch=2))
    layer = run.layers[0]
    assert layer.unit == "vector" and layer.compute_cycles == -(-2000 // 64)
    assert (layer.dram.input_read, layer.dram.output_write) == (2000, 2000)
    assert layer.cycles == 4000 and layer.breakdown.vector == 32
    # activations: dram is the first version, kept as it was: vector work moves nothing
    first = simulate(tiny(vector=64, activations="dram"), Workload(name="w", layers=(pool,), batch=2)).layers[0]
    assert (first.cycles, first.dram.total) == (32, 0)
    # without a vector unit the layer is fused into its neighbour: free, and it moves nothing
    run = simulate(tiny(), Workload(name="w", layers=(pool,)))
    assert run.layers[0].cycles == 0 and run.layers[0].unit == "fused" and run.layers[0].dram.total == 0


def test_layers_run_in_sequence_and_sum():
    run = simulate(tiny(), Workload(name="w", layers=(GEMM, Gemm(name="h", M=8, N=4, K=4))))
    assert run.cycles == sum(layer.cycles for layer in run.layers)
    # the second layer's weights were prefetched during the first layer's tail: it is shorter
    assert run.layers[1].cycles < run.layers[0].cycles


def test_dma_setup_is_paid_per_descriptor_after_the_previous_transfer():  # activations through DRAM
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


def test_an_output_that_stays_on_chip_is_read_in_place_by_the_next_layer():
    # Two chained layers, activations on chip, no cross-layer prefetch (so the order of the
    # transfers is fixed: a layer's loaders start with it, inputs first).
    # Layer g: input (the network input, 32 B) [0, 32), weights (16 B) [32, 48); compute 18
    # cycles [48, 66); its output (32 B) stays in the input buffer: no store. 66 cycles, of
    # which 48 waiting for the weights (the last to arrive).
    # Layer h reads g's output in place: no input load. Its weights load when it starts: [66, 82);
    # compute [82, 100); its output is the network's: stored [100, 132). 66 cycles.
    # DRAM bytes: 32 + 16 for g, 16 + 32 for h; through DRAM both would add 32 + 32.
    second = Gemm(name="h", M=8, N=4, K=4)
    wl = Workload(name="w", layers=(GEMM, second))
    run = simulate(tiny(activations="on_chip", prefetch=False), wl)
    g, h = run.layers
    assert (g.cycles, g.breakdown.stall_weight, g.breakdown.array_busy) == (66, 48, 18)
    assert (h.cycles, h.breakdown.stall_weight, h.breakdown.array_busy, h.breakdown.stall_output) == (66, 16, 18, 32)
    assert (g.dram.total, h.dram.total) == (48, 48)
    assert (g.placement, h.placement) == ((("dram",), "input"), (("input",), "dram"))
    assert run.residency.placement("g").level == "input" and run.residency.placement("g").spilled_bytes == 0
    through_dram = simulate(tiny(activations="dram", prefetch=False), wl)
    assert through_dram.dram.total == run.dram.total + 64


def test_a_dedicated_depthwise_engine_runs_depthwise_layers_at_its_mac_rate():
    # A 3x3 depthwise conv on 8 x 8 x 4 (padding 1): 8 x 8 x 4 x 9 = 2,304 MACs; at 16 MACs per
    # cycle 144 cycles, whatever the array. Ideal memory, so only the engine's cycles show; its
    # bytes: the 8 x 8 x 4 = 256 B input (the network input), 4 x 9 = 36 B of weights, the
    # 256 B output (the network output).
    from dataclasses import replace

    from accelsim.config.hardware import DepthwiseEngineConfig, DramConfig
    from accelsim.config.workload import Conv2d

    dw = Conv2d(name="dw", H=8, W=8, C=4, K=4, R=3, S=3, padding=(1, 1, 1, 1), groups=4)
    hw = replace(tiny(activations="on_chip"), depthwise=DepthwiseEngineConfig(macs_per_cycle=16),
                 dram=DramConfig(bandwidth_gb_per_s=float("inf"), latency_ns=0))
    layer = simulate(hw, Workload(name="w", layers=(dw,))).layers[0]
    assert (layer.unit, layer.macs, layer.cycles, layer.breakdown.vector) == ("depthwise", 2304, 144, 144)
    assert (layer.dram.input_read, layer.dram.weight_read, layer.dram.output_write) == (256, 36, 256)
    # without the engine the same layer runs on the array
    assert simulate(replace(hw, depthwise=None), Workload(name="w", layers=(dw,))).layers[0].unit == "array"


def test_a_stationary_tile_that_arrives_late_is_shifted_in_after_it_arrives():
    # Layer f (M=8, K=4, N=8) writes an 8 x 8 tensor that stays on chip; layer g (M=8, K=8, N=4)
    # reads it in place. g has two row folds (K = 0-3, 4-7) of 4 x 4 weights (16 B each), T = 8.
    # The weight buffer is 32 B, double-buffered: 16 B slots, so each fold is its own step; no
    # cross-layer prefetch, so g's weights load when g starts (call it t0), back to back on one
    # DRAM channel at 1 B/cycle: fold 0's [t0, t0 + 16), fold 1's [t0 + 16, t0 + 32).
    # Step 0: waits for its weights until t0 + 16 (stall_weight 16); the first fold's preload is
    # exposed anyway (4, its share) + stream 8: computes [t0 + 16, t0 + 28).
    # Step 1: its weights arrive at t0 + 32: stall_weight [t0 + 28, t0 + 32) = 4. They could not
    # shift in behind fold 0's stream, so their shift, min(R, T) = 4 cycles, is exposed now, as
    # preload; then stream 8 and the last fold's drain R + C - 2 = 6: [t0 + 32, t0 + 50).
    # g's output (8 x 4 = 32 B, the network output) drains [t0 + 50, t0 + 82): 32 of stall_output.
    # g = 82 cycles: stall_weight 20, preload 4 + 4, computing 16, fill_drain 6, stall_output 32.
    first = Gemm(name="f", M=8, K=4, N=8)
    second = Gemm(name="g", M=8, K=8, N=4)
    hw = tiny(activations="on_chip", prefetch=False, weight_kib=32 / 1024)
    g = simulate(hw, Workload(name="w", layers=(first, second))).layers[1]
    b = g.breakdown
    assert g.cycles == 82
    assert (b.stall_weight, b.preload, b.computing, b.fill_drain, b.stall_output) == (20, 8, 16, 6, 32)
    assert g.cycles == g.compute_cycles + 20 + 4 + 32  # the late shift is the 4 beyond compute and stalls


def test_the_controllers_issue_cost_per_step_and_per_descriptor():
    # GEMM (one step: two loads, one store to DRAM: 3 descriptors) with 10 cycles per step and
    # 3 per descriptor: 10 + 3 x 3 = 19 issue cycles, paid by the array before it computes,
    # beside the transfers. With an ideal memory nothing hides them: 18 compute + 19 overhead.
    from dataclasses import replace

    from accelsim.analytical import analyze
    from accelsim.config.hardware import ControlConfig, DramConfig

    ideal = DramConfig(bandwidth_gb_per_s=float("inf"), latency_ns=0)
    hw = replace(tiny(), dram=ideal, control=ControlConfig(step_overhead_cycles=10, descriptor_overhead_cycles=3))
    for model in (simulate, analyze):
        layer = model(hw, Workload(name="w", layers=(GEMM,))).layers[0]
        assert (layer.cycles, layer.breakdown.overhead, layer.compute_cycles) == (37, 19, 18), model.__name__
    # On the tiny 1 B/cycle DRAM the issue hides behind the 48-cycle wait for the operands: the
    # layer takes its 98 cycles (test_one_fold_by_hand) and no overhead shows.
    slow = replace(tiny(), control=ControlConfig(step_overhead_cycles=10, descriptor_overhead_cycles=3))
    layer = simulate(slow, Workload(name="w", layers=(GEMM,))).layers[0]
    assert (layer.cycles, layer.breakdown.overhead) == (98, 0)
