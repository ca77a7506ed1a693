"""A notebook's session: the library's funnel (`gen_core.runs`: the validated context, the
yardstick's real side, measured runs), and which runs each chapter used.

Every run a page shows comes through `runs.measured_run` (or `runs.run_models` for its weights).
"""
from __future__ import annotations

from pathlib import Path

from .. import families
from ..config import DATASETS, ConfigError, RunConfig
from ..grid import grid
from ..results import Run, load_run, seeds_on_disk
from ..runs import Context, measured_run, real_side, run_models, setup
from . import manifest

__all__ = ["Context", "all_runs", "chapter_runs", "measured_run", "real_side", "run_models", "setup",
           "with_seeds_on_disk"]


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
    the grid's defaults for a chapter that has not run. Retrains (forced or not) only a run it cannot
    read, or one whose training code changed since the chapter ran (its name is computed anew)."""
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
