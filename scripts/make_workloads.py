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


def conv(name, H, W, C, K, R, S, stride=1, pad=0, groups=1, inputs=None, zeros=None) -> str:
    fields = f"{head(name, 'conv2d', inputs)}, H: {H}, W: {W}, C: {C}, K: {K}, R: {R}, S: {S}"
    if stride != 1:
        fields += f", stride: {stride}"
    if pad:
        fields += f", padding: {pad}"
    if groups != 1:
        fields += f", groups: {groups}"
    if zeros is not None:
        fields += f", sparsity: {{input_zero_fraction: {zeros}}}"
    return "{" + fields + "}"


def eyeriss_zeros(table: str) -> dict[str, float]:
    """Zeros in each conv layer's input feature map as Eyeriss measured them (Chen et al., JSSC
    2017, Table V: AlexNet, Table VI: VGG-16; verbatim copies in measurements/sources/), by our
    layer name (CONV1-2 -> conv1_2)."""
    with open(ROOT / "measurements" / "sources" / table) as f:
        return {r["Layer"].strip().lower().replace("-", "_"): round(float(r[zeros].strip().rstrip("%")) / 100, 6)
                for r in csv.DictReader(f) if r["Layer"].strip() != "Total"
                for zeros in [next(k for k in r if k.startswith("Zeros"))]}


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
    """``elements`` None: as many as its first input holds (``inputs`` then given)."""
    return f"{{{head(name, 'eltwise', inputs)}, op: {op}" + (f", elements: {elements}}}" if elements else "}")


def concat(name, inputs) -> str:
    return f"{{{head(name, 'concat', inputs)}}}"


def out_size(size, kernel, stride, pad) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def table_layer(r: dict, inputs=None, zeros=None) -> str:
    v = {k: int(r[k]) for k in ("H", "W", "C", "K", "R", "S", "stride", "pad", "groups")}
    if r["type"] == "fc":
        return fc(r["layer"], v["H"] * v["W"] * v["C"], v["K"])
    return conv(r["layer"], v["H"], v["W"], v["C"], v["K"], v["R"], v["S"], v["stride"], v["pad"], v["groups"],
                inputs, zeros)


def nongemm(name, op, ops, shape, inputs=None) -> str:
    return f"{{{head(name, 'nongemm', inputs)}, op: {op}, ops: {ops}, shape: [{', '.join(map(str, shape))}]}}"


def write(name: str, header: str, layers: list[str] | tuple[str, list[str]]) -> None:
    """``layers``, or ``(top, layers)`` with ``top`` the workload's keys between ``batch`` and
    ``layers`` (phase, dims, inputs, state) as YAML lines."""
    top, layers = layers if isinstance(layers, tuple) else ("", layers)
    text = "".join(f"# {line}\n" if line else "#\n" for line in header.strip().splitlines())
    text += f"name: {name}\nbatch: 1\n{top}layers:\n" + "".join(f"  - {layer}\n" for layer in layers)
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
    zeros = eyeriss_zeros("eyeriss_vgg16_jssc2017_tableVI.csv")
    for r in rows("vgg16.csv"):
        layers.append(table_layer(r, zeros=zeros.get(r["layer"])))
        if r["layer"] in ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"):
            H, K = int(r["E"]), int(r["K"])
            layers.append(pool(f"pool{r['layer'][4]}", "max", H, H, K, 2, 2, 2))
    return layers


def alexnet() -> list[str]:
    layers = []
    pools = {"conv1": (55, 96), "conv2": (27, 256), "conv5": (13, 256)}
    zeros = eyeriss_zeros("eyeriss_alexnet_jssc2017_tableV.csv")
    for r in rows("alexnet_grouped_caffe.csv"):
        layers.append(table_layer(r, zeros=zeros.get(r["layer"])))
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


# ---------------------------------------------------------------- transformers
# hidden 768, 12 heads of 64, feed-forward 3072: BERT-base, ViT-B/16 and GPT-2 small alike


