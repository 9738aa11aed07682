import json
import subprocess
import sys

import pytest

from accelsim.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "accelsim", *args], capture_output=True, text=True)


def test_run_with_no_arguments_prints_layers_and_summary():
    proc = run_cli("run", "--model", "analytical")
    assert proc.returncode == 0, proc.stderr
    assert "res5c_1x1c" in proc.stdout and "fc" in proc.stdout
    assert "workload   resnet50, batch 1, 72 layers" in proc.stdout
    assert "hardware   tpu_v1" in proc.stdout


def test_the_command_writes_what_main_writes_and_its_exit_status(tmp_path, capsys):
    """``python -m accelsim`` (the console script's entry: main, then exit with every object
    frozen, skipping the shutdown's last collection) loses nothing: its file and its stdout are
    the bytes main gives in process, and its status is main's."""
    args = ["run", "--model", "analytical", "--hw", "gemmini", "--workload", "alexnet", "--format", "json"]
    assert main(args) == 0
    expected = capsys.readouterr().out
    proc = run_cli(*args)
    assert (proc.returncode, proc.stdout) == (0, expected)
    proc = run_cli(*args, "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 0 and (tmp_path / "r.json").read_text() == expected
    assert run_cli("run", "--hw", str(tmp_path / "missing.yaml")).returncode == 2


def test_json_schema(capsys):
    assert main(["run", "--model", "analytical", "--hw", "gemmini", "--workload", "alexnet", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"hardware", "workload", "model", "layers", "total"}
    layer_keys = {"name", "macs", "cycles", "compute_cycles", "utilization", "mapping_efficiency",
                  "dram_read_bytes", "dram_write_bytes"}
    for layer in doc["layers"]:
        assert layer_keys <= set(layer)
        assert 0 <= layer["utilization"] <= 1
    assert layer_keys - {"name"} | {"latency_s", "inferences_per_s", "effective_tops", "peak_tops"} <= set(doc["total"])
    assert doc["total"]["macs"] == sum(layer["macs"] for layer in doc["layers"])
    assert doc["total"]["cycles"] == sum(layer["cycles"] for layer in doc["layers"])


def test_csv_and_output_file(tmp_path, capsys):
    out = tmp_path / "sub" / "r.csv"
    assert main(["run", "--model", "analytical", "--hw", "gemmini", "--workload", "resnet18",
                 "--format", "csv", "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("name,kind,unit,macs,cycles")
    assert lines[-1].startswith("TOTAL,")
    assert len(lines) == 1 + 31 + 1


def test_overrides_on_the_command_line(capsys):
    assert main(["run", "--model", "analytical", "--hw", "gemmini", "--dataflow", "os", "--batch", "4",
                 "--set", "array.rows=32", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["hardware"]["config"]["array"]["dataflow"] == "os"
    assert doc["hardware"]["config"]["array"]["rows"] == 32
    assert doc["workload"]["batch"] == 4


def test_bad_hwconfig_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text((pytest.importorskip("accelsim.config.catalog").shipped("hwconfigs")["scalesim_32x32"])
                   .read_text().replace("size_kib: 64,", "size_kib: -4,", 1))
    proc = run_cli("run", "--hw", str(bad))
    assert proc.returncode == 2
    assert proc.stderr == f"{bad}: sram.input.size_kib: expected a finite positive number, got -4\n"
    assert proc.stdout == ""


def test_bad_override_and_unknown_names_exit_2(capsys):
    assert main(["run", "--hw", "nope"]) == 2
    assert "nope: no such file, and not a shipped hardware config" in capsys.readouterr().err
    assert main(["run", "--set", "array.rows=-1"]) == 2
    assert capsys.readouterr().err == "--set: array.rows: expected a positive integer, got -1\n"


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("tpu_v1", "gemmini", "nvdla_large", "nvdla_small", "eyeriss_like", "scalesim_32x32",
                 "scalesim_128x128", "edge_example", "resnet50", "resnet18", "mobilenet_v1", "mobilenet_v2",
                 "vgg16", "alexnet", "bert_base_layer", "googlenet"):
        assert name in out


def test_same_inputs_same_json_bytes():
    a = run_cli("run", "--model", "analytical", "--format", "json")
    b = run_cli("run", "--model", "analytical", "--format", "json")
    assert a.returncode == 0 and a.stdout == b.stdout


def test_a_bandwidth_the_requests_in_flight_cannot_reach_is_a_warning_with_the_achievable_rate():
    # tpu_v1: 128 requests of 64 B over 100 ns at 700 MHz (70 cycles) cap the DRAM at
    # 128 x 64 / 70 B/cycle x 0.7 GHz = 81.9 GB/s, below the 136 asked for
    proc = run_cli("run", "--hw", "tpu_v1", "--set", "dram.bandwidth_gb_per_s=136", "--model", "analytical")
    assert proc.returncode == 0
    assert proc.stderr == ("warning: --set dram.bandwidth_gb_per_s=136 has no effect beyond 81.9 GB/s: DRAM reaches "
                           "81.9 of its 136 GB/s: 128 requests of 64 B in flight over 100 ns cap it (raise "
                           "dram.max_outstanding or dram.burst_bytes, or lower dram.latency_ns)\n")
    assert "DRAM rate  DRAM reaches 81.9 of its 136 GB/s" in proc.stdout
    quiet = run_cli("run", "--hw", "tpu_v1", "--set", "dram.bandwidth_gb_per_s=68", "--model", "analytical")
    assert quiet.stderr == "" and "DRAM rate" not in quiet.stdout
