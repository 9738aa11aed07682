"""``accelsim sweep`` and ``accelsim runs show``: exit codes, one-line errors, ranking."""

from __future__ import annotations

import subprocess
import sys

import pytest

from accelsim.cli import main

# AlexNet on tpu_v1 is bound by its fully connected weights streaming from DRAM, so with the
# design fixed, more bandwidth means strictly fewer cycles: the best latency is the last point.
BANDWIDTH_SPEC = """\
hardware: tpu_v1
axes:
  dram.bandwidth_gb_per_s: [8, 16, 34, 68]
workloads: [alexnet]
model: analytical
"""
# tpu_v1's 256 x 256 one-byte weight tile (65536 bytes) needs a 32 KiB slot: 64 KiB buffers have
# 32768-byte slots, too small for weight stationary; 128 KiB are enough.
FAILING_SPEC = """\
hardware: tpu_v1
axes:
  sram.weight.size_kib: [64, 128]
  array.dataflow: [ws]
workloads: [alexnet]
model: analytical
"""


def cli(*args):
    return subprocess.run([sys.executable, "-m", "accelsim", *args], capture_output=True, text=True)


@pytest.fixture
def bandwidth_results(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BANDWIDTH_SPEC)
    out = tmp_path / "r.h5"
    assert main(["sweep", str(spec), "-o", str(out), "--jobs", "1"]) == 0
    capsys.readouterr()
    return out


