"""The identities of docs/metrics.md, checked on real runs through the JSON record (what users read)."""

import pytest

from accelsim import analyze, load_hardware, load_workload
from accelsim.config import catalog
from accelsim.engine import simulate
from accelsim.reports.records import run_record

REL = 1e-9
ENGINE_CASES = [("tpu_v1", "resnet50", 1), ("gemmini", "mobilenet_v2", 2), ("nvdla_large", "bert_base_layer", 4),
                ("eyeriss_like", "alexnet", 1), ("edge_example", "resnet18", 1),
                ("edge_example_2core", "resnet18", 1)]


def _records(model, config, workload, batch):
    run = (simulate if model == "engine" else analyze)(load_hardware(config), load_workload(workload, batch=batch))
    return run_record(run)


def _check_record(rec, hw, batch, energies, total: bool):
    seconds = rec["latency_s"]
    assert rec["latency_s"] == pytest.approx(rec["cycles"] / (hw["config"]["clock_mhz"] * 1e6), rel=REL)
    assert rec["effective_tops"] == pytest.approx(2 * rec["macs"] / seconds / 1e12 if seconds else 0, rel=REL)
    assert rec["utilization"] * hw["peak_tops"] == pytest.approx(rec["effective_tops"], rel=REL, abs=1e-15)
    assert rec["utilization"] == pytest.approx(rec["utilization_busy"] * rec["array_busy_fraction"], rel=REL, abs=1e-15)
    if rec["cycles"]:
        # several cores: the breakdown is the cores' mean rounded to whole cycles (docs/metrics.md),
        # so the identity holds to within one cycle of computing
        rounding = rec["mapping_efficiency"] / rec["cycles"] if hw["config"]["cores"] > 1 else 1e-15
        assert rec["utilization"] == pytest.approx(
            rec["mapping_efficiency"] * rec["breakdown"]["computing"] / rec["cycles"], rel=1e-9, abs=rounding)
    assert sum(rec["breakdown"].values()) == rec["cycles"]
    # energy = sum of counts x energies
    sram = rec["sram_bytes"]
    buffers = [key[: -len("_read")] for key in sram if key.endswith("_read")]
    shared = [hw["config"]["global_buffer"]["name"]] if hw["config"]["global_buffer"] else []
    assert buffers == [b["name"] for b in hw["config"]["buffers"]] + shared if hw["config"]["buffers"] else \
        buffers == ["input", "weight", "output"] + shared
    expected = ((rec["macs"] - rec["gated_macs"]) * energies["mac_pj"]
                + sum(sram[f"{b}_read"] * energies[f"sram_{b}_read_pj_per_byte"]
                      + sram[f"{b}_write"] * energies[f"sram_{b}_write_pj_per_byte"] for b in buffers)
                + (rec["dram_read_bytes"] + rec["dram_write_bytes"]) * energies["dram_pj_per_byte"]) * 1e-12 \
        + energies["static_mw"] * 1e-3 * seconds
    assert rec["energy_j"] == pytest.approx(expected, rel=REL, abs=1e-18)
    assert rec["energy_j"] == pytest.approx(sum(rec["energy_breakdown_j"].values()), rel=REL, abs=1e-18)
    if rec["energy_j"]:
        assert rec["avg_power_w"] == pytest.approx(rec["energy_j"] / seconds, rel=REL)
        assert rec["tops_per_w"] == pytest.approx(rec["effective_tops"] / rec["avg_power_w"], rel=REL)
    if total:
        assert rec["inferences_per_s"] == pytest.approx(batch / seconds, rel=REL)
        assert rec["energy_per_inference_j"] * batch == pytest.approx(rec["energy_j"], rel=REL)
        assert rec["inferences_per_s_per_w"] == pytest.approx(rec["inferences_per_s"] / rec["avg_power_w"], rel=REL)
        assert rec["effective_tops"] / rec["peak_tops"] == pytest.approx(rec["utilization"], rel=REL)


def _check_run(doc):
    hw, total, layers = doc["hardware"], doc["total"], doc["layers"]
    energies = hw["energy_per_action"]
    batch = doc["workload"]["batch"]
    for layer in layers:
        _check_record(layer, hw, batch, energies, total=False)
    _check_record(total, hw, batch, energies, total=True)
    for key in ("cycles", "macs", "dram_read_bytes", "dram_write_bytes", "compute_cycles"):
        assert total[key] == sum(layer[key] for layer in layers)
    for part in total["breakdown"]:
        assert total["breakdown"][part] == sum(layer["breakdown"][part] for layer in layers)
    assert total["energy_j"] == pytest.approx(sum(layer["energy_j"] for layer in layers), rel=1e-9)


@pytest.mark.parametrize("config, workload, batch", ENGINE_CASES)
def test_identities_hold_on_engine_runs(config, workload, batch):
    _check_run(_records("engine", config, workload, batch))


@pytest.mark.parametrize("config", list(catalog.shipped("hwconfigs")))
def test_identities_hold_on_analytical_runs_of_every_shipped_design(config):
    for workload in ("alexnet", "bert_base_layer"):
        _check_run(_records("analytical", config, workload, 2))


def test_tpu_v1_roofline_ridge_is_the_papers():
    # Jouppi et al., ISCA 2017, Figure 5: the TPU's ridge point is at 1350 MACs per byte of weight memory.
    from accelsim.reports.plots import ridge_point

    hw = load_hardware("tpu_v1")
    assert ridge_point(hw.peak_tops, hw.dram.bandwidth_gb_per_s) == pytest.approx(1350, rel=0.001)


def test_breakdown_and_traffic_sums_cover_every_field():
    """CycleBreakdown and DramTraffic spell their sums field by field (speed): each field must be
    in them, or a new part would silently drop out of totals. Distinct primes per field, so a
    field left out or added twice changes the sum."""
    from dataclasses import fields

    from accelsim.stats import CycleBreakdown, DramTraffic, SramAccesses

    primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31]
    for cls in (CycleBreakdown, DramTraffic):
        names = [f.name for f in fields(cls)]
        a = cls(**dict(zip(names, primes)))
        b = cls(**dict(zip(names, primes[::-1])))
        assert a + b == cls(**{n: getattr(a, n) + getattr(b, n) for n in names})
    breakdown = CycleBreakdown(**dict(zip([f.name for f in fields(CycleBreakdown)], primes)))
    assert breakdown.total == sum(primes[:len(fields(CycleBreakdown))])
    assert CycleBreakdown(stall_weight=4, vector=4).dominant() == "stall_weight"  # ties: the earlier field
    assert SramAccesses((("a", 1, 2), ("b", 3, 4), ("a", 5, 6))) + SramAccesses((("c", 7, 8), ("b", 9, 10))) \
        == SramAccesses((("a", 6, 8), ("b", 12, 14), ("c", 7, 8)))
    assert SramAccesses([("a", 1, 2)]) + SramAccesses((("a", 3, 4),)) == SramAccesses((("a", 4, 6),))  # lists too
