"""The one funnel every run goes through, whoever asks for it: a notebook, `python -m gen_core`,
a pool worker, a Slurm task or the bench.

    ctx = runs.setup(profile, data_dir, runs_dir, force)   # validated, before anything trains
    run = runs.measured_run(cfg, ctx)                       # loaded or trained, then measured
    models = runs.run_models(run, ctx)                      # its networks with their weights

A run's results come from `results.load_or_train`, then the yardstick measures it against the
dataset's real side (its classifier, test features and floor; built once per process). A run
whose weights or snapshots cannot be read back is reported on the terminal and trained again here
(`retrain`); one whose results files cannot be read, by `results.load_or_train`. `TrainTask` is the
same thing as a picklable task, which a pool worker and a Slurm job run.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .config import DATASETS, RunConfig, parse_force
from .errors import ConfigError, fail
from .grid import eval_samples, grid, resolve_profile
from .store import report_problem


@dataclass(frozen=True)
class Context:
    profile: str
    data_dir: Path
    runs_dir: Path
    force: bool
    device: str


def setup(profile: str = "auto", data_dir: str = "data", runs_dir: str = "runs", force=False,
          device: str | None = None) -> Context:
    """Validate the common parameters into one Context (ConfigError on bad input), before anything trains."""
    from .cuda import default_device

    for key, value in (("data_dir", data_dir), ("runs_dir", runs_dir)):
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            fail(key, value, "a directory path")
    check_runs_dir(Path(runs_dir))
    return Context(resolve_profile(profile), Path(data_dir), Path(runs_dir), parse_force(force),
                   device or str(default_device()))


def check_runs_dir(runs_dir: Path) -> None:
    """A runs folder that is a file, or sits below one, cannot hold runs: one line, before anything trains."""
    for path in [runs_dir, *runs_dir.parents]:
        if path.exists():
            if not path.is_dir():
                raise ConfigError(f"runs folder {runs_dir} cannot be used: {path} is a file, not a folder "
                                  f"(GEN_RUNS_DIR or --runs-dir)")
            return


def check_data(datasets, data_dir) -> None:
    """Read and check, once, the training and test files of each dataset a selection needs (DataError:
    one line naming the file), so that a broken file stops everything before anything trains."""
    from .data import load_split

    for name in sorted(set(datasets), key=DATASETS.index):          # in the book's order: MNIST first
        for train in (True, False):
            load_split(name, data_dir, train, "cpu")       # not cached: this process may train nothing


def pending(runs: list[RunConfig], runs_dir: Path, measure: bool, force: bool, profile: str | None = None
            ) -> list[RunConfig]:
    """The runs there is work for: not complete (all, with `force`), or complete and not yet measured
    (with `profile`: not measured by that profile's yardstick, whose classifier, N or code may have
    changed). A results file is judged by reading it, not by its presence: a truncated summary.json or
    yardstick.json is work to do (the worker reports it with its path). Trains nothing, loads no model."""
    if force:
        return list(runs)
    keys: dict = {}

    def done(cfg: RunConfig) -> bool:
        run_dir = Path(runs_dir) / cfg.run_name()
        if read_summary(run_dir) is None:
            return False
        if not measure:
            return True
        measured = read_json(run_dir / "yardstick.json")
        if measured is None or profile is None:
            return measured is not None
        if cfg.dataset not in keys:
            from .yardstick import profile_key
            keys[cfg.dataset] = profile_key(cfg.dataset, profile)
        return measured.get("key") == keys[cfg.dataset]

    return [c for c in runs if not done(c)]


def read_json(path: Path) -> dict | None:
    """A results file's JSON object, or None where there is none, or none that reads as an object."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_summary(run_dir: Path) -> dict | None:
    """A run's summary.json (written last, when its training finished), or None where it has none that reads."""
    return read_json(Path(run_dir) / "summary.json")


# ---- the yardstick's real side, once per dataset, profile and process -----------------------------

@functools.lru_cache(maxsize=4)
def _real_side(dataset: str, profile: str, data_dir: str, runs_dir: str, device: str):
    from .yardstick import build_real_side

    first = next(iter(grid_runs(profile, dataset)))
    # N and the test set are the same for every run of a profile
    return build_real_side(dataset, profile, eval_samples(profile), first.test_size, data_dir, runs_dir, device)


