"""Questions over sets of hand-made runs: seed averaging, a run's numbers, best runs, pairs."""
from __future__ import annotations

import math

import pytest

from conftest import fake_run
from gen_core.grid import grid
from gen_core.report import runsets, tables


def wgan_runs(fd_clip, fd_gp, gp_status="complete"):
    rows = {c.variant + str(c.latent_dim): c for c in grid("wgan", "mnist", "quick")}
    clipped, gp = rows["DC-WGAN64"], rows["DC-WGAN-GP64"]
    return [fake_run(rows["MLP A100"], 50.0), fake_run(rows["DC-WGAN256"], 10.0), fake_run(clipped, fd_clip),
            fake_run(gp, fd_gp, status=gp_status)]


def test_average_seeds_gives_mean_and_sample_std():
    """Three seeds with FD 1, 2, 6. FD is positive, so its seed mean is geometric: (1 * 2 * 6)^(1/3) = 2.289,
    and its interval is taken on log FD: logs 0, 0.6931, 1.7918, mean 0.8283, sd 0.9035, half width
    t(0.975, 2) 0.9035 / sqrt(3) = 4.303 * 0.5216 = 2.2446, so exp(0.8283 -+ 2.2446) = [0.243, 21.6]: never
    below 0, where the t interval on FD itself (3 +- 6.57) reached -3.57. The seeds' sample
    std (kept under summary["std"]) is sqrt(((-2)^2 + (-1)^2 + 3^2) / 2) = sqrt(7)."""
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, fd, seed=s) for s, fd in enumerate((1.0, 2.0, 6.0))]
    (avg,) = runsets.average_seeds(runs)
    assert avg.yardstick["fd"] == pytest.approx(12 ** (1 / 3))
    assert avg.summary["std"]["fd"] == pytest.approx(math.sqrt(7))
    assert avg.summary["train_seconds"] == pytest.approx(11.0)          # 10, 11, 12: not a measure, arithmetic
    assert avg.summary["seeds"] == 3 and avg.summary["seeds_diverged"] == 0
    assert tables.cell(avg, "fd") == "2.29 [0.243, 21.6]"
    e = runsets.estimate(avg, "fd")
    assert (e.lo, e.hi) == pytest.approx((0.2426, 21.604), abs=1e-3)
    assert runsets.seed_range(runs) == (3, 3)


def test_shares_stay_in_zero_one_and_counts_get_no_t_interval():
    """Recall 0.1 and 0.3 over 2 seeds: mean 0.2, sd 0.1414, t interval 0.2 +- 12.706 * 0.1 = [-1.07, 1.47],
    cut to [0, 1]. Classes covered 9 and 10: the mean 9.5 and no interval (the t one was [3.1, 16])."""
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, 5.0, seed=0, recall=0.1, covered=9), fake_run(cfg, 5.0, seed=1, recall=0.3, covered=10)]
    (avg,) = runsets.average_seeds(runs)
    recall = runsets.estimate(avg, "recall")
    assert recall.value == pytest.approx(0.2) and (recall.lo, recall.hi) == (0.0, 1.0)
    covered = runsets.estimate(avg, "classes_covered")
    assert covered.value == pytest.approx(9.5) and not covered.has_interval
    assert avg.summary["seed_values"]["classes_covered"] == [9, 10]


def test_average_seeds_skips_diverged_seeds_and_says_so():
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, 4.0, seed=0), fake_run(cfg, None, seed=1, status="diverged"), fake_run(cfg, 8.0, seed=2)]
    (avg,) = runsets.average_seeds(runs)
    assert avg.yardstick["fd"] == pytest.approx(math.sqrt(32))        # geometric: sqrt(4 * 8)
    assert tables.status(avg) == "complete (1 of 3 seeds diverged)"


def test_one_seed_per_configuration_is_left_alone():
    runs = [fake_run(cfg, 1.0) for cfg in grid("vae", "mnist", "quick")]
    assert runsets.average_seeds(runs) == runs
    assert tables.cell(runs[0], "fd") == "1 [0.9, 1.1]"            # its own bootstrap interval
    assert runsets.seed_range(runs) == (1, 1) and runsets.seed_range([]) == (0, 0)


def test_value_reads_yardstick_keys_from_the_yardstick_only():
    run = fake_run(grid("gan", "mnist", "quick")[0], 5.0, covered=7)
    run.summary["classes_covered"] = 3          # a summary key of the same name must not shadow the yardstick's
    assert runsets.value(run, "classes_covered") == 7
    assert runsets.value(run, "test_neg_elbo") == 100.0


