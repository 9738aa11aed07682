#!/usr/bin/env python3
"""Random layers and designs through the tiler, against the tiler's own definition of its choice.

For each case (a random convolution or GEMM, batch and variant of a shipped hwconfig: array
shape, dataflow, buffer sizes, fold mode, double buffering), ``LayerTiler.choose_blocks`` must
choose what evaluating every candidate of every split chooses (the splits tried in order until
one reaches the floor, ties as documented in docs/engine.md), and no candidate may move fewer
DRAM bytes than ``LayerTiler.floor_bytes``, nor (with the time blocks outside) than its time
block's ``LayerTiler.lower_bytes``: the bounds the skipping of candidates relies on.
Both are checked in one process, one case at a time; a design or layer the config rejects is
skipped, and one whose every split fails (``MappingError``) must fail in the oracle too.

    python scripts/fuzz_tiler.py --cases 2000             # about 10 s on one core
    python scripts/fuzz_tiler.py --cases 500 --seed 7 --part 1/2   # half of the cases (two cores)

Prints each differing case (its description as JSON, what was chosen and what should have been)
and a summary; exits 1 when any case differs or beats a bound. With the row count before
23a2853 (windows in a padding wider than the stride counted as touching rows), ``--cases 8000
--seed 5`` finds one case below the floor; fewer cases may find none. It draws no sparsity,
on-chip operands or reduced free space (the schedule's paths); the tests cover those.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HW = ["tpu_v1", "gemmini", "nvdla_small", "nvdla_large", "eyeriss_like", "scalesim_32x32", "edge_example", "tpu_v4i"]
BUFFERS = {  # the shipped configs' buffer sizes, as --set paths
    "tpu_v1": ["buffers.unified_buffer.size_kib", "buffers.weight_fifo.size_kib", "buffers.accumulators.size_kib"],
    "gemmini": ["buffers.scratchpad.size_kib", "buffers.accumulator.size_kib"],
    "nvdla_small": ["buffers.cbuf.size_kib", "buffers.cacc.size_kib"],
    "nvdla_large": ["buffers.cbuf.size_kib", "buffers.cacc.size_kib"],
    "eyeriss_like": ["sram.input.size_kib", "sram.weight.size_kib", "sram.output.size_kib"],
    "scalesim_32x32": ["sram.input.size_kib", "sram.weight.size_kib", "sram.output.size_kib"],
    "edge_example": ["buffers.activation_buffer.size_kib", "buffers.weight_buffer.size_kib",
                     "buffers.accumulator.size_kib"],
    "tpu_v4i": ["buffers.vmem.size_kib"],
}
KIB = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024, 2048, 4096]


def _logint(rng: random.Random, lo: int, hi: int) -> int:
    """Log-uniform in [lo, hi] half the time, uniform the other half."""
    if rng.random() < 0.5:
        return rng.randint(lo, hi)
    return max(lo, min(hi, int(round(math.exp(rng.uniform(math.log(lo), math.log(hi + 0.999)))))))


def _design(rng: random.Random, many_blocks: bool) -> dict:
    name, overrides = rng.choice(HW), {}
    if many_blocks or rng.random() < 0.45:
        small = (8, 32) if many_blocks else (4, 256)
        overrides["array.rows"] = rng.randint(*small)
        overrides["array.cols"] = rng.randint(*small)
    if rng.random() < 0.5:
        overrides["array.dataflow"] = rng.choice(["ws", "os", "is"])
    for path in BUFFERS[name]:
        if rng.random() < 0.7:
            overrides[path] = rng.randint(8, 512) if many_blocks else rng.choice(KIB)
    if rng.random() < 0.1:
        overrides["array.pipelined_folds"] = rng.choice([True, False])
    if name in ("eyeriss_like", "scalesim_32x32") and rng.random() < 0.2:
        overrides[f"sram.{rng.choice(['input', 'weight', 'output'])}.double_buffered"] = rng.choice([True, False])
    return {"hw": name, "overrides": overrides}


def _layer(rng: random.Random, many_blocks: bool) -> dict:
    if rng.random() < 0.35:
        hi = 1024 if many_blocks else 5000
        return {"type": "gemm", "M": _logint(rng, 1, hi), "N": _logint(rng, 1, hi), "K": _logint(rng, 1, hi)}
    groups = rng.choice([1, 1, 1, 2, 4, "depthwise"])
    most = 256 if many_blocks else 512
    if groups == "depthwise":
        C = K = groups = _logint(rng, 1, most)
    else:
        C, K = groups * _logint(rng, 1, most // groups), groups * _logint(rng, 1, most // groups)
    H = _logint(rng, 1, 32 if many_blocks else 64)
    return {"type": "conv", "H": H, "W": H if rng.random() < 0.6 else _logint(rng, 1, 64), "C": C, "K": K,
            "R": rng.choice([1, 3, 5, 7]), "stride": rng.choice([1, 1, 2, 3]), "padding": rng.choice([0, 0, 1, 2, 3]),
            "dilation": rng.choice([1, 1, 1, 2]), "groups": groups}


def make_cases(count: int, seed: int) -> list[dict]:
    """``count`` cases, a quarter of them with many time blocks (batch 16-64, small arrays and buffers)."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        many = i % 4 == 3
        cases.append({"id": i, **_design(rng, many), "layer": _layer(rng, many),
                      "batch": rng.randint(16, 64) if many else rng.choice([1, 2, 3, 8])})
    return cases


