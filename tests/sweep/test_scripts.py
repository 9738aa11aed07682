"""The sweep scripts: the example spec, the plots (Pareto front, cost proxy) and the benchmark."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from accelsim.sweep import execute, load_spec
from sweep_helpers import ROOT

SCRIPTS = ROOT / "scripts"


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_spec_is_array_size_bandwidth_dataflow_over_two_networks():
    points = load_spec(SCRIPTS / "sweep_example.yaml").points()
    assert {p.workload.name for p in points} == {"resnet50", "mobilenet_v2"}
    assert {p.axes["array.dataflow"] for p in points} == {"os", "ws", "is"}
    assert {p.axes["array.rows"] for p in points} == {32, 64, 128, 256}
    assert {p.axes["dram.bandwidth_gb_per_s"] for p in points} == {8, 16, 32, 64}
    assert len(points) == 4 * 4 * 3 * 2


def test_pareto_front():
    plot = script("plot_sweep")
    cost = np.array([1, 2, 2, 3, 4, 0.5, 4])
    latency = np.array([10, 5, 7, 5, 1, 12, 1])
    # C (2, 7) loses to B (2, 5); D (3, 5) costs more than B for the same latency; the last
    # repeats E: the cheapest design of each latency level, cheapest first
    assert plot.pareto_front(cost, latency).tolist() == [5, 0, 1, 4]


def test_cost_proxy_is_pes_plus_sram_bytes():
    plot = script("plot_sweep")
    # tpu_v1 (docs/hardware.md): 256 x 256 PEs; 24 MiB unified buffer, 256 KiB weights, 4 MiB accumulators
    config = {"array.rows": np.array([256]), "array.cols": np.array([256]),
              "buffers.unified_buffer.size_kib": np.array([24576.0]),
              "buffers.weight_fifo.size_kib": np.array([256.0]), "buffers.accumulators.size_kib": np.array([4096.0])}
    assert plot.cost_proxy(config, 1.0).tolist() == [65536 + (24 + 0.25 + 4) * 2**20]
    assert plot.cost_proxy(config, 100.0).tolist() == [6553600 + (24 + 0.25 + 4) * 2**20]
    # the three-buffer form's columns count the same way
    legacy = {"array.rows": np.array([256]), "array.cols": np.array([256]),
              "sram.input.size_kib": np.array([24576.0]), "sram.weight.size_kib": np.array([256.0]),
              "sram.output.size_kib": np.array([4096.0])}
    assert plot.cost_proxy(legacy, 1.0).tolist() == [65536 + (24 + 0.25 + 4) * 2**20]


def test_plots_of_a_stored_sweep(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("hardware: tpu_v1\naxes:\n  array.rows: [64, 128]\n  array.cols: [64, 128]\n"
                    "  dram.bandwidth_gb_per_s: [16, 34]\n  array.dataflow: [ws, os]\n"
                    "constraints: [array.rows == array.cols]\nworkloads: [alexnet, resnet18]\nmodel: analytical\n")
    execute(spec, tmp_path / "r.h5", jobs=1)
    proc = subprocess.run([sys.executable, str(SCRIPTS / "plot_sweep.py"), str(tmp_path / "r.h5"),
                           "-o", str(tmp_path / "plots")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["heatmap_alexnet.png", "heatmap_resnet18.png", "pareto_alexnet.png", "pareto_resnet18.png"]
    for name in names:
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, str(SCRIPTS / "plot_sweep.py"), str(tmp_path / "r.h5"),
                          "--where", "array.nope=3"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("--where: array.nope: not an axis of ")


def test_bench_sweep_has_100_distinct_resnet50_points_and_runs():
    bench = script("bench_sweep")
    points = bench.resnet50_spec(100).points()
    assert len(points) == 100 and {p.workload.name for p in points} == {"resnet50"}
    assert len({p.key for p in points}) == 100


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX load average")
def test_bench_sweep_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPTS / "bench_sweep.py"), "--points", "3",
                           "--throughput-points", "2", "--overhead-points", "3", "--repeat", "1"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "3-point ResNet-50 sweep, default options:" in proc.stdout and "target < 60 s: ok" in proc.stdout
    assert "overhead per point outside the simulation, ms (3 ResNet-50 points" in proc.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX load average")
def test_bench_sweep_one_worker_command(tmp_path):
    """Section 5 runs the 100 points through ``accelsim sweep -j 1`` in a child process; its exit
    status says whether it met the target, which depends on the machine, so only the report and
    a status of 0 or 1 (not a crash) are checked."""
    proc = subprocess.run([sys.executable, str(SCRIPTS / "bench_sweep.py"), "--one-worker-only", "--repeat", "1"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "100-point ResNet-50 sweep, one worker, whole process (accelsim sweep -j 1, best of 1): " in proc.stdout
    assert "target <= 3 s: " in proc.stdout
