"""The commands `make report` runs, one per step, so that `make -j N report` executes the chapter
notebooks N at a time (their runs are disjoint; file locks guard what two processes share), then
the comparison, then the book. make resolves PROFILE once and gives every step that profile.

    python -m gen_core.book report --profile long      # prepare, train, every notebook, build: one process
    python -m gen_core.book profile                    # what PROFILE means here (auto: full on CUDA, else quick)
    python -m gen_core.book prepare [NAME ...]         # check everything (PARAMS for NAMEs), stage, the data
    python -m gen_core.book train [NAME ...]           # the notebooks' runs, in the worker pool
    python -m gen_core.book notebook gan_mnist -p mlp_a_latents "[17]"   # one notebook, if out of date
    python -m gen_core.book finish                     # build the profile's book
    python -m gen_core.book build                      # build from the executed notebooks there

`prepare` checks PROFILE, FORCE, the folders, GEN_BF16, PARAMS and each notebook's parameters
cell (run as its kernel runs it) before it looks at the data. A notebook is executed again only
when its fingerprint changed (gen_core/book/stamps.py); FORCE=1 always executes and retrains.

Where each profile's executed notebooks go:
  long    book/experiments/, the published book: it is executed from this profile (the
          reports' grid on a CPU with hours)
  full    book/experiments/: published too (the reports' settings, for a GPU)
  quick   never book/experiments/: a look on a small CPU, not for publishing; it stages a copy of
          the book under _build/quick/ and executes and builds there (_build/quick/_build/html/)
  smoke   never book/experiments/: it stages a copy of the book under _build/smoke/
          (GEN_SMOKE_DIR) and executes and builds there
  The pages of a quick or smoke book say on every page that they are not the published book.
  auto    full on CUDA, else quick
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Light imports only: `notebook NAME` decides "up to date" before torch is imported (stamps.py).
from .. import bf16
from ..errors import ConfigError, DataError, fail, print_error
from ..workers import INTERRUPTED, interrupted_status
from . import layout, params, stamps
from .layout import NOTEBOOKS, ROOT, SMOKE_DIR, BookError


def check_notebook_names(names) -> None:
    """ConfigError for a name that is not one of the book's notebooks (_toc.yml)."""
    for name in names:
        if name not in NOTEBOOKS:
            fail("notebook", name, "one of " + ", ".join(NOTEBOOKS), sep=" ")


def context(profile: str, data_dir: str, runs_dir: str, force):
    from ..runs import setup

    return setup(profile, data_dir, runs_dir, force)          # validates before anything trains


def prepare(profile: str, data_dir: str, runs_dir: str, force, smoke_dir=SMOKE_DIR, names=None,
            notebook_params: dict | None = None):
    """Everything before the first notebook, checks first: the common variables, GEN_BF16, then each
    notebook's parameters cell with `notebook_params` (PARAMS, for the notebooks `names`; default:
    every notebook, and no PARAMS) over it; then the smoke stage and the data."""
    from ..config import DATASETS
    from ..runs import check_data

    ctx = context(profile, data_dir, runs_dir, force)
    bf16.bf16_on_this_cpu()                                 # a bad GEN_BF16: one line, before the data
    if notebook_params and not names:
        raise ConfigError("PARAMS sets one notebook's parameters; name the notebooks it is for (prepare NAME)")
    check_notebook_names(names or [])
    params.check_notebooks(names or NOTEBOOKS, notebook_params or {})
    book_root = layout.book_root_for(ctx.profile, smoke_dir)
    if book_root != ROOT:                                   # quick and smoke: a staged copy, never book/experiments
        layout.stage_book(book_root)
    check_data(DATASETS, data_dir)         # read and checked (or downloaded): one line, before anything trains
    print(f"report: profile {ctx.profile} on {ctx.device}, data {data_dir}, runs {runs_dir}", flush=True)
    (book_root / layout.EXECUTED).mkdir(parents=True, exist_ok=True)
    return ctx, book_root


