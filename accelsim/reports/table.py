"""Terminal tables: per-layer rows and a run summary; ``Table`` for reports (text, Markdown, CSV)."""

from __future__ import annotations

import contextvars
import functools
import csv
import io
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # the records (and numpy) are imported by what prints a run, not by every table
    from accelsim.stats import RunResult

BREAKDOWN_SHORT = {
    "computing": "compute", "fill_drain": "fill/drain", "preload": "preload", "stall_input": "stall:in",
    "stall_weight": "stall:wt", "stall_output": "stall:out", "vector": "vector", "overhead": "overhead",
    "load_imbalance": "imbalance",
}


MAX_WIDTH = 120  # default width of every table; --wide lifts it
WIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("wide", default=False)
SHOWN_HEADERS: contextvars.ContextVar[list | None] = contextvars.ContextVar("shown_headers", default=None)
MIN_TEXT = 12  # a name column is never cut below this


def render_table(headers: list[str], rows: list[list[str]], align: str | None = None, labels: bool = False) -> str:
    """Fixed-width columns; ``align`` is a string of 'l'/'r' per column.

    At most ``MAX_WIDTH`` characters wide unless ``WIDE`` is set (``--wide``): long headers wrap at
    spaces onto more lines, then the widest text (left-aligned) columns are cut, ending in "~".
    ``labels``: the headers after the first are names (a matrix), not columns the legend defines.
    """
    seen = SHOWN_HEADERS.get()
    if seen is not None:
        seen.extend(headers[:1] if labels else headers)
    align = align or "l" + "r" * (len(headers) - 1)
    rows = [[str(c) for c in r] for r in rows]
    cells = [max((len(r[i]) for r in rows), default=0) for i in range(len(headers))]
    widths = [max(c, len(h)) for c, h in zip(cells, headers)]
    limit = None if WIDE.get() else MAX_WIDTH
    gap = 2 * (len(headers) - 1)
    if limit is not None and sum(widths) + gap > limit:  # headers wrap at spaces
        widths = [max(c, max((len(w) for w in h.split()), default=0)) for c, h in zip(cells, headers)]
    while limit is not None and sum(widths) + gap > limit:  # cut the widest text column
        text = [i for i, a in enumerate(align) if a == "l" and widths[i] > MIN_TEXT]
        if not text:
            break
        i = max(text, key=lambda j: widths[j])
        widths[i] = max(MIN_TEXT, widths[i] - (sum(widths) + gap - limit))
    rows = [[c if len(c) <= w else c[: w - 1] + "~" for c, w in zip(r, widths)] for r in rows]
    header_lines = _wrapped(headers, widths)

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    out = [line(h) for h in header_lines] + [line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def wrap(text: str, indent: int = 11) -> str:
    """A labelled line of prose (``"warning    ..."``) within the table width, continued under its text."""
    if WIDE.get() or len(text) <= MAX_WIDTH:
        return text
    return textwrap.fill(text, MAX_WIDTH, subsequent_indent=" " * indent, break_on_hyphens=False)


def _pieces(word: str, width: int) -> list[str]:
    """A word too long for its column, broken after its dots and underscores (``dram.bandwidth_...``)."""
    if len(word) <= width:
        return [word]
    return [p for p in re.split(r"(?<=[._])", word) if p]


def _wrapped(headers: list[str], widths: list[int]) -> list[list[str]]:
    """Header lines: each header on as many lines as its column width needs, bottom-aligned."""
    columns = []
    for header, width in zip(headers, widths):
        lines = [""]
        for word in header.split(" "):
            for piece in _pieces(word, width):
                joined = f"{lines[-1]} {piece}" if lines[-1] and not lines[-1].endswith((".", "_")) else \
                    lines[-1] + piece
                if lines[-1] and len(joined) > width:
                    lines.append(piece)
                else:
                    lines[-1] = joined
        columns.append([h if len(h) <= width else h[: width - 1] + "~" for h in lines])
    depth = max((len(c) for c in columns), default=1)
    columns = [[""] * (depth - len(c)) + c for c in columns]
    return [[c[i] for c in columns] for i in range(depth)]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def run_text(run: RunResult) -> str:
    """What ``accelsim run`` prints: the per-layer table and the summary, from one record of the run."""
    from accelsim.reports.records import run_record

    record = run_record(run)
    return layer_table(run, record) + "\n\n" + summary(run, record) + "\n"


def layer_table(run: RunResult, record: dict) -> str:
    headers = ["layer", "kind", "MACs", "cycles", "util", "map.eff", "DRAM rd", "DRAM wr", "bound by"]
    rows = []
    for layer in record["layers"]:
        rows.append([
            layer["name"], layer["kind"] if layer["unit"] == "array" else f"{layer['kind']} ({layer['unit']})",
            _si(layer["macs"]), f"{layer['cycles']:,}", _pct(layer["utilization"]),
            _pct(layer["mapping_efficiency"]) if layer["unit"] == "array" else "-",
            _si(layer["dram_read_bytes"]) + "B", _si(layer["dram_write_bytes"]) + "B",
            layer["bound_by"],
        ])
    if run.hardware.cores > 1:  # how each layer was split, and each core's busy fraction
        headers += ["split", "core busy"]
        for row, layer in zip(rows, record["layers"]):
            row += [layer["partition"] or "-", _core_busy(layer["core_busy_fraction"])]
        return render_table(headers, rows, "llrrrrrrlll")
    return render_table(headers, rows, "llrrrrrrl")


def _core_busy(fractions: dict) -> str:
    """Per-core busy fractions as percentages, core 0 first: ``98/97/97/60``."""
    return "/".join(f"{100 * f:.0f}" for f in fractions.values())


def summary(run: RunResult, record: dict) -> str:
    t = record["total"]
    hw = record["hardware"]
    arr = run.hardware.array
    lines = [
        f"hardware   {hw['name']}: {arr.rows}x{arr.cols} {arr.dataflow.value.upper()} at "
        f"{run.hardware.clock_mhz:g} MHz, peak {t['peak_tops']:.3g} TOPS"
        + (f" ({run.hardware.cores} cores)" if run.hardware.cores > 1 else ""),
        f"workload   {record['workload']['name']}, batch {record['workload']['batch']}, "
        f"{record['workload']['layers']} layers, {_si(t['macs'])} MACs",
        f"model      {record['model']}",
        f"cycles     {t['cycles']:,}   latency {t['latency_s'] * 1e3:.4g} ms   "
        f"{t['inferences_per_s']:.4g} inferences/s",
        f"compute    {t['effective_tops']:.4g} effective TOPS   utilization {_pct(t['utilization'])}   "
        f"mapping efficiency {_pct(t['mapping_efficiency'])}",
        f"DRAM       read {_si(t['dram_read_bytes'])}B  write {_si(t['dram_write_bytes'])}B  "
        f"({t['traffic_ratio']:.2f}x compulsory, {_si(t['spilled_dram_bytes'])}B spilled)   "
        f"avg {t['avg_dram_gb_per_s']:.3g} GB/s",
    ]
    note = run.hardware.dram_rate_note()
    if note:  # the note's reason on one line, its remedy on the next (tables stay within 120 columns)
        reason, _, remedy = note.partition(" (")
        lines += [f"DRAM rate  {reason}", f"           ({remedy}"]
    lines += _step_lines(record)
    lines.append(
        f"energy     {t['energy_per_inference_j'] * 1e3:.4g} mJ/inference   avg power {t['avg_power_w']:.3g} W   "
        f"{t['tops_per_w']:.3g} TOPS/W   {t['inferences_per_s_per_w']:.4g} inferences/s/W")
    total = t["cycles"] or 1
    parts = [f"{BREAKDOWN_SHORT[k]} {_pct(v / total)}" for k, v in t["breakdown"].items()
             if v and k != "load_imbalance"]
    lines.append("breakdown  " + "  ".join(parts))
    if run.hardware.cores > 1:  # the breakdown's load imbalance on its own line, beside each core's busy share
        lines.append(f"cores      {run.hardware.cores}, load imbalance {_pct(t['breakdown']['load_imbalance'] / total)}"
                     f"   busy % by core: {_core_busy(t['core_busy_fraction'])}")
    if record["model"] != "analytical":
        lines.append(f"analytical {t['analytical_cycles']:,} cycles (simulated is {100 * t['analytical_gap']:+.1f}%)")
    return "\n".join(lines)


def _step_lines(record: dict) -> list[str]:
    """A language model's step: tokens per second (decode) or time to first token (prefill)."""
    t, wl = record["total"], record["workload"]
    dims = ", ".join(f"{k}={v}" for k, v in wl["dims"].items())
    at = f" ({dims})" if dims else ""
    if t["tokens_per_s"] is not None:
        return [f"decode     {t['tokens_per_s']:.4g} tokens/s   one token per sequence, batch {wl['batch']}{at}"]
    if t["time_to_first_token_s"] is not None:
        return [f"prefill    time to first token {t['time_to_first_token_s'] * 1e3:.4g} ms   batch {wl['batch']}{at}"]
    return []


# ------------------------------------------------------------ tables for reports


def pct(x: float | None) -> str:
    """A percentage; below 1% with two significant digits, so small is not shown as zero."""
    if x is None:
        return "-"
    return f"{100 * x:.2g}%" if 0 < x < 0.01 else _pct(x)


def number(x: float | None, digits: int = 4) -> str:
    """``digits`` significant digits, thousands separated; "-" for a missing value."""
    if x is None:
        return "-"
    if isinstance(x, int) or (abs(x) >= 10 ** digits and float(x).is_integer()):
        return f"{int(x):,}"
    return f"{x:,.{digits}g}" if abs(x) < 10 ** digits else f"{x:,.0f}"


@dataclass
class Table:
    """A titled table of raw values; ``formats`` (one per column, default ``str``) render
    them for text, Markdown and HTML, while CSV keeps the raw values."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    formats: list[Callable[[Any], str] | None] = field(default_factory=list)
    note: str = ""
    name: str = ""  # a file-name stem for the CSV
    labels: bool = False  # the headers after the first are names (a matrix), see render_table

    def cells(self) -> list[list[str]]:
        fmts = self.formats + [None] * (len(self.headers) - len(self.formats))
        return [[(fmt or _plain)(value) for fmt, value in zip(fmts, row)] for row in self.rows]

    def align(self) -> str:
        """Right for columns of numbers (judged on each column's first value), left otherwise."""
        out = ""
        for i in range(len(self.headers)):
            value = next((row[i] for row in self.rows if row[i] is not None), None)
            out += "r" if isinstance(value, (int, float)) and not isinstance(value, bool) else "l"
        return out

    def text(self) -> str:
        return f"{self.title}\n" + render_table(self.headers, self.cells(), self.align(), self.labels)

    def markdown(self) -> str:
        align = self.align().ljust(len(self.headers), "l")
        lines = [f"### {self.title}", ""]
        if self.note:
            lines += [self.note, ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self.cells()]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])
        return buffer.getvalue()


