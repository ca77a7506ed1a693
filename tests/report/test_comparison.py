"""The comparison page's verdicts (issue 25): every answer is a verdicts.Verdict of seed-averaged runs, put
into words by verdicts.sentence alone, shown first as one table (answers_table) and then as prose; with one
seed every answer is provisional; no printed interval leaves its measure's range."""
from __future__ import annotations

import math
import re

import pytest

from conftest import fake_real_side, fake_run
from gen_core.grid import grid
from gen_core.report import comparison
from gen_core.report.verdicts import Outcome

# Three seeds at FD base x (0.9, 1.0, 1.1). On log FD: ln 0.9 = -0.10536, ln 1 = 0, ln 1.1 = 0.09531, mean
# -0.00335, deviations -0.10201, 0.00335, 0.09866, sd sqrt(0.020151 / 2) = 0.10038; half width
# t(0.975, 2) sd / sqrt 3 = 4.303 * 0.10038 / 1.73205 = 0.24937. So every such entry has the seed mean
# base x exp(-0.00335) = 0.99666 base and the interval base x [exp(-0.25272), exp(0.24602)] = [0.7766, 1.2789] base.
# Between two of them, base a < b:
#   every seed of a below every seed of b  <=>  1.1 a < 0.9 b  <=>  b / a > 1.2222
#   seed-mean intervals apart               <=>  1.2789 a < 0.7766 b  <=>  b / a > 1.6468
# so b / a > 1.6468: a wins; 1.2222 < b / a <= 1.6468: a is only ahead in every seed; below 1.2222: a tie.
FACTORS = (0.9, 1.0, 1.1)
MEAN, LO, HI = 0.99666, 0.7766, 1.2789


def _configs():
    rows = {(f, d, c.variant, c.latent_dim): c for f in ("vae", "gan", "wgan") for d in ("mnist", "cifar10")
            for c in grid(f, d, "quick")}
    return rows


def _seeds(cfg, base, seeds=(0, 1, 2), curve=None, seconds=None, generator_images=1000):
    """One run per seed at FD base x FACTORS[seed]; `curve`: (epoch, generator images, FD base) per point over
    training, each seed's FD scaled alike; `seconds`: each point's training seconds."""
    runs = []
    for s in seeds:
        f = FACTORS[s] if len(seeds) > 1 else 1.0
        run = fake_run(cfg, base * f, seed=s, generator_images=generator_images,
                       curve=None if curve is None else [(e, g, fd * f) for e, g, fd in curve])
        for point, t in zip(run.yardstick.get("over_training", []), seconds or []):
            point["train_seconds"] = t
        runs.append(run)
    return runs


def page_runs(seeds=(0, 1, 2)):
    """The hand-made grid. MNIST: VAE MLP A z=50 (base 30) and z=100 (base 60), GAN MLP A z=100 (base 10), WGAN
    MLP A z=100 (base 14), the three best with curves; CIFAR-10: GAN MLP (8), DCGAN z=64 (4), WGAN MLP (4.4).
    Over training (epoch, generator images, FD base; seconds):
      VAE  z=50: (1, 20000, 50), (3, 60000, 30); 4 s, 12 s
      GAN:       (1, 20000, 40), (3, 60000, 10); 5 s, 15 s
      WGAN:      (1,  4000, 45), (3, 12000, 14); 20 s, 60 s   (one generator step per 5 critic steps; slower)"""
    rows = _configs()
    return (_seeds(rows["vae", "mnist", "MLP A", 50], 30.0, seeds, [(1, 20000, 50.0), (3, 60000, 30.0)], (4.0, 12.0),
                   60000)
            + _seeds(rows["vae", "mnist", "MLP A", 100], 60.0, seeds)
            + _seeds(rows["gan", "mnist", "MLP A", 100], 10.0, seeds, [(1, 20000, 40.0), (3, 60000, 10.0)],
                     (5.0, 15.0), 60000)
            + _seeds(rows["wgan", "mnist", "MLP A", 100], 14.0, seeds, [(1, 4000, 45.0), (3, 12000, 14.0)],
                     (20.0, 60.0), 12000)
            + _seeds(rows["gan", "cifar10", "MLP", 100], 8.0, seeds)
            + _seeds(rows["gan", "cifar10", "DCGAN", 64], 4.0, seeds)
            + _seeds(rows["wgan", "cifar10", "MLP", 200], 4.4, seeds))


