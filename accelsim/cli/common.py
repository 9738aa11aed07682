"""Options shared by several subcommands, and output helpers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accelsim.config import Hardware, Workload, load_hardware, load_workload
from accelsim.config.hardware import Dataflow
from accelsim.config.loader import parse_override, with_overrides
from accelsim.config.schema import MAX_BATCH
from accelsim.errors import ConfigError, describe

DEFAULT_HW = "tpu_v1"
DEFAULT_WORKLOAD = "resnet50"


MAX_OPTION_INT = 2**31  # --jobs, --top, --folds, --worst, ... (--batch: the workload bound)


def positive_int(text: str, maximum: int = MAX_OPTION_INT) -> int:
    try:
        value = int(text) if len(text) <= 40 else int("too long")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {describe(text)}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    if value > maximum:
        raise argparse.ArgumentTypeError(f"expected at most {maximum:,}, got {value}")
    return value


def batch_size(text: str) -> int:
    return positive_int(text, MAX_BATCH)


def make_dir(path: str | Path) -> Path:
    """An output folder, created if needed; a problem (a file in the way) is one line."""
    path = Path(path)
    blocked = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        raise ConfigError(str(path), "", f"{blocked} is a file, expected a folder there")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot create the output folder: {err.strerror or err}") from None
    return path


def write_file(path: str | Path, text: str) -> Path:
    """Write a text output (creating its folder); a directory or a path under a file is one line."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(str(path), "", "is a directory, expected a file name")
    make_dir(path.parent)
    try:
        path.write_text(text)
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot write: {err.strerror or err}") from None
    return path


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
    parser.add_argument("--batch", type=batch_size, help="override the workload's batch size")
    parser.add_argument("--dim", action="append", default=[], metavar="NAME=SIZE",
                        help="size of a dimension the workload declares (dims:) or of a dynamic ONNX input "
                             "dimension, e.g. --dim seq=128 (repeatable)")


def hardware_from_args(args: argparse.Namespace) -> Hardware:
    hw = load_hardware(args.hw)
    overrides = dict(parse_override(s) for s in args.set)
    if args.dataflow:
        overrides["array.dataflow"] = args.dataflow
    if not overrides:
        return hw
    changed = with_overrides(hw, overrides)
    warn_unreachable_bandwidth(hw, changed, "--set")
    return changed


def warn_unreachable_bandwidth(before: Hardware, after: Hardware, where: str) -> None:
    """On stderr: a new DRAM bandwidth the requests in flight do not let the DRAM reach."""
    if after.dram.bandwidth_gb_per_s == before.dram.bandwidth_gb_per_s or after.dram_rate_note() is None:
        return
    print(f"warning: {where} dram.bandwidth_gb_per_s={after.dram.bandwidth_gb_per_s:g} has no effect beyond "
          f"{after.achievable_dram_gb_per_s:.3g} GB/s: {after.dram_rate_note()}", file=sys.stderr)


def workload_from_args(args: argparse.Namespace) -> Workload:
    dims = None
    if args.dim:  # an ONNX model's dynamic dimensions, or those a workload declares
        from accelsim.config.dims import parse_dims

        dims = parse_dims(args.dim)
    return load_workload(args.workload, batch=args.batch, dims=dims)


def emit(text: str, output: str | None) -> None:
    """Write to a file (creating its folder) or to stdout."""
    if output:
        path = write_file(output, text)
        print(f"wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
