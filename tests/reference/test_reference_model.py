"""The register-level array model against integer matrix products and the timing formulas.

Golden numbers come from outside the code under test: ``A @ B`` in numpy, the
per-fold cycles worked out by hand from the register semantics in
docs/mapping.md (written out in ``hand_last_mac`` / ``hand_last_output``), and
the mapping module's formulas, which the model must reproduce without using them.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.config.hardware import ArrayConfig, Dataflow
from accelsim.mapping import GemmShape, strategy_for, timing_for
from accelsim.reference import HazardError, simulate_gemm

DATAFLOWS = list(Dataflow)


def array(rows, cols, df, pipelined):
    return ArrayConfig(rows=rows, cols=cols, dataflow=Dataflow(df), pipelined_folds=pipelined)


def random_gemm(rng, m, k, n, repeats=1):
    shape_a, shape_b = ((repeats, m, k), (repeats, k, n)) if repeats > 1 else ((m, k), (k, n))
    return rng.integers(-100, 101, size=shape_a), rng.integers(-100, 101, size=shape_b)


def product(a, b):
    return np.matmul(a.astype(np.int64), b.astype(np.int64))


def formula(arr, m, k, n, repeats=1):
    """Per-fold stream starts and GEMM cycles from accelsim.mapping (the code under test)."""
    strategy = strategy_for(arr.dataflow)
    ext = strategy.extents(GemmShape(m, k, n, repeats))
    folds = math.ceil(ext.rows / arr.rows) * math.ceil(ext.cols / arr.cols) * repeats
    timing = timing_for(arr)
    starts = tuple(timing.stream_start(strategy, arr, ext.time, f) for f in range(folds))
    return ext.time, starts, timing.folds(strategy, arr, ext.time, folds).total


def hand_last_mac(arr, start, T):
    """PE(R-1, C-1) does the fold's last MAC, T-1 + (R-1) + (C-1) cycles after the fold starts."""
    return start + T - 1 + arr.rows - 1 + arr.cols - 1


def hand_last_output(arr, start, T):
    """WS/IS: the last partial sum leaves row R-1 in the cycle of the last MAC. OS: column C-1's
    results are copied to its output chain at the end of that cycle and leave over R more cycles."""
    extra = arr.rows if arr.dataflow is Dataflow.OS else 0
    return hand_last_mac(arr, start, T) + extra


def check_run(arr, a, b):
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    repeats = a.shape[0] if a.ndim == 3 else 1
    run = simulate_gemm(a, b, arr)
    assert np.array_equal(run.output, product(a, b))
    T, starts, cycles = formula(arr, m, k, n, repeats)
    assert run.stream_starts == starts
    assert run.cycles == cycles
    for fold in run.folds:
        assert fold.last_mac_cycle == hand_last_mac(arr, fold.stream_start_cycle, T)
        assert fold.last_output_cycle == hand_last_output(arr, fold.stream_start_cycle, T)
    if arr.pipelined_folds or arr.dataflow is not Dataflow.OS:
        assert run.cycles == run.cycles_to_last_output
    else:  # SCALE-Sim counts OS up to the last MAC; the last fold's R results then shift out
        assert run.cycles_to_last_output == run.cycles + arr.rows
    return run


@st.composite
def gemm_cases(draw):
    rows = draw(st.integers(1, 16))
    cols = draw(st.integers(1, 16))
    df = draw(st.sampled_from(DATAFLOWS))
    pipelined = draw(st.booleans())
    # each dimension from 1 to three times the array dimension it is spread over (time: the larger)
    longer = max(rows, cols)
    spread = {Dataflow.OS: {"M": rows, "K": longer, "N": cols},
              Dataflow.WS: {"M": longer, "K": rows, "N": cols},
              Dataflow.IS: {"M": cols, "K": rows, "N": longer}}[df]
    m, k, n = (draw(st.integers(1, 3 * spread[d])) for d in "MKN")
    repeats = draw(st.sampled_from([1, 1, 1, 2, 3]))
    seed = draw(st.integers(0, 2**32 - 1))
    return array(rows, cols, df.value, pipelined), m, k, n, repeats, seed


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gemm_cases())
def test_random_gemms_match_product_and_formulas(case):
    arr, m, k, n, repeats, seed = case
    a, b = random_gemm(np.random.default_rng(seed), m, k, n, repeats)
    check_run(arr, a, b)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gemm_cases())
def test_row_fast_path_equals_pe_by_pe(case):
    arr, m, k, n, repeats, seed = case
    a, b = random_gemm(np.random.default_rng(seed), m, k, n, repeats)
    fast, exact = simulate_gemm(a, b, arr), simulate_gemm(a, b, arr, fast=False)
    assert fast.folds == exact.folds
    assert np.array_equal(fast.output, exact.output)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gemm_cases(), st.data())
