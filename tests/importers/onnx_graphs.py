"""Small ONNX models built with onnx.helper, so the importer tests need no downloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def value(name: str, shape: list | None, dtype: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    """A graph input or output; ``shape`` entries are sizes, dim_param names, or None (unnamed)."""
    return helper.make_tensor_value_info(name, dtype, shape)


def weight(name: str, shape: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def ints(name: str, values: list[int] | int) -> onnx.TensorProto:
    """An int64 constant; a plain int is a scalar."""
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def node(op: str, inputs: list[str], outputs: list[str], name: str, **attrs) -> onnx.NodeProto:
    return helper.make_node(op, inputs, outputs, name=name, **attrs)


def save(path: Path, nodes: list, inputs: list, outputs: list, initializers: list = (), opset: int = OPSET,
         extra_opsets: dict[str, int] | None = None) -> Path:
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(initializers))
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in (extra_opsets or {}).items()]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def conv_stack(path: Path, batch: int | str = 1) -> Path:
    """Input 3x32x32 through every convolution flavour, pooling, and a final Gemm (see test_onnx_conv)."""
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("Relu", ["c1"], ["r1"], "relu1"),
        node("MaxPool", ["r1"], ["p1"], "pool1", kernel_shape=[2, 2], strides=[2, 2]),
        # ONNX pads: [top, left, bottom, right]
        node("Conv", ["p1", "w2"], ["c2"], "conv2", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 1, 0]),
        node("Conv", ["c2", "w3"], ["c3"], "grouped3", group=4, strides=[2, 2], auto_pad="SAME_UPPER"),
        node("Conv", ["c3", "w4"], ["c4"], "dw4", group=64, strides=[2, 2], auto_pad="SAME_LOWER"),
        node("Conv", ["c4", "w5"], ["c5"], "pw5", auto_pad="VALID"),
        node("Conv", ["c5", "w6"], ["c6"], "dilated6", dilations=[2, 2], pads=[2, 2, 2, 2]),
        node("GlobalAveragePool", ["c6"], ["g"], "gap"),
        node("Flatten", ["g"], ["f"], "flatten"),
        node("Gemm", ["f", "wfc", "bfc"], ["y"], "fc", transB=1),
    ]
    inits = [weight("w1", [16, 3, 3, 3]), weight("b1", [16]), weight("w2", [32, 16, 3, 3]),
             weight("w3", [64, 8, 3, 3]), weight("w4", [64, 1, 3, 3]), weight("w5", [128, 64, 1, 1]),
             weight("w6", [128, 128, 3, 3]), weight("wfc", [10, 128]), weight("bfc", [10])]
    return save(path, nodes, [value("x", [batch, 3, 32, 32])], [value("y", None)], inits)


def transformer_block(path: Path, batch: int | str = "batch", seq: int | str = "seq") -> Path:
    """One encoder block, hidden 64, 4 heads of 16, FFN 128 (see test_onnx_transformer).

    Attention is batched MatMul between activations; the first norm is LayerNormalization,
    the second is written out as the element-wise ops exporters produce.
    """
    nodes = [
        node("MatMul", ["x", "wq"], ["q"], "q_proj"),
        node("MatMul", ["x", "wk"], ["k"], "k_proj"),
        node("MatMul", ["x", "wv"], ["v"], "v_proj"),
        node("Reshape", ["q", "heads"], ["q4"], "q_split"),
        node("Transpose", ["q4"], ["qh"], "q_heads", perm=[0, 2, 1, 3]),
        node("Reshape", ["k", "heads"], ["k4"], "k_split"),
        node("Transpose", ["k4"], ["kt"], "k_heads", perm=[0, 2, 3, 1]),
        node("Reshape", ["v", "heads"], ["v4"], "v_split"),
        node("Transpose", ["v4"], ["vh"], "v_heads", perm=[0, 2, 1, 3]),
        node("MatMul", ["qh", "kt"], ["s"], "scores"),
        node("Softmax", ["s"], ["p"], "softmax", axis=-1),
        node("MatMul", ["p", "vh"], ["c"], "context"),
        node("Transpose", ["c"], ["ct"], "merge_heads", perm=[0, 2, 1, 3]),
        node("Reshape", ["ct", "hidden"], ["c3"], "merge"),
        node("MatMul", ["c3", "wo"], ["o"], "out_proj"),
        node("Add", ["o", "x"], ["r1"], "residual1"),
        node("LayerNormalization", ["r1", "gamma", "beta"], ["n1"], "norm1", axis=-1),
        node("MatMul", ["n1", "w_up"], ["u"], "ffn_up"),
        node("Relu", ["u"], ["ur"], "ffn_relu"),
        node("MatMul", ["ur", "w_down"], ["d"], "ffn_down"),
        node("Add", ["d", "n1"], ["r2"], "residual2"),
        # layer norm as exporters write it out
        node("ReduceMean", ["r2"], ["mu"], "norm2_mean", axes=[-1]),
        node("Sub", ["r2", "mu"], ["xc"], "norm2_center"),
        node("Mul", ["xc", "xc"], ["sq"], "norm2_square"),
        node("ReduceMean", ["sq"], ["var"], "norm2_var", axes=[-1]),
        node("Add", ["var", "eps"], ["ve"], "norm2_eps"),
        node("Sqrt", ["ve"], ["sd"], "norm2_sqrt"),
        node("Div", ["xc", "sd"], ["y"], "norm2_scale"),
    ]
    inits = [weight("wq", [64, 64]), weight("wk", [64, 64]), weight("wv", [64, 64]), weight("wo", [64, 64]),
             weight("w_up", [64, 128]), weight("w_down", [128, 64]), weight("gamma", [64]),
             weight("beta", [64]), weight("eps", [1]), ints("heads", [0, 0, 4, 16]), ints("hidden", [0, 0, 64])]
    return save(path, nodes, [value("x", [batch, seq, 64])], [value("y", None)], inits)


def residual_block(path: Path) -> Path:
    """A ResNet basic block with a projection, input 8 x 8 x 8 (see test_onnx_edges).

    main: conv_a 3x3 8->16, BN, ReLU, conv_b 3x3 16->16, BN; shortcut: proj 1x1 8->16 on the
    block input; add the two, ReLU.
    """
    nodes = [
        node("Conv", ["x", "wa"], ["a"], "conv_a", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["a", "g16", "b16", "m16", "v16"], ["an"], "bn_a"),
        node("Relu", ["an"], ["ar"], "relu_a"),
        node("Conv", ["ar", "wb"], ["b"], "conv_b", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["b", "g16", "b16", "m16", "v16"], ["bn"], "bn_b"),
        node("Conv", ["x", "wp"], ["p"], "proj", kernel_shape=[1, 1]),
        node("Add", ["bn", "p"], ["s"], "add"),
        node("Relu", ["s"], ["y"], "relu_out"),
    ]
    inits = [weight("wa", [16, 8, 3, 3]), weight("wb", [16, 16, 3, 3]), weight("wp", [16, 8, 1, 1])]
    inits += [weight(n, [16]) for n in ("g16", "b16", "m16", "v16")]
    return save(path, nodes, [value("x", [1, 8, 8, 8])], [value("y", None)], inits)


def inception_block(path: Path) -> Path:
    """Three branches on a 16 x 8 x 8 input joined along the channels, then a classifier.

    b1 1x1 16->8; b2 1x1 16->4, ReLU, 3x3 4->8; b3 max pool 3x3/1 pad 1, 1x1 16->4;
    concat -> 8 x 8 x 20; global average pool, flatten, Gemm 20->10; and b1, b2 joined along the
    height (not the channels), which stays non-GEMM work.
    """
    nodes = [
        node("Conv", ["x", "w1"], ["b1"], "b1", kernel_shape=[1, 1]),
        node("Conv", ["x", "w2r"], ["b2r"], "b2_reduce", kernel_shape=[1, 1]),
        node("Relu", ["b2r"], ["b2a"], "b2_relu"),
        node("Conv", ["b2a", "w2"], ["b2"], "b2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("MaxPool", ["x"], ["b3p"], "b3_pool", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("Conv", ["b3p", "w3"], ["b3"], "b3", kernel_shape=[1, 1]),
        node("Concat", ["b1", "b2", "b3"], ["cat"], "cat", axis=1),
        node("Concat", ["b1", "b2"], ["wide"], "wide", axis=2),
        node("GlobalAveragePool", ["cat"], ["gap"], "gap"),
        node("Flatten", ["gap"], ["f"], "flatten"),
        node("Gemm", ["f", "wfc"], ["y"], "fc", transB=1),
    ]
    inits = [weight("w1", [8, 16, 1, 1]), weight("w2r", [4, 16, 1, 1]), weight("w2", [8, 4, 3, 3]),
             weight("w3", [4, 16, 1, 1]), weight("wfc", [10, 20])]
    return save(path, nodes, [value("x", [1, 16, 8, 8])], [value("y", None), value("wide", None)], inits)
