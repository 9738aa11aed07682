"""The comparison tables of a suite, shared by ``accelsim bench`` and ``accelsim report``.

Every value is a suite row's (``bench.summary``); the tables only choose and arrange.
"""

from __future__ import annotations

from accelsim.bench.summary import RANKABLE, rank_correlation, ranking
from accelsim.reports.table import Table, number, pct

MIN_CORRELATED_DESIGNS = 3  # Spearman's rho over two designs is always +1 or -1: no information
NO_CORRELATION = (f"rank correlation between networks: not shown (it needs at least {MIN_CORRELATED_DESIGNS} "
                  f"designs; over two, every pair of networks correlates +1 or -1)")
STALL_SHORT = {"stall_input": "input", "stall_weight": "weight", "stall_output": "output", "none": "none"}
LABELS = {
    "inferences_per_s": "inferences/s", "latency_s": "latency s", "utilization": "utilization",
    "effective_tops": "effective TOPS", "inferences_per_s_per_w": "inferences/s/W", "tops_per_w": "TOPS/W",
    "energy_per_inference_j": "J/inference",
}


def designs_of(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(row["design"] for row in rows))


def _stall(row: dict) -> str:
    if row["error"]:
        return "failed"
    stall = row["dominant_stall"]
    return "none" if stall == "none" else f"{STALL_SHORT[stall]} {100 * row['dominant_stall_fraction']:.0f}%"


def core_busy_text(fractions: list | None) -> str:
    """Per-core busy fractions in %, core 0 first (``98/97/97/60``); ``-`` when the case failed."""
    return "/".join(f"{100 * f:.0f}" for f in fractions) if fractions else "-"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:.4g}"


def _mj(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:.4g}"


def ranking_table(rows: list[dict], metric: str, scope: str, name: str) -> Table:
    entries = ranking(rows, metric)
    cases = entries[0]["cases"] if entries else 0
    fmt = pct if metric == "utilization" else number
    return Table(
        title=f"Design ranking: geometric mean of {LABELS[metric]} ({scope})",
        headers=["rank", "design", f"geomean {LABELS[metric]}", "best on", "cases"],
        rows=[[e["rank"], e["design"], e["geomean"], e["wins"], e["cases"]] for e in entries],
        formats=[None, None, fmt, None, None],
        note=f"{'Higher' if RANKABLE[metric] else 'Lower'} is better; the mean is over the {cases} cases "
             f"every design completed.",
        name=f"ranking_{name}")


def correlation_table(rows: list[dict], metric: str, labels: dict[str, str], name: str) -> Table:
    """Spearman's rho between the designs' ``metric`` on every pair of cases."""
    cases, matrix = rank_correlation(rows, metric)
    short = [labels.get(c, c) for c in cases]
    return Table(
        title=f"Rank correlation of the designs' {LABELS[metric]} between workloads (Spearman)",
        headers=[""] + short,
        rows=[[short[i]] + matrix[i] for i in range(len(cases))],
        formats=[None] + [_rho] * len(cases),
        note="1: the two workloads order the designs the same way (one predicts the other); "
             "-1: opposite orders; - : undefined (fewer than two designs, or all equal).",
        name=f"rank_correlation_{name}", labels=True)


def _rho(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2f}"


def micro_tables(rows: list[dict]) -> list[Table]:
    designs = designs_of(rows)
    by = {(r["design"], r["case"]): r for r in rows}
    kernels = list(dict.fromkeys(r["case"] for r in rows))
    headers = ["kernel", "batch", "MACs", "design", "util", "util busy", "stall"]  # a row per design: any number fits
    body = []
    for k in kernels:
        macs = next((by[(d, k)]["macs"] for d in designs if by[(d, k)]["macs"]), None)
        for d in designs:
            r = by[(d, k)]
            body.append([k, r["batch"], macs, d, r["utilization"], r["utilization_busy"], _stall(r)])
    formats = [None, None, number, None, pct, pct, None]
    per_kernel = Table("Utilization and dominant stall per kernel", headers, body, formats,
                       note="util: MACs / (PEs x cycles); util busy: the same over the cycles the array computes; "
                            "stall: the stall part with the most cycles and its share of the cycles.",
                       name="kernels")
    return [per_kernel, ranking_table(rows, "utilization", "all kernels", "utilization"),
            ranking_table(rows, "effective_tops", "all kernels", "effective_tops")]


