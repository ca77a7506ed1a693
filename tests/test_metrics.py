"""Metrics against hand values: coverage, sharpness, the 1-NN labeller, the test ELBO."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gen_core.data import Split, to_unit
from gen_core.metrics import (coverage, label_histogram, labeller_accuracy, nearest_labels, sample_metrics,
                              sharpness, sharpness_values)
from gen_core.families.vae import test_elbo as vae_test_elbo

LOG2 = math.log(2)


# ---- coverage and histograms --------------------------------------------------------------

def test_coverage_of_one_class():
    # p = (1, 0, ..., 0): one class covered; KL = 1 * log(1 * 10) = log 10
    out = coverage([1.0] + [0.0] * 9)
    assert out["classes_covered"] == 1
    assert math.isclose(out["kl_to_uniform"], math.log(10))


def test_coverage_of_uniform():
    # p = 1/10 each: all 10 covered; KL = sum 0.1 log(0.1 * 10) = 0
    out = coverage([0.1] * 10)
    assert out["classes_covered"] == 10
    assert abs(out["kl_to_uniform"]) < 1e-12


def test_coverage_of_two_halves_and_threshold():
    # two classes at 1/2: KL = 2 * 0.5 * log(0.5 * 10) = log 5
    out = coverage([0.5, 0.5] + [0.0] * 8)
    assert out["classes_covered"] == 2 and math.isclose(out["kl_to_uniform"], math.log(5))
    # threshold is half the uniform share, 0.5 / 10 = 0.05: 0.05 counts, 0.04 does not
    hist = [0.55, 0.05, 0.36, 0.04] + [0.0] * 6
    out = coverage(hist)
    assert out["classes_covered"] == 3
    expected = 0.55 * math.log(5.5) + 0.05 * math.log(0.5) + 0.36 * math.log(3.6) + 0.04 * math.log(0.4)
    assert math.isclose(out["kl_to_uniform"], expected)


def test_label_histogram():
    hist = label_histogram(torch.tensor([0, 0, 1, 3]))
    # counts 2, 1, 0, 1 of 4 -> 0.5, 0.25, 0, 0.25, then zeros up to 10 classes
    assert hist == [0.5, 0.25, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert label_histogram(torch.tensor([2, 2]), n_classes=3) == [0.0, 0.0, 1.0]


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


# ---- the 1-NN labeller --------------------------------------------------------------------

@pytest.fixture
def reference():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (10, 1, 4, 4), generator=gen, dtype=torch.uint8)
    return Split(images, torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]))


def test_nearest_labels_of_exact_copies(reference):
    queries = to_unit(reference.images[[7, 2, 0, 5, 9]])
    # batch=2 splits the queries into chunks 2, 2, 1
    assert nearest_labels(queries, reference, batch=2).tolist() == [6, 4, 3, 9, 3]


def test_nearest_labels_of_perturbed_copies(reference):
    queries = to_unit(reference.images[[4, 6]]) + 0.01    # a tiny shift keeps the neighbour
    assert nearest_labels(queries, reference).tolist() == [5, 2]


def test_labeller_accuracy(reference):
    assert labeller_accuracy(reference, reference) == 1.0
    wrong = Split(reference.images, (reference.labels + 1) % 10)
    assert labeller_accuracy(wrong, reference) == 0.0
    half = Split(reference.images, torch.where(torch.arange(10) < 5, reference.labels, -1))
    assert labeller_accuracy(half, reference) == 0.5


def test_sample_metrics_on_real_images(reference):
    samples = to_unit(reference.images)
    out = sample_metrics(samples, reference.images, reference)
    # samples == real test images -> sharpness ratio 1, its interval +-1.96 sd / sqrt(n) / real value
    assert math.isclose(out["sharpness_ratio"], 1.0, rel_tol=1e-6)
    values = sharpness_values(samples)
    half = 1.96 * float(values.std()) / math.sqrt(len(values)) / float(values.mean())
    assert out["sharpness_ratio_ci"] == pytest.approx([1 - half, 1 + half], rel=1e-5) and half > 0
    # labels 3,1,4,1,5,9,2,6,5,3 -> class 1: 2/10, 2: 1/10, 3: 2/10, 4: 1/10, 5: 2/10, 6: 1/10, 9: 1/10
    assert out["label_histogram"] == pytest.approx([0, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0, 0, 0.1])
    assert out["classes_covered"] == 7
    expected_kl = 3 * 0.2 * math.log(2) + 4 * 0.1 * math.log(1)
    assert math.isclose(out["kl_to_uniform"], expected_kl, rel_tol=1e-6)


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
