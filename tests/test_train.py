"""Step functions, sampling and the training loops on tiny synthetic data."""
from __future__ import annotations

import math

import pytest
import torch

import gen_core.losses
from gen_core.data import to_signed, to_unit
from gen_core.train import build_models
from gen_core.families.gan import d_step, g_step
from gen_core.families.vae import vae_step
from gen_core.families.wgan import critic_step, interpolation_weights
from gen_core.train import generate, generate_many, make_optimizer, sample_epochs, snapshot_epochs, train


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---- helpers --------------------------------------------------------------------------------

def test_sample_epochs():
    # 1 + i * (15 - 1) / 3 for i = 0..3: 1, 5.67, 10.33, 15 -> 1, 6, 10, 15
    assert sample_epochs(15) == [1, 6, 10, 15]
    # 1 + i * 24 / 3 = 1, 9, 17, 25
    assert sample_epochs(25) == [1, 9, 17, 25]
    # 1 + i * 4 / 3 = 1, 2.33, 3.67, 5 -> 1, 2, 4, 5
    assert sample_epochs(5) == [1, 2, 4, 5]
    assert sample_epochs(3) == [1, 2, 3]
    assert sample_epochs(1) == [1]
    assert sample_epochs(10, count=2) == [1, 10]


# round(E ** (i / (n - 1))) for i = 0..n-1, with n = 1 + ceil(log2 E) epochs, worked out by hand:
@pytest.mark.parametrize("epochs, expected", [
    (1, [1]),                      # n = 1 + 0: the only epoch
    (2, [1, 2]),                   # n = 2: 2^0, 2^1
    (3, [1, 2, 3]),                # n = 3: 1, 3^0.5 = 1.73, 3
    (4, [1, 2, 4]),                # n = 3 (log2 4 = 2 exactly): 1, 4^0.5 = 2, 4
    (5, [1, 2, 3, 5]),             # n = 4: 1, 5^(1/3) = 1.71, 5^(2/3) = 2.92, 5
    (10, [1, 2, 3, 6, 10]),        # n = 5: 1, 10^0.25 = 1.78, 10^0.5 = 3.16, 10^0.75 = 5.62, 10
    (15, [1, 2, 4, 8, 15]),        # n = 5: 1, 15^0.25 = 1.97, 15^0.5 = 3.87, 15^0.75 = 7.62, 15
    (20, [1, 2, 3, 6, 11, 20]),    # n = 6: 1, 20^0.2 = 1.82, 20^0.4 = 3.31, 20^0.6 = 6.03, 20^0.8 = 10.99, 20
    (25, [1, 2, 4, 7, 13, 25]),    # n = 6: 1, 25^0.2 = 1.90, 25^0.4 = 3.62, 25^0.6 = 6.90, 25^0.8 = 13.13, 25
])
def test_snapshot_epochs_are_the_documented_log_spaced_schedule(epochs, expected):
    """The epochs the yardstick measures a run at; 15, 20 and 25 are the full profile's epochs."""
    assert snapshot_epochs(epochs) == expected


def test_make_optimizer(tiny_cfg):
    params = [torch.nn.Parameter(torch.zeros(2))]
    opt = make_optimizer(tiny_cfg("vae", lr=3e-3, betas=(0.8, 0.9)), params)
    assert isinstance(opt, torch.optim.Adam)
    assert opt.param_groups[0]["lr"] == 3e-3 and opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert opt.defaults["fused"] is True                    # one kernel for all parameters
    opt = make_optimizer(tiny_cfg("wgan"), params)
    assert isinstance(opt, torch.optim.RMSprop) and opt.param_groups[0]["lr"] == 5e-5


