"""One training loop per paradigm (VAE, GAN with BCE, WGAN with weight clipping or a gradient
penalty, and n_critic critic steps per generator step).

Training is bound by overhead, not arithmetic, so the loop removes it (`make bench` measures
the result against a pytorch/examples-style DataLoader loop):
- batches are index slices of the uint8 training tensor on the device, normalised per batch;
- step functions return dicts of detached 0-dim tensors; the loop stacks them and reads them
  back once per epoch, so there is no host sync inside the step loop;
- Adam is the fused kernel; conv nets and their batches are channels_last (1.7x on CPU too);
- on CUDA cudnn.benchmark picks conv algorithms; bf16 autocast (`amp`) and `torch.compile`
  (`compile`) are config fields, off unless a profile turns them on.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm

from . import losses
from .config import RunConfig
from .data import Split, epoch_batches, to_signed, to_unit
from .models import build_models


@dataclass
class TrainResult:
    models: dict[str, nn.Module]
    history: dict[str, list[float]]            # per optimizer step, keyed by measurement
    epoch_means: dict[str, list[float]]        # per epoch
    sample_grids: dict[int, torch.Tensor]      # epoch -> (n_samples, C, H, W) in [0, 1]
    images_seen: int = 0
    train_seconds: float = 0.0
    status: str = "complete"                   # or "diverged"
    diverged_at: dict = field(default_factory=dict)


def make_optimizer(cfg: RunConfig, params) -> torch.optim.Optimizer:
    # fused Adam: one kernel for all parameters (CPU and CUDA); RMSprop has no fused kernel
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, fused=True)
    return torch.optim.RMSprop(params, lr=cfg.lr, foreach=True)


def memory_format(cfg: RunConfig) -> torch.memory_format:
    return torch.channels_last if cfg.arch == "conv" else torch.contiguous_format


def _autocast(x: torch.Tensor, amp: bool):
    return torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp)


def sample_epochs(epochs: int, count: int = 4) -> list[int]:
    """Up to `count` epochs, evenly spaced, always including the first and the last."""
    if epochs <= count:
        return list(range(1, epochs + 1))
    return sorted({round(1 + i * (epochs - 1) / (count - 1)) for i in range(count)})


# ---- step functions: one optimizer update each -------------------------------------------

def vae_step(vae: nn.Module, opt, x: torch.Tensor, amp: bool = False) -> dict:
    """x: (B, C, H, W) in [0, 1]."""
    with _autocast(x, amp):
        logits, mu, logvar = vae(x)
    total, bce, kl = losses.vae_loss(logits.float(), x, mu.float(), logvar.float())
    opt.zero_grad(set_to_none=True)
    total.backward()
    opt.step()
    return {"loss": total.detach(), "bce": bce.detach(), "kl": kl.detach()}


def d_step(critic: nn.Module, opt, real: torch.Tensor, fake: torch.Tensor, amp: bool = False) -> dict:
    """One discriminator update on real (B, C, H, W) and generated images (detached)."""
    with _autocast(real, amp):
        real_logits, fake_logits = critic(real).float(), critic(fake.detach()).float()
    d_loss = losses.gan_d_loss(real_logits, fake_logits)
    opt.zero_grad(set_to_none=True)
    d_loss.backward()
    opt.step()
    d_loss = d_loss.detach()
    return {"d_loss": d_loss, "jsd": losses.jsd_estimate(d_loss),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean()}


def g_step(critic: nn.Module, opt, fake: torch.Tensor, loss_fn, amp: bool = False) -> dict:
    """One generator update through the (fixed) critic; `fake` still carries G's graph."""
    with _autocast(fake, amp):
        g_loss = loss_fn(critic(fake).float())
    opt.zero_grad(set_to_none=True)
    g_loss.backward()
    opt.step()
    return {"g_loss": g_loss.detach()}


def interpolation_weights(real: torch.Tensor) -> torch.Tensor:
    """eps ~ U[0, 1], one per example: (B, 1, 1, 1) for images (B, C, H, W)."""
    return torch.rand(real.shape[0], *(1,) * (real.dim() - 1), device=real.device)


def critic_step(critic: nn.Module, opt, real: torch.Tensor, fake: torch.Tensor, clip: float,
                gp: float = 0.0, amp: bool = False) -> dict:
    """One WGAN critic update, then weight clipping to [-clip, clip] (Arjovsky et al. 2017, Alg. 1);
    with gp > 0 the loss adds gp * GP instead (Gulrajani et al. 2017, Alg. 1)."""
    with _autocast(real, amp):
        real_scores, fake_scores = critic(real).float(), critic(fake.detach()).float()
    c_loss = losses.wgan_critic_loss(real_scores, fake_scores)
    stats = {}
    if gp:
        with _autocast(real, amp):
            penalty = losses.gradient_penalty(critic, real, fake, interpolation_weights(real))
        c_loss = c_loss + gp * penalty
        stats["gp"] = penalty.detach()
    opt.zero_grad(set_to_none=True)
    c_loss.backward()
    opt.step()
    if clip:
        with torch.no_grad():                     # one foreach kernel, not one clamp per tensor
            params = list(critic.parameters())
            torch._foreach_clamp_min_(params, -clip)
            torch._foreach_clamp_max_(params, clip)
    return {"critic_loss": c_loss.detach(), "emd": losses.emd_estimate(real_scores, fake_scores).detach(), **stats}


