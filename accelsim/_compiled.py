"""Compiled hot loops, imported only when a run is large enough to need them.

Importing numba costs about 0.6 s (LLVM), more than most runs take, so accelsim's start-up
does not pay it: ``schedule._segments`` uses its numpy form below ``COMPILED_FROM_ROWS`` rows
and this kernel above, where the numpy form costs about 0.15 us a row and this one 0.004 us
(nvdla_small, ResNet-50 at batch 8: 7.1 million rows, 1.07 s against 0.03 s). Both follow
the same rule; tests/test_schedule.py checks each against the rule written fold by fold.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def segments(load_input, load_weight, output_claim, mergeable, slot_input, slot_weight, slot_output):
    """Greedy merge of consecutive folds into steps while each buffer's new data fits a slot."""
    n = load_input.size
    starts = np.empty(n, dtype=np.int64)
    count = 0
    i = 0
    while i < n:
        starts[count] = i
        count += 1
        a, b, c = load_input[i], load_weight[i], output_claim[i]
        i += 1
        if not mergeable[i - 1]:
            continue
        while i < n and mergeable[i]:
            a2, b2, c2 = a + load_input[i], b + load_weight[i], c + output_claim[i]
            if a2 > slot_input or b2 > slot_weight or c2 > slot_output:
                break
            a, b, c = a2, b2, c2
            i += 1
    return starts[:count]
