"""Results as flat records: the one mapping from results to the JSON/CSV schema.

Schema (``SCHEMA_VERSION``) is documented in docs/output.md; keys are only ever
added, never renamed.
"""

from __future__ import annotations

import math
import sys
from dataclasses import fields
from functools import cache, cached_property
from operator import attrgetter

from accelsim import __version__
from accelsim.config.schema import to_data
from accelsim.energy import ActionEnergies, action_energies
from accelsim.stats import (BREAKDOWN_PARTS, TRAFFIC_PARTS, CycleBreakdown, DramTraffic, LayerResult, RunResult,
                            layer_metrics, run_metrics)

SCHEMA_VERSION = 1

_COUNTS = {kind: (parts, attrgetter(*parts)) for kind, parts in
           ((CycleBreakdown, BREAKDOWN_PARTS), (DramTraffic, TRAFFIC_PARTS))}


def _counts(value: CycleBreakdown | DramTraffic) -> dict:
    """A breakdown or a traffic as a dict: ``asdict`` without its deep copy (the fields are integers)."""
    parts, values = _COUNTS[type(value)]
    return dict(zip(parts, values(value)))


class _SummedOnce(RunResult):
    """A run whose totals over the layers are summed once: a total record reads each several times."""

    cycles = cached_property(RunResult.cycles.fget)
    macs = cached_property(RunResult.macs.fget)
    breakdown = cached_property(RunResult.breakdown.fget)
    dram = cached_property(RunResult.dram.fget)
    compulsory = cached_property(RunResult.compulsory.fget)
    sram = cached_property(RunResult.sram.fget)

    @cached_property
    def _core_breakdowns(self):
        return RunResult.core_breakdowns(self)

    def core_breakdowns(self):
        return self._core_breakdowns


def _clean(value):
    """JSON has no inf/nan: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):  # floats inline: most of a record's values need no call
        return {k: (v if math.isfinite(v) else None) if isinstance(v, float)
                else _clean(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def layer_record(layer: LayerResult, run: RunResult, energies: ActionEnergies | None = None) -> dict:
    """``energies``: the run's ``action_energies``, made once for all its layers."""
    return _clean(_layer_values(layer, run, energies))


def _layer_values(layer: LayerResult, run: RunResult, energies: ActionEnergies | None = None) -> dict:
    """:func:`layer_record` before its non-finite floats become null."""
    m = layer_metrics(layer, run.hardware, energies)
    # shared with core_breakdown when the layer has no per-core results: safe, as this dict
    # never leaves the module uncopied (``_clean`` and ``flat`` build their own)
    breakdown = _counts(layer.breakdown)
    return {
        "name": layer.name,
        "kind": layer.kind,
        "unit": layer.unit,
        "macs": layer.macs,
        "cycles": layer.cycles,
        "compute_cycles": layer.compute_cycles,
        "utilization": m["utilization"],
        "utilization_busy": m["utilization_busy"],
        "array_busy_fraction": m["array_busy_fraction"],
        "mapping_efficiency": layer.mapping_efficiency,
        "folds": layer.folds,
        "latency_s": m["latency_s"],
        "effective_tops": m["effective_tops"],
        "dram_read_bytes": layer.dram.read,
        "dram_write_bytes": layer.dram.write,
        "dram_bytes": _counts(layer.dram),
        "compulsory_dram_read_bytes": layer.compulsory.read,
        "compulsory_dram_write_bytes": layer.compulsory.write,
        "spilled_dram_bytes": layer.spill.total,
        "dram_lower_bound_bytes": layer.dram_lower_bound,
        "gated_macs": layer.gated_macs,
        "global_buffer_bytes": layer.global_buffer.total,
        "placement": {"inputs": ",".join(layer.placement[0]), "output": layer.placement[1]},
        "traffic_ratio": m["traffic_ratio"],
        "arithmetic_intensity": m["arithmetic_intensity"],
        "avg_dram_gb_per_s": m["avg_dram_gb_per_s"],
        "peak_dram_gb_per_s": m["peak_dram_gb_per_s"],
        "breakdown": breakdown,
        "dominant": m["dominant"],
        "bound_by": m["bound_by"],
        "sram_bytes": layer.sram.as_record(),
        "analytical_cycles": layer.analytical_cycles,
        "analytical_gap": m["analytical_gap"],
        "roofline_cycles": layer.roofline_cycles,
        "events": layer.events,
        "energy_j": m["energy_j"],
        "energy_breakdown_j": m["energy_breakdown_j"],
        "avg_power_w": m["avg_power_w"],
        "tops_per_w": m["tops_per_w"],
        "dominant_stall": m["dominant_stall"],
        "partition": layer.partition or None,
        "core_busy_fraction": _by_core(m["core_busy_fraction"]),
        "core_utilization": _by_core(m["core_utilization"]),
        "core_breakdown": _by_core([_counts(c.breakdown) for c in layer.cores] or [breakdown]),
    }


