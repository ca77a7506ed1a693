"""The yardstick's classifier: trained once per dataset and profile on the real training set,
cached on disk under a hash of its config and code, exactly as runs are.

    runs/classifier-<dataset>-<hash>/
        config.json     the ClassifierConfig and its hash
        summary.json    test accuracy, its profile floor, training time (written last)
        model.pt        weights, loaded with weights_only=True
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import data
from .config import DATASETS, PROFILES
from .errors import DataError, check_choice, fail
from .data import Split, epoch_batches, to_unit
from .digest import code_digest
from .models.classifier import LeNet, SmallResNet
from .numerics import flush_subnormals
from .store import file_lock, lock_path, progress_stream, write_json_atomic

# Accuracy each profile's classifier must reach on the real test set for the comparison to
# trust it (the floors at full; below it the book says so in red).
ACCURACY_FLOOR = {"full": {"mnist": 0.99, "cifar10": 0.85},
                  "long": {"mnist": 0.99, "cifar10": 0.75},
                  "quick": {"mnist": 0.97, "cifar10": 0.60},
                  "smoke": {"mnist": 0.50, "cifar10": 0.15}}


@dataclass(frozen=True)
class ClassifierConfig:
    dataset: str
    width: int               # LeNet: first conv's channels; ResNet: first stage's channels
    blocks: int              # ResNet blocks per stage (LeNet: unused, 1)
    epochs: int
    train_size: int          # 0 = the whole training split left after the held-out images
    test_size: int           # 0 = whole test set
    held_out: int = 0        # training images it never sees: the yardstick's floor (data.held_out_split)
    batch_size: int = 128
    lr: float = 1e-3         # Adam for LeNet; the peak of a one-cycle SGD schedule for the ResNet
    augment: bool = False    # random crop (pad 4) and horizontal flip; CIFAR-10 only
    seed: int = 0

    def __post_init__(self):
        if self.dataset not in DATASETS:
            check_choice("classifier dataset", self.dataset, DATASETS)
        for key in ("width", "blocks", "epochs", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                fail(f"classifier {key}", value, "an integer >= 1")
        if not self.lr > 0:
            fail("classifier lr", self.lr, "a learning rate > 0")

    @property
    def arch(self) -> str:
        return "LeNet" if self.dataset == "mnist" else f"ResNet-{6 * self.blocks + 2}"

    def run_hash(self) -> str:
        """Its values and the code that trains it (gen_core/digest.py), as a run's hash."""
        payload = json.dumps(dataclasses.asdict(self), sort_keys=True)
        payload += code_digest("gen_core.classifier:train_and_save_classifier", "gen_core.data:load_split")
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def run_name(self) -> str:
        return f"classifier-{self.dataset}-{self.run_hash()}"


_PROFILE_CLASSIFIERS = {
    "full": {"mnist": dict(width=32, blocks=1, epochs=6, train_size=0, test_size=0),
             "cifar10": dict(width=64, blocks=2, epochs=30, train_size=0, test_size=0, batch_size=256,
                             lr=0.1, augment=True)},
    # full's LeNet; a ResNet-8 trained 10 epochs (about 5 min on 2 CPU cores, not full's 30 on a GPU)
    "long": {"mnist": dict(width=32, blocks=1, epochs=6, train_size=0, test_size=0),
             "cifar10": dict(width=16, blocks=1, epochs=10, train_size=0, test_size=0, batch_size=128,
                             lr=0.1, augment=True)},
    "quick": {"mnist": dict(width=32, blocks=1, epochs=2, train_size=0, test_size=2000),
              "cifar10": dict(width=16, blocks=1, epochs=2, train_size=0, test_size=2000, batch_size=128,
                              lr=0.1, augment=True)},
    "smoke": {"mnist": dict(width=8, blocks=1, epochs=2, train_size=1024, test_size=128),
              "cifar10": dict(width=8, blocks=1, epochs=1, train_size=256, test_size=128, batch_size=64,
                              lr=0.05, augment=True)},
}


def classifier_config(dataset: str, profile: str) -> ClassifierConfig:
    """The profile's classifier; it holds out as many training images as a run generates (N)."""
    from .grid import eval_samples

    if profile not in PROFILES:
        check_choice("profile", profile, PROFILES)
    if dataset not in DATASETS:
        check_choice("dataset", dataset, DATASETS)
    return ClassifierConfig(dataset=dataset, held_out=eval_samples(profile), **_PROFILE_CLASSIFIERS[profile][dataset])


def training_indices(cfg: ClassifierConfig, n_total: int) -> torch.Tensor:
    """Indices into the whole training split of the images the classifier trains on: never a
    held-out one (`data.held_out_split`), then a seeded `train_size` of the rest when set."""
    if n_total <= cfg.held_out:
        raise DataError(f"the {cfg.dataset} training split has {n_total} images; holding out {cfg.held_out} for "
                        f"the yardstick's floor leaves none for its classifier")
    kept, _ = data.held_out_split(n_total, cfg.held_out)
    return kept[data.subset_indices(len(kept), cfg.train_size)]


def held_out_indices(cfg: ClassifierConfig, n_total: int) -> torch.Tensor:
    """Indices into the whole training split of the held-out images behind the floor."""
    return data.held_out_split(n_total, cfg.held_out)[1]


