"""On-chip buffers as pools of free bytes: a load claims its bytes before it starts.

Several requesters may claim from one buffer (the input and weight loaders, the array's
output space and the partial-sum loader, a resident tensor). Claims are granted strictly in
schedule order (layer, step, then input, weight, partial sums, output space), each once it
fits: the position of every claim is known from the schedule (``ordinal``), so a later claim
can never take bytes an earlier step still needs, which would deadlock a shared buffer. When
a buffer is full the claim waits until earlier data is freed; how far prefetch runs ahead
therefore follows from capacity (a double-buffered tile fits twice, so one load runs ahead),
not from a constant.
"""

from __future__ import annotations

import simpy

from accelsim.errors import SimulationError


class BufferPool:
    def __init__(self, env: simpy.Environment, name: str, capacity_bytes: int):
        self.env = env
        self.name = name
        self.capacity = capacity_bytes
        self.free = capacity_bytes
        self.next = 0                        # ordinal of the next claim to grant
        self.pending: dict[int, tuple] = {}  # ordinal -> (bytes, what to call when granted): asked for

    def claim(self, ordinal: int, nbytes: int, on_grant=None) -> simpy.Event | bool | None:
        """Take ``nbytes`` as claim number ``ordinal``; None when granted at once, else an event that
        triggers when it is (or, given ``on_grant``, False, and ``on_grant()`` is called then)."""
        if nbytes > self.capacity:
            raise SimulationError(f"{self.name} buffer: a claim of {nbytes} bytes exceeds its "
                                  f"{self.capacity} bytes (schedule error)")
        if ordinal == self.next and self.free >= nbytes:
            self.free -= nbytes
            self.next += 1
            if self.pending:
                self._grant()
            return None
        if on_grant is not None:
            self.pending[ordinal] = (nbytes, on_grant)
            return False
        event = self.env.event()
        self.pending[ordinal] = (nbytes, event.succeed)
        return event

    def release(self, nbytes: int) -> None:
        self.free += nbytes
        if self.free > self.capacity:
            raise SimulationError(f"{self.name} buffer: released more bytes than claimed")
        if self.pending:
            self._grant()

    def _grant(self) -> None:
        pending = self.pending
        while self.next in pending and pending[self.next][0] <= self.free:
            nbytes, then = pending.pop(self.next)
            self.free -= nbytes
            self.next += 1
            then()