def grid_runs(profile: str, dataset: str) -> list[RunConfig]:
    """Every family's grid runs on one dataset at `profile`."""
    from . import families

    return [cfg for fam in families.names() for cfg in grid(fam, dataset, profile)]


def real_side(dataset: str, ctx: Context):
    """The dataset's classifier (trained once per profile, cached), its test features and the real-data floor."""
    return _real_side(dataset, ctx.profile, str(ctx.data_dir), str(ctx.runs_dir), ctx.device)


# ---- runs ---------------------------------------------------------------------------------------------

def retrain(cfg: RunConfig, ctx: Context, err: Exception, progress: bool = True, on_epoch=None):
    """Where a run whose weights or snapshots cannot be read back is reported and trained again."""
    from .results import load_or_train

    report_problem(f"{err}; training it again")
    return load_or_train(cfg, ctx.data_dir, ctx.runs_dir, ctx.device, force=True, progress=progress,
                         on_epoch=on_epoch)


def measured_run(cfg: RunConfig, ctx: Context, force: bool | None = None, progress: bool = True,
                 on_epoch=None, measure: bool = True):
    """One run, loaded or trained (`force` defaults to the context's), measured by the yardstick unless
    not `measure`. `progress`: its epoch bar on the terminal; `on_epoch(epoch)` after each epoch it trains."""
    from .results import load_or_train
    from .yardstick import CorruptRun, measure_run

    run = load_or_train(cfg, ctx.data_dir, ctx.runs_dir, ctx.device, force=ctx.force if force is None else force,
                        progress=progress, on_epoch=on_epoch)
    if not measure:
        return run
    real = real_side(cfg.dataset, ctx)
    try:
        run.yardstick = measure_run(run, real, ctx.device)
    except CorruptRun as err:
        run = retrain(cfg, ctx, err, progress, on_epoch)       # in a pool worker: still no bar of its own
        run.yardstick = measure_run(run, real, ctx.device)
    return run


def run_models(run, ctx: Context) -> dict:
    """The run's networks with their saved weights; unreadable or missing weights are retrained."""
    from .yardstick import CorruptRun, load_models

    try:
        return load_models(run, ctx.device)
    except CorruptRun as err:
        return load_models(retrain(run.config, ctx, err), ctx.device)


def status(run) -> str:
    """complete | diverged | unmeasurable (trained, but the yardstick could not measure its samples)."""
    return "unmeasurable" if "unmeasurable" in run.yardstick else run.summary["status"]


def finished_line(status: str, fd=None, seconds: float | None = None, what: str = "") -> str:
    """The one way a finished run is reported: "complete, FD 36.5 (41 s)"."""
    return (status + ("" if fd is None else f", FD {fd:.3g}")
            + ("" if seconds is None else f" ({seconds:.0f} s{what})"))


# ---- the same as a task: what a pool worker and a Slurm job run -----------------------------------------

class TrainTask:
    """One run, trained (or resumed) and measured on whatever process or node runs it. Picklable: it
    holds the config as a dict and paths as strings."""

    def __init__(self, config: RunConfig, profile: str, data_dir: str, runs_dir: str, device: str | None,
                 measure: bool, threads: int, force: bool = False):
        self.config, self.profile = config.to_dict(), profile
        self.data_dir, self.runs_dir = str(Path(data_dir).resolve()), str(Path(runs_dir).resolve())
        self.device, self.measure, self.threads, self.force = device, measure, threads, force
        self.resumed_from = None        # the checkpoint's epoch when it was last requeued (Slurm)
        self.progress = True            # its epoch bar (a worker pool reports epochs instead)
        self.on_epoch = None            # called with each epoch it trains (set inside a pool worker)

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / RunConfig.from_dict(self.config).run_name()

    def __call__(self) -> dict:
        import torch

        from .cuda import default_device

        torch.set_num_threads(self.threads)
        cfg = RunConfig.from_dict(self.config)
        device = self.device or str(default_device())
        ctx = Context(self.profile, Path(self.data_dir), Path(self.runs_dir), self.force, device)
        run = measured_run(cfg, ctx, progress=self.progress, on_epoch=self.on_epoch, measure=self.measure)
        return {"run": run.dir.name, "status": status(run), "fd": run.yardstick.get("fd"),
                "train_seconds": run.summary["train_seconds"]}
