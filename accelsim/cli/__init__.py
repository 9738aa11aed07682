"""The ``accelsim`` command. Each subcommand is a module with ``register(subparsers)``.

Errors caused by the user's input (:class:`accelsim.errors.AccelsimError`) are
printed as their one line on stderr and the exit status is 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from accelsim import __version__
from accelsim.errors import AccelsimError
from accelsim.reports.table import MAX_WIDTH, SHOWN_HEADERS, WIDE, legend

# Subcommand modules, in the order ``accelsim --help`` lists them.
COMMANDS = ["run", "list", "import", "validate", "compare", "calibrate", "formulas", "bench", "report", "sweep", "runs",
            "schema"]


class Parser(argparse.ArgumentParser):
    """argparse with the one-line errors of the rest of accelsim (argparse prints the usage first)."""

    def error(self, message: str):  # noqa: ANN201 - argparse's signature
        first = message.splitlines()[0] if message else "bad arguments"
        self.exit(2, f"{self.prog}: {first} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="accelsim", description="Cycle-approximate simulator for neural-network accelerators.")
    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"accelsim.cli.{name.replace('-', '_')}_cmd").register(subparsers)
    for command in _leaves(subparsers):
        command.add_argument("--wide", action="store_true",
                             help=f"tables as wide as their contents (default: at most {MAX_WIDTH} columns; long "
                                  f"headers wrap, long names are cut, ending in ~)")
        command.add_argument("--explain", action="store_true",
                             help="after the output, define every column of the tables printed (docs/metrics.md)")
    return parser


def _leaves(subparsers: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    """Every subcommand parser that runs something (``runs show``, not ``runs``)."""
    out = []
    for command in dict.fromkeys(subparsers.choices.values()):
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        out += _leaves(nested[0]) if nested else [command]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
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
