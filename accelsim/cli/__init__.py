"""The ``accelsim`` command. Each subcommand is a module ``<name>_cmd`` with ``register(subparsers)``,
imported only when the command line names it: ``accelsim --help`` lists them from ``COMMANDS``.

Errors caused by the user's input (:class:`accelsim.errors.AccelsimError`) are
printed as their one line on stderr and the exit status is 2, no traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys

from accelsim import __version__
from accelsim.errors import AccelsimError

# Subcommands and their help lines, in the order ``accelsim --help`` lists them.
COMMANDS = {
    "run": "simulate a workload on a hardware design",
    "list": "list shipped hardware configs and workloads",
    "import": "convert an ONNX model into a workload YAML",
    "validate": "check the fold timing formulas against the cycle-level reference model",
    "compare": "compare a simulation with measured per-layer numbers",
    "calibrate": "fit hardware parameters to measured per-layer cycles",
    "formulas": "check closed-form cycle formulas against the simulator",
    "bench": "run the micro (kernel) or macro (network) benchmark suite on several designs",
    "report": "compare designs on a suite or a workload: one self-contained HTML file",
    "sweep": "run a sweep of designs x workloads into an HDF5 file",
    "runs": "inspect stored sweep results",
    "schema": "print the JSON Schema of hwconfig or workload files (for editors)",
}


class Parser(argparse.ArgumentParser):
    """argparse with the one-line errors of the rest of accelsim (argparse prints the usage first)."""

    def error(self, message: str):  # noqa: ANN201 - argparse's signature
        first = message.splitlines()[0] if message else "bad arguments"
        self.exit(2, f"{self.prog}: {first} (see {self.prog} --help)\n")


class _Commands(argparse._SubParsersAction):
    """Subcommands listed by name and help line; the one named is registered from its module when parsed."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001 - argparse's signature
        if self.choices[values[0]] is None:
            _register(self, values[0])
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="accelsim", description="Cycle-approximate simulator for neural-network accelerators.")
    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    subparsers = parser.add_subparsers(action=_Commands, dest="command", metavar="COMMAND")
    for name, line in COMMANDS.items():  # listed for --help; a parser once named (_Commands)
        subparsers._choices_actions.append(subparsers._ChoicesPseudoAction(name, (), line))
        subparsers.choices[name] = None
    return parser


def _register(subparsers: _Commands, name: str) -> None:
    """Import a subcommand's module, add its parser, and the table options to every command it runs."""
    from accelsim.reports.table import MAX_WIDTH

    del subparsers.choices[name]
    importlib.import_module(f"accelsim.cli.{name}_cmd").register(subparsers)
    for command in _leaves(subparsers.choices[name]):
        command.add_argument("--wide", action="store_true",
                             help=f"tables as wide as their contents (default: at most {MAX_WIDTH} columns; long "
                                  f"headers wrap, long names are cut, ending in ~)")
        command.add_argument("--explain", action="store_true",
                             help="after the output, define every column of the tables printed (docs/metrics.md)")


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers that run something (``runs show``, not ``runs``)."""
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        return [parser]
    return [leaf for command in dict.fromkeys(nested[0].choices.values()) for leaf in _leaves(command)]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from accelsim.reports.table import SHOWN_HEADERS, WIDE, legend

    seen: list[str] = []
    wide = WIDE.set(bool(getattr(args, "wide", False)))
    shown = SHOWN_HEADERS.set(seen) if getattr(args, "explain", False) else None
    try:
        status = int(args.func(args) or 0)
        if getattr(args, "explain", False):
            print("\n" + legend(seen) if seen else "\n(no table printed)")
        return status
    except AccelsimError as err:
        print(str(err), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        WIDE.reset(wide)
        if shown is not None:
            SHOWN_HEADERS.reset(shown)


def entry() -> None:
    """The ``accelsim`` console script (and ``python -m accelsim``): :func:`main`, then exit.

    Before exiting, every object is frozen (``gc.freeze``): the interpreter's shutdown otherwise
    makes one last full collection over every object alive (numpy's, the run's results), 10-20 ms
    of a 0.2 s run, to free memory the exit frees anyway. Outputs are written and closed before
    this (``write_file``, the sweep store); buffered stdout is still flushed at shutdown. Not in
    :func:`main`, which tests and scripts call in a process that goes on."""
    status = main()
    gc.freeze()
    sys.exit(status)
