"""Several cores on one chip: the split strategies (accelsim.partition), hand-worked two-core
layers, and the acceptance bounds (speedup on a compute-bound design, the bandwidth roofline on
a memory-bound one, monotonicity in bandwidth)."""

from __future__ import annotations

import dataclasses

import pytest

from accelsim.analytical import analyze
from accelsim.config import load_hardware, load_workload
from accelsim.config.hardware import Hardware, Partition
from accelsim.config.loader import hardware_from_data, with_overrides
from accelsim.config.workload import Conv2d, Gemm, Workload
from accelsim.engine import simulate
from accelsim.errors import ConfigError
from accelsim.partition import STRATEGIES, candidates, conv_rows, near_equal
from tests_shared import tiny

CHANNELS, PIXELS, BATCH, HEADS = (STRATEGIES[p] for p in (Partition.CHANNELS, Partition.PIXELS, Partition.BATCH,
                                                            Partition.HEADS))


def cores(hw: Hardware, n: int, partition: str = "auto") -> Hardware:
    return dataclasses.replace(hw, cores=n, partition=Partition(partition))


def ideal(hw: Hardware) -> Hardware:
    return with_overrides(hw, {"dram.bandwidth_gb_per_s": float("inf"), "dram.latency_ns": 0})


# ------------------------------------------------------------ the strategies


def test_near_equal_shares():
    assert near_equal(10, 4) == (3, 3, 2, 2) and sum(near_equal(7, 7)) == 7


def test_channel_split_divides_filters_and_whole_groups():
    conv = Conv2d(name="c", H=8, W=8, C=16, K=10, R=3, S=3, padding=(1, 1, 1, 1))
    assert [s.layer.K for s in CHANNELS.split(conv, 1, 4)] == [3, 3, 2, 2]
    grouped = Conv2d(name="g", H=8, W=8, C=8, K=8, R=3, S=3, padding=(1, 1, 1, 1), groups=8)  # depthwise
    shares = CHANNELS.split(grouped, 1, 3)
    assert [(s.layer.C, s.layer.K, s.layer.groups) for s in shares] == [(3, 3, 3), (3, 3, 3), (2, 2, 2)]
    assert CHANNELS.split(Gemm(name="fc", M=1, N=3, K=8), 1, 4) is None  # fewer columns than cores


def test_pixel_split_adds_the_halo_and_keeps_edge_padding():
    # 3x3, stride 1, padding 1 on 8 rows: output rows [0, 4) read input rows -1..4 (row -1 is
    # padding): 5 rows with 1 row of top padding; rows [4, 8) read 3..8 (row 8 is padding).
    # Rows 3 and 4 are read by both: the halo, (R - 1) = 2 rows at the one boundary.
    conv = Conv2d(name="c", H=8, W=8, C=1, K=2, R=3, S=3, padding=(1, 1, 1, 1))
    top, bottom = (s.layer for s in PIXELS.split(conv, 1, 2))
    assert (top.H, top.padding, top.P) == (5, (1, 0, 1, 1), 4)
    assert (bottom.H, bottom.padding, bottom.P) == (5, (0, 1, 1, 1), 4)
    # stride 2, 1x1 kernel: no halo, and rows the stride skips are not read
    pw = Conv2d(name="p", H=8, W=8, C=1, K=2, R=1, S=1, stride=(2, 2))
    assert [conv_rows(pw, 0, 2).H, conv_rows(pw, 2, 4).H] == [3, 3]
    assert sum(s.layer.P for s in PIXELS.split(pw, 1, 3)) == pw.P


def test_batch_split_needs_a_sample_per_core():
    g = Gemm(name="g", M=4, N=4, K=4)
    assert BATCH.split(g, 3, 4) is None
    assert [s.batch for s in BATCH.split(g, 5, 2)] == [3, 2]


def test_head_split_gives_each_core_whole_heads():
    scores_v = Gemm(name="context", M=1, K=1024, N=64, count=12)  # GPT-2 decode: scores x V per head
    assert [s.layer.count for s in HEADS.split(scores_v, 1, 4)] == [3, 3, 3, 3]
    assert [s.layer.count for s in HEADS.split(scores_v, 1, 8)] == [2, 2, 2, 2, 1, 1, 1, 1]
    assert HEADS.split(scores_v, 1, 16) is None and HEADS.split(Gemm(name="fc", M=1, N=8, K=8), 1, 2) is None
    # On four 128 x 128 WS cores, splitting a head's 64 columns leaves 16 per core: each core
    # shifts in 12 heads x 8 K-folds = 96 weight tiles of 128 rows; whole heads are 3 x 8 = 24 tiles
    # of 64 columns, so auto takes heads (4x fewer folds).
    hw = cores(load_hardware("tpu_v4i"), 4)
    wl = Workload(name="w", layers=(scores_v,))
    layer = analyze(hw, wl).layers[0]
    assert layer.partition == "heads"
    from accelsim.schedule import build_schedule

    split = build_schedule(hw, wl).layers[0]
    assert [part.total("folds") for part in split.cores] == [24] * 4
    by_columns = build_schedule(cores(hw, 4, "channels"), wl).layers[0]
    assert [part.total("folds") for part in by_columns.cores] == [96] * 4


