"""Attention's two matrix products, whose both operands are activations, end to end."""

import pytest

from accelsim import analyze, load_hardware, simulate
from accelsim.config.loader import with_overrides
from accelsim.config.workload import Gemm, NetworkInput, NonGemm, Workload
from accelsim.mapping import Operand, map_layer
from accelsim.schedule import ON_CHIP, build_schedule

S, D, HIDDEN = 128, 64, 768  # one head of BERT-base: sequence 128, head size 64


def one_head(batch: int = 1) -> Workload:
    """x -> q, k, v (one head each) -> scores = q . k^T -> softmax -> context = p . v -> out."""
    return Workload(name="head", batch=batch, inputs=(NetworkInput(name="x", shape=(S, HIDDEN)),), layers=(
        Gemm(name="q", M=S, K=HIDDEN, N=D, inputs=("x",)),
        Gemm(name="k", M=S, K=HIDDEN, N=D, inputs=("x",)),
        Gemm(name="v", M=S, K=HIDDEN, N=D, inputs=("x",)),
        Gemm(name="scores", M=S, K=D, N=S, shared_weights=False, inputs=("q", "k")),
        NonGemm(name="softmax", op="softmax", ops=S * S),
        Gemm(name="context", M=S, K=S, N=D, shared_weights=False, inputs=("softmax", "v")),
        Gemm(name="out", M=S, K=D, N=HIDDEN),
    ))


def by_name(run):
    return {layer.name: layer for layer in run.layers}


@pytest.mark.parametrize("model", [analyze, simulate])
def test_attention_moves_no_weight_bytes_when_its_operands_are_on_chip(model):
    # tpu_v1, one head: q, k, v (128 x 64 = 8,192 B each), the scores (128 x 128 = 16,384 B) and
    # the softmax all fit the 24 MiB Unified Buffer, so Q.K^T and scores.V move nothing from DRAM.
    # Their operands are read where they live, the Unified Buffer, and nothing from the Weight
    # FIFO. Q.K^T on the 256 x 256 WS array: K^T (64 x 128) is stationary, one fold, read once:
    # 8,192 B; q streams 128 vectors of 64 through it: 8,192 B; 128 x 128 scores written: 16,384 B.
    # scores.V: V (128 x 64) stationary, 8,192 B; the probabilities stream 128 x 128 = 16,384 B;
    # the context written: 128 x 64 = 8,192 B.
    run = model(load_hardware("tpu_v1"), one_head())
    layers = by_name(run)
    for name in ("scores", "context"):
        assert layers[name].dram.total == 0 and layers[name].dram.weight_read == 0
        assert layers[name].placement == (("unified_buffer", "unified_buffer"), "unified_buffer")
    sram = {name: {b: (r, w) for b, r, w in layers[name].sram.buffers} for name in ("scores", "context")}
    assert sram["scores"]["unified_buffer"] == (8_192 + 8_192, 16_384)
    assert sram["context"]["unified_buffer"] == (8_192 + 16_384, 8_192)
    assert sram["scores"]["weight_fifo"] == sram["context"]["weight_fifo"] == (0, 0)
    assert layers["scores"].compulsory.total == layers["context"].compulsory.total == 0
    assert all(layer.breakdown.total == layer.cycles for layer in run.layers)


def test_through_dram_each_operand_moves_once_as_spill():
    # activations: dram: Q.K^T reads q (8,192 B) as its input and k (8,192 B) as its right
    # operand, which WS makes the stationary one, loaded into the weight buffer once (one fold);
    # it writes the 16,384 B of scores. scores.V reads the probabilities (16,384 B) and v
    # (8,192 B) and writes 8,192 B. None of it is compulsory: these are tensors between layers.
    hw = with_overrides(load_hardware("tpu_v1"), {"activations": "dram"})
    for run in (analyze(hw, one_head()), simulate(hw, one_head())):
        layers = by_name(run)
        scores, context = layers["scores"], layers["context"]
        assert (scores.dram.input_read, scores.dram.weight_read, scores.dram.output_write) == (8_192, 8_192, 16_384)
        assert (context.dram.input_read, context.dram.weight_read, context.dram.output_write) == (16_384, 8_192,
                                                                                                   8_192)
        assert scores.compulsory.total == context.compulsory.total == 0
        assert scores.spill.total == 32_768 and context.spill.total == 32_768
    steps = build_schedule(hw, one_head()).layers[3].steps
    assert set(steps["weight_from"]) == {0}  # from DRAM


def test_batch_multiplies_the_instances_not_the_rows():
    # with shared_weights: false each sample has its own right operand: batch 3 is 3 instances of
    # the same 128 x 64 x 128 product, and 3 x the bytes
    hw = with_overrides(load_hardware("tpu_v1"), {"activations": "dram"})
    mapping = map_layer(one_head().layers[3], hw.array, 3)
    assert (mapping.gemm.M, mapping.gemm.K, mapping.gemm.N, mapping.gemm.repeats) == (S, D, S, 3)
    scores = by_name(analyze(hw, one_head(batch=3)))["scores"]
    assert scores.macs == 3 * S * S * D
    assert (scores.dram.input_read, scores.dram.weight_read, scores.dram.output_write) == (
        3 * 8_192, 3 * 8_192, 3 * 16_384)
    # on chip, every instance's operands stay in the Unified Buffer: still no DRAM bytes
    on_chip = by_name(analyze(load_hardware("tpu_v1"), one_head(batch=3)))
    assert on_chip["scores"].dram.total == on_chip["context"].dram.total == 0
    steps = build_schedule(load_hardware("tpu_v1"), one_head(batch=3)).layers[3].steps
    assert set(steps["weight_from"]) == {ON_CHIP} and steps["load_weight"].sum() == 0


@pytest.mark.parametrize("dataflow, stationary", [("ws", Operand.WEIGHT), ("is", Operand.INPUT),
                                                  ("os", Operand.OUTPUT)])
def test_each_dataflow_keeps_its_own_operand_stationary(dataflow, stationary):
    # docs/workloads.md, "Attention on the array": WS holds K^T (the right operand) in the PEs,
    # IS holds q (the left one), OS the scores; the extents follow SCALE-Sim's convention
    hw = with_overrides(load_hardware("tpu_v1"), {"array.dataflow": dataflow})
    mapping = map_layer(one_head().layers[3], hw.array, 1)
    rows, cols, time = {"ws": (D, S, S), "is": (D, S, S), "os": (S, S, D)}[dataflow]
    assert (mapping.extents.rows, mapping.extents.cols, mapping.extents.time) == (rows, cols, time)
    from accelsim.mapping import strategy_for
    assert strategy_for(hw.array.dataflow).stationary is stationary
    run = analyze(hw, one_head())
    assert by_name(run)["scores"].dram.total == 0
