import csv
from dataclasses import replace

import pytest

from accelsim.config import catalog, load_workload
from accelsim.config.loader import workload_to_yaml
from accelsim.config.workload import Conv2d, Gemm, NonGemm, Workload
from accelsim.errors import ConfigError
from conftest import DATA

# Shipped workload -> the published layer table its MACs must equal (tests/data/README.md).
TABLES = {
    "resnet50": "resnet50_v1.5.csv",
    "mobilenet_v1": "mobilenet_v1.csv",
    "mobilenet_v2": "mobilenet_v2.csv",
    "vgg16": "vgg16.csv",
    "alexnet": "alexnet_grouped_caffe.csv",
}


def table(name: str) -> dict[str, int]:
    with open(DATA / "layer_tables" / name) as f:
        return {row["layer"]: int(row["MACs"]) for row in csv.DictReader(f)}


@pytest.mark.parametrize("workload, table_name", TABLES.items())
def test_zoo_macs_equal_the_published_layer_tables(workload, table_name):
    wl = load_workload(workload)
    expected = table(table_name)
    got = {layer.name: layer.macs(1) for layer in wl.gemm_layers}
    assert got == expected  # layer by layer, and so in total
    assert wl.macs() == sum(expected.values())


def test_published_totals():
    # data/README.md: v1.5 4.089 G, MobileNetV2 300.8 M, VGG-16 conv 15.35 G, AlexNet conv 665.8 M.
    assert round(load_workload("resnet50").macs() / 1e9, 3) == 4.089
    assert round(load_workload("mobilenet_v2").macs() / 1e6, 1) == 300.8
    vgg = load_workload("vgg16")
    assert round(sum(l.macs(1) for l in vgg.layers if isinstance(l, Conv2d)) / 1e9, 2) == 15.35
    alex = load_workload("alexnet")
    assert round(sum(l.macs(1) for l in alex.layers if isinstance(l, Conv2d)) / 1e6, 1) == 665.8


def test_resnet18_macs_worked_by_hand():
    # He et al. 2016 Table 1, 18-layer: conv1 112*112*64*3*49; conv2_x 4 x 56*56*64*64*9;
    # each later stage: a strided 3x3 (S/2 x S/2 x 2C x C x 9), three 3x3 (S/2^2 x 2C x 2C x 9),
    # a 1x1 projection (S/2^2 x 2C x C); fc 512*1000.
    conv1 = 112 * 112 * 64 * 3 * 49
    stage2 = 4 * 56 * 56 * 64 * 64 * 9
    later = sum(s * s * 2 * c * c * 9 + 3 * s * s * 4 * c * c * 9 + s * s * 2 * c * c
                for s, c in ((28, 64), (14, 128), (7, 256)))
    expected = conv1 + stage2 + later + 512 * 1000
    assert expected == 1_814_073_344
    assert load_workload("resnet18").macs() == expected


