"""Which runs the weight-dependent figures show, the WGAN clip-vs-GP prose, the memorization
check's verdict and the "reproduce this page" box, on hand-made runs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gen_core import chapter, figures
from gen_core.grid import grid
from test_chapter import ctx, fake_run  # noqa: F401  (the ctx fixture)


def wgan_runs(fd_clip, fd_gp, gp_status="complete"):
    rows = {c.variant + str(c.latent_dim): c for c in grid("wgan", "mnist", "quick")}
    clipped, gp = rows["DC-WGAN64"], rows["DC-WGAN-GP64"]
    return [fake_run(rows["MLP A100"], 50.0), fake_run(rows["DC-WGAN256"], 10.0), fake_run(clipped, fd_clip),
            fake_run(gp, fd_gp, status=gp_status)]


def test_clip_and_gp_pairs_the_same_latent_size():
    pair = chapter.clip_and_gp(wgan_runs(30.0, 20.0))
    assert [(r.config.variant, r.config.latent_dim) for r in pair] == [("DC-WGAN", 64), ("DC-WGAN-GP", 64)]
    assert (pair[0].config.channels, pair[0].config.d_channels) == (pair[1].config.channels, pair[1].config.d_channels)
    assert chapter.clip_and_gp(wgan_runs(30.0, 20.0)[:3]) == []


def test_clip_vs_gp_sentence_names_the_winner_with_both_numbers():
    text = chapter.clip_vs_gp_sentence(wgan_runs(30.0, 20.0))
    assert "the gradient penalty gives the lower FD: clipping 30 (" in text and "against the penalty 20 (" in text
    text = chapter.clip_vs_gp_sentence(wgan_runs(12.0, 20.0))
    assert "weight clipping gives the lower FD: clipping 12 (" in text
    text = chapter.clip_vs_gp_sentence(wgan_runs(12.0, None, gp_status="diverged"))
    assert "DC-WGAN-GP, z=64 has no sample metrics (diverged)" in text


def test_wgan_findings_include_the_clip_vs_gp_paragraph(ctx):  # noqa: F811
    assert "**Weight clipping against the gradient penalty.**" in chapter.findings("wgan", "mnist", wgan_runs(30, 20),
                                                                                   ctx)


def test_comparison_lists_wgan_gp_as_its_own_family(ctx):  # noqa: F811
    table = chapter.comparison_table(wgan_runs(30.0, 20.0), ctx)
    gp_rows = table[table["run"] == "DC-WGAN-GP, z=64"]
    assert list(gp_rows["family"]) == ["WGAN-GP"] and list(gp_rows["FD"]) == [20.0]
    assert set(table["family"]) == {"WGAN", "WGAN-GP"}


def test_best_run_is_the_lowest_fd_seed_zero():
    runs = wgan_runs(30.0, 5.0)
    assert figures.best_run(runs).config.variant == "DC-WGAN-GP"
    assert figures.best_run([r for r in runs if r.config.variant == "MLP A"]).config.label == "MLP A, z=100"
    assert figures.best_run([fake_run(grid("gan", "mnist", "quick")[0], None, status="diverged")]) is None


def test_best_run_ranks_configurations_by_their_seed_mean():
    a, b = grid("gan", "mnist", "quick")[:2]
    # a: seeds 1 and 9 (mean 5); b: seeds 4 and 4 (mean 4). a's seed 0 alone would win.
    runs = [fake_run(a, 1.0, seed=0), fake_run(a, 9.0, seed=1), fake_run(b, 4.0, seed=0), fake_run(b, 4.0, seed=1)]
    best = figures.best_run(runs)
    assert (best.config.label, best.config.seed) == (b.label, 0)


def test_memorization_candidates_are_the_best_gan_and_vae_per_dataset():
    vae = [fake_run(c, fd) for c, fd in zip(grid("vae", "mnist", "quick"), (9, 3, 7, 8, 9, 9))]
    gans = [fake_run(c, fd) for c, fd in zip(grid("gan", "mnist", "quick"), (40, 30, 20, 8, 9))]
    picks = figures.memorization_candidates(vae + gans + wgan_runs(6.0, 50.0), "mnist")
    assert [(r.config.family, r.config.label) for r in picks] == [("wgan", "DC-WGAN, z=64"), ("vae", "MLP A, z=100")]
    assert figures.memorization_candidates(vae, "cifar10") == []


@pytest.mark.parametrize("sample, test, verdict", [
    (1.0, 4.0, "closer to the training set than unseen real images are, a sign of copying"),
    (3.0, 4.0, "no closer to the training set than unseen real images are: no sign of copying"),
])
def test_memorization_sentence_compares_with_test_images(sample, test, verdict):
    run = wgan_runs(30.0, 20.0)[2]
    found = figures.NearestTraining(run, torch.zeros(1), torch.zeros(1), torch.zeros(1), sample, test)
    text = figures.memorization_sentence(found)
    assert text == (f"WGAN DC-WGAN, z=64: the median distance from a sample to its nearest training image is "
                    f"{sample:g}, against {test:g} for real test images (ratio {sample / test:.2f}); its samples "
                    f"are {verdict}.")


def test_reproduce_box_names_the_make_command_and_parameters():
    ctx = chapter.Context("quick", Path("data"), Path("runs"), False, "cpu")
    box = chapter.reproduce_box(ctx, "wgan_mnist")
    assert "<code>make report-wgan_mnist PROFILE=quick</code>" in box
    assert "<code>profile = 'quick'</code>, <code>data_dir = 'data'</code>" in box and "FORCE=1" in box
    ctx = chapter.Context("smoke", Path("/d"), Path("/r"), True, "cpu")
    box = chapter.reproduce_box(ctx, "comparison")
    assert "<code>make report-comparison PROFILE=smoke GEN_DATA_DIR=/d GEN_RUNS_DIR=/r FORCE=1</code>" in box
    assert "<code>force = True</code>" in box
