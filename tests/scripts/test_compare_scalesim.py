"""scripts/compare_scalesim.py: SCALE-Sim 3.0.0's own numbers against accelsim's SCALE-Sim mode.

The end-to-end test installs SCALE-Sim into a cached virtual environment on first
use (PyPI access needed; ``ACCELSIM_SCALESIM_VENV`` chooses where) and then needs a
few seconds per dataflow. The golden numbers are SCALE-Sim's output.
"""

import csv
import importlib.util
import io
import math
import os
import subprocess
import sys

import pytest

from accelsim.config import load_workload
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "compare_scalesim.py"

# Three layers: partial folds in both dimensions, many folds, a stride whose window does
# not divide the input (SCALE-Sim sizes the output ceil((12 - 3 + 2) / 2) = 6, not 5), a
# 1x1 layer, and a fully connected one (input 1x1).
TOPOLOGY = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
conv_a, 12, 12, 3, 3, 3, 10, 1,
conv_b, 12, 12, 3, 3, 10, 6, 2,
fc_c, 1, 1, 1, 1, 20, 9, 1,
"""

HW = """name: tiny8x4
clock_mhz: 1000
array: {rows: 8, cols: 4, dataflow: os, pipelined_folds: true}
sram:
  input:  {size_kib: 16}
  weight: {size_kib: 16}
  output: {size_kib: 16}
dram: {bandwidth_gb_per_s: 16, latency_ns: 0}
"""


def load_script():
    spec = importlib.util.spec_from_file_location("compare_scalesim", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script loads
    spec.loader.exec_module(module)
    return module


def run_script(*args):
    venv = os.environ.get("ACCELSIM_SCALESIM_VENV")
    extra = ["--venv", venv] if venv else []
    return subprocess.run([sys.executable, str(SCRIPT), *args, *extra], capture_output=True, text=True,
                          timeout=900)


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_no_difference_in_cycles_or_mapping_efficiency(tmp_path, df):
    (tmp_path / "topo.csv").write_text(TOPOLOGY)
    (tmp_path / "hw.yaml").write_text(HW)
    proc = run_script("--hw", str(tmp_path / "hw.yaml"), "--workload", str(tmp_path / "topo.csv"),
                      "--dataflow", df, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["layer"] for r in rows] == ["conv_a", "conv_b", "fc_c"]
    for r in rows:
        assert int(r["scalesim_cycles"]) == int(r["accelsim_cycles"]), r
        assert math.isclose(float(r["scalesim_mapping_efficiency"]), float(r["accelsim_mapping_efficiency"]),
                            rel_tol=1e-9), r
        # SCALE-Sim's utilization divides by its 0-based count, one cycle short
        cycles, macs = int(r["scalesim_cycles"]), int(r["macs"])
        assert math.isclose(float(r["scalesim_utilization"]), macs / (32 * (cycles - 1)), rel_tol=1e-9)
    if df == "os":  # worked by hand: conv_a is M = 10.10, K = 27, N = 10 on 8 x 4:
        # 13 row folds x 3 column folds x (T + R + C - 2 = 27 + 8 + 4 - 2) cycles
        assert int(rows[0]["scalesim_cycles"]) == 13 * 3 * 37


def test_table_output(tmp_path):
    (tmp_path / "topo.csv").write_text(TOPOLOGY)
    proc = run_script("--hw", "gemmini", "--workload", str(tmp_path / "topo.csv"), "--layers", "conv_b",
                      "--workdir", str(tmp_path / "work"))
    assert proc.returncode == 0, proc.stderr
    assert "3 layers" not in proc.stdout and "1 layers: 0 differ in cycles, 0 in mapping efficiency" in proc.stdout
    # the inputs SCALE-Sim ran, kept with --workdir
    assert (tmp_path / "work" / "layout.csv").exists()
    assert (tmp_path / "work" / "topology.csv").read_text().splitlines()[1] == "L001g0000, 13, 13, 3, 3, 10, 6, 2,"


# --- without SCALE-Sim


def test_topology_rows_keep_the_gemm():
    script = load_script()
    wl = load_workload(ROOT / "workloads" / "mobilenet_v2.yaml", batch=2)
    rows = script.topology_rows(wl, None)
    from accelsim.mapping import gemm_view

    for index, layer in enumerate(wl.layers):
        gemm = gemm_view(layer, wl.batch)
        mine = [r for r in rows if r.layer == index]
        if gemm is None:
            assert not mine
            continue
        assert len(mine) == gemm.repeats
        r = mine[0]
        # SCALE-Sim's GEMM of the row: M = output pixels with its ceil sizing, K = R.S.C, N = filters
        m = math.ceil((r.ifmap_h - r.filter_h + r.stride) / r.stride) * \
            math.ceil((r.ifmap_w - r.filter_w + r.stride) / r.stride)
        assert (m, r.filter_h * r.filter_w * r.channels, r.filters) == (gemm.M, gemm.K, gemm.N), layer.name
        assert "DP" not in r.name


def test_refuses_to_replace_a_directory_it_did_not_make(tmp_path):
    script = load_script()
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "file.txt").write_text("mine")
    with pytest.raises(script.ScaleSimFailed, match="not a SCALE-Sim 3.0.0 environment made by this script"):
        script.ensure_venv(keep)
    assert (keep / "file.txt").read_text() == "mine"


def test_unknown_layer_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "topo.csv").write_text(TOPOLOGY)
    proc = subprocess.run([sys.executable, str(SCRIPT), "--hw", "gemmini", "--workload", str(tmp_path / "topo.csv"),
                           "--layers", "conv_a,nope"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == "--layers: no such layer in topo: nope\n"


def test_bad_hwconfig_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--hw", "no_such_chip", "--workload", "resnet50"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_time_limit_is_not_a_pass(tmp_path):
    (tmp_path / "topo.csv").write_text(TOPOLOGY)
    proc = run_script("--hw", "gemmini", "--workload", str(tmp_path / "topo.csv"), "--timeout-s", "0.01")
    assert proc.returncode == 3
    assert "SCALE-Sim did not finish within 0.01 s: 0 layers compared" in proc.stderr
