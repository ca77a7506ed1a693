"""The experiment grid: every family's rows (from its module), sized by a profile.

`full` is the reports' settings; `long` is them on a CPU with hours (conv widths capped);
`quick` and `smoke` shrink data, epochs and (for the conv rows, whose convolutions dominate
CPU time) conv widths, keeping every row the reports show (the rows they only describe in words
train at full and long: Row.profiles). This
module is the single source of the defaults that chapter notebooks start from.
"""
from __future__ import annotations

import os

from . import bf16, families
# the GEN_BF16 and CPU-flag helpers live in bf16.py (torch-free); the tests patch this name here
from .bf16 import cpu_has_native_bf16
# DATASET_SIZES is config's (a config checks its sizes against it); read here too by cost and findings
from .config import DATASET_SIZES, DATASETS, PROFILES, RunConfig  # noqa: F401
from .errors import check_choice

# Per profile: training images, test images, epochs (None = the reports'), a cap on the widest
# conv layer (the whole stack is divided so its widest layer fits; None = as in the reports),
# N generated images behind the yardstick, how many seeds each configuration repeats over (3 where a
# verdict should rest on seeds: full and long; 1 in quick and smoke, whose verdicts are provisional), and the speed
# switches of RunConfig: bf16 autocast ("measured": where the family's measurement allows it, see
# Family.bf16, and on a CPU that computes bf16 natively, see bf16_on_this_cpu; quick and smoke share
# the decision, since smoke runs the quick report's code path; long: off, so that the published book's
# runs are the same runs, with the same names, on every CPU, and none of its numbers depends on whether the
# CPU that trained it computes bf16 natively; full: off, never measured on a GPU) and
# torch.compile (off: 0.7-0.8x on CPU, and unmeasured on a GPU).
_PROFILE_SIZES = {
    "full": dict(train_size=0, test_size=0, epochs=None, conv_cap=None, n_eval_samples=10000, seeds=3,
                 amp=False, compile=False),
    # the reports' data, epochs and MLP widths on a CPU with hours to spend: conv stacks at quick's cap
    "long": dict(train_size=0, test_size=0, epochs=None, conv_cap=64, n_eval_samples=5000, seeds=3,
                 amp=False, compile=False),
    "quick": dict(train_size={"mnist": 40000, "cifar10": 20000}, test_size=2000, epochs=3, conv_cap=64,
                  n_eval_samples=1000, seeds=1, amp="measured", compile=False),
    "smoke": dict(train_size=256, test_size=128, epochs=1, conv_cap=32, n_eval_samples=128, seeds=1,
                  amp="measured", compile=False),
}


def uses_bf16(profile: str, family: str, dataset: str, arch: str, variant: str) -> bool:
    """Whether a row trains with bf16 autocast at `profile`."""
    check_choice("profile", profile, PROFILES)
    amp = _PROFILE_SIZES[profile]["amp"]
    if amp != "measured":
        return bool(amp)
    evidence = families.get(family).bf16_evidence(dataset, arch, variant)
    return evidence is not None and evidence.use and bf16_on_this_cpu()


def bf16_on_this_cpu() -> bool:
    """Whether the rows whose measurement allows bf16 use it here: GEN_BF16=1 or 0 forces it, auto
    (the default) asks the CPU (gen_core/bf16.py, torch-free so a notebook's fingerprint reads it)."""
    return bf16.bf16_on_this_cpu(cpu_has_native_bf16)     # this module's name: what a test stands in for


def resolve_profile(profile: str, cuda_available: bool | None = None) -> str:
    """`auto` means `full` on CUDA and `quick` otherwise."""
    allowed = ("auto",) + PROFILES
    if profile not in allowed:
        check_choice("PROFILE", profile, allowed)
    if profile != "auto":
        return profile
    if cuda_available is None:
        from .cuda import available
        cuda_available = available()
    return "full" if cuda_available else "quick"


def capped(widths: tuple, cap: int | None) -> tuple:
    """Conv widths divided so the widest is at most `cap` (None: unchanged)."""
    if cap is None or max(widths) <= cap:
        return widths
    div = -(-max(widths) // cap)                        # ceil: the widest layer ends <= cap
    return tuple(max(4, c // div) for c in widths)


def rows(family: str, dataset: str, profile: str | None = None) -> list[families.Row]:
    """The family's grid rows on one dataset (none if it has none there): every row (None: what a
    notebook's parameters name, the same at every profile), or those `profile` trains (Row.profiles)."""
    check_choice("family", family, families.names())
    check_choice("dataset", dataset, DATASETS)
    every = families.get(family).rows.get(dataset, [])
    if profile is None:
        return list(every)
    check_choice("profile", profile, PROFILES)
    return [row for row in every if row.trained_at(profile)]


def row_config(family: str, dataset: str, row: families.Row, latent_dim: int, seed: int, profile: str) -> RunConfig:
    """One run of a row, sized for `profile`: the family's optimizer, then the row's fields."""
    check_choice("profile", profile, PROFILES)
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
    """Every run of the reports' grid for one family and dataset that `profile` trains, sized for it."""
    return [row_config(family, dataset, row, z, seed, profile)
            for row in rows(family, dataset, profile) for z in row.latents
            for seed in range(row_seeds(profile, family, dataset, row.arch))]


def row_seeds(profile: str, family: str, dataset: str, arch: str) -> int:
    """Seeds 0..n-1 each configuration of a row trains: the profile's, for every row (full and long: 3)."""
    return seeds(profile)


def seeds(profile: str) -> int:
    """The seeds every configuration of the profile trains."""
    check_choice("profile", profile, PROFILES)
    return _PROFILE_SIZES[profile]["seeds"]


def fewest_seeds(profile: str) -> int:
    """The fewest seeds any row of the profile trains (every row trains as many)."""
    return seeds(profile)


def eval_samples(profile: str) -> int:
    """N: images each run generates for the yardstick, and real held-out images of its floor."""
    check_choice("profile", profile, PROFILES)
    return _PROFILE_SIZES[profile]["n_eval_samples"]


def reports_config(cfg: RunConfig) -> RunConfig | None:
    """The run as the reports trained it (or, for a row they describe in words, would have): its grid
    row and latent size at the full profile (None for a variant the grid does not have)."""
    row = next((r for r in rows(cfg.family, cfg.dataset) if r.variant == cfg.variant), None)
    return None if row is None else row_config(cfg.family, cfg.dataset, row, cfg.latent_dim, cfg.seed, "full")


def reports_trained(cfg: RunConfig) -> bool:
    """Whether the reports trained this run's row with this recipe: not a gradient-penalty run (beyond the
    reports), and a row every profile trains (the rows the reports only describe in words, Row.profiles,
    train at full and long only)."""
    row = next((r for r in rows(cfg.family, cfg.dataset) if r.variant == cfg.variant), None)
    return row is not None and row.profiles is None and not cfg.gp


def full_grid(profile: str) -> list[RunConfig]:
    return [cfg for ds in DATASETS for fam in families.names() for cfg in grid(fam, ds, profile)]


def override(cfg: RunConfig, **changes) -> RunConfig:
    """A copy with some fields changed, validated again."""
    return RunConfig.from_dict({**cfg.to_dict(), **changes})


def data_dir_from_env() -> str:
    return os.environ.get("GEN_DATA_DIR", "data")
