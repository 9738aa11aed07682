"""``accelsim run``: one workload on one hardware, per-layer table and summary."""

from __future__ import annotations

import argparse

from accelsim.cli.common import add_hw_options, add_workload_options, emit, hardware_from_args, workload_from_args
from accelsim.models import MODELS, run_model
from accelsim.reports.files import to_csv, to_json
from accelsim.reports.table import layer_table, summary


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="simulate a workload on a hardware design",
                              description="Simulate a workload on a hardware design and print per-layer "
                                          "results and a summary. With no arguments: ResNet-50 v1.5, "
                                          "batch 1, on tpu_v1.")
    add_hw_options(p)
    add_workload_options(p)
    p.add_argument("--model", choices=list(MODELS), default=next(iter(MODELS)),
                   help="engine: discrete-event simulation; analytical: closed form (default: %(default)s)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    hw = hardware_from_args(args)
    workload = workload_from_args(args)
    run = run_model(args.model, hw, workload)
    if args.format == "json":
        text = to_json(run)
    elif args.format == "csv":
        text = to_csv(run)
    else:
        text = layer_table(run) + "\n\n" + summary(run) + "\n"
    emit(text, args.output)
    return 0
