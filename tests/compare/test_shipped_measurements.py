"""The shipped measurements say what their published sources say.

Golden values: the Eyeriss tables as copied into tests/data/measurements/ (Chen et al., JSSC
2017, Tables V and VI, via cucapra/fodlam), read here with the csv module, not with accelsim.
"""

import csv

import pytest

from accelsim.compare.measured import load_measured
from accelsim.config import catalog, load_workload
from conftest import DATA

CASES = [  # shipped file, source table, workload, batch, table column
    ("eyeriss_alexnet_jssc2017", "eyeriss_alexnet_jssc2017_tableV.csv", "alexnet", 4, "Total Latency (ms)"),
    ("eyeriss_alexnet_jssc2017_processing", "eyeriss_alexnet_jssc2017_tableV.csv", "alexnet", 4,
     "Processing Latency (ms)"),
    ("eyeriss_vgg16_jssc2017", "eyeriss_vgg16_jssc2017_tableVI.csv", "vgg16", 3, "Total Latency (ms)"),
    ("eyeriss_vgg16_jssc2017_processing", "eyeriss_vgg16_jssc2017_tableVI.csv", "vgg16", 3,
     "Processing Latency (ms)"),
]


def source_rows(table: str) -> dict[str, dict[str, str]]:
    with open(DATA / "measurements" / table) as f:
        rows = {row["Layer"].strip(): {k.strip(): v.strip() for k, v in row.items()} for row in csv.DictReader(f)}
    rows.pop("Total")
    return rows


@pytest.mark.parametrize("name, table, workload, batch, column", CASES)
def test_shipped_files_match_their_source_tables(name, table, workload, batch, column):
    assert name in catalog.shipped("measurements")
    m = load_measured(name, load_workload(workload, batch=batch))
    meta = m.meta
    assert (meta.batch, meta.clock_mhz, meta.hardware, meta.workload) == (batch, 200.0, "eyeriss_like", workload)
    assert "JSSC" in meta.source and meta.subset
    source = source_rows(table)
    assert len(m.layers) == len(source)  # every CONV layer of the table, nothing else
    for layer in m.layers:
        row = source[layer.note]  # the note keeps the table's own label (CONV1, CONV1-1)
        assert layer.name == layer.note.lower().replace("-", "_")
        assert layer.values["latency_s"] == pytest.approx(float(row[column]) / 1e3)
        if "processing" not in name:
            assert layer.values["dram_bytes"] == pytest.approx(float(row["DRAM Accesses (MB)"]) * 1e6)


def test_the_verbatim_sources_are_shipped_too():
    shipped = catalog.shipped_dir("measurements") / "sources"
    for table in ("eyeriss_alexnet_jssc2017_tableV.csv", "eyeriss_vgg16_jssc2017_tableVI.csv"):
        assert (shipped / table).read_text() == (DATA / "measurements" / table).read_text()