REAL = {ds: fake_real_side(ds) for ds in ("mnist", "cifar10")}

# Each verdict of the page, hand-worked with the ratios above (3 seeds each):
EXPECTED = [
    # MNIST at the end: GAN 10, WGAN 14 (14 / 10 = 1.4: GAN only ahead, so not beaten), VAE 30 (3: beaten).
    # Three entries: GAN beats neither all nor is it a pair -> a tie of GAN and WGAN
    ("Which family has the lowest FD on MNIST, at the end of training?", Outcome.TIE,
     ("GAN (MLP A, z=100)", "WGAN (MLP A, z=100)")),
    # equal generator updates: budget min(60000, 60000, 12000) = 12000; nearest in log: VAE and GAN epoch 1
    # (20000: |ln 20000/12000| = 0.51 < |ln 5|), WGAN epoch 3 -> WGAN 14 against GAN 40 (2.86) and VAE 50 (3.57)
    ("Which family has the lowest FD on MNIST, at equal generator updates?", Outcome.WINNER, ("WGAN (MLP A, z=100)",)),
    # equal training time: budget min(12, 15, 60) = 12 s; VAE 12 s (epoch 3, FD 30); GAN 15 s (|ln 15/12| = 0.22 <
    # |ln 5/12| = 0.88: epoch 3, FD 10); WGAN 20 s (epoch 1, FD 45) -> GAN against VAE (3) and WGAN (4.5): wins
    ("Which family has the lowest FD on MNIST, at equal training time?", Outcome.WINNER, ("GAN (MLP A, z=100)",)),
    # CIFAR-10 at the end: GAN's best is the DCGAN (4), WGAN 4.4: 4.4 / 4 = 1.1 < 1.2222 -> a tie
    ("Which family has the lowest FD on CIFAR-10, at the end of training?", Outcome.TIE,
     ("GAN (DCGAN, z=64)", "WGAN (MLP, z=200)")),
    # VAE MLP A: z=50 (30) against z=100 (60): 2 > 1.6468 -> the smaller latent wins
    ("VAE MLP A on MNIST: does FD change from z=50 to z=100?", Outcome.WINNER, ("z=50",)),
    # CIFAR-10 GAN: DCGAN 4 against MLP 8: 2 -> conv wins
    ("Does convolution lower the CIFAR-10 GAN's FD?", Outcome.WINNER, ("Conv (DCGAN, z=64)",)),
    # WGAN against GAN on MNIST: 14 / 10 = 1.4, in (1.2222, 1.6468] -> GAN only ahead in every seed
    ("WGAN (weight clipping) or GAN: which has the lower FD on MNIST?", Outcome.AHEAD, ("GAN (MLP A, z=100)",)),
    # on CIFAR-10: 4 against 4.4 -> a tie
    ("WGAN (weight clipping) or GAN: which has the lower FD on CIFAR-10?", Outcome.TIE,
     ("GAN (DCGAN, z=64)", "WGAN (MLP, z=200)")),
]

# A printed interval and the measure it belongs to: "precision 0.5 [0.4, 0.6]" (a share) or "FD 9.97 [7.77, 12.8]"
INTERVAL = re.compile(r"(\S+) (-?[\d.]+(?:e[-+]?\d+)?) \[(-?[\d.]+(?:e[-+]?\d+)?), (-?[\d.]+(?:e[-+]?\d+)?)\]")
SHARES = ("precision", "recall", "coverage", "density")


