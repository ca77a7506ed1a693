"""The figures that need a run's weights: which runs they show, and the tensors they draw.

Chapters call these with the runs `chapter.chapter_runs` returned; plots.py draws the results.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from . import latent
from .chapter import Context, _complete, _fmt, average_seeds, reference, value
from .classifier import features_and_logits
from .data import to_unit
from .results import Run, _cached_split, load_or_train, report_problem
from .train import generate_many
from .yardstick import CorruptRun, load_models


def run_models(run: Run, ctx: Context) -> dict:
    """The run's networks; a run whose model.pt cannot be read is reported and trained again."""
    try:
        return load_models(run, ctx.device)
    except CorruptRun as err:
        report_problem(f"{err}; training it again")
        return load_models(load_or_train(run.config, ctx.data_dir, ctx.runs_dir, ctx.device, force=True), ctx.device)


def best_run(runs: list[Run]) -> Run | None:
    """The configuration with the lowest FD (seed mean): its seed-0 run, or another seed's if 0 diverged."""
    done = _complete(average_seeds(runs))
    if not done:
        return None
    best = min(done, key=lambda r: value(r, "fd")).config
    same = [r for r in runs if dataclasses.replace(r.config, seed=0) == dataclasses.replace(best, seed=0)
            and not r.diverged]
    return min(same, key=lambda r: r.config.seed)


def interpolations(run: Run, ctx: Context) -> dict:
    """{"linear" | "spherical": (pairs * steps, C, H, W)} for one run (spherical for GANs only)."""
    return latent.interpolations(run.config, run_models(run, ctx), ctx.device)


def two_d_vaes(runs: list[Run]) -> list[Run]:
    """The VAE runs with a 2-dimensional latent (seed 0, not diverged): the ones a plane can show."""
    return [r for r in runs if r.config.family == "vae" and r.config.latent_dim == 2 and r.config.seed == 0
            and not r.diverged]


def manifold(run: Run, ctx: Context, n: int = 15):
    return latent.manifold(run.config, run_models(run, ctx), ctx.device, n)


def test_latent_means(run: Run, ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """mu(x) for the run's test images (N, 2) and their labels (N,)."""
    cfg = run.config
    test = _cached_split(cfg.dataset, str(Path(ctx.data_dir).resolve()), False, str(ctx.device), cfg.test_size)
    return latent.latent_means(run_models(run, ctx)["vae"], test), test.labels.cpu()


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
    train = _cached_split(dataset, str(Path(ctx.data_dir).resolve()), True, str(ctx.device), train_size)
    features, _ = features_and_logits(reference(dataset, ctx).classifier.model, to_unit(train.images))
    return features, train.images


def nearest_training(run: Run, ctx: Context, n: int = 16, n_stats: int = 500) -> NearestTraining:
    """Samples of `run` beside their nearest training image in the yardstick's feature space.

    The baseline is the same distance for real test images, which the model never saw: samples
    much closer to the training set than test images are would be copies.
    """
    cfg = run.config
    clf = reference(cfg.dataset, ctx).classifier.model
    train_features, train_images = _training_features(cfg.dataset, cfg.train_size, ctx)
    samples = generate_many(cfg, run_models(run, ctx), n_stats, cfg.seed + 3, ctx.device)   # (n_stats, C, H, W)
    dist, idx = latent.nearest_neighbours(features_and_logits(clf, samples)[0], train_features)
    test = _cached_split(cfg.dataset, str(Path(ctx.data_dir).resolve()), False, str(ctx.device), cfg.test_size)
    test_dist, _ = latent.nearest_neighbours(features_and_logits(clf, to_unit(test.images[:n_stats]))[0],
                                             train_features)
    return NearestTraining(run, samples[:n].cpu(), to_unit(train_images[idx[:n]]).cpu(), dist[:n].cpu(),
                           float(dist.median()), float(test_dist.median()))


def memorization_candidates(runs: list[Run], dataset: str) -> list[Run]:
    """The best GAN (GAN or WGAN family) and the best VAE on `dataset`, by FD."""
    on_dataset = [r for r in runs if r.config.dataset == dataset]
    picks = [best_run([r for r in on_dataset if r.config.family in ("gan", "wgan")]),
             best_run([r for r in on_dataset if r.config.family == "vae"])]
    return [r for r in picks if r is not None]


def memorization_sentence(found: NearestTraining) -> str:
    """Markdown: are samples closer to the training set than unseen real images are?"""
    ratio = found.sample_median / found.test_median
    verdict = ("closer to the training set than unseen real images are, a sign of copying" if ratio < 0.5 else
               "no closer to the training set than unseen real images are: no sign of copying")
    return (f"{found.run.config.family.upper()} {found.run.config.label}: the median distance from a sample to its "
            f"nearest training image is {_fmt(found.sample_median)}, against {_fmt(found.test_median)} for real test "
            f"images (ratio {ratio:.2f}); its samples are {verdict}.")