# ---- sampling -------------------------------------------------------------------------------

@torch.inference_mode()
def generate(cfg: RunConfig, models: dict, z: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] (B, C, H, W) from latents z (B, latent_dim).

    VAE decodes in eval mode (no dropout). GAN generators keep batch statistics (train-mode
    BatchNorm), as pytorch/examples' DCGAN does when drawing its fixed-noise grids.
    """
    if cfg.family == "vae":
        vae = models["vae"]
        was_training = vae.training
        vae.eval()
        images = torch.sigmoid(vae.decode(z))
        vae.train(was_training)
        return images
    return (models["generator"](z) + 1) / 2


def generate_many(cfg: RunConfig, models: dict, n: int, seed: int, device, batch: int = 500) -> torch.Tensor:
    gen = torch.Generator(device="cpu").manual_seed(seed)
    z = torch.randn(n, cfg.latent_dim, generator=gen).to(device)
    chunks = z.tensor_split(max(1, -(-n // batch)))      # even chunks: never a lone image for BatchNorm
    return torch.cat([generate(cfg, models, chunk) for chunk in chunks])


# ---- the loops ------------------------------------------------------------------------------

def _batch(cfg: RunConfig, train: Split, idx: torch.Tensor, signed: bool) -> torch.Tensor:
    """uint8 rows -> float (B, C, H, W) in the model's range and memory format."""
    x = to_signed(train.images[idx]) if signed else to_unit(train.images[idx])
    return x.contiguous(memory_format=memory_format(cfg))


def _vae_epoch(cfg, models, opts, train: Split, batches, log, first_step):
    for idx in batches:
        log.append(vae_step(models["vae"], opts["vae"], _batch(cfg, train, idx, signed=False), cfg.amp))


def _gan_epoch(cfg, models, opts, train: Split, batches, log, first_step):
    G, D = models["generator"], models["critic"]
    for idx in batches:
        real = _batch(cfg, train, idx, signed=True)
        with _autocast(real, cfg.amp):
            fake = G(torch.randn(len(idx), cfg.latent_dim, device=real.device))
        stats = d_step(D, opts["critic"], real, fake, cfg.amp)
        stats.update(g_step(D, opts["generator"], fake, losses.gan_g_loss, cfg.amp))
        log.append(stats)


def _wgan_epoch(cfg, models, opts, train: Split, batches, log, first_step):
    """Each batch is one critic step; every n_critic-th critic step of the run (counted
    across epochs, from `first_step`) is also a generator step."""
    G, D = models["generator"], models["critic"]
    for i, idx in enumerate(batches):
        real = _batch(cfg, train, idx, signed=True)
        z = torch.randn(len(idx), cfg.latent_dim, device=real.device)
        with torch.no_grad(), _autocast(real, cfg.amp):
            fake = G(z)
        stats = critic_step(D, opts["critic"], real, fake, cfg.clip, cfg.gp, cfg.amp)
        if (first_step + i + 1) % cfg.n_critic == 0:
            with _autocast(real, cfg.amp):
                fake = G(torch.randn(len(idx), cfg.latent_dim, device=real.device))
            stats.update(g_step(D, opts["generator"], fake, losses.wgan_g_loss, cfg.amp))
        log.append(stats)


_EPOCH_FNS = {"vae": _vae_epoch, "gan": _gan_epoch, "wgan": _wgan_epoch}
_WATCHED = {"vae": "loss", "gan": "d_loss", "wgan": "critic_loss"}


def _collect(log: list[dict]) -> dict[str, list[float]]:
    """Stack a list of per-step dicts of 0-dim tensors into lists of floats: one host sync."""
    keys = sorted({k for stats in log for k in stats})
    values = {k: torch.stack([s[k] for s in log if k in s]).float().cpu().tolist() for k in keys}
    return values


def _first_non_finite(values: list[float]) -> int | None:
    return next((i for i, v in enumerate(values) if not math.isfinite(v)), None)


def _progress_stream():
    # Inside a notebook kernel sys.__stderr__ is the terminal that runs papermill, so
    # the bars show progress there and stay out of the book.
    return sys.__stderr__ if sys.__stderr__ is not None else sys.stderr


