"""The array (and the sequencer that runs layers on it): takes a step when its operands are
resident, is busy for the step's compute cycles, then hands the outputs to the store path.

Every cycle of a layer is charged to one cause (stats.CycleBreakdown). A layer
runs from the end of the previous one to the moment its last outputs are where
they go: room for the tensors it keeps on chip, control overhead, then for each
step the wait for its data (charged to whichever arrived last: inputs, weights,
or partial sums / output space), what is left of the controller's issue cost
for the step (``overhead``), the shift of a stationary tile that arrived too
late to shift in behind the previous fold (``preload``), and its compute
phases; then the tail while the last stores drain (stall_output). A stall
between steps does not re-expose the array's fill and drain (the fold timing's
shares assume back-to-back folds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from accelsim.engine.dma import DmaEngine
from accelsim.engine.sram import BufferPool
from accelsim.mapping import Operand
from accelsim.schedule import LEVEL_FIELDS, ON_CHIP, STEP_FIELDS
from accelsim.stats import BREAKDOWN_PARTS, CycleBreakdown

# Positions in a step row.
_COLUMNS = STEP_FIELDS + LEVEL_FIELDS
(FOLDS, LOAD_INPUT, LOAD_WEIGHT, LOAD_PSUM, OUTPUT_ACQUIRE, STREAM, FILL_DRAIN, PRELOAD, VECTOR, STORE_OUTPUT,
 STORE_PSUM, STORE_RELEASE, RELEASE_INPUT, RELEASE_WEIGHT, INPUT_FROM, WEIGHT_FROM, OUTPUT_TO) = (
    _COLUMNS.index(name) for name in (
        "folds", "load_input", "load_weight", "load_psum", "output_acquire", "stream", "fill_drain", "preload",
        "vector", "store_output", "store_psum", "store_release", "release_input", "release_weight",
        "input_from", "weight_from", "output_to"))

WAIT_CAUSE = (("input", LOAD_INPUT, "stall_input"), ("weight", LOAD_WEIGHT, "stall_weight"),
              ("psum", LOAD_PSUM, "stall_output"))

# The step columns that claim buffer bytes, in the order claims of one step are granted, and
# the operand whose buffer each books.
CLAIMS = (("load_input", Operand.INPUT), ("load_weight", Operand.WEIGHT), ("load_psum", Operand.OUTPUT),
          ("output_acquire", Operand.OUTPUT))
ACQUIRE_CLAIM = 3  # output_acquire's position in CLAIMS

READ_STEPS = 4096  # steps an engine reader turns into Python ints at a time (LayerSteps)


@dataclass
class LayerTimes:
    """What the array observed for one layer: its span and the cycles charged to each cause
    (stats.CycleBreakdown's parts), filled while simulating."""

    start: int = 0
    end: int = 0
    events: int = 0  # engine events processed while this layer ran
    parts: dict = field(default_factory=lambda: dict.fromkeys(BREAKDOWN_PARTS, 0))

    @property
    def accounted(self) -> int:
        return sum(self.parts.values())

    @property
    def overhead(self) -> int:
        return self.parts["overhead"]

    def breakdown(self) -> CycleBreakdown:
        return CycleBreakdown(**self.parts)


class Loads:
    """Arrival events of one operand's loads, by (layer, step), handed over by the DMA engine.

    The array usually asks after the transfer was issued (prefetch) and waits on
    the arrival itself; if it asks earlier it waits on a placeholder that the
    arrival triggers.
    """

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.arrivals: dict = {}
        self.waiters: dict = {}

    def issued(self, key, arrival: simpy.Event) -> None:
        waiter = self.waiters.pop(key, None)
        if waiter is None:
            self.arrivals[key] = arrival
        else:
            waiter.cycle = arrival.cycle
            arrival.callbacks.append(lambda _event: waiter.succeed())

    def arrival(self, key) -> simpy.Event:
        event = self.arrivals.pop(key, None)
        if event is None:
            event = self.waiters[key] = self.env.event()
        return event


class LayerSteps:
    """A core's steps as the engine's readers take them, a layer at a time, as Python ints.

    The array reads every column of every step (:meth:`rows`); a loader reads its operand's
    steps only, and the array's own claims read the output space (:meth:`claims`). Each reader
    turns ``READ_STEPS`` steps at a time into Python ints as it reaches them, so only a few such
    pieces exist at once: whole layers as lists cost half a gigabyte at batch 64. The readers run
    apart (a weight loader may prefetch far ahead of the array), so each makes its own.
    """

    def __init__(self, layers: list, issue, ordinals: list):
        self.units = [ls.unit for ls in layers]
        self.counts = [len(ls.steps) for ls in layers]  # steps per layer
        self._steps = [ls.steps for ls in layers]
        self._issue = issue          # steps -> issue cycles per step (an array)
        self._ordinals = ordinals    # per layer: an (steps, len(CLAIMS)) array of claim ordinals

    def __len__(self) -> int:
        return len(self.units)

    def rows(self, li: int) -> tuple[str, object]:
        """Layer ``li``'s unit, and its steps in order, each as (its row of ints in ``_COLUMNS``
        order, its issue cycles)."""
        return self.units[li], self._rows(self._steps[li])

    def _rows(self, steps: np.ndarray):
        for start in range(0, len(steps), READ_STEPS):
            piece = steps[start:start + READ_STEPS]
            yield from zip(piece.tolist(), self._issue(piece).tolist())

    def claims(self, li: int, column: str, slot: int, level: str | None = None):
        """Layer ``li``'s steps that claim bytes in ``column`` (CLAIMS position ``slot``), in order:
        per step, (step, bytes, ordinal), and the step's ``level`` column when one is named."""
        steps = self._steps[li]
        at = np.flatnonzero(steps[column])
        for start in range(0, at.size, READ_STEPS):
            here = at[start:start + READ_STEPS]
            parts = [here, steps[column][here], self._ordinals[li][here, slot]]
            if level is not None:
                parts.append(steps[level][here])
            yield from zip(*(p.tolist() for p in parts))


class Array:
    """Runs the layers' steps in order; see the module docstring for the accounting."""

    def __init__(self, env: simpy.Environment, layers: LayerSteps, residents: list,
                 loads: dict[str, Loads], pools: dict[Operand, BufferPool], store_engine: DmaEngine, ports: list,
                 overhead_cycles: int, layer_started: list, progress, events, shift: tuple[int | None, int],
                 store_port=None):
        self.env = env
        # (the load column of the operand that shifts into the PEs (WS weights, IS inputs; None for OS),
        #  the rows R): a stationary tile that arrives late is shifted in after it arrives
        self.shift_column, self.rows = shift
        self.layers = layers              # the steps, read a layer at a time (LayerSteps)
        self.residents = residents        # per layer: ([(pool, ordinal, bytes)] claimed before it starts,
        #                                   [(pool, bytes)] freed at its end): tensors the plan keeps on chip
        self.loads = loads
        self.pools = pools                # operand -> the pool of its buffer
        self.store_engine = store_engine
        self.ports = ports                # levels a store may go to (schedule.levels order)
        self.store_port = store_port      # the output buffer's way to DRAM (None: the shared DRAM)
        self.overhead = overhead_cycles
        self.layer_started = layer_started
        self.progress = progress          # told when a step's output space is granted (claim_ahead)
        self.granted = (-1, 0)            # the latest (layer, step) whose own claims are granted (step -1:
        #                                   the layer's resident tensors)
        self.grant_waiter = None          # ((layer, step), event) the array waits on
        self.events = events              # () -> events processed so far
        self.times = [LayerTimes() for _ in range(len(layers))]
        self.pending_stores = 0
        self.drained: simpy.Event | None = None
        self.timeline = None  # an engine.timeline.Timeline to record steps in, or None
        self.barrier = None   # cores > 1: the simulator's LayerBarrier (a layer ends when its last core ends)
        self.progress_of_layers = None  # a schedule.LayerProgress told of each layer done, or None
        self.layer_count = len(layers)  # how many layers to run (fewer: engine.simulator.layer_cycles)

    def _sync(self, li: int):
        """Wait for every core to finish layer ``li``; the wait is this core's load imbalance."""
        before = self.env.now
        yield from self.barrier.wait(li)
        t = self.times[li]
        t.parts["load_imbalance"] += self.env.now - before
        t.end = self.env.now

    def _stored(self, release: int, parts: int = 1):
        """The callback of a step's store descriptors (``parts`` of them): the last to arrive frees
        the step's output-buffer bytes."""
        out_pool = self.pools[Operand.OUTPUT]
        left = [parts]

        def done(_event) -> None:
            left[0] -= 1
            if left[0]:
                return
            if release:
                out_pool.release(release)
            self.pending_stores -= 1
            if not self.pending_stores and self.drained is not None:
                drained, self.drained = self.drained, None
                drained.succeed()

        return lambda arrival: arrival.callbacks.append(done)

    def _store(self, row, li: int, si: int) -> None:
        """Hand a step's outputs to the store path: partial sums and outputs bound for DRAM in one
        descriptor, outputs bound for the global buffer in another; outputs that stay in a per-core
        buffer are written there at once (nothing moves)."""
        to = row[OUTPUT_TO]
        dram = row[STORE_PSUM] + (row[STORE_OUTPUT] if to == 0 else 0)
        other = row[STORE_OUTPUT] if to > 0 else 0
        parts = (dram > 0) + (other > 0)
        if not parts:
            if row[STORE_RELEASE]:
                self.pools[Operand.OUTPUT].release(row[STORE_RELEASE])
            return
        self.pending_stores += 1
        done = self._stored(row[STORE_RELEASE], parts)
        if dram:
            self.store_engine.submit(dram, done, ("store", li, si), self.store_port)
        if other:
            self.store_engine.submit(other, done, ("store", li, si), self.ports[to])

    def claim_ahead(self) -> None:
        """Make the array's own claims, in schedule order, each as soon as it fits rather than when
        the array reaches it: room for the tensors a layer keeps on chip, then each step's output
        space. Made ahead, they hold back no later load in a buffer that operands share, so how far
        prefetch runs ahead follows from capacity alone (docs/engine.md). Driven by the pools'
        grants (``BufferPool.claim``'s ``on_grant``), not a process: no event per claim."""
        self._claims = self._own_claims()
        self._advance()

    def _own_claims(self):
        """(pool, ordinal, bytes) per claim, and the (layer, step) whose claims are all made after them."""
        out_pool = self.pools[Operand.OUTPUT]
        for li in range(len(self.layers)):
            for claim in self.residents[li][0]:
                yield claim
            yield li, -1
            si = -1
            for step, nbytes, ordinal in self.layers.claims(li, "output_acquire", ACQUIRE_CLAIM):
                for si in range(si + 1, step):  # steps without output space to claim
                    yield li, si
                si = step
                yield out_pool, ordinal, nbytes
                yield li, si
            for si in range(si + 1, self.layers.counts[li]):
                yield li, si

    def _advance(self) -> None:
        for item in self._claims:
            if len(item) == 2:
                self._grant(*item)
            elif item[0].claim(item[1], item[2], self._advance) is not None:
                return  # the pool calls _advance again once this claim is granted

    def _grant(self, li: int, si: int) -> None:
        self.granted = (li, si)
        if si >= 0:
            self.progress()
        if self.grant_waiter is not None and self.grant_waiter[0] <= self.granted:
            event, self.grant_waiter = self.grant_waiter[1], None
            event.succeed()

    def _wait_granted(self, li: int, si: int):
        """Wait until ``claim_ahead`` has been granted the claims of (layer, step)."""
        if self.granted < (li, si):
            self.grant_waiter = ((li, si), self.env.event())
            yield self.grant_waiter[1]

    def run(self):
        env = self.env
        pools = self.pools
        in_pool, wt_pool = pools[Operand.INPUT], pools[Operand.WEIGHT]
        waits = [(self.loads[name], column, cause, column == self.shift_column) for name, column, cause in WAIT_CAUSE]
        array_rows = self.rows
        timeline = self.timeline
        count = self.layer_count
        for li in range(count):
            unit, rows = self.layers.rows(li)
            if self.barrier is not None and li:
                yield from self._sync(li - 1)
            t = self.times[li]
            parts = t.parts
            t.start = env.now
            first_event = self.events()
            frees = self.residents[li][1]
            yield from self._wait_granted(li, -1)  # room for the tensors this layer starts that stay on chip
            parts["stall_output"] += env.now - t.start
            if unit != "fused" and self.overhead:
                yield env.timeout(self.overhead)
                parts["overhead"] = self.overhead
            self.layer_started[li].succeed()
            # the compute phases are summed here and put in at the layer's end (nothing reads a
            # layer's parts while it runs); ``accounted``: the parts' sum so far, as t.accounted
            accounted, t_start, computing, fill_drain, preload, vector = t.accounted, t.start, 0, 0, 0, 0
            for si, (row, issue) in enumerate(rows):
                cause = None
                key = (li, si)
                now = env.now
                issued_at = now + issue  # the controller issues the step while its data comes
                waited_from = now
                stationary_at = None
                for loads, column, what, shifts in waits:
                    if row[column]:
                        event = loads.arrival(key)
                        if not event.processed:
                            before = env.now
                            yield event
                            if env.now > before:
                                cause = what  # the last operand to arrive is the one that held the array
                        if shifts:
                            stationary_at = event.cycle
                if self.granted < key:  # its output space
                    before = env.now
                    yield from self._wait_granted(li, si)
                    if env.now > before:
                        cause = "stall_output"
                now = env.now
                if cause is not None:
                    parts[cause] += now - t_start - accounted
                    accounted = now - t_start
                if now < issued_at:  # issue cost not hidden behind the wait for data
                    parts["overhead"] += issued_at - now
                    accounted += issued_at - now
                    yield env.timeout(issued_at - now)
                    now = issued_at
                # A new fold's stationary tile shifts in behind the previous fold's stream; one that
                # arrived too late for that shifts in now: what is left of its shift (min(R, T)
                # cycles after its arrival) is exposed, as preload.
                exposed = 0
                if stationary_at is not None and si and row[FOLDS]:
                    exposed = max(0, stationary_at + min(array_rows, row[STREAM] // row[FOLDS]) - now)
                busy = row[STREAM] + row[FILL_DRAIN] + row[PRELOAD] + row[VECTOR] + exposed
                if timeline is not None:
                    timeline.steps.append((li, si, waited_from, now, now + busy, cause))
                if busy:
                    yield env.timeout(busy)
                accounted += busy
                computing += row[STREAM]
                fill_drain += row[FILL_DRAIN]
                preload += row[PRELOAD] + exposed
                vector += row[VECTOR]
                if row[RELEASE_INPUT]:
                    in_pool.release(row[RELEASE_INPUT])
                if row[RELEASE_WEIGHT]:
                    wt_pool.release(row[RELEASE_WEIGHT])
                self._store(row, li, si)
            parts["computing"] += computing
            parts["fill_drain"] += fill_drain
            parts["preload"] += preload
            parts["vector"] += vector
            if self.pending_stores:
                self.drained = env.event()
                yield self.drained
            for pool, nbytes in frees:  # tensors whose last reader this was
                pool.release(nbytes)
            t.end = env.now
            t.events = self.events() - first_event
            t.parts["stall_output"] += t.end - t.start - t.accounted  # the last stores draining
            if self.progress_of_layers is not None:
                self.progress_of_layers("simulate", li + 1, len(self.layers))
        if self.barrier is not None and count:
            yield from self._sync(count - 1)
