"""Where a page's results came from (commit, data copy, device, date), and how to rebuild it."""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import subprocess
from pathlib import Path

from ..store import write_json_atomic
from .session import Context

# md5 of the official CIFAR-10 test batch, to say in the banner which copy the run used.
_CIFAR_TEST_MD5 = "40351d587109b95175f43aff81a1287e"
_ROOT = Path(__file__).resolve().parents[2]


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "gen_core", "notebooks"], cwd=_ROOT,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return sha + ("+uncommitted changes" if dirty else "")


def data_source(data_dir: Path) -> str:
    """The data folder and which copy it holds: "data (torchvision layout; official CIFAR-10 files)"."""
    test_batch = Path(data_dir) / "cifar-10-batches-py" / "test_batch"
    if not test_batch.exists():
        return f"{data_dir} (torchvision layout)"
    official = hashlib.md5(test_batch.read_bytes()).hexdigest() == _CIFAR_TEST_MD5
    kind = "official CIFAR-10 files" if official else "a re-encoded CIFAR-10 copy (not the official files)"
    return f"{data_dir} (torchvision layout; {kind})"


def training_record(profile: str, runs_dir) -> dict:
    """What trained the profile's grid runs that have finished in `runs_dir` (their summary.json):

        runs, trained     the grid's runs, and how many of them have finished
        machines          every machine that trained epochs of them (CPU model, threads, torch version),
                          in the order first met (gen_core/train.py: machine)
        bf16_runs         how many finished runs trained with bf16 autocast (RunConfig.amp)
        train_seconds     their wall seconds added up (summary.json's wall_seconds: each run's training, its
                          per-epoch work and its evaluation), one run after another (a pool of workers takes
                          less wall time), and cpu_seconds, their CPU seconds
    """
    from ..grid import full_grid
    from ..runs import read_summary

    configs = full_grid(profile)
    finished = [(c, s) for c in configs if (s := read_summary(Path(runs_dir) / c.run_name())) is not None]
    return {"runs": len(configs), "trained": len(finished),
            "machines": list(dict.fromkeys(m for _, s in finished for m in s.get("machines", []))),
            "bf16_runs": sum(c.amp for c, _ in finished),
            "train_seconds": sum(s.get("wall_seconds", 0.0) for _, s in finished),
            "cpu_seconds": sum(s.get("cpu_seconds", 0.0) for _, s in finished)}


def training_phrase(record: dict) -> str:
    """`training_record` as the banner says it (plain text): "trained on AMD EPYC (family 25 model 17; AVX-512),
    1 thread, torch 2.14.1; bf16 in 0 of 96 runs; 14.2 h of training, one run after another (96 of 96 runs)"."""
    from ..cost import duration

    if not record["trained"]:
        return f"no run of the {record['runs']} trained yet"
    machines = " and ".join(record["machines"]) or "machines not recorded"
    bf16 = "no bf16" if not record["bf16_runs"] else f"bf16 in {record['bf16_runs']} of {record['trained']} runs"
    return (f"trained on {machines}; {bf16}; {duration(record['train_seconds'])} of training, one run after "
            f"another ({record['trained']} of {record['runs']} runs)")


def provenance(ctx: Context) -> dict:
    return {"profile": ctx.profile, "device": ctx.device, "data": data_source(ctx.data_dir),
            "commit": git_commit(), "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "training": training_record(ctx.profile, ctx.runs_dir)}


def banner(prov: dict) -> str:
    """One Markdown line naming where the page's results came from. prov["data"] (data_source) starts with
    the data folder, often itself named "data": "data from the folder data (...)", never "data data"."""
    return (f"**Built from:** profile `{prov['profile']}` · device `{prov['device']}` · "
            f"data from the folder {prov['data']} · commit `{prov['commit']}` · {prov['date']} · "
            f"{training_phrase(prov['training'])}")


def write_provenance(ctx: Context, path: str | Path) -> dict:
    prov = provenance(ctx)
    write_json_atomic(Path(path), prov)             # parallel chapters write it too
    return prov


def make_command(ctx: Context, notebook: str, parameters: dict | None = None) -> str:
    """The command that re-executes `notebook` as it ran: profile, dirs, FORCE and changed parameters."""
    extra = "".join(f" {var}={value}" for var, value, default in
                    (("GEN_DATA_DIR", ctx.data_dir, Path("data")), ("GEN_RUNS_DIR", ctx.runs_dir, Path("runs")))
                    if Path(value) != default) + (" FORCE=1" if ctx.force else "")
    if parameters:
        extra += f" PARAMS='{json.dumps(parameters)}'"
    return f"make report-{notebook} PROFILE={ctx.profile}{extra}"


def reproduce_box(ctx: Context, notebook: str, parameters: dict | None = None) -> str:
    """HTML for a "reproduce this page" box: the make command and the parameters this page ran with.

    `parameters`: the notebook's experiment parameters that differ from its defaults.
    """
    make = html.escape(make_command(ctx, notebook, parameters))
    shown = {"profile": ctx.profile, "data_dir": str(ctx.data_dir), "runs_dir": str(ctx.runs_dir),
             "force": ctx.force, **(parameters or {})}
    params = ", ".join(f"<code>{k} = {html.escape(repr(v))}</code>" for k, v in shown.items())
    changed = (" The parameters after <code>force</code> differ from the notebook's defaults; <code>PARAMS</code> "
               "sets them." if parameters else "")
    return (f'<div class="admonition tip"><p class="admonition-title">Reproduce this page</p>'
            f"<p>From a clone of the repository, <code>{make}</code> re-executes this notebook with the parameters "
            f"below, then the comparison if this page's runs changed, then renders the book. Runs already in the "
            f"runs folder are loaded, not retrained; add <code>FORCE=1</code> to retrain them. "
            f"<code>make report PROFILE={ctx.profile}</code> rebuilds the whole book.</p>"
            f"<p>Parameters: {params}.{changed}</p></div>")
