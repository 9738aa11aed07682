"""The hardware description: a tree of frozen parts, units in every field name.

``Hardware`` -> ``ArrayConfig`` (the systolic array), the on-chip memories
(``buffers``: a list of named buffers, or the three-buffer ``SramConfig`` form;
optionally a ``global_buffer``), ``DramConfig``, ``DmaConfig``, optional
``VectorUnitConfig`` and ``ControlConfig``. Derived quantities (peak MACs per
cycle, peak TOPS, DRAM bytes per cycle, the resolved memory hierarchy) are
properties, computed here and nowhere else.

Energy per action (``array.mac_pj``, the buffers' ``read_pj_per_byte`` /
``write_pj_per_byte``, ``dram.pj_per_byte``) is optional: null means the
published default of :mod:`accelsim.energy`, which resolves them.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass
from typing import Mapping

from accelsim.config.schema import (  # noqa: F401  (MAX_*: the documented bounds, docs/hardware.md)
    MAX_ARRAY_SIDE, MAX_AREA_MM2, MAX_CORES, MAX_BUFFER_KIB, MAX_BURST_BYTES, MAX_CHANNELS, MAX_CHUNK_BYTES, MAX_CLOCK_MHZ,
    MAX_COST_USD, MAX_DMA_ENGINES, MAX_DRAM_GB_PER_S, MAX_DRAM_LATENCY_NS, MAX_ELEMENT_BYTES, MAX_ENERGY_PJ,
    MAX_OUTSTANDING, MAX_OVERHEAD_CYCLES, MAX_SETUP_CYCLES, MAX_STATIC_MW, MAX_VECTOR_ELEMENTS,
    PYTHON,
    FrozenMap,
    Validated,
    finite_positive_number,
    fraction,
    non_empty_string,
    non_negative_int,
    non_negative_number,
    positive_int,
    positive_number,
    spec,
)
from accelsim.config.memory import (  # noqa: F401  (ActivationPlacement, DataKind: re-exported)
    DRAM,
    DRAM_PORT_DOC,
    ActivationPlacement,
    DataKind,
    GlobalBufferConfig,
    MemoryHierarchy,
    MemoryLevel,
    OnChipBuffer,
)
from accelsim.config.sparsity import NM, SparsityConfig, nm_check, parse_nm  # noqa: F401
from accelsim.errors import ConfigError

KIB = 1024
GB = 10**9  # "GB/s" in hwconfigs is decimal: 10^9 bytes per second


class Partition(enum.Enum):
    """How a layer's work is split between cores (docs/hardware.md, "Cores"; accelsim.partition)."""

    AUTO = "auto"          # the legal split with the least analytical cycles, per layer
    CHANNELS = "channels"  # output channels (filters, GEMM columns): inputs replicated to every core
    PIXELS = "pixels"      # output rows / GEMM rows: weights replicated, halo rows for kernels > 1
    BATCH = "batch"        # samples: weights replicated
    HEADS = "heads"        # whole independent GEMMs (attention heads): nothing replicated


class Dataflow(enum.Enum):
    """Which GEMM operand stays in the PEs (SCALE-Sim's convention)."""

    OS = "os"  # output stationary
    WS = "ws"  # weight stationary
    IS = "is"  # input stationary


