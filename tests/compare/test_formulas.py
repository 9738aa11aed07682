"""Built-in formulas against hand arithmetic, user formula files, and how misses are explained."""

import pytest

import accelsim
from accelsim.compare.formulas import (
    BUILTINS,
    check_run,
    explain,
    layer_view,
    load_formula,
    mapping,
    peak,
    predict,
    ridge_macs_per_weight_byte,
    roofline,
    scalesim,
    summarize,
    tpu_ridge,
)
from accelsim.config import Gemm, Workload
from accelsim.config.loader import with_overrides
from accelsim.errors import ConfigError

# 8x8 array at 1 GHz with 1 GB/s: 1 DRAM byte per cycle; 1-byte elements.
HW = accelsim.config.hardware_from_data({
    "name": "t", "clock_mhz": 1000,
    "array": {"rows": 8, "cols": 8, "dataflow": "ws", "bytes_per_psum": 4},
    "sram": {"input": {"size_kib": 64}, "weight": {"size_kib": 64}, "output": {"size_kib": 64}},
    "dram": {"bandwidth_gb_per_s": 1.0, "latency_ns": 0},
}, "<test>")
LAYER = Gemm(name="g", M=100, K=30, N=20)  # 60,000 MACs


def view(hw=HW):
    return layer_view(LAYER, hw, 1)


def total(parts):
    return sum(parts.values())


def test_builtins_by_hand():
    v = view()
    assert total(peak(v, HW)) == pytest.approx(60_000 / 64)  # 937.5
    # WS: rows hold K = 30 (4 folds of 8), columns N = 20 (3 folds), T = M = 100; efficiency
    # (30 / 32) x (20 / 24) = 0.78125
    assert (v.row_folds, v.col_folds, v.time) == (4, 3, 100)
    assert total(mapping(v, HW)) == pytest.approx(60_000 / (64 * 0.78125))  # = 12 folds x 100
    assert total(scalesim(v, HW)) == 12 * (2 * 8 + 8 + 100 - 2)  # 1,464
    # compulsory bytes: 100 x 30 in + 30 x 20 weights + 100 x 20 out = 5,600 at 1 B/cycle
    assert total(roofline(v, HW)) == pytest.approx(5_600)
    # 100 MACs per weight byte x 1 B/cycle = 100 MACs/cycle > 64 PEs: compute bound
    assert total(tpu_ridge(v, HW)) == pytest.approx(937.5)
    slow = with_overrides(HW, {"dram.bandwidth_gb_per_s": 0.5})
    assert total(tpu_ridge(view(slow), slow)) == pytest.approx(60_000 / 50)  # 100 x 0.5 = 50 MACs/cycle


def test_scalesim_output_stationary_by_hand():
    os_hw = with_overrides(HW, {"array.dataflow": "os"})
    v = view(os_hw)
    # OS: rows hold M = 100 (13 folds), columns N = 20 (3 folds), T = K = 30
    assert total(scalesim(v, os_hw)) == 39 * (30 + 8 + 8 - 2)  # 1,716


def test_tpu_ridge_point_matches_the_paper():
    # Jouppi et al., ISCA 2017: the TPU's ridge point is about 1,350 operations per weight byte
    # (65,536 MACs x 700 MHz / 34 GB/s)
    assert ridge_macs_per_weight_byte(accelsim.load_hardware("tpu_v1")) == pytest.approx(1350, rel=0.001)


def test_scalesim_formula_equals_the_simulator_with_scalesim_timing_and_ideal_memory():
    ideal = with_overrides(HW, {"array.pipelined_folds": False, "dram.bandwidth_gb_per_s": float("inf")})
    run = accelsim.simulate(ideal, Workload(name="w", layers=(LAYER,)))
    checks = check_run(run, list(BUILTINS))
    assert checks["scalesim"][0].rel_error == 0
    assert checks["scalesim"][0].predicted == run.layers[0].cycles == 1_464


