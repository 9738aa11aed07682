"""One simulation: build the schedule, wire DRAM, DMA engines, buffers and the array in a
fresh SimPy environment, run it, and turn what happened into results.

DMA engines serve operands round-robin by kind: input loads on engine 0,
weight loads on engine 1, partial-sum loads and all stores on engine 2
(modulo ``dma.engines``), each engine a FIFO of descriptors. Each operand's
tiles are claimed in the buffer that holds its kind of data (``hw.memory``);
operands that share a buffer share one pool of bytes.
"""

from __future__ import annotations

import numpy as np
import simpy

from accelsim.analytical import TransferLanes, analytical_breakdown, layer_breakdown, layer_result
from accelsim.config.hardware import Hardware
from accelsim.config.workload import Workload
from accelsim.engine.array import CLAIMS, LOAD_INPUT, LOAD_WEIGHT, Array, LayerSteps, LayerTimes, Loads
from accelsim.engine.dma import DmaEngine
from accelsim.engine.dram import Trace, buffer_ports, ports
from accelsim.engine.sram import BufferPool
from accelsim.engine.timeline import Timeline
from accelsim.mapping import Operand
from accelsim.schedule import LayerProgress, Schedule, build_schedule, dma_engine, issue_cycles
from accelsim.stats import RunResult, mean_breakdown

BANDWIDTH_WINDOW_CYCLES = 1000  # peak DRAM bandwidth is the best average over windows this long

# (operand name (its bytes column is load_<name>), level column: where the bytes come from; None: always DRAM)
LOADS = (("input", "input_from"), ("weight", "weight_from"), ("psum", None))


def shift_of(hw: Hardware) -> tuple[int | None, int]:
    """The load column of the operand a fold shifts into the PEs (WS weights, IS inputs; None for
    OS, whose outputs stay) and the array's rows, for the array's late-shift accounting."""
    from accelsim.mapping import strategy_for

    stationary = strategy_for(hw.array.dataflow).stationary
    column = {Operand.WEIGHT: LOAD_WEIGHT, Operand.INPUT: LOAD_INPUT}.get(stationary)
    return column, hw.array.rows


ORDINAL_CHUNK_ROWS = 2**16  # layers are numbered in groups of about this many steps: small temporaries


def claim_ordinals(layers: list, pool_of_claim: tuple, residents: list) -> tuple[list, list]:
    """The order claims are granted in, per pool: each layer's resident tensors (claimed before it
    starts), then its steps' claims in ``CLAIMS`` order. Returns, per layer, an array of each step's
    ordinal of each of its claims (-1 where it claims nothing), and the ordinal of each resident
    claim. Consecutive layers are numbered together (``_number``), a group of up to about
    ``ORDINAL_CHUNK_ROWS`` steps at a time."""
    counts: dict = {}  # pool -> claims numbered so far
    out, resident_out, group, rows = [], [], [], 0
    for li, (_, steps) in enumerate(layers):
        group.append(li)
        rows += len(steps)
        if rows >= ORDINAL_CHUNK_ROWS or li == len(layers) - 1:
            ordinals, numbered = _number([layers[i][1] for i in group], pool_of_claim,
                                         [residents[i] for i in group], counts)
            out += ordinals
            resident_out += numbered
            group, rows = [], 0
    return out, resident_out


