"""The prose: pure functions of hand-made runs and stub real sides, checked word for word."""
from __future__ import annotations

import pytest
import torch

from conftest import fake_real_side
from conftest import fake_run
from gen_core.grid import grid, override
from gen_core.report import comparison, findings, weights
from gen_core.report.intervals import Estimate
from report.test_runsets import wgan_runs


def test_comparison_prose_quotes_the_numbers_and_flags_a_weak_classifier():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    cifar = grid("gan", "cifar10", "quick")
    runs = [fake_run(gan, 12.5, covered=4, recall=0.03), fake_run(wgan, 40.0),
            fake_run(cifar[0], 3.0), fake_run(cifar[1], 1.5)]
    real_sides = {ds: fake_real_side(ds) for ds in ("mnist", "cifar10")}
    text = comparison.comparison_findings(runs, real_sides, "quick")
    # 12.5 +- 0.1 and 40 +- 0.1 do not overlap: a winner, with both numbers and their intervals
    assert "GAN (MLP A, z=100) has the lowest FD, and its interval overlaps no other's." in text
    assert "GAN (MLP A, z=100): FD 12.5 [12.4, 12.6] (6.25 × the floor)" in text          # 12.5 / 2
    assert "WGAN (MLP A, z=100): FD 40 [39.9, 40.1] (20 × the floor)" in text
    assert "MLP A, z=100: collapsed (100% of its samples lie on the data and 100% count; they cover 4 classes)" in text
    assert "1 run collapsed, which agrees with the reports' collapse onto 3 or 4 digits" in text
    assert "once (seed 0)" in text and "leaves out seed-to-seed variation" in text
    # CIFAR-10's stub classifier is below its floor: red, and the ranking is hedged
    assert '<span style="color:#c00"><b>Below its floor:</b>' in text
    assert "this ranking is a hint, not a verdict" in text
    # conv (DCGAN, FD 1.5) beats the MLP (FD 3) on CIFAR-10, outside the noise
    assert "lower FD outside the noise in 1 of 1 families" in text
    assert "Each configuration ran once, so seed-to-seed variation is not measured here" in text


def test_no_family_wins_when_the_intervals_overlap():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    # 12.4 +- 1 = [11.4, 13.4] and 12.7 +- 1 = [11.7, 13.7] overlap: the review's "GAN leads" case
    runs = [fake_run(gan, 12.4, half=1.0), fake_run(wgan, 12.7, half=1.0)]
    text = comparison.dataset_verdict(runs, fake_real_side("mnist"))
    assert ("Within noise: GAN (MLP A, z=100) and WGAN (MLP A, z=100) tie for the lowest FD (their intervals "
            "overlap).") in text
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
    assert ("Every configuration ran with 2 seeds; tables show the seed mean ± the seeds' standard deviation and, "
            "in brackets, the 95% interval of the mean, which stays in the measure's range: FD's mean is geometric, "
            "its interval taken on log FD; shares stay in [0, 1]; classes covered get none. The quick profile trains 1 seed per configuration; the others were found "
            "in the runs folder (`python -m gen_core --seeds N` trains them, here or on a cluster).") in text


