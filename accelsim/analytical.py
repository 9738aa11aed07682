"""The closed-form model: compute bound, traffic bound, and the larger of the two.

It reads the same schedule as the engine (same folds, same bytes) and adds
them up instead of simulating them. Per layer on the array::

    compute cycles = the sum of the steps' compute cycles (the mapping's fold formula)
    memory cycles  = max(DRAM bytes / achievable bytes per cycle,
                         per buffer with a DRAM port: its DRAM bytes / dram_port_bytes_per_cycle,
                         per DMA engine: descriptors x dma.setup_cycles + its bytes / their rates)
    cycles         = max(compute + issue, memory) + control.layer_overhead_cycles
    issue          = per step, control.step_overhead_cycles + control.descriptor_overhead_cycles
                     x its DMA descriptors (the controller's cost, serial with compute)

With several cores (``split_breakdowns``) each core's share is costed so, then no core is faster
than the shared levels allow: ``shared = max(all cores' DRAM bytes / achievable rate, all cores'
global-buffer bytes / its rate) + control.layer_overhead_cycles``, the excess over a core's own
cycles charged to its stalls by its bytes; the layer takes the slowest core's cycles and every
other core's difference is its ``load_imbalance``.

The achievable rate is ``min(peak x dram.efficiency, max_outstanding x
burst_bytes / latency)`` (Little's law), the rate the engine's DRAM serves at. A
buffer with its own DRAM port moves its bytes at the port's rate (or the slower
of port and DRAM, when the ports share it); with ``dram.ports_independent`` the
DRAM term counts only the bytes of buffers without a port.
When memory wins, the excess is charged to the stall categories in proportion
to the bytes of each operand (inputs -> stall_input, weights -> stall_weight,
partial sums and outputs -> stall_output). Non-GEMM layers take their
vector-unit cycles, or nothing when fused.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Workload
from accelsim.schedule import (DMA_COLUMNS, DMA_LEVEL, DMA_OPERAND, LayerProgress, LayerSchedule, TilingCache,
                               build_schedule, dma_engine, issue_cycles)
from accelsim.stats import CoreResult, CycleBreakdown, DramTraffic, LayerResult, RunResult, mean_breakdown


def memory_cycles(dram_bytes: int, hw: Hardware) -> int:
    """Cycles to move ``dram_bytes`` at the achievable DRAM rate."""
    return _cycles_at(dram_bytes, hw.achievable_dram_bytes_per_cycle)


def _cycles_at(nbytes: int, rate: float) -> int:
    return 0 if math.isinf(rate) else math.ceil(nbytes / rate)


def level_rates(hw: Hardware) -> tuple[float, ...]:
    """Bytes per cycle of each level transfers reach (``schedule.transfer_levels`` order)."""
    g = hw.memory.global_buffer
    return (hw.achievable_dram_bytes_per_cycle,) + ((g.bandwidth_bytes_per_cycle,) if g is not None else ())


class TransferLanes:
    """What :func:`transfer_cycles` reads of a hardware, worked out once for all the layers of a
    run: each moved column's DMA engine and the lane its DRAM bytes take (a level code, or the
    name of a buffer with a port of its own), and each lane's rate."""

    __slots__ = ("rates", "columns", "lane_rate", "port_rate", "setup_cycles", "ports_independent")

    def __init__(self, hw: Hardware):
        self.rates = rates = level_rates(hw)
        memory = hw.memory
        self.lane_rate = dict(enumerate(rates))  # lane: a level code, or a ported buffer
        columns = []
        for kind, names in DMA_COLUMNS.items():
            buffer = memory.buffer_for(DMA_OPERAND[kind].kind)
            dram_lane = 0 if buffer.dram_port_bytes_per_cycle is None else buffer.name
            self.lane_rate[dram_lane] = hw.dram_port_rate(buffer) if dram_lane else rates[0]
            columns += [(column, dma_engine(kind, hw.dma.engines), dram_lane) for column in names]
        self.columns = tuple(columns)
        self.port_rate = {lane: memory.level(lane).dram_port_bytes_per_cycle
                          for lane in self.lane_rate if isinstance(lane, str)}
        self.setup_cycles = hw.dma.setup_cycles
        self.ports_independent = hw.dram.ports_independent


