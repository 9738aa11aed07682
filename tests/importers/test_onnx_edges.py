"""The importer keeps the graph's edges: residual adds, channel concats, two-activation MatMuls."""

import pytest

onnx = pytest.importorskip("onnx")

from accelsim.config.loader import load_workload, workload_to_yaml  # noqa: E402
from accelsim.config.workload import Concat, NetworkInput, NonGemm  # noqa: E402
from accelsim.importers.onnx import import_onnx, read_onnx  # noqa: E402
from onnx_graphs import inception_block, node, residual_block, save, transformer_block, value, weight  # noqa: E402


def reads(wl) -> dict[str, list[str]]:
    return {layer.name: [t.name for t in wl.graph.inputs_of(i)] for i, layer in enumerate(wl.layers)}


def test_a_residual_block(tmp_path, write):
    wl = import_onnx(residual_block(tmp_path / "res.onnx"))
    assert wl.inputs == (NetworkInput(name="x", shape=(8, 8, 8)),)  # NCHW [1, 8, 8, 8] is H x W x C per sample
    assert reads(wl) == {
        "conv_a": ["x"], "bn_a": ["conv_a"], "relu_a": ["bn_a"], "conv_b": ["relu_a"], "bn_b": ["conv_b"],
        "proj": ["x"],                   # the shortcut reads the block's input
        "add": ["bn_b", "proj"],          # Add is an element-wise add of both branches
        "relu_out": ["add"],
    }
    # only the edges that are not the previous layer's output are written
    assert {layer.name: layer.inputs for layer in wl.layers if layer.inputs} == {
        "proj": ("x",), "add": ("bn_b", "proj")}
    add = wl.layers[6]
    assert add == NonGemm(name="add", op="add", ops=8 * 8 * 16, inputs=("bn_b", "proj"), shape=(8, 8, 16))
    assert [t.name for t in wl.graph.network_outputs] == ["relu_out"]
    again = load_workload(write("res.yaml", workload_to_yaml(wl)))
    assert again.layers == wl.layers and again.inputs == wl.inputs and again.graph == wl.graph


def test_an_inception_like_concat(tmp_path):
    imported = read_onnx(inception_block(tmp_path / "inc.onnx"))
    wl = imported.workload
    assert reads(wl) == {
        "b1": ["x"], "b2_reduce": ["x"], "b2_relu": ["b2_reduce"], "b2": ["b2_relu"],
        "b3_pool": ["x"], "b3": ["b3_pool"],
        "cat": ["b1", "b2", "b3"],        # channels: 8 + 8 + 4
        "wide": ["b1", "b2"],             # along the height: plain non-GEMM work
        "gap": ["cat"], "flatten": ["gap"], "fc": ["flatten"],
    }
    layers = {layer.name: layer for layer in wl.layers}
    assert layers["cat"] == Concat(name="cat", inputs=("b1", "b2", "b3")) and layers["cat"].ops == 0
    assert wl.graph.tensor("cat").shape == (8, 8, 20)
    assert type(layers["wide"]) is NonGemm and layers["wide"].op == "concat" and layers["wide"].ops == 16 * 8 * 8
    assert {t.name for t in wl.graph.network_outputs} == {"wide", "fc"}
    assert imported.own_inputs == ()


def test_attention_reads_both_operands(tmp_path):
    wl = import_onnx(transformer_block(tmp_path / "block.onnx"), dims={"seq": 10})
    r = reads(wl)
    assert r["q_proj"] == r["k_proj"] == r["v_proj"] == ["x"]
    assert r["scores"] == ["q_heads", "k_heads"] and r["context"] == ["softmax", "v_heads"]
    assert r["residual1"] == ["out_proj", "x"] and r["residual2"] == ["ffn_down", "norm1"]
    assert r["norm2_square"] == ["norm2_center", "norm2_center"]  # x * x reads one tensor twice
    assert r["norm2_eps"] == ["norm2_var"]  # the constant eps is no edge


def test_a_layer_that_cannot_read_its_producer_reads_its_own_input(tmp_path):
    # an im2col GEMM (four frames of a video per sample) reads the unfolded input, not the
    # reshape's tensor: it reads "conv:input", as a legacy chain would, and the summary says so
    nodes = [node("Reshape", ["v", "to_images"], ["imgs"], "frames"),
             node("Conv", ["imgs", "w"], ["y"], "conv", pads=[1, 1, 1, 1])]
    from onnx_graphs import ints

    path = save(tmp_path / "video.onnx", nodes, [value("v", [1, 4, 3, 8, 8])], [value("y", None)],
                [ints("to_images", [4, 3, 8, 8]), weight("w", [16, 3, 3, 3])])
    imported = read_onnx(path)
    wl = imported.workload
    assert reads(wl) == {"frames": ["v"], "conv": ["conv:input"]}
    assert wl.graph.tensor("conv:input").shape == (256, 27)  # M x K of the im2col GEMM
    assert imported.own_inputs == ("conv",)
    assert "read from outside: conv (a producer's tensor does not fit the layer)" in imported.notes()


def test_a_graph_input_named_like_a_node(tmp_path):
    nodes = [node("Relu", ["x"], ["r"], "x"), node("Add", ["r", "x"], ["y"], "twice")]
    wl = import_onnx(save(tmp_path / "clash.onnx", nodes, [value("x", [1, 8])], [value("y", None)]))
    assert wl.inputs == (NetworkInput(name="x:input", shape=(8,)),)
    assert reads(wl) == {"x": ["x:input"], "twice": ["x", "x:input"]}
