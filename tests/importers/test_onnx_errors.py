"""Every import problem is one line: file, where (node and operator, or input), what."""

import sys

import pytest

pytest.importorskip("onnx")

from onnx import helper  # noqa: E402

from accelsim.config.workload import Gemm, NonGemm  # noqa: E402
from accelsim.errors import ConfigError  # noqa: E402
from accelsim.importers.onnx import import_onnx, parse_dims, read_onnx  # noqa: E402
from onnx_graphs import ints, node, save, transformer_block, value, weight  # noqa: E402


def import_error(path, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        import_onnx(path, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_not_an_onnx_file(tmp_path):
    yaml_file = tmp_path / "net.onnx"
    yaml_file.write_text("name: net\nbatch: 1\nlayers: []\n")
    assert import_error(yaml_file).startswith(f"{yaml_file}: not an ONNX model: cannot parse it as ONNX protobuf")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert import_error(empty) == f"{empty}: not an ONNX model: the file is empty"
    absent = tmp_path / "absent.onnx"
    assert import_error(absent) == f"{absent}: cannot read: No such file or directory"


def test_missing_onnx_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    assert import_error(tmp_path / "m.onnx") == (
        f"{tmp_path / 'm.onnx'}: reading ONNX needs the onnx package: pip install 'accelsim[onnx]'")


def one_node(tmp_path, op, inputs, shapes, inits=(), domain="", extra_opsets=None, **attrs):
    n = helper.make_node(op, [i for i in inputs], ["y"], name="bad", domain=domain, **attrs)
    return save(tmp_path / "m.onnx", [n], [value(name, shape) for name, shape in shapes], [value("y", None)],
                list(inits), extra_opsets=extra_opsets)


def test_unsupported_matrix_operators_are_errors(tmp_path):
    lstm = one_node(tmp_path, "LSTM", ["x", "w", "r"], [("x", [5, 1, 8])],
                    [weight("w", [1, 64, 8]), weight("r", [1, 64, 16])], hidden_size=16)
    assert import_error(lstm) == (
        f"{lstm}: nodes[bad] (LSTM): matrix work accelsim does not map (it maps Conv, ConvInteger, QLinearConv, "
        f"ConvTranspose, Gemm, MatMul, MatMulInteger, QLinearMatMul, Einsum); replace the operator or write its "
        f"layer in the workload YAML by hand")
    nbits = one_node(tmp_path, "MatMulNBits", ["x", "w"], [("x", [1, 8])], [weight("w", [8, 8])],
                     domain="com.microsoft", extra_opsets={"com.microsoft": 1})
    assert "nodes[bad] (com.microsoft.MatMulNBits): matrix work accelsim does not map" in import_error(nbits)
    einsum3 = one_node(tmp_path, "Einsum", ["a", "b", "c"], [("a", [2, 3]), ("b", [3, 4]), ("c", [4, 5])],
                       equation="ab,bc,cd->ad")
    assert import_error(einsum3) == (
        f"{einsum3}: nodes[bad] (Einsum): equation 'ab,bc,cd->ad': accelsim maps Einsum of two operands without '...'")


def test_matrix_work_inside_control_flow_is_an_error(tmp_path):
    branch = helper.make_graph([node("MatMul", ["x", "w"], ["z"], "inner")], "branch", [], [value("z", None)])
    n = helper.make_node("If", ["cond"], ["y"], name="choose", then_branch=branch, else_branch=branch)
    path = save(tmp_path / "if.onnx", [n], [value("cond", [], 9), value("x", [1, 8])], [value("y", None)],
                [weight("w", [8, 4])])
    assert import_error(path) == (
        f"{path}: nodes[choose] (If): its subgraph contains MatMul, which accelsim cannot unroll; "
        f"export the model without control flow")


def test_missing_shapes_after_inference(tmp_path):
    # an operator ONNX does not know hides the shape of everything after it
    nodes = [helper.make_node("Mystery", ["x"], ["m"], name="custom", domain="acme"),
             node("MatMul", ["m", "w"], ["y"], "mm")]
    path = save(tmp_path / "m.onnx", nodes, [value("x", [1, 8])], [value("y", None)], [weight("w", [8, 4])],
                extra_opsets={"acme": 1})
    assert import_error(path) == f"{path}: nodes[mm] (MatMul): no shape for input A 'm' after ONNX shape inference"


def test_dynamic_dimensions_need_sizes(tmp_path):
    block = transformer_block(tmp_path / "block.onnx")
    assert import_error(block) == (
        f"{block}: inputs[x].shape[1]: dynamic dimension 'seq' needs a size: give it with --dim seq=N "
        f"(Python: dims={{'seq': N}})")
    assert import_error(block, dims={"sq": 10}) == (
        f"{block}: dims: no dynamic input dimension 'sq' in the model (dynamic: batch, seq)")
    assert import_error(block, dims={"seq": 0}) == f"{block}: dims.seq: expected a positive integer size, got 0"
    unnamed = save(tmp_path / "unnamed.onnx", [node("Relu", ["x"], ["y"], "relu")], [value("x", [1, None, 4])],
                   [value("y", None)])
    assert import_error(unnamed) == (
        f"{unnamed}: inputs[x].shape[1]: dynamic dimension 'x:1' needs a size: give it with --dim x:1=N "
        f"(Python: dims={{'x:1': N}})")
    assert import_onnx(unnamed, dims={"x:1": 6}).layers[0].ops == 24  # 1 x 6 x 4 elements


def test_a_batch_that_is_not_a_leading_dimension(tmp_path):
    # a fixed batch of 2 reshaped [2, 12] -> [3, 8]: the 3 rows of the MatMul do not split into 2 samples
    nodes = [node("Reshape", ["x", "to"], ["r"], "mix"), node("MatMul", ["r", "w"], ["y"], "mm")]
    path = save(tmp_path / "m.onnx", nodes, [value("x", [2, 12])], [value("y", None)],
                [ints("to", [3, 8]), weight("w", [8, 4])])
    assert import_error(path) == (
        f"{path}: nodes[mm] (MatMul): cannot take the model's batch of 2 out of the rows = 3; "
        f"export the model with batch 1 or a dynamic batch")


def test_dims_on_the_command_line():
    assert parse_dims(["seq=128", "x:1=4", " past = 7"]) == {"seq": 128, "x:1": 4, "past": 7}
    for bad in ("seq", "seq=", "=4", "seq=0", "seq=abc"):
        with pytest.raises(ConfigError, match=r"^--dim: .*: expected NAME=SIZE with a positive integer SIZE"):
            parse_dims([bad])


def test_unsupported_non_gemm_operators_are_listed_not_fatal(tmp_path):
    nodes = [
        helper.make_node("Mystery", ["x"], ["m"], name="odd", domain="acme"),  # its output shape is declared
        node("Relu", ["m"], ["r"], ""),
        node("Gemm", ["r", "w"], ["y"], "fc"),
        helper.make_node("Mystery", ["y"], ["z"], name="tail", domain="acme"),  # no shape: from its input
    ]
    graph = helper.make_graph(nodes, "g", [value("x", [1, 8])], [value("z", None)], [weight("w", [8, 4])],
                              value_info=[value("m", [1, 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("acme", 1)])
    path = tmp_path / "odd.onnx"
    path.write_bytes(model.SerializeToString())
    imported = read_onnx(path)
    assert imported.workload.layers == (
        NonGemm(name="odd", op="mystery", ops=8, shape=(8,)), NonGemm(name="Relu_1", op="relu", ops=8, shape=(8,)),
        Gemm(name="fc", M=1, N=4, K=8), NonGemm(name="tail", op="mystery", ops=4))  # tail: no shape, its input's
    assert imported.unsupported == (("acme.Mystery", ("odd", "tail")),)
    assert "unsupported operator acme.Mystery (odd, tail): estimated at one operation per element" in imported.notes()


def test_layer_names_are_unique_and_never_empty(tmp_path):
    names = ["", "act", "act", "act_2", ""]
    nodes = [node("Relu", [f"t{i}"], [f"t{i + 1}"], name) for i, name in enumerate(names)]
    path = save(tmp_path / "names.onnx", nodes, [value("t0", [1, 4])], [value("t5", None)])
    # unnamed: <OpType>_<position>; a repeat takes the next free suffix, leaving "act_2" to its owner
    assert [layer.name for layer in import_onnx(path).layers] == ["Relu_0", "act", "act_3", "act_2", "Relu_4"]


def test_nodes_out_of_order_are_sorted(tmp_path):
    nodes = [node("Relu", ["a"], ["y"], "second"), node("MatMul", ["x", "w"], ["a"], "first")]
    path = save(tmp_path / "order.onnx", nodes, [value("x", [1, 8])], [value("y", None)], [weight("w", [8, 4])])
    assert [layer.name for layer in import_onnx(path).layers] == ["first", "second"]
    ghost = save(tmp_path / "ghost.onnx", [node("Relu", ["nothing"], ["y"], "lost")], [value("x", [1, 8])],
                 [value("y", None)])
    assert import_error(ghost) == (
        f"{ghost}: nodes[lost] (Relu): input 'nothing' is produced by no node and is not a graph input or initializer")


def test_shape_mismatched_onnx_matrix_products_are_errors(tmp_path):
    matmul = save(tmp_path / "mm.onnx", [node("MatMul", ["x", "w"], ["y"], "mm")], [value("x", [1, 8])],
                  [value("y", None)], [weight("w", [6, 4])])
    with pytest.raises(ConfigError, match=r"nodes\[mm\] \(MatMul\): input A \[1, 8\] and input B \[6, 4\] do not "
                                          r"multiply: A has 8 columns, B 6 rows"):
        import_onnx(matmul)
    gemm = save(tmp_path / "gemm.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)],
                [value("x", [1, 8])], [value("y", None)], [weight("w", [4, 6])])
    with pytest.raises(ConfigError, match=r"nodes\[fc\] \(Gemm\): .* A gives K = 8, B K = 6"):
        import_onnx(gemm)


def test_damaged_graphs_found_by_the_fuzzer_are_one_line(tmp_path):
    """A matrix operator missing an input, and a name that is not UTF-8 (protobuf hands it back as bytes)."""
    gemm = save(tmp_path / "one.onnx", [helper.make_node("Gemm", ["x"], ["y"], name="fc")], [value("x", [1, 8])],
                [value("y", None)])
    assert import_error(gemm) == f"{gemm}: nodes[fc] (Gemm): 1 inputs, expected at least 2"
    relu = save(tmp_path / "utf.onnx", [node("Relu", ["x"], ["y"], "relu")], [value("x", [1, 8])], [value("y", None)])
    relu.write_bytes(relu.read_bytes().replace(b"Relu", b"\xffelu"))
    assert import_error(relu) == f"{relu}: not an ONNX model: a node's name, operator or tensor name is not UTF-8 text"
