"""The comparison's bookkeeping on hand-made runs: seed averaging, ranking, and the glued prose."""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from gen_core import chapter
from gen_core.grid import grid
from gen_core.results import Run


def fake_run(cfg, fd, seed=0, status="complete", covered=10, kl=0.0, recall=0.5, pixel_covered=3):
    cfg = type(cfg)(**{**cfg.to_dict(), "seed": seed})
    summary = {"status": status, "diverged_at": None, "train_seconds": 10.0 + seed, "images_per_second": 100.0,
               "final_epoch": {"loss": 1.0, "jsd": 0.1, "emd": 0.2}, "test_neg_elbo": 100.0 + seed,
               # the training-time pixel labeller's numbers: the book must not read these
               "classes_covered": pixel_covered, "kl_to_uniform": 9.9}
    yardstick = {} if status == "diverged" else {
        "fd": fd, "precision": 0.5, "recall": recall, "classes_covered": covered, "kl_to_uniform": kl,
        "label_histogram": [0.1] * 10}
    return Run(cfg, Path("/nonexistent"), summary, {"steps": {}, "epochs": {}}, yardstick)


@pytest.fixture
def ctx(monkeypatch):
    """A quick-profile context whose references are stubs: floors FD 2 (MNIST) and 0.5 (CIFAR-10)."""
    def reference(dataset, ctx):
        clf = SimpleNamespace(summary={"arch": "LeNet", "test_accuracy": 0.5, "test_images": 100, "epochs": 1,
                                       "train_images": 1000, "profile": "quick", "floor": 0.97,
                                       "below_floor": dataset == "cifar10"})
        return SimpleNamespace(n_samples=1000, classifier=clf,
                               floor={"fd": 2.0 if dataset == "mnist" else 0.5, "precision": 0.9, "recall": 0.8})
    monkeypatch.setattr(chapter, "reference", reference)
    return chapter.Context("quick", Path("data"), Path("runs"), False, "cpu")


def test_average_seeds_gives_mean_and_sample_std():
    """Three seeds with FD 1, 2, 6: mean 3, sample std sqrt(((-2)^2 + (-1)^2 + 3^2) / 2) = sqrt(7)."""
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, fd, seed=s) for s, fd in enumerate((1.0, 2.0, 6.0))]
    (avg,) = chapter.average_seeds(runs)
    assert avg.yardstick["fd"] == pytest.approx(3.0)
    assert avg.summary["std"]["fd"] == pytest.approx(math.sqrt(7))
    assert avg.summary["train_seconds"] == pytest.approx(11.0)          # 10, 11, 12
    assert avg.summary["seeds"] == 3 and avg.summary["seeds_diverged"] == 0
    assert chapter._cell(avg, "fd") == "3 ± 2.6"


def test_average_seeds_skips_diverged_seeds_and_says_so():
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, 4.0, seed=0), fake_run(cfg, None, seed=1, status="diverged"), fake_run(cfg, 8.0, seed=2)]
    (avg,) = chapter.average_seeds(runs)
    assert avg.yardstick["fd"] == pytest.approx(6.0)
    assert chapter._status(avg) == "complete (1 of 3 seeds diverged)"


def test_one_seed_per_configuration_is_left_alone():
    runs = [fake_run(cfg, 1.0) for cfg in grid("vae", "mnist", "quick")]
    assert chapter.average_seeds(runs) == runs
    assert chapter._cell(runs[0], "fd") == 1.0


def test_value_reads_the_classifier_not_the_pixel_labeller():
    run = fake_run(grid("gan", "mnist", "quick")[0], 5.0, covered=7, pixel_covered=3)
    assert chapter.value(run, "classes_covered") == 7
    assert chapter.value(run, "test_neg_elbo") == 100.0


def test_comparison_table_ranks_by_fd_within_each_dataset(ctx):
    mnist = grid("gan", "mnist", "quick")[:3]
    runs = [fake_run(mnist[0], 30.0), fake_run(mnist[1], 10.0), fake_run(mnist[2], 20.0),
            fake_run(grid("vae", "cifar10", "quick")[0], 1.0)]
    table = chapter.comparison_table(runs, ctx)
    assert list(table.loc["MNIST"]["FD"]) == [10.0, 20.0, 30.0]
    assert list(table.loc["MNIST"].index) == [1, 2, 3]
    assert table.loc[("MNIST", 1), "FD / floor"] == 5.0            # 10 / floor 2
    assert table.loc[("CIFAR-10", 1), "FD / floor"] == 2.0          # 1 / floor 0.5


def test_best_per_family_and_collapse_extremes():
    gans = grid("gan", "mnist", "quick")
    vae = grid("vae", "mnist", "quick")[0]
    runs = [fake_run(gans[0], 30.0, kl=0.1), fake_run(gans[1], 10.0, kl=2.0), fake_run(vae, 50.0, kl=0.5),
            fake_run(gans[2], None, status="diverged")]
    best = chapter.best_per_family(runs, "mnist")
    assert [(r.config.family, r.yardstick["fd"]) for r in best] == [("vae", 50.0), ("gan", 10.0)]
    most, least = chapter.collapse_extremes(runs)
    assert most.yardstick["kl_to_uniform"] == 2.0 and least.yardstick["kl_to_uniform"] == 0.1


def test_comparison_prose_quotes_the_numbers_and_flags_a_weak_classifier(ctx):
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    cifar = grid("gan", "cifar10", "quick")
    runs = [fake_run(gan, 12.5, covered=4, recall=0.03), fake_run(wgan, 40.0),
            fake_run(cifar[0], 3.0), fake_run(cifar[1], 1.5)]
    text = chapter.comparison_findings(runs, ctx)
    assert "The GAN (MLP A, z=100) leads" in text
    assert "FD 12.5 (6.25 × the real-data floor)" in text            # 12.5 / 2
    assert "covers 4 of 10 classes, which agrees with the reports' collapse" in text
    assert "once (seed 0)" in text
    # CIFAR-10's stub classifier is below its floor: red, and the ranking is hedged
    assert '<span style="color:#c00"><b>Below its floor:</b>' in text
    assert "this ranking is a hint, not a verdict" in text
    # conv (DCGAN, FD 1.5) beats the MLP (FD 3) on CIFAR-10
    assert "lower FD in 1 of 1 families" in text


def test_latent_trend_reads_fd_per_variant():
    cfgs = [c for c in grid("vae", "mnist", "quick") if c.variant == "MLP C"]     # z = 2, 32, 128
    lines = chapter._latent_trend([fake_run(c, fd) for c, fd in zip(cfgs, (9.0, 5.0, 1.0))], "fd", "FD")
    assert lines == ["- MLP C: FD improves with every step up in latent size (z=2: 9, z=32: 5, z=128: 1)."]
    lines = chapter._latent_trend([fake_run(c, fd) for c, fd in zip(cfgs, (1.0, 5.0, 9.0))], "fd", "FD")
    assert "does not improve" in lines[0]