def build(case: dict):
    """The case's hardware and layer (ConfigError when the config rejects them)."""
    from accelsim import load_hardware
    from accelsim.config.loader import with_overrides
    from accelsim.config.workload import Conv2d, Gemm

    hw = with_overrides(load_hardware(case["hw"]), case["overrides"])
    L = case["layer"]
    if L["type"] == "gemm":
        return hw, Gemm(name="g", M=L["M"], N=L["N"], K=L["K"])
    s, p, d = L["stride"], L["padding"], L["dilation"]
    return hw, Conv2d(name="c", H=L["H"], W=L["W"], C=L["C"], K=L["K"], R=L["R"], S=L["R"], stride=(s, s),
                      padding=(p, p, p, p), dilation=(d, d), groups=L["groups"])


def every_candidate(tiler) -> tuple:
    """The oracle: the chosen candidate and the index of its split, from every candidate of the
    splits tried (None, None when no split holds a stationary tile), and how many candidates of
    any split move fewer bytes than the floor or their time block's lower bound."""
    from accelsim.errors import MappingError

    floor, options, below, tried = tiler.floor_bytes(), [], 0, True
    for index, (slots, room) in enumerate(zip(tiler.splits, tiler._rooms)):
        tiler.slots, tiler.room = slots, room
        try:
            tiler.check_stationary()
        except MappingError:
            continue
        for c in tiler.candidates():
            below += c.dram_bytes < floor or (not c.time_inside and c.dram_bytes < tiler.lower_bytes(c.time_block))
            if tried:
                options.append(((c.dram_bytes, -c.time_block, c.group != 0, c.time_inside,
                                 c.order != "cols_inner", -c.group, index), c))
        if options and min(key[0] for key, _ in options) <= floor:
            tried = False  # the choice tries no later split; their candidates are still bounded
    if not options:
        return None, None, below
    key, best = min(options, key=lambda option: option[0])
    return best, key[-1], below


def check(case: dict) -> str | None:
    """None when the case passes, "rejected" when the config rejects it, else what went wrong."""
    from accelsim.errors import ConfigError, MappingError
    from accelsim.mapping.tiling import LayerTiler

    try:
        hw, layer = build(case)
    except ConfigError:
        return "rejected"
    tiler = LayerTiler(layer, hw, case["batch"])
    try:
        tiling, _, _ = tiler.choose_blocks()
    except MappingError:
        tiling = None
    oracle = LayerTiler(layer, hw, case["batch"])
    best, split, below = every_candidate(oracle)
    if below:
        return f"{below} candidates move fewer bytes than the floor or their time block's lower bound"
    if best is None:
        return None if tiling is None else "a tiling chosen where no split holds a stationary tile"
    if tiling is None:  # the choice failed to lay out: so must the oracle's (a stream step too large)
        oracle.slots, oracle.room = oracle.splits[split], oracle._rooms[split]
        try:
            oracle.lay_out_blocks(best.order, best.time_block, best.group, best.time_inside)
        except MappingError:
            return None
        return "the tiler failed where every candidate's choice lays out"
    got = (tiling.order, tiling.time_blocks, tiling.group, tiling.time_inside, tiling.slot_bytes,
           min(c.dram_bytes for c in tiling.considered))
    want = (best.order, len(tiler.time_ranges(best.time_block)), best.group, best.time_inside,
            tuple(oracle.splits[split].items()), best.dram_bytes)
    return None if got == want else f"chose {got}, every candidate gives {want}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--part", default="1/1", help="K/N: only every N-th case, from the K-th (for N processes)")
    args = parser.parse_args(argv)
    k, n = (int(x) for x in args.part.split("/"))
    start, failed, rejected, checked = time.time(), 0, 0, 0
    for case in make_cases(args.cases, args.seed)[k - 1::n]:
        checked += 1
        problem = check(case)
        if problem == "rejected":
            rejected += 1
        elif problem is not None:
            failed += 1
            print(json.dumps(case), "->", problem, flush=True)
    print(f"{checked} cases ({rejected} rejected by the config): {checked - rejected - failed} ok, {failed} differ "
          f"({time.time() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
