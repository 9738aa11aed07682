"""The residency planner: what stays on chip, what spills, and what the engine does with it."""

import math

import pytest

from accelsim import analyze, load_hardware, load_workload, simulate
from accelsim.config.loader import with_overrides
from accelsim.config.workload import Concat, Gemm, NetworkInput, NonGemm, Workload
from accelsim.reports.records import run_record
from accelsim.residency import plan_residency
from tests_shared import tiny


def residual(batch: int = 1) -> Workload:
    """a -> b -> c -> add(c, a): a is the residual branch, live from a until the add.

    Every tensor is 64 x 16 one-byte elements = 1,024 B per sample.
    """
    return Workload(name="res", batch=batch, inputs=(NetworkInput(name="x", shape=(64, 16)),), layers=(
        Gemm(name="a", M=64, K=16, N=16, inputs=("x",)),
        Gemm(name="b", M=64, K=16, N=16),
        Gemm(name="c", M=64, K=16, N=16),
        NonGemm(name="add", op="add", ops=1024, inputs=("c", "a")),
    ))


def test_exactly_one_named_tensor_spills_with_the_bytes_worked_by_hand():
    # Input buffer: 2.5 KiB = 2,560 B, single-buffered (a layer's room is then its operands'
    # footprints, once). Tensors are placed in production order:
    # - a (life a..add): at a the room for a's input, which comes from DRAM: the whole network
    #   input, 1,024 B; 1,024 + 1,024 <= 2,560. Later layers' inputs are undecided, assumed on
    #   chip (no room). a stays.
    # - b (life b..c): at b and c, a + b = 2,048 <= 2,560. b stays.
    # - c (life c..add): at c, a + b + c = 3,072 > 2,560: c goes to DRAM.
    # Then the add reads c from DRAM and needs room for it (1,024 B, at most half the buffer):
    # a + 1,024 = 2,048 <= 2,560, so nothing else moves.
    # c's spilled bytes: written once by c, read once by the add: 2 x 1,024 = 2,048.
    hw = tiny(activations="on_chip", input_kib=2.5, input_double_buffered=False, vector=16)
    plan = plan_residency(hw, residual())
    levels = {p.name: p.level for p in plan.tensors}
    assert levels == {"x": "dram", "a": "input", "b": "input", "c": "dram", "add": "dram"}
    c = plan.placement("c")
    assert c.spilled_bytes == 2048 and c.reason == "no room in input at c"
    assert [p.spilled_bytes for p in plan.tensors if p.name != "c"] == [0, 0, 0, 0]
    assert plan.placement("add").reason == "network output" and plan.placement("x").reason == "network input"
    # the same in a run: only c's write and the add's read of c are spill; the breakdown sums
    run = simulate(hw, residual())
    spill = {layer.name: layer.spill.total for layer in run.layers}
    assert spill == {"a": 0, "b": 0, "c": 1024, "add": 1024}
    assert run.spill.total == 2048
    assert all(layer.breakdown.total == layer.cycles for layer in run.layers)
    # compulsory: the network input once (1,024 B), every weight once (3 x 16 x 16), the output once
    assert run.compulsory.total == 1024 + 3 * 256 + 1024


def test_a_residual_input_stays_live_until_its_add():
    hw = tiny(activations="on_chip", input_kib=2.5, input_double_buffered=False, vector=16)
    plan = plan_residency(hw, residual())
    # a (1,024 B) is resident at every layer from a to the add; b only at b and c
    assert [dict(p.resident_bytes)["input"] for p in plan.layers] == [1024, 2048, 2048, 1024]
    assert [p.claims for p in plan.layers] == [(("input", 1024),), (("input", 1024),), (), ()]
    assert [p.releases for p in plan.layers] == [(), (), (("input", 1024),), (("input", 1024),)]


def test_activations_dram_sends_every_tensor_through_dram():
    hw = tiny(activations="dram", vector=16)
    plan = plan_residency(hw, residual())
    assert {p.level for p in plan.tensors} == {"dram"}
    assert plan.placement("b").reason == "activations: dram"
    # b: written once, read once by c -> 2 x 1,024. a: written once, read by b -> 2 x 1,024; the
    # add, as in the first version that activations: dram keeps, moves nothing (vector work)
    assert plan.placement("b").spilled_bytes == 2048 and plan.placement("a").spilled_bytes == 2048
    assert [len(p.moves) for p in plan.layers] == [2, 2, 2, 0]


def test_a_concat_is_free_its_inputs_are_slices_of_its_output():
    # Two 8x8x4 branches joined into 8x8x8, then a 1x1 conv reads the concat.
    from accelsim.config.workload import Conv2d

    wl = Workload(name="cat", inputs=(NetworkInput(name="x", shape=(8, 8, 4)),), layers=(
        Conv2d(name="left", H=8, W=8, C=4, K=4, R=1, S=1, inputs=("x",)),
        Conv2d(name="right", H=8, W=8, C=4, K=4, R=1, S=1, inputs=("x",)),
        Concat(name="cat", inputs=("left", "right")),
        Conv2d(name="mix", H=8, W=8, C=8, K=8, R=1, S=1),
    ))
    hw = tiny(activations="on_chip", input_kib=4, vector=16)
    plan = plan_residency(hw, wl)
    # one storage of 8 x 8 x 8 = 512 B, from the first branch to the conv that reads the concat
    assert [plan.placement(n).level for n in ("left", "right", "cat")] == ["input"] * 3
    assert [p.claims for p in plan.layers] == [(("input", 512),), (), (), ()]
    assert [p.releases for p in plan.layers] == [(), (), (), (("input", 512),)]
    run = simulate(hw, wl)
    cat = run.layers[2]
    assert cat.dram.total == 0 and cat.cycles == 0  # nothing to copy
    assert run.layers[3].dram.input_read == 0       # the conv reads the joined tensor in place


