"""Hostile input, each case from the fuzzing of issue 16: one line on stderr, exit status 2, no traceback.

Every case goes through the command line as a user would type it (``accelsim.cli.main``); the
values are the ones that used to end in a traceback, a hang or gigabytes of memory.
"""

from __future__ import annotations

import resource
import time

import pytest

from accelsim.cli import main
from accelsim.config import load_hardware
from accelsim.errors import ConfigError

HW = """\
name: gemmini
clock_mhz: 1000
array: {rows: 16, cols: 16, dataflow: ws}
sram:
  input: {size_kib: 128}
  weight: {size_kib: 128}
  output: {size_kib: 64}
dram: {bandwidth_gb_per_s: 16, latency_ns: 100, burst_bytes: 64, max_outstanding: 16}
dma: {engines: 2, setup_cycles: 10}
control: {layer_overhead_cycles: 0}
"""
TINY = """\
name: tiny
batch: 1
layers:
  - {name: conv1, type: conv2d, H: 8, W: 8, C: 3, K: 8, R: 3, S: 3, padding: 1}
  - {name: fc, type: fc, in_features: 512, out_features: 10}
"""


def one_line(capsys, args: list[str], contains: str = "") -> str:
    """Run the CLI; assert exit 2 and exactly one line on stderr (containing ``contains``)."""
    began = time.perf_counter()
    try:
        status = main(args)
    except SystemExit as exit_:  # argparse
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert contains in err, err
    assert time.perf_counter() - began < 10
    return err.strip()


def run_hw(tmp_path, text: str) -> list[str]:
    (tmp_path / "hw.yaml").write_text(text)
    (tmp_path / "wl.yaml").write_text(TINY)
    return ["run", "--model", "analytical", "--hw", str(tmp_path / "hw.yaml"), "--workload", str(tmp_path / "wl.yaml")]


def with_field(section: str, key: str, value: str) -> str:
    """gemmini.yaml with one field of a flow-style section set to ``value``."""
    lines = HW.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{section}:"):
            head, _, body = line.partition("{")
            fields = [f.strip() for f in body.rstrip("}").split(",")]
            fields = [f for f in fields if not f.startswith(f"{key}:")] + [f"{key}: {value}"]
            lines[i] = head + "{" + ", ".join(fields) + "}"
            return "\n".join(lines) + "\n"
    raise AssertionError(section)


# ---------------------------------------------------------------- bounds on every number

@pytest.mark.parametrize("section, key, value, message", [
    ("dma", "engines", str(2**63), "dma.engines: expected at most 1,024 (the documented bound), got 9223372036854775808"),
    ("array", "rows", "100000", "array.rows: expected at most 16,384"),
    ("control", "layer_overhead_cycles", str(10**12), "control.layer_overhead_cycles: expected at most 1,000,000,000"),
    ("control", "layer_overhead_cycles", "1e12", "expected a non-negative integer, got 1000000000000.0"),
    ("dram", "latency_ns", ".inf", "dram.latency_ns: expected a finite non-negative number, got inf"),
    ("dram", "pj_per_byte", ".inf", "dram.pj_per_byte: expected a finite non-negative number, got inf"),
    ("dram", "bandwidth_gb_per_s", "1e9", "dram.bandwidth_gb_per_s: expected at most 1,000,000"),
    ("dram", "latency_ns", "1:40", "dram.latency_ns: expected a finite non-negative number, got '1:40'"),
    ("array", "pipelined_folds", "yes", "array.pipelined_folds: expected true or false, got 'yes'"),
    ("array", "rows", "1_000", "array.rows: expected a positive integer, got '1_000'"),
    ("array", "rows", "9" * 5000, "not valid YAML: line"),
])
def test_numbers_beyond_their_bounds(tmp_path, capsys, section, key, value, message):
    one_line(capsys, run_hw(tmp_path, with_field(section, key, value)), message)


def test_top_level_bounds(tmp_path, capsys):
    one_line(capsys, run_hw(tmp_path, HW.replace("clock_mhz: 1000", f"clock_mhz: {2**63}")),
             "clock_mhz: expected at most 100,000")
    one_line(capsys, run_hw(tmp_path, HW + "static_mw: .inf\n"), "static_mw: expected a finite non-negative number")


