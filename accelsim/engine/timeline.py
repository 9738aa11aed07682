"""An optional record of when things happened in one simulation, for timelines.

Pass a :class:`Timeline` to ``simulate`` and the engine appends one tuple per
array step and one per DMA descriptor; without one it records nothing (one
``is None`` check per step and per descriptor), so results and speed do not
change. ``accelsim.reports.trace`` turns a filled timeline into Chrome
trace-event JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Timeline:
    """Raw events in cycles, filled by the engine.

    ``steps``: ``(layer, step, waited_from, start, end, cause)`` per array step: the array
    began waiting for the step's data at ``waited_from``, computed from ``start`` to ``end``;
    ``cause`` is the breakdown part the wait was charged to (None: no wait).
    ``transfers``: ``(engine, tag, nbytes, began, first_start, transfer_end, arrival)`` per DMA
    descriptor: the engine took it at ``began``, its first chunk started on a DRAM channel at
    ``first_start`` and its last finished at ``transfer_end``; its data was usable at
    ``arrival``. ``tag`` is ``(kind, layer, step)``, kind one of input, weight, psum, store.
    """

    steps: list[tuple] = field(default_factory=list)
    transfers: list[tuple] = field(default_factory=list)
    layers: list = field(default_factory=list)   # engine.array.LayerTimes per layer, after the run
    schedule: Any = None                          # the schedule that was simulated
    dram: Any = None                              # engine.dram.Trace, for bandwidth over time
    engines: int = 0
    store_engine: int = 0
    cores: dict = field(default_factory=dict)    # cores > 1: core index (from 1) -> its own Timeline

    def core(self, c: int) -> "Timeline":
        """Core ``c``'s record (core 0's is this one)."""
        if c == 0:
            return self
        if c not in self.cores:
            self.cores[c] = Timeline()
        return self.cores[c]
