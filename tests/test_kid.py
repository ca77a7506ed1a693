"""KID (feature_measures: unbiased MMD^2 under k(a, b) = (a.b / d + 1)^3) against hand values, an
independent double loop, its expectation over many draws, and its weighted bootstrap; KID in
sample_measures, its interval not clipped at 0; the Wilson interval."""
from __future__ import annotations

import math

import pytest
import torch

from gen_core.feature_measures import (bootstrap_counts, interval, kernel_cross, kernel_sums, kernel_within, kid,
                                       polynomial_kernel, wilson_interval)
from gen_core.yardstick import RealSide, sample_measures


def column(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).view(-1, 1)


# ---- the estimate by hand ---------------------------------------------------------------------------

def test_kid_of_1d_points_by_hand():
    # d = 1: k(a, b) = (ab + 1)^3.
    # real {0, 2}: within, i != j: k(0, 2) = 1 (both orders) -> mean 1
    # fake {0, 1}: within: k(0, 1) = 1 -> mean 1
    # cross: k(0,0) = 1, k(0,1) = 1, k(2,0) = 1, k(2,1) = 3^3 = 27 -> 30 / 4 = 7.5
    # KID = 1 + 1 - 2 * 7.5 = -13: negative, as the unbiased estimate may be
    assert kid(column(0, 2), column(0, 1)) == pytest.approx(-13.0, abs=1e-12)
    # real {0, 1}, fake {3, 3}: within fake k(3, 3) = 10^3 = 1000; within real 1;
    # cross: k(0, 3) = 1, k(1, 3) = 4^3 = 64, each twice -> 130 / 4 = 32.5; KID = 1000 + 1 - 65 = 936
    assert kid(column(0, 1), column(3, 3)) == pytest.approx(936.0, abs=1e-9)
    # symmetric in its two sets
    assert kid(column(3, 3), column(0, 1)) == pytest.approx(936.0, abs=1e-9)


def test_kid_of_2d_points_by_hand():
    # d = 2: k(a, b) = (a.b / 2 + 1)^3.
    # fake {(1,0), (0,1)}: a.b = 0 -> within mean 1; real {(1,1), (0,0)}: a.b = 0 -> within mean 1
    # cross: (1,0).(1,1) = 1 -> 1.5^3 = 3.375; (1,0).(0,0) = 0 -> 1; (0,1).(1,1) -> 3.375; (0,1).(0,0) -> 1
    #   mean 8.75 / 4 = 2.1875; KID = 1 + 1 - 2 * 2.1875 = -2.375
    real = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    fake = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert kid(real, fake) == pytest.approx(-2.375, abs=1e-12)


