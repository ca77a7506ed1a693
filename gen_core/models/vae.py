"""Variational autoencoders (Kingma & Welling 2014): an MLP and a convolutional one.

Both return decoder *logits*; the loss uses BCE-with-logits, which equals BCE after a
Sigmoid but does not saturate. Images are in [0, 1].
"""
from __future__ import annotations

import torch
from torch import nn

from .gan import pad_to_32


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): sampling that gradients can flow through."""
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLPVAE(nn.Module):
    """x (B, C*H*W) -> hidden -> (mu, logvar) (B, z); decoder mirrors the encoder."""

    def __init__(self, image_shape: tuple, hidden: tuple, latent_dim: int, dropout: float = 0.0):
        super().__init__()
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        n_pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.encoder = _mlp([n_pixels, *hidden], dropout)
        self.to_stats = nn.Linear(hidden[-1], 2 * latent_dim)
        self.decoder = nn.Sequential(_mlp([latent_dim, *reversed(hidden)], dropout),
                                     nn.Linear(hidden[0], n_pixels))

    def encode(self, x):
        mu, logvar = self.to_stats(self.encoder(x.flatten(1))).chunk(2, dim=1)  # (B, z) each
        return mu, logvar

    def decode(self, z):
        return self.decoder(z).view(-1, *self.image_shape)  # logits (B, C, H, W)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


class ConvVAE(nn.Module):
    """Encoder C-32-64-128 (k4 s2 p1) on 32x32, linear 2048 -> 2z; the decoder mirrors it."""

    def __init__(self, image_shape: tuple, channels: tuple, latent_dim: int):
        super().__init__()
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        in_ch = image_shape[0]
        widths = [in_ch, *channels]
        self.bottom = 32 // 2 ** len(channels)            # spatial size after the encoder
        flat = channels[-1] * self.bottom ** 2           # 128 * 4 * 4 = 2048 in the reports
        enc = []
        for a, b in zip(widths[:-1], widths[1:]):
            enc += [nn.Conv2d(a, b, 4, 2, 1), nn.ReLU()]
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.to_stats = nn.Linear(flat, 2 * latent_dim)
        self.from_latent = nn.Linear(latent_dim, flat)
        dec = []
        for a, b in zip(widths[:0:-1], widths[-2::-1]):
            dec += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.ReLU()]
        self.decoder = nn.Sequential(*dec[:-1])          # last layer emits logits, no ReLU

    def encode(self, x):
        h = self.encoder(pad_to_32(x, 0.0))              # (B, 2048)
        mu, logvar = self.to_stats(h).chunk(2, dim=1)    # (B, z) each
        return mu, logvar

    def decode(self, z):
        h = self.from_latent(z).relu().view(len(z), -1, self.bottom, self.bottom)  # (B, 128, 4, 4)
        logits = self.decoder(h)                         # (B, C, 32, 32)
        return crop_to(logits, self.image_shape[1])

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar


def crop_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-crop a (B, C, 32, 32) output to (B, C, size, size); MNIST is 28."""
    off = (x.shape[-1] - size) // 2
    return x[..., off: off + size, off: off + size] if off else x
