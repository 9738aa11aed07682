"""Compiled hot loops, imported only when a run is large enough to need them.

Importing numba costs about 0.4-0.6 s (LLVM) and 85 MiB, more than most runs take, so accelsim's
start-up does not pay it: ``schedule._segments`` uses its numpy form (about 0.15 us a row at a
million rows, more above, and 90 bytes a row of lists) unless a merge is large enough that the
import pays (``LOAD_COMPILED_FROM_ROWS`` rows) or numba is loaded already (then from
``COMPILED_FROM_ROWS`` rows; this kernel takes about 0.004 us a row): ``schedule._compiled_pays``.
Since layouts repeat blocks of one kind, no shipped network at batch 1 or 8 merges that many rows
at once (VGG-16 at batch 8 on nvdla_small: 1.6 million at most). Both follow the same rule;
tests/test_schedule.py checks each against the rule written fold by fold.
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
