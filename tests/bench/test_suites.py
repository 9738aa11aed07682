"""The micro and macro suites: what they cover, how they summarise, and their command."""

import csv
import json
import math

import pytest

from accelsim.bench import macro
from accelsim.bench.micro import KERNELS, MICRO_SUITE, MICRO_VERSION
from accelsim.bench.summary import geomean, rank_correlation, ranking
from accelsim.compare.agreement import spearman
from accelsim.cli import main
from accelsim.config.workload import Conv2d, Gemm
from conftest import ROOT


def test_micro_suite_covers_what_it_promises():
    names = [k.name for k in KERNELS]
    assert len(names) == len(set(names))
    convs = [k.layer for k in KERNELS if isinstance(k.layer, Conv2d)]
    assert {(c.R, c.S) for c in convs} >= {(1, 1), (3, 3), (5, 5), (7, 7)}
    assert any(c.kind == "dwconv" for c in convs) and any(max(c.stride) > 1 for c in convs)
    assert min(c.C for c in convs) == 3 and max(max(c.C, c.K) for c in convs) == 2048
    assert min(c.H for c in convs) == 7 and max(c.H for c in convs) == 224
    assert min(k.batch for k in KERNELS) == 1 and max(k.batch for k in KERNELS) == 64
    gemms = [k for k in KERNELS if isinstance(k.layer, Gemm)]
    assert {k.family for k in gemms} == {"fc", "gemm"}
    assert (MICRO_SUITE, MICRO_VERSION) == ("accelsim-micro", "1")


def test_every_kernel_is_documented():
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    assert [k.name for k in KERNELS if f"`{k.name}`" not in text] == []


def test_rank_correlation_worked_by_hand():
    # ties share average ranks: [10, 20, 20, 5] -> [2, 3.5, 3.5, 1] against [1, 2, 3, 4]:
    # deviations (-.5, 1, 1, -1.5) and (-1.5, -.5, .5, 1.5): rho = -1.5 / sqrt(4.5 x 5)
    assert spearman([10, 20, 20, 5], [1, 2, 3, 4]) == pytest.approx(-1.5 / math.sqrt(22.5))
    assert spearman([1, 2], [10, 20], min_pairs=2) == pytest.approx(1.0)  # two designs: +-1
    assert spearman([1, 2], [10, 20]) is None  # too few for a comparison of layers
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def _rows():
    # three designs on three networks; n2 reverses n1's order, n3 agrees with n1
    values = {"n1": [1, 2, 4], "n2": [8, 4, 2], "n3": [10, 20, 30]}
    return [{"design": d, "case": n, "group": n, "batch": 8, "inferences_per_s": v[i], "latency_s": 1 / v[i]}
            for n, v in values.items() for i, d in enumerate(["a", "b", "c"])]


def test_rank_correlation_matrix_and_ranking_on_known_rows():
    cases, matrix = rank_correlation(_rows(), "inferences_per_s")
    assert cases == ["n1", "n2", "n3"]
    assert matrix == [[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]
    entries = ranking(_rows(), "inferences_per_s")
    assert [e["design"] for e in entries] == ["c", "b", "a"]
    assert entries[0]["geomean"] == pytest.approx((4 * 2 * 30) ** (1 / 3))
    assert entries[0]["wins"] == 2 and entries[2]["wins"] == 1
    assert [e["design"] for e in ranking(_rows(), "latency_s")] == ["c", "b", "a"]  # lower latency is better
    assert geomean([2, 8]) == pytest.approx(4) and math.isclose(geomean([1]), 1)


def test_bench_micro_prints_and_stores_utilization_and_stall(tmp_path, capsys):
    assert main(["bench", "micro", "--hw", "gemmini", "nvdla_small", "--model", "analytical", "--jobs", "1",
                 "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert all(k.name in out for k in KERNELS) and "design" in out and "util busy" in out
    first = [line.split()[3] for line in out.splitlines() if line.startswith(KERNELS[0].name + " ")]
    assert first == ["gemmini", "nvdla_small"]  # a row per kernel and design
    rows = list(csv.DictReader((tmp_path / "micro.csv").open()))
    assert len(rows) == 2 * len(KERNELS)
    assert {r["dominant_stall"] for r in rows} <= {"stall_input", "stall_weight", "stall_output", "none"}
    assert all(0 < float(r["utilization"]) <= 1 for r in rows)
    doc = json.loads((tmp_path / "micro.json").read_text())
    assert (doc["suite"], doc["suite_version"], doc["designs"]) == ("accelsim-micro", "1", ["gemmini", "nvdla_small"])


def test_bench_macro_ranks_designs_and_correlates_networks(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(macro, "NETWORKS", ("alexnet", "bert_base_layer", "resnet18"))
    assert main(["bench", "macro", "--hw", "tpu_v1", "nvdla_large", "--batch", "2", "--jobs", "1",
                 "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Design ranking" in out and "Rank correlation of" not in out  # two designs: rho is always +-1
    assert out.rstrip().endswith("rank correlation between networks: not shown (it needs at least 3 designs; "
                                 "over two, every pair of networks correlates +1 or -1)")
    doc = json.loads((tmp_path / "macro.json").read_text())
    assert doc["throughput_batch"] == 2 and len(doc["rows"]) == 3 * 2 * 2
    assert not any(name.startswith("rank_correlation") for name in doc["tables"])
    # three designs carry information: the matrices are there (rows of the same run, a third design added)
    from accelsim.bench.tables import macro_tables

    third = [dict(r, design="third", inferences_per_s=r["inferences_per_s"] * (2 if r["group"] == "alexnet" else 0.5))
             for r in doc["rows"] if r["design"] == "tpu_v1"]
    tables = {t.name: t for t in macro_tables(doc["rows"] + third, 2)}
    matrix = tables["rank_correlation_inferences_per_s"].rows
    assert [row[0] for row in matrix] == ["alexnet", "bert_base_layer", "resnet18"]
    assert [row[1 + i] for i, row in enumerate(matrix)] == pytest.approx([1.0] * 3)  # each predicts itself


def test_bench_user_errors_are_one_line_exit_2(capsys):
    assert main(["bench", "micro", "--hw", "gemmini", "gemmini"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "both named 'gemmini'" in err
    assert main(["bench", "macro", "--hw", "nope"]) == 2
    assert "nope: no such file, and not a shipped hardware config" in capsys.readouterr().err
