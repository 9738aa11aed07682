import csv

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
        assert again.layers == wl.layers


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
     "layers[0].type: expected one of conv2d, gemm, fc, pool, eltwise, nongemm, got 'conv3d'"),
    (("padding: 1", "padding: [1, 2, 3]"),
     "layers[0].padding: expected a non-negative integer, [h, w] or [top, bottom, left, right], at most 65,536, got a list"),
    (("padding: 1", "stride: 0"), "layers[0].stride: expected a positive integer or a list [h, w]"),
    (("S: 3", "S: 3, colour: red"), "layers[0].colour: unknown key, expected one of: name, H, W, C, K, R, S"),
    (("name: n\n", ""), "name: missing required key"),
    (("name: n\n", "name: n\nbatch: 0\n"), "batch: expected a positive integer, got 0"),
    (("name: n\n", "name: n\nowner: me\n"), "owner: unknown key, expected one of: name, batch, layers"),
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
