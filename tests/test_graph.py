"""The workload as a tensor graph: edges, shapes along them, the legacy-chain rule, the errors."""

import re
import subprocess
import sys
from dataclasses import replace

import pytest

from accelsim.config import load_workload
from accelsim.config.loader import workload_to_yaml
from accelsim.config.workload import Concat, Conv2d, Gemm, NetworkInput, NonGemm, Workload
from accelsim.errors import ConfigError
from accelsim.graph import Graph, Tensor, build_graph, fits


def conv(name, H, C, K, R=1, stride=1, inputs=None):
    pad = (R // 2,) * 4
    return Conv2d(name=name, H=H, W=H, C=C, K=K, R=R, S=R, stride=(stride, stride), padding=pad, inputs=inputs)


# A residual block with a projection, then an inception-like concat, on an 8 x 8 x 4 image:
#   a    = conv3x3(image)          -> 8 x 8 x 16
#   b    = conv3x3(a)              -> 8 x 8 x 16
#   proj = conv1x1(image)          -> 8 x 8 x 16
#   add  = b + proj                -> 8 x 8 x 16 (1024 elements)
#   cat  = concat(add, a)          -> 8 x 8 x 32
#   fc   = fc(cat), 2048 -> 10     -> (1, 10)
RESIDUAL = Workload(name="block", inputs=(NetworkInput(name="image", shape=(8, 8, 4)),), layers=(
    conv("a", 8, 4, 16, R=3),
    conv("b", 8, 16, 16, R=3),
    conv("proj", 8, 4, 16, inputs=("image",)),
    NonGemm(name="add", op="add", ops=1024, inputs=("b", "proj"), input_shape=(1024,)),
    Concat(name="cat", inputs=("add", "a")),
    Gemm(name="fc", M=1, K=2048, N=10),
))


def test_tensors_edges_and_shapes():
    g = RESIDUAL.graph
    assert isinstance(g, Graph) and g is RESIDUAL.graph  # built once
    assert [t.name for t in g.tensors] == ["image", "a", "b", "proj", "add", "cat", "fc"]
    assert g.tensor("image") == Tensor(name="image", shape=(8, 8, 4), producer=None, consumers=(0, 2))
    assert g.tensor("a") == Tensor(name="a", shape=(8, 8, 16), producer=0, consumers=(1, 4))
    assert g.tensor("cat").shape == (8, 8, 32) and g.tensor("cat").elements == 2048
    assert g.tensor("fc") == Tensor(name="fc", shape=(1, 10), producer=5, consumers=())
    assert [t.name for t in g.inputs_of(3)] == ["b", "proj"]
    assert [t.name for t in g.inputs_of(1)] == ["a"]  # the previous layer's output, by default
    assert [g.output_of(i).name for i in range(6)] == ["a", "b", "proj", "add", "cat", "fc"]
    assert [t.name for t in g.tensors if t.is_network_input] == ["image"]
    assert [t.name for t in g.tensors if t.is_network_output] == ["fc"]
    assert g.network_inputs == (g.tensor("image"),) and g.network_outputs == (g.tensor("fc"),)
    with pytest.raises(KeyError, match="no tensor 'nope' in the graph"):
        g.tensor("nope")


def test_deterministic_and_independent_of_batch():
    assert build_graph(RESIDUAL) == build_graph(RESIDUAL) == RESIDUAL.graph
    assert RESIDUAL.with_batch(8).graph == RESIDUAL.graph  # shapes are per sample


def test_default_network_input_is_shaped_as_the_first_layer_reads():
    g = Workload(name="w", layers=(Gemm(name="g", M=4, K=8, N=2, count=3), NonGemm(name="r", op="relu", ops=24))).graph
    assert g.tensor("input") == Tensor(name="input", shape=(3, 4, 8), producer=None, consumers=(0,))
    assert g.tensor("g").shape == g.tensor("r").shape == (3, 4, 2)  # a nongemm passes its input's shape on


def test_attention_gemm_reads_its_right_operand():
    # q, k: 128 x 64 per sample; scores = 2 heads of [128 x 32] . [32 x 128]: right operand 2*32*128 elements
    wl = Workload(name="attn", layers=(
        Gemm(name="q", M=128, K=64, N=64), Gemm(name="k", M=128, K=64, N=64, inputs=("input",)),
        Gemm(name="scores", M=128, K=32, N=128, count=2, shared_weights=False, inputs=("q", "k"))))
    assert [t.name for t in wl.graph.inputs_of(2)] == ["q", "k"]
    assert wl.graph.tensor("scores").shape == (2, 128, 128)
    assert wl.graph.tensor("input").consumers == (0, 1)


def test_fits():
    assert fits((7, 7, 512), (25088,))            # a spatial tensor flattens into a gemm
    assert fits((128, 768), (12, 128, 64))        # element counts: a gemm reads a flat view
    assert not fits((8, 8, 16), (16, 8, 8))       # both spatial: H, W and C must agree
    assert not fits((10,), (11,))
    assert fits((3,), None)


def test_legacy_chain_reads_its_own_input_where_the_previous_output_does_not_fit(write):
    # An old flat ResNet block: the projection reads the block input, which a chain cannot say.
    path = write("old.yaml", "name: old\nlayers:\n"
                 "  - {name: c1, type: conv2d, H: 8, W: 8, C: 4, K: 16, R: 1, S: 1}\n"
                 "  - {name: proj, type: conv2d, H: 8, W: 8, C: 4, K: 16, R: 1, S: 1}\n"
                 "  - {name: add, type: eltwise, op: add, elements: 1024}\n")
    g = load_workload(path).graph
    assert [t.name for t in g.network_inputs] == ["input", "proj:input"]
    assert g.tensor("proj:input") == Tensor(name="proj:input", shape=(8, 8, 4), producer=None, consumers=(1,))
    assert [t.name for t in g.inputs_of(2)] == ["proj"]
    assert [t.name for t in g.network_outputs] == ["c1", "add"]
    # the same file with one edge named is checked strictly
    strict = path.read_text().replace("type: eltwise,", "type: eltwise, inputs: [c1, proj],")
    with pytest.raises(ConfigError, match=re.escape(
            "layers[1].inputs: expected a tensor of shape [8, 8, 4], got 'c1' (the previous layer's output, "
            "by default) of shape [8, 8, 16] (1024 elements)")):
        load_workload(write("strict.yaml", strict))


def test_legacy_chain_with_a_layer_named_input():
    wl = Workload(name="w", layers=(NonGemm(name="input", op="copy", ops=4), NonGemm(name="r", op="relu", ops=4)))
    assert [t.name for t in wl.graph.network_inputs] == ["input:input"]
    with pytest.raises(ConfigError, match=re.escape(
            "layers[0].name: expected a layer name that is not a network input's, got 'input'")):
        replace(wl, layers=(wl.layers[0], replace(wl.layers[1], inputs=("input",))))


def test_scalesim_topologies_are_legacy_chains():
    # SCALE-Sim's Resnet50.csv lists convolutions only: no pools, projections beside their branch
    g = load_workload("scalesim_resnet50").graph
    own = [t.name for t in g.network_inputs]
    assert own[0] == "input" and all(name.endswith(":input") for name in own[1:])
    assert "CB2s:input" in own  # the projection shortcut of the first block
    assert all(len(names) == 1 for names in g.reads)


# ---------------------------------------------------------------- errors: one line each

NET = """name: n
inputs: [{name: image, shape: [8, 8, 4]}]
layers:
  - {name: c1, type: conv2d, H: 8, W: 8, C: 4, K: 8, R: 3, S: 3, padding: 1}
  - {name: c2, type: conv2d, inputs: [image], H: 8, W: 8, C: 4, K: 8, R: 1, S: 1}
  - {name: add, type: eltwise, op: add, inputs: [c1, c2]}
  - {name: cat, type: concat, inputs: [c1, add]}
  - {name: p, type: pool, op: max, H: 8, W: 8, C: 16, R: 2, S: 2, stride: 2}
  - {name: fc, type: fc, in_features: 256, out_features: 10}
"""


def test_the_example_network(write):
    wl = load_workload(write("n.yaml", NET))
    assert wl.layers[2] == NonGemm(name="add", op="add", ops=512, inputs=("c1", "c2"), input_shape=(512,))
    assert [t.shape for t in wl.graph.tensors] == [(8, 8, 4), (8, 8, 8), (8, 8, 8), (8, 8, 8), (8, 8, 16),
                                                   (4, 4, 16), (1, 10)]
    assert replace(load_workload(write("again.yaml", workload_to_yaml(wl))), source=wl.source) == wl


GRAPH_ERRORS = [
    # not a list of names
    (("inputs: [image]", "inputs: image"), "layers[1].inputs: expected a non-empty list of at most 1,000 tensor names, got 'image'"),
    (("inputs: [image]", "inputs: [3]"), "layers[1].inputs: expected a non-empty list of at most 1,000 tensor names, got a list"),
    (("inputs: [image]", "inputs: []"), "layers[1].inputs: expected a non-empty list of at most 1,000 tensor names, got a list"),
    # unknown name, with the names it could have meant
    (("inputs: [image]", "inputs: [imag]"),
     "layers[1].inputs[0]: expected the name of a network input or an earlier layer, got 'imag' (known: image, c1)"),
    # a later layer, or its own output: file order is execution order
    (("inputs: [c1, c2]", "inputs: [c1, fc]"),
     "layers[2].inputs[1]: expected a tensor produced before this layer (file order is execution order), "
     "got 'fc' (the output of layers[5], a later layer)"),
    (("inputs: [c1, c2]", "inputs: [add, c2]"),
     "layers[2].inputs[0]: expected a tensor produced before this layer (file order is execution order), "
     "got 'add' (this layer's own output)"),
    # shape mismatches, named and implicit
    (("inputs: [c1, c2]", "inputs: [c1, image]"),
     "layers[2].inputs[1]: expected a tensor of 512 elements, got 'image' of shape [8, 8, 4] (256 elements)"),
    (("C: 16, R: 2", "C: 8, R: 2"),
     "layers[4].inputs: expected a tensor of shape [8, 8, 8], got 'cat' (the previous layer's output, by default) "
     "of shape [8, 8, 16] (1024 elements)"),
    (("in_features: 256", "in_features: 255"),
     "layers[5].inputs: expected a tensor of 255 elements (the left operand, count x M x K), got 'p' (the previous "
     "layer's output, by default) of shape [4, 4, 16] (256 elements)"),
    (("inputs: [{name: image, shape: [8, 8, 4]}]", "inputs: [{name: image, shape: [4, 8, 8]}]"),
     "layers[0].inputs: expected a tensor of shape [8, 8, 4], got 'image' (the network input, by default) of shape "
     "[4, 8, 8] (256 elements)"),
    (("add, type: eltwise, op: add,", "add, type: eltwise, op: add, elements: 12,"),
     "layers[2].inputs[0]: expected a tensor of 12 elements, got 'c1' of shape [8, 8, 8] (512 elements)"),
    # arity
    (("inputs: [image], H: 8", "inputs: [image, c1], H: 8"),
     "layers[1].inputs: expected one tensor name for a conv2d, got ['image', 'c1']"),
    (("type: fc,", "type: fc, inputs: [p, c1],"),
     "layers[5].inputs: expected one tensor name (the right operand is a weight; with shared_weights: false a "
     "second name is the right operand), got ['p', 'c1']"),
    (("name: p, type: pool,", "name: p, type: pool, inputs: [cat, c1],"),
     "layers[4].inputs: expected one tensor name for a pool, got ['cat', 'c1']"),
    # concat
    (("type: concat, inputs: [c1, add]", "type: concat, inputs: [c1]"),
     "layers[3].inputs: expected at least 2 tensor names to concatenate, got ['c1']"),
    (("type: concat, inputs: [c1, add]", "type: concat"),
     "layers[3].inputs: missing required key, expected a list of at least 2 tensor names to concatenate"),
    (("type: concat, inputs: [c1, add]", "type: concat, inputs: [c1, add, c1]"),
     "layers[3].inputs[2]: expected each tensor once in a concat, got 'c1' again (also inputs[0])"),
    (("type: concat, inputs: [c1, add]", "type: concat, inputs: [c1, add, image], op: x"),
     "layers[3].op: unknown key, expected one of: name, inputs"),
    # network inputs
    (("name: c2,", "name: image,"), "layers[1].name: expected a layer name that is not a network input's, got 'image'"),
    (("shape: [8, 8, 4]}]", "shape: [8, 8, 4]}, {name: mask, shape: [8]}]"),
     "inputs[1].name: expected a network input that some layer reads, got 'mask' (read by none)"),
    (("shape: [8, 8, 4]}]", "shape: [8, 8, 4]}, {name: image, shape: [8]}]"),
     "inputs[1].name: expected a unique network input name, got 'image' again"),
    (("shape: [8, 8, 4]}]", "shape: [8, 0, 4]}]"), "inputs[0].shape: expected a non-empty list of at most 8 positive integers, each at most 16,777,216"),
    (("shape: [8, 8, 4]}]", "shape: [8, 8, 4], dtype: int8}]"), "inputs[0].dtype: unknown key, expected one of: name, shape"),
    (("inputs: [{name: image, shape: [8, 8, 4]}]", "inputs: image"),
     "inputs: expected a list of network inputs ({name, shape}), got 'image'"),
    # eltwise without a size needs inputs to infer it from
    (("op: add, inputs: [c1, c2]", "op: add"),
     "layers[2].elements: missing required key, expected a non-negative integer (it may be left out when inputs "
     "are given)"),
]


@pytest.mark.parametrize("edit, message", GRAPH_ERRORS, ids=[m.split(":")[0] + " " + m[-20:] for _, m in GRAPH_ERRORS])
def test_each_graph_error_is_one_line(write, edit, message):
    assert edit[0] in NET
    path = write("w.yaml", NET.replace(*edit, 1))
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}: {message}")) as err:
        load_workload(path)
    assert "\n" not in str(err.value)


