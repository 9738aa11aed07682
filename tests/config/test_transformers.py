"""The shipped transformer workloads: MACs re-derived from the architectures, dims, KV caches."""

import pytest

from accelsim import load_workload
from accelsim.config.loader import workload_from_data
from accelsim.config.workload import Phase
from accelsim.errors import ConfigError

HIDDEN, HEADS, HEAD, FFN, LAYERS = 768, 12, 64, 3072, 12  # BERT-base, ViT-B, GPT-2 small alike
VOCAB = 50257                                               # GPT-2's vocabulary (Radford et al. 2019)


def block_macs(tokens: int, context: int) -> int:
    """One transformer layer: Q, K, V, O projections, Q.K^T and scores.V per head, the FFN."""
    return 4 * tokens * HIDDEN * HIDDEN + 2 * HEADS * tokens * context * HEAD + 2 * tokens * HIDDEN * FFN


def test_bert_base_macs_worked_by_hand():
    # 12 layers at seq 128: 12 x 931,135,488 (the bert_base_layer figure)
    expected = LAYERS * block_macs(128, 128)
    assert expected == 12 * 931_135_488 == 11_173_625_856
    wl = load_workload("bert_base")
    assert wl.macs() == expected and wl.dims == {"seq": 128}
    # --dim seq=256: the projections and FFN double, attention quadruples
    assert load_workload("bert_base", dims={"seq": 256}).macs() == LAYERS * block_macs(256, 256)


def test_vit_b16_macs_worked_by_hand_and_published():
    # patch embedding 16x16x3 -> 768 at 14 x 14; 197 tokens (196 patches + class); head 768 -> 1000
    patch = 14 * 14 * 768 * 3 * 16 * 16
    expected = patch + LAYERS * block_macs(197, 197) + 768 * 1000
    assert expected == 17_563_828_224
    assert load_workload("vit_b16").macs() == expected
    assert round(expected / 1e9, 1) == 17.6  # DeiT (Touvron et al. 2021) Table 1: ViT-B 17.6 G multiply-adds
    # --dim image=64: 4 x 4 patches, 17 tokens
    small = 16 * 768 * 768 + LAYERS * block_macs(17, 17) + 768 * 1000
    assert load_workload("vit_b16", dims={"image": 64}).macs() == small


def test_gpt2_prefill_macs_worked_by_hand_and_kaplans_n():
    expected = LAYERS * block_macs(512, 512) + HIDDEN * VOCAB  # the LM head on the last position only
    assert expected == 48_356_979_456
    wl = load_workload("gpt2_prefill")
    assert wl.macs() == expected and wl.phase is Phase.PREFILL
    # Kaplan et al. 2020, Table 1: N = 2 n_layer d_model (2 d_attn + d_ff) non-embedding parameters,
    # one MAC each per token: the weight GEMMs of the 12 blocks
    n = 2 * LAYERS * HIDDEN * (2 * HIDDEN + FFN)
    weights = sum(l.macs(1) for l in wl.gemm_layers if l.shared_weights and l.name != "lm_head")
    assert n == 84_934_656 and weights == 512 * n
    assert load_workload("gpt2_prefill", dims={"seq": 64}).macs() == LAYERS * block_macs(64, 64) + HIDDEN * VOCAB


def test_gpt2_decode_macs_and_kv_cache():
    expected = LAYERS * block_macs(1, 1024) + HIDDEN * VOCAB
    assert expected == 142_406_400
    wl = load_workload("gpt2_decode")
    assert wl.macs() == expected and wl.phase is Phase.DECODE and wl.dims == {"context": 1024}
    g = wl.graph
    caches = g.states
    assert len(caches) == 2 * LAYERS and all(t.shape == (1024, HIDDEN) for t in caches)
    # the new token's K and V are written into the caches, which the attention products read
    assert g.tensor("l0_k").appends_to == "l0_k_cache" and g.tensor("l0_v").appends_to == "l0_v_cache"
    index = {layer.name: i for i, layer in enumerate(wl.layers)}
    assert [t.name for t in g.inputs_of(index["l3_scores"])] == ["l3_q", "l3_k_cache"]
    assert [t.name for t in g.inputs_of(index["l3_context"])] == ["l3_softmax", "l3_v_cache"]
    assert not g.tensor("l0_k").is_network_output and not g.tensor("l0_k_cache").is_network_input
    short = load_workload("gpt2_decode", dims={"context": 128})
    assert short.macs() == LAYERS * block_macs(1, 128) + HIDDEN * VOCAB
    assert short.graph.tensor("l0_k_cache").shape == (128, HIDDEN)