def test_pipelined_starts_are_the_earliest_legal(case, data):
    """Starting any fold one cycle before the model's (= the formula's) start is a hazard."""
    arr, m, k, n, repeats, seed = case
    arr = array(arr.rows, arr.cols, arr.dataflow.value, True)
    a, b = random_gemm(np.random.default_rng(seed), m, k, n, repeats)
    starts = list(simulate_gemm(a, b, arr).stream_starts)
    f = data.draw(st.integers(0, len(starts) - 1))
    starts[f] -= 1
    if starts[f] < 0 or (f > 0 and starts[f] <= starts[f - 1]):
        return  # not a schedule (fold 0 of OS already starts in cycle 0)
    try:
        run = simulate_gemm(a, b, arr, stream_starts=starts)
    except HazardError:
        return
    assert not np.array_equal(run.output, product(a, b)), f"fold {f} could start at {starts[f]}"


# --- named edge cases: (rows, cols, M, K, N)
EDGES = {
    "1x1 array": (1, 1, 3, 4, 2),
    "K=1": (4, 3, 7, 1, 5),
    "M<R": (8, 4, 3, 9, 6),
    "N<C": (4, 8, 9, 6, 3),
    "one fold": (4, 4, 4, 4, 4),
    "many folds": (3, 2, 10, 11, 9),
    "everything 1": (1, 1, 1, 1, 1),
    "tall array, T<R": (16, 2, 5, 3, 4),
}


@pytest.mark.parametrize("pipelined", [False, True], ids=["scalesim", "pipelined"])
@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("name", list(EDGES))
def test_edge_cases(name, df, pipelined):
    rows, cols, m, k, n = EDGES[name]
    a, b = random_gemm(np.random.default_rng(7), m, k, n)
    run = check_run(array(rows, cols, df, pipelined), a, b)
    if name == "one fold":
        assert len(run.folds) == 1
    if name == "many folds":
        assert len(run.folds) >= 12


def test_worked_example_ws_scalesim():
    """2 x 2 WS, SCALE-Sim mode, A 3x2 @ B 2x2: one fold, worked by hand.

    Weights shift in during cycles 0-1 (bottom row's first); a[m][i] enters row i
    in cycle 2 + m + i; PE(1, 1) does the last MAC (m = 2) in cycle 2 + 2 + 1 + 1 = 6,
    and its sum leaves at the end of that cycle: 7 cycles = 2R + C + T - 2.
    """
    a = np.array([[1, 2], [3, 4], [5, 6]])
    b = np.array([[1, -1], [2, 0]])
    run = simulate_gemm(a, b, array(2, 2, "ws", False))
    assert run.output.tolist() == [[5, -1], [11, -3], [17, -5]]
    assert [(f.stream_start_cycle, f.last_mac_cycle, f.last_output_cycle) for f in run.folds] == [(2, 6, 6)]
    assert run.cycles == 7


def test_worked_example_os_pipelined_two_folds():
    """2 x 2 OS, pipelined, A 4x3 @ B 3x2: M = 4 rows -> 2 folds of T = K = 3.

    Fold 0 streams in cycles 0-2; fold 1 may start once row 0's port is free (cycle 3,
    T >= R). Fold 1's last MAC at PE(1, 1): 3 + 2 + 1 + 1 = 7; column 1 shifts its two
    results out in cycles 8 and 9: 10 cycles = (F - 1) max(T, R) + T + 2R + C - 2.
    """
    a = np.arange(12).reshape(4, 3)
    b = np.array([[1, 0], [0, 1], [1, 1]])
    run = simulate_gemm(a, b, array(2, 2, "os", True))
    assert run.output.tolist() == [[2, 3], [8, 9], [14, 15], [20, 21]]
    assert [(f.stream_start_cycle, f.last_mac_cycle, f.last_output_cycle) for f in run.folds] == [(0, 4, 6), (3, 7, 9)]
    assert run.cycles == 10


# --- hazards: a schedule that is too aggressive stops the run and says why


def two_folds(df, rows, cols, T, seed=3):
    """Operands of a GEMM that is two folds of a full R x C tile with T vectors each."""
    m, k, n = {"os": (rows, T, cols), "ws": (T, rows, cols), "is": (cols, rows, T)}[df]
    return random_gemm(np.random.default_rng(seed), m, k, n, repeats=2)


def test_ws_pipelined_next_weights_not_loaded():
    # T = 2 < R = 4: fold 1 may start R cycles after fold 0 (its weights take R cycles to load)
    arr = array(4, 3, "ws", True)
    a, b = two_folds("ws", 4, 3, 2)
    s0, s1 = simulate_gemm(a, b, arr).stream_starts
    assert s1 - s0 == 4
    with pytest.raises(HazardError, match=r"cycle 7 at PE\(0,0\), fold 1: the PE needed a stationary value"):
        simulate_gemm(a, b, arr, stream_starts=[s0, s1 - 1])