def test_seed_means_leave_out_unmeasurable_seeds_like_diverged_ones():
    """FD 4, unmeasurable, diverged, 8: the geometric mean of the two measured seeds is sqrt(32) = 5.657,
    their sd sqrt(8), and the interval rests on n = 2, on log FD: logs 1.3863 and 2.0794, mean 1.7329,
    sd 0.4901, half width 12.706 * 0.4901 / sqrt(2) = 4.4036: exp(1.7329 -+ 4.4036) = [0.0692, 462.4]."""
    cfg = grid("gan", "mnist", "quick")[0]
    lost = fake_run(cfg, None, seed=1)
    lost.yardstick = {"unmeasurable": "16 of its 16 samples hold NaN or infinite pixels"}
    runs = [fake_run(cfg, 4.0, seed=0), lost, fake_run(cfg, None, seed=2, status="diverged"),
            fake_run(cfg, 8.0, seed=3)]
    (avg,) = runsets.average_seeds(runs)
    assert avg.yardstick["fd"] == pytest.approx(math.sqrt(32)) and avg.summary["std"]["fd"] == pytest.approx(math.sqrt(8))
    assert avg.summary["train_seconds"] == pytest.approx(11.5)           # 10 + seed: seeds 0 and 3 only
    assert (avg.summary["seeds"], avg.summary["seeds_diverged"], avg.summary["seeds_unmeasurable"]) == (4, 1, 1)
    e = runsets.estimate(avg, "fd")
    assert (e.lo, e.hi) == pytest.approx((0.0692, 462.40), abs=0.01)
    assert runsets.unmeasurable(lost) and runsets.complete(runs) == [runs[0], runs[3]]
    assert runsets.best_run(runs) is runs[0]                              # seed 0 measured: its samples
    assert runsets.best_run([lost, runs[3]]) is runs[3]                   # seed 1 unmeasurable: the next one


def test_best_per_family_and_collapse_extremes():
    gans = grid("gan", "mnist", "quick")
    vae = grid("vae", "mnist", "quick")[0]
    runs = [fake_run(gans[0], 30.0, kl=0.1), fake_run(gans[1], 10.0, kl=2.0), fake_run(vae, 50.0, kl=0.5),
            fake_run(gans[2], None, status="diverged")]
    best = runsets.best_per_family(runs, "mnist")
    assert [(r.config.family, r.yardstick["fd"]) for r in best] == [("vae", 50.0), ("gan", 10.0)]
    most, least = runsets.collapse_extremes(runs)
    assert most.yardstick["kl_to_uniform"] == 2.0 and least.yardstick["kl_to_uniform"] == 0.1
    # a run not yet on the data has an empty histogram (KL 0): it is not "the most even"
    off = fake_run(grid("gan", "mnist", "quick")[3], 40.0, kl=0.0, on_data=0.1)
    assert runsets.collapse_extremes(runs + [off])[1].yardstick["kl_to_uniform"] == 0.1


def test_variant_pair_is_clipping_and_the_penalty_at_the_same_latent_size():
    pair = runsets.variant_pair(wgan_runs(30.0, 20.0))
    assert [(r.config.variant, r.config.latent_dim) for r in pair] == [("DC-WGAN", 64), ("DC-WGAN-GP", 64)]
    assert (pair[0].config.channels, pair[0].config.d_channels) == (pair[1].config.channels, pair[1].config.d_channels)
    assert runsets.variant_pair(wgan_runs(30.0, 20.0)[:3]) == []
    # a family that compares no pair of variants
    assert runsets.variant_pair([fake_run(c, 1.0) for c in grid("gan", "mnist", "quick")]) == []


def test_best_run_is_the_lowest_fd_seed_zero():
    runs = wgan_runs(30.0, 5.0)
    assert runsets.best_run(runs).config.variant == "DC-WGAN-GP"
    assert runsets.best_run([r for r in runs if r.config.variant == "MLP A"]).config.label == "MLP A, z=100"
    assert runsets.best_run([fake_run(grid("gan", "mnist", "quick")[0], None, status="diverged")]) is None


def test_best_run_ranks_configurations_by_their_seed_mean():
    a, b = grid("gan", "mnist", "quick")[:2]
    # a: seeds 3 and 9 (geometric mean sqrt(27) = 5.2); b: seeds 4 and 4 (mean 4). a's seed 0 alone would win.
    runs = [fake_run(a, 3.0, seed=0), fake_run(a, 9.0, seed=1), fake_run(b, 4.0, seed=0), fake_run(b, 4.0, seed=1)]
    best = runsets.best_run(runs)
    assert (best.config.label, best.config.seed) == (b.label, 0)


def test_memorization_candidates_are_the_best_adversarial_run_and_the_best_vae_per_dataset():
    vae = [fake_run(c, fd) for c, fd in zip(grid("vae", "mnist", "quick"), (9, 3, 7, 8, 9, 9))]
    gans = [fake_run(c, fd) for c, fd in zip(grid("gan", "mnist", "quick"), (40, 30, 20, 8, 9))]
    picks = runsets.memorization_candidates(vae + gans + wgan_runs(6.0, 50.0), "mnist")
    assert [(r.config.family, r.config.label) for r in picks] == [("wgan", "DC-WGAN, z=64"), ("vae", "MLP A, z=100")]
    assert runsets.memorization_candidates(vae, "cifar10") == []