def transfer_cycles(ls: LayerSchedule, hw: Hardware, lanes: TransferLanes | None = None) -> int:
    """Cycles the layer's transfers need: every level's bytes at its rate, every buffer port's
    bytes at its rate, and no DMA engine faster than its descriptors' setup plus its own bytes
    at the rates they move at (``lanes``: ``TransferLanes(hw)``, when the caller has it).

    A DRAM transfer moves between DRAM and the buffer of its operand (``DMA_OPERAND``); through
    that buffer's own port when it has one (``Hardware.dram_port_rate``: the port's rate, or the
    slower of port and DRAM when they share it). The DRAM's bound counts every DRAM byte unless
    the ports are independent (``dram.ports_independent``), then only the bytes of buffers
    without a port.
    """
    lanes = TransferLanes(hw) if lanes is None else lanes
    rates, lane_rate = lanes.rates, lanes.lane_rate
    engines: dict[int, list] = {}  # engine -> [descriptors, {lane: bytes}]
    per_lane: dict = {}  # bytes through each lane, all engines
    for column, engine, dram_lane in lanes.columns:
        busy = engines.setdefault(engine, [0, {}])
        count, by_code = _moved_by_level(ls, column, len(rates))
        busy[0] += count
        moved = busy[1]
        for code, nbytes in enumerate(by_code):
            lane = dram_lane if code == 0 else code
            moved[lane] = moved.get(lane, 0) + nbytes
            per_lane[lane] = per_lane.get(lane, 0) + nbytes
    slowest = max((n * lanes.setup_cycles + sum(_cycles_at(b, lane_rate[lane]) for lane, b in moved.items())
                   for n, moved in engines.values()), default=0)
    ported = [lane for lane in per_lane if isinstance(lane, str)]
    shared_dram = ls.traffic.total
    if lanes.ports_independent:
        shared_dram -= sum(per_lane[lane] for lane in ported)
    port_bound = max((_cycles_at(per_lane[lane], lanes.port_rate[lane]) for lane in ported), default=0)
    level_bound = max(_cycles_at(shared_dram, rates[0]),
                      _cycles_at(ls.global_traffic.total, rates[1]) if len(rates) > 1 else 0, port_bound)
    return max(level_bound, slowest)


def _moved_by_level(ls: LayerSchedule, column: str, levels: int) -> tuple[int, list[int]]:
    """A moved column's DMA descriptors (the steps that move some of it, not within a per-core
    buffer) and its bytes from / to each level code; a column without a level column always
    moves to DRAM. A layer's steps mostly share one level: then by its sums alone."""
    sums, steps, where = ls.sums, ls.steps, DMA_LEVEL[column]
    if where is None:  # always DRAM
        return sums.nonzero[column], [sums.total[column]] + [0] * (levels - 1)
    by_code = [sums.moved(steps, column, where, code) for code in range(levels)]
    one = sums.level[where]
    if one is not None or not len(steps):
        return (sums.nonzero[column] if one is not None and one >= 0 else 0), by_code
    return int(np.count_nonzero(steps[column][steps[where] >= 0])), by_code


def roofline_cycles(compute_cycles: int, compulsory: DramTraffic, hw: Hardware) -> int:
    """max(compute cycles, compulsory bytes / peak bytes per cycle)."""
    rate = hw.dram_bytes_per_cycle
    memory = 0 if math.isinf(rate) else math.ceil(compulsory.total / rate)
    return max(compute_cycles, memory)


