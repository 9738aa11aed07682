"""ONNX attention block with GELU written out with Erf: two-activation MatMuls, vector ops by name."""

import math

import pytest

onnx = pytest.importorskip("onnx")

from accelsim.config.workload import Gemm, NonGemm  # noqa: E402
from accelsim.importers.onnx import read_onnx  # noqa: E402
from accelsim import analyze, load_hardware  # noqa: E402
from onnx_graphs import ints, node, save, value, weight  # noqa: E402

S, D, H, F = 8, 32, 2, 64  # tokens, hidden, heads of 16, FFN


def block(path, half_first=False):
    """x [1, S, D] -> LayerNorm -> q, k, v -> per-head scores (MatMul of two activations) ->
    Softmax -> context -> merge -> FFN up -> GELU as exporters write it with Erf -> FFN down."""
    gelu = [node("Div", ["u", "sqrt2"], ["u_s"], "gelu_scale"), node("Erf", ["u_s"], ["u_e"], "gelu_erf"),
            node("Add", ["u_e", "one"], ["u_1"], "gelu_add")]
    if half_first:  # (x * 0.5) * (1 + erf)
        gelu += [node("Mul", ["u", "half"], ["u_h"], "gelu_half"), node("Mul", ["u_h", "u_1"], ["g"], "gelu")]
    else:  # x * (1 + erf) * 0.5
        gelu += [node("Mul", ["u", "u_1"], ["u_m"], "gelu_mul"), node("Mul", ["u_m", "half"], ["g"], "gelu")]
    nodes = [
        node("LayerNormalization", ["x", "gamma", "beta"], ["n"], "norm", axis=-1),
        node("MatMul", ["n", "wq"], ["q"], "q_proj"), node("MatMul", ["n", "wk"], ["k"], "k_proj"),
        node("MatMul", ["n", "wv"], ["v"], "v_proj"),
        node("Reshape", ["q", "heads"], ["q4"], "q_split"), node("Transpose", ["q4"], ["qh"], "q_heads", perm=[0, 2, 1, 3]),
        node("Reshape", ["k", "heads"], ["k4"], "k_split"), node("Transpose", ["k4"], ["kt"], "k_heads", perm=[0, 2, 3, 1]),
        node("Reshape", ["v", "heads"], ["v4"], "v_split"), node("Transpose", ["v4"], ["vh"], "v_heads", perm=[0, 2, 1, 3]),
        node("MatMul", ["qh", "kt"], ["s"], "scores"), node("Softmax", ["s"], ["p"], "softmax", axis=-1),
        node("MatMul", ["p", "vh"], ["c"], "context"), node("Transpose", ["c"], ["ct"], "merge_heads", perm=[0, 2, 1, 3]),
        node("Reshape", ["ct", "hidden"], ["c3"], "merge"),
        node("MatMul", ["c3", "w_up"], ["u"], "ffn_up"), *gelu, node("MatMul", ["g", "w_down"], ["y"], "ffn_down"),
    ]
    inits = [weight("gamma", [D]), weight("beta", [D]), weight("wq", [D, D]), weight("wk", [D, D]),
             weight("wv", [D, D]), weight("w_up", [D, F]), weight("w_down", [F, D]), ints("heads", [0, 0, H, D // H]),
             ints("hidden", [0, 0, D]), weight("sqrt2", [1]), weight("one", [1]), weight("half", [1])]
    return save(path, nodes, [value("x", [1, S, D])], [value("y", None)], inits)


@pytest.mark.parametrize("half_first", [False, True])
def test_attention_block_with_an_erf_gelu(tmp_path, half_first):
    imported = read_onnx(block(tmp_path / "b.onnx", half_first))
    wl = imported.workload
    layers = {layer.name: layer for layer in wl.layers}
    # MACs by hand: q, k, v 3 x 8 x 32 x 32 = 24,576; scores 2 heads x 8 x 8 x 16 = 2,048;
    # context 2 x 8 x 16 x 8 = 2,048; ffn_up 8 x 64 x 32 = 16,384; ffn_down 8 x 32 x 64 = 16,384
    assert wl.macs() == 24_576 + 2_048 + 2_048 + 16_384 + 16_384 == 61_440
    assert layers["scores"] == Gemm(name="scores", M=S, N=S, K=D // H, count=H, shared_weights=False,
                                    inputs=("q_heads", "k_heads"))
    assert layers["context"] == Gemm(name="context", M=S, N=D // H, K=S, count=H, shared_weights=False,
                                     inputs=("softmax", "v_heads"))
    # the vector ops carry the names the hwconfig's cost table uses; the five Erf nodes are one gelu
    assert (layers["norm"].op, layers["softmax"].op, layers["gelu"].op) == ("layernorm", "softmax", "gelu")
    assert layers["softmax"].ops == H * S * S and layers["norm"].ops == S * D
    assert layers["gelu"] == NonGemm(name="gelu", op="gelu", ops=S * F, shape=(S, F))  # reads ffn_up
    assert not any(name.startswith("gelu_") for name in layers)
    assert layers["ffn_down"].inputs is None  # reads the gelu, the previous layer
    assert ("Gelu (Erf pattern)", 1) in imported.nongemm
    # on tpu_v1's vector unit (256 elements per cycle): gelu 512 x 4 / 256 = 8 cycles, softmax
    # 128 x 5 / 256 -> 3, layernorm 256 x 4 / 256 = 4
    run = {layer.name: layer for layer in analyze(load_hardware("tpu_v1"), wl).layers}
    assert (run["gelu"].breakdown.vector, run["softmax"].breakdown.vector, run["norm"].breakdown.vector) == (
        8, math.ceil(128 * 5 / 256), 4)
