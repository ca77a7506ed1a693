"""gen_core.report.intervals against hand-worked values: the t quantile, the mean and standard-error
intervals, the one verdict rule (a winner only outside overlapping intervals), the |log ratio|
mapping of an interval, and the prose formatting of numbers."""
from __future__ import annotations

import math

import pytest
import scipy.stats

from gen_core.report.intervals import (Estimate, fmt, from_interval, from_standard_error, mean_interval, scored,
                                       seed_mean, separated, show, t975)

# ---- t975 --------------------------------------------------------------------------------------


def test_t975_table_values():
    # Student's t_{0.975, df} from any printed table: df 1 -> 12.706, 2 -> 4.303, 3 -> 3.182, 10 -> 2.228
    assert t975(1) == pytest.approx(12.706, abs=5e-4)
    assert t975(2) == pytest.approx(4.303, abs=5e-4)
    assert t975(3) == pytest.approx(3.182, abs=5e-4)
    assert t975(10) == pytest.approx(2.228, abs=5e-4)


def test_t975_table_matches_scipy_for_small_df():
    # the table is the 3-decimal rounding of the exact quantile, so within 5e-4 of scipy's
    for df in range(1, 11):
        assert t975(df) == pytest.approx(scipy.stats.t.ppf(0.975, df), abs=5e-4), df


def test_t975_formula_above_ten():
    # df = 11: 1.96 + 2.4 / 11 = 1.96 + 0.218182 = 2.178182;  df = 40: 1.96 + 0.06 = 2.02
    assert t975(11) == pytest.approx(2.178182, abs=1e-6)
    assert t975(40) == pytest.approx(2.02, abs=1e-12)


def test_t975_formula_close_to_scipy_for_df_11_to_60():
    # the worst case is df = 11: 2.1782 vs exact 2.2010, 1.04% low; it improves with df
    for df in range(11, 61):
        exact = scipy.stats.t.ppf(0.975, df)
        assert abs(t975(df) - exact) / exact < 0.015, df


