"""A sweep killed with SIGKILL mid-run leaves a readable file and no workers; --resume completes it,
every point exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accelsim.errors import ConfigError
from accelsim.reports import store
from accelsim.results import load
from accelsim.sweep import execute, load_spec
from sweep_helpers import stored_records, tiny  # noqa: F401  (tiny: a fixture)

# 108 engine runs of ResNet-18 (~30 ms each): the store writes at most 32 points at a time
# (store.BATCH_POINTS), so at least 76 are still to come when the first batch lands and the test
# kills the sweep; with 36 points the last batch could land within one poll of the first.
SPEC = """\
hardware: tpu_v1
axes:
  array.rows: [64, 128, 256]
  array.cols: [64, 128, 256]
  dram.bandwidth_gb_per_s: [8, 16, 34, 68]
  array.dataflow: [ws, os, is]
workloads: [resnet18]
model: engine
"""
KILL_AFTER = 3  # stored points


def live_processes_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies (Linux /proc)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


def done_points(path) -> int:
    try:
        return load(path, as_pandas=False).count("done")
    except ConfigError:  # not created yet
        return 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_sweep_resumes_with_every_point_exactly_once(tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC)
    out = tmp_path / "r.h5"
    points = load_spec(spec_path).points()
    assert len(points) >= store.BATCH_POINTS + 76  # points to come when the first batch lands
    command = [sys.executable, "-m", "accelsim", "sweep", str(spec_path), "-o", str(out), "--jobs", "2", "-q"]
    # its own process group, so that the test can find (and at the end remove) everything it started
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while done_points(out) < KILL_AFTER:
            assert proc.poll() is None, f"the sweep ended before it was killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "no point stored within 120 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator only, as the OOM killer would
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        # its workers notice and exit (nothing else would ever end them)
        while live_processes_in_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not live_processes_in_group(proc.pid)
    finally:
        if live_processes_in_group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)

    killed = load(out, as_pandas=False)  # readable as the kill left it
    stored = killed.count("done")
    assert KILL_AFTER <= stored < len(points)
    assert killed.count("pending") == len(points) - stored

    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"this run stored {len(points) - stored} in" in resumed.stdout
    assert f"{stored} were already stored" in resumed.stdout

    final = load(out, as_pandas=False)
    assert list(final.points["key"]) == [p.key for p in points]   # every point, in order, once
    assert list(final.points["status"]) == ["done"] * len(points)
    assert len(final.totals) == len(points) and len(set(final.totals["key"])) == len(points)
    # and what is stored is what an uninterrupted run stores
    execute(spec_path, tmp_path / "reference.h5", jobs=1)
    assert stored_records(out) == stored_records(tmp_path / "reference.h5")


KILL_IN_A_BATCH = """\
import os, signal, sys
from accelsim.reports import store
from accelsim.sweep import execute

store.BATCH_POINTS = 3
write, written = store.Store.write, []

def write_then_die(self, *args, **kwargs):
    write(self, *args, **kwargs)
    written.append(args[0])
    if len(written) == 5:  # points 0-2 stored as a batch, 3 and 4 waiting in the next one
        os.kill(os.getpid(), signal.SIGKILL)

store.Store.write = write_then_die
execute(sys.argv[1], sys.argv[2], jobs=1, progress=False)
"""


def test_points_waiting_in_a_batch_when_killed_are_pending_and_resume_runs_them_once(tmp_path, tiny):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"hardware: tpu_v1\naxes:\n  sram.weight.size_kib: [64, 128, 256, 512]\n"
                    f"  array.dataflow: [os, ws, is]\nworkloads: [{tiny}]\nmodel: analytical\n")
    out = tmp_path / "r.h5"
    killed = subprocess.run([sys.executable, "-c", KILL_IN_A_BATCH, str(spec), str(out)], capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    status = list(load(out, as_pandas=False).points["status"])
    assert "pending" not in status[:3] and status[3:] == ["pending"] * 9  # the waiting points too
    report = execute(spec, out, jobs=1, resume=True)
    assert (report.stored_before, report.ran, report.pending) == (3, 9, 0)
    execute(spec, tmp_path / "reference.h5", jobs=1)
    assert stored_records(out) == stored_records(tmp_path / "reference.h5")
