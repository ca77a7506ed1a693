"""Run folders on disk, written atomically, and the load-or-train entry point.

    runs/<family>-<dataset>-<variant>-z<latent>-<hash>/
        config.json        the RunConfig and its hash
        history.json       {"steps": {key: [per optimizer step]}, "epochs": {key: [per epoch]}}
        summary.json       status, cost (seconds and load: `timing`), the reports' estimates, the family's
                           own measures and sharpness
        samples/epoch_NNN.png   fixed-noise grids
        ...                the family's own files (the VAE's recon.png: test images over reconstructions)
        model.pt           weights (not needed to draw anything)
        snapshots/epoch_NNN.pt  the sampling networks at the yardstick's earlier epochs
                           (train.snapshot_epochs), with images seen and seconds so far
        checkpoint.pt      while training: the last finished epoch (models, optimizers, RNG
                           states, curves so far, config and hash); deleted once finished

summary.json is written last, so a folder without it is an unfinished run, which the next
call resumes from its checkpoint. Every file is written to a temporary name and renamed.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import cuda, data, families, metrics
from .cuda import default_device
from .config import RunConfig
from .data import Split
from .store import (file_lock, lock_path, progress_stream, report_problem, same_configuration, save_png_atomic,
                    save_torch_atomic, write_json_atomic)
from .train import TrainResult, clocks, generate_many, snapshot_epochs, train

CHECKPOINT = "checkpoint.pt"
SNAPSHOTS = "snapshots"


@dataclass
class Run:
    config: RunConfig
    dir: Path
    summary: dict
    history: dict
    yardstick: dict = field(default_factory=dict)     # classifier-space measures (yardstick.py)

    @property
    def sample_paths(self) -> dict[int, Path]:
        return {int(p.stem.split("_")[1]): p for p in sorted((self.dir / "samples").glob("epoch_*.png"))}

    @property
    def snapshot_paths(self) -> list[Path]:
        return sorted((self.dir / SNAPSHOTS).glob("epoch_*.pt"))

    @property
    def recon_path(self) -> Path | None:
        path = self.dir / "recon.png"
        return path if path.exists() else None

    @property
    def diverged(self) -> bool:
        return self.summary.get("status") == "diverged"


def load_run(run_dir: Path, report: bool = True) -> Run | None:
    """A finished run from disk, or None if it is missing, unfinished or corrupt (reported)."""
    if not (run_dir / "summary.json").exists():
        return None                                   # never finished: nothing to report
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
        history = json.loads((run_dir / "history.json").read_text())
        config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text())["config"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        if report:
            report_problem(f"run {run_dir} has an unreadable results file ({type(err).__name__}: {err}); "
                           f"training it again")
        return None
    return Run(config, run_dir, summary, history)


def seeds_on_disk(cfg: RunConfig, runs_dir: str | Path) -> list[RunConfig]:
    """The other seeds of `cfg`'s configuration that finished in `runs_dir` with the current code
    (trained by `python -m gen_core --seeds N`, here or on a cluster), by seed."""
    found = []
    for run_dir in sorted(Path(runs_dir).glob(same_configuration(cfg.run_name()) + "*")):
        run = load_run(run_dir, report=False)
        if (run is not None and run.config.seed != cfg.seed and run_dir.name == run.config.run_name()
                and dataclasses.replace(run.config, seed=cfg.seed) == cfg):
            found.append(run.config)
    return sorted(found, key=lambda c: c.seed)


def load_checkpoint(cfg: RunConfig, run_dir: Path, device) -> dict | None:
    """The last epoch's checkpoint of this exact config, or None (absent, corrupt or stale)."""
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        epoch, digest = state["epoch"], state["hash"]
    except Exception as err:        # truncated zip, bad pickle, missing keys: all mean start over
        report_problem(f"checkpoint {path} is unreadable ({type(err).__name__}); training {cfg.run_name()} "
                       f"from the start")
        return None
    if digest != cfg.run_hash():
        report_problem(f"checkpoint {path} belongs to another config (hash {digest}); training from the start")
        return None
    print(f"resuming {cfg.run_name()} after epoch {epoch} of {cfg.epochs}", file=progress_stream(), flush=True)
    return state


