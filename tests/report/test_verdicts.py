"""gen_core.report.verdicts: the one rule that names a winner, on hand-made seed sets, and its words."""
from __future__ import annotations

import math

import pytest

from gen_core.report.intervals import Estimate
from gen_core.report.verdicts import (Outcome, beats, decide, entry, false_positive_rate, numbers, seeds_phrase,
                                      sentence)


def seeds(*values, half=None):
    """Seeds as Estimates; `half`: a bootstrap interval of +- half around each (one-seed entries need one)."""
    return [Estimate(v, v - half, v + half) if half is not None else Estimate(v) for v in values]


def test_vae_mlp_c_case_every_seed_ahead_but_two_seeds_do_not_establish_it():
    # the VAE MNIST MLP C case: z=2 seeds 1038, 1156; z=32 seeds 562, 598.
    # log: z=2 6.9451, 7.0527 -> mean 6.9989, sd 0.0761; half = 12.706 * 0.0761 / sqrt 2 = 0.684 -> [6.315, 7.683]
    #      z=32 6.3315, 6.3936 -> mean 6.3626, sd 0.0439; half = 0.394 -> [5.968, 6.757]
    # every z=32 seed is below every z=2 seed, but 6.315 < 6.757: the intervals overlap -> AHEAD, not a win
    z2, z32 = entry("z=2", "fd", seeds(1038, 1156)), entry("z=32", "fd", seeds(562, 598))
    assert z2.mean.value == pytest.approx(math.sqrt(1038 * 1156))
    assert z2.mean.lo == pytest.approx(math.exp(6.315), rel=2e-3)
    assert z32.mean.hi == pytest.approx(math.exp(6.757), rel=2e-3)
    v = decide("Does latent size change FD?", "fd", [z2, z32])
    assert v.outcome is Outcome.AHEAD and v.leaders == ("z=32",) and v.winner is None
    assert not v.provisional and v.seeds == 2
    assert "no winner is named (2 seeds each)" in sentence(v)
    assert "does not change" not in sentence(v)


def test_three_seeds_far_apart_win():
    # A 100, 110, 120 against B 300, 330, 360: logs A 4.6052, 4.7005, 4.7875, mean 4.6977, sd 0.0912,
    # half = 4.303 * 0.0912 / sqrt 3 = 0.2265 -> A hi exp(4.9242) = 137.6; B = 3 A -> lo 3 exp(4.4712) = 262.3:
    # apart, and every seed of A is lower
    a, b = entry("A", "fd", seeds(100, 110, 120)), entry("B", "fd", seeds(300, 330, 360))
    assert a.mean.hi == pytest.approx(137.6, rel=1e-3) and b.mean.lo == pytest.approx(262.3, rel=1e-3)
    v = decide("q", "fd", [b, a])
    assert v.outcome is Outcome.WINNER and v.winner == "A" and v.seeds == 3
    assert sentence(v).startswith("A has the lowest FD: every seed of it is better")
    assert seeds_phrase(v) == "3 seeds each"


def test_interleaved_seeds_tie_even_with_separated_means():
    # A 100, 101, 250 against B 240, 260, 270: a seed of A (250) is worse than a seed of B (240) -> no win
    a, b = entry("A", "fd", seeds(100, 101, 250)), entry("B", "fd", seeds(240, 260, 270))
    v = decide("q", "fd", [a, b])
    assert v.outcome is Outcome.TIE and set(v.leaders) == {"A", "B"}
    assert sentence(v).startswith("Within noise: A and B tie for the lowest FD")


def test_seeds_ahead_but_intervals_overlap_with_three_seeds():
    # A 100, 150, 200 and B 210, 260, 310: every A below every B; log sd A = 0.3466, half = 4.303 * 0.3466 / 1.732
    # = 0.861 around 5.004 -> hi exp(5.865) = 352 > B's lo: the intervals overlap -> AHEAD only
    v = decide("q", "fd", [entry("A", "fd", seeds(100, 150, 200)), entry("B", "fd", seeds(210, 260, 310))])
    assert v.outcome is Outcome.AHEAD and v.leaders == ("A",)


