"""Per-buffer DRAM ports (``dram_port_bytes_per_cycle``, ``dram.ports_independent``): loading and errors."""

import pytest

from accelsim.config import load_hardware
from accelsim.config.loader import hardware_to_yaml, with_overrides
from accelsim.errors import ConfigError

LIST_FORM = """\
name: x
clock_mhz: 1000
array: {rows: 4, cols: 8, dataflow: ws}
buffers:
  - {name: scratchpad, size_kib: 32, holds: [activations, weights], dram_port_bytes_per_cycle: 8}
  - {name: acc, size_kib: 8, holds: [psums]}
dram: {bandwidth_gb_per_s: 16, latency_ns: 0, ports_independent: false}
"""

SRAM_FORM = """\
name: y
clock_mhz: 500
array: {rows: 4, cols: 8, dataflow: os}
sram:
  input: {size_kib: 4, dram_port_bytes_per_cycle: 2}
  weight: {size_kib: 4}
  output: {size_kib: 4, dram_port_bytes_per_cycle: .inf}
dram: {bandwidth_gb_per_s: 2, latency_ns: 0}
"""

NO_PORT = LIST_FORM.replace(", dram_port_bytes_per_cycle: 8", "")


def test_ports_load_in_both_forms_and_round_trip(write):
    hw = load_hardware(write("x.yaml", LIST_FORM))
    assert [(b.name, b.dram_port_bytes_per_cycle) for b in hw.memory.local] == [("scratchpad", 8.0), ("acc", None)]
    assert [b.name for b in hw.memory.ported] == ["scratchpad"]
    # 16 GB/s at 1 GHz = 16 B/cycle; the port is slower: transfers move at 8, the accumulators' at 16
    assert [hw.dram_port_rate(b) for b in hw.memory.local] == [8.0, 16.0]
    assert load_hardware(write("again.yaml", hardware_to_yaml(hw))) == hw
    hw = load_hardware(write("y.yaml", SRAM_FORM))
    # 2 GB/s at 500 MHz = 4 B/cycle: the input port (2) binds, the unlimited output port does not
    assert [hw.dram_port_rate(b) for b in hw.memory.local] == [2.0, 4.0, 4.0]
    independent = with_overrides(hw, {"dram.ports_independent": True})
    assert [independent.dram_port_rate(b) for b in independent.memory.local] == [2.0, 4.0, float("inf")]
    faster = with_overrides(hw, {"sram.input.dram_port_bytes_per_cycle": 3})
    assert faster.memory.local[0].dram_port_bytes_per_cycle == 3


def test_no_port_is_the_default_and_means_what_it_meant():
    hw = load_hardware("tpu_v1")
    assert hw.memory.ported == () and hw.dram.ports_independent is False
    assert all(hw.dram_port_rate(b) == hw.achievable_dram_bytes_per_cycle for b in hw.memory.local)


@pytest.mark.parametrize("form, edit, message", [
    (LIST_FORM, ("dram_port_bytes_per_cycle: 8", "dram_port_bytes_per_cycle: -8"),
     "buffers[0].dram_port_bytes_per_cycle: expected a positive number, got -8"),
    (LIST_FORM, ("dram_port_bytes_per_cycle: 8", "dram_port_bytes_per_cycle: 2000000"),
     "buffers[0].dram_port_bytes_per_cycle: expected at most 1,000,000"),
    (LIST_FORM, ("dram_port_bytes_per_cycle: 8", "dram_port_bytes_per_cycle: fast"),
     "buffers[0].dram_port_bytes_per_cycle: expected a positive number"),
    (SRAM_FORM, ("dram_port_bytes_per_cycle: 2", "dram_port_bytes_per_cycle: 0"),
     "sram.input.dram_port_bytes_per_cycle: expected a positive number, got 0"),
    (LIST_FORM, ("ports_independent: false", "ports_independent: maybe"),
     "dram.ports_independent: expected true or false, got 'maybe'"),
    (NO_PORT, ("ports_independent: false", "ports_independent: true"),
     "dram.ports_independent: expected false when no buffer has a dram_port_bytes_per_cycle, got true"),
])
def test_port_errors_are_one_line_with_file_path_and_value(write, form, edit, message):
    path = write("x.yaml", form.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_hardware(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text, text
