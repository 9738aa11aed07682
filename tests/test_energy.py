"""Energy per action: the published defaults, their scale rules, the hwconfig fields, and the
energy of a run worked by hand."""

import json
import math

import pytest

from accelsim import load_hardware
from accelsim.cli import main
from accelsim.config.hardware import ArrayConfig, BufferConfig, Dataflow, DramConfig, Hardware, SramConfig
from accelsim.config.loader import hardware_to_yaml, with_overrides
from accelsim.config.workload import Gemm, Workload
from accelsim.energy import (
    ADD_32BIT_PJ, DRAM_64BIT_ACCESS_PJ, MULT_8BIT_PJ, SRAM_64BIT_ACCESS_PJ, action_energies, default_dram_pj_per_byte,
    default_mac_pj, default_sram_pj_per_byte,
)
from accelsim.engine import simulate
from accelsim.errors import ConfigError
from accelsim.reports.records import run_record

# M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V,
# typed from the paper's table (not from the code under test).
HOROWITZ = {"add8": 0.03, "add32": 0.1, "mult8": 0.2, "mult32": 3.1,
            "sram8k": 10.0, "sram32k": 20.0, "sram1m": 100.0, "dram_low": 1300.0, "dram_high": 2600.0}


def test_the_defaults_are_horowitz_45nm():
    assert MULT_8BIT_PJ == HOROWITZ["mult8"]
    assert ADD_32BIT_PJ == HOROWITZ["add32"]
    assert SRAM_64BIT_ACCESS_PJ == ((8, HOROWITZ["sram8k"]), (32, HOROWITZ["sram32k"]), (1024, HOROWITZ["sram1m"]))
    assert DRAM_64BIT_ACCESS_PJ == HOROWITZ["dram_low"]
    assert default_dram_pj_per_byte() == pytest.approx(HOROWITZ["dram_low"] / 8)  # 162.5 pJ per byte


def _array(i=1, w=1, p=4):
    return ArrayConfig(rows=4, cols=4, dataflow=Dataflow.WS, bytes_per_input=i, bytes_per_weight=w,
                       bytes_per_psum=p, bytes_per_output=1)


def test_mac_default_and_its_width_rules_against_the_table():
    assert default_mac_pj(_array()) == pytest.approx(HOROWITZ["mult8"] + HOROWITZ["add32"])  # int8 MAC into int32
    assert default_mac_pj(_array(2, 2, 2)) == pytest.approx(0.8 + 0.05)                    # 16-bit, 16-bit sums
    # the rules predict the table's other entries within a few percent / tens of percent
    mult32 = default_mac_pj(_array(4, 4, 4)) - HOROWITZ["add32"]
    assert mult32 == pytest.approx(HOROWITZ["mult32"], rel=0.05)
    add8 = default_mac_pj(_array(1, 1, 1)) - HOROWITZ["mult8"]
    assert add8 == pytest.approx(HOROWITZ["add8"], rel=0.2)


def test_sram_default_hits_the_table_interpolates_and_clamps():
    assert default_sram_pj_per_byte(8) == pytest.approx(HOROWITZ["sram8k"] / 8)
    assert default_sram_pj_per_byte(32) == pytest.approx(HOROWITZ["sram32k"] / 8)
    assert default_sram_pj_per_byte(1024) == pytest.approx(HOROWITZ["sram1m"] / 8)
    assert default_sram_pj_per_byte(16) == pytest.approx(math.sqrt(10 * 20) / 8)  # geometric midpoint
    assert default_sram_pj_per_byte(1) == default_sram_pj_per_byte(8)
    assert default_sram_pj_per_byte(24576) == default_sram_pj_per_byte(1024)
    sizes = [1, 8, 12, 32, 100, 256, 1024, 4096]
    values = [default_sram_pj_per_byte(s) for s in sizes]
    assert values == sorted(values)


