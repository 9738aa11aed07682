"""Results and the metrics computed from them, each defined once (see docs/metrics.md).

Both models (analytical and engine) produce the same :class:`LayerResult` and
:class:`RunResult`; every derived number (utilization, latency, TOPS,
bandwidth, ...) is a function or property here and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from accelsim.config.hardware import Hardware
from accelsim.config.workload import Workload
from accelsim.energy import ActionEnergies, action_energies

OPS_PER_MAC = 2  # one multiply and one add

# A compute-bound layer whose mapping efficiency is below this keeps most of the array idle:
# its "bound by" says under-filled, not compute (docs/metrics.md).
UNDERFILLED_MAPPING_EFFICIENCY = 0.25

# "bound by": the dominant breakdown part, in words (and "under-filled" for a nearly empty array).
BOUND_BY = {"computing": "compute", "fill_drain": "fill/drain", "preload": "preload", "stall_input": "inputs",
            "stall_weight": "weights", "stall_output": "outputs", "vector": "vector", "overhead": "overhead",
            "load_imbalance": "load imbalance", "none": "none"}


# ------------------------------------------------------------ metric formulas


def utilization(macs: int, pes: int, cycles: int) -> float:
    """Compute utilization: MACs / (R.C.cycles), a fraction of peak in [0, 1]."""
    return macs / (pes * cycles) if cycles else 0.0


def latency_s(cycles: int, clock_hz: float) -> float:
    return cycles / clock_hz


def inferences_per_s(batch: int, seconds: float) -> float:
    return batch / seconds if seconds else 0.0


def tokens_per_s(workload: Workload, seconds: float) -> float | None:
    """A decode step's generated tokens per second: one new token per sequence of the batch,
    ``batch / latency``; None for a workload that is not a decode step."""
    if workload.phase is None or workload.phase.value != "decode":
        return None
    return workload.batch / seconds if seconds else 0.0


def time_to_first_token_s(workload: Workload, seconds: float) -> float | None:
    """A prefill's time to first token: its latency (the prompt's last logits give the first
    token); None for a workload that is not a prefill."""
    if workload.phase is None or workload.phase.value != "prefill":
        return None
    return seconds


def effective_tops(macs: int, seconds: float) -> float:
    """Delivered tera-operations per second: 2 x MACs / latency / 10^12."""
    return OPS_PER_MAC * macs / seconds / 1e12 if seconds else 0.0


def arithmetic_intensity(macs: int, dram_bytes: int) -> float:
    """MACs per DRAM byte (inf when nothing moves)."""
    return macs / dram_bytes if dram_bytes else math.inf


def bandwidth_gb_per_s(dram_bytes: int, seconds: float) -> float:
    return dram_bytes / seconds / 1e9 if seconds else 0.0


PJ = 1e-12  # joules per picojoule


def energy_breakdown_j(hw: Hardware, macs: int, sram: SramAccesses, dram_bytes: int,
                       seconds: float, energies: ActionEnergies | None = None) -> dict[str, float]:
    """Energy in joules by part: counts x per-action energies (accelsim.energy), plus static power x time.

    ``mac`` = MACs x mac_pj; ``sram_<buffer>`` (every on-chip level) = bytes read x
    read_pj_per_byte + bytes written x write_pj_per_byte; ``dram`` = DRAM bytes (read +
    written) x dram_pj_per_byte; ``static`` = static_mw x latency. Pooling and element-wise
    work on the vector unit is not charged. ``energies``: ``action_energies(hw)``, when the
    caller has them (every layer of a run has the same).
    """
    e = energies if energies is not None else action_energies(hw)
    out = {"mac": macs * e.mac_pj * PJ}
    counts = sram.by_name()
    for name, buffer in e.buffers:
        read, written = counts.get(name, (0, 0))
        out[f"sram_{name}"] = (read * buffer.read_pj_per_byte + written * buffer.write_pj_per_byte) * PJ
    out["dram"] = dram_bytes * e.dram_pj_per_byte * PJ
    out["static"] = e.static_mw * 1e-3 * seconds
    return out


def average_power_w(energy_j: float, seconds: float) -> float:
    return energy_j / seconds if seconds else 0.0


def tops_per_w(macs: int, energy_j: float) -> float:
    """Delivered operations per joule / 10^12 (= effective TOPS / average power)."""
    return OPS_PER_MAC * macs / energy_j / 1e12 if energy_j else 0.0


def bound_by(dominant: str, mapping_efficiency: float, on_array: bool) -> str:
    """What limits a layer or run: its dominant breakdown part (``CycleBreakdown.dominant``) in
    words, or ``under-filled`` when the array dominates (computing, filling or preloading) with
    mapping efficiency below ``UNDERFILLED_MAPPING_EFFICIENCY``: busy, but nearly empty."""
    if on_array and dominant in ("computing", "fill_drain", "preload") \
            and mapping_efficiency < UNDERFILLED_MAPPING_EFFICIENCY:
        return "under-filled"
    return BOUND_BY[dominant]


def per_unit(value: float, amount: float | None) -> float | None:
    """``value / amount``, or None when the hwconfig does not give the amount (area, cost)."""
    return value / amount if amount else None


# ------------------------------------------------------------ result records


@dataclass(frozen=True)
class CycleBreakdown:
    """Where the cycles went; the parts sum exactly to the layer's cycles.

    Counter-style, like TPU v1's Table 3: each cycle is charged to one cause.
    """

    computing: int = 0     # operands streaming through the array
    fill_drain: int = 0    # array pipeline filling / draining (skew), OS result shift-out
    preload: int = 0       # shifting stationary operands into the PEs
    stall_input: int = 0   # array idle, waiting for input activations
    stall_weight: int = 0  # array idle, waiting for weights
    stall_output: int = 0  # array idle, waiting for outputs to drain (output buffer full)
    vector: int = 0        # pooling / element-wise work on the vector unit
    overhead: int = 0      # fixed per-layer control overhead
    load_imbalance: int = 0  # a core done with its share, waiting for the layer's last core (cores > 1)

    @property
    def total(self) -> int:
        return (self.computing + self.fill_drain + self.preload + self.stall_input + self.stall_weight
                + self.stall_output + self.vector + self.overhead + self.load_imbalance)

    @property
    def array_busy(self) -> int:
        return self.computing + self.fill_drain + self.preload

    @property
    def stalls(self) -> int:
        return self.stall_input + self.stall_weight + self.stall_output

    def dominant(self) -> str:
        """The category with the most cycles (ties: the earlier field); "none" for no cycles."""
        if self.total == 0:
            return "none"
        return max(BREAKDOWN_PARTS, key=self.__getattribute__)

    def dominant_stall(self) -> str:
        """The stall part with the most cycles (ties: the earlier field); "none" without stalls."""
        stalls = {"stall_input": self.stall_input, "stall_weight": self.stall_weight,
                  "stall_output": self.stall_output}
        best = max(stalls, key=stalls.__getitem__)
        return best if stalls[best] else "none"

    def __add__(self, other: "CycleBreakdown") -> "CycleBreakdown":
        return CycleBreakdown(self.computing + other.computing, self.fill_drain + other.fill_drain,
                              self.preload + other.preload, self.stall_input + other.stall_input,
                              self.stall_weight + other.stall_weight, self.stall_output + other.stall_output,
                              self.vector + other.vector, self.overhead + other.overhead,
                              self.load_imbalance + other.load_imbalance)


BREAKDOWN_PARTS = tuple(f.name for f in fields(CycleBreakdown))  # the causes, in field order


@dataclass(frozen=True)
class DramTraffic:
    """DRAM bytes by operand and direction."""

    input_read: int = 0
    weight_read: int = 0
    psum_read: int = 0     # partial sums read back after a spill
    output_write: int = 0  # final outputs
    psum_write: int = 0    # partial sums spilled because the accumulators were full

    @property
    def read(self) -> int:
        return self.input_read + self.weight_read + self.psum_read

    @property
    def write(self) -> int:
        return self.output_write + self.psum_write

    @property
    def total(self) -> int:
        return self.read + self.write

    def __add__(self, other: "DramTraffic") -> "DramTraffic":
        return DramTraffic(self.input_read + other.input_read, self.weight_read + other.weight_read,
                           self.psum_read + other.psum_read, self.output_write + other.output_write,
                           self.psum_write + other.psum_write)


TRAFFIC_PARTS = tuple(f.name for f in fields(DramTraffic))
_FIELD_VALUES = {CycleBreakdown: attrgetter(*BREAKDOWN_PARTS), DramTraffic: attrgetter(*TRAFFIC_PARTS)}


@dataclass(frozen=True)
class SramAccesses:
    """Bytes read from and written to each on-chip buffer: ``(name, read, written)`` per
    buffer, in the hierarchy's order."""

    buffers: tuple[tuple[str, int, int], ...] = ()

    def read(self, name: str) -> int:
        return sum(r for n, r, _ in self.buffers if n == name)

    def by_name(self) -> dict[str, tuple[int, int]]:
        """``{name: (read, written)}``: :meth:`read` and :meth:`written` of every buffer at once."""
        return _by_name(self.buffers)

    def written(self, name: str) -> int:
        return sum(w for n, _, w in self.buffers if n == name)

    def as_record(self) -> dict:
        """``{<buffer>_read: bytes, <buffer>_write: bytes, ...}`` (the JSON ``sram_bytes``)."""
        out = {}
        for name, read, written in self.buffers:
            out[f"{name}_read"] = read
            out[f"{name}_write"] = written
        return out

    def __add__(self, other: "SramAccesses") -> "SramAccesses":
        return summed([self, other], SramAccesses)


