"""Sparsity: what a workload's tensors hold (zeros) and what a design does with them.

A workload states, per layer or as a default for all of its layers (``sparsity:``), the
fraction of its weights that are non-zero, their N:M structure and the fraction of zeros in its
input activations (:class:`Sparsity`). A hardware states what it exploits
(:class:`SparsityConfig`, ``sparsity:`` in a hwconfig): gating zero MACs (energy only),
compressing DRAM transfers of activations and/or weights (run-length or bitmask coding); the
array's own N:M skipping is ``array.sparse_nm``. A dense workload, or a design that exploits
nothing, gives exactly the dense numbers.

Compressed sizes follow from the density ``d`` (non-zero fraction) of ``n`` elements of ``b``
bits (:func:`compressed_fraction`):

* ``bitmask``: one bit per element plus the non-zero values: ``n (1 + d b)`` bits;
* ``run_length`` (Eyeriss, Chen et al., JSSC 2017, Sec. V-B): each non-zero value with the
  count of zeros before it in ``r`` bits; a run longer than ``2^r - 1`` zeros needs an extra
  pair per ``2^r`` zeros. With zeros independent (probability ``z = 1 - d``) the pairs per
  element are ``d / (1 - z^(2^r))``, each ``r + b`` bits.

A transfer is never sent larger than raw (the format is chosen per transfer): the fraction is
at most 1.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from accelsim.config.schema import Check, Validated, fraction, positive_int, spec


def parse_nm(value: object) -> tuple[int, int]:
    """``"2:4"`` -> ``(2, 4)``: N non-zeros in every M consecutive weights of the reduction."""
    if isinstance(value, str) and value.count(":") == 1:
        n, m = value.split(":")
        if n.strip().isdigit() and m.strip().isdigit() and 0 < int(n) < int(m):
            return int(n), int(m)
    raise ValueError(NM)


NM = "an N:M structure as a string 'N:M' with 0 < N < M (e.g. '2:4')"


def nm_check() -> Check:
    return Check(NM, lambda v: v is None or (isinstance(v, str) and _nm_ok(v)))


def _nm_ok(value: str) -> bool:
    try:
        parse_nm(value)
    except ValueError:
        return False
    return True


def zero_fraction() -> Check:
    return Check("a number in [0, 1)", lambda v: 0 <= v < 1)


@dataclass(frozen=True)
class Sparsity(Validated):
    """What one layer's tensors hold (a workload's default for its layers, or a layer's own)."""

    weight_density: float | None = spec(fraction(), default=None,
                                        doc="non-zero fraction of the weights, in (0, 1]; null: 1, or N/M "
                                            "with weight_nm")
    weight_nm: str | None = spec(nm_check(), default=None,
                                 doc="N:M structure of the weights along the reduction, e.g. '2:4' (null: none)")
    input_zero_fraction: float = spec(zero_fraction(), default=0.0,
                                      doc="fraction of zeros in the layer's input activations, in [0, 1)")

    def validate(self) -> None:
        from accelsim.config.schema import PYTHON
        from accelsim.errors import ConfigError

        if self.weight_nm is not None and self.weight_density is not None:
            n, m = parse_nm(self.weight_nm)
            if self.weight_density > n / m + 1e-12:
                raise ConfigError(PYTHON, "weight_density", f"expected at most {n}/{m} with weight_nm "
                                                            f"{self.weight_nm!r}, got {self.weight_density}")

    @property
    def nm(self) -> tuple[int, int] | None:
        return parse_nm(self.weight_nm) if self.weight_nm is not None else None

    @property
    def density(self) -> float:
        """Non-zero fraction of the weights."""
        if self.weight_density is not None:
            return self.weight_density
        return self.nm[0] / self.nm[1] if self.nm else 1.0


DENSE = Sparsity()


class Compression(enum.Enum):
    """How a design codes a kind of data it moves between DRAM and the chip."""

    NONE = "none"
    RUN_LENGTH = "run_length"
    BITMASK = "bitmask"


@dataclass(frozen=True)
class SparsityConfig(Validated):
    """What a design does with zeros (``sparsity:`` in a hwconfig; null: nothing)."""

    gate_zero_macs: bool = spec(default=False, doc="MACs with a zero operand are gated: no MAC energy, same cycles")
    activations: Compression = spec(default=Compression.NONE,
                                    doc="coding of activations moved to and from DRAM: none, run_length, bitmask")
    weights: Compression = spec(default=Compression.NONE,
                                doc="coding of weights read from DRAM: none, run_length, bitmask")
    run_length_bits: int = spec(positive_int(), default=5, doc="bits of a zero-run count (run_length coding)")


def compressed_fraction(coding: Compression, density: float, bits: int, run_bits: int) -> float:
    """Coded size over raw size of elements of ``bits`` bits with non-zero fraction ``density``
    (module docstring), at most 1."""
    if coding is Compression.NONE or density >= 1:
        return 1.0
    if coding is Compression.BITMASK:
        coded = 1 + density * bits
    else:
        zeros = 1 - density
        pairs = density / (1 - zeros ** (2 ** run_bits)) if density > 0 else 2.0 ** -run_bits
        coded = pairs * (run_bits + bits)
    return min(1.0, coded / bits)


def scaled(nbytes: int, frac: float) -> int:
    """``nbytes`` coded at ``frac`` of raw size, whole bytes (rounded up)."""
    return nbytes if frac >= 1 else math.ceil(nbytes * frac)
