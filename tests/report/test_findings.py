"""The prose: pure functions of hand-made runs and stub references, checked word for word."""
from __future__ import annotations

import pytest
import torch

from conftest import fake_reference, fake_run
from gen_core.grid import grid
from gen_core.report import findings, weights
from report.test_runsets import wgan_runs


def test_comparison_prose_quotes_the_numbers_and_flags_a_weak_classifier():
    gan, wgan = grid("gan", "mnist", "quick")[0], grid("wgan", "mnist", "quick")[0]
    cifar = grid("gan", "cifar10", "quick")
    runs = [fake_run(gan, 12.5, covered=4, recall=0.03), fake_run(wgan, 40.0),
            fake_run(cifar[0], 3.0), fake_run(cifar[1], 1.5)]
    refs = {ds: fake_reference(ds) for ds in ("mnist", "cifar10")}
    text = findings.comparison_findings(runs, refs, "quick")
    assert "The GAN (MLP A, z=100) leads" in text
    assert "FD 12.5 (6.25 × the real-data floor)" in text            # 12.5 / 2
    assert "covers 4 of 10 classes, which agrees with the reports' collapse" in text
    assert "once (seed 0)" in text
    # CIFAR-10's stub classifier is below its floor: red, and the ranking is hedged
    assert '<span style="color:#c00"><b>Below its floor:</b>' in text
    assert "this ranking is a hint, not a verdict" in text
    # conv (DCGAN, FD 1.5) beats the MLP (FD 3) on CIFAR-10
    assert "lower FD in 1 of 1 families" in text


def test_seed_sentence_counts_the_seeds_found_in_the_runs():
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, fd, seed=s) for s, fd in enumerate((1.0, 2.0))]
    text = findings.chapter_findings(runs, fake_reference("mnist"), "quick")
    assert "Every configuration ran with 2 seeds; tables show mean ± standard deviation." in text


def test_latent_trend_reads_fd_per_variant():
    cfgs = [c for c in grid("vae", "mnist", "quick") if c.variant == "MLP C"]     # z = 2, 32, 128
    lines = findings.latent_trend([fake_run(c, fd) for c, fd in zip(cfgs, (9.0, 5.0, 1.0))], "fd", "FD")
    assert lines == ["- MLP C: FD improves with every step up in latent size (z=2: 9, z=32: 5, z=128: 1)."]
    lines = findings.latent_trend([fake_run(c, fd) for c, fd in zip(cfgs, (1.0, 5.0, 9.0))], "fd", "FD")
    assert "does not improve" in lines[0]


def test_chapter_findings_ask_the_family_which_sections_it_has():
    vae = findings.chapter_findings([fake_run(c, 1.0) for c in grid("vae", "mnist", "quick")],
                                    fake_reference("mnist"), "quick")
    assert "**Latent size against the test ELBO.**" in vae and "**Mode collapse.**" not in vae
    gan = findings.chapter_findings([fake_run(c, 1.0) for c in grid("gan", "mnist", "quick")],
                                    fake_reference("mnist"), "quick")
    assert "**Mode collapse.**" in gan and "test ELBO" not in gan and "gradient penalty" not in gan
    assert "**Weight clipping against the gradient penalty.**" in findings.chapter_findings(
        wgan_runs(30, 20), fake_reference("mnist"), "quick")


def test_clip_vs_gp_sentence_names_the_winner_with_both_numbers():
    text = findings.clip_vs_gp_sentence(wgan_runs(30.0, 20.0))
    assert "the gradient penalty gives the lower FD: clipping 30 (" in text and "against the penalty 20 (" in text
    text = findings.clip_vs_gp_sentence(wgan_runs(12.0, 20.0))
    assert "weight clipping gives the lower FD: clipping 12 (" in text
    text = findings.clip_vs_gp_sentence(wgan_runs(12.0, None, gp_status="diverged"))
    assert "DC-WGAN-GP, z=64 has no sample metrics (diverged)" in text


@pytest.mark.parametrize("sample, test, verdict", [
    (1.0, 4.0, "closer to the training set than unseen real images are, a sign of copying"),
    (3.0, 4.0, "no closer to the training set than unseen real images are: no sign of copying"),
])
def test_memorization_sentence_compares_with_test_images(sample, test, verdict):
    run = wgan_runs(30.0, 20.0)[2]
    found = weights.NearestTraining(run, torch.zeros(1), torch.zeros(1), torch.zeros(1), sample, test)
    text = findings.memorization_sentence(found)
    assert text == (f"WGAN DC-WGAN, z=64: the median distance from a sample to its nearest training image is "
                    f"{sample:g}, against {test:g} for real test images (ratio {sample / test:.2f}); its samples "
                    f"are {verdict}.")


def test_prose_imports_nothing_that_loads_trains_or_measures():
    """findings.py takes numbers: from the library it imports only names and types, never a loader."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(findings.__file__).read_text())
    imported = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert imported <= {
        ("__future__", "annotations"), (None, "families"), ("config", "DATASETS"), ("data", "DATASET_TITLES"),
        ("results", "Run"), ("yardstick", "Reference"), ("runsets", "average_seeds"), ("runsets", "best_per_family"),
        ("runsets", "complete"), ("runsets", "config_key"), ("runsets", "first_seed"), ("runsets", "score"),
        ("runsets", "seeds_per_configuration"), ("runsets", "value"), ("runsets", "variant_pair")}, imported
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import)]


def test_prose_is_pure(monkeypatch):
    """The prose functions never load, train or measure: with every loader broken, they still answer."""
    import gen_core.report.session as session
    import gen_core.report.weights as weights_module
    import gen_core.results as results
    import gen_core.yardstick as yardstick

    for module, names in ((results, ("load_or_train", "load_run", "train_and_save")),
                          (session, ("reference", "measured_run", "load_or_train", "measure_run", "run_models",
                                     "chapter_runs", "all_runs")),
                          (weights_module, ("nearest_training", "run_models", "interpolations")),
                          (yardstick, ("measure_run", "build_reference", "load_models"))):
        for name in names:
            monkeypatch.setattr(module, name, lambda *a, _name=name, **k: pytest.fail(f"prose called {_name}"))
    runs = wgan_runs(30.0, 20.0) + [fake_run(c, 5.0) for c in grid("gan", "cifar10", "quick")]
    refs = {ds: fake_reference(ds) for ds in ("mnist", "cifar10")}
    assert findings.chapter_findings(wgan_runs(30.0, 20.0), refs["mnist"], "quick")
    assert findings.comparison_findings(runs, refs, "quick")
