"""``accelsim sweep SPEC -o results.h5``: run a hardware sweep in parallel, stored as it goes."""

from __future__ import annotations

import argparse
import sys

from accelsim.cli.common import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep",
        description="Run every point of a sweep spec (docs/sweeps.md) and store each one in an HDF5 "
                    "file as it finishes (docs/results.md). Local runs use every core; points that "
                    "cannot run (a tile that does not fit) are stored as failed and the sweep goes on.")
    p.add_argument("spec", metavar="SPEC", help="sweep spec YAML")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="results file (HDF5); an existing one is never overwritten")
    p.add_argument("-j", "--jobs", type=positive_int, metavar="N",
                   help="worker processes (default: every core; 1 runs in this process); "
                        "with --cluster local, the number of Dask workers")
    p.add_argument("--resume", action="store_true",
                   help="continue FILE: run only the points it does not hold (same spec required)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the points on this Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs accelsim[dask])")
    where.add_argument("--cluster", choices=["local"], help="start a local Dask cluster and run the points on it")
    p.add_argument("--progress-every", type=positive_int, metavar="N",
                   help="when stderr is not a terminal, print a progress line every N points "
                        "(default: none; on a terminal a progress bar is shown)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from accelsim.sweep import SweepAborted, execute, load_spec

    spec = load_spec(args.spec)
    for line in spec.bandwidth_warnings():
        print(f"warning: {line}", file=sys.stderr)
    try:
        report = execute(spec, args.output, jobs=args.jobs, resume=args.resume, scheduler=args.scheduler,
                         cluster=args.cluster, progress=False if args.quiet else None,
                         progress_every=args.progress_every)
    except SweepAborted as err:
        print(f"{args.output}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted: the finished points are stored in {args.output}; "
              f"add --resume to continue", file=sys.stderr)
        return 130
    print(report.summary())
    return 1 if report.errors else 0
