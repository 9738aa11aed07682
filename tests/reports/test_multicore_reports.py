"""Several cores in what a user reads: per-core tracks in the trace, the split and each core's
busy share in the tables and JSON, the cores column of ``accelsim list`` and ``bench macro``."""

import json

import pytest

from accelsim import load_hardware, load_workload
from accelsim.bench import macro
from accelsim.cli import main
from accelsim.engine import simulate
from accelsim.engine.timeline import Timeline
from accelsim.reports.records import run_record
from accelsim.reports.trace import trace_events
from test_trace import check_trace


def test_trace_has_one_set_of_tracks_per_core_and_the_imbalance():
    hw, wl = load_hardware("edge_example_2core"), load_workload("resnet18")
    timeline = Timeline()
    run = simulate(hw, wl, timeline)
    assert run == simulate(hw, wl)  # recording changes nothing
    spans = check_trace(trace_events(run, timeline))
    for core in (0, 1):
        layers = [b["name"] for b, _, depth in spans[f"core{core} array"] if depth == 0]
        assert layers == [layer.name for layer in run.layers if layer.cycles]
        assert any(name.startswith(f"core{core} dma") for name in spans)
    # a core's load imbalance is laid out in time, and adds up to its breakdown's
    for core in (0, 1):
        waited = sum(e["ts"] - b["ts"] for b, e, _ in spans[f"core{core} array"] if b["name"] == "load_imbalance")
        cycles = sum(layer.cores[core].breakdown.load_imbalance for layer in run.layers)
        assert abs(waited * hw.clock_mhz - cycles) < 1e-6 * max(1, cycles) + 1e-3


def test_json_and_table_report_the_split_and_each_core(capsys):
    assert main(["run", "--hw", "edge_example_2core", "--workload", "resnet18", "--model", "analytical",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"]["cores"] == 2 and set(doc["total"]["core_busy_fraction"]) == {"core0", "core1"}
    conv = next(layer for layer in doc["layers"] if layer["kind"] == "conv")
    assert conv["partition"] in ("channels", "pixels", "batch")
    assert all(sum(b.values()) == conv["cycles"] for b in conv["core_breakdown"].values())
    # the cores' mean utilization is the chip's
    for rec in (conv, doc["total"]):
        per_core = list(rec["core_utilization"].values())
        assert sum(per_core) / 2 == pytest.approx(rec["utilization"], rel=1e-12)
    assert main(["run", "--hw", "edge_example_2core", "--workload", "resnet18", "--model", "analytical"]) == 0
    out = capsys.readouterr().out
    assert "split" in out and "core busy" in out and "cores      2, load imbalance" in out
    # one core: no new columns
    assert main(["run", "--hw", "edge_example", "--workload", "resnet18", "--model", "analytical"]) == 0
    out = capsys.readouterr().out
    assert "split" not in out and "core busy" not in out and run_record(
        simulate(load_hardware("edge_example"), load_workload("resnet18")))["total"]["cores"] == 1


def test_set_fixes_the_partition(capsys):
    assert main(["run", "--hw", "edge_example_2core", "--workload", "resnet18", "--model", "analytical",
                 "--set", "partition=pixels", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    splits = {layer["partition"] for layer in doc["layers"] if layer["unit"] == "array"}
    assert "pixels" in splits and splits <= {"pixels", "channels"}  # fc has one row: auto's choice there
    assert main(["run", "--hw", "edge_example", "--workload", "resnet18", "--set", "cores=65"]) == 2
    assert "cores" in capsys.readouterr().err


def test_list_and_bench_macro_show_cores(tmp_path, capsys, monkeypatch):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "cores" in out.splitlines()[1]
    assert any(line.split()[:2] == ["tpu_v4i", "4"] for line in out.splitlines())
    monkeypatch.setattr(macro, "NETWORKS", ("alexnet",))
    assert main(["bench", "macro", "--hw", "edge_example", "edge_example_2core", "--batch", "2", "--jobs", "1",
                 "--model", "analytical", "-o", str(tmp_path)]) == 0
    capsys.readouterr()
    table = json.loads((tmp_path / "macro.json").read_text())["tables"]["networks"]
    assert table["headers"][2:4] == ["cores", "core busy (b2)"]
    assert [row[2] for row in table["rows"]] == ["1", "2"]
    assert len(table["rows"][1][3].split("/")) == 2  # each core's busy share