@dataclass(frozen=True)
class ArrayConfig(Validated):
    rows: int = spec(positive_int(MAX_ARRAY_SIDE), doc="PE rows (R)")
    cols: int = spec(positive_int(MAX_ARRAY_SIDE), doc="PE columns (C)")
    dataflow: Dataflow = spec(doc="os, ws or is")
    bytes_per_input: int = spec(positive_int(MAX_ELEMENT_BYTES), default=1, doc="input activation element")
    bytes_per_weight: int = spec(positive_int(MAX_ELEMENT_BYTES), default=1, doc="weight element")
    bytes_per_psum: int = spec(positive_int(MAX_ELEMENT_BYTES), default=4, doc="partial sum held in the accumulators")
    bytes_per_output: int = spec(positive_int(MAX_ELEMENT_BYTES), default=1, doc="output activation written to DRAM")
    pipelined_folds: bool = spec(default=True, doc="false: SCALE-Sim 3.0.0 fold timing")
    pack_groups: bool = spec(default=True, doc="put several groups of a grouped or depthwise conv side by side in "
                                               "one fold, where the dataflow allows it (WS; pipelined folds only)")
    mac_pj: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                doc="energy of one MAC in pJ; null: Horowitz 45 nm by element widths (docs/energy.md)")
    sparse_nm: str | None = spec(nm_check(), default=None,
                                 doc="N:M weight structure the array skips ('2:4'): such layers map their kept "
                                     "weights only, each with ceil(log2 M) bits of index (null: none)")

    @property
    def pes(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class BufferConfig(Validated):
    size_kib: float = spec(finite_positive_number(MAX_BUFFER_KIB), doc="capacity in KiB (1024 bytes)")
    double_buffered: bool = spec(default=True, doc="split into two slots so loads overlap compute")
    dram_port_bytes_per_cycle: float | None = spec(positive_number(MAX_DRAM_GB_PER_S), default=None,
                                                   doc=DRAM_PORT_DOC)
    read_pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                          doc="energy per byte read in pJ; null: Horowitz 45 nm by size (docs/energy.md)")
    write_pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                           doc="energy per byte written in pJ; null: as read_pj_per_byte's default")

    @property
    def size_bytes(self) -> int:
        return int(self.size_kib * KIB)

    @property
    def slot_bytes(self) -> int:
        """Bytes one tile may occupy: half the buffer when double-buffered."""
        return self.size_bytes // 2 if self.double_buffered else self.size_bytes


@dataclass(frozen=True)
class SramConfig(Validated):
    """The three-buffer form: one buffer per kind of data, named after it."""

    input: BufferConfig = spec(doc="input activations (holds: activations)")
    weight: BufferConfig = spec(doc="weights (holds: weights)")
    output: BufferConfig = spec(doc="outputs and partial sums, the accumulators (holds: psums)")

    def buffers(self) -> tuple[OnChipBuffer, ...]:
        kinds = {"input": DataKind.ACTIVATIONS, "weight": DataKind.WEIGHTS, "output": DataKind.PSUMS}
        return tuple(OnChipBuffer(name=name, size_kib=b.size_kib, holds=(kind,), double_buffered=b.double_buffered,
                                  dram_port_bytes_per_cycle=b.dram_port_bytes_per_cycle,
                                  read_pj_per_byte=b.read_pj_per_byte, write_pj_per_byte=b.write_pj_per_byte)
                     for name, kind in kinds.items() for b in (getattr(self, name),))


@dataclass(frozen=True)
class DramConfig(Validated):
    bandwidth_gb_per_s: float = spec(positive_number(MAX_DRAM_GB_PER_S), doc="peak bandwidth, 10^9 B/s; .inf for an ideal memory")
    latency_ns: float = spec(non_negative_number(MAX_DRAM_LATENCY_NS), doc="access latency of one request")
    burst_bytes: int = spec(positive_int(MAX_BURST_BYTES), default=64, doc="bytes per request")
    channels: int = spec(positive_int(MAX_CHANNELS), default=1, doc="independent channels sharing the peak")
    max_outstanding: int = spec(positive_int(MAX_OUTSTANDING), default=32, doc="requests in flight (all channels)")
    efficiency: float = spec(fraction(), default=1.0, doc="achievable fraction of peak bandwidth")
    ports_independent: bool = spec(default=False,
                                   doc="buffers with a dram_port_bytes_per_cycle: false, their transfers take the "
                                       "slower of their port and the DRAM they share; true, only their port (each "
                                       "port its own memory, as SCALE-Sim's USER bandwidth)")
    pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                     doc="energy per byte read or written in pJ; null: Horowitz 45 nm DRAM (docs/energy.md)")