def test_fused_adam_takes_the_same_steps_as_plain_adam(tiny_cfg):
    # fused is a kernel choice, not another optimizer: 5 steps on a quadratic agree to float noise
    start = torch.randn(50)
    trajectories = []
    for fused in (True, False):
        w = torch.nn.Parameter(start.clone())
        opt = make_optimizer(tiny_cfg("vae", lr=1e-2), [w]) if fused else torch.optim.Adam([w], lr=1e-2)
        for _ in range(5):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        trajectories.append(w.detach())
    # Adam moves each weight by at most lr per step (m_hat / sqrt(v_hat) <= 1 while the gradient
    # keeps its sign): 5 steps bring every |w| > 0.1 toward 0 by just under 5 * 0.01
    assert torch.allclose(trajectories[0], trajectories[1], atol=1e-6)
    moved = (start.abs() - trajectories[0].abs())[start.abs() > 0.1]
    assert moved.max() <= 0.05 + 1e-6 and moved.min() > 0.045


# ---- single steps on a fixed batch ----------------------------------------------------------

def test_vae_step_lowers_the_loss(tiny_cfg, split_factory):
    cfg = tiny_cfg("vae", lr=1e-2)
    vae = build_models(cfg)["vae"]
    opt = make_optimizer(cfg, vae.parameters())
    x = to_unit(split_factory(8).images)
    losses = [vae_step(vae, opt, x) for _ in range(30)]
    first, last = losses[0], losses[-1]
    assert set(first) == {"loss", "bce", "kl"}
    assert all(v.shape == () and not v.requires_grad for v in first.values())
    assert torch.allclose(first["loss"], first["bce"] + first["kl"])
    # 784 pixels at p ~ 1/2 start near 784 log 2 ~ 543 nats; 30 Adam steps on one batch cut it clearly
    assert last["loss"] < first["loss"] - 5


def test_d_step_lowers_the_discriminator_loss(tiny_cfg, split_factory):
    cfg = tiny_cfg("gan", lr=1e-3)
    models = build_models(cfg)
    D = models["critic"]
    opt = make_optimizer(cfg, D.parameters())
    real = to_signed(split_factory(8).images)
    fake = torch.rand(8, 1, 28, 28) * 2 - 1
    stats = [d_step(D, opt, real, fake) for _ in range(20)]
    assert stats[-1]["d_loss"] < stats[0]["d_loss"] - 0.1
    s = stats[0]
    assert math.isclose(float(s["jsd"]), math.log(2) - float(s["d_loss"]) / 2, rel_tol=1e-6)
    assert 0 < float(s["d_real"]) < 1 and 0 < float(s["d_fake"]) < 1
    # having learnt, D says "real" more on real than on fake
    assert stats[-1]["d_real"] > stats[-1]["d_fake"]


def test_g_step_lowers_the_generator_loss(tiny_cfg):
    cfg = tiny_cfg("gan", lr=1e-3)
    models = build_models(cfg)
    G, D = models["generator"], models["critic"]
    opt = make_optimizer(cfg, G.parameters())
    d_before = [p.clone() for p in D.parameters()]
    z = torch.randn(8, cfg.latent_dim)
    stats = [g_step(D, opt, G(z), gen_core.losses.gan_g_loss) for _ in range(20)]
    assert stats[-1]["g_loss"] < stats[0]["g_loss"] - 0.05
    # the generator's optimizer must not move the discriminator
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))


def test_critic_step_lowers_the_critic_loss_and_reports_emd(tiny_cfg, split_factory):
    cfg = tiny_cfg("wgan", lr=1e-3)
    D = build_models(cfg)["critic"]
    opt = make_optimizer(cfg, D.parameters())
    real = to_signed(split_factory(8).images)
    fake = torch.zeros(8, 1, 28, 28)
    stats = [critic_step(D, opt, real, fake, clip=0.0) for _ in range(10)]
    assert stats[-1]["critic_loss"] < stats[0]["critic_loss"] - 0.1
    for s in stats:   # W_hat = E f(x) - E f(G(z)) = -(critic loss), both from the pre-step scores
        assert torch.allclose(s["emd"], -s["critic_loss"])


