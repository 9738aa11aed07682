"""Calibration recovers parameters hidden in synthetic measurements, says when a fit hits a bound,
and writes a hwconfig that loads back with its changes commented.

The "measured" data is accelsim's own run of a config with a hidden change (DRAM efficiency
0.7, DMA setup 200 cycles, 500 cycles of per-layer overhead); the fit starts from the config
without it. calib_hw.yaml / calib_wl.yaml say why all three parameters show in that data.
"""

import pytest

import accelsim
from accelsim.compare.calibrate import PARAMETERS, _scalar, calibrate, calibrated_yaml, parse_bounds
from accelsim.compare.measured import load_measured
from accelsim.config.loader import with_overrides
from accelsim.errors import ConfigError
from conftest import ROOT

DATA = ROOT / "tests" / "compare" / "data"
HIDDEN = {"dram.efficiency": 0.7, "dma.setup_cycles": 200, "control.layer_overhead_cycles": 500}


@pytest.fixture(scope="module")
def inputs():
    return accelsim.load_hardware(DATA / "calib_hw.yaml"), accelsim.load_workload(DATA / "calib_wl.yaml")


def measured_from(hw, workload, directory, scale=1.0, model=accelsim.simulate):
    run = model(hw, workload)
    path = directory / "measured.csv"
    path.write_text("layer,cycles\n" + "".join(f"{l.name},{l.cycles * scale!r}\n" for l in run.layers))
    return load_measured(path, workload)


@pytest.fixture(scope="module")
def recovered(inputs, tmp_path_factory):
    hw, workload = inputs
    measured = measured_from(with_overrides(hw, HIDDEN), workload, tmp_path_factory.mktemp("hidden"))
    return calibrate(hw, workload, measured, folds=3)


def test_recovers_the_hidden_parameters(recovered):
    result = recovered
    fitted = {p.path: p for p in result.parameters}
    for path, hidden in HIDDEN.items():
        assert fitted[path].identifiable and fitted[path].at_bound is None
        assert fitted[path].fitted == pytest.approx(hidden, rel=0.05), path
        for value in fitted[path].fold_values:  # every fold's fit, too
            assert value == pytest.approx(hidden, rel=0.05), path
    assert result.heldout_mape_before > 0.2  # the unchanged config is far off
    assert result.heldout_mape_after < 0.01  # layers no fit saw are predicted within 1%
    assert result.fit_mape_after < 0.01
    assert result.evaluations < 400


def test_calibrated_hwconfig_loads_back_with_old_values_in_comments(recovered, inputs, tmp_path):
    result = recovered
    hw, _ = inputs
    reasons = {p.path: "fitted" for p in result.parameters}
    text = calibrated_yaml(result.hardware_after, hw, reasons, ["a header line"], original=DATA / "calib_hw.yaml")
    path = tmp_path / "new.yaml"
    path.write_text(text)
    assert accelsim.load_hardware(path) == result.hardware_after
    lines = text.splitlines()
    assert lines[0] == "# A small test design for calibration (tests/compare/test_calibrate.py), not a real chip."
    assert "# a header line" in lines
    # the fitted values (near the hidden ones: test_recovers_the_hidden_parameters), old ones in comments
    after = result.hardware_after
    assert f"  setup_cycles: {after.dma.setup_cycles}  # was 4; fitted" in lines
    assert f"  layer_overhead_cycles: {after.control.layer_overhead_cycles}  # was 0; fitted" in lines
    assert any(line.startswith("  efficiency: 0.7") and line.endswith("# was 1.0; fitted") for line in lines)
    assert sum("# was" in line for line in lines) == 3  # nothing else changed


def test_a_fit_that_wants_more_than_the_bounds_allow_says_so(inputs, tmp_path):
    hw, workload = inputs
    # measured twice as fast as the config can possibly be: every parameter goes to its "fast" end
    measured = measured_from(with_overrides(hw, {"dma.setup_cycles": 0}), workload, tmp_path, scale=0.5)
    result = calibrate(hw, workload, measured, folds=2)
    bounds = {p.path: p.at_bound for p in result.parameters}
    assert bounds == {"dram.efficiency": "upper", "dma.setup_cycles": "lower",
                      "control.layer_overhead_cycles": "lower"}


