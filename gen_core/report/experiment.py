"""A chapter's experiment: the flat values of its notebook's parameters cell, validated, and the
run configs they define.

    exp = experiment.chapter("gan", "mnist", mlp_a_latents=[17], epochs=None, overrides={"lr": 1e-4})
    exp.configs("smoke")        # the grid's rows (gen_core/grid.py), with these changes applied

Each variant has a latent-size parameter named after it ("MLP A" -> `mlp_a_latents`), at every
profile, even where the profile does not train its row (Row.profiles); None keeps the grid's
sizes. `epochs` (None: the profile's) and `overrides` (RunConfig fields) apply to every run of the
chapter. A run that differs from its grid row says how in its label.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..errors import fail
from ..config import PROFILES, ConfigError, RunConfig
from ..grid import override, reports_config, row_config, row_seeds, rows

COMMON = ("profile", "data_dir", "runs_dir", "force")
EXPERIMENT = ("epochs", "overrides")
# Fields that say which run it is, not how it trains: the chapter and its parameters set them.
_NOT_OVERRIDABLE = {"family": "the chapter's", "dataset": "the chapter's", "arch": "its row's",
                    "variant": "its row's", "latent_dim": "the <variant>_latents parameters'",
                    "epochs": "the epochs parameter's", "seed": "the profile's", "changes": "derived",
                    # the yardstick measures every run of a profile at one N against one test set
                    "n_eval_samples": "the profile's", "test_size": "the profile's"}
# Widths of one architecture apply to the chapter's rows of that architecture only.
_ARCH_FIELDS = {"hidden": "mlp", "d_hidden": "mlp", "channels": "conv", "d_channels": "conv"}


def latent_parameter(variant: str) -> str:
    """The parameter that holds a variant's latent sizes: "DC-WGAN-GP" -> "dc_wgan_gp_latents"."""
    return re.sub(r"[^a-z0-9]+", "_", variant.lower()).strip("_") + "_latents"


def parameter_names(notebook: str) -> tuple[str, ...]:
    """Every parameter the notebook `notebook` takes (a chapter "<family>_<dataset>" or "comparison")."""
    if notebook == "comparison":
        return COMMON
    family, _, dataset = notebook.rpartition("_")
    return COMMON + tuple(latent_parameter(r.variant) for r in rows(family, dataset)) + EXPERIMENT