def gp_cfg(tiny_cfg, **changes):
    settings = dict(gp=10.0, clip=0.0, critic_norm="layer", optimizer="adam", lr=1e-4, betas=(0.0, 0.9))
    return tiny_cfg("wgan", "mnist", "conv", **{**settings, **changes})


def test_interpolation_weights_are_uniform_and_one_per_example():
    eps = interpolation_weights(torch.zeros(4000, 3, 8, 8))
    assert eps.shape == (4000, 1, 1, 1)
    assert 0 <= eps.min() and eps.max() <= 1
    assert abs(eps.mean().item() - 0.5) < 0.02 and abs(eps.var().item() - 1 / 12) < 0.005   # U[0, 1]


class _RecordingLinearCritic(torch.nn.Module):
    """f(x) = <w, x> with every w_i = 0.5, so ||grad f|| = 0.5 sqrt(784) = 14; keeps its inputs."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.full((784,), 0.5))
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return x.flatten(1) @ self.w


def test_critic_step_with_gradient_penalty_interpolates_per_example_and_adds_lambda_gp():
    critic = _RecordingLinearCritic()
    opt = torch.optim.SGD(critic.parameters(), lr=0.0)         # lr 0: look at the loss, keep w
    real = torch.rand(6, 1, 28, 28) * 0.5 + 0.5               # real in [0.5, 1], fake in [-1, -0.5]:
    fake = -torch.rand(6, 1, 28, 28) * 0.5 - 0.5              # every pixel of a pair differs
    stats = critic_step(critic, opt, real, fake, clip=0.0, gp=10.0)
    x_hat = critic.inputs[2]                                   # calls: real, fake, then the interpolates
    weight = (x_hat - fake) / (real - fake)                    # (B, 1, 28, 28): eps of each pixel
    per_example = weight.flatten(1)
    assert torch.allclose(per_example, per_example[:, :1].expand_as(per_example), atol=1e-5)  # one eps per image
    assert per_example[:, 0].unique().numel() == 6            # and a different one for each image
    assert ((per_example >= 0) & (per_example <= 1)).all()
    # hand-worked: GP = (14 - 1)^2 = 169; critic loss = -(E f(x) - E f(G(z))) + 10 * 169
    assert abs(stats["gp"].item() - 169.0) < 1e-3
    emd = (real.flatten(1).sum(1) * 0.5).mean() - (fake.flatten(1).sum(1) * 0.5).mean()
    assert abs(stats["emd"].item() - emd.item()) < 1e-3
    assert abs(stats["critic_loss"].item() - (-emd.item() + 1690.0)) < 1e-2


def test_gradient_penalty_pulls_the_critic_towards_unit_gradient_norm(tiny_cfg):
    cfg = gp_cfg(tiny_cfg, lr=1e-2)
    critic = _RecordingLinearCritic()                          # ||grad|| = 14
    opt = make_optimizer(cfg, critic.parameters())
    real, fake = torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28)
    penalties = [critic_step(critic, opt, real, fake, clip=0.0, gp=10.0)["gp"].item() for _ in range(200)]
    assert penalties[-1] < 0.05 * penalties[0]
    assert abs(critic.w.norm().item() - 1.0) < 0.5


def test_train_wgan_gp_logs_the_penalty_and_has_no_batchnorm_in_the_critic(tiny_cfg, split_factory):
    cfg = gp_cfg(tiny_cfg, epochs=2, batch_size=8, n_critic=2)
    result = train(cfg, split_factory(32), "cpu", progress=False)
    assert result.status == "complete"
    assert len(result.history["gp"]) == len(result.history["critic_loss"]) == 8     # every critic step
    assert len(result.history["g_loss"]) == 4                                       # every 2nd
    assert all(math.isfinite(v) and v >= 0 for v in result.history["gp"])
    kinds = {type(m).__name__ for m in result.models["critic"].modules()}
    assert "GroupNorm" in kinds and "BatchNorm2d" not in kinds


def test_critic_step_clips_every_parameter(tiny_cfg, split_factory):
    cfg = tiny_cfg("wgan", "mnist", "conv")        # conv critic: has BatchNorm weights too
    D = build_models(cfg)["critic"]
    with torch.no_grad():
        for i, p in enumerate(D.parameters()):
            p.fill_(1.0 if i % 2 else -1.0)        # everything far outside [-0.01, 0.01]
    opt = make_optimizer(cfg, D.parameters())
    real = to_signed(split_factory(8).images)
    critic_step(D, opt, real, torch.zeros_like(real), clip=0.01)
    params = torch.cat([p.detach().flatten() for p in D.parameters()])
    assert params.abs().max() <= 0.01
    # the +-1 weights were clipped to the bounds, not merely shrunk by RMSprop
    assert (params == 0.01).any() and (params == -0.01).any()


# ---- sampling -------------------------------------------------------------------------------

def test_generate_vae_in_unit_range_and_restores_mode(tiny_cfg):
    cfg = tiny_cfg("vae", "cifar10", "conv")
    models = build_models(cfg)
    models["vae"].train()
    out = generate(cfg, models, torch.randn(5, cfg.latent_dim))
    assert out.shape == (5, 3, 32, 32)
    assert out.min() >= 0 and out.max() <= 1
    assert models["vae"].training


def test_generate_vae_uses_eval_mode_so_dropout_is_off(tiny_cfg):
    cfg = tiny_cfg("vae", dropout=0.5)
    models = build_models(cfg)
    z = torch.randn(3, cfg.latent_dim)
    # with dropout active two decodes of the same z would differ
    assert torch.equal(generate(cfg, models, z), generate(cfg, models, z))


def test_generate_gan_maps_tanh_to_unit_range(tiny_cfg):
    cfg = tiny_cfg("gan", "mnist", "conv")
    models = build_models(cfg)
    z = torch.randn(6, cfg.latent_dim)
    out = generate(cfg, models, z)
    assert models["generator"].training               # generate leaves the mode as it found it
    with torch.no_grad():
        raw = models["generator"].eval()(z)           # eval mode: BatchNorm's running statistics
    assert out.shape == (6, 1, 28, 28)
    assert torch.allclose(out, (raw + 1) / 2)        # [-1, 1] -> [0, 1]
    assert out.min() >= 0 and out.max() <= 1


def test_generate_many_is_seeded_and_chunked(tiny_cfg):
    cfg = tiny_cfg("vae")
    models = build_models(cfg)
    a = generate_many(cfg, models, 7, seed=3, device="cpu", batch=3)     # chunks 3, 3, 1
    b = generate_many(cfg, models, 7, seed=3, device="cpu", batch=500)
    c = generate_many(cfg, models, 7, seed=4, device="cpu")
    assert a.shape == (7, 1, 28, 28)
    assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(a, c)


# ---- the loops ------------------------------------------------------------------------------

@pytest.mark.parametrize("family, arch, keys", [
    ("vae", "mlp", {"loss", "bce", "kl"}),
    ("vae", "conv", {"loss", "bce", "kl"}),
    ("gan", "mlp", {"d_loss", "jsd", "d_real", "d_fake", "g_loss"}),
    ("gan", "conv", {"d_loss", "jsd", "d_real", "d_fake", "g_loss"}),
])
def test_train_histories_and_sample_grids(family, arch, keys, tiny_cfg, split_factory):
    cfg = tiny_cfg(family, "mnist", arch, epochs=5, batch_size=8)
    split = split_factory(20)                 # 20 // 8 = 2 steps per epoch, 4 images dropped
    seen = []
    result = train(cfg, split, "cpu", progress=False, on_epoch=lambda e, r: seen.append(e))
    assert result.status == "complete" and result.diverged_at == {}
    assert set(result.history) == keys
    for key in keys:
        assert len(result.history[key]) == 5 * 2          # epochs * steps per epoch
        assert len(result.epoch_means[key]) == 5
        assert all(math.isfinite(v) for v in result.history[key])
    # epoch means are means of that epoch's steps
    first = result.history[sorted(keys)[0]]
    assert math.isclose(result.epoch_means[sorted(keys)[0]][0], (first[0] + first[1]) / 2, rel_tol=1e-6)
    assert result.images_seen == 5 * 2 * 8                  # 80: full batches only
    # sample_epochs(5) = [1, 2, 4, 5]
    assert sorted(result.sample_grids) == [1, 2, 4, 5]
    for grid in result.sample_grids.values():
        assert grid.shape == (cfg.n_samples, 1, 28, 28)
        assert grid.min() >= 0 and grid.max() <= 1
    assert seen == [1, 2, 3, 4, 5]
    assert result.train_seconds > 0 and result.train_cpu_seconds > 0 and result.epoch_work_seconds > 0
    # the steps and the per-epoch work are parts of train()'s wall time; CPU time runs on at most
    # torch's threads at once (0.05 s: the clocks' own reading)
    assert result.train_seconds + result.epoch_work_seconds <= result.wall_seconds
    assert result.cpu_seconds <= result.wall_seconds * torch.get_num_threads() + 0.05
    assert result.train_cpu_seconds <= result.cpu_seconds
    assert len(result.load_averages) == 5 and all(load >= 0 for load in result.load_averages)   # one per epoch


def test_train_is_reproducible_with_the_seed(tiny_cfg, split_factory):
    cfg = tiny_cfg("vae", epochs=2)
    split = split_factory(16)
    a = train(cfg, split, "cpu", progress=False)
    b = train(cfg, split, "cpu", progress=False)
    assert a.history == b.history
    assert torch.equal(a.sample_grids[2], b.sample_grids[2])


def test_train_wgan_runs_a_generator_step_every_n_critic_batches(tiny_cfg, split_factory):
    cfg = tiny_cfg("wgan", epochs=2, batch_size=8, n_critic=2)
    result = train(cfg, split_factory(32), "cpu", progress=False)   # 32 // 8 = 4 critic steps per epoch
    assert len(result.history["critic_loss"]) == 8 and len(result.history["emd"]) == 8
    assert len(result.history["g_loss"]) == 8 // 2                  # one generator step per 2 critic steps
    params = torch.cat([p.detach().flatten() for p in result.models["critic"].parameters()])
    assert params.abs().max() <= cfg.clip                           # clip = 0.01 from the grid


def test_train_wgan_updates_the_generator_when_an_epoch_has_fewer_batches_than_n_critic(
        tiny_cfg, split_factory):
    # Regression (fixed): _wgan_epoch counts batches with `enumerate(batches)`, which
    # restarts at 0 every epoch. With fewer than n_critic batches per epoch the generator
    # never takes a step. This is the smoke profile's WGAN setting: train_size 256,
    # batch_size 64 -> 4 batches per epoch < n_critic 5, so every smoke WGAN run reports an
    # untrained generator. Here: 2 epochs x 4 critic steps = 8 critic steps, n_critic 5 ->
    # the generator should step once (after critic step 5), as in Arjovsky et al., Alg. 1.
    cfg = tiny_cfg("wgan", epochs=2, batch_size=8)
    assert cfg.n_critic == 5
    torch.manual_seed(cfg.seed)
    initial = build_models(cfg)["generator"].state_dict()
    result = train(cfg, split_factory(32), "cpu", progress=False)
    assert len(result.history["critic_loss"]) == 8
    assert len(result.history.get("g_loss", [])) == 8 // 5           # = 1
    moved = [k for k, p in result.models["generator"].named_parameters() if not torch.equal(p, initial[k])]
    assert moved, "the WGAN generator was never updated"


def test_train_marks_divergence(tiny_cfg, split_factory, monkeypatch):
    real_loss = gen_core.losses.vae_loss
    calls = []

    def nan_on_sixth_call(logits, x, mu, logvar):
        calls.append(1)
        total, bce, kl = real_loss(logits, x, mu, logvar)
        if len(calls) == 6:
            total = total * float("nan")
        return total, bce, kl

    monkeypatch.setattr(gen_core.losses, "vae_loss", nan_on_sixth_call)
    cfg = tiny_cfg("vae", epochs=3, batch_size=8)
    result = train(cfg, split_factory(32), "cpu", progress=False)   # 4 steps per epoch
    # call 6 = epoch 2, step 2 (calls 1-4 are epoch 1)
    assert result.status == "diverged"
    assert result.diverged_at == {"epoch": 2, "step": 2, "global_step": 6}
    assert len(result.history["loss"]) == 8          # epoch 2 ran to its end, epoch 3 never started
    assert math.isnan(result.history["loss"][5])
    assert all(math.isfinite(v) for v in result.history["loss"][:5])
    # sample_epochs(3) = [1, 2, 3] but only epoch 1 finished healthy
    assert sorted(result.sample_grids) == [1]


def test_train_huge_learning_rate_diverges(tiny_cfg, split_factory):
    # an MLP WGAN critic without clipping, pushed by RMSprop at lr 1e30: scores overflow to inf
    cfg = tiny_cfg("wgan", lr=1e30, clip=0.0, n_critic=1, epochs=2, batch_size=8)
    result = train(cfg, split_factory(32), "cpu", progress=False)
    assert result.status == "diverged"
    assert result.diverged_at["epoch"] == 1 and 1 <= result.diverged_at["step"] <= 4
    assert not math.isfinite(result.history["critic_loss"][result.diverged_at["step"] - 1])


# ---- the speed switches --------------------------------------------------------------------

def test_conv_models_train_channels_last_and_mlps_stay_contiguous(tiny_cfg, split_factory):
    conv = train(tiny_cfg("gan", arch="conv"), split_factory(16), "cpu", progress=False)
    weight = conv.models["critic"].net[2].weight          # (4, 4, 4, 4): in > 1, so the formats differ
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    mlp = train(tiny_cfg("gan"), split_factory(16), "cpu", progress=False)
    assert all(p.is_contiguous() for p in mlp.models["generator"].parameters())


def test_bf16_autocast_trains_with_fp32_weights_and_finite_losses(tiny_cfg, split_factory):
    for family in ("vae", "gan", "wgan"):
        cfg = tiny_cfg(family, amp=True, epochs=2)
        result = train(cfg, split_factory(16), "cpu", progress=False)
        assert result.status == "complete"
        assert all(math.isfinite(v) for vals in result.history.values() for v in vals)
        # autocast casts inside ops; the weights and the optimizer state stay float32
        assert all(p.dtype == torch.float32 for m in result.models.values() for p in m.parameters())


def test_amp_changes_the_numbers_but_not_by_much(tiny_cfg, split_factory):
    split = split_factory(16)
    fp32 = train(tiny_cfg("vae"), split, "cpu", progress=False).history["loss"][0]
    bf16 = train(tiny_cfg("vae", amp=True), split, "cpu", progress=False).history["loss"][0]
    # first step, same weights and batch: bf16 has 8 mantissa bits, so ~0.4% per op
    assert bf16 != fp32 and math.isclose(bf16, fp32, rel_tol=0.02)


def test_compiled_runs_save_plain_module_weights(tiny_cfg, split_factory):
    cfg = tiny_cfg("vae", compile=True)
    result = train(cfg, split_factory(16), "cpu", progress=False)
    keys = set(result.models["vae"].state_dict())
    # torch.compile's wrapper would prefix every key with _orig_mod.; model.pt must load into a plain model
    assert keys == set(build_models(cfg)["vae"].state_dict()) and not any("_orig_mod" in k for k in keys)
    plain = train(tiny_cfg("vae"), split_factory(16), "cpu", progress=False)
    # same weights and batch; inductor draws the reparameterisation noise from its own RNG, so the
    # first loss (~784 log 2 = 543 nats) agrees closely but not bit for bit
    assert math.isclose(result.history["loss"][0], plain.history["loss"][0], rel_tol=1e-2)