def _plain(value: Any) -> str:
    return "-" if value is None else str(value)


# ------------------------------------------------------------ column legend (--explain, docs/metrics.md)

_M = "docs/metrics.md"
LEGEND: dict[str, str] = {
    "split": f"`partition`: how the layer was split between cores (channels, pixels, batch, heads, elements, single; {_M})",
    "core busy": f"`core_busy_fraction` of each core, in %, core 0 first ({_M})",
    "cores": "`cores`: the arrays on the chip, each with its own buffers (docs/hardware.md)",
    # accelsim run
    "layer": "the layer's name in the workload (cut to fit the width, ending in ~; --wide shows it whole)",
    "kind": "conv, pwconv (1x1), dwconv (depthwise), gconv (grouped), gemm, or the non-GEMM op; (vector) or (fused): "
            "where non-GEMM work runs",
    "MACs": "multiply-accumulates (`macs`, k/M/G = 10^3/10^6/10^9)",
    "cycles": "the model's cycles (`cycles`)",
    "util": "`utilization`: MACs / (PEs x cycles), the fraction of peak delivered, stalls and all",
    "map.eff": "`mapping_efficiency`: the fraction of PEs holding real work, averaged over folds (time ignored)",
    "map. eff.": "`mapping_efficiency`: the fraction of PEs holding real work, averaged over folds (time ignored)",
    "DRAM rd": "`dram_read_bytes`: bytes read from DRAM (k/M/G = 10^3/10^6/10^9)",
    "DRAM wr": "`dram_write_bytes`: bytes written to DRAM",
    "bound by": "`dominant`: the cycle-breakdown part with the most cycles (compute, fill/drain, preload, "
                "stall:in, stall:wt, stall:out, vector, overhead)",
    # accelsim list
    "name": "the shipped name (`--hw NAME`, `--workload NAME`)",
    "array": "PE rows x columns (and dataflow)",
    "dataflow": "os, ws or is: which operand stays in the PEs (docs/mapping.md)",
    "MHz": "`clock_mhz`",
    "peak TOPS": "`peak_tops`: 2 x PEs x clock / 10^12",
    "DRAM GB/s": "`dram.bandwidth_gb_per_s`, peak, 10^9 bytes/s",
    "fold timing": "pipelined, or scalesim (SCALE-Sim 3.0.0's fold timing, `array.pipelined_folds: false`)",
    "layers": "list: the workload's layers; validate: the layers with this fold shape (+N more)",
    "GEMM layers": "layers that run on the array (conv and gemm)",
    "GMACs": "MACs at batch 1, 10^9",
    "format": "the file's format: yaml, csv (SCALE-Sim topology), cfg (SCALE-Sim config)",
    # accelsim validate
    "fold (rows x cols)": "the fold's used PE rows x used columns",
    "T": "the streamed extent: operand vectors per fold (docs/mapping.md)",
    "fold starts (formula)": "the cycles the two folds start streaming, by the timing formulas",
    "fold starts (model)": "the same, in the cycle-level register model",
    "cycles (formula)": "the two folds' cycles by the formulas",
    "cycles (model)": "the two folds' cycles in the register model",
    "product": "exact: the register model's product equals numpy's A @ B",
    "seconds": "wall-clock seconds of the check",
    "result": "ok, MISMATCH, HAZARD (a register used at the wrong time) or skipped (over the budget)",
    # accelsim formulas
    "formula": "a built-in or --formula FILE.py:FUNCTION; in a miss table, its predicted cycles",
    "median": "median |relative error| over the layers, (formula - simulated) / simulated",
    "p90": "90th percentile of |relative error|",
    "max": "largest |relative error|",
    "bias": "median signed relative error (negative: the formula predicts too few cycles)",
    "misses": "layers missed by more than --threshold, of all array layers",
    "misses explained by": "the causes of the misses (docs/calibration.md), with counts",
    "simulated": "the simulator's value (cycles, or the metric in the table's unit)",
    "error": "formula or simulated minus the reference, in the table's unit",
    "explained by": "the cause the simulator and the formula disagree on most",
    # accelsim calibrate / compare
    "parameter": "the fitted hwconfig field",
    "unit": "its unit",
    "initial": "its value before the fit",
    "fitted": "parameters: the fitted value; layers: cycles with the fitted values",
    "bounds": "the interval the fit may use (--bounds narrows it)",
    "per fold": "the value each cross-validation fold fitted",
    "measured": "the measured value (in cycles for calibrate)",
    "before": "simulated cycles before the fit",
    "held-out": "simulated cycles with the fit of the fold that did not see the layer",
    "rel.error": "(simulated - measured) / measured",
    "simulated cycles are": "the cycle-breakdown part that dominates the simulated layer, and its share",
    # accelsim runs show
    "rank": "1 is best by the --sort metric (or the ranking's metric)",
    "point": "the point's index in the sweep (docs/sweeps.md)",
    "hardware": "the base hwconfig as the spec names it",
    "latency ms": "`latency_s` in milliseconds",
    "inf/s": "`inferences_per_s`: batch / latency",
    "DRAM rd MB": "`dram_read_bytes`, 10^6",
    "DRAM wr MB": "`dram_write_bytes`, 10^6",
    # accelsim bench / report
    "design": "the hwconfig's `name`",
    "best on": "cases on which the design has the best value",
    "cases": "cases every design completed (the geometric mean is over these)",
    "kernel": "a micro-benchmark kernel (docs/benchmarks.md)",
    "batch": "the batch size",
    "util busy": "`utilization_busy`: MACs / (PEs x busy cycles), utilization while the array computes",
    "stall": "`dominant_stall` and its share of the cycles (`dominant_stall_fraction`)",
    "network": "a shipped network of the macro suite",
    "inferences/s": "`inferences_per_s`: batch / latency",
    "mJ/inference": "`energy_per_inference_j` in millijoules",
    "mJ/inf": "`energy_per_inference_j` in millijoules",
    "inferences/s/W": "`inferences_per_s_per_w`: inferences per joule",
    "inf/s/W": "`inferences_per_s_per_w`: inferences per joule",
    "TOPS/W": "`tops_per_w`: 2 x MACs / energy / 10^12",
    "effective TOPS": "`effective_tops`: 2 x MACs / latency / 10^12",
    "SRAM KiB in / wt / out": "`sram.*.size_kib` of the input, weight and output buffers",
    "pJ/MAC": "energy of one MAC, the hwconfig's or the default (docs/energy.md)",
    "DRAM pJ/B": "energy per DRAM byte (docs/energy.md)",
    "static mW": "`static_mw`",
    "area mm²": "`area_mm2`",
    "": "the row's network (a rank-correlation matrix: each cell is Spearman's rho between two networks)",
}