def check_names(notebook: str, params: dict) -> None:
    """ConfigError for a parameter that is not one of the notebook's own (its experiment's)."""
    own = parameter_names(notebook)[len(COMMON):]
    for key in params:
        if key not in own:
            raise ConfigError(f"parameter {key!r} is not allowed for notebook {notebook}; " +
                              (f"expected one of {', '.join(own)}" if own else
                               "it takes none besides PROFILE, GEN_DATA_DIR, GEN_RUNS_DIR and FORCE"))


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _describe(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    return str(value)


def _row_profiles(exp: "Experiment", variant: str) -> tuple[str, ...]:
    """The profiles that train the chapter's row `variant`."""
    row = next(r for r in rows(exp.family, exp.dataset) if r.variant == variant)
    return tuple(p for p in PROFILES if row.trained_at(p))


@dataclass(frozen=True)
class Experiment:
    family: str
    dataset: str
    latents: dict          # variant -> tuple of latent sizes; the variants the user changed
    epochs: int | None     # None: the profile's epochs
    overrides: dict        # RunConfig fields for every run of the chapter

    @property
    def name(self) -> str:
        return f"{self.family}_{self.dataset}"

    def configs(self, profile: str) -> list[RunConfig]:
        """The chapter's runs at `profile`: each grid row the profile trains at its latent sizes, every
        seed, changed. ConfigError where a latent parameter sets a row the profile does not train (a row
        trained at full and long only), rather than train nothing for it.

        Overrides apply to every run, except widths, which apply to the rows of their architecture.
        """
        trained = {row.variant for row in rows(self.family, self.dataset, profile)}
        for variant in self.latents:
            if variant not in trained:
                raise ConfigError(f"parameter {latent_parameter(variant)} is not allowed at PROFILE={profile}: the "
                                  f"{variant} row trains at {' and '.join(_row_profiles(self, variant))} only; "
                                  f"leave it None, or run PROFILE={_row_profiles(self, variant)[-1]}")
        return self._configs(profile, name_profile=False)

    def _configs(self, profile: str, name_profile: bool) -> list[RunConfig]:
        """`configs`; `name_profile`: a refused change names the profile it does not fit."""
        where = f" at PROFILE={profile} (a chapter's parameters must suit every profile)" if name_profile else ""
        out = []
        for row in rows(self.family, self.dataset, profile):
            changes = {k: v for k, v in self.overrides.items() if _ARCH_FIELDS.get(k, row.arch) == row.arch}
            if self.epochs is not None:
                changes["epochs"] = self.epochs
            for z in self.latents.get(row.variant, row.latents):
                for seed in range(row_seeds(profile, self.family, self.dataset, row.arch)):
                    base = row_config(self.family, self.dataset, row, z, seed, profile)
                    try:
                        changed = override(base, **changes)
                    except ConfigError as err:
                        raise ConfigError(f"overrides for {base.label}{where}: {err}") from None
                    differ = [f.name for f in dataclasses.fields(RunConfig)
                              if getattr(changed, f.name) != getattr(base, f.name)]
                    out.append(dataclasses.replace(changed, changes=", ".join(
                        f"{k}={_describe(getattr(changed, k))}" for k in differ)))
        return out

    def parameters(self) -> dict:
        """The experiment's parameters that differ from the defaults, as a notebook names them."""
        out = {latent_parameter(v): list(zs) for v, zs in self.latents.items()}
        if self.epochs is not None:
            out["epochs"] = self.epochs
        if self.overrides:
            out["overrides"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.overrides.items()}
        return out


def with_reports(configs: list[RunConfig]) -> list[tuple[RunConfig, RunConfig | None]]:
    """Each run beside its row as the reports trained it (for findings.settings_sentence)."""
    return [(c, reports_config(c)) for c in configs]


def chapter(family: str, dataset: str, epochs=None, overrides=None, **latents) -> Experiment:
    """Validate a chapter notebook's experiment parameters (ConfigError: one line naming the key,
    the value and what is allowed) into an Experiment."""
    name = f"{family}_{dataset}"
    check_names(name, {**latents, "epochs": epochs, "overrides": overrides})
    by_parameter = {latent_parameter(r.variant): r.variant for r in rows(family, dataset)}
    chosen = {}
    for key, value in latents.items():
        if value is None:
            continue
        if (not isinstance(value, (list, tuple)) or not value or not all(_positive_int(z) for z in value)
                or len(set(value)) != len(value)):
            fail(key, value, "None (the grid's sizes) or a list of distinct integers >= 1, e.g. [17]")
        chosen[by_parameter[key]] = tuple(value)
    if epochs is not None and not _positive_int(epochs):
        fail("epochs", epochs, "None (the profile's epochs) or an integer >= 1")
    overrides = {} if overrides is None else overrides
    if not isinstance(overrides, dict):
        fail("overrides", overrides, 'a dict of RunConfig fields, e.g. {"lr": 0.0001, "batch_size": 64}')
    fields = [f.name for f in dataclasses.fields(RunConfig) if f.name not in _NOT_OVERRIDABLE]
    for key in overrides:
        if key in _NOT_OVERRIDABLE:
            raise ConfigError(f"overrides key {key!r} is not allowed; it is {_NOT_OVERRIDABLE[key]} to set. "
                              f"Allowed keys: {', '.join(fields)}")
        if key not in fields:
            raise ConfigError(f"overrides key {key!r} is not a RunConfig field; allowed keys: {', '.join(fields)}")
    archs = {row.arch for row in rows(family, dataset)}
    for key, arch in _ARCH_FIELDS.items():
        if key in overrides and arch not in archs:
            raise ConfigError(f"overrides key {key!r} is not allowed for {name}: it sets {arch} widths and the "
                              f"chapter has only {', '.join(sorted(archs))} rows")
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    exp = Experiment(family, dataset, chosen, epochs, overrides)
    # Every change is checked on every row of every profile before anything trains. A change that
    # the first profile accepted and a later one refuses depends on the profile (a batch_size above
    # smoke's 256 training images): its message names that profile, since it may not be the one run.
    for profile in PROFILES:
        exp._configs(profile, name_profile=profile != PROFILES[0])
    return exp
