"""compare_run: errors, statistics and worst layers of a run against measurements."""

import json

import pytest

import accelsim
from accelsim.compare.compare import comparison_csv, comparison_json, comparison_table, compare_run
from accelsim.compare.measured import load_measured
from conftest import ROOT

DATA = ROOT / "tests" / "compare" / "data"


@pytest.fixture(scope="module")
def run():
    return accelsim.analyze(accelsim.load_hardware(DATA / "calib_hw.yaml"), accelsim.load_workload(DATA / "calib_wl.yaml"))


def test_measured_twice_the_simulated_latency(run, write):
    # measured = 2 x simulated on every layer: each relative error is (1 - 2) / 2 = -50%, the
    # geometric-mean ratio 1/2, MAPE 50%, and the correlations perfect
    clock_hz = run.hardware.clock_hz
    text = "layer,latency_s,cycles\n" + "".join(f"{layer.name},{2 * layer.cycles / clock_hz!r},{layer.cycles}\n"
                                                for layer in run.layers)
    c = compare_run(run, load_measured(write("m.csv", text), run.workload), worst=2)
    latency = next(mc for mc in c.metrics if mc.metric == "latency_s")
    assert [r.rel_error for r in latency.rows] == pytest.approx([-0.5] * len(run.layers))
    assert latency.agreement.mape == pytest.approx(0.5) and latency.agreement.geomean_ratio == pytest.approx(0.5)
    assert latency.agreement.pearson == pytest.approx(1.0) and latency.agreement.spearman == pytest.approx(1.0)
    assert latency.total_measured == pytest.approx(2 * latency.total_simulated)
    cycles = next(mc for mc in c.metrics if mc.metric == "cycles")
    assert cycles.agreement.mape == 0 and [r.error for r in cycles.rows] == [0] * len(run.layers)
    # the worst layer's dominant category is the one its breakdown says
    first = latency.rows[0]
    layer = run.layers[0]
    assert first.dominant == layer.breakdown.dominant()
    assert first.dominant_share == pytest.approx(getattr(layer.breakdown, first.dominant) / layer.cycles)


def test_worst_layers_and_outputs(run, write):
    factors = {"c1": 1.0, "c2": 1.1, "c3": 4.0, "fc1": 0.5}  # measured = simulated / factor
    text = "# subset: true\nlayer,cycles\n" + "".join(
        f"{layer.name},{layer.cycles / factors[layer.name]!r}\n" for layer in run.layers if layer.name in factors)
    c = compare_run(run, load_measured(write("m.csv", text), run.workload), worst=2)
    (mc,) = c.metrics
    assert [r.layer for r in mc.worst] == ["c3", "fc1"]  # +300%, then -50%
    assert mc.worst[0].rel_error == pytest.approx(3.0)
    table = comparison_table(c)
    assert "c3" in table and "+300.0%" in table and "MAPE" in table and "not measured: p3, c4" in table
    doc = json.loads(comparison_json(c))
    assert doc["metrics"]["cycles"]["worst"] == ["c3", "fc1"]
    assert doc["metrics"]["cycles"]["mape"] == pytest.approx((0 + 0.1 + 3 + 0.5) / 4)
    lines = comparison_csv(c).splitlines()
    assert lines[0] == "layer,metric,unit,simulated,measured,error,rel_error,dominant,dominant_share"
    assert len(lines) == 1 + 4


def test_plots_are_written(run, write, tmp_path):
    from accelsim.compare.plots import write_plots

    text = "layer,dram_mb\n" + "".join(f"{layer.name},{layer.dram.total / 1e6 * 1.5!r}\n" for layer in run.layers)
    c = compare_run(run, load_measured(write("m.csv", text), run.workload))
    paths = write_plots(c, tmp_path / "plots")
    assert [p.name for p in paths] == ["dram_bytes_scatter.png", "dram_bytes_error.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
