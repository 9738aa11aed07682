"""Matrix products from ONNX: weight GEMMs, batched attention MatMul, Einsum; golden numbers by hand."""

import pytest

onnx = pytest.importorskip("onnx")

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from accelsim.config.workload import Gemm, NonGemm  # noqa: E402
from accelsim.importers.onnx import import_onnx, read_onnx  # noqa: E402
from onnx_graphs import ints, node, save, transformer_block, value, weight  # noqa: E402

# transformer_block at sequence S = 10: hidden D = 64, H = 4 heads of d = 16, FFN F = 128.
#   q/k/v/out projections: M = S = 10 rows per sample, N = 64, K = 64: 10*64*64 = 40,960 MACs each
#   scores  [S x d] . [d x S] per head: count 4, M 10, N 10, K 16:  4*10*10*16 = 6,400
#   context [S x S] . [S x d] per head: count 4, M 10, N 16, K 10:  4*10*16*10 = 6,400
#   ffn_up   M 10, N 128, K 64: 81,920;   ffn_down M 10, N 64, K 128: 81,920
BLOCK_MACS = 4 * 40_960 + 2 * 6_400 + 2 * 81_920  # = 340,480


def test_transformer_block_gemms(tmp_path):
    imported = read_onnx(transformer_block(tmp_path / "block.onnx"), dims={"seq": 10})
    wl = imported.workload
    gemms = {layer.name: layer for layer in wl.layers if isinstance(layer, Gemm)}
    assert gemms == {
        "q_proj": Gemm(name="q_proj", M=10, N=64, K=64),
        "k_proj": Gemm(name="k_proj", M=10, N=64, K=64, inputs=("x",)),
        "v_proj": Gemm(name="v_proj", M=10, N=64, K=64, inputs=("x",)),
        "scores": Gemm(name="scores", M=10, N=10, K=16, count=4, shared_weights=False, inputs=("q_heads", "k_heads")),
        "context": Gemm(name="context", M=10, N=16, K=10, count=4, shared_weights=False,
                        inputs=("softmax", "v_heads")),
        "out_proj": Gemm(name="out_proj", M=10, N=64, K=64),
        "ffn_up": Gemm(name="ffn_up", M=10, N=128, K=64),
        "ffn_down": Gemm(name="ffn_down", M=10, N=64, K=128),
    }
    assert wl.macs() == BLOCK_MACS == 340_480
    assert imported.dims == (("batch", 1, "batch"), ("seq", 10, "given"))


def test_transformer_non_gemm_ops(tmp_path):
    wl = import_onnx(transformer_block(tmp_path / "block.onnx"), dims={"seq": 10})
    ops = {layer.name: layer.ops for layer in wl.layers if isinstance(layer, NonGemm)}
    tokens = 10 * 64  # S x D = 640 elements of a hidden state
    assert ops == {
        "q_split": 0, "k_split": 0, "v_split": 0, "merge": 0,     # reshapes are views
        "q_heads": tokens, "k_heads": tokens, "v_heads": tokens, "merge_heads": tokens,  # transposes copy
        "softmax": 4 * 10 * 10,                                   # one per score: 400
        "residual1": tokens, "norm1": tokens, "ffn_relu": 10 * 128, "residual2": tokens,
        "norm2_mean": tokens, "norm2_center": tokens, "norm2_square": tokens,  # a reduction reads every input
        "norm2_var": tokens, "norm2_eps": 10, "norm2_sqrt": 10, "norm2_scale": tokens,
    }


def test_batch_of_a_transformer(tmp_path):
    dynamic = transformer_block(tmp_path / "dyn.onnx")
    assert import_onnx(dynamic, batch=3, dims={"seq": 10}).macs() == 3 * BLOCK_MACS
    assert import_onnx(dynamic, dims={"seq": 10, "batch": 2}).batch == 2
    # a fixed batch of 2 inside the graph: 2 x 4 heads = 8 score products, 4 per sample
    fixed = import_onnx(transformer_block(tmp_path / "fixed.onnx", batch=2, seq=10))
    assert fixed.batch == 2 and fixed.macs() == 2 * BLOCK_MACS
    assert next(l for l in fixed.layers if l.name == "scores") == Gemm(
        name="scores", M=10, N=10, K=16, count=4, shared_weights=False, inputs=("q_heads", "k_heads"))
    assert next(l for l in fixed.layers if l.name == "q_proj") == Gemm(name="q_proj", M=10, N=64, K=64)
    # the same dimension, named by input and axis
    assert import_onnx(dynamic, dims={"x:1": 10}).macs() == BLOCK_MACS