def test_t975_decreases_towards_the_normal_quantile():
    # a t quantile falls with df and stays above z_{0.975} = 1.96
    values = [t975(df) for df in range(1, 200)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert all(v > 1.96 for v in values)


# ---- mean_interval, from_standard_error, from_interval -----------------------------------------------


def test_mean_interval_of_four_seeds():
    # mean 10, std 2, n = 4: half = t_{0.975, 3} * 2 / sqrt(4) = 3.182 * 2 / 2 = 3.182 -> [6.818, 13.182]
    e = mean_interval(10.0, 2.0, 4)
    assert e.value == 10.0
    assert e.lo == pytest.approx(6.818, abs=1e-9)
    assert e.hi == pytest.approx(13.182, abs=1e-9)


def test_mean_interval_of_two_seeds():
    # mean 0, std 1, n = 2: half = 12.706 / sqrt(2) = 12.706 / 1.414214 = 8.984497
    e = mean_interval(0.0, 1.0, 2)
    assert e.lo == pytest.approx(-8.984497, abs=1e-5)
    assert e.hi == pytest.approx(8.984497, abs=1e-5)


def test_mean_interval_of_many_seeds_uses_the_formula():
    # mean 5, std 3, n = 21 (df 20): t = 1.96 + 2.4 / 20 = 2.08; half = 2.08 * 3 / sqrt(21) = 6.24 / 4.582576
    # = 1.361680
    e = mean_interval(5.0, 3.0, 21)
    assert e.lo == pytest.approx(5.0 - 1.361680, abs=1e-5)
    assert e.hi == pytest.approx(5.0 + 1.361680, abs=1e-5)


def test_mean_interval_of_zero_spread_is_a_point():
    e = mean_interval(7.5, 0.0, 5)
    assert (e.lo, e.value, e.hi) == (7.5, 7.5, 7.5)
    assert e.has_interval


def test_from_standard_error():
    # 5 +- 1.96 * 0.5 = 5 +- 0.98 -> [4.02, 5.98]
    e = from_standard_error(5.0, 0.5)
    assert e.value == 5.0
    assert e.lo == pytest.approx(4.02, abs=1e-12)
    assert e.hi == pytest.approx(5.98, abs=1e-12)


def test_from_interval_with_and_without_an_interval():
    e = from_interval(3.0, [2.0, 4.5])
    assert (e.value, e.lo, e.hi) == (3.0, 2.0, 4.5) and e.has_interval
    for missing in (None, []):
        bare = from_interval(3.0, missing)
        assert bare.value == 3.0 and not bare.has_interval


def test_has_interval_needs_both_ends():
    assert not Estimate(1.0).has_interval
    assert not Estimate(1.0, 0.5, None).has_interval
    assert not Estimate(1.0, None, 1.5).has_interval
    assert Estimate(1.0, 0.5, 1.5).has_interval


# ---- separated -----------------------------------------------------------------------------------------
# (which of two separated estimates wins, and with how many seeds, is verdicts.py's: tests/report/test_verdicts.py)

A = Estimate(1.0, 0.8, 1.2)
B_OVERLAPPING = Estimate(1.3, 1.1, 1.5)      # [1.1, 1.5] meets A's [0.8, 1.2] on [1.1, 1.2]
C_SEPARATE = Estimate(2.0, 1.8, 2.2)         # above A's hi 1.2


def test_overlapping_intervals_are_not_separated():
    assert not separated(A, B_OVERLAPPING) and not separated(B_OVERLAPPING, A)


def test_separated_intervals_both_ways():
    assert separated(A, C_SEPARATE) and separated(C_SEPARATE, A)


def test_touching_intervals_are_not_separated():
    # [0.8, 1.2] and [1.2, 1.6] share the point 1.2: they overlap
    assert not separated(A, Estimate(1.4, 1.2, 1.6))


def test_an_estimate_without_interval_is_never_separated():
    # 0.1 is far below [1.8, 2.2], but without its own interval it cannot be called apart
    assert not separated(Estimate(0.1), C_SEPARATE) and not separated(Estimate(0.1), Estimate(100.0))


# ---- scored ------------------------------------------------------------------------------------------


def log_ratio(r: float) -> float:
    return abs(math.log(r))


def test_scored_ratio_interval_spanning_one_starts_at_zero():
    # ratio 1.2 in [0.8, 1.5]: |log 1.2| = 0.182322; ends |log 0.8| = 0.223144, |log 1.5| = 0.405465;
    # the interval holds r = 1 where |log r| = 0, so the scored interval is [0, 0.405465]
    e = scored(Estimate(1.2, 0.8, 1.5), log_ratio, best_at=1.0)
    assert e.value == pytest.approx(0.182322, abs=1e-6)
    assert e.lo == 0.0
    assert e.hi == pytest.approx(0.405465, abs=1e-6)


def test_scored_without_best_at_keeps_the_mapped_ends():
    # same interval, no best_at: the sorted ends [0.223144, 0.405465]
    e = scored(Estimate(1.2, 0.8, 1.5), log_ratio)
    assert e.lo == pytest.approx(0.223144, abs=1e-6)
    assert e.hi == pytest.approx(0.405465, abs=1e-6)


def test_scored_ratio_interval_below_one_is_reordered():
    # ratio 0.5 in [0.4, 0.8]: |log 0.4| = 0.916291 is the larger end, |log 0.8| = 0.223144 the smaller;
    # 1 is not in the interval, so no clamp to 0
    e = scored(Estimate(0.5, 0.4, 0.8), log_ratio, best_at=1.0)
    assert e.value == pytest.approx(0.693147, abs=1e-6)
    assert e.lo == pytest.approx(0.223144, abs=1e-6)
    assert e.hi == pytest.approx(0.916291, abs=1e-6)


def test_scored_ratio_interval_above_one():
    # ratio 2 in [1.5, 3]: [log 1.5, log 3] = [0.405465, 1.098612]
    e = scored(Estimate(2.0, 1.5, 3.0), log_ratio, best_at=1.0)
    assert e.lo == pytest.approx(0.405465, abs=1e-6)
    assert e.hi == pytest.approx(1.098612, abs=1e-6)


def test_scored_without_interval_stays_without():
    e = scored(Estimate(2.0), log_ratio, best_at=1.0)
    assert e.value == pytest.approx(math.log(2.0))
    assert not e.has_interval


def test_scored_changes_the_verdict_for_ratios():
    # on the raw scale 0.6 [0.55, 0.65] is "lower" than 1.0 [0.95, 1.05]; on |log r| the ratio near 1 wins:
    # [0, 0.051293] (|log 1.05| = 0.048790, |log 0.95| = 0.051293) vs [0.430783, 0.597837]
    near, far = Estimate(1.0, 0.95, 1.05), Estimate(0.6, 0.55, 0.65)
    assert separated(far, near) and far.value < near.value
    near_s, far_s = scored(near, log_ratio, 1.0), scored(far, log_ratio, 1.0)
    assert separated(near_s, far_s) and near_s.value < far_s.value


# ---- fmt / show ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("x, text", [
    (12.41, "12.4"),          # 3 significant digits
    (13.0, "13"),             # :g drops trailing zeros
    (0.012345, "0.0123"),
    (99.94, "99.9"),
    (123.6, "124"),           # 100 and above: whole, rounded
    (100.0, "100"),
    (1234567.0, "1234567"),   # never scientific notation above 100
    (-150.4, "-150"),
    (-12.41, "-12.4"),
    (0.0, "0"),
])
def test_fmt(x, text):
    assert fmt(x) == text


