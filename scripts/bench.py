#!/usr/bin/env python3
"""Benchmark: full-network simulations in one process.

For each (hardware, workload): wall time of the engine (best of ``--repeat``),
SimPy events, peak Python heap (tracemalloc, a separate run so it does not
slow the timed one; ``--process`` gives the whole process's peak RSS), the analytical model's time and the ratio between them,
and events per layer against the layer's steps (tiles), DRAM chunks and cycles,
which shows that the cost follows tiles and transfers, not cycles or MACs.

Absolute times are noisy; compare ratios measured in one run. Targets on a
2-core machine: ResNet-50 under 1 s and 300 MB on every shipped config.

    python scripts/bench.py                       # the standard matrix
    python scripts/bench.py --all-configs         # ResNet-50 on every shipped config
    python scripts/bench.py --hw gemmini --workload vgg16 --layers
    python scripts/bench.py --all-configs --against HEAD~1   # engine time, this tree / that commit

``--process`` runs whole ``accelsim`` commands as child processes (start-up included) and
reports their wall time and peak resident memory (the process's, not the Python heap) beside
those of a bare ``python -c "import numpy, yaml, simpy"`` measured in the same run, alternating,
best of ``--repeat``; the ratios are what to compare across machines. It writes accelsim's
bytecode first, as ``pip install`` would (``compile_package``).

``--against REV`` times every case (CPU time, less disturbed by other load than wall time) in both
trees in child processes (each tree loads its own
shipped files by name), alternating between them, and prints the ratio of the best times.
On a machine too noisy for that, ``--against REV --instructions build engine`` counts each part's
instructions under valgrind instead (the same count however loaded the machine is; slow).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import accelsim
from accelsim.analytical import analyze
from accelsim.config import catalog
from accelsim.engine import simulate
from accelsim.schedule import build_schedule

STANDARD_HW = ["tpu_v1", "gemmini", "scalesim_32x32", "tpu_v4i"]  # tpu_v4i: four cores
STANDARD_WORKLOADS = ["resnet50", "mobilenet_v2", "vgg16"]


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def layer_costs(hw, wl, run) -> None:
    schedule = build_schedule(hw, wl)
    chunk = hw.dma.chunk_bytes
    print(f"    {'layer':14s} {'steps':>6s} {'chunks':>7s} {'events':>7s} {'ev/step':>7s} {'cycles':>11s} {'MACs':>12s}")
    for ls, layer in zip(schedule.layers, run.layers):
        steps = len(ls.steps)
        loads = ls.steps[["load_input", "load_weight", "load_psum"]]
        chunks = sum(int(sum(math.ceil(b / chunk) for b in loads[f] if b)) for f in loads.dtype.names)
        chunks += sum(math.ceil(b / chunk) for b in (ls.steps["store_output"] + ls.steps["store_psum"]) if b)
        per_step = layer.events / steps if steps else 0
        print(f"    {layer.name:14s} {steps:6d} {chunks:7d} {layer.events:7d} {per_step:7.1f} {layer.cycles:11,d} "
              f"{layer.macs:12,d}")


TIMER = r"""
import json, sys, time
import accelsim
from accelsim.engine import simulate
hw_name, wl_name, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
hw, wl = accelsim.load_hardware(hw_name), accelsim.load_workload(wl_name)
simulate(accelsim.load_hardware("gemmini"), accelsim.load_workload("alexnet"))  # warm-up
best = min((lambda t: (simulate(hw, wl), time.process_time() - t)[1])(time.process_time()) for _ in range(repeat))
print(json.dumps(best))
"""


@contextlib.contextmanager
def other_tree(revision: str):
    """A temporary git worktree of ``revision`` (removed afterwards)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(other), revision],
                       check=True, capture_output=True)
        try:
            yield root, other, tmp
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(other)],
                           capture_output=True)


