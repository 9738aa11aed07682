"""``accelsim schema hardware|workload``: the JSON Schema of a hwconfig or a workload file, for editors."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "schema",
        description="Print the JSON Schema (draft 2020-12) of a hwconfig or a workload YAML, generated from the "
                    "field specs the loader checks: types, enums, defaults, bounds and descriptions. Editors "
                    "validate YAML with it, e.g. a first line '# yaml-language-server: $schema=hardware.schema.json'. "
                    "The same files are published as docs/schemas/*.schema.json.")
    p.add_argument("kind", choices=["hardware", "workload"])
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from accelsim.config.docs import schema_text

    sys.stdout.write(schema_text(args.kind))
    return 0
