"""Energy per action of a design: the hwconfig's values, or published defaults.

A run's energy is counts x energies (``stats.energy_breakdown_j``); this module
only says what one action costs. Every default comes from one table:

    M. Horowitz, "Computing's energy problem (and what we can do about it)",
    ISSCC 2014, 45 nm at 0.9 V: 8-bit integer multiply 0.2 pJ, 32-bit integer
    add 0.1 pJ (8-bit add 0.03 pJ, 32-bit multiply 3.1 pJ); a 64-bit cache
    access 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB); a 64-bit DRAM access
    1.3-2.6 nJ.

Scale rules (docs/energy.md): a multiplier's energy grows with the product of
its operand widths (Horowitz: 8 -> 32 bits is 0.2 -> 3.1 pJ, about 16x), an
adder's with its width (0.03 -> 0.1 pJ, about 4x); an SRAM access grows with
capacity, interpolated log-log between Horowitz's three sizes and held at the
end points outside them (larger buffers are assumed banked in 1 MB banks).
The defaults are 45 nm figures: for another node, set the fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.config.hardware import ArrayConfig, Hardware
from accelsim.config.memory import MemoryLevel

# Horowitz, ISSCC 2014, 45 nm, 0.9 V.
MULT_8BIT_PJ = 0.2
ADD_32BIT_PJ = 0.1
SRAM_64BIT_ACCESS_PJ = ((8.0, 10.0), (32.0, 20.0), (1024.0, 100.0))  # (capacity KiB, pJ per 64-bit access)
DRAM_64BIT_ACCESS_PJ = 1300.0  # the low end of 1.3-2.6 nJ
ACCESS_BYTES = 8               # Horowitz's memory figures are per 64-bit access


def default_mac_pj(array: ArrayConfig) -> float:
    """One multiply at the input x weight widths plus one add at the partial-sum width.

    int8 x int8 into int32 (TPU v1, Gemmini, NVDLA): 0.2 + 0.1 = 0.3 pJ.
    """
    multiply = MULT_8BIT_PJ * array.bytes_per_input * array.bytes_per_weight  # width^2 rule, 8-bit = 1 byte
    add = ADD_32BIT_PJ * array.bytes_per_psum / 4                               # width rule, 32-bit = 4 bytes
    return multiply + add


def default_sram_pj_per_byte(size_kib: float) -> float:
    """Horowitz's cache access energy at this capacity (log-log interpolation), per byte."""
    points = SRAM_64BIT_ACCESS_PJ
    if size_kib <= points[0][0]:
        access = points[0][1]
    elif size_kib >= points[-1][0]:
        access = points[-1][1]
    else:
        for (k0, e0), (k1, e1) in zip(points, points[1:]):
            if size_kib <= k1:
                t = math.log(size_kib / k0) / math.log(k1 / k0)
                access = e0 * (e1 / e0) ** t
                break
    return access / ACCESS_BYTES


def default_dram_pj_per_byte() -> float:
    return DRAM_64BIT_ACCESS_PJ / ACCESS_BYTES


@dataclass(frozen=True)
class BufferEnergy:
    read_pj_per_byte: float
    write_pj_per_byte: float


@dataclass(frozen=True)
class ActionEnergies:
    """What each counted action costs on one design (the hwconfig's value or the default)."""

    mac_pj: float
    buffers: tuple[tuple[str, BufferEnergy], ...]  # every on-chip level, by name, in the hierarchy's order
    dram_pj_per_byte: float
    static_mw: float

    def buffer(self, name: str) -> BufferEnergy:
        return dict(self.buffers)[name]

    def as_record(self) -> dict:
        """Flat, unit-named keys, as in the JSON ``hardware.energy_per_action``."""
        out = {"mac_pj": self.mac_pj}
        for name, buf in self.buffers:
            out[f"sram_{name}_read_pj_per_byte"] = buf.read_pj_per_byte
            out[f"sram_{name}_write_pj_per_byte"] = buf.write_pj_per_byte
        out["dram_pj_per_byte"] = self.dram_pj_per_byte
        out["static_mw"] = self.static_mw
        return out


def _buffer(level: MemoryLevel) -> BufferEnergy:
    default = default_sram_pj_per_byte(level.size_kib)
    read = level.read_pj_per_byte if level.read_pj_per_byte is not None else default
    write = level.write_pj_per_byte if level.write_pj_per_byte is not None else default
    return BufferEnergy(read, write)


def action_energies(hw: Hardware) -> ActionEnergies:
    """The per-action energies of ``hw``: each field as given, or its documented default."""
    return ActionEnergies(
        mac_pj=hw.array.mac_pj if hw.array.mac_pj is not None else default_mac_pj(hw.array),
        buffers=tuple((level.name, _buffer(level)) for level in hw.memory.levels),
        dram_pj_per_byte=hw.dram.pj_per_byte if hw.dram.pj_per_byte is not None else default_dram_pj_per_byte(),
        static_mw=hw.static_mw,
    )
