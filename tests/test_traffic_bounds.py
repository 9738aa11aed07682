"""The lower bound on DRAM bytes beside every layer, and what the tiler achieves against it."""

import pytest

from accelsim import analyze, load_hardware, load_workload
from accelsim.config import catalog
from accelsim.config.workload import Conv2d, Gemm
from accelsim.mapping.tiling import LayerTiler
from accelsim.traffic import dram_lower_bound, window_reuse
from tests_shared import tiny


def test_hong_kung_bound_worked_by_hand():
    # tiny(): three 1 KiB buffers of 1-byte elements, so S = 3,072 elements. A segment of S
    # transfers sees at most 2S = 6,144 elements, so it does at most (6,144 / 3)^1.5 = 2,048^1.5
    # = 92,681.9 MACs. A 256^3 GEMM has 16,777,216 MACs: at least ceil(181.02) = 182 segments,
    # 181 of them full: 181 x 3,072 = 556,032 elements (bytes) moved, above the 3 x 65,536 B of
    # its operands moved once.
    hw = tiny()
    gemm = Gemm(name="g", M=256, K=256, N=256)
    assert dram_lower_bound(gemm.macs(1), gemm, hw, must_move=3 * 65536) == 556032
    # a resident input (65,536 elements on chip) saves at most one transfer per element
    assert dram_lower_bound(gemm.macs(1), gemm, hw, 3 * 65536, on_chip_elements=65536) == 556032 - 65536
    # and the tiler's choice moves at least that
    tiling, table = LayerTiler(gemm, hw, 1).choose()
    assert table.dram_bytes >= 556032


def test_window_reuse_counts_overlapping_windows():
    assert window_reuse(Conv2d(name="c", H=8, W=8, C=1, K=1, R=3, S=3, padding=(1, 1, 1, 1))) == 9       # stride 1
    assert window_reuse(Conv2d(name="c", H=9, W=9, C=1, K=1, R=3, S=3, stride=(2, 2))) == 4        # ceil(3/2)^2
    assert window_reuse(Conv2d(name="c", H=8, W=8, C=1, K=1, R=1, S=1, stride=(2, 2))) == 1
    assert window_reuse(Gemm(name="g", M=4, K=4, N=4)) == 1


@pytest.mark.parametrize("config", list(catalog.shipped("hwconfigs")))
def test_no_layer_moves_less_than_its_lower_bound(config):
    # on every shipped workload and config: the bound is beside every array layer, at least the
    # bytes the layer must move (raw, unless the design codes its transfers), and never above what
    # the tiler achieves
    hw = load_hardware(config)
    for name in catalog.shipped("workloads"):
        run = analyze(hw, load_workload(name))
        for layer in run.layers:
            if layer.unit == "array":
                assert layer.dram_lower_bound <= layer.dram.total, (name, layer.name)
                if hw.sparsity is None:
                    assert layer.compulsory.total + layer.spill.total <= layer.dram_lower_bound, (name, layer.name)
        assert run.dram_lower_bound <= run.dram.total
