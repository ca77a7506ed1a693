"""The prose: pure functions of hand-made runs and stub real sides, checked word for word."""
from __future__ import annotations

import pytest
import torch

from conftest import fake_real_side
from conftest import fake_run
from gen_core.grid import grid, override
from gen_core.report import comparison, findings, weights
from gen_core.report.intervals import Estimate
from gen_core.report.verdicts import Outcome, decide, entry
from report.test_runsets import wgan_runs


def test_comparison_prose_quotes_the_numbers_and_flags_a_weak_classifier():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    cifar = grid("gan", "cifar10", "quick")
    runs = [fake_run(gan, 12.5, covered=4, recall=0.03), fake_run(wgan, 40.0),
            fake_run(cifar[0], 3.0), fake_run(cifar[1], 1.5)]
    real_sides = {ds: fake_real_side(ds) for ds in ("mnist", "cifar10")}
    text = comparison.comparison_findings(runs, real_sides, "quick")
    # 12.5 +- 0.1 and 40 +- 0.1 do not overlap: a winner, with both numbers and their intervals; one seed each,
    # so by the bootstrap rule, provisionally
    assert "GAN (MLP A, z=100) has the lowest FD: its interval overlaps no other's (one seed: provisional)." in text
    assert "GAN (MLP A, z=100): FD 12.5 [12.4, 12.6] (6.25 × the floor)" in text          # 12.5 / 2
    assert "WGAN (MLP A, z=100): FD 40 [39.9, 40.1] (20 × the floor)" in text
    assert ("MLP A, z=100: collapsed (100% of its samples lie on the data and 100% count; they cover 4 classes; "
            "recall 0.03 [-0.07, 0.13], coverage 0.6 [0.5, 0.7])") in text
    assert ("So every one collapsed in every seed, which agrees: the reports saw every MNIST MLP GAN collapse onto 3 "
            "or 4 digits (one seed: provisional).") in text
    assert "once (seed 0)" in text and "leaves out seed-to-seed variation" in text
    # CIFAR-10's stub classifier is below its floor: the ranking is hedged; the classifier's own paragraph (in red)
    # is the page's "The yardstick itself" section, not repeated here
    assert "The classifier is below its floor (see \"The yardstick itself\"), so this ranking is a hint" in text
    assert "Below its floor" not in text and "classifier behind these numbers" not in text
    assert "the floor, what real data scores" not in text
    # conv (DCGAN, FD 1.5) beats the MLP (FD 3) on CIFAR-10, outside the noise
    assert "lower FD outside the noise in 1 of 1 families" in text


def test_no_family_wins_when_the_intervals_overlap():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    # 12.4 +- 1 = [11.4, 13.4] and 12.7 +- 1 = [11.7, 13.7] overlap: the review's "GAN leads" case
    runs = [fake_run(gan, 12.4, half=1.0), fake_run(wgan, 12.7, half=1.0)]
    text = comparison.dataset_verdict(runs, fake_real_side("mnist"))
    assert ("Within noise: GAN (MLP A, z=100) and WGAN (MLP A, z=100) tie for the lowest FD (one seed: "
            "provisional).") in text
    assert "FD 12.4 [11.4, 13.4]" in text and "FD 12.7 [11.7, 13.7]" in text
    assert "has the lowest FD" not in text
    # three families: the leader ties with the second but not with the third
    vae = grid("vae", "mnist", "quick")[0]
    text = comparison.dataset_verdict(runs + [fake_run(vae, 30.0, half=1.0)], fake_real_side("mnist"))
    assert "GAN (MLP A, z=100) and WGAN (MLP A, z=100) tie for the lowest FD" in text and "VAE (MLP A" not in \
        text.split("Within noise")[1]


