"""``accelsim bench micro|macro``: a benchmark suite on several designs, printed and stored."""

from __future__ import annotations

import argparse
import json
import sys

from accelsim import __version__
from accelsim.bench.tables import MIN_CORRELATED_DESIGNS, NO_CORRELATION
from accelsim.cli.common import batch_size, make_dir, positive_int, write_file
from accelsim.config import Hardware, load_hardware
from accelsim.errors import ConfigError
from accelsim.models import MODELS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        description="micro: single-layer kernels (accelsim.bench.micro), utilization and the dominant stall per "
                    "kernel and design. macro: the shipped networks at batch 1 and a throughput batch, with a "
                    "design ranking and the rank correlation of the designs' order between networks. "
                    "See docs/benchmarks.md.")
    p.add_argument("suite", choices=["micro", "macro"])
    add_suite_options(p)
    p.add_argument("-o", "--output", metavar="DIR", help="also write SUITE.csv and SUITE.json into DIR")
    p.set_defaults(func=main)


def add_suite_options(p: argparse.ArgumentParser) -> None:
    """Options shared with ``accelsim report``."""
    from accelsim.bench.macro import THROUGHPUT_BATCH
    from accelsim.bench.summary import RANKABLE

    p.add_argument("--hw", nargs="+", required=True, metavar="PATH|NAME",
                   help="designs to compare: hwconfig YAMLs, SCALE-Sim .cfg files or shipped names")
    p.add_argument("--model", choices=list(MODELS), default=next(iter(MODELS)),
                   help="engine: discrete-event simulation; analytical: closed form (default: %(default)s)")
    p.add_argument("--batch", type=batch_size, default=None,
                   help=f"macro: the throughput batch (default {THROUGHPUT_BATCH}); a workload: its batch")
    p.add_argument("--rank-by", choices=list(RANKABLE), default="inferences_per_s",
                   help="macro: the metric whose order of the designs is correlated between networks "
                        "(default: %(default)s)")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="worker processes (default: one per core, at most one per simulation)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (there is none when stderr is not a "
                                                              "terminal)")


def load_designs(names: list[str]) -> list[Hardware]:
    """The designs named on the command line; two with the same ``name`` would be indistinguishable."""
    designs = [load_hardware(name) for name in names]
    seen: dict[str, str] = {}
    for given, hw in zip(names, designs):
        if hw.name in seen:
            raise ConfigError("--hw", "", f"{seen[hw.name]} and {given} are both named {hw.name!r}; "
                                          f"give each design a distinct name")
        seen[hw.name] = given
    return designs


def run_suite(suite: str, args: argparse.Namespace):
    """(cases, outcomes, rows, tables, batch) of a suite on the designs of ``args``."""
    from accelsim.bench.macro import THROUGHPUT_BATCH, macro_cases
    from accelsim.bench.micro import KERNELS
    from accelsim.bench.runner import Case, run_cases
    from accelsim.bench.summary import summary_rows
    from accelsim.bench.tables import macro_tables, micro_tables

    designs = load_designs(args.hw)
    if suite == "micro":
        batch = None
        cases = [Case(k.name, k.workload(), k.family) for k in KERNELS]
    else:
        batch = args.batch or THROUGHPUT_BATCH
        cases = macro_cases(batch)
    outcomes = run_cases(designs, cases, model=args.model, jobs=args.jobs, progress=not args.quiet)
    rows = summary_rows(outcomes)
    tables = micro_tables(rows) if suite == "micro" else macro_tables(rows, batch, args.rank_by)
    return cases, outcomes, rows, tables, batch


def suite_document(suite: str, args: argparse.Namespace, rows: list[dict], tables: list, batch: int | None) -> dict:
    from accelsim.bench.macro import MACRO_SUITE, MACRO_VERSION
    from accelsim.bench.micro import MICRO_SUITE, MICRO_VERSION

    name, version = (MICRO_SUITE, MICRO_VERSION) if suite == "micro" else (MACRO_SUITE, MACRO_VERSION)
    doc = {"suite": name, "suite_version": version, "accelsim_version": __version__, "model": args.model,
           "designs": list(dict.fromkeys(r["design"] for r in rows)), "rows": rows,
           "tables": {t.name: {"title": t.title, "headers": t.headers, "rows": t.rows} for t in tables}}
    if batch is not None:
        doc["throughput_batch"] = batch
        doc["rank_by"] = args.rank_by
    return doc


def rows_csv(rows: list[dict]) -> str:
    from accelsim.reports.table import Table

    headers = list(rows[0]) if rows else []
    return Table("", headers, [[r[h] for h in headers] for r in rows]).csv()


def main(args: argparse.Namespace) -> int:
    out = make_dir(args.output) if args.output else None  # before the long work, not after it
    _, _, rows, tables, batch = run_suite(args.suite, args)
    print("\n\n".join(t.text() for t in tables))
    if args.suite == "macro" and len(args.hw) < MIN_CORRELATED_DESIGNS:
        print(f"\n{NO_CORRELATION}")
    if out is not None:
        write_file(out / f"{args.suite}.csv", rows_csv(rows))
        doc = suite_document(args.suite, args, rows, tables, batch)
        write_file(out / f"{args.suite}.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
        for table in tables:
            if table.name.startswith("rank_correlation"):
                write_file(out / f"{args.suite}_{table.name}.csv", table.csv())
        print(f"wrote {out}/{args.suite}.csv, {args.suite}.json", file=sys.stderr)
    return 0