def build_classifier(cfg: ClassifierConfig):
    return LeNet(cfg.width) if cfg.dataset == "mnist" else SmallResNet(cfg.width, cfg.blocks)


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per-image random 32x32 crop of the 4-pixel reflect-padded batch, and a random flip."""
    b, c, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")                            # (B, C, H+8, W+8)
    dy, dx = (torch.randint(0, 9, (2, b, 1, 1), generator=gen, device=gen.device).to(x.device))
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy).expand(b, h, w)  # (B, H, W)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx).expand(b, h, w)
    batch_idx = torch.arange(b, device=x.device).view(b, 1, 1).expand(b, h, w)
    cropped = padded.permute(0, 2, 3, 1)[batch_idx, rows, cols].permute(0, 3, 1, 2)  # (B, C, H, W)
    flip = torch.rand(b, generator=gen, device=gen.device).to(x.device) < 0.5
    return torch.where(flip.view(b, 1, 1, 1), cropped.flip(3), cropped)


def _optimizer(cfg: ClassifierConfig, model, steps: int):
    if cfg.dataset == "mnist":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr), None
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)


def train_classifier(cfg: ClassifierConfig, train: Split, device, progress: bool = True):
    """Cross-entropy training on index slices of the uint8 training tensor; returns the model."""
    flush_subnormals()
    torch.manual_seed(cfg.seed)
    model = build_classifier(cfg).to(device)
    perm_gen = torch.Generator(device=train.images.device).manual_seed(cfg.seed)
    batch_size = min(cfg.batch_size, len(train))
    steps_per_epoch = len(train) // batch_size
    opt, schedule = _optimizer(cfg, model, cfg.epochs * steps_per_epoch)
    for _ in tqdm(range(cfg.epochs), desc=f"classifier {cfg.dataset} {cfg.arch}", unit="epoch",
                  file=progress_stream(), disable=not progress):
        for idx in epoch_batches(len(train), batch_size, perm_gen, device):
            x = to_unit(train.images[idx])                                     # (B, C, H, W)
            if cfg.augment:
                x = _augment(x, perm_gen)
            loss = F.cross_entropy(model(x), train.labels[idx].long())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
    return model.eval()


@torch.inference_mode()
def features_and_logits(model, images: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, F) and class logits (N, 10) of images in [0, 1] (N, C, H, W), in eval mode."""
    model.eval()
    feats = [model.embed(chunk) for chunk in images.split(batch)]
    feats = torch.cat(feats)
    return feats, model.head(feats)


def accuracy(model, split: Split) -> float:
    _, logits = features_and_logits(model, to_unit(split.images))
    return float((logits.argmax(1) == split.labels.to(logits.device)).float().mean())


@dataclass
class Classifier:
    config: ClassifierConfig
    model: torch.nn.Module
    summary: dict          # test_accuracy, floor, below_floor, train_seconds, profile


def _load(run_dir: Path, cfg: ClassifierConfig, device) -> Classifier | None:
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
        model = build_classifier(cfg)
        model.load_state_dict(torch.load(run_dir / "model.pt", map_location=device, weights_only=True))
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, pickle.UnpicklingError):
        return None                       # missing, unfinished, empty or corrupt: train again
    return Classifier(cfg, model.to(device).eval(), summary)


def is_trained(dataset: str, profile: str, runs_dir) -> bool:
    """Whether the profile's classifier for `dataset` has finished in `runs_dir` (its summary.json, written
    last, reads); loads no weights. A corrupt model.pt still reads as trained here and is trained again
    by `load_or_train_classifier`."""
    path = Path(runs_dir) / classifier_config(dataset, profile).run_name() / "summary.json"
    try:
        return isinstance(json.loads(path.read_text()), dict)
    except (OSError, ValueError):
        return False


def load_or_train_classifier(dataset: str, profile: str, data_dir, runs_dir, device, progress=True) -> Classifier:
    """The profile's classifier for `dataset`, from its cache folder or trained now."""

    cfg = classifier_config(dataset, profile)
    run_dir = Path(runs_dir) / cfg.run_name()
    cached = _load(run_dir, cfg, device)
    if cached is not None:
        return cached
    with file_lock(lock_path(runs_dir, cfg.run_name())):    # parallel chapters share it
        cached = _load(run_dir, cfg, device)
        return cached if cached is not None else train_and_save_classifier(cfg, dataset, profile, data_dir, run_dir, device,
                                                                 progress)


def train_and_save_classifier(cfg: ClassifierConfig, dataset, profile, data_dir, run_dir: Path, device, progress):

    root = str(Path(data_dir).resolve())
    whole = data.cached_split(dataset, root, True, str(device), 0)
    idx = training_indices(cfg, len(whole)).to(whole.images.device)
    train = Split(whole.images[idx], whole.labels[idx])
    test = data.cached_split(dataset, root, False, str(device), cfg.test_size)
    start = time.perf_counter()
    model = train_classifier(cfg, train, device, progress)
    seconds = time.perf_counter() - start
    acc = accuracy(model, test)
    floor = ACCURACY_FLOOR[profile][dataset]
    summary = {"profile": profile, "arch": cfg.arch, "test_accuracy": acc, "test_images": len(test),
               "floor": floor, "below_floor": acc < floor, "train_seconds": seconds,
               "train_images": len(train), "held_out": cfg.held_out, "epochs": cfg.epochs}
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / ".model.pt.tmp"
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, run_dir / "model.pt")
    write_json_atomic(run_dir / "config.json", {"config": dataclasses.asdict(cfg), "hash": cfg.run_hash()})
    write_json_atomic(run_dir / "summary.json", summary)
    return Classifier(cfg, model, summary)
