"""The classifier-space yardstick against hand values and independent computations: Frechet
distance, k-NN precision/recall, the classes a label histogram covers, samples it cannot measure,
and measure_run's yardstick.json cache (reported when unreadable) and missing weights."""
from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
import scipy.linalg
import torch

import gen_core.train as train_module
from conftest import make_split
from gen_core.classifier import Classifier, build_classifier, classifier_config, features_and_logits
from gen_core.data import to_unit
from gen_core.feature_measures import frechet_distance, precision_recall
from gen_core.results import Run, train_and_save
from gen_core.yardstick import (COUNTED_FRACTION, COUNTED_MIN, ON_DATA_FRACTION, ON_DATA_MIN, CorruptRun, RealSide,
                                Unmeasurable, build_real_side, classes_covered, collapse_state, collapse_thresholds,
                                judge_collapse, kl_to_uniform, label_histogram, measure_run, sample_measures)


def whitened(n: int, f: int, seed: int) -> torch.Tensor:
    """(n, f) float64 samples whose sample mean is exactly 0 and unbiased (n-1) covariance exactly I."""
    x = torch.randn(n, f, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = x - x.mean(0)
    chol = torch.linalg.cholesky(x.T @ x / (n - 1))               # cov = L L^T
    return torch.linalg.solve_triangular(chol, x.T, upper=False).T  # x L^-T: cov = I


# ---- Frechet distance -----------------------------------------------------------------------

def test_frechet_distance_of_identical_sets_is_zero():
    """FD(X, X) = 0: the trace term must cancel exactly, not leave a bias."""
    x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3 + 1
    assert abs(frechet_distance(x, x.clone())) < 1e-8


def test_frechet_distance_closed_form_for_diagonal_gaussians():
    """Diagonal covariances a, b: FD = |mu1 - mu2|^2 + sum (sqrt a_i - sqrt b_i)^2, by hand."""
    w1, w2 = whitened(400, 4, seed=1), whitened(300, 4, seed=2)
    assert torch.allclose(torch.cov(w1.T), torch.eye(4, dtype=torch.float64), atol=1e-12)
    a = torch.tensor([1.0, 4.0, 9.0, 0.25], dtype=torch.float64)    # variances of set 1
    b = torch.tensor([4.0, 4.0, 1.0, 1.0], dtype=torch.float64)     # variances of set 2
    mu1 = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    mu2 = torch.tensor([1.0, 1.0, 0.0, 3.0], dtype=torch.float64)
    real, fake = w1 * a.sqrt() + mu1, w2 * b.sqrt() + mu2
    # |mu1 - mu2|^2 = 1 + 0 + 4 + 0 = 5;  sum (sqrt a - sqrt b)^2 = (1-2)^2 + 0 + (3-1)^2 + (0.5-1)^2 = 5.25
    assert frechet_distance(real, fake) == pytest.approx(10.25, rel=1e-9)
    # only the means differ: FD = |mu1 - mu2|^2 = 5
    assert frechet_distance(w1 + mu1, w2 + mu2) == pytest.approx(5.0, rel=1e-9)
    # symmetric in its arguments
    assert frechet_distance(fake, real) == pytest.approx(10.25, rel=1e-9)


def test_frechet_distance_matches_scipy_sqrtm():
    """Non-diagonal covariances: agrees with numpy means, np.cov (ddof 1) and scipy.linalg.sqrtm."""
    gen = torch.Generator().manual_seed(3)
    real = torch.randn(500, 16, generator=gen, dtype=torch.float64) @ torch.randn(16, 16, generator=gen, dtype=torch.float64)
    fake = (torch.randn(500, 16, generator=gen, dtype=torch.float64) @ torch.randn(16, 16, generator=gen, dtype=torch.float64)
            + torch.randn(16, generator=gen, dtype=torch.float64))
    r, f = real.numpy(), fake.numpy()
    s1, s2 = np.cov(r, rowvar=False, ddof=1), np.cov(f, rowvar=False, ddof=1)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((r.mean(0) - f.mean(0)) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert expected > 1                                            # a non-trivial distance
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-6)


# ---- precision and recall -------------------------------------------------------------------

def test_precision_recall_of_identical_sets():
    """Every point lies in its own k-NN ball: (1, 1)."""
    x = torch.randn(200, 5, generator=torch.Generator().manual_seed(4))
    assert precision_recall(x, x.clone()) == (1.0, 1.0)


def test_precision_recall_of_far_apart_sets():
    """No overlap at all: (0, 0)."""
    gen = torch.Generator().manual_seed(5)
    real = torch.randn(200, 5, generator=gen)
    assert precision_recall(real, torch.randn(200, 5, generator=gen) + 1000) == (0.0, 0.0)


def test_precision_recall_of_a_generator_covering_half_the_support():
    """Real = two equal, well-separated clusters; fake = one of them: precision high, recall ~ 1/2."""
    gen = torch.Generator().manual_seed(6)
    centre = torch.tensor([50.0, 0.0])
    real = torch.cat([torch.randn(300, 2, generator=gen) + centre, torch.randn(300, 2, generator=gen) - centre])
    fake = torch.randn(300, 2, generator=gen) + centre
    precision, recall = precision_recall(real, fake)
    assert precision > 0.9
    assert 0.4 < recall < 0.6
    # the other way round: the "generator" fills both clusters but real covers one
    precision, recall = precision_recall(fake, real)
    assert 0.4 < precision < 0.6 and recall > 0.9


def test_precision_recall_on_hand_computed_1d_points():
    """1-D points whose k-th neighbour radii and memberships are worked out by hand."""
    real = torch.tensor([[0.0], [10.0], [30.0], [70.0]])
    fake = torch.tensor([[9.0], [12.0], [29.0], [60.0], [300.0]])
    # k=1. Real radii: 0->10, 10->10, 30->20, 70->40; balls [-10,10] [0,20] [10,50] [30,110].
    #   fake 9, 12, 29, 60 inside, 300 outside: precision 4/5.
    # Fake radii: 9->3, 12->3, 29->17, 60->31, 300->240.
    #   real 0: distances 9, 12, 29, 60, 300 all exceed their radii -> outside;
    #   10 within 3 of 9; 30 within 17 of 29; 70 within 31 of 60: recall 3/4.
    assert precision_recall(real, fake, k=1) == (pytest.approx(0.8), pytest.approx(0.75))
    # k=2. Real radii: 0->30, 10->20, 30->30, 70->60; union [-30, 130]: precision 4/5 again.
    # Fake radii: 9->20, 12->17, 29->20, 60->48, 300->288; real 0 is within 20 of 9 now: recall 1.
    assert precision_recall(real, fake, k=2) == (pytest.approx(0.8), pytest.approx(1.0))


def test_precision_recall_needs_more_than_k_samples():
    """With k or fewer points there is no k-th other neighbour: a clear error, not a bogus radius."""
    x = torch.arange(6.0).view(6, 1)
    with pytest.raises(ValueError, match="k=3"):
        precision_recall(x[:3], x)
    with pytest.raises(ValueError, match="k=3"):
        precision_recall(x, x[:3])
    assert precision_recall(x[:4], x[:4]) == (1.0, 1.0)     # k + 1 points is enough


# ---- the classes a label histogram covers ---------------------------------------------------

def _real_side(test_features, n_samples=32, classifier=None):
    return RealSide("mnist", n_samples, classifier, test_features, {})


def test_classes_covered_and_kl_of_one_class_and_of_uniform():
    # p = (1, 0, ..., 0): one class covered; KL = 1 * log(1 * 10) = log 10
    assert classes_covered([1.0] + [0.0] * 9) == 1 and math.isclose(kl_to_uniform([1.0] + [0.0] * 9), math.log(10))
    # p = 1/10 each: all 10 covered; KL = sum 0.1 log(0.1 * 10) = 0
    assert classes_covered([0.1] * 10) == 10 and abs(kl_to_uniform([0.1] * 10)) < 1e-12


def test_classes_covered_threshold_and_kl_by_hand():
    # two classes at 1/2: KL = 2 * 0.5 * log(0.5 * 10) = log 5
    assert classes_covered([0.5, 0.5] + [0.0] * 8) == 2 and math.isclose(kl_to_uniform([0.5, 0.5] + [0.0] * 8),
                                                                         math.log(5))
    # the threshold is half the uniform share, 0.5 / 10 = 0.05: 0.05 counts, 0.04 does not
    hist = [0.55, 0.05, 0.36, 0.04] + [0.0] * 6
    assert classes_covered(hist) == 3
    expected = 0.55 * math.log(5.5) + 0.05 * math.log(0.5) + 0.36 * math.log(3.6) + 0.04 * math.log(0.4)
    assert math.isclose(kl_to_uniform(hist), expected)


def test_label_histogram():
    # counts 2, 1, 0, 1 of 4 -> 0.5, 0.25, 0, 0.25, then zeros up to 10 classes
    assert label_histogram(torch.tensor([0, 0, 1, 3])) == [0.5, 0.25, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert label_histogram(torch.tensor([2, 2]), n_classes=3) == [0.0, 0.0, 1.0]


# ---- samples the yardstick cannot measure -----------------------------------------------------

def test_non_finite_features_are_unmeasurable():
    gen = torch.Generator().manual_seed(10)
    real = torch.randn(40, 6, generator=gen, dtype=torch.float64)
    fake = real.clone()
    fake[3, 2], fake[7, 0] = float("nan"), float("inf")           # rows 3 and 7: 2 of the 40 samples
    with pytest.raises(Unmeasurable, match="^2 of its 40 samples have NaN or infinite classifier features$"):
        sample_measures(fake, torch.zeros(40, 10), _real_side(real))


def test_finite_but_degenerate_features_are_unmeasurable():
    """Features of 1e200 square to infinity in float64: their covariance is not finite, and eigh fails on it."""
    gen = torch.Generator().manual_seed(11)
    real = torch.randn(40, 6, generator=gen, dtype=torch.float64)
    with pytest.raises(Unmeasurable, match="too degenerate for the Frechet distance"):
        sample_measures(real * 1e200, torch.zeros(40, 10), _real_side(real))


def test_identical_samples_are_a_collapse_not_an_error():
    """Every sample the same real point: measurable. FD = |x_0 - mu_r|^2 + Tr(S_r) (S_g = 0); x_0 lies in
    its own real ball (precision 1); the fake balls have radius 0, so only real point x_0 is inside one
    (recall 1/40)."""
    gen = torch.Generator().manual_seed(12)
    real = torch.randn(40, 6, generator=gen, dtype=torch.float64)
    out = sample_measures(real[:1].expand(40, 6), torch.zeros(40, 10), _real_side(real), replicates=20)
    expected = float(((real[0] - real.mean(0)) ** 2).sum() + torch.cov(real.T).trace())
    # S_g comes out of float64 rounding at about 1e-16, not 0: its square-rooted eigenvalues leave ~1e-8
    assert out["fd"] == pytest.approx(expected, rel=1e-6)
    assert out["precision"] == 1.0 and out["recall"] == pytest.approx(1 / 40)


def test_sample_measures_uses_the_real_side_test_features():
    """fd/precision/recall are of the samples against the real side's test_features, not anything else."""
    gen = torch.Generator().manual_seed(9)
    test_features = torch.randn(60, 4, generator=gen, dtype=torch.float64)
    logits = torch.zeros(60, 10)
    same = sample_measures(test_features.clone(), logits, _real_side(test_features))
    assert abs(same["fd"]) < 1e-8 and same["precision"] == 1.0 and same["recall"] == 1.0
    far = sample_measures(test_features + 1000, logits, _real_side(test_features))
    assert far["fd"] == pytest.approx(4 * 1000 ** 2, rel=1e-9)   # |shift|^2 over 4 dims, same covariance
    assert far["precision"] == 0.0 and far["recall"] == 0.0


# ---- measure_run and its yardstick.json cache -----------------------------------------------

@pytest.fixture
def tiny_run(tmp_path, tiny_cfg, monkeypatch):
    """A finished tiny GAN run on synthetic MNIST-shaped images (trained in a second or so)."""
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(32, name, seed=int(train)))
    cfg = tiny_cfg("gan", epochs=1, batch_size=16, n_samples=8, n_eval_samples=16)
    return train_and_save(cfg, "unused", tmp_path / cfg.run_name(), device="cpu", progress=False)


@pytest.fixture
def smoke_classifier():
    """An untrained smoke-size LeNet: measure_run only needs its features and its config's hash."""
    torch.manual_seed(0)
    cfg = classifier_config("mnist", "smoke")
    return Classifier(cfg, build_classifier(cfg).eval(), {})


def _test_features(clf):
    return features_and_logits(clf.model, to_unit(make_split(48, "mnist", seed=5).images))[0]


def test_measure_run_writes_caches_and_remeasures_on_a_new_key(tiny_run, smoke_classifier, monkeypatch):
    """First call measures and writes yardstick.json; same key loads it; a new key measures again."""
    calls = []
    real_generate_many = train_module.generate_many

    def counting(cfg, models, n, seed, device, *args, **kwargs):
        calls.append({"n": n, "seed": seed, "weights": {k: {name: t.clone() for name, t in m.state_dict().items()}
                                                              for k, m in models.items()}})
        return real_generate_many(cfg, models, n, seed, device, *args, **kwargs)

    monkeypatch.setattr(train_module, "generate_many", counting)
    real = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    first = measure_run(tiny_run, real, "cpu")

    # generated N = real.n_samples images, from the weights saved in model.pt
    # (then once more for the curve's last point, measured like its snapshots: max(20 // 4, k + 2) = 7)
    assert [c["n"] for c in calls] == [20, 7] and calls[0]["seed"] == tiny_run.config.seed + 2
    saved = torch.load(tiny_run.dir / "model.pt", map_location="cpu", weights_only=True)
    for name, state in saved.items():
        for key, value in state.items():
            assert torch.equal(calls[0]["weights"][name][key], value), (name, key)
    # the collapse rule reads N samples: the share it counts is a multiple of 1/20, its histogram
    # sums to 1 over the counted samples (all zeros when none counts)
    hist = first["label_histogram"]
    assert abs(first["on_data"] * 20 - round(first["on_data"] * 20)) < 1e-9
    assert abs(first["counted"] * 20 - round(first["counted"] * 20)) < 1e-9 and first["counted"] <= first["on_data"]
    assert len(hist) == 10 and sum(hist) == pytest.approx(1.0 if first["counted"] else 0.0)
    assert 0.0 <= first["precision"] <= 1.0 and 0.0 <= first["recall"] <= 1.0 and first["fd"] >= 0
    assert first["fd_ci"][0] <= first["fd"] <= first["fd_ci"][1]
    assert 0 <= first["classes_covered"] <= 10 and first["n_generated"] == first["n_real"] == 20
    # a one-epoch run has no snapshot: its curve is the final model alone, measured at N / 4
    assert [p["epoch"] for p in first["over_training"]] == [1] and first["over_training"][0]["fd"] != first["fd"]
    # KID with its interval on the final measurement only; the curve's points keep to FIDELITY
    assert first["kid_ci"][0] <= first["kid"] <= first["kid_ci"][1] and "kid" not in first["over_training"][0]

    on_disk = json.loads((tiny_run.dir / "yardstick.json").read_text())
    assert on_disk == {"key": real.key, "measures": first}

    def must_not_generate(*args, **kwargs):
        raise AssertionError("a cached yardstick was measured again")

    monkeypatch.setattr(train_module, "generate_many", must_not_generate)
    assert measure_run(tiny_run, real, "cpu") == first
    same_key = _real_side(real.test_features, n_samples=20, classifier=smoke_classifier)
    assert same_key.key == real.key and measure_run(tiny_run, same_key, "cpu") == first

    # another N is another key: measured again (now with 30 samples) and the cache replaced
    monkeypatch.setattr(train_module, "generate_many", counting)
    other = _real_side(real.test_features, n_samples=30, classifier=smoke_classifier)
    assert other.key != real.key
    second = measure_run(tiny_run, other, "cpu")
    assert [c["n"] for c in calls[2:]] == [30, 7]
    assert abs(second["on_data"] * 30 - round(second["on_data"] * 30)) < 1e-9
    assert json.loads((tiny_run.dir / "yardstick.json").read_text()) == {"key": other.key, "measures": second}


def test_measure_run_key_follows_the_classifier_config(smoke_classifier):
    """A retrained classifier (another config hash) gives another key, so runs are re-measured."""
    real = _real_side(torch.zeros(2, 2), n_samples=20, classifier=smoke_classifier)
    cfg = classifier_config("mnist", "smoke")
    retrained = Classifier(dataclasses.replace(cfg, epochs=cfg.epochs + 1), None, {})
    assert _real_side(torch.zeros(2, 2), n_samples=20, classifier=retrained).key != real.key


def test_measure_run_reports_an_unreadable_cache_and_measures_again(tiny_run, smoke_classifier, capfd):
    """A half-written or foreign yardstick.json is reported on the terminal with its path, then measured
    again; one measured with another classifier or N is stale, not broken: measured again without a word."""
    real = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    path = tiny_run.dir / "yardstick.json"
    for text, broken in (('{"key": "abc', True), ("[1, 2]", True), (json.dumps({"key": real.key}), True),
                         (json.dumps({"key": "0" * 12, "measures": {"fd": -1}}), False)):
        path.write_text(text)
        capfd.readouterr()
        out = measure_run(tiny_run, real, "cpu")
        err = capfd.readouterr().err
        assert (f"warning: {path} is unreadable (" in err and "); measuring the run again" in err) == broken, text
        assert err.count("warning:") == broken, text
        assert out["fd"] >= 0 and json.loads(path.read_text())["key"] == real.key


def test_measure_run_of_a_diverged_run_is_empty(tmp_path, tiny_cfg, smoke_classifier, monkeypatch):
    """A diverged run has nothing to measure (and may have no usable weights): {}, written with the
    real side's key, so that it counts as measured (runs.pending) and is never sampled."""
    def must_not_generate(*args, **kwargs):
        raise AssertionError("a diverged run was sampled")

    monkeypatch.setattr(train_module, "generate_many", must_not_generate)
    run = Run(tiny_cfg("gan"), tmp_path, {"status": "diverged", "diverged_at": {"epoch": 1}}, {})
    real = _real_side(torch.zeros(4, 128), n_samples=20, classifier=smoke_classifier)
    assert measure_run(run, real, "cpu") == {}
    assert json.loads((tmp_path / "yardstick.json").read_text()) == {"key": real.key, "measures": {}}


@pytest.mark.parametrize("damage", [b"", b"\x80", None])
def test_measure_run_of_an_unreadable_model_names_the_run_and_why_it_needs_the_weights(tiny_run, smoke_classifier,
                                                                                        damage):
    real = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    path = tiny_run.dir / "model.pt"
    path.unlink() if damage is None else path.write_bytes(damage)
    # a damaged file names torch's error (its class varies with the damage); a missing one its path
    problem = re.escape(f"is missing ({path})") if damage is None else r"is unreadable \(\w+\)"
    with pytest.raises(CorruptRun) as err:
        measure_run(tiny_run, real, "cpu")
    why = ", and the yardstick samples its networks (it has no yardstick.json for this classifier and N)"
    assert re.fullmatch(re.escape(f"run {tiny_run.dir}: model.pt ") + problem + re.escape(why), str(err.value))


def test_measure_run_marks_a_run_whose_samples_are_not_finite(tiny_run, smoke_classifier, monkeypatch, capfd):
    """Finite losses, NaN samples: {"unmeasurable": why} is cached and the warning printed once."""
    monkeypatch.setattr(train_module, "generate_many",
                        lambda cfg, models, n, *a, **k: torch.full((n, 1, 28, 28), float("nan")))
    real = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    capfd.readouterr()
    out = measure_run(tiny_run, real, "cpu")
    assert out == {"unmeasurable": "20 of its 20 samples hold NaN or infinite pixels"}
    assert capfd.readouterr().err == (f"warning: run {tiny_run.dir}: the yardstick cannot measure its samples (20 of "
                                      f"its 20 samples hold NaN or infinite pixels); its pages show it as "
                                      f"unmeasurable\n")
    assert json.loads((tiny_run.dir / "yardstick.json").read_text()) == {"key": real.key, "measures": out}
    assert measure_run(tiny_run, real, "cpu") == out and capfd.readouterr().err == ""      # cached: said once


def test_an_unmeasurable_snapshot_is_left_out_of_the_curve(tmp_path, tiny_cfg, smoke_classifier, monkeypatch, capfd):
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(32, name, seed=int(train)))
    cfg = tiny_cfg("gan", epochs=2, batch_size=16, n_samples=8, n_eval_samples=16)       # a snapshot at epoch 1
    run = train_and_save(cfg, "unused", tmp_path / cfg.run_name(), device="cpu", progress=False)
    real_generate_many, calls = train_module.generate_many, []

    def nan_for_the_snapshot(cfg, models, n, *args, **kwargs):
        calls.append(n)          # 1: the N samples of the tables; 2: epoch 1's snapshot; 3: the curve's end
        return real_generate_many(cfg, models, n, *args, **kwargs) * (float("nan") if len(calls) == 2 else 1.0)

    monkeypatch.setattr(train_module, "generate_many", nan_for_the_snapshot)
    capfd.readouterr()
    out = measure_run(run, _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier),
                      "cpu")
    assert calls == [20, 7, 7] and out["fd"] >= 0 and [p["epoch"] for p in out["over_training"]] == [2]
    assert capfd.readouterr().err == (f"warning: run {run.dir}: the yardstick cannot measure its samples at epoch 1: "
                                      f"7 of its 7 samples hold NaN or infinite pixels; its curve over training "
                                      f"leaves them out\n")


