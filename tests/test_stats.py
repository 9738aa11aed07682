"""accelsim.stats: the one-pass sums a run's totals use give what summing record by record gives.

The reference in each test is the definition the faster code replaced (``sum(values, kind())``,
``SramAccesses.read``/``written`` by name, the per-action energies made anew), computed here on
real runs and on hand-made records, so a fast path that drifts from it fails."""

import pytest

from accelsim import load_hardware, load_workload
from accelsim.energy import action_energies
from accelsim.engine import simulate
from accelsim.stats import (CoreResult, CycleBreakdown, DramTraffic, SramAccesses, core_breakdowns,
                            energy_breakdown_j, layer_metrics, summed)


@pytest.fixture(scope="module")
def runs():
    return [simulate(load_hardware("tpu_v1"), load_workload("resnet18")),
            simulate(load_hardware("edge_example_2core"), load_workload("resnet18"))]


@pytest.mark.parametrize("attr, kind", [("breakdown", CycleBreakdown), ("dram", DramTraffic),
                                        ("compulsory", DramTraffic), ("sram", SramAccesses)])
def test_summed_is_the_sum_record_by_record(runs, attr, kind):
    for run in runs:
        values = [getattr(layer, attr) for layer in run.layers]
        reference = kind()
        for v in values:
            reference = reference + v
        assert summed(values, kind) == reference == getattr(run, attr)
        assert summed(values[:1], kind) == kind() + values[0]
    assert summed([], kind) == kind()


def test_sram_sums_by_name_in_order_of_first_appearance():
    a = SramAccesses((("acc", 1, 2), ("ub", 10, 20)))
    b = SramAccesses((("wf", 5, 0), ("acc", 3, 4)))
    # worked by hand: acc 1+3, 2+4; ub as it is; wf last, as it appears last
    assert summed([a, b], SramAccesses).buffers == (("acc", 4, 6), ("ub", 10, 20), ("wf", 5, 0))
    assert a + b == summed([a, b], SramAccesses)
    both = SramAccesses(a.buffers + (("acc", 7, 8),))
    assert both.by_name() == {"acc": (8, 10), "ub": (10, 20)}
    assert {n: (both.read(n), both.written(n)) for n, _, _ in both.buffers} == both.by_name()


def test_core_breakdowns_one_layer_and_many(runs):
    for run in runs:
        cores = run.hardware.cores
        for layers in (run.layers[:1], run.layers[:5], run.layers, ()):
            reference = [CycleBreakdown()] * cores
            for layer in layers:
                parts = [c.breakdown for c in layer.cores] if layer.cores else [layer.breakdown] * cores
                reference = [t + p for t, p in zip(reference, parts)]
            assert core_breakdowns(layers, cores) == tuple(reference)
    assert runs[1].layers[0].cores  # the two-core run has per-core results to sum


def test_core_breakdowns_keeps_the_shortest_length():
    """A layer with fewer per-core results than cores: the sums stop where zip stops."""
    from dataclasses import replace

    layer = simulate(load_hardware("tpu_v1"), load_workload("resnet18")).layers[0]
    b = layer.breakdown
    layer = replace(layer, cores=(CoreResult(macs=1, breakdown=b),))
    assert core_breakdowns((layer,), 2) == (b,)
    assert core_breakdowns((layer, layer), 2) == (b + b,)


def test_energies_given_are_the_energies_made(runs):
    for run in runs:
        hw = run.hardware
        e = action_energies(hw)
        for layer in run.layers[:10]:
            args = (hw, layer.macs, layer.sram, layer.dram.total, 1e-3)
            assert energy_breakdown_j(*args, e) == energy_breakdown_j(*args)
            assert layer_metrics(layer, hw, e) == layer_metrics(layer, hw)