@dataclass(frozen=True)
class DmaConfig(Validated):
    engines: int = spec(positive_int(MAX_DMA_ENGINES), default=2, doc="DMA engines, each with its own descriptor queue")
    setup_cycles: int = spec(non_negative_int(MAX_SETUP_CYCLES), default=0, doc="fixed cost per descriptor")
    chunk_bytes: int = spec(positive_int(MAX_CHUNK_BYTES), default=16384, doc="a transfer is split into chunks of this size")
    prefetch_next_layer: bool = spec(default=True, doc="next layer's first loads may start during this layer's tail")


# Lane cycles per element of the vector unit's operations (docs/hardware.md, "Vector unit"): the
# elementary operations of each op's defining formula, one lane cycle each, an exp or erf counted
# as one (a lane with a transcendental unit at full rate). Ops not listed cost 1 per element,
# as every op did before the table existed (pooling's ops already count the window).
#   softmax:       max, x - max, exp, sum, x / sum                                  = 5
#   layernorm:     sum (mean), x - mean, (x - mean)^2 accumulated, scale-and-shift  = 4
#   gelu:          x / sqrt(2), erf, 1 + erf, x / 2 x (...)                          = 4 (the erf form)
#   add_layernorm: a residual add, then layernorm                                    = 5
DEFAULT_OP_CYCLES_PER_ELEMENT = FrozenMap({"softmax": 5, "layernorm": 4, "gelu": 4, "add_layernorm": 5})


@dataclass(frozen=True)
class VectorUnitConfig(Validated):
    elements_per_cycle: int = spec(positive_int(MAX_VECTOR_ELEMENTS), doc="pooling / element-wise throughput")
    op_cycles_per_element: Mapping[str, float] = spec(
        finite_positive_number(MAX_SETUP_CYCLES), default=DEFAULT_OP_CYCLES_PER_ELEMENT,
        doc="lane cycles per element of each op, by op name (lower case); ops left out: the defaults "
            "(docs/hardware.md), else 1")

    def cycles_per_element(self, op: str) -> float:
        """What one element of ``op`` costs: this table, else the default table, else 1."""
        key = op.lower()
        return self.op_cycles_per_element.get(key, DEFAULT_OP_CYCLES_PER_ELEMENT.get(key, 1))


@dataclass(frozen=True)
class DepthwiseEngineConfig(Validated):
    macs_per_cycle: int = spec(positive_int(MAX_VECTOR_ELEMENTS), doc="MACs per cycle of a dedicated engine that runs "
                                                                       "depthwise convolutions instead of the array")


@dataclass(frozen=True)
class ControlConfig(Validated):
    """What the controller costs beside the data path (charged to ``overhead``, docs/metrics.md)."""

    layer_overhead_cycles: int = spec(non_negative_int(MAX_OVERHEAD_CYCLES), default=0,
                                      doc="fixed cost per layer (launch, sync)")
    step_overhead_cycles: int = spec(non_negative_int(MAX_SETUP_CYCLES), default=0,
                                     doc="issue cost of each step's compute instruction (a tile), paid by "
                                         "the array before the step computes")
    descriptor_overhead_cycles: int = spec(non_negative_int(MAX_SETUP_CYCLES), default=0,
                                           doc="issue cost of each DMA descriptor a step needs (its loads and "
                                               "stores), paid by the array before the step computes")