def _by_core(values: list) -> dict:
    """Per-core values keyed ``core0``, ``core1``, ... (CSV columns ``...core0``)."""
    return dict(zip(_core_names(len(values)), values))


@cache  # one per core count (at most config.schema.MAX_CORES)
def _core_names(cores: int) -> tuple[str, ...]:
    return tuple(f"core{i}" for i in range(cores))


def total_record(run: RunResult) -> dict:
    return _clean(_total_values(run))


def _total_values(run: RunResult) -> dict:
    """:func:`total_record` before its non-finite floats become null."""
    run = _SummedOnce(**{f.name: getattr(run, f.name) for f in fields(RunResult)})
    m = run_metrics(run)
    return {
        "macs": run.macs,
        "cycles": run.cycles,
        "compute_cycles": sum(layer.compute_cycles for layer in run.layers),
        "utilization": m["utilization"],
        "utilization_busy": m["utilization_busy"],
        "array_busy_fraction": m["array_busy_fraction"],
        "mapping_efficiency": m["mapping_efficiency"],
        "folds": sum(layer.folds for layer in run.layers),
        "latency_s": m["latency_s"],
        "inferences_per_s": m["inferences_per_s"],
        "tokens_per_s": m["tokens_per_s"],
        "time_to_first_token_s": m["time_to_first_token_s"],
        "effective_tops": m["effective_tops"],
        "peak_tops": m["peak_tops"],
        "dram_read_bytes": run.dram.read,
        "dram_write_bytes": run.dram.write,
        "dram_bytes": _counts(run.dram),
        "compulsory_dram_read_bytes": run.compulsory.read,
        "compulsory_dram_write_bytes": run.compulsory.write,
        "spilled_dram_bytes": run.spill.total,
        "dram_lower_bound_bytes": run.dram_lower_bound,
        "gated_macs": run.gated_macs,
        "global_buffer_bytes": run.global_buffer.total,
        "traffic_ratio": m["traffic_ratio"],
        "arithmetic_intensity": m["arithmetic_intensity"],
        "avg_dram_gb_per_s": m["avg_dram_gb_per_s"],
        "peak_dram_gb_per_s": m["peak_dram_gb_per_s"],
        "breakdown": _counts(run.breakdown),
        "dominant": m["dominant"],
        "bound_by": m["bound_by"],
        "sram_bytes": run.sram.as_record(),
        "analytical_cycles": m["analytical_cycles"],
        "analytical_gap": m["analytical_gap"],
        "roofline_cycles": sum(layer.roofline_cycles for layer in run.layers),
        "events": run.events,
        "energy_j": m["energy_j"],
        "energy_breakdown_j": m["energy_breakdown_j"],
        "avg_power_w": m["avg_power_w"],
        "tops_per_w": m["tops_per_w"],
        "energy_per_inference_j": m["energy_per_inference_j"],
        "inferences_per_s_per_w": m["inferences_per_s_per_w"],
        "inferences_per_s_per_mm2": m["inferences_per_s_per_mm2"],
        "inferences_per_s_per_usd": m["inferences_per_s_per_usd"],
        "dominant_stall": m["dominant_stall"],
        "cores": run.hardware.cores,
        "core_busy_fraction": _by_core(m["core_busy_fraction"]),
        "core_utilization": _by_core(m["core_utilization"]),
        "core_breakdown": _by_core([_counts(b) for b in run.core_breakdowns()]),
    }


