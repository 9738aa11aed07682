"""Options shared by several subcommands, and output helpers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accelsim.config import Hardware, Workload, load_hardware, load_workload
from accelsim.config.hardware import Dataflow
from accelsim.config.loader import parse_override, with_overrides

DEFAULT_HW = "tpu_v1"
DEFAULT_WORKLOAD = "resnet50"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_hw_options(parser: argparse.ArgumentParser, default: str | None = DEFAULT_HW) -> None:
    parser.add_argument("--hw", default=default, metavar="PATH|NAME",
                        help=f"hwconfig YAML, SCALE-Sim .cfg, or a shipped name (default: {default})")
    parser.add_argument("--dataflow", choices=[d.value for d in Dataflow],
                        help="override array.dataflow")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                        help="override any hardware field, e.g. --set dram.bandwidth_gb_per_s=17 (repeatable)")


def add_workload_options(parser: argparse.ArgumentParser, default: str | None = DEFAULT_WORKLOAD) -> None:
    parser.add_argument("--workload", default=default, metavar="PATH|NAME",
                        help=f"workload YAML, SCALE-Sim topology CSV, ONNX, or a shipped name (default: {default})")
    parser.add_argument("--batch", type=positive_int, help="override the workload's batch size")
    parser.add_argument("--dim", action="append", default=[], metavar="NAME=SIZE",
                        help="size of a dimension the workload declares (dims:) or of a dynamic ONNX input "
                             "dimension, e.g. --dim seq=128 (repeatable)")


def hardware_from_args(args: argparse.Namespace) -> Hardware:
    hw = load_hardware(args.hw)
    overrides = dict(parse_override(s) for s in args.set)
    if args.dataflow:
        overrides["array.dataflow"] = args.dataflow
    return with_overrides(hw, overrides) if overrides else hw


def workload_from_args(args: argparse.Namespace) -> Workload:
    dims = None
    if args.dim:  # an ONNX model's dynamic dimensions, or those a workload declares
        from accelsim.config.dims import parse_dims

        dims = parse_dims(args.dim)
    return load_workload(args.workload, batch=args.batch, dims=dims)


def emit(text: str, output: str | None) -> None:
    """Write to a file (creating its folder) or to stdout."""
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
