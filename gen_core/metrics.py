"""Sharpness of a run's samples relative to real images, measured once it has trained.

(A family's own measurements, such as the VAE's test -ELBO, live in its module; the classifier-space
yardstick, which every family shares, in yardstick.py.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .data import to_unit

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


def sharpness_ratio(samples: torch.Tensor, real_test: torch.Tensor) -> dict:
    """Sharpness of samples (N, C, H, W) in [0, 1] over that of the real test images (uint8), with a
    normal 95% interval over the samples (the real side held fixed: every run divides by it)."""
    values, real = sharpness_values(samples), sharpness(to_unit(real_test))
    ratio = float(values.mean()) / real
    half = 1.96 * float(values.std()) / len(values) ** 0.5 / real if len(values) > 1 else 0.0
    return {"sharpness_ratio": ratio, "sharpness_ratio_ci": [ratio - half, ratio + half]}
