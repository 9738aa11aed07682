"""Transformers on tpu_v1 and tpu_v4i: decode is memory-bound, prefill compute-bound, the metrics
they report."""

import math

import pytest

from accelsim import analyze, load_hardware, load_workload, simulate
from accelsim.config.loader import with_overrides
from accelsim.reports.records import run_record
from accelsim.stats import run_metrics

# GPT-2 small at 1 B per element (the hand-worked sums of workloads/gpt2_decode.yaml):
WEIGHT_BYTES = 12 * (4 * 768 * 768 + 2 * 768 * 3072) + 768 * 50257  # 84,934,656 + 38,597,376
KV_BYTES = 2 * 12 * 1024 * 768                                       # per sequence, context 1,024


def test_the_hand_worked_bytes():
    assert WEIGHT_BYTES == 123_532_032 and KV_BYTES == 18_874_368


@pytest.mark.parametrize("batch, model", [(1, simulate), (2, analyze), (8, simulate)])
def test_decode_is_memory_bound(batch, model):
    # A decode step streams every weight and the whole KV cache once: at tpu_v1's achievable
    # 48.6 B/cycle (34 GB/s at 700 MHz) it takes (weights + batch x KV) / rate cycles, whatever
    # the array does. At batch 1 the 24 caches (18.9 MB) fit the 24 MiB Unified Buffer and are
    # read on chip: the DRAM then moves the weights only, and the WS array spends about as long
    # preloading K^T and V tiles for one query each as the DRAM would have taken to bring them.
    hw = load_hardware("tpu_v1")
    run = model(hw, load_workload("gpt2_decode", batch=batch))
    bound = (WEIGHT_BYTES + batch * KV_BYTES) / hw.achievable_dram_bytes_per_cycle
    assert abs(run.cycles - bound) / run.cycles < 0.10
    assert run.breakdown.total == run.cycles
    on_chip = [p for p in run.residency.tensors if p.state and p.level != "dram"]
    if batch == 1:
        assert len(on_chip) == 24 and run.dram.weight_read == WEIGHT_BYTES
    # a cache in DRAM is read once per step (compulsory), one on chip moves nothing
    in_dram = [p for p in run.residency.tensors if p.state and p.level == "dram"]
    assert run.compulsory.read >= WEIGHT_BYTES + sum(p.bytes for p in in_dram)
    metrics = run_metrics(run)
    assert metrics["tokens_per_s"] == pytest.approx(batch / metrics["latency_s"])
    assert metrics["time_to_first_token_s"] is None


def test_decode_on_tpu_v4i_is_memory_bound():
    # TPU v4i: bf16 (2 B per element), 614 GB/s at 1,050 MHz = 584.8 B/cycle (the 1,024 requests
    # in flight cover it), four cores. At batch 1 the 24 caches (37.7 MB) stay in the 128 MiB
    # CMEM: only the weights cross the DRAM, and the step takes their bytes / rate. At batch 8
    # (302 MB of caches) the caches that do not fit are read from DRAM, and the step takes
    # (weights + caches) / rate as on tpu_v1: the WS arrays spend about as long shifting in the
    # K^T and V tiles read from CMEM as the DRAM would have taken to bring them.
    hw = load_hardware("tpu_v4i")
    rate = hw.achievable_dram_bytes_per_cycle
    assert round(rate, 1) == 584.8
    one = simulate(hw, load_workload("gpt2_decode"))
    assert one.dram.read == 2 * WEIGHT_BYTES
    assert abs(one.cycles - 2 * WEIGHT_BYTES / rate) / one.cycles < 0.10
    eight = simulate(hw, load_workload("gpt2_decode", batch=8))
    assert abs(eight.cycles - 2 * (WEIGHT_BYTES + 8 * KV_BYTES) / rate) / eight.cycles < 0.10
    for run in (one, eight):
        assert run.breakdown.total == run.cycles
    # prefill of 512 tokens reuses every weight 512 times: compute-bound, stalls under 10%
    prefill = analyze(hw, load_workload("gpt2_prefill"))
    assert prefill.breakdown.stalls / prefill.cycles < 0.10


