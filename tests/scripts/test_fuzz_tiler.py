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
    # a floor above what candidates move (the bug that windows in the padding once caused)
    from accelsim.mapping.tiling import LayerTiler

    floor = LayerTiler.floor_bytes
    monkeypatch.setattr(LayerTiler, "floor_bytes", lambda self: 10 * floor(self))
    assert fuzz_tiler.main(["--cases", "40", "--seed", "2"]) == 1
    assert "fewer bytes than the floor" in capsys.readouterr().out


def test_a_lower_bound_that_is_no_bound_is_caught(monkeypatch, capsys):
    # a time block's lower bound above what its candidates move: the check names it, before
    # it compares the choices (which the skipping such a bound drives may make worse)
    from accelsim.mapping.tiling import LayerTiler

    lower = LayerTiler.lower_bytes
    monkeypatch.setattr(LayerTiler, "lower_bytes", lambda self, time_block: 3 * lower(self, time_block))
    assert fuzz_tiler.main(["--cases", "40", "--seed", "2"]) == 1
    assert "their time block's lower bound" in capsys.readouterr().out


def test_a_choice_that_skips_a_winner_is_caught(monkeypatch, capsys):
    # a choice whose nests never make the rows_inner candidates (the oracle's are whole): the
    # floor still bounds every candidate, so only the comparison of the choices can catch it
    from accelsim.mapping.tiling import LayerTiler

    nests = LayerTiler.nests

    def cols_inner_only(self, loses=lambda tie: False, beaten=lambda time_block, tie: False):
        return (nest for nest in nests(self, loses, beaten) if nest[0] == "cols_inner")
    monkeypatch.setattr(LayerTiler, "choose_blocks", _choosing_with(cols_inner_only, LayerTiler.choose_blocks))
    assert fuzz_tiler.main(["--cases", "60", "--seed", "2"]) == 1
    out = capsys.readouterr().out
    assert "every candidate gives" in out and "fewer bytes than the floor" not in out


def _choosing_with(nests, choose_blocks):
    """``choose_blocks`` with ``nests`` in place of LayerTiler.nests while it runs."""
    def chosen(self):
        self.nests = nests.__get__(self)
        try:
            return choose_blocks(self)
        finally:
            del self.nests
    return chosen