def run_notebook(name: str, ctx, book_root: Path, notebook_params: dict | None = None) -> Path:
    """Execute notebook `name` with the context and `notebook_params` (its own parameters), unless up
    to date. One process at a time per notebook and book (a file lock): a second `make` waits, then
    finds it up to date."""
    from ..report.provenance import write_provenance
    from ..store import file_lock, lock_path, write_json_atomic

    check_notebook_names([name])
    notebook_params = notebook_params or {}
    params.check_params(name, notebook_params)              # before anything trains
    parameters = params.notebook_parameters(ctx.profile, ctx.data_dir, ctx.runs_dir, ctx.force, notebook_params)
    tag = layout.progress_tag(name)
    with file_lock(lock_path(book_root, f"notebook-{name}")):
        if stamps.up_to_date(name, book_root, parameters):
            print(f"{tag}: up to date", flush=True)
            return layout.executed_path(book_root, name)
        print(f"{tag}: running", flush=True)
        start = time.perf_counter()
        sources = stamps.sources(name, parameters)          # before: an edit made meanwhile runs next time
        write_provenance(ctx, book_root / layout.PROVENANCE)
        out = layout.execute_notebook(name, book_root, parameters)
        write_json_atomic(stamps.stamp_path(book_root, name), stamps.fingerprint(name, parameters, out, sources))
        print(f"{tag}: done in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def train_runs(ctx, names, notebook_params: dict | None = None, workers: int | None = None) -> int:
    """Before the notebooks execute: every run they will show, trained and measured side by side in
    the worker pool (gen_core/workers.py), so the notebooks only read results. With one worker (a GPU,
    GEN_WORKERS=1) or FORCE=1 the notebooks train their runs in their kernels instead. Returns 1
    if a run failed."""
    from ..runs import pending
    from ..workers import default_workers, train_in_pool

    notebook_params = notebook_params or {}
    check_notebook_names(names)
    for name in names if notebook_params else []:
        params.check_params(name, notebook_params)
    workers = default_workers(ctx.device) if workers is None else workers
    if workers == 1 or ctx.force:
        print(f"train: the notebooks train their runs ({'FORCE=1' if ctx.force else 'one worker'})", flush=True)
        return 0
    # each chapter's parameters cell run as its kernel will run it, then PARAMS over it: the very runs it shows
    configs = list(dict.fromkeys(c for name in names for c in params.chapter_configs(name, ctx.profile,
                                                                                      notebook_params)))
    if len(pending(configs, ctx.runs_dir, measure=True, force=False, profile=ctx.profile)) == 1:
        print("train: one run to train: its notebook trains it, with every thread", flush=True)
        return 0
    return train_in_pool(configs, ctx.profile, ctx.data_dir, ctx.runs_dir, workers)


def report(profile: str, data_dir: str, runs_dir: str, force, notebooks=None, smoke_dir: Path = SMOKE_DIR) -> Path:
    """prepare, train, every notebook (or `notebooks`), build: `make report` in one process."""
    names = notebooks or NOTEBOOKS
    check_notebook_names(names)
    ctx, book_root = prepare(profile, data_dir, runs_dir, force, smoke_dir, names)
    if train_runs(ctx, names):
        raise BookError("some runs failed to train (their errors are above); fix them and run the same command again")
    for name in names:
        run_notebook(name, ctx, book_root)
    html = layout.build_book(book_root)
    print(f"book: {html / 'index.html'}", flush=True)
    return html


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=os.environ.get("PROFILE", "auto"))
    parser.add_argument("--data-dir", default=os.environ.get("GEN_DATA_DIR", "data"))
    parser.add_argument("--runs-dir", default=os.environ.get("GEN_RUNS_DIR", "runs"))
    # FORCE goes to runs.setup as written, which accepts 0/1/true/false and names anything else
    parser.add_argument("--force", action="store_const", const="1", default=os.environ.get("FORCE", "0"))
    parser.add_argument("--smoke-dir", default=os.environ.get("GEN_SMOKE_DIR", str(SMOKE_DIR)),
                        help="where the smoke profile stages, executes and builds its book")


def _params_arg(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--params", default=os.environ.get("PARAMS", ""), help=help)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gen_core.book", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="train or load every run, execute the notebooks, build the book")
    _report_args(rep)
    rep.add_argument("--notebook", action="append", help="only this notebook (repeatable)")
    prof = sub.add_parser("profile", help="print the profile PROFILE resolves to (auto: full on CUDA, else quick)")
    prof.add_argument("--profile", default=os.environ.get("PROFILE", "auto"))
    prep = sub.add_parser("prepare", help="check the variables and the notebooks' parameters, stage a quick or "
                                          "smoke book, check the data")
    prep.add_argument("names", nargs="*", help="the notebooks PARAMS is for (default: every notebook, no PARAMS)")
    _params_arg(prep, "a mapping of the named notebooks' parameters (make's PARAMS)")
    _report_args(prep)
    one = sub.add_parser("notebook", help="execute one notebook (after prepare) if anything it depends on changed")
    one.add_argument("name", help=", ".join(NOTEBOOKS))
    one.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("KEY", "VALUE"),
                     help="set one of the notebook's parameters; VALUE is a Python or YAML literal (repeatable)")
    _params_arg(one, "a mapping of the notebook's parameters, e.g. '{mlp_a_latents: [17]}' (make's PARAMS)")
    _report_args(one)
    trn = sub.add_parser("train", help="train and measure the notebooks' runs in the worker pool (after prepare)")
    trn.add_argument("names", nargs="*", help="notebooks whose runs to train (default: all)")
    _params_arg(trn, "the parameters of the one notebook named (make's PARAMS)")
    _report_args(trn)
    _report_args(sub.add_parser("finish", help="build the profile's book from its executed notebooks"))
    bld = sub.add_parser("build", help="build the HTML from the executed notebooks already there")
    bld.add_argument("--allow-warnings", action="store_true", help="build even if Sphinx warns")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return _command(args)
    except (ConfigError, DataError, BookError) as err:
        return print_error(err)
    except KeyboardInterrupt as err:
        print(INTERRUPTED, file=sys.stderr, flush=True)
        return interrupted_status(err)


def _command(args) -> int:
    if args.command == "build":
        print(f"book: {layout.build_book(ROOT, strict=not args.allow_warnings) / 'index.html'}")
        return 0
    if args.command == "profile":
        from ..grid import resolve_profile

        print(resolve_profile(args.profile))
        return 0
    common = (args.profile, args.data_dir, args.runs_dir, args.force)
    if args.command == "notebook":
        extra = params.parse_params(args.parameter, args.params)
        if stamps.skip_if_up_to_date(args.name, *common, extra, args.smoke_dir):
            return 0
    if args.command == "report":
        report(*common, args.notebook, args.smoke_dir)
    elif args.command == "prepare":
        prepare(*common, args.smoke_dir, args.names, params.parse_params(None, args.params))
    else:
        ctx = context(*common)
        book_root = layout.book_root_for(ctx.profile, args.smoke_dir)
        if args.command == "notebook":
            run_notebook(args.name, ctx, book_root, extra)
        elif args.command == "train":
            extra = params.parse_params(None, args.params)
            if extra and len(args.names) != 1:
                raise ConfigError("PARAMS sets one notebook's parameters; name exactly one notebook to train")
            return train_runs(ctx, args.names or NOTEBOOKS, extra)
        else:
            print(f"book: {layout.build_book(book_root) / 'index.html'}", flush=True)
    return 0
