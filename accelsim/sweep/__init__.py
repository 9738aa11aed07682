"""Hardware sweeps: many designs x workloads, run in parallel, stored in one HDF5 file.

    spec = accelsim.sweep.load_spec("sweep.yaml")      # or accelsim.sweep.SweepSpec(...)
    results = accelsim.sweep(spec, "results.h5")       # the same as accelsim.sweep.run(...)
    results.totals                                     # one row per point (docs/results.md)

See docs/sweeps.md for the spec and the options.
"""

from __future__ import annotations

import sys
import types

import accelsim.results  # noqa: F401  (accelsim.results.load reads what a sweep stores)
from accelsim.sweep.runner import Outcome, SweepAborted, SweepReport, execute, run, run_point
from accelsim.sweep.spec import Range, SweepPoint, SweepSpec, WorkloadRef, load_spec, spec_from_data

__all__ = ["Outcome", "Range", "SweepAborted", "SweepPoint", "SweepReport", "SweepSpec", "WorkloadRef",
           "execute", "load_spec", "run", "run_point", "spec_from_data"]


class _CallableModule(types.ModuleType):
    """Lets ``accelsim.sweep(spec, ...)`` run a sweep while ``accelsim.sweep.load_spec`` stays a module attribute."""

    def __call__(self, *args, **kwargs):
        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