def test_the_plan_is_deterministic():
    hw = load_hardware("edge_example")
    wl = load_workload("resnet50")
    assert plan_residency(hw, wl) == plan_residency(hw, wl)


def test_resnet50_batch8_on_tpu_v1_moves_only_weights_the_input_and_the_output():
    # TPU v1's 24 MiB Unified Buffer holds every live set of ResNet-50 at batch 8 (the largest:
    # three 56 x 56 x 256 x 8 = 6.4 MB tensors at a residual add, 19.3 MB).
    hw = load_hardware("tpu_v1")
    wl = load_workload("resnet50", batch=8)
    run = simulate(hw, wl)
    network_in = 224 * 224 * 3 * 8
    network_out = 1000 * 8
    activations = run.dram.input_read + run.dram.output_write + run.dram.psum_read + run.dram.psum_write
    assert activations <= 1.01 * (network_in + network_out)
    assert run.spill.total == 0
    b = run.breakdown
    assert (b.stall_input + b.stall_output) / run.cycles < 0.10
    assert run.compulsory.read == network_in + sum(layer.weight_elements(8) for layer in wl.gemm_layers)


def test_a_small_buffer_spills_and_the_spills_are_counted():
    # edge_example's 192 KiB activation buffer is smaller than ResNet-50's live sets in res2
    hw = load_hardware("edge_example")
    wl = load_workload("resnet50")
    run = simulate(hw, wl)
    assert run.spill.total > 0
    spilled = [p for p in run.residency.tensors if p.level == "dram" and p.producer is not None
               and p.reason != "network output"]
    assert spilled and sum(p.spilled_bytes for p in spilled) == run.spill.total
    for layer in run.layers:
        assert layer.breakdown.total == layer.cycles
        assert layer.dram.total >= layer.compulsory.total + layer.spill.total
    assert run.cycles >= analyze(hw, wl).cycles * 0.5


def test_json_lists_every_tensor_and_the_spill_per_layer():
    record = run_record(simulate(load_hardware("edge_example"), load_workload("resnet18")))
    tensors = record["tensors"]
    assert tensors[0] == {"name": "input", "bytes": 224 * 224 * 3, "producer": None, "consumers": ["conv1"],
                          "placement": "dram", "spilled_bytes": 0, "reason": "network input", "state": False}
    assert {t["placement"] for t in tensors} == {"dram", "activation_buffer"}
    assert sum(layer["spilled_dram_bytes"] for layer in record["layers"]) == record["total"]["spilled_dram_bytes"]
    assert record["total"]["spilled_dram_bytes"] == sum(t["spilled_bytes"] for t in tensors)


@pytest.mark.parametrize("config", ["tpu_v1", "gemmini", "nvdla_small", "eyeriss_like"])
def test_keeping_tensors_on_chip_never_costs_the_array_layers_dram_bytes(config):
    # The room the planner leaves each layer lets its tiles bring every operand in once, so an
    # array layer never moves more than with every tensor in DRAM (vector layers are compared
    # out: with activations: dram they move nothing, as in the first version).
    hw = load_hardware(config)
    for name in ("resnet18", "mobilenet_v2", "googlenet"):
        wl = load_workload(name)
        on_chip = analyze(hw, wl)
        through = analyze(with_overrides(hw, {"activations": "dram"}), wl)
        for mine, theirs in zip(on_chip.layers, through.layers):
            if mine.unit == "array":
                assert mine.dram.total <= theirs.dram.total, (name, mine.name)
        assert math.isclose(on_chip.compulsory.total, through.compulsory.total)


def test_a_tensor_that_does_not_fit_the_core_lives_in_the_global_buffer():
    # a -> b -> c, each 64 x 16 B = 1,024 B. The per-core input buffer (1 KiB, double-buffered)
    # cannot hold a 1,024 B tensor beside the room of the layers that read the network input,
    # but a 4 KiB global buffer can: a and b live there. c is the network output (DRAM).
    # So DRAM moves the input, the output and the weights only, and the global buffer gets a
    # and b written once and read once each: 4 x 1,024 B. (A fold's partial sums, 64 x 4 x 4 B,
    # exceed the accumulators' 512 B slot, so the stream is cut into two blocks of 32; each
    # layer's 16 x 16 weights, 256 B, fit the 1 KiB weight buffer whole, so they stay across
    # both blocks and are read once.)
    from accelsim.config.memory import GlobalBufferConfig
    from dataclasses import replace

    hw = replace(tiny(activations="on_chip", vector=16),
                 global_buffer=GlobalBufferConfig(size_kib=4, bandwidth_bytes_per_cycle=8))
    wl = Workload(name="chain", inputs=(NetworkInput(name="x", shape=(64, 16)),), layers=(
        Gemm(name="a", M=64, K=16, N=16, inputs=("x",)),
        Gemm(name="b", M=64, K=16, N=16),
        Gemm(name="c", M=64, K=16, N=16),
    ))
    plan = plan_residency(hw, wl)
    assert [plan.placement(n).level for n in ("x", "a", "b", "c")] == ["dram", "global_buffer", "global_buffer",
                                                                       "dram"]
    for run in (simulate(hw, wl), analyze(hw, wl)):
        assert run.compulsory.total == 1024 + 3 * 256 + 1024
        assert (run.dram.input_read, run.dram.output_write, run.dram.weight_read) == (1024, 1024, 3 * 256)
        assert run.global_buffer.total == 4 * 1024 and run.spill.total == 0
        assert all(layer.breakdown.total == layer.cycles for layer in run.layers)
    assert simulate(hw, wl).layers[1].placement == (("global_buffer",), "global_buffer")