def test_fmt_digits_and_none():
    assert fmt(12.41, 2) == "12"
    assert fmt(3.14159, 5) == "3.1416"
    assert fmt(100.25, 5) == "100"          # whole from 100 on, whatever the digits
    assert fmt(99.75, 5) == "99.75"
    assert fmt(None) == "n/a"


def test_show_with_interval():
    assert show(Estimate(12.41, 11.9, 13.0)) == "12.4 [11.9, 13]"
    assert show(Estimate(250.4, 240.6, 260.2)) == "250 [241, 260]"


def test_show_without_interval_and_none():
    assert show(Estimate(250.4)) == "250"
    assert show(Estimate(0.5)) == "0.5"
    assert show(None) == "n/a"


def test_t975_needs_a_degree_of_freedom():
    with pytest.raises(ValueError, match="df=0 is not allowed"):
        t975(0)


# ---- seed_mean: intervals that stay in the measure's range ------------------------------------------

def test_seed_mean_of_a_distance_is_geometric_with_a_log_scale_interval():
    """FD 303 +- 47 over 2 seeds printed [-119, 725] with the t interval on FD. On log FD, with seeds
    256 and 350: logs 5.5452, 5.8579, mean 5.7016 (geometric mean sqrt(256 * 350) = 299.3), sd
    0.3127 / sqrt(2) = 0.2211, half width 12.706 * 0.2211 / sqrt(2) = 1.9866: exp(5.7016 -+ 1.9866) =
    [41.0, 2185]: wide, and positive."""
    e = seed_mean("fd", [256.0, 350.0])
    assert e.value == pytest.approx(math.sqrt(256 * 350))
    assert (e.lo, e.hi) == pytest.approx((41.0, 2185.0), rel=2e-3)


def test_seed_mean_of_a_share_is_cut_to_zero_one_and_a_count_has_no_interval():
    # precision 0.84 and 0.86: t interval 0.85 +- 12.706 * 0.01414 / sqrt(2) = 0.85 +- 0.127 = [0.723, 0.977]
    inside = seed_mean("precision", [0.84, 0.86])
    assert (inside.lo, inside.hi) == pytest.approx((0.85 - 0.12706, 0.85 + 0.12706), abs=1e-4)
    # 0.5 and 0.9: 0.7 +- 12.706 * 0.2828 / sqrt(2) = 0.7 +- 2.541: cut to [0, 1]
    assert (seed_mean("recall", [0.5, 0.9]).lo, seed_mean("recall", [0.5, 0.9]).hi) == (0.0, 1.0)
    count = seed_mean("classes_covered", [9, 10])
    assert count.value == 9.5 and not count.has_interval
    # one seed: its value, no interval (the caller shows that run's bootstrap interval)
    assert seed_mean("fd", [5.0]).value == pytest.approx(5.0) and not seed_mean("fd", [5.0]).has_interval
    # a density of 0 on one seed: no log scale, the t interval 0.1 +- 12.706 * 0.1 from 0 up
    assert (seed_mean("density", [0.0, 0.2]).lo, seed_mean("density", [0.0, 0.2]).hi) == pytest.approx((0.0, 1.3706))
    # any other number: the plain t interval (a loss can be negative)
    assert seed_mean("g_loss", [-1.0, 1.0]).lo == pytest.approx(-12.706)
