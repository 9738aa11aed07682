"""The engine against the bounds and the analytical model, on the shipped configs and workloads."""

import math

import pytest

from accelsim import analyze, load_hardware, load_workload
from accelsim.config import catalog
from accelsim.config.hardware import Dataflow
from accelsim.config.loader import with_overrides
from accelsim.config.workload import Gemm, Workload
from accelsim.engine import simulate
from accelsim.reports.files import to_json
from conftest import DATA

WORKLOADS = [name for name, path in catalog.shipped("workloads").items()]
# The transformers at small sizes of their dims, so that the loops over every workload stay quick
# (tests/test_transformer_runs.py runs them at full size where the size is the point).
SMALL = {"bert_base": {"seq": 32}, "vit_b16": {"image": 64}, "gpt2_prefill": {"seq": 64},
         "gpt2_decode": {"context": 128}}


def shipped(name: str):
    return load_workload(name, dims=SMALL.get(name))
CONFIGS = list(catalog.shipped("hwconfigs"))
IDEAL = {"dram.bandwidth_gb_per_s": math.inf, "dram.latency_ns": 0, "dma.setup_cycles": 0,
         "control.layer_overhead_cycles": 0}


@pytest.mark.parametrize("config", ["tpu_v1", "gemmini", "scalesim_32x32"])
@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_ideal_memory_gives_exactly_the_compute_cycles(config, dataflow):
    hw = with_overrides(load_hardware(config), {**IDEAL, "array.dataflow": dataflow.value})
    for name in WORKLOADS:
        run = simulate(hw, shipped(name))
        for layer in run.layers:
            assert layer.cycles == layer.compute_cycles, (name, layer.name)
        assert run.cycles == analyze(hw, shipped(name)).cycles


def test_a_buffer_shared_by_inputs_and_weights_runs_every_workload(write):
    # Gemmini as the chip has it: inputs and weights compete for one scratchpad; claims on it are
    # granted in schedule order, so neither the next layer's prefetch nor the other operand can
    # take bytes an earlier step needs (a deadlock would raise SimulationError).
    from tests_shared import SHARED_SCRATCHPAD
    hw = load_hardware(write("shared.yaml", SHARED_SCRATCHPAD))
    ideal = with_overrides(hw, IDEAL)
    for name in WORKLOADS:
        run = simulate(hw, shipped(name))
        assert all(layer.breakdown.total == layer.cycles >= layer.compute_cycles for layer in run.layers)
        assert all(layer.cycles == layer.compute_cycles for layer in simulate(ideal, shipped(name)).layers)


@pytest.mark.parametrize("config", CONFIGS)
def test_every_workload_breakdown_sums_and_bounds_hold(config):
    hw = load_hardware(config)
    peak = hw.dram_bytes_per_cycle
    for name in WORKLOADS:
        run = simulate(hw, shipped(name))
        for layer in run.layers:
            assert layer.breakdown.total == layer.cycles
            assert layer.cycles >= layer.compute_cycles
            assert layer.dram.read >= layer.compulsory.read
            assert layer.dram.write >= layer.compulsory.write
        assert run.cycles >= math.ceil(run.dram.total / peak)


def test_traffic_bound_holds_per_layer_without_cross_layer_prefetch():
    hw = with_overrides(load_hardware("gemmini"), {"dma.prefetch_next_layer": False})
    run = simulate(hw, load_workload("resnet18"))
    for layer in run.layers:
        assert layer.cycles >= math.ceil(layer.dram.total / hw.dram_bytes_per_cycle)


@pytest.mark.parametrize("config, workload", [("gemmini", "resnet18"), ("edge_example", "mobilenet_v2"),
                                               ("nvdla_large", "alexnet"), ("tpu_v1", "bert_base_layer")])
def test_halving_bandwidth_never_lowers_cycles(config, workload):
    hw = load_hardware(config)
    wl = load_workload(workload)
    previous = None
    for scale in (4, 2, 1, 0.5, 0.25):
        cycles = simulate(with_overrides(hw, {"dram.bandwidth_gb_per_s": hw.dram.bandwidth_gb_per_s * scale}), wl).cycles
        if previous is not None:
            assert cycles >= previous
        previous = cycles


def test_latency_beyond_what_outstanding_requests_hide_raises_cycles():
    # 16 requests of 64 B in flight. The first version's gemmini file (a 128 / 128 / 64 KiB split
    # of its memories), with activations through DRAM as then, keeps the layers memory-bound.
    hw = with_overrides(load_hardware(DATA / "first_version" / "hwconfigs" / "gemmini.yaml"), {"activations": "dram"})
    wl = load_workload("resnet18")
    hidden = simulate(with_overrides(hw, {"dram.latency_ns": 10}), wl).cycles
    # 1024 B in flight over 1,280 cycles is 0.8 B/cycle, a twentieth of the 16 B/cycle peak (the
    # tiler moves little more than each layer's own tensors, 15.9 MB: 20 M cycles at that rate)
    exposed = simulate(with_overrides(hw, {"dram.latency_ns": 1280}), wl).cycles
    assert exposed > 2 * hidden


