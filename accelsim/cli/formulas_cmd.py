"""``accelsim formulas``: closed-form cycle formulas against the simulator, layer by layer.

Built-ins (peak, roofline, mapping, scalesim, tpu_ridge) and user functions
from files; per formula the distribution of ``|relative error|`` over the
array layers, the layers it misses by more than a threshold, and the cause of
each miss. With ``--sweep`` over every point of a sweep spec.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys

from accelsim.cli.common import (
    add_hw_options,
    add_workload_options,
    hardware_from_args,
    make_dir,
    positive_int,
    workload_from_args,
    write_file,
)
from accelsim.models import MODELS


def percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage, got {text!r}") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a non-negative percentage, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from accelsim.compare.formulas import BUILTINS

    p = subparsers.add_parser(
        "formulas",
        description="Evaluate closed-form cycle (or utilization) formulas layer by layer against the simulated "
                    "cycles: built-ins (" + ", ".join(f.name for f in BUILTINS) + ") and your own "
                    "(--formula FILE.py:FUNCTION, f(layer, hw) -> cycles). Prints each formula's error "
                    "distribution, the layers it misses by more than --threshold and what explains each miss.")
    add_hw_options(p)
    add_workload_options(p)
    p.add_argument("--model", choices=list(MODELS), default=next(iter(MODELS)),
                   help="the reference: engine or analytical (default: %(default)s; with --sweep, the spec's)")
    p.add_argument("--formula", action="append", default=[], metavar="FILE.py:FUNCTION",
                   help="a user formula f(layer, hw) -> cycles (repeatable); see docs/calibration.md")
    p.add_argument("--only", metavar="NAME,...", help="built-ins to evaluate (default: all; 'none' for none)")
    p.add_argument("--threshold", type=percent, default=10.0, metavar="PCT",
                   help="a layer is a miss when |relative error| exceeds PCT percent (default: %(default)g)")
    p.add_argument("--show", type=positive_int, default=5, metavar="N",
                   help="misses listed per formula, worst first (default: %(default)s)")
    p.add_argument("--sweep", metavar="SPEC.yaml",
                   help="evaluate over every point of a sweep spec (docs/sweeps.md) instead of --hw/--workload")
    p.add_argument("-o", "--output", metavar="DIR", help="write formulas.csv (every layer) and formulas.json")
    p.set_defaults(func=main)


def _formulas(args):
    from accelsim.compare.formulas import BUILTINS, load_formula
    from accelsim.errors import ConfigError

    builtins = {f.name: f for f in BUILTINS}
    chosen = list(BUILTINS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        chosen = [] if names == ["none"] else []
        for n in names:
            if n == "none":
                continue
            if n not in builtins:
                raise ConfigError("--only", n, "expected one of: " + ", ".join(builtins) + ", none")
            chosen.append(builtins[n])
    sources = {}
    for spec in args.formula:
        f = load_formula(spec)
        if f.name in {g.name for g in chosen}:
            raise ConfigError("--formula", spec, f"a formula named {f.name!r} is already evaluated")
        chosen.append(f)
        sources[f.name] = spec.rpartition(":")[0]
    if not chosen:
        raise ConfigError("--only", args.only or "", "no formula to evaluate")
    return chosen, sources


def _pct(x: float, sign: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:+.1f}%" if sign else f"{100 * x:.1f}%"


def main(args: argparse.Namespace) -> int:
    from accelsim.compare.formulas import check_run, ridge_macs_per_weight_byte, summarize
    from accelsim.models import run_model
    from accelsim.reports.table import render_table

    formulas, sources = _formulas(args)
    checks: dict[str, list] = {f.name: [] for f in formulas}
    if args.sweep:
        from accelsim.schedule import TilingCache
        from accelsim.sweep import load_spec

        points = load_spec(args.sweep).points()
        lines = [f"formulas   {len(points)} points of {args.sweep}"]
        tilings = TilingCache()  # points that share the array and buffers share their tilings
        for point in points:
            print(f"formulas: {point.describe()}", file=sys.stderr)
            run = run_model(point.model, point.hardware, point.workload, tilings)
            for name, rows in check_run(run, formulas, point=point.index, sources=sources).items():
                checks[name].extend(rows)
        labels = {p.index: p.describe() for p in points}
    else:
        hw, workload = hardware_from_args(args), workload_from_args(args)
        run = run_model(args.model, hw, workload)
        for name, rows in check_run(run, formulas, sources=sources).items():
            checks[name].extend(rows)
        arrays = sum(1 for layer in run.layers if layer.unit == "array" and layer.cycles)
        lines = [f"formulas   {hw.name} ({args.model} model), {workload.name} batch {workload.batch}: "
                 f"{arrays} array layers, simulated {run.cycles:,} cycles"]
        if not math.isinf(hw.dram_bytes_per_cycle):
            lines.append(f"tpu_ridge  ridge point {ridge_macs_per_weight_byte(hw):,.0f} MACs per weight byte "
                         f"({hw.peak_macs_per_cycle:,} PEs / {hw.dram_bytes_per_cycle:.4g} DRAM bytes per cycle)")
        labels = {}
    threshold = args.threshold / 100
    reports = summarize(formulas, checks, threshold)
    rows = []
    for r in reports:
        d = r.distribution
        causes = ", ".join(f"{c} x{n}" for c, n in r.causes[:3]) + (", ..." if len(r.causes) > 3 else "")
        rows.append([r.formula.name, _pct(d.median), _pct(d.p90), _pct(d.max),
                     _pct(d.bias, sign=True), f"{len(r.misses)}/{d.count}", causes or "-"])
    lines += ["", f"|relative error| of (formula - simulated) / simulated over the layers; bias: median signed "
                  f"error; miss: above {args.threshold:g}%",
              render_table(["formula", "median", "p90", "max", "bias", "misses", "misses explained by"],
                           rows, "lrrrrrl")]
    lines += [f"  {r.formula.name}: {r.formula.description}" for r in reports]
    for r in reports:
        if not r.misses:
            continue
        shown = r.misses[:args.show]
        lines += ["", f"{r.formula.name}: {len(r.misses)} misses, worst {len(shown)}"]
        table = [[(f"#{c.point} " if c.point is not None else "") + c.layer, f"{c.simulated:,.0f}",
                  f"{c.predicted:,.0f}", _pct(c.rel_error, sign=True), c.detail] for c in shown]
        lines.append(render_table(["layer", "simulated", "formula", "error", "explained by"], table, "lrrrl"))
    if labels:
        lines += ["", "points (#N in the tables):"] + [f"  {text}" for text in labels.values()]
    print("\n".join(lines))
    if args.output:
        directory = make_dir(args.output)
        write_file(directory / "formulas.csv", _csv(reports))
        write_file(directory / "formulas.json", _json(reports, threshold, labels))
        print(f"wrote {directory / 'formulas.csv'}, {directory / 'formulas.json'}", file=sys.stderr)
    return 0


def _csv(reports) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["formula", "point", "layer", "simulated_cycles", "predicted_cycles", "rel_error", "cause",
                     "detail"])
    for r in reports:
        for c in r.checks:
            writer.writerow([r.formula.name, "" if c.point is None else c.point, c.layer, repr(c.simulated),
                             repr(c.predicted), repr(c.rel_error), c.cause, c.detail])
    return buffer.getvalue()


def _json(reports, threshold: float, labels: dict) -> str:
    def num(x):
        return x if x is None or math.isfinite(x) else None

    doc = {"threshold": threshold, "points": {str(k): v for k, v in labels.items()}, "formulas": {}}
    for r in reports:
        d = r.distribution
        doc["formulas"][r.formula.name] = {
            "description": r.formula.description, "returns": r.formula.returns, "layers": d.count,
            "median_abs_rel_error": num(d.median), "p90_abs_rel_error": num(d.p90), "max_abs_rel_error": num(d.max),
            "median_rel_error": num(d.bias), "misses": [c.layer if c.point is None else f"#{c.point} {c.layer}"
                                                        for c in r.misses],
            "misses_by_cause": dict(r.causes)}
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"
