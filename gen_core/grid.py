"""The experiment grid: every family's rows (from its module), sized by a profile.

`full` is the reports' settings; `quick` and `smoke` shrink data, epochs and (for the
DCGAN rows, whose convolutions dominate CPU time) conv widths, keeping every row. This
module is the single source of the defaults that chapter notebooks start from.
"""
from __future__ import annotations

import os

from . import families
from .config import DATASETS, PROFILES, ConfigError, RunConfig

# Per profile: training images, test images, epochs (None = the reports'), a cap on the widest
# conv layer (the whole stack is divided so its widest layer fits; None = as in the reports),
# N generated images behind the yardstick, how many seeds each run repeats over, and the speed
# switches of RunConfig (bf16 autocast, torch.compile): off until `make bench` on a GPU shows
# they help with results unchanged within noise (see the README's "Speed" section).
_PROFILE_SIZES = {
    "full": dict(train_size=0, test_size=0, epochs=None, conv_cap=None, n_eval_samples=10000, seeds=3,
                 amp=False, compile=False),
    "quick": dict(train_size={"mnist": 40000, "cifar10": 20000}, test_size=2000, epochs=3, conv_cap=64,
                  n_eval_samples=1000, seeds=1, amp=False, compile=False),
    "smoke": dict(train_size=256, test_size=128, epochs=1, conv_cap=32, n_eval_samples=128, seeds=1,
                  amp=False, compile=False),
}


def resolve_profile(profile: str, cuda_available: bool | None = None) -> str:
    """`auto` means `full` on CUDA and `quick` otherwise."""
    allowed = ("auto",) + PROFILES
    if profile not in allowed:
        raise ConfigError(f"PROFILE={profile!r} is not allowed; expected one of {', '.join(allowed)}")
    if profile != "auto":
        return profile
    if cuda_available is None:
        from .cuda import available
        cuda_available = available()
    return "full" if cuda_available else "quick"


def _check_choice(key, value, allowed):
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; expected one of {', '.join(allowed)}")


def capped(widths: tuple, cap: int | None) -> tuple:
    """Conv widths divided so the widest is at most `cap` (None: unchanged)."""
    if cap is None or max(widths) <= cap:
        return widths
    div = -(-max(widths) // cap)                        # ceil: the widest layer ends <= cap
    return tuple(max(4, c // div) for c in widths)


def rows(family: str, dataset: str) -> list[families.Row]:
    """The family's grid rows on one dataset (none if it has none there)."""
    _check_choice("family", family, families.names())
    _check_choice("dataset", dataset, DATASETS)
    return list(families.get(family).rows.get(dataset, []))


def row_config(family: str, dataset: str, row: families.Row, latent_dim: int, seed: int, profile: str) -> RunConfig:
    """One run of a row, sized for `profile`: the family's optimizer, then the row's fields."""
    _check_choice("profile", profile, PROFILES)
    sizes = _PROFILE_SIZES[profile]
    fields = dict(row.fields)
    for key in ("channels", "d_channels"):
        if key in fields:
            fields[key] = capped(fields[key], sizes["conv_cap"])
    train_size = sizes["train_size"]
    return RunConfig(
        family=family, dataset=dataset, arch=row.arch, variant=row.variant, latent_dim=latent_dim,
        epochs=row.full_epochs if sizes["epochs"] is None else sizes["epochs"],
        train_size=train_size[dataset] if isinstance(train_size, dict) else train_size,
        test_size=sizes["test_size"], n_eval_samples=sizes["n_eval_samples"], seed=seed,
        amp=sizes["amp"], compile=sizes["compile"],
        **{**families.get(family).optimizer, **fields})           # a row may override its family's optimizer


def grid(family: str, dataset: str, profile: str) -> list[RunConfig]:
    """Every run of the reports' grid for one family and dataset, sized for `profile`."""
    _check_choice("profile", profile, PROFILES)
    return [row_config(family, dataset, row, z, seed, profile)
            for row in rows(family, dataset) for z in row.latents
            for seed in range(seeds(profile))]        # full: 3 seeds per run, for mean +- std


def seeds(profile: str) -> int:
    _check_choice("profile", profile, PROFILES)
    return _PROFILE_SIZES[profile]["seeds"]


def eval_samples(profile: str) -> int:
    """N: images each run generates for the yardstick, and real held-out images of its floor."""
    _check_choice("profile", profile, PROFILES)
    return _PROFILE_SIZES[profile]["n_eval_samples"]


def full_grid(profile: str) -> list[RunConfig]:
    return [cfg for ds in DATASETS for fam in families.names() for cfg in grid(fam, ds, profile)]


def override(cfg: RunConfig, **changes) -> RunConfig:
    """A copy with some fields changed, validated again."""
    return RunConfig.from_dict({**cfg.to_dict(), **changes})


def data_dir_from_env() -> str:
    return os.environ.get("GEN_DATA_DIR", "data")
