#!/usr/bin/env python3
"""The issue-17 comparison with ZigZag's LOMA mapper, per layer: ResNet-18's 20 convolutions on
Gemmini's first-version buffers (16 x 16 WS; separate 128 / 128 / 64 KiB input, weight and
accumulator buffers; ``activations: dram``, so every layer moves its own tensors).

Prints, per convolution, accelsim's DRAM bytes, the layer's compulsory bytes (its input
footprint, weights and outputs, each once), their ratio and the lower bound
(docs/metrics.md), then the totals and the geometric mean of the ratios. ZigZag 3.9.1, set
to minimise DRAM bytes on the same buffers, moved 15.79 MB in total (1.01x compulsory),
against 24.07 MB for accelsim at 431bebc (the issue's numbers).

    python scripts/zigzag_table.py            # this tree
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import accelsim  # noqa: E402
from accelsim.config.loader import with_overrides  # noqa: E402
from accelsim.config.workload import Conv2d  # noqa: E402
from accelsim.traffic import compulsory_traffic  # noqa: E402

HWCONFIG = ROOT / "tests" / "data" / "first_version" / "hwconfigs" / "gemmini.yaml"


def main() -> int:
    hw = with_overrides(accelsim.load_hardware(HWCONFIG), {"activations": "dram"})
    wl = accelsim.load_workload("resnet18")
    start = time.process_time()
    run = accelsim.analyze(hw, wl)
    seconds = time.process_time() - start
    pairs = [(layer, spec) for layer, spec in zip(run.layers, wl.layers) if isinstance(spec, Conv2d)]
    convs = [layer for layer, _ in pairs]
    own = {layer.name: compulsory_traffic(spec, hw, wl.batch).total for layer, spec in pairs}
    bound = {layer.name: layer.dram_lower_bound for layer in convs}
    print(f"{'layer':12s} {'DRAM B':>11s} {'compulsory B':>13s} {'ratio':>6s} {'lower bound B':>14s}")
    ratios = []
    for layer in convs:
        dram, comp = layer.dram.total, own[layer.name]
        ratios.append(dram / comp)
        lb = bound[layer.name]
        print(f"{layer.name:12s} {dram:11,d} {comp:13,d} {dram / comp:6.3f} "
              f"{'-' if lb is None else format(lb, ','):>14s}")
    total, comp = sum(x.dram.total for x in convs), sum(own.values())
    geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"{'total':12s} {total:11,d} {comp:13,d} {total / comp:6.3f}")
    print(f"geomean ratio {geomean:.3f}, worst {max(ratios):.3f}; analytical run {seconds:.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