def split_stall(excess: int, traffic: DramTraffic) -> tuple[int, int, int]:
    """Share ``excess`` cycles among input, weight and output stalls by bytes (exact sum)."""
    shares = [traffic.input_read, traffic.weight_read, traffic.psum_read + traffic.write]
    total = sum(shares)
    if excess <= 0 or total == 0:
        return 0, 0, 0
    parts = [excess * s // total for s in shares]
    remainders = sorted(range(3), key=lambda i: (-(excess * shares[i] % total), i))
    for i in remainders[: excess - sum(parts)]:
        parts[i] += 1
    return parts[0], parts[1], parts[2]


def analytical_breakdown(ls: LayerSchedule, hw: Hardware, lanes: TransferLanes | None = None) -> CycleBreakdown:
    """The closed-form cycles of one scheduled layer, by cause (``lanes``: as for
    :func:`transfer_cycles`)."""
    if ls.unit == "fused":
        return CycleBreakdown()
    issue = int(issue_cycles(ls.steps, hw).sum())  # the controller's, serial with compute, beside transfers
    overhead = hw.control.layer_overhead_cycles + issue
    moved = ls.traffic + ls.global_traffic
    if ls.unit in ("vector", "depthwise"):
        vector = ls.total("vector")
        stall_in, stall_w, stall_out = split_stall(transfer_cycles(ls, hw, lanes) - vector - issue, moved)
        return CycleBreakdown(vector=vector, stall_input=stall_in, stall_weight=stall_w, stall_output=stall_out,
                              overhead=overhead)
    compute = ls.compute
    stall_in, stall_w, stall_out = split_stall(transfer_cycles(ls, hw, lanes) - compute.total - issue, moved)
    return CycleBreakdown(computing=compute.stream, fill_drain=compute.fill_drain, preload=compute.preload,
                          stall_input=stall_in, stall_weight=stall_w, stall_output=stall_out, overhead=overhead)


def split_breakdowns(ls: LayerSchedule, hw: Hardware,
                     lanes: TransferLanes | None = None) -> tuple[CycleBreakdown, tuple[CycleBreakdown, ...]]:
    """The closed-form cycles of a layer split between cores: (the layer's breakdown, the mean of
    its cores', ``stats.mean_breakdown``; each core's). See the module docstring."""
    shared = _shared_cycles(ls.traffic.total, ls.global_traffic.total, ls.unit, hw)
    cores = []
    for part in ls.cores:
        b = analytical_breakdown(part, hw, lanes)
        stall_in, stall_w, stall_out = split_stall(shared - b.total, part.traffic + part.global_traffic)
        cores.append(replace(b, stall_input=b.stall_input + stall_in, stall_weight=b.stall_weight + stall_w,
                             stall_output=b.stall_output + stall_out))
    slowest = max(b.total for b in cores)
    cores = tuple(replace(b, load_imbalance=slowest - b.total) for b in cores)
    return mean_breakdown(cores), cores


def split_cycles(parts: tuple[LayerSchedule, ...], own_cycles: tuple[int, ...], unit: str, hw: Hardware) -> int:
    """``split_breakdowns(ls)[0].total`` for the layer the cores' ``parts`` make, without making
    it or breaking its cycles down (how a split is chosen among the candidates): the slowest
    core's cycles, each core's ``own_cycles`` (its ``analytical_breakdown`` total) raised to the
    shared levels' bound when it moves any bytes (``split_stall`` charges the whole excess)."""
    shared = _shared_cycles(sum(p.traffic.total for p in parts), sum(p.global_traffic.total for p in parts), unit, hw)
    return max(max(own, shared) if p.traffic.total + p.global_traffic.total else own
               for p, own in zip(parts, own_cycles))


def _shared_cycles(dram_bytes: int, global_bytes: int, unit: str, hw: Hardware) -> int:
    """No core of a split layer is faster than the levels all cores share allow: every core's DRAM
    bytes at the achievable rate, every core's global-buffer bytes at its rate, then the layer's
    overhead."""
    rates = level_rates(hw)
    shared = max(_cycles_at(dram_bytes, rates[0]), _cycles_at(global_bytes, rates[1]) if len(rates) > 1 else 0)
    if shared and unit != "fused":
        shared += hw.control.layer_overhead_cycles
    return shared


def layer_breakdown(ls: LayerSchedule, hw: Hardware, lanes: TransferLanes | None = None) -> CycleBreakdown:
    """The closed-form cycles of a scheduled layer, on one core or several (``lanes``: as for
    :func:`transfer_cycles`)."""
    return split_breakdowns(ls, hw, lanes)[0] if ls.cores else analytical_breakdown(ls, hw, lanes)


def mapping_efficiency(ls: LayerSchedule) -> float:
    """The layer's mapping efficiency; split between cores, the cores' weighted by their streaming
    (computing) cycles, as a run weights its layers (``stats.run_mapping_efficiency``)."""
    if ls.cores:
        cores = [(part.mapping.mapping_efficiency if part.mapping else 0.0, part.total("stream")) for part in ls.cores]
        total = sum(n for _, n in cores)
        return sum(e * n for e, n in cores) / total if total else 0.0
    return ls.mapping.mapping_efficiency if ls.mapping else 0.0


def layer_result(ls: LayerSchedule, hw: Hardware, breakdown: CycleBreakdown, peak_bytes_per_cycle: float,
                 analytical_cycles: int, events: int = 0,
                 cores: tuple[CycleBreakdown, ...] = ()) -> LayerResult:
    """A LayerResult of a scheduled layer under some model's cycle breakdown (``cores``: each
    core's, when the layer is split between cores)."""
    layer = ls.layer
    compute = ls.compute_cycles
    return LayerResult(
        name=layer.name, kind=getattr(layer, "op", None) or layer.kind, unit=ls.unit,
        macs=ls.macs,
        cycles=breakdown.total, compute_cycles=compute, breakdown=breakdown,
        mapping_efficiency=mapping_efficiency(ls), partition=ls.partition,
        cores=tuple(CoreResult(macs=part.macs, breakdown=b) for part, b in zip(ls.cores, cores)),
        folds=ls.total("folds"), dram=ls.traffic, compulsory=ls.compulsory, spill=ls.spill, sram=ls.sram,
        global_buffer=ls.global_traffic, placement=_placement(ls), dram_lower_bound=ls.lower_bound,
        gated_macs=ls.gated_macs,
        peak_dram_bytes_per_cycle=peak_bytes_per_cycle, analytical_cycles=analytical_cycles,
        roofline_cycles=roofline_cycles(compute, ls.compulsory, hw), events=events,
    )


def _placement(ls: LayerSchedule) -> tuple[tuple[str, ...], str]:
    """Where the layer's inputs came from and its output went (the residency plan's levels)."""
    if ls.plan is None:
        return (), ""
    return ls.plan.inputs, ls.plan.output


def analyze_layer(ls: LayerSchedule, hw: Hardware, lanes: TransferLanes | None = None) -> LayerResult:
    breakdown, cores = split_breakdowns(ls, hw, lanes) if ls.cores else (analytical_breakdown(ls, hw, lanes), ())
    busy = breakdown.total - breakdown.overhead
    peak = ls.traffic.total / busy if busy else 0.0
    return layer_result(ls, hw, breakdown, peak, breakdown.total, cores=cores)


def analyze(hw: Hardware, workload: Workload, tilings: TilingCache | None = None,
            progress: LayerProgress | None = None) -> RunResult:
    """The closed-form model of a whole workload (``tilings``, ``progress``: ``schedule.build_schedule``'s)."""
    schedule = build_schedule(hw, workload, tilings, progress)
    lanes = TransferLanes(hw)
    layers = tuple(analyze_layer(ls, hw, lanes) for ls in schedule.layers)
    return RunResult(hardware=hw, workload=workload, model="analytical", layers=layers,
                     residency=schedule.residency)
