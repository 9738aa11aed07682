"""Sweep specs: ranges, combinations, constraints, resolved points, and one-line errors."""

from __future__ import annotations

import hashlib

import pytest

import accelsim
from accelsim.config import Hardware
from accelsim.config.loader import hardware_to_yaml, workload_to_yaml
from accelsim.errors import ConfigError
from accelsim.sweep import Range, SweepSpec, WorkloadRef, load_spec
from sweep_helpers import tiny  # noqa: F401  (a fixture)

SPEC = """\
name: example
hardware: tpu_v1
axes:
  array.rows: [32, 64, 128, 256]
  array.cols: [32, 64, 128, 256]
  dram.bandwidth_gb_per_s: {start: 8, stop: 64, num: 4, scale: log}
  array.dataflow: [os, ws, is]
constraints:
  - array.rows == array.cols
workloads:
  - resnet50
  - {workload: mobilenet_v2, batch: 4}
model: analytical
"""


# ------------------------------------------------------------ ranges


@pytest.mark.parametrize("rng, values", [
    (Range(8, 64, num=4, scale="log"), (8, 16, 32, 64)),        # doubling: 8 * 2^k
    (Range(1.0, 100.0, num=3, scale="log"), (1.0, 10.0, 100.0)),
    (Range(16, 64, step=16), (16, 32, 48, 64)),
    (Range(0.5, 2, num=4), (0.5, 1.0, 1.5, 2.0)),
    (Range(0, 1, step=0.25), (0.0, 0.25, 0.5, 0.75, 1.0)),  # a float step: floats
    (Range(3, 3, num=1), (3,)),
])
def test_range_values(rng, values):
    assert rng.values() == values
    assert [type(v) for v in rng.values()] == [type(v) for v in values]


@pytest.mark.parametrize("kwargs, message", [
    ({"start": 8, "stop": 64}, "num: expected exactly one of num (how many values) or step"),
    ({"start": 8, "stop": 64, "num": 3, "step": 8}, "num: expected exactly one of num"),
    ({"start": 0, "stop": 64, "num": 3, "scale": "log"}, "start: expected positive ends for scale: log"),
    ({"start": 8, "stop": 64, "num": 0}, "num: expected a positive integer, got 0"),
    ({"start": 8, "stop": 4, "step": 1}, "stop: expected at least start (8) with step, got 4"),
    ({"start": 8, "stop": 64, "num": 3, "scale": "exp"}, "scale: expected linear or log, got 'exp'"),
])
def test_bad_ranges_name_the_field(kwargs, message):
    with pytest.raises(ConfigError, match="^<python>: " + message.replace("(", r"\(").replace(")", r"\)")):
        Range(**kwargs)


# ------------------------------------------------------------ points


def test_yaml_spec_resolves_to_validated_points(write):
    spec = load_spec(write("spec.yaml", SPEC))
    points = spec.points()
    # 4 square arrays x 4 bandwidths x 3 dataflows, each on 2 workloads
    assert len(points) == 4 * 4 * 3 * 2
    assert [p.index for p in points] == list(range(len(points)))
    first = points[0]
    assert first.axes == {"array.rows": 32, "array.cols": 32, "dram.bandwidth_gb_per_s": 8.0, "array.dataflow": "os"}
    assert (first.workload.name, first.workload.batch, points[1].workload.name, points[1].workload.batch) == \
        ("resnet50", 1, "mobilenet_v2", 4)
    for p in points:
        assert isinstance(p.hardware, Hardware) and p.model == "analytical" and p.base == "tpu_v1"
        assert p.hardware.array.rows == p.axes["array.rows"] == p.hardware.array.cols
        assert p.hardware.dram.bandwidth_gb_per_s == p.axes["dram.bandwidth_gb_per_s"]
        assert p.hardware.array.dataflow.value == p.axes["array.dataflow"]
        assert p.hardware.sram == accelsim.load_hardware("tpu_v1").sram  # untouched fields keep the base's
    assert sorted({p.axes["dram.bandwidth_gb_per_s"] for p in points}) == [8.0, 16.0, 32.0, 64.0]


def test_point_key_is_the_hash_of_what_determines_the_result(write):
    spec = load_spec(write("spec.yaml", SPEC))
    p = spec.points()[1]
    text = (f"accelsim {accelsim.__version__}\nmodel analytical\n--- hardware\n{hardware_to_yaml(p.hardware)}"
            f"--- workload\n{workload_to_yaml(p.workload)}")
    assert p.key == hashlib.sha256(text.encode()).hexdigest()
    keys = [q.key for q in spec.points()]
    assert len(set(keys)) == len(keys)
    assert keys == [q.key for q in load_spec(write("again.yaml", SPEC)).points()]


