"""When a notebook is executed again: its fingerprint, kept under <book>/_build/stamps/.

A notebook is out of date when anything it is executed from changed (its source, the library's
code, its parameters, and what renames the runs it shows without touching those: GEN_BF16 as this
CPU resolves it), when the results of the runs it read last time changed (for the comparison:
every chapter's), or when its executed notebook is not the one that execution wrote. FORCE is not
part of it: it decides whether to execute, not what comes out.

Light imports only: deciding that a notebook is up to date must not pay for importing torch.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import bf16
from ..config import PROFILES, parse_force
from ..digest import files_digest
from ..errors import ConfigError
from . import layout
from .params import notebook_parameters


def digest(paths, names: bool = False) -> str:
    """sha256 of the files' contents (and their paths relative to the repository, if `names`)."""
    return files_digest(paths, layout.ROOT if names else None)


def library_digest() -> str:
    """The gen_core sources a notebook's output may depend on (not the bench or the training CLI)."""
    sources = [p for p in sorted((layout.ROOT / "gen_core").rglob("*.py"))
               if p.name not in ("bench.py", "__main__.py")]
    return digest(sources, names=True)


def run_name_inputs() -> dict:
    """What changes the names of the runs a notebook trains and shows besides its source, the library
    and its parameters: GEN_BF16, resolved (auto: this CPU), since it sets RunConfig.amp. A bad value
    is a ConfigError."""
    return {"GEN_BF16": bf16.bf16_on_this_cpu()}


def sources(name: str, parameters: dict) -> dict:
    """What the notebook is executed from: its source, the library, its parameters, and the inputs
    that rename its runs."""
    return {"notebook": digest([layout.NOTEBOOK_DIR / f"{name}.py"]), "library": library_digest(),
            "parameters": json.loads(json.dumps({k: v for k, v in parameters.items() if k != "force"},
                                                sort_keys=True, default=str)),
            "run_names": run_name_inputs()}


def runs_read(name: str, parameters: dict) -> dict:
    """The results it read: per chapter (a chapter: its own; the comparison: every chapter's), the
    run folders it used last time, a digest of their results files, and the finished folders of
    the same configurations (another seed landing there, from a cluster say, is a change)."""
    from ..report.manifest import used_run_dirs

    out = {}
    for chapter in layout.CHAPTERS if name == "comparison" else [name]:
        dirs = used_run_dirs(parameters["runs_dir"], parameters["profile"], chapter) or []
        out[chapter] = {"runs": [d.name for d in dirs],
                        "results": digest(d / f for d in dirs for f in ("summary.json", "yardstick.json")),
                        "found": other_seeds(dirs)}
    return out


def other_seeds(run_dirs: list[Path]) -> list[str]:
    """The finished folders beside `run_dirs` that hold another seed of one of their configurations
    (read from config.json, without torch): a chapter uses those too."""
    from ..store import same_configuration

    def without_seed(run_dir: Path):
        try:
            config = json.loads((run_dir / "config.json").read_text())["config"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return json.dumps({**config, "seed": None}, sort_keys=True)

    wanted = {without_seed(d) for d in run_dirs} - {None}
    siblings = {p.parent for d in run_dirs for p in d.parent.glob(f"{same_configuration(d.name)}*/summary.json")}
    return sorted(p.name for p in siblings if p not in run_dirs and without_seed(p) in wanted)


def stamp_path(book_root: Path, name: str) -> Path:
    return book_root / layout.STAMPS / f"{name}.json"


def fingerprint(name: str, parameters: dict, executed: Path, sources_before: dict | None = None) -> dict:
    """The stamp of notebook `name`: its sources (`sources_before`: read before it executed, so an
    edit made meanwhile executes it next time), the runs it read, and its executed notebook."""
    return {**(sources_before or sources(name, parameters)), "runs": runs_read(name, parameters),
            "output": digest([executed])}


def up_to_date(name: str, book_root: Path, parameters: dict) -> bool:
    """Executed before from the same sources and parameters, reading the same results, and its
    executed notebook is the one that execution wrote. Never under FORCE=1."""
    out = layout.executed_path(book_root, name)
    if parameters["force"] or not out.exists():
        return False
    try:
        stamp = json.loads(stamp_path(book_root, name).read_text())
    except (OSError, ValueError):
        return False
    return stamp == fingerprint(name, parameters, out)


def skip_if_up_to_date(name: str, profile: str, data_dir, runs_dir, force, params: dict, smoke_dir) -> bool:
    """The fast path of `notebook NAME`, before torch is imported: True (and a line) if nothing
    it depends on changed. Unsure (an unknown notebook, PROFILE=auto, a bad FORCE or GEN_BF16) is
    False, and the full path decides and names what is wrong. (make passes each step the profile it
    resolved, so auto is rare here.)"""
    if name not in layout.NOTEBOOKS or profile not in PROFILES:
        return False
    try:
        parameters = notebook_parameters(profile, data_dir, runs_dir, parse_force(force), params)
        fresh = up_to_date(name, layout.book_root_for(profile, smoke_dir), parameters)
    except ConfigError:
        return False
    if fresh:
        print(f"{layout.progress_tag(name)}: up to date", flush=True)
    return fresh
