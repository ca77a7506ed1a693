"""A notebook's session: its validated context, the yardstick's reference, and its runs.

Every run a page shows comes through `measured_run` (or `run_models` for its weights): loaded
from its folder or trained, then measured by the yardstick. A run whose results or weights
cannot be read back is reported on the terminal and trained again, here and only here.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from .. import families
from ..config import DATASETS, ConfigError, RunConfig, parse_force
from ..grid import grid, resolve_profile
from ..cuda import default_device
from ..results import Run, load_or_train, load_run, seeds_on_disk
from ..store import report_problem
from ..yardstick import CorruptRun, Reference, build_reference, load_models, measure_run
from . import manifest


@dataclass(frozen=True)
class Context:
    profile: str
    data_dir: Path
    runs_dir: Path
    force: bool
    device: str


def setup(profile: str = "auto", data_dir: str = "data", runs_dir: str = "runs", force=False) -> Context:
    """Validate a notebook's common parameters into one Context (ConfigError on bad input)."""
    for key, value in (("data_dir", data_dir), ("runs_dir", runs_dir)):
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            raise ConfigError(f"{key}={value!r} is not allowed; expected a directory path")
    return Context(resolve_profile(profile), Path(data_dir), Path(runs_dir), parse_force(force),
                   str(default_device()))


@functools.lru_cache(maxsize=4)
def _reference(dataset: str, profile: str, data_dir: str, runs_dir: str, device: str) -> Reference:
    first = next(cfg for fam in families.names() for cfg in grid(fam, dataset, profile))
    # N and the test set are the same for every run of a profile
    return build_reference(dataset, profile, first.n_eval_samples, first.test_size, data_dir, runs_dir, device)


def reference(dataset: str, ctx: Context) -> Reference:
    """The dataset's classifier (trained once per profile, cached) and the real-data floor."""
    return _reference(dataset, ctx.profile, str(ctx.data_dir), str(ctx.runs_dir), ctx.device)


def _retrain(cfg: RunConfig, ctx: Context, err: Exception, progress: bool = True, on_epoch=None) -> Run:
    """The one place a run that cannot be read back is reported and trained again."""
    report_problem(f"{err}; training it again")
    return load_or_train(cfg, ctx.data_dir, ctx.runs_dir, ctx.device, force=True, progress=progress,
                         on_epoch=on_epoch)


def measured_run(cfg: RunConfig, ctx: Context, force: bool | None = None, progress: bool = True,
                 on_epoch=None) -> Run:
    """One run, loaded or trained (`force` defaults to the context's), measured by the yardstick.
    `progress`: its epoch bar on the terminal; `on_epoch(epoch)` after each epoch it trains."""
    run = load_or_train(cfg, ctx.data_dir, ctx.runs_dir, ctx.device, force=ctx.force if force is None else force,
                        progress=progress, on_epoch=on_epoch)
    ref = reference(cfg.dataset, ctx)
    try:
        run.yardstick = measure_run(run, ref, ctx.device)
    except CorruptRun as err:
        run = _retrain(cfg, ctx, err, progress, on_epoch)      # in a pool worker: still no bar of its own
        run.yardstick = measure_run(run, ref, ctx.device)
    return run


def run_models(run: Run, ctx: Context) -> dict:
    """The run's networks with their saved weights; unreadable weights are retrained."""
    try:
        return load_models(run, ctx.device)
    except CorruptRun as err:
        return load_models(_retrain(run.config, ctx, err), ctx.device)


# ---- which runs each chapter used: written by the chapter, read by the comparison ----------------

def with_seeds_on_disk(configs: list[RunConfig], runs_dir: Path) -> list[RunConfig]:
    """`configs`, then the other seeds of their configurations finished in the runs folder (more
    than the profile trains: `python -m gen_core --seeds N`), so tables use every seed."""
    out = list(configs)
    for cfg in configs:
        out += [found for found in seeds_on_disk(cfg, runs_dir) if found not in out]
    return out


def chapter_runs(configs: list[RunConfig], name: str, ctx: Context) -> list[Run]:
    """Load or train and measure the chapter's runs, with every further seed found on disk;
    record their folders for the comparison."""
    runs = [measured_run(cfg, ctx) for cfg in configs]
    runs += [measured_run(cfg, ctx, force=False) for cfg in with_seeds_on_disk(configs, ctx.runs_dir)[len(configs):]]
    manifest.record(ctx.runs_dir, ctx.profile, name, [run.dir.name for run in runs])
    return runs


def all_runs(ctx: Context) -> list[Run]:
    """Every chapter's runs, as each chapter last ran them (its parameters and overrides);
    the grid's defaults for a chapter that has not run. Never retrains a run it can read."""
    runs = []
    for fam in families.names():
        for ds in DATASETS:
            name = f"{fam}_{ds}"
            dirs = manifest.used_run_dirs(ctx.runs_dir, ctx.profile, name)
            configs = grid(fam, ds, ctx.profile) if dirs is None else [_used_config(d, name) for d in dirs]
            runs += [measured_run(cfg, ctx, force=False) for cfg in configs]
    return runs


def _used_config(run_dir: Path, chapter: str) -> RunConfig:
    run = load_run(run_dir)
    if run is None:
        raise ConfigError(f"chapter {chapter} used run {run_dir}, which is missing or unfinished; "
                          f"run make report-{chapter} again")
    return run.config