# ---- the collapse rule, calibrated on the floor's real images -----------------------------------

def test_collapse_thresholds_are_half_the_real_images_shares():
    assert (ON_DATA_FRACTION, COUNTED_FRACTION) == (0.5, 0.5)
    # real held-out images 80% on the data, 60% counted: a run needs 0.5 * 0.8 = 0.4 and 0.5 * 0.6 = 0.3
    assert collapse_thresholds({"on_data": 0.8, "counted": 0.6}) == pytest.approx((0.4, 0.3))
    # no shares yet (the floor being measured, or a real side built by hand): the absolute 0.5 and 0.25
    assert collapse_thresholds({}) == (ON_DATA_MIN, COUNTED_MIN) == (0.5, 0.25)
    assert collapse_thresholds({"fd": 1.0, "on_data": None, "counted": None}) == (0.5, 0.25)


def test_collapse_state_by_calibrated_thresholds():
    # thresholds (0.4, 0.3): the bar itself is enough, just below either share is not
    assert collapse_state(0.4, 0.3, 10, 0.4, 0.3) == "not collapsed"
    assert collapse_state(0.39, 0.39, 10, 0.4, 0.3) == "not yet on the data"
    assert collapse_state(0.45, 0.29, 10, 0.4, 0.3) == "not yet on the data"
    assert collapse_state(0.45, 0.35, 5, 0.4, 0.3) == "collapsed"
    # the same run against the absolute bar (0.5 on the data) would not be judged
    assert collapse_state(0.45, 0.35, 10) == "not yet on the data"
    # nothing counted leaves no histogram to read, even where the real images' counted share (the bar) is 0
    assert collapse_state(0.9, 0.0, 0, 0.45, 0.0) == "not yet on the data"