def against(revision: str, hws: list[str], workloads: list[str], repeat: int) -> int:
    """Engine wall time per case in this tree and in ``revision``, and their ratio."""
    with other_tree(revision) as (root, other, tmp):
        def timed(tree: Path, hw: str, wl: str) -> float:
            env = dict(os.environ, PYTHONPATH=str(tree))
            out = subprocess.run([sys.executable, "-c", TIMER, hw, wl, str(repeat)], env=env, cwd=tmp,
                                 capture_output=True, text=True, check=True).stdout
            return json.loads(out)

        print(f"{'hardware':17s} {'workload':13s} {'this s':>8s} {revision[:12]:>12s} {'ratio':>6s}")
        worst = 0.0
        for hw in hws:
            for wl in workloads:
                mine = min(timed(root, hw, wl), timed(root, hw, wl))
                try:
                    theirs = min(timed(other, hw, wl), timed(other, hw, wl))
                except subprocess.CalledProcessError:  # a config or workload that revision lacks
                    print(f"{hw:17s} {wl:13s} {mine:8.3f} {'(absent)':>12s} {'-':>6s}")
                    continue
                worst = max(worst, mine / theirs)
                print(f"{hw:17s} {wl:13s} {mine:8.3f} {theirs:12.3f} {mine / theirs:6.2f}")
        print(f"\nworst ratio (this tree / {revision}): {worst:.2f}")
    return 0


# One part of a simulation, ``count`` times, after the schedule is built once (0: only the set-up,
# whose instructions are subtracted).
PART = r"""
import sys
import accelsim
from accelsim.analytical import analyze
from accelsim.engine.simulator import simulate_schedule
from accelsim.schedule import build_schedule
hw_name, wl_name, part, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
hw, wl = accelsim.load_hardware(hw_name), accelsim.load_workload(wl_name)
schedule = build_schedule(hw, wl)
for _ in range(count):
    {"build": lambda: build_schedule(hw, wl), "engine": lambda: simulate_schedule(schedule),
     "analyze": lambda: analyze(hw, wl)}[part]()
"""


def instructions(revision: str, hws: list[str], workloads: list[str], parts: list[str]) -> int:
    """Instructions (valgrind's count, the same from run to run however loaded the machine) of each
    part of each case, in this tree and in ``revision``: a process that does the part once, less
    one that only sets it up. Slow (valgrind runs Python some 50x slower): a minute or two a case."""
    if shutil.which("valgrind") is None:
        print("--instructions needs valgrind on PATH", file=sys.stderr)
        return 2

    def count(tree: Path, tmp: str, hw: str, wl: str, part: str, n: int) -> int:
        env = dict(os.environ, PYTHONPATH=str(tree))
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                              "-c", PART, hw, wl, part, str(n)], env=env, cwd=tmp, capture_output=True,
                             text=True, check=True).stderr
        return int(re.search(r"Collected : (\d+)", out).group(1))

    with other_tree(revision) as (root, other, tmp):
        print(f"{'hardware':17s} {'workload':13s} {'part':8s} {'this M':>9s} {revision[:12]:>12s} {'ratio':>6s}")
        for hw in hws:
            for wl in workloads:
                for part in parts:
                    mine, theirs = ((count(tree, tmp, hw, wl, part, 1) - count(tree, tmp, hw, wl, part, 0)) / 1e6
                                    for tree in (root, other))
                    print(f"{hw:17s} {wl:13s} {part:8s} {mine:9.0f} {theirs:12.0f} {mine / theirs:6.2f}", flush=True)
    return 0


BASELINE = ["-c", "import numpy, yaml, simpy"]
# Whole-process cases: what a user types after ``accelsim`` (issue 15's targets in the comments).
PROCESS_CASES = [
    ("accelsim --help", ["--help"]),                                                      # <= 1.5x baseline
    ("run tpu_v1 resnet50", ["run", "--hw", "tpu_v1"]),                                 # <= 2.0x, 80 MiB
    ("run nvdla_small resnet50", ["run", "--hw", "nvdla_small"]),                       # <= 2.5x, 80 MiB
    ("run nvdla_small batch 64", ["run", "--hw", "nvdla_small", "--batch", "64"]),      # <= 3 s, 400 MB
    ("run gemmini batch 256", ["run", "--hw", "gemmini", "--batch", "256"]),            # <= 3 s, 400 MB
]


def accelsim_command() -> list[str]:
    """The ``accelsim`` a user types: the console script pip installed beside this Python (run by
    it), else ``-m accelsim``, which starts slower (runpy; 20 ms more here) than users ever see."""
    script = Path(sys.executable).with_name("accelsim")
    return [str(script)] if script.is_file() else ["-m", "accelsim"]