def test_concat_needs_spatial_inputs_of_one_height_and_width():
    image = (NetworkInput(name="image", shape=(8, 8, 4)),)
    small = conv("small", 8, 4, 4, stride=2, inputs=("image",))  # 4 x 4 x 4
    with pytest.raises(ConfigError, match=re.escape(
            "<python>: layers[1].inputs[1]: expected a tensor of height x width 8 x 8 (as 'image'), "
            "got 'small' of shape [4, 4, 4] (64 elements)")):
        Workload(name="w", inputs=image, layers=(small, Concat(name="cat", inputs=("image", "small"))))
    flat = Gemm(name="flat", M=1, K=256, N=64, inputs=("image",))
    with pytest.raises(ConfigError, match=re.escape(
            "layers[1].inputs[0]: expected an (H, W, C) tensor to concatenate, got 'flat' of shape [1, 64]")):
        Workload(name="w", inputs=image, layers=(flat, Concat(name="cat", inputs=("flat", "image"))))
    with pytest.raises(ConfigError, match=re.escape(
            "inputs: expected the network inputs declared (inputs: [{name, shape}]) when the first layer is a "
            "concat, got none")):
        Workload(name="w", layers=(Concat(name="cat", inputs=("a", "b")),))


def test_gemm_operands():
    with pytest.raises(ConfigError, match=re.escape(
            "inputs: expected one or two tensor names (the left operand, then the right one), got ['a', 'b', 'c']")):
        Gemm(name="g", M=1, K=1, N=1, shared_weights=False, inputs=("a", "b", "c"))
    with pytest.raises(ConfigError, match=re.escape(
            "layers[1].inputs[1]: expected a tensor of 32 elements (the right operand, count x K x N), got 'a' of "
            "shape [4, 4] (16 elements)")):
        Workload(name="w", layers=(Gemm(name="a", M=4, K=4, N=4),
                                   Gemm(name="g", M=4, K=4, N=8, shared_weights=False, inputs=("a", "a"))))


def test_the_cli_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(NET.replace("inputs: [c1, c2]", "inputs: [c1, c3]"))
    proc = subprocess.run([sys.executable, "-m", "accelsim", "run", "--hw", "gemmini", "--workload", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"{bad}: layers[2].inputs[1]: expected the name of a network input or an earlier layer, "
                           f"got 'c3' (known: c2, c1, image)\n")


def test_the_example_in_docs_workloads_md(write):
    from conftest import ROOT

    text = (ROOT / "docs" / "workloads.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    g = load_workload(write("doc.yaml", example)).graph
    assert g.tensor("cat").shape == (56, 56, 96) and g.tensor("pool1").consumers == (2, 4, 5)
    assert [t.name for t in g.network_inputs] == ["image"] and [t.name for t in g.network_outputs] == ["fc"]