def test_fully_connected_layer_is_weight_bound_and_scales_with_batch():
    hw = load_hardware("tpu_v1")
    fc = Gemm(name="fc", M=1, N=2048, K=2048)  # 4 MiB of int8 weights
    utilization, layers = {}, {}
    for batch in (16, 32, 64, 128, 2048, 4096):
        layer = layers[batch] = simulate(hw, Workload(name="fc", layers=(fc,), batch=batch)).layers[0]
        utilization[batch] = layer.macs / (hw.peak_macs_per_cycle * layer.cycles)
    # batch 16: 4 MiB of weights at 48.6 B/cycle is ~86k cycles against ~2k of compute
    assert layers[16].breakdown.dominant() == "stall_weight"
    assert layers[16].breakdown.stall_weight > 0.5 * layers[16].cycles
    # memory-bound: utilization rises in proportion to batch (within 20%) ...
    for small, big in ((16, 32), (32, 64), (64, 128)):
        assert utilization[big] / utilization[small] == pytest.approx(big / small, rel=0.2)
    # ... until it saturates: at large batch the array computes most of the time. (Activations go
    # through DRAM in accelsim, so it saturates before the TPU paper's ridge of ~1350.)
    assert layers[4096].breakdown.dominant() == "computing"
    assert utilization[4096] / utilization[2048] < 1.1


def test_same_inputs_same_json_bytes():
    hw, wl = load_hardware("edge_example"), load_workload("resnet18")
    assert to_json(simulate(hw, wl)) == to_json(simulate(hw, wl))


def test_engine_is_near_the_analytical_model_when_memory_is_fast():
    hw = with_overrides(load_hardware("gemmini"), {"dram.bandwidth_gb_per_s": 1e4})
    wl = load_workload("resnet50")
    assert simulate(hw, wl).cycles == pytest.approx(analyze(hw, wl).cycles, rel=0.05)


def test_four_times_the_bandwidth_speeds_a_weight_bound_fc_stack_up_by_more_than_two():
    # Four 4096 x 4096 layers at batch 8 on tpu_v1: 16 MiB of weights each, 8 x 4096 inputs.
    # tpu_v1 reaches its 34 GB/s, and its 128 requests of 64 B over 100 ns (70 cycles) let the
    # DRAM go up to 128 x 64 / 70 = 117 B/cycle = 82 GB/s: 4 x 34 = 136 GB/s is capped there, so
    # the weight-bound stack speeds up by about 82 / 34 = 2.4 (more than 2, less than 4).
    hw = load_hardware("tpu_v1")
    wl = Workload(name="fc", batch=8, layers=tuple(Gemm(name=f"fc{i}", M=1, K=4096, N=4096) for i in range(4)))
    faster = with_overrides(hw, {"dram.bandwidth_gb_per_s": 4 * 34})
    assert faster.achievable_dram_bytes_per_cycle == pytest.approx(128 * 64 / 70)
    speedup = simulate(hw, wl).cycles / simulate(faster, wl).cycles
    assert 2 < speedup < (128 * 64 / 70) / (34e9 / 700e6) * 1.01


@pytest.mark.parametrize("config", ["tpu_v1", "edge_example_2core"])
def test_progress_is_told_of_every_layer_scheduled_then_simulated_and_changes_nothing(config):
    from accelsim.models import analyze as analyze_checked, simulate as simulate_checked

    hw, workload = load_hardware(config), load_workload("resnet18")
    told = []
    run = simulate_checked(hw, workload, progress=lambda *call: told.append(call))
    n = len(workload.layers)
    assert told == [("schedule", i, n) for i in range(1, n + 1)] + [("simulate", i, n) for i in range(1, n + 1)]
    assert to_json(run) == to_json(simulate(hw, workload))
    told.clear()
    assert to_json(analyze_checked(hw, workload, progress=lambda *call: told.append(call))) == \
        to_json(analyze(hw, workload))
    assert told == [("schedule", i, n) for i in range(1, n + 1)]


@pytest.mark.parametrize("config", ["eyeriss_like", "tpu_v4i", "edge_example_2core"])  # one core, 4 and 2 cores
def test_layer_cycles_through_a_layer_are_the_whole_simulations(config):
    """Stopping once a layer has ended on every core gives the cycles the whole run gives for it
    and every layer before (the reference: the whole simulation of the same schedule), on one core
    and on several (where a layer ends at its last core: its load imbalance is counted)."""
    from dataclasses import replace

    from accelsim.engine.simulator import layer_cycles, simulate_schedule
    from accelsim.schedule import build_schedule

    schedule = build_schedule(load_hardware(config), replace(load_workload("alexnet"), batch=2))
    whole = [layer.cycles for layer in simulate_schedule(schedule).layers]
    assert len(set(whole)) > 3
    for through in range(len(whole)):
        assert layer_cycles(schedule, through) == whole[:through + 1], through
    with pytest.raises(ValueError, match="through"):
        layer_cycles(schedule, len(whole))
