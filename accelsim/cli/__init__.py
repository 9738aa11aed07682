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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AccelsimError as err:
        print(str(err), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