def macro_tables(rows: list[dict], batch: int, rank_by: str = "inferences_per_s") -> list[Table]:
    designs = designs_of(rows)
    by = {(r["design"], r["group"], r["batch"]): r for r in rows}
    networks = list(dict.fromkeys(r["group"] for r in rows))
    headers = ["network", "design", "latency ms (b1)", "inf/s (b1)", f"inf/s (b{batch})",
               "util (b1)", f"util (b{batch})", f"util busy (b{batch})", f"map. eff. (b{batch})",
               f"mJ/inf (b{batch})", f"inf/s/W (b{batch})", f"TOPS/W (b{batch})", f"stall (b{batch})"]
    body = []
    for n in networks:
        for d in designs:
            one, many = by[(d, n, 1)], by[(d, n, batch)]
            body.append([n, d, one["latency_s"], one["inferences_per_s"], many["inferences_per_s"],
                         one["utilization"], many["utilization"], many["utilization_busy"],
                         many["mapping_efficiency"], many["energy_per_inference_j"],
                         many["inferences_per_s_per_w"], many["tops_per_w"], _stall(many)])
    formats = [None, None, _ms, number, number, pct, pct, pct, pct, _mj, number, number, None]
    if any((r.get("cores") or 1) > 1 for r in rows):  # several cores: how many, and each one's busy fraction
        headers[2:2] = ["cores", f"core busy (b{batch})"]
        formats[2:2] = [None, None]
        for line, (n, d) in zip(body, [(n, d) for n in networks for d in designs]):
            many = by[(d, n, batch)]
            line[2:2] = [str(many["cores"] or "-"), core_busy_text(many["core_busy_fraction"])]
    per_network = Table("Latency, throughput, utilization and energy per network and design", headers, body, formats,
                        note=f"b1: batch 1 (latency); b{batch}: the throughput batch. Energy from the hwconfigs' "
                             f"per-action energies (docs/energy.md).", name="networks")
    throughput_rows = [r for r in rows if r["batch"] == batch]
    latency_rows = [r for r in rows if r["batch"] == 1]
    labels = {r["case"]: r["group"] for r in rows}
    tables = [per_network,
              ranking_table(throughput_rows, "inferences_per_s", f"networks at batch {batch}", "throughput"),
              ranking_table(latency_rows, "latency_s", "networks at batch 1", "latency"),
              ranking_table(throughput_rows, "utilization", f"networks at batch {batch}", "utilization"),
              ranking_table(throughput_rows, "inferences_per_s_per_w", f"networks at batch {batch}", "efficiency")]
    if len(designs) >= MIN_CORRELATED_DESIGNS:  # with two designs every pair of networks correlates +1 or -1
        tables.append(correlation_table(throughput_rows, rank_by, labels, rank_by))
        if rank_by != "utilization":
            tables.append(correlation_table(throughput_rows, "utilization", labels, "utilization"))
    return tables


def workload_tables(rows: list[dict], layer_records: dict[str, list[dict]]) -> list[Table]:
    """One workload on several designs: a summary per design and utilization per layer.

    ``layer_records``: the layer records (``reports.records.layer_record``) of each design's run.
    """
    batch = rows[0]["batch"] if rows else 1
    per_design = Table(
        "Per design", ["design", "latency ms", "inf/s", "util", "util busy", "map. eff.", "effective TOPS",
                       "mJ/inf", "inf/s/W", "TOPS/W", "bound by", "stall"],
        [[r["design"], r["latency_s"], r["inferences_per_s"], r["utilization"], r["utilization_busy"],
          r["mapping_efficiency"], r["effective_tops"], r["energy_per_inference_j"], r["inferences_per_s_per_w"],
          r["tops_per_w"], r["bound_by"] or "failed", _stall(r)] for r in rows],
        [None, _ms, number, pct, pct, pct, number, _mj, number, number, None, None],
        note=f"batch {batch}", name="designs")
    if any((r.get("cores") or 1) > 1 for r in rows):  # several cores: how many, and each one's busy fraction
        per_design.headers[1:1] = ["cores", "core busy"]
        per_design.formats[1:1] = [None, None]
        for line, r in zip(per_design.rows, rows):
            line[1:1] = [str(r["cores"] or "-"), core_busy_text(r["core_busy_fraction"])]
    designs = [d for d in designs_of(rows) if d in layer_records]
    headers = ["layer", "kind"]
    for d in designs:
        headers += [f"{d} util", f"{d} bound by"]
    body = []
    first = layer_records[designs[0]] if designs else []
    for i, layer in enumerate(first):
        line = [layer["name"], layer["kind"]]
        for d in designs:
            rec = layer_records[d][i]
            line += [rec["utilization"], rec["bound_by"]]
        body.append(line)
    per_layer = Table("Utilization per layer", headers, body, [None, None] + [pct, None] * len(designs),
                      name="layers")
    return [per_design, per_layer, ranking_table(rows, "inferences_per_s", f"batch {batch}", "throughput")]
