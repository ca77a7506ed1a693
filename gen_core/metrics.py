"""Measurements taken once a run has trained, from its models and the real test set.

(A family's own measurements, such as the VAE's test -ELBO, live in its module.)

- Every family: sharpness of samples relative to real images, and the label histogram of
  samples under a pixel-space 1-nearest-neighbour labeller, the classes it covers and the
  KL divergence to uniform. The labeller is exact enough on MNIST to show mode collapse; on
  CIFAR-10 pixel distances say little about classes, so its accuracy is reported beside it.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .data import Split, to_unit

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def sharpness_values(images: torch.Tensor) -> torch.Tensor:
    """Per image, the variance of the Laplacian of the grey image: (N,); images (N, C, H, W) in [0, 1]."""
    grey = images.float().mean(dim=1, keepdim=True)                       # (N, 1, H, W)
    response = F.conv2d(grey, _LAPLACIAN.to(grey)[None, None])             # (N, 1, H-2, W-2)
    return response.flatten(1).var(dim=1)


def sharpness(images: torch.Tensor) -> float:
    """Mean variance of the Laplacian of the grey image; images (N, C, H, W) in [0, 1].

    Blur lowers it; the report divides by the same value on real test images.
    """
    return float(sharpness_values(images).mean())


def nearest_labels(queries: torch.Tensor, reference: Split, batch: int = 500) -> torch.Tensor:
    """Label of each query's nearest reference image in pixel space; queries (N, C, H, W) in [0, 1]."""
    ref = to_unit(reference.images).flatten(1)                            # (M, D)
    out = []
    for chunk in queries.flatten(1).float().split(batch):                  # (b, D)
        out.append(reference.labels[torch.cdist(chunk, ref).argmin(dim=1)])
    return torch.cat(out)


def label_histogram(labels: torch.Tensor, n_classes: int = 10) -> list[float]:
    """Fraction of samples per class."""
    counts = torch.bincount(labels.long().cpu(), minlength=n_classes).float()
    return (counts / counts.sum()).tolist()


def coverage(histogram: list[float]) -> dict[str, float]:
    """Classes that get at least half their uniform share, and KL(histogram || uniform) in nats.

    All samples in one of 10 classes: 1 class covered and KL = log 10.
    """
    k = len(histogram)
    covered = sum(p >= 0.5 / k for p in histogram)
    kl = sum(p * math.log(p * k) for p in histogram if p > 0)
    return {"classes_covered": int(covered), "kl_to_uniform": kl}


def sample_metrics(samples: torch.Tensor, real_test: torch.Tensor, reference: Split) -> dict:
    """Sharpness ratio (with a normal 95% interval over the samples, the real side held fixed) and
    pixel-1-NN mode coverage of samples (N, C, H, W) in [0, 1]."""
    hist = label_histogram(nearest_labels(samples, reference))
    values, real = sharpness_values(samples), sharpness(to_unit(real_test))
    ratio = float(values.mean()) / real
    half = 1.96 * float(values.std()) / len(values) ** 0.5 / real if len(values) > 1 else 0.0
    return {"sharpness_ratio": ratio, "sharpness_ratio_ci": [ratio - half, ratio + half],
            "label_histogram": hist, **coverage(hist)}


def labeller_accuracy(test: Split, reference: Split) -> float:
    """How often the pixel 1-NN labeller gets real test images right."""
    predicted = nearest_labels(to_unit(test.images), reference)
    return float((predicted == test.labels).float().mean())