def summed(values: list, kind: type):
    """``sum(values, kind())`` for ``kind`` CycleBreakdown, DramTraffic or SramAccesses: the same
    integer sums, made field by field instead of with a record per addition (a run sums each
    over all its layers)."""
    if kind is SramAccesses:
        sums = _by_name(b for value in values for b in value.buffers)
        return SramAccesses(tuple((n, r, w) for n, (r, w) in sums.items()))
    return kind(*map(sum, zip(*map(_FIELD_VALUES[kind], values)))) if values else kind()


def _by_name(buffers) -> dict[str, tuple[int, int]]:
    """``(name, read, written)`` items summed by name, in order of first appearance."""
    out: dict[str, tuple[int, int]] = {}
    for name, read, written in buffers:
        r, w = out.get(name, (0, 0))
        out[name] = (r + read, w + written)
    return out


def mean_breakdown(parts: "tuple[CycleBreakdown, ...]") -> "CycleBreakdown":
    """A layer's breakdown over several cores: each part the mean of the cores' (each core's
    parts sum to the layer's cycles), rounded to integers by largest remainder (ties: the earlier
    field) so that the parts still sum exactly to the cycles. One core: its own breakdown."""
    if len(parts) == 1:
        return parts[0]
    n = len(parts)
    sums = [sum(getattr(p, name) for p in parts) for name in BREAKDOWN_PARTS]
    total = parts[0].total
    base = [s // n for s in sums]
    order = sorted(range(len(BREAKDOWN_PARTS)), key=lambda i: (-(sums[i] % n), i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return CycleBreakdown(*base)


def load_imbalance(core_cycles: "tuple[int, ...]") -> "tuple[int, ...]":
    """Each core's wait for the layer's last core: the layer ends when its slowest core ends."""
    end = max(core_cycles, default=0)
    return tuple(end - c for c in core_cycles)


def core_busy_fraction(breakdown: "CycleBreakdown", cycles: int) -> float:
    """A core's array-busy cycles (computing, fill/drain, preload) and vector cycles over the
    layer's (or run's) cycles."""
    return (breakdown.array_busy + breakdown.vector) / cycles if cycles else 0.0


@dataclass(frozen=True)
class CoreResult:
    """One core's share of a layer (cores > 1): its MACs and its breakdown, which sums to the
    layer's cycles (its wait for the slowest core is ``load_imbalance``)."""

    macs: int
    breakdown: CycleBreakdown


@dataclass(frozen=True)
class LayerResult:
    """One layer of one run. ``cycles`` == ``breakdown.total``.

    ``unit`` says where the layer ran: ``array``, ``vector`` (pooling and
    element-wise on the vector unit) or ``fused`` (folded into its neighbour,
    free, when the hardware has no vector unit).
    """

    name: str
    kind: str
    unit: str
    macs: int
    cycles: int
    compute_cycles: int          # the array's compute bound (mapping, all data on chip)
    breakdown: CycleBreakdown
    mapping_efficiency: float    # 0 for layers that do not use the array
    folds: int
    dram: DramTraffic
    compulsory: DramTraffic      # the network's compulsory bytes this layer moves (docs/metrics.md)
    sram: SramAccesses
    peak_dram_bytes_per_cycle: float
    analytical_cycles: int       # the closed-form prediction for this layer
    roofline_cycles: int         # max(compute, compulsory bytes / peak bandwidth)
    events: int = 0              # engine events processed while the layer ran (0: analytical)
    spill: DramTraffic = DramTraffic()          # DRAM bytes of tensors the residency plan could not keep on chip
    global_buffer: DramTraffic = DramTraffic()  # bytes moved to and from the global buffer
    placement: tuple = ((), "")                 # (level of each input tensor, level of the output)
    dram_lower_bound: int = 0                   # the least DRAM bytes any schedule could move (docs/metrics.md)
    gated_macs: int = 0                         # MACs with a zero operand, gated: no MAC energy
    partition: str = ""                         # how the layer was split between cores ("": one core)
    cores: tuple[CoreResult, ...] = ()          # per core (cores > 1; empty for one core)

    def __post_init__(self) -> None:
        if self.breakdown.total != self.cycles:
            raise ValueError(f"layer {self.name}: breakdown sums to {self.breakdown.total}, "
                             f"not {self.cycles} cycles")
        for i, core in enumerate(self.cores):
            if core.breakdown.total != self.cycles:
                raise ValueError(f"layer {self.name}: core {i}'s breakdown sums to {core.breakdown.total}, "
                                 f"not {self.cycles} cycles")


@dataclass(frozen=True)
class RunResult:
    """A workload on a hardware under one model; totals are sums over layers."""

    hardware: Hardware
    workload: Workload
    model: str
    layers: tuple[LayerResult, ...]
    events: int = 0  # discrete events processed (engine only)
    residency: Any = None  # the residency plan (accelsim.residency.Residency): where each tensor lived

    @property
    def cycles(self) -> int:
        return sum(layer.cycles for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def breakdown(self) -> CycleBreakdown:
        return summed([layer.breakdown for layer in self.layers], CycleBreakdown)

    def core_breakdowns(self) -> tuple[CycleBreakdown, ...]:
        """Each core's breakdown summed over the layers (one core: the run's)."""
        return core_breakdowns(self.layers, self.hardware.cores)

    @property
    def dram(self) -> DramTraffic:
        return summed([layer.dram for layer in self.layers], DramTraffic)

    @property
    def compulsory(self) -> DramTraffic:
        return summed([layer.compulsory for layer in self.layers], DramTraffic)

    @property
    def spill(self) -> DramTraffic:
        return summed([layer.spill for layer in self.layers], DramTraffic)

    @property
    def gated_macs(self) -> int:
        return sum(layer.gated_macs for layer in self.layers)

    @property
    def dram_lower_bound(self) -> int:
        return sum(layer.dram_lower_bound for layer in self.layers)

    @property
    def global_buffer(self) -> DramTraffic:
        return summed([layer.global_buffer for layer in self.layers], DramTraffic)

    @property
    def sram(self) -> SramAccesses:
        return summed([layer.sram for layer in self.layers], SramAccesses)

    @property
    def latency_s(self) -> float:
        return latency_s(self.cycles, self.hardware.clock_hz)


# ------------------------------------------------------------ derived rows


def _derived(hw: Hardware, macs: int, cycles: int, breakdown: CycleBreakdown,
             dram: DramTraffic, compulsory: DramTraffic, sram: SramAccesses, gated_macs: int = 0,
             energies: ActionEnergies | None = None) -> dict:
    seconds = latency_s(cycles, hw.clock_hz)
    dram_bytes, compulsory_bytes, busy, peak = dram.total, compulsory.total, breakdown.array_busy, hw.peak_macs_per_cycle
    energy = energy_breakdown_j(hw, macs - gated_macs, sram, dram_bytes, seconds, energies)  # gated MACs cost nothing
    energy_j = sum(energy.values())
    return {
        "energy_j": energy_j,
        "energy_breakdown_j": energy,
        "avg_power_w": average_power_w(energy_j, seconds),
        "tops_per_w": tops_per_w(macs, energy_j),
        "utilization": utilization(macs, peak, cycles),
        "utilization_busy": utilization(macs, peak, busy),
        "array_busy_fraction": busy / cycles if cycles else 0.0,
        "latency_s": seconds,
        "effective_tops": effective_tops(macs, seconds),
        "arithmetic_intensity": arithmetic_intensity(macs, dram_bytes),
        "avg_dram_gb_per_s": bandwidth_gb_per_s(dram_bytes, seconds),
        "traffic_ratio": dram_bytes / compulsory_bytes if compulsory_bytes else 1.0,
        "dominant": breakdown.dominant(),
        "dominant_stall": breakdown.dominant_stall(),
    }


def core_breakdowns(layers, cores: int) -> tuple[CycleBreakdown, ...]:
    """Per core, the sum of its breakdowns over ``layers`` (a layer without per-core results
    counts as the same breakdown on every core)."""
    parts = [[c.breakdown for c in layer.cores] if layer.cores else [layer.breakdown] * cores for layer in layers]
    if len(parts) == 1:
        return tuple(parts[0][:cores])
    return tuple(summed([p[i] for p in parts], CycleBreakdown) for i in range(min([cores] + [len(p) for p in parts])))


def core_macs(layers, cores: int) -> tuple[int, ...]:
    """Per core, the MACs it computed over ``layers`` (one core: all of them)."""
    totals = [0] * cores
    for layer in layers:
        for i, m in enumerate([c.macs for c in layer.cores] if layer.cores else [layer.macs]):
            totals[i] += m
    return tuple(totals)


def layer_metrics(layer: LayerResult, hw: Hardware, energies: ActionEnergies | None = None) -> dict:
    """Derived metrics of one layer (definitions: docs/metrics.md); ``energies``: as for
    :func:`energy_breakdown_j`."""
    out = _derived(hw, layer.macs, layer.cycles, layer.breakdown, layer.dram, layer.compulsory, layer.sram,
                   layer.gated_macs, energies)
    out["bound_by"] = bound_by(out["dominant"], layer.mapping_efficiency, layer.unit == "array")
    out["peak_dram_gb_per_s"] = layer.peak_dram_bytes_per_cycle * hw.clock_hz / 1e9
    out["analytical_gap"] = (layer.cycles - layer.analytical_cycles) / layer.analytical_cycles \
        if layer.analytical_cycles else 0.0
    out["core_busy_fraction"] = [core_busy_fraction(b, layer.cycles) for b in core_breakdowns((layer,), hw.cores)]
    out["core_utilization"] = [utilization(m, hw.array.pes, layer.cycles) for m in core_macs((layer,), hw.cores)]
    return out


def run_mapping_efficiency(run: RunResult) -> float:
    """Mapping efficiency of the layers weighted by their streaming (computing) cycles.

    Within a layer every fold streams for the same time, so this is the
    fold average there; across layers it weights each by how long it keeps
    the array streaming.
    """
    busy = sum(layer.breakdown.computing for layer in run.layers)
    weighted = sum(layer.mapping_efficiency * layer.breakdown.computing for layer in run.layers)
    return weighted / busy if busy else 0.0


def run_metrics(run: RunResult) -> dict:
    """Derived metrics of a whole run (definitions: docs/metrics.md)."""
    hw = run.hardware
    batch = run.workload.batch
    out = _derived(hw, run.macs, run.cycles, run.breakdown, run.dram, run.compulsory, run.sram, run.gated_macs)
    out["mapping_efficiency"] = run_mapping_efficiency(run)
    out["bound_by"] = bound_by(out["dominant"], out["mapping_efficiency"], True)
    out["inferences_per_s"] = inferences_per_s(batch, out["latency_s"])
    out["tokens_per_s"] = tokens_per_s(run.workload, out["latency_s"])
    out["time_to_first_token_s"] = time_to_first_token_s(run.workload, out["latency_s"])
    out["energy_per_inference_j"] = out["energy_j"] / batch
    out["inferences_per_s_per_w"] = batch / out["energy_j"] if out["energy_j"] else 0.0  # = inferences per joule
    out["inferences_per_s_per_mm2"] = per_unit(out["inferences_per_s"], hw.area_mm2)
    out["inferences_per_s_per_usd"] = per_unit(out["inferences_per_s"], hw.cost_usd)
    out["peak_tops"] = hw.peak_tops
    out["peak_dram_gb_per_s"] = max((layer.peak_dram_bytes_per_cycle for layer in run.layers), default=0.0) \
        * hw.clock_hz / 1e9
    analytical = sum(layer.analytical_cycles for layer in run.layers)
    out["analytical_cycles"] = analytical
    out["analytical_gap"] = (run.cycles - analytical) / analytical if analytical else 0.0
    out["core_busy_fraction"] = [core_busy_fraction(b, run.cycles) for b in run.core_breakdowns()]
    out["core_utilization"] = [utilization(m, hw.array.pes, run.cycles) for m in core_macs(run.layers, hw.cores)]
    return out