def test_python_spec_gives_the_same_points_as_yaml(write):
    from_yaml = load_spec(write("spec.yaml", SPEC)).points()
    built = SweepSpec(
        hardware=["tpu_v1"],
        axes={"array.rows": [32, 64, 128, 256], "array.cols": [32, 64, 128, 256],
              "dram.bandwidth_gb_per_s": Range(8, 64, num=4, scale="log"), "array.dataflow": ["os", "ws", "is"]},
        constraints=["array.rows == array.cols"],
        workloads=["resnet50", WorkloadRef("mobilenet_v2", batch=4)], model="analytical")
    assert [p.key for p in built.points()] == [p.key for p in from_yaml]


def test_zip_several_bases_and_objects():
    gemmini = accelsim.load_hardware("gemmini")
    wl = accelsim.load_workload("alexnet")
    spec = SweepSpec(hardware=["tpu_v1", gemmini], workloads=[wl, {"workload": "alexnet", "batch": [2, 8]}],
                     axes={"array.rows": [16, 32], "array.cols": [64, 128]}, combine="zip")
    points = spec.points()
    assert len(points) == 2 * 2 * 3
    assert [(p.base, p.axes["array.rows"], p.axes["array.cols"], p.workload.batch) for p in points[:6]] == [
        ("tpu_v1", 16, 64, 1), ("tpu_v1", 16, 64, 2), ("tpu_v1", 16, 64, 8),
        ("tpu_v1", 32, 128, 1), ("tpu_v1", 32, 128, 2), ("tpu_v1", 32, 128, 8)]
    assert points[6].base == "gemmini" and points[6].hardware.sram == gemmini.sram


def test_no_axes_runs_the_bases():
    points = SweepSpec(hardware=["tpu_v1", "gemmini"], workloads="alexnet").points()
    assert [(p.base, p.axes) for p in points] == [("tpu_v1", {}), ("gemmini", {})]


def test_relative_paths_are_found_next_to_the_spec(tmp_path, monkeypatch, tiny):
    (tmp_path / "sub").mkdir()
    spec_path = tmp_path / "sub" / "spec.yaml"
    spec_path.write_text("hardware: tpu_v1\nworkloads: [../tiny.yaml]\n")
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_spec(spec_path).points()[0].workload.name == "tiny"


# ------------------------------------------------------------ constraints


@pytest.mark.parametrize("constraint, kept", [
    ("array.rows == array.cols", [(16, 16), (64, 64)]),
    ("array.rows < array.cols", [(16, 64)]),
    ("16 < array.rows <= 64 and array.cols >= 16", [(64, 16), (64, 64)]),
    ("not (array.rows * 4 == array.cols)", [(16, 16), (64, 16), (64, 64)]),
    ("array.dataflow in ('ws', 'is') and sram.weight.size_kib >= 256", [(16, 16), (16, 64), (64, 16), (64, 64)]),
    ("array.dataflow == 'os' or array.rows + array.cols > 100", [(64, 64)]),
    ("array.rows // 16 % 2 == 1", [(16, 16), (16, 64)]),
])
def test_constraints_select_points(constraint, kept):
    # tpu_v1 is WS with a 256 KiB weight FIFO: fields that are not axes come from the base
    spec = SweepSpec(hardware="tpu_v1", workloads="alexnet", axes={"array.rows": [16, 64], "array.cols": [16, 64]},
                     constraints=[constraint])
    assert [(p.axes["array.rows"], p.axes["array.cols"]) for p in spec.points()] == kept


@pytest.mark.parametrize("constraint, what", [
    ("__import__('os').system('true')", "a function call is not allowed"),
    ("array.rows ** 64 > 1", "the operator Pow is not allowed"),
    ("[x for x in ()] == []", "listcomp is not allowed"),
    ("(lambda: 1)() == 1", "a function call is not allowed"),
    ("array.rows[0] == 1", "subscript is not allowed"),
    ("array.rows == 1 if True else 2", "ifexp is not allowed"),
    ("array.rows is None", "the operator Is is not allowed"),
    ("array.rows =", "not a valid expression"),
    ("array.rows + 1", "expected a comparison"),
])
def test_unsafe_or_malformed_constraints_are_refused(constraint, what):
    with pytest.raises(ConfigError) as err:
        SweepSpec(hardware="tpu_v1", workloads="alexnet", axes={"array.rows": [16]}, constraints=[constraint])
    assert str(err.value).startswith("<python>: constraints[0]: ") and what in str(err.value)
    assert "\n" not in str(err.value)


def test_string_arithmetic_is_refused_at_evaluation():
    spec = SweepSpec(hardware="tpu_v1", workloads="alexnet", axes={"array.rows": [16]},
                     constraints=["array.dataflow * 1000000000 == 'x'"])
    with pytest.raises(ConfigError, match=r"^<python>: constraints\[0\]: cannot evaluate .* arithmetic needs numbers"):
        spec.points()


# ------------------------------------------------------------ errors


