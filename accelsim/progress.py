"""Progress of long work (run, sweeps, bench, report, validate, calibrate), one mechanism: tqdm.

On a terminal, a tqdm bar on stderr (count, rate, time left), redrawn in place. Otherwise (a
log, CI, a pipe) nothing, unless ``every`` asks for a plain line every N items, formatted by
tqdm too. ``enabled=False`` (``-q``) is always silent. The work's own messages (a case that
failed) go through :meth:`Progress.write`, which keeps the bar intact.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO



class Progress:
    """Counts finished items; ``stored`` were already done before this run (a resumed sweep)."""

    def __init__(self, total: int | None, desc: str, unit: str = " points", *, stored: int = 0,
                 stream: TextIO | None = None, enabled: bool = True, tty: bool | None = None,
                 every: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.desc, self.unit, self.clock = total, desc, unit, clock
        self.stored = stored
        self.start = clock()
        self.ran = self.failed = self.errors = 0
        self.every = every if enabled and not self.tty else None
        from tqdm import tqdm  # (imported on use: the CLI's start-up does not need it)

        self.bar = tqdm(total=total, initial=stored, desc=desc, unit=unit, file=self.stream, dynamic_ncols=True,
                        disable=not (enabled and self.tty), leave=True, mininterval=0.1)

    def update(self, status: str = "done") -> None:
        self.ran += 1
        self.failed += status == "failed"
        self.errors += status == "error"
        self.bar.update(1)
        if self.failed or self.errors:
            self.bar.set_postfix_str(f"{self.failed} failed" + (f", {self.errors} errors" if self.errors else ""),
                                     refresh=False)
        if self.every and (self.ran % self.every == 0 or self.stored + self.ran == self.total):
            self.stream.write(f"{self.desc}: {self.line()}\n")
            self.stream.flush()

    def line(self) -> str:
        """The state as one line (tqdm's format): count, failures, rate, time left."""
        elapsed = max(self.clock() - self.start, 1e-9)
        from tqdm import tqdm

        text = tqdm.format_meter(self.stored + self.ran, self.total, elapsed, unit=self.unit, ncols=0,
                                 rate=self.ran / elapsed, initial=self.stored)
        if self.failed or self.errors:
            text += f", {self.failed} failed" + (f", {self.errors} errors" if self.errors else "")
        return text

    def write(self, message: str) -> None:
        """A message from the work itself, on its own line (above the bar on a terminal)."""
        if self.bar.disable:
            print(message, file=self.stream, flush=True)
        else:
            self.bar.write(message, file=self.stream)

    @property
    def rate(self) -> float:
        elapsed = self.clock() - self.start
        return self.ran / elapsed if elapsed > 0 else 0.0

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LayerBars:
    """A run's progress (``schedule.LayerProgress``): one bar per phase (building the schedule,
    then simulating), in layers, on a terminal only, and only once its phase has taken
    ``delay_s``: a run of a second prints nothing (and does not import tqdm), batch 64 on a small
    array, half a minute, shows where it is."""

    def __init__(self, *, stream: TextIO | None = None, enabled: bool = True, tty: bool | None = None,
                 delay_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.on = enabled and (self.stream.isatty() if tty is None else tty)
        self.delay_s, self.clock = delay_s, clock
        self.phase: str | None = None
        self.began = 0.0
        self.bar: Progress | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.on:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.began = phase, self.clock()
        if self.bar is not None:
            self.bar.update()
        elif self.clock() - self.began >= self.delay_s:
            self.bar = Progress(total, phase, " layers", stored=done - 1, stream=self.stream, tty=True,
                                clock=self.clock)
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "LayerBars":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
