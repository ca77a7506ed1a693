"""Run folders on disk, written atomically, and the load-or-train entry point.

    runs/<family>-<dataset>-<variant>-z<latent>-<hash>/
        config.json        the RunConfig and its hash
        history.json       {"steps": {key: [per optimizer step]}, "epochs": {key: [per epoch]}}
        summary.json       status, cost, the reports' estimates and the sample metrics
        samples/epoch_NNN.png   fixed-noise grids
        recon.png          VAE only: test images (odd rows) over their reconstructions
        model.pt           weights (not needed to draw anything)
        checkpoint.pt      while training: the last finished epoch (models, optimizers, RNG
                           states, curves so far, config and hash); deleted once finished

summary.json is written last, so a folder without it is an unfinished run, which the next
call resumes from its checkpoint. Every file is written to a temporary name and renamed.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from . import metrics
from .config import RunConfig
from .data import Split, load_split, to_unit
from .train import TrainResult, _progress_stream, generate_many, train

REFERENCE_SIZE = 10000      # training images the pixel 1-NN labeller compares against
CHECKPOINT = "checkpoint.pt"


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
    def recon_path(self) -> Path | None:
        path = self.dir / "recon.png"
        return path if path.exists() else None

    @property
    def diverged(self) -> bool:
        return self.summary.get("status") == "diverged"


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def use_tensor_cores(device: torch.device) -> None:
    """On CUDA, let float32 matmuls run as TF32, as cuDNN convolutions already do by default.

    `make bench` counts the full grid at 37 PFLOP: about 550 s at an H100's FP32 peak, 75 s
    at its TF32 peak. Without this the 10-minute full report cannot fit. No effect on CPU.
    """
    if torch.device(device).type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True


def write_json_atomic(path: Path, payload) -> None:
    """Write to a temporary file beside `path`, then rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1)
    os.replace(tmp, path)