def test_seed_sentence_counts_the_seeds_found_in_the_runs():
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, fd, seed=s) for s, fd in enumerate((1.0, 2.0))]
    text = findings.chapter_findings(runs, fake_real_side("mnist"), "quick")
    assert ("Every configuration ran with 2 seeds; tables show the seed mean and, "
            "in brackets, the 95% interval of the mean, which stays in the measure's range: FD's mean is geometric, "
            "its interval taken on log FD; shares stay in [0, 1]; classes covered get none. Below each mean, a row per "
            "seed gives that seed's own value and bootstrap interval. The quick profile trains 1 seed per "
            "configuration; the others were found "
            "in the runs folder (`python -m gen_core --seeds N` trains them, here or on a cluster).") in text


def test_seed_sentence_says_when_configurations_have_different_counts_and_when_none_were_found():
    assert findings.seeds_sentence("quick", 3, 1) == (
        "Every configuration ran with 1 to 3 seeds (each table's \"mean of N seeds\" row says how many); tables show the seed mean and, in brackets, the 95% interval of the mean, which stays in the measure's "
        "range: FD's mean is geometric, its interval taken on log FD; shares stay in [0, 1]; classes covered get "
        "none. Below each mean, a row per seed gives that seed's own value and bootstrap interval. The quick "
        "profile trains 1 seed per "
        "configuration; the others were found in the runs folder (`python -m gen_core --seeds N` trains them, "
        "here or on a cluster).")
    assert findings.seeds_sentence("long", 5, 3).endswith(
        "The long profile trains 3 seeds per configuration; the others were found in the runs folder "
        "(`python -m gen_core --seeds N` trains them, here or on a cluster).")
    assert findings.seeds_sentence("long", 2, 1).endswith("that seed's own value and bootstrap interval.")  # none found
    assert findings.seeds_sentence("full", 3) == (          # full trains 3 itself: nothing was found
        "Every configuration ran with 3 seeds; tables show the seed mean and, in "
        "brackets, the 95% interval of the mean, which stays in the measure's range: FD's mean is geometric, its "
        "interval taken on log FD; shares stay in [0, 1]; classes covered get none. Below each mean, a row per seed "
        "gives that seed's own value and bootstrap interval.")
    assert findings.seeds_sentence("smoke", 1).startswith("Every configuration here ran once (seed 0), as the smoke "
                                                          "profile trains it.")
    # a page's own trained range decides the "found" clause: quick trains 1, so a second seed was found
    assert findings.seeds_sentence("quick", 1, 1, (1, 1)).startswith(
        "Every configuration here ran once (seed 0), as the quick profile trains it.")
    assert findings.seeds_sentence("quick", 2, 2, (1, 1)).endswith(
        "The quick profile trains 1 seed per configuration; the others were found in the runs folder "
        "(`python -m gen_core --seeds N` trains them, here or on a cluster).")
    wgan = [fake_run(c, 9.0) for c in grid("wgan", "mnist", "long")]
    assert findings.profile_seed_range("long", wgan) == (3, 3)       # long trains 3 seeds of every row
    assert findings.profile_seed_range("quick", wgan) == (1, 1)
    assert findings.profile_seed_range("long", []) is None


@pytest.mark.parametrize("fds, half, trend", [
    ((9.0, 5.0, 1.0), 0.1, "improves with every step up in latent size (z=2: 9 [8.9, 9.1], z=32: 5 [4.9, 5.1], "
                           "z=128: 1 [0.9, 1.1])."),
    ((1.0, 5.0, 9.0), 0.1, "gets worse with every step up in latent size"),
    # 1970 against 1955, 0.8% apart, each +- 20: the review's "improves with every step" case
    ((1970.0, 1955.0, 1950.0), 20.0, "does not change outside the noise with latent size (z=2: 1970 [1950, 1990]"),
    # 9 [8.9, 9.1] and 8.9 [8.8, 9] overlap, then 1 [0.9, 1.1] is apart: better at one step only
    ((9.0, 8.9, 1.0), 0.1, "changes with latent size at some steps only (z=2 to 32: within noise, "
                           "z=32 to 128: better)"),
    # 9 then 5 then 9: better, then worse
    ((9.0, 5.0, 9.0), 0.1, "changes with latent size, not in one direction (z=2 to 32: better, z=32 to 128: worse)"),
    # no intervals: no verdict, and said once, not once per step
    ((9.0, 5.0, 1.0), None, "cannot be ranked by latent size (z=2: 9, z=32: 5, z=128: 1). Not every FD here has an "
                            "interval, so no winner is named."),
])
def test_latent_trend_calls_a_step_only_outside_the_noise(fds, half, trend):
    cfgs = [c for c in grid("vae", "mnist", "quick") if c.variant == "MLP C"]     # z = 2, 32, 128
    (line,) = findings.latent_trend([fake_run(c, fd, half=half) for c, fd in zip(cfgs, fds)], "fd", "FD")
    assert line.startswith("- MLP C: FD ") and trend in line
    assert line.count("Not every FD here has an interval") <= 1
    # every step's verdict is in the line, in verdicts.sentence's words: one seed each, so provisional
    assert half is None or line.count("(one seed: provisional).") == 2


