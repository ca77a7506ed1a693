"""Shared fixtures: tiny configs, synthetic splits, and torchvision-layout dataset files.

Nothing here reads /work/main/data: the MNIST and CIFAR-10 fixtures are written once per
session into a temporary folder, in the exact on-disk layout torchvision uses, with zeros
everywhere except a few known pixels and labels that the data tests look for.
"""
from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest
import torch

from gen_core.config import IMAGE_SHAPES
from gen_core.data import Split
from gen_core.grid import grid, override

# Two cores are shared with another engineer; the models here are tiny anyway.
torch.set_num_threads(1)
# bf16 is decided by the CPU unless GEN_BF16 pins it; the tests that need one answer set it themselves.
os.environ.pop("GEN_BF16", None)

# ---- known values planted in the dataset fixtures ------------------------------------------
# MNIST: train image 0 has pixel (h=3, w=5) = 200; train image 59999 has (27, 27) = 255;
#        test image 9999 has (0, 0) = 7. Train label i = i % 10, test label i = (3 * i) % 10.
MNIST_TRAIN_PIXELS = {(0, 3, 5): 200, (59999, 27, 27): 255}
MNIST_TEST_PIXELS = {(9999, 0, 0): 7}
# CIFAR-10 (rows are R, G, B planes of 32x32, each plane 1024 values, row-major):
#   data_batch_1 row 0: G plane pixel (3, 5) = 77   -> flat index 1024 + 3*32 + 5 = 1125
#   data_batch_1 row 1: R plane pixel (0, 0) = 11   -> flat index 0
#   data_batch_5 row 9999 (global image 49999): B plane pixel (31, 31) = 250
#                                                   -> flat index 2048 + 31*32 + 31 = 3071
#   test_batch row 0: B plane pixel (10, 20) = 99   -> flat index 2048 + 10*32 + 20 = 2388
# Label of row i in data_batch_b is (i + b) % 10; in test_batch it is (7 * i) % 10.
CIFAR_FLAT = {1: {(0, 1125): 77, (1, 0): 11}, 5: {(9999, 3071): 250}, "test": {(0, 2388): 99}}


def _write_idx(path, array: np.ndarray, magic: int) -> None:
    """Big-endian idx: magic (>i4), one >i4 per dimension, then the uint8 payload."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack(">i", magic))
        f.write(struct.pack(">" + "i" * array.ndim, *array.shape))
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist_images(path, images: np.ndarray) -> None:
    _write_idx(path, images, 0x00000803)


def write_mnist_labels(path, labels: np.ndarray) -> None:
    _write_idx(path, labels, 0x00000801)


def write_cifar_batch(path, data: np.ndarray, labels: list[int], name: str = "fixture") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    batch = {"batch_label": name, "data": data, "labels": list(labels),
             "filenames": [f"img_{i}.png" for i in range(len(labels))]}
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory):
    """A data folder holding full-size MNIST (60000 + 10000 images) in torchvision's raw layout."""
    root = tmp_path_factory.mktemp("mnist_data")
    raw = root / "MNIST" / "raw"
    for prefix, n, pixels, label_of in (("train", 60000, MNIST_TRAIN_PIXELS, lambda i: i % 10),
                                        ("t10k", 10000, MNIST_TEST_PIXELS, lambda i: (3 * i) % 10)):
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for (i, h, w), value in pixels.items():
            images[i, h, w] = value
        write_mnist_images(raw / f"{prefix}-images-idx3-ubyte", images)
        write_mnist_labels(raw / f"{prefix}-labels-idx1-ubyte", label_of(np.arange(n)).astype(np.uint8))
    return root


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory):
    """A data folder holding full-size CIFAR-10 pickles (5 x 10000 train, 10000 test)."""
    root = tmp_path_factory.mktemp("cifar_data")
    folder = root / "cifar-10-batches-py"
    for key in (1, 2, 3, 4, 5, "test"):
        data = np.zeros((10000, 3072), dtype=np.uint8)
        for (row, flat), value in CIFAR_FLAT.get(key, {}).items():
            data[row, flat] = value
        idx = np.arange(10000)
        labels = ((7 * idx) % 10) if key == "test" else ((idx + key) % 10)
        name = "test_batch" if key == "test" else f"data_batch_{key}"
        write_cifar_batch(folder / name, data, labels.tolist(), name)
    return root


# ---- synthetic splits and tiny configs ------------------------------------------------------

