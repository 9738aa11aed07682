"""accelsim compare / calibrate / formulas on the command line."""

import json
import subprocess
import sys

import pytest

import accelsim
from accelsim.cli import main
from accelsim.config.loader import with_overrides
from conftest import ROOT

DATA = ROOT / "tests" / "compare" / "data"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "accelsim", *args], capture_output=True, text=True, cwd=ROOT)


def documented(command: str) -> list[str]:
    """The output docs/calibration.md shows under ``$ <command>`` (up to the end of its block)."""
    text = (ROOT / "docs" / "calibration.md").read_text()
    block = text.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() != "..."]


def assert_shows(doc_lines: list[str], out: str) -> None:
    """Every documented line appears in the output, in order (the doc may leave lines out)."""
    lines = iter(out.splitlines())
    for want in doc_lines:
        assert any(line == want for line in lines), f"docs/calibration.md is out of date at: {want!r}"


def test_compare_eyeriss_alexnet_with_the_measured_batch_and_clock(tmp_path, capsys, monkeypatch):
    # hardware, workload, batch 4 and 200 MHz all come from the shipped file's metadata
    monkeypatch.chdir(ROOT)
    command = "accelsim compare --measured measurements/eyeriss_alexnet_jssc2017.csv"
    assert main(command.split()[1:] + ["-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert_shows(documented(command), out)
    assert "compare    eyeriss_like (engine model, 200 MHz)" in out
    assert "workload   alexnet, batch 4; 5 of 11 layers measured" in out
    for text in ("latency (ms)", "DRAM traffic (read + write) (MB)", "MAPE", "geomean ratio", "Pearson",
                 "Spearman", "worst"):
        assert text in out
    doc = json.loads((tmp_path / "compare.json").read_text())
    assert doc["workload"] == {"name": "alexnet", "batch": 4}
    latency = doc["metrics"]["latency_s"]
    # golden measured values: JSSC 2017 Table V, total latency in ms
    assert [round(layer["measured"] * 1e3, 1) for layer in latency["layers"]] == [20.9, 41.9, 23.6, 18.4, 10.5]
    for layer in latency["layers"]:
        assert layer["rel_error"] == pytest.approx(layer["simulated"] / layer["measured"] - 1)
    assert {p.name for p in tmp_path.iterdir()} == {
        "compare.csv", "compare.json", "latency_s_scatter.png", "latency_s_error.png", "dram_bytes_scatter.png",
        "dram_bytes_error.png"}


def test_compare_overrides_the_hardware_clock_with_the_measured_one(write, capsys):
    path = write("m.csv", "# clock_mhz: 350\n# subset: true\nlayer,cycles\nconv1,1000\n")
    assert main(["compare", "--measured", str(path), "--hw", "gemmini", "--workload", "alexnet",
                 "--model", "analytical"]) == 0
    captured = capsys.readouterr()
    assert "gemmini (analytical model, 350 MHz)" in captured.out
    assert "clock_mhz 1000 -> 350 (the measured clock" in captured.err


@pytest.mark.parametrize("args, message", [
    (["--measured", "eyeriss_alexnet_jssc2017", "--batch", "2"], "--batch: 2 differs from the measured batch 4 ("),
    (["--measured", "nope.csv", "--hw", "gemmini", "--workload", "alexnet"],
     "nope.csv: no such file, and not a shipped measurement file (shipped: "),
    (["--measured", "eyeriss_alexnet_jssc2017", "--set", "clock_mhz=700"],
     "--set: clock_mhz: 700 differs from the measured clock 200 MHz ("),
])
def test_compare_input_errors_exit_2_with_one_line(args, message, capsys):
    assert main(["compare", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_compare_bad_measured_file_exit_2(write):
    path = write("m.csv", "layer,latency_ms\nconv1,fast\n")
    proc = run_cli("compare", "--measured", str(path), "--hw", "gemmini", "--workload", "alexnet")
    assert proc.returncode == 2
    assert proc.stderr == f"{path}: row 2, column latency_ms: expected a number (the unit is in the column " \
                          "name: ms), got 'fast'\n"


def test_calibrate_writes_a_loadable_hwconfig(tmp_path, capsys):
    hw = accelsim.load_hardware(DATA / "calib_hw.yaml")
    workload = accelsim.load_workload(DATA / "calib_wl.yaml")
    hidden = with_overrides(hw, {"dram.efficiency": 0.7, "control.layer_overhead_cycles": 500})
    measured = tmp_path / "m.csv"
    measured.write_text("# clock_mhz: 200\nlayer,latency_us\n" + "".join(
        f"{layer.name},{layer.cycles / 200!r}\n" for layer in accelsim.analyze(hidden, workload).layers))
    out = tmp_path / "new.yaml"
    assert main(["calibrate", "--measured", str(measured), "--hw", str(DATA / "calib_hw.yaml"),
                 "--workload", str(DATA / "calib_wl.yaml"), "--model", "analytical", "--folds", "2",
                 "--fit", "dram.efficiency,control.layer_overhead_cycles", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "held-out   MAPE" in text and "cost       " in text and f"wrote      {out}" in text
    calibrated = accelsim.load_hardware(out)
    assert calibrated.name == "calib_test_calibrated"
    assert calibrated.dram.efficiency == pytest.approx(0.7, rel=0.01)
    assert calibrated.control.layer_overhead_cycles == pytest.approx(500, rel=0.01)
    assert "  layer_overhead_cycles: " in out.read_text() and "# was 0; fitted in [0, 1,000,000]" in out.read_text()
    # the efficiency held away from its hidden 0.7 stops at its bound: still written, exit 3
    assert main(["calibrate", "--measured", str(measured), "--hw", str(DATA / "calib_hw.yaml"), "-q",
                 "--workload", str(DATA / "calib_wl.yaml"), "--model", "analytical", "--folds", "2",
                 "--fit", "dram.efficiency,control.layer_overhead_cycles", "--bounds", "dram.efficiency=0.8:1",
                 "-o", str(out)]) == 3
    assert "exit       3: dram.efficiency stopped at a bound" in capsys.readouterr().out
    assert accelsim.load_hardware(out).dram.efficiency == pytest.approx(0.8)


def test_calibrate_bad_fit_parameter_exit_2(tmp_path, capsys):
    assert main(["calibrate", "--measured", "eyeriss_alexnet_jssc2017", "--fit", "dram.speed", "-o",
                 str(tmp_path / "x.yaml")]) == 2
    assert capsys.readouterr().err == "--fit: dram.speed: expected one of: dram.efficiency, dma.setup_cycles, " \
                                      "control.layer_overhead_cycles, control.step_overhead_cycles, " \
                                      "control.descriptor_overhead_cycles\n"
    assert not (tmp_path / "x.yaml").exists()


def test_formulas_on_resnet50_tpu_v1_prints_every_builtin(capsys):
    command = "accelsim formulas --hw tpu_v1 --workload resnet50 --show 3"
    assert main(command.split()[1:]) == 0
    out = capsys.readouterr().out
    assert_shows(documented(command), out)
    assert "54 array layers" in out
    assert "ridge point 1,349 MACs per weight byte" in out
    table = out.split("misses explained by")[1].split("\n\n")[0]
    for name in ("peak", "roofline", "mapping", "scalesim", "tpu_ridge"):
        row = next(line for line in table.splitlines() if line.startswith(name + " "))
        assert row.count("%") >= 4  # median, p90, max, bias


def test_formulas_with_a_user_formula_file(write, tmp_path, capsys):
    path = write("sheet.py", "def spreadsheet(layer, hw):\n"
                             "    '''My spreadsheet: MACs over PEs at 80%.'''\n"
                             "    return layer.macs / (0.8 * hw.peak_macs_per_cycle)\n")
    assert main(["formulas", "--hw", "gemmini", "--workload", "resnet18", "--model", "analytical",
                 "--only", "peak", "--formula", f"{path}:spreadsheet", "--threshold", "25", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "spreadsheet: My spreadsheet: MACs over PEs at 80%." in out
    doc = json.loads((tmp_path / "formulas.json").read_text())
    assert set(doc["formulas"]) == {"peak", "spreadsheet"} and doc["threshold"] == 0.25
    lines = (tmp_path / "formulas.csv").read_text().splitlines()
    assert lines[0] == "formula,point,layer,simulated_cycles,predicted_cycles,rel_error,cause,detail"
    peak = [line.split(",") for line in lines[1:] if line.startswith("peak,")]
    mine = [line.split(",") for line in lines[1:] if line.startswith("spreadsheet,")]
    assert len(peak) == len(mine) == 21  # resnet18's conv and fc layers
    for p, m in zip(peak, mine):
        assert float(m[4]) == pytest.approx(float(p[4]) / 0.8)


def test_formulas_over_a_sweep(write, capsys):
    spec = write("s.yaml", f"hardware: {DATA / 'calib_hw.yaml'}\nworkloads: [{DATA / 'calib_wl.yaml'}]\n"
                           "model: analytical\naxes:\n  array.rows: [8, 16]\n")
    assert main(["formulas", "--sweep", str(spec), "--only", "mapping,scalesim"]) == 0
    out = capsys.readouterr().out
    assert "formulas   2 points of" in out and "points (#N in the tables):" in out
    table = out.split("misses explained by")[1].split("\n\n")[0]
    rows = [line for line in table.splitlines() if line.startswith(("mapping ", "scalesim "))]
    assert len(rows) == 2 and all("/20 " in row for row in rows)  # 10 layers x 2 points each


def test_formulas_bad_user_formula_exit_2(write, capsys):
    path = write("sheet.py", "def f(layer, hw):\n    return 'fast'\n")
    assert main(["formulas", "--hw", "gemmini", "--workload", "resnet18", "--model", "analytical",
                 "--formula", f"{path}:f"]) == 2
    assert capsys.readouterr().err == f"{path}: f(conv1): expected a finite non-negative number, got 'fast'\n"


def test_compare_an_onnxruntime_profile(write, capsys):
    names = [layer.name for layer in accelsim.load_workload(DATA / "calib_wl.yaml").layers]
    events = [{"cat": "Session", "name": "model_run", "ts": 0, "dur": 10_000, "ph": "X", "pid": 1, "tid": 1,
               "args": {}}]
    for i, name in enumerate(names):
        events.append({"cat": "Node", "name": f"{name}_kernel_time", "ts": 10 * i + 1, "dur": 100 + i, "ph": "X",
                       "pid": 1, "tid": 1, "args": {"op_name": "Conv", "provider": "CPUExecutionProvider"}})
    path = write("profile.json", json.dumps(events))
    write("profile.meta.yaml", "source: a laptop CPU\nbatch: 1\n")
    assert main(["compare", "--measured", str(path), "--hw", str(DATA / "calib_hw.yaml"), "--workload",
                 str(DATA / "calib_wl.yaml"), "--model", "analytical"]) == 0
    out = capsys.readouterr().out
    assert "source     a laptop CPU" in out and "latency (ms)" in out
    assert "\nc1  " in out and " 0.1  " in out  # c1's 100 us, in ms


def test_calibrate_exits_3_when_parameters_stop_at_bounds(tmp_path, capsys):
    """Eyeriss AlexNet: the model is already slower than the chip, so every parameter goes to its fast
    bound (docs/calibration.md); nothing is fitted, so no file is written and the exit status says so."""
    out = tmp_path / "eyeriss_calibrated.yaml"
    assert main(["calibrate", "--measured", "eyeriss_alexnet_jssc2017", "--model", "analytical", "-q",
                 "-o", str(out)]) == 3
    text = capsys.readouterr().out
    assert text.count("warning    ") == 3 and "the fit stopped at its" in text
    assert f"not written {out}: no parameter was" in " ".join(text.split())  # (wrapped at 120 columns)
    assert not out.exists()
