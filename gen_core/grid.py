"""The experiment grid of the two reference reports (plus WGAN-GP), and the profiles that size it.

`full` is the reports' settings; `quick` and `smoke` shrink data, epochs and (for the
DCGAN rows, whose convolutions dominate CPU time) conv widths, keeping every row.
"""
from __future__ import annotations

import dataclasses
import os

from .config import DATASETS, FAMILIES, PROFILES, ConfigError, RunConfig

# Optimizers of the reports: Adam for VAE and GAN, RMSprop + clipping + 5 critic steps for WGAN.
_TRAINING = {
    "vae": dict(lr=1e-3, optimizer="adam", betas=(0.9, 0.999), batch_size=128),
    "gan": dict(lr=2e-4, optimizer="adam", betas=(0.5, 0.999), batch_size=128),
    "wgan": dict(lr=5e-5, optimizer="rmsprop", clip=0.01, n_critic=5, batch_size=64),
}
_GAN_MLP_A = dict(hidden=(128, 256, 512, 1024), d_hidden=(512, 256))
_GAN_MLP_B = dict(hidden=(128, 256, 512, 768, 1024), d_hidden=(512, 256, 128))
_DCGAN = dict(channels=(512, 256, 128, 64), d_channels=(64, 128, 256, 512))
# WGAN-GP (Gulrajani et al. 2017, Alg. 1): lambda 10, Adam 1e-4 with betas (0, 0.9), 5 critic
# steps, no clipping, and a critic with layer norm instead of BatchNorm. Same nets as DC-WGAN.
_GP = dict(gp=10.0, critic_norm="layer", clip=0.0, optimizer="adam", lr=1e-4, betas=(0.0, 0.9))
_DC_WGAN_MNIST = dict(channels=(128, 64, 32, 16), d_channels=(16, 32, 64, 128))
_DC_WGAN_CIFAR = dict(channels=(256, 128, 64, 32), d_channels=(32, 64, 128, 256))

# (family, dataset) -> [(variant, arch, latent sizes, architecture fields, full-profile epochs)]
_ROWS = {
    ("vae", "mnist"): [
        ("MLP A", "mlp", (50, 100), dict(hidden=(512,)), 15),
        ("MLP B", "mlp", (100,), dict(hidden=(512, 256)), 15),
        ("MLP C", "mlp", (2, 32, 128), dict(hidden=(512, 512), dropout=0.2), 15),
    ],
    ("gan", "mnist"): [
        ("MLP A", "mlp", (100, 200), _GAN_MLP_A, 15),
        ("MLP B", "mlp", (200,), _GAN_MLP_B, 15),
        ("DCGAN", "conv", (64, 256), _DCGAN, 15),
    ],
    ("wgan", "mnist"): [
        ("MLP A", "mlp", (100, 200), _GAN_MLP_A, 25),
        ("MLP B", "mlp", (200,), _GAN_MLP_B, 25),
        ("DC-WGAN", "conv", (64, 256), _DC_WGAN_MNIST, 25),
        ("DC-WGAN-GP", "conv", (64,), {**_DC_WGAN_MNIST, **_GP}, 25),     # beyond the reports
    ],
    ("vae", "cifar10"): [
        ("MLP", "mlp", (100,), dict(hidden=(1536, 768, 512)), 20),
        ("MLP C", "mlp", (2, 128), dict(hidden=(512, 512)), 20),
        ("Conv", "conv", (2, 128), dict(channels=(32, 64, 128)), 20),
    ],
    ("gan", "cifar10"): [
        ("MLP", "mlp", (100,), _GAN_MLP_A, 25),
        ("DCGAN", "conv", (64, 256), _DCGAN, 25),
    ],
    ("wgan", "cifar10"): [
        ("MLP", "mlp", (200,), _GAN_MLP_A, 25),
        ("DC-WGAN", "conv", (64, 256), _DC_WGAN_CIFAR, 25),
        ("DC-WGAN-GP", "conv", (64,), {**_DC_WGAN_CIFAR, **_GP}, 25),     # beyond the reports
    ],
}