def test_misses_are_explained_by_the_cause_the_formula_gets_wrong():
    run = accelsim.simulate(HW, Workload(name="w", layers=(LAYER,)))  # pipelined folds, memory-bound
    (result,) = run.layers
    from accelsim.compare.formulas import simulated_causes

    sim = simulated_causes(result, HW)
    assert sum(sim.values()) == pytest.approx(result.cycles)
    # SCALE-Sim charges fill/drain and preload on every fold; this array pipelines them
    fast = with_overrides(HW, {"dram.bandwidth_gb_per_s": float("inf")})
    run = accelsim.simulate(fast, Workload(name="w", layers=(LAYER,)))
    (result,) = run.layers
    pred = scalesim(view(fast), fast)
    assert total(pred) > result.cycles
    cause, detail = explain(simulated_causes(result, fast), pred, result)
    assert cause == "fill_drain" and detail.startswith("fill_drain: simulated ")
    # peak under-predicts a memory-bound layer: the stall is named
    cause, _ = explain(sim, peak(view(), HW), accelsim.simulate(HW, Workload(name="w", layers=(LAYER,))).layers[0])
    assert cause.startswith("stall_")


USER = '''
def per_pe(layer, hw):
    """MACs per PE plus a fixed 100 cycles."""
    return layer.macs / hw.peak_macs_per_cycle + 100

def util(layer, hw):
    return 0.5
util.returns = "utilization"

def parts(layer, hw):
    return {"ideal": layer.macs / hw.peak_macs_per_cycle, "overhead": 100}

def broken(layer, hw):
    return {"ideal": 1}[layer.name]

def negative(layer, hw):
    return -1
'''


def test_user_formulas(write):
    path = write("mine.py", USER)
    f = load_formula(f"{path}:per_pe")
    assert (f.name, f.returns, f.description) == ("per_pe", "cycles", "MACs per PE plus a fixed 100 cycles.")
    assert total(predict(f, view(), HW)) == pytest.approx(937.5 + 100)
    assert total(predict(load_formula(f"{path}:util"), view(), HW)) == pytest.approx(60_000 / (64 * 0.5))
    assert predict(load_formula(f"{path}:parts"), view(), HW) == {"ideal": 937.5, "overhead": 100}
    run = accelsim.analyze(HW, Workload(name="w", layers=(LAYER,)))
    formulas = [load_formula(f"{path}:{name}") for name in ("per_pe", "util", "parts")]
    reports = summarize(formulas, check_run(run, formulas), threshold=0.1)
    assert [r.distribution.count for r in reports] == [1, 1, 1]


@pytest.mark.parametrize("spec, message", [
    ("{dir}/nope.py:f", "{dir}/nope.py: no such file (--formula FILE.py:FUNCTION)"),
    ("{dir}/mine.py", "--formula: {dir}/mine.py: expected FILE.py:FUNCTION"),
    ("{dir}/mine.py:missing", "{dir}/mine.py: missing: no such function, found: broken, negative, parts, per_pe, util"),
    ("{dir}/bad.py:f", "{dir}/bad.py: cannot be imported: ZeroDivisionError: division by zero"),
])
def test_bad_formula_files(write, tmp_path, spec, message):
    write("mine.py", USER)
    write("bad.py", "x = 1 / 0\n")
    with pytest.raises(ConfigError) as info:
        load_formula(spec.format(dir=tmp_path))
    assert str(info.value) == message.format(dir=tmp_path)


@pytest.mark.parametrize("name, message", [
    ("broken", "broken(g): raised KeyError: 'g'"),
    ("negative", "negative(g): expected a finite non-negative number, got -1"),
])
def test_formula_failures_name_the_layer(write, name, message):
    path = write("mine.py", USER)
    with pytest.raises(ConfigError) as info:
        predict(load_formula(f"{path}:{name}"), view(), HW, source=str(path))
    assert str(info.value) == f"{path}: {message}"


def test_the_decorator_declares_what_a_formula_returns(write):
    path = write("dec.py", "from accelsim.compare.formulas import formula\n\n"
                           "@formula(returns='utilization', name='half')\n"
                           "def f(layer, hw):\n    return 0.5\n")
    f = load_formula(f"{path}:f")
    assert (f.name, f.returns) == ("half", "utilization")
    assert total(predict(f, view(), HW)) == pytest.approx(60_000 / 32)