def test_yaml_1_2_numbers_are_read_as_written(tmp_path):
    """YAML 1.1 reads 010 as 8 (octal); YAML 1.2, and accelsim, as 10. 0o10 is octal 8 in YAML 1.2."""
    (tmp_path / "hw.yaml").write_text(with_field("array", "rows", "010"))
    assert load_hardware(tmp_path / "hw.yaml").array.rows == 10
    (tmp_path / "hw.yaml").write_text(with_field("array", "rows", "0o10"))
    assert load_hardware(tmp_path / "hw.yaml").array.rows == 8


@pytest.mark.parametrize("edit, message", [
    (("batch: 1", f"batch: {2**63}"), "batch: expected at most 65,536"),
    (("C: 3,", "C: 1e100,"), "layers[0].C: expected a positive integer, got 1e+100"),
    (("C: 3,", "C: 2000000,"), "layers[0].C: expected at most 1,048,576"),
    (("type: conv2d", "type: [conv2d]"), "layers[0].type: expected one of conv2d"),
    (("type: conv2d", "type: {a: 1}"), "layers[0].type: expected one of conv2d"),
    (("name: conv1", "? [a, b]"), "a list or mapping used as a key"),
])
def test_workload_bounds_and_types(tmp_path, capsys, edit, message):
    (tmp_path / "wl.yaml").write_text(TINY.replace(*edit))
    one_line(capsys, ["run", "--model", "analytical", "--workload", str(tmp_path / "wl.yaml")], message)


def test_a_run_too_large_as_a_whole_is_refused_before_it_allocates(tmp_path, capsys):
    # every field within its bound, but a 1 x 1 array would fold AlexNet's fc6 38 million times (7 GB)
    text = with_field("array", "rows", "1").replace("cols: 16", "cols: 1")
    (tmp_path / "hw.yaml").write_text(text)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    one_line(capsys, ["run", "--model", "analytical", "--hw", str(tmp_path / "hw.yaml"), "--workload", "alexnet"],
             "layer fc6: 37,748,736 folds on a 1x1 array, expected at most 2,097,152")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    # 1-byte DMA chunks: 60 million engine events
    (tmp_path / "hw.yaml").write_text(with_field("dma", "chunk_bytes", "1"))
    one_line(capsys, ["run", "--hw", str(tmp_path / "hw.yaml"), "--workload", "alexnet"], "DMA chunks")


# ---------------------------------------------------------------- YAML structure

def test_nesting_and_alias_bombs(tmp_path, capsys):
    one_line(capsys, run_hw(tmp_path, "name: " + "[" * 3000 + "]" * 3000 + "\n"), "nested more than 64 levels deep")
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))
    spec = tmp_path / "spec.yaml"
    spec.write_text("hardware: gemmini\nworkloads: [alexnet]\n" + laughs.replace("a: &a", "x0: &a")
                    + "constraints: *j\n")
    one_line(capsys, ["sweep", str(spec), "-o", str(tmp_path / "s.h5")], "values once aliases are expanded")
    assert not (tmp_path / "s.h5").exists()


def test_the_shipped_files_loader_reads_every_shipped_file_as_the_strict_one_and_has_its_bounds():
    """Shipped files are read on libyaml's events (faster start-up), under the same checks."""
    from accelsim.config import catalog
    from accelsim.config.loader import parse_yaml

    files = [p for kind in ("hwconfigs", "workloads") for p in catalog.shipped(kind).values() if p.suffix == ".yaml"]
    assert len(files) > 10
    for path in files:
        assert parse_yaml(path.read_text(), str(path), shipped=True) == parse_yaml(path.read_text(), str(path))
    bombs = {"[" * 100 + "]" * 100: "nested more than 64 levels deep",
             "a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n": "more than 1,000 aliases",
             "a: 1\na: 2\n": "repeated key 'a'", "a: 010\nb: yes\n": None}
    for text, message in bombs.items():
        if message is None:
            assert parse_yaml(text, "x", shipped=True) == {"a": 10, "b": "yes"}
            continue
        with pytest.raises(ConfigError, match=message):
            parse_yaml(text, "x", shipped=True)


