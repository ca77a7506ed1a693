"""The book's tests share one copy of the repository (make runs there; tests edit its notebooks)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from gen_core.book import ROOT


@pytest.fixture(scope="session")
def repo(tmp_path_factory) -> Path:
    """The repository's files in a temporary folder, sharing this checkout's .venv."""
    # .venv up to date here first: else `make` in the copy would reinstall gen_core from the copy,
    # and the shared .venv would import it from a temporary folder after the tests
    subprocess.run(["make", "setup"], cwd=ROOT, check=True, capture_output=True, timeout=1200)
    dest = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".git", ".venv", "data", "runs", "_build", "__pycache__",
                                                              ".pytest_cache", "*.egg-info", "device_data"))
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest
