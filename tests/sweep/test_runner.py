"""Running sweeps: failures stored and counted, determinism across executors, resume (their
progress bar and log lines: tests/test_progress.py)."""

from __future__ import annotations

import subprocess
import sys

import h5py
import pytest

import accelsim
from accelsim.config import DataKind
from accelsim.errors import ConfigError
from accelsim.models import run_model
from accelsim.reports import store
from accelsim.reports.records import flat, layer_record, total_record
from accelsim.sweep import SweepSpec, execute, run_point
from sweep_helpers import stored_records, tiny  # noqa: F401  (tiny: a fixture)

# tpu_v1 is weight stationary with 256 x 256 PEs and one byte per weight: one stationary tile is
# 256 * 256 = 65536 bytes, which must fit one slot (half, double-buffered) of the weight buffer.
# A 64 KiB buffer has 32768-byte slots, so that point cannot map; OS and IS stream the weights.
TILE_BYTES = 256 * 256 * 1
SLOT_BYTES = 64 * 1024 // 2


def twelve_points(workload, model="engine") -> SweepSpec:
    return SweepSpec(hardware="tpu_v1", workloads=[str(workload)], model=model,
                     axes={"sram.weight.size_kib": [64, 128, 256, 512], "array.dataflow": ["os", "ws", "is"]})


def test_a_point_that_cannot_map_is_stored_as_failed_and_the_sweep_goes_on(tmp_path, tiny):
    spec = twelve_points(tiny)
    report = execute(spec, tmp_path / "r.h5", jobs=2)
    assert (report.points, report.done, report.failed, report.errors, report.pending) == (12, 11, 1, 0, 0)
    assert "12 points: 11 done, 1 failed" in report.summary()
    results = accelsim.results.load(tmp_path / "r.h5", as_pandas=False)
    failed = results.points[results.points["status"] == "failed"]
    assert len(failed) == 1 and failed["sram.weight.size_kib"][0] == 64 and failed["array.dataflow"][0] == "ws"
    assert failed["error"][0] == (f"layer fc1: does not fit the weight_fifo buffer: needs {TILE_BYTES} bytes, "
                                  f"{SLOT_BYTES} bytes available (one fold's stationary tile of 256 x 256 elements)")
    assert len(results.totals) == 11 and len(results.layers) == 11 * 3
    # what is stored is what a direct simulation of the same design gives
    for point in spec.points():
        if point.index == failed["point"][0]:
            continue
        row = results.totals[results.totals["point"] == point.index][0]
        direct = flat(total_record(accelsim.simulate(point.hardware, point.workload)))
        assert (row["cycles"], row["dram_read_bytes"], row["macs"]) == \
            (direct["cycles"], direct["dram_read_bytes"], direct["macs"])
        assert row["key"] == point.key


def test_same_inputs_give_the_same_stored_records_in_process_and_in_a_pool(tmp_path, tiny):
    spec = twelve_points(tiny)
    execute(spec, tmp_path / "serial.h5", jobs=1)
    execute(spec, tmp_path / "again.h5", jobs=1)
    execute(spec, tmp_path / "pool.h5", jobs=2)
    serial = stored_records(tmp_path / "serial.h5")
    assert stored_records(tmp_path / "again.h5") == serial
    assert stored_records(tmp_path / "pool.h5") == serial


def test_a_batched_store_holds_what_each_points_run_gives_and_what_point_by_point_writes(tmp_path, tiny,
                                                                                         monkeypatch):
    spec = twelve_points(tiny, model="analytical")
    execute(spec, tmp_path / "batched.h5", jobs=1)  # the 12 points in one batch (fast points)
    monkeypatch.setattr(store, "BATCH_POINTS", 1)
    execute(spec, tmp_path / "single.h5", jobs=1)   # each point written as it arrives
    assert stored_records(tmp_path / "batched.h5") == stored_records(tmp_path / "single.h5")
    results = accelsim.results.load(tmp_path / "batched.h5", as_pandas=False)
    layers = iter(results.layers)
    for point, status in zip(spec.points(), results.points["status"]):
        try:
            run = run_model(point.model, point.hardware, point.workload)
        except accelsim.AccelsimError:
            assert status == "failed"
            continue
        row = results.totals[results.totals["point"] == point.index][0]
        for expected, got in [(flat(total_record(run)), row)] + \
                [(flat(layer_record(layer, run)), next(layers)) for layer in run.layers]:
            for name, value in expected.items():
                assert (value is None and got[name] != got[name]) or got[name] == value, (point.index, name)
    assert next(layers, None) is None


def test_an_existing_file_is_never_overwritten(tmp_path, tiny):
    out = tmp_path / "r.h5"
    out.write_bytes(b"precious")
    with pytest.raises(ConfigError, match=r"r.h5: already exists; --resume \(resume=True\) continues it"):
        execute(twelve_points(tiny), out, jobs=1)
    assert out.read_bytes() == b"precious"


def test_resume_runs_only_the_points_not_stored(tmp_path, tiny):
    spec = twelve_points(tiny, model="analytical")
    full, partial = tmp_path / "full.h5", tmp_path / "partial.h5"
    execute(spec, full, jobs=1)
    execute(spec, partial, jobs=1)
    with h5py.File(partial, "r+") as f:  # as if the run had stopped: 5 points never stored
        f["status"][[2, 3, 7, 10, 11]] = 0
    report = execute(spec, partial, jobs=1, resume=True)
    assert (report.stored_before, report.ran, report.done, report.failed) == (7, 5, 11, 1)
    assert stored_records(partial) == stored_records(full)
    again = execute(spec, partial, jobs=1, resume=True)
    assert again.ran == 0 and "nothing to run, every point was already stored" in again.summary()


def test_resume_refuses_another_sweep(tmp_path, tiny):
    out = tmp_path / "r.h5"
    execute(twelve_points(tiny, "analytical"), out, jobs=1)
    other = SweepSpec(hardware="tpu_v1", workloads=[str(tiny)], model="analytical",
                      axes={"sram.weight.size_kib": [64, 128, 256, 1024], "array.dataflow": ["os", "ws", "is"]})
    with pytest.raises(ConfigError, match=r"r.h5: holds another sweep \(3 of its 12 points are not in this spec: "
                                          r"the spec, a hwconfig or a workload file changed\)"):
        execute(other, out, jobs=1, resume=True)
    reordered = SweepSpec(hardware="tpu_v1", workloads=[str(tiny)], model="analytical",
                          axes={"array.dataflow": ["os", "ws", "is"], "sram.weight.size_kib": [64, 128, 256, 512]})
    with pytest.raises(ConfigError, match=r"r.h5: holds the same points in another order"):
        execute(reordered, out, jobs=1, resume=True)


def test_run_returns_results_and_leaves_no_file_without_output(tmp_path, tiny, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    results = accelsim.sweep(twelve_points(tiny, "analytical"), jobs=1, as_pandas=False)
    assert results.count("done") == 11 and results.count("failed") == 1 and results.model == "analytical"
    assert list(tmp_path.iterdir()) == [tiny]


def test_a_bug_in_one_point_is_stored_as_an_error_and_counted(tmp_path, tiny, monkeypatch):
    import accelsim.sweep.runner as runner

    real = runner.run_model

    def flaky(model, hw, workload, tilings=None):
        if hw.memory.buffer_for(DataKind.WEIGHTS).size_kib == 256:
            raise ZeroDivisionError("division by zero")
        return real(model, hw, workload, tilings)

    monkeypatch.setattr(runner, "run_model", flaky)
    report = execute(twelve_points(tiny, "analytical"), tmp_path / "r.h5", jobs=1)
    assert (report.done, report.failed, report.errors) == (8, 1, 3)
    assert "3 internal errors (please report)" in report.summary()
    points = accelsim.results.load(tmp_path / "r.h5", as_pandas=False).points
    assert points["error"][points["status"] == "error"][0].startswith(
        "internal error: ZeroDivisionError: division by zero (test_runner.py:")


def test_run_point_reports_what_the_worker_did():
    hw, wl = accelsim.load_hardware("gemmini"), accelsim.load_workload("alexnet")
    outcome = run_point(hw, wl, "analytical")
    assert outcome.status == "done" and outcome.error == "" and outcome.seconds > 0
    assert outcome.total["cycles"] == accelsim.analyze(hw, wl).cycles and len(outcome.layers) == len(wl.layers)


def test_executor_options_are_checked(tmp_path, tiny):
    spec = twelve_points(tiny, "analytical")
    with pytest.raises(ConfigError, match=r"^--scheduler: tcp://x:1: expected --scheduler or --cluster, not both$"):
        execute(spec, tmp_path / "a.h5", scheduler="tcp://x:1", cluster="local")
    with pytest.raises(ConfigError, match=r"^--cluster: remote: expected local$"):
        execute(spec, tmp_path / "b.h5", cluster="remote")
    with pytest.raises(ConfigError, match=r"^--jobs: 0: expected a positive integer$"):
        execute(spec, tmp_path / "c.h5", jobs=0)
    assert list(tmp_path.iterdir()) == [tiny]  # a bad option leaves no file behind


def test_a_script_needs_no_main_guard(tmp_path):
    """The README's snippet, pasted into a file without `if __name__ == '__main__':`: the pool's workers
    never run the script, so it sweeps once and prints once."""
    (tmp_path / "spec.yaml").write_text("hardware: gemmini\naxes: {array.rows: [8, 16, 32]}\nworkloads: [alexnet]\n"
                                        "model: analytical\n")
    (tmp_path / "snippet.py").write_text("import accelsim\nprint('start')\n"
                                         "results = accelsim.sweep('spec.yaml', 'sweep.h5', jobs=2)\n"
                                         "print(len(results.totals))\n")
    proc = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "start\n3\n" and proc.stderr == ""
