"""Agreement statistics on hand-computed examples."""

import math

import pytest

from accelsim.compare.agreement import Agreement, ErrorDistribution, geomean_ratio, mape, pearson, relative_error, spearman


def test_relative_error_and_mape():
    assert relative_error(110, 100) == pytest.approx(0.1)
    assert relative_error(5, 0) is None
    assert mape([110, 90, 300], [100, 100, 200]) == pytest.approx((0.1 + 0.1 + 0.5) / 3)
    assert mape([1, 7], [0, 7]) == 0.0  # a zero reference has no relative error: left out
    assert mape([], []) is None


def test_geomean_ratio_treats_twice_and_half_alike():
    assert geomean_ratio([200, 50], [100, 100]) == pytest.approx(1.0)  # 2x and 0.5x cancel
    assert geomean_ratio([200, 400], [100, 100]) == pytest.approx(math.sqrt(2 * 4))
    assert geomean_ratio([0, 300], [100, 100]) == pytest.approx(3.0)  # zeros left out


def test_correlations():
    assert pearson([2, 4, 6], [1, 2, 3]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # monotone but not linear: ranks agree perfectly, values do not. By hand, x = 1, 2, 3 and
    # y = 1, 4, 27 (mean 32/3): Sxy = sum (x - 2) y = 26, Sxx = 2, Syy = 746 - 3 (32/3)^2 = 1214/3,
    # r = Sxy / sqrt(Sxx Syy)
    assert spearman([1, 4, 27], [1, 2, 3]) == pytest.approx(1.0)
    assert pearson([1, 4, 27], [1, 2, 3]) == pytest.approx(26 / math.sqrt(2 * 1214 / 3))
    assert pearson([1, 2], [1, 2]) is None  # fewer than 3 pairs
    assert spearman([5, 5, 5], [1, 2, 3]) is None  # constant series


def test_agreement_bundle():
    a = Agreement.of([20, 40, 60], [10, 20, 30])
    assert (a.pairs, a.mape, a.geomean_ratio, a.pearson, a.spearman) == (3, pytest.approx(1.0), pytest.approx(2.0),
                                                                          pytest.approx(1.0), pytest.approx(1.0))


def test_error_distribution():
    d = ErrorDistribution.of([0.1, -0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, -1.0])
    assert d.count == 10 and d.median == pytest.approx(0.55) and d.max == pytest.approx(1.0)
    assert d.p90 == pytest.approx(0.91)  # numpy's linear interpolation: 0.9 + 0.1 x (1.0 - 0.9)
    assert d.bias == pytest.approx(0.2)  # median of the signed values: (0.1 + 0.3) / 2
