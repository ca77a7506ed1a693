"""One yardstick for every family: measurements in the feature space of a classifier trained
on the real training set minus a held-out set (`classifier.py`), comparable across VAE, GAN and WGAN.

- Frechet distance between Gaussians fitted to features of N generated images and of the
  test set:  FD = |mu_g - mu_r|^2 + Tr(S_g) + Tr(S_r) - 2 Tr((S_r^1/2 S_g S_r^1/2)^1/2).
  Its floor is the same distance from N held-out real training images, which the classifier
  never saw, to the test set.
- On equal sets of n = min(N, test images) features each (the real side a seeded subset):
  precision and recall as k-nearest-neighbour manifolds (Kynkaanniemi et al. 2019, k = 3);
  density and coverage (Naeem et al. 2020, k = 5).
- A 95% bootstrap interval on each of those five numbers: resampled features, never new samples.
- Mode coverage: the classifier's label histogram over the samples it labels with confidence
  and that fall on the real manifold, and the one collapse rule (`collapse_state`, below).
- The same numbers at log-spaced epochs of training, from the run's snapshots (`over_training`).

Each run's numbers are cached in its folder as yardstick.json, keyed by the classifier's
hash, N and the digest of this file and metrics.py, so a retrained classifier re-measures
without retraining runs.
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import data, metrics
from .classifier import Classifier, features_and_logits, held_out_indices, load_or_train_classifier
from .data import Split, to_unit
from .digest import code_digest
from .numerics import flush_subnormals
from .store import write_json_atomic

K_PRECISION = 3          # Kynkaanniemi et al. 2019
K_DENSITY = 5            # Naeem et al. 2020
REPLICATES = 200         # bootstrap resamples behind every interval
LEVEL = 0.95
INTERMEDIATE_SHARE = 4   # the points over training measure N / 4 samples (the last: N) ...
INTERMEDIATE_REPLICATES = 100   # ... with 100 resamples: under 5% of the fastest run's training time
FIDELITY = ("fd", "precision", "recall", "density", "coverage")

# The one mode-collapse rule, used on every page (Methods states it). Labels of samples off the
# data show the classifier's bias, not the generator's modes, so a run is judged only when most of
# its samples lie on the real data's k-NN manifold (precision's test), and its label histogram
# counts only samples there that the classifier labels with at least CONFIDENT probability.
CONFIDENT = 0.9
ON_DATA_MIN = 0.5        # share of samples on the manifold below which a run is "not yet on the data"
COUNTED_MIN = 0.25       # ... or share counted (on it and confidently labelled) below which
COLLAPSED_MAX = 5        # a run whose counted samples cover at most this many classes is "collapsed"
COLLAPSE_STATES = ("not yet on the data", "collapsed", "not collapsed")


def collapse_state(on_data: float, counted: float, classes_covered: int) -> str:
    """One of COLLAPSE_STATES, from the shares of samples on the manifold and counted, and the
    classes the counted ones cover (each with at least half its uniform share)."""
    if on_data < ON_DATA_MIN or counted < COUNTED_MIN:
        return COLLAPSE_STATES[0]
    return COLLAPSE_STATES[1] if classes_covered <= COLLAPSED_MAX else COLLAPSE_STATES[2]


# ---- Frechet distance, for one set of moments or a batch of bootstrap moments ----------------

def weighted_moments(x: torch.Tensor, counts: torch.Tensor, chunk_elements: int = 2 ** 24):
    """Means (B, F) and unbiased covariances (B, F, F) of x (N, F) under B count vectors (B, N)
    (each a multiset of the rows: a bootstrap resample, or all ones for the sample itself)."""
    x = x.double()
    counts = counts.to(x.device, torch.float64)                       # resample counts are made on the CPU
    n = counts.sum(1)                                                  # (B,)
    mu = counts @ x / n[:, None]                                       # (B, F)
    per = max(1, chunk_elements // x.numel())
    second = torch.cat([torch.einsum("bn,nf,ng->bfg", c, x, x) for c in counts.split(per)])   # (B, F, F)
    cov = (second - n[:, None, None] * mu[:, :, None] * mu[:, None, :]) / (n - 1)[:, None, None]
    return mu, cov


def psd_sqrt(cov: torch.Tensor) -> torch.Tensor:
    """Symmetric square roots (..., F, F) of covariance matrices (eigenvalues clamped at 0)."""
    values, vectors = torch.linalg.eigh(cov)
    return vectors @ torch.diag_embed(values.clamp(min=0).sqrt()) @ vectors.mT


def frechet_from_moments(mu_r, sqrt_r, mu_g, cov_g) -> torch.Tensor:
    """FD per batch row: |mu_g - mu_r|^2 + Tr(S_g) + Tr(S_r) - 2 Tr((S_r^1/2 S_g S_r^1/2)^1/2).

    Tr((S_g S_r)^1/2) is computed from the symmetric S_r^1/2 S_g S_r^1/2, which has the same
    eigenvalues, so eigvalsh applies. mu: (B, F); sqrt_r, cov_g: (B, F, F) -> (B,)."""
    cross = torch.linalg.eigvalsh(sqrt_r @ cov_g @ sqrt_r).clamp(min=0).sqrt().sum(-1)
    trace_r = (sqrt_r * sqrt_r).sum((-2, -1))                           # Tr(S_r) = |S_r^1/2|_F^2
    return ((mu_g - mu_r) ** 2).sum(-1) + cov_g.diagonal(dim1=-2, dim2=-1).sum(-1) + trace_r - 2 * cross


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FD between Gaussians fitted to real (N, F) and fake (M, F) features, in float64."""
    mu_r, cov_r = weighted_moments(real, torch.ones(1, len(real)))
    mu_g, cov_g = weighted_moments(fake, torch.ones(1, len(fake)))
    return float(frechet_from_moments(mu_r, psd_sqrt(cov_r), mu_g, cov_g)[0])


