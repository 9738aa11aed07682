"""A cycle-level register-transfer model of the systolic array, for validating the timing formulas.

``simulate_gemm(a, b, array)`` computes ``a @ b`` on an R x C array register by
register (OS, WS, IS; SCALE-Sim compatible or pipelined folds) and records when
each fold started, did its last MAC and emptied; ``checks`` compares that with
:mod:`accelsim.mapping` for the fold shapes of a workload (``accelsim validate``).
"""

from accelsim.reference.model import FoldRecord, HazardError, ReferenceRun, simulate_gemm

__all__ = ["FoldRecord", "HazardError", "ReferenceRun", "simulate_gemm"]
