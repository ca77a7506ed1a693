"""Execute the notebooks with papermill and build the Jupyter Book: what `make report` runs.

    python -m gen_core.book report --profile quick     # train (or load), execute, build: one process
    python -m gen_core.book build                      # build from the executed notebooks there

`make report` runs the same steps as separate commands, so `make -j N report` executes the
six chapter notebooks N at a time (their runs are disjoint; the shared classifier and any
run two processes want are guarded by file locks), then the comparison, then the book:

    python -m gen_core.book prepare                    # validate, stage, check data
    python -m gen_core.book notebook gan_mnist         # one notebook, if anything it depends on changed
    python -m gen_core.book notebook gan_mnist -p mlp_a_latents "[17]" -p overrides "{lr: 1e-4}"
    python -m gen_core.book finish                     # build the profile's book

A notebook is executed again only when its fingerprint changed: its source, the library's
code, its parameters, or the results of the runs it read last time (for the comparison: every
chapter's runs). The fingerprint of its last execution is kept under <book>/_build/stamps/.
FORCE=1 always executes (and retrains).

The quick and full profiles write executed notebooks into book/experiments/, the
published book. The smoke profile never does: it stages a copy of the book under
_build/smoke/ and executes and builds there.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

# Light imports only: deciding that a notebook is up to date must not pay for importing torch.
from .config import PROFILES, parse_force
from .digest import files_digest
from .errors import ConfigError, DataError
from .workers import INTERRUPTED

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
# The experiment pages in the table of contents' order: one chapter per family x dataset, then the comparison.
NOTEBOOKS = re.findall(r"book/experiments/(\w+)", (ROOT / "_toc.yml").read_text())
CHAPTERS = [name for name in NOTEBOOKS if name != "comparison"]
EXECUTED = Path("book") / "experiments"          # relative to a book root
PROVENANCE = EXECUTED / "provenance.json"
STAMPS = Path("_build") / "stamps"
RESOLVED_PROFILE = ROOT / "_build" / "profile"   # what `prepare` resolved PROFILE to; make passes it on


class BookError(RuntimeError):
    """A notebook failed or the book did not build; the message names which and where to look."""


def stage_smoke_book(dest: Path) -> Path:
    """The book sources copied under `dest`, so smoke outputs never touch book/experiments.

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


def ensure_data(data_dir: Path) -> None:
    """Both datasets' files are in data_dir, or torchvision downloads them, or DataError."""
    from .config import DATASETS
    from .data import ensure_downloaded

    for name in DATASETS:
        ensure_downloaded(name, data_dir)


def execute_notebook(name: str, book_root: Path, parameters: dict) -> Path:
    """notebooks/<name>.py -> <book_root>/book/experiments/<name>.ipynb, executed by papermill."""
    import jupytext
    import papermill

    source = NOTEBOOK_DIR / f"{name}.py"
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
    One build at a time per book (a file lock).
    """
    from .store import file_lock, lock_path

    missing = [name for name in NOTEBOOKS if not _executed(book_root, name).exists()]
    if missing:
        raise BookError(f"the book at {book_root} lacks the executed notebooks {', '.join(missing)}; "
                        f"make report (with this PROFILE) executes every notebook")
    with file_lock(lock_path(book_root, "build")):
        return _build(book_root, strict)


def _build(book_root: Path, strict: bool) -> Path:
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


def _context(profile: str, data_dir: str, runs_dir: str, force):
    from .runs import setup

    return setup(profile, data_dir, runs_dir, force)          # validates before anything trains


def prepare(profile: str, data_dir: str, runs_dir: str, force, smoke_dir=ROOT / "_build" / "smoke"):
    """Everything before the first notebook: parameters, the smoke stage, the data."""
    ctx = _context(profile, data_dir, runs_dir, force)
    book_root = stage_smoke_book(Path(smoke_dir)) if ctx.profile == "smoke" else ROOT
    RESOLVED_PROFILE.parent.mkdir(parents=True, exist_ok=True)
    RESOLVED_PROFILE.write_text(ctx.profile + "\n")
    ensure_data(Path(data_dir))                             # a data problem is one line, before any kernel
    print(f"report: profile {ctx.profile} on {ctx.device}, data {data_dir}, runs {runs_dir}", flush=True)
    (book_root / EXECUTED).mkdir(parents=True, exist_ok=True)
    return ctx, book_root


# ---- notebook parameters from the command line ---------------------------------------------------

def _yaml_loader():
    """YAML's safe loader, also reading 1e-4 as a float (YAML 1.1 wants 1.0e-4 and reads "1e-4" as text)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                                 re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"), list("-+0123456789."))
    return Loader


