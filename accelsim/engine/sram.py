"""SRAM buffers as pools of free bytes: a load claims its bytes before it starts.

Claims are served first come, first served; when a buffer is full the claim
waits until earlier data is freed. Prefetch depth therefore follows from
capacity (a double-buffered tile fits twice, so one load runs ahead), not from
a constant.
"""

from __future__ import annotations

from collections import deque

import simpy

from accelsim.errors import SimulationError


class BufferPool:
    def __init__(self, env: simpy.Environment, name: str, capacity_bytes: int):
        self.env = env
        self.name = name
        self.capacity = capacity_bytes
        self.free = capacity_bytes
        self.waiting: deque = deque()

    def claim(self, nbytes: int) -> simpy.Event | None:
        """Take ``nbytes``; returns None when granted at once, else an event to wait for."""
        if nbytes > self.capacity:
            raise SimulationError(f"{self.name} buffer: a claim of {nbytes} bytes exceeds its "
                                  f"{self.capacity} bytes (schedule error)")
        if not self.waiting and self.free >= nbytes:
            self.free -= nbytes
            return None
        event = self.env.event()
        self.waiting.append((nbytes, event))
        return event

    def release(self, nbytes: int) -> None:
        self.free += nbytes
        if self.free > self.capacity:
            raise SimulationError(f"{self.name} buffer: released more bytes than claimed")
        while self.waiting and self.waiting[0][0] <= self.free:
            nbytes, event = self.waiting.popleft()
            self.free -= nbytes
            event.succeed()
