"""How well predicted values agree with reference values: each statistic defined once.

Used by ``compare`` (simulated vs measured), ``calibrate`` (held-out error)
and ``formulas`` (formula vs simulated). Definitions (docs/calibration.md):

* relative error ``(predicted - reference) / reference`` (signed);
* MAPE: the mean of ``|relative error|``, as a fraction (x 100 for percent);
* geometric-mean ratio: ``exp(mean(log(predicted / reference)))``: 1.0 is
  unbiased, 2.0 means "twice too slow on (geometric) average"; unlike MAPE
  it treats over- and under-prediction by the same factor alike;
* Pearson correlation of the values as given, Spearman of their ranks: do
  the predictions order and scale the layers as the reference does, whatever
  the bias.

Pairs whose reference is zero have no relative error and are left out of
MAPE; pairs with a zero on either side are left out of the geometric mean.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

MIN_CORRELATION_PAIRS = 3  # fewer points than this have no meaningful correlation


def relative_error(predicted: float, reference: float) -> float | None:
    """``(predicted - reference) / reference``; None when the reference is zero."""
    return (predicted - reference) / reference if reference else None


def mape(predicted, reference) -> float | None:
    """Mean absolute percentage error as a fraction (0.1 = 10%); None without usable pairs."""
    errors = [abs(e) for p, r in zip(predicted, reference) if (e := relative_error(p, r)) is not None]
    return sum(errors) / len(errors) if errors else None


def geomean_ratio(predicted, reference) -> float | None:
    """``exp(mean(log(p / r)))`` over pairs with both sides positive; None without any."""
    logs = [math.log(p / r) for p, r in zip(predicted, reference) if p > 0 and r > 0]
    return math.exp(sum(logs) / len(logs)) if logs else None


def _correlation(kind: str, predicted, reference, min_pairs: int = MIN_CORRELATION_PAIRS) -> float | None:
    p, r = np.asarray(predicted, dtype=float), np.asarray(reference, dtype=float)
    if p.size < min_pairs or np.ptp(p) == 0 or np.ptp(r) == 0:
        return None  # undefined for a constant series
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = (stats.pearsonr if kind == "pearson" else stats.spearmanr)(p, r)[0]
    return float(value) if math.isfinite(value) else None


def pearson(predicted, reference) -> float | None:
    """Pearson correlation of the values; None for fewer than 3 pairs or a constant series."""
    return _correlation("pearson", predicted, reference)


def spearman(predicted, reference, min_pairs: int = MIN_CORRELATION_PAIRS) -> float | None:
    """Spearman rank correlation (ties share average ranks); None for fewer than ``min_pairs``
    pairs or a constant series. Ranking two designs is meaningful (rho = +-1): min_pairs=2."""
    return _correlation("spearman", predicted, reference, min_pairs)


@dataclass(frozen=True)
class Agreement:
    """The statistics of one set of (predicted, reference) pairs."""

    pairs: int
    mape: float | None
    geomean_ratio: float | None
    pearson: float | None
    spearman: float | None

    @classmethod
    def of(cls, predicted, reference) -> "Agreement":
        predicted, reference = list(predicted), list(reference)
        return cls(pairs=len(predicted), mape=mape(predicted, reference),
                   geomean_ratio=geomean_ratio(predicted, reference),
                   pearson=pearson(predicted, reference), spearman=spearman(predicted, reference))


@dataclass(frozen=True)
class ErrorDistribution:
    """Quantiles of ``|relative error|`` and the signed median (the bias)."""

    count: int
    median: float
    p90: float
    max: float
    bias: float  # median of the signed relative errors

    @classmethod
    def of(cls, errors) -> "ErrorDistribution":
        signed = np.asarray(list(errors), dtype=float)
        if not signed.size:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        magnitude = np.abs(signed)
        return cls(count=int(signed.size), median=float(np.median(magnitude)),
                   p90=float(np.percentile(magnitude, 90)), max=float(magnitude.max()),
                   bias=float(np.median(signed)))