def definition(header: str) -> str | None:
    """The legend entry of a column header, or None.

    A header may carry a batch ("util (b8)"), a design in front ("tpu_v1 util"), be a swept
    hwconfig path ("array.rows") or a total-record key ("energy_j", docs/metrics.md).
    """
    import re

    plain = re.sub(r" \(b\d+\)$", "", header)
    if plain.startswith("geomean "):
        return f"geometric mean of {plain.removeprefix('geomean ')} over the cases every design completed ({_M})"
    words = plain.split(" ")
    for k in range(len(words)):
        if " ".join(words[k:]) in LEGEND:
            return LEGEND[" ".join(words[k:])]
    from accelsim.config.hardware import Hardware
    from accelsim.config.schema import field_docs

    fields = {path: doc for path, _, _, doc in field_docs(Hardware)}
    if plain in fields:
        return f"the swept hwconfig field {plain}: {fields[plain]} (docs/hardware.md)"
    if plain in _record_keys():
        return f"the total-record key `{plain}` ({_M})"
    return None


@functools.cache
def _record_keys() -> frozenset[str]:
    """The flat keys of a total record (what runs show sorts by), from a one-layer run."""
    from accelsim.analytical import analyze
    from accelsim.config.loader import load_hardware
    from accelsim.config.workload import Gemm, Workload
    from accelsim.reports.records import flat, total_record

    run = analyze(load_hardware("gemmini"), Workload(name="keys", layers=(Gemm(name="g", M=16, N=16, K=16),)))
    return frozenset(flat(total_record(run)))


def legend(headers: list[str]) -> str:
    """The legend lines for ``headers`` (each once, in order), for --explain."""
    lines, done = [], set()
    for header in headers:
        meaning = definition(header)
        key = re.sub(r" \(b\d+\)$", "", header) if meaning else header
        if key in done:
            continue
        done.add(key)
        text = f"  {key or '(first column)'}: {meaning or 'undefined (please report)'}"
        lines.append(textwrap.fill(text, MAX_WIDTH, subsequent_indent="      "))
    return "columns:\n" + "\n".join(lines)
