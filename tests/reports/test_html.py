"""``accelsim report``: one self-contained HTML page with every design and network, and the tables
beside it as Markdown and CSV."""

import base64
import re

import pytest

from accelsim.bench.macro import NETWORKS
from accelsim.cli import main

DESIGNS = ["tpu_v1", "gemmini", "nvdla_large"]


def assert_self_contained(text: str) -> None:
    """Nothing the page shows is fetched: no scripts, stylesheets, frames or remote URLs."""
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    for pattern in (r"<script", r"<link", r"<iframe", r"<object", r"<embed", r"@import", r"url\(",
                    r"https?://", r"//[a-z0-9.-]+\.[a-z]{2,}/"):
        assert not re.search(pattern, text, re.I), pattern
    sources = re.findall(r'\bsrc="([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    for s in sources:
        assert base64.b64decode(s.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    hrefs = re.findall(r'\bhref="([^"]*)"', text)
    assert all(h.startswith("#") for h in hrefs)  # only links within the page


@pytest.fixture(scope="module")
def macro_report(tmp_path_factory):
    """The full macro suite on three designs; batch 1 only, to keep the test quick (the throughput
    batch adds simulations, not code paths: bench tests cover two batches)."""
    out = tmp_path_factory.mktemp("report") / "deep" / "report.html"
    assert main(["report", "--hw", *DESIGNS, "--suite", "macro", "--batch", "1", "--jobs", "2",
                 "-o", str(out)]) == 0
    return out


def test_report_is_self_contained_and_holds_every_design_and_network(macro_report):
    text = macro_report.read_text()
    assert_self_contained(text)
    for name in DESIGNS + list(NETWORKS):
        assert text.count(name) >= 3, name
    for heading in ("Designs", "Comparison", "Design ranking", "Rank correlation between networks", "Rooflines",
                    "Utilization per layer", "Cycle breakdown"):
        assert f">{heading}</h2>" in text
    # 3 rooflines, 7 utilization figures, 1 breakdown, 2 correlation heat maps
    assert text.count("<img ") == 3 + len(NETWORKS) + 1 + 2


def test_tables_are_written_beside_as_markdown_and_csv(macro_report):
    markdown = macro_report.with_suffix(".md").read_text()
    assert "| network | design |" in markdown and all(n in markdown for n in NETWORKS)
    csv_files = sorted(p.name for p in macro_report.parent.glob("report.*.csv"))
    assert "report.networks.csv" in csv_files and "report.ranking_throughput.csv" in csv_files
    rows = (macro_report.parent / "report.networks.csv").read_text().splitlines()
    assert len(rows) == 1 + len(NETWORKS) * len(DESIGNS)


def test_report_on_one_workload(tmp_path):
    out = tmp_path / "alexnet.html"
    assert main(["report", "--hw", "gemmini", "edge_example", "--suite", "alexnet", "--model", "analytical",
                 "--jobs", "1", "-o", str(out)]) == 0
    text = out.read_text()
    assert_self_contained(text)
    assert "Utilization per layer" in text and "conv5" in text and "edge_example" in text


def test_report_user_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["report", "--hw", "gemmini", "--suite", "no_such_net", "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_net: no such file, and not a shipped workload" in err
    assert main(["report", "--hw", "gemmini", "--suite", "alexnet", "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_user_names_are_drawn_as_written_not_as_tex(tmp_path):
    """A layer named like TeX used to crash the figures (matplotlib parsed it as mathtext)."""
    from accelsim.compare.compare import compare_run
    from accelsim.compare.measured import match_layers, read_measured
    from accelsim.compare.plots import write_plots
    from accelsim.config import load_hardware
    from accelsim.config.workload import Gemm, Workload
    from accelsim.models import analyze
    from accelsim.reports.plots import draw_all

    names = ["$\\frac{$", "$x^$", "a$b$c"]
    panels = [("batch 1", {"design $\\alpha$": [(n, 0.5) for n in names]})]
    bars = [("b1", [(n, {"computing": 3, "stall_input": 1}) for n in names])]
    pngs = draw_all([("layer_utilization", ("$\\frac{$ net", panels)), ("breakdown_bars", ("$t$", bars)),
                     ("grouped_bars", ("$", "u %", names, {"d$": [0.1, 0.2, 0.3]}, True))])
    assert all(png.startswith(b"\x89PNG") for png in pngs)
    workload = Workload(name="$\\frac{$", layers=tuple(Gemm(name=n, M=16, N=16, K=16) for n in names))
    (tmp_path / "m.csv").write_text("layer,cycles\n" + "".join(f'"{n}",100\n' for n in names))
    measured = match_layers(read_measured(tmp_path / "m.csv"), workload)
    written = write_plots(compare_run(analyze(load_hardware("gemmini"), workload), measured), tmp_path)
    assert written and all(p.read_bytes().startswith(b"\x89PNG") for p in written)
