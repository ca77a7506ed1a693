"""Numbers with their 95% intervals, and the one rule every verdict in the book follows:
a winner only where the intervals do not overlap, a tie otherwise.

Pure: floats in, Estimates and words out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# Student's t quantile t_{0.975, df} for df = 1..10; above, 1.96 + 2.4 / df (within 1.1%).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def t975(df: int) -> float:
    if df < 1:
        raise ValueError(f"df={df} is not allowed; a t quantile needs at least 1 degree of freedom (2 seeds)")
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.4 / df


@dataclass(frozen=True)
class Estimate:
    """A number and its 95% interval [lo, hi]; lo = hi = None when it has none (then it never wins)."""
    value: float
    lo: float | None = None
    hi: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.lo is not None and self.hi is not None


def from_interval(value: float, ci) -> Estimate:
    return Estimate(value, ci[0], ci[1]) if ci else Estimate(value)


def from_standard_error(value: float, se: float) -> Estimate:
    return Estimate(value, value - 1.96 * se, value + 1.96 * se)


def mean_interval(mean: float, std: float, n: int) -> Estimate:
    """The t interval of a mean over n seeds: mean +- t_{0.975, n-1} std / sqrt(n)."""
    half = t975(n - 1) * std / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half)


# What each kind of measure may be, so that no interval of its seed mean leaves it: a distance is
# positive (its mean and interval are taken on the log scale, then mapped back), a share lies in
# [0, 1] (the t interval, cut to it), a count of classes gets no t interval (its seeds' values say
# more than a t quantile on 2 or 3 integers), anything else is any real number.
POSITIVE = ("fd", "test_neg_elbo", "test_bce", "test_kl", "density", "sharpness_ratio")
SHARES = ("precision", "recall", "coverage", "on_data", "counted")
COUNTS = ("classes_covered",)


def seed_mean(key: str, values: list[float]) -> Estimate:
    """The seed mean of measure `key` over `values` (one per seed) with a 95% interval that stays in the
    measure's range: the geometric mean and exp(mean(log x) +- t sd(log x) / sqrt(n)) for a positive
    measure; the mean and its t interval cut to [0, 1] for a share; the bare mean for a count."""
    n = len(values)
    if key in POSITIVE and all(v > 0 for v in values):
        return log_mean(values)
    mean, sd = mean_sd(values)
    if key in COUNTS or n < 2:
        return Estimate(mean)
    e = mean_interval(mean, sd, n)
    if key in SHARES:
        return Estimate(mean, max(e.lo, 0.0), min(e.hi, 1.0))
    # a positive measure with a seed at 0 (a density of 0) has no logarithm: its t interval, from 0 up
    return Estimate(mean, max(e.lo, 0.0), e.hi) if key in POSITIVE else e


def log_mean(values: list[float]) -> Estimate:
    """The geometric mean of positive values with exp(mean(log x) +- t sd(log x) / sqrt(n)), inside (0, inf);
    no interval for one value."""
    logs = [math.log(v) for v in values]
    e = mean_interval(*mean_sd(logs), len(logs)) if len(logs) > 1 else Estimate(logs[0])
    return Estimate(math.exp(e.value), *((math.exp(e.lo), math.exp(e.hi)) if e.has_interval else ()))


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1; 0 for one value)."""
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return mean, sd


def scored(e: Estimate, score, best_at: float | None = None) -> Estimate:
    """The estimate on the scale `score` ranks by (lower is better), its interval mapped through it.
    `best_at`: where a non-monotone score has its minimum (|log r| at r = 1); an interval holding
    it reaches that minimum."""
    if not e.has_interval:
        return Estimate(score(e.value))
    lo, hi = sorted((score(e.lo), score(e.hi)))
    if best_at is not None and e.lo <= best_at <= e.hi:
        lo = score(best_at)
    return Estimate(score(e.value), lo, hi)


def separated(a: Estimate, b: Estimate) -> bool:
    """True when both have intervals and those do not overlap."""
    return a.has_interval and b.has_interval and (a.hi < b.lo or b.hi < a.lo)


def fmt(x, digits: int = 3) -> str:
    """A number for prose: whole above 100, else `digits` significant digits; "n/a" for None."""
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}g}"


def show(e: Estimate | None, digits: int = 3) -> str:
    """'12.4 [11.9, 13]', or the bare number without an interval."""
    if e is None:
        return "n/a"
    if not e.has_interval:
        return fmt(e.value, digits)
    return f"{fmt(e.value, digits)} [{fmt(e.lo, digits)}, {fmt(e.hi, digits)}]"
