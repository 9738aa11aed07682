"""Every hwconfig and workload file that loaded before the memory hierarchy and the graph must
keep loading and mean the same (tests/data/first_version: the files shipped at 376b702)."""

import pytest

from accelsim import load_hardware, load_workload
from accelsim.config import DataKind
from conftest import DATA

FIRST = DATA / "first_version"
HWCONFIGS = sorted((FIRST / "hwconfigs").glob("*.yaml"))
WORKLOADS = sorted(p for p in (FIRST / "workloads").iterdir() if p.suffix in (".yaml", ".csv"))


@pytest.mark.parametrize("path", HWCONFIGS, ids=lambda p: p.stem)
def test_a_first_version_hwconfig_loads_as_three_single_kind_buffers(path):
    import yaml

    hw = load_hardware(path)
    sram = yaml.safe_load(path.read_text())["sram"]
    memory = hw.memory
    for name, kind in (("input", DataKind.ACTIVATIONS), ("weight", DataKind.WEIGHTS), ("output", DataKind.PSUMS)):
        level = memory.buffer_for(kind)
        assert (level.name, level.size_kib, set(level.holds)) == (name, sram[name]["size_kib"], {kind})
        assert level.double_buffered == sram[name].get("double_buffered", True)
    assert memory.global_buffer is None


@pytest.mark.parametrize("path", WORKLOADS, ids=lambda p: p.stem)
def test_a_first_version_workload_loads_with_the_same_layers(path):
    wl = load_workload(path)
    shipped = load_workload(path.stem)
    # the same layers, shapes and MACs as the shipped (now graph) version of the same network
    assert [(layer.name, layer.macs(1)) for layer in wl.layers] == \
        [(layer.name, layer.macs(1)) for layer in shipped.layers]
    assert wl.graph.tensors  # a legacy chain: every layer reads something