def test_latent_trend_ahead_in_every_seed_is_not_called_no_change():
    """VAE MLP A, z=50 against z=100, 3 seeds each. z=50: FD 210, 260, 310; z=100: 100, 150, 200.
    Every z=100 seed is below every z=50 seed. On log FD, z=100: ln 100, 150, 200 = 4.6052, 5.0106, 5.2983,
    mean 4.9714, sd 0.3483, half width 4.303 * 0.3483 / sqrt 3 = 0.8653 -> hi exp(5.8367) = 342.6; z=50: ln 210,
    260, 310 = 5.3471, 5.5607, 5.7366, mean 5.5481, sd 0.1951, half 0.4848 -> lo exp(5.0633) = 158.1 < 342.6:
    the seed-mean intervals overlap, so z=100 is only ahead in every seed: "lower in every seed, not established"."""
    cfgs = {c.latent_dim: c for c in grid("vae", "mnist", "quick") if c.variant == "MLP A"}
    runs = [fake_run(cfgs[z], fd, seed=s) for z, fds in ((50, (210.0, 260.0, 310.0)), (100, (100.0, 150.0, 200.0)))
            for s, fd in enumerate(fds)]
    (steps,) = findings.latent_verdicts(runs, "fd").values()
    assert steps[0].outcome is Outcome.AHEAD and steps[0].leaders == ("z=100",)
    assert steps[0].entries[1].mean.hi == pytest.approx(342.6, rel=1e-3)
    assert steps[0].entries[0].mean.lo == pytest.approx(158.1, rel=1e-3)
    assert findings.latent_trend_kind(steps) == "ahead"
    (line,) = findings.latent_trend(runs, "fd", "FD")
    assert line.startswith("- MLP A: FD is lower in every seed with every step up in latent size, not established "
                           "(z=50: 257 [158, 417], z=100: ")     # geometric mean exp(5.5481) = 256.9; hi
    # exp(5.5481 + 0.4848) = 416.9
    assert line.endswith("z=100 has the lowest FD in every seed, but the seed-mean intervals overlap, so no winner "
                         "is named (3 seeds each).")
    assert "does not change" not in line and "tie" not in line


def test_sharpness_trend_ranks_by_distance_from_one():
    cfgs = [c for c in grid("vae", "mnist", "quick") if c.variant == "MLP C"]
    runs = [fake_run(c, 1.0) for c in cfgs]
    for run, (ratio, ci) in zip(runs, [(0.5, [0.45, 0.55]), (0.9, [0.85, 1.05]), (1.5, [1.4, 1.6])]):
        run.summary.update(sharpness_ratio=ratio, sharpness_ratio_ci=ci)
    # |log|: 0.69 [0.6, 0.8], then 0.105 [0, 0.16] (its interval holds 1), then 0.41 [0.34, 0.47]
    (line,) = findings.latent_trend(runs, "sharpness_ratio", "sharpness")
    assert "not in one direction (z=2 to 32: better, z=32 to 128: worse)" in line


