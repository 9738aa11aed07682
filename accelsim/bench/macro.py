"""The macro-benchmark suite: the shipped networks at batch 1 and at a throughput batch.

Batch 1 measures latency; the throughput batch measures what the design
sustains when weights are reused across samples. The default throughput batch
is 8: the engine's cost grows with the bytes moved (docs/engine.md), and 8 keeps
the suite on three designs to about a quarter of a minute on two cores while
already amortising the weight traffic of every network (a larger ``--batch``
moves the throughput column further, at proportional cost).
"""

from __future__ import annotations

from accelsim.bench.runner import Case
from accelsim.config import load_workload

MACRO_SUITE = "accelsim-macro"
MACRO_VERSION = "1"
NETWORKS = ("resnet50", "resnet18", "mobilenet_v1", "mobilenet_v2", "vgg16", "alexnet", "bert_base_layer")
THROUGHPUT_BATCH = 8


def case_label(network: str, batch: int) -> str:
    return f"{network} b{batch}"


def macro_cases(batch: int = THROUGHPUT_BATCH, networks: tuple[str, ...] | None = None) -> list[Case]:
    """Each network (default: ``NETWORKS``) at batch 1 and at ``batch`` (once if ``batch`` is 1)."""
    cases = []
    for network in networks or NETWORKS:
        workload = load_workload(network)
        for b in dict.fromkeys((1, batch)):
            cases.append(Case(case_label(network, b), workload.with_batch(b), network))
    return cases