def check_intervals(text: str) -> int:
    """Every "[lo, hi]" in `text` stays in its measure's range: shares in [0, 1], everything else (FD,
    -ELBO) above 0; no interval follows "classes covered". Returns how many intervals it checked."""
    found = INTERVAL.findall(text)
    # every bracket is an interval, but for the seeds sentence's "shares stay in [0, 1]" (a range, not a number's)
    assert text.count("[") == len(found) + text.count("shares stay in [0, 1]"), text
    for name, value, lo, hi in found:
        lo, value, hi = float(lo), float(value), float(hi)
        assert lo <= value <= hi, (name, value, lo, hi)
        if name.rstrip(":,") in SHARES[:3]:
            assert 0.0 <= lo and hi <= 1.0, (name, lo, hi)
        elif name == "KID":
            continue                                     # an unbiased KID may be negative
        else:
            assert lo > 0.0, (name, lo, hi)
    assert not re.search(r"classes covered[^.;]*\[", text)
    return len(found)


def _sentence(answer: str) -> str:
    """A table answer without what the table adds after verdicts.sentence's words (which end on the seeds)."""
    return answer[:answer.index(").") + 2]


def test_the_comparison_page_answers_each_question_by_the_rule_with_three_seeds():
    runs = page_runs()
    table = comparison.answers_table(runs, REAL)
    assert list(table.columns) == ["question", "answer", "numbers", "seeds"]
    verdicts = [v for _, v in comparison.comparison_verdicts(runs)]
    assert [(v.question, v.outcome, v.leaders) for v in verdicts] == EXPECTED
    assert list(table["question"]) == [q for q, _, _ in EXPECTED]
    assert set(table["seeds"]) == {"3 seeds each"}
    # the numbers behind the first answer: GAN's seed mean 0.99666 x 10 = 9.97 in [7.77, 12.8] and its seeds
    assert table["numbers"][0].startswith("GAN (MLP A, z=100) 9.97 [7.77, 12.8] (seeds 9, 10, 11); WGAN (MLP A, "
                                          "z=100) 14 [10.9, 17.9] (seeds 12.6, 14, 15.4)")
    # the answers in verdicts.sentence's words; the AHEAD one names no winner
    assert table["answer"][6] == ("GAN (MLP A, z=100) has the lowest FD in every seed, but the seed-mean intervals "
                                  "overlap, so no winner is named (3 seeds each).")
    assert table["answer"][1].startswith("WGAN (MLP A, z=100) has the lowest FD: every seed of it is better than "
                                         "every seed of the others and the seed-mean intervals do not overlap")
    # CIFAR-10's stub classifier is below its floor: its answers say they are hints, MNIST's do not
    assert table["answer"][3].endswith("(3 seeds each). The classifier is below its floor: a hint, not a verdict.")
    assert "hint" not in table["answer"][0]
    # the equal-budget answers say what they leave out: chosen points 20,000 / 12,000 images and 20 / 12 s apart
    assert table["answer"][1].endswith("(3 seeds each). The chosen points still differ by up to 1.7×: approximate.")
    assert table["answer"][2].endswith("(3 seeds each). Timed on a shared machine. The chosen points still differ by "
                                       "up to 1.7×: approximate.")

    text = comparison.comparison_findings(runs, REAL, "full")
    # the prose carries each answer in the same words as the table, and never the classifier paragraph again
    for answer in table["answer"]:
        assert _sentence(answer) in text, answer
    assert "classifier behind these numbers" not in text and "the floor, what real data scores" not in text
    # MNIST's floor 2 [1.5, 2.5] spans 1.67x: GAN 9.97 / 2 = 4.98 x the floor
    assert "GAN (MLP A, z=100): FD 9.97 [7.77, 12.8] (4.98 × the floor)" in text
    # the equal-time verdict, with its points and the shared machine; 20 / 12 = 1.7: hedged
    assert ("GAN (MLP A, z=100) after epoch 3 (15 s of training, the geometric mean of 3 seeds with its interval): "
            "FD 9.97 [7.77, 12.8]") in text
    assert "WGAN (MLP A, z=100) after epoch 1 (20 s of training" in text
    assert "taken on a shared machine" in text and "these times still differ by up to 1.7×" in text
    # latents: one architecture, worse with the step up; counted from the data
    assert ("Of 1 architecture with several latent sizes, FD improves outside the noise with every step up in "
            "latent size in 0, does not change outside the noise in 0 and gets worse with every step in 1:") in text
    assert "The convolutional model has the lower FD outside the noise in 1 of 1 families" in text
    # every interval on the page and in the table stays in its range (geometric FD intervals: above 0)
    assert check_intervals(text) >= 20
    for column in ("answer", "numbers"):
        for cell in table[column]:
            check_intervals(cell)


