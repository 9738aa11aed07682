"""DMA engines: a queue of descriptors each, a setup cost per descriptor, chunks to DRAM.

An engine takes descriptors in order. For each it pays ``dma.setup_cycles``
once its previous transfer has left the bus (setup is serial per engine, so
many small descriptors cost setup each), then issues the transfer chunk by
chunk (``dma.chunk_bytes``), moving on to the next chunk when the previous
one has started on a DRAM channel, so concurrent engines interleave at chunk
granularity and share the bandwidth. A descriptor completes when its last
chunk's data has arrived (transfer end + DRAM latency); the engine does not
wait for the latency before the next descriptor (requests are pipelined).
"""

from __future__ import annotations

from collections import deque

import simpy

from accelsim.engine.dram import Port


class DmaEngine:
    def __init__(self, env: simpy.Environment, dram: Port, setup_cycles: int, chunk_bytes: int, name: str):
        self.env = env
        self.dram = dram  # the default port; a transfer may name another level's
        self.setup = setup_cycles
        self.chunk = chunk_bytes
        self.name = name
        self.queue: deque = deque()
        self.wake: simpy.Event | None = None
        self.ready = 0  # when the engine's last transfer leaves the bus
        self.index = 0
        self.timeline = None  # an engine.timeline.Timeline to record descriptors in, or None
        env.process(self._run())

    def submit(self, nbytes: int, on_issued, tag=None, port: Port | None = None) -> None:
        """Queue a transfer to or from ``port`` (default: DRAM); ``on_issued(arrival)`` is called
        with an event that triggers when its data has arrived, as soon as the engine has issued
        its last chunk. ``tag`` names the transfer in a timeline."""
        self.queue.append((nbytes, on_issued, tag, port or self.dram))
        if self.wake is not None:
            wake, self.wake = self.wake, None
            wake.succeed()

    def _run(self):
        env, queue, chunk, setup = self.env, self.queue, self.chunk, self.setup
        timeout = env.timeout
        while True:
            if not queue:
                self.wake = env.event()
                yield self.wake
            nbytes, on_issued, tag, dram = queue.popleft()
            began = now = env.now  # ``now`` follows the clock: it moves only at this process's yields
            # setup starts when the engine's previous transfer has finished on the bus
            earliest = max(began, self.ready) + setup
            remaining, end, first = nbytes, earliest, None
            reserve = dram.reserve
            while remaining > 0:
                piece = chunk if chunk < remaining else remaining
                remaining -= piece
                start, end = reserve(earliest, piece)
                if first is None:
                    first = start
                if start > now:
                    yield timeout(start - now)
                    now = start
                earliest = now
            if self.timeline is not None:
                self.timeline.transfers.append((self.index, tag, nbytes, began, first, end, end + dram.latency))
            self.ready = end
            usable = end + dram.latency
            arrival = timeout(usable - now)
            arrival.cycle = usable  # when the data is usable (the array times shifts from it)
            on_issued(arrival)