def attention(p, q_in, tokens, context, hidden=768, heads=12, kv=None) -> list[str]:
    """Q, K, V projections of ``q_in`` (``tokens`` rows), Q.K^T and scores.V per head over
    ``context`` keys, the output projection. ``kv``: the (key, value) tensors to attend over
    (a decode step's caches), else the projections themselves."""
    d = hidden // heads
    keys, values = kv or (f"{p}k", f"{p}v")
    return [
        gemm(f"{p}q", tokens, hidden, hidden, inputs=[q_in]),
        gemm(f"{p}k", tokens, hidden, hidden, inputs=[q_in]),
        gemm(f"{p}v", tokens, hidden, hidden, inputs=[q_in]),
        gemm(f"{p}scores", tokens, context, d, count=heads, shared=False, inputs=[f"{p}q", keys]),
        eltwise(f"{p}softmax", "softmax", None, [f"{p}scores"]),
        gemm(f"{p}context", tokens, d, context, count=heads, shared=False, inputs=[f"{p}softmax", values]),
        gemm(f"{p}out", tokens, hidden, hidden),
    ]


def ffn(p, x, tokens, hidden=768, inner=3072) -> list[str]:
    return [gemm(f"{p}ffn_up", tokens, inner, hidden, inputs=[x]), eltwise(f"{p}gelu", "gelu", None, [f"{p}ffn_up"]),
            gemm(f"{p}ffn_down", tokens, hidden, inner)]


def post_norm_layer(p, x, tokens) -> tuple[list[str], str]:
    """BERT's encoder layer: attention, add & norm, feed-forward, add & norm."""
    layers = attention(p, x, tokens, tokens)
    layers += [eltwise(f"{p}add1", "add", None, [f"{p}out", x]), eltwise(f"{p}norm1", "layernorm", None, [f"{p}add1"])]
    layers += ffn(p, f"{p}norm1", tokens)
    layers += [eltwise(f"{p}add2", "add", None, [f"{p}ffn_down", f"{p}norm1"]),
               eltwise(f"{p}norm2", "layernorm", None, [f"{p}add2"])]
    return layers, f"{p}norm2"


def pre_norm_layer(p, x, tokens, context, kv=None) -> tuple[list[str], str]:
    """ViT's and GPT-2's block: norm, attention, add; norm, feed-forward, add."""
    layers = [eltwise(f"{p}norm1", "layernorm", None, [x])]
    layers += attention(p, f"{p}norm1", tokens, context, kv=kv)
    layers += [eltwise(f"{p}add1", "add", None, [f"{p}out", x]), eltwise(f"{p}norm2", "layernorm", None, [f"{p}add1"])]
    layers += ffn(p, f"{p}norm2", tokens)
    layers += [eltwise(f"{p}add2", "add", None, [f"{p}ffn_down", f"{p}add1"])]
    return layers, f"{p}add2"


def bert_base() -> tuple[str, list[str]]:
    layers, x = [], "embeddings"
    for i in range(12):
        block, x = post_norm_layer(f"l{i}_", x, "seq")
        layers += block
    return "dims: {seq: 128}\ninputs: [{name: embeddings, shape: [seq, 768]}]\n", layers


def vit_b16() -> tuple[str, list[str]]:
    # image / 16 patches a side (224: 14 x 14 = 196) and the class token: 197 tokens
    tokens = "(image // 16) * (image // 16) + 1"
    layers = [conv("patch_embed", "image", "image", 3, 768, 16, 16, 16),
              nongemm("tokens", "add_position", f"({tokens}) * 768", [tokens, 768])]  # class token, positions
    x = "tokens"
    for i in range(12):
        block, x = pre_norm_layer(f"l{i}_", x, tokens, tokens)
        layers += block
    layers += [eltwise("norm", "layernorm", None, [x]), nongemm("class_token", "select", 0, [1, 768]),
               fc("head", 768, 1000)]
    return "dims: {image: 224}\n", layers


GPT2_VOCAB = 50257


