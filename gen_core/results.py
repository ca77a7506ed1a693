"""Run folders on disk, written atomically, and the load-or-train entry point.

    runs/<family>-<dataset>-<variant>-z<latent>-<hash>/
        config.json        the RunConfig and its hash
        history.json       {"steps": {key: [per optimizer step]}, "epochs": {key: [per epoch]}}
        summary.json       status, cost, the reports' estimates and the sample metrics
        samples/epoch_NNN.png   fixed-noise grids
        recon.png          VAE only: test images (odd rows) over their reconstructions
        model.pt           weights (not needed to draw anything)

summary.json is written last, so a folder without it is an unfinished run.
"""
from __future__ import annotations

import functools
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
from .train import TrainResult, generate_many, train

REFERENCE_SIZE = 10000      # training images the pixel 1-NN labeller compares against


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


def write_json_atomic(path: Path, payload) -> None:
    """Write to a temporary file beside `path`, then rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1)
    os.replace(tmp, path)


def _save_png_atomic(tensor: torch.Tensor, path: Path, nrow: int = 8) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    save_image(make_grid(tensor, nrow=nrow, padding=2, pad_value=1.0), tmp)
    os.replace(tmp, path)


@functools.lru_cache(maxsize=8)
def _cached_split(name: str, root: str, train: bool, device: str, size: int) -> Split:
    return load_split(name, root, train, device, size)


def load_run(run_dir: Path) -> Run | None:
    """A finished run from disk, or None if it is missing or unfinished."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
        history = json.loads((run_dir / "history.json").read_text())
        config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text())["config"])
    except (OSError, ValueError, KeyError):
        return None
    return Run(config, run_dir, summary, history)


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
                   progress: bool = True) -> Run:
    device = torch.device(device) if device is not None else default_device()
    root = str(Path(data_dir).resolve())
    train_split = _cached_split(cfg.dataset, root, True, str(device), cfg.train_size)
    test = _cached_split(cfg.dataset, root, False, str(device), cfg.test_size)
    reference = _cached_split(cfg.dataset, root, True, str(device), REFERENCE_SIZE)
    result = train(cfg, train_split, device, progress=progress)
    run_dir.mkdir(parents=True, exist_ok=True)       # a run that diverged at once has no images
    for epoch, grid in result.sample_grids.items():
        _save_png_atomic(grid, run_dir / "samples" / f"epoch_{epoch:03d}.png")
    if cfg.family == "vae" and result.status == "complete":
        _save_recon(result.models["vae"], test, run_dir / "recon.png")
    summary = _summarize(result, device)
    summary.update(_measure(cfg, result, test, reference, device))
    tmp = run_dir / ".model.pt.tmp"
    torch.save({k: m.state_dict() for k, m in result.models.items()}, tmp)
    os.replace(tmp, run_dir / "model.pt")
    write_json_atomic(run_dir / "config.json", {"config": cfg.to_dict(), "hash": cfg.run_hash()})
    write_json_atomic(run_dir / "history.json", {"steps": result.history, "epochs": result.epoch_means})
    write_json_atomic(run_dir / "summary.json", summary)
    return Run(cfg, run_dir, summary, {"steps": result.history, "epochs": result.epoch_means})


def load_or_train(cfg: RunConfig, data_dir: str | Path = "data", runs_dir: str | Path = "runs",
                  device=None, force: bool = False, progress: bool = True) -> Run:
    """The run's saved results if its config hash is on disk, else train it and save them."""
    run_dir = Path(runs_dir) / cfg.run_name()
    if not force:
        cached = load_run(run_dir)
        if cached is not None:
            return cached
    return train_and_save(cfg, data_dir, run_dir, device, progress)


def labeller_accuracy(dataset: str, data_dir: str | Path, test_size: int, device=None) -> float:
    """Accuracy on real test images of the pixel 1-NN labeller behind the coverage numbers."""
    device = str(device or default_device())
    root = str(Path(data_dir).resolve())
    return metrics.labeller_accuracy(_cached_split(dataset, root, False, device, test_size),
                                     _cached_split(dataset, root, True, device, REFERENCE_SIZE))