def test_candidates_fixed_auto_and_fallback():
    g = Gemm(name="fc", M=1, N=8, K=8)
    assert [name for name, _ in candidates(g, 2, 2, Partition.AUTO)] == ["channels", "batch"]
    assert [name for name, _ in candidates(g, 2, 2, Partition.BATCH)] == ["batch"]
    # a fixed split that is not legal for the layer falls back to the legal ones
    assert [name for name, _ in candidates(g, 1, 2, Partition.PIXELS)] == ["channels"]
    # none legal: the whole layer on core 0
    assert [name for name, _ in candidates(Gemm(name="t", M=1, N=1, K=8), 1, 2, Partition.AUTO)] == ["single"]


# ------------------------------------------------------------ config


def test_cores_field_is_bounded_and_one_line_errors():
    data = {"name": "x", "clock_mhz": 100, "array": {"rows": 4, "cols": 4, "dataflow": "ws"},
            "sram": {"input": {"size_kib": 1}, "weight": {"size_kib": 1}, "output": {"size_kib": 1}},
            "dram": {"bandwidth_gb_per_s": 1, "latency_ns": 0}}
    assert hardware_from_data(data, "x.yaml").cores == 1
    assert hardware_from_data(data, "x.yaml").partition is Partition.AUTO
    with pytest.raises(ConfigError, match=r"x\.yaml: cores: .*65"):
        hardware_from_data({**data, "cores": 65}, "x.yaml")
    with pytest.raises(ConfigError, match=r"x\.yaml: partition: .*'rows'"):
        hardware_from_data({**data, "partition": "rows"}, "x.yaml")
    assert with_overrides(hardware_from_data(data, "x.yaml"), {"cores": 4, "partition": "pixels"}).cores == 4


def test_shipped_multicore_configs():
    v4i = load_hardware("tpu_v4i")
    assert (v4i.cores, v4i.array.rows, v4i.array.cols, v4i.clock_mhz) == (4, 128, 128, 1050)
    assert round(v4i.peak_tops) == 138  # the paper's peak
    assert v4i.memory.global_buffer.size_kib == 128 * 1024 and v4i.dram.bandwidth_gb_per_s == 614
    two = load_hardware("edge_example_2core")
    one = load_hardware("edge_example")
    assert two.cores == 2 and two.array == one.array and two.on_chip_buffers == one.on_chip_buffers


# ------------------------------------------------------------ hand-worked


TWO = Gemm(name="g", M=8, N=8, K=4)  # inputs 8x4 = 32 B, weights 4x8 = 32 B, outputs 8x8 = 64 B


