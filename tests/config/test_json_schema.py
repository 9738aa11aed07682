"""The JSON Schemas (accelsim schema, docs/schemas/) agree with the loader: shipped files pass,
files the loader refuses for a field's type, enum, bound or key are refused too."""

from __future__ import annotations

import json

import pytest

from accelsim.cli import main
from accelsim.config import catalog
from accelsim.config.docs import generated_files, schema_text
from accelsim.config.loader import parse_yaml, read_yaml
from conftest import ROOT

jsonschema = pytest.importorskip("jsonschema")


def validator(kind: str):
    schema = json.loads(schema_text(kind))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schemas_are_current():
    for name, text in generated_files().items():
        assert (ROOT / name).read_text() == text, \
            f"{name} is stale: run python scripts/update_doc_outputs.py --generated-only docs/*.md"


def test_the_command_prints_them(capsys):
    assert main(["schema", "hardware"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(schema_text("hardware"))


@pytest.mark.parametrize("name, path", [(n, p) for n, p in catalog.shipped("hwconfigs").items() if p.suffix == ".yaml"])
def test_shipped_hwconfigs_validate(name, path):
    assert not list(validator("hardware").iter_errors(read_yaml(path)))


@pytest.mark.parametrize("name, path", [(n, p) for n, p in catalog.shipped("workloads").items() if p.suffix == ".yaml"])
def test_shipped_workloads_validate(name, path):
    assert not list(validator("workload").iter_errors(read_yaml(path)))


HW = """\
name: x
clock_mhz: 1000
array: {rows: 4, cols: 8, dataflow: ws}
sram: {input: {size_kib: 16}, weight: {size_kib: 16}, output: {size_kib: 8}}
dram: {bandwidth_gb_per_s: .inf, latency_ns: 0}
vector: null
"""


@pytest.mark.parametrize("edit", [
    ("rows: 4", "rows: 0"), ("rows: 4", "rows: 100000"), ("rows: 4", "rows: 4.5"), ("dataflow: ws", "dataflow: xs"),
    ("clock_mhz: 1000", "clock_mhz: 1e6"), ("latency_ns: 0", "latency_ns: .inf"), ("name: x", "name: ''"),
    ("vector: null", "vector: {elements_per_cycle: 0}"), ("vector: null", "vectr: null"),
    ("clock_mhz: 1000\n", ""),
])
def test_what_the_loader_refuses_the_schema_refuses(edit, write):
    from accelsim.config import load_hardware
    from accelsim.errors import ConfigError

    assert not list(validator("hardware").iter_errors(parse_yaml(HW, "x")))  # .inf bandwidth: an ideal memory
    text = HW.replace(*edit)
    with pytest.raises(ConfigError):
        load_hardware(write("x.yaml", text))
    assert list(validator("hardware").iter_errors(parse_yaml(text, "x")))


@pytest.mark.parametrize("layer", [
    "{name: c, type: conv2d, H: 8, W: 8, C: 3, K: 8, R: 3, S: 3, stride: 0}",
    "{name: c, type: conv2d, H: 8, W: 8, C: 3, K: 8, R: 3}",
    "{name: g, type: gemm, M: 1, N: 2, K: 99999999999}",
    "{name: p, type: pool, op: max, H: 8, W: 8, C: 3, R: 2, S: 2, padding: [1, 2, 3]}",
    "{name: e, type: conv3d}",
])
def test_bad_layers_are_refused(layer):
    data = parse_yaml(f"name: w\nbatch: 1\nlayers: [{layer}]\n", "w")
    assert list(validator("workload").iter_errors(data))