def _number(steps_of: list, pool_of_claim: tuple, residents: list, counts: dict) -> tuple[list, list]:
    """:func:`claim_ordinals` of consecutive layers at once, after ``counts`` claims of each pool
    (updated): a step's claim in a pool comes after the pool's earlier step claims of the group
    (its rank among them) and the pool's residents of its own and the group's earlier layers."""
    sizes = np.array([len(steps) for steps in steps_of], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    claims = np.stack([np.concatenate([steps[name] for steps in steps_of]) > 0 for name, _ in CLAIMS], axis=1)
    ordinals = np.full(claims.shape, -1, dtype=np.int64)
    row_layer = np.repeat(np.arange(len(steps_of)), sizes)
    first = {}  # pool -> per layer, the ordinal of its first resident claim there
    for pool in dict.fromkeys(list(pool_of_claim) + [p for here in residents for p, _ in here]):
        mask = claims & np.array([p is pool for p in pool_of_claim])
        start = counts.get(pool, 0)
        # the pool's residents of the group's layers before each layer
        before = np.cumsum([0] + [sum(1 for p, _ in here if p is pool) for here in residents])
        at = np.flatnonzero(mask)  # the pool's step claims in the group, in order (their rank)
        ordinals.ravel()[at] = start + np.arange(at.size) + before[1:][row_layer[at // len(CLAIMS)]]
        done = np.concatenate(([0], np.cumsum(mask.sum(axis=1))))[starts]  # step claims of layers before
        first[pool] = start + before[:-1] + done
        counts[pool] = start + int(before[-1]) + at.size
    resident_out = []
    for li, here in enumerate(residents):
        nth: dict = {}  # pool -> residents of this layer numbered so far
        mine = []
        for p, _ in here:
            mine.append(int(first[p][li]) + nth.get(p, 0))
            nth[p] = nth.get(p, 0) + 1
        resident_out.append(mine)
    return np.split(ordinals, starts[1:]), resident_out


class LayerBarrier:
    """Cores > 1: a core that has finished layer ``i`` waits here until every core has; the wait
    is charged to layer ``i``'s ``load_imbalance`` on that core, and the layer ends, on every core,
    when its last core ends."""

    def __init__(self, env: simpy.Environment, cores: int, layers: int):
        self.env, self.cores = env, cores
        self.arrived = [0] * layers
        self.done = [env.event() for _ in range(layers)]

    def wait(self, layer: int):
        self.arrived[layer] += 1
        if self.arrived[layer] == self.cores:
            self.done[layer].succeed()
        else:
            yield self.done[layer]


class Core:
    """One core: its DMA engines, its buffers, its array and the loaders that feed them, in the
    simulation's environment, moving chunks through the shared levels (``sim.ports``)."""

    def __init__(self, sim: "Simulation", index: int, layers: list, shared_pools: dict, barrier: LayerBarrier | None,
                 timeline: Timeline | None):
        hw = sim.schedule.hardware
        self.env = env = sim.env
        self.ports = sim.ports
        self.engines = [DmaEngine(env, sim.dram, hw.dma.setup_cycles, hw.dma.chunk_bytes, f"dma{i}")
                        for i in range(hw.dma.engines)]
        memory = hw.memory
        pools = dict(shared_pools)
        pools.update({level.name: BufferPool(env, level.name, level.size_bytes) for level in memory.local})
        # the pool each claim column (CLAIMS order) books bytes in: its operand's buffer
        self.pool_of_claim = tuple(pools[memory.buffer_for(operand.kind).name] for _, operand in CLAIMS)
        self.pool_of = {operand: pools[memory.buffer_for(operand.kind).name] for _, operand in CLAIMS}
        # the port each operand's DRAM transfers go through: its buffer's own, else the shared DRAM
        by_buffer = buffer_ports(hw, sim.dram)
        self.dram_port_of = {operand: by_buffer[memory.buffer_for(operand.kind).name] for _, operand in CLAIMS}
        # the tensors the plan keeps on chip live in shared levels when cores > 1: core 0 books them
        plans = [ls.plan if index == 0 else None for ls in layers]
        residents = [[(pools[level], nbytes) for level, nbytes in p.claims] if p else [] for p in plans]
        releases = [[(pools[level], nbytes) for level, nbytes in p.releases] if p else [] for p in plans]
        ordinals, resident_ordinals = claim_ordinals([(ls.unit, ls.steps) for ls in layers], self.pool_of_claim,
                                                     residents)
        self.layers = LayerSteps(layers, lambda steps: issue_cycles(steps, hw), ordinals)
        resident = [([(pool, ordinal, nbytes) for (pool, nbytes), ordinal in zip(claims, ords)], frees)
                    for claims, ords, frees in zip(residents, resident_ordinals, releases)]
        self.layer_started = [env.event() for _ in layers]
        self.loads = {name: Loads(env) for name, _ in LOADS}
        store_engine = dma_engine("store", len(self.engines))
        self.claim_waiter = None  # (step, event) a partial-sum load waits on
        self.array = Array(env, self.layers, resident, self.loads, self.pool_of,
                           self.engines[store_engine], self.ports, hw.control.layer_overhead_cycles,
                           self.layer_started, self._claimed, lambda: sim.events, shift_of(hw),
                           self.dram_port_of[Operand.OUTPUT])
        self.array.barrier = barrier
        if timeline is not None:  # record steps and descriptors (off by default: no cost)
            timeline.engines, timeline.store_engine = len(self.engines), store_engine
            self.array.timeline = timeline
            for i, engine in enumerate(self.engines):
                engine.index, engine.timeline = i, timeline
        self.array_process = env.process(self.array.run())
        self.array.claim_ahead()
        gated = ("input", "weight", "psum") if not hw.dma.prefetch_next_layer else ("input",)
        for name, source in LOADS:
            engine = self.engines[dma_engine(name, len(self.engines))]
            env.process(self._loader(name, source, engine, name in gated))

    def _claimed(self) -> None:
        """The array was granted a step's output space: wake a partial-sum load waiting for it."""
        if self.claim_waiter is not None and self.claim_waiter[0] <= self.array.granted:
            event, self.claim_waiter = self.claim_waiter[1], None
            event.succeed()

    def _loader(self, name: str, source: str | None, engine: DmaEngine, gated: bool):
        """Issue one operand's loads in step order, each once its buffer has room, from the
        level the step names (``source``: its level column; None: DRAM)."""
        env, levels = self.env, self.ports
        slot = [c for c, _ in CLAIMS].index(f"load_{name}")
        pool = self.pool_of_claim[slot]
        via = self.dram_port_of[CLAIMS[slot][1]]  # this operand's way to DRAM
        loads = self.loads[name]
        for li in range(len(self.layers)):
            held = []  # gated loads waiting for their layer's start, in order
            for si, nbytes, ordinal, *at in self.layers.claims(li, f"load_{name}", slot, source):
                if name == "psum":
                    # claims on the output buffer stay in step order: after the array's claim
                    # for the previous step (else a read-back could take space the array needs)
                    previous = (li, si - 1) if si else (li - 1, self.layers.counts[li - 1] - 1 if li else -1)
                    if self.array.granted < previous:
                        self.claim_waiter = (previous, env.event())
                        yield self.claim_waiter[1]
                claim = pool.claim(ordinal, nbytes)
                if claim is not None:
                    yield claim
                level = at[0] if at else 0
                transfer = (nbytes, lambda arrival, key=(li, si): loads.issued(key, arrival), (name, li, si),
                            via if level == 0 else levels[level])
                if gated and not self.layer_started[li].processed:
                    # it has its room (so it holds back no later claim of a shared buffer) but moves
                    # only once its layer has started (its producers have finished)
                    if not held:
                        self.layer_started[li].callbacks.append(
                            lambda _event, held=held: [engine.submit(*t) for t in held])
                    held.append(transfer)
                    continue
                engine.submit(*transfer)


class Simulation:
    """The parts of one simulated accelerator, wired together (no state outlives it): the shared
    levels (DRAM, the global buffer) and one ``Core`` per core, in one environment."""

    def __init__(self, schedule: Schedule, timeline: Timeline | None = None, progress: LayerProgress | None = None,
                 through: int | None = None):
        """``through``: run only until layer ``through`` (an index) has ended on every core."""
        if through is not None and (type(through) is not int or not 0 <= through < len(schedule.layers)):
            raise ValueError(f"through: expected a layer index below {len(schedule.layers)}, got {through!r}")
        hw = schedule.hardware
        self.schedule = schedule
        self.env = env = simpy.Environment()
        self.events = 0
        self.ports = ports(hw)  # schedule.levels order: DRAM, then the global buffer
        self.dram = self.ports[0]
        shared = {level.name: BufferPool(env, level.name, level.size_bytes) for level in hw.memory.levels
                  if level.shared}
        barrier = LayerBarrier(env, hw.cores, len(schedule.layers)) if hw.cores > 1 else None
        timelines = [timeline] + [None] * (hw.cores - 1) if timeline is None or hw.cores == 1 else \
            [timeline] + [timeline.core(c) for c in range(1, hw.cores)]
        self.cores = [Core(self, c, [ls.core(c) for ls in schedule.layers], shared, barrier, timelines[c])
                      for c in range(hw.cores)]
        self.array = self.cores[0].array
        self.array.progress_of_layers = progress  # core 0's layers stand for all (display only)
        if through is not None:
            for core in self.cores:
                core.array.layer_count = through + 1
            env.all_of([core.array_process for core in self.cores]).callbacks.append(simpy.core.StopSimulation.callback)

    def run(self) -> list[list[LayerTimes]]:
        """Run to the end (or until layer ``through`` has ended on every core: the later layers'
        times stay zero); per core, what its array observed per layer."""
        step = self.env.step
        try:
            while True:  # env.run(), counting the events processed (the engine's cost)
                step()
                self.events += 1
        except (simpy.core.EmptySchedule, simpy.core.StopSimulation):  # the end, or the arrays' (``through``)
            pass
        for core in self.cores:
            if core.array_process.is_alive:  # nothing left to happen, yet an array is still waiting
                from accelsim.errors import SimulationError

                stuck = next(ls.name for ls, t in zip(self.schedule.layers, core.array.times) if not t.end)
                raise SimulationError(f"simulation deadlocked in layer {stuck} (schedule error)")
        return [core.array.times for core in self.cores]


def simulate_schedule(schedule: Schedule, timeline: Timeline | None = None,
                      progress: LayerProgress | None = None) -> RunResult:
    """Run a built schedule in the engine (``progress("simulate", done, total)``: after each layer)."""
    hw = schedule.hardware
    sim = Simulation(schedule, timeline, progress)
    per_core = sim.run()
    times = per_core[0]
    trace = Trace(sim.dram, release=True)
    if timeline is not None:
        timeline.layers, timeline.schedule, timeline.dram = times, schedule, trace
        for c, core_times in enumerate(per_core[1:], start=1):
            timeline.core(c).layers = core_times
    layers, lanes = [], TransferLanes(hw)
    for li, (ls, t) in enumerate(zip(schedule.layers, times)):
        peak = trace.peak_bytes_per_cycle(t.start, t.end, BANDWIDTH_WINDOW_CYCLES)
        if hw.cores == 1:
            layers.append(layer_result(ls, hw, t.breakdown(), peak, analytical_breakdown(ls, hw, lanes).total,
                                       events=t.events))
            continue
        cores = tuple(core_times[li].breakdown() for core_times in per_core)
        layers.append(layer_result(ls, hw, mean_breakdown(cores), peak, layer_breakdown(ls, hw, lanes).total,
                                   events=t.events, cores=cores))
    return RunResult(hardware=hw, workload=schedule.workload, model="engine", layers=tuple(layers),
                     events=sim.events, residency=schedule.residency)


def layer_cycles(schedule: Schedule, through: int) -> list[int]:
    """The cycles of layers ``0..through`` of a built schedule, as ``simulate_schedule`` gives
    them, simulating only until layer ``through`` has ended on every core: what happens later
    cannot change them (calibration reads a few layers of a network hundreds of times)."""
    times = Simulation(schedule, through=through).run()[0]
    return [t.breakdown().total for t in times[:through + 1]]


def simulate(hw: Hardware, workload: Workload, timeline: Timeline | None = None) -> RunResult:
    """Simulate a workload on a hardware with the discrete-event engine.

    A ``Timeline`` passed in is filled with every step and DMA descriptor (for ``--trace``).
    """
    return simulate_schedule(build_schedule(hw, workload), timeline)