def test_sharpness_ranking_lets_an_interval_holding_1_reach_the_best_score():
    """1.0 [0.9, 1.1] against 1.05 [1.04, 1.06], ranked by |log r| (lower is better). The first scores 0, its
    ends |log 0.9| = 0.105 and |log 1.1| = 0.095; its interval holds r = 1, so it reaches 0: [0, 0.105]. The
    second scores |log 1.05| = 0.049 in [|log 1.04|, |log 1.06|] = [0.039, 0.058]. The two overlap: a tie.
    Without the clamp at 1 the first would be [0.095, 0.105], apart from the second and lower: "better"."""
    def verdict(a, b):
        return decide("q", "sharpness_ratio", [entry("a", "sharpness_ratio", [a]), entry("b", "sharpness_ratio", [b])])
    sharp_enough, slightly_sharp = Estimate(1.0, 0.9, 1.1), Estimate(1.05, 1.04, 1.06)
    assert verdict(sharp_enough, slightly_sharp).outcome is Outcome.TIE
    assert verdict(slightly_sharp, sharp_enough).outcome is Outcome.TIE
    # apart either way: 1.0 [0.98, 1.02] scores [0, 0.020], 1.3 [1.25, 1.35] scores [0.223, 0.300]
    assert verdict(Estimate(1.0, 0.98, 1.02), Estimate(1.3, 1.25, 1.35)).winner == "a"


def test_conv_against_mlp_ties_inside_the_noise():
    cifar = grid("gan", "cifar10", "quick")          # MLP, then DCGAN
    line = findings.conv_vs_mlp([fake_run(cifar[0], 3.0, half=1.0), fake_run(cifar[1], 2.5, half=1.0)], "fd", "FD")
    assert line == ("On FD, best conv (DCGAN, z=64) 2.5 [1.5, 3.5] against best MLP (MLP, z=100) 3 [2, 4]. Within "
                    "noise: Conv (DCGAN, z=64) and MLP (MLP, z=100) tie for the lowest FD (one seed: provisional).")
    # 2.5 [2.4, 2.6] against 3 [2.9, 3.1]: apart, the conv model wins (provisionally: one seed each)
    runs = [fake_run(cifar[0], 3.0), fake_run(cifar[1], 2.5)]
    assert findings.conv_vs_mlp(runs, "fd", "FD").endswith(
        ". Conv (DCGAN, z=64) has the lowest FD: its interval overlaps no other's (one seed: provisional).")
    v = findings.conv_mlp_verdict(runs, "fd")
    assert v.winner == "Conv (DCGAN, z=64)" and findings.conv_won(v) == 1 and v.provisional


def test_chapter_findings_ask_the_family_which_sections_it_has():
    vae = findings.chapter_findings([fake_run(c, 1.0) for c in grid("vae", "mnist", "quick")],
                                    fake_real_side("mnist"), "quick")
    assert "**Latent size against the test ELBO.**" in vae and "**Mode collapse.**" not in vae
    gan = findings.chapter_findings([fake_run(c, 1.0) for c in grid("gan", "mnist", "quick")],
                                    fake_real_side("mnist"), "quick")
    assert "**Mode collapse.**" in gan and "test ELBO" not in gan and "gradient penalty" not in gan
    assert "**Weight clipping (the WGAN paper's recipe) against the WGAN-GP recipe.**" in findings.chapter_findings(
        wgan_runs(30, 20), fake_real_side("mnist"), "quick")


