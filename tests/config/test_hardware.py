import math
from dataclasses import replace

import pytest

from accelsim.config import DataKind, catalog, load_hardware
from accelsim.config.hardware import ArrayConfig, BufferConfig, Dataflow, Hardware
from accelsim.config.loader import hardware_to_yaml, with_overrides
from accelsim.errors import ConfigError

GOOD = """\
name: x
clock_mhz: 1000
array: {rows: 4, cols: 8, dataflow: ws}
sram:
  input:  {size_kib: 16}
  weight: {size_kib: 16}
  output: {size_kib: 8}
dram: {bandwidth_gb_per_s: 16, latency_ns: 100}
"""


@pytest.mark.parametrize("name", list(catalog.shipped("hwconfigs")))
def test_every_shipped_config_loads_and_round_trips(name, write):
    hw = load_hardware(name)
    assert hw.peak_macs_per_cycle == hw.array.rows * hw.array.cols * hw.cores
    again = load_hardware(write("again.yaml", hardware_to_yaml(hw)))
    assert again == hw


def test_shipped_configs_name_their_source():
    for path in catalog.shipped("hwconfigs").values():
        first = path.read_text().splitlines()[0]
        assert first.startswith("#"), f"{path.name} must start with a comment naming its source"


def test_tpu_v1_matches_the_paper():
    # Jouppi et al. ISCA 2017: 256x256, 700 MHz, 92 TOPS, 24 MiB UB, 4 MiB acc, 34 GB/s.
    hw = load_hardware("tpu_v1")
    assert (hw.array.rows, hw.array.cols, hw.array.dataflow) == (256, 256, Dataflow.WS)
    assert hw.peak_tops == pytest.approx(2 * 65536 * 700e6 / 1e12)  # 91.75 TOPS
    memory = hw.memory
    assert [(b.name, b.size_bytes) for b in memory.local] == [
        ("unified_buffer", 24 * 2**20), ("weight_fifo", 4 * 64 * 1024), ("accumulators", 4 * 2**20)]
    assert memory.buffer_for(DataKind.ACTIVATIONS).name == "unified_buffer"
    assert memory.buffer_for(DataKind.WEIGHTS).name == "weight_fifo"
    assert memory.buffer_for(DataKind.PSUMS).name == "accumulators"
    assert hw.dram_bytes_per_cycle == pytest.approx(34e9 / 700e6)
    assert (hw.array.bytes_per_input, hw.array.bytes_per_psum) == (1, 4)


def test_derived_values(write):
    hw = load_hardware(write("x.yaml", GOOD))
    assert hw.peak_macs_per_cycle == 32
    assert hw.peak_tops == pytest.approx(2 * 32 * 1e9 / 1e12)
    assert hw.dram_bytes_per_cycle == pytest.approx(16.0)
    assert hw.dram_latency_cycles == 100
    assert hw.sram.input.slot_bytes == 8 * 1024  # double-buffered by default: half
    assert hw.dma.engines == 2 and hw.vector is None