def test_with_one_seed_every_answer_is_provisional():
    runs = page_runs(seeds=(0,))
    table = comparison.answers_table(runs, REAL)
    text = comparison.comparison_findings(runs, REAL, "quick")
    # seed 0 alone at FD base +- 0.1: GAN 10 [9.9, 10.1] against WGAN 14 [13.9, 14.1] is apart now, provisionally
    verdicts = [v for _, v in comparison.comparison_verdicts(runs)]
    assert len(verdicts) == len(EXPECTED) and all(v.provisional for v in verdicts)
    assert verdicts[0].outcome is Outcome.WINNER and verdicts[0].winner == "GAN (MLP A, z=100)"
    assert set(table["seeds"]) == {"one seed: provisional"}
    for answer in table["answer"]:
        assert _sentence(answer).endswith("(one seed: provisional).")
        assert _sentence(answer) in text
    assert "seeds each" not in text and text.count("(one seed: provisional).") >= len(EXPECTED)
    assert "every verdict on one seed is provisional (Methods)" in text
    check_intervals(text)


def test_fd_over_the_floor_is_left_out_where_the_floor_is_too_wide():
    real = fake_real_side("mnist")
    real.floor["fd_ci"] = [1.0, 2.5]                # spans 2.5x > 2: no ratio
    text = comparison.dataset_verdict(page_runs(), real)
    assert "GAN (MLP A, z=100): FD 9.97 [7.77, 12.8], precision" in text
    assert text.endswith("No FD is divided by the floor here: the floor's own interval 2 [1, 2.5] spans more than 2×.")
    assert "× the floor" not in text


def test_equal_budget_names_only_the_budgets_it_knows():
    with pytest.raises(ValueError, match="budget 'epochs' is not allowed; the families are compared at "
                                         "generator_images, train_seconds"):
        comparison.equal_budget(page_runs(), "mnist", "epochs")
    at = comparison.equal_budget(page_runs(), "mnist", "train_seconds")
    # budget 12 s; chosen 12, 15, 20 s: spread 20 / 12
    assert at.budget == 12.0 and at.spread == pytest.approx(20 / 12)
    assert [p["epoch"] for _, p in at.chosen] == [3, 3, 1]
    # each entry's seeds are the seeds' own points at the chosen epoch: WGAN at epoch 1, 45 x (0.9, 1, 1.1)
    assert [s.value for s in at.verdict.entries[2].seeds] == pytest.approx([40.5, 45.0, 49.5])
    assert at.verdict.entries[2].mean.value == pytest.approx(45 * MEAN, rel=1e-4)
    assert comparison.equal_budget(page_runs(), "cifar10") is None          # no CIFAR-10 run was measured over training


