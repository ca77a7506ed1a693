"""The experiment grid: every family's rows (from its module), sized by a profile.

`full` is the reports' settings; `long` is them on a CPU with hours (conv widths capped);
`quick` and `smoke` shrink data, epochs and (for the conv rows, whose convolutions dominate
CPU time) conv widths, keeping every row. This
module is the single source of the defaults that chapter notebooks start from.
"""
from __future__ import annotations

import os
from typing import NamedTuple

from . import families
from .config import DATASETS, PROFILES, ConfigError, RunConfig

# Per profile: training images, test images, epochs (None = the reports'), a cap on the widest
# conv layer (the whole stack is divided so its widest layer fits; None = as in the reports),
# N generated images behind the yardstick, how many seeds each run repeats over (and, in
# `more_seeds`, rows that repeat over more: (family, dataset, arch) -> seeds), and the speed
# switches of RunConfig: bf16 autocast ("measured": where BF16_EVIDENCE allows it, else off) and
# torch.compile (off: 0.7-0.8x on CPU, and unmeasured on a GPU).
_PROFILE_SIZES = {
    "full": dict(train_size=0, test_size=0, epochs=None, conv_cap=None, n_eval_samples=10000, seeds=3,
                 amp=False, compile=False),
    # the reports' data, epochs and MLP widths on a CPU with hours to spend: conv stacks at quick's
    # cap, 2 seeds where the reports' findings lean on differences between MLP rows
    "long": dict(train_size=0, test_size=0, epochs=None, conv_cap=64, n_eval_samples=5000, seeds=1,
                 more_seeds={("vae", "mnist", "mlp"): 2, ("gan", "mnist", "mlp"): 2},
                 amp="measured", compile=False),
    "quick": dict(train_size={"mnist": 40000, "cifar10": 20000}, test_size=2000, epochs=3, conv_cap=64,
                  n_eval_samples=1000, seeds=1, amp="measured", compile=False),
    "smoke": dict(train_size=256, test_size=128, epochs=1, conv_cap=32, n_eval_samples=128, seeds=1,
                  amp="measured", compile=False),
}


class Bf16Evidence(NamedTuple):
    """fp32 against bf16 autocast on one run (seed 0 at quick), judged by the yardstick's FD."""
    fp32: tuple                  # FD and its 95% bootstrap interval (fd, low, high)
    bf16: tuple
    speedup: float               # training images/s with bf16 over fp32, side by side

    @property
    def overlap(self) -> bool:
        return max(self.fp32[1], self.bf16[1]) <= min(self.fp32[2], self.bf16[2])

    @property
    def use(self) -> bool:
        """bf16 only where it is faster and the yardstick cannot tell the two apart."""
        return self.overlap and self.speedup > 1


# `python -m gen_core.bench --amp-quality` (FD intervals) and `--amp` (speed-ups; where --amp does
# not time a row, the training-time ratio of --amp-quality) at quick, on a 2-core Xeon with
# AVX-512, 2026-11-21. Keyed (family, dataset, arch, variant); variant None stands for every row of
# that family, dataset and architecture not listed by name. Quick, long and smoke share the
# decision: long trains quick's very networks (same widths and conv cap) longer on more data, and
# smoke runs the code path the quick report runs. Where bf16 moved FD outside fp32's interval it
# stays off, even where it moved it down: a different result is not the same result.
BF16_EVIDENCE = {
    ("vae", "mnist", "mlp", None): Bf16Evidence((517, 497, 537), (525, 503, 547), 1.06),
    ("gan", "mnist", "mlp", None): Bf16Evidence((823, 802, 842), (844, 819, 867), 1.29),
    ("gan", "mnist", "conv", None): Bf16Evidence((183, 169, 197), (148, 134, 162), 1.33),
    ("wgan", "mnist", "mlp", None): Bf16Evidence((1410, 1385, 1438), (1387, 1363, 1415), 1.07),
    ("wgan", "mnist", "conv", "DC-WGAN"): Bf16Evidence((981, 958, 1002), (855, 831, 874), 1.39),
    ("wgan", "mnist", "conv", "DC-WGAN-GP"): Bf16Evidence((1077, 1055, 1100), (1081, 1057, 1104), 1.33),
    ("vae", "cifar10", "mlp", None): Bf16Evidence((24.1, 23.6, 24.8), (23.5, 23.0, 24.1), 1.50),
    ("vae", "cifar10", "conv", None): Bf16Evidence((28.6, 28.0, 29.2), (28.4, 27.8, 28.9), 1.33),
    ("gan", "cifar10", "mlp", None): Bf16Evidence((16.1, 15.7, 16.5), (13.6, 13.1, 14.0), 1.40),
    ("gan", "cifar10", "conv", None): Bf16Evidence((15.7, 15.1, 16.3), (8.78, 8.37, 9.18), 1.38),
    ("wgan", "cifar10", "mlp", None): Bf16Evidence((18.3, 17.8, 18.8), (18.0, 17.5, 18.5), 1.16),
    ("wgan", "cifar10", "conv", "DC-WGAN"): Bf16Evidence((14.7, 14.2, 15.1), (16.0, 15.4, 16.5), 1.37),
    ("wgan", "cifar10", "conv", "DC-WGAN-GP"): Bf16Evidence((12.4, 12.0, 12.9), (13.2, 12.8, 13.7), 1.33),
}


def bf16_evidence(family: str, dataset: str, arch: str, variant: str) -> Bf16Evidence | None:
    """The measurement behind a row's bf16 decision (None: never measured, so fp32)."""
    return BF16_EVIDENCE.get((family, dataset, arch, variant), BF16_EVIDENCE.get((family, dataset, arch, None)))


def uses_bf16(profile: str, family: str, dataset: str, arch: str, variant: str) -> bool:
    """Whether a row trains with bf16 autocast at `profile`."""
    _check_choice("profile", profile, PROFILES)
    amp = _PROFILE_SIZES[profile]["amp"]
    if amp != "measured":
        return bool(amp)
    evidence = bf16_evidence(family, dataset, arch, variant)
    return evidence is not None and evidence.use


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
        amp=uses_bf16(profile, family, dataset, row.arch, row.variant), compile=sizes["compile"],
        **{**families.get(family).optimizer, **fields})           # a row may override its family's optimizer


def grid(family: str, dataset: str, profile: str) -> list[RunConfig]:
    """Every run of the reports' grid for one family and dataset, sized for `profile`."""
    _check_choice("profile", profile, PROFILES)
    return [row_config(family, dataset, row, z, seed, profile)
            for row in rows(family, dataset) for z in row.latents
            for seed in range(row_seeds(profile, family, dataset, row.arch))]


def row_seeds(profile: str, family: str, dataset: str, arch: str) -> int:
    """Seeds 0..n-1 each configuration of a row trains (full: 3, for mean +- std)."""
    _check_choice("profile", profile, PROFILES)
    sizes = _PROFILE_SIZES[profile]
    return sizes.get("more_seeds", {}).get((family, dataset, arch), sizes["seeds"])


def seeds(profile: str) -> int:
    """The most seeds any row of the profile trains."""
    _check_choice("profile", profile, PROFILES)
    sizes = _PROFILE_SIZES[profile]
    return max([sizes["seeds"], *sizes.get("more_seeds", {}).values()])


def fewest_seeds(profile: str) -> int:
    """The fewest seeds any row of the profile trains."""
    _check_choice("profile", profile, PROFILES)
    sizes = _PROFILE_SIZES[profile]
    return min([sizes["seeds"], *sizes.get("more_seeds", {}).values()])


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
