"""Running a sweep: points go to workers, results come back to one coordinator that stores them.

Workers (in-process, a local process pool, or a Dask cluster) only simulate: they return flat
records, never touch the results file. The coordinator stores each point as it arrives
(``reports.store``, a few points per write), so a crash loses only the points still running or
waiting to be written, and ``resume`` runs only the points the file does not hold yet.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

from accelsim import __version__
from accelsim.config import Hardware, Workload, load_hardware
from accelsim.config.schema import to_data
from accelsim.engine import simulate
from accelsim.errors import AccelsimError, ConfigError
from accelsim.models import run_model
from accelsim.reports.records import flat, flat_records
from accelsim.progress import Progress
from accelsim.sweep.spec import SweepPoint, SweepSpec, load_spec

IN_FLIGHT_PER_WORKER = 2  # points queued per worker: enough to keep it busy, few to lose on a crash
# forkserver: workers fork from a clean server process (no threads, no open results file),
# which is the safe choice on Linux; elsewhere the platform default (spawn).
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None


class SweepAborted(Exception):
    """The sweep stopped before its end for a reason that is not the user's input (a worker died)."""


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one point."""

    status: str                      # done, failed (the design cannot run it), error (a bug)
    error: str = ""
    total: dict | None = None        # the flat total record
    layers: tuple[dict, ...] = ()    # the flat layer records, in workload order
    seconds: float = 0.0             # wall time of the simulation in the worker


def run_point(hardware: Hardware, workload: Workload, model: str) -> Outcome:
    """Simulate one point; every exception becomes an Outcome so one bad point never stops a sweep."""
    start = time.perf_counter()
    try:
        run = run_model(model, hardware, workload, worker_tilings())
        total, layers = flat_records(run)
        return Outcome("done", total=total, layers=layers, seconds=time.perf_counter() - start)
    except AccelsimError as err:
        return Outcome("failed", error=str(err), seconds=time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001 - a bug in accelsim: store it with where it happened
        frame = traceback.extract_tb(err.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
        return Outcome("error", error=f"internal error: {type(err).__name__}: {err} ({where})",
                       seconds=time.perf_counter() - start)


@functools.cache  # one per process, made on its first point
def worker_tilings():
    """The tilings this worker built for its earlier points, for its next ones: points that share
    the array and the buffers (a sweep over DRAM, clock or DMA) tile every layer once. A memo
    of the process, never shared between workers; keyed on all that the tiler reads, so what a
    point gives does not depend on the points the worker ran before. Bounded by
    ``schedule.TILING_CACHE_BYTES`` (tilings) and ``SCHEDULE_CACHE_BYTES`` / ``MAX_SCHEDULES``
    (whole schedules, or several cores' splits)."""
    from accelsim.schedule import TilingCache

    return TilingCache()


def run_sweep_point(point: SweepPoint) -> Outcome:
    """The default task of the executors: one sweep point (module level, so workers can unpickle it)."""
    return run_point(point.hardware, point.workload, point.model)


def warm_up() -> None:
    """Import the modules a simulation loads on first use, by running a tiny one.

    Never raises: it runs in the workers' fork server, which an exception would stop (and with it
    the pool); a warm-up that fails only costs each worker that time on its first point.
    """
    from accelsim.config.workload import Gemm

    try:
        simulate(load_hardware("gemmini"), Workload(name="warm-up", layers=(Gemm(name="gemm", M=16, N=16, K=16),)))
    except Exception:  # noqa: BLE001
        pass


def worker_version() -> str:
    """Run on Dask workers: their accelsim must be this one, or results would not compare."""
    return __version__


def _start_worker() -> None:
    """Pool worker set-up: leave Ctrl-C to the coordinator, and die with it.

    The coordinator stops handing out points on Ctrl-C and closes the file cleanly. If it is
    killed instead, nothing would ever end its workers (they wait on a queue they themselves
    keep open), so each one watches the coordinator and exits when it is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)  # a worker holds no file: nothing to clean up


# ------------------------------------------------------------ executors


class SerialExecutor:
    """In this process, one point at a time (``jobs=1``): no start-up cost, easy to debug.

    ``task(point)`` is what runs per point (sweep points by default; the benchmark suites pass
    their own module-level function).
    """

    workers = 1

    def __init__(self, task=run_sweep_point) -> None:
        self.task = task
        warm_up()  # the first-call imports are start-up, not the first point's simulation time

    def run(self, points: list) -> Iterator[tuple]:
        for point in points:
            yield point, self.task(point)

    def close(self, wait: bool = True) -> None:
        pass


@contextlib.contextmanager
def _main_unseen():
    """Start worker processes without re-running the main script in them.

    Spawned and forkserver workers import the parent's ``__main__`` (by file or module name) to
    find functions defined there; an unguarded ``accelsim.sweep(...)`` in a script would then
    run again in every worker. The tasks here are accelsim's own functions, so the workers need
    no ``__main__``: while they start, the main module shows neither its file nor its spec.
    """
    main = sys.modules.get("__main__")
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if main and name in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


class PoolExecutor:
    """A local process pool; points are handed out a few at a time and come back as they finish."""

    def __init__(self, jobs: int, task=run_sweep_point):
        self.workers = jobs
        self.task = task
        context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":
            # (the fork server is one per process: this applies from the first pool of the process on)
            context.set_forkserver_preload(["accelsim.sweep._warm"])
        self._pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker)

    def run(self, points: list) -> Iterator[tuple]:
        pending = iter(points)
        running: dict[cf.Future, object] = {}

        def submit(n: int) -> None:
            for point in pending:
                with _main_unseen():  # workers start on submit
                    running[self._pool.submit(self.task, point)] = point
                n -= 1
                if not n:
                    return

        submit(self.workers * IN_FLIGHT_PER_WORKER)
        while running:
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                point = running.pop(future)
                try:
                    outcome = future.result()
                except cf.process.BrokenProcessPool as err:
                    raise SweepAborted(f"a worker process died ({err}); the points stored so far are kept, "
                                       f"run again with --resume to continue (from a script: is the sweep "
                                       f"called under `if __name__ == '__main__':`?)") from None
                submit(1)
                yield point, outcome

    def close(self, wait: bool = True) -> None:
        # after Ctrl-C or an abort, do not wait for the points still running
        self._pool.shutdown(wait=wait, cancel_futures=True)


class DaskExecutor:
    """Points as tasks on a Dask distributed cluster; workloads are sent to each worker once."""

    def __init__(self, scheduler: str | None, jobs: int | None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--scheduler" if scheduler else "--cluster", "",
                              "needs Dask: pip install 'accelsim[dask]'") from None
        self._cluster = None
        try:
            if scheduler is None:
                self._cluster = LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1,
                                             processes=True, dashboard_address=None)
                self._client = Client(self._cluster)
            else:
                self._client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            self.close()
            raise ConfigError("--scheduler", scheduler or "", f"cannot connect: {err}") from None
        where = scheduler or "local cluster"
        try:
            versions = self._client.run(worker_version)
        except Exception as err:  # noqa: BLE001 - whatever the workers raise, say which cluster
            self.close()
            raise ConfigError("--scheduler", where, f"workers cannot run accelsim: {type(err).__name__}: {err}") \
                from None
        wrong = sorted({v for v in versions.values() if v != __version__})
        if wrong:
            self.close()
            raise ConfigError("--scheduler", where, f"workers run accelsim {', '.join(wrong)}, this is "
                                                    f"{__version__} (install the same version everywhere)")
        if not versions:
            self.close()
            raise ConfigError("--scheduler", where, "the cluster has no workers")
        self.workers = sum(self._client.nthreads().values())
        self._client.run(warm_up)  # every worker at once, before the points (as the local pool does)

    def run(self, points: list[SweepPoint]) -> Iterator[tuple[SweepPoint, Outcome]]:
        from dask.distributed import as_completed

        workloads: dict[int, object] = {}
        for point in points:
            if id(point.workload) not in workloads:
                workloads[id(point.workload)] = self._client.scatter(point.workload, broadcast=True, hash=False)
        pending = iter(points)
        running: dict[str, SweepPoint] = {}
        queue = as_completed()

        def submit(n: int) -> None:
            for point in pending:
                # The key names the point's identity, so a cluster never runs the same point twice.
                future = self._client.submit(run_point, point.hardware, workloads[id(point.workload)],
                                             point.model, key=f"accelsim-point-{point.key}", pure=False)
                running[future.key] = point
                queue.add(future)
                n -= 1
                if not n:
                    return

        submit(self.workers * IN_FLIGHT_PER_WORKER)
        for future in queue:
            point = running.pop(future.key)
            try:
                outcome = future.result()
            except Exception as err:  # noqa: BLE001 - a lost worker, a lost connection
                raise SweepAborted(f"the Dask cluster failed to run {point.describe()}: {type(err).__name__}: "
                                   f"{err}; the points stored so far are kept, run again with --resume") from None
            future.release()
            submit(1)
            yield point, outcome

    def close(self, wait: bool = True) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: int | None, scheduler: str | None, cluster: str | None, points: int):
    """Dask when asked; else a process pool on all cores (or ``jobs``); in-process for one job."""
    if scheduler and cluster:
        raise ConfigError("--scheduler", scheduler, "expected --scheduler or --cluster, not both")
    if cluster not in (None, "local"):
        raise ConfigError("--cluster", str(cluster), "expected local")
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise ConfigError("--jobs", str(jobs), "expected a positive integer")
    if scheduler or cluster:
        return DaskExecutor(scheduler, jobs)
    workers = min(jobs or os.cpu_count() or 1, points)
    return SerialExecutor() if workers <= 1 else PoolExecutor(workers)


# ------------------------------------------------------------ the sweep


@dataclass(frozen=True)
class SweepReport:
    """What a run of ``execute`` did; counts are over the whole file (earlier runs included)."""

    output: Path
    points: int
    stored_before: int   # already in the file when this run started (resume)
    ran: int             # stored by this run
    done: int
    failed: int          # the design cannot run the workload (e.g. MappingError)
    errors: int          # internal errors (bugs): report them
    pending: int         # not run (interrupted)
    seconds: float

    def summary(self) -> str:
        rate = self.ran / self.seconds if self.seconds > 0 else 0.0
        text = f"{self.output}: {self.points} points: {self.done} done, {self.failed} failed"
        if self.errors:
            text += f", {self.errors} internal errors (please report)"
        if self.pending:
            text += f", {self.pending} not run"
        if self.ran:
            text += f"; this run stored {self.ran} in {self.seconds:.1f} s ({rate:.2f} points/s)"
            if self.stored_before:
                text += f", {self.stored_before} were already stored"
        else:
            text += "; nothing to run, every point was already stored"
        return text


def _static(point: SweepPoint):
    from accelsim.reports.store import StaticPoint

    return StaticPoint(key=point.key, base=point.base, hardware=point.hardware.name,
                       workload=point.workload.name, batch=point.workload.batch,
                       layer_count=len(point.workload.layers), axes=point.axes,
                       config=flat(to_data(point.hardware)), hardware_yaml=point.hardware_yaml)


def _open_store(spec: SweepSpec, points: list[SweepPoint], output: Path, resume: bool):
    from accelsim.reports.store import Store, remove_leftovers, repair

    if output.exists():
        if not resume:
            raise ConfigError(str(output), "", "already exists; --resume (resume=True) continues it, "
                                               "or choose another output file")
        report = repair(output)  # a damaged file keeps every intact point; the rest run again
        if report.damaged:
            print(report.summary() + f"; the damaged original is {output}.damaged", file=sys.stderr)
        store = Store(output)  # holds the lock: no other sweep writes it now
        remove_leftovers(output)
        stored, wanted = store.keys(), [p.key for p in points]
        if stored != wanted:
            message = _mismatch(store.attrs, stored, wanted)
            store.close()
            raise ConfigError(str(output), "", message)
        return store
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(str(output), "", f"cannot create its folder: {err.strerror or err}") from None
    remove_leftovers(output)
    attrs = {"accelsim_version": __version__, "model": spec.model, "spec_source": spec.source,
             "spec_name": spec.name}
    return Store.create(output, attrs, spec.as_text(), [_static(p) for p in points])


def _mismatch(attrs: dict, stored: list[str], wanted: list[str]) -> str:
    version = str(attrs.get("accelsim_version", "?"))
    if sorted(stored) == sorted(wanted):
        return "holds the same points in another order; resume with the spec it was made with"
    missing = len(set(stored) - set(wanted))
    hint = f"written by accelsim {version}, this is {__version__}" if version != __version__ \
        else "the spec, a hwconfig or a workload file changed"
    return (f"holds another sweep ({missing} of its {len(stored)} points are not in this spec: {hint}); "
            f"choose another output file")


def execute(spec: SweepSpec | str | Path, output: str | Path, *, jobs: int | None = None, resume: bool = False,
            scheduler: str | None = None, cluster: str | None = None, progress: bool | TextIO | None = None,
            progress_every: int | None = None) -> SweepReport:
    """Run the points ``output`` does not hold yet and store each as it finishes."""
    from accelsim.reports.store import STATUS

    # A worker starting up re-imports the main script; an unguarded call there would start a sweep
    # in every worker (multiprocessing marks that phase with this flag).
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError("accelsim.sweep was called by a worker process while it imported the main script: "
                           "call it under `if __name__ == '__main__':` (see docs/sweeps.md)")

    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    points = spec.points()
    output = Path(output)
    created = not output.exists()
    store = _open_store(spec, points, output, resume)
    try:
        status = store.statuses()
        todo = [p for p in points if status[p.index] == STATUS["pending"]]
        stream = progress if hasattr(progress, "write") else sys.stderr
        meter = Progress(len(points), "sweep", stored=len(points) - len(todo), stream=stream,
                         enabled=progress is not False, every=progress_every,
                         tty=True if progress is True else None)
        if todo:
            try:
                executor = make_executor(jobs, scheduler, cluster, len(todo))
            except ConfigError:
                if created:  # nothing stored yet: leave no file behind a bad option
                    store.close()
                    output.unlink()
                raise
            finished = False
            try:
                for point, outcome in executor.run(todo):
                    store.write(point.index, outcome.status, outcome.error, outcome.seconds, outcome.total,
                                list(outcome.layers))
                    meter.update(outcome.status)
                finished = True
            except BaseException:
                if created and not meter.ran:  # a new file that holds nothing would only block the rerun
                    store.close()
                    output.unlink(missing_ok=True)
                raise
            finally:
                executor.close(wait=finished)
                meter.close()
        status = store.statuses()
    finally:
        store.close()
    count = {name: int((status == code).sum()) for name, code in STATUS.items()}
    return SweepReport(output=output, points=len(points), stored_before=len(points) - len(todo), ran=meter.ran,
                       done=count["done"], failed=count["failed"], errors=count["error"],
                       pending=count["pending"], seconds=time.monotonic() - meter.start)


def run(spec: SweepSpec | str | Path, output: str | Path | None = None, *, jobs: int | None = None,
        resume: bool = False, scheduler: str | None = None, cluster: str | None = None,
        progress: bool | TextIO | None = None, as_pandas: bool | None = None):
    """Run a sweep and return its results (``accelsim.results.Results``).

    ``output``: the HDF5 file to write (None: a temporary one, removed after loading);
    ``jobs``: local worker processes (default: every core; 1 runs in this process);
    ``resume``: continue an existing ``output`` instead of refusing to overwrite it;
    ``scheduler``: a Dask scheduler address (``tcp://host:8786``), or ``cluster="local"``
    for a Dask LocalCluster; ``progress``: None (the default) a bar on stderr when it is a
    terminal, True always, False never, or a stream.
    """
    from accelsim.results import load

    if output is not None:
        execute(spec, output, jobs=jobs, resume=resume, scheduler=scheduler, cluster=cluster, progress=progress)
        return load(output, as_pandas=as_pandas)
    with tempfile.TemporaryDirectory(prefix="accelsim-sweep-") as tmp:
        path = Path(tmp) / "results.h5"
        execute(spec, path, jobs=jobs, scheduler=scheduler, cluster=cluster, progress=progress)
        return load(path, as_pandas=as_pandas)
