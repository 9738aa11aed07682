"""Measured-data importers: the CSV format, ONNX Runtime profiles, matching to a workload, and
the one-line errors for bad files (file, row, column)."""

import json

import pytest

from accelsim.compare.measured import load_measured, match_layers, read_measured
from accelsim.config import Conv2d, Gemm, NonGemm, Workload
from accelsim.errors import ConfigError

WORKLOAD = Workload(name="tiny", batch=1, layers=(
    Conv2d(name="conv1", H=8, W=8, C=3, K=4, R=3, S=3),
    NonGemm(name="pool1", op="maxpool", ops=100),
    Conv2d(name="conv2", H=6, W=6, C=4, K=4, R=3, S=3),
    Gemm(name="fc", M=1, K=64, N=10),
))

GOOD = """\
# A prose comment: ignored. Prose starts with a capital letter.
# source: bench run 12
# clock_mhz: 500
# batch: 2
layer,latency_ms,dram_mb,utilization,note
CONV1, 1.5 ,0.25,50%,first
conv2,2,0.5,0.75,
fc,0.125,1,,
"""


def error(write, text, name="m.csv", workload=WORKLOAD):
    path = write(name, text)
    with pytest.raises(ConfigError) as info:
        load_measured(path, workload)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), name)


def test_csv_values_in_base_units_and_metadata(write):
    m = load_measured(write("m.csv", GOOD), WORKLOAD)
    assert m.meta.source == "bench run 12" and m.meta.clock_mhz == 500.0 and m.meta.batch == 2
    assert [layer.name for layer in m.layers] == ["conv1", "conv2", "fc"]  # CONV1 matched ignoring case
    assert m.metrics == ("latency_s", "dram_bytes", "utilization")
    assert m.values("latency_s") == pytest.approx({"conv1": 1.5e-3, "conv2": 2e-3, "fc": 0.125e-3})
    assert m.values("dram_bytes") == pytest.approx({"conv1": 250_000, "conv2": 500_000, "fc": 1_000_000})
    assert m.values("utilization") == pytest.approx({"conv1": 0.5, "conv2": 0.75})  # fc left empty
    assert m.layers[0].note == "first" and m.layers[0].where == "row 6"
    assert m.unmeasured == ("pool1",)  # non-GEMM layers may be left out


@pytest.mark.parametrize("column, cell, base", [
    ("latency_s", "2", 2.0), ("latency_us", "2", 2e-6), ("latency_ns", "2", 2e-9),
    ("dram_bytes", "2", 2.0), ("dram_kb", "2", 2e3), ("dram_gb", "2", 2e9), ("cycles", "2", 2.0),
])
def test_units(write, column, cell, base):
    text = f"# subset: true\nlayer,{column}\nconv1,{cell}\n"
    assert load_measured(write("m.csv", text), WORKLOAD).layers[0].values == {
        {"latency": "latency_s", "dram": "dram_bytes", "cycles": "cycles"}[column.split("_")[0]]: pytest.approx(base)}


def test_sidecar_metadata_and_agreement_with_the_header(write):
    write("m.meta.yaml", "batch: 2\nhardware: gemmini\nsubset: true\n")
    m = load_measured(write("m.csv", "# batch: 2\nlayer,cycles\nconv1,10\n"), WORKLOAD)
    assert (m.meta.batch, m.meta.hardware, m.meta.subset) == (2, "gemmini", True)
    write("m.meta.yaml", "batch: 3\n")
    assert error(write, "# batch: 2\nlayer,cycles\nconv1,10\n").endswith(
        "m.meta.yaml: batch: 3 differs from m.csv row 1 (batch: 2)")


def test_match_by_order_pairs_rows_with_the_gemm_layers(write):
    m = load_measured(write("m.csv", "# match: order\ncycles\n10\n20\n30\n"), WORKLOAD)
    assert [(layer.name, layer.values["cycles"]) for layer in m.layers] == [("conv1", 10), ("conv2", 20), ("fc", 30)]


