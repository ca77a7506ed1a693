"""What replication showed (issue 27): the seed spread against one seed's bootstrap interval, worked by hand,
and the previous book's verdicts judged against this build's, each rule case by hand."""
from __future__ import annotations

import math

import pytest

from conftest import fake_run
from gen_core.grid import full_grid, grid
from gen_core.report import replication
from gen_core.report.intervals import Estimate
from gen_core.report.replication import CANNOT_TELL, HELD, NOT_HELD, Previous, judge
from gen_core.report.verdicts import Entry, Outcome, Verdict


def _cfg(family, dataset, variant, z, profile="quick"):
    return next(c for c in grid(family, dataset, profile) if c.variant == variant and c.latent_dim == z)


def _runs(cfg, fds, half=0.1, curve=False):
    return [fake_run(cfg, fd, seed=s, half=half, curve=[(1, 1000, 2 * fd), (3, 3000, fd)] if curve else None)
            for s, fd in enumerate(fds)]


# ---- the seed spread ------------------------------------------------------------------------------------------

def test_the_seed_spread_against_one_seeds_interval_by_hand():
    """Seeds at FD 9, 10, 11, each +-0.1: spread 11 / 9 = 1.2222; intervals 9.1 / 8.9 = 1.02247, 10.1 / 9.9 =
    1.02020, 11.1 / 10.9 = 1.01835, median 1.02020; over it on the log scale ln 1.2222 / ln 1.0202 = 0.20067 /
    0.02000 = 10.03; [8.9, 9.1] and [9.9, 10.1] are apart. Seeds 10, 10.05, 10.1 +-0.1 all overlap: spread 1.01,
    intervals 10.1 / 9.9 = 1.020202, 10.15 / 9.95 = 1.020101, 10.2 / 10 = 1.02, median 1.020101, so below one
    interval: ln 1.01 / ln 1.020101 = 0.0099503 / 0.0199018 = 0.49998."""
    apart = _runs(_cfg("gan", "mnist", "MLP A", 100), [9.0, 10.0, 11.0])
    close = _runs(_cfg("vae", "mnist", "MLP A", 50), [10.0, 10.05, 10.1])
    one = _runs(_cfg("wgan", "mnist", "MLP A", 100), [5.0])
    rows = {r["configuration"]: r for r in replication.seed_spread_rows(apart + close + one)}
    assert set(rows) == {"GAN (MLP A, z=100)", "VAE (MLP A, z=50)"}                   # one seed: no spread
    gan, vae = rows["GAN (MLP A, z=100)"], rows["VAE (MLP A, z=50)"]
    assert gan["spread"] == pytest.approx(11 / 9) and gan["interval"] == pytest.approx(10.1 / 9.9)
    assert gan["ratio"] == pytest.approx(math.log(11 / 9) / math.log(10.1 / 9.9)) and gan["apart"] is True
    assert gan["ratio"] == pytest.approx(10.03, abs=0.01)
    assert vae["spread"] == pytest.approx(1.01) and vae["apart"] is False and vae["ratio"] == pytest.approx(0.49998,
                                                                                                              abs=1e-5)
    table = replication.seed_spread_table(apart + close)
    assert list(table.columns) == list(replication.SPREAD_COLUMNS)
    gan_row = table[table["configuration"] == "GAN (MLP A, z=100)"].iloc[0]
    assert (gan_row["FD of each seed"], gan_row["seed spread (max / min)"], gan_row["spread over interval"],
            gan_row["seeds apart"]) == ("9, 10, 11", "1.22×", "10.0", "yes")
    text = replication.seed_spread_sentence(apart + close)
    assert "In 1 of 2 configurations with several seeds, two seeds' FD bootstrap intervals do not overlap, and in 1" \
           in text
    # median spread of 1.2222 and 1.01 = 1.1161; median interval of 1.0202 and 1.0202 (vae: 10.05 +- 0.1 -> 1.0201)
    assert "the median spread is 1.12× against a median interval of 1.02×" in text
    assert text.endswith("In 1 of 2, one seed's interval is at least as wide as its seeds' spread; the verdicts rest "
                         "on the seeds all the same.")                           # 1 wider of 2: not most
    assert "In most of them retraining moves FD more" in replication.seed_spread_sentence(apart)
    assert "No configuration has two measured seeds" in replication.seed_spread_sentence(one)


# ---- the previous book's verdicts ------------------------------------------------------------------------------

def _verdict(outcome, leaders, seeds=3):
    e = Estimate(1.0, 0.9, 1.1)
    entries = (Entry("a", (e,) * seeds, e), Entry("b", (e,) * seeds, e))
    return Verdict("q", "fd", entries, outcome, tuple(leaders))