def test_collapse_lines_use_the_one_rule():
    cfgs = grid("gan", "mnist", "quick")[:4]
    runs = [fake_run(cfgs[0], 5.0, covered=4, on_data=0.9, counted=0.7), fake_run(cfgs[1], 5.0, covered=9, on_data=0.8),
            fake_run(cfgs[2], 5.0, covered=1, on_data=0.2, recall=0.0),
            fake_run(cfgs[3], 5.0, covered=1, on_data=0.9, counted=0.1)]
    lines = findings.collapse_lines(runs)
    # recall 0.5 +- 0.1 and coverage 0.6 +- 0.1: fake_run's defaults
    assert lines[0] == ("- MLP A, z=100: 90% of its samples lie on the data and 70% count; they cover 4 of 10 classes "
                        "(KL to uniform 0 nats; recall 0.5 [0.4, 0.6], coverage 0.6 [0.5, 0.7]): **collapsed**, which "
                        "agrees with the reports (one seed: provisional).")
    assert lines[1].endswith("**not collapsed**, which does not reproduce the reports' collapse (one seed: provisional).")
    # one class among the few samples that count is the classifier's bias on noise, not a collapse
    assert lines[2] == ("- MLP B, z=200: 20% of its samples lie on the data and 20% count, so it is **not yet on the "
                        "data** and its collapse cannot be judged (recall 0 [-0.1, 0.1], coverage 0.6 [0.5, 0.7]).")
    # on the data but hardly ever labelled with confidence: not judged either
    assert "10% count, so it is **not yet on the data**" in lines[3]
    # the reports looked at their MLP GANs on MNIST only: a collapsed MLP WGAN is not compared with them
    wgan_mlp = fake_run(grid("wgan", "mnist", "quick")[0], 5.0, covered=2)
    assert findings.collapse_lines([wgan_mlp])[0].endswith("**collapsed**.")
    text = comparison.mlp_collapse([runs[2]])
    assert ("MLP B, z=200: not yet on the data (20% of its samples lie on the data and 20% count; recall 0 [-0.1, 0.1], "
            "coverage 0.6 [0.5, 0.7]).") in text
    assert "none is on the data yet, so this grid cannot say whether they collapse" in text


def test_clip_vs_gp_names_the_recipes_and_calls_ties():
    text = findings.clip_vs_gp_sentence(wgan_runs(30.0, 20.0))
    assert "Clipping: FD 30 [29.9, 30.1] (precision 0.5 [0.4, 0.6], recall 0.5 [0.4, 0.6]) against WGAN-GP 20 " \
           "[19.9, 20.1] (" in text
    # 20 [19.9, 20.1] and 30 [29.9, 30.1] are apart: the penalised recipe wins, provisionally (one seed each)
    assert "WGAN-GP (DC-WGAN-GP, z=64) has the lowest FD: its interval overlaps no other's (one seed: provisional)." \
        in text
    # the DC-WGAN row trains as the conv report did (RMSprop 2e-4, batch 128); WGAN-GP as Gulrajani et al. (batch 64)
    assert ("differ in four things at once: weights clipped to ±0.01, rmsprop at 0.0002, a critic with batch "
            "normalisation against a gradient penalty of weight 10, adam at 0.0001, betas (0, 0.9), a critic with "
            "layer normalisation and batches of 128 against 64 images") in text
    assert "belongs to the recipe, not to the penalty alone" in text
    assert findings.clip_gp_verdict(wgan_runs(12.0, 20.0)).winner == "Clipping (DC-WGAN, z=64)"
    # 20.05 [19.95, 20.15] overlaps 20 [19.9, 20.1]: a tie
    assert ("Within noise: WGAN-GP (DC-WGAN-GP, z=64) and Clipping (DC-WGAN, z=64) tie for the lowest FD (one seed: "
            "provisional).") in findings.clip_vs_gp_sentence(wgan_runs(20.05, 20.0))
    text = findings.clip_vs_gp_sentence(wgan_runs(12.0, None, gp_status="diverged"))
    assert "DC-WGAN-GP, z=64 has no sample metrics (diverged), so the two cannot be compared here." in text
    runs = wgan_runs(12.0, 20.0)
    runs[3].yardstick = {"unmeasurable": "too degenerate"}
    assert "DC-WGAN-GP, z=64 has no sample metrics (unmeasurable), so" in findings.clip_vs_gp_sentence(runs)


def test_clip_vs_gp_reports_both_critics_gradient_norms():
    runs = wgan_runs(30.0, 20.0)
    runs[2].summary.update(critic_grad_norm=0.02, critic_grad_norm_ci=[0.018, 0.022])
    runs[3].summary.update(critic_grad_norm=1.01, critic_grad_norm_ci=[0.97, 1.05])
    text = findings.clip_vs_gp_sentence(runs)
    assert "the clipped critic's mean gradient norm is 0.02 [0.018, 0.022] and the penalised critic's " \
           "1.01 [0.97, 1.05]" in text