def test_matmul_operand_forms(tmp_path):
    nodes = [
        # per-head weights [4, 16, 8] against [B, 4, S, 16]: 4 weight matrices, S = 6 rows each per sample
        node("MatMul", ["h", "w_heads"], ["h1"], "per_head"),
        # a weight on the left: W [32, 16] . x [B, 16, 6] -> out^T = x^T W^T: M 6, N 32, K 16
        node("MatMul", ["w_left", "t"], ["t1"], "left_weight"),
        # vector x matrix: [16] . W [16, 5]: M 1, N 5, K 16
        node("MatMul", ["vec", "w_vec"], ["v1"], "vector"),
        # Gemm with transA: A is [K 16, M 3]
        node("Gemm", ["at", "w_g"], ["g1"], "gemm_ta", transA=1),
        # attention as Einsum: both operands activations, b and h are instances
        node("Einsum", ["qh", "kh"], ["s"], "einsum_scores", equation="bhqd,bhkd->bhqk"),
        # Einsum against a weight [16, 12]: e is N, d is K, b and s are rows
        node("Einsum", ["xs", "w_e"], ["e1"], "einsum_proj", equation="bsd,de->bse"),
    ]
    path = save(tmp_path / "mm.onnx", nodes,
                [value("h", ["B", 4, 6, 16]), value("t", ["B", 16, 6]), value("vec", [16]), value("at", [16, 3]),
                 value("qh", ["B", 4, 6, 16]), value("kh", ["B", 4, 6, 16]), value("xs", ["B", 6, 16])],
                [value(n, None) for n in ("h1", "t1", "v1", "g1", "s", "e1")],
                [weight("w_heads", [4, 16, 8]), weight("w_left", [32, 16]), weight("w_vec", [16, 5]),
                 weight("w_g", [16, 7]), weight("w_e", [16, 12])])
    layers = {layer.name: layer for layer in import_onnx(path).layers}
    assert layers["per_head"] == Gemm(name="per_head", M=6, N=8, K=16, count=4)       # 4*6*8*16 = 3,072 MACs
    # each reads its own graph input (the first layer the first one, by default)
    assert layers["left_weight"] == Gemm(name="left_weight", M=6, N=32, K=16, inputs=("t",))  # 6*32*16 = 3,072
    assert layers["vector"] == Gemm(name="vector", M=1, N=5, K=16, inputs=("vec",))           # 80
    assert layers["gemm_ta"] == Gemm(name="gemm_ta", M=3, N=7, K=16, inputs=("at",))          # 336
    assert layers["einsum_scores"] == Gemm(name="einsum_scores", M=6, N=6, K=16, count=4, shared_weights=False,
                                           inputs=("qh", "kh"))
    assert layers["einsum_proj"] == Gemm(name="einsum_proj", M=6, N=12, K=16, inputs=("xs",))  # 1,152
    assert [layers[n].macs(1) for n in layers] == [
        4 * 6 * 8 * 16, 6 * 32 * 16, 16 * 5, 3 * 7 * 16, 4 * 6 * 6 * 16, 6 * 12 * 16]