@pytest.mark.parametrize("text, message", [
    ("latency_ms\n1\n", "m.csv: row 1 (header), column layer: missing; rows are matched to layers by name "
                        "(or declare match: order)"),
    ("layer,note\nconv1,x\n", "m.csv: row 1 (header): no measurement column, expected at least one of: cycles, "
                              "latency_s|ms|us|ns, dram_bytes|kb|mb|gb, utilization"),
    ("layer,latency_min\nconv1,1\n", "m.csv: row 1 (header), column latency_min: unknown unit 'min', expected one "
                                     "of: s, ms, us, ns"),
    ("layer,dram_words\nconv1,1\n", "m.csv: row 1 (header), column dram_words: unknown unit 'words', expected one "
                                    "of: bytes, kb, mb, gb"),
    ("layer,power_mw\nconv1,1\n", "m.csv: row 1 (header), column power_mw: unknown column, expected one of: layer, "
                                  "note, cycles, latency_s|ms|us|ns, dram_bytes|kb|mb|gb, utilization"),
    ("layer,latency_ms,latency_us\nconv1,1,1\n", "m.csv: row 1 (header), column latency_us: latency_s is already "
                                                 "given by column latency_ms; keep one column per metric"),
    ("layer,latency_ms\nconv1,20.9 ms\n", "m.csv: row 2, column latency_ms: expected a number (the unit is in the "
                                          "column name: ms), got '20.9 ms'"),
    ("# subset: true\nlayer,latency_ms\nconv1,-2\n", "m.csv: row 3, column latency_ms: expected a non-negative "
                                                     "number, got -2"),
    ("layer,dram_mb\nconv1,nan\n", "m.csv: row 2, column dram_mb: expected a finite number, got 'nan'"),
    ("layer,cycles\nconv1,0\n", "m.csv: row 2, column cycles: expected a positive number (a layer takes time), "
                                "got 0"),
    ("layer,utilization\nconv1,76\n", "m.csv: row 2, column utilization: expected a fraction in [0, 1] (or a "
                                      "percentage with %), got 76"),
    ("layer,cycles\nconv1,1,2\n", "m.csv: row 2: 3 cells, expected 2 (the header, row 1, has 2 columns)"),
    ("layer,cycles,note\nconv1,,x\n", "m.csv: row 2: no measured value in this row"),
    ("layer,cycles\n,5\n", "m.csv: row 2, column layer: empty layer name"),
    ("# clock_mz: 200\nlayer,cycles\n", "m.csv: row 1, metadata clock_mz: unknown metadata key (did you mean "
                                        "clock_mhz?), expected one of: source, clock_mhz, batch, hardware, workload, "
                                        "match, subset, aliases, ignore"),
    ("# batch: four\nlayer,cycles\n", "m.csv: row 1, metadata batch: expected a positive integer, got 'four'"),
    ("# ignore: conv1\nlayer,cycles\n", "m.csv: row 1, metadata ignore: give ignore in the sidecar m.meta.yaml"),
    ("layer,cycles\n", "m.csv: no data rows after the header"),
    ("# only comments\n", "m.csv: no header row (expected a CSV with a layer column and measurement columns)"),
])
def test_bad_files_are_one_line_naming_file_row_and_column(write, text, message):
    assert error(write, text) == message


@pytest.mark.parametrize("text, message", [
    ("layer,cycles\nconv1,1\nconv9,2\n", "m.csv: row 3, column layer: unknown layer 'conv9'; workload tiny has "
                                         "conv1, pool1, conv2, fc"),
    ("layer,cycles\nconv1,1\nTotal,2\n", "m.csv: row 3, column layer: unknown layer 'Total' (totals are computed, "
                                         "not read); workload tiny has conv1, pool1, conv2, fc"),
    ("layer,cycles\nconv1,1\nConv1,2\n", "m.csv: row 3, column layer: layer conv1 again (also row 2)"),
    ("layer,cycles\nconv1,1\n", "m.csv: layer: no row for conv2, fc of workload tiny (every conv/gemm layer needs "
                                "one; declare subset: true if the measurements cover only some layers)"),
    ("# match: order\ncycles\n1\n2\n", "m.csv: 2 rows, but workload tiny has 3 conv/gemm layers (match: order "
                                      "pairs them one to one, in order)"),
])
def test_rows_that_do_not_match_the_workload(write, text, message):
    assert error(write, text) == message


def test_matching_is_a_separate_step_after_reading(write):
    mfile = read_measured(write("m.csv", "# subset: true\n# workload: tiny\nlayer,cycles\nfc,5\n"))
    assert mfile.meta.workload == "tiny" and mfile.metrics == ("cycles",)
    assert [layer.name for layer in match_layers(mfile, WORKLOAD).layers] == ["fc"]


# ---------------------------------------------------------------- ONNX Runtime profiles


