"""The hardware description: a tree of frozen parts, units in every field name.

``Hardware`` -> ``ArrayConfig`` (the systolic array), ``SramConfig`` (input,
weight and output/accumulator buffers), ``DramConfig``, ``DmaConfig``,
optional ``VectorUnitConfig`` and ``ControlConfig``. Derived quantities (peak
MACs per cycle, peak TOPS, DRAM bytes per cycle) are properties, computed here
and nowhere else.

Energy per action (``array.mac_pj``, ``sram.*.read_pj_per_byte`` /
``write_pj_per_byte``, ``dram.pj_per_byte``) is optional: null means the
published default of :mod:`accelsim.energy`, which resolves them.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from accelsim.config.schema import (  # noqa: F401  (MAX_*: the documented bounds, docs/hardware.md)
    MAX_ARRAY_SIDE, MAX_AREA_MM2, MAX_BUFFER_KIB, MAX_BURST_BYTES, MAX_CHANNELS, MAX_CHUNK_BYTES, MAX_CLOCK_MHZ,
    MAX_COST_USD, MAX_DMA_ENGINES, MAX_DRAM_GB_PER_S, MAX_DRAM_LATENCY_NS, MAX_ELEMENT_BYTES, MAX_ENERGY_PJ,
    MAX_OUTSTANDING, MAX_OVERHEAD_CYCLES, MAX_SETUP_CYCLES, MAX_STATIC_MW, MAX_VECTOR_ELEMENTS,
    PYTHON,
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
from accelsim.errors import ConfigError

KIB = 1024
GB = 10**9  # "GB/s" in hwconfigs is decimal: 10^9 bytes per second


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
    mac_pj: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                doc="energy of one MAC in pJ; null: Horowitz 45 nm by element widths (docs/energy.md)")

    @property
    def pes(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class BufferConfig(Validated):
    size_kib: float = spec(finite_positive_number(MAX_BUFFER_KIB), doc="capacity in KiB (1024 bytes)")
    double_buffered: bool = spec(default=True, doc="split into two slots so loads overlap compute")
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
    input: BufferConfig = spec(doc="input activations")
    weight: BufferConfig = spec(doc="weights")
    output: BufferConfig = spec(doc="outputs and partial sums (accumulators)")


@dataclass(frozen=True)
class DramConfig(Validated):
    bandwidth_gb_per_s: float = spec(positive_number(MAX_DRAM_GB_PER_S), doc="peak bandwidth, 10^9 B/s; .inf for an ideal memory")
    latency_ns: float = spec(non_negative_number(MAX_DRAM_LATENCY_NS), doc="access latency of one request")
    burst_bytes: int = spec(positive_int(MAX_BURST_BYTES), default=64, doc="bytes per request")
    channels: int = spec(positive_int(MAX_CHANNELS), default=1, doc="independent channels sharing the peak")
    max_outstanding: int = spec(positive_int(MAX_OUTSTANDING), default=32, doc="requests in flight (all channels)")
    efficiency: float = spec(fraction(), default=1.0, doc="achievable fraction of peak bandwidth")
    pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                     doc="energy per byte read or written in pJ; null: Horowitz 45 nm DRAM (docs/energy.md)")


@dataclass(frozen=True)
class DmaConfig(Validated):
    engines: int = spec(positive_int(MAX_DMA_ENGINES), default=2, doc="DMA engines, each with its own descriptor queue")
    setup_cycles: int = spec(non_negative_int(MAX_SETUP_CYCLES), default=0, doc="fixed cost per descriptor")
    chunk_bytes: int = spec(positive_int(MAX_CHUNK_BYTES), default=16384, doc="a transfer is split into chunks of this size")
    prefetch_next_layer: bool = spec(default=True, doc="next layer's first loads may start during this layer's tail")


@dataclass(frozen=True)
class VectorUnitConfig(Validated):
    elements_per_cycle: int = spec(positive_int(MAX_VECTOR_ELEMENTS), doc="pooling / element-wise throughput")


@dataclass(frozen=True)
class ControlConfig(Validated):
    layer_overhead_cycles: int = spec(non_negative_int(MAX_OVERHEAD_CYCLES), default=0, doc="fixed cost per layer (launch, sync)")


@dataclass(frozen=True)
class Hardware(Validated):
    name: str = spec(non_empty_string(), doc="design name")
    clock_mhz: float = spec(finite_positive_number(MAX_CLOCK_MHZ), doc="accelerator clock; 1 cycle = 1/clock")
    array: ArrayConfig = spec(doc="the systolic array")
    sram: SramConfig = spec(doc="on-chip buffers")
    dram: DramConfig = spec(doc="off-chip memory")
    dma: DmaConfig = spec(default=DmaConfig(), doc="DMA engines")
    vector: VectorUnitConfig | None = spec(default=None, doc="null: pooling/element-wise fused (free)")
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

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.array.pes

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
        rate = self.dram_bytes_per_cycle * self.dram.efficiency
        latency = self.dram_latency_cycles
        if latency > 0:
            rate = min(rate, self.dram.max_outstanding * self.dram.burst_bytes / latency)
        return rate

    @property
    def dram_latency_cycles(self) -> int:
        return math.ceil(self.dram.latency_ns * self.clock_mhz / 1000 - 1e-9)

    @property
    def ideal_memory(self) -> bool:
        return math.isinf(self.dram.bandwidth_gb_per_s) and self.dram.latency_ns == 0
