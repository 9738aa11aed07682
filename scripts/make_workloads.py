#!/usr/bin/env python3
"""Regenerate the shipped network workloads in ``workloads/`` from published layer tables.

The GEMM layers come from ``tests/data/layer_tables/`` (shapes computed from the published
network definitions; see that folder's README). Pooling and element-wise layers, which the
tables do not list, are added from the same network definitions. ResNet-18 and the BERT-base
encoder layer have no table: they are written from their papers' architecture tables (He et
al. 2016, Table 1; Devlin et al. 2019, BERT-base: hidden 768, 12 heads, FFN 3072).

Every layer names its ``inputs`` where the previous layer's output is not what it reads:
residual branches, projections, the attention operands (docs/workloads.md, "Graph").

Run from the repository root: ``python scripts/make_workloads.py``. The tests check every
shipped workload's MACs against the tables, independently of this script.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tests" / "data" / "layer_tables"
OUT = ROOT / "workloads"


def rows(table: str) -> list[dict]:
    with open(TABLES / table) as f:
        return list(csv.DictReader(f))


def head(name, kind, inputs) -> str:
    """``name: x, type: t`` and, when the layer does not read the previous output, its inputs."""
    return f"name: {name}, type: {kind}" + (f", inputs: [{', '.join(inputs)}]" if inputs else "")


def conv(name, H, W, C, K, R, S, stride=1, pad=0, groups=1, inputs=None) -> str:
    fields = f"{head(name, 'conv2d', inputs)}, H: {H}, W: {W}, C: {C}, K: {K}, R: {R}, S: {S}"
    if stride != 1:
        fields += f", stride: {stride}"
    if pad:
        fields += f", padding: {pad}"
    if groups != 1:
        fields += f", groups: {groups}"
    return "{" + fields + "}"


def fc(name, n_in, n_out) -> str:
    return f"{{name: {name}, type: fc, in_features: {n_in}, out_features: {n_out}}}"


def gemm(name, M, N, K, count=1, shared=True, inputs=None) -> str:
    extra = f", count: {count}" if count != 1 else ""
    extra += ", shared_weights: false" if not shared else ""
    return f"{{{head(name, 'gemm', inputs)}, M: {M}, N: {N}, K: {K}{extra}}}"


def pool(name, op, H, W, C, R, S, stride, pad=0, inputs=None) -> str:
    return (f"{{{head(name, 'pool', inputs)}, op: {op}, H: {H}, W: {W}, C: {C}, R: {R}, S: {S}, "
            f"stride: {stride}" + (f", padding: {pad}" if pad else "") + "}")


def eltwise(name, op, elements, inputs=None) -> str:
    return f"{{{head(name, 'eltwise', inputs)}, op: {op}, elements: {elements}}}"


def concat(name, inputs) -> str:
    return f"{{{head(name, 'concat', inputs)}}}"


def out_size(size, kernel, stride, pad) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def table_layer(r: dict, inputs=None) -> str:
    v = {k: int(r[k]) for k in ("H", "W", "C", "K", "R", "S", "stride", "pad", "groups")}
    if r["type"] == "fc":
        return fc(r["layer"], v["H"] * v["W"] * v["C"], v["K"])
    return conv(r["layer"], v["H"], v["W"], v["C"], v["K"], v["R"], v["S"], v["stride"], v["pad"], v["groups"],
                inputs)


def write(name: str, header: str, layers: list[str]) -> None:
    text = "".join(f"# {line}\n" if line else "#\n" for line in header.strip().splitlines())
    text += f"name: {name}\nbatch: 1\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)
    (OUT / f"{name}.yaml").write_text(text)


def resnet50() -> list[str]:
    layers = []
    table = rows("resnet50_v1.5.csv")
    names = {r["layer"] for r in table}
    block_in = "maxpool"  # the tensor that enters the current block: the shortcut's source
    for r in table:
        name = r["layer"]
        if name == "fc":
            layers.append(pool("avgpool", "avg", 7, 7, 2048, 7, 7, 1))
        # the projection reads the block's input, not the branch conv before it
        layers.append(table_layer(r, [block_in] if name.endswith("_proj") else None))
        if name == "conv1":
            layers.append(pool("maxpool", "max", 112, 112, 64, 3, 3, 2, 1))
        block = name.split("_")[0]
        # the residual add closes a block after its last conv (1x1c, or the projection)
        nxt = table[table.index(r) + 1]["layer"] if r is not table[-1] else ""
        if name.startswith("res") and not nxt.startswith(block):
            E, K = int(r["E"]), int(r["K"])
            shortcut = f"{block}_proj" if f"{block}_proj" in names else block_in
            layers.append(eltwise(f"{block}_add", "add", E * E * K, [f"{block}_1x1c", shortcut]))
            block_in = f"{block}_add"
    return layers


def resnet18() -> list[str]:
    layers = [conv("conv1", 224, 224, 3, 64, 7, 7, 2, 3), pool("maxpool", "max", 112, 112, 64, 3, 3, 2, 1)]
    size, channels, block_in = 56, 64, "maxpool"
    for stage, width in enumerate((64, 128, 256, 512), start=2):
        for block in "ab":
            stride = 2 if (stage > 2 and block == "a") else 1
            prefix = f"res{stage}{block}"
            out = out_size(size, 3, stride, 1)
            layers.append(conv(f"{prefix}_3x3a", size, size, channels, width, 3, 3, stride, 1))
            layers.append(conv(f"{prefix}_3x3b", out, out, width, width, 3, 3, 1, 1))
            shortcut = block_in
            if stride != 1 or channels != width:
                shortcut = f"{prefix}_proj"
                layers.append(conv(shortcut, size, size, channels, width, 1, 1, stride, 0, inputs=[block_in]))
            layers.append(eltwise(f"{prefix}_add", "add", out * out * width, [f"{prefix}_3x3b", shortcut]))
            size, channels, block_in = out, width, f"{prefix}_add"
    layers += [pool("avgpool", "avg", 7, 7, 512, 7, 7, 1), fc("fc", 512, 1000)]
    return layers


def mobilenet_v1() -> list[str]:
    layers = []
    for r in rows("mobilenet_v1.csv"):
        if r["type"] == "fc":
            layers.append(pool("avgpool", "avg", 7, 7, 1024, 7, 7, 1))
        layers.append(table_layer(r))
    return layers


def mobilenet_v2() -> list[str]:
    layers = []
    block_in: dict[str, tuple[int, int]] = {}
    block_out = "conv1"  # the tensor the current block reads: the residual's source
    for r in rows("mobilenet_v2.csv"):
        name = r["layer"]
        if r["type"] == "fc":
            layers.append(pool("avgpool", "avg", 7, 7, 1280, 7, 7, 1))
        layers.append(table_layer(r))
        block = name.split("_")[0]
        if block.startswith("b") and block not in block_in:
            block_in[block] = (int(r["C"]), int(r["H"]))
        if name.endswith("_project"):
            c_in, h_in = block_in[block]
            # inverted residual: an add when the block keeps both shape and channels
            if c_in == int(r["K"]) and h_in == int(r["E"]):
                layers.append(eltwise(f"{block}_add", "add", int(r["E"]) * int(r["F"]) * int(r["K"]),
                                      [name, block_out]))
                name = f"{block}_add"
            block_out = name
    return layers


def vgg16() -> list[str]:
    layers = []
    for r in rows("vgg16.csv"):
        layers.append(table_layer(r))
        if r["layer"] in ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"):
            H, K = int(r["E"]), int(r["K"])
            layers.append(pool(f"pool{r['layer'][4]}", "max", H, H, K, 2, 2, 2))
    return layers


def alexnet() -> list[str]:
    layers = []
    pools = {"conv1": (55, 96), "conv2": (27, 256), "conv5": (13, 256)}
    for r in rows("alexnet_grouped_caffe.csv"):
        layers.append(table_layer(r))
        if r["layer"] in pools:
            H, C = pools[r["layer"]]
            layers.append(pool(f"pool{r['layer'][4]}", "max", H, H, C, 3, 3, 2))
    return layers


# Szegedy et al. 2015, Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj of each module
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def googlenet() -> list[str]:
    # max pools 3x3 / 2 pad 1: floor sizing gives Table 1's 56, 28, 14, 7 (Caffe rounds up, unpadded)
    layers = [conv("conv1", 224, 224, 3, 64, 7, 7, 2, 3), pool("pool1", "max", 112, 112, 64, 3, 3, 2, 1),
              conv("conv2_reduce", 56, 56, 64, 64, 1, 1), conv("conv2", 56, 56, 64, 192, 3, 3, 1, 1),
              pool("pool2", "max", 56, 56, 192, 3, 3, 2, 1)]
    size, channels, x = 28, 192, "pool2"
    for module, (n1, r3, n3, r5, n5, proj) in INCEPTION.items():
        if module in ("4a", "5a"):  # named as in the Caffe model: pool3 before 4a, pool4 before 5a
            x = "pool3" if module == "4a" else "pool4"
            layers.append(pool(x, "max", size, size, channels, 3, 3, 2, 1))
            size = out_size(size, 3, 2, 1)
        m = f"inception{module}"
        # four branches read the module's input; the concat joins them along the channels
        layers += [
            conv(f"{m}_1x1", size, size, channels, n1, 1, 1),
            conv(f"{m}_3x3_reduce", size, size, channels, r3, 1, 1, inputs=[x]),
            conv(f"{m}_3x3", size, size, r3, n3, 3, 3, 1, 1),
            conv(f"{m}_5x5_reduce", size, size, channels, r5, 1, 1, inputs=[x]),
            conv(f"{m}_5x5", size, size, r5, n5, 5, 5, 1, 2),
            pool(f"{m}_pool", "max", size, size, channels, 3, 3, 1, 1, inputs=[x]),
            conv(f"{m}_pool_proj", size, size, channels, proj, 1, 1),
            concat(m, [f"{m}_1x1", f"{m}_3x3", f"{m}_5x5", f"{m}_pool_proj"]),
        ]
        channels, x = n1 + n3 + n5 + proj, m
    layers += [pool("avgpool", "avg", 7, 7, 1024, 7, 7, 1), fc("fc", 1024, 1000)]
    return layers


def bert_base_layer(seq: int = 128, hidden: int = 768, heads: int = 12, ffn: int = 3072) -> list[str]:
    d = hidden // heads
    return [
        gemm("q_proj", seq, hidden, hidden),
        gemm("k_proj", seq, hidden, hidden, inputs=["input"]),  # q, k and v all read the layer's input
        gemm("v_proj", seq, hidden, hidden, inputs=["input"]),
        gemm("attn_scores", seq, seq, d, count=heads, shared=False, inputs=["q_proj", "k_proj"]),
        eltwise("softmax", "softmax", heads * seq * seq),
        gemm("attn_context", seq, d, seq, count=heads, shared=False, inputs=["softmax", "v_proj"]),
        gemm("out_proj", seq, hidden, hidden),
        eltwise("attn_add_norm", "add_layernorm", seq * hidden, ["out_proj", "input"]),
        gemm("ffn_up", seq, ffn, hidden),
        eltwise("gelu", "gelu", seq * ffn),
        gemm("ffn_down", seq, hidden, ffn),
        eltwise("ffn_add_norm", "add_layernorm", seq * hidden, ["ffn_down", "attn_add_norm"]),
    ]


SOURCES = """
Source: tests/data/layer_tables/{table} (shapes from the published network definition; see
tests/data/README.md), with pooling and element-wise layers added from the same definition.
Generated by scripts/make_workloads.py.
"""

NETWORKS = {
    "resnet50": (resnet50, "ResNet-50 v1.5 (torchvision; stride 2 on the 3x3 conv), 224x224, 4.089 G MACs.\n"
                 + SOURCES.format(table="resnet50_v1.5.csv")),
    "resnet18": (resnet18, "ResNet-18, 224x224, 1.814 G MACs. Source: He et al., \"Deep Residual Learning for\n"
                 "Image Recognition\", CVPR 2016, Table 1 (18-layer column), as built by torchvision.\n"
                 "Generated by scripts/make_workloads.py."),
    "mobilenet_v1": (mobilenet_v1, "MobileNetV1 1.0-224, 568.7 M MACs.\n" + SOURCES.format(table="mobilenet_v1.csv")),
    "mobilenet_v2": (mobilenet_v2, "MobileNetV2 1.0-224, 300.8 M MACs.\n" + SOURCES.format(table="mobilenet_v2.csv")),
    "vgg16": (vgg16, "VGG-16 (configuration D), 224x224, 15.35 G conv MACs + 123.6 M FC MACs.\n"
              + SOURCES.format(table="vgg16.csv")),
    "alexnet": (alexnet, "AlexNet as in Caffe (grouped conv2/4/5, 227x227 input), 665.8 M conv MACs.\n"
                + SOURCES.format(table="alexnet_grouped_caffe.csv")),
    "googlenet": (googlenet, "GoogLeNet (Inception v1), 224x224, 1.583 G MACs. Source: Szegedy et al., \"Going Deeper\n"
                  "with Convolutions\", CVPR 2015, Table 1: every layer's size and the six branch widths of each\n"
                  "Inception module; the four branches of a module are joined by a concat. Left out, as they do\n"
                  "no MACs at inference: the auxiliary classifiers (training only), the two local response\n"
                  "normalisations of Figure 3, dropout and the softmax. The paper's budget is \"1.5 billion\n"
                  "multiply-adds\"; Table 1 gives conv1 as 34M ops where 64 filters of 7x7x3 at 112x112 are\n"
                  "118.0M MACs, which is the difference (tests/config/test_workload.py works it out).\n"
                  "Generated by scripts/make_workloads.py."),
    "bert_base_layer": (bert_base_layer, "One BERT-base encoder layer at sequence length 128 (hidden 768, 12 heads of 64,\n"
                        "FFN 3072): Devlin et al., \"BERT\", NAACL 2019. 931.1 M MACs per sequence.\n"
                        "Attention matmuls multiply two activations (shared_weights: false).\n"
                        "Generated by scripts/make_workloads.py."),
}


def main() -> None:
    for name, (build, header) in NETWORKS.items():
        write(name, header, build())
        print(f"wrote workloads/{name}.yaml")


if __name__ == "__main__":
    main()