def test_seed_sentence_says_when_configurations_have_different_counts_and_when_none_were_found():
    assert findings.seeds_sentence("quick", 3, 1) == (
        "Every configuration ran with 1 to 3 seeds (the seeds column gives each); tables show the seed mean ± the "
        "seeds' standard deviation and, in brackets, the 95% interval of the mean, which stays in the measure's "
        "range: FD's mean is geometric, its interval taken on log FD; shares stay in [0, 1]; classes covered get "
        "none. The quick profile trains 1 seed per "
        "configuration; the others were found in the runs folder (`python -m gen_core --seeds N` trains them, "
        "here or on a cluster).")
    assert findings.seeds_sentence("long", 5, 3).endswith(
        "The long profile trains 3 seeds per configuration; the others were found in the runs folder "
        "(`python -m gen_core --seeds N` trains them, here or on a cluster).")
    assert findings.seeds_sentence("long", 2, 1).endswith("classes covered get none.")   # nothing found
    assert findings.seeds_sentence("full", 3) == (          # full trains 3 itself: nothing was found
        "Every configuration ran with 3 seeds; tables show the seed mean ± the seeds' standard deviation and, in "
        "brackets, the 95% interval of the mean, which stays in the measure's range: FD's mean is geometric, its "
        "interval taken on log FD; shares stay in [0, 1]; classes covered get none.")
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
    ((9.0, 8.9, 1.0), 0.1, "changes with latent size, not in one direction (z=2 to 32: within noise, "
                           "z=32 to 128: better)"),
    ((9.0, 5.0, 1.0), None, "does not change outside the noise"),       # no intervals: no verdict
])
def test_latent_trend_calls_a_step_only_outside_the_noise(fds, half, trend):
    cfgs = [c for c in grid("vae", "mnist", "quick") if c.variant == "MLP C"]     # z = 2, 32, 128
    (line,) = findings.latent_trend([fake_run(c, fd, half=half) for c, fd in zip(cfgs, fds)], "fd", "FD")
    assert line.startswith("- MLP C: FD ") and trend in line


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
    sharp_enough, slightly_sharp = Estimate(1.0, 0.9, 1.1), Estimate(1.05, 1.04, 1.06)
    assert findings.ranked(sharp_enough, slightly_sharp, "sharpness_ratio") == 0
    assert findings.ranked(slightly_sharp, sharp_enough, "sharpness_ratio") == 0
    # apart either way: 1.0 [0.98, 1.02] scores [0, 0.020], 1.3 [1.25, 1.35] scores [0.223, 0.300]
    assert findings.ranked(Estimate(1.0, 0.98, 1.02), Estimate(1.3, 1.25, 1.35), "sharpness_ratio") == -1


def test_conv_against_mlp_ties_inside_the_noise():
    cifar = grid("gan", "cifar10", "quick")          # MLP, then DCGAN
    line = findings.conv_vs_mlp([fake_run(cifar[0], 3.0, half=1.0), fake_run(cifar[1], 2.5, half=1.0)], "fd", "FD")
    assert line == ("On FD, the convolutional model and the MLP tie within noise: best conv (DCGAN, z=64) "
                    "2.5 [1.5, 3.5] against best MLP (MLP, z=100) 3 [2, 4].")
    line = findings.conv_vs_mlp([fake_run(cifar[0], 3.0), fake_run(cifar[1], 2.5)], "fd", "FD")
    assert line.startswith("On FD, the convolutional model is better:")


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
    assert lines[0] == ("- MLP A, z=100: 90% of its samples lie on the data and 70% count; they cover 4 of 10 classes "
                        "(KL to uniform 0 nats): **collapsed**, which agrees with the reports.")
    assert lines[1].endswith("**not collapsed**, which does not reproduce the reports' collapse.")
    # one class among the few samples that count is the classifier's bias on noise, not a collapse
    assert lines[2] == ("- MLP B, z=200: 20% of its samples lie on the data and 20% count, so it is **not yet on the "
                        "data** and its collapse cannot be judged (recall 0 [-0.1, 0.1]).")
    # on the data but hardly ever labelled with confidence: not judged either
    assert "10% count, so it is **not yet on the data**" in lines[3]
    # the reports looked at their MLP GANs on MNIST only: a collapsed MLP WGAN is not compared with them
    wgan_mlp = fake_run(grid("wgan", "mnist", "quick")[0], 5.0, covered=2)
    assert findings.collapse_lines([wgan_mlp])[0].endswith("**collapsed**.")
    text = comparison.mlp_collapse([runs[2]])
    assert "MLP B, z=200: not yet on the data (20% of its samples lie on the data and 20% count)." in text
    assert "none is on the data yet, so this grid cannot say whether they collapse" in text