@dataclass(frozen=True, kw_only=True)
class Hardware(Validated):
    name: str = spec(non_empty_string(), doc="design name")
    clock_mhz: float = spec(finite_positive_number(MAX_CLOCK_MHZ), doc="accelerator clock; 1 cycle = 1/clock")
    array: ArrayConfig = spec(doc="the systolic array")
    cores: int = spec(positive_int(MAX_CORES), default=1,
                      doc="cores on the chip, each an array with its own buffers (as described here), "
                          "sharing DRAM and the global buffer")
    partition: Partition = spec(default=Partition.AUTO,
                                doc="how a layer is split between cores: auto (least analytical cycles "
                                    "per layer), channels, pixels, batch or heads (docs/hardware.md, \"Cores\")")
    sram: SramConfig | None = spec(default=None, doc="on-chip buffers, three-buffer form (or give buffers)")
    buffers: tuple[OnChipBuffer, ...] | None = spec(
        default=None, doc="on-chip buffers of a core, as a list (or give sram); each kind of data held by exactly one")
    global_buffer: GlobalBufferConfig | None = spec(default=None,
                                                    doc="null: none; a buffer between DRAM and the per-core buffers")
    activations: ActivationPlacement = spec(default=ActivationPlacement.ON_CHIP,
                                            doc="on_chip: tensors between layers stay on chip where they fit "
                                                "(residency planner); dram: every tensor goes through DRAM")
    dram: DramConfig = spec(doc="off-chip memory")
    dma: DmaConfig = spec(default=DmaConfig(), doc="DMA engines")
    vector: VectorUnitConfig | None = spec(default=None, doc="null: pooling/element-wise fused (free)")
    sparsity: SparsityConfig | None = spec(default=None, doc="what the design does with zeros: gating, DRAM "
                                                             "compression (null: nothing; docs/hardware.md)")
    depthwise: DepthwiseEngineConfig | None = spec(default=None,
                                                   doc="null: depthwise convolutions run on the array")
    control: ControlConfig = spec(default=ControlConfig(), doc="fixed overheads")
    static_mw: float = spec(non_negative_number(MAX_STATIC_MW), default=0.0,
                            doc="power drawn whether or not work is done (leakage, clocks), mW")
    area_mm2: float | None = spec(finite_positive_number(MAX_AREA_MM2), default=None, doc="die area, for inferences/s per mm^2")
    cost_usd: float | None = spec(finite_positive_number(MAX_COST_USD), default=None, doc="unit cost, for inferences/s per dollar")

    def validate(self) -> None:
        if self.array.bytes_per_psum < self.array.bytes_per_output:
            raise ConfigError(PYTHON, "array.bytes_per_psum",
                              f"expected at least bytes_per_output ({self.array.bytes_per_output}), "
                              f"got {self.array.bytes_per_psum}")
        if (self.sram is None) == (self.buffers is None):
            raise ConfigError(PYTHON, "buffers" if self.sram is None else "sram",
                              "expected the on-chip buffers either as sram (input, weight, output) or as a "
                              "buffers list, " + ("got neither" if self.sram is None else "got both"))
        buffers = self.on_chip_buffers
        where = "buffers" if self.buffers is not None else "sram"
        seen: dict[str, int] = {}
        for i, b in enumerate(buffers):
            if b.name == DRAM or (self.global_buffer is not None and b.name == self.global_buffer.name):
                raise ConfigError(PYTHON, f"{where}[{i}].name",
                                  f"expected a name other than {b.name!r} (taken by another memory level)")
            if b.name in seen:
                raise ConfigError(PYTHON, f"{where}[{i}].name",
                                  f"expected a unique buffer name, got {b.name!r} (also {where}[{seen[b.name]}])")
            seen[b.name] = i
        if self.global_buffer is not None and self.global_buffer.name == DRAM:
            raise ConfigError(PYTHON, "global_buffer.name", f"expected a name other than {DRAM!r}")
        for kind in DataKind:
            holders = [b.name for b in buffers if kind in b.holds]
            if len(holders) != 1:
                found = "none" if not holders else ", ".join(holders)
                raise ConfigError(PYTHON, where, f"expected exactly one buffer holding {kind.value}, got {found}")
        if self.dram.ports_independent and all(b.dram_port_bytes_per_cycle is None for b in buffers):
            raise ConfigError(PYTHON, "dram.ports_independent",
                              "expected false when no buffer has a dram_port_bytes_per_cycle, got true")

    @property
    def on_chip_buffers(self) -> tuple[OnChipBuffer, ...]:
        """The per-core buffers, whichever form the config used."""
        return self.buffers if self.buffers is not None else self.sram.buffers()

    @functools.cached_property
    def memory(self) -> MemoryHierarchy:
        """The resolved memory hierarchy: what every stage after the config asks."""
        local = tuple(MemoryLevel(name=b.name, size_kib=b.size_kib, holds=frozenset(b.holds),
                                  double_buffered=b.double_buffered,
                                  bandwidth_bytes_per_cycle=b.bandwidth_bytes_per_cycle,
                                  dram_port_bytes_per_cycle=b.dram_port_bytes_per_cycle,
                                  read_pj_per_byte=b.read_pj_per_byte, write_pj_per_byte=b.write_pj_per_byte)
                      for b in self.on_chip_buffers)
        g = self.global_buffer
        shared = None if g is None else MemoryLevel(
            name=g.name, size_kib=g.size_kib, holds=frozenset(g.holds),
            bandwidth_bytes_per_cycle=g.bandwidth_bytes_per_cycle, latency_cycles=g.latency_cycles, shared=True,
            read_pj_per_byte=g.read_pj_per_byte, write_pj_per_byte=g.write_pj_per_byte)
        return MemoryHierarchy(local=local, global_buffer=shared, activations=self.activations)

    @property
    def peak_macs_per_cycle(self) -> int:
        """Every PE of every core."""
        return self.array.pes * self.cores

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    @property
    def peak_tops(self) -> float:
        """2 operations per MAC, every PE busy every cycle."""
        return 2 * self.peak_macs_per_cycle * self.clock_hz / 1e12

    @property
    def dram_bytes_per_cycle(self) -> float:
        """Peak DRAM bandwidth in bytes per accelerator cycle (inf for an ideal memory)."""
        return self.dram.bandwidth_gb_per_s * GB / self.clock_hz

    @property
    def achievable_dram_bytes_per_cycle(self) -> float:
        """What the DRAM actually delivers: ``min(peak x efficiency, max_outstanding x
        burst_bytes / latency)`` (Little's law: requests in flight cap a long-latency memory)."""
        return min(self.dram_bytes_per_cycle * self.dram.efficiency, self.request_limited_bytes_per_cycle)

    def dram_port_rate(self, level: MemoryLevel) -> float:
        """Bytes per cycle a transfer between the per-core buffer ``level`` and DRAM moves at:
        the achievable DRAM rate without a port of its own; with one, its port's rate, or the
        slower of port and DRAM when the ports share the DRAM (``dram.ports_independent: false``)."""
        port = level.dram_port_bytes_per_cycle
        if port is None:
            return self.achievable_dram_bytes_per_cycle
        return port if self.dram.ports_independent else min(port, self.achievable_dram_bytes_per_cycle)

    @property
    def request_limited_bytes_per_cycle(self) -> float:
        """Little's law: ``max_outstanding x burst_bytes / latency`` bytes per cycle (inf without latency)."""
        latency = self.dram_latency_cycles
        return self.dram.max_outstanding * self.dram.burst_bytes / latency if latency > 0 else math.inf

    @property
    def achievable_dram_gb_per_s(self) -> float:
        return self.achievable_dram_bytes_per_cycle * self.clock_hz / GB

    @property
    def dram_rate_limited_by(self) -> str:
        """Which term sets the achievable rate: ``bandwidth`` (peak x efficiency) or ``requests``
        (requests in flight over the latency)."""
        return "requests" if self.request_limited_bytes_per_cycle < self.dram_bytes_per_cycle * self.dram.efficiency \
            else "bandwidth"

    def dram_rate_note(self) -> str | None:
        """One line when requests in flight, not the bandwidth, set the achievable DRAM rate."""
        if self.dram_rate_limited_by != "requests":
            return None
        d = self.dram
        return (f"DRAM reaches {self.achievable_dram_gb_per_s:.3g} of its {d.bandwidth_gb_per_s:g} GB/s: "
                f"{d.max_outstanding} requests of {d.burst_bytes} B in flight over {d.latency_ns:g} ns cap it "
                f"(raise dram.max_outstanding or dram.burst_bytes, or lower dram.latency_ns)")

    @property
    def dram_latency_cycles(self) -> int:
        return math.ceil(self.dram.latency_ns * self.clock_mhz / 1000 - 1e-9)

    @property
    def ideal_memory(self) -> bool:
        return math.isinf(self.dram.bandwidth_gb_per_s) and self.dram.latency_ns == 0
