"""Terminal tables: per-layer rows and a run summary."""

from __future__ import annotations

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
            BREAKDOWN_SHORT[layer["dominant"]] if layer["cycles"] else "-",
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
        f"({t['traffic_ratio']:.2f}x compulsory)   avg {t['avg_dram_gb_per_s']:.3g} GB/s",
    ]
    total = t["cycles"] or 1
    parts = [f"{BREAKDOWN_SHORT[k]} {_pct(v / total)}" for k, v in t["breakdown"].items() if v]
    lines.append("breakdown  " + "  ".join(parts))
    if record["model"] != "analytical":
        lines.append(f"analytical {t['analytical_cycles']:,} cycles (simulated is {100 * t['analytical_gap']:+.1f}%)")
    return "\n".join(lines)
