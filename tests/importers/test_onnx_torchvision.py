"""Real exporter output: torchvision networks (random weights, nothing downloaded) against the shipped zoo.

Skipped unless torch and torchvision import; accelsim does not depend on either.
"""

import warnings
from collections import Counter

import pytest

pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from accelsim import load_workload  # noqa: E402
from accelsim.config.workload import Conv2d, Gemm  # noqa: E402
from accelsim.importers.onnx import import_onnx  # noqa: E402

# ResNet-18 at 224x224, MACs by hand (output P x Q x K x C x R x S):
#   conv1      112*112*64*3*7*7                                   = 118,013,952
#   layer1     4 x 56*56*64*64*9 = 4 x 115,605,504               = 462,422,016
#   layer2-4   each: 3x3/2 (e.g. 28*28*128*64*9 = 57,802,752) + 3 x 3x3 (115,605,504)
#              + 1x1/2 projection (28*28*128*64 = 6,422,528)       = 411,041,792, x 3 = 1,233,125,376
#   fc         512*1000                                           = 512,000
RESNET18_MACS = 118_013_952 + 462_422_016 + 3 * 411_041_792 + 512_000  # = 1,814,073,344


def export(model: "torch.nn.Module", path, batch_axis: bool) -> None:
    """The TorchScript exporter: the dynamo one needs onnxscript, which accelsim's tests do not install."""
    x = torch.randn(1, 3, 224, 224)
    dynamic = {"x": {0: "N"}} if batch_axis else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model.eval(), (x,), str(path), dynamo=False, input_names=["x"], dynamic_axes=dynamic)
        except Exception as err:  # an exporter this torch lacks or refuses: not what this test checks
            pytest.skip(f"torch.onnx.export failed: {type(err).__name__}: {err}")


def conv_shapes(layers) -> Counter:
    return Counter((l.H, l.W, l.C, l.K, l.R, l.S, l.stride, l.padding, l.groups)
                   for l in layers if isinstance(l, Conv2d))


def test_resnet18_matches_the_shipped_workload(tmp_path):
    path = tmp_path / "resnet18.onnx"
    export(torchvision.models.resnet18(weights=None), path, batch_axis=True)
    imported = import_onnx(path, batch=2)
    shipped = load_workload("resnet18")
    assert imported.batch == 2
    assert imported.macs() == 2 * shipped.macs() == 2 * RESNET18_MACS
    assert conv_shapes(imported.layers) == conv_shapes(shipped.layers)  # every conv, shape by shape
    assert [l for l in imported.layers if isinstance(l, Gemm)] == [Gemm(name="/fc/Gemm", M=1, N=1000, K=512)]


def test_mobilenet_v2_matches_the_shipped_workload(tmp_path):
    path = tmp_path / "mobilenet_v2.onnx"
    export(torchvision.models.mobilenet_v2(weights=None), path, batch_axis=False)
    imported = import_onnx(path)
    shipped = load_workload("mobilenet_v2")
    assert imported.macs() == shipped.macs()  # 300,774,272: the layer table mobilenet_v2.csv
    assert conv_shapes(imported.layers) == conv_shapes(shipped.layers)
    assert sum(1 for l in imported.layers if isinstance(l, Conv2d) and l.kind == "dwconv") == 17