def test_one_seed_is_provisional_on_bootstrap_intervals():
    # one seed each: 100 [95, 105] against 120 [115, 125] -> apart, A wins, provisionally
    a, b = entry("A", "fd", seeds(100, half=5)), entry("B", "fd", seeds(120, half=5))
    v = decide("q", "fd", [a, b])
    assert v.outcome is Outcome.WINNER and v.provisional and v.seeds == 1
    assert sentence(v).endswith("(one seed: provisional).")
    # overlapping bootstrap intervals: a provisional tie
    v = decide("q", "fd", [a, entry("C", "fd", seeds(108, half=5))])
    assert v.outcome is Outcome.TIE and v.provisional
    assert "one seed: provisional" in sentence(v)


def test_three_entries_winner_must_beat_each_other():
    # A beats B and C by the rule; with D between A and B (A 100-120, D 125-140) A no longer beats D -> tie A, D
    a = entry("A", "fd", seeds(100, 110, 120))
    b, c = entry("B", "fd", seeds(300, 330, 360)), entry("C", "fd", seeds(600, 610, 620))
    assert decide("q", "fd", [c, b, a]).winner == "A"
    d = entry("D", "fd", seeds(125, 130, 140))
    v = decide("q", "fd", [a, b, c, d])
    assert v.outcome is Outcome.TIE and v.leaders == ("A", "D")


def test_sharpness_ranks_by_distance_from_one_and_shares_by_higher():
    # sharpness ratios 0.98 [0.97, 0.99] and 0.5 [0.49, 0.51]: |log| 0.020 against 0.693 -> the first wins
    v = decide("q", "sharpness_ratio", [entry("far", "sharpness_ratio", seeds(0.5, half=0.01)),
                                        entry("near", "sharpness_ratio", seeds(0.98, half=0.01))])
    assert v.winner == "near"
    # recall: higher is better
    v = decide("q", "recall", [entry("low", "recall", seeds(0.2, half=0.02)), entry("high", "recall", seeds(0.6, half=0.02))])
    assert v.winner == "high"


def test_not_ranked_without_two_entries_or_intervals():
    v = decide("q", "fd", [entry("A", "fd", seeds(100, half=5))])
    assert v.outcome is Outcome.NOT_RANKED and not v.provisional
    assert sentence(v) == "Only A is here, so there is nothing to rank."
    v = decide("q", "fd", [entry("A", "fd", seeds(100)), entry("B", "fd", seeds(200, half=5))])
    assert v.outcome is Outcome.NOT_RANKED


def test_entry_needs_a_seed():
    with pytest.raises(ValueError, match="entry 'A' has no measured seed"):
        entry("A", "fd", [])


def test_numbers_lists_each_seed():
    v = decide("q", "fd", [entry("A", "fd", seeds(100, 400))])
    # geometric mean of 100 and 400 = 200
    assert numbers(v).startswith("A 200 [") and "(seeds 100, 400)" in numbers(v)


def test_beats_is_not_symmetric_and_never_both_ways():
    a, b = entry("A", "fd", seeds(100, 110, 120)), entry("B", "fd", seeds(300, 330, 360))
    assert beats(a, b, "fd") and not beats(b, a, "fd")


def test_false_positive_rate_is_small_and_bounded_by_every_seed_ahead():
    # every seed of one ahead of every seed of the other, under one distribution, happens with probability
    # 2 / C(6, 3) = 0.1 for 3 seeds each; the interval condition only removes cases, so the rate is below it,
    # and above 0 (a far draw does win). Monte Carlo with 20000 pairs: standard error <= 0.0015 at these rates.
    rate = false_positive_rate(3, trials=20000)
    assert 0.0 < rate < 0.02
    assert false_positive_rate(3, trials=2000, seed=1) < 0.1
