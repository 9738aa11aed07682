"""accelsim's SCALE-Sim USER-mode import beside the SCALE-Sim 3.0.0 numbers stored in
tests/data/scalesim_user_mode.csv (measured by scripts/scalesim_user_mode.py; provenance in the
file's header). docs/validation.md, section 2, explains the differences layer by layer.

What is checked, and why no general cycle tolerance: SCALE-Sim's totals are its compute cycles
plus stalls, and its stalls come from a read buffer that fetches the im2col operand matrix in
windows and re-fetches it whenever a demanded address has left the window (14.2 M ifmap words
for ResNet-50's Conv1, whose feature map is 150 KB); accelsim moves the feature-map footprint
with the fold order of least traffic. That difference is structural (0.13x to 0.62x on the ResNet-50
layers), so the ports themselves are tested on hand-worked timelines (tests/engine/test_ports.py)
and here only what both models must share:

* the compute cycles are identical: SCALE-Sim's ``Total Cycles - Stall Cycles + 1`` (it reports
  the 0-based index of the last cycle) equals accelsim's compute cycles, every layer;
* where both move the same bytes through the same port, the totals agree: Inc5b_3x3 (SCALE-Sim's
  own test.csv) is bound by its filter port in both, every weight fetched once (663,552 B at
  10 B/cycle = 66,356 cycles, the analytical model's total); SCALE-Sim fetches whole prefetch
  lines (688,170 words, 3.7% more) but hides part of them under compute; the engine adds what
  cannot overlap (the fold computed after the last weights arrive, the final store: 1,034
  cycles). 2% covers these; the measured gaps are -0.4% (engine) and -1.9% (analytical);
* accelsim never stalls more than SCALE-Sim: both overlap transfers with compute, and accelsim's
  bytes per port are never more than SCALE-Sim's fetches.
"""

import importlib.util
import sys

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "scalesim_user_mode.py"
STORED = ROOT / "tests" / "data" / "scalesim_user_mode.csv"
SAME_TRAFFIC = {"Inc5b_3x3"}
TOLERANCE = 0.02


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("scalesim_user_mode", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scalesim_user_mode"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def side_by_side(script):
    stored = script.read_csv(STORED)
    out = []
    for topology in script.TOPOLOGIES:
        theirs = [m for m in stored if m.topology == topology.name]
        ours = script.accelsim_layers(script.CFG, topology, len(theirs))
        out += list(zip(ours, theirs))
    return out


def test_the_stored_numbers_cover_the_documented_layers(side_by_side):
    assert [m.layer for _, m in side_by_side] == ["Inc5b_3x3", "Conv1", "CB2a_1", "CB2a_2", "CB2a_3", "CB2s"]
    assert all(o["layer"] == m.layer for o, m in side_by_side)


def test_compute_cycles_equal_scalesims(side_by_side):
    for ours, theirs in side_by_side:
        assert ours["compute"] == theirs.total_cycles - theirs.stall_cycles + 1, theirs.layer


def test_same_traffic_same_cycles_and_never_more_stalls(side_by_side):
    for ours, theirs in side_by_side:
        for model in ("engine", "analytical"):
            assert ours["compute"] <= ours[model] <= theirs.cycles, (theirs.layer, model)
            if theirs.layer in SAME_TRAFFIC:
                assert ours[model] == pytest.approx(theirs.cycles, rel=TOLERANCE), (theirs.layer, model)


def test_the_script_renders_the_table_from_the_stored_numbers(script, capsys):
    assert script.main(["--from-csv", str(STORED)]) == 0
    out = capsys.readouterr().out
    assert "| Inc5b_3x3 | 67,668 | 46,188 | 67,390 | 0.996 |" in out
    assert "| Conv1 | 1,417,944 |" in out