def test_both_loaders_bound_nesting_and_aliases_at_the_same_counts():
    """The shipped files' loader measures nesting and aliases after libyaml composes; the strict
    one while composing. Both count a top-level value at depth 1 and every use of an anchor."""
    from accelsim.config.loader import MAX_YAML_ALIASES, MAX_YAML_DEPTH, parse_yaml

    cases = {"[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH: True,           # 64 nested lists
             "[" * (MAX_YAML_DEPTH - 1) + "1" + "]" * (MAX_YAML_DEPTH - 1): True,  # 63, a scalar at 64
             "[" * MAX_YAML_DEPTH + "1" + "]" * MAX_YAML_DEPTH: False,    # a scalar at 65
             "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1): False,
             "a: &a [1]\nb: [" + ", ".join(["*a"] * MAX_YAML_ALIASES) + "]\n": True,
             "a: &a [1]\nb: [" + ", ".join(["*a"] * (MAX_YAML_ALIASES + 1)) + "]\n": False}
    for text, fine in cases.items():
        for shipped in (False, True):
            if fine:
                parse_yaml(text, "x", shipped=shipped)
            else:
                with pytest.raises(ConfigError, match="levels deep|aliases"):
                    parse_yaml(text, "x", shipped=shipped)


@pytest.mark.parametrize("encoding, message", [
    ("latin-1", "not UTF-8 text (byte 0xe9 on line 1), expected UTF-8"),
    ("utf-16", "UTF-16 text, expected UTF-8"),
])
def test_text_files_that_are_not_utf8(tmp_path, capsys, encoding, message):
    hw = HW.replace("name: gemmini", "name: gemmini_é")
    for name, args in [("hw.yaml", lambda p: ["run", "--hw", p]), ("wl.yaml", lambda p: ["run", "--workload", p]),
                       ("t.csv", lambda p: ["run", "--workload", p]), ("s.cfg", lambda p: ["run", "--hw", p]),
                       ("m.csv", lambda p: ["compare", "--measured", p, "--hw", "gemmini", "--workload", "alexnet"]),
                       ("p.json", lambda p: ["compare", "--measured", p, "--hw", "gemmini", "--workload", "alexnet"]),
                       ("spec.yaml", lambda p: ["sweep", p, "-o", str(tmp_path / "x.h5")])]:
        path = tmp_path / name
        path.write_bytes(hw.encode(encoding))
        assert one_line(capsys, args(str(path)), message).startswith(str(path))


def test_utf8_with_a_byte_order_mark_loads(tmp_path):
    (tmp_path / "hw.yaml").write_bytes(b"\xef\xbb\xbf" + HW.encode())
    assert load_hardware(tmp_path / "hw.yaml").name == "gemmini"


# ---------------------------------------------------------------- other formats

def test_scalesim_cfg_percent_and_bounds(tmp_path, capsys):
    base = ("[general]\nrun_name = 50%_util\n[architecture_presets]\nArrayHeight: 32\nArrayWidth: 32\n"
            "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow: os\n")
    (tmp_path / "s.cfg").write_text(base)
    assert load_hardware(tmp_path / "s.cfg").name == "50%_util"  # configparser would interpolate %
    (tmp_path / "s.cfg").write_text(base.replace("ArrayHeight: 32", "ArrayHeight: 99999999999"))
    one_line(capsys, ["run", "--hw", str(tmp_path / "s.cfg")], "architecture_presets.ArrayHeight: expected at most")
    (tmp_path / "t.csv").write_text("Layer, M, N, K,\nfc, 99999999999, 10, 10,\n")
    one_line(capsys, ["run", "--workload", str(tmp_path / "t.csv")], "row 2.M: expected at most 16,777,216")


def test_measured_data_and_profiles(tmp_path, capsys):
    measured = ["compare", "--hw", "gemmini", "--workload", "alexnet", "--measured"]
    (tmp_path / "m.csv").write_text("layer,cycles\nconv1," + "9" * 200_000 + "\n")
    one_line(capsys, measured + [str(tmp_path / "m.csv")], "row 2: 200,006 characters, expected at most 10,000")
    (tmp_path / "m.csv").write_text('layer,cycles\n"conv1,12\n')
    one_line(capsys, measured + [str(tmp_path / "m.csv")])
    (tmp_path / "p.json").write_text("[" * 100_000 + "]" * 100_000)
    one_line(capsys, measured + [str(tmp_path / "p.json")], "nested 100,000 levels deep, expected at most 64")
    (tmp_path / "p.json").write_text('[{"cat": "Node", "name": "conv1_kernel_time", "dur": ' + "7" * 5000 + "}]")
    one_line(capsys, measured + [str(tmp_path / "p.json")], "an integer of 5,000 digits (at most 40)")


