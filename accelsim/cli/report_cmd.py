"""``accelsim report``: an apples-to-apples comparison of designs as one self-contained HTML page.

Runs a suite (``macro``, ``micro``) or one workload on every design, then writes
the comparison tables, a roofline per design with every layer as a point,
utilization per layer, stacked cycle breakdowns and the design ranking into
``-o report.html``, and the same tables as ``report.md`` and ``report.<table>.csv``
beside it. Simulations run in parallel processes (``--jobs``); progress goes
to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from accelsim import __version__
from accelsim.cli.bench_cmd import add_suite_options, load_designs, run_suite
from accelsim.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        description="Run --suite (macro: the shipped networks; micro: the kernel suite; or any workload name or "
                    "file) on every --hw design and write one HTML file with the comparison tables, rooflines, "
                    "utilization per layer, cycle breakdowns and the design ranking, plus the tables as Markdown "
                    "and CSV beside it. See docs/benchmarks.md.")
    add_suite_options(p)
    p.add_argument("--suite", required=True, metavar="macro|micro|WORKLOAD",
                   help="macro, micro, or a workload (shipped name, YAML, SCALE-Sim CSV, ONNX)")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE.html",
                   help="the HTML file (default: %(default)s); FILE.md and FILE.<table>.csv go beside it")
    p.set_defaults(func=main)


class Fig:
    """A figure to draw later (all of a report's figures are drawn together, in parallel)."""

    def __init__(self, name: str, args: tuple, caption: str):
        self.name, self.args, self.caption = name, args, caption


def _draw_figures(sections, jobs: int | None) -> None:
    """Replace every Fig in the sections' blocks by its <figure>."""
    from accelsim.bench.runner import default_jobs
    from accelsim.reports.html import figure_html
    from accelsim.reports.plots import draw_all

    figs = [b for s in sections for b in s.blocks if isinstance(b, Fig)]
    pngs = draw_all([(f.name, f.args) for f in figs], default_jobs(len(figs)) if jobs is None else jobs)
    drawn = {id(f): figure_html(png, f.caption) for f, png in zip(figs, pngs)}
    for s in sections:
        s.blocks = [drawn[id(b)] if isinstance(b, Fig) else b for b in s.blocks]


def _say(text: str, quiet: bool = False) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def _check_output(path: Path) -> None:
    """Fail before the long work, not after it."""
    if path.is_dir():
        raise ConfigError(str(path), "", "is a directory, expected an HTML file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot create its folder: {err.strerror}") from None


def main(args: argparse.Namespace) -> int:
    from accelsim.bench.runner import Case, run_cases
    from accelsim.bench.summary import summary_rows
    from accelsim.bench.tables import workload_tables
    from accelsim.config import load_workload

    started = time.perf_counter()
    out = Path(args.output)
    _check_output(out)
    suite = args.suite
    if suite in ("macro", "micro"):
        _say(f"report: running the {suite} suite on {len(args.hw)} designs", args.quiet)
        cases, outcomes, rows, tables, batch = run_suite(suite, args)
    else:
        workload = load_workload(suite, batch=args.batch)
        designs = load_designs(args.hw)
        batch = workload.batch
        cases = [Case(f"{workload.name} b{workload.batch}", workload, workload.name)]
        _say(f"report: running {workload.name} (batch {batch}) on {len(designs)} designs", args.quiet)
        outcomes = run_cases(designs, cases, model=args.model, jobs=args.jobs, progress=not args.quiet)
        rows = summary_rows(outcomes)
        tables = workload_tables(rows, _layer_records(outcomes))
    _say(f"report: simulations done in {time.perf_counter() - started:.1f} s; drawing figures", args.quiet)
    from accelsim.reports.html import page

    intro, sections = _sections(suite, args, outcomes, rows, tables, batch)
    _draw_figures(sections, args.jobs)
    text = page(f"accelsim report: {_suite_title(suite, batch)}", intro, sections)
    markdown = _markdown(suite, batch, intro, tables)
    try:
        out.write_text(text)
        stem = out.with_suffix("")
        Path(f"{stem}.md").write_text(markdown)
        for table in tables:
            Path(f"{stem}.{table.name}.csv").write_text(table.csv())
    except OSError as err:
        raise ConfigError(str(out), "", f"cannot write: {err.strerror}") from None
    _say(f"wrote {out} ({len(text) / 1e6:.1f} MB), {stem}.md and {len(tables)} CSV tables "
         f"in {time.perf_counter() - started:.1f} s", args.quiet)
    return 0


def _suite_title(suite: str, batch: int | None) -> str:
    from accelsim.bench.macro import MACRO_SUITE, MACRO_VERSION
    from accelsim.bench.micro import MICRO_SUITE, MICRO_VERSION

    if suite == "macro":
        return f"{MACRO_SUITE} v{MACRO_VERSION} (batch 1 and {batch})"
    if suite == "micro":
        return f"{MICRO_SUITE} v{MICRO_VERSION}"
    return f"{suite} (batch {batch})"


def _layer_records(outcomes) -> dict[str, list[dict]]:
    from accelsim.reports.records import layer_record

    return {o.design: [layer_record(layer, o.run) for layer in o.run.layers] for o in outcomes if o.run is not None}


def _designs_table(outcomes):
    from accelsim.energy import action_energies
    from accelsim.reports.table import Table, number

    seen, body = set(), []
    for o in outcomes:
        if o.design in seen:
            continue
        seen.add(o.design)
        hw = o.run.hardware if o.run is not None else None
        if hw is None:
            continue
        a, e = hw.array, action_energies(hw)
        cores = f"{hw.cores} x " if hw.cores > 1 else ""  # several cores: each its own array
        body.append([hw.name, f"{cores}{a.rows}x{a.cols} {a.dataflow.value.upper()}", hw.clock_mhz, hw.peak_tops,
                     hw.dram.bandwidth_gb_per_s,
                     ", ".join(f"{level.name} {level.size_kib:g}" for level in hw.memory.levels),
                     e.mac_pj, e.dram_pj_per_byte, e.static_mw, hw.area_mm2])
    return Table("Design parameters", ["design", "array", "MHz", "peak TOPS", "DRAM GB/s", "on-chip KiB",
                             "pJ/MAC", "DRAM pJ/B", "static mW", "area mm²"], body,
                 [None, None, number, number, number, None, number, number, number, number],
                 note="Energy per action: the hwconfig's value or the documented default (docs/energy.md).",
                 name="design_list")


def _sections(suite, args, outcomes, rows, tables, batch):
    from accelsim.bench.summary import rank_correlation
    from accelsim.bench.tables import designs_of
    from accelsim.reports.html import Section, paragraph, table_html

    designs = designs_of(rows)
    intro = [f"accelsim {__version__}, {args.model} model, designs: {', '.join(designs)}. Every number is defined "
             f"once in docs/metrics.md and computed the same way for every design. The tables are also "
             f"written as Markdown and CSV beside this file."]
    failed = [o for o in outcomes if o.error]
    sections = [Section("Designs", [table_html(_designs_table(outcomes))])]
    ranking = [t for t in tables if t.name.startswith("ranking")]
    correlation = [t for t in tables if t.name.startswith("rank_correlation")]
    comparison = [t for t in tables if t not in ranking and t not in correlation]
    sections.append(Section("Comparison", [table_html(t) for t in comparison]))
    sections.append(Section("Design ranking", [table_html(t) for t in ranking]))
    if correlation:
        blocks = [paragraph("Where one network predicts another: Spearman's rank correlation of the designs' "
                            "values between every pair of networks, at the throughput batch.")]
        throughput_rows = [r for r in rows if r["batch"] == batch]
        labels = {r["case"]: r["group"] for r in rows}
        for t in correlation:
            metric = t.name.removeprefix("rank_correlation_")
            cases, matrix = rank_correlation(throughput_rows, metric)
            blocks.append(table_html(t))
            if len(cases) > 1:
                blocks.append(Fig("correlation_matrix", (t.title, [labels[c] for c in cases], matrix), t.title))
        sections.append(Section("Rank correlation between networks", blocks))

    records = {(o.design, o.case.label): ([_record(layer, o.run) for layer in o.run.layers], o.run)
               for o in outcomes if o.run is not None}
    sections.append(Section("Rooflines", _rooflines(outcomes, records)))
    sections.append(Section("Utilization per layer", _utilization(suite, outcomes, records, designs, batch)))
    sections.append(Section("Cycle breakdown", _breakdowns(suite, outcomes, records, designs, batch)))
    if failed:
        sections.append(Section("Cases that could not run", [paragraph(f"{o.design} / {o.case.label}: {o.error}")
                                                             for o in failed]))
    return intro, sections


def _record(layer, run) -> dict:
    from accelsim.reports.records import layer_record

    return layer_record(layer, run)


def _rooflines(outcomes, records) -> list[str]:
    from accelsim.reports.html import paragraph
    from accelsim.reports.records import total_record

    blocks = [paragraph("Delivered TOPS against arithmetic intensity (MACs per DRAM byte actually moved), log-log, "
                        "under the design's compute roof (peak TOPS) and bandwidth roof (2 x intensity x peak "
                        "DRAM GB/s). Small points: layers on the array; large outlined points: whole runs.")]
    by_design: dict[str, list] = {}
    hardware = {}
    for o in outcomes:
        if o.run is None:
            continue
        hardware[o.design] = o.run.hardware
        layers, run = records[(o.design, o.case.label)]
        points = by_design.setdefault(o.design, [])
        for rec in layers:
            if rec["unit"] == "array" and rec["macs"]:
                points.append({"x": rec["arithmetic_intensity"], "y": rec["effective_tops"], "group": o.case.group,
                               "batch": o.case.batch, "total": False})
        total = total_record(run)
        points.append({"x": total["arithmetic_intensity"], "y": total["effective_tops"], "group": o.case.group,
                       "batch": o.case.batch, "total": True})
    for design, points in by_design.items():
        hw = hardware[design]
        blocks.append(Fig("roofline", (design, hw.peak_tops, hw.achievable_dram_gb_per_s, points),
                          f"Roofline of {design}: every layer as a point, under the DRAM rate the engine "
                          f"reaches ({hw.achievable_dram_gb_per_s:.3g} GB/s)"))
    return blocks


def _utilization(suite, outcomes, records, designs, batch) -> list[str]:
    blocks = []
    if suite == "micro":
        by = {(o.design, o.case.label): o for o in outcomes}
        kernels = list(dict.fromkeys(o.case.label for o in outcomes))
        series = {d: [_total_util(by[(d, k)]) for k in kernels] for d in designs}
        blocks.append(Fig("grouped_bars", ("Utilization per kernel", "utilization %", kernels, series, True),
                          "Utilization per kernel and design"))
        return blocks
    groups = list(dict.fromkeys(o.case.group for o in outcomes))
    for group in groups:
        panels = []
        for b in sorted({o.case.batch for o in outcomes if o.case.group == group}):
            series = {}
            for o in outcomes:
                if o.case.group == group and o.case.batch == b and o.run is not None:
                    layers, _ = records[(o.design, o.case.label)]
                    series[o.design] = [(r["name"], r["utilization"]) for r in layers if r["unit"] == "array"]
            if series:
                panels.append((f"batch {b}", series))
        if panels:
            blocks.append(Fig("layer_utilization", (f"{group}: utilization of each array layer", panels),
                              f"{group}: utilization per layer and design"))
    return blocks


def _total_util(outcome) -> float | None:
    from accelsim.stats import utilization

    run = outcome.run
    return None if run is None else utilization(run.macs, run.hardware.peak_macs_per_cycle, run.cycles)


def _breakdowns(suite, outcomes, records, designs, batch) -> list[str]:
    from dataclasses import asdict

    from accelsim.reports.html import paragraph

    blocks = [paragraph("Where the cycles went (docs/metrics.md, cycle breakdown), as shares of each bar's "
                        "cycles; the parts sum to the cycles.")]
    ok = [o for o in outcomes if o.run is not None]
    if suite == "macro":
        groups = list(dict.fromkeys(o.case.group for o in ok))
        panels = []
        for b in sorted({o.case.batch for o in ok}):
            bars = [(f"{o.case.group} / {o.design}", asdict(o.run.breakdown)) for o in
                    sorted((o for o in ok if o.case.batch == b),
                           key=lambda o: (groups.index(o.case.group), designs.index(o.design)))]
            panels.append((f"batch {b}", bars))
        blocks.append(Fig("breakdown_bars", ("Cycle breakdown per network and design", panels),
                          "Cycle breakdown per network and design"))
    elif suite == "micro":
        panels = [(d, [(o.case.label, asdict(o.run.breakdown)) for o in ok if o.design == d]) for d in designs]
        blocks.append(Fig("breakdown_bars", ("Cycle breakdown per kernel", panels),
                          "Cycle breakdown per kernel, one panel per design"))
    else:
        panels = []
        for o in ok:
            layers, _ = records[(o.design, o.case.label)]
            panels.append((o.design, [(r["name"], r["breakdown"]) for r in layers if r["cycles"]]))
        blocks.append(Fig("breakdown_bars", ("Cycle breakdown per layer", panels),
                          "Cycle breakdown per layer, one panel per design"))
    return blocks


def _markdown(suite, batch, intro, tables) -> str:
    lines = [f"# accelsim report: {_suite_title(suite, batch)}", "", *intro, ""]
    return "\n".join(lines) + "\n" + "\n".join(t.markdown() for t in tables)