def test_clip_vs_gp_names_the_recipes_and_calls_ties():
    text = findings.clip_vs_gp_sentence(wgan_runs(30.0, 20.0))
    assert "The WGAN-GP recipe gives the lower FD: clipping 30 [29.9, 30.1] (" in text
    assert "against WGAN-GP 20 [19.9, 20.1] (" in text
    # the DC-WGAN row trains as the conv report did (RMSprop 2e-4, batch 128); WGAN-GP as Gulrajani et al. (batch 64)
    assert ("differ in four things at once: weights clipped to ±0.01, rmsprop at 0.0002, a critic with batch "
            "normalisation against a gradient penalty of weight 10, adam at 0.0001, betas (0, 0.9), a critic with "
            "layer normalisation and batches of 128 against 64 images") in text
    assert "belongs to the recipe, not to the penalty alone" in text
    assert "Weight clipping gives the lower FD: clipping 12 [" in findings.clip_vs_gp_sentence(wgan_runs(12.0, 20.0))
    assert "Their FDs tie within noise" in findings.clip_vs_gp_sentence(wgan_runs(20.05, 20.0))
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
    assert "WGAN (MLP A, z=100) has the lowest FD, and its interval overlaps no other's." in text
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


def test_seed_effects_and_still_improving_sentences():
    cfg = grid("gan", "mnist", "quick")[0]
    apart = [fake_run(cfg, fd, seed=s) for s, fd in enumerate((10.0, 12.0))]          # +- 0.1: apart
    assert "In 1 of 1 configurations with several seeds, two seeds' FDs differ outside" in \
        comparison.seed_effects(apart)
    close = [fake_run(cfg, fd, seed=s, half=2.0) for s, fd in enumerate((10.0, 12.0))]
    assert "In 0 of 1 configurations" in comparison.seed_effects(close)
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
    (1.0, 4.0, "closer to the training set than unseen real images are, a sign of copying"),
    (3.0, 4.0, "no closer to the training set than unseen real images are: no sign of copying"),
])
def test_memorization_sentence_compares_with_test_images(sample, test, verdict):
    run = wgan_runs(30.0, 20.0)[2]
    found = weights.NearestTraining(run, torch.zeros(1), torch.zeros(1), torch.zeros(1), sample, test)
    text = comparison.memorization_sentence(found)
    assert text == (f"WGAN DC-WGAN, z=64: the median distance from a sample to its nearest training image is "
                    f"{sample:g}, against {test:g} for real test images (ratio {sample / test:.2f}); its samples "
                    f"are {verdict}.")


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
        ("results", "Run"), ("yardstick", "RealSide"), ("runsets", "average_seeds"), ("runsets", "best_per_family"),
        ("runsets", "complete"), ("runsets", "config_key"), ("runsets", "first_seed"), ("runsets", "estimate"),
        ("runsets", "nearest_point"), ("runsets", "point_estimate"), ("runsets", "still_improving"),
        ("runsets", "seed_range"), ("runsets", "seeds_measured"), ("runsets", "unmeasurable"), ("runsets", "value"),
        ("runsets", "variant_pair"),
        ("grid", "seeds"), ("grid", "fewest_seeds"), ("grid", "row_seeds"),      # a profile's seed counts: constants
        ("grid", "DATASET_SIZES"),                                                # of the grid
        # the collapse rule's constants, and the pure interval arithmetic
        ("yardstick", "COLLAPSE_STATES"), ("yardstick", "COLLAPSED_MAX"), ("yardstick", "CONFIDENT"),
        ("yardstick", "COUNTED_MIN"),
        ("yardstick", "ON_DATA_MIN"), ("intervals", "Estimate"), ("intervals", "compare"), ("intervals", "fmt"),
        ("intervals", "leaders"), ("intervals", "scored"), ("intervals", "show")} | {
        ("findings", name) for name in shared}, imported
    plain = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert plain <= {"math"}, plain


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


