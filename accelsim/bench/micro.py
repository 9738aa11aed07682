"""The micro-benchmark suite: single-layer kernels, named and versioned.

Each kernel is one layer shape, most taken from a published network (two
synthetic ones fill the dense 5x5 and 7x7 gaps), so a result says how a
design handles that shape alone:
kernel sizes 1x1, 3x3, 5x5, 7x7, depthwise and strided convolutions; channels
from 3 to 2048; feature maps from 7x7 to 224x224; batch 1 to 64; fully
connected and GEMM shapes (BERT projections, attention). The list only grows
under a new ``MICRO_VERSION``: a kernel's name always means the same shape, so
results with the same suite version can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.config.workload import Conv2d, Gemm, Layer, Workload

MICRO_SUITE = "accelsim-micro"
MICRO_VERSION = "1"


@dataclass(frozen=True)
class Kernel:
    """One single-layer benchmark: its stable name, its layer, batch, and where the shape is from."""

    name: str
    layer: Layer
    batch: int
    source: str

    @property
    def family(self) -> str:
        """The kernel's kind, for grouping in tables and plots: 1x1, 3x3, 5x5, 7x7, depthwise,
        strided (any stride > 1 that is not depthwise), fc (one row per sample), gemm."""
        layer = self.layer
        if isinstance(layer, Gemm):
            return "fc" if layer.M == 1 else "gemm"
        if layer.kind == "dwconv":
            return "depthwise"
        if max(layer.stride) > 1 and layer.R < 7:
            return "strided"
        return f"{layer.R}x{layer.S}"

    def workload(self) -> Workload:
        return Workload(name=self.name, layers=(self.layer,), batch=self.batch, source=f"{MICRO_SUITE} v{MICRO_VERSION}")


def _conv(name: str, hw: int, c: int, k: int, r: int, stride: int = 1, groups: int = 1, batch: int = 1,
          source: str = "") -> Kernel:
    pad = r // 2  # "same" padding, as the source networks use
    layer = Conv2d(name=name, H=hw, W=hw, C=c, K=k, R=r, S=r, stride=(stride, stride),
                   padding=(pad, pad, pad, pad), groups=groups)
    return Kernel(name, layer, batch, source)


def _gemm(name: str, m: int, k: int, n: int, batch: int = 1, count: int = 1, shared_weights: bool = True,
          source: str = "") -> Kernel:
    return Kernel(name, Gemm(name=name, M=m, K=k, N=n, count=count, shared_weights=shared_weights), batch, source)


KERNELS: tuple[Kernel, ...] = (
    # 7x7 and 5x5
    _conv("conv7x7_s2_c3_k64_224", 224, 3, 64, 7, stride=2, source="ResNet stem"),
    _conv("conv7x7_c64_k64_28", 28, 64, 64, 7, source="synthetic: a dense 7x7 at mid resolution"),
    _conv("conv5x5_c96_k256_27", 27, 96, 256, 5, source="AlexNet conv2 (ungrouped)"),
    _conv("conv5x5_c192_k192_14", 14, 192, 192, 5, source="synthetic: a dense 5x5 with deep channels"),
    # 3x3, dense
    _conv("conv3x3_c3_k64_224", 224, 3, 64, 3, source="VGG-16 conv1_1"),
    _conv("conv3x3_c64_k64_56", 56, 64, 64, 3, source="ResNet conv2_x"),
    _conv("conv3x3_c128_k128_28", 28, 128, 128, 3, source="ResNet conv3_x"),
    _conv("conv3x3_c256_k256_14", 14, 256, 256, 3, source="ResNet conv4_x"),
    _conv("conv3x3_c512_k512_7", 7, 512, 512, 3, source="ResNet conv5_x"),
    _conv("conv3x3_c512_k512_28", 28, 512, 512, 3, source="VGG-16 conv4_2"),
    # strided
    _conv("conv3x3_s2_c128_k128_56", 56, 128, 128, 3, stride=2, source="ResNet-50 v1.5 downsampling 3x3"),
    _conv("conv1x1_s2_c512_k1024_28", 28, 512, 1024, 1, stride=2, source="ResNet-50 projection shortcut"),
    # 1x1 (pointwise)
    _conv("conv1x1_c64_k256_56", 56, 64, 256, 1, source="ResNet-50 bottleneck expand"),
    _conv("conv1x1_c256_k64_56", 56, 256, 64, 1, source="ResNet-50 bottleneck reduce"),
    _conv("conv1x1_c1024_k256_14", 14, 1024, 256, 1, source="ResNet-50 conv4_x reduce"),
    _conv("conv1x1_c2048_k512_7", 7, 2048, 512, 1, source="ResNet-50 conv5_x reduce"),
    _conv("conv1x1_c32_k64_112", 112, 32, 64, 1, source="MobileNet pw1"),
    # depthwise
    _conv("dw3x3_c32_112", 112, 32, 32, 3, groups=32, source="MobileNet dw1"),
    _conv("dw3x3_s2_c64_112", 112, 64, 64, 3, stride=2, groups=64, source="MobileNet dw2 (strided)"),
    _conv("dw3x3_c512_14", 14, 512, 512, 3, groups=512, source="MobileNet dw7"),
    _conv("dw3x3_c1024_7", 7, 1024, 1024, 3, groups=1024, source="MobileNet dw13"),
    _conv("dw5x5_c240_14", 14, 240, 240, 5, groups=240, source="EfficientNet-B0-like 5x5 depthwise"),
    # batch
    _conv("conv3x3_c64_k64_56_b8", 56, 64, 64, 3, batch=8, source="ResNet conv2_x, batch 8"),
    _conv("conv3x3_c256_k256_14_b64", 14, 256, 256, 3, batch=64, source="ResNet conv4_x, batch 64"),
    _conv("conv1x1_c2048_k512_7_b64", 7, 2048, 512, 1, batch=64, source="ResNet-50 conv5_x reduce, batch 64"),
    # fully connected and GEMM
    _gemm("fc_k2048_n1000_b1", 1, 2048, 1000, source="ResNet-50 classifier"),
    _gemm("fc_k2048_n1000_b64", 1, 2048, 1000, batch=64, source="ResNet-50 classifier, batch 64"),
    _gemm("fc_k4096_n4096_b1", 1, 4096, 4096, source="VGG-16 fc7"),
    _gemm("fc_k4096_n4096_b16", 1, 4096, 4096, batch=16, source="VGG-16 fc7, batch 16"),
    _gemm("gemm_m128_k768_n768", 128, 768, 768, source="BERT-base projection, sequence 128"),
    _gemm("gemm_m128_k768_n3072", 128, 768, 3072, source="BERT-base FFN up, sequence 128"),
    _gemm("gemm_m128_k64_n128_h12", 128, 64, 128, count=12, shared_weights=False,
          source="BERT-base attention scores, 12 heads"),
)