def test_equal_budget_verdict_takes_each_family_nearest_the_smallest_budget():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    runs = [fake_run(gan, 10.0, generator_images=120000, curve=[(1, 40000, 30.0), (2, 80000, 15.0), (3, 120000, 10.0)]),
            fake_run(wgan, 20.0, generator_images=24000, curve=[(1, 8000, 60.0), (2, 16000, 30.0), (3, 24000, 20.0)])]
    text = comparison.equal_budget_verdict(runs, "mnist")
    # the budget is the WGAN's 24,000; the GAN's nearest point in log scale is epoch 1 (40,000)
    assert "The smallest budget among these runs is 24,000 images through the generator" in text
    # 3 epochs each: 120,000 / 3 and 24,000 / 3
    assert "per epoch, these generators were updated on GAN (MLP A, z=100) 40,000; WGAN (MLP A, z=100) 8,000 images" in text
    assert "GAN (MLP A, z=100) after epoch 1 (40,000 images): FD 30 [29.9, 30.1]" in text
    assert "WGAN (MLP A, z=100) after epoch 3 (24,000 images): FD 20 [19.9, 20.1]" in text
    assert "WGAN (MLP A, z=100) has the lowest FD: its interval overlaps no other's (one seed: provisional)." in text
    assert "these budgets still differ by up to 1.7×" in text                 # 40,000 / 24,000
    # at the end of training the GAN leads: the two questions can answer differently
    assert "GAN (MLP A, z=100) has the lowest FD" in comparison.dataset_verdict(runs, fake_real_side("mnist"))


def test_equal_budget_verdict_names_the_seed_mean_only_where_there_was_one():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    runs = [fake_run(gan, 10.0, seed=0, generator_images=120000, curve=[(1, 40000, 30.0), (3, 120000, 10.0)]),
            fake_run(gan, 12.0, seed=1, generator_images=120000, curve=[(1, 40000, 34.0), (3, 120000, 12.0)]),
            fake_run(wgan, 20.0, generator_images=24000, curve=[(1, 8000, 60.0), (3, 24000, 20.0)])]
    text = comparison.equal_budget_verdict(runs, "mnist")
    # GAN epoch 1 over 2 seeds, on log FD: ln 30 = 3.4012, ln 34 = 3.5264, mean 3.4638 (geometric mean
    # sqrt(30 * 34) = 31.94), sd 0.0885, half width 12.706 * 0.0885 / sqrt(2) = 0.7952: exp(3.4638 -+ 0.7952)
    assert ("GAN (MLP A, z=100) after epoch 1 (40,000 images, the geometric mean of 2 seeds with its interval): "
            "FD 31.9 [14.4, 70.7]") in text
    assert "WGAN (MLP A, z=100) after epoch 3 (24,000 images): FD 20 [19.9, 20.1]" in text    # one seed: no such note
    # the GAN's second seed unmeasurable: its point rests on seed 0 alone, with seed 0's own interval and no note
    runs[1].yardstick = {"unmeasurable": "16 of its 16 samples hold NaN or infinite pixels"}
    assert "GAN (MLP A, z=100) after epoch 1 (40,000 images): FD 30 [29.9, 30.1]" in \
        comparison.equal_budget_verdict(runs, "mnist")


def test_the_still_improving_sentence():
    cfg = grid("gan", "mnist", "quick")[0]
    falling = fake_run(cfg, 10.0, curve=[(1, 100, 20.0), (3, 300, 10.0)])
    assert ("1 run of 1 was **still improving** at the end (FD fell outside the noise between the last two "
            "measurements): MLP A, z=100 (FD 20 [19.9, 20.1] then 10 [9.9, 10.1]).") in findings.improving_sentence([falling])
    flat = fake_run(cfg, 10.0, curve=[(1, 100, 10.05), (3, 300, 10.0)])
    assert "No run's FD fell outside the noise between its last two measurements (1 runs measured twice" in \
        findings.improving_sentence([flat])
    # measured once (a one-epoch run): neither converged nor improving
    once = fake_run(cfg, 10.0, curve=[(1, 100, 10.0)])
    assert "No run was measured twice over training" in findings.improving_sentence([once])
    assert "measurements): GAN (MLP A, z=100) on MNIST (FD 20" in findings.improving_sentence([falling], with_family=True)


