"""Losses and the reports' estimates, as pure functions of network outputs.

All values are per image (VAE) or batch means (GAN, WGAN), in nats.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """Negative ELBO per image = BCE reconstruction + KL(q(z|x) || N(0, I)).

    BCE  = -sum_pixels [x log p + (1 - x) log(1 - p)],  p = sigmoid(logits)
    KL   = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)       (Kingma & Welling 2014, App. B)
    Returns (total, bce, kl), each averaged over the batch.
    """
    batch = x.shape[0]
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / batch
    return bce + kl, bce, kl


def vae_loss_per_image(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """`vae_loss` before the batch mean: (total, bce, kl), each (B,), for a standard error over images."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
    return bce + kl, bce, kl


def gan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = BCE(D(x), 1) + BCE(D(G(z)), 0) = -E[log D(x)] - E[log(1 - D(G(z)))]  (Goodfellow et al. 2014)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def gan_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss L_G = -E[log D(G(z))] (Goodfellow et al. 2014, sec. 3)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def jsd_estimate(d_loss: torch.Tensor | float):
    """JSD_hat = log 2 - L_D / 2 in nats.

    The minimax value is V(D, G) = -L_D, and for the optimal D it equals -log 4 + 2 JSD(p_data || p_g),
    so JSD = (log 4 - L_D) / 2 = log 2 - L_D / 2. D = 1/2 everywhere gives L_D = 2 log 2 and JSD_hat = 0;
    a perfect D gives L_D = 0 and JSD_hat = log 2.
    """
    return math.log(2) - d_loss / 2


def wgan_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic maximises E[f(x)] - E[f(G(z))]; we minimise its negative (Arjovsky et al. 2017)."""
    return -(real_scores.mean() - fake_scores.mean())


def wgan_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator minimises -E[f(G(z))]."""
    return -fake_scores.mean()


def interpolate(real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x_hat = eps * x + (1 - eps) * G(z): points on the lines between real and generated images.

    eps: (B, 1, ..., 1), one weight per example (Gulrajani et al. 2017, Alg. 1), broadcast over
    every pixel so that each x_hat lies on its own pair's segment; a per-pixel eps would not.
    """
    if eps.shape[0] != real.shape[0] or any(s != 1 for s in eps.shape[1:]):
        raise ValueError(f"eps of shape {tuple(eps.shape)} is not allowed; expected ({real.shape[0]}, 1, ..., 1), "
                         "one interpolation weight per example")
    return eps * real + (1 - eps) * fake


def gradient_norms(critic, x_hat: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """||grad_x f(x)||_2 at each point of x_hat (B, ...), over all its pixels: (B,)."""
    x_hat = x_hat.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).float().sum(), x_hat, create_graph=create_graph)
    return grad.flatten(1).norm(dim=1)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """GP = E_x_hat[(||grad_x_hat f(x_hat)||_2 - 1)^2]   (Gulrajani et al. 2017, eq. 3).

    The norm is over all pixels of one example; the mean over the batch. create_graph=True so
    the critic's update differentiates through the gradient (a double backward).
    """
    return ((gradient_norms(critic, interpolate(real, fake.detach(), eps), create_graph=True) - 1) ** 2).mean()


def emd_estimate(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """W_hat = E[f(x)] - E[f(G(z))]: the Earth-Mover distance up to the critic's Lipschitz constant
    (unknown under clipping; pushed towards 1 by the gradient penalty)."""
    return real_scores.mean() - fake_scores.mean()
