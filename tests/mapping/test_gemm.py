import pytest

from accelsim.config.workload import Conv2d, Gemm, NonGemm
from accelsim.mapping import GemmShape, gemm_view


def test_conv_gemm_view():
    conv = Conv2d(name="c", H=56, W=56, C=64, K=256, R=3, S=3, padding=(1, 1, 1, 1))
    assert gemm_view(conv, batch=2) == GemmShape(M=2 * 56 * 56, K=64 * 9, N=256, repeats=1)


def test_depthwise_is_g_tiny_gemms():
    dw = Conv2d(name="dw", H=112, W=112, C=32, K=32, R=3, S=3, padding=(1, 1, 1, 1), groups=32)
    view = gemm_view(dw, batch=1)
    assert view == GemmShape(M=112 * 112, K=9, N=1, repeats=32)
    assert view.macs == dw.macs(1)


def test_grouped_conv():
    g = Conv2d(name="g", H=27, W=27, C=96, K=256, R=5, S=5, padding=(2, 2, 2, 2), groups=2)
    assert gemm_view(g, 1) == GemmShape(M=27 * 27, K=48 * 25, N=128, repeats=2)


def test_gemm_batch_goes_to_rows_or_instances():
    fc = Gemm(name="fc", M=1, N=1000, K=2048)
    assert gemm_view(fc, 16) == GemmShape(M=16, K=2048, N=1000)
    attn = Gemm(name="a", M=128, N=128, K=64, count=12, shared_weights=False)
    assert gemm_view(attn, 4) == GemmShape(M=128, K=64, N=128, repeats=48)


def test_non_gemm_has_no_view():
    assert gemm_view(NonGemm(name="p", op="maxpool", ops=10), 1) is None


def test_depthwise_groups_pack_side_by_side_on_ws():
    from accelsim.config.hardware import ArrayConfig, Dataflow
    from accelsim.mapping import array_gemm, map_layer
    from accelsim.mapping.gemm import groups_per_fold

    # 96 channels, 3 x 3 depthwise on a 256 x 256 WS array: a group is 9 rows x 1 column;
    # 256 // 9 = 28 groups fit, and the largest divisor of 96 up to 28 is 24: 4 GEMMs of
    # 216 rows x 24 columns (block-diagonal), instead of 96 GEMMs of 9 x 1.
    assert groups_per_fold(96, 9, 1, 256, 256) == 24
    dw = Conv2d(name="dw", H=112, W=112, C=96, K=96, R=3, S=3, stride=(2, 2), padding=(1, 1, 1, 1), groups=96)
    ws = ArrayConfig(rows=256, cols=256, dataflow=Dataflow.WS)
    gemm = array_gemm(dw, ws, 1)
    assert gemm == GemmShape(M=56 * 56, K=216, N=24, repeats=4, packed=24)
    assert gemm.macs == dw.macs(1) == 56 * 56 * 96 * 9       # only the diagonal blocks are MACs
    assert gemm.weight_elements == 24 * 9                   # per GEMM
    m = map_layer(dw, ws, 1)
    assert m.folds == 4
    assert m.mapping_efficiency == pytest.approx((216 / 256) * (24 / 256) / 24)  # = 24 x 9 PEs of 256 x 256
    # OS, IS, SCALE-Sim fold timing, or pack_groups: false keep one group per GEMM
    for array_ in (ArrayConfig(rows=256, cols=256, dataflow=Dataflow.OS),
                   ArrayConfig(rows=256, cols=256, dataflow=Dataflow.WS, pipelined_folds=False),
                   ArrayConfig(rows=256, cols=256, dataflow=Dataflow.WS, pack_groups=False)):
        assert array_gemm(dw, array_, 1) == gemm_view(dw, 1)