def test_googlenet_macs_worked_by_hand():
    # Szegedy et al. 2015 ("Going Deeper with Convolutions"), Table 1, 224 x 224:
    #   conv1 7x7/2, 3 -> 64, out 112:        112*112*64*3*49                = 118,013,952
    #   conv2 1x1 64 -> 64 then 3x3 64 -> 192 at 56: 56*56*64*64 + 56*56*192*64*9 = 359,661,568
    # an Inception module at S x S with C input channels and branches (#1x1, #3x3 reduce, #3x3,
    # #5x5 reduce, #5x5, pool proj) = (a, r3, n3, r5, n5, p):
    #   S^2 * (C*a + C*r3 + 9*r3*n3 + C*r5 + 25*r5*n5 + C*p)
    #   3a 28, 192: 784 * (12288 + 18432 + 110592 + 3072 + 12800 + 6144) = 784 * 163328 = 128,049,152
    #   3b 28, 256: 784 * (32768 + 32768 + 221184 + 8192 + 76800 + 16384) = 784 * 388096 = 304,267,264
    #   4a 14, 480: 196 * (92160 + 46080 + 179712 + 7680 + 19200 + 30720) = 196 * 375552 = 73,608,192
    #   4b 14, 512: 196 * (81920 + 57344 + 225792 + 12288 + 38400 + 32768) = 196 * 448512 = 87,908,352
    #   4c 14, 512: 196 * (65536 + 65536 + 294912 + 12288 + 38400 + 32768) = 196 * 509440 = 99,850,240
    #   4d 14, 512: 196 * (57344 + 73728 + 373248 + 16384 + 51200 + 32768) = 196 * 604672 = 118,515,712
    #   4e 14, 528: 196 * (135168 + 84480 + 460800 + 16896 + 102400 + 67584) = 196 * 867328 = 169,996,288
    #   5a  7, 832: 49 * (212992 + 133120 + 460800 + 26624 + 102400 + 106496) = 49 * 1042432 = 51,079,168
    #   5b  7, 832: 49 * (319488 + 159744 + 663552 + 39936 + 153600 + 106496) = 49 * 1442816 = 70,697,984
    #   linear 1024 -> 1000:                                                      1,024,000
    # total 1,582,671,872, 5.5% over the paper's "1.5 billion multiply-adds at inference time".
    # Table 1's "ops" column gives conv1 as 34M ops, not the 118.0M that 64 filters of 7x7x3 need
    # at 112 x 112; with conv1 at 34M the total is 1,498.66 M, within 0.1% of the stated 1.5 G.
    modules = [128_049_152, 304_267_264, 73_608_192, 87_908_352, 99_850_240, 118_515_712, 169_996_288,
               51_079_168, 70_697_984]
    expected = 118_013_952 + 359_661_568 + sum(modules) + 1_024_000
    assert expected == 1_582_671_872
    wl = load_workload("googlenet")
    assert wl.macs() == expected
    macs = {layer.name: layer.macs(1) for layer in wl.layers}
    for module, want in zip(("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"), modules):
        assert sum(m for name, m in macs.items() if name.startswith(f"inception{module}_")) == want
    table1 = expected - macs["conv1"] + 34_000_000
    assert abs(table1 - 1.5e9) / 1.5e9 < 0.001
    # the concatenations: a module's four branches read its input and are joined along the channels
    g, index = wl.graph, {layer.name: i for i, layer in enumerate(wl.layers)}
    assert g.tensor("inception3a").shape == (28, 28, 64 + 128 + 32 + 32)
    assert g.tensor("inception5b").shape == (7, 7, 384 + 384 + 128 + 128)
    assert [t.name for t in g.inputs_of(index["inception4e"])] == [
        "inception4e_1x1", "inception4e_3x3", "inception4e_5x5", "inception4e_pool_proj"]
    assert g.tensor("pool3").consumers == tuple(index[f"inception4a_{branch}"] for branch in (
        "1x1", "3x3_reduce", "5x5_reduce", "pool"))


def test_bert_layer_macs_worked_by_hand():
    # seq 128, hidden 768, 12 heads of 64, FFN 3072: Q, K, V, O projections, QK^T and AV per
    # head, two FFN matmuls.
    s, h, heads, d, f = 128, 768, 12, 64, 3072
    expected = 4 * s * h * h + 2 * heads * s * s * d + 2 * s * h * f
    assert load_workload("bert_base_layer").macs() == expected == 931_135_488


@pytest.mark.parametrize("name", list(catalog.shipped("workloads")))
def test_every_shipped_workload_loads_and_round_trips(name, write):
    wl = load_workload(name)
    assert wl.layers and wl.batch == 1
    if wl.source.endswith(".yaml"):
        again = load_workload(write("again.yaml", workload_to_yaml(wl)))
        assert replace(again, source=wl.source) == wl and again.graph == wl.graph


def test_batch_scales_macs_and_override():
    wl = load_workload("resnet50", batch=8)
    assert wl.batch == 8 and wl.macs() == 8 * load_workload("resnet50").macs()


def test_conv_output_size_padding_dilation_groups():
    conv = Conv2d(name="c", H=224, W=224, C=3, K=64, R=7, S=7, stride=(2, 2), padding=(3, 3, 3, 3))
    assert (conv.P, conv.Q) == (112, 112)
    dil = Conv2d(name="d", H=32, W=32, C=8, K=8, R=3, S=3, dilation=(2, 2), padding=(2, 2, 2, 2))
    assert (dil.P, dil.Q) == (32, 32)  # effective 5x5 window
    dw = Conv2d(name="dw", H=56, W=56, C=144, K=144, R=3, S=3, stride=(2, 2), padding=(1, 1, 1, 1), groups=144)
    assert dw.kind == "dwconv" and dw.macs(1) == 28 * 28 * 144 * 9
    asym = Conv2d(name="a", H=5, W=5, C=1, K=1, R=2, S=2, stride=(2, 2), padding=(0, 1, 0, 1))
    assert (asym.P, asym.Q) == (3, 3)


