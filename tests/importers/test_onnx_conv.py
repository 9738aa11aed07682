"""Convolutions from ONNX: padding modes, strides, dilations, groups; golden numbers by hand."""

import pytest

onnx = pytest.importorskip("onnx")

import accelsim  # noqa: E402
from accelsim.config.loader import load_workload, workload_to_yaml  # noqa: E402
from accelsim.config.workload import Conv2d, Gemm, NonGemm  # noqa: E402
from accelsim.importers.onnx import import_onnx, read_onnx  # noqa: E402
from onnx_graphs import conv_stack, ints, node, save, value, weight  # noqa: E402

# conv_stack, input 3 x 32 x 32. Output size: floor((H + pads - dilation*(R-1) - 1) / stride) + 1.
#   conv1     3->16, 3x3, pads 1            -> 32x32   MACs 32*32*16*3*9          = 442,368
#   relu1     16*32*32                      = 16,384 ops
#   pool1     max 2x2 /2 -> 16x16x16, 4096 outputs * 4 window = 16,384 ops
#   conv2     16->32, 3x3 /2, ONNX pads [top 0, left 1, bottom 1, right 0]
#             H: (16+0+1-3)//2+1 = 8, W: (16+1+0-3)//2+1 = 8   MACs 8*8*32*16*9 = 294,912
#   grouped3  32->64, group 4, 3x3 /2, SAME_UPPER: out ceil(8/2) = 4,
#             total pad (4-1)*2+3-8 = 1 -> odd pixel at the end: (0, 1)   MACs 4*4*64*(32/4)*9 = 73,728
#   dw4       64, group 64, 3x3 /2, SAME_LOWER: out ceil(4/2) = 2,
#             total pad (2-1)*2+3-4 = 1 -> odd pixel at the start: (1, 0) MACs 2*2*64*1*9 = 2,304
#   pw5       64->128, 1x1, VALID            -> 2x2     MACs 2*2*128*64            = 32,768
#   dilated6  128->128, 3x3 dilation 2 (span 5), pads 2: (2+4-5)+1 = 2   MACs 2*2*128*128*9 = 589,824
#   gap       128*2*2 inputs                 = 512 ops
#   flatten   a view                         = 0 ops
#   fc        M 1, N 10, K 128               MACs 1,280
CONV_STACK_MACS = 442_368 + 294_912 + 73_728 + 2_304 + 32_768 + 589_824 + 1_280  # = 1,437,184


def test_conv_stack_layers_match_hand_worked_shapes(tmp_path):
    wl = import_onnx(conv_stack(tmp_path / "net.onnx"))
    assert [layer.name for layer in wl.layers] == [
        "conv1", "relu1", "pool1", "conv2", "grouped3", "dw4", "pw5", "dilated6", "gap", "flatten", "fc"]
    conv = {layer.name: layer for layer in wl.layers if isinstance(layer, Conv2d)}
    assert conv["conv1"] == Conv2d(name="conv1", H=32, W=32, C=3, K=16, R=3, S=3, padding=(1, 1, 1, 1))
    assert conv["conv2"] == Conv2d(name="conv2", H=16, W=16, C=16, K=32, R=3, S=3, stride=(2, 2),
                                   padding=(0, 1, 1, 0))  # accelsim order: top, bottom, left, right
    assert conv["grouped3"] == Conv2d(name="grouped3", H=8, W=8, C=32, K=64, R=3, S=3, stride=(2, 2),
                                      padding=(0, 1, 0, 1), groups=4)
    assert conv["dw4"] == Conv2d(name="dw4", H=4, W=4, C=64, K=64, R=3, S=3, stride=(2, 2),
                                 padding=(1, 0, 1, 0), groups=64)
    assert conv["dw4"].kind == "dwconv" and conv["grouped3"].kind == "gconv"
    assert conv["pw5"] == Conv2d(name="pw5", H=2, W=2, C=64, K=128, R=1, S=1)
    assert conv["dilated6"] == Conv2d(name="dilated6", H=2, W=2, C=128, K=128, R=3, S=3, padding=(2, 2, 2, 2),
                                      dilation=(2, 2))
    assert [(c.P, c.Q) for c in conv.values()] == [(32, 32), (8, 8), (4, 4), (2, 2), (2, 2), (2, 2)]
    assert {name: c.macs(1) for name, c in conv.items()} == {
        "conv1": 442_368, "conv2": 294_912, "grouped3": 73_728, "dw4": 2_304, "pw5": 32_768, "dilated6": 589_824}
    assert wl.layers[-1] == Gemm(name="fc", M=1, N=10, K=128)
    nongemm = {layer.name: (layer.op, layer.ops) for layer in wl.layers if isinstance(layer, NonGemm)}
    assert nongemm == {"relu1": ("relu", 16_384), "pool1": ("maxpool", 16_384),
                       "gap": ("globalaveragepool", 512), "flatten": ("flatten", 0)}
    assert wl.macs() == CONV_STACK_MACS == 1_437_184
    assert wl.batch == 1 and wl.name == "net" and wl.source.endswith("net.onnx")