def test_kid_matches_an_independent_double_loop():
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    fake = torch.randn(5, 3, generator=gen, dtype=torch.float64) + 0.3
    k = lambda a, b: (float(a @ b) / 3 + 1) ** 3          # noqa: E731
    n, m = len(real), len(fake)
    within_r = sum(k(real[i], real[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    within_f = sum(k(fake[i], fake[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    cross = sum(k(real[i], fake[j]) for i in range(n) for j in range(m)) / (n * m)
    assert kid(real, fake) == pytest.approx(within_r + within_f - 2 * cross, rel=1e-12)
    # and the chunked kernel sums agree with a single block
    ones = torch.ones(1, n, dtype=torch.float64)
    assert float(kernel_sums(real, real, ones, ones, chunk_elements=7)) == pytest.approx(
        float(polynomial_kernel(real, real).sum()), rel=1e-12)


def test_kid_needs_two_points_per_set():
    with pytest.raises(ValueError, match="at least 2 distinct points"):
        kid(column(0, 1), column(1))


# ---- unbiased in expectation ------------------------------------------------------------------------

def _kid_draws(shift: float, draws: int = 4000, n: int = 10) -> torch.Tensor:
    gen = torch.Generator().manual_seed(7)
    return torch.tensor([kid(torch.randn(n, 1, generator=gen, dtype=torch.float64),
                             torch.randn(n, 1, generator=gen, dtype=torch.float64) + shift) for _ in range(draws)])


def test_kid_is_unbiased_for_two_samples_of_one_distribution():
    """Two sets of 10 points from N(0, 1): KID averages to 0 over 4000 draws, within 4 standard errors of
    the mean (sd / sqrt(4000); a true mean of 0 lands outside with probability ~6e-5). The V-statistic, with
    the diagonal kept, is biased by 2 (E k(x, x) - E k(x, x')) / n per the two within terms: k = x^3 y^3 +
    3 x^2 y^2 + 3 xy + 1 gives E k(x, x) = 15 + 9 + 3 + 1 = 28 and E k(x, x') = 0 + 3 + 0 + 1 = 4, so
    2 * 24 / 10 = 4.8, dozens of standard errors away: this test tells the two apart."""
    values = _kid_draws(0.0)
    se = float(values.std()) / math.sqrt(len(values))
    assert abs(float(values.mean())) < 4 * se, (float(values.mean()), se)
    assert 4.8 > 20 * se                       # the biased estimator would fail the check above


def test_kid_averages_to_the_true_mmd_between_shifted_gaussians():
    """N(0, 1) against N(0.5, 1) in 1-d: with k = x^3 y^3 + 3 x^2 y^2 + 3 xy + 1,
    MMD^2 = (m3_P - m3_Q)^2 + 3 (m2_P - m2_Q)^2 + 3 (m1_P - m1_Q)^2 for the raw moments m; Q's are
    m1 = 0.5, m2 = 1.25, m3 = 0.5^3 + 3 * 0.5 = 1.625; P's 0, 1, 0:
    MMD^2 = 1.625^2 + 3 * 0.25^2 + 3 * 0.5^2 = 2.640625 + 0.1875 + 0.75 = 3.578125.
    The mean of 4000 KIDs at n = 10 lies within 4 standard errors of it."""
    values = _kid_draws(0.5)
    se = float(values.std()) / math.sqrt(len(values))
    assert abs(float(values.mean()) - 3.578125) < 4 * se, (float(values.mean()), se)


# ---- the weighted bootstrap ------------------------------------------------------------------------

def test_a_resample_leaves_out_the_pairs_of_a_point_with_its_copies():
    # x = {1, 2, 5} (d = 1), drawn (2, 1, 0) times: the resample {1, 1, 2}.
    # distinct pairs: (1, 2) and (2, 1), weight w_1 w_2 = 2 each, k(1, 2) = 3^3 = 27;
    # normaliser W^2 - sum w^2 = 9 - 5 = 4 -> (2 * 2 * 27) / 4 = 27.
    # (The U-statistic over the resample's positions would keep the copy pair k(1, 1) = 8, twice:
    #  (2 * 8 + 4 * 27) / 6 = 20.67, and bias the replicate.)
    counts = torch.tensor([[1.0, 1.0, 1.0], [2.0, 1.0, 0.0]], dtype=torch.float64)
    within = kernel_within(column(1, 2, 5), counts)
    # all ones: pairs of {1, 2, 5}: k(1,2) = 27, k(1,5) = 6^3 = 216, k(2,5) = 11^3 = 1331 -> 1574 / 3
    assert within.tolist() == pytest.approx([1574 / 3, 27.0], rel=1e-12)
    # cross with weights: x = {1, 2} drawn (2, 1), y = {0, 1} drawn (1, 1):
    # k(1,0) = 1, k(1,1) = 8, k(2,0) = 1, k(2,1) = 27 -> (2 * (1 + 8) + (1 + 27)) / (3 * 2) = 46 / 6
    cross = kernel_cross(column(1, 2), column(0, 1), torch.tensor([[2.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
    assert float(cross) == pytest.approx(46 / 6, rel=1e-12)


def test_sample_measures_reports_kid_with_an_interval_that_may_reach_below_zero():
    """The samples are the test set itself: KID = 2 (mean_{i != j} k - mean_{i,j} k)
    = 2 (off - (n - 1) off / n - diag / n) = 2 (off - diag) / n, by hand from the kernel matrix; negative
    whenever the diagonal is larger, and its interval is not clipped at 0."""
    x = torch.randn(60, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    out = sample_measures(x.clone(), torch.zeros(60, 10), RealSide("mnist", 60, None, x, {}), replicates=50,
                          labels=False)
    k = polynomial_kernel(x, x)
    diag, off = float(k.diagonal().mean()), float((k.sum() - k.diagonal().sum()) / (60 * 59))
    assert out["kid"] == pytest.approx(2 * (off - diag) / 60, rel=1e-9)
    assert out["kid"] < 0
    lo, hi = out["kid_ci"]
    assert lo < 0 and lo <= out["kid"] <= hi


def test_interval_keeps_negative_replicates_when_its_low_end_is_minus_infinity():
    # replicates -2..2 in 0.01 steps (mean 0), estimate 0: the central 95% by linear interpolation,
    # positions 0.025 * 400 = 10 and 0.975 * 400 = 390 -> -1.9 and 1.9, not clipped at 0
    replicates = torch.arange(-200, 201, dtype=torch.float64) / 100
    assert interval(replicates, 0.0, low=-math.inf) == pytest.approx([-1.9, 1.9])
    assert interval(replicates, 0.0) == pytest.approx([0.0, 1.9])          # FD's default range clips


def test_kid_bootstrap_counts_are_those_of_fd():
    """KID's resamples are FD's: the generated side's counts (seed 6) and the test side's (seed 7), so the
    two intervals describe the same resamples; the test side's within-set means are cached per B."""
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    real = RealSide("mnist", 30, None, x, {})
    assert torch.equal(real.real_counts(5)[1:], bootstrap_counts(30, 5, seed=7))
    assert torch.equal(real.kid_within(5), kernel_within(x, real.real_counts(5)))
    assert real.kid_within(5) is real.kid_within(5)


# ---- the Wilson interval ---------------------------------------------------------------------------

def test_wilson_interval_by_hand():
    # 0 of 100: (0 + z^2/200 -+ z sqrt(z^2 / 40000)) / (1 + z^2/100): low 0, high z^2 / (100 + z^2)
    #   = 3.8416 / 103.8416 = 0.036995
    assert wilson_interval(0, 100) == pytest.approx((0.0, 0.036995), abs=1e-6)
    # 50 of 100: centre 0.5; half = 1.96 sqrt(0.0025 + 3.8416 / 40000) / 1.038416 = 0.096170
    assert wilson_interval(50, 100) == pytest.approx((0.403830, 0.596170), abs=1e-6)
    # 50 of 5000 (1%): centre 0.01 + 3.8416 / 10000 = 0.010384; half 1.96 sqrt(1.98e-6 + 3.8416e-8) = 0.0027846;
    #   both over 1 + 3.8416 / 5000 = 1.000768 -> [0.0075994, 0.0131686] / 1.000768 = [0.0075936, 0.0131585]
    assert wilson_interval(50, 5000) == pytest.approx((0.0075936, 0.0131585), abs=1e-6)
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        wilson_interval(5, 3)
