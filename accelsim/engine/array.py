"""The array (and the sequencer that runs layers on it): takes a step when its operands are
resident, is busy for the step's compute cycles, then hands the outputs to the store path.

Every cycle of a layer is charged to one cause (stats.CycleBreakdown). A layer
runs from the end of the previous one to the moment its last outputs are in
DRAM: control overhead first, then for each step the wait for its data
(charged to whichever arrived last: inputs, weights, or partial sums / output
space) and its compute phases, then the tail while the last stores drain
(stall_output). A stall between steps does not re-expose the array's fill and
drain (the fold timing's shares assume back-to-back folds).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import simpy

from accelsim.engine.dma import DmaEngine
from accelsim.engine.sram import BufferPool
from accelsim.mapping import Operand
from accelsim.schedule import STEP_FIELDS
from accelsim.stats import CycleBreakdown

# Positions in a step row.
(FOLDS, LOAD_INPUT, LOAD_WEIGHT, LOAD_PSUM, OUTPUT_ACQUIRE, STREAM, FILL_DRAIN, PRELOAD, VECTOR, STORE_OUTPUT,
 STORE_PSUM, STORE_RELEASE, RELEASE_INPUT, RELEASE_WEIGHT) = (STEP_FIELDS.index(name) for name in (
    "folds", "load_input", "load_weight", "load_psum", "output_acquire", "stream", "fill_drain", "preload",
    "vector", "store_output", "store_psum", "store_release", "release_input", "release_weight"))

WAIT_CAUSE = (("input", LOAD_INPUT, "stall_input"), ("weight", LOAD_WEIGHT, "stall_weight"),
              ("psum", LOAD_PSUM, "stall_output"))

# The step columns that claim buffer bytes, in the order claims of one step are granted, and
# the operand whose buffer each books.
CLAIMS = (("load_input", Operand.INPUT), ("load_weight", Operand.WEIGHT), ("load_psum", Operand.OUTPUT),
          ("output_acquire", Operand.OUTPUT))
ACQUIRE_CLAIM = 3  # output_acquire's position in CLAIMS


CAUSES = tuple(f.name for f in fields(CycleBreakdown))


@dataclass
class LayerTimes:
    """What the array observed for one layer: its span and the cycles charged to each cause
    (stats.CycleBreakdown's parts), filled while simulating."""

    start: int = 0
    end: int = 0
    events: int = 0  # engine events processed while this layer ran
    parts: dict = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))

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
            arrival.callbacks.append(lambda _event: waiter.succeed())

    def arrival(self, key) -> simpy.Event:
        event = self.arrivals.pop(key, None)
        if event is None:
            event = self.waiters[key] = self.env.event()
        return event


class Array:
    """Runs the layers' steps in order; see the module docstring for the accounting."""

    def __init__(self, env: simpy.Environment, layers: list, ordinals: list, loads: dict[str, Loads],
                 pools: dict[Operand, BufferPool], store_engine: DmaEngine, overhead_cycles: int,
                 layer_started: list, progress, events):
        self.env = env
        self.layers = layers              # [(unit, rows)] per layer; rows are lists of ints
        self.ordinals = ordinals          # per layer, per step: each claim's place in its pool (CLAIMS order)
        self.loads = loads
        self.pools = pools                # operand -> the pool of its buffer
        self.store_engine = store_engine
        self.overhead = overhead_cycles
        self.layer_started = layer_started
        self.progress = progress          # told when the output space of a step is claimed
        self.events = events              # () -> events processed so far
        self.times = [LayerTimes() for _ in layers]
        self.pending_stores = 0
        self.drained: simpy.Event | None = None
        self.timeline = None  # an engine.timeline.Timeline to record steps in, or None

    def _stored(self, release: int):
        out_pool = self.pools[Operand.OUTPUT]

        def done(_event) -> None:
            if release:
                out_pool.release(release)
            self.pending_stores -= 1
            if not self.pending_stores and self.drained is not None:
                drained, self.drained = self.drained, None
                drained.succeed()

        return lambda arrival: arrival.callbacks.append(done)

    def run(self):
        env = self.env
        pools = self.pools
        out_pool, in_pool, wt_pool = pools[Operand.OUTPUT], pools[Operand.INPUT], pools[Operand.WEIGHT]
        waits = [(self.loads[name], column, cause) for name, column, cause in WAIT_CAUSE]
        timeline = self.timeline
        for li, (unit, rows) in enumerate(self.layers):
            t = self.times[li]
            t.start = env.now
            first_event = self.events()
            if unit != "fused" and self.overhead:
                yield env.timeout(self.overhead)
                t.parts["overhead"] = self.overhead
            self.layer_started[li].succeed()
            ordinals = self.ordinals[li]
            for si, row in enumerate(rows):
                cause = None
                if timeline is not None:
                    waited_from = env.now
                for loads, column, what in waits:
                    if row[column]:
                        event = loads.arrival((li, si))
                        if not event.processed:
                            before = env.now
                            yield event
                            if env.now > before:
                                cause = what  # the last operand to arrive is the one that held the array
                if row[OUTPUT_ACQUIRE]:
                    event = out_pool.claim(ordinals[si][ACQUIRE_CLAIM], row[OUTPUT_ACQUIRE])
                    if event is not None:
                        before = env.now
                        yield event
                        if env.now > before:
                            cause = "stall_output"
                self.progress(li, si)
                if cause is not None:
                    t.parts[cause] += env.now - t.start - t.accounted
                busy = row[STREAM] + row[FILL_DRAIN] + row[PRELOAD] + row[VECTOR]
                if timeline is not None:
                    timeline.steps.append((li, si, waited_from, env.now, env.now + busy, cause))
                if busy:
                    yield env.timeout(busy)
                parts = t.parts
                parts["computing"] += row[STREAM]
                parts["fill_drain"] += row[FILL_DRAIN]
                parts["preload"] += row[PRELOAD]
                parts["vector"] += row[VECTOR]
                if row[RELEASE_INPUT]:
                    in_pool.release(row[RELEASE_INPUT])
                if row[RELEASE_WEIGHT]:
                    wt_pool.release(row[RELEASE_WEIGHT])
                stored = row[STORE_OUTPUT] + row[STORE_PSUM]
                if stored:
                    self.pending_stores += 1
                    self.store_engine.submit(stored, self._stored(row[STORE_RELEASE]), ("store", li, si))
                elif row[STORE_RELEASE]:
                    out_pool.release(row[STORE_RELEASE])
            if self.pending_stores:
                self.drained = env.event()
                yield self.drained
            t.end = env.now
            t.events = self.events() - first_event
            t.parts["stall_output"] += t.end - t.start - t.accounted  # the last stores draining
