"""Suite results as rows, design rankings and rank correlations across workloads.

A row is one case on one design, its numbers copied from the run's total record
(``reports.records.total_record``, the one mapping from results to metrics), so a
suite says nothing a plain ``accelsim run`` would not.

Rankings use the geometric mean over the cases every design completed (the usual
summary of a benchmark suite: no one case dominates, and ratios between designs
do not depend on which design is the reference). The rank correlation between two
cases is Spearman's rho of the designs' values on them: 1 when both cases order the
designs the same way, -1 when one reverses the other.
"""

from __future__ import annotations

import math


from accelsim.bench.runner import Outcome
from accelsim.compare.agreement import spearman
from accelsim.reports.records import total_record

# Columns of a suite row after design, case, group and batch; all but the last two are
# total-record keys (docs/metrics.md).
METRICS = (
    "macs", "cycles", "latency_s", "inferences_per_s", "utilization", "utilization_busy", "array_busy_fraction",
    "mapping_efficiency", "effective_tops", "peak_tops", "arithmetic_intensity", "dram_read_bytes",
    "dram_write_bytes", "avg_dram_gb_per_s", "energy_j", "energy_per_inference_j", "avg_power_w", "tops_per_w",
    "inferences_per_s_per_w", "inferences_per_s_per_mm2", "inferences_per_s_per_usd", "dominant", "bound_by",
    "dominant_stall",
)

# Metrics a ranking or a rank correlation may use, and whether more is better.
RANKABLE = {
    "inferences_per_s": True, "latency_s": False, "utilization": True, "effective_tops": True,
    "inferences_per_s_per_w": True, "tops_per_w": True, "energy_per_inference_j": False,
}


def summary_row(outcome: Outcome) -> dict:
    """One case on one design as a flat row (``error`` set and metrics None when it could not run)."""
    row = {"design": outcome.design, "case": outcome.case.label, "group": outcome.case.group,
           "batch": outcome.case.batch}
    if outcome.run is None:
        row.update({key: None for key in METRICS})
        row.update({"dominant_stall_fraction": None, "cores": None, "core_busy_fraction": None,
                    "error": outcome.error})
        return row
    total = total_record(outcome.run)
    row.update({key: total[key] for key in METRICS})
    stall = total["dominant_stall"]
    row["dominant_stall_fraction"] = total["breakdown"][stall] / total["cycles"] \
        if stall != "none" and total["cycles"] else 0.0
    row["cores"] = total["cores"]
    row["core_busy_fraction"] = list(total["core_busy_fraction"].values())
    row["error"] = ""
    return row


def summary_rows(outcomes: list[Outcome]) -> list[dict]:
    return [summary_row(outcome) for outcome in outcomes]


def _complete_cases(rows: list[dict], metric: str) -> list[str]:
    """Cases every design has a positive value of ``metric`` for, in first-seen order."""
    designs = list(dict.fromkeys(row["design"] for row in rows))
    ok: dict[str, set] = {}
    for row in rows:
        value = row.get(metric)
        if value is not None and value > 0:
            ok.setdefault(row["case"], set()).add(row["design"])
    return [case for case in dict.fromkeys(row["case"] for row in rows) if ok.get(case, set()) >= set(designs)]


def geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def ranking(rows: list[dict], metric: str) -> list[dict]:
    """Designs ordered by the geometric mean of ``metric`` over the cases all of them completed.

    Each entry: ``rank``, ``design``, ``geomean``, ``cases`` (how many were averaged) and
    ``wins`` (cases on which the design is best).
    """
    higher = RANKABLE[metric]
    cases = _complete_cases(rows, metric)
    value = {(row["design"], row["case"]): row[metric] for row in rows}
    designs = list(dict.fromkeys(row["design"] for row in rows))
    wins = dict.fromkeys(designs, 0)
    for case in cases:
        pick = max if higher else min
        wins[pick(designs, key=lambda d: value[(d, case)])] += 1
    entries = [{"design": d, "geomean": geomean([value[(d, c)] for c in cases]), "cases": len(cases),
                "wins": wins[d]} for d in designs]
    entries.sort(key=lambda e: (e["geomean"] is None, -(e["geomean"] or 0) if higher else (e["geomean"] or 0)))
    for i, entry in enumerate(entries, 1):
        entry["rank"] = i if entry["geomean"] is not None else None
    return [{"rank": e["rank"], **{k: v for k, v in e.items() if k != "rank"}} for e in entries]


def rank_correlation(rows: list[dict], metric: str, cases: list[str] | None = None) -> tuple[list[str], list[list]]:
    """The case x case matrix of Spearman's rho between the designs' ``metric`` on each case.

    Only cases every design completed take part. Returns (cases, matrix).
    """
    complete = _complete_cases(rows, metric)
    cases = [c for c in (cases or complete) if c in complete]
    designs = list(dict.fromkeys(row["design"] for row in rows))
    value = {(row["design"], row["case"]): row[metric] for row in rows}
    vectors = {c: [value[(d, c)] for d in designs] for c in cases}
    matrix = [[spearman(vectors[a], vectors[b], min_pairs=2) for b in cases] for a in cases]
    return cases, matrix
