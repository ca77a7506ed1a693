"""Methods states the verdict rule's false-positive rate: the number written there must be the one the
rule has (verdicts.false_positive_rate), within the Monte Carlo error of that estimate."""
from __future__ import annotations

import math
import re

from gen_core.book import ROOT
from gen_core.report.verdicts import false_positive_rate


def _methods() -> str:
    return " ".join((ROOT / "book" / "methods.md").read_text().split())       # one line: phrases may wrap


def test_the_false_positive_rate_in_methods_is_the_rules():
    found = re.findall(r"names a winner in about ([\d.]+)% of pairs", _methods())
    assert len(found) == 1, found
    written = float(found[0]) / 100
    rate = false_positive_rate(3, trials=20000)
    # binomial standard error of a rate p over n trials: sqrt(p (1 - p) / n); at p = 0.005, n = 20000: 0.0005.
    # Allow 3 of them, and half a unit of the written number's last digit (0.5% is 0.45% to 0.55%)
    se = math.sqrt(rate * (1 - rate) / 20000)
    digits = len(found[0].split(".")[1]) if "." in found[0] else 0
    assert abs(written - rate) <= 3 * se + 0.5 * 10 ** -digits / 100, (written, rate, se)


def test_methods_states_why_ahead_is_not_a_win_and_why_one_seed_is_provisional():
    text = _methods()
    # 2 of the C(6, 3) = 20 rank splits put one side's three seeds all below the other's: 10% by chance
    assert math.comb(6, 3) == 20
    assert r"$\binom{6}{3} = 20$" in text and r"$2/20 = 10\%$" in text
    assert "ahead in every seed* is reported and never called a win" in text
    assert "(one seed: provisional)" in text and "in 6 of them" in text