def test_two_d_runs_are_the_encoding_families_z2_seed_zero_runs():
    vae = [fake_run(c, 1.0) for c in grid("vae", "cifar10", "quick")]           # MLP C and Conv have z=2
    gan = [fake_run(c.__class__(**{**c.to_dict(), "latent_dim": 2}), 1.0) for c in grid("gan", "cifar10", "quick")[:1]]
    shown = runsets.two_d_runs(vae + gan + [fake_run(grid("vae", "cifar10", "quick")[1], 1.0, seed=1)])
    assert [(r.config.variant, r.config.latent_dim, r.config.seed) for r in shown] == [("MLP C", 2, 0), ("Conv", 2, 0)]


def test_estimate_of_one_run_is_its_bootstrap_interval_or_its_standard_error():
    cfg = grid("vae", "mnist", "quick")[0]
    run = fake_run(cfg, 12.0, half=0.5)
    assert runsets.estimate(run, "fd") == runsets.Estimate(12.0, 11.5, 12.5)
    run.summary["test_neg_elbo_se"] = 2.0                          # +- 1.96 * 2
    e = runsets.estimate(run, "test_neg_elbo")
    assert (e.value, e.lo, e.hi) == pytest.approx((100.0, 96.08, 103.92))
    assert not runsets.estimate(run, "images_per_second").has_interval     # none recorded: never wins
    assert runsets.estimate(fake_run(cfg, None, status="diverged"), "fd") is None


@pytest.mark.parametrize("curve, improving", [
    ([(1, 100, 30.0), (2, 200, 20.0), (3, 300, 10.0)], True),      # 10 +- 0.1 lies wholly below 20 +- 0.1
    ([(1, 100, 30.0), (2, 200, 10.1), (3, 300, 10.0)], False),     # [9.9, 10.1] overlaps [10.0, 10.2]
    ([(1, 100, 10.0), (2, 200, 20.0)], False),                     # rising
    ([(3, 300, 10.0)], None),                                      # one point: nothing to compare
])
def test_still_improving_needs_the_last_drop_outside_the_noise(curve, improving):
    run = fake_run(grid("gan", "mnist", "quick")[0], curve[-1][2], curve=curve)
    assert runsets.still_improving(run) is improving


def test_seed_means_average_the_curve_and_keep_a_lone_survivors_interval():
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, fd, seed=s, curve=[(1, 100, c1), (3, 300, fd)])
            for s, (c1, fd) in enumerate(((30.0, 10.0), (34.0, 12.0)))]
    (avg,) = runsets.average_seeds(runs)
    # epoch 1 on log FD: ln 30, ln 34, mean 3.4638 (geometric mean 31.94), sd 0.0885, half width 12.706 *
    # 0.0885 / sqrt(2) = 0.7952: [14.42, 70.73]; epoch 3 (10, 12): 10.95 [3.44, 34.88]: overlapping
    first = avg.yardstick["over_training"][0]
    assert first["fd"] == pytest.approx(math.sqrt(30 * 34)) and first["fd_ci"] == pytest.approx([14.42, 70.73], abs=0.01)
    assert runsets.still_improving(avg) is False
    # one seed left after a divergence: its own bootstrap interval stays
    lone = [fake_run(cfg, 10.0, seed=0), fake_run(cfg, None, seed=1, status="diverged")]
    (avg,) = runsets.average_seeds(lone)
    assert tables.cell(avg, "fd") == "10 [9.9, 10.1]"


def test_seed_estimates_keep_each_seeds_own_bootstrap_interval():
    """FD 100, 200, 400 with intervals +- 5 each: the averaged run keeps every seed's [v - 5, v + 5]; its mean
    is the geometric mean (100 * 200 * 400)^(1/3) = 200. One run alone gives its own estimate."""
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, fd, seed=s, half=5.0) for s, fd in enumerate((100.0, 200.0, 400.0))]
    (avg,) = runsets.average_seeds(runs)
    got = runsets.seed_estimates(avg, "fd")
    assert [(e.value, e.lo, e.hi) for e in got] == [(100.0, 95.0, 105.0), (200.0, 195.0, 205.0), (400.0, 395.0, 405.0)]
    assert runsets.estimate(avg, "fd").value == pytest.approx(200.0)
    (one,) = runsets.seed_estimates(runs[0], "fd")
    assert (one.value, one.lo, one.hi) == (100.0, 95.0, 105.0)
    assert runsets.seed_estimates(runs[0], "kid") == []


def test_a_seed_mean_is_judged_on_the_seeds_mean_class_count_not_on_the_averaged_histogram():
    """Three seeds each covering 4 classes (collapsed) whose histograms average to an even one (fake_run gives
    every seed 0.1 per class): the seed mean covers (4 + 4 + 4) / 3 = 4 <= 5 classes, so it is collapsed; read
    from the averaged histogram it would cover 10 and be called "not collapsed"."""
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, 10.0 + s, seed=s, covered=4) for s in range(3)]
    assert {r.yardstick["collapse"] for r in runs} == {"collapsed"}
    (avg,) = runsets.average_seeds(runs)
    assert avg.yardstick["classes_covered"] == 4 and avg.yardstick["collapse"] == "collapsed"
