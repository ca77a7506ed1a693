"""Execute the notebooks with papermill and build the Jupyter Book: what `make report` runs.

    python -m gen_core.book report --profile quick     # train (or load), execute, build: one process
    python -m gen_core.book build                      # build from the executed notebooks there

`make report` runs the same steps as separate commands, so `make -j N report` executes the
six chapter notebooks N at a time (their runs are disjoint; the shared classifier and any
run two processes want are guarded by file locks), then the comparison, then the book:

    python -m gen_core.book prepare                    # validate, stage, check data, provenance
    python -m gen_core.book notebook gan_mnist         # one notebook
    python -m gen_core.book finish                     # build the profile's book

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


def build_book(book_root: Path, strict: bool = True) -> Path:
    """jupyter-book build, with the results' provenance as a banner on every page.

    Strict by default: a Sphinx warning (a broken reference, a missing page) fails the build.
    """
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
        lines = (proc.stderr + proc.stdout).strip().splitlines() or ["no output"]
        first = next((x for x in lines if "WARNING" in x or "ERROR" in x), lines[-1])   # the cause, not the summary
        raise BookError(f"jupyter-book build of {book_root} failed: {first.strip()} (full log: {log})")
    return book_root / "_build" / "html"


def book_root_for(profile: str, smoke_dir) -> Path:
    """Where a profile's executed notebooks and HTML live: the published book, or the smoke stage."""
    return Path(smoke_dir) if profile == "smoke" else ROOT


def _context(profile: str, data_dir: str, runs_dir: str, force: bool):
    from .chapter import setup

    return setup(profile, data_dir, runs_dir, force)          # validates before anything trains


def prepare(profile: str, data_dir: str, runs_dir: str, force: bool, smoke_dir=ROOT / "_build" / "smoke"):
    """Everything before the first notebook: parameters, the smoke stage, the data, provenance."""
    from .chapter import write_provenance

    ctx = _context(profile, data_dir, runs_dir, force)
    book_root = stage_smoke_book(Path(smoke_dir)) if ctx.profile == "smoke" else ROOT
    ensure_data(Path(data_dir))                             # a data problem is one line, before any kernel
    print(f"report: profile {ctx.profile} on {ctx.device}, data {data_dir}, runs {runs_dir}", flush=True)
    (book_root / EXECUTED).mkdir(parents=True, exist_ok=True)
    write_provenance(ctx, book_root / PROVENANCE)
    return ctx, book_root


def run_notebook(name: str, ctx, book_root: Path) -> Path:
    if name not in NOTEBOOKS:
        raise ConfigError(f"notebook {name!r} is not allowed; expected one of {', '.join(NOTEBOOKS)}")
    parameters = {"profile": ctx.profile, "data_dir": str(ctx.data_dir), "runs_dir": str(ctx.runs_dir),
                  "force": ctx.force}
    tag = f"[{NOTEBOOKS.index(name) + 1}/{len(NOTEBOOKS)}] {name}"
    print(f"{tag}: running", flush=True)
    start = time.perf_counter()
    out = execute_notebook(name, book_root, parameters)
    print(f"{tag}: done in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def report(profile: str, data_dir: str, runs_dir: str, force: bool, notebooks=None,
           smoke_dir: Path = ROOT / "_build" / "smoke") -> Path:
    names = notebooks or NOTEBOOKS
    unknown = sorted(set(names) - set(NOTEBOOKS))
    if unknown:
        raise ConfigError(f"notebook {unknown[0]!r} is not allowed; expected one of {', '.join(NOTEBOOKS)}")
    ctx, book_root = prepare(profile, data_dir, runs_dir, force, smoke_dir)
    for name in names:
        run_notebook(name, ctx, book_root)
    html = build_book(book_root)
    print(f"book: {html / 'index.html'}", flush=True)
    return html


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=os.environ.get("PROFILE", "auto"))
    parser.add_argument("--data-dir", default=os.environ.get("GEN_DATA_DIR", "data"))
    parser.add_argument("--runs-dir", default=os.environ.get("GEN_RUNS_DIR", "runs"))
    # FORCE goes to chapter.setup as written, which accepts 0/1/true/false and names anything else
    parser.add_argument("--force", action="store_const", const="1", default=os.environ.get("FORCE", "0"))
    parser.add_argument("--smoke-dir", default=os.environ.get("GEN_SMOKE_DIR", str(ROOT / "_build" / "smoke")),
                        help="where the smoke profile stages, executes and builds its book")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gen_core.book", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="train or load every run, execute the notebooks, build the book")
    _report_args(rep)
    rep.add_argument("--notebook", action="append", help="only this notebook (repeatable)")
    _report_args(sub.add_parser("prepare", help="validate, stage the smoke book, check the data, write provenance"))
    one = sub.add_parser("notebook", help="execute one notebook (after prepare)")
    one.add_argument("name", help=", ".join(NOTEBOOKS))
    _report_args(one)
    _report_args(sub.add_parser("finish", help="build the profile's book from its executed notebooks"))
    bld = sub.add_parser("build", help="build the HTML from the executed notebooks already there")
    bld.add_argument("--allow-warnings", action="store_true", help="build even if Sphinx warns")
    args = p.parse_args(argv)
    try:
        if args.command == "build":
            html = build_book(ROOT, strict=not args.allow_warnings)
            print(f"book: {html / 'index.html'}")
            return 0
        params = (args.profile, args.data_dir, args.runs_dir, args.force)
        if args.command == "report":
            report(*params, args.notebook, args.smoke_dir)
        elif args.command == "prepare":
            prepare(*params, args.smoke_dir)
        else:
            ctx = _context(*params)
            book_root = book_root_for(ctx.profile, args.smoke_dir)
            if args.command == "notebook":
                run_notebook(args.name, ctx, book_root)
            else:
                print(f"book: {build_book(book_root) / 'index.html'}", flush=True)
    except (ConfigError, DataError, BookError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
