"""Terminal tables: per-layer rows and a run summary; ``Table`` for reports (text, Markdown, CSV)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

from accelsim.reports.records import run_record
from accelsim.stats import RunResult

BREAKDOWN_SHORT = {
    "computing": "compute", "fill_drain": "fill/drain", "preload": "preload", "stall_input": "stall:in",
    "stall_weight": "stall:wt", "stall_output": "stall:out", "vector": "vector", "overhead": "overhead",
}


def render_table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """Fixed-width columns; ``align`` is a string of 'l'/'r' per column."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def layer_table(run: RunResult) -> str:
    record = run_record(run)
    headers = ["layer", "kind", "MACs", "cycles", "util", "map.eff", "DRAM rd", "DRAM wr", "bound by"]
    rows = []
    for layer in record["layers"]:
        rows.append([
            layer["name"], layer["kind"] if layer["unit"] == "array" else f"{layer['kind']} ({layer['unit']})",
            _si(layer["macs"]), f"{layer['cycles']:,}", _pct(layer["utilization"]),
            _pct(layer["mapping_efficiency"]) if layer["unit"] == "array" else "-",
            _si(layer["dram_read_bytes"]) + "B", _si(layer["dram_write_bytes"]) + "B",
            BREAKDOWN_SHORT.get(layer["dominant"], "-"),
        ])
    return render_table(headers, rows, "llrrrrrrl")


def summary(run: RunResult) -> str:
    record = run_record(run)
    t = record["total"]
    hw = record["hardware"]
    arr = run.hardware.array
    lines = [
        f"hardware   {hw['name']}: {arr.rows}x{arr.cols} {arr.dataflow.value.upper()} at "
        f"{run.hardware.clock_mhz:g} MHz, peak {t['peak_tops']:.3g} TOPS",
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
    lines += _step_lines(record)
    lines.append(
        f"energy     {t['energy_per_inference_j'] * 1e3:.4g} mJ/inference   avg power {t['avg_power_w']:.3g} W   "
        f"{t['tops_per_w']:.3g} TOPS/W   {t['inferences_per_s_per_w']:.4g} inferences/s/W")
    total = t["cycles"] or 1
    parts = [f"{BREAKDOWN_SHORT[k]} {_pct(v / total)}" for k, v in t["breakdown"].items() if v]
    lines.append("breakdown  " + "  ".join(parts))
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
        return f"{self.title}\n" + render_table(self.headers, self.cells(), self.align())

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