def parse_value(text: str):
    """A -p VALUE as papermill reads one: a Python literal, else YAML ("{lr: 1e-4}"), else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    import yaml

    try:
        value = yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError:
        return text
    return text if value is None and text.strip() not in ("", "~", "null", "None") else value


def parse_params(pairs: list[list[str]] | None, mapping: str | None = None) -> dict:
    """-p KEY VALUE pairs (repeatable) and a PARAMS mapping ("{mlp_a_latents: [17]}") as one dict."""
    out = {}
    if mapping and mapping.strip():
        value = parse_value(mapping)
        if not isinstance(value, dict):
            raise ConfigError(f"PARAMS={mapping!r} is not allowed; expected a mapping such as "
                              "'{mlp_a_latents: [17], epochs: 2}'")
        out.update(value)
    for key, text in pairs or []:
        out[key] = parse_value(text)
    return out


def check_params(name: str, params: dict) -> None:
    """Every parameter exists in notebook `name`, and the chapter's experiment accepts the values."""
    from .report import experiment

    own = experiment.parameter_names(name)[len(experiment.COMMON):]
    for key, variable in (("profile", "PROFILE"), ("data_dir", "GEN_DATA_DIR"), ("runs_dir", "GEN_RUNS_DIR"),
                          ("force", "FORCE")):
        if key in params:
            raise ConfigError(f"parameter {key!r} is set by {variable} (or --{key.replace('_', '-')}), not by -p or "
                              f"PARAMS; " + (f"expected one of {', '.join(own)}" if own else
                                             f"notebook {name} takes no other parameters"))
    experiment.check_names(name, params)
    if name != "comparison":
        family, _, dataset = name.rpartition("_")
        experiment.chapter(family, dataset, **params)


# ---- fingerprints: execute a notebook only when something it depends on changed -------------

def _digest(paths, names: bool = False) -> str:
    """sha256 of the files' contents (and their paths relative to the repository, if `names`)."""
    return files_digest(paths, ROOT if names else None)


def library_digest() -> str:
    """The gen_core sources a notebook's output may depend on (not the bench or the training CLI)."""
    sources = [p for p in sorted((ROOT / "gen_core").rglob("*.py")) if p.name not in ("bench.py", "__main__.py")]
    return _digest(sources, names=True)


def _sources(name: str, parameters: dict) -> dict:
    """What the notebook is executed from: its source, the library, its parameters. FORCE is not
    one of them: it decides whether to execute, not what comes out."""
    return {"notebook": _digest([NOTEBOOK_DIR / f"{name}.py"]), "library": library_digest(),
            "parameters": json.loads(json.dumps({k: v for k, v in parameters.items() if k != "force"},
                                                sort_keys=True, default=str))}


def _runs(name: str, parameters: dict) -> dict:
    """The results it read: per chapter (a chapter: its own; the comparison: every chapter's), the
    run folders it used last time, a digest of their results files, and the finished folders of
    the same configurations (another seed landing there, from a cluster say, is a change)."""
    from .report.manifest import used_run_dirs

    out = {}
    for chapter in CHAPTERS if name == "comparison" else [name]:
        dirs = used_run_dirs(parameters["runs_dir"], parameters["profile"], chapter) or []
        out[chapter] = {"runs": [d.name for d in dirs],
                        "results": _digest(d / f for d in dirs for f in ("summary.json", "yardstick.json")),
                        "found": other_seeds(dirs)}
    return out