def gpt2_prefill() -> tuple[str, list[str]]:
    layers, x = [], "embeddings"
    for i in range(12):
        block, x = pre_norm_layer(f"l{i}_", x, "seq", "seq")
        layers += block
    # the first generated token needs only the last position's logits
    layers += [eltwise("norm", "layernorm", None, [x]), nongemm("last_token", "select", 0, [1, 768]),
               fc("lm_head", 768, GPT2_VOCAB)]
    top = "phase: prefill\ndims: {seq: 512}\ninputs: [{name: embeddings, shape: [seq, 768]}]\n"
    return top, layers


def gpt2_decode() -> tuple[str, list[str]]:
    layers, x, state = [], "embedding", []
    for i in range(12):
        p = f"l{i}_"
        kv = (f"{p}k_cache", f"{p}v_cache")
        state += [f"  - {{name: {p}k_cache, shape: [context, 768], appended_by: {p}k}}\n",
                  f"  - {{name: {p}v_cache, shape: [context, 768], appended_by: {p}v}}\n"]
        block, x = pre_norm_layer(p, x, 1, "context", kv=kv)
        layers += block
    layers += [eltwise("norm", "layernorm", None, [x]), fc("lm_head", 768, GPT2_VOCAB)]
    top = "phase: decode\ndims: {context: 1024}\ninputs: [{name: embedding, shape: [1, 768]}]\nstate:\n" + "".join(state)
    return top, layers


SOURCES = """
Source: tests/data/layer_tables/{table} (shapes from the published network definition; see
tests/data/README.md), with pooling and element-wise layers added from the same definition.
Generated by scripts/make_workloads.py.
"""

ZEROS = """
Each conv layer's sparsity.input_zero_fraction is the fraction of zeros Eyeriss measured in
its input feature map (Chen et al., JSSC 2017, Table {t}; measurements/sources/); it changes
only designs that exploit zeros (a hwconfig's sparsity section, docs/hardware.md)."""