def test_batch_from_the_model_or_overridden(tmp_path):
    fixed = read_onnx(conv_stack(tmp_path / "b2.onnx", batch=2))
    # per-sample layers; the model's batch of 2 is the workload's batch
    assert fixed.workload.batch == 2 and fixed.batch_origin == "from the model"
    assert fixed.workload.macs() == 2 * CONV_STACK_MACS
    assert [l.ops for l in fixed.workload.layers if isinstance(l, NonGemm)] == [16_384, 16_384, 512, 0]
    assert import_onnx(tmp_path / "b2.onnx", batch=8).macs() == 8 * CONV_STACK_MACS
    dynamic = read_onnx(conv_stack(tmp_path / "dyn.onnx", batch="N"))
    assert dynamic.workload.batch == 1 and "dynamic" in dynamic.batch_origin
    assert import_onnx(tmp_path / "dyn.onnx", batch=3).macs() == 3 * CONV_STACK_MACS
    assert import_onnx(tmp_path / "dyn.onnx", dims={"N": 5}).batch == 5


def test_load_workload_and_the_yaml_round_trip(tmp_path):
    path = conv_stack(tmp_path / "net.onnx")
    wl = accelsim.load_workload(str(path), batch=4)
    assert wl.batch == 4 and wl.macs() == 4 * CONV_STACK_MACS
    text = workload_to_yaml(wl)
    (tmp_path / "net.yaml").write_text(text)
    back = load_workload(tmp_path / "net.yaml")
    assert back.layers == wl.layers and back.batch == 4


