import math

import pytest

from accelsim import analyze, load_hardware, load_workload
from accelsim.reports.records import flat, flat_records, layer_record, total_record


@pytest.mark.parametrize("config, workload", [("edge_example_2core", "gpt2_decode"), ("gemmini", "mobilenet_v2")])
def test_flat_records_are_the_flattened_records(config, workload):
    # What a sweep stores (one pass: clean and flatten) against the documented path: each record
    # cleaned of non-finite floats, then flattened. Layers that move no DRAM byte have an
    # infinite arithmetic intensity, which both must turn into null.
    run = analyze(load_hardware(config), load_workload(workload))
    total, layers = flat_records(run)
    assert total == flat(total_record(run)) and list(total) == list(flat(total_record(run)))
    two_pass = tuple(flat(layer_record(layer, run)) for layer in run.layers)
    assert layers == two_pass and [list(row) for row in layers] == [list(row) for row in two_pass]
    assert any(layer.dram.total == 0 for layer in run.layers)
    assert any(row["arithmetic_intensity"] is None for row in layers)
    assert not any(isinstance(v, float) and not math.isfinite(v) for row in (total, *layers) for v in row.values())
