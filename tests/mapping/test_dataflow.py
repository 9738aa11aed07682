import pytest

from accelsim.config.hardware import ArrayConfig, Dataflow
from accelsim.config.workload import Conv2d, Gemm
from accelsim.mapping import (
    DATAFLOWS,
    GemmShape,
    Operand,
    PipelinedFoldTiming,
    ScaleSimFoldTiming,
    map_layer,
    mapping_efficiency,
    strategy_for,
)
from accelsim.mapping.dataflow import Extents


def array(rows, cols, df, pipelined=False):
    return ArrayConfig(rows=rows, cols=cols, dataflow=Dataflow(df), pipelined_folds=pipelined)


def test_registry_has_one_strategy_per_dataflow():
    assert set(DATAFLOWS) == set(Dataflow)
    g = GemmShape(M=100, K=30, N=7)
    # SCALE-Sim's table: OS (M, N, K), WS (K, N, M), IS (K, M, N) as (rows, cols, time).
    assert strategy_for(Dataflow.OS).extents(g) == Extents(100, 7, 30)
    assert strategy_for(Dataflow.WS).extents(g) == Extents(30, 7, 100)
    assert strategy_for(Dataflow.IS).extents(g) == Extents(30, 100, 7)
    assert [strategy_for(d).stationary for d in Dataflow] == [Operand.OUTPUT, Operand.WEIGHT, Operand.INPUT]


@pytest.mark.parametrize("df, per_fold", [("os", 20 + 8 + 4 - 2), ("ws", 2 * 8 + 4 + 20 - 2), ("is", 2 * 8 + 4 + 20 - 2)])
def test_scalesim_per_fold_formula(df, per_fold):
    # SCALE-Sim 3.0.0: OS T + R + C - 2; WS and IS 2R + C + T - 2 (R=8, C=4, T=20).
    a = array(8, 4, df)
    assert ScaleSimFoldTiming().per_fold_cycles(strategy_for(a.dataflow), a, 20) == per_fold


def test_scalesim_layer_is_folds_times_per_fold():
    # WS, M=50 streamed, K=20 on 8 rows -> 3 row folds, N=10 on 4 cols -> 3 col folds.
    a = array(8, 4, "ws")
    m = map_layer(Gemm(name="g", M=50, N=10, K=20), a, 1)
    assert (m.row_folds, m.col_folds, m.folds) == (3, 3, 9)
    assert m.compute.total == 9 * (2 * 8 + 4 + 50 - 2)


def pipelined_reference(df: str, R: int, C: int, T: int, F: int) -> int:
    """Layer cycles from fold start times, written out from the hardware constraints.

    WS/IS: the first fold waits R cycles of preload; each next fold's preload (R cycles) runs in
    the shadow registers during the current fold, and its stream follows this one's (T).
    OS: folds stream back to back but each column's output shift chain needs R cycles per fold.
    The last result is computed T - 1 + (R - 1) + (C - 1) cycles after the last fold starts;
    in OS it then takes R more cycles to shift out of its column. Cycles are counted 0-based,
    so the total is the last cycle's index plus one.
    """
    start = R if df in ("ws", "is") else 0
    for _ in range(F - 1):
        start += max(T, R)
    last_result = start + (T - 1) + (R - 1) + (C - 1)
    last_leaves = last_result + (R if df == "os" else 0)
    return last_leaves + 1


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("R, C, T, F", [(4, 4, 10, 1), (4, 4, 10, 5), (8, 4, 3, 7), (1, 1, 1, 1), (16, 2, 16, 3)])
def test_pipelined_closed_form(df, R, C, T, F):
    a = array(R, C, df, pipelined=True)
    got = PipelinedFoldTiming().folds(strategy_for(a.dataflow), a, T, F).total
    assert got == (F - 1) * max(T, R) + T + 2 * R + C - 2 == pipelined_reference(df, R, C, T, F)
    # the sum of per-fold shares equals the closed form
    shares = sum(PipelinedFoldTiming().fold(strategy_for(a.dataflow), a, T, i, F).total for i in range(F))
    assert shares == got
    # the last fold starts streaming where the reference's start times put it
    last = PipelinedFoldTiming().stream_start(strategy_for(a.dataflow), a, T, F - 1)
    assert last == (R if df != "os" else 0) + (F - 1) * max(T, R)


def test_pipelined_phases():
    a = array(8, 4, "ws", pipelined=True)
    p = PipelinedFoldTiming().folds(strategy_for(a.dataflow), a, 3, 5)
    # first preload 8, then 4 waits of max(0, 8 - 3); stream 5 x 3; tail 8 + 4 - 2
    assert (p.preload, p.stream, p.fill_drain) == (8 + 4 * 5, 15, 10)
    a = array(8, 4, "os", pipelined=True)
    p = PipelinedFoldTiming().folds(strategy_for(a.dataflow), a, 3, 5)
    assert (p.preload, p.stream, p.fill_drain) == (0, 15, 4 * 5 + 10 + 8)


def test_pipelined_never_slower_than_scalesim():
    for df in "os", "ws", "is":
        for T in (1, 5, 40):
            a = array(8, 8, df, pipelined=True)
            s = strategy_for(a.dataflow)
            assert PipelinedFoldTiming().folds(s, a, T, 6).total <= ScaleSimFoldTiming().folds(s, a, T, 6).total


def test_mapping_efficiency_worked_by_hand():
    # Sr = 10 on 8 rows: folds use 8 and 2 rows -> 10/16; Sc = 3 on 4 cols -> 3/4.
    assert mapping_efficiency(Extents(10, 3, 99), array(8, 4, "os")) == pytest.approx(10 / 16 * 3 / 4)
    # the fold average computed directly
    folds = [(8, 3), (2, 3)]
    assert mapping_efficiency(Extents(10, 3, 99), array(8, 4, "os")) == pytest.approx(
        sum(r * c for r, c in folds) / len(folds) / 32)


def test_depthwise_runs_badly():
    dw = Conv2d(name="dw", H=56, W=56, C=128, K=128, R=3, S=3, padding=(1, 1, 1, 1), groups=128)
    m = map_layer(dw, array(32, 32, "ws"), 1)
    assert m.mapping_efficiency == pytest.approx(9 / 32 * 1 / 32)
    assert m.folds == 128


def test_scalesim_resnet50_totals(tmp_path):
    """SCALE-Sim 3.0.0's reported totals on its conv_nets/Resnet50.csv (54 layers), plus one
    cycle per layer (SCALE-Sim prints the 0-based index of the last cycle):
    32x32 OS 4,434,168 and 128x128 WS 876,832 (numbers from the issue tracker, issue 2)."""
    from accelsim.config import load_workload
    from conftest import DATA

    wl = load_workload(DATA / "scalesim_topologies" / "scale-sim-v2__topologies_conv_nets_Resnet50.csv")
    assert len(wl.layers) == 54
    for rows, df, reported in ((32, "os", 4_434_168), (128, "ws", 876_832)):
        a = array(rows, rows, df, pipelined=False)
        assert sum(map_layer(layer, a, 1).compute.total for layer in wl.layers) == reported + 54