def test_verdicts_name_no_winner_without_intervals_or_rivals():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    assert "Only GAN (MLP A, z=100) is here, so there is nothing to rank." in comparison.dataset_verdict(
        [fake_run(gan, 10.0)], fake_real_side("mnist"))
    text = comparison.dataset_verdict([fake_run(gan, 10.0, half=None), fake_run(wgan, 50.0)], fake_real_side("mnist"))
    assert "Not every FD here has an interval, so no winner is named." in text


@pytest.mark.parametrize("sample, test, verdict", [
    (1.0, 4.0, "much closer to the training set than unseen real images are, a sign of copying"),       # ratio 0.25
    (3.0, 4.0, "closer to the training set than unseen real images are, though not by half: not counted as "
               "copying"),                                                                                 # 0.75
    (3.8, 4.0, "no closer to the training set than unseen real images are: no sign of copying"),          # 0.95
])
def test_memorization_sentence_compares_with_test_images(sample, test, verdict):
    run = wgan_runs(30.0, 20.0)[2]
    # 50 of 5000 samples below the test images' 1st percentile (0.25): Wilson [0.0076, 0.0132] (worked out in
    # tests/test_kid.py), whose low end is below 1%: no sign in the tail
    tail = weights.LowerTail(0.25, 50, 5000, 5000, (0.0076, 0.0132))
    found = weights.NearestTraining(run, torch.zeros(1), torch.zeros(1), torch.zeros(1), sample, test, tail)
    text = comparison.memorization_sentence(found)
    assert text == (f"WGAN DC-WGAN, z=64: the median distance from a sample to its nearest training image is "
                    f"{sample:g}, against {test:g} for real test images (ratio {sample / test:.2f}); its samples "
                    f"are {verdict}. In the lower tail, 1.0% [0.8%, 1.3%] of its 5000 samples lie nearer to a "
                    f"training image than the nearest 1% of 5000 real test images do (distance 0.25; about 1% "
                    f"expected without copying): no sign that a few training images are copied.")