@pytest.mark.parametrize("prev_leader, outcome, leaders, seeds, expected", [
    ("GAN", Outcome.WINNER, ["GAN (DCGAN, z=256)"], 3, HELD),           # the family, whichever configuration
    ("GAN", Outcome.WINNER, ["WGAN (DC-WGAN, z=64)"], 3, NOT_HELD),     # "GAN" does not name a "WGAN (...)"
    ("WGAN-GP", Outcome.WINNER, ["GAN (DCGAN, z=64)"], 3, NOT_HELD),
    ("GAN", Outcome.AHEAD, ["GAN (DCGAN, z=64)"], 3, CANNOT_TELL),      # ahead in every seed is not a win
    ("GAN", Outcome.TIE, ["GAN (DCGAN, z=64)", "WGAN-GP (DC-WGAN-GP, z=64)"], 3, CANNOT_TELL),
    ("GAN", Outcome.TIE, ["WGAN-GP (DC-WGAN-GP, z=64)", "VAE (Conv, z=128)"], 3, NOT_HELD),   # the best beats GAN
    ("GAN", Outcome.WINNER, ["GAN (DCGAN, z=64)"], 1, CANNOT_TELL),     # one seed: provisional
    (None, Outcome.TIE, ["z=2", "z=32"], 3, HELD),                      # still no change
    (None, Outcome.WINNER, ["z=32"], 3, NOT_HELD),                      # a change now
    (None, Outcome.AHEAD, ["z=32"], 3, CANNOT_TELL),
    ("z=128", Outcome.WINNER, ["z=128"], 2, HELD),
    ("Conv", Outcome.WINNER, ["Conv (DCGAN, z=64)"], 3, HELD),
    ("Conv", Outcome.NOT_RANKED, [], 3, CANNOT_TELL),
])
def test_judging_a_previous_verdict_by_hand(prev_leader, outcome, leaders, seeds, expected):
    assert judge(Previous("q", "said", prev_leader), _verdict(outcome, leaders, seeds))[0] == expected


def test_a_question_this_build_does_not_ask_cannot_tell():
    assert judge(Previous("q", "said", "GAN"), None) == (CANNOT_TELL, "not answered here: a side has no measured run")


def test_every_previous_question_is_one_the_long_grid_asks():
    """Three seeds of every long configuration, with curves: comparison_verdicts asks each question of the
    previous book (its wording is this code's), and the table has one row per previous verdict."""
    runs = [r for i, cfg in enumerate(c for c in full_grid("long") if c.seed == 0)
            for r in _runs(cfg, [10.0 + i, 10.5 + i, 11.0 + i], curve=True)]
    from gen_core.report.comparison import comparison_verdicts
    asked = {v.question for _, v in comparison_verdicts(runs)}
    missing = [p.question for p in replication.PREVIOUS if p.question != replication.MLP_GAN_COLLAPSE
               and p.question not in asked]
    assert missing == []
    table = replication.previous_verdicts_table(runs)
    assert list(table.columns) == list(replication.PREVIOUS_COLUMNS) and len(table) == len(replication.PREVIOUS)
    assert set(table["outcome"]) <= {HELD, NOT_HELD, CANNOT_TELL}
    counts = replication.previous_counts(table)
    assert sum(counts.values()) == len(replication.PREVIOUS)
    assert replication.previous_sentence(table).startswith(
        f"**Against {replication.PREVIOUS_BOOK}.** Of its {len(replication.PREVIOUS)} verdicts, {counts[HELD]} held")


def test_the_mlp_gan_collapse_row_judges_each_seed():
    """The previous book: none of the MNIST MLP GANs collapsed. Three seeds, none collapsed: held; one seed
    covering 2 classes (collapsed): did not hold; one seed only: cannot tell."""
    cfg = _cfg("gan", "mnist", "MLP A", 100, "long")
    none = [fake_run(cfg, 10.0, seed=s) for s in range(3)]
    one_collapsed = none[:2] + [fake_run(cfg, 10.0, seed=2, covered=2)]

    def row(runs):
        table = replication.previous_verdicts_table(runs)
        return table[table["question"] == replication.MLP_GAN_COLLAPSE].iloc[0]
    assert (row(none)["outcome"], row(none)["this book"]) == (HELD, "0 of 3 runs collapsed (every seed of every configuration)")
    assert (row(one_collapsed)["outcome"], row(one_collapsed)["this book"]) == (NOT_HELD, "1 of 3 runs collapsed (every seed of every configuration)")
    assert row(none[:1])["outcome"] == CANNOT_TELL
    assert (row(one_collapsed[2:])["outcome"], row(one_collapsed[2:])["why"]) == (CANNOT_TELL, "one seed: provisional")