@pytest.mark.parametrize("edit, message", [
    (("input:  {size_kib: 16}", "input:  {size_kib: -4}"),
     "sram.input.size_kib: expected a finite positive number, got -4"),
    (("input:  {size_kib: 16}", "inptu:  {size_kib: 16}"),
     "sram.inptu: unknown key, expected one of: input, weight, output"),
    (("rows: 4, ", ""), "array.rows: missing required key, expected a positive integer"),
    (("rows: 4", "rows: four"), "array.rows: expected a positive integer, got 'four'"),
    (("rows: 4", "rows: 4.5"), "array.rows: expected a positive integer, got 4.5"),
    (("rows: 4", "rows: true"), "array.rows: expected a positive integer, got true"),
    (("rows: 4", "rows: 0"), "array.rows: expected a positive integer, got 0"),
    (("dataflow: ws", "dataflow: xs"), "array.dataflow: expected one of os, ws, is, got 'xs'"),
    (("bandwidth_gb_per_s: 16", "bandwidth_gb_per_s: 0"),
     "dram.bandwidth_gb_per_s: expected a positive number, got 0"),
    (("latency_ns: 100", "latency_ns: -1"), "dram.latency_ns: expected a finite non-negative number, got -1"),
    (("clock_mhz: 1000", "clock_mhz: '1000'"), "clock_mhz: expected a finite positive number, got '1000'"),
    (("name: x\n", "name: x\nflavour: 1\n"), "flavour: unknown key, expected one of: name, clock_mhz"),
    (("dram: {", "dram: {efficiency: 1.5, "), "dram.efficiency: expected a number in (0, 1], got 1.5"),
    (("array: {", "array: {pipelined_folds: 1, "), "array.pipelined_folds: expected true or false, got 1"),
    (("input:  {size_kib: 16}", "input: 3"), "sram.input: expected a mapping, got 3"),
])
def test_each_validation_rule_is_one_line_naming_file_path_and_value(write, edit, message):
    path = write("x.yaml", GOOD.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_hardware(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_repeated_key_is_rejected(write):
    path = write("x.yaml", GOOD + "clock_mhz: 700\n")
    with pytest.raises(ConfigError, match=r"not valid YAML: line 9: repeated key 'clock_mhz'"):
        load_hardware(path)


def test_yaml_syntax_error_is_one_line(write):
    path = write("x.yaml", "name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"x\.yaml: not valid YAML: line \d+"):
        load_hardware(path)


def test_unknown_name_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match=r"nope: no such file, and not a shipped hardware config "
                                          r"\(shipped: .*tpu_v1"):
        load_hardware("nope")


def test_objects_built_in_python_are_checked_too():
    with pytest.raises(ConfigError, match=r"<python>: rows: expected a positive integer, got -1"):
        ArrayConfig(rows=-1, cols=4, dataflow=Dataflow.OS)
    with pytest.raises(ConfigError, match=r"size_kib: expected a finite positive number, got inf"):
        BufferConfig(size_kib=math.inf)
    hw = load_hardware("gemmini")
    with pytest.raises(ConfigError, match=r"bytes_per_psum: expected at least bytes_per_output \(1\), got 0|"
                                          r"bytes_per_psum: expected a positive integer"):
        replace(hw, array=replace(hw.array, bytes_per_psum=0))


def test_overrides_revalidate_and_name_bad_paths():
    hw = load_hardware("scalesim_32x32")
    bigger = with_overrides(hw, {"array.rows": 16, "sram.input.size_kib": 512, "vector.elements_per_cycle": 8})
    assert (bigger.array.rows, bigger.sram.input.size_kib, bigger.vector.elements_per_cycle) == (16, 512.0, 8)
    assert hw.array.rows == 32  # the original is untouched
    with pytest.raises(ConfigError, match=r"--set: array.rowz: no such hardware field, expected one of: rows"):
        with_overrides(hw, {"array.rowz": 4})
    with pytest.raises(ConfigError, match=r"--set: array.rows: expected a positive integer, got -2"):
        with_overrides(hw, {"array.rows": -2})


def test_infinite_bandwidth_is_an_ideal_memory(write):
    hw = load_hardware(write("x.yaml", GOOD.replace("bandwidth_gb_per_s: 16, latency_ns: 100",
                                                    "bandwidth_gb_per_s: .inf, latency_ns: 0")))
    assert hw.ideal_memory and math.isinf(hw.dram_bytes_per_cycle)


def test_hardware_is_frozen():
    hw = load_hardware("gemmini")
    with pytest.raises(AttributeError):
        hw.clock_mhz = 1  # type: ignore[misc]
    assert isinstance(hw, Hardware)


def test_three_buffer_paths_name_the_buffer_holding_that_kind_on_a_list():
    hw = load_hardware("tpu_v1")  # written as a buffers list
    changed = with_overrides(hw, {"sram.weight.size_kib": 512})
    assert changed.memory.level("weight_fifo").size_kib == 512
    assert changed == with_overrides(hw, {"buffers.weight_fifo.size_kib": 512})
    # an error names the path as the user wrote it
    with pytest.raises(ConfigError, match=r"--set: sram.weight.size_kib: expected a finite positive number, got -1"):
        with_overrides(hw, {"sram.weight.size_kib": -1})
    with pytest.raises(ConfigError, match=r"--set: buffers.weight_fifo.size_kib: expected a finite positive number"):
        with_overrides(hw, {"buffers.weight_fifo.size_kib": -1})