def test_decode_utilization_rises_with_batch_along_the_memory_roof():
    # Below the ridge (tpu_v1: 65,536 MACs per cycle / 48.6 B per cycle = 1,349 MACs per byte) a
    # memory-bound step's utilization is its arithmetic intensity / the ridge. Batch reuses every
    # weight byte B times, but each sequence brings its own KV cache (about one MAC per byte), so
    # the intensity rises from 1.2 towards 7.5 MACs per byte and never reaches the ridge.
    hw = load_hardware("tpu_v1")
    ridge = hw.peak_macs_per_cycle / hw.achievable_dram_bytes_per_cycle
    assert round(ridge) == 1349
    previous = 0.0
    for batch in (1, 2, 4, 8, 16):
        run = analyze(hw, load_workload("gpt2_decode", batch=batch))
        m = run_metrics(run)
        intensity = run.macs / run.dram.total
        assert intensity < ridge
        assert m["utilization"] > previous
        assert 0.8 * intensity / ridge < m["utilization"] <= intensity / ridge
        previous = m["utilization"]


def test_prefill_is_compute_bound_above_the_ridge():
    # GPT-2 prefill of 512 tokens: every weight is used by all tokens of the batch, so its
    # intensity is 512 x batch MACs per weight byte. At batch 1 (512 < 1,349) the weight GEMMs
    # wait for DRAM; at batch 3 (1,536 tokens) they are above the ridge and the prefill is
    # compute-bound: the array and the vector unit (softmax over 3 x 12 x 512^2 scores) busy,
    # stalls under 10% of the cycles (the LM head, one token per sequence, is the rest).
    hw = load_hardware("tpu_v1")
    one = analyze(hw, load_workload("gpt2_prefill"))
    assert one.breakdown.stalls / one.cycles > 0.3
    run = analyze(hw, load_workload("gpt2_prefill", batch=3))
    assert run.breakdown.stalls / run.cycles < 0.10
    blocks = [layer for layer in run.layers if layer.name != "lm_head"]
    assert sum(layer.breakdown.stalls for layer in blocks) / sum(layer.cycles for layer in blocks) < 0.01
    record = run_record(run)
    assert record["total"]["time_to_first_token_s"] == pytest.approx(run.cycles / hw.clock_hz)
    assert record["total"]["tokens_per_s"] is None
    assert record["workload"]["phase"] == "prefill" and record["workload"]["dims"] == {"seq": 512}


IDEAL = {"dram.bandwidth_gb_per_s": math.inf, "dram.latency_ns": 0, "dma.setup_cycles": 0,
         "control.layer_overhead_cycles": 0}


@pytest.mark.parametrize("name, dims", [("bert_base", {"seq": 32}), ("vit_b16", {"image": 112}),
                                        ("gpt2_prefill", {"seq": 64}), ("gpt2_decode", {"context": 256})])
def test_breakdown_sums_and_an_ideal_memory_takes_the_compute_cycles(name, dims):
    wl = load_workload(name, dims=dims)
    hw = load_hardware("tpu_v1")
    for run in (simulate(with_overrides(hw, IDEAL), wl),):
        for layer in run.layers:
            assert layer.cycles == layer.compute_cycles, layer.name
    run = simulate(hw, wl)
    assert all(layer.breakdown.total == layer.cycles for layer in run.layers)
    assert run.breakdown.total == run.cycles
    assert all(layer.dram.total >= layer.compulsory.total + layer.spill.total for layer in run.layers)


def test_the_register_model_validates_the_attention_folds():
    # the fold shapes of one decode attention layer pair and one prefill pair on a 32 x 32 WS
    # array (small enough for CI): every fold start and cycle count equals the formulas
    from accelsim.reference.checks import check_fold_shape, fold_shapes

    hw = with_overrides(load_hardware("tpu_v1"), {"array.rows": 32, "array.cols": 32})
    for name, dims in (("gpt2_decode", {"context": 48}), ("bert_base", {"seq": 40})):
        shapes = [s for s in fold_shapes(hw.array, load_workload(name, dims=dims))
                  if {"l0_scores", "l0_context"} & set(s.layers)]
        assert 2 <= len(shapes) <= 8
        for shape in shapes:
            check = check_fold_shape(hw.array, shape)
            assert check.matches, (name, shape)
