"""Execute the notebooks with papermill and build the Jupyter Book: what `make report` runs.

    python -m gen_core.book report --profile quick     # train (or load), execute, build
    python -m gen_core.book build                      # build from the executed notebooks there

The quick and full profiles write executed notebooks into book/experiments/, the
published book. The smoke profile never does: it stages a copy of the book under
_build/smoke/ and executes and builds there.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .config import ConfigError
from .data import DataError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = [f"{fam}_{ds}" for fam in ("vae", "gan", "wgan") for ds in ("mnist", "cifar10")]
NOTEBOOKS = CHAPTERS + ["comparison"]
EXECUTED = Path("book") / "experiments"          # relative to a book root
PROVENANCE = EXECUTED / "provenance.json"


class BookError(RuntimeError):
    """A notebook failed or the book did not build; the message names which and where to look."""


def stage_smoke_book(dest: Path) -> Path:
    """A copy of the book sources under `dest`, so smoke outputs never touch book/experiments."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "book", dest / "book", ignore=shutil.ignore_patterns("experiments"))
    return dest


def ensure_data(data_dir: Path) -> None:
    """Both datasets' files are in data_dir, or torchvision downloads them, or DataError."""
    from .data import _cifar_paths, _download, _mnist_paths

    for name, paths_of in (("mnist", _mnist_paths), ("cifar10", _cifar_paths)):
        paths = paths_of(data_dir, True) + paths_of(data_dir, False)
        if not all(p.exists() for p in paths):
            _download(name, data_dir)


def execute_notebook(name: str, book_root: Path, parameters: dict) -> Path:
    """notebooks/<name>.py -> <book_root>/book/experiments/<name>.ipynb, executed by papermill."""
    import jupytext
    import papermill

    source = ROOT / "notebooks" / f"{name}.py"
    out = book_root / EXECUTED / f"{name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    unexecuted = out.with_name(f".{name}.input.ipynb")
    jupytext.write(jupytext.read(source), unexecuted)
    partial = out.with_name(f".{name}.partial.ipynb")
    try:
        papermill.execute_notebook(str(unexecuted), str(partial), parameters=parameters, cwd=str(ROOT),
                                   kernel_name="python3", progress_bar=False, log_output=False)
    except papermill.PapermillExecutionError as err:
        raise BookError(f"notebook {name} failed: {err.ename}: {err.evalue} "
                        f"(the executed notebook with the traceback is {partial})") from None
    finally:
        unexecuted.unlink(missing_ok=True)
    os.replace(partial, out)                       # a failed run never replaces a good notebook
    return out


def _announcement(book_root: Path) -> str:
    path = book_root / PROVENANCE
    if not path.exists():
        return "No results yet: run make report to train and execute the notebooks."
    p = json.loads(path.read_text())
    return (f"Results from profile {p['profile']} on {p['device']}, data {p['data']}, "
            f"commit {p['commit']}, {p['date']}")


def build_book(book_root: Path, strict: bool = False) -> Path:
    """jupyter-book build, with the results' provenance as a banner on every page."""
    import yaml

    config = yaml.safe_load((book_root / "_config.yml").read_text())
    config.setdefault("html", {})["announcement"] = _announcement(book_root)
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
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BookError(f"jupyter-book build of {book_root} failed: {tail[0]} (full log: {log})")
    return book_root / "_build" / "html"


def report(profile: str, data_dir: str, runs_dir: str, force: bool, notebooks=None,
           smoke_dir: Path = ROOT / "_build" / "smoke") -> Path:
    from .chapter import setup, write_provenance

    ctx = setup(profile, data_dir, runs_dir, force)          # validates before anything trains
    book_root = stage_smoke_book(Path(smoke_dir)) if ctx.profile == "smoke" else ROOT
    names = notebooks or NOTEBOOKS
    unknown = sorted(set(names) - set(NOTEBOOKS))
    if unknown:
        raise ConfigError(f"notebook {unknown[0]!r} is not allowed; expected one of {', '.join(NOTEBOOKS)}")
    ensure_data(Path(data_dir))                             # a data problem is one line, before any kernel
    print(f"report: profile {ctx.profile} on {ctx.device}, data {data_dir}, runs {runs_dir}", flush=True)
    (book_root / EXECUTED).mkdir(parents=True, exist_ok=True)
    write_provenance(ctx, book_root / PROVENANCE)
    parameters = {"profile": ctx.profile, "data_dir": str(data_dir), "runs_dir": str(runs_dir),
                  "force": ctx.force}
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name}: running", flush=True)
        start = time.perf_counter()
        execute_notebook(name, book_root, parameters)
        print(f"[{i}/{len(names)}] {name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    html = build_book(book_root)
    print(f"book: {html / 'index.html'}", flush=True)
    return html


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gen_core.book", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="train or load every run, execute the notebooks, build the book")
    rep.add_argument("--profile", default=os.environ.get("PROFILE", "auto"))
    rep.add_argument("--data-dir", default=os.environ.get("GEN_DATA_DIR", "data"))
    rep.add_argument("--runs-dir", default=os.environ.get("GEN_RUNS_DIR", "runs"))
    rep.add_argument("--force", action="store_true", default=os.environ.get("FORCE", "") not in ("", "0"))
    rep.add_argument("--notebook", action="append", help="only this notebook (repeatable)")
    rep.add_argument("--smoke-dir", default=str(ROOT / "_build" / "smoke"),
                     help="where the smoke profile stages, executes and builds its book")
    bld = sub.add_parser("build", help="build the HTML from the executed notebooks already there")
    bld.add_argument("--strict", action="store_true", help="fail on Sphinx warnings")
    args = p.parse_args(argv)
    try:
        if args.command == "report":
            report(args.profile, args.data_dir, args.runs_dir, args.force, args.notebook, args.smoke_dir)
        else:
            html = build_book(ROOT, args.strict)
            print(f"book: {html / 'index.html'}")
    except (ConfigError, DataError, BookError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
