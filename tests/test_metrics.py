"""Metrics against hand values: sharpness and its ratio to real images, the test ELBO."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gen_core.data import Split, to_unit
from gen_core.families.vae import test_elbo as vae_test_elbo
from gen_core.metrics import sharpness, sharpness_ratio

LOG2 = math.log(2)


# ---- sharpness ----------------------------------------------------------------------------

def checkerboard(n=6):
    idx = torch.arange(n)
    return ((idx[:, None] + idx[None, :]) % 2).float()       # (n, n), 0/1 alternating


def test_sharpness_of_constant_and_linear_images_is_zero():
    assert sharpness(torch.full((2, 1, 6, 6), 0.7)) == 0.0
    # the Laplacian of a linear ramp is 0 everywhere
    ramp = torch.linspace(0, 1, 8).expand(1, 3, 8, 8)
    assert abs(sharpness(ramp)) < 1e-10


def test_sharpness_of_a_checkerboard():
    # a pixel v has 4 neighbours 1 - v: Laplacian = 4 (1 - v) - 4 v = 4 - 8 v = +-4.
    # A 6x6 board has a 4x4 valid interior: 8 values +4 and 8 values -4, mean 0,
    # unbiased variance = 16 * 16 / (16 - 1) = 256 / 15
    board = checkerboard(6)[None, None]
    assert math.isclose(sharpness(board), 256 / 15, rel_tol=1e-6)
    # channels are averaged to grey first: three equal planes give the same value
    assert math.isclose(sharpness(board.expand(1, 3, 6, 6)), 256 / 15, rel_tol=1e-6)
    # half the contrast (0.25 / 0.75): responses +-2, variance 4 * 16 / 15
    assert math.isclose(sharpness(0.25 + 0.5 * board), 64 / 15, rel_tol=1e-6)
    # the value is a mean over images: (0 + 256/15) / 2
    batch = torch.cat([torch.zeros(1, 1, 6, 6), board])
    assert math.isclose(sharpness(batch), 128 / 15, rel_tol=1e-6)


def test_sharpness_ratio_and_its_interval_by_hand():
    # real test images (uint8): a 0/255 checkerboard (256/15, above) and a blank image (0): mean 128/15.
    # samples: the board (256/15) and the half-contrast board (64/15): mean 160/15, ratio 160 / 128 = 1.25.
    # Their sd is (256 - 64) / 15 / sqrt(2), so the half width is 1.96 * sd / sqrt(2) / (128/15)
    #   = 1.96 * (192 / 2) / 128 = 1.47.
    board = checkerboard(6)[None, None]                                        # (1, 1, 6, 6) in {0, 1}
    real_test = torch.cat([board * 255, torch.zeros(1, 1, 6, 6)]).to(torch.uint8)
    out = sharpness_ratio(torch.cat([board, 0.25 + 0.5 * board]), real_test)
    assert out["sharpness_ratio"] == pytest.approx(1.25, rel=1e-6)
    assert out["sharpness_ratio_ci"] == pytest.approx([1.25 - 1.47, 1.25 + 1.47], rel=1e-6)
    # one sample has no spread to speak of: ratio (256/15) / (128/15) = 2, interval [2, 2]
    single = sharpness_ratio(board, real_test)
    assert single["sharpness_ratio"] == pytest.approx(2.0) and single["sharpness_ratio_ci"] == pytest.approx([2.0, 2.0])
    assert set(out) == {"sharpness_ratio", "sharpness_ratio_ci"}      # the pixel labeller's numbers are gone


# ---- the VAE's test ELBO ------------------------------------------------------------------

class StubVAE(nn.Module):
    """Deterministic: logits 0, a 1-d posterior with mu = mean pixel value, logvar 0."""

    def __init__(self):
        super().__init__()
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        mu = x.flatten(1).mean(dim=1, keepdim=True)
        return torch.zeros_like(x), mu, torch.zeros_like(mu)


def test_vae_test_elbo_by_hand():
    # 5 images of 2x2 pixels, constant values 0, 51, 102, 153, 255 -> means 0, 0.2, 0.4, 0.6, 1.0
    values = [0, 51, 102, 153, 255]
    images = torch.tensor(values, dtype=torch.uint8)[:, None, None, None].expand(5, 1, 2, 2).contiguous()
    test = Split(images, torch.zeros(5, dtype=torch.long))
    vae = StubVAE().train()
    out = vae_test_elbo(vae, test, batch=2)                   # batches of 2, 2, 1
    # BCE with logits 0 = log 2 per pixel, 4 pixels -> 4 log 2 per image
    # KL with logvar 0 = mu^2 / 2 -> mean over images of (0 + 0.04 + 0.16 + 0.36 + 1) / 2 = 1.56 / 10
    assert math.isclose(out["test_bce"], 4 * LOG2, rel_tol=1e-6)
    assert math.isclose(out["test_kl"], 0.156, rel_tol=1e-5)
    assert math.isclose(out["test_neg_elbo"], 4 * LOG2 + 0.156, rel_tol=1e-6)
    # standard errors over the 5 images: BCE is the same for all (se 0); KL per image is mu^2 / 2 =
    # 0, 0.02, 0.08, 0.18, 0.5, mean 0.156, squared deviations 0.024336 + 0.018496 + 0.005776
    # + 0.000576 + 0.118336 = 0.16752, sd sqrt(0.16752 / 4)
    kl_se = math.sqrt(0.16752 / 4) / math.sqrt(5)
    assert out["test_bce_se"] == pytest.approx(0.0, abs=1e-6)
    assert math.isclose(out["test_kl_se"], kl_se, rel_tol=1e-5)
    assert math.isclose(out["test_neg_elbo_se"], kl_se, rel_tol=1e-5)      # BCE adds a constant
    # evaluated in eval mode, then the training mode is restored
    assert vae.modes == [False, False, False] and vae.training


def test_vae_test_elbo_of_a_real_model_matches_a_manual_pass(tiny_cfg, split_factory):
    from gen_core.losses import vae_loss
    from gen_core.train import build_models
    vae = build_models(tiny_cfg("vae"))["vae"].eval()
    test = split_factory(6)
    torch.manual_seed(5)
    out = vae_test_elbo(vae, test, batch=4)                   # batches of 4 and 2
    torch.manual_seed(5)                                      # same posterior samples, same order
    totals = []
    with torch.no_grad():
        for idx in (slice(0, 4), slice(4, 6)):
            x = to_unit(test.images[idx])
            logits, mu, logvar = vae(x)
            totals.append(torch.stack(vae_loss(logits, x, mu, logvar)) * len(x))
    manual = (totals[0] + totals[1]) / 6                      # per-image mean over all 6
    assert out["test_neg_elbo"] == pytest.approx(manual[0].item(), rel=1e-5)
    assert out["test_bce"] == pytest.approx(manual[1].item(), rel=1e-5)
    assert out["test_kl"] == pytest.approx(manual[2].item(), rel=1e-5)
    assert not vae.training