NETWORKS = {
    "resnet50": (resnet50, "ResNet-50 v1.5 (torchvision; stride 2 on the 3x3 conv), 224x224, 4.089 G MACs.\n"
                 + SOURCES.format(table="resnet50_v1.5.csv")),
    "resnet18": (resnet18, "ResNet-18, 224x224, 1.814 G MACs. Source: He et al., \"Deep Residual Learning for\n"
                 "Image Recognition\", CVPR 2016, Table 1 (18-layer column), as built by torchvision.\n"
                 "Generated by scripts/make_workloads.py."),
    "mobilenet_v1": (mobilenet_v1, "MobileNetV1 1.0-224, 568.7 M MACs.\n" + SOURCES.format(table="mobilenet_v1.csv")),
    "mobilenet_v2": (mobilenet_v2, "MobileNetV2 1.0-224, 300.8 M MACs.\n" + SOURCES.format(table="mobilenet_v2.csv")),
    "vgg16": (vgg16, "VGG-16 (configuration D), 224x224, 15.35 G conv MACs + 123.6 M FC MACs.\n"
              + SOURCES.format(table="vgg16.csv") + ZEROS.format(t="VI")),
    "alexnet": (alexnet, "AlexNet as in Caffe (grouped conv2/4/5, 227x227 input), 665.8 M conv MACs.\n"
                + SOURCES.format(table="alexnet_grouped_caffe.csv") + ZEROS.format(t="V")),
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
    "bert_base": (bert_base, """BERT-base, the full encoder: 12 layers at sequence length seq (128 by default; --dim seq=N),
hidden 768, 12 heads of 64, FFN 3072 (Devlin et al., "BERT", NAACL 2019: L=12, H=768, A=12).
Post-norm layers: Q, K, V from the layer's input, Q.K^T and scores.V per head (both operands
activations), the output projection, add & layernorm, FFN with GELU, add & layernorm. The
network input is the embeddings' output; embedding lookup, pooler and classifier are left out.
MACs per layer at seq 128: projections 4 x 128 x 768 x 768 = 301,989,888; Q.K^T and scores.V
2 x 12 x 128 x 128 x 64 = 25,165,824; FFN 2 x 128 x 768 x 3072 = 603,979,776; in all
931,135,488 (= bert_base_layer); 12 layers: 11,173,625,856 MACs (11.17 G). The weights are
12 x (4 x 768^2 + 2 x 768 x 3072) = 84,934,656 of BERT-base's 110 M parameters (the rest:
the embeddings, 23.8 M, biases, norms and the pooler), each used once per token.
Generated by scripts/make_workloads.py."""),
    "vit_b16": (vit_b16, """ViT-B/16 at 224x224 (Dosovitskiy et al., ICLR 2021: patch 16, hidden 768, 12 layers, 12 heads,
MLP 3072): the 16x16/16 patch embedding (196 patches), the class token and positions (197
tokens), 12 pre-norm blocks, the final norm and the 1000-class head on the class token.
The image side is dims.image (224; --dim image=N, a multiple of 16): (N / 16)^2 + 1 tokens.
MACs: patch embedding 196 x 768 x 3 x 16 x 16 = 115,605,504; per block projections
4 x 197 x 768^2 = 464,781,312, Q.K^T and scores.V 2 x 12 x 197^2 x 64 = 59,610,624, MLP
2 x 197 x 768 x 3072 = 929,562,624, in all 1,453,954,560; 12 blocks 17,447,454,720; head
768 x 1000 = 768,000. Total 17,563,828,224 MACs (17.56 G): the 17.6 GFLOPs (multiply-adds)
Touvron et al. (DeiT, ICML 2021, Table 1) give for ViT-B at 224.
Generated by scripts/make_workloads.py."""),
    "gpt2_prefill": (gpt2_prefill, """GPT-2 small (Radford et al. 2019: 12 layers, d_model 768, 12 heads, FFN 3072, vocabulary
50,257), the prefill of a seq-token prompt (512 by default; --dim seq=N): 12 pre-norm blocks
over all tokens (the causal mask is applied in the softmax; the masked scores are computed, as a
dense kernel does), the final norm and the LM head on the last position only, whose logits give
the first token (the latency of this step is the time to first token). The prompt's keys and
values stay where the planner puts them; writing them out as the decode step's KV cache is not
modelled.
MACs per block at seq 512: projections 4 x 512 x 768^2 = 1,207,959,552; Q.K^T and scores.V
2 x 12 x 512^2 x 64 = 402,653,184; FFN 2 x 512 x 768 x 3072 = 2,415,919,104; in all
4,026,531,840; 12 blocks 48,318,382,080; LM head 768 x 50,257 = 38,597,376. Total
48,356,979,456 MACs (48.36 G). The weight MACs are Kaplan et al. 2020's N = 2 n_layer d_model
(2 d_attn + d_ff) = 84,934,656 non-embedding parameters per token: 512 x N = 43,486,543,872.
Generated by scripts/make_workloads.py."""),
    "gpt2_decode": (gpt2_decode, """GPT-2 small (as gpt2_prefill), one decode step at a context of context tokens (1,024 by default,
GPT-2's longest; --dim context=N): one new token per sequence through 12 pre-norm blocks and
the LM head. Each block's K and V projections of the new token are appended to its KV cache
(state: [context, 768] each, the cached tokens and the new one), which Q.K^T and scores.V read
as their right operands; the residency planner places the caches like any tensor (on chip for
the whole step where they fit, docs/engine.md).
MACs per block at context 1,024: projections 4 x 768^2 = 2,359,296; Q.K^T and scores.V
2 x 12 x 1024 x 64 = 1,572,864; FFN 2 x 768 x 3072 = 4,718,592; in all 8,650,752; 12 blocks
103,809,024; LM head 768 x 50,257 = 38,597,376. Total 142,406,400 MACs per token. Bytes at 1 B
per element: weights 84,934,656 + 38,597,376 = 123,532,032; KV cache 24 x 1024 x 768 =
18,874,368 per sequence.
Generated by scripts/make_workloads.py."""),
}


def main() -> None:
    for name, (build, header) in NETWORKS.items():
        write(name, header, build())
        print(f"wrote workloads/{name}.yaml")


if __name__ == "__main__":
    main()
