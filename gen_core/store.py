"""Shared plumbing: atomic writes, file locks between processes, and the terminal stream.

Every results file is written to a temporary name beside its target and renamed, so a kill
at any moment leaves the old file or the new one, never half of one. Locks make parallel
processes (`make -j N report`) wait for each other instead of training one thing twice.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

SHARED_LOCKS = ".locks"          # under a runs folder that tasks on several machines share


def progress_stream():
    """Where progress bars and warnings go: the terminal, also from inside a notebook kernel.

    There sys.__stderr__ is the terminal that runs papermill, so bars show progress there and
    stay out of the book.
    """
    return sys.__stderr__ if sys.__stderr__ is not None else sys.stderr


def report_problem(message: str) -> None:
    """One line on the terminal (inside a notebook kernel too), not in the book."""
    print(f"warning: {message}", file=progress_stream(), flush=True)


def write_json_atomic(path: Path, payload) -> None:
    """Write to a temporary file beside `path`, then rename: readers see old or new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)                    # a failed write leaves the old file and nothing else
        raise


def save_torch_atomic(obj, path: Path) -> None:
    """torch.save to a temporary file beside `path`, then rename: a kill leaves old or new."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_png_atomic(images, path: Path, nrow: int = 8) -> None:
    """A grid of images (N, C, H, W) in [0, 1] as one PNG (torchvision's make_grid), atomically."""
    from torchvision.utils import make_grid, save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    save_image(make_grid(images, nrow=nrow, padding=2, pad_value=1.0), tmp)
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
    """The lock file of one run of `runs_dir`. Where Slurm submission made <runs>/.locks (gen_core/slurm.py),
    there: every process that shares the runs folder, on any cluster node, sees those locks.
    Otherwise under the system's temp folder, so the runs folder holds only results (and is not
    created before the data has loaded)."""
    shared = Path(runs_dir) / SHARED_LOCKS
    if shared.is_dir():
        return shared / f"{name}.lock"
    key = hashlib.sha256(str(Path(runs_dir).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "gen_core-locks" / key / f"{name}.lock"


def same_configuration(run_name: str) -> str:
    """The part of a run folder's name its other seeds share ("gan-mnist-mlpa-z100-"): the seed
    is inside the hash, so every seed of a configuration has its own folder."""
    return run_name.rsplit("-", 1)[0] + "-"


def share_runs_folder(runs_dir: Path) -> None:
    """The tasks write their results under `runs_dir` and lock each run in <runs>/.locks (so every
    process sharing the folder sees the locks, store.lock_path): create both and take a lock, or refuse."""
    from .errors import ConfigError

    try:
        (Path(runs_dir) / SHARED_LOCKS).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=runs_dir, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ConfigError(f"runs folder {runs_dir} cannot be written ({err.strerror or err}); the tasks write "
                          f"their results there: choose another --runs-dir or fix its permissions") from None
    try:
        with file_lock(Path(runs_dir) / SHARED_LOCKS / ".lock-test"):
            pass
    except OSError as err:
        raise ConfigError(f"runs folder {runs_dir} is on a file system without flock ({err.strerror or err}); "
                          f"tasks could train one run twice: use a folder on NFSv4, GPFS, or Lustre mounted "
                          f"with flock") from None