def rng_state(perm_gen: torch.Generator) -> dict:
    """Every random stream training draws from: noise, dropout and the epoch permutations."""
    state = {"torch": torch.get_rng_state(), "perm": perm_gen.get_state()}
    if perm_gen.device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(perm_gen.device)
    return state


def set_rng_state(state: dict, perm_gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    perm_gen.set_state(state["perm"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], perm_gen.device)


def checkpoint_state(cfg: RunConfig, result: TrainResult, opts: dict, perm_gen, epoch: int, steps_done: int) -> dict:
    """What resuming after `epoch` needs to continue exactly as if never stopped (torch.load-able
    with weights_only=True: tensors, numbers, strings, lists and dicts only)."""
    return {"config": cfg.to_dict(), "hash": cfg.run_hash(), "epoch": epoch, "steps_done": steps_done,
            "models": {k: m.state_dict() for k, m in result.models.items()},
            "optimizers": {k: o.state_dict() for k, o in opts.items()},
            "rng": rng_state(perm_gen), "history": result.history, "epoch_means": result.epoch_means,
            "sample_grids": result.sample_grids, "images_seen": result.images_seen,
            "train_seconds": result.train_seconds}


def _restore(state: dict, result: TrainResult, opts: dict, perm_gen) -> tuple[int, int]:
    for k, m in result.models.items():
        m.load_state_dict(state["models"][k])
    for k, o in opts.items():
        o.load_state_dict(state["optimizers"][k])
    set_rng_state(state["rng"], perm_gen)
    result.history, result.epoch_means = state["history"], state["epoch_means"]
    result.sample_grids = {int(e): g for e, g in state["sample_grids"].items()}
    result.images_seen, result.train_seconds = state["images_seen"], state["train_seconds"]
    return state["epoch"] + 1, state["steps_done"]


def train(cfg: RunConfig, train_split: Split, device, progress: bool = True,
          on_epoch=None, resume: dict | None = None, on_checkpoint=None) -> TrainResult:
    """Train one run of the grid, from scratch or from a `checkpoint_state` (`resume`).

    After each finished epoch: `on_epoch(epoch, result)`, then `on_checkpoint(state)` with the
    state to resume from. A non-finite loss ends the run as "diverged" with its epoch and step.
    """
    device = torch.device(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True          # fixed shapes: pick the fastest conv once
    torch.manual_seed(cfg.seed)
    models = {k: m.to(device, memory_format=memory_format(cfg)) for k, m in build_models(cfg).items()}
    opts = {k: make_optimizer(cfg, m.parameters()) for k, m in models.items()}
    # compiled wrappers share the parameters; `models` keeps the plain modules for saving
    steppers = {k: torch.compile(m) for k, m in models.items()} if cfg.compile else models
    perm_gen = torch.Generator(device=device).manual_seed(cfg.seed)
    fixed_z = torch.randn(cfg.n_samples, cfg.latent_dim,
                          generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    result = TrainResult(models, {}, {}, {})
    first_epoch, steps_done = _restore(resume, result, opts, perm_gen) if resume else (1, 0)
    keep_grids = set(sample_epochs(cfg.epochs))
    run_epoch, watched = _EPOCH_FNS[cfg.family], _WATCHED[cfg.family]
    bar = tqdm(range(first_epoch, cfg.epochs + 1), desc=f"{cfg.family} {cfg.dataset} {cfg.label}",
               unit="epoch", file=_progress_stream(), disable=not progress, leave=True,
               initial=first_epoch - 1, total=cfg.epochs)
    for epoch in bar:
        batches = epoch_batches(len(train_split), cfg.batch_size, perm_gen, device)
        log: list[dict] = []
        start = time.perf_counter()
        run_epoch(cfg, steppers, opts, train_split, batches, log, steps_done)
        values = _collect(log)                   # also waits for the device
        result.train_seconds += time.perf_counter() - start
        result.images_seen += len(batches) * cfg.batch_size
        for key, vals in values.items():
            result.history.setdefault(key, []).extend(vals)
            result.epoch_means.setdefault(key, []).append(sum(vals) / len(vals))
        bad = _first_non_finite(values[watched])
        if bad is not None:
            result.status = "diverged"
            result.diverged_at = {"epoch": epoch, "step": bad + 1, "global_step": steps_done + bad + 1}
            break
        steps_done += len(batches)
        if epoch in keep_grids:
            result.sample_grids[epoch] = generate(cfg, models, fixed_z).cpu()
        bar.set_postfix({watched: f"{result.epoch_means[watched][-1]:.3f}"})
        if on_epoch is not None:
            on_epoch(epoch, result)
        if on_checkpoint is not None:
            on_checkpoint(checkpoint_state(cfg, result, opts, perm_gen, epoch, steps_done))
    bar.close()
    return result
