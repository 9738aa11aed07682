"""Documentation generated from the code: field tables with their bounds, and the input limits.

The tables in docs/hardware.md and docs/workloads.md sit between ``<!-- generated: NAME -->``
and ``<!-- end: NAME -->`` markers; ``python scripts/update_doc_outputs.py`` rewrites them
from :func:`generated_blocks`, and ``tests/test_docs.py`` fails when they differ, so a bound
cannot change in the code without its documentation.
"""

from __future__ import annotations

import re

from accelsim.config.hardware import Hardware
from accelsim.config.schema import field_docs

BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- end: (?P=name) -->)", re.S)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def hardware_fields() -> str:
    rows = [[f"`{path}`", expected, default, doc] for path, expected, default, doc in field_docs(Hardware)]
    return _table(["path", "expected", "default", "meaning"], rows)


def workload_fields() -> str:
    from accelsim.config.loader import LAYER_TYPES, _EltwiseSpec, _FcSpec, _PoolSpec
    from accelsim.config.workload import Conv2d, Gemm, NonGemm, Workload

    classes = {"conv2d": Conv2d, "gemm": Gemm, "fc": _FcSpec, "pool": _PoolSpec, "eltwise": _EltwiseSpec,
               "nongemm": NonGemm}
    assert set(classes) == set(LAYER_TYPES), "document every layer type"
    rows = [["workload", f"`{path}`", expected, default] for path, expected, default, _ in field_docs(Workload)
            if path != "source"]
    for kind, cls in classes.items():
        rows += [[f"`{kind}`", f"`{path}`", expected, default] for path, expected, default, _ in field_docs(cls)]
    return _table(["in", "field", "expected", "default"], rows)


def input_limits() -> str:
    from accelsim.limits import documented_limits

    return _table(["what", "bound", "why"], [[what, bound, why] for what, bound, why in documented_limits()])


def generated_blocks() -> dict[str, str]:
    """Every generated block of the docs, by name."""
    return {"hardware-fields": hardware_fields(), "workload-fields": workload_fields(),
            "input-limits": input_limits()}


def refresh(text: str, blocks: dict[str, str] | None = None) -> str:
    """``text`` with every generated block replaced by its current content."""
    blocks = generated_blocks() if blocks is None else blocks

    def replace(match: re.Match) -> str:
        name = match.group("name")
        return match.group(1) + blocks[name] + match.group(4) if name in blocks else match.group(0)

    return BLOCK.sub(replace, text)