def decode(**changes) -> dict:
    data = {"name": "d", "dims": {"ctx": 8}, "inputs": [{"name": "x", "shape": [1, 4]}],
            "state": [{"name": "kc", "shape": ["ctx", 4], "appended_by": "k"}],
            "layers": [{"name": "q", "type": "gemm", "inputs": ["x"], "M": 1, "K": 4, "N": 4},
                       {"name": "k", "type": "gemm", "inputs": ["x"], "M": 1, "K": 4, "N": 4},
                       {"name": "s", "type": "gemm", "inputs": ["q", "kc"], "M": 1, "K": 4, "N": "ctx",
                        "shared_weights": False}]}
    data.update(changes)
    return data


def test_dims_and_state_load_and_their_errors_are_one_line():
    wl = workload_from_data(decode(), "w.yaml")
    assert wl.layers[2].N == 8 and wl.state[0].shape == (8, 4)
    assert workload_from_data(decode(), "w.yaml", {"ctx": 16}).layers[2].N == 16
    with pytest.raises(ConfigError, match=r"^w.yaml: dims: expected a dimension the workload declares \(ctx\), "
                                          r"got --dim seq=4$"):
        workload_from_data(decode(), "w.yaml", {"seq": 4})
    bad = decode()
    bad["layers"][2]["N"] = "ctx * 2 + cxt"
    with pytest.raises(ConfigError, match=r"^w.yaml: layers\[2\].N: expected an integer or an expression of the "
                                          r"workload's dims \(ctx\) with \+ - \* // and parentheses, "
                                          r"got 'ctx \* 2 \+ cxt'$"):
        workload_from_data(bad, "w.yaml")
    bad = decode(state=[{"name": "kc", "shape": ["ctx", 4], "appended_by": "kk"}])
    with pytest.raises(ConfigError, match=r"^w.yaml: state\[0\].appended_by: expected the name of a layer, got 'kk' "
                                          r"\(did you mean k\?\)$"):
        workload_from_data(bad, "w.yaml")
    bad = decode(state=[{"name": "kc", "shape": [1, 2], "appended_by": "k"}])
    with pytest.raises(ConfigError, match=r"^w.yaml: layers\[2\].inputs\[1\]: expected a tensor of 32 elements"):
        workload_from_data(bad, "w.yaml")
    extra = decode()
    extra["state"].append({"name": "unused", "shape": [2]})
    with pytest.raises(ConfigError, match=r"^w.yaml: state\[1\].name: expected a state tensor that some layer "
                                          r"reads, got 'unused' \(read by none\)$"):
        workload_from_data(extra, "w.yaml")
    with pytest.raises(ConfigError, match=r"^w.yaml: phase: expected one of prefill, decode or null, got 'train'$"):
        workload_from_data(decode(phase="train"), "w.yaml")
    with pytest.raises(ConfigError, match=r"^w.yaml: dims.ctx: expected a positive integer, got 0$"):
        workload_from_data(decode(dims={"ctx": 0}), "w.yaml")


def test_dim_on_a_workload_without_dims_or_a_csv_is_an_error():
    with pytest.raises(ConfigError, match=r"dims: expected a dimension the workload declares \(none\), "
                                          r"got --dim seq=4$"):
        load_workload("resnet18", dims={"seq": 4})
    with pytest.raises(ConfigError, match=r"^--dim: applies to ONNX models and workloads that declare dims"):
        load_workload("scalesim_resnet50", dims={"seq": 4})
