"""``accelsim run --trace``: valid Chrome trace-event JSON with balanced, nested spans, and a
timeline that changes nothing about the run."""

import json
from collections import defaultdict

import pytest

from accelsim import load_hardware, load_workload
from accelsim.cli import main
from accelsim.config.loader import with_overrides
from accelsim.engine import simulate
from accelsim.engine.timeline import Timeline
from accelsim.reports.files import to_json
from accelsim.reports.trace import trace_events


def check_trace(doc: dict) -> dict:
    """Trace-event rules: every event has ph/pid/name (and ts unless metadata), B/E balance per
    track with matching names, time never goes back on a track. Returns {track name: [spans]}."""
    names, stacks, last, spans = {}, defaultdict(list), {}, defaultdict(list)
    for e in doc["traceEvents"]:
        assert {"ph", "pid", "name"} <= set(e), e
        if e["ph"] == "M":
            if e["name"] == "thread_name":
                names[e["tid"]] = e["args"]["name"]
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
        if e["ph"] == "C":
            continue
        assert e["ph"] in "BE", e
        tid = e["tid"]
        assert e["ts"] >= last.get(tid, 0), f"time goes back on track {tid}: {e}"
        last[tid] = e["ts"]
        if e["ph"] == "B":
            stacks[tid].append(e)
        else:
            begin = stacks[tid].pop()
            assert begin["name"] == e["name"], (begin, e)
            spans[names.get(tid, tid)].append((begin, e, len(stacks[tid])))
    assert all(not stack for stack in stacks.values()), "unbalanced: spans left open"
    return spans


@pytest.fixture(scope="module")
def resnet50_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "sub" / "r50.json"
    assert main(["run", "--hw", "tpu_v1", "--workload", "resnet50", "--trace", str(path), "-o",
                 str(path.parent / "r50.txt")]) == 0
    return json.loads(path.read_text())


def test_resnet50_trace_is_valid_and_balanced(resnet50_trace):
    spans = check_trace(resnet50_trace)
    assert set(spans) == {"array", "dma0 loads (input)", "dma1 loads (weight)", "store path (dma0)"}
    run = simulate(load_hardware("tpu_v1"), load_workload("resnet50"))
    layers = [b for b, _, depth in spans["array"] if depth == 0]
    assert [b["name"] for b in layers] == [layer.name for layer in run.layers if layer.cycles]
    # the layer spans tile the run: their cycles add up to the run's
    assert sum(b["args"]["cycles"] for b in layers) == run.cycles
    # inside each layer the children (overhead, stalls, compute, tail) tile it exactly, like the breakdown
    children = defaultdict(int)
    parent = None
    for b, e, depth in sorted(spans["array"], key=lambda s: (s[0]["ts"], s[2])):
        if depth == 0:
            parent = b["name"]
        else:
            children[parent] += b["args"]["cycles"]
    assert all(children[b["name"]] == b["args"]["cycles"] for b in layers)
    counters = [e for e in resnet50_trace["traceEvents"] if e["ph"] == "C"]
    assert counters and all(e["name"] == "DRAM GB/s" for e in counters)
    assert resnet50_trace["otherData"]["cycles"] == run.cycles


def test_every_load_and_store_appears_on_its_track(resnet50_trace):
    spans = check_trace(resnet50_trace)
    kinds = {track: {b["name"] for b, _, _ in items} for track, items in spans.items()}
    assert kinds["dma0 loads (input)"] == {"load input"}
    assert kinds["dma1 loads (weight)"] == {"load weight"}
    assert kinds["store path (dma0)"] == {"store"}


@pytest.mark.parametrize("config, workload, overrides", [
    ("gemmini", "alexnet", {}),                                   # one DMA engine: loads and stores share it
    ("nvdla_small", "mobilenet_v1", {"dram.channels": 2}),        # two channels: descriptors may overlap
    ("edge_example", "bert_base_layer", {"dma.engines": 3}),      # partial-sum loads on their own engine
])
def test_a_timeline_changes_nothing_and_its_trace_is_balanced(config, workload, overrides):
    hw = with_overrides(load_hardware(config), overrides) if overrides else load_hardware(config)
    wl = load_workload(workload)
    timeline = Timeline()
    traced = simulate(hw, wl, timeline)
    assert to_json(traced) == to_json(simulate(hw, wl))
    assert len(timeline.steps) == sum(len(ls.steps) for ls in timeline.schedule.layers)
    spans = check_trace(json.loads(json.dumps(trace_events(traced, timeline))))
    assert "array" in spans


def test_trace_needs_the_engine(capsys, tmp_path):
    assert main(["run", "--model", "analytical", "--trace", str(tmp_path / "t.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--trace: needs --model engine" in err
    assert not (tmp_path / "t.json").exists()
