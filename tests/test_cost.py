"""gen_core.cost: FLOPs counted by hand, the longest-first order, and the makespan of a few slots."""
from __future__ import annotations

import pytest
import torch

from conftest import make_split
from gen_core import cost, families
from gen_core.grid import grid, override

from support import mlp_a_runs


def test_step_flops_of_a_tiny_mlp_vae_by_hand(tiny_cfg):
    # hidden (16,), z = 4 on 784 pixels: layers 784->16, 16->8 (mu, logvar), 4->16, 16->784.
    # forward: 2 * (784*16 + 16*8 + 4*16 + 16*784) = 50,560 per image; backward: the weight
    # gradients again (50,560) plus input gradients of every layer but the first (2 * 12,736)
    cfg = tiny_cfg("vae", hidden=(16,), latent_dim=4)
    assert cost.step_flops(cfg) == 50_560 + 50_560 + 25_472


def test_step_flops_of_a_wgan_cycle_counts_one_generator_step_per_n_critic(tiny_cfg):
    # G: 4 -> 16 -> 16 -> 784 (BatchNorm has no matmul); D: 784 -> 16 -> 1
    cfg = tiny_cfg("wgan", latent_dim=4)
    g_fwd = 2 * (4 * 16 + 16 * 16 + 16 * 784)
    d_fwd = 2 * (784 * 16 + 16 * 1)
    d_input_grads = 2 * 16                                   # back to the hidden layer, not the images
    # per critic step and image pair (real, fake): G forward (no grad), D forward twice, D backward
    # on both (weights + hidden-layer inputs); every n_critic-th step: G forward, D forward, D
    # backward (autograd fills D's weight gradients too, and input gradients down to the images),
    # G backward (weights + inputs of layers 2 and 3; z needs none)
    critic = g_fwd + 2 * d_fwd + 2 * (d_fwd + d_input_grads)
    gen = g_fwd + d_fwd + (d_fwd + d_input_grads + 2 * 784 * 16) + g_fwd + 2 * (16 * 16 + 16 * 784)
    per_cycle = cfg.n_critic * critic + gen                  # over n_critic batches of images
    assert cost.step_flops(cfg) == pytest.approx(per_cycle / cfg.n_critic)


def test_step_flops_counts_the_gradient_penalty_rows(tiny_cfg):
    """The double backward of WGAN-GP used to crash the counter (module hooks); its count is the
    clipped cycle's plus the penalty's extra work, and counting without module attribution gives
    what torch's own counter gives where that works."""
    from torch.utils.flop_counter import FlopCounterMode

    clipped = tiny_cfg("wgan", latent_dim=4)
    penalised = tiny_cfg("wgan", latent_dim=4, clip=0.0, gp=10.0)
    assert cost.step_flops(penalised) > cost.step_flops(clipped) > 0
    models, opts = cost.fresh(clipped, torch.device("cpu"))
    split = make_split(2 * clipped.n_critic)
    idx = list(torch.arange(len(split)).view(clipped.n_critic, 2))
    torch.manual_seed(0)
    with FlopCounterMode(display=False) as reference:
        families.get("wgan").run_epoch(clipped, models, opts, split, idx, [], 0)
    torch.manual_seed(0)
    with cost.TotalFlopCounter() as ours:
        families.get("wgan").run_epoch(clipped, models, opts, split, idx, [], 0)
    assert ours.get_total_flops() == reference.get_total_flops() > 0
    for row in ("DC-WGAN-GP",):                          # the grid's rows themselves, at smoke widths
        cfg = next(c for c in grid("wgan", "mnist", "smoke") if c.variant == row)
        assert cost.step_flops(cfg) > 0


def test_longest_first_orders_by_training_flops():
    short = mlp_a_runs()[0]
    longer = override(short, epochs=3)
    dcgan = next(c for c in grid("gan", "mnist", "smoke") if c.variant == "DCGAN")
    assert cost.run_flops(longer) == 3 * cost.run_flops(short)             # 3x the epochs, 3x the images
    ordered = cost.longest_first([short, dcgan, longer])
    assert ordered.index(longer) < ordered.index(short)
    expected = sorted([short, dcgan, longer], key=cost.run_flops, reverse=True)
    assert ordered == expected



@pytest.mark.parametrize("seconds, slots, expected", [
    ([5, 4, 3, 3, 3], 2, 10.0),       # 5 | 4, then each 3 on the freer slot: 4+3=7, 5+3=8, 7+3=10
    ([1, 1, 1, 1], 4, 1.0),
    ([7], 3, 7.0),
    ([2, 2, 2], 1, 6.0),
])
def test_makespan_packs_longest_first(seconds, slots, expected):
    assert cost.makespan(seconds, slots) == expected