@contextlib.contextmanager
def file_lock(path: Path):
    """Hold an exclusive lock on `path` while training something others may want too.

    `make -j N report` runs chapters in parallel and they share each dataset's classifier; the
    lock makes the second process wait and then load what the first one saved, instead of
    training it again and racing on its files. POSIX flock; where there is none, no lock.
    """
    try:
        import fcntl
    except ImportError:                                   # Windows: runs are not shared there
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_path(runs_dir, name: str) -> Path:
    """The lock file of one run of `runs_dir`: under the system's temp folder, so the runs folder
    holds only results (and is not created before the data has loaded)."""
    key = hashlib.sha256(str(Path(runs_dir).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "gen_core-locks" / key / f"{name}.lock"


def _save_png_atomic(tensor: torch.Tensor, path: Path, nrow: int = 8) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    save_image(make_grid(tensor, nrow=nrow, padding=2, pad_value=1.0), tmp)
    os.replace(tmp, path)


@functools.lru_cache(maxsize=8)
def _cached_split(name: str, root: str, train: bool, device: str, size: int) -> Split:
    return load_split(name, root, train, device, size)


def report_problem(message: str) -> None:
    """One line on the terminal (inside a notebook kernel too), not in the book."""
    print(f"warning: {message}", file=_progress_stream(), flush=True)


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


def save_torch_atomic(obj, path: Path) -> None:
    """torch.save to a temporary file beside `path`, then rename: a kill leaves old or new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


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
    print(f"resuming {cfg.run_name()} after epoch {epoch} of {cfg.epochs}", file=_progress_stream(), flush=True)
    return state


def _summarize(result: TrainResult, device) -> dict:
    means = result.epoch_means
    final = {key: vals[-1] for key, vals in means.items()}
    return {
        "status": result.status, "diverged_at": result.diverged_at,
        "epochs_done": max((len(v) for v in means.values()), default=0),
        "device": str(device), "train_seconds": result.train_seconds,
        "images_seen": result.images_seen,
        "images_per_second": result.images_seen / max(result.train_seconds, 1e-9),
        "final_epoch": final,
    }


def _measure(cfg: RunConfig, result: TrainResult, test: Split, reference: Split, device) -> dict:
    if result.status != "complete":
        return {}
    out = {}
    if cfg.family == "vae":
        out.update(metrics.vae_test_elbo(result.models["vae"], test))
    samples = generate_many(cfg, result.models, cfg.n_eval_samples, cfg.seed + 2, device)
    out.update(metrics.sample_metrics(samples, test.images, reference))
    return out


def _save_recon(vae, test: Split, path: Path) -> None:
    per_row = min(8, len(test))
    n_rows = min(4, len(test) // per_row)
    with torch.inference_mode():
        vae.eval()
        x = to_unit(test.images[: n_rows * per_row])                       # (n, C, H, W)
        recon = torch.sigmoid(vae(x)[0])
    pairs = torch.stack([x.view(n_rows, per_row, *x.shape[1:]), recon.view(n_rows, per_row, *x.shape[1:])], dim=1)
    _save_png_atomic(pairs.flatten(0, 2).cpu(), path, nrow=per_row)       # a real row, then its recon


def train_and_save(cfg: RunConfig, data_dir: str | Path, run_dir: Path, device=None,
                   progress: bool = True, resume: bool = True) -> Run:
    """Train (from the last checkpoint when `resume` and there is one) and write the run folder.

    Each epoch's checkpoint replaces the last one atomically; once summary.json, written last,
    is in place the run is finished and its checkpoint is deleted (model.pt has the weights).
    """
    device = torch.device(device) if device is not None else default_device()
    use_tensor_cores(device)
    root = str(Path(data_dir).resolve())
    train_split = _cached_split(cfg.dataset, root, True, str(device), cfg.train_size)
    test = _cached_split(cfg.dataset, root, False, str(device), cfg.test_size)
    reference = _cached_split(cfg.dataset, root, True, str(device), REFERENCE_SIZE)
    state = load_checkpoint(cfg, run_dir, device) if resume else None
    result = train(cfg, train_split, device, progress=progress, resume=state,
                   on_checkpoint=lambda s: save_torch_atomic(s, run_dir / CHECKPOINT))
    run_dir.mkdir(parents=True, exist_ok=True)       # a run that diverged at once has no images
    for epoch, grid in result.sample_grids.items():
        _save_png_atomic(grid, run_dir / "samples" / f"epoch_{epoch:03d}.png")
    if cfg.family == "vae" and result.status == "complete":
        _save_recon(result.models["vae"], test, run_dir / "recon.png")
    summary = _summarize(result, device)
    summary.update(_measure(cfg, result, test, reference, device))
    save_torch_atomic({k: m.state_dict() for k, m in result.models.items()}, run_dir / "model.pt")
    write_json_atomic(run_dir / "config.json", {"config": cfg.to_dict(), "hash": cfg.run_hash()})
    write_json_atomic(run_dir / "history.json", {"steps": result.history, "epochs": result.epoch_means})
    write_json_atomic(run_dir / "summary.json", summary)
    (run_dir / CHECKPOINT).unlink(missing_ok=True)
    return Run(cfg, run_dir, summary, {"steps": result.history, "epochs": result.epoch_means})


def load_or_train(cfg: RunConfig, data_dir: str | Path = "data", runs_dir: str | Path = "runs",
                  device=None, force: bool = False, progress: bool = True) -> Run:
    """The run's saved results if its config hash is on disk, else train it and save them."""
    run_dir = Path(runs_dir) / cfg.run_name()
    if not force and (cached := load_run(run_dir)) is not None:
        return cached
    with file_lock(lock_path(runs_dir, cfg.run_name())):
        # another process may have finished this run while we waited for the lock
        if not force and (cached := load_run(run_dir, report=False)) is not None:
            return cached
        return train_and_save(cfg, data_dir, run_dir, device, progress, resume=not force)


def labeller_accuracy(dataset: str, data_dir: str | Path, test_size: int, device=None) -> float:
    """Accuracy on real test images of the pixel 1-NN labeller behind the coverage numbers."""
    device = str(device or default_device())
    root = str(Path(data_dir).resolve())
    return metrics.labeller_accuracy(_cached_split(dataset, root, False, device, test_size),
                                     _cached_split(dataset, root, True, device, REFERENCE_SIZE))
