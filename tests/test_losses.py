"""Losses and estimates against values worked out by hand."""
from __future__ import annotations

import math

import pytest
import torch

from gen_core.losses import (emd_estimate, gan_d_loss, gan_g_loss, gradient_penalty, interpolate, jsd_estimate,
                             vae_loss, wgan_critic_loss, wgan_g_loss)

LOG2 = math.log(2)


def approx(x, expected, tol=1e-6):
    return abs(float(x) - expected) < tol


# ---- GAN ------------------------------------------------------------------------------------

def test_gan_d_loss_at_chance():
    # logits 0 -> D = 1/2 everywhere: L_D = -log(1/2) - log(1 - 1/2) = 2 log 2
    d = gan_d_loss(torch.zeros(5), torch.zeros(7))
    assert approx(d, 2 * LOG2)
    # JSD_hat = log 2 - L_D / 2 = log 2 - log 2 = 0
    assert approx(jsd_estimate(d), 0.0)


def test_gan_d_loss_perfect_discriminator():
    # D(x) = sigmoid(30) ~ 1 on real, sigmoid(-30) ~ 0 on fake: each BCE term = log(1 + e^-30) ~ 9.4e-14
    d = gan_d_loss(torch.full((4,), 30.0), torch.full((4,), -30.0))
    assert approx(d, 0.0, 1e-9)
    assert approx(jsd_estimate(d), LOG2, 1e-6)          # JSD_hat = log 2 (float32 tensor)


def test_gan_d_loss_fooled_discriminator_is_large():
    # swapped: each term = log(1 + e^30) ~ 30, so L_D ~ 60
    assert approx(gan_d_loss(torch.full((4,), -30.0), torch.full((4,), 30.0)), 60.0, 1e-6)


def test_gan_d_loss_asymmetric_values():
    # real logit log 3 -> D = 3/4: -log(3/4);  fake logit -log 3 -> D = 1/4: -log(1 - 1/4) = -log(3/4)
    d = gan_d_loss(torch.tensor([math.log(3)]), torch.tensor([-math.log(3)]))
    assert approx(d, 2 * math.log(4 / 3))
    # batch means: real logits {0, log 3}: (log 2 + log(4/3)) / 2;  fake logit 0: log 2
    d = gan_d_loss(torch.tensor([0.0, math.log(3)]), torch.tensor([0.0]))
    assert approx(d, (LOG2 + math.log(4 / 3)) / 2 + LOG2)


def test_jsd_estimate_accepts_floats():
    assert approx(jsd_estimate(2 * LOG2), 0.0)
    assert approx(jsd_estimate(1.0), LOG2 - 0.5)


def test_gan_g_loss():
    assert approx(gan_g_loss(torch.zeros(3)), LOG2)                       # -log(1/2)
    assert approx(gan_g_loss(torch.tensor([math.log(3)])), math.log(4 / 3))  # -log(3/4)
    # non-saturating: a confident D on fakes (logit -30) gives a big loss ~ 30, not ~ 0
    assert approx(gan_g_loss(torch.tensor([-30.0])), 30.0, 1e-6)


def test_gan_g_loss_gradient_is_non_saturating():
    # d/dl [-log sigmoid(l)] = sigmoid(l) - 1 -> at l = -30 it is ~ -1 (strong), not ~ 0
    logit = torch.tensor([-30.0], requires_grad=True)
    gan_g_loss(logit).backward()
    assert approx(logit.grad, -1.0, 1e-9)


# ---- WGAN -----------------------------------------------------------------------------------

def test_wgan_losses_and_emd():
    real = torch.tensor([1.0, 2.0, 3.0])       # mean 2
    fake = torch.tensor([-1.0, 1.0])           # mean 0
    assert approx(emd_estimate(real, fake), 2.0)            # 2 - 0
    assert approx(wgan_critic_loss(real, fake), -2.0)       # -(2 - 0)
    assert approx(wgan_g_loss(fake), 0.0)                   # -0
    assert approx(wgan_g_loss(torch.tensor([0.5, 1.5])), -1.0)  # -(0.5 + 1.5) / 2
    assert approx(emd_estimate(fake, real), -2.0)


def test_wgan_critic_loss_gradients():
    real = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    fake = torch.tensor([0.0, 0.0], requires_grad=True)
    wgan_critic_loss(real, fake).backward()
    # -(mean real - mean fake): d/d real_i = -1/4, d/d fake_j = +1/2
    assert torch.allclose(real.grad, torch.full((4,), -0.25))
    assert torch.allclose(fake.grad, torch.full((2,), 0.5))


# ---- VAE ------------------------------------------------------------------------------------

def test_vae_loss_logits_zero_and_standard_posterior():
    x = torch.tensor([[[[0.0, 1.0], [0.3, 0.7]]], [[[1.0, 1.0], [0.0, 0.5]]]])   # (2, 1, 2, 2)
    logits = torch.zeros_like(x)
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    total, bce, kl = vae_loss(logits, x, mu, logvar)
    # p = 1/2 on every pixel: -[x log 1/2 + (1-x) log 1/2] = log 2 per pixel, 4 pixels per image
    assert approx(bce, 4 * LOG2)
    # mu = 0, sigma^2 = 1: KL(N(0,1) || N(0,1)) = 0
    assert approx(kl, 0.0)
    assert approx(total, 4 * LOG2)


def test_vae_loss_kl_by_hand():
    x = torch.full((1, 1, 2, 2), 0.5)
    logits = torch.zeros_like(x)
    # mu = 1 on a 2-d latent, sigma = 1: KL = -1/2 * sum_j (1 + 0 - 1 - 1) = -1/2 * (-2) = 1
    _, _, kl = vae_loss(logits, x, torch.ones(1, 2), torch.zeros(1, 2))
    assert approx(kl, 1.0)
    # mu = 0, sigma^2 = 2 on a 1-d latent: KL = -1/2 (1 + log 2 - 0 - 2) = (1 - log 2) / 2
    _, _, kl = vae_loss(logits, x, torch.zeros(1, 1), torch.full((1, 1), LOG2))
    assert approx(kl, (1 - LOG2) / 2)


