"""Write results as JSON or CSV (one row per layer, then the total)."""

from __future__ import annotations

import csv
import io
import json

from accelsim.reports.records import flat, run_record
from accelsim.stats import RunResult


def to_json(run: RunResult) -> str:
    """Deterministic JSON: same inputs, same bytes."""
    return json.dumps(run_record(run), indent=2, sort_keys=False, allow_nan=False) + "\n"


def to_csv(run: RunResult) -> str:
    record = run_record(run)
    rows = [flat(layer) for layer in record["layers"]]
    total = flat(record["total"])
    total.update({"name": "TOTAL", "kind": "", "unit": ""})
    rows.append(total)
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c, "")) for c in columns})
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else value