def test_the_analytical_model_calibrates_too(inputs, tmp_path):
    hw, workload = inputs
    hidden = {"dram.efficiency": 0.5, "dma.setup_cycles": 200, "control.layer_overhead_cycles": 300}
    measured = measured_from(with_overrides(hw, hidden), workload, tmp_path, model=accelsim.analyze)
    result = calibrate(hw, workload, measured, folds=2, model="analytical")
    fitted = {p.path: p for p in result.parameters}
    for path, value in hidden.items():
        assert fitted[path].fitted == pytest.approx(value, rel=0.05), path


def test_parameters_the_model_ignores_are_not_fitted(inputs, tmp_path):
    # with an ideal memory, DRAM efficiency changes nothing the model computes
    hw, workload = inputs
    ideal = with_overrides(hw, {"dram.bandwidth_gb_per_s": float("inf"), "dram.latency_ns": 0})
    hidden = with_overrides(ideal, {"control.layer_overhead_cycles": 300})
    measured = measured_from(hidden, workload, tmp_path, model=accelsim.analyze)
    result = calibrate(ideal, workload, measured, folds=2, model="analytical")
    fitted = {p.path: p for p in result.parameters}
    assert not fitted["dram.efficiency"].identifiable
    assert fitted["dram.efficiency"].fitted == ideal.dram.efficiency  # left as it was
    assert fitted["control.layer_overhead_cycles"].fitted == pytest.approx(300, rel=0.01)


def test_bounds_and_folds_are_checked(inputs, tmp_path):
    assert parse_bounds(["dram.efficiency=0.3:0.9"]) == {"dram.efficiency": (0.3, 0.9)}
    for text, message in [
        ("dram.eff=0.3:1", "--bounds: dram.eff: expected one of: " + ", ".join(PARAMETERS)),
        ("dram.efficiency=0.3", "--bounds: dram.efficiency: expected LOWER:UPPER with 0.05 <= LOWER < UPPER <= 1, "
                                "got '0.3'"),
        ("dma.setup_cycles=5:2", "--bounds: dma.setup_cycles: expected LOWER:UPPER with 0 <= LOWER < UPPER <= 10000, "
                                 "got '5:2'"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_bounds([text])
        assert str(info.value) == message
    hw, workload = inputs
    measured = measured_from(hw, workload, tmp_path)
    with pytest.raises(ConfigError, match=r"^--folds: 11: expected 2 to 10 \(the number of measured layers"):
        calibrate(hw, workload, measured, folds=11)


@pytest.mark.parametrize("value", [0.7, 1e-05, 2.5e20, 200.0, float("inf"), True, None, 3, "ws", "yes", "a b"])
def test_yaml_scalars_read_back_as_written(value, write):
    from accelsim.config.loader import read_yaml

    assert read_yaml(write("v.yaml", f"x: {_scalar(value)}\n")) == {"x": value}


def test_the_issue_costs_per_step_and_per_descriptor_can_be_fitted(inputs, tmp_path):
    hw, workload = inputs
    # from a first guess (100 and 10 cycles: an issue cost of zero hides behind the transfers,
    # so a fit started there sees no slope), back to the hidden values
    hidden = {"control.step_overhead_cycles": 300, "control.descriptor_overhead_cycles": 40}
    measured = measured_from(with_overrides(hw, hidden), workload, tmp_path)
    guess = with_overrides(hw, {"control.step_overhead_cycles": 100, "control.descriptor_overhead_cycles": 10})
    result = calibrate(guess, workload, measured, fit_paths=list(hidden), folds=2)
    fitted = {p.path: p.fitted for p in result.parameters}
    for path, value in hidden.items():
        assert fitted[path] == pytest.approx(value, rel=0.05), path
    assert result.fit_mape_after < 0.01