def ort_event(name, dur, ts, cat="Node", **args):
    """An event shaped like ONNX Runtime's profiler output (Chrome trace format, 'X' events)."""
    event = {"cat": cat, "pid": 4242, "tid": 4242, "dur": dur, "ts": ts, "ph": "X", "name": name, "args": args}
    return event


def ort_profile(runs):
    """Session events, then per run: model_run and per node fence_before / kernel_time / fence_after."""
    events = [ort_event("model_loading_uri", 900, 0, cat="Session"),
              ort_event("session_initialization", 1500, 1000, cat="Session")]
    ts = 10_000
    for nodes in runs:
        start = ts
        for node, op, dur in nodes:
            events.append(ort_event(f"{node}_fence_before", 0, ts, op_name=op))
            events.append(ort_event(f"{node}_kernel_time", dur, ts + 1, op_name=op, provider="CPUExecutionProvider",
                                    activation_size="1024", parameter_size="432", output_size="2048"))
            events.append(ort_event(f"{node}_fence_after", 0, ts + 1 + dur, op_name=op))
            ts += dur + 5
        events.append(ort_event("model_run", ts - start, start, cat="Session"))
        ts += 100
    return events


def test_onnxruntime_profile_median_over_runs(write):
    warm_up = [("conv1", "Conv", 900), ("pool1", "MaxPool", 50), ("conv2", "Conv", 500), ("fc", "Gemm", 90)]
    steady = [("conv1", "Conv", 300), ("pool1", "MaxPool", 20), ("conv2", "Conv", 200), ("fc", "Gemm", 30)]
    steady2 = [("conv1", "Conv", 310), ("pool1", "MaxPool", 22), ("conv2", "Conv", 190), ("fc", "Gemm", 32)]
    path = write("p.json", json.dumps(ort_profile([warm_up, steady, steady2])))
    m = load_measured(path, WORKLOAD)
    assert m.file.kind == "onnxruntime" and m.metrics == ("latency_s",)
    # the median of each node's per-run kernel time (the warm-up run does not count), in seconds
    assert m.values("latency_s") == pytest.approx({"conv1": 310e-6, "pool1": 22e-6, "conv2": 200e-6, "fc": 32e-6})


def test_onnxruntime_aliases_sum_nodes_into_a_layer_and_ignore_drops_nodes(write):
    nodes = [("/features/conv1/Conv", "Conv", 300), ("/features/relu1/Relu", "Relu", 7),
             ("conv2", "Conv", 200), ("fc", "Gemm", 30), ("ReorderOutput_3", "ReorderOutput", 4)]
    path = write("p.json", json.dumps({"traceEvents": ort_profile([nodes])}))
    write("p.meta.yaml", "source: laptop CPU\nbatch: 1\naliases:\n  /features/conv1/Conv: conv1\n"
                         "  /features/relu1/Relu: conv1\nignore: [ReorderOutput_3]\n")
    m = load_measured(path, WORKLOAD)
    assert m.values("latency_s") == pytest.approx({"conv1": 307e-6, "conv2": 200e-6, "fc": 30e-6})
    assert m.layers[0].labels == ("/features/conv1/Conv", "/features/relu1/Relu")
    assert m.meta.source == "laptop CPU"


@pytest.mark.parametrize("events, message", [
    ([ort_event("conv1_kernel_time", -3, 5, op_name="Conv")],
     "p.json: event 0 (conv1_kernel_time), field dur: expected a non-negative number of microseconds, got -3"),
    ([ort_event("conv1_kernel_time", "12", 5, op_name="Conv")],
     "p.json: event 0 (conv1_kernel_time), field dur: expected a non-negative number of microseconds, got '12'"),
    ([ort_event("model_run", 10, 0, cat="Session")],
     "p.json: no node events (cat 'Node', name '<node>_kernel_time'); write the profile with "
     "SessionOptions.enable_profiling"),
    ([ort_event("conv1_kernel_time", 5, 5), ort_event("Relu_7_kernel_time", 5, 9)],
     "p.json: node 'Relu_7' (events 1): unknown layer 'Relu_7'; map it with aliases or drop it with ignore in "
     "p.meta.yaml; workload tiny has conv1, pool1, conv2, fc"),
    ({"events": []}, "p.json: expected a list of trace events (an ONNX Runtime profile)"),
])
def test_bad_profiles(write, events, message):
    assert error(write, json.dumps(events), name="p.json") == message


def test_profile_that_is_not_json(write):
    assert error(write, "[{\"cat\": ", name="p.json").startswith("p.json: not valid JSON: ")
