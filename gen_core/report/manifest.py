"""Which run folders each chapter used last, per profile: the chapter writes it, the comparison
and `make report`'s up-to-date check read it. Plain JSON under <runs>/chapters/<profile>/,
so it travels with the runs folder; no torch here, so the check stays fast."""
from __future__ import annotations

import json
from pathlib import Path

from ..store import write_json_atomic


def path(runs_dir, profile: str, chapter: str) -> Path:
    return Path(runs_dir) / "chapters" / profile / f"{chapter}.json"


def record(runs_dir, profile: str, chapter: str, run_names: list[str]) -> None:
    write_json_atomic(path(runs_dir, profile, chapter), {"runs": list(run_names)})


def used_run_dirs(runs_dir, profile: str, chapter: str) -> list[Path] | None:
    """The run folders `chapter` used at `profile`, or None if it has not run there."""
    try:
        names = json.loads(path(runs_dir, profile, chapter).read_text())["runs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [Path(runs_dir) / name for name in names]