def test_two_core_channel_split_by_hand():
    # tiny(): 4x4 WS at 1 GHz, one DRAM channel at 1 B/cycle, first come first served, no latency.
    # Channel split: each core computes N = 4 columns: Gemm(M=8, N=4, K=4), one fold, T = M = 8,
    # compute = T + 2R + C - 2 = 8 + 8 + 4 - 2 = 18 cycles. Traffic: each core reads the whole
    # input (32 B, replicated: 64 B in all), its half of the weights (16 B each: 32 B) and
    # writes its 32 B of outputs (64 B): 160 B, where one core moves 32 + 32 + 64 = 128 B.
    # Timeline on the shared channel: the weights are prefetched first, core 0's [0, 16) and core
    # 1's [16, 32); the inputs follow once the layer has started, core 0's [32, 64), core 1's
    # [64, 96). Core 0 computes [64, 82); its store waits for the channel: [96, 128). Core 1
    # computes [96, 114); its store [128, 160). The layer ends at 160 (= 160 B at 1 B/cycle);
    # core 0 waits 160 - 128 = 32 cycles for core 1: its load imbalance.
    #   core 0: stall_input 64 + compute 18 + stall_output 128 - 82 = 46 + imbalance 32 = 160
    #   core 1: stall_input 96 + compute 18 + stall_output 160 - 114 = 46 + imbalance 0 = 160
    hw = cores(tiny(), 2, "channels")
    layer = simulate(hw, Workload(name="w", layers=(TWO,))).layers[0]
    assert layer.partition == "channels" and layer.cycles == 160
    assert (layer.dram.input_read, layer.dram.weight_read, layer.dram.output_write) == (64, 32, 64)
    assert layer.compulsory.input_read == 32 and layer.compulsory.weight_read == 32
    c0, c1 = (c.breakdown for c in layer.cores)
    assert (c0.stall_input, c0.array_busy, c0.stall_output, c0.load_imbalance) == (64, 18, 46, 32)
    assert (c1.stall_input, c1.array_busy, c1.stall_output, c1.load_imbalance) == (96, 18, 46, 0)
    # the layer's breakdown is the cores' mean: (64 + 96) / 2 = 80 waiting for inputs, 16 imbalance
    b = layer.breakdown
    assert (b.stall_input, b.array_busy, b.stall_output, b.load_imbalance, b.total) == (80, 18, 46, 16, 160)
    # the closed form: each core's 80 B would take 80 cycles, but the shared channel moves all
    # 160 B in 160: both cores 160, no imbalance
    assert analyze(hw, Workload(name="w", layers=(TWO,))).layers[0].cycles == 160
    # ideal memory: the cores' compute, 18 cycles, where one core takes 2 folds:
    # (F - 1) x max(T, R) + T + 2R + C - 2 = 8 + 8 + 8 + 4 - 2 = 26
    assert simulate(ideal(hw), Workload(name="w", layers=(TWO,))).layers[0].cycles == 18
    assert simulate(ideal(tiny()), Workload(name="w", layers=(TWO,))).layers[0].cycles == 26


def test_two_core_pixel_split_by_hand():
    # Pixel split: each core computes M = 4 rows: Gemm(M=4, N=8, K=4): two folds of T = 4 on the
    # 4x4 array: (F - 1) x max(T, R) + T + 2R + C - 2 = 4 + 4 + 8 + 4 - 2 = 18 cycles. Each core
    # reads its 16 B of inputs (32 B in all), all the weights (32 B each, replicated: 64 B) and
    # writes 32 B of outputs (64 B).
    hw = cores(ideal(tiny()), 2, "pixels")
    layer = simulate(hw, Workload(name="w", layers=(TWO,))).layers[0]
    assert layer.partition == "pixels" and layer.cycles == 18
    assert (layer.dram.input_read, layer.dram.weight_read, layer.dram.output_write) == (32, 64, 64)


def test_pixel_split_counts_the_halo_as_traffic():
    # 8x8x1 input, two 3x3 filters, padding 1: each core reads 5 of the 8 rows (above): 2 x 5 x 8
    # = 80 B of input where one core reads 64 B (the 16 B halo: rows 3 and 4 twice); the 18 B of
    # weights go to both cores (36 B).
    # On a 16x16 WS array the 9-long window and the 2 filters fit one fold, so each core reads
    # its input band once.
    conv = Conv2d(name="c", H=8, W=8, C=1, K=2, R=3, S=3, padding=(1, 1, 1, 1))
    wide = ideal(tiny())
    wide = dataclasses.replace(wide, array=dataclasses.replace(wide.array, rows=16, cols=16))
    layer = simulate(cores(wide, 2, "pixels"), Workload(name="w", layers=(conv,))).layers[0]
    assert (layer.dram.input_read, layer.dram.weight_read) == (80, 36)
    one = simulate(wide, Workload(name="w", layers=(conv,))).layers[0]
    assert (one.dram.input_read, one.dram.weight_read) == (64, 18)


# ------------------------------------------------------------ acceptance


def test_four_cores_on_a_compute_bound_design():
    # ideal memory: only the arrays bound the time, so 4 cores are at most 4x faster; the splits
    # are near-equal, so at least 3x
    hw = ideal(load_hardware("tpu_v4i"))
    wl = load_workload("resnet50", batch=8)
    one, four = simulate(cores(hw, 1), wl), simulate(hw, wl)
    assert 3.0 <= one.cycles / four.cycles <= 4.0
    # with ideal memory the engine takes exactly the closed form's cycles, on every layer
    assert [layer.cycles for layer in four.layers] == [layer.cycles for layer in analyze(hw, wl).layers]