def bootstrap_counts(n: int, replicates: int, seed: int) -> torch.Tensor:
    """(replicates, n) float counts: how often each of n rows is drawn in each resample of size n."""
    draws = torch.randint(n, (replicates, n), generator=torch.Generator().manual_seed(seed))
    return torch.zeros(replicates, n, dtype=torch.float64).scatter_add_(1, draws, torch.ones_like(draws, dtype=torch.float64))


def interval(replicates: torch.Tensor, estimate: float, level: float = LEVEL, low: float = 0.0,
             high: float = float("inf")) -> list[float]:
    """The 95% bootstrap interval of `estimate`: the replicates' central `level` range, moved so that
    their mean sits on the estimate, clipped to the measure's range [low, high].

    Moved, because resampling with replacement biases FD upward once more (fewer distinct points);
    the interval carries the spread of the number at this N, not the finite-N bias that every run
    measured at the same N shares (the floor included)."""
    q = torch.quantile(replicates.double(), torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64))
    shift = estimate - float(replicates.double().mean())
    return [min(max(float(v) + shift, low), high) for v in q]


# ---- k-NN manifolds: precision, recall, density, coverage ----------------------------------

def _kth_neighbour_radius(points: torch.Tensor, k: int, chunk: int = 1000) -> torch.Tensor:
    """Distance of each point (N, F) to its k-th nearest other point: (N,)."""
    radii = [torch.cdist(block, points).kthvalue(k + 1, dim=1).values    # +1: the point itself is at 0
             for block in points.split(chunk)]
    return torch.cat(radii)


@dataclass
class Balls:
    """Who lies in whose k-NN ball, for real (N, F) and fake (M, F) features."""
    fake_in_real: torch.Tensor        # (M, N): fake j within real i's K_PRECISION radius
    real_in_fake: torch.Tensor        # (N, M): real i within fake j's K_PRECISION radius
    fake_in_real_d: torch.Tensor      # (M, N): fake j within real i's k_density radius
    k_density: int = K_DENSITY


