"""Tables: at most 120 columns by default (--wide for more), and every column defined (--explain,
docs/metrics.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.cli import main
from accelsim.cli.validate_cmd import HEADERS as VALIDATE_HEADERS
from accelsim.config import catalog
from accelsim.reports.table import LEGEND, MAX_WIDTH, SHOWN_HEADERS, definition, render_table


def headers_of(args: list[str], capsys) -> tuple[list[str], str]:
    seen: list[str] = []
    token = SHOWN_HEADERS.set(seen)
    try:
        assert main(args) in (0, 3)
    finally:
        SHOWN_HEADERS.reset(token)
    return seen, capsys.readouterr().out


@pytest.mark.parametrize("hw", list(catalog.shipped("hwconfigs")))
def test_run_fits_120_columns_on_every_shipped_design_and_workload(hw, capsys):
    for workload in catalog.shipped("workloads"):
        seen, out = headers_of(["run", "--model", "analytical", "--hw", hw, "--workload", workload], capsys)
        widest = max(out.splitlines(), key=len)
        assert len(widest) <= MAX_WIDTH, f"{hw} x {workload}: {len(widest)} columns: {widest}"
        assert all(definition(h) for h in seen)


def test_every_column_of_every_command_is_defined(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths in the output
    Path("spec.yaml").write_text("hardware: gemmini\naxes: {array.rows: [8, 16]}\nworkloads: [alexnet]\n"
                                 "model: analytical\n")
    assert main(["sweep", "spec.yaml", "-o", "r.h5", "-j", "1", "-q"]) == 0
    capsys.readouterr()
    commands = [
        ["list"],
        ["runs", "show", "r.h5", "--sort", "energy_j"],
        ["bench", "micro", "--hw", "gemmini", "tpu_v1", "nvdla_small", "--model", "analytical", "--jobs", "1"],
        ["formulas", "--hw", "gemmini", "--workload", "alexnet", "--model", "analytical"],
        ["compare", "--measured", "eyeriss_alexnet_jssc2017", "--model", "analytical"],
        ["calibrate", "--measured", "eyeriss_alexnet_jssc2017", "--model", "analytical", "-q", "-o", "c.yaml"],
    ]
    every = list(VALIDATE_HEADERS)
    for args in commands:
        seen, out = headers_of(args, capsys)
        assert seen, args
        every += seen
        assert max(len(line) for line in out.splitlines()) <= MAX_WIDTH, args
    undefined = sorted({h for h in every if definition(h) is None})
    assert not undefined, f"define in accelsim.reports.table.LEGEND (and so docs/metrics.md): {undefined}"


def test_explain_prints_the_legend(capsys):
    assert main(["run", "--model", "analytical", "--hw", "gemmini", "--workload", "alexnet", "--explain"]) == 0
    out = capsys.readouterr().out
    legend = out[out.index("\ncolumns:\n"):]
    for header in ("map.eff", "bound by", "DRAM rd", "util"):
        assert f"\n  {header}: {LEGEND[header]}"[:60] in legend


def test_long_names_are_cut_and_wide_shows_them(tmp_path, capsys):
    name = "/model/encoder/layers.11/self_attention/query_key_value_projection/MatMul_with_a_long_tail"
    (tmp_path / "w.yaml").write_text(f"name: w\nlayers:\n  - {{name: '{name}', type: gemm, M: 64, N: 64, K: 64}}\n")
    args = ["run", "--model", "analytical", "--hw", "gemmini", "--workload", str(tmp_path / "w.yaml")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= MAX_WIDTH and name not in out and "~" in out
    assert main(args + ["--wide"]) == 0
    assert name in capsys.readouterr().out


def test_render_table_wraps_headers_then_cuts_text():
    headers = ["name"] + [f"a long header number {i}" for i in range(8)]
    rows = [["x" * 60] + ["1.234"] * 8]
    text = render_table(headers, rows)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= MAX_WIDTH
    assert lines[0].split()[:1] != ["name"] and "number" in text  # headers on several lines
    assert "x" * 12 in text and "x" * 60 not in text
