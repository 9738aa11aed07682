"""scripts/fuzz_tiler.py: random layers and designs, the tiler's choice against every candidate's."""

import importlib.util

from conftest import ROOT

SPEC = importlib.util.spec_from_file_location("fuzz_tiler", ROOT / "scripts" / "fuzz_tiler.py")
fuzz_tiler = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(fuzz_tiler)


def test_random_layers_choose_what_every_candidate_chooses(capsys):
    assert fuzz_tiler.main(["--cases", "120", "--seed", "2"]) == 0
    assert "0 differ" in capsys.readouterr().out


def test_a_floor_that_is_no_bound_is_caught(monkeypatch, capsys):
    # a floor above what candidates move: the skipping settles on the first candidate, and the
    # check must say so (the bug that windows in the padding once caused)
    from accelsim.mapping.tiling import LayerTiler

    floor = LayerTiler.floor_bytes
    monkeypatch.setattr(LayerTiler, "floor_bytes", lambda self: 10 * floor(self))
    assert fuzz_tiler.main(["--cases", "40", "--seed", "2"]) == 1
    assert "fewer bytes than the floor" in capsys.readouterr().out
    assert fuzz_tiler.check({"id": 0, "hw": "nvdla_small", "overrides": {"buffers.cbuf.size_kib": 16},
                             "layer": {"type": "conv", "H": 56, "W": 56, "C": 64, "K": 64, "R": 3, "stride": 1,
                                       "padding": 1, "dilation": 1, "groups": 1}, "batch": 4}) is not None
