"""Run a set of workloads on a set of designs, in parallel processes, with a progress bar on a terminal.

Each (design, case) is an independent simulation, so they spread over worker
processes; the longest ones are started first so the pool finishes together.
A case that cannot run on a design (a tile that does not fit its buffers) is
recorded with its one-line error instead of stopping the suite.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from accelsim.config import Hardware, Workload
from accelsim.errors import AccelsimError
from accelsim.models import run_model
from accelsim.progress import Progress
from accelsim.stats import RunResult


@dataclass(frozen=True)
class Case:
    """One workload at one batch, as a suite names it. ``group`` gathers cases for plots
    (the network, for a macro suite)."""

    label: str
    workload: Workload
    group: str

    @property
    def batch(self) -> int:
        return self.workload.batch


@dataclass(frozen=True)
class Outcome:
    """The run of one case on one design, or the one-line reason it could not run."""

    design: str
    case: Case
    run: RunResult | None
    error: str | None
    seconds: float


def default_jobs(tasks: int) -> int:
    return max(1, min(tasks, os.cpu_count() or 1))


def simulate_task(task: tuple[str, Hardware, Case]) -> tuple[RunResult | None, str | None, float]:
    """One (model, design, case) in a worker (module level, so a process pool can pickle it)."""
    from accelsim.sweep.runner import worker_tilings  # the worker's tilings of its earlier cases

    model, hw, case = task
    start = time.perf_counter()
    try:
        run, error = run_model(model, hw, case.workload, worker_tilings()), None
    except AccelsimError as err:  # its own class may not survive pickling: pass the line
        run, error = None, str(err)
    return run, error, time.perf_counter() - start


def _cost(task: tuple[str, Hardware, Case]) -> float:
    """A rough order for scheduling: work over the design's peak (bigger first)."""
    _, hw, case = task
    return case.workload.macs() / hw.peak_macs_per_cycle


def run_cases(designs: list[Hardware], cases: list[Case], model: str = "engine", jobs: int | None = None,
              progress: bool = True) -> list[Outcome]:
    """Every case on every design; results in (design, case) order, whatever order they finished in.

    Runs on the sweep's executors (in-process for one job, else a warm process pool), the longest
    cases first so the pool finishes together.
    """
    from accelsim.sweep.runner import PoolExecutor, SerialExecutor

    tasks = [(model, hw, case) for hw in designs for case in cases]
    jobs = default_jobs(len(tasks)) if jobs is None else max(1, jobs)
    index = {id(task): i for i, task in enumerate(tasks)}
    results: dict[int, Outcome] = {}
    meter = Progress(len(tasks), "simulations", " runs", enabled=progress)
    executor = SerialExecutor(simulate_task) if jobs == 1 else PoolExecutor(jobs, simulate_task)
    try:
        for task, (run, error, seconds) in executor.run(sorted(tasks, key=lambda t: -_cost(t))):
            i = index[id(task)]
            results[i] = Outcome(task[1].name, task[2], run, error, seconds)
            meter.update("failed" if error else "done")
    finally:
        executor.close()
        meter.close()
    return [results[i] for i in range(len(tasks))]
