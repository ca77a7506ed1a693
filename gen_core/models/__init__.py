"""Model families: `vae.py` (MLP and conv VAE) and `gan.py` (MLP and DC generators and critics)."""
from .gan import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator
from .vae import ConvVAE, MLPVAE
from .build import build_models

__all__ = ["ConvDiscriminator", "ConvGenerator", "MLPDiscriminator", "MLPGenerator",
           "ConvVAE", "MLPVAE", "build_models"]
