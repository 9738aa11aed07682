"""Sweep progress on stderr: a bar redrawn in place on a terminal, plain lines in a log.

A log (CI, ``nohup``, a file) gets one line every ``every`` points instead of carriage
returns; both show points done, failed, the rate of this session and the time left.
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

BAR_WIDTH = 24
REDRAW_S = 0.1  # a terminal is redrawn at most this often (the last point always)


def duration(seconds: float) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts finished points and reports them; ``stored`` were already in the file (resume)."""

    def __init__(self, total: int, stored: int = 0, stream: TextIO | None = None, tty: bool | None = None,
                 every: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.stored = stored
        self.stream = stream
        self.tty = stream.isatty() if tty is None and stream is not None else bool(tty)
        self.every = every or max(1, (total - stored) // 20)
        self.clock = clock
        self.start = clock()
        self.ran = 0
        self.failed = 0
        self.errors = 0
        self._drawn = -1.0
        self._first: float | None = None  # when the first point finished: start-up is not in the ETA

    def update(self, status: str) -> None:
        self.ran += 1
        self.failed += status == "failed"
        self.errors += status == "error"
        now = self.clock()
        if self._first is None:
            self._first = now
        if self.stream is None:
            return
        last = self.stored + self.ran == self.total
        if self.tty and (last or now - self._drawn >= REDRAW_S):
            self._drawn = now
            self.stream.write("\r" + self.line(bar=True) + ("\n" if last else ""))
            self.stream.flush()
        elif not self.tty and (self.ran % self.every == 0 or last):
            self.stream.write("sweep: " + self.line(bar=False) + "\n")
            self.stream.flush()

    @property
    def rate(self) -> float:
        """Points per second in this session."""
        elapsed = self.clock() - self.start
        return self.ran / elapsed if elapsed > 0 else 0.0

    def line(self, bar: bool) -> str:
        finished = self.stored + self.ran
        rate = self.rate
        steady = rate
        if self._first is not None and self.ran > 1 and self.clock() > self._first:
            steady = (self.ran - 1) / (self.clock() - self._first)
        left = (self.total - finished) / steady if steady else float("nan")
        text = f"{finished}/{self.total} points, {self.failed} failed"
        if self.errors:
            text += f", {self.errors} errors"
        text += f", {rate:.2f} points/s, ETA {duration(left)}"
        if bar:
            filled = BAR_WIDTH * finished // self.total if self.total else BAR_WIDTH
            return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {text}"
        return text
