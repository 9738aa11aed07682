"""Every field and every output key is documented."""

import json

from accelsim.cli import main
from accelsim.config.hardware import Hardware
from accelsim.config.schema import field_docs
from conftest import ROOT


def test_every_hardware_field_is_in_docs_hardware():
    text = (ROOT / "docs" / "hardware.md").read_text()
    missing = [path for path, *_ in field_docs(Hardware) if f"`{path}`" not in text]
    assert not missing, f"document in docs/hardware.md: {missing}"


def test_generated_tables_are_current():
    from accelsim.config.docs import BLOCK, generated_blocks, refresh

    blocks = generated_blocks()
    found = set()
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text()
        found |= {m.group("name") for m in BLOCK.finditer(text)}
        assert refresh(text, blocks) == text, \
            f"{doc.name}: generated tables are stale: run python scripts/update_doc_outputs.py --generated-only docs/*.md"
    assert found == set(blocks), f"every generated table appears in the docs: {set(blocks) - found} missing"


def test_every_json_key_is_documented(capsys):
    assert main(["run", "--model", "analytical", "--hw", "gemmini", "--workload", "alexnet", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    output = (ROOT / "docs" / "output.md").read_text()
    metrics = (ROOT / "docs" / "metrics.md").read_text()
    keys = set(doc) | set(doc["hardware"]) | set(doc["workload"]) | set(doc["layers"][0]) | set(doc["total"])
    for nested in ("breakdown", "dram_bytes", "sram_bytes"):
        keys |= set(doc["total"][nested])
    missing = sorted(k for k in keys if f"`{k}`" not in output)
    assert not missing, f"document in docs/output.md: {missing}"
    metric_keys = set(doc["layers"][0]) | set(doc["total"]) | set(doc["total"]["breakdown"])
    metric_keys -= {"name", "kind", "unit", "dram_bytes", "sram_bytes", "breakdown", "dominant", "events"}
    missing = sorted(k for k in metric_keys if f"`{k}`" not in metrics)
    assert not missing, f"define in docs/metrics.md: {missing}"
