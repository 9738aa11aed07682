"""``accelsim run``: one workload on one hardware, per-layer table and summary."""

from __future__ import annotations

import argparse
import sys

from accelsim.cli.common import (add_hw_options, add_workload_options, emit, hardware_from_args, workload_from_args,
                                 write_file)
from accelsim.errors import ConfigError
from accelsim.models import MODELS, run_model
from accelsim.reports.files import to_csv, to_json
from accelsim.reports.table import run_text


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run",
                              description="Simulate a workload on a hardware design and print per-layer "
                                          "results and a summary. With no arguments: ResNet-50 v1.5, "
                                          "batch 1, on tpu_v1.")
    add_hw_options(p)
    add_workload_options(p)
    p.add_argument("--model", choices=list(MODELS), default=next(iter(MODELS)),
                   help="engine: discrete-event simulation; analytical: closed form (default: %(default)s)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--trace", metavar="FILE.json",
                   help="also write the engine's timeline as Chrome trace-event JSON (open in Perfetto)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (on a terminal, one shows once scheduling or simulating takes over "
                        "a second; there is none when stderr is not a terminal)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from accelsim.progress import LayerBars

    hw = hardware_from_args(args)
    workload = workload_from_args(args)
    with LayerBars(enabled=not args.quiet) as progress:
        if args.trace:
            run = _run_traced(args, hw, workload, progress)
        else:
            run = run_model(args.model, hw, workload, progress=progress)
    if args.format == "json":
        text = to_json(run)
    elif args.format == "csv":
        text = to_csv(run)
    else:
        text = run_text(run)
    emit(text, args.output)
    return 0


def _run_traced(args: argparse.Namespace, hw, workload, progress):
    """Simulate with a timeline recorder and write the trace; only the engine has a timeline."""
    if args.model != "engine":
        raise ConfigError("--trace", "", f"needs --model engine (the analytical model has no timeline), "
                                         f"got --model {args.model}")
    from accelsim.engine.timeline import Timeline
    from accelsim.models import simulate
    from accelsim.reports.trace import to_trace_json

    timeline = Timeline()
    run = simulate(hw, workload, timeline, progress=progress)
    path = write_file(args.trace, to_trace_json(run, timeline))
    print(f"wrote {path} (Chrome trace-event JSON: open in https://ui.perfetto.dev)", file=sys.stderr)
    return run
