"""Every field and every output key is documented."""

import json

from accelsim import load_hardware
from accelsim.cli import main
from accelsim.config.hardware import Hardware
from accelsim.config.schema import field_docs
from conftest import ROOT  # noqa: E402


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
    keys |= set(doc["layers"][0]["placement"]) | set(doc["tensors"][0])
    buffers = [level.name for level in load_hardware("gemmini").memory.levels]
    generic = {f"{b}_{way}": f"<buffer>_{way}" for b in buffers for way in ("read", "write")}
    generic |= {f"sram_{b}": "sram_<buffer>" for b in buffers}
    missing = sorted(k for k in keys if f"`{generic.get(k, k)}`" not in output)
    assert not missing, f"document in docs/output.md: {missing}"
    metric_keys = set(doc["layers"][0]) | set(doc["total"]) | set(doc["total"]["breakdown"])
    metric_keys -= {"name", "kind", "unit", "dram_bytes", "sram_bytes", "breakdown", "dominant", "events", "placement"}
    missing = sorted(k for k in metric_keys if f"`{k}`" not in metrics)
    assert not missing, f"define in docs/metrics.md: {missing}"


def _docs_script():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("update_doc_outputs", ROOT / "scripts" / "update_doc_outputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["update_doc_outputs"] = module
    spec.loader.exec_module(module)
    return module


def test_every_example_in_the_readme_and_docs_runs_and_shows_its_output(tmp_path):
    """Every `$ accelsim ...` block is run and compared with what it shows; every python block runs
    as a script pasted into a file, in a fresh folder (README first: results.md reads its sweep.h5)."""
    docs = _docs_script()
    folder = docs.scratch_folder(tmp_path)
    problems, ran, skipped = [], 0, []
    for doc in docs.documents():
        for n, example in enumerate(docs.examples(doc)):
            if example.skip:
                skipped.append(example.where)
                continue
            problems += docs.check(example, folder, n)
            ran += 1
    assert ran >= 15, ran  # 9 shell blocks and 6 python snippets today (more may come)
    assert len(skipped) == 1, skipped  # the ONNX Runtime profiling snippet (needs onnxruntime and a model)
    assert not problems, ("\n\n".join(problems) + "\n\nrefresh with: python scripts/update_doc_outputs.py README.md "
                          "docs/*.md (abbreviated blocks, with '...' lines, are edited by hand)")


def test_abbreviations_are_explicit_and_checked():
    docs = _docs_script()
    actual = ["title", "a 1", "b 2", "c 3", "took 6.4 s, 29.0 ms each"]
    assert docs.matches(["title", "...", "took 1.0 s, 2 ms each"], actual)      # ... stands for any lines
    assert docs.matches(["title", "a 1...", "...", "took 9 s, 3 ms each"], actual)  # a line ending in ... a prefix
    assert not docs.matches(["title", "a 1", "b 2"], actual)                    # lines left out need a ...
    assert not docs.matches(["title", "a 2", "..."], actual)                     # values are compared
    assert not docs.matches(["title", "...", "d 4"], actual)
