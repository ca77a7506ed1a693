"""Model output shapes and ranges for both datasets, and build_models over the smoke grid."""
from __future__ import annotations

import pytest
import torch

from gen_core.grid import full_grid
from gen_core.models import ConvDiscriminator, ConvGenerator, ConvVAE, MLPDiscriminator, MLPGenerator, MLPVAE
from gen_core.train import build_models
from gen_core.models.gan import pad_to_32
from gen_core.models.vae import crop_to, reparameterize

SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
B, Z = 3, 5


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def blow_up(module, factor=50.0):
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(factor)


def images01(shape):
    return torch.rand(B, *shape)


@pytest.mark.parametrize("dataset", SHAPES)
@pytest.mark.parametrize("hidden, dropout", [((16,), 0.0), ((16, 8), 0.3)])
def test_mlp_vae_shapes(dataset, hidden, dropout):
    shape = SHAPES[dataset]
    vae = MLPVAE(shape, hidden, Z, dropout)
    logits, mu, logvar = vae(images01(shape))
    assert logits.shape == (B, *shape)
    assert mu.shape == (B, Z) and logvar.shape == (B, Z)
    assert vae.decode(torch.zeros(2, Z)).shape == (2, *shape)


@pytest.mark.parametrize("dataset", SHAPES)
@pytest.mark.parametrize("channels", [(4,), (4, 8), (4, 8, 8)])
def test_conv_vae_shapes(dataset, channels):
    shape = SHAPES[dataset]
    vae = ConvVAE(shape, channels, Z)
    # bottom = 32 / 2^len(channels): 16, 8, 4
    assert vae.bottom == 32 // 2 ** len(channels)
    logits, mu, logvar = vae(images01(shape))
    assert logits.shape == (B, *shape)
    assert mu.shape == (B, Z) and logvar.shape == (B, Z)
    # logits are unbounded (no Sigmoid inside): a decoder with big weights leaves [0, 1]
    with torch.no_grad():
        for p in vae.parameters():
            p.fill_(0.5)
    out = vae.decode(torch.ones(2, Z))
    assert out.shape == (2, *shape)
    assert out.max() > 1.0


@pytest.mark.parametrize("dataset", SHAPES)
def test_mlp_generator_shape_and_range(dataset):
    shape = SHAPES[dataset]
    g = MLPGenerator(Z, (16, 16), shape)
    x = g(torch.randn(B, Z))
    assert x.shape == (B, *shape)
    assert x.min() >= -1 and x.max() <= 1
    blow_up(g)                           # pre-activations far beyond 1: Tanh must bound them
    x = g(torch.randn(B, Z))
    assert x.min() >= -1 and x.max() <= 1
    assert x.min() < -0.99 and x.max() > 0.99


@pytest.mark.parametrize("dataset", SHAPES)
@pytest.mark.parametrize("channels", [(8, 4, 4), (16, 8, 4, 4)])
def test_conv_generator_shape_and_range(dataset, channels):
    shape = SHAPES[dataset]
    g = ConvGenerator(Z, channels, shape)
    x = g(torch.randn(B, Z))
    assert x.shape == (B, *shape)
    assert x.min() >= -1 and x.max() <= 1
    blow_up(g)
    x = g(torch.randn(B, Z))
    assert x.min() >= -1 and x.max() <= 1
    assert x.min() < -0.99 and x.max() > 0.99


@pytest.mark.parametrize("dataset", SHAPES)
def test_mlp_discriminator_shape(dataset):
    shape = SHAPES[dataset]
    d = MLPDiscriminator(shape, (16, 8))
    assert d(torch.rand(B, *shape) * 2 - 1).shape == (B,)


@pytest.mark.parametrize("dataset", SHAPES)
@pytest.mark.parametrize("channels", [(4, 8, 8), (4, 8, 8, 8)])
def test_conv_discriminator_shape(dataset, channels):
    shape = SHAPES[dataset]
    d = ConvDiscriminator(shape, channels)
    scores = d(torch.rand(B, *shape) * 2 - 1)
    assert scores.shape == (B,)