def test_against_the_reports_point_by_point():
    vae = {(c.variant, c.latent_dim): c for c in grid("vae", "mnist", "quick")}
    gan = grid("gan", "mnist", "quick")
    wgan = {c.variant: c for c in grid("wgan", "mnist", "quick")}
    cifar = grid("gan", "cifar10", "quick")
    runs = [
        # MLP C sharpens with z (0.5, 0.7, 0.9: each nearer 1, intervals +-0.01 apart); MLP A does not change
        _sharp(fake_run(vae[("MLP C", 2)], 30.0), 0.5), _sharp(fake_run(vae[("MLP C", 32)], 30.0), 0.7),
        _sharp(fake_run(vae[("MLP C", 128)], 30.0), 0.9),
        _sharp(fake_run(vae[("MLP A", 50)], 30.0), 0.9), _sharp(fake_run(vae[("MLP A", 100)], 30.0), 0.9),
        fake_run(gan[0], 12.5, covered=4),                          # the MLP GAN collapsed onto 4 classes
        fake_run(wgan["MLP A"], 40.0),
        fake_run(wgan["DC-WGAN-GP"], 5.0),                          # beyond the reports: left out of point 4
        fake_run(cifar[0], 3.0), fake_run(cifar[1], 1.5),            # CIFAR-10: the DCGAN beats the MLP
    ]
    lines = comparison.against_reports(runs)
    assert lines[0] == "**Against the reports, point by point.**"
    text = "\n".join(lines)
    assert ("In 1 of 2 architectures with several latent sizes it improves outside the noise with every step up in "
            "z and in 1 it does not change outside the noise. Where a larger latent makes samples sharper") in text
    assert ("2. **MLP GAN collapse.** The reports saw their MNIST MLP GAN produce only 3 or 4 digit classes. By the "
            "one collapse rule, 1 run collapsed, which agrees with the reports' collapse onto 3 or 4 digits.") in text
    assert "the convolutional model has the lower FD outside the noise in 1 of 1 family, which agrees with the " \
           "reports (the numbers" in text
    assert ("on MNIST, GAN (MLP A, z=100) FD 12.5 [12.4, 12.6], WGAN (MLP A, z=200) FD 40 [39.9, 40.1]. GAN (MLP A, "
            "z=100) has the lowest FD, and its interval overlaps no other's.") in text
    assert "DC-WGAN-GP" not in text.split("4. ")[1]
    # no MLP GAN on the data and convolution losing: the evidence says otherwise, in words
    runs[5] = fake_run(gan[0], 12.5, on_data=0.1)
    runs[-1] = fake_run(cifar[1], 6.0)
    text = "\n".join(comparison.against_reports(runs))
    assert "none is on the data yet, so this grid cannot say whether they collapse" in text
    assert "outside the noise in 0 of 1 family and the MLP in 1, which says otherwise: the MLPs did as well or " \
           "better" in text
    runs[-1] = fake_run(cifar[1], 3.0)                            # a tie is not a contradiction
    text = "\n".join(comparison.against_reports(runs))
    assert "outside the noise in 0 of 1 family and 1 is a tie within noise, so this run cannot tell" in text
    # no architecture sharpens: the zero counts drop out of the tally
    runs[2] = _sharp(fake_run(vae[("MLP C", 128)], 30.0), 0.6)                     # 0.5, 0.7, 0.6: not monotone
    runs[4] = _sharp(fake_run(vae[("MLP A", 100)], 30.0), 0.7)                     # 0.9 then 0.7: worse
    text = "\n".join(comparison.against_reports(runs))
    assert ("In 0 of 2 architectures with several latent sizes it improves outside the noise with every step up in "
            "z, in 1 it gets worse and in 1 it is not monotone. No architecture got sharper with every step up in "
            "z, so here the evidence does not support reading larger latents as sharper.") in text
    # every architecture flat: a tie, not a contradiction
    runs[1] = _sharp(fake_run(vae[("MLP C", 32)], 30.0), 0.5)
    runs[2] = _sharp(fake_run(vae[("MLP C", 128)], 30.0), 0.5)
    runs[4] = _sharp(fake_run(vae[("MLP A", 100)], 30.0), 0.9)
    text = "\n".join(comparison.against_reports(runs))
    assert ("In 0 of 2 architectures with several latent sizes it improves outside the noise with every step up in "
            "z and in 2 it does not change outside the noise. So this run cannot tell.") in text
    assert comparison.against_reports([]) == []


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
