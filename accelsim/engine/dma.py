"""DMA engines: a queue of descriptors each, a setup cost per descriptor, chunks to DRAM.

An engine takes descriptors in order, pays ``dma.setup_cycles``, then issues
the transfer chunk by chunk (``dma.chunk_bytes``); it moves on to the next
chunk when the previous one has started on a DRAM channel, so concurrent
engines interleave at chunk granularity and share the bandwidth. A
descriptor completes when its last chunk's data has arrived (transfer end +
DRAM latency); the engine does not wait for that before starting the next
descriptor (requests are pipelined).
"""

from __future__ import annotations

from collections import deque

import simpy

from accelsim.engine.dram import Dram


class DmaEngine:
    def __init__(self, env: simpy.Environment, dram: Dram, setup_cycles: int, chunk_bytes: int, name: str):
        self.env = env
        self.dram = dram
        self.setup = setup_cycles
        self.chunk = chunk_bytes
        self.name = name
        self.queue: deque = deque()
        self.wake: simpy.Event | None = None
        self.busy_cycles = 0
        self.descriptors = 0
        env.process(self._run())

    def submit(self, nbytes: int, on_issued) -> None:
        """Queue a transfer; ``on_issued(arrival)`` is called with an event that triggers when
        its data has arrived, as soon as the engine has issued its last chunk."""
        self.queue.append((nbytes, on_issued))
        if self.wake is not None:
            wake, self.wake = self.wake, None
            wake.succeed()

    def _run(self):
        env, dram = self.env, self.dram
        while True:
            if not self.queue:
                self.wake = env.event()
                yield self.wake
            nbytes, on_issued = self.queue.popleft()
            self.descriptors += 1
            began = env.now
            earliest = env.now + self.setup
            remaining, end = nbytes, earliest
            while remaining > 0:
                piece = min(self.chunk, remaining)
                remaining -= piece
                start, end = dram.reserve(earliest, piece)
                if start > env.now:
                    yield env.timeout(start - env.now)
                earliest = env.now
            self.busy_cycles += env.now - began
            on_issued(env.timeout(end + dram.latency - env.now))