def neighbour_balls(real: torch.Tensor, fake: torch.Tensor, k_precision: int = K_PRECISION,
                    k_density: int = K_DENSITY) -> Balls:
    k = max(k_precision, k_density)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision, recall, density and coverage with k={k} need more than {k} samples per "
                         f"set; got {len(real)} real and {len(fake)} generated")
    real, fake = real.double(), fake.double()
    dist = torch.cdist(fake, real)                                            # (M, N)
    r_real, r_fake = _kth_neighbour_radius(real, k_precision), _kth_neighbour_radius(fake, k_precision)
    return Balls(dist <= r_real[None, :], dist.T <= r_fake[None, :],
                 dist <= _kth_neighbour_radius(real, k_density)[None, :], k_density)


def prdc(balls: Balls, w_real: torch.Tensor, w_fake: torch.Tensor) -> dict[str, torch.Tensor]:
    """Precision, recall, density and coverage, each averaged over its query points under count
    vectors w_real (B, N), w_fake (B, M); the balls (the manifolds) are those of the whole sets.

    With all counts 1 these are the published definitions:
      precision = 1/M sum_j 1[fake_j in some real ball]   recall = 1/N sum_i 1[real_i in some fake ball]
      density   = 1/(kM) sum_j #{real balls holding fake_j}   coverage = 1/N sum_i 1[some fake_j in real ball i]
    A bootstrap resample redraws the query points (the fakes for precision and density, the reals for
    recall and coverage). It keeps every ball: a resample holds about 63% of the distinct points, and
    the union of their balls would shrink the manifold and bias both numbers down."""
    # float32 is exact here: every sum counts at most N * max count small integers
    in_real = balls.fake_in_real.any(dim=1).float()                             # (M,)
    in_fake = balls.real_in_fake.any(dim=1).float()                             # (N,)
    balls_holding = balls.fake_in_real_d.float().sum(dim=1)                     # (M,)
    covered = balls.fake_in_real_d.any(dim=0).float()                           # (N,)
    w_real, w_fake = w_real.float().to(in_real.device), w_fake.float().to(in_real.device)
    n, m = w_real.sum(1), w_fake.sum(1)
    return {"precision": w_fake @ in_real / m, "recall": w_real @ in_fake / n,
            "density": w_fake @ balls_holding / (balls.k_density * m), "coverage": w_real @ covered / n}


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = K_PRECISION) -> tuple[float, float]:
    """precision = share of fake inside the real k-NN manifold; recall = share of real inside the fake one."""
    out = prdc(neighbour_balls(real, fake, k, k), torch.ones(1, len(real)), torch.ones(1, len(fake)))
    return float(out["precision"][0]), float(out["recall"][0])


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = K_DENSITY) -> tuple[float, float]:
    """Naeem et al.'s density (may exceed 1) and coverage (in [0, 1])."""
    out = prdc(neighbour_balls(real, fake, k, k), torch.ones(1, len(real)), torch.ones(1, len(fake)))
    return float(out["density"][0]), float(out["coverage"][0])


# ---- every number for one set of samples --------------------------------------------------------

