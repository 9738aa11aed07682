"""Imported once by the sweep's fork server, never by user code: the local workers fork from a
process that has already imported and run accelsim once, so no worker pays for the imports
and first-call set-up on its first point (measured in scripts/bench_sweep.py)."""

from accelsim.sweep.runner import warm_up

warm_up()