def run_record(run: RunResult) -> dict:
    """The whole run in the documented JSON schema (the layers and the total are clean already)."""
    hw = run.hardware
    energies = action_energies(hw)
    record = _clean({
        "schema_version": SCHEMA_VERSION,
        "accelsim_version": __version__,
        "model": run.model,
        "hardware": {
            "name": hw.name,
            "peak_macs_per_cycle": hw.peak_macs_per_cycle,
            "peak_tops": hw.peak_tops,
            "dram_bytes_per_cycle": hw.dram_bytes_per_cycle,
            "achievable_dram_gb_per_s": hw.achievable_dram_gb_per_s,
            "dram_rate_limited_by": hw.dram_rate_limited_by,
            "config": to_data(hw),
            "energy_per_action": energies.as_record(),
        },
        "workload": {"name": run.workload.name, "batch": run.workload.batch,
                     "layers": len(run.workload.layers), "source": run.workload.source,
                     "phase": run.workload.phase.value if run.workload.phase else None,
                     "dims": dict(run.workload.dims)},
    })
    record["layers"] = [layer_record(layer, run, energies) for layer in run.layers]
    record["total"] = total_record(run)
    record["tensors"] = _clean([p.as_record() for p in run.residency.tensors] if run.residency is not None else [])
    return record


def flat(record: dict, prefix: str = "", clean: bool = False) -> dict:
    """Nested dicts flattened with dotted keys (for CSV columns); a list of named items (a
    hwconfig's ``buffers``) by their names, as ``--set`` names them (``buffers.acc.size_kib``).
    ``clean``: non-finite floats become null on the way (``flat(_clean(r))`` in one pass)."""
    out: dict = {}
    _flatten_into(out, record, prefix, clean)
    return out


def flat_records(run: RunResult) -> tuple[dict, tuple[dict, ...]]:
    """The run's total record and its layer records, flattened: what a sweep stores per point
    (``flat(total_record(run))`` and each ``flat(layer_record(...))``, cleaned as they flatten)."""
    energies = action_energies(run.hardware)
    return flat(_total_values(run), clean=True), tuple(flat(_layer_values(layer, run, energies), clean=True)
                                                      for layer in run.layers)


_COLUMNS: dict[str, dict] = {}  # prefix -> key -> the column's name, interned (at most MAX_COLUMN_PREFIXES)
MAX_COLUMN_PREFIXES = 10_000
_PLAIN = frozenset((int, str, bool, type(None)))  # leaves that never need cleaning


def _flatten_into(out: dict, record: dict, prefix: str, clean: bool) -> None:
    """``flat`` into one dict, with no dict per nesting level (a sweep flattens every layer
    record). Column names are made once per prefix and key, and interned: one string per column
    name, shared by every record (pickled to the coordinator once)."""
    names = _COLUMNS.get(prefix)
    if names is None:
        if len(_COLUMNS) >= MAX_COLUMN_PREFIXES:
            _COLUMNS.clear()
        names = _COLUMNS[prefix] = {}
    isfinite = math.isfinite
    for key, value in record.items():
        kind = type(value)
        if kind is float:  # most values: checked first
            if clean and not isfinite(value):
                value = None
        elif kind not in _PLAIN:
            if isinstance(value, dict):
                _flatten_into(out, value, f"{prefix}{key}.", clean)
                continue
            if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
                _flatten_into(out, {str(v["name"]): v for v in value}, f"{prefix}{key}.", clean)
                continue
            if clean:
                if isinstance(value, float):
                    if not isfinite(value):
                        value = None
                elif isinstance(value, list):
                    value = _clean(value)
        try:
            name = names[key]
        except KeyError:
            name = names[key] = sys.intern(f"{prefix}{key}")
        out[name] = value