def make_split(n: int, dataset: str = "mnist", seed: int = 0) -> Split:
    """n random uint8 images of the dataset's shape, labels 0..9 repeating."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, *IMAGE_SHAPES[dataset]), generator=gen, dtype=torch.uint8)
    return Split(images, torch.arange(n) % 10)


@pytest.fixture
def split_factory():
    return make_split


_TINY_WIDTHS = {
    ("vae", "mlp"): dict(hidden=(16,)),
    ("vae", "conv"): dict(channels=(4, 8)),
    ("gan", "mlp"): dict(hidden=(16, 16), d_hidden=(16,)),
    ("gan", "conv"): dict(channels=(8, 4, 4), d_channels=(4, 4, 8)),
}


def full_smoke_rows(family, dataset):
    other = "cifar10" if dataset == "mnist" else "mnist"
    return grid(family, other, "smoke")


def tiny_config(family: str, dataset: str = "mnist", arch: str = "mlp", **changes):
    """A row of the smoke grid with tiny widths, batches and sample counts (validated again)."""
    # the grid has no conv VAE on MNIST: borrow the row from the other dataset then
    rows = grid(family, dataset, "smoke") + [override(c, dataset=dataset) for c in full_smoke_rows(family, dataset)]
    base = next(c for c in rows if c.arch == arch)
    widths = _TINY_WIDTHS[("vae" if family == "vae" else "gan", arch)]
    defaults = dict(latent_dim=4, epochs=1, batch_size=8, n_samples=4, n_eval_samples=8, amp=False)   # fp32 unless asked
    return override(base, **{**widths, **defaults, **changes})


@pytest.fixture
def tiny_cfg():
    return tiny_config


# ---- hand-made runs and real sides for the report's tests -----------------------------------

def fake_run(cfg, fd, seed=0, status="complete", covered=10, kl=0.0, recall=0.5, half=0.1,
             on_data=1.0, counted=None, curve=None, generator_images=1000):
    """A measured Run with the given yardstick numbers; nothing on disk. Each yardstick number has the
    95% interval value +- `half` (None: no interval); `counted` defaults to `on_data`; `curve`: its FD over training, a list of
    (epoch, generator images, fd) with the same half widths."""
    from pathlib import Path

    from gen_core.results import Run
    from gen_core.yardstick import collapse_state

    cfg = type(cfg)(**{**cfg.to_dict(), "seed": seed})
    summary = {"status": status, "diverged_at": None, "train_seconds": 10.0 + seed, "images_per_second": 100.0,
               "final_epoch": {"loss": 1.0, "jsd": 0.1, "emd": 0.2}, "test_neg_elbo": 100.0 + seed,
               "generator_images": generator_images, "epochs_done": 3}
    numbers = {"fd": fd, "precision": 0.5, "recall": recall, "density": 0.8, "coverage": 0.6}
    ci = {} if half is None else {f"{k}_ci": [v - half, v + half] for k, v in numbers.items() if v is not None}
    yardstick = {} if status == "diverged" else {
        **numbers, **ci, "classes_covered": covered, "kl_to_uniform": kl, "on_data": on_data,
        "counted": on_data if counted is None else counted,
        "collapse": collapse_state(on_data, on_data if counted is None else counted, covered),
        "label_histogram": [0.1] * 10}
    if curve is not None and status != "diverged":
        yardstick["over_training"] = [{"epoch": e, "generator_images": g, "train_seconds": float(e), "fd": f,
                                       **({} if half is None else {"fd_ci": [f - half, f + half]})}
                                      for e, g, f in curve]
    return Run(cfg, Path("/nonexistent"), summary, {"steps": {}, "epochs": {}}, yardstick)


def fake_real_side(dataset: str):
    """The yardstick's real side with stub numbers: floors FD 2 (MNIST) and 0.5 (CIFAR-10); the CIFAR-10
    classifier is below its floor."""
    from types import SimpleNamespace

    clf = SimpleNamespace(summary={"arch": "LeNet", "test_accuracy": 0.5, "test_images": 100, "epochs": 1,
                                   "train_images": 1000, "profile": "quick", "floor": 0.97,
                                   "below_floor": dataset == "cifar10"})
    return SimpleNamespace(dataset=dataset, n_samples=1000, classifier=clf,
                           floor={"fd": 2.0 if dataset == "mnist" else 0.5, "fd_ci": [1.5, 2.5], "precision": 0.9,
                                  "recall": 0.8})


# ---- a real single-node Slurm cluster (tests/slurm_cluster.py) ------------------------------

def pytest_configure(config):
    config.addinivalue_line("markers", "slurm: needs the single-node Slurm fixture")


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A started tests/slurm_cluster.Cluster: SLURM_CONF points at it while the session runs.

    Skips when Slurm/munge are missing or the cluster does not start, unless GEN_REQUIRE_SLURM=1
    (CI), where it fails instead."""
    import os

    import slurm_cluster as _slurm

    def give_up(reason):
        if os.environ.get("GEN_REQUIRE_SLURM") == "1":
            pytest.fail(f"GEN_REQUIRE_SLURM=1 but the Slurm fixture is unavailable: {reason}", pytrace=False)
        pytest.skip(reason)

    reason = _slurm.available()
    if reason:
        give_up(reason)
    try:
        cluster = _slurm.start(tmp_path_factory.mktemp("slurm"))
    except Exception as e:  # noqa: BLE001 - any start failure is the reason to skip/fail
        give_up(f"the single-node Slurm cluster did not start: {e}")
    if cluster.killed_stale:
        import warnings

        warnings.warn("killed Slurm processes left by a crashed test session: " + "; ".join(cluster.killed_stale))
    try:
        yield cluster
    finally:
        cluster.stop()


# ---- the book's tests share one copy of the repository (make runs there; tests edit its notebooks) ----

@pytest.fixture(scope="session")
def repo(tmp_path_factory):
    """The repository's files in a temporary folder, sharing this checkout's .venv."""
    import shutil
    import subprocess

    from gen_core.book import ROOT

    # .venv up to date here first: else `make` in the copy would reinstall gen_core from the copy,
    # and the shared .venv would import it from a temporary folder after the tests
    subprocess.run(["make", "setup"], cwd=ROOT, check=True, capture_output=True, timeout=1200)
    dest = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".git", ".venv", "data", "runs", "_build", "__pycache__",
                                                              ".pytest_cache", "*.egg-info", "device_data"))
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest
