"""Progress output (accelsim.progress): the bar or log lines of long work, and the run's
per-phase layer bars."""

from __future__ import annotations

import io
import subprocess
import sys

from accelsim.progress import LayerBars, Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_in_a_log_is_a_line_every_n_points_when_asked():
    clock, out = Clock(), io.StringIO()
    meter = Progress(10, "sweep", stored=2, stream=out, tty=False, every=3, clock=clock)
    for status in ["done", "failed", "done", "done", "done", "done", "done", "done"]:
        clock.now += 0.5
        meter.update(status)
    # tqdm's format: 2 points per second; after 3 of 8 points 5 remain, 2.5 s, and so on
    assert out.getvalue().splitlines() == [
        "sweep:  50% 5/10 [00:01<00:02,  2.00 points/s], 1 failed",
        "sweep:  80% 8/10 [00:03<00:01,  2.00 points/s], 1 failed",
        "sweep: 100% 10/10 [00:04<00:00,  2.00 points/s], 1 failed",
    ]


def test_progress_is_quiet_in_a_log_and_with_quiet():
    out = io.StringIO()
    for meter in (Progress(4, "sweep", stream=out, tty=False), Progress(4, "sweep", stream=out, tty=True,
                                                                         enabled=False)):
        for _ in range(4):
            meter.update("done")
        meter.close()
    assert out.getvalue() == ""


def test_progress_on_a_terminal_is_a_tqdm_bar_redrawn_in_place():
    out = io.StringIO()
    meter = Progress(4, "sweep", stream=out, tty=True)
    for _ in range(4):
        meter.update("done")
    meter.close()
    frames = [f for f in out.getvalue().split("\r") if f]
    assert frames[-1].startswith("sweep: 100%|") and "4/4" in frames[-1] and "points/s" in frames[-1]


def told(bars: LayerBars, clock: Clock, phase: str, total: int, seconds_per_layer: float) -> None:
    for done in range(1, total + 1):
        clock.now += seconds_per_layer
        bars(phase, done, total)


def test_a_phase_shows_its_bar_only_once_it_has_taken_the_delay():
    clock, out = Clock(), io.StringIO()
    with LayerBars(stream=out, tty=True, delay_s=1.0, clock=clock) as bars:
        told(bars, clock, "schedule", 10, 0.05)   # 0.5 s in all: no bar
        assert out.getvalue() == ""
        told(bars, clock, "simulate", 10, 0.3)    # past 1 s at its 4th layer (1.2 s)
    text = out.getvalue()
    assert "schedule" not in text
    final = text.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("simulate: 100%") and "10/10" in final and "layers" in final
    assert "simulate:  40%" in text and "4/10" in text and "3/10" not in text  # it starts where it appears


def test_no_bar_off_a_terminal_or_when_quiet():
    for bars_of in (lambda out, clock: LayerBars(stream=out, tty=False, delay_s=0.0, clock=clock),
                    lambda out, clock: LayerBars(stream=out, tty=True, enabled=False, delay_s=0.0, clock=clock)):
        clock, out = Clock(), io.StringIO()
        with bars_of(out, clock) as bars:
            told(bars, clock, "simulate", 5, 10.0)
        assert out.getvalue() == ""


QUICK_RUN = """
import sys
from accelsim import load_hardware, load_workload
from accelsim.models import simulate
from accelsim.progress import LayerBars, Progress
with LayerBars(tty=True, delay_s=60.0) as bars:
    simulate(load_hardware("tpu_v1"), load_workload("alexnet"), progress=bars)
assert "tqdm" not in sys.modules, "tqdm imported"
"""


def test_a_run_quicker_than_the_delay_prints_nothing_and_does_not_import_tqdm():
    proc = subprocess.run([sys.executable, "-c", QUICK_RUN], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_run_takes_quiet(tmp_path):
    from accelsim.cli import main

    assert main(["run", "-q", "--workload", "alexnet", "-o", str(tmp_path / "r.txt")]) == 0
    assert "alexnet" in (tmp_path / "r.txt").read_text()