def other_seeds(run_dirs: list[Path]) -> list[str]:
    """The finished folders beside `run_dirs` that hold another seed of one of their configurations
    (read from config.json, without torch): a chapter uses those too."""
    from .store import same_configuration

    def without_seed(run_dir: Path):
        try:
            config = json.loads((run_dir / "config.json").read_text())["config"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return json.dumps({**config, "seed": None}, sort_keys=True)

    wanted = {without_seed(d) for d in run_dirs} - {None}
    siblings = {p.parent for d in run_dirs for p in d.parent.glob(f"{same_configuration(d.name)}*/summary.json")}
    return sorted(p.name for p in siblings if p not in run_dirs and without_seed(p) in wanted)


def _stamp(book_root: Path, name: str) -> Path:
    return book_root / STAMPS / f"{name}.json"


def _executed(book_root: Path, name: str) -> Path:
    return book_root / EXECUTED / f"{name}.ipynb"


def up_to_date(name: str, book_root: Path, parameters: dict) -> bool:
    """Executed before from the same sources and parameters, reading the same results, and its
    executed notebook is the one that execution wrote. Never under FORCE=1."""
    out = _executed(book_root, name)
    if parameters["force"] or not out.exists():
        return False
    try:
        stamp = json.loads(_stamp(book_root, name).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {**_sources(name, parameters), "runs": _runs(name, parameters), "output": _digest([out])}


def _parameters(profile: str, data_dir, runs_dir, force: bool, params: dict) -> dict:
    return {"profile": profile, "data_dir": str(Path(data_dir)), "runs_dir": str(Path(runs_dir)), "force": force,
            **params}


def _tag(name: str) -> str:
    return f"[{NOTEBOOKS.index(name) + 1}/{len(NOTEBOOKS)}] {name}"


def skip_if_up_to_date(name: str, profile: str, data_dir, runs_dir, force, params: dict, smoke_dir) -> bool:
    """The fast path of `notebook NAME`, before torch is imported: True (and a line) if nothing
    it depends on changed. Unsure (an unknown notebook, PROFILE=auto, a bad FORCE) is False, and
    the full path decides. (make passes the profile `prepare` resolved, so auto is rare here.)"""
    if name not in NOTEBOOKS or profile not in PROFILES:
        return False
    try:
        force = parse_force(force)
    except ConfigError:
        return False
    if up_to_date(name, book_root_for(profile, smoke_dir), _parameters(profile, data_dir, runs_dir, force, params)):
        print(f"{_tag(name)}: up to date", flush=True)
        return True
    return False


def run_notebook(name: str, ctx, book_root: Path, params: dict | None = None) -> Path:
    """Execute notebook `name` with the context and `params` (its own parameters), unless up to date.

    One process at a time per notebook and book (a file lock): a second `make` waits, then finds
    it up to date.
    """
    from .report.provenance import write_provenance
    from .store import file_lock, lock_path, write_json_atomic

    if name not in NOTEBOOKS:
        raise ConfigError(f"notebook {name!r} is not allowed; expected one of {', '.join(NOTEBOOKS)}")
    params = params or {}
    check_params(name, params)                              # before anything trains
    parameters = _parameters(ctx.profile, ctx.data_dir, ctx.runs_dir, ctx.force, params)
    with file_lock(lock_path(book_root, f"notebook-{name}")):
        if up_to_date(name, book_root, parameters):
            print(f"{_tag(name)}: up to date", flush=True)
            return _executed(book_root, name)
        print(f"{_tag(name)}: running", flush=True)
        start = time.perf_counter()
        sources = _sources(name, parameters)               # before: an edit made meanwhile runs next time
        write_provenance(ctx, book_root / PROVENANCE)
        out = execute_notebook(name, book_root, parameters)
        write_json_atomic(_stamp(book_root, name), {**sources, "runs": _runs(name, parameters),
                                                    "output": _digest([out])})
        print(f"{_tag(name)}: done in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def notebook_defaults(name: str) -> dict:
    """The experiment parameters as notebooks/<name>.py's parameters cell sets them (edited there or
    not): each `key = <literal>` line of the cell. See `notebook_expressions` for the others."""
    return _parameters_cell(name)[0]


def notebook_expressions(name: str) -> list[str]:
    """The experiment parameters that notebooks/<name>.py's parameters cell sets to something other
    than a literal (`list(range(2, 9))`): only the notebook's kernel can tell their values."""
    return _parameters_cell(name)[1]


def _parameters_cell(name: str) -> tuple[dict, list[str]]:
    import jupytext
    from .report import experiment

    cell = next((c for c in jupytext.read(NOTEBOOK_DIR / f"{name}.py").cells
                 if "parameters" in c.metadata.get("tags", [])), None)
    own = set(experiment.parameter_names(name)) - set(experiment.COMMON)
    try:
        tree = ast.parse(cell.source if cell else "")
    except SyntaxError as err:
        raise ConfigError(f"notebooks/{name}.py: its parameters cell is not valid Python ({err.msg}, line "
                          f"{err.lineno} of the cell); fix the cell, then run again") from None
    literals, expressions = {}, set()
    plain = set()                   # the `key = <literal>` statements at the cell's top level
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) and node.value is not None else None
        if isinstance(target, ast.Name) and target.id in own:
            try:
                literals[target.id] = ast.literal_eval(node.value)
                plain.add(id(target))
            except Exception:       # ValueError, TypeError, RecursionError, ... : not a plain literal
                expressions.add(target.id)
    # any other use of a parameter (`epochs += 1`, `a, b = ...`, `if ...: epochs = 3`, `latents[0] = 8`,
    # `latents.append(9)`, `for epochs in ...`, `import x as epochs`, `def epochs()`) may change its value
    # in the notebook's kernel, so that value is left to the kernel
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used = [] if id(node) in plain else [node.id]
        elif isinstance(node, ast.alias):
            used = [(node.asname or node.name).split(".")[0]]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            used = [node.name]
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            used = node.names
        elif isinstance(node, (ast.MatchAs, ast.MatchStar, ast.MatchMapping)):
            used = [getattr(node, "name", None) or getattr(node, "rest", None)]
        else:
            used = []
        expressions.update(n for n in used if n in own)
    return {k: v for k, v in literals.items() if k not in expressions}, sorted(expressions)


def chapter_configs(name: str, profile: str, params: dict | None = None) -> list:
    """The runs notebook `name` shows at `profile`: its parameters cell, then `params` over it (the
    comparison has none of its own)."""
    from .report import experiment

    if name == "comparison":
        return []
    family, _, dataset = name.rpartition("_")
    return experiment.chapter(family, dataset, **{**notebook_defaults(name), **(params or {})}).configs(profile)


def train_runs(ctx, names, params: dict | None = None, workers: int | None = None) -> int:
    """Before the notebooks execute: every run they will show, trained and measured side by side in
    the worker pool (gen_core/workers.py), so the notebooks only read results. With one worker (a GPU,
    GEN_WORKERS=1) or FORCE=1 the notebooks train their runs in their kernels instead. Returns 1
    if a run failed."""
    from .workers import default_workers, pending, train_in_pool

    params = params or {}
    for name in names:
        if name not in NOTEBOOKS:
            raise ConfigError(f"notebook {name!r} is not allowed; expected one of {', '.join(NOTEBOOKS)}")
        if params:
            check_params(name, params)
    workers = default_workers(ctx.device) if workers is None else workers
    if workers == 1 or ctx.force:
        print(f"train: the notebooks train their runs ({'FORCE=1' if ctx.force else 'one worker'})", flush=True)
        return 0
    names = list(names)
    for name in list(names):
        unknown = [key for key in notebook_expressions(name) if key not in params]
        if unknown:
            print(f"train: notebooks/{name}.py sets {', '.join(unknown)} with an expression; its notebook trains "
                  f"its runs", flush=True)
            names.remove(name)
    configs = list(dict.fromkeys(c for name in names for c in chapter_configs(name, ctx.profile, params)))
    if len(pending(configs, ctx.runs_dir, measure=True, force=False)) == 1:
        print("train: one run to train: its notebook trains it, with every thread", flush=True)
        return 0
    return train_in_pool(configs, ctx.profile, ctx.data_dir, ctx.runs_dir, workers)


def report(profile: str, data_dir: str, runs_dir: str, force, notebooks=None,
           smoke_dir: Path = ROOT / "_build" / "smoke") -> Path:
    names = notebooks or NOTEBOOKS
    unknown = sorted(set(names) - set(NOTEBOOKS))
    if unknown:
        raise ConfigError(f"notebook {unknown[0]!r} is not allowed; expected one of {', '.join(NOTEBOOKS)}")
    ctx, book_root = prepare(profile, data_dir, runs_dir, force, smoke_dir)
    if train_runs(ctx, names):
        raise BookError("some runs failed to train (their errors are above); fix them and run the same command again")
    for name in names:
        run_notebook(name, ctx, book_root)
    html = build_book(book_root)
    print(f"book: {html / 'index.html'}", flush=True)
    return html


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=os.environ.get("PROFILE", "auto"))
    parser.add_argument("--data-dir", default=os.environ.get("GEN_DATA_DIR", "data"))
    parser.add_argument("--runs-dir", default=os.environ.get("GEN_RUNS_DIR", "runs"))
    # FORCE goes to session.setup as written, which accepts 0/1/true/false and names anything else
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
    _report_args(sub.add_parser("prepare", help="validate, stage the smoke book, check the data"))
    one = sub.add_parser("notebook", help="execute one notebook (after prepare) if anything it depends on changed")
    one.add_argument("name", help=", ".join(NOTEBOOKS))
    one.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("KEY", "VALUE"),
                     help="set one of the notebook's parameters; VALUE is a Python or YAML literal (repeatable)")
    one.add_argument("--params", default=os.environ.get("PARAMS", ""),
                     help="a mapping of the notebook's parameters, e.g. '{mlp_a_latents: [17]}' (make's PARAMS)")
    _report_args(one)
    trn = sub.add_parser("train", help="train and measure the notebooks' runs in the worker pool (after prepare)")
    trn.add_argument("names", nargs="*", help="notebooks whose runs to train (default: all)")
    trn.add_argument("--params", default=os.environ.get("PARAMS", ""),
                     help="the parameters of the one notebook named (make's PARAMS)")
    _report_args(trn)
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
        if args.command == "notebook":
            extra = parse_params(args.parameter, args.params)
            if skip_if_up_to_date(args.name, *params, extra, args.smoke_dir):
                return 0
        if args.command == "report":
            report(*params, args.notebook, args.smoke_dir)
        elif args.command == "prepare":
            prepare(*params, args.smoke_dir)
        else:
            ctx = _context(*params)
            book_root = book_root_for(ctx.profile, args.smoke_dir)
            if args.command == "notebook":
                run_notebook(args.name, ctx, book_root, extra)
            elif args.command == "train":
                extra = parse_params(None, args.params)
                if extra and len(args.names) != 1:
                    raise ConfigError("PARAMS sets one notebook's parameters; name exactly one notebook to train")
                return train_runs(ctx, args.names or NOTEBOOKS, extra)
            else:
                print(f"book: {build_book(book_root) / 'index.html'}", flush=True)
    except (ConfigError, DataError, BookError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
