"""The models a run can use, by name: one registry for the CLI, sweeps and comparisons.

``simulate`` and ``analyze`` here are the public ones (``accelsim.simulate``): they check the
run's size against :mod:`accelsim.limits` before building anything large.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from accelsim import limits
from accelsim.config import Hardware, Workload
from accelsim.errors import ConfigError
from accelsim.stats import RunResult

if TYPE_CHECKING:
    from accelsim.engine.timeline import Timeline
    from accelsim.schedule import LayerProgress, TilingCache


def simulate(hw: Hardware, workload: Workload, timeline: Timeline | None = None, *,
             tilings: TilingCache | None = None, progress: LayerProgress | None = None) -> RunResult:
    """Simulate a workload on a hardware with the discrete-event engine (SimPy).

    A ``Timeline`` passed in is filled with every step and DMA descriptor (for ``--trace``). A
    ``TilingCache`` kept across calls reuses the layers' tilings and the schedules of earlier
    runs (the same outputs, built faster: ``schedule.TilingCache``). ``progress(phase, done, total)`` is told of
    each layer scheduled (phase "schedule"), then of each layer simulated ("simulate").
    """
    from accelsim.engine.simulator import simulate_schedule
    from accelsim.schedule import build_schedule

    limits.check_mapping(hw, workload)
    schedule = build_schedule(hw, workload, tilings, progress)
    limits.check_schedule(schedule)
    return simulate_schedule(schedule, timeline, progress)


def analyze(hw: Hardware, workload: Workload, *, tilings: TilingCache | None = None,
            progress: LayerProgress | None = None) -> RunResult:
    """The closed-form model of a whole workload, over the same schedule as the engine
    (``tilings``, ``progress``: as for :func:`simulate`, without the "simulate" phase)."""
    from accelsim import analytical  # (imported on use: the CLI lists the models without building any)

    limits.check_mapping(hw, workload)
    return analytical.analyze(hw, workload, tilings, progress)


MODELS: dict[str, Callable[..., RunResult]] = {
    "engine": simulate,       # the default: discrete-event simulation
    "analytical": analyze,
}


def run_model(name: str, hw: Hardware, workload: Workload, tilings: TilingCache | None = None,
              progress: LayerProgress | None = None) -> RunResult:
    if name not in MODELS:
        raise ConfigError("--model", "", f"expected one of {', '.join(MODELS)}, got {name!r}")
    return MODELS[name](hw, workload, tilings=tilings, progress=progress)
