"""The classic GAN family (Goodfellow et al. 2014; DCGAN, Radford et al. 2016): a generator
and a discriminator playing the binary cross-entropy game, one update each per batch.

Its own estimate is the Jensen-Shannon divergence the discriminator's loss implies. The
WGAN family reuses this module's networks, sampler and generator step.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .. import losses
from ..errors import config_fail
from ..models.gan import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator
from .base import Bf16Evidence, Family, Row, autocast, eval_mode, image_batch

if TYPE_CHECKING:                     # annotations only: config imports the registry
    from ..config import RunConfig

MLP_A = dict(hidden=(128, 256, 512, 1024), d_hidden=(512, 256))
MLP_B = dict(hidden=(128, 256, 512, 768, 1024), d_hidden=(512, 256, 128))
DCGAN = dict(channels=(512, 256, 128, 64), d_channels=(64, 128, 256, 512))


def d_step(critic, opt, real: torch.Tensor, fake: torch.Tensor, amp: bool = False) -> dict:
    """(1) Update D: maximise log D(x) + log(1 - D(G(z))) on real and generated (detached) images."""
    with autocast(real, amp):
        real_logits, fake_logits = critic(real).float(), critic(fake.detach()).float()
    d_loss = losses.gan_d_loss(real_logits, fake_logits)
    opt.zero_grad(set_to_none=True)
    d_loss.backward()
    opt.step()
    d_loss = d_loss.detach()
    return {"d_loss": d_loss, "jsd": losses.jsd_estimate(d_loss),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean()}


def g_step(critic, opt, fake: torch.Tensor, loss_fn, amp: bool = False) -> dict:
    """(2) Update G through the fixed critic by `loss_fn` of its scores; `fake` carries G's graph."""
    with autocast(fake, amp):
        g_loss = loss_fn(critic(fake).float())
    opt.zero_grad(set_to_none=True)
    g_loss.backward()
    opt.step()
    return {"g_loss": g_loss.detach()}


def validate_generator_widths(cfg: RunConfig) -> None:
    """A generator and a critic of matching depth, for either architecture."""
    if cfg.arch == "mlp":
        if not cfg.hidden:
            config_fail("hidden", cfg.hidden, "at least one hidden width for an MLP")
        if not cfg.d_hidden:
            config_fail("d_hidden", cfg.d_hidden, "at least one hidden width for an MLP discriminator")
        return
    n = len(cfg.channels)
    if n not in (3, 4):
        config_fail("channels", cfg.channels, "3 or 4 generator widths (4x4 doubled to 32x32)")
    if len(cfg.d_channels) != n:
        config_fail("d_channels", cfg.d_channels, f"{n} widths, one per generator block")


class GAN(Family):
    name, title = "gan", "GAN"
    optimizer = dict(lr=2e-4, optimizer="adam", betas=(0.5, 0.999), batch_size=128)
    rows = {
        "mnist": [
            Row("MLP A", "mlp", (100, 200), MLP_A, 15),
            Row("MLP B", "mlp", (200,), MLP_B, 15),
            Row("DCGAN", "conv", (64, 256), DCGAN, 15),
        ],
        "cifar10": [
            Row("MLP", "mlp", (100,), MLP_A, 25),
            Row("DCGAN", "conv", (64, 256), DCGAN, 25),
        ],
    }
    # bf16 against fp32 at quick, seed 0, on a 2-core Xeon with AVX-512 (2026-11-21): FD [95%] from
    # `python -m gen_core.bench --amp-quality`, speed-ups from the bench's bf16 column (else --amp-quality's
    # training times). Used only on a CPU with bf16 in hardware (grid.cpu_has_native_bf16)
    bf16 = {("mnist", "mlp", None): Bf16Evidence((823, 802, 842), (844, 819, 867), 1.29),
            ("mnist", "conv", None): Bf16Evidence((183, 169, 197), (148, 134, 162), 1.33),           # apart
            ("cifar10", "mlp", None): Bf16Evidence((16.1, 15.7, 16.5), (13.6, 13.1, 14.0), 1.40),      # apart
            ("cifar10", "conv", None): Bf16Evidence((15.7, 15.1, 16.3), (8.78, 8.37, 9.18), 1.38)}     # apart
    curves = [("jsd", "JSD estimate (nats)"), ("d_loss", "discriminator loss"), ("g_loss", "generator loss")]
    estimate = ("jsd", "JSD estimate")
    watched = "d_loss"
    signed = True
    adversarial = True
    fields = ("hidden", "d_hidden", "channels", "d_channels", "critic_norm")
    interpolation_kinds = ("linear", "spherical")
    sampler_models = ("generator",)
    checks_collapse = True
    reports_collapse = True

    bench_cases = (("mnist", "MLP A"), ("mnist", "DCGAN"))
    bench_goals = {"cpu": {"mlp": 1.1}, "cuda": {"mlp": 3.0}}      # issue 4's goals
    def validate(self, cfg: RunConfig) -> None:
        super().validate(cfg)
        if cfg.critic_norm != "batch" and cfg.arch != "conv":
            config_fail("critic_norm", cfg.critic_norm, "'batch' (the default) unless the model has a conv critic")
        validate_generator_widths(cfg)

    def build_models(self, cfg: RunConfig) -> dict:
        shape = cfg.image_shape
        if cfg.arch == "mlp":
            return {"generator": MLPGenerator(cfg.latent_dim, cfg.hidden, shape),
                    "critic": MLPDiscriminator(shape, cfg.d_hidden)}
        return {"generator": ConvGenerator(cfg.latent_dim, cfg.channels, shape),
                "critic": ConvDiscriminator(shape, cfg.d_channels, cfg.critic_norm)}

    def run_epoch(self, cfg, models, opts, train, batches, log, first_step):
        G, D = models["generator"], models["critic"]
        for idx in batches:
            real = image_batch(cfg, train, idx, signed=True)
            with autocast(real, cfg.amp):
                fake = G(torch.randn(len(idx), cfg.latent_dim, device=real.device))
            stats = d_step(D, opts["critic"], real, fake, cfg.amp)
            # non-saturating G loss: maximise log D(G(z))
            stats.update(g_step(D, opts["generator"], fake, losses.gan_g_loss, cfg.amp))
            log.append(stats)

    @torch.inference_mode()
    def generate(self, cfg, models, z):
        """Tanh images mapped to [0, 1], in eval mode: BatchNorm normalises with the running statistics
        of training, so an image does not depend on the other latents of its batch."""
        with eval_mode(models["generator"]):
            return (models["generator"](z) + 1) / 2

    def reference_step(self, cfg, models, opts, real, step):
        """examples/dcgan: D on real then fake, then G, with BCE and .item() every step."""
        G, D = models["generator"], models["critic"]
        noise = torch.randn(real.size(0), cfg.latent_dim, device=real.device)
        ones, zeros = torch.ones(real.size(0), device=real.device), torch.zeros(real.size(0), device=real.device)
        D.zero_grad()
        out_real = D(real)
        F.binary_cross_entropy_with_logits(out_real, ones).backward()
        fake = G(noise)
        out_fake = D(fake.detach())
        F.binary_cross_entropy_with_logits(out_fake, zeros).backward()
        total = out_real.mean().item() + out_fake.mean().item()
        opts["critic"].step()
        G.zero_grad()
        out = D(fake)
        F.binary_cross_entropy_with_logits(out, ones).backward()
        opts["generator"].step()
        return total + out.mean().item()


FAMILY = GAN()
