"""The memory hierarchy as data: on-chip buffers, an optional global buffer, DRAM.

A hwconfig lists its on-chip buffers (``buffers:``), each with a capacity, whether it is
double-buffered and which kinds of data it may hold; the three-buffer form
``sram: {input, weight, output}`` is one way of writing three single-kind buffers. Code
outside ``accelsim.config`` never names a buffer: it asks the hierarchy which buffer holds a
kind of data (:meth:`MemoryHierarchy.buffer_for`) and books bytes in the level it gets back.

* ``activations``: tensors of the graph (a layer's inputs and outputs) and the input tiles a
  layer works on;
* ``weights``: weight tiles;
* ``psums``: partial sums and outputs accumulating before they are written out.

Every kind is held by exactly one per-core buffer; one buffer may hold several kinds (NVDLA's
convolution buffer holds data and weights), and then they compete for its bytes.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from accelsim.config.schema import (
    MAX_BUFFER_KIB,
    MAX_DRAM_GB_PER_S,
    MAX_ENERGY_PJ,
    MAX_SETUP_CYCLES,
    Check,
    Validated,
    finite_positive_number,
    non_empty_string,
    non_negative_int,
    non_negative_number,
    positive_number,
    spec,
)

KIB = 1024
DRAM_PORT_DOC = ("bytes per cycle of this buffer's own port to DRAM: its loads from and stores to DRAM "
                 "move at most this fast (.inf: unlimited); null: no port of its own, the DRAM's bandwidth "
                 "is shared with the other buffers (dram.ports_independent says whether ports share it too)")
DRAM = "dram"  # the name of the off-chip level (reserved: no buffer may take it)


class DataKind(enum.Enum):
    """What a buffer may hold."""

    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    PSUMS = "psums"


class ActivationPlacement(enum.Enum):
    """Where tensors between layers may live (``activations:`` in a hwconfig)."""

    ON_CHIP = "on_chip"  # the residency planner keeps what fits on chip
    DRAM = "dram"        # every tensor goes through DRAM (the first version; SCALE-Sim)


def _kinds_check() -> Check:
    return Check("a non-empty list of distinct kinds (activations, weights, psums)",
                 lambda v: len(v) > 0 and len(set(v)) == len(v))


@dataclass(frozen=True)
class OnChipBuffer(Validated):
    """One per-core buffer of the ``buffers:`` list."""

    name: str = spec(non_empty_string(), doc="buffer name, unique (e.g. unified_buffer)")
    size_kib: float = spec(finite_positive_number(MAX_BUFFER_KIB), doc="capacity in KiB (1024 bytes)")
    holds: tuple[DataKind, ...] = spec(_kinds_check(), doc="kinds of data it may hold: activations, weights, psums")
    double_buffered: bool = spec(default=True, doc="working tiles use two slots so loads overlap compute")
    bandwidth_bytes_per_cycle: float | None = spec(positive_number(MAX_DRAM_GB_PER_S), default=None,
                                                   doc="bytes per cycle to and from the array; null: as fast as "
                                                       "the array needs (never a bottleneck)")
    dram_port_bytes_per_cycle: float | None = spec(positive_number(MAX_DRAM_GB_PER_S), default=None,
                                                   doc=DRAM_PORT_DOC)
    read_pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                          doc="energy per byte read in pJ; null: Horowitz 45 nm by size (docs/energy.md)")
    write_pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                           doc="energy per byte written in pJ; null: as read_pj_per_byte's default")


@dataclass(frozen=True)
class GlobalBufferConfig(Validated):
    """A buffer between DRAM and the per-core buffers (``global_buffer:``), shared by the cores."""

    size_kib: float = spec(finite_positive_number(MAX_BUFFER_KIB), doc="capacity in KiB (1024 bytes)")
    bandwidth_bytes_per_cycle: float = spec(positive_number(MAX_DRAM_GB_PER_S),
                                            doc="bytes per cycle it moves to and from the per-core buffers; "
                                                ".inf: unlimited")
    name: str = spec(non_empty_string(), default="global_buffer", doc="level name")
    holds: tuple[DataKind, ...] = spec(_kinds_check(), default=(DataKind.ACTIVATIONS,),
                                       doc="kinds of data it may hold (activations: tensors that do not fit the "
                                           "per-core buffers live here instead of DRAM)")
    latency_cycles: int = spec(non_negative_int(MAX_SETUP_CYCLES), default=0,
                               doc="cycles from a request to its first data")
    read_pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                          doc="energy per byte read in pJ; null: Horowitz 45 nm by size (docs/energy.md)")
    write_pj_per_byte: float | None = spec(non_negative_number(MAX_ENERGY_PJ), default=None,
                                           doc="energy per byte written in pJ; null: as read_pj_per_byte's default")


@dataclass(frozen=True)
class MemoryLevel:
    """One resolved on-chip level, as the rest of the code sees it."""

    name: str
    size_kib: float
    holds: frozenset
    double_buffered: bool = False
    bandwidth_bytes_per_cycle: float | None = None
    latency_cycles: int = 0
    shared: bool = False              # the global buffer (one for all cores)
    dram_port_bytes_per_cycle: float | None = None  # its own port to DRAM; None: shares the DRAM
    read_pj_per_byte: float | None = None
    write_pj_per_byte: float | None = None

    @property
    def size_bytes(self) -> int:
        return int(self.size_kib * KIB)

    def may_hold(self, kind: DataKind) -> bool:
        return kind in self.holds

    def slot_bytes(self, available: int) -> int:
        """Bytes one working tile may occupy out of ``available``: half when double-buffered."""
        return available // 2 if self.double_buffered else available


@dataclass(frozen=True)
class MemoryHierarchy:
    """Per-core buffers (``local``), the optional shared ``global_buffer``, DRAM above them."""

    local: tuple[MemoryLevel, ...]
    global_buffer: MemoryLevel | None
    activations: ActivationPlacement

    def buffer_for(self, kind: DataKind) -> MemoryLevel:
        """The per-core buffer that holds ``kind`` (validation guarantees exactly one)."""
        level = self._holder.get(kind)
        if level is None:
            raise LookupError(kind)
        return level

    @functools.cached_property
    def _holder(self) -> dict[DataKind, MemoryLevel]:
        """Each kind's buffer, looked up once (the tiler and the residency planner ask thousands
        of times a run); the first that may hold it, as validation allows only one."""
        holder: dict[DataKind, MemoryLevel] = {}
        for level in self.local:
            for kind in DataKind:
                if level.may_hold(kind):
                    holder.setdefault(kind, level)
        return holder

    def sharing(self, level: MemoryLevel) -> tuple[DataKind, ...]:
        """The kinds a per-core buffer holds, in DataKind order."""
        return tuple(kind for kind in DataKind if level.may_hold(kind))

    @property
    def levels(self) -> tuple[MemoryLevel, ...]:
        """Every on-chip level: the per-core buffers, then the global buffer."""
        return self.local + ((self.global_buffer,) if self.global_buffer else ())

    def level(self, name: str) -> MemoryLevel:
        for level in self.levels:
            if level.name == name:
                return level
        raise LookupError(name)

    @property
    def ported(self) -> tuple[MemoryLevel, ...]:
        """The per-core buffers with a DRAM port of their own (``dram_port_bytes_per_cycle``)."""
        return tuple(level for level in self.local if level.dram_port_bytes_per_cycle is not None)

    @property
    def activations_on_chip(self) -> bool:
        return self.activations is ActivationPlacement.ON_CHIP