def child_cost(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child Python process running ``args``."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args)} exited with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def compile_package() -> None:
    """Write accelsim's bytecode, as ``pip install`` does, so that the children load it instead of
    compiling every module at each start, which would time the compiler, not accelsim: in an
    editable install under ``PYTHONDONTWRITEBYTECODE`` (set on some machines) nothing else writes
    it, and each start then costs some 60 ms more. The baseline's packages have theirs from pip."""
    import compileall

    compileall.compile_dir(str(Path(accelsim.__file__).parent), quiet=1)


def whole_process(repeat: int, only: list[str] | None = None) -> int:
    """Each case (those whose names contain one of ``only``, if given) and the baseline
    alternately, best of ``repeat``: wall time, peak RSS, ratios."""
    compile_package()
    command = accelsim_command()
    cases = [(name, args) for name, args in PROCESS_CASES if not only or any(o in name for o in only)]
    base_wall, base_rss = math.inf, 0.0
    best = {name: (math.inf, 0.0) for name, _ in cases}
    for _ in range(repeat):
        for name, args in cases:
            wall, rss = child_cost(BASELINE)
            base_wall, base_rss = min(base_wall, wall), max(base_rss, rss)
            wall, rss = child_cost(command + args)
            best[name] = (min(best[name][0], wall), max(best[name][1], rss))
    print(f"accelsim started as: python {' '.join(command)}")
    print(f"baseline: python -c \"import numpy, yaml, simpy\": {base_wall:.3f} s, {base_rss:.0f} MiB peak RSS")
    print(f"{'command':26s} {'wall s':>7s} {'x base':>7s} {'peak RSS MiB':>13s}")
    for name, (wall, rss) in best.items():
        print(f"{name:26s} {wall:7.3f} {wall / base_wall:7.2f} {rss:13.0f}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hw", nargs="+", default=STANDARD_HW)
    p.add_argument("--workload", nargs="+", default=STANDARD_WORKLOADS)
    p.add_argument("--all-configs", action="store_true", help="ResNet-50 on every shipped hwconfig")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per case (the best is kept)")
    p.add_argument("--layers", action="store_true", help="print events per layer")
    p.add_argument("--against", metavar="REV", help="also time each case at git revision REV and print ratios")
    p.add_argument("--instructions", nargs="+", metavar="PART", choices=("build", "engine", "analyze"),
                   help="with --against: instructions (valgrind) of each PART instead of times")
    p.add_argument("--process", action="store_true",
                   help="whole accelsim commands as child processes: wall time, peak RSS, x the bare import baseline")
    p.add_argument("--only", nargs="+", metavar="TEXT",
                   help="with --process: only the commands whose names contain TEXT (e.g. --only help resnet50)")
    args = p.parse_args()
    if args.process:
        return whole_process(args.repeat, args.only)
    if args.all_configs:
        args.hw, args.workload = list(catalog.shipped("hwconfigs")), ["resnet50"]
    if args.against and args.instructions:
        return instructions(args.against, args.hw, args.workload, args.instructions)
    if args.against:
        return against(args.against, args.hw, args.workload, args.repeat)

    print(f"accelsim {accelsim.__version__}, Python {platform.python_version()}, {platform.machine()}")
    # warm up: imports, so the first case is not charged for them
    simulate(accelsim.load_hardware("gemmini"), accelsim.load_workload("alexnet"))
    header = (f"{'hardware':17s} {'workload':13s} {'engine s':>9s} {'analyt. s':>9s} {'ratio':>6s} "
              f"{'events':>8s} {'steps':>6s} {'heap MB':>8s} {'cycles':>13s} {'util':>6s}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for hw_name in args.hw:
        hw = accelsim.load_hardware(hw_name)
        for wl_name in args.workload:
            wl = accelsim.load_workload(wl_name)
            t_engine, run = best_time(lambda: simulate(hw, wl), args.repeat)
            t_analytical, _ = best_time(lambda: analyze(hw, wl), args.repeat)
            memory = peak_mb(lambda: simulate(hw, wl))
            steps = build_schedule(hw, wl).steps
            util = run.macs / (hw.peak_macs_per_cycle * run.cycles)
            print(f"{hw_name:17s} {wl_name:13s} {t_engine:9.3f} {t_analytical:9.3f} {t_engine / t_analytical:6.1f} "
                  f"{run.events:8d} {steps:6d} {memory:8.1f} {run.cycles:13,d} {100 * util:5.1f}%")
            if wl_name == "resnet50":
                worst = max(worst, t_engine)
            if args.layers:
                layer_costs(hw, wl, run)
    if "resnet50" in args.workload:
        print(f"\nslowest ResNet-50 engine run: {worst:.3f} s (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