def generator_images(cfg: RunConfig, images_seen: int) -> int:
    """Images the generating network was updated on, after `images_seen` images of optimizer steps."""
    return families.get(cfg.family).generator_steps(cfg, images_seen // cfg.batch_size) * cfg.batch_size


def snapshot_saver(cfg: RunConfig, run_dir: Path):
    """on_epoch callback: at every snapshot epoch but the last (model.pt is that one), the networks
    the family samples with, with the images the generator has seen and the seconds so far."""
    keep = set(snapshot_epochs(cfg.epochs)) - {cfg.epochs}
    names = families.get(cfg.family).sampler_models or None       # None: a family that names none keeps all

    def save(epoch: int, result: TrainResult) -> None:
        if epoch in keep:
            save_torch_atomic({"epoch": epoch, "generator_images": generator_images(cfg, result.images_seen),
                               "train_seconds": result.train_seconds, "train_cpu_seconds": result.train_cpu_seconds,
                               "models": {k: m.state_dict() for k, m in result.models.items()
                                          if names is None or k in names}},
                              run_dir / SNAPSHOTS / f"epoch_{epoch:03d}.pt")
    return save


def _summarize(cfg: RunConfig, result: TrainResult, device) -> dict:
    means = result.epoch_means
    final = {key: vals[-1] for key, vals in means.items()}
    return {
        "generator_images": generator_images(cfg, result.images_seen),
        "status": result.status, "diverged_at": result.diverged_at,
        "epochs_done": max((len(v) for v in means.values()), default=0),
        "device": str(device), "machines": result.machines, "images_seen": result.images_seen,
        "final_epoch": final,
    }


# summary.json's keys that time a run (`timing`): numbers no two runs share, even of one seed
SUMMARY_TIMES = ("train_seconds", "train_cpu_seconds", "epoch_work_seconds", "evaluation_seconds", "wall_seconds",
                 "cpu_seconds", "load_average", "images_per_second", "images_per_cpu_second")


def timing(result: TrainResult, outside: tuple[float, float], evaluation_seconds: float) -> dict:
    """summary.json's seconds. `outside`: the (wall, CPU) seconds of train_and_save outside `train` (reading
    the data, then evaluating and saving), of which `evaluation_seconds` (wall) came after training.

        train_seconds, train_cpu_seconds   wall and CPU seconds in training steps
        epoch_work_seconds                 wall seconds of per-epoch work: sample grids, snapshots, checkpoints
        evaluation_seconds                 wall seconds after the last epoch: the family's measures, sharpness,
                                           the saved files (the yardstick measures the run afterwards, apart)
        wall_seconds, cpu_seconds          the whole run; >= the three wall parts above together
        load_average                       the mean of the 1-minute load averages sampled at each epoch's end
                                           (os.getloadavg), None where the OS keeps none
        images_per_second                  training images / wall seconds in steps
        images_per_cpu_second              training images / CPU seconds in steps: the book's speed (CPU seconds
                                           leave out the time a run waited while other work had the CPU)

    Every number adds up across a resume: an earlier process counts up to its last checkpoint.
    """
    loads = result.load_averages
    return {"train_seconds": result.train_seconds, "train_cpu_seconds": result.train_cpu_seconds,
            "epoch_work_seconds": result.epoch_work_seconds, "evaluation_seconds": evaluation_seconds,
            "wall_seconds": result.wall_seconds + outside[0], "cpu_seconds": result.cpu_seconds + outside[1],
            "load_average": sum(loads) / len(loads) if loads else None,
            "images_per_second": result.images_seen / max(result.train_seconds, 1e-9),
            "images_per_cpu_second": result.images_seen / max(result.train_cpu_seconds, 1e-9)}


def _measure(cfg: RunConfig, result: TrainResult, test: Split, device) -> dict:
    """The family's own numbers (the VAE's test -ELBO), then the samples' sharpness against the test images'.
    (The classifier-space yardstick measures the run afterwards, from its saved weights: yardstick.py.)"""
    if result.status != "complete":
        return {}
    out = dict(families.get(cfg.family).measure(cfg, result.models, test))
    samples = generate_many(cfg, result.models, cfg.n_eval_samples, cfg.seed + 2, device)   # (N, C, H, W) in [0, 1]
    out.update(metrics.sharpness_ratio(samples, test.images))
    return out


def train_and_save(cfg: RunConfig, data_dir: str | Path, run_dir: Path, device=None,
                   progress: bool = True, resume: bool = True, on_epoch=None) -> Run:
    """Train (from the last checkpoint when `resume` and there is one) and write the run folder.

    Each epoch's checkpoint replaces the last one atomically; once summary.json, written last,
    is in place the run is finished and its checkpoint is deleted (model.pt has the weights).
    `on_epoch(epoch)` follows each finished epoch's snapshot (a worker pool's progress).
    """
    started = clocks()
    device = torch.device(device) if device is not None else default_device()
    cuda.prepare(device)
    root = str(Path(data_dir).resolve())
    train_split = data.cached_split(cfg.dataset, root, True, str(device), cfg.train_size)
    test = data.cached_split(cfg.dataset, root, False, str(device), cfg.test_size)
    state = load_checkpoint(cfg, run_dir, device) if resume else None
    (run_dir / "yardstick.json").unlink(missing_ok=True)          # measured on the weights it replaces
    if state is None:
        shutil.rmtree(run_dir / SNAPSHOTS, ignore_errors=True)    # a fresh start writes its own
    save_snapshot = snapshot_saver(cfg, run_dir)

    def after_epoch(epoch: int, result: TrainResult) -> None:
        save_snapshot(epoch, result)
        if on_epoch is not None:
            on_epoch(epoch)

    training = clocks()
    result = train(cfg, train_split, device, progress=progress, resume=state, on_epoch=after_epoch,
                   on_checkpoint=lambda s: save_torch_atomic(s, run_dir / CHECKPOINT))
    evaluating = clocks()
    run_dir.mkdir(parents=True, exist_ok=True)       # a run that diverged at once has no images
    for epoch, grid in result.sample_grids.items():
        save_png_atomic(grid, run_dir / "samples" / f"epoch_{epoch:03d}.png")
    if result.status == "complete":
        families.get(cfg.family).save_extras(cfg, result.models, test, run_dir)
    measured = _measure(cfg, result, test, device)
    save_torch_atomic({k: m.state_dict() for k, m in result.models.items()}, run_dir / "model.pt")
    write_json_atomic(run_dir / "config.json", {"config": cfg.to_dict(), "hash": cfg.run_hash()})
    write_json_atomic(run_dir / "history.json", {"steps": result.history, "epochs": result.epoch_means})
    done = clocks()
    # (wall, CPU) outside train(): reading the data before it, evaluating and saving after it
    outside = tuple((t - s) + (d - e) for s, t, e, d in zip(started, training, evaluating, done))
    summary = {**_summarize(cfg, result, device), **timing(result, outside, done[0] - evaluating[0]), **measured}
    write_json_atomic(run_dir / "summary.json", summary)
    (run_dir / CHECKPOINT).unlink(missing_ok=True)
    return Run(cfg, run_dir, summary, {"steps": result.history, "epochs": result.epoch_means})


def load_or_train(cfg: RunConfig, data_dir: str | Path = "data", runs_dir: str | Path = "runs",
                  device=None, force: bool = False, progress: bool = True, on_epoch=None) -> Run:
    """The run's saved results if its config hash is on disk, else train it and save them."""
    run_dir = Path(runs_dir) / cfg.run_name()
    if not force and (cached := load_run(run_dir)) is not None:
        return cached
    with file_lock(lock_path(runs_dir, cfg.run_name())):
        # another process may have finished this run while we waited for the lock
        if not force and (cached := load_run(run_dir, report=False)) is not None:
            return cached
        return train_and_save(cfg, data_dir, run_dir, device, progress, resume=not force, on_epoch=on_epoch)