def test_vae_loss_is_a_batch_mean_of_per_image_sums():
    # image 0: mu = (1, 1) -> KL 1; image 1: mu = (0, 0) -> KL 0; batch mean = 1/2
    x = torch.ones(2, 1, 1, 3)
    logits = torch.full_like(x, math.log(3))    # p = 3/4 on target 1: -log(3/4) per pixel, 3 pixels
    mu = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    total, bce, kl = vae_loss(logits, x, mu, torch.zeros(2, 2))
    assert approx(kl, 0.5)
    assert approx(bce, 3 * math.log(4 / 3))
    assert approx(total, 3 * math.log(4 / 3) + 0.5)


def test_vae_loss_perfect_reconstruction():
    # confident correct logits (+-30 on binary targets): BCE per pixel = log(1 + e^-30) ~ 0
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    _, bce, _ = vae_loss((2 * x - 1) * 30, x, torch.zeros(1, 1), torch.zeros(1, 1))
    assert approx(bce, 0.0, 1e-9)


@pytest.mark.parametrize("fn", [gan_d_loss, wgan_critic_loss, emd_estimate])
def test_pair_losses_return_scalars(fn):
    assert fn(torch.zeros(4), torch.zeros(4)).shape == ()


# ---- WGAN-GP --------------------------------------------------------------------------------

def _linear_critic(weights):
    """f(x) = <w, x> + 1 over the flattened image: its gradient is w everywhere, norm ||w||."""
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(len(weights), 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([weights]))
        critic[1].bias.fill_(1.0)
    return critic


@pytest.mark.parametrize("weights, expected", [
    ([3.0, 4.0, 0.0, 0.0], 16.0),      # ||w|| = 5: (5 - 1)^2
    ([0.6, 0.0, 0.8, 0.0], 0.0),       # ||w|| = 1: a 1-Lipschitz critic pays nothing
    ([0.0, 0.0, 0.0, 0.5], 0.25),      # ||w|| = 0.5: the two-sided penalty also pushes up, (0.5 - 1)^2
])
def test_gradient_penalty_of_a_linear_critic(weights, expected):
    critic = _linear_critic(weights)
    real, fake = torch.rand(5, 1, 2, 2), torch.rand(5, 1, 2, 2)     # a linear f: same gradient anywhere
    eps = torch.rand(5, 1, 1, 1)
    assert approx(gradient_penalty(critic, real, fake, eps).detach(), expected, 1e-5)


def test_gradient_penalty_takes_the_norm_per_example():
    # f(x) = 1/2 ||x||^2 has gradient x_hat itself. Example 0: x = (3, 4), G(z) = 0, eps = 0.5 ->
    # x_hat = (1.5, 2), norm 2.5, (2.5 - 1)^2 = 2.25. Example 1: x = (0, 2), eps = 1 -> norm 2, (2 - 1)^2 = 1.
    # Mean 1.625; a norm over the whole batch (sqrt(2.5^2 + 2^2) = 3.20) would give 4.85.
    critic = lambda x: 0.5 * x.flatten(1).pow(2).sum(1)        # noqa: E731
    real = torch.tensor([[3.0, 4.0], [0.0, 2.0]]).view(2, 1, 1, 2)
    eps = torch.tensor([0.5, 1.0]).view(2, 1, 1, 1)
    assert approx(gradient_penalty(critic, real, torch.zeros_like(real), eps).detach(), 1.625)


def test_gradient_penalty_gradient_reaches_the_critic():
    # GP = (||w|| - 1)^2, so dGP/dw = 2 (||w|| - 1) w / ||w||; w = (3, 4): 2 * 4 * (0.6, 0.8) = (4.8, 6.4)
    critic = _linear_critic([3.0, 4.0])
    real = torch.rand(3, 1, 1, 2)
    gradient_penalty(critic, real, torch.zeros_like(real), torch.rand(3, 1, 1, 1)).backward()
    assert torch.allclose(critic[1].weight.grad, torch.tensor([[4.8, 6.4]]), atol=1e-5)
    assert critic[1].bias.grad is None                  # the bias does not change the gradient: not in GP's graph


def test_interpolate_uses_one_weight_per_example():
    real, fake = torch.ones(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    x_hat = interpolate(real, fake, torch.tensor([0.25, 0.75]).view(2, 1, 1, 1))
    assert torch.equal(x_hat[0], torch.full((3, 4, 4), 0.25)) and torch.equal(x_hat[1], torch.full((3, 4, 4), 0.75))
    # eps = 1 is the real image, eps = 0 the generated one
    a, b = torch.rand(2, 1, 2, 2), torch.rand(2, 1, 2, 2)
    assert torch.equal(interpolate(a, b, torch.tensor([1.0, 0.0]).view(2, 1, 1, 1))[0], a[0])
    assert torch.equal(interpolate(a, b, torch.tensor([1.0, 0.0]).view(2, 1, 1, 1))[1], b[1])


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (2, 1, 1, 4), (1, 1, 1, 1)])
def test_interpolate_refuses_weights_that_are_not_per_example(shape):
    with pytest.raises(ValueError) as err:
        interpolate(torch.ones(2, 3, 4, 4), torch.zeros(2, 3, 4, 4), torch.rand(*shape))
    assert str(err.value) == (f"eps of shape {shape} is not allowed; expected (2, 1, ..., 1), "
                              "one interpolation weight per example")
