import math

import pytest

from accelsim.config import load_hardware, load_workload
from accelsim.config.hardware import Dataflow
from accelsim.errors import ConfigError
from conftest import DATA

CFG = """\
[general]
run_name = my_run

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : is

[run_presets]
InterfaceBandwidth: USER
"""


def test_cfg_loads_with_scalesim_semantics(write):
    hw = load_hardware(write("a.cfg", CFG))
    assert hw.name == "my_run"
    assert (hw.array.rows, hw.array.cols, hw.array.dataflow) == (32, 16, Dataflow.IS)
    assert hw.array.pipelined_folds is False  # always SCALE-Sim fold timing for .cfg input
    assert (hw.sram.input.size_bytes, hw.sram.weight.size_bytes, hw.sram.output.size_bytes) == (65536, 32768, 16384)
    assert hw.array.bytes_per_psum == 1


def test_cfg_user_bandwidth_is_one_port_per_buffer(write):
    # SCALE-Sim 3.0.0 USER mode: the ifmap, filter and ofmap buffers each read or write their own
    # backing store at Bandwidth words per cycle (single_layer_sim.py), words of one byte
    hw = load_hardware(write("a.cfg", CFG))
    assert [b.dram_port_bytes_per_cycle for b in (hw.sram.input, hw.sram.weight, hw.sram.output)] == [10.0] * 3
    assert hw.dram.ports_independent is True
    assert hw.dram_bytes_per_cycle == pytest.approx(30.0)  # the aggregate of the three ports
    assert [hw.dram_port_rate(level) for level in hw.memory.local] == [10.0] * 3


def test_cfg_user_bandwidth_takes_scalesim_layout_keys(write):
    # with a [layout] section, SCALE-Sim 3.0.0 takes the ifmap and filter ports from it
    layout = "\n[layout]\nIfmapSRAMBankBandwidth = 4\nFilterSRAMBankBandwidth = 6\n"
    hw = load_hardware(write("a.cfg", CFG + layout))
    assert [b.dram_port_bytes_per_cycle for b in (hw.sram.input, hw.sram.weight, hw.sram.output)] == [4.0, 6.0, 10.0]
    assert hw.dram_bytes_per_cycle == pytest.approx(20.0)


def test_cfg_calc_bandwidth_is_ideal(write):
    hw = load_hardware(write("a.cfg", CFG.replace("USER", "CALC")))
    assert math.isinf(hw.dram_bytes_per_cycle)
    assert all(b.dram_port_bytes_per_cycle is None for b in hw.on_chip_buffers)
    assert hw.dram.ports_independent is False


@pytest.mark.parametrize("edit, message", [
    (("Dataflow : is", "Dataflow : xs"), "architecture_presets.Dataflow: expected one of os, ws, is, got 'xs'"),
    (("ArrayWidth:     16", "ArrayWidth: -3"), "architecture_presets.ArrayWidth: expected a positive integer, got -3"),
    (("ArrayHeight:    32\n", ""), "architecture_presets.ArrayHeight: missing required key"),
    (("USER", "SOMETIMES"), "run_presets.InterfaceBandwidth: expected USER or CALC, got 'SOMETIMES'"),
    (("Bandwidth : 10", "Bandwidth : 0"), "architecture_presets.Bandwidth: expected a positive number of words per "
                                          "cycle, at most 1,000,000, got '0'"),
    (("Dataflow : is", "Dataflow : is\n[layout]\nIfmapSRAMBankBandwidth = fast"),
     "layout.IfmapSRAMBankBandwidth: expected a positive number of words per cycle, got 'fast'"),
])
def test_cfg_errors(write, edit, message):
    path = write("a.cfg", CFG.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_hardware(path)
    assert str(err.value) == f"{path}: {message}"


def test_topology_output_size_follows_scalesim():
    # SCALE-Sim 3.0.0 topology_utils: ofmap = ceil((H - R + stride) / stride): Conv1 224, 7x7,
    # stride 2 -> ceil(219 / 2) = 110 (the file's own Eh column says 110 too).
    wl = load_workload(DATA / "scalesim_topologies" / "scale-sim-v2__topologies_conv_nets_Resnet50.csv")
    assert len(wl.layers) == 54  # the blank separator row is skipped
    conv1 = wl.layers[0]
    assert (conv1.P, conv1.Q) == (110, 110)
    assert conv1.macs(1) == 110 * 110 * 7 * 7 * 3 * 64
    cb3s = next(l for l in wl.layers if l.name == "CB3s")  # 56x56, 1x1, stride 2: ceil(57/2) = 29
    assert (cb3s.P, cb3s.Q) == (29, 29)


def test_topology_trailing_comma_optional_and_extra_columns_ignored(write):
    header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    a = load_workload(write("a.csv", header + "L1, 8, 8, 3, 3, 4, 16, 1,\n"))
    b = load_workload(write("b.csv", header + "L1, 8, 8, 3, 3, 4, 16, 1\n"))
    c = load_workload(write("c.csv", header + "L1, 8, 8, 3, 3, 4, 16, 1,,,Eh,#dw\n"))
    assert a.layers == b.layers == c.layers
    assert a.layers[0].macs(1) == 6 * 6 * 9 * 4 * 16


def test_topology_depthwise_conventions(write):
    header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    wl = load_workload(write("t.csv", header + "Conv2, 112, 112, 3, 3, 32, 1, 1,\n"
                                             "Conv2_dw, 112, 112, 3, 3, 1, 1, 1,#dw\n"
                                             "DP1, 112, 112, 3, 3, 32, 1, 1,\n"))
    dense_one_filter, paper, dp = wl.layers
    # mobilenet.csv writes depthwise as a dense layer with one filter: run as written.
    assert dense_one_filter.groups == 1 and dense_one_filter.K == 1
    assert paper.C == 1 and paper.K == 1
    # a name containing DP: SCALE-Sim runs C single-channel layers -> groups = C.
    assert dp.groups == 32 and dp.K == 32 and dp.macs(1) == 32 * dense_one_filter.macs(1) // 32


def test_topology_gemm_form(write):
    wl = load_workload(write("g.csv", "Layer, M, N, K,\nfc1, 16, 64, 128,\n"))
    (fc,) = wl.layers
    assert (fc.M, fc.N, fc.K) == (16, 64, 128)


@pytest.mark.parametrize("row, message", [
    ("L1, 8, 8, 9, 3, 4, 16, 1,", "row 2.Filter Height: expected a filter no larger than the IFMAP (8 x 8), got 9 x 3"),
    ("L1, 8, 8, 3, 3, four, 16, 1,", "row 2.Channels: expected a positive integer, got 'four'"),
    ("L1, 8, 8, 3, 3, 4, 0, 1,", "row 2.Num Filter: expected a positive integer, got 0"),
    ("L1, 8, 8, 3,", "row 2: expected 8 fields"),
])
def test_topology_errors(write, row, message):
    header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    path = write("t.csv", header + row + "\n")
    with pytest.raises(ConfigError) as err:
        load_workload(path)
    assert str(err.value).startswith(f"{path}: {message}")
