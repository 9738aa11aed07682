"""Cycle-by-cycle register-transfer kernels of an R x C systolic array (numba).

Two kernels: :func:`run_stationary` (WS, and IS, which is WS on the transposed
product) and :func:`run_output_stationary` (OS). Each runs a whole fold
sequence until the last output has left the array, and records per fold the
cycle its first operand vector entered, its last MAC and its last output.

Conventions (``docs/mapping.md``): cycles are 0-based; a register written in
cycle ``t`` is readable from cycle ``t + 1``, so a value may be read and
overwritten in the same cycle. Every moving register carries a tag, the
*sequence number* ``fold * T + index`` of the operand vector it belongs to (-1
for a bubble); every stationary register carries the fold it belongs to and
how often it has been used. A value used or overwritten at the wrong time
stops the run with a hazard code (``status``; the messages are in
:mod:`accelsim.reference.model`) instead of giving a plausible number.

Moving registers are double-buffered (``[t % 2]`` holds cycle t's contents,
``[1 - t % 2]`` receives cycle t's writes), which is a synchronous register
update. Each row of PEs is first checked: if every PE in it simply continues
the fold its stationary register holds, the row is updated by a branch-free
pass (``fast``); otherwise (a fold starts or ends in the row, or something is
wrong) PE by PE, which is where swaps happen and hazards are reported. The two
paths compute the same thing; ``fast=False`` runs everything PE by PE, and the
tests compare them.

Fold start times are chosen by the controller inside each kernel from the
state of the registers (the rules are in the docstrings), never from the
closed-form timing; ``forced_start`` (one cycle per fold, or all -1) overrides
them so that any schedule can be tried and its hazards seen.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Status codes (status[0]); status[1:5] = cycle, PE row, PE column, fold.
OK = 0
PORT_BUSY = 1                # a fold was started while the previous one still streams
NOT_LOADED = 2               # a PE needs a stationary value that has not arrived
STATIONARY_OVERWRITTEN = 3   # a stationary value was replaced before its last use
SHADOW_OVERWRITTEN = 4       # a shadow register was latched before its value was used
OUT_OF_STEP = 5              # operands meeting in a PE belong to different vectors
ACCUMULATOR_OVERWRITTEN = 6  # an OS accumulator was reused before its result was copied out
CHAIN_BUSY = 7               # an OS column's output chain still held the previous fold
INCOMPLETE = 8               # a result was copied out before all its MACs
TIMEOUT = 9                  # the run did not finish within max_cycles
DUPLICATE_OUTPUT = 10        # an output left the array twice


@njit("int64(int64[::1], int64, int64, int64, int64, int64)", cache=True)
def _fail(status, code, cycle, row, col, fold):
    """Record a hazard in ``status`` and return its code (one signature: compiled once)."""
    status[0] = code
    status[1] = cycle
    status[2] = row
    status[3] = col
    status[4] = fold
    return code


@njit(cache=True)
def _shift(src, dst):
    """``dst[1:] = src[:-1]``: a row of registers moving one PE to the right (a loop: faster than slices)."""
    for j in range(1, src.shape[0]):
        dst[j] = src[j - 1]


@njit(cache=True)
def _copy(src, dst):
    for j in range(src.shape[0]):
        dst[j] = src[j]


# --------------------------------------------------------------------------- WS / IS


@njit(cache=True)
def _ws_row_by_pe(i, t, T, pipelined, s_in, v_in, up_s, up_v, ps_s, ps_v,
                  act_v, act_f, act_uses, sh_v, sh_f, last_mac, status):
    """Row i of a WS array in cycle t, PE by PE: swaps to the shadow weight, reports hazards."""
    for j in range(s_in.shape[0]):
        s = s_in[j]
        if s < 0:
            if i > 0 and up_s[j] >= 0:
                return _fail(status, OUT_OF_STEP, t, i, j, up_s[j] // T)
            ps_s[j] = -1
            continue
        f = act_f[j]
        d = s - f * T
        if f < 0 or d < 0 or d >= T:
            # the first vector of a new fold: switch to the shadow weight (pipelined only)
            if not pipelined:
                return _fail(status, NOT_LOADED, t, i, j, s // T)
            nf = sh_f[j]
            if nf < 0 or s != nf * T:
                return _fail(status, NOT_LOADED, t, i, j, s // T)
            if f >= 0 and act_uses[j] != T:
                return _fail(status, STATIONARY_OVERWRITTEN, t, i, j, f)
            act_v[j] = sh_v[j]
            act_f[j] = nf
            act_uses[j] = 0
            sh_f[j] = -1
            f = nf
        act_uses[j] += 1
        if i > 0:
            if up_s[j] != s:
                return _fail(status, OUT_OF_STEP, t, i, j, f)
            ps_v[j] = up_v[j] + np.int64(v_in[j]) * act_v[j]
        else:
            ps_v[j] = np.int64(v_in[j]) * act_v[j]
        ps_s[j] = s
        last_mac[f] = t
    return OK


@njit(cache=True)
def _ws_row_fast(i, t, T, s_in, v_in, up_s, up_v, ps_s, ps_v, act_v, act_f, act_uses, last_mac):
    """Row i in cycle t when every PE continues its weight's fold (at most two folds in the row).

    Returns False, having changed nothing, when the row needs the PE-by-PE path.
    Written as plain loops over the row so that they vectorise.
    """
    C = s_in.shape[0]
    bad = False
    smin = np.uint32(0xFFFFFFFF)  # a bubble (-1) is the largest unsigned value
    smax = np.int32(-1)
    for j in range(C):
        s = s_in[j]
        bad |= (s >= 0) & (np.uint32(s - act_f[j] * T) >= T)  # not the fold of its weight
        smin = min(smin, np.uint32(s))
        smax = max(smax, s)
    if i > 0:
        for j in range(C):
            bad |= up_s[j] != s_in[j]
    if bad:
        return False
    if smax >= 0:
        fold_lo = np.int64(smin) // T
        fold_hi = np.int64(smax) // T
        if fold_hi - fold_lo > 1:
            return False
        last_mac[fold_lo] = t
        last_mac[fold_hi] = t
    if i > 0:
        for j in range(C):
            ps_v[j] = up_v[j] + np.int64(v_in[j]) * act_v[j]
    else:
        for j in range(C):
            ps_v[j] = np.int64(v_in[j]) * act_v[j]
    for j in range(C):
        ps_s[j] = s_in[j]
        act_uses[j] += s_in[j] >= 0
    return True


@njit(cache=True)
def run_stationary(stream, stationary, rows, cols, pipelined, fold_rep, fold_row, fold_col,
                   forced_start, max_cycles, fast, out, first_cycle, last_mac, last_out, status):
    """WS on an R x C array: ``out[g] += stream[g] @ stationary[g]`` fold by fold.

    ``stream`` is (G, T, Kp) and enters row i from the left (vector m of fold f in
    cycle ``s_f + m + i``); ``stationary`` is (G, Kp, Np) and sits in the PEs; the
    partial sums flow down and leave row R-1 into ``out`` (G, T, Np), which
    accumulates over row folds like an output buffer. Fold f is tile
    ``(fold_row[f], fold_col[f])`` of repeat ``fold_rep[f]``.

    SCALE-Sim compatible (``pipelined`` false): one weight register per PE, which
    is also the preload shift chain. A fold's preload (R cycles, bottom row's
    weight first) starts the cycle after the previous fold's last output left;
    its stream starts the cycle after the preload ends.

    Pipelined: each PE has an active and a shadow weight register; a PE swaps
    shadow -> active when the first vector of a new fold reaches it. Column j has
    its own load chain (R cycles, latched into the column's R shadow registers at
    the end of the R-th cycle); it starts as soon as PE(0, j)'s shadow register is
    free (its value swapped into the active register in this cycle or earlier).
    A fold starts streaming once row 0's input port is free and PE(0, 0)'s shadow
    register holds that fold's weight.
    """
    R = rows
    C = cols
    F = fold_rep.shape[0]
    T = stream.shape[1]
    # moving registers, double-buffered: streamed operand (moves right), partial sum (moves down)
    in_v = np.zeros((2, R, C), np.int32)
    in_s = np.full((2, R, C), -1, np.int32)
    ps_v = np.zeros((2, R, C), np.int64)
    ps_s = np.full((2, R, C), -1, np.int32)
    # stationary registers: value, fold (-1: none or in transit), MACs done with it
    act_v = np.zeros((R, C), np.int32)
    act_f = np.full((R, C), -1, np.int32)
    act_uses = np.zeros((R, C), np.int32)
    sh_v = np.zeros((R, C), np.int32)
    sh_f = np.full((R, C), -1, np.int32)  # -1: free (never loaded, or swapped out)
    # Per-column load chains (pipelined). Nothing reads a chain before its R
    # entries are latched together, so it is kept as its entries in entry order.
    chain_fold = np.full(C, -1, np.int64)
    chain_step = np.zeros(C, np.int64)
    chain_buf = np.zeros((C, R), np.int32)
    next_load = np.zeros(C, np.int64)
    # SCALE-Sim preload state
    pre_fold = -1
    pre_step = 0
    next_pre = 0
    armed_fold = -1
    # input skew: hist[t % R] is what row 0 received in cycle t (row i sees it i cycles later)
    hist = np.full(R, -1, np.int64)
    outs = np.zeros(F, np.int64)
    expected = T * C
    next_fold = 0
    cur = -1
    cur_start = 0
    done = 0
    for t in range(max_cycles):
        if done == F:
            return OK
        old = t & 1
        new = 1 - old
        # ---- controller, start of cycle t
        if not pipelined and pre_fold < 0 and next_pre < F:
            f = next_pre
            if forced_start[f] >= 0:
                go = t == forced_start[f] - R
            else:
                go = f == 0 or (outs[f - 1] == expected and last_out[f - 1] < t)
            if go:
                pre_fold = f
                pre_step = 0
                next_pre += 1
        elif not pipelined and pre_fold >= 0 and next_pre < F and forced_start[next_pre] - R == t:
            return _fail(status, PORT_BUSY, t, -1, -1, next_pre)
        if next_fold < F:
            f = next_fold
            port_free = cur < 0 or t >= cur_start + T
            if forced_start[f] >= 0:
                go = t == forced_start[f]
                if go and not port_free:
                    return _fail(status, PORT_BUSY, t, 0, -1, f)
            elif pipelined:
                go = port_free and sh_f[0, 0] == f
            else:
                go = port_free and armed_fold == f
            if go:
                cur = f
                cur_start = t
                first_cycle[f] = t
                next_fold += 1
        s0 = -1
        if cur >= 0 and t - cur_start < T:
            s0 = cur * T + (t - cur_start)
        hist[t % R] = s0
        # ---- the PEs
        for i in range(R - 1, -1, -1):
            s_in = in_s[new, i]
            v_in = in_v[new, i]
            _shift(in_s[old, i], s_in)
            _shift(in_v[old, i], v_in)
            s = hist[(t - i) % R] if t >= i else -1
            s_in[0] = s
            if s >= 0:
                f = s // T
                v_in[0] = stream[fold_rep[f], s - f * T, fold_row[f] * R + i]
            # partial sums from the row above (row 0 has none; the views are then unused)
            up_s = ps_s[old, i - 1] if i > 0 else ps_s[new, i]
            up_v = ps_v[old, i - 1] if i > 0 else ps_v[new, i]
            if not (fast and _ws_row_fast(i, t, T, s_in, v_in, up_s, up_v, ps_s[new, i], ps_v[new, i],
                                          act_v[i], act_f[i], act_uses[i], last_mac)):
                if _ws_row_by_pe(i, t, T, pipelined, s_in, v_in, up_s, up_v, ps_s[new, i], ps_v[new, i],
                                 act_v[i], act_f[i], act_uses[i], sh_v[i], sh_f[i], last_mac, status):
                    return status[0]
        # ---- row R-1's partial sums leave the array at the end of this cycle
        for j in range(C):
            s = ps_s[new, R - 1, j]
            if s >= 0:
                f = act_f[R - 1, j]
                out[fold_rep[f], s - f * T, fold_col[f] * C + j] += ps_v[new, R - 1, j]
                outs[f] += 1
                last_out[f] = t
                if outs[f] == expected:
                    done += 1
        # ---- end of cycle t: stationary loads
        if pipelined:
            for j in range(C):
                if chain_fold[j] < 0 and next_load[j] < F and sh_f[0, j] < 0:
                    chain_fold[j] = next_load[j]
                    chain_step[j] = 0
                    next_load[j] += 1
                if chain_fold[j] >= 0:
                    f = chain_fold[j]
                    st = chain_step[j]
                    chain_buf[j, st] = stationary[fold_rep[f], fold_row[f] * R + R - 1 - st, fold_col[f] * C + j]
                    chain_step[j] = st + 1
                    if st + 1 == R:
                        for i in range(R):
                            if sh_f[i, j] >= 0:
                                return _fail(status, SHADOW_OVERWRITTEN, t, i, j, sh_f[i, j])
                            sh_v[i, j] = chain_buf[j, R - 1 - i]
                            sh_f[i, j] = f
                        chain_fold[j] = -1
        elif pre_fold >= 0:
            # the weight registers shift down one row; the top row takes the next weight
            f = pre_fold
            for j in range(C):
                for i in range(R - 1, -1, -1):
                    if act_f[i, j] >= 0 and act_uses[i, j] != T:
                        return _fail(status, STATIONARY_OVERWRITTEN, t, i, j, act_f[i, j])
                    if i > 0:
                        act_v[i, j] = act_v[i - 1, j]
                    else:
                        act_v[i, j] = stationary[fold_rep[f], fold_row[f] * R + R - 1 - pre_step, fold_col[f] * C + j]
                    act_f[i, j] = -1
            pre_step += 1
            if pre_step == R:
                for i in range(R):
                    for j in range(C):
                        act_f[i, j] = f
                        act_uses[i, j] = 0
                armed_fold = f
                pre_fold = -1
    if done == F:
        return OK
    return _fail(status, TIMEOUT, max_cycles, -1, -1, next_fold)


# --------------------------------------------------------------------------- OS


@njit(cache=True)
def _os_row_by_pe(i, t, R, T, pipelined, a_s, a_v, w_s, w_v, acc_v, acc_f, acc_n, oth_v, oth_f, oth_n,
                  all_v, all_f, all_n, all_ov, all_of, all_on,
                  chain_v, chain_f, chain_left, completed, boundary, last_mac, status):
    """Row i of an OS array in cycle t, PE by PE: fold starts (accumulator toggle), ends
    (copy of the column into its output chain when i = R-1), hazards.

    ``acc_*`` is the accumulator in use, ``oth_*`` the other one (pipelined only);
    toggling swaps them. ``all_*`` are the whole arrays, for the column copy.
    """
    for j in range(a_s.shape[0]):
        sa = a_s[j]
        sw = w_s[j]
        if sa < 0 and sw < 0:
            continue
        if sa != sw:
            return _fail(status, OUT_OF_STEP, t, i, j, max(sa, sw) // T)
        f = acc_f[j]
        k = sa - f * T
        prod = np.int64(a_v[j]) * w_v[j]
        if f >= 0 and 0 <= k < T:
            if acc_n[j] != k:
                return _fail(status, OUT_OF_STEP, t, i, j, f)
            acc_v[j] += prod
            acc_n[j] = k + 1
        else:
            f = sa // T
            k = sa - f * T
            if k != 0:
                return _fail(status, OUT_OF_STEP, t, i, j, f)
            if pipelined:
                acc_v[j], oth_v[j] = oth_v[j], acc_v[j]
                acc_f[j], oth_f[j] = oth_f[j], acc_f[j]
                acc_n[j], oth_n[j] = oth_n[j], acc_n[j]
            if acc_f[j] >= 0:
                return _fail(status, ACCUMULATOR_OVERWRITTEN, t, i, j, acc_f[j])
            acc_f[j] = f
            acc_v[j] = prod
            acc_n[j] = 1
            if i == R - 1 and j == 0:
                boundary[f] = t
        last_mac[f] = t
        if k == T - 1:
            completed[f] += 1
            if i == R - 1:
                # Copy column j into its output chain at the end of this cycle. The rows
                # above are not updated yet in this cycle: their registers hold what the
                # latch sees; PE(R-1, j)'s own result comes through a bypass.
                if chain_left[j] > 0:
                    return _fail(status, CHAIN_BUSY, t, i, j, chain_f[j])
                for r in range(R):
                    if all_f[r, j] == f and all_n[r, j] == T:
                        chain_v[j, r] = all_v[r, j]
                        all_f[r, j] = -1
                    elif pipelined and all_of[r, j] == f and all_on[r, j] == T:
                        chain_v[j, r] = all_ov[r, j]
                        all_of[r, j] = -1
                    else:
                        return _fail(status, INCOMPLETE, t, r, j, f)
                chain_f[j] = f
                chain_left[j] = R
    return OK


@njit(cache=True)
def _os_row_fast(t, T, a_s, a_v, w_s, w_v, acc_v, acc_f, acc_n, last_mac):
    """Row of an OS array in cycle t when every PE continues its accumulation (neither the
    first nor the last MAC of a fold, at most two folds in the row).

    Returns False, having changed nothing, when the row needs the PE-by-PE path.
    Written as plain loops over the row so that they vectorise.
    """
    C = a_s.shape[0]
    bad = False
    smin = np.uint32(0xFFFFFFFF)  # a bubble (-1) is the largest unsigned value
    smax = np.int32(-1)
    for j in range(C):
        sa = a_s[j]
        k = sa - acc_f[j] * T  # MAC index within the accumulator's fold (when it is that fold)
        bad |= sa != w_s[j]
        bad |= (sa >= 0) & ((k < 1) | (k > T - 2) | (acc_n[j] != k))
        smin = min(smin, np.uint32(sa))
        smax = max(smax, sa)
    if bad:
        return False
    if smax >= 0:
        fold_lo = np.int64(smin) // T
        fold_hi = np.int64(smax) // T
        if fold_hi - fold_lo > 1:
            return False
        last_mac[fold_lo] = t
        last_mac[fold_hi] = t
    for j in range(C):
        valid = a_s[j] >= 0
        acc_v[j] += np.int64(a_v[j]) * w_v[j] if valid else 0
        acc_n[j] += valid
    return True


@njit(cache=True)
def run_output_stationary(left, top, rows, cols, pipelined, fold_rep, fold_row, fold_col,
                          forced_start, max_cycles, fast, out, written, first_cycle, last_mac, last_out,
                          status):
    """OS on an R x C array: ``out[g] = left[g] @ top[g]`` fold by fold.

    ``left`` is (G, Mp, T): row i of fold f receives ``left[g, row*R + i, k]`` in
    cycle ``s_f + k + i``; ``top`` is (G, T, Np): column j receives
    ``top[g, k, col*C + j]`` in cycle ``s_f + k + j``. PE(i, j) accumulates its
    output; when PE(R-1, j) does its last MAC, column j's R results are copied
    into the column's output chain at the end of that cycle, and leave its
    bottom one per cycle in the following R cycles (row R-1's first).

    SCALE-Sim compatible: one accumulator per PE; a fold starts the cycle after
    every PE finished the previous one.

    Pipelined: two accumulators per PE; a PE toggles to the other one when the
    first vector of a new fold reaches it. A fold starts once row 0's input port
    is free and the previous fold's first vector has reached PE(R-1, 0), so that
    at most one fold boundary travels down a column (each column's output chain
    takes one fold's R results per R cycles).
    """
    R = rows
    C = cols
    F = fold_rep.shape[0]
    T = left.shape[2]
    L = max(R, C)
    in_v = np.zeros((2, R, C), np.int32)
    in_s = np.full((2, R, C), -1, np.int32)
    w_v = np.zeros((2, R, C), np.int32)
    w_s = np.full((2, R, C), -1, np.int32)
    acc_v = np.zeros((R, C), np.int64)
    acc_f = np.full((R, C), -1, np.int32)  # fold held; -1: free (copied out)
    acc_n = np.zeros((R, C), np.int32)     # MACs accumulated
    oth_v = np.zeros((R, C), np.int64)
    oth_f = np.full((R, C), -1, np.int32)
    oth_n = np.zeros((R, C), np.int32)
    # Output chains: column j holds chain_left[j] results, rows 0 .. chain_left[j]-1, the
    # highest row at the bottom (it leaves next): an R-entry shift chain.
    chain_v = np.zeros((C, R), np.int64)
    chain_f = np.full(C, -1, np.int64)
    chain_left = np.zeros(C, np.int64)
    hist = np.full(L, -1, np.int64)
    completed = np.zeros(F, np.int64)
    boundary = np.full(F, -1, np.int64)  # cycle at which fold f's first vector reached PE(R-1, 0)
    outs = np.zeros(F, np.int64)
    expected = R * C
    next_fold = 0
    cur = -1
    cur_start = 0
    done = 0
    for t in range(max_cycles):
        if done == F:
            return OK
        old = t & 1
        new = 1 - old
        # ---- controller, start of cycle t
        if next_fold < F:
            f = next_fold
            port_free = cur < 0 or t >= cur_start + T
            if forced_start[f] >= 0:
                go = t == forced_start[f]
                if go and not port_free:
                    return _fail(status, PORT_BUSY, t, 0, 0, f)
            elif cur < 0:
                go = True
            elif pipelined:
                go = port_free and 0 <= boundary[cur] < t
            else:
                go = completed[cur] == R * C and last_mac[cur] < t
            if go:
                cur = f
                cur_start = t
                first_cycle[f] = t
                next_fold += 1
        s0 = -1
        if cur >= 0 and t - cur_start < T:
            s0 = cur * T + (t - cur_start)
        hist[t % L] = s0
        # ---- output chains: the bottom result leaves in this cycle
        for j in range(C):
            n = chain_left[j]
            if n > 0:
                f = chain_f[j]
                r = n - 1
                g = fold_rep[f]
                m = fold_row[f] * R + r
                c = fold_col[f] * C + j
                if written[g, m, c]:
                    return _fail(status, DUPLICATE_OUTPUT, t, r, j, f)
                out[g, m, c] = chain_v[j, r]
                written[g, m, c] = 1
                chain_left[j] = r
                outs[f] += 1
                last_out[f] = t
                if outs[f] == expected:
                    done += 1
        # ---- operands enter: row 0 from the top edge, column 0 from the left edge
        for j in range(C):
            s = hist[(t - j) % L] if t >= j else -1
            w_s[new, 0, j] = s
            if s >= 0:
                f = s // T
                w_v[new, 0, j] = top[fold_rep[f], s - f * T, fold_col[f] * C + j]
        # ---- the PEs, bottom row first (the column copy reads the rows above before they change)
        for i in range(R - 1, -1, -1):
            a_s = in_s[new, i]
            a_v = in_v[new, i]
            _shift(in_s[old, i], a_s)
            _shift(in_v[old, i], a_v)
            s = hist[(t - i) % L] if t >= i else -1
            a_s[0] = s
            if s >= 0:
                f = s // T
                a_v[0] = left[fold_rep[f], fold_row[f] * R + i, s - f * T]
            if i > 0:
                _copy(w_s[old, i - 1], w_s[new, i])
                _copy(w_v[old, i - 1], w_v[new, i])
            if not (fast and _os_row_fast(t, T, a_s, a_v, w_s[new, i], w_v[new, i],
                                          acc_v[i], acc_f[i], acc_n[i], last_mac)):
                if _os_row_by_pe(i, t, R, T, pipelined, a_s, a_v, w_s[new, i], w_v[new, i],
                                 acc_v[i], acc_f[i], acc_n[i], oth_v[i], oth_f[i], oth_n[i],
                                 acc_v, acc_f, acc_n, oth_v, oth_f, oth_n,
                                 chain_v, chain_f, chain_left, completed, boundary, last_mac, status):
                    return status[0]
    if done == F:
        return OK
    return _fail(status, TIMEOUT, max_cycles, -1, -1, next_fold)
