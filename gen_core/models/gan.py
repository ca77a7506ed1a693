"""GAN generators and discriminators/critics (Goodfellow et al. 2014, Radford et al. 2016).

Discriminators return raw scores (logits). The GAN loss applies the Sigmoid inside
BCE-with-logits; the WGAN critic uses the score as is. So one class serves both.
Generators output Tanh images in [-1, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pad_to_32(x: torch.Tensor, background: float) -> torch.Tensor:
    """Pad MNIST's 28x28 to 32x32 with the background value of the model's range (0 or -1)."""
    pad = (32 - x.shape[-1]) // 2
    return F.pad(x, (pad,) * 4, value=background) if pad else x


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class MLPGenerator(nn.Module):
    """z (B, z) -> hidden (BN + LeakyReLU 0.2 after the first) -> Tanh image (B, C, H, W)."""

    def __init__(self, latent_dim: int, hidden: tuple, image_shape: tuple):
        super().__init__()
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        layers, fan_in = [], latent_dim
        for i, width in enumerate(hidden):
            layers.append(nn.Linear(fan_in, width))
            if i > 0:
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.LeakyReLU(0.2))
            fan_in = width
        n_pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.net = nn.Sequential(*layers, nn.Linear(fan_in, n_pixels), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, *self.image_shape)


class MLPDiscriminator(nn.Module):
    """image (B, C, H, W) -> hidden (LeakyReLU 0.2) -> score (B,)."""

    def __init__(self, image_shape: tuple, hidden: tuple):
        super().__init__()
        layers, fan_in = [], image_shape[0] * image_shape[1] * image_shape[2]
        for width in hidden:
            layers += [nn.Linear(fan_in, width), nn.LeakyReLU(0.2)]
            fan_in = width
        self.net = nn.Sequential(*layers, nn.Linear(fan_in, 1))

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


class ConvGenerator(nn.Module):
    """DCGAN generator for 32x32: z -> (ch[0], 4, 4) -> k4 s2 p1 doublings -> (ch[-1], 32, 32) -> C.

    The first block projects z to 4x4 as in Radford et al.; with 4 widths, three doublings
    reach 32x32 and a k3 s1 p1 convolution maps to the image channels. MNIST is cropped to 28.
    """

    def __init__(self, latent_dim: int, channels: tuple, image_shape: tuple):
        super().__init__()
        self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
        layers = [nn.ConvTranspose2d(latent_dim, channels[0], 4, 1, 0, bias=False),
                  nn.BatchNorm2d(channels[0]), nn.ReLU()]                       # (B, ch0, 4, 4)
        for a, b in zip(channels[:-1], channels[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
        size = 4 * 2 ** (len(channels) - 1)
        to_image = (nn.Conv2d(channels[-1], image_shape[0], 3, 1, 1) if size == 32 else
                    nn.ConvTranspose2d(channels[-1], image_shape[0], 4, 2, 1))  # 3 widths: one more doubling
        self.net = nn.Sequential(*layers, to_image, nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, z):
        x = self.net(z[:, :, None, None])                # (B, C, 32, 32)
        off = (32 - self.image_shape[1]) // 2
        return x[..., off: 32 - off, off: 32 - off]      # (B, C, H, W)


class ConvDiscriminator(nn.Module):
    """DCGAN discriminator / DC-WGAN critic, the generator's mirror: (C, 32, 32) -> (ch[-1], 4, 4) -> score.

    With 4 widths the first block is a k3 s1 p1 convolution at 32x32 and three k4 s2 p1
    halvings reach 4x4; a k4 convolution gives the score. BatchNorm after every block but
    the first, LeakyReLU 0.2, as in Radford et al.

    norm="layer" swaps BatchNorm for layer normalisation over (C, H, W) (GroupNorm with one
    group, per-channel scale and shift), and "none" drops it: a gradient penalty is taken per
    example, which BatchNorm breaks by mixing the examples of a batch (Gulrajani et al. 2017, 4).
    """

    def __init__(self, image_shape: tuple, channels: tuple, norm: str = "batch"):
        super().__init__()
        widths = [image_shape[0], *channels]
        size = 4 * 2 ** (len(channels) - 1)
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            keep_size = i == 0 and size == 32                                   # 4 widths: first block at 32x32
            layers.append(nn.Conv2d(a, b, 3, 1, 1, bias=True) if keep_size else
                          nn.Conv2d(a, b, 4, 2, 1, bias=i == 0))
            if i > 0 and norm != "none":
                layers.append(nn.BatchNorm2d(b) if norm == "batch" else nn.GroupNorm(1, b))
            layers.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers, nn.Conv2d(channels[-1], 1, 4, 1, 0))   # (B, 1, 1, 1)
        self.apply(dcgan_init)

    def forward(self, x):
        return self.net(pad_to_32(x, -1.0)).flatten()    # (B,)
