"""The WGAN family's own measurement: the critic's gradient norm at interpolates."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from conftest import make_split
from gen_core.families.wgan import critic_gradient_norm


class LinearCritic(nn.Module):
    """f(x) = <w, x>: its gradient is w at every point, so every norm is |w|."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x.flatten(1) * self.w.flatten()).sum(1)


def test_critic_gradient_norm_of_a_linear_critic_is_its_weight_norm(tiny_cfg):
    # w = 3 on one pixel and 4 on another, 0 elsewhere: |w| = 5 at every interpolate, sd 0
    w = torch.zeros(1, 28, 28)
    w[0, 3, 4], w[0, 10, 11] = 3.0, 4.0
    critic = LinearCritic(w).train()
    cfg = tiny_cfg("wgan")
    samples = lambda cfg, models, z: torch.full((len(z), 1, 28, 28), 0.5)    # noqa: E731
    out = critic_gradient_norm(cfg, {"critic": critic}, make_split(40, "mnist", seed=0), samples, n=30)
    assert out["critic_grad_norm"] == pytest.approx(5.0, rel=1e-6)
    assert out["critic_grad_norm_ci"] == pytest.approx([5.0, 5.0], rel=1e-6)
    assert critic.training                                     # measured in eval mode, mode restored


def test_critic_gradient_norm_is_recorded_for_wgan_runs_only(tiny_cfg, tmp_path, monkeypatch):
    from gen_core.results import train_and_save

    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(32, name, seed=int(train)))
    wgan = train_and_save(tiny_cfg("wgan", epochs=1, batch_size=8, n_samples=4, n_eval_samples=16), "unused",
                          tmp_path / "w", "cpu", progress=False)
    gan = train_and_save(tiny_cfg("gan", epochs=1, batch_size=8, n_samples=4, n_eval_samples=16), "unused",
                         tmp_path / "g", "cpu", progress=False)
    lo, hi = wgan.summary["critic_grad_norm_ci"]
    assert wgan.summary["critic_grad_norm"] > 0 and lo <= wgan.summary["critic_grad_norm"] <= hi
    assert "critic_grad_norm" not in gan.summary
