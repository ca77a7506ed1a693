"""Where a book lives and how its pages are made: the paths, the chapter list (from _toc.yml), the
smoke stage, executing one notebook with papermill, folding its parameter cells, and building the
Jupyter Book with its provenance banner. Light imports only (see gen_core/book/stamps.py)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import one_line

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
# The experiment pages in the table of contents' order: one chapter per family x dataset, then the comparison.
NOTEBOOKS = re.findall(r"book/experiments/(\w+)", (ROOT / "_toc.yml").read_text())
CHAPTERS = [name for name in NOTEBOOKS if name != "comparison"]
EXECUTED = Path("book") / "experiments"          # relative to a book root
PROVENANCE = EXECUTED / "provenance.json"
STAMPS = Path("_build") / "stamps"
SMOKE_DIR = ROOT / "_build" / "smoke"            # where smoke stages its book unless GEN_SMOKE_DIR says otherwise
# the profiles whose report writes the published book, book/experiments/; the others stage a copy of the
# book under _build/<profile>/ and say on every page that they are not it
PUBLISHED = ("long", "full")


class BookError(RuntimeError):
    """A notebook failed or the book did not build; the message names which and where to look."""


def book_root_for(profile: str, smoke_dir) -> Path:
    """Where a profile's executed notebooks and HTML live: the published book (long, full), the smoke
    stage (`smoke_dir`, GEN_SMOKE_DIR), or another profile's stage, _build/<profile>/ (quick)."""
    if profile in PUBLISHED:
        return ROOT
    return Path(smoke_dir) if profile == "smoke" else ROOT / "_build" / profile


def executed_path(book_root: Path, name: str) -> Path:
    """The executed notebook `name` of the book at `book_root`."""
    return book_root / EXECUTED / f"{name}.ipynb"


def progress_tag(name: str) -> str:
    """"[3/7] gan_mnist": where a notebook stands in the report, on every line about it."""
    return f"[{NOTEBOOKS.index(name) + 1}/{len(NOTEBOOKS)}] {name}"


def stage_book(dest: Path) -> Path:
    """The book sources copied under `dest`, so a quick or smoke report never touches book/experiments.

    Executed notebooks and stamps already there are kept, so an unchanged notebook is not
    executed again; the sources are refreshed.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, dest / name)
    for old in (dest / "book").glob("*") if (dest / "book").exists() else []:
        if old.name != "experiments":                       # a removed or renamed source must not linger
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copytree(ROOT / "book", dest / "book", ignore=shutil.ignore_patterns("experiments"), dirs_exist_ok=True)
    return dest


def execute_notebook(name: str, book_root: Path, parameters: dict) -> Path:
    """notebooks/<name>.py -> <book_root>/book/experiments/<name>.ipynb, executed by papermill."""
    import jupytext
    import papermill

    source = NOTEBOOK_DIR / f"{name}.py"
    out = executed_path(book_root, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    unexecuted = out.with_name(f".{name}.input.ipynb")
    jupytext.write(jupytext.read(source), unexecuted)
    partial = out.with_name(f".{name}.partial.ipynb")
    try:
        papermill.execute_notebook(str(unexecuted), str(partial), parameters=parameters, cwd=str(ROOT),
                                   kernel_name="python3", progress_bar=False, log_output=False)
    except papermill.PapermillExecutionError as err:
        raise BookError(f"notebook {name} failed: {err.ename}: {one_line(err.evalue)} "
                        f"(the executed notebook with the traceback is {partial})") from None
    finally:
        unexecuted.unlink(missing_ok=True)
    fold_parameter_cells(partial)
    os.replace(partial, out)                       # a failed run never replaces a good notebook
    return out


FOLDED = ("parameters", "injected-parameters")     # the notebook's defaults and what papermill set


def fold_parameter_cells(path: Path) -> None:
    """Tag the parameters cell and the cell papermill injects "hide-cell": the book folds them
    behind a toggle. Their values stay visible in the page's reproduce box."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(t in FOLDED for t in tags) and "hide-cell" not in tags:
            tags.append("hide-cell")
    nbformat.write(nb, str(path))


def announcement(book_root: Path) -> str:
    """The banner on every page: which profile, device, data and commit the results come from, what trained
    the runs (report.provenance.training_phrase), and, for a profile that is not published, that this
    is not the published book."""
    path = book_root / PROVENANCE
    if not path.exists():
        return "No results yet: run make report to train and execute the notebooks."
    p = json.loads(path.read_text())
    text = (f"Results from profile {p['profile']} on {p['device']}, data from the folder {p['data']}, "
            f"commit {p['commit']}, {p['date']}")
    if "training" in p:                            # written since the banner names the machines
        from ..report.provenance import training_phrase
        text += f"; {training_phrase(p['training'])}"
    if p["profile"] not in PUBLISHED:
        text = (f"A {p['profile']} build, not the published book (make report PROFILE=long publishes it): "
                + text[0].lower() + text[1:])
    return text


def build_book(book_root: Path, strict: bool = True) -> Path:
    """jupyter-book build, with the results' provenance as a banner on every page.

    Strict by default: a Sphinx warning (a broken reference, a missing page) fails the build.
    One build at a time per book (a file lock).
    """
    from ..store import file_lock, lock_path

    missing = [name for name in NOTEBOOKS if not executed_path(book_root, name).exists()]
    if missing:
        raise BookError(f"the book at {book_root} lacks the executed notebooks {', '.join(missing)}; "
                        f"make report (with this PROFILE) executes every notebook")
    with file_lock(lock_path(book_root, "build")):
        return _build(book_root, strict)


def _build(book_root: Path, strict: bool) -> Path:
    import yaml

    config = yaml.safe_load((book_root / "_config.yml").read_text())
    config.setdefault("html", {})["announcement"] = announcement(book_root)
    generated = book_root / "_build" / "_config.generated.yml"
    generated.parent.mkdir(parents=True, exist_ok=True)
    generated.write_text(yaml.safe_dump(config, sort_keys=False))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")    # the CLI beside this Python
    cmd = [str(jupyter_book), "build", str(book_root), "--config", str(generated),
           "--toc", str(book_root / "_toc.yml"), "--path-output", str(book_root), "--all"]
    if strict:
        cmd += ["-W", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = book_root / "_build" / "jupyter-book.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        lines = (proc.stderr + proc.stdout).strip().splitlines() or ["no output"]
        first = next((x for x in lines if "WARNING" in x or "ERROR" in x), lines[-1])   # the cause, not the summary
        raise BookError(f"jupyter-book build of {book_root} failed: {first.strip()} (full log: {log})")
    return book_root / "_build" / "html"
