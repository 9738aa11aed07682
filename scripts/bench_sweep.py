#!/usr/bin/env python3
"""Benchmark: sweep throughput on ResNet-50 (engine model), as a user runs it.

1. Throughput with 1 worker (in-process) and 2 workers (the process pool) on the same points,
   in points per second of wall time, start-up included (a fresh sweep, as `accelsim sweep`
   runs it), with the mean simulation time per point measured inside the workers.
2. A 100-point ResNet-50 sweep with the default options (every core): wall time, against the
   target of 60 s on a 2-core machine.
3. Warm workers: the first point each pool worker runs against the median. Workers fork from a
   server that has already run a tiny simulation (accelsim/sweep/_warm.py), so the first point
   should cost what the others do, not the imports of a fresh process.

Absolute times depend on the machine and its load; the 1- and 2-worker runs are measured in one
invocation so their ratio is meaningful.

    python scripts/bench_sweep.py                   # the full benchmark (~1-2 min on 2 cores)
    python scripts/bench_sweep.py --points 8 --throughput-points 4   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0


def resnet50_spec(points: int):
    """Up to 100 distinct ResNet-50 designs on tpu_v1: array shape x DRAM bandwidth (0.06-0.9 s each)."""
    from accelsim.sweep import SweepSpec

    sizes = [16, 32, 64, 128, 256]
    bandwidths = [8, 16, 32, 64]
    spec = SweepSpec(hardware="tpu_v1", workloads=["resnet50"], model="engine",
                     axes={"array.rows": sizes, "array.cols": sizes, "dram.bandwidth_gb_per_s": bandwidths})
    if points > len(spec.points()):
        raise SystemExit(f"--points: at most {len(spec.points())}")
    return spec


def subset(spec, n: int):
    """``n`` points spread over the whole sweep (cheap and expensive designs alike), as a spec."""
    from accelsim.sweep import SweepSpec

    everything = spec.points()
    chosen = [everything[round(i * (len(everything) - 1) / max(n - 1, 1))] for i in range(n)]
    return SweepSpec(hardware=[p.hardware for p in chosen], workloads=spec.workloads, model=spec.model)


def timed(spec, output: Path, jobs: int | None) -> tuple[float, object]:
    from accelsim.results import load
    from accelsim.sweep import execute

    start = time.perf_counter()
    report = execute(spec, output, jobs=jobs)
    wall = time.perf_counter() - start
    assert report.done == report.points, report.summary()
    return wall, load(output, as_pandas=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=100, help="points in the full sweep (default: 100)")
    p.add_argument("--throughput-points", type=int, default=20,
                   help="points of the 1- and 2-worker comparison (default: 20)")
    args = p.parse_args()

    import accelsim

    print(f"accelsim {accelsim.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    spec = resnet50_spec(args.points)
    with tempfile.TemporaryDirectory(prefix="accelsim-bench-sweep-") as tmp:
        few = subset(spec, args.throughput_points)
        print(f"\nthroughput, {args.throughput_points} ResNet-50 points (start-up included):")
        print(f"{'workers':>8s} {'wall s':>8s} {'points/s':>9s} {'mean s/point':>13s}")
        for jobs in (1, 2):
            wall, results = timed(few, Path(tmp) / f"jobs{jobs}.h5", jobs)
            seconds = results.points["seconds"]
            print(f"{jobs:8d} {wall:8.2f} {len(seconds) / wall:9.2f} {seconds.mean():13.3f}")
            if jobs == 2:
                pool = seconds

        full = spec if args.points == len(spec.points()) else subset(spec, args.points)
        wall, results = timed(full, Path(tmp) / "full.h5", None)
        n = len(results.points)
        verdict = "ok" if wall < TARGET_S else "SLOWER THAN TARGET"
        print(f"\n{n}-point ResNet-50 sweep, default options: {wall:.1f} s ({n / wall:.2f} points/s), "
              f"target < {TARGET_S:.0f} s: {verdict}")

    first, rest = pool[:2], pool[2:]  # points go out in order: points 0 and 1 are each worker's first
    if len(rest):
        print(f"\nwarm workers: first point of each pool worker {', '.join(f'{s:.2f}' for s in first)} s, "
              f"median of the others {statistics.median(rest):.2f} s")
    return 0 if wall < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