def test_previous_verdicts_worked_by_hand():
    """Four latent steps, 3 seeds each, every interval +-0.1 (so apart wherever values differ by > 0.2):
    - GAN DCGAN CIFAR-10, z=64 at 3.0, 3.1, 3.2 against z=256 at 6.0, 6.2, 6.4: every seed of z=64 lower and the
      seed-mean intervals on log FD ([2.86, 3.35] and [5.71, 6.72]) apart: z=64 wins; the previous book said
      "worse at z=256" (z=64): held.
    - GAN DCGAN MNIST, z=64 at 10, 10.5, 11 against z=256 at 10.2, 10.6, 11.1: not every seed lower, a tie; the
      previous "no change": held.
    - WGAN DC-WGAN MNIST, z=64 at 20, 21, 22 against z=256 at 5.0, 5.2, 5.4: z=256 wins; the previous "worse at
      z=256" named z=64: did not hold.
    - VAE Conv CIFAR-10, z=2 at 10, 10.5, 11 against z=128 at 9.8, 10.3, 10.9: a tie that includes z=128, which
      the previous book named: cannot tell.
    The same runs answer three family questions, each seed set apart by far (every seed lower, and the seed-mean
    intervals of +-5% around 5.2, 10.5 and 3.1 do not meet):
    - MNIST at the end: the best GAN (DCGAN z=64, about 10.5) against the best WGAN (DC-WGAN z=256, about 5.2):
      the WGAN wins; the previous book named GAN: did not hold. So does "WGAN or GAN on MNIST" (it named GAN).
    - CIFAR-10 at the end: GAN DCGAN z=64 (about 3.1) against VAE Conv z=128 (about 10.3): GAN wins; the
      previous book named WGAN-GP: did not hold.
    Every other previous question has no runs here: cannot tell."""
    runs = (_runs(_cfg("gan", "cifar10", "DCGAN", 64, "long"), [3.0, 3.1, 3.2])
            + _runs(_cfg("gan", "cifar10", "DCGAN", 256, "long"), [6.0, 6.2, 6.4])
            + _runs(_cfg("gan", "mnist", "DCGAN", 64, "long"), [10.0, 10.5, 11.0])
            + _runs(_cfg("gan", "mnist", "DCGAN", 256, "long"), [10.2, 10.6, 11.1])
            + _runs(_cfg("wgan", "mnist", "DC-WGAN", 64, "long"), [20.0, 21.0, 22.0])
            + _runs(_cfg("wgan", "mnist", "DC-WGAN", 256, "long"), [5.0, 5.2, 5.4])
            + _runs(_cfg("vae", "cifar10", "Conv", 2, "long"), [10.0, 10.5, 11.0])
            + _runs(_cfg("vae", "cifar10", "Conv", 128, "long"), [9.8, 10.3, 10.9]))
    table = replication.previous_verdicts_table(runs).set_index("question")
    expected = {"GAN DCGAN on CIFAR-10: does FD change from z=64 to z=256?": (HELD, "z=64 wins"),
                "GAN DCGAN on MNIST: does FD change from z=64 to z=256?": (HELD, "still within noise"),
                "WGAN DC-WGAN on MNIST: does FD change from z=64 to z=256?": (NOT_HELD, "z=256 wins now"),
                "VAE Conv on CIFAR-10: does FD change from z=2 to z=128?": (CANNOT_TELL,
                                                                           "within noise now: z=128, z=2 tie"),
                "Which family has the lowest FD on MNIST, at the end of training?": (NOT_HELD,
                                                                                    "WGAN (DC-WGAN, z=256) wins now"),
                "WGAN (weight clipping) or GAN: which has the lower FD on MNIST?": (NOT_HELD,
                                                                                   "WGAN (DC-WGAN, z=256) wins now"),
                "Which family has the lowest FD on CIFAR-10, at the end of training?": (NOT_HELD,
                                                                                       "GAN (DCGAN, z=64) wins now")}
    for question, (outcome, why) in expected.items():
        assert (table.loc[question, "outcome"], table.loc[question, "why"]) == (outcome, why), question
    others = table.drop(index=list(expected))
    assert set(others["outcome"]) == {CANNOT_TELL} and len(others) == len(replication.PREVIOUS) - 7
    assert replication.previous_counts(table.reset_index()) == {HELD: 2, NOT_HELD: 4,
                                                                  CANNOT_TELL: len(replication.PREVIOUS) - 6}