@pytest.mark.parametrize("module", [findings, comparison], ids=lambda m: m.__name__)
def test_prose_imports_nothing_that_loads_trains_or_measures(module):
    """The prose modules take numbers: from the library they import only names and types, never a loader."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    shared = {name for name in dir(findings) if callable(getattr(findings, name)) and not name.startswith("_")
              and getattr(findings, name).__module__ == findings.__name__}         # findings' own sentences
    assert imported <= {
        ("__future__", "annotations"), (None, "families"), ("config", "DATASETS"), ("data", "DATASET_TITLES"),
        ("results", "Run"), ("yardstick", "RealSide"), ("tables", "wrapped"), ("grid", "reports_trained"), ("runsets", "FLOOR_SPAN_MAX"), ("runsets", "average_seeds"), ("runsets", "best_per_family"),
        ("runsets", "complete"), ("runsets", "config_key"), ("runsets", "first_seed"), ("runsets", "estimate"),
        ("runsets", "nearest_point"), ("runsets", "point_estimate"), ("runsets", "still_improving"),
        ("runsets", "seed_range"), ("runsets", "seeds_measured"), ("runsets", "unmeasurable"), ("runsets", "value"),
        ("runsets", "variant_pair"), ("runsets", "seed_estimates"), ("runsets", "fd_over_floor"),
        # the verdicts: the one rule and its words (pure), and a dataclass for a verdict's budget
        ("verdicts", "HIGHER_IS_BETTER"), ("verdicts", "Entry"), ("verdicts", "Outcome"), ("verdicts", "Verdict"),
        ("verdicts", "decide"), ("verdicts", "entry"), ("verdicts", "numbers"), ("verdicts", "seeds_phrase"),
        ("verdicts", "sentence"), ("findings", "TRENDS"), ("dataclasses", "dataclass"),
        ("grid", "seeds"), ("grid", "fewest_seeds"), ("grid", "row_seeds"),      # a profile's seed counts: constants
        ("grid", "DATASET_SIZES"),                                                # of the grid
        # the collapse rule's constants, and the pure interval arithmetic
        ("yardstick", "COLLAPSE_STATES"), ("yardstick", "COLLAPSED_MAX"), ("yardstick", "CONFIDENT"),
        ("yardstick", "COUNTED_MIN"), ("yardstick", "ON_DATA_FRACTION"), ("yardstick", "COUNTED_FRACTION"),
        ("yardstick", "ON_DATA_MIN"), ("intervals", "Estimate"), ("intervals", "fmt"),
        ("intervals", "show")} | {
        ("findings", name) for name in shared}, imported
    plain = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert plain <= {"math", "pandas"}, plain          # pandas: the answers table is a DataFrame


def test_prose_is_pure(monkeypatch):
    """The prose functions never load, train or measure: with every loader broken, they still answer."""
    import gen_core.report.session as session
    import gen_core.report.weights as weights_module
    import gen_core.results as results
    import gen_core.runs as runs_module
    import gen_core.yardstick as yardstick

    for module, names in ((results, ("load_or_train", "load_run", "train_and_save")),
                          (runs_module, ("measured_run", "real_side", "retrain", "run_models")),
                          (session, ("measured_run", "real_side", "run_models", "chapter_runs", "all_runs")),
                          (weights_module, ("nearest_training", "run_models", "interpolations")),
                          (yardstick, ("measure_run", "build_real_side", "load_models"))):
        for name in names:
            monkeypatch.setattr(module, name, lambda *a, _name=name, **k: pytest.fail(f"prose called {_name}"))
    runs = wgan_runs(30.0, 20.0) + [fake_run(c, 5.0) for c in grid("gan", "cifar10", "quick")]
    real_sides = {ds: fake_real_side(ds) for ds in ("mnist", "cifar10")}
    assert findings.chapter_findings(wgan_runs(30.0, 20.0), real_sides["mnist"], "quick")
    assert comparison.comparison_findings(runs, real_sides, "quick")


def _sharp(run, ratio, half=0.01):
    run.summary.update(sharpness_ratio=ratio, sharpness_ratio_ci=[ratio - half, ratio + half])
    return run


def test_settings_sentence_names_the_rows_at_the_reports_widths_and_how_far_the_others_are():
    from gen_core.grid import reports_config
    configs = grid("gan", "mnist", "long")
    text = findings.settings_sentence("long", [(c, reports_config(c)) for c in configs])
    # by hand: the reports' DCGAN generator is 512-256-128-64 channels; long caps the widest at 64, so / 8
    assert text == ("**Against the reports' settings.** The `long` profile trains these runs on all 60,000 MNIST "
                    "training images, for the reports' 15 epochs. MLP A and MLP B run at the reports' widths; DCGAN "
                    "is narrower, about 1/8 of the reports' widths (generator/encoder channels 512-256-128-64 → "
                    "64-32-16-8, discriminator/critic channels 64-128-256-512 → 8-16-32-64).")
    quick = grid("vae", "mnist", "quick")[0]
    assert "for 3 epochs (the reports: 15)" in findings.settings_sentence("quick", [(quick, reports_config(quick))])
    wide = override(configs[0], hidden=(256, 512, 1024, 2048))          # widened by PARAMS overrides
    assert findings.settings_sentence("long", [(wide, reports_config(wide))]).endswith(
        "MLP A is wider, about 2x the reports' widths (generator/encoder hidden layers 128-256-512-1024 → "
        "256-512-1024-2048).")
    mixed = override(configs[0], hidden=(64, 256, 512, 2048), d_hidden=(256, 128))
    assert "MLP A has other widths than the reports' (generator/encoder hidden layers" in \
        findings.settings_sentence("long", [(mixed, reports_config(mixed))])
    assert findings.settings_sentence("long", []) == ""
