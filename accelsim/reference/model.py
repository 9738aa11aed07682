"""Run one GEMM through the register-transfer model and report what the array did.

:func:`simulate_gemm` folds ``A (M x K) @ B (K x N)`` onto the array the way
:mod:`accelsim.mapping` does (SCALE-Sim's table: OS rows M / columns N / time K,
WS K / N / M, IS K / M / N; folds in SCALE-Sim's order: repeat, column fold,
row fold), runs :mod:`accelsim.reference.kernels` and returns the product the
array computed with per-fold cycle records. The cycle numbers come from the
registers, not from :mod:`accelsim.mapping.dataflow`; comparing the two is the
point (``tests/reference``, ``accelsim validate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accelsim.config.hardware import ArrayConfig, Dataflow
from accelsim.reference import kernels

INT32 = np.iinfo(np.int32)

HAZARDS = {
    kernels.PORT_BUSY: "a fold started while the previous one was still streaming into the array",
    kernels.NOT_LOADED: "the PE needed a stationary value that had not arrived",
    kernels.STATIONARY_OVERWRITTEN: "a stationary value was overwritten before its last use",
    kernels.SHADOW_OVERWRITTEN: "a shadow register was overwritten before its value was used",
    kernels.OUT_OF_STEP: "operands meeting in the PE belong to different vectors",
    kernels.ACCUMULATOR_OVERWRITTEN: "an accumulator was reused before its result was copied out",
    kernels.CHAIN_BUSY: "the column's output chain still held the previous fold's results",
    kernels.INCOMPLETE: "a result was copied out before all its MACs",
    kernels.TIMEOUT: "the run did not finish in time (a fold never became ready)",
    kernels.DUPLICATE_OUTPUT: "an output left the array twice",
}


class HazardError(AssertionError):
    """The array used or overwrote a value at the wrong time: the schedule is too aggressive."""

    def __init__(self, code: int, cycle: int, row: int, col: int, fold: int):
        self.code = code
        self.cycle = cycle
        self.pe = (row, col)
        self.fold = fold
        where = f"PE({row},{col})" if row >= 0 and col >= 0 else ("row 0 input port" if row == 0 else "controller")
        super().__init__(f"hazard in cycle {cycle} at {where}, fold {fold}: {HAZARDS[code]}")


@dataclass(frozen=True)
class FoldRecord:
    """What one fold did, as 0-based cycle indices from the start of the GEMM."""

    stream_start_cycle: int  # its first operand vector entered row 0
    last_mac_cycle: int      # its last MAC anywhere in the array
    last_output_cycle: int   # its last result left the array (at the end of this cycle)


@dataclass(frozen=True)
class ReferenceRun:
    """The product the array computed and how long it took."""

    output: np.ndarray
    folds: tuple[FoldRecord, ...]
    pipelined: bool

    @property
    def stream_starts(self) -> tuple[int, ...]:
        return tuple(f.stream_start_cycle for f in self.folds)

    @property
    def cycles_to_last_mac(self) -> int:
        return max(f.last_mac_cycle for f in self.folds) + 1

    @property
    def cycles_to_last_output(self) -> int:
        return max(f.last_output_cycle for f in self.folds) + 1

    @property
    def cycles(self) -> int:
        """The GEMM's cycles as each fold timing counts them.

        SCALE-Sim counts up to the last MAC (OS outputs still shifting out are not
        counted; in WS and IS the last MAC's result leaves in the same cycle);
        the pipelined timing counts until the last output has left.
        """
        return self.cycles_to_last_output if self.pipelined else self.cycles_to_last_mac


def fold_order(row_folds: int, col_folds: int, repeats: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(repeat, row fold, column fold) of every fold, in SCALE-Sim's order."""
    rep, col, row = np.meshgrid(np.arange(repeats), np.arange(col_folds), np.arange(row_folds), indexing="ij")
    return (np.ascontiguousarray(rep.ravel(), dtype=np.int64), np.ascontiguousarray(row.ravel(), dtype=np.int64),
            np.ascontiguousarray(col.ravel(), dtype=np.int64))


def _as_batch(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iub":
        raise ValueError(f"{name}: expected an integer matrix, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ValueError(f"{name}: expected a non-empty 2-D matrix or a stack of them, got shape {arr.shape}")
    if arr.size and (arr.min() < INT32.min or arr.max() > INT32.max):
        raise ValueError(f"{name}: expected values that fit 32 bits (the model's operand registers)")
    return arr.astype(np.int32)


def _pad(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - x.shape[axis])
    return np.ascontiguousarray(np.pad(x, widths))


def simulate_gemm(a: object, b: object, array: ArrayConfig,
                  stream_starts: Sequence[int] | None = None, fast: bool = True) -> ReferenceRun:
    """``a @ b`` on the array, cycle by cycle (``a``: M x K, ``b``: K x N, or G stacked pairs).

    ``stream_starts`` forces the cycle at which each fold starts streaming
    (instead of the controller's earliest legal start): a schedule that is too
    aggressive raises :class:`HazardError` or gives a wrong product.
    ``fast=False`` updates every PE on the exact PE-by-PE path (slower; the tests
    use it to check the row-at-a-time path).
    """
    A = _as_batch(a, "a")
    B = _as_batch(b, "b")
    if A.shape[0] != B.shape[0] or A.shape[2] != B.shape[1]:
        raise ValueError(f"a {A.shape} and b {B.shape} cannot be multiplied")
    G, M, K = A.shape
    N = B.shape[2]
    R, C = array.rows, array.cols
    df = array.dataflow
    sr, sc, T = {Dataflow.OS: (M, N, K), Dataflow.WS: (K, N, M), Dataflow.IS: (K, M, N)}[df]
    row_folds, col_folds = math.ceil(sr / R), math.ceil(sc / C)
    rp, cp = row_folds * R, col_folds * C
    rep, row, col = fold_order(row_folds, col_folds, G)
    F = len(rep)
    if F * T >= INT32.max:
        raise ValueError(f"{F} folds of {T} vectors: too long for the model's 32-bit operand tags")
    if stream_starts is None:
        forced = np.full(F, -1, np.int64)
        max_cycles = F * (T + 2 * R + C + 2) + 2 * R + C + 16
    else:
        forced = np.asarray(list(stream_starts), dtype=np.int64)
        earliest = 0 if df is Dataflow.OS or array.pipelined_folds else R
        if forced.shape != (F,) or forced[0] < earliest or np.any(np.diff(forced) <= 0):
            raise ValueError(f"stream_starts: expected {F} increasing cycles from {earliest}, got {list(forced)}")
        max_cycles = int(forced[-1]) + T + 3 * R + C + 16
    first = np.full(F, -1, np.int64)
    last_mac = np.full(F, -1, np.int64)
    last_out = np.full(F, -1, np.int64)
    status = np.zeros(5, np.int64)
    pipelined = bool(array.pipelined_folds)
    if df is Dataflow.OS:
        out = np.zeros((G, rp, cp), np.int64)
        written = np.zeros((G, rp, cp), np.uint8)
        kernels.run_output_stationary(_pad(A, 1, rp), _pad(B, 2, cp), R, C, pipelined, rep, row, col,
                                      forced, max_cycles, fast, out, written, first, last_mac, last_out, status)
        product = out[:, :M, :N]
    elif df is Dataflow.WS:
        out = np.zeros((G, M, cp), np.int64)
        kernels.run_stationary(_pad(A, 2, rp), _pad(_pad(B, 1, rp), 2, cp), R, C, pipelined, rep, row, col,
                               forced, max_cycles, fast, out, first, last_mac, last_out, status)
        product = out[:, :, :N]
    else:  # IS is WS on the transposed product: B^T streams, A^T is stationary
        out = np.zeros((G, N, cp), np.int64)
        streamed = _pad(B.transpose(0, 2, 1), 2, rp)
        stationary = _pad(_pad(A.transpose(0, 2, 1), 1, rp), 2, cp)
        kernels.run_stationary(streamed, stationary, R, C, pipelined, rep, row, col,
                               forced, max_cycles, fast, out, first, last_mac, last_out, status)
        product = out[:, :, :M].transpose(0, 2, 1)
    if status[0] != kernels.OK:
        raise HazardError(*(int(x) for x in status))
    folds = tuple(FoldRecord(int(s), int(m), int(o)) for s, m, o in zip(first, last_mac, last_out))
    product = np.ascontiguousarray(product)
    return ReferenceRun(output=product if np.ndim(a) == 3 else product[0], folds=folds, pipelined=pipelined)