def test_speedup_on_a_memory_bound_design_is_bounded_by_the_bandwidth_roofline():
    hw = with_overrides(load_hardware("edge_example_2core"), {"dram.bandwidth_gb_per_s": 2})
    wl = load_workload("mobilenet_v2")
    rate = hw.achievable_dram_bytes_per_cycle
    one, two = simulate(cores(hw, 1), wl), simulate(hw, wl)
    # the run takes at least its DRAM bytes at the shared rate (a layer's weights may move during
    # the previous layer's tail, so the bound holds for the run, not each layer) and at least its
    # layers' busiest-core compute: the speedup is at most one core's cycles over that roofline
    roofline = max(two.dram.total / rate, sum(layer.compute_cycles for layer in two.layers))
    assert two.cycles >= roofline
    assert one.cycles / two.cycles <= one.cycles / roofline
    # here the DRAM is the bottleneck: the second core buys far less than 2x
    assert one.cycles / two.cycles < 1.5


@pytest.mark.parametrize("name, workload", [("edge_example_2core", "resnet18"), ("tpu_v4i", "mobilenet_v2")])
def test_breakdown_sums_on_every_core_and_halving_bandwidth_never_helps(name, workload):
    hw = load_hardware(name)
    wl = load_workload(workload)
    run = simulate(hw, wl)
    for layer in run.layers:
        assert len(layer.cores) == hw.cores and layer.partition
        assert layer.breakdown.total == layer.cycles
        assert all(c.breakdown.total == layer.cycles for c in layer.cores)
        assert sum(c.macs for c in layer.cores) == layer.macs
    half = with_overrides(hw, {"dram.bandwidth_gb_per_s": hw.dram.bandwidth_gb_per_s / 2})
    assert simulate(half, wl).cycles >= run.cycles
    assert analyze(half, wl).cycles >= analyze(hw, wl).cycles


def test_one_core_is_the_single_core_model():
    hw = load_hardware("edge_example")
    wl = load_workload("resnet18")
    run = simulate(hw, wl)
    assert all(layer.partition == "" and layer.cores == () for layer in run.layers)
    assert run.breakdown.load_imbalance == 0


def test_same_inputs_same_outputs():
    hw, wl = load_hardware("edge_example_2core"), load_workload("resnet18")
    assert simulate(hw, wl) == simulate(hw, wl)


@pytest.mark.parametrize("name, workload, dram_gb_per_s", [("edge_example_2core", "resnet18", None),
                                                           ("edge_example_2core", "mobilenet_v2", 2),
                                                           ("tpu_v4i", "bert_base_layer", None)])
def test_each_split_is_costed_as_the_merged_layer_breaks_down(name, workload, dram_gb_per_s):
    # the chooser costs a candidate from its cores' parts (split_cycles) without merging them:
    # it must be the total split_breakdowns gives the merged layer, where the shared levels bound
    # the split (2 GB/s) and where a core does, and the split kept is the first cheapest
    from accelsim.analytical import analytical_breakdown, split_breakdowns, split_cycles
    from accelsim.config.workload import NonGemm
    from accelsim.schedule import (TilingCache, _gemm_layer, _idle, build_schedule, layer_traffic_classes,
                                   merge_cores, on_depthwise_engine, transfer_levels)
    hw = load_hardware(name)
    if dram_gb_per_s is not None:
        hw = with_overrides(hw, {"dram.bandwidth_gb_per_s": dram_gb_per_s})
    wl = load_workload(workload)
    schedule, tilings, levels = build_schedule(hw, wl), TilingCache(), transfer_levels(hw)
    bound_by = {"shared levels": 0, "a core": 0}
    for index, layer in enumerate(wl.layers):
        if isinstance(layer, NonGemm) or on_depthwise_engine(layer, hw):
            continue
        plan = schedule.residency.layers[index]
        compulsory, spill = layer_traffic_classes(index, layer, hw, wl, plan)
        costs = {}
        for split, shares in candidates(layer, wl.batch, hw.cores, hw.partition):
            parts = [_gemm_layer(index, s.layer, hw, dataclasses.replace(wl, batch=s.batch), plan, levels, tilings)
                     for s in shares]
            parts += [_idle(parts[0])] * (hw.cores - len(parts))
            own = tuple(analytical_breakdown(p, hw).total for p in parts)
            cycles = split_cycles(tuple(parts), own, "array", hw)
            merged = merge_cores(layer, tuple(parts), compulsory, spill, plan, split, "array")
            assert cycles == split_breakdowns(merged, hw)[0].total, (layer.name, split)
            bound_by["shared levels" if cycles > max(own) else "a core"] += 1
            costs[split] = cycles
        assert schedule.layers[index].partition == min(costs, key=costs.get)  # dicts keep the candidates' order
    assert all(bound_by.values()), bound_by  # both cases are exercised