def table_points(text: str) -> list[int]:
    """The ``point`` column of the ranking table."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    rows = []
    for line in lines[header + 2:]:
        if not line.strip():
            break
        rows.append(int(line.split()[1]))
    return rows


def test_sweep_runs_stores_and_summarises(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(FAILING_SPEC)
    proc = cli("sweep", str(spec), "-o", str(tmp_path / "r.h5"), "--progress-every", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{tmp_path / 'r.h5'}: 2 points: 1 done, 1 failed; this run stored 2 in ")
    # stderr is not a terminal here: one plain progress line per point
    assert [line.split("[")[0] for line in proc.stderr.splitlines()] == ["sweep:  50% 1/2 ", "sweep: 100% 2/2 "]


def test_existing_output_is_refused_without_resume(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BANDWIDTH_SPEC)
    out = tmp_path / "r.h5"
    out.write_text("not mine to delete")
    assert main(["sweep", str(spec), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (f"{out}: already exists; --resume (resume=True) continues it, or choose "
                                       f"another output file\n")
    assert out.read_text() == "not mine to delete"


def test_resume_completes_and_refuses_a_changed_spec(tmp_path, bandwidth_results, capsys):
    spec = tmp_path / "spec.yaml"
    assert main(["sweep", str(spec), "-o", str(bandwidth_results), "--resume", "-q"]) == 0
    assert "nothing to run, every point was already stored" in capsys.readouterr().out
    spec.write_text(BANDWIDTH_SPEC.replace("68]", "64]"))
    assert main(["sweep", str(spec), "-o", str(bandwidth_results), "--resume", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bandwidth_results}: holds another sweep (1 of its 4 points are not in this spec")
    assert err.count("\n") == 1


@pytest.mark.parametrize("replace, message", [
    (("dram.bandwidth_gb_per_s", "dram.bandwith_gb_per_s"),
     "axes.dram.bandwith_gb_per_s: no such hardware field, expected one of: bandwidth_gb_per_s, latency_ns"),
    (("[8, 16, 34, 68]", "[8, fast]"), "axes.dram.bandwidth_gb_per_s: expected a positive number, got 'fast'"),
    (("model: analytical", "model: analytical\nconstraints: [dram.bandwidth_gb_per_s > 100]"),
     "constraints: no points: the constraints exclude every design (4 considered)"),
    (("model: analytical", "model: analytical\nconstraints: [open('x') == 1]"),
     "constraints[0]: a function call is not allowed in a constraint"),
    (("hardware: tpu_v1", "hardware: [tpu_v1, nope]"), "hardware[1]: nope: no such file, and not a shipped"),
])
def test_bad_specs_exit_2_with_one_line_naming_file_and_path(tmp_path, capsys, replace, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text(BANDWIDTH_SPEC.replace(*replace))
    assert main(["sweep", str(spec), "-o", str(tmp_path / "r.h5")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"{spec}: {message}") and captured.err.count("\n") == 1
    assert captured.out == ""
    assert not (tmp_path / "r.h5").exists()


def test_bad_spec_exits_2_from_the_shell(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("hardware: tpu_v1\nworkloads: [alexnet]\naxes: {array.rows: [0]}\n")
    proc = cli("sweep", str(spec), "-o", str(tmp_path / "r.h5"))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"{spec}: axes.array.rows: expected a positive integer, got 0\n"


def test_runs_show_ranks_best_first(bandwidth_results, capsys):
    assert main(["runs", "show", str(bandwidth_results)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{bandwidth_results}: 4 points (analytical model, accelsim ")
    assert "best 4 of 4 by latency_s (smallest first)" in out
    assert table_points(out) == [3, 2, 1, 0]          # 68, 34, 16, 8 GB/s
    assert "dram.bandwidth_gb_per_s" in out and "latency ms" in out
    assert main(["runs", "show", str(bandwidth_results), "--sort", "utilization", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "best 2 of 4 by utilization (largest first)" in out and table_points(out) == [3, 2]
    assert main(["runs", "show", str(bandwidth_results), "--sort", "cycles", "--order", "desc"]) == 0
    assert table_points(capsys.readouterr().out) == [0, 1, 2, 3]


def test_runs_show_lists_failed_points(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(FAILING_SPEC)
    assert main(["sweep", str(spec), "-o", str(tmp_path / "r.h5"), "-j", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["runs", "show", str(tmp_path / "r.h5")]) == 0
    out = capsys.readouterr().out
    assert "2 points (analytical model" in out and ": 1 done, 1 failed" in out
    assert "not done (1):\n  point 0 (tpu_v1: sram.weight.size_kib=64, array.dataflow=ws; alexnet): failed: layer " \
        in out
    assert "needs 65536 bytes, 32768 bytes available" in out


@pytest.mark.parametrize("args, message", [
    (["--sort", "speed"], "--sort: speed: expected a numeric total: macs, cycles, "),
    (["--workload", "vgg16"], "--workload: vgg16: not in "),
])
def test_runs_show_errors_are_one_line(bandwidth_results, capsys, args, message):
    assert main(["runs", "show", str(bandwidth_results), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_runs_show_refuses_other_files(tmp_path, capsys):
    (tmp_path / "x.h5").write_text("hello")
    assert main(["runs", "show", str(tmp_path / "x.h5")]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'x.h5'}: not a readable HDF5 file")


def test_cluster_local_runs_on_a_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    spec = tmp_path / "spec.yaml"
    spec.write_text(BANDWIDTH_SPEC.replace("[8, 16, 34, 68]", "[8, 68]"))
    proc = cli("sweep", str(spec), "-o", str(tmp_path / "r.h5"), "--cluster", "local", "--jobs", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "2 points: 2 done, 0 failed" in proc.stdout


def test_a_swept_bandwidth_the_requests_in_flight_cannot_reach_is_a_warning(tmp_path, capsys):
    # tpu_v1's 128 requests of 64 B over 70 cycles cap its DRAM at 81.9 GB/s: 34 is reached,
    # 136 is not
    spec = tmp_path / "spec.yaml"
    spec.write_text(BANDWIDTH_SPEC.replace("[8, 16, 34, 68]", "[34, 136]"))
    assert main(["sweep", str(spec), "-o", str(tmp_path / "r.h5"), "-j", "1", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert (f"warning: {spec}: axes.dram.bandwidth_gb_per_s = 136 on tpu_v1 has no effect beyond 81.9 GB/s: "
            "DRAM reaches 81.9 of its 136 GB/s") in err


def test_runs_show_ranks_each_workload_on_its_own(tmp_path, capsys):
    """Latencies of different networks are not comparable: one ranking per workload and batch."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("hardware: gemmini\naxes: {dram.bandwidth_gb_per_s: [4, 16]}\n"
                    "workloads: [alexnet, {workload: resnet18, batch: [1, 2]}]\nmodel: analytical\n")
    assert main(["sweep", str(spec), "-o", str(tmp_path / "r.h5"), "-j", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["runs", "show", str(tmp_path / "r.h5")]) == 0
    out = capsys.readouterr().out
    headings = [line for line in out.splitlines() if line.startswith("best ")]
    assert headings == ["best 2 of 2 of alexnet, batch 1 by latency_s (smallest first):",
                        "best 2 of 2 of resnet18, batch 1 by latency_s (smallest first):",
                        "best 2 of 2 of resnet18, batch 2 by latency_s (smallest first):"]
    ranks = [line.split()[0] for line in out.splitlines() if line.strip()[:1].isdigit() and "  " in line]
    assert ranks == ["1", "2"] * 3