def test_os_pipelined_output_chain_busy():
    arr = array(4, 3, "os", True)
    a, b = two_folds("os", 4, 3, 2)
    s0, s1 = simulate_gemm(a, b, arr).stream_starts
    with pytest.raises(HazardError, match="output chain still held the previous fold"):
        simulate_gemm(a, b, arr, stream_starts=[s0, s1 - 1])


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_port_busy_when_t_exceeds_r(df):
    arr = array(3, 3, df, True)
    a, b = two_folds(df, 3, 3, 8)
    s0, s1 = simulate_gemm(a, b, arr).stream_starts
    assert s1 - s0 == 8
    with pytest.raises(HazardError, match="still streaming"):
        simulate_gemm(a, b, arr, stream_starts=[s0, s1 - 1])


@pytest.mark.parametrize("df", ["ws", "is"])
def test_scalesim_ws_preload_overwrites_weights_in_use(df):
    arr = array(4, 3, df, False)
    a, b = two_folds(df, 4, 3, 5)
    s0, s1 = simulate_gemm(a, b, arr).stream_starts
    with pytest.raises(HazardError, match="overwritten before its last use"):
        simulate_gemm(a, b, arr, stream_starts=[s0, s1 - 2])


def test_scalesim_os_single_accumulator_reused_too_early():
    arr = array(4, 3, "os", False)
    a, b = two_folds("os", 4, 3, 5)
    s0, _ = simulate_gemm(a, b, arr).stream_starts
    with pytest.raises(HazardError, match="accumulator was reused"):
        simulate_gemm(a, b, arr, stream_starts=[s0, s0 + 5 + 4 - 3])


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("rows, cols, T", [(4, 3, 10), (3, 5, 2), (6, 2, 9), (2, 3, 1), (1, 1, 3), (5, 4, 3)])
def test_scalesim_mode_slack(df, rows, cols, T):
    """SCALE-Sim's fold timing is a policy, not the earliest legal start of a design without
    double buffering. The earliest interval between folds is, worked by hand from the latch rule
    (a register may be read and overwritten in the same cycle):

    - OS, one accumulator per PE: column j is copied out at the end of cycle s + T + R - 2 + j;
      fold f+1 may write PE(0, j)'s accumulator in that cycle: s' >= s + T + R - 2, and also
      s' >= s + T (input port) and s' >= s + R (output chain). SCALE-Sim: T + R + C - 2.
    - WS/IS, one weight register: the preload overwrites every row at once, no earlier than the
      cycle of the last MAC (s + T + R + C - 3); the stream follows R cycles later.
      SCALE-Sim: 2R + C + T - 2, one cycle more.
    """
    arr = array(rows, cols, df, False)
    a, b = two_folds(df, rows, cols, T)
    s0, s1 = simulate_gemm(a, b, arr).stream_starts
    assert s1 - s0 == (T + rows + cols - 2 if df == "os" else 2 * rows + cols + T - 2)
    earliest = max(T + rows - 2, T, rows) if df == "os" else T + 2 * rows + cols - 3
    assert np.array_equal(simulate_gemm(a, b, arr, stream_starts=[s0, s0 + earliest]).output, product(a, b))
    with pytest.raises(HazardError):
        simulate_gemm(a, b, arr, stream_starts=[s0, s0 + earliest - 1])


def test_larger_array_fast_path():
    """A 48 x 40 array with long folds, so that the row-at-a-time path carries most cycles."""
    rng = np.random.default_rng(11)
    for df in ("os", "ws", "is"):
        for pipelined in (False, True):
            a, b = random_gemm(rng, 100, 90, 70)
            check_run(array(48, 40, df, pipelined), a, b)


@pytest.mark.parametrize("a, b, stream_starts, message", [
    (np.ones((2, 3)), np.ones((3, 2), int), None, "a: expected an integer matrix"),
    (np.ones((2, 3), int), np.ones((4, 2), int), None, "cannot be multiplied"),
    (np.ones((0, 3), int), np.ones((3, 2), int), None, "non-empty"),
    (np.ones((2, 3), int), np.ones((3, 2), int) * 2**40, None, "fit 32 bits"),
    (np.ones((2, 3), int), np.ones((3, 2), int), [5], "expected 2 increasing cycles"),
    (np.ones((2, 3), int), np.ones((3, 2), int), [6, 5], "expected 2 increasing cycles"),
])
def test_bad_arguments(a, b, stream_starts, message):
    with pytest.raises(ValueError, match=message):
        simulate_gemm(a, b, array(2, 2, "ws", True), stream_starts=stream_starts)