def test_judge_collapse_stores_its_thresholds_and_real_images_pass_their_own_bar():
    floor = {"on_data": 0.8, "counted": 0.6, "classes_covered": 10, "label_histogram": [0.1] * 10, "kl_to_uniform": 0.0}
    judged = judge_collapse(floor, *collapse_thresholds(floor))
    # own shares 0.8 and 0.6 against half of themselves, 0.4 and 0.3; 10 classes -> not collapsed
    assert judged["on_data_min"] == pytest.approx(0.4) and judged["counted_min"] == pytest.approx(0.3)
    assert judged["collapse"] == "not collapsed"
    assert judge_collapse({**floor, "classes_covered": 3}, 0.4, 0.3)["collapse"] == "collapsed"
    assert "collapse" not in floor and "on_data_min" not in floor                  # a new dict


def _labelled_real_side(floor: dict) -> tuple[torch.Tensor, RealSide]:
    real = torch.randn(50, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    return real, RealSide("mnist", 50, None, real, floor)


@pytest.mark.parametrize("floor, state, bar", [
    ({"on_data": 1.0, "counted": 1.0}, "not yet on the data", (0.5, 0.5)),   # 0.3 < 0.5 * 1.0
    ({"on_data": 1.0, "counted": 0.5}, "not collapsed", (0.5, 0.25)),        # 0.3 >= 0.5 * 0.5
    ({}, "not collapsed", (0.5, 0.25)),                                       # no shares: the absolute bar
])
def test_sample_measures_judges_a_run_against_its_floors_shares(floor, state, bar):
    # samples = the 50 real points (all on the data); the first 15 labelled i % 10 with logit 100, the rest flat
    # (top probability 0.1): counted = 15 / 50 = 0.3; classes 0-4 twice, 5-9 once of 15 -> 10 covered
    real, side = _labelled_real_side(floor)
    logits = torch.zeros(50, 10)
    logits[torch.arange(15), torch.arange(15) % 10] = 100.0
    out = sample_measures(real.clone(), logits, side, replicates=10)
    assert (out["on_data"], out["counted"], out["classes_covered"]) == (1.0, pytest.approx(0.3), 10)
    assert (out["on_data_min"], out["counted_min"]) == pytest.approx(bar)
    assert out["collapse"] == state


def test_build_real_side_judges_its_floor_by_the_floors_own_shares(smoke_classifier, monkeypatch, tmp_path):
    """The floor is measured before there is a floor: then judged against half its own shares, which it
    passes whenever something counts; with ten confident classes it is not collapsed."""
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(300 if train else 64, name, seed=int(train)))
    monkeypatch.setattr("gen_core.yardstick.load_or_train_classifier", lambda *a, **k: smoke_classifier)

    def features_and_logits(model, images):      # 4 pixels as features; labels 0..9 by row, all confident
        n = len(images)
        return images.flatten(1)[:, :4].double() * 10, 100.0 * torch.nn.functional.one_hot(torch.arange(n) % 10, 10)

    monkeypatch.setattr("gen_core.yardstick.features_and_logits", features_and_logits)
    real = build_real_side("mnist", "smoke", 128, 64, tmp_path, tmp_path, "cpu", progress=False)
    floor = real.floor
    assert 0 < floor["on_data"] < 1 and floor["counted"] == floor["on_data"]          # every label confident
    assert floor["on_data_min"] == 0.5 * floor["on_data"] and floor["counted_min"] == 0.5 * floor["counted"]
    assert floor["classes_covered"] == 10 and floor["collapse"] == "not collapsed"
    assert "kid" in floor and floor["kid_ci"][0] <= floor["kid"] <= floor["kid_ci"][1]
    # a run measured against this real side is held to those thresholds
    run = sample_measures(real.test_features, 100.0 * torch.nn.functional.one_hot(torch.arange(64) % 10, 10).float(),
                          real, replicates=10)
    assert (run["on_data_min"], run["counted_min"]) == (floor["on_data_min"], floor["counted_min"])
