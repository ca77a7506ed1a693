"""Helpers the book's tests import: the datasets and `make` in a repository (conftest.py holds the
session's copy of the repository, the `repo` fixture)."""
import os
import subprocess
from pathlib import Path

from gen_core.book import ROOT

DATA_DIR = str(ROOT / os.environ.get("GEN_DATA_DIR", "data"))          # absolute: make runs in a copy


def make(repo: Path, *args, timeout: int = 1500) -> subprocess.CompletedProcess:
    proc = subprocess.run(["make", *args], cwd=repo, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc
