"""MNIST and CIFAR-10 as whole uint8 tensors, batches as index slices.

torchvision is used to download (for users who are online). The files are then read
here: MNIST through torchvision's own reader, CIFAR-10's pickle batches directly, so that
any copy with the official schema loads, not only one with the official md5s.
"""
from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import DataError

HOW_TO_GET = ("put torchvision's files there (MNIST/raw/*-ubyte or cifar-10-batches-py/; the README's "
              "\"Offline use\" section says how), or go online so torchvision can download them")

_MNIST_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
                False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000)}
_CIFAR_FILES = {True: [f"data_batch_{i}" for i in range(1, 6)], False: ["test_batch"]}

DATASET_TITLES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}


@dataclass
class Split:
    images: torch.Tensor   # (N, C, H, W) uint8, on the training device
    labels: torch.Tensor   # (N,) int64

    def __len__(self):
        return len(self.labels)


def _mnist_paths(root: Path, train: bool) -> list[Path]:
    images, labels, _ = _MNIST_FILES[train]
    return [root / "MNIST" / "raw" / images, root / "MNIST" / "raw" / labels]


def _cifar_paths(root: Path, train: bool) -> list[Path]:
    return [root / "cifar-10-batches-py" / name for name in _CIFAR_FILES[train]]


def _download(name: str, root: Path):
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "cifar10": tvd.CIFAR10}[name]
    try:
        cls(str(root), train=True, download=True)
    except Exception as err:  # no network, a proxy, a full disk: all end the same way for the user
        raise DataError(f"{name} is not in {root} and could not be downloaded ({type(err).__name__}); "
                        f"{HOW_TO_GET}") from None


def _ensure_files(name: str, root: Path, wanted: list[Path]) -> None:
    """`wanted` (files of `name` in `root`) all exist: torchvision downloads a dataset none of whose
    files are there; a dataset with some of them is a copy missing a file, which DataError names.
    Downloading over such a copy would hide the missing file behind a network error offline, and
    online torchvision would replace the copy's other files with the official ones."""
    paths_of = {"mnist": _mnist_paths, "cifar10": _cifar_paths}[name]
    if not any(p.exists() for p in paths_of(root, True) + paths_of(root, False)):
        _download(name, root)
        return
    missing = [str(p) for p in wanted if not p.exists()]
    if missing:
        raise DataError(f"{name} in {root} is incomplete: {', '.join(missing)} "
                        f"{'is' if len(missing) == 1 else 'are'} missing; {HOW_TO_GET}")


def _read_mnist(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    image_path, label_path = _mnist_paths(root, train)
    expected = _MNIST_FILES[train][2]
    read = {}
    for path, reader in ((image_path, read_image_file), (label_path, read_label_file)):
        try:
            read[path] = reader(str(path))
        except Exception as err:
            raise DataError(f"cannot read MNIST file {path} ({type(err).__name__}: {err}); {HOW_TO_GET}") from None
    images, labels = read[image_path], read[label_path]
    if images.shape != (expected, 28, 28) or labels.shape != (expected,):
        raise DataError(f"MNIST files {image_path} and {label_path.name} hold {tuple(images.shape)} images and "
                        f"{tuple(labels.shape)} labels, expected ({expected}, 28, 28); {HOW_TO_GET}")
    return images.unsqueeze(1), labels.long()


def _read_cifar(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for path in _cifar_paths(root, train):
        try:
            with open(path, "rb") as f:
                batch = pickle.load(f, encoding="latin1")
            data = torch.as_tensor(batch["data"], dtype=torch.uint8)
            batch_labels = torch.as_tensor(batch["labels"], dtype=torch.long)
        except Exception as err:
            raise DataError(f"cannot read CIFAR-10 batch {path} ({type(err).__name__}: {err}); {HOW_TO_GET}") from None
        if data.shape != (10000, 3072) or batch_labels.shape != (10000,):
            raise DataError(f"CIFAR-10 batch {path} holds {tuple(data.shape)} values, expected (10000, 3072); {HOW_TO_GET}")
        images.append(data.view(-1, 3, 32, 32))  # rows are R, G, B planes of 32x32
        labels.append(batch_labels)
    return torch.cat(images), torch.cat(labels)


SUBSET_SEED = 0          # one subset per size: every run of a profile sees the same images
HELD_OUT_SEED = 1        # the real images the classifier never trains on (the yardstick's floor)


def subset_indices(n_total: int, size: int, seed: int = SUBSET_SEED) -> torch.Tensor:
    """A seeded random `size` of range(n_total), in increasing order; all of it for size 0.

    Random, not the first `size`: MNIST's test set is ordered by writer, and its first 2,000
    images are cleaner (mean ink 0.121) than the last 5,000 (0.143).
    """
    if not size or size >= n_total:
        return torch.arange(n_total)
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:size].sort().values


def held_out_split(n_total: int, n_held_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the training split: (the classifier's, the held-out floor's), disjoint."""
    perm = torch.randperm(n_total, generator=torch.Generator().manual_seed(HELD_OUT_SEED))
    return perm[n_held_out:].sort().values, perm[:n_held_out].sort().values


def load_split(name: str, root: str | Path, train: bool, device: torch.device | str = "cpu",
               size: int = 0) -> Split:
    """One split as uint8 (N, C, H, W) on `device`; `size` > 0 keeps a seeded random `size` of it."""
    root = Path(root)
    paths_of, read = {"mnist": (_mnist_paths, _read_mnist), "cifar10": (_cifar_paths, _read_cifar)}[name]
    _ensure_files(name, root, paths_of(root, train))
    images, labels = read(root, train)
    if size:
        keep = subset_indices(len(labels), size)
        images, labels = images[keep], labels[keep]
    return Split(images.contiguous().to(device), labels.to(device))


@functools.lru_cache(maxsize=8)
def cached_split(name: str, root: str, train: bool, device: str, size: int) -> Split:
    """`load_split`, read once per process: every run, the yardstick and the figures share it.

    Arguments are hashable on purpose (an absolute root path and a device string).
    """
    return load_split(name, root, train, device, size)


def to_unit(batch: torch.Tensor) -> torch.Tensor:
    """uint8 -> float in [0, 1] (the VAE's Bernoulli targets)."""
    return batch.float().div_(255)


def to_signed(batch: torch.Tensor) -> torch.Tensor:
    """uint8 -> float in [-1, 1] (the GANs' Tanh range)."""
    return batch.float().div_(127.5).sub_(1)


def epoch_batches(n: int, batch_size: int, generator: torch.Generator, device) -> list[torch.Tensor]:
    """Index slices of a fresh permutation; the last partial batch is dropped (BatchNorm needs > 1)."""
    perm = torch.randperm(n, generator=generator, device=generator.device).to(device)
    full = n // batch_size
    if full == 0:
        raise DataError(f"the training set has {n} images, fewer than one batch of {batch_size}")
    return list(perm[: full * batch_size].view(full, batch_size))