@pytest.mark.parametrize("norm, independent", [("batch", False), ("layer", True), ("none", True)])
def test_conv_critic_norm_decides_whether_examples_mix(norm, independent):
    # a gradient penalty is per example: in train mode BatchNorm makes one image's score depend
    # on the rest of the batch; layer norm and no norm do not
    torch.manual_seed(0)
    d = ConvDiscriminator((1, 28, 28), (4, 8, 8), norm).train()
    batch = torch.rand(4, 1, 28, 28) * 2 - 1
    other = batch.clone()
    other[1:] = torch.rand(3, 1, 28, 28) * 2 - 1             # same first image, different company
    same = torch.allclose(d(batch)[0], d(other)[0], atol=1e-6)
    assert same == independent
    kinds = {type(m).__name__ for m in d.modules()}
    assert ("BatchNorm2d" in kinds, "GroupNorm" in kinds) == (norm == "batch", norm == "layer")


def test_pad_and_crop():
    x = torch.zeros(1, 1, 28, 28)
    padded = pad_to_32(x, -1.0)
    assert padded.shape == (1, 1, 32, 32)
    # (32 - 28) / 2 = 2 rows/cols of background on each side, the image inside
    assert padded[0, 0, 0, 0] == -1 and padded[0, 0, 1, 31] == -1 and padded[0, 0, 2, 2] == 0
    assert (padded == -1).sum() == 32 * 32 - 28 * 28
    y = torch.zeros(1, 3, 32, 32)
    assert pad_to_32(y, -1.0) is y
    z = torch.arange(32.0).expand(1, 1, 32, 32)
    cropped = crop_to(z, 28)
    assert cropped.shape == (1, 1, 28, 28) and cropped[0, 0, 0, 0] == 2 and cropped[0, 0, 0, -1] == 29
    assert crop_to(z, 32) is z


def test_reparameterize_uses_sigma_not_variance():
    mu = torch.full((20000, 1), 3.0)
    logvar = torch.full((20000, 1), 2 * torch.log(torch.tensor(2.0)))   # sigma = 2, variance 4
    z = reparameterize(mu, logvar)
    assert abs(z.mean().item() - 3.0) < 0.1
    assert abs(z.std().item() - 2.0) < 0.1
    # logvar -> -inf collapses to the mean
    assert torch.equal(reparameterize(mu[:3], torch.full((3, 1), -1e4)), mu[:3])


@pytest.mark.parametrize("cfg", full_grid("smoke"), ids=lambda c: c.run_name().rsplit("-", 1)[0])
def test_build_models_for_every_smoke_config(cfg):
    models = build_models(cfg)
    shape = cfg.image_shape
    if cfg.family == "vae":
        assert set(models) == {"vae"}
        vae = models["vae"]
        assert isinstance(vae, MLPVAE if cfg.arch == "mlp" else ConvVAE)
        logits, mu, logvar = vae(torch.rand(2, *shape))
        assert logits.shape == (2, *shape) and mu.shape == (2, cfg.latent_dim)
        return
    assert set(models) == {"generator", "critic"}
    g, d = models["generator"], models["critic"]
    assert isinstance(g, MLPGenerator if cfg.arch == "mlp" else ConvGenerator)
    assert isinstance(d, MLPDiscriminator if cfg.arch == "mlp" else ConvDiscriminator)
    x = g(torch.randn(2, cfg.latent_dim))
    assert x.shape == (2, *shape)
    assert d(x).shape == (2,)


def test_build_models_uses_the_config_widths(tiny_cfg):
    cfg = tiny_cfg("gan", "cifar10", "mlp", hidden=(12, 24), d_hidden=(20,), latent_dim=6)
    models = build_models(cfg)
    linears = [m for m in models["generator"].modules() if isinstance(m, torch.nn.Linear)]
    # 6 -> 12 -> 24 -> 3 * 32 * 32 = 3072
    assert [(l.in_features, l.out_features) for l in linears] == [(6, 12), (12, 24), (24, 3072)]
    linears = [m for m in models["critic"].modules() if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(3072, 20), (20, 1)]