@pytest.mark.parametrize("text, message", [
    (SPEC.replace("array.cols: [32", "array.colz: [32"),
     "axes.array.colz: no such hardware field, expected one of: rows, cols, dataflow"),
    (SPEC.replace("[32, 64, 128, 256]\n  array.cols", "[32, big]\n  array.cols"),
     "axes.array.rows: expected a positive integer, got 'big'"),
    (SPEC.replace("[os, ws, is]", "[os, xs]"), "axes.array.dataflow: expected one of os, ws, is, got 'xs'"),
    (SPEC.replace("num: 4, scale: log", "num: 0"),
     "axes.dram.bandwidth_gb_per_s.num: expected a positive integer, got 0"),
    (SPEC.replace("array.rows: [32, 64, 128, 256]", "array.rows: {start: 16, stop: 256, num: 4, scale: log}"),
     "axes.array.rows: expected a positive integer, got 40.3174735966"),
    (SPEC.replace("array.rows == array.cols", "array.rows > 1000"),
     "constraints: no points: the constraints exclude every design (192 considered)"),
    (SPEC.replace("array.rows == array.cols", "array.rowz == 1"), "constraints[0]: array.rowz: no such hardware field"),
    (SPEC.replace("[os, ws, is]", "os"), "axes.array.dataflow: expected a list of values (write ['os'] for one)"),
    (SPEC.replace("[os, ws, is]", "[]"), "axes.array.dataflow: expected a non-empty list of values, got a list"),
    (SPEC.replace("[os, ws, is]", "[os, ws, os]"), "axes.array.dataflow: repeated value 'os'"),
    (SPEC.replace("hardware: tpu_v1", "hardware: tpu_v9"), "hardware[0]: tpu_v9: no such file, and not a shipped"),
    (SPEC.replace("- resnet50", "- resnet51"), "workloads[0]: resnet51: no such file, and not a shipped"),
    (SPEC.replace("batch: 4", "batch: 0"), "workloads[1].batch: expected a positive integer or a list of them, got 0"),
    (SPEC.replace("model: analytical", "model: exact"), "model: expected one of engine, analytical, got 'exact'"),
    (SPEC.replace("combine", "x") + "combine: cross\n", "combine: expected product or zip, got 'cross'"),
    (SPEC + "combine: zip\n", "axes.array.dataflow: expected 4 values like array.rows (combine: zip), got 3"),
    (SPEC.replace("hardware:", "hwconfig:"), "hwconfig: unknown key, expected one of: name, hardware, axes"),
    (SPEC.replace("workloads:\n  - resnet50\n  - {workload: mobilenet_v2, batch: 4}\n", ""),
     "workloads: missing required key"),
    (SPEC.replace("  - array.rows == array.cols\n", "  - array.rows == array.cols\n  - array.rows + 'x' == 1\n"),
     "constraints[1]: cannot evaluate \"array.rows + 'x' == 1\" for tpu_v1 with array.rows=32, array.cols=32, "
     "dram.bandwidth_gb_per_s=8, array.dataflow='os': arithmetic needs numbers, got 'x'"),
    ("[1, 2]\n", "expected a mapping with hardware, axes and workloads, got a list"),
])
def test_spec_errors_name_the_file_and_path(write, text, message):
    path = write("spec.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_spec(path)
    line = str(err.value)
    assert line.startswith(f"{path}: {message}"), line
    assert "\n" not in line


def test_a_combination_that_no_file_could_describe_is_an_error():
    # each value is fine alone (1 <= 4 bytes), but bytes_per_psum < bytes_per_output together is not
    spec = SweepSpec(hardware="tpu_v1", workloads="alexnet",
                     axes={"array.bytes_per_output": [1, 4], "array.bytes_per_psum": [4, 2]})
    with pytest.raises(ConfigError, match=r"^<python>: axes: tpu_v1 with array.bytes_per_output=4, "
                                          r"array.bytes_per_psum=2: array.bytes_per_psum: expected at least "
                                          r"bytes_per_output \(4\), got 2 \(add a constraint"):
        spec.points()
    spec = SweepSpec(hardware="tpu_v1", workloads="alexnet",
                     axes={"array.bytes_per_output": [1, 4], "array.bytes_per_psum": [4, 2]},
                     constraints=["array.bytes_per_psum >= array.bytes_per_output"])
    assert len(spec.points()) == 3


def test_repeated_points_are_an_error():
    spec = SweepSpec(hardware=["tpu_v1", "tpu_v1"], workloads="alexnet")
    with pytest.raises(ConfigError, match=r"^<python>: axes: point 1 \(tpu_v1; alexnet, batch 1\) repeats point 0"):
        spec.points()


def test_an_axis_can_replace_a_whole_section():
    spec = SweepSpec(hardware="tpu_v1", workloads="alexnet", axes={"vector": [None, {"elements_per_cycle": 64}]})
    first, second = spec.points()
    assert first.hardware.vector is None and second.hardware.vector.elements_per_cycle == 64
    # the section as resolved: what it gave, and the defaults of what it left out
    assert (first.axes, second.axes) == ({"vector": None}, {"vector": {
        "elements_per_cycle": 64, "op_cycles_per_element": {"softmax": 5, "layernorm": 4, "gelu": 4, "add_layernorm": 5}}})
