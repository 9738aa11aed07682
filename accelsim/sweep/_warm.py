"""Imported once by the sweep's fork server, never by user code: the local workers fork from a
process that has already loaded accelsim and numba's compiled kernels, so no worker pays the
seconds numba needs on its first call (measured in scripts/bench_sweep.py)."""

from accelsim.sweep.runner import warm_up

warm_up()
