"""Fold shapes of a workload, and the per-shape check that ``accelsim validate`` runs."""

import pytest

from accelsim.config.hardware import ArrayConfig, Dataflow
from accelsim.config.workload import Conv2d, Gemm, NonGemm, Workload
from accelsim.mapping import PhaseCycles, PipelinedFoldTiming, ScaleSimFoldTiming
from accelsim.reference.checks import FoldShape, check_fold_shape, fold_shapes


def array(rows, cols, df, pipelined=True):
    return ArrayConfig(rows=rows, cols=cols, dataflow=Dataflow(df), pipelined_folds=pipelined)


WORKLOAD = Workload(name="w", batch=1, layers=(
    Gemm(name="g", M=10, K=20, N=7),
    NonGemm(name="pool", op="maxpool", ops=100),
    Gemm(name="g2", M=10, K=16, N=4),
    # 1x1 conv on a 2x5 input: M = P.Q = 10, K = C = 8, N = 3
    Conv2d(name="c", H=2, W=5, C=8, K=3, R=1, S=1),
))


def test_fold_shapes_by_hand():
    # WS on 8 x 4: g has K = 20 -> 8, 8, 4 rows and N = 7 -> 4, 3 columns, T = M = 10;
    # g2: K = 16 -> 8, 8 and N = 4 -> 4; the conv: K = 8 -> 8 and N = 3 -> 3; pool has no GEMM.
    shapes = fold_shapes(array(8, 4, "ws"), WORKLOAD)
    assert {(s.rows_used, s.cols_used, s.time): s.layers for s in shapes} == {
        (8, 4, 10): ("g", "g2"), (8, 3, 10): ("g", "c"), (4, 4, 10): ("g",), (4, 3, 10): ("g",)}


def test_fold_shapes_os_and_batch():
    # OS on 8 x 4, batch 3: g is M = 30 -> 8, 8, 8, 6 rows, N = 7 -> 4, 3 columns, T = K = 20
    shapes = fold_shapes(array(8, 4, "os"), WORKLOAD.with_batch(3))
    assert {(s.rows_used, s.cols_used, s.time) for s in shapes if "g" in s.layers} == {
        (8, 4, 20), (8, 3, 20), (6, 4, 20), (6, 3, 20)}


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_every_shape_matches(df, pipelined):
    arr = array(8, 4, df, pipelined)
    for shape in fold_shapes(arr, WORKLOAD):
        check = check_fold_shape(arr, shape)
        assert check.matches, check
        assert len(check.reference_starts) == 2 and check.outputs_exact


def test_a_wrong_formula_is_a_mismatch(monkeypatch):
    shape = FoldShape(3, 4, 5, ("x",))
    monkeypatch.setattr(PipelinedFoldTiming, "stream_start",
                        lambda self, strategy, arr, time, index: arr.rows + index * max(time, arr.rows) - 1)
    check = check_fold_shape(array(4, 4, "ws"), shape)
    assert not check.matches
    assert check.reference_starts == (4, 9) and check.formula_starts == (3, 8)


def test_a_wrong_layer_total_is_a_mismatch(monkeypatch):
    original = ScaleSimFoldTiming.fold

    def one_cycle_short(self, strategy, arr, time, index, count):
        p = original(self, strategy, arr, time, index, count)
        return PhaseCycles(p.stream, p.fill_drain - 1, p.preload)

    monkeypatch.setattr(ScaleSimFoldTiming, "fold", one_cycle_short)
    check = check_fold_shape(array(4, 4, "os", pipelined=False), FoldShape(4, 4, 6, ("x",)))
    assert not check.matches and check.reference_cycles == check.formula_cycles + 2


def test_packed_depthwise_folds_compute_each_group_exactly():
    # A depthwise 3x3 on 16 channels, WS on a 36 x 8 array: a group is K = 9 rows by N = 1
    # column, so 4 groups fit one fold (36 / 9 = 4 rows of groups; 4 of 8 columns): 4 folds
    # of a 36 x 4 block-diagonal tile instead of 16 folds of 9 x 1. The register model runs the
    # block-diagonal tile and each group's 4 columns must equal its own 9 inputs times its filter.
    dw = Conv2d(name="dw", H=6, W=6, C=16, K=16, R=3, S=3, padding=(1, 1, 1, 1), groups=16)
    ws = array(36, 8, "ws")
    shapes = fold_shapes(ws, Workload(name="w", layers=(dw,)))
    assert [(s.rows_used, s.cols_used, s.time, s.packed) for s in shapes] == [(36, 4, 36, 4)]
    check = check_fold_shape(ws, shapes[0], folds=2)
    assert check.matches and check.outputs_exact
    # OS and IS cannot pack (docs/mapping.md): one group per fold
    for df in ("os", "is"):
        assert {s.packed for s in fold_shapes(array(36, 8, df), Workload(name="w", layers=(dw,)))} == {1}


@pytest.mark.parametrize("config, layer", [("nvdla_large", "b2_dw"), ("tpu_v1", "b17_dw")])
def test_packed_depthwise_folds_of_mobilenet_v2_on_shipped_designs(config, layer):
    from accelsim import load_hardware, load_workload

    array_ = load_hardware(config).array
    shapes = [s for s in fold_shapes(array_, load_workload("mobilenet_v2")) if layer in s.layers and s.packed > 1]
    assert shapes
    for shape in shapes:
        assert check_fold_shape(array_, shape, folds=2).matches
