"""DRAM: channels that serve chunks first come, first served, at the achievable rate.

Peak bandwidth is shared by ``channels`` independent channels. The rate a
channel achieves is further limited by requests in flight (Little's law):
``max_outstanding x burst_bytes / latency`` bytes per cycle for the whole
memory, so a long-latency memory is slower even at the same peak. A chunk
occupies a channel for ``ceil(bytes / channel rate)`` cycles and its data
arrives ``latency`` cycles after that (latency overlaps with later chunks:
requests are pipelined). A buffer with a port of its own
(``dram_port_bytes_per_cycle``) moves its chunks through that port
(``BufferPort``), which is shared by nobody else.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from accelsim.config.hardware import Hardware


class Port:
    """A level the DMA engines move chunks to and from: channels that serve chunks first
    come, first served, each at ``channel_rate`` bytes per cycle, with data arriving
    ``latency`` cycles after its transfer."""

    def __init__(self, name: str, rate_bytes_per_cycle: float, channels: int, latency_cycles: int):
        self.name = name
        self.latency = latency_cycles
        self.channel_rate = rate_bytes_per_cycle / channels
        self.ideal = math.isinf(self.channel_rate)  # moves any chunk in no time
        self.channel_free = [0] * channels
        # every chunk, as machine integers (millions of chunks at large batches: a list would hold
        # an int object per value)
        self.starts, self.ends, self.sizes = array("q"), array("q"), array("q")

    def service_cycles(self, nbytes: int) -> int:
        return 0 if self.ideal else math.ceil(nbytes / self.channel_rate)

    def first_free(self) -> int:
        """The channel that frees up first (the lowest-numbered of those that free up together)."""
        free = self.channel_free
        return free.index(min(free)) if len(free) > 1 else 0

    def record(self, start: int, end: int, nbytes: int) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.sizes.append(nbytes)

    def reserve(self, earliest: int, nbytes: int) -> tuple[int, int]:
        """Book the first channel to free up for a chunk; returns (start, end of transfer)."""
        free = self.channel_free  # (first_free, service_cycles and record inlined: once per chunk)
        channel = free.index(min(free)) if len(free) > 1 else 0
        start = max(earliest, free[channel])
        end = start if self.ideal else start + math.ceil(nbytes / self.channel_rate)
        free[channel] = end
        self.starts.append(start)
        self.ends.append(end)
        self.sizes.append(nbytes)
        return start, end


class BufferPort(Port):
    """A per-core buffer's own port to DRAM (``dram_port_bytes_per_cycle``).

    A chunk between the buffer and DRAM occupies the port for ``ceil(bytes / port rate)``
    cycles; unless the ports are independent (``dram.ports_independent``) it occupies a DRAM
    channel too, for the DRAM's service time, from the same start (the later of the two being
    free). Its transfer ends when the slower of the two has finished, and its data arrives the
    DRAM's latency after that. Every chunk is recorded on the DRAM, whose trace counts all
    DRAM bytes.
    """

    def __init__(self, name: str, rate_bytes_per_cycle: float, dram: Port, independent: bool):
        super().__init__(name, rate_bytes_per_cycle, 1, dram.latency)
        self.dram = dram
        self.independent = independent

    def reserve(self, earliest: int, nbytes: int) -> tuple[int, int]:
        start = max(earliest, self.channel_free[0])
        port_end = start + self.service_cycles(nbytes)
        end = port_end
        if not self.independent:
            dram = self.dram
            channel = dram.first_free()
            start = max(start, dram.channel_free[channel])
            port_end = start + self.service_cycles(nbytes)
            dram_end = start + dram.service_cycles(nbytes)
            dram.channel_free[channel] = dram_end
            end = max(port_end, dram_end)
        self.channel_free[0] = port_end
        self.dram.record(start, end, nbytes)
        return start, end


class Dram(Port):
    """DRAM at its achievable rate (Little's law included: ``Hardware.achievable_dram_bytes_per_cycle``)."""

    def __init__(self, hw: Hardware):
        super().__init__("dram", hw.achievable_dram_bytes_per_cycle, hw.dram.channels, hw.dram_latency_cycles)


def ports(hw: Hardware) -> list[Port]:
    """The levels transfers reach, in ``schedule.transfer_levels`` order: DRAM, then the global buffer."""
    out: list[Port] = [Dram(hw)]
    g = hw.memory.global_buffer
    if g is not None:
        out.append(Port(g.name, g.bandwidth_bytes_per_cycle, 1, g.latency_cycles))
    return out


def buffer_ports(hw: Hardware, dram: Port) -> dict[str, Port]:
    """The DRAM port of every per-core buffer, by buffer name: its own (``BufferPort``) where
    it has a ``dram_port_bytes_per_cycle``, else the shared ``dram``."""
    independent = hw.dram.ports_independent
    return {level.name: dram if level.dram_port_bytes_per_cycle is None else
            BufferPort(f"{level.name}.dram_port", level.dram_port_bytes_per_cycle, dram, independent)
            for level in hw.memory.local}


class Trace:
    """Cumulative bytes moved by DRAM over time, from the chunk records (piecewise linear:
    each chunk's bytes spread evenly over its transfer; a zero-time chunk over its cycle)."""

    def __init__(self, dram: Port, release: bool = False):
        """``release``: the port's chunk records are dropped as soon as they are read (the
        simulation's last use of them: millions of chunks at large batches)."""
        # Built with few temporaries: the points are sorted as integers, whose stable order is
        # the floats' (every cycle count is exact in a float), and everything else is in place.
        n = len(dram.starts)
        rate = np.frombuffer(dram.sizes, dtype=np.int64).astype(np.float64)
        points = np.empty(2 * n, dtype=np.int64)  # each chunk's start, then each chunk's end
        points[:n] = np.frombuffer(dram.starts, dtype=np.int64)
        np.maximum(np.frombuffer(dram.ends, dtype=np.int64), points[:n] + 1, out=points[n:])
        if release:
            dram.starts, dram.ends, dram.sizes = array("q"), array("q"), array("q")
        rate /= points[n:] - points[:n]  # bytes per cycle over each chunk's span
        order = np.argsort(points, kind="stable")
        ordered = points[order]
        del points
        self.points = ordered.astype(np.float64)
        del ordered
        ends = order >= n  # where the rate stops
        np.subtract(order, n, out=order, where=ends)
        level = rate[order]
        del order, rate
        np.negative(level, out=level, where=ends)
        del ends
        np.cumsum(level, out=level)
        self.area = np.zeros(self.points.size)
        if self.points.size:
            steps = self.area[1:]
            np.subtract(self.points[1:], self.points[:-1], out=steps)
            steps *= level[:-1]
            del level
            np.cumsum(steps, out=steps)

    def moved(self, times: np.ndarray) -> np.ndarray:
        """Bytes moved by each of ``times``."""
        if not self.points.size:
            return np.zeros(times.size)
        return np.interp(times, self.points, self.area, left=0.0, right=self.area[-1])

    def peak_bytes_per_cycle(self, start: int, end: int, window: int) -> float:
        """Highest average rate over consecutive ``window``-cycle windows of ``[start, end)``.

        Windows are aligned to ``start``; the last one may be shorter. A span
        shorter than a window is one window.
        """
        if end <= start:
            return 0.0
        bounds = np.append(np.arange(start, end, window, dtype=np.float64), float(end))
        return float((np.diff(self.moved(bounds)) / np.diff(bounds)).max())
