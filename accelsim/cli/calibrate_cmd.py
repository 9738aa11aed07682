"""``accelsim calibrate``: fit DRAM efficiency, DMA setup and per-layer overhead to measurements.

Prints the held-out error before and after (k-fold cross-validation over the
measured layers), the fitted values with their bounds (saying when a fit stops
at a bound or a parameter has no effect), the cost, and writes the calibrated
hwconfig with every changed field commented with its old value.
"""

from __future__ import annotations

import argparse
import sys

from accelsim.cli.common import positive_int, write_file
from accelsim.cli.compare_cmd import add_measured_options, inputs_from_args

EXIT_AT_BOUND = 3  # a parameter stopped at a bound: the fit is not trustworthy as it stands


def register(subparsers: argparse._SubParsersAction) -> None:
    from accelsim.compare.calibrate import DEFAULT_FOLDS, PARAMETERS

    names = ", ".join(PARAMETERS)
    p = subparsers.add_parser(
        "calibrate",
        description="Fit a small set of physical parameters of the hwconfig to measured per-layer cycles (or "
                    "latency, or utilization) by bounded least squares on log(simulated / measured), with "
                    f"k-fold cross-validation over layers. Parameters: {names}.",
        epilog=f"exit status: 0 every parameter fitted inside its bounds; {EXIT_AT_BOUND} a parameter stopped at a "
               "bound (the file is still written when another one was fitted inside its bounds, and not when none "
               "was); 2 bad input")
    add_measured_options(p)
    p.add_argument("-o", "--output", required=True, metavar="NEW.yaml", help="the calibrated hwconfig to write")
    p.add_argument("--folds", type=positive_int, default=DEFAULT_FOLDS, metavar="K",
                   help="cross-validation folds, 2 to the number of measured layers (default: %(default)s)")
    p.add_argument("--fit", metavar="PATH,...", help=f"parameters to fit (default: all of {names})")
    p.add_argument("--bounds", action="append", default=[], metavar="PATH=LOWER:UPPER",
                   help="narrow a parameter's bounds, e.g. --bounds dram.efficiency=0.3:1 (repeatable)")
    p.add_argument("--name", help="name of the calibrated design (default: <name>_calibrated)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def _value(value: float, integer: bool) -> str:
    return f"{value:,.0f}" if integer else f"{value:.6g}"


def _fold_value(value: float, integer: bool) -> str:
    """Per-fold values, shorter (the table stays within 120 columns; the fitted value has all digits)."""
    return f"{value:.0f}" if integer else f"{value:.3g}"


def main(args: argparse.Namespace) -> int:
    from accelsim.compare.calibrate import PARAMETERS, calibrate, calibrated_yaml, parse_bounds
    from accelsim.config import load_hardware
    from accelsim.config.loader import with_overrides
    from accelsim.errors import ConfigError, SimulationError
    from accelsim.reports.table import render_table, wrap

    fit_paths = [p.strip() for p in args.fit.split(",") if p.strip()] if args.fit else None
    for path in fit_paths or []:  # checked before anything is loaded or simulated
        if path not in PARAMETERS:
            raise ConfigError("--fit", path, "expected one of: " + ", ".join(PARAMETERS))
    bounds = parse_bounds(args.bounds)
    inputs = inputs_from_args(args)
    for note in inputs.notes:
        print(f"calibrate: {note}", file=sys.stderr)
    result = calibrate(inputs.hardware, inputs.workload, inputs.measured, fit_paths=fit_paths,
                       bounds=bounds, folds=args.folds, model=args.model, progress=not args.quiet)
    hw, target = inputs.hardware, result.target
    source = "cycles" if target.metric == "cycles" else \
        f"{target.metric} -> cycles at {hw.clock_mhz:g} MHz"
    lines = [f"calibrate  {hw.name} ({args.model} model) to {inputs.measured.file.path}"]
    if inputs.measured.meta.source:
        lines.append(f"source     {inputs.measured.meta.source}")
    lines.append(wrap(f"layers     {inputs.workload.name}, batch {inputs.workload.batch}: {len(target.names)} measured "
                 f"layers ({source}), {args.folds}-fold cross-validation (layers dealt round-robin in workload "
                 "order)"))
    if target.skipped:
        lines.append("skipped    " + ", ".join(target.skipped))
    rows, warnings = [], []
    for p in result.parameters:
        integer = PARAMETERS[p.path].integer
        fitted = _value(p.fitted, integer) if p.identifiable else "(not fitted)"
        rows.append([p.path, p.unit, _value(p.initial, integer), fitted,
                     f"[{_value(p.lower, integer)}, {_value(p.upper, integer)}]",
                     " ".join(_fold_value(v, integer) for v in p.fold_values) if p.identifiable else "-"])
        if not p.identifiable:
            warnings.append(f"{p.path}: no effect on the measured layers' cycles under the {args.model} model "
                            f"(moved a tenth of its range); left at {_value(p.initial, integer)}")
        elif p.at_bound:
            bound = p.lower if p.at_bound == "lower" else p.upper
            warnings.append(f"{p.path}: the fit stopped at its {p.at_bound} bound {_value(bound, integer)}: the "
                            "measurements want a value the bounds do not allow (or another parameter is missing)")
    lines += ["", render_table(["parameter", "unit", "initial", "fitted", "bounds", "per fold"], rows, "llrrrl")]
    lines += [wrap(f"warning    {w}") for w in warnings]

    def pct(x):
        return "n/a" if x is None else f"{100 * x:.2f}%"

    lines += ["",
              f"held-out   MAPE over layers not used in their fold's fit: before {pct(result.heldout_mape_before)}, "
              f"after {pct(result.heldout_mape_after)}",
              f"all layers MAPE of the written fit on every layer: before {pct(result.fit_mape_before)}, "
              f"after {pct(result.fit_mape_after)}",
              ""]
    per_layer = [[name, f"{m:,.0f}", f"{b:,.0f}", f"{h:,.0f}", f"{(h - m) / m:+.2%}", f"{a:,.0f}",
                  f"{(a - m) / m:+.2%}"] for name, (m, b, h, a) in result.predictions.items()]
    lines.append(render_table(["layer", "measured", "before", "held-out", "rel.error", "fitted", "rel.error"],
                              per_layer))
    lines += ["", f"cost       {result.evaluations} {args.model} evaluations, "
                  f"{result.seconds_per_evaluation * 1e3:.1f} ms each; {result.seconds:.1f} s in all"]

    inside = [p for p in result.parameters if p.identifiable and not p.at_bound]
    stopped = [p.path for p in result.parameters if p.identifiable and p.at_bound]
    if not inside:  # nothing was fitted: a file would only restate the bounds
        lines += ["", wrap(f"not written {args.output}: no parameter was fitted inside its bounds "
                           f"({', '.join(stopped) or 'none had an effect'}); exit status {EXIT_AT_BOUND}", 12)]
        print("\n".join(lines))
        return EXIT_AT_BOUND
    changed = {p.path: p.fitted for p in result.parameters if p.identifiable}
    name = args.name or f"{inputs.original.name}_calibrated"
    calibrated = with_overrides(result.hardware_after, {"name": name}, source="--name")
    reasons = {"name": "accelsim calibrate"}
    for path, value in changed.items():
        p = next(q for q in result.parameters if q.path == path)
        at = f", at its {p.at_bound} bound" if p.at_bound else ""
        integer = PARAMETERS[path].integer
        reasons[path] = f"fitted in [{_value(p.lower, integer)}, {_value(p.upper, integer)}]{at}"
    if hw.clock_mhz != inputs.original.clock_mhz:
        reasons["clock_mhz"] = "the measured clock"
    for text in args.set:
        reasons.setdefault(text.partition("=")[0].strip(), "--set")
    header = [f"Calibrated by accelsim calibrate ({args.model} model) against {inputs.measured.file.path}",
              f"({inputs.workload.name}, batch {inputs.workload.batch}, {len(target.names)} layers, "
              f"{args.folds}-fold cross-validation): MAPE of per-layer cycles",
              f"before {pct(result.fit_mape_before)}, after {pct(result.fit_mape_after)} "
              f"(held out: before {pct(result.heldout_mape_before)}, after {pct(result.heldout_mape_after)}).",
              "Changed fields say what they were."]
    if inputs.measured.meta.source:
        header.insert(1, f"Measurements: {inputs.measured.meta.source}")
    text = calibrated_yaml(calibrated, inputs.original, reasons, header, original=_source_path(inputs))
    out = write_file(args.output, text)
    if load_hardware(out) != calibrated:  # the file must say exactly what was fitted
        raise SimulationError(f"{out}: the written hwconfig does not load back as the calibrated one (a bug)")
    lines.append(f"wrote      {out}")
    if stopped:
        lines.append(f"exit       {EXIT_AT_BOUND}: {', '.join(stopped)} stopped at a bound (see the warnings)")
    print("\n".join(lines))
    return EXIT_AT_BOUND if stopped else 0


def _source_path(inputs) -> str | None:
    from accelsim.config import catalog

    try:
        return str(catalog.resolve("hwconfigs", inputs.hardware_source))
    except Exception:  # noqa: BLE001 - only used to copy the original's comments
        return None
