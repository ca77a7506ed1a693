"""The figures that need a run's weights: the tensors they draw, computed from saved models.

Chapters call these with the runs `session.chapter_runs` returned; plots.py draws the results.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import data, latent
from ..classifier import features_and_logits
from ..data import to_unit
from ..feature_measures import wilson_interval
from ..results import Run
from ..train import generate_many
from .session import Context, real_side, run_models


def _split(dataset: str, train: bool, size: int, ctx: Context):
    return data.cached_split(dataset, str(Path(ctx.data_dir).resolve()), train, str(ctx.device), size)


def interpolations(run: Run, ctx: Context) -> dict:
    """{"linear" | "spherical": (pairs * steps, C, H, W)}: the kinds of path the run's family asks for."""
    return latent.interpolations(run.config, run_models(run, ctx), ctx.device)


def manifold(run: Run, ctx: Context, n: int = 15):
    return latent.manifold(run.config, run_models(run, ctx), ctx.device, n)


def test_latent_means(run: Run, ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's means for the run's test images (N, 2) and their labels (N,)."""
    cfg = run.config
    test = _split(cfg.dataset, False, cfg.test_size, ctx)
    return latent.latent_means(cfg, run_models(run, ctx), test), test.labels.cpu()


# ---- memorization ----------------------------------------------------------------------------

# The lower tail. A generator that copies a few training images leaves the median alone but puts
# those samples nearer to a training image than almost any unseen real image gets. The threshold is
# the TAIL_QUANTILE (1st percentile) of the test images' distances to their nearest training image;
# without copying about 1% of samples fall below it. Copying is suspected when the 95% Wilson interval
# of the share below lies wholly above TAIL_MARGIN times that 1%: the margin leaves room for the
# threshold's own noise (a percentile of n test distances moves the share below it by about its
# binomial sd, sqrt(p(1-p)/n), which the Wilson interval of the samples' share does not hold).
TAIL_QUANTILE = 0.01
TAIL_MARGIN = 2.0
N_STATS = 5000    # samples (and test images, up to the test set) behind the medians and the tail: 1% of
                  # 5000 is 50 samples, whose share has a Wilson interval of about [0.76%, 1.32%]


@dataclass(frozen=True)
class LowerTail:
    """The share of samples nearer a training image than the nearest TAIL_QUANTILE of real test images."""
    threshold: float                   # the TAIL_QUANTILE quantile of test-to-train distances
    close: int                         # samples with a distance below it
    n_samples: int
    n_test: int                        # test images behind the threshold
    share_ci: tuple[float, float]      # 95% Wilson interval of close / n_samples
    expected: float = TAIL_QUANTILE    # the share without copying
    suspect_above: float = TAIL_MARGIN * TAIL_QUANTILE   # the rule: copying suspected if share_ci[0] > this

    @property
    def share(self) -> float:
        return self.close / self.n_samples

    @property
    def suspected(self) -> bool:
        return self.share_ci[0] > self.suspect_above


def lower_tail(sample_distances: torch.Tensor, test_distances: torch.Tensor,
               quantile: float = TAIL_QUANTILE) -> LowerTail:
    """LowerTail of the samples' nearest-training distances (n,) against the test images' (m,): the
    threshold is torch.quantile's (linear interpolation) `quantile` of the test distances, and a sample
    counts when strictly below it."""
    if len(sample_distances) < 1 or len(test_distances) < 1:
        raise ValueError(f"the lower tail needs distances of samples and of test images; got "
                         f"{len(sample_distances)} and {len(test_distances)}")
    threshold = float(torch.quantile(test_distances.double().cpu(), quantile))
    close = int((sample_distances.double().cpu() < threshold).sum())
    n = len(sample_distances)
    return LowerTail(threshold, close, n, len(test_distances), wilson_interval(close, n), quantile,
                     TAIL_MARGIN * quantile)


@dataclass
class NearestTraining:
    run: Run
    samples: torch.Tensor        # (n, C, H, W) in [0, 1]
    neighbours: torch.Tensor     # (n, C, H, W): each sample's nearest training image
    distances: torch.Tensor      # (n,) in the classifier's feature space
    sample_median: float         # median distance over `n_stats` samples
    test_median: float           # median distance of as many real test images: the baseline
    tail: LowerTail              # the samples' share below the test images' 1st percentile


@functools.lru_cache(maxsize=2)
def _training_features(dataset: str, train_size: int, ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """Classifier features (N, F) of the images a run of this size trained on, and the images (uint8)."""
    train = _split(dataset, True, train_size, ctx)
    features, _ = features_and_logits(real_side(dataset, ctx).classifier.model, to_unit(train.images))
    return features, train.images


def nearest_training(run: Run, ctx: Context, n: int = 16, n_stats: int = N_STATS) -> NearestTraining:
    """Samples of `run` beside their nearest training image in the yardstick's feature space.

    The baseline is the same distance for real test images (n_stats of them, or the whole test set if
    smaller), which the model never saw: samples much closer to the training set than test images are
    would be copies, in the median (most samples) or in the lower tail (a few: `lower_tail`).
    """
    cfg = run.config
    clf = real_side(cfg.dataset, ctx).classifier.model
    train_features, train_images = _training_features(cfg.dataset, cfg.train_size, ctx)
    samples = generate_many(cfg, run_models(run, ctx), n_stats, cfg.seed + 3, ctx.device)   # (n_stats, C, H, W)
    dist, idx = latent.nearest_neighbours(features_and_logits(clf, samples)[0], train_features)
    test = _split(cfg.dataset, False, cfg.test_size, ctx)
    test_dist, _ = latent.nearest_neighbours(features_and_logits(clf, to_unit(test.images[:n_stats]))[0],
                                             train_features)
    return NearestTraining(run, samples[:n].cpu(), to_unit(train_images[idx[:n]]).cpu(), dist[:n].cpu(),
                           float(dist.median()), float(test_dist.median()), lower_tail(dist, test_dist))
