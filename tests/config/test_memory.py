"""The memory hierarchy as data: the buffers list, the three-buffer form, the global buffer."""

import pytest

from accelsim.config import ActivationPlacement, DataKind, load_hardware
from accelsim.config.loader import hardware_to_yaml, with_overrides
from accelsim.errors import ConfigError

LIST_FORM = """\
name: x
clock_mhz: 1000
array: {rows: 4, cols: 8, dataflow: ws}
buffers:
  - {name: scratchpad, size_kib: 32, holds: [activations, weights]}
  - {name: acc, size_kib: 8, holds: [psums], double_buffered: false}
dram: {bandwidth_gb_per_s: 16, latency_ns: 100}
"""


def test_three_buffer_form_is_three_single_kind_buffers_named_after_their_kind():
    hw = load_hardware("scalesim_32x32")
    memory = hw.memory
    assert [(b.name, b.size_bytes, sorted(k.value for k in b.holds)) for b in memory.local] == [
        ("input", 64 * 1024, ["activations"]), ("weight", 64 * 1024, ["weights"]), ("output", 64 * 1024, ["psums"])]
    assert memory.buffer_for(DataKind.WEIGHTS).name == "weight"
    assert memory.global_buffer is None


def test_list_form_shares_a_buffer_between_kinds(write):
    hw = load_hardware(write("x.yaml", LIST_FORM))
    memory = hw.memory
    assert memory.buffer_for(DataKind.ACTIVATIONS) is memory.buffer_for(DataKind.WEIGHTS)
    assert memory.buffer_for(DataKind.PSUMS).name == "acc"
    assert memory.sharing(memory.buffer_for(DataKind.WEIGHTS)) == (DataKind.ACTIVATIONS, DataKind.WEIGHTS)
    assert memory.level("acc").slot_bytes(8192) == 8192  # single-buffered: the whole room
    assert memory.level("scratchpad").slot_bytes(8192) == 4096
    assert hw.activations is ActivationPlacement.ON_CHIP and memory.activations_on_chip
    assert load_hardware(write("again.yaml", hardware_to_yaml(hw))) == hw


def test_global_buffer_is_a_shared_level(write):
    hw = load_hardware(write("x.yaml", LIST_FORM + "global_buffer: {size_kib: 1024, bandwidth_bytes_per_cycle: 64}\n"))
    g = hw.memory.global_buffer
    assert (g.name, g.size_bytes, g.shared, sorted(k.value for k in g.holds)) == \
        ("global_buffer", 1 << 20, True, ["activations"])
    assert [level.name for level in hw.memory.levels] == ["scratchpad", "acc", "global_buffer"]


@pytest.mark.parametrize("edit, message", [
    (("holds: [psums], ", "holds: [weights], "), "buffers: expected exactly one buffer holding weights, got "
                                                 "scratchpad, acc"),
    (("holds: [psums], ", "holds: [activations], "), "buffers: expected exactly one buffer holding activations"),
    (("[activations, weights]", "[activations]"), "buffers: expected exactly one buffer holding weights, got none"),
    (("name: acc", "name: scratchpad"), "buffers[1].name: expected a unique buffer name, got 'scratchpad' "
                                        "(also buffers[0])"),
    (("name: acc", "name: dram"), "buffers[1].name: expected a name other than 'dram'"),
    (("holds: [psums]", "holds: []"), "buffers[1].holds: expected a non-empty list of distinct kinds"),
    (("holds: [psums]", "holds: [psums, psums]"), "buffers[1].holds: expected a non-empty list of distinct kinds"),
    (("holds: [psums]", "holds: [sums]"), "buffers[1].holds[0]: expected one of activations, weights, psums, "
                                          "got 'sums'"),
    (("holds: [psums]", "holds: psums"), "buffers[1].holds: expected a non-empty list of distinct kinds"),
    (("size_kib: 8", "size_kib: 0"), "buffers[1].size_kib: expected a finite positive number, got 0"),
    (("  - {name: acc", "  - {nmae: acc"), "buffers[1].nmae: unknown key, expected one of: name, size_kib, holds"),
    (("buffers:\n", "activations: nowhere\nbuffers:\n"), "activations: expected one of on_chip, dram, got 'nowhere'"),
    (("buffers:\n", "sram: {input: {size_kib: 1}, weight: {size_kib: 1}, output: {size_kib: 1}}\nbuffers:\n"),
     "sram: expected the on-chip buffers either as sram (input, weight, output) or as a buffers list, got both"),
])
def test_each_memory_rule_is_one_line(write, edit, message):
    path = write("x.yaml", LIST_FORM.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_hardware(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_no_buffers_at_all_is_an_error(write):
    text = LIST_FORM[:LIST_FORM.index("buffers:")] + "dram: {bandwidth_gb_per_s: 16, latency_ns: 100}\n"
    with pytest.raises(ConfigError, match=r"buffers: expected the on-chip buffers either as sram .* got neither"):
        load_hardware(write("x.yaml", text))


def test_overrides_name_list_items_by_their_name(write):
    hw = load_hardware(write("x.yaml", LIST_FORM))
    bigger = with_overrides(hw, {"buffers.acc.size_kib": 16, "activations": "dram"})
    assert bigger.memory.level("acc").size_bytes == 16 * 1024
    assert bigger.activations is ActivationPlacement.DRAM
    with pytest.raises(ConfigError, match=r"--set: buffers.accx: no such hardware field, expected one of: "
                                          r"scratchpad, acc"):
        with_overrides(hw, {"buffers.accx.size_kib": 16})
    with pytest.raises(ConfigError, match=r"--set: buffers.acc: no such hardware field"):
        with_overrides(hw, {"buffers.acc": 16})


def test_scalesim_inputs_keep_activations_in_dram():
    assert load_hardware("scalesim_32x32").activations is ActivationPlacement.DRAM