# Per profile: training images, test images, epochs (None = the reports'), a cap on the widest
# conv layer (the whole stack is divided so its widest layer fits; None = as in the reports),
# N generated images behind the yardstick, how many seeds each run repeats over, and the speed
# switches of RunConfig (bf16 autocast, torch.compile): off until `make bench` on a GPU shows
# they help with results unchanged within noise (see the README's "Speed" section).
_PROFILE_SIZES = {
    "full": dict(train_size=0, test_size=0, epochs=None, conv_cap=None, n_eval_samples=10000, seeds=3,
                 amp=False, compile=False),
    "quick": dict(train_size={"mnist": 40000, "cifar10": 20000}, test_size=2000,
                  epochs={"vae": 3, "gan": 3, "wgan": 3}, conv_cap=64, n_eval_samples=1000, seeds=1,
                  amp=False, compile=False),
    "smoke": dict(train_size=256, test_size=128, epochs={"vae": 1, "gan": 1, "wgan": 1}, conv_cap=32,
                  n_eval_samples=128, seeds=1, amp=False, compile=False),
}


def resolve_profile(profile: str, cuda_available: bool | None = None) -> str:
    """`auto` means `full` on CUDA and `quick` otherwise."""
    allowed = ("auto",) + PROFILES
    if profile not in allowed:
        raise ConfigError(f"PROFILE={profile!r} is not allowed; expected one of {', '.join(allowed)}")
    if profile != "auto":
        return profile
    if cuda_available is None:
        import torch
        cuda_available = torch.cuda.is_available()
    return "full" if cuda_available else "quick"


def _check_choice(key, value, allowed):
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; expected one of {', '.join(allowed)}")


def _capped(widths: tuple, cap: int | None) -> tuple:
    if cap is None or max(widths) <= cap:
        return widths
    div = -(-max(widths) // cap)                        # ceil: the widest layer ends <= cap
    return tuple(max(4, c // div) for c in widths)


def grid(family: str, dataset: str, profile: str) -> list[RunConfig]:
    """Every run of the reports' grid for one family and dataset, sized for `profile`."""
    _check_choice("family", family, FAMILIES)
    _check_choice("dataset", dataset, DATASETS)
    _check_choice("profile", profile, PROFILES)
    sizes = _PROFILE_SIZES[profile]
    runs = []
    for variant, arch, latents, fields, full_epochs in _ROWS[(family, dataset)]:
        fields = dict(fields)
        for key in ("channels", "d_channels"):
            if key in fields:
                fields[key] = _capped(fields[key], sizes["conv_cap"])
        train_size = sizes["train_size"]
        epochs = sizes["epochs"]
        for z in latents:
            for seed in range(sizes["seeds"]):   # full: 3 seeds per run, for mean +- std
                runs.append(RunConfig(
                    family=family, dataset=dataset, arch=arch, variant=variant, latent_dim=z,
                    epochs=full_epochs if epochs is None else epochs[family],
                    train_size=train_size[dataset] if isinstance(train_size, dict) else train_size,
                    test_size=sizes["test_size"], n_eval_samples=sizes["n_eval_samples"], seed=seed,
                    amp=sizes["amp"], compile=sizes["compile"],
                    **{**_TRAINING[family], **fields}))          # a row may override its family's optimizer
    return runs


def seeds(profile: str) -> int:
    _check_choice("profile", profile, PROFILES)
    return _PROFILE_SIZES[profile]["seeds"]


def full_grid(profile: str) -> list[RunConfig]:
    return [cfg for fam, ds in _ROWS for cfg in grid(fam, ds, profile)]


def override(cfg: RunConfig, **changes) -> RunConfig:
    """A copy with some fields changed, validated again."""
    return RunConfig.from_dict({**cfg.to_dict(), **changes})


def data_dir_from_env() -> str:
    return os.environ.get("GEN_DATA_DIR", "data")
