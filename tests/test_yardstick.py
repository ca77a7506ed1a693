"""The classifier-space yardstick against hand values and independent computations:
Frechet distance, k-NN precision/recall, coverage, and measure_run's yardstick.json cache."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import scipy.linalg
import torch

import gen_core.train as train_module
from conftest import make_split
from gen_core.classifier import Classifier, build_classifier, classifier_config, features_and_logits
from gen_core.data import to_unit
from gen_core.results import Run, train_and_save
from gen_core.yardstick import RealSide, frechet_distance, measure_run, precision_recall, sample_measures


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


# ---- coverage through sample_measures -------------------------------------------------------

def _real_side(test_features, n_samples=32, classifier=None):
    return RealSide("mnist", n_samples, classifier, test_features, {})


def test_sample_measures_coverage_of_one_class():
    """Every sample is a real point (on the manifold) that argmaxes to class 3 with confidence:
    1 class covered, KL to uniform = log 10."""
    gen = torch.Generator().manual_seed(7)
    real = torch.randn(40, 6, generator=gen)
    ref = _real_side(real)
    logits = torch.randn(40, 10, generator=gen)
    logits[:, 3] = 100.0
    out = sample_measures(real.clone(), logits, ref)
    assert out["on_data"] == 1.0 and out["collapse"] == "collapsed"
    assert out["classes_covered"] == 1
    assert out["kl_to_uniform"] == pytest.approx(math.log(10), rel=1e-12)
    assert out["label_histogram"] == [0.0, 0.0, 0.0, 1.0] + [0.0] * 6
    assert {"fd", "precision", "recall"} <= set(out)


def test_sample_measures_coverage_of_uniform_labels():
    """Four samples of each of the 10 classes, each a real point labelled with probability about
    e^5 / (e^5 + 9) = 0.94 >= 0.9: 10 covered, KL = 0."""
    gen = torch.Generator().manual_seed(8)
    real = torch.randn(40, 6, generator=gen)
    ref = _real_side(real)
    logits = torch.nn.functional.one_hot(torch.arange(40) % 10, 10).float() * 5 + 0.1 * torch.randn(40, 10, generator=gen)
    out = sample_measures(real.clone(), logits, ref)
    assert out["on_data"] == 1.0 and out["collapse"] == "not collapsed"
    assert out["classes_covered"] == 10
    assert abs(out["kl_to_uniform"]) < 1e-6          # the histogram is float32: 0.1 is not exact
    assert out["label_histogram"] == pytest.approx([0.1] * 10)


def test_sample_measures_uses_the_reference_test_features():
    """fd/precision/recall are of the samples against reference.test_features, not anything else."""
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
    ref = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    first = measure_run(tiny_run, ref, "cpu")

    # generated N = reference.n_samples images, from the weights saved in model.pt
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

    on_disk = json.loads((tiny_run.dir / "yardstick.json").read_text())
    assert on_disk == {"key": ref.key, "measures": first}

    def must_not_generate(*args, **kwargs):
        raise AssertionError("a cached yardstick was measured again")

    monkeypatch.setattr(train_module, "generate_many", must_not_generate)
    assert measure_run(tiny_run, ref, "cpu") == first
    same_key = _real_side(ref.test_features, n_samples=20, classifier=smoke_classifier)
    assert same_key.key == ref.key and measure_run(tiny_run, same_key, "cpu") == first

    # another N is another key: measured again (now with 30 samples) and the cache replaced
    monkeypatch.setattr(train_module, "generate_many", counting)
    other = _real_side(ref.test_features, n_samples=30, classifier=smoke_classifier)
    assert other.key != ref.key
    second = measure_run(tiny_run, other, "cpu")
    assert [c["n"] for c in calls[2:]] == [30, 7]
    assert abs(second["on_data"] * 30 - round(second["on_data"] * 30)) < 1e-9
    assert json.loads((tiny_run.dir / "yardstick.json").read_text()) == {"key": other.key, "measures": second}


def test_measure_run_key_follows_the_classifier_config(smoke_classifier):
    """A retrained classifier (another config hash) gives another key, so runs are re-measured."""
    ref = _real_side(torch.zeros(2, 2), n_samples=20, classifier=smoke_classifier)
    cfg = classifier_config("mnist", "smoke")
    retrained = Classifier(dataclasses.replace(cfg, epochs=cfg.epochs + 1), None, {})
    assert _real_side(torch.zeros(2, 2), n_samples=20, classifier=retrained).key != ref.key


def test_measure_run_of_an_unreadable_cache_measures_again(tiny_run, smoke_classifier):
    """A half-written or foreign yardstick.json is ignored, not trusted and not fatal."""
    ref = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    for text in ('{"key": "abc', "[1, 2]", json.dumps({"key": "0" * 12, "measures": {"fd": -1}})):
        (tiny_run.dir / "yardstick.json").write_text(text)
        out = measure_run(tiny_run, ref, "cpu")
        assert out["fd"] >= 0 and json.loads((tiny_run.dir / "yardstick.json").read_text())["key"] == ref.key


def test_measure_run_of_a_diverged_run_is_empty(tmp_path, tiny_cfg, smoke_classifier, monkeypatch):
    """A diverged run has nothing to measure (and may have no usable weights): {} and no file."""
    def must_not_generate(*args, **kwargs):
        raise AssertionError("a diverged run was sampled")

    monkeypatch.setattr(train_module, "generate_many", must_not_generate)
    run = Run(tiny_cfg("gan"), tmp_path, {"status": "diverged", "diverged_at": {"epoch": 1}}, {})
    ref = _real_side(torch.zeros(4, 128), n_samples=20, classifier=smoke_classifier)
    assert measure_run(run, ref, "cpu") == {}
    assert not (tmp_path / "yardstick.json").exists()


@pytest.mark.parametrize("damage", [b"", b"\x80", None])
def test_measure_run_of_an_unreadable_model_names_the_run(tiny_run, smoke_classifier, damage):
    from gen_core.yardstick import CorruptRun

    ref = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    path = tiny_run.dir / "model.pt"
    path.unlink() if damage is None else path.write_bytes(damage)
    with pytest.raises(CorruptRun, match=f"run {tiny_run.dir}: model.pt is unreadable"):
        measure_run(tiny_run, ref, "cpu")


def test_chapter_runs_retrains_a_run_whose_model_is_corrupt(tmp_path, tiny_cfg, smoke_classifier, monkeypatch, capfd):
    """Reported with its path, trained again, measured: the chapter and the comparison go on."""
    from gen_core.report import session

    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(32, name, seed=int(train)))
    cfg = tiny_cfg("gan", epochs=1, batch_size=16, n_samples=8, n_eval_samples=16)
    ref = _real_side(_test_features(smoke_classifier), n_samples=20, classifier=smoke_classifier)
    monkeypatch.setattr(session, "reference", lambda dataset, ctx: ref)
    ctx = session.setup("smoke", "unused", str(tmp_path), False)
    first = session.chapter_runs([cfg], "gan_mnist", ctx)[0]
    (first.dir / "yardstick.json").unlink()
    (first.dir / "model.pt").write_bytes(b"\x80")
    capfd.readouterr()
    again = session.chapter_runs([cfg], "gan_mnist", ctx)[0]
    err = capfd.readouterr().err
    assert f"run {first.dir}: model.pt is unreadable" in err and "training it again" in err
    timing = lambda y: {**y, "over_training_seconds": None,                 # noqa: E731
                        "over_training": [{**p, "train_seconds": None} for p in y["over_training"]]}
    assert timing(again.yardstick) == timing(first.yardstick)     # same seed, same weights, same measures
