"""What the latent-space and memorization figures draw, computed from a run's saved weights.

- interpolations: straight lines between random latents (all families) and great-circle
  arcs (slerp, for the GANs, whose Gaussian latents concentrate near a sphere);
- a 2-D latent: the decoder over a grid of latent values, and (for families with an encoder)
  the test set's latent means;
- memorization: each sample's nearest training image in the yardstick classifier's features.
"""
from __future__ import annotations

import torch

from . import families
from .data import Split, to_unit
from .train import generate


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """z(t) = (1 - t) z0 + t z1. z0, z1: (D,), t: (T,) -> (T, D)."""
    t = t[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """z(t) = sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1, cos W = <z0, z1> / (|z0| |z1|).

    (Shoemake 1985; White 2016 for GAN latents.) Falls back to lerp for (anti)parallel ends,
    where the arc is undefined. z0, z1: (D,), t: (T,) -> (T, D).
    """
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1, 1))
    if torch.sin(omega).abs() < 1e-6:
        return lerp(z0, z1, t)
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def interpolation_latents(latent_dim: int, pairs: int, steps: int, kind: str, seed: int) -> torch.Tensor:
    """`pairs` paths of `steps` latents each, between random N(0, I) ends: (pairs * steps, D)."""
    if kind not in ("linear", "spherical"):
        raise ValueError(f"interpolation kind={kind!r} is not allowed; expected linear or spherical")
    gen = torch.Generator().manual_seed(seed)
    ends = torch.randn(pairs, 2, latent_dim, generator=gen)
    t = torch.linspace(0, 1, steps)
    path = lerp if kind == "linear" else slerp
    return torch.cat([path(a, b, t) for a, b in ends])


def interpolations(cfg, models: dict, device, pairs: int = 4, steps: int = 10, seed: int = 7) -> dict:
    """{kind: images (pairs * steps, C, H, W) in [0, 1]} for the kinds of path the family asks for
    (linear for every family, spherical too for the GANs)."""
    kinds = families.get(cfg.family).interpolation_kinds
    return {kind: generate(cfg, models, interpolation_latents(cfg.latent_dim, pairs, steps, kind, seed).to(device))
            .cpu() for kind in kinds}


def manifold_latents(n: int, quantile: float = 0.05) -> torch.Tensor:
    """An n x n grid of 2-D latents at N(0, 1) quantiles from `quantile` to 1 - `quantile`,
    row-major, with z_2 falling down the rows and z_1 rising along them (as a plot's axes): (n * n, 2)."""
    values = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(quantile, 1 - quantile, n))
    z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


def manifold(cfg, models: dict, device, n: int = 15) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2-D VAE's decoded means over the grid: (n * n, C, H, W) in [0, 1], and the latent values (n,)."""
    if cfg.latent_dim != 2:
        raise ValueError(f"{cfg.label}: the manifold needs a 2-dimensional latent")
    z = manifold_latents(n)
    return generate(cfg, models, z.to(device)).cpu(), z[:n, 0]


@torch.inference_mode()
def latent_means(cfg, models: dict, split: Split, batch: int = 1000) -> torch.Tensor:
    """The encoder's mean for every image of `split`: (N, latent_dim), in eval mode (no dropout)."""
    family = families.get(cfg.family)
    if not family.encodes:
        raise ValueError(f"{cfg.label}: latent means need a family with an encoder; {family.title} has none")
    was_training = {k: m.training for k, m in models.items()}
    for m in models.values():
        m.eval()
    mu = torch.cat([family.encode(models, to_unit(images)) for images in split.images.split(batch)])
    for k, m in models.items():
        m.train(was_training[k])
    return mu.cpu()


def nearest_neighbours(queries: torch.Tensor, points: torch.Tensor, chunk: int = 2048):
    """Euclidean nearest neighbour of each query among `points`: distances (Q,) and indices (Q,).

    queries (Q, F), points (N, F); chunked over N so a 60 000-image training set fits in memory.
    """
    best_d = torch.full((len(queries),), float("inf"), device=queries.device)
    best_i = torch.zeros(len(queries), dtype=torch.long, device=queries.device)
    for start in range(0, len(points), chunk):
        d = torch.cdist(queries, points[start: start + chunk])          # (Q, chunk)
        d_min, i_min = d.min(dim=1)
        closer = d_min < best_d
        best_d = torch.where(closer, d_min, best_d)
        best_i = torch.where(closer, i_min + start, best_i)
    return best_d, best_i