def test_latent_summary_counts_each_kind_from_the_verdicts():
    rows = _configs()
    # MLP C: 30 -> 20 -> 10 (ratios 1.5, 2: ahead, then a win: "lower in every seed", established at 1 of 2 steps);
    # MLP A: 30 -> 31 (a tie); DCGAN: 10 -> 30 (3: worse)
    runs = (_seeds(rows["vae", "mnist", "MLP C", 2], 30.0) + _seeds(rows["vae", "mnist", "MLP C", 32], 20.0)
            + _seeds(rows["vae", "mnist", "MLP C", 128], 10.0)
            + _seeds(rows["vae", "mnist", "MLP A", 50], 30.0) + _seeds(rows["vae", "mnist", "MLP A", 100], 31.0)
            + _seeds(rows["gan", "mnist", "DCGAN", 64], 10.0) + _seeds(rows["gan", "mnist", "DCGAN", 256], 30.0))
    head, *lines = comparison.latent_summary(runs)
    assert head == ("**Do larger latents help?** Of 3 architectures with several latent sizes, FD improves outside "
                    "the noise with every step up in latent size in 0, does not change outside the noise in 1, gets "
                    "worse with every step in 1 and is lower in every seed with every step but not established at "
                    "every step in 1:")
    assert lines[1].startswith("- VAE, MNIST, MLP A: FD does not change outside the noise with latent size (z=50: "
                               "29.9 [23.3, 38.4], z=100: 30.9 [24.1, 39.6]). Within noise: z=50 and z=100 tie")
    assert lines[0].startswith("- VAE, MNIST, MLP C: FD is lower in every seed with every step up in latent size, "
                               "established at 1 of 2 steps only (z=2: 29.9 [23.3, 38.4], z=32: 19.9 [15.5, 25.6], "
                               "z=128: 9.97 [7.77, 12.8]). z=2 to 32: z=32 has the lowest FD in every seed, but the "
                               "seed-mean intervals overlap, so no winner is named (3 seeds each). z=32 to 128: z=128 "
                               "has the lowest FD: every seed of it is better")
    assert lines[2].startswith("- GAN, MNIST, DCGAN: FD gets worse with every step up in latent size")
    assert comparison.latent_summary([]) == ["**Do larger latents help?** No architecture here ran with several "
                                             "latent sizes."]


def test_hand_worked_interval_constants():
    """The module's constants against the arithmetic they summarise."""
    logs = [math.log(f) for f in FACTORS]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 2)
    half = 4.303 * sd / math.sqrt(3)
    assert (math.exp(mean), math.exp(mean - half), math.exp(mean + half)) == pytest.approx((MEAN, LO, HI), abs=2e-4)


def test_kid_agreement_counts_the_pairs_and_names_each_reversal():
    # three MNIST GAN configurations, one seed each: FD 10, 20, 30 (+-0.1: every pair separated, lower wins) and
    # KID 0.01, 0.03, 0.02 (+-0.001: separated too). Pairs: (A, B) A by both; (A, C) A by both; (B, C) B by FD,
    # C by KID -> 2 of 3 ordered alike, 2 separated the same way, 0 left within noise, 1 reversed.
    cfgs = grid("gan", "mnist", "quick")[:3]
    runs = []
    for cfg, fd, kid in zip(cfgs, (10.0, 20.0, 30.0), (0.01, 0.03, 0.02)):
        run = fake_run(cfg, fd)
        run.yardstick.update(kid=kid, kid_ci=[kid - 0.001, kid + 0.001])
        runs.append(run)
    assert comparison.kid_agreement(runs) == (
        "**Does KID agree with FD?** On MNIST, KID orders 2 of 3 pairs of configurations as FD does (by their seed "
        "means). Of the 3 pairs FD separates by the rule, KID separates 2 the same way, leaves 0 within noise and "
        "reverses 1: GAN (MLP A, z=200) by FD, GAN (MLP B, z=200) by KID. Each configuration has one seed, so these "
        "separations are provisional. The verdicts on this page use FD.")
    assert comparison.kid_agreement([fake_run(c, 5.0) for c in cfgs]) == ""       # no KID measured: nothing to say