def test_reshape_targets_computed_from_shapes_are_folded(tmp_path):
    # exporters compute a reshape target as Shape -> Gather -> Div -> Cast -> Unsqueeze -> Concat;
    # ONNX's shape inference does not propagate values through Div: the importer evaluates them
    nodes = [
        node("Shape", ["x"], ["shp"], "shape"),
        node("Gather", ["shp", "i0"], ["n"], "take_batch", axis=0),
        node("Gather", ["shp", "i2"], ["width"], "take_width", axis=0),
        node("Div", ["width", "four"], ["per_head"], "head_size"),
        node("Cast", ["per_head"], ["per_head64"], "cast", to=7),
        node("Unsqueeze", ["n", "ax0"], ["n1"], "u0"),
        node("Unsqueeze", ["per_head64", "ax0"], ["d1"], "u1"),
        node("Concat", ["n1", "minus1", "d1"], ["target"], "target", axis=0),
        node("Reshape", ["x", "target"], ["xr"], "split_heads"),
        node("MatMul", ["xr", "w"], ["y"], "proj"),
    ]
    path = save(tmp_path / "dyn_reshape.onnx", nodes, [value("x", ["B", "S", 64])], [value("y", None)],
                [ints("i0", 0), ints("i2", 2), ints("four", 4), ints("ax0", [0]), ints("minus1", [-1]),
                 weight("w", [16, 8])])
    imported = read_onnx(path, dims={"S": 5})
    # [1, 5, 64] -> [1, 20, 16] -> proj: 20 rows of 16 against [16, 8] = 2,560 MACs
    assert imported.workload.layers[-1] == Gemm(name="proj", M=20, N=8, K=16)
    assert [layer.name for layer in imported.workload.layers] == ["split_heads", "proj"]
    assert imported.folded == 8


def test_quantized_operators_map_like_their_float_forms(tmp_path):
    def const(name, shape, dtype):
        return numpy_helper.from_array(np.zeros(shape, dtype=dtype), name)

    nodes = [
        # QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp): 4->8, 3x3, pads 1 on 8x8
        node("QLinearConv", ["x", "s", "zp", "wc", "s", "zw", "s", "zp"], ["c"], "qconv", pads=[1, 1, 1, 1]),
        # MatMulInteger(A, B): [1, 6, 16] . [16, 8]
        node("MatMulInteger", ["a", "wm"], ["m"], "qmatmul"),
    ]
    path = save(tmp_path / "q.onnx", nodes,
                [value("x", [1, 4, 8, 8], TensorProto.UINT8), value("a", [1, 6, 16], TensorProto.UINT8)],
                [value("c", None, TensorProto.UINT8), value("m", None, TensorProto.INT32)],
                [const("s", [], np.float32), const("zp", [], np.uint8), const("zw", [], np.int8),
                 const("wc", [8, 4, 3, 3], np.int8), const("wm", [16, 8], np.int8)])
    qconv, qmatmul = import_onnx(path).layers
    assert (qconv.H, qconv.W, qconv.C, qconv.K, qconv.R, qconv.S, qconv.padding) == (8, 8, 4, 8, 3, 3, (1, 1, 1, 1))
    assert qconv.macs(1) == 8 * 8 * 8 * 4 * 9  # 18,432
    assert qmatmul == Gemm(name="qmatmul", M=6, N=8, K=16, inputs=("a",))


def test_local_functions_are_inlined(tmp_path):
    block = helper.make_function("local", "Block", ["a", "w"], ["b"],
                                 [node("MatMul", ["a", "w"], ["t"], "mm"), node("Relu", ["t"], ["b"], "act")],
                                 [helper.make_opsetid("", 17)])
    graph = helper.make_graph([helper.make_node("Block", ["x", "w"], ["y"], name="blk", domain="local")], "g",
                              [value("x", [1, 3, 16])], [value("y", None)], [weight("w", [16, 8])])
    model = helper.make_model(graph, functions=[block],
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    onnx.save(model, str(tmp_path / "fn.onnx"))
    mm, act = import_onnx(tmp_path / "fn.onnx").layers
    assert mm.M == 3 and mm.N == 8 and mm.K == 16 and act.ops == 24  # 3 x 8 outputs


def test_reshape_targets_in_an_external_data_file_are_read(tmp_path):
    model = onnx.load(str(transformer_block(tmp_path / "block.onnx")))
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, location="ext.data", size_threshold=0)
    assert import_onnx(tmp_path / "ext.onnx", dims={"seq": 10}).macs() == BLOCK_MACS