def test_hwconfig_values_replace_the_defaults_and_round_trip(write):
    hw = with_overrides(load_hardware("scalesim_32x32"), {
        "array.mac_pj": 0.5, "sram.input.read_pj_per_byte": 1, "sram.input.write_pj_per_byte": 2,
        "dram.pj_per_byte": 20, "static_mw": 150, "area_mm2": 1.5, "cost_usd": 20})
    e = action_energies(hw)
    assert (e.mac_pj, e.buffer("input").read_pj_per_byte, e.buffer("input").write_pj_per_byte, e.dram_pj_per_byte, e.static_mw) == \
        (0.5, 1.0, 2.0, 20.0, 150.0)
    assert e.buffer("weight").read_pj_per_byte == default_sram_pj_per_byte(hw.sram.weight.size_kib)
    again = load_hardware(write("again.yaml", hardware_to_yaml(hw)))
    assert again == hw


@pytest.mark.parametrize("path, value, phrase", [
    ("array.mac_pj", -1, "array.mac_pj: expected a finite non-negative number, got -1"),
    ("sram.output.write_pj_per_byte", "x", "sram.output.write_pj_per_byte: expected a finite non-negative number, got 'x'"),
    ("static_mw", -5, "static_mw: expected a finite non-negative number, got -5"),
    ("area_mm2", 0, "area_mm2: expected a finite positive number, got 0"),
])
def test_bad_energy_fields_are_one_line_errors(path, value, phrase):
    with pytest.raises(ConfigError) as err:
        with_overrides(load_hardware("gemmini"), {path: value})
    assert phrase in str(err.value) and "\n" not in str(err.value)


def test_bad_energy_override_on_the_command_line_exits_2(capsys):
    assert main(["run", "--model", "analytical", "--set", "dram.pj_per_byte=-3"]) == 2
    assert capsys.readouterr().err == "--set: dram.pj_per_byte: expected a finite non-negative number, got -3\n"


def test_energy_of_a_tiny_gemm_worked_by_hand():
    # An 8x8 GEMM on a 4x4 array with an ideal memory: every tensor moves once.
    # 512 MACs at 1 pJ; DRAM: 64 B in + 64 B weights + 64 B out = 192 B at 10 pJ; static 1 W for the latency.
    buf = BufferConfig(size_kib=4, read_pj_per_byte=0.0, write_pj_per_byte=0.0)
    hw = Hardware(name="tiny", clock_mhz=1000, array=ArrayConfig(rows=4, cols=4, dataflow=Dataflow.WS, mac_pj=1.0),
                  sram=SramConfig(input=buf, weight=buf, output=buf),
                  dram=DramConfig(bandwidth_gb_per_s=math.inf, latency_ns=0, pj_per_byte=10.0), static_mw=1000.0)
    run = simulate(hw, Workload(name="g", layers=(Gemm(name="g", M=8, N=8, K=8),)))
    total = run_record(run)["total"]
    parts = total["energy_breakdown_j"]
    assert total["macs"] == 512 and total["dram_read_bytes"] + total["dram_write_bytes"] == 192
    assert parts["mac"] == pytest.approx(512e-12)
    assert parts["dram"] == pytest.approx(1920e-12)
    assert parts["sram_input"] == parts["sram_weight"] == parts["sram_output"] == 0
    assert parts["static"] == pytest.approx(1.0 * total["cycles"] * 1e-9)  # 1 W for cycles x 1 ns
    assert total["energy_j"] == pytest.approx(sum(parts.values()))


def test_system_metrics_in_the_json(capsys):
    assert main(["run", "--model", "analytical", "--hw", "tpu_v1", "--workload", "alexnet", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    t = doc["total"]
    assert doc["hardware"]["energy_per_action"]["static_mw"] == 35200  # tpu_v1.yaml, Jouppi et al. Section 6
    assert t["inferences_per_s_per_mm2"] == pytest.approx(t["inferences_per_s"] / 331)
    assert t["inferences_per_s_per_usd"] is None
    assert main(["run", "--model", "analytical", "--hw", "gemmini", "--workload", "alexnet", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["inferences_per_s_per_mm2"] is None
