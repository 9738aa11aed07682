"""Issue 17's acceptance against the per-layer compulsory bytes of ResNet-18 on Gemmini's
first-version buffers (the comparison with ZigZag's LOMA mapper, which came within 1% of
compulsory), and against Eyeriss silicon's measured DRAM traffic and latency."""

import json

import pytest

from accelsim import analyze, load_hardware, load_workload
from accelsim.config.loader import with_overrides
from accelsim.config.workload import Conv2d
from accelsim.traffic import compulsory_traffic
from accelsim.cli import main
from conftest import ROOT


def test_resnet18_on_gemmini_buffers_moves_little_more_than_compulsory():
    # 16 x 16 WS, separate 128 / 128 / 64 KiB buffers, every layer's tensors through DRAM: the 20
    # convolutions move at most 1.10x their own compulsory bytes in total, 1.25x on any one
    hw = with_overrides(load_hardware(ROOT / "tests" / "data" / "first_version" / "hwconfigs" / "gemmini.yaml"),
                        {"activations": "dram"})
    wl = load_workload("resnet18")
    run = analyze(hw, wl)
    pairs = [(result, layer) for result, layer in zip(run.layers, wl.layers) if isinstance(layer, Conv2d)]
    assert len(pairs) == 20
    own = [compulsory_traffic(layer, hw, wl.batch).total for _, layer in pairs]
    assert sum(own) == 15_569_856  # the 15.57 MB
    moved = [result.dram.total for result, _ in pairs]
    assert sum(moved) <= 1.10 * sum(own)
    assert all(m <= 1.25 * c for m, c in zip(moved, own))


@pytest.mark.parametrize("measured, latency_mape_below", [
    ("measurements/eyeriss_alexnet_jssc2017.csv", 0.50),
    ("measurements/eyeriss_vgg16_jssc2017.csv", None),
])
def test_eyeriss_dram_traffic_within_2x_of_the_chip(measured, latency_mape_below, tmp_path, monkeypatch, capsys):
    # The measured bytes and latencies are Eyeriss silicon's (Chen et al., JSSC 2017, Tables V
    # and VI); with its run-length coded feature maps and the tiler's loop blocking, the
    # simulated DRAM traffic is within 2x on geometric average (the first version: 6.2x and
    # 4.6x), and AlexNet's latency MAPE is under 50% (the first version: 92%)
    monkeypatch.chdir(ROOT)
    assert main(["compare", "--measured", measured, "-o", str(tmp_path)]) == 0
    capsys.readouterr()
    metrics = json.loads((tmp_path / "compare.json").read_text())["metrics"]
    assert 0.5 <= metrics["dram_bytes"]["geomean_ratio"] <= 2.0
    if latency_mape_below is not None:
        assert metrics["latency_s"]["mape"] < latency_mape_below