def test_one_d_three_d_and_transposed_convolutions(tmp_path):
    nodes = [
        # 1-D: length 100, 8->16, kernel 5, stride 2, pads [begin 2, end 1]: (100+3-5)//2+1 = 50
        node("Conv", ["a", "w1d"], ["a1"], "conv1d", strides=[2], pads=[2, 1]),
        # 3-D: 8x8x8, 4->8, 3x3x3, pads 1 -> 8x8x8; im2col GEMM M 512, K 4*27 = 108, N 8
        node("Conv", ["b", "w3d"], ["b1"], "conv3d", pads=[1, 1, 1, 1, 1, 1]),
        # transposed: 16x8x8 -> 8 channels, 4x4 /2 pads 1 -> 16x16; GEMM M 64 pixels, K 16, N 8*16 = 128
        node("ConvTranspose", ["c", "wt"], ["c1"], "deconv", strides=[2, 2], pads=[1, 1, 1, 1]),
        # grouped transposed, group 2: K 16/2 = 8, N 4*16 = 64, 2 instances
        node("ConvTranspose", ["c", "wtg"], ["c2"], "deconv_g", strides=[2, 2], pads=[1, 1, 1, 1], group=2),
    ]
    path = save(tmp_path / "convs.onnx", nodes,
                [value("a", [1, 8, 100]), value("b", [1, 4, 8, 8, 8]), value("c", [1, 16, 8, 8])],
                [value(n, None) for n in ("a1", "b1", "c1", "c2")],
                [weight("w1d", [16, 8, 5]), weight("w3d", [8, 4, 3, 3, 3]), weight("wt", [16, 8, 4, 4]),
                 weight("wtg", [16, 4, 4, 4])])
    conv1d, conv3d, deconv, deconv_g = import_onnx(path).layers
    assert conv1d == Conv2d(name="conv1d", H=1, W=100, C=8, K=16, R=1, S=5, stride=(1, 2), padding=(0, 0, 2, 1))
    assert (conv1d.P, conv1d.Q) == (1, 50) and conv1d.macs(1) == 50 * 16 * 8 * 5 == 32_000
    # the im2col GEMM reads its unfolded input (M x K), not the tensor b: an input of its own
    assert conv3d == Gemm(name="conv3d", M=512, N=8, K=108, inputs=("conv3d:input",))
    assert conv3d.macs(1) == 8 * 8 * 8 * 8 * 4 * 27 == 442_368
    assert deconv == Gemm(name="deconv", M=64, N=128, K=16, inputs=("c",))
    assert deconv.macs(1) == 8 * 8 * 16 * 8 * 4 * 4 == 131_072  # every input pixel x channel x output patch
    assert deconv_g == Gemm(name="deconv_g", M=64, N=64, K=8, count=2, inputs=("c",))
    assert deconv_g.macs(1) == 8 * 8 * 16 * 4 * 4 * 4 == 65_536


def test_frames_folded_into_the_batch_become_an_im2col_gemm(tmp_path):
    # a video model reshapes [batch 1, 4 frames, 3, 8, 8] to [4, 3, 8, 8]: four images per sample
    nodes = [node("Reshape", ["v", "to_images"], ["imgs"], "frames"),
             node("Conv", ["imgs", "w"], ["y"], "conv", pads=[1, 1, 1, 1])]
    path = save(tmp_path / "video.onnx", nodes, [value("v", [1, 4, 3, 8, 8])], [value("y", None)],
                [ints("to_images", [4, 3, 8, 8]), weight("w", [16, 3, 3, 3])])
    conv = import_onnx(path).layers[1]
    # rows: 4 images x 8x8 outputs = 256; K = 3*3*3 = 27; N = 16
    assert conv == Gemm(name="conv", M=256, N=16, K=27, inputs=("conv:input",))  # the unfolded input
    assert conv.macs(1) == 4 * 8 * 8 * 16 * 3 * 9 == 110_592


def test_weights_in_an_external_data_file_are_not_needed(tmp_path):
    model = onnx.load(str(conv_stack(tmp_path / "net.onnx")))
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, location="ext.data", size_threshold=0)
    assert import_onnx(tmp_path / "ext.onnx").macs() == CONV_STACK_MACS
    (tmp_path / "ext.data").unlink()  # shapes are in the model file; only values would be read
    assert import_onnx(tmp_path / "ext.onnx").macs() == CONV_STACK_MACS


def test_weight_density_is_read_from_the_initializers(tmp_path):
    # a 4 -> 8 1x1 conv whose 32 weights hold 8 non-zeros (density 0.25) and a gemm with dense
    # weights: only the pruned one gets a sparsity
    import numpy as np
    from onnx import numpy_helper

    pruned = np.zeros((8, 4, 1, 1), dtype=np.float32)
    pruned[:, 0] = 1.0
    dense = np.ones((8, 2), dtype=np.float32)
    path = save(tmp_path / "pruned.onnx",
                [node("Conv", ["x", "w"], ["y"], "conv"), node("Flatten", ["y"], ["f"], "flat"),
                 node("Gemm", ["f", "g"], ["z"], "fc")],
                [value("x", [1, 4, 1, 1])], [value("z", [1, 2])],
                [numpy_helper.from_array(pruned, "w"), numpy_helper.from_array(dense, "g")])
    layers = {layer.name: layer for layer in import_onnx(path).layers}
    assert layers["conv"].sparsity.weight_density == 0.25
    assert layers["fc"].sparsity is None