def _subset(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    return x[data.subset_indices(len(x), n, seed).to(x.device)]


def sample_measures(features: torch.Tensor, logits: torch.Tensor, real: "RealSide",
                    replicates: int = REPLICATES, labels: bool = True) -> dict:
    """Every yardstick number for one set of samples, given their features (M, F) and logits (M, 10),
    each of FIDELITY with its 95% bootstrap interval under the key + "_ci"."""
    real_all = real.test_features
    n = min(len(features), len(real_all))
    real, fake = _subset(real_all, n, seed=3), features[:n]        # equal sets for the k-NN measures
    balls = neighbour_balls(real, fake)
    point = {k: float(v[0]) for k, v in prdc(balls, torch.ones(1, n), torch.ones(1, n)).items()}
    boot = prdc(balls, bootstrap_counts(n, replicates, seed=4), bootstrap_counts(n, replicates, seed=5))
    # FD on every sample and test image; each replicate resamples both sides
    mu_r, sqrt_r = real.real_moments(replicates)                  # row 0: the test set itself
    counts = torch.cat([torch.ones(1, len(features), dtype=torch.float64),
                        bootstrap_counts(len(features), replicates, seed=6)])
    fds = frechet_from_moments(mu_r, sqrt_r, *weighted_moments(features, counts))      # (1 + B,)
    fd, fd_replicates = float(fds[0]), fds[1:]
    out = {"fd": fd, "fd_ci": interval(fd_replicates, fd), "n_generated": len(features), "n_real": n}
    for key, value in point.items():
        out.update({key: value, f"{key}_ci": interval(boot[key], value, high=float("inf") if key == "density" else 1.0)})
    if labels:
        out.update(label_measures(logits[:n], balls))
    return out


def label_measures(logits: torch.Tensor, balls: Balls) -> dict:
    """The share of samples on the real manifold ("on_data") and of those counted for mode collapse
    (on it and confidently labelled), the counted samples' label histogram, its coverage, and the
    collapse state (`collapse_state`)."""
    inside = balls.fake_in_real.any(dim=1).cpu()                                   # (n,)
    confident = torch.softmax(logits.float(), dim=1).max(dim=1).values.cpu() >= CONFIDENT
    counted = inside & confident
    hist = metrics.label_histogram(logits.argmax(dim=1).cpu()[counted]) if counted.any() else [0.0] * 10
    cover = metrics.coverage(hist)
    on_data, share = float(inside.double().mean()), float(counted.double().mean())
    return {"on_data": on_data, "counted": share, "label_histogram": hist, **cover,
            "collapse": collapse_state(on_data, share, cover["classes_covered"])}


@dataclass
class RealSide:
    """The real side of the yardstick for one dataset and profile."""
    dataset: str
    n_samples: int                   # N: generated images per run, and held-out real images of the floor
    classifier: Classifier
    test_features: torch.Tensor      # (test images, F)
    floor: dict                      # sample_measures of the N held-out real images against the test set
    _moments: dict = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """What a run's cached yardstick.json was measured with: the classifier, N and this code."""
        payload = f"{self.classifier.config.run_hash()}:{self.n_samples}:{code_digest(measure_run)}"
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def real_moments(self, replicates: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The test features' mean and covariance square root, then those of `replicates` bootstrap
        resamples: (1 + B, F) and (1 + B, F, F), computed once and shared by every run."""
        if replicates not in self._moments:
            x = self.test_features
            counts = torch.cat([torch.ones(1, len(x), dtype=torch.float64), bootstrap_counts(len(x), replicates, seed=7)])
            mu, cov = weighted_moments(x, counts)
            self._moments[replicates] = (mu, psd_sqrt(cov))
        return self._moments[replicates]


def build_real_side(dataset: str, profile: str, n_samples: int, test_size: int, data_dir, runs_dir,
                    device, progress: bool = True) -> RealSide:
    """Train or load the classifier; embed the test set and the N held-out training images."""
    flush_subnormals()
    clf = load_or_train_classifier(dataset, profile, data_dir, runs_dir, device, progress)
    root = str(Path(data_dir).resolve())
    test: Split = data.cached_split(dataset, root, False, str(device), test_size)
    train: Split = data.cached_split(dataset, root, True, str(device), 0)
    held = held_out_indices(clf.config, len(train)).to(train.images.device)      # never trained on
    test_features, _ = features_and_logits(clf.model, to_unit(test.images))
    ref = RealSide(dataset, n_samples, clf, test_features, {})
    ref.floor = sample_measures(*features_and_logits(clf.model, to_unit(train.images[held])), ref)
    ref.real_moments(INTERMEDIATE_REPLICATES)        # once per dataset, not charged to the first run measured
    return ref


class CorruptRun(RuntimeError):
    """A finished run whose weights cannot be read back; the message names the folder."""


def load_models(run, device) -> dict:
    """A finished run's networks with its saved weights, on `device`; CorruptRun if unreadable."""
    from .train import build_models

    models = build_models(run.config)
    try:
        weights = torch.load(run.dir / "model.pt", map_location=device, weights_only=True)
        for name, model in models.items():
            model.load_state_dict(weights[name])
            model.to(device)
    except Exception as err:      # missing, truncated, not a checkpoint, another architecture
        raise CorruptRun(f"run {run.dir}: model.pt is unreadable ({type(err).__name__}) and it has no "
                         f"yardstick.json to fall back on") from None
    return models


def load_snapshot(run, path: Path, device) -> tuple[dict, dict]:
    """A snapshot's networks (those the family samples with, loaded) and its meta data."""
    from .train import build_models

    models = build_models(run.config)
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        for name, weights in state["models"].items():
            models[name].load_state_dict(weights)
        meta = {k: state[k] for k in ("epoch", "generator_images", "train_seconds")}
    except Exception as err:      # truncated, not a checkpoint, another architecture
        raise CorruptRun(f"run {run.dir}: snapshot {path.name} is unreadable ({type(err).__name__})") from None
    return {k: m.to(device) for k, m in models.items()}, meta


def _measure_models(cfg, models, real: RealSide, n: int, device, labels: bool = True,
                    replicates: int = REPLICATES) -> dict:
    from .train import generate_many

    samples = generate_many(cfg, models, n, cfg.seed + 2, device)      # (n, C, H, W) in [0, 1]
    return sample_measures(*features_and_logits(real.classifier.model, samples), real, replicates,
                           labels=labels)


def over_training(run, real: RealSide, device, final_models: dict | None = None) -> list[dict]:
    """The yardstick at each snapshot epoch and, given its networks, at the end: every point alike
    (N / INTERMEDIATE_SHARE samples, INTERMEDIATE_REPLICATES resamples; FIDELITY numbers only), since
    FD's finite-N bias differs between N and N / 4 and the points are compared with each other."""
    n = max(real.n_samples // INTERMEDIATE_SHARE, K_DENSITY + 2)
    measure = lambda models: _measure_models(run.config, models, real, n, device, labels=False,   # noqa: E731
                                             replicates=INTERMEDIATE_REPLICATES)
    points = []
    for path in run.snapshot_paths:
        models, meta = load_snapshot(run, path, device)
        points.append({**meta, **measure(models)})
    if final_models is not None:
        points.append({"epoch": run.summary.get("epochs_done"), "generator_images": run.summary.get("generator_images"),
                       "train_seconds": run.summary.get("train_seconds"), **measure(final_models)})
    return points


def measure_run(run, real: RealSide, device) -> dict:
    """The yardstick for one finished run, from its saved weights; cached in yardstick.json.

    "over_training" lists the numbers at every snapshot epoch and, last, at the end, all measured
    alike (`over_training`); "over_training_seconds" is what those points cost to measure."""
    flush_subnormals()
    path = run.dir / "yardstick.json"
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == real.key:
            return cached["measures"]
    except (OSError, ValueError, AttributeError):
        pass                                                  # absent or unreadable: measure again
    if run.diverged:
        return {}
    models = load_models(run, device)
    measures = _measure_models(run.config, models, real, real.n_samples, device)
    start = time.perf_counter()
    points = over_training(run, real, device, final_models=models)
    measures.update(over_training=points, over_training_seconds=time.perf_counter() - start)
    write_json_atomic(path, {"key": real.key, "measures": measures})
    return measures
