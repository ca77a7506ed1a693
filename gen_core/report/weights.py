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

@dataclass
class NearestTraining:
    run: Run
    samples: torch.Tensor        # (n, C, H, W) in [0, 1]
    neighbours: torch.Tensor     # (n, C, H, W): each sample's nearest training image
    distances: torch.Tensor      # (n,) in the classifier's feature space
    sample_median: float         # median distance over `n_stats` samples
    test_median: float           # median distance of as many real test images: the baseline


@functools.lru_cache(maxsize=2)
def _training_features(dataset: str, train_size: int, ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """Classifier features (N, F) of the images a run of this size trained on, and the images (uint8)."""
    train = _split(dataset, True, train_size, ctx)
    features, _ = features_and_logits(real_side(dataset, ctx).classifier.model, to_unit(train.images))
    return features, train.images


def nearest_training(run: Run, ctx: Context, n: int = 16, n_stats: int = 500) -> NearestTraining:
    """Samples of `run` beside their nearest training image in the yardstick's feature space.

    The baseline is the same distance for real test images, which the model never saw: samples
    much closer to the training set than test images are would be copies.
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
                           float(dist.median()), float(test_dist.median()))
