"""Build a run's networks from its RunConfig."""
from __future__ import annotations

from torch import nn

from .gan import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator
from .vae import ConvVAE, MLPVAE


def build_models(cfg) -> dict[str, nn.Module]:
    """{'vae': ...} for the VAE family, {'generator': ..., 'critic': ...} for GAN and WGAN."""
    shape = cfg.image_shape
    if cfg.family == "vae":
        if cfg.arch == "mlp":
            return {"vae": MLPVAE(shape, cfg.hidden, cfg.latent_dim, cfg.dropout)}
        return {"vae": ConvVAE(shape, cfg.channels, cfg.latent_dim)}
    if cfg.arch == "mlp":
        return {"generator": MLPGenerator(cfg.latent_dim, cfg.hidden, shape),
                "critic": MLPDiscriminator(shape, cfg.d_hidden)}
    return {"generator": ConvGenerator(cfg.latent_dim, cfg.channels, shape),
            "critic": ConvDiscriminator(shape, cfg.d_channels, cfg.critic_norm)}
