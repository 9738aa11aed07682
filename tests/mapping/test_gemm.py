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
