"""docs/onnx.md lists every operator the importer maps, with the count it uses."""

from accelsim.importers.onnx import NONGEMM_OPS, SUPPORTED_GEMM_OPS
from conftest import ROOT


def test_every_mapped_operator_is_in_the_coverage_tables():
    text = (ROOT / "docs" / "onnx.md").read_text()
    missing = [op for op in (*NONGEMM_OPS, *SUPPORTED_GEMM_OPS) if f"`{op}`" not in text]
    assert not missing, f"document in docs/onnx.md: {missing}"
    for category, _ in set(NONGEMM_OPS.values()):
        assert f"| {category} |" in text
