"""One yardstick for every family: measurements in the feature space of a classifier trained
on the real training set (`classifier.py`), comparable across VAE, GAN and WGAN.

- Frechet distance between Gaussians fitted to features of N generated images and of the
  test set:  FD = |mu_g - mu_r|^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2)).  Computed by
  torchmetrics' FrechetInceptionDistance with our classifier as its custom feature extractor.
  Its floor is the same distance from N real training images to the test set.
- Precision and recall as k-nearest-neighbour manifolds (Kynkaanniemi et al. 2019, k = 3).
- Mode coverage: the classifier's label histogram over the samples (`metrics.coverage`).

Each run's numbers are cached in its folder as yardstick.json, keyed by the classifier's
hash, N and this file's digest, so a retrained classifier re-measures without retraining runs.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import data, metrics
from .classifier import Classifier, features_and_logits, load_or_train_classifier
from .data import Split, to_unit
from .store import write_json_atomic

K_NEAREST = 3


class _GivenFeatures(nn.Module):
    """Identity 'extractor': features are computed once and shared by every measurement."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features):
        return features


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FD between Gaussians fitted to real (N, F) and fake (M, F) features (torchmetrics, float64)."""
    from torchmetrics.image.fid import FrechetInceptionDistance      # slow to import: only when measuring

    fid = FrechetInceptionDistance(feature=_GivenFeatures(real.shape[1]), normalize=True).to(real.device)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    return float(fid.compute())


def _kth_neighbour_radius(points: torch.Tensor, k: int, chunk: int = 1000) -> torch.Tensor:
    """Distance of each point (N, F) to its k-th nearest other point: (N,)."""
    radii = [torch.cdist(block, points).kthvalue(k + 1, dim=1).values    # +1: the point itself is at 0
             for block in points.split(chunk)]
    return torch.cat(radii)


def _inside_manifold(queries: torch.Tensor, points: torch.Tensor, radii: torch.Tensor,
                     chunk: int = 1000) -> torch.Tensor:
    """For each query (Q, F): is it within radius of at least one point (N, F)? -> (Q,) bool."""
    return torch.cat([(torch.cdist(block, points) <= radii[None, :]).any(dim=1) for block in queries.split(chunk)])


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = K_NEAREST) -> tuple[float, float]:
    """precision = share of fake inside the real k-NN manifold; recall = share of real inside the fake one."""
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples per set; "
                         f"got {len(real)} real and {len(fake)} generated")
    real, fake = real.double(), fake.double()
    precision = _inside_manifold(fake, real, _kth_neighbour_radius(real, k)).double().mean()
    recall = _inside_manifold(real, fake, _kth_neighbour_radius(fake, k)).double().mean()
    return float(precision), float(recall)


def sample_measures(features: torch.Tensor, logits: torch.Tensor, reference: "Reference") -> dict:
    """Every yardstick number for one set of samples, given their features (N, F) and logits (N, 10)."""
    hist = metrics.label_histogram(logits.argmax(dim=1))
    precision, recall = precision_recall(reference.test_features, features)
    return {"fd": frechet_distance(reference.test_features, features), "precision": precision,
            "recall": recall, "label_histogram": hist, **metrics.coverage(hist)}


@dataclass
class Reference:
    """The real side of the yardstick for one dataset and profile."""
    dataset: str
    n_samples: int                   # N: generated images per run, and real training images of the floor
    classifier: Classifier
    test_features: torch.Tensor      # (test images, F)
    floor: dict                      # sample_measures of N real training images against the test set

    @property
    def key(self) -> str:
        payload = f"{self.classifier.config.run_hash()}:{self.n_samples}:{_source_digest()}"
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes() + Path(metrics.__file__).read_bytes()).hexdigest()


def build_reference(dataset: str, profile: str, n_samples: int, test_size: int, data_dir, runs_dir,
                    device, progress: bool = True) -> Reference:
    """Train or load the classifier; embed the test set and N training images (a fixed random subset)."""
    clf = load_or_train_classifier(dataset, profile, data_dir, runs_dir, device, progress)
    root = str(Path(data_dir).resolve())
    test: Split = data.cached_split(dataset, root, False, str(device), test_size)
    train: Split = data.cached_split(dataset, root, True, str(device), 0)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:n_samples].to(train.images.device)
    test_features, _ = features_and_logits(clf.model, to_unit(test.images))
    ref = Reference(dataset, n_samples, clf, test_features, {})
    ref.floor = sample_measures(*features_and_logits(clf.model, to_unit(train.images[pick])), ref)
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


def measure_run(run, reference: Reference, device) -> dict:
    """The yardstick for one finished run, from its saved weights; cached in yardstick.json."""
    from .train import generate_many

    path = run.dir / "yardstick.json"
    try:
        cached = json.loads(path.read_text())
        if cached.get("key") == reference.key:
            return cached["measures"]
    except (OSError, ValueError, AttributeError):
        pass                                                  # absent or unreadable: measure again
    if run.diverged:
        return {}
    cfg = run.config
    models = load_models(run, device)
    samples = generate_many(cfg, models, reference.n_samples, cfg.seed + 2, device)   # (N, C, H, W) in [0, 1]
    measures = sample_measures(*features_and_logits(reference.classifier.model, samples), reference)
    write_json_atomic(path, {"key": reference.key, "measures": measures})
    return measures
