"""Networks: `vae.py` (MLP and conv VAE) and `gan.py` (MLP and DC generators and critics).

Which networks a run has is its family's choice (`gen_core.families`, `train.build_models`).
"""
from .gan import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator
from .vae import ConvVAE, MLPVAE

__all__ = ["ConvDiscriminator", "ConvGenerator", "MLPDiscriminator", "MLPGenerator", "ConvVAE", "MLPVAE"]
