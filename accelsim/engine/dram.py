"""DRAM: channels that serve chunks first come, first served, at the achievable rate.

Peak bandwidth is shared by ``channels`` independent channels. The rate a
channel achieves is further limited by requests in flight (Little's law):
``max_outstanding x burst_bytes / latency`` bytes per cycle for the whole
memory, so a long-latency memory is slower even at the same peak. A chunk
occupies a channel for ``ceil(bytes / channel rate)`` cycles and its data
arrives ``latency`` cycles after that (latency overlaps with later chunks:
requests are pipelined).
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.config.hardware import Hardware


class Dram:
    def __init__(self, hw: Hardware):
        self.latency = hw.dram_latency_cycles
        self.channel_rate = hw.achievable_dram_bytes_per_cycle / hw.dram.channels
        self.channel_free = [0] * hw.dram.channels
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.sizes: list[int] = []

    def service_cycles(self, nbytes: int) -> int:
        return 0 if math.isinf(self.channel_rate) else math.ceil(nbytes / self.channel_rate)

    def reserve(self, earliest: int, nbytes: int) -> tuple[int, int]:
        """Book the first channel to free up for a chunk; returns (start, end of transfer)."""
        free = self.channel_free
        channel = min(range(len(free)), key=free.__getitem__) if len(free) > 1 else 0
        start = max(earliest, free[channel])
        end = start + self.service_cycles(nbytes)
        free[channel] = end
        self.starts.append(start)
        self.ends.append(end)
        self.sizes.append(nbytes)
        return start, end


class Trace:
    """Cumulative bytes moved by DRAM over time, from the chunk records (piecewise linear:
    each chunk's bytes spread evenly over its transfer; a zero-time chunk over its cycle)."""

    def __init__(self, dram: Dram):
        starts = np.asarray(dram.starts, dtype=np.float64)
        ends = np.asarray(dram.ends, dtype=np.float64)
        sizes = np.asarray(dram.sizes, dtype=np.float64)
        ends = np.maximum(ends, starts + 1.0)
        rate = sizes / (ends - starts)
        points = np.concatenate([starts, ends])
        order = np.argsort(points, kind="stable")
        self.points = points[order]
        level = np.cumsum(np.concatenate([rate, -rate])[order])
        self.area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(self.points))]) \
            if self.points.size else np.zeros(0)

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