LAYER = "name: n\nlayers:\n  - {name: c1, type: conv2d, H: 8, W: 8, C: 4, K: 8, R: 3, S: 3, padding: 1}\n"


@pytest.mark.parametrize("edit, message", [
    (("R: 3, S: 3, padding: 1", "R: 11, S: 3, padding: 1"),
     "layers[0].R: expected a kernel no larger than the padded input (8 + 2 padding), got 11"),
    (("C: 4, K: 8", "C: 4, K: 8, groups: 3"), "layers[0].groups: expected a divisor of C = 4, got 3"),
    (("H: 8", "H: 0"), "layers[0].H: expected a positive integer, got 0"),
    (("type: conv2d", "type: conv3d"),
     "layers[0].type: expected one of conv2d, gemm, fc, pool, eltwise, nongemm, concat, got 'conv3d'"),
    (("padding: 1", "padding: [1, 2, 3]"),
     "layers[0].padding: expected a non-negative integer, [h, w] or [top, bottom, left, right], at most 65,536, got a list"),
    (("padding: 1", "stride: 0"), "layers[0].stride: expected a positive integer or a list [h, w]"),
    (("S: 3", "S: 3, colour: red"), "layers[0].colour: unknown key, expected one of: name, H, W, C, K, R, S"),
    (("name: n\n", ""), "name: missing required key"),
    (("name: n\n", "name: n\nbatch: 0\n"), "batch: expected a positive integer, got 0"),
    (("name: n\n", "name: n\nowner: me\n"), "owner: unknown key, expected one of: name, batch, phase, dims, inputs, state, sparsity, layers"),
    (("  - {name: c1", "  - {name: c1, type: fc, in_features: 4, out_features: 0}\n  - {name: c2"),
     "layers[0].out_features: expected a positive integer, got 0"),
])
def test_each_workload_rule_is_one_line(write, edit, message):
    path = write("w.yaml", LAYER.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_workload(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_empty_and_duplicate_layers(write):
    with pytest.raises(ConfigError, match=r"layers: expected a non-empty list of layers, got a list"):
        load_workload(write("w.yaml", "name: n\nlayers: []\n"))
    dup = LAYER + "  - {name: c1, type: eltwise, op: add, elements: 4}\n"
    with pytest.raises(ConfigError, match=r"layers\[1\].name: expected a unique layer name, got 'c1' \(also layers\[0\]\)"):
        load_workload(write("w.yaml", dup))


def test_layer_kinds_and_non_gemm_work(write):
    text = LAYER + ("  - {name: p, type: pool, op: max, H: 8, W: 8, C: 8, R: 2, S: 2, stride: 2}\n"
                    "  - {name: f, type: fc, in_features: 128, out_features: 10}\n"
                    "  - {name: a, type: gemm, M: 16, N: 16, K: 8, count: 4, shared_weights: false}\n")
    wl = load_workload(write("w.yaml", text))
    pool, fc, attn = wl.layers[1:]
    assert isinstance(pool, NonGemm) and pool.op == "maxpool" and pool.ops == 4 * 4 * 8 * 4
    assert isinstance(fc, Gemm) and (fc.M, fc.K, fc.N) == (1, 128, 10)
    assert attn.macs(2) == 2 * 4 * 16 * 16 * 8 and attn.weight_elements(2) == 2 * 4 * 8 * 16


def test_workload_in_python():
    with pytest.raises(ConfigError, match="layers: expected a non-empty list of at most 100,000 layers"):
        Workload(name="w", layers=())
    many = tuple(NonGemm(name=f"e{i}", op="add", ops=1) for i in range(100_001))
    with pytest.raises(ConfigError, match="layers: expected a non-empty list of at most 100,000 layers"):
        Workload(name="w", layers=many)


# ---------------------------------------------------------------- the shipped networks' edges

NETWORKS = ["resnet50", "resnet18", "mobilenet_v1", "mobilenet_v2", "vgg16", "alexnet", "bert_base_layer", "googlenet"]


def reads(wl) -> dict[str, list[str]]:
    return {layer.name: [t.name for t in wl.graph.inputs_of(i)] for i, layer in enumerate(wl.layers)}


@pytest.mark.parametrize("name", NETWORKS)
def test_shipped_networks_are_whole_graphs(name):
    # one image (or sequence) in, one result out: no layer reads an input of its own from outside
    # and no tensor is left unread, so every edge is a real one
    wl = load_workload(name)
    g = wl.graph
    assert [t.name for t in g.network_inputs] == ["input"]
    assert [t.name for t in g.network_outputs] == [wl.layers[-1].name]


@pytest.mark.parametrize("name, flatten", [("vgg16", ("pool5", "fc6", 7 * 7 * 512)),
                                           ("alexnet", ("pool5", "fc6", 6 * 6 * 256)),
                                           ("mobilenet_v1", ("avgpool", "fc", 1024))])
def test_chains_line_up(name, flatten):
    wl = load_workload(name)
    assert all(layer.inputs is None for layer in wl.layers)
    assert list(reads(wl).values())[1:] == [[layer.name] for layer in wl.layers[:-1]]
    pool, fc, elements = flatten  # the last pool's output flattens into the first fc
    assert wl.graph.tensor(pool).elements == elements == wl.layers[wl.graph.tensor(fc).producer].K


def test_resnet50_residual_branches_and_projections():
    # He et al. 2016, Fig. 5 / Table 1: every block adds its 1x1c branch to its input, through a 1x1
    # projection in the first block of each stage (v1.5: stride 2 on the 3x3, and on the projection)
    wl = load_workload("resnet50")
    r = reads(wl)
    blocks = [(s, b) for s, n in ((2, 3), (3, 4), (4, 6), (5, 3)) for b in "abcdef"[:n]]
    previous = "maxpool"
    for stage, block in blocks:
        name = f"res{stage}{block}"
        assert r[f"{name}_1x1a"] == [previous]
        if block == "a":
            assert r[f"{name}_proj"] == [previous]
            assert r[f"{name}_add"] == [f"{name}_1x1c", f"{name}_proj"]
        else:
            assert f"{name}_proj" not in r and r[f"{name}_add"] == [f"{name}_1x1c", previous]
        previous = f"{name}_add"
    assert r["avgpool"] == ["res5c_add"] and wl.graph.tensor("avgpool").shape == (1, 1, 2048)
    assert sum(name.endswith("_add") for name in r) == 16


def test_resnet18_shortcuts():
    r = reads(load_workload("resnet18"))
    assert r["res2a_add"] == ["res2a_3x3b", "maxpool"] and r["res2b_add"] == ["res2b_3x3b", "res2a_add"]
    for stage in (3, 4, 5):
        assert r[f"res{stage}a_proj"] == [f"res{stage - 1}b_add"]
        assert r[f"res{stage}a_add"] == [f"res{stage}a_3x3b", f"res{stage}a_proj"]


def test_mobilenet_v2_inverted_residuals():
    # Sandler et al. 2018, Table 2: a residual in every repeat of a stage after its first (stride 1,
    # same width): stages of n = 2, 3, 4, 3, 3 at widths 24, 32, 64, 96, 160 -> 1 + 2 + 3 + 2 + 2 = 10 adds
    r = reads(load_workload("mobilenet_v2"))
    adds = {name: inputs for name, inputs in r.items() if name.endswith("_add")}
    assert adds == {
        "b3_add": ["b3_project", "b2_project"], "b5_add": ["b5_project", "b4_project"],
        "b6_add": ["b6_project", "b5_add"], "b8_add": ["b8_project", "b7_project"],
        "b9_add": ["b9_project", "b8_add"], "b10_add": ["b10_project", "b9_add"],
        "b12_add": ["b12_project", "b11_project"], "b13_add": ["b13_project", "b12_add"],
        "b15_add": ["b15_project", "b14_project"], "b16_add": ["b16_project", "b15_add"],
    }
    assert r["b4_expand"] == ["b3_add"] and r["b17_expand"] == ["b16_add"]


def test_bert_layer_edges():
    wl = load_workload("bert_base_layer")
    r = reads(wl)
    assert r["q_proj"] == r["k_proj"] == r["v_proj"] == ["input"]
    assert r["attn_scores"] == ["q_proj", "k_proj"] and r["attn_context"] == ["softmax", "v_proj"]
    assert r["attn_add_norm"] == ["out_proj", "input"] and r["ffn_add_norm"] == ["ffn_down", "attn_add_norm"]
    assert wl.graph.tensor("input").shape == (128, 768) and wl.graph.tensor("attn_scores").shape == (12, 128, 128)