# ---------------------------------------------------------------- sweeps and constraints

@pytest.mark.parametrize("body, message", [
    ("axes: {array.rows: {start: 1, stop: 64, num: %d}}" % 2**63, "axes.array.rows.num: expected at most 10,000 values"),
    ("axes: {array.rows: {start: 1, stop: 10000, num: 10000}, array.cols: {start: 1, stop: 10000, num: 10000},"
     " dram.latency_ns: {start: 1, stop: 10000, num: 10000}}", "axes: 1,000,000,000,000 designs to consider"),
    ("axes: 0", "axes: expected a mapping of dotted hardware paths to values, got 0"),
    ("constraints: false", "constraints: expected a list of expressions, got false"),
    ("name: 0", "name: expected a string, got 0"),
    ("constraints: ['%s array.rows > 1']" % ("not " * 3000), "constraints[0]: expected at most 1,000 characters"),
    ("constraints: ['%s']" % " and ".join(["array.rows > 1"] * 2000), "constraints[0]: expected at most 1,000"),
    ("constraints: ['%s array.rows > 1']" % ("not " * 200), "constraints[0]: nested more than 32 operators deep"),
    ("constraints: ['%s / 3 > array.rows']" % ("9" * 400), "constraints[0]: cannot evaluate"),
])
def test_sweep_specs(tmp_path, capsys, body, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"hardware: gemmini\nworkloads: [alexnet]\nmodel: analytical\n{body}\n")
    one_line(capsys, ["sweep", str(spec), "-o", str(tmp_path / "s.h5")], message)
    assert not (tmp_path / "s.h5").exists()


def test_resume_leaves_a_file_that_is_not_hdf5_as_it_is(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("hardware: gemmini\nworkloads: [alexnet]\nmodel: analytical\n")
    for content in (b"", b"not hdf5"):
        (tmp_path / "s.h5").write_bytes(content)
        one_line(capsys, ["sweep", str(spec), "-o", str(tmp_path / "s.h5"), "--resume", "-j", "1"],
                 "not a readable HDF5 file")
        assert (tmp_path / "s.h5").read_bytes() == content


# ---------------------------------------------------------------- outputs and arguments

def test_outputs_that_cannot_be_written(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    run = ["run", "--model", "analytical", "--workload", "alexnet", "--hw", "gemmini", "-o"]
    one_line(capsys, run + [str(tmp_path / "dir")], "is a directory, expected a file name")
    one_line(capsys, run + [str(tmp_path / "file" / "out.txt")], "is a file, expected a folder there")
    one_line(capsys, ["bench", "micro", "--hw", "gemmini", "--model", "analytical", "-o", str(tmp_path / "file")],
             "is a file, expected a folder there")


@pytest.mark.parametrize("args, message", [
    (["run", "--batch", "x"], "accelsim run: argument --batch: expected a positive integer, got 'x'"),
    (["run", "--batch", str(2**63)], "argument --batch: expected at most 65,536"),
    (["run", "--bogus"], "accelsim: unrecognized arguments: --bogus"),
    (["sweep"], "accelsim sweep: the following arguments are required: SPEC, -o/--output"),
    (["run", "--set", "array.rows=" + "[" * 500], "--set: array.rows: expected a positive integer"),
])
def test_bad_arguments_are_one_line(capsys, args, message):
    one_line(capsys, args, message)


def test_validate_refuses_an_array_the_register_model_cannot_hold(tmp_path, capsys):
    (tmp_path / "hw.yaml").write_text(HW.replace("rows: 16, cols: 16", "rows: 16384, cols: 16384"))
    one_line(capsys, ["validate", "--hw", str(tmp_path / "hw.yaml"), "--workload", "alexnet"],
             "array: 16384 x 16384 PEs, the register model runs at most 1,048,576 PEs")


def test_control_characters_in_yaml_are_one_line(tmp_path, capsys):
    """Found by scripts/fuzz.py: PyYAML's reader refuses them before parsing starts."""
    one_line(capsys, run_hw(tmp_path, HW.replace("name: gemmini", "name: gem\x02mini")),
             "not valid YAML: unacceptable character #x0002")
