import math

import pytest

from accelsim import analyze, load_hardware, load_workload
from accelsim.analytical import split_stall
from accelsim.traffic import compulsory_traffic
from accelsim.config.loader import with_overrides
from accelsim.config.workload import Conv2d, Gemm, Workload
from accelsim.stats import DramTraffic, run_metrics


def one_layer(layer, batch=1):
    return Workload(name="w", layers=(layer,), batch=batch)


def test_compulsory_bytes_each_tensor_once():
    hw = load_hardware("tpu_v1")
    conv = Conv2d(name="c", H=56, W=56, C=64, K=128, R=3, S=3, padding=(1, 1, 1, 1))
    t = compulsory_traffic(conv, hw, batch=2)
    assert t == DramTraffic(input_read=2 * 56 * 56 * 64, weight_read=128 * 64 * 9, output_write=2 * 56 * 56 * 128)


def test_fc_layer_on_tpu_is_weight_bound_by_the_roofline():
    # 2048 x 2048 int8 weights at batch 16: 4 MiB of weights at 34 GB/s / 700 MHz = 48.57 B/cycle
    # -> 86,362 cycles of weight traffic, far above the compute bound.
    hw = load_hardware("tpu_v1")
    fc = Gemm(name="fc", M=1, N=2048, K=2048)
    layer = analyze(hw, one_layer(fc, batch=16)).layers[0]
    traffic = 2048 * 2048 + 16 * 2048 + 16 * 2048
    assert layer.roofline_cycles == math.ceil(traffic / (34e9 / 700e6))
    assert layer.breakdown.dominant() == "stall_weight"
    assert layer.cycles == layer.roofline_cycles


def test_split_stall_sums_exactly():
    for excess in (0, 1, 7, 1001):
        parts = split_stall(excess, DramTraffic(input_read=3, weight_read=5, output_write=2))
        assert sum(parts) == excess
    assert split_stall(10, DramTraffic(weight_read=1)) == (0, 10, 0)


def test_breakdown_sums_to_cycles_and_identities():
    hw = load_hardware("gemmini")
    run = analyze(hw, load_workload("mobilenet_v2"))
    for layer in run.layers:
        assert layer.breakdown.total == layer.cycles
    m = run_metrics(run)
    assert m["effective_tops"] == pytest.approx(2 * run.macs / m["latency_s"] / 1e12)
    assert m["utilization"] * hw.peak_tops == pytest.approx(m["effective_tops"])
    assert m["inferences_per_s"] == pytest.approx(1 / m["latency_s"])


def test_vector_unit_or_fused():
    hw = load_hardware("tpu_v1")  # 256 elements per cycle
    run = analyze(hw, load_workload("resnet50"))
    maxpool = next(l for l in run.layers if l.name == "maxpool")
    assert maxpool.unit == "vector" and maxpool.cycles == math.ceil(56 * 56 * 64 * 9 / 256)
    fused = analyze(with_overrides(hw, {"vector": None}), load_workload("resnet50"))
    assert next(l for l in fused.layers if l.name == "maxpool").cycles == 0


def test_layer_overhead_is_added_once_per_executed_layer():
    hw = load_hardware("gemmini")
    wl = load_workload("resnet18")
    base = analyze(hw, wl).cycles
    more = analyze(with_overrides(hw, {"control.layer_overhead_cycles": 500}), wl).cycles
    executed = len(wl.gemm_layers)  # gemmini has no vector unit: pooling and adds are fused
    assert more - base == 500 * executed


def test_a_compute_bound_layer_with_a_nearly_empty_array_is_under_filled():
    from accelsim.stats import UNDERFILLED_MAPPING_EFFICIENCY, layer_metrics

    # A 1x1 conv with 16 input and 16 output channels on tpu_v1 (256 x 256, WS): 16 of 256 rows
    # and 16 of 256 columns hold work, mapping efficiency 1/256, far below a quarter; with an
    # ideal memory it is compute-bound, so it is under-filled. The same layer on a 16 x 16 array
    # fills every PE: compute.
    conv = Conv2d(name="c", H=56, W=56, C=16, K=16, R=1, S=1)
    ideal = {"dram.bandwidth_gb_per_s": math.inf, "dram.latency_ns": 0, "dma.setup_cycles": 0}
    big = with_overrides(load_hardware("tpu_v1"), ideal)
    layer = analyze(big, one_layer(conv)).layers[0]
    assert layer.mapping_efficiency == pytest.approx(1 / 256) and 1 / 256 < UNDERFILLED_MAPPING_EFFICIENCY
    assert layer_metrics(layer, big)["bound_by"] == "under-filled"
    small = with_overrides(big, {"array.rows": 16, "array.cols": 16})
    layer = analyze(small, one_layer(conv)).layers[0]
    assert layer.mapping_efficiency == 1.0 and layer_metrics(layer, small)["bound_by"] == "compute"
    # a memory-bound layer is bound by what it waits for, whatever its mapping
    fc = analyze(load_hardware("tpu_v1"), one_layer(Gemm(name="fc", M=1, N=2048, K=2048), batch=16)).layers[0]
    assert layer_metrics(fc, load_hardware("tpu_v1"))["bound_by"] == "weights"


def _moved_by_level_row_by_row(steps, column, levels):
    """The oracle: a moved column's descriptors and bytes per level as transfer_cycles first counted
    them, masking the steps level by level whatever they share."""
    import numpy as np

    from accelsim.schedule import DMA_LEVEL

    moved, where = steps[column], DMA_LEVEL[column]
    if where is None:  # always DRAM
        return int(np.count_nonzero(moved)), [int(moved.sum())] + [0] * (levels - 1)
    codes = steps[where]
    return int(np.count_nonzero(moved[codes >= 0])), [int(moved[codes == code].sum()) for code in range(levels)]


@pytest.mark.parametrize("config", ["nvdla_small", "tpu_v4i", "edge_example_2core"])
def test_transfer_cycles_counts_each_column_by_its_sums_as_step_by_step(config):
    # transfer_cycles adds up _moved_by_level per column; its shortcut (one level for all of a
    # layer's steps: plain sums) must count what masking every step does
    from accelsim.analytical import _moved_by_level, level_rates
    from accelsim.schedule import DMA_COLUMNS, build_schedule

    hw = load_hardware(config)
    levels = len(level_rates(hw))
    for name in ("resnet50", "mobilenet_v2"):
        for ls in build_schedule(hw, load_workload(name)).layers:
            for part in ls.cores or (ls,):
                for column in (c for names in DMA_COLUMNS.values() for c in names):
                    assert _moved_by_level(part, column, levels) == \
                        _moved_by_level_row_by_row(part.steps, column, levels), (config, ls.name, column)
