"""What a chapter notebook calls: validated parameters, its runs, tables and findings text.

The findings are sentences built from the saved numbers, so the book's prose about
results always matches the run that produced the page.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import DATASETS, FAMILIES, ConfigError
from .grid import grid, resolve_profile
from .results import Run, default_device, labeller_accuracy, load_or_train

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
DATASET_TITLES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
FAMILY_TITLES = {"vae": "VAE", "gan": "GAN", "wgan": "WGAN"}
# md5 of the official CIFAR-10 test batch, to say in the banner which copy the run used.
_CIFAR_TEST_MD5 = "40351d587109b95175f43aff81a1287e"


@dataclass(frozen=True)
class Context:
    profile: str
    data_dir: Path
    runs_dir: Path
    force: bool
    device: str


def setup(profile: str = "auto", data_dir: str = "data", runs_dir: str = "runs", force=False) -> Context:
    """Validate a notebook's flat parameters into one Context (ConfigError on bad input)."""
    for key, value in (("data_dir", data_dir), ("runs_dir", runs_dir)):
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            raise ConfigError(f"{key}={value!r} is not allowed; expected a directory path")
    if isinstance(force, str):
        force = force.strip().lower()
        if force not in ("", "0", "1", "true", "false"):
            raise ConfigError(f"force={force!r} is not allowed; expected true/false or 1/0")
        force = force in ("1", "true")
    return Context(resolve_profile(profile), Path(data_dir), Path(runs_dir), bool(force), str(default_device()))


def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "gen_core", "notebooks"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return sha + ("+uncommitted changes" if dirty else "")


def data_source(data_dir: Path) -> str:
    test_batch = Path(data_dir) / "cifar-10-batches-py" / "test_batch"
    if not test_batch.exists():
        return f"{data_dir} (torchvision layout)"
    official = hashlib.md5(test_batch.read_bytes()).hexdigest() == _CIFAR_TEST_MD5
    kind = "official CIFAR-10 files" if official else "a re-encoded CIFAR-10 copy (not the official files)"
    return f"{data_dir} (torchvision layout; {kind})"


def provenance(ctx: Context) -> dict:
    return {"profile": ctx.profile, "device": ctx.device, "data": data_source(ctx.data_dir),
            "commit": _git_commit(), "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def banner(prov: dict) -> str:
    """One Markdown line naming where the page's results came from."""
    return (f"**Built from:** profile `{prov['profile']}` · device `{prov['device']}` · data {prov['data']} · "
            f"commit `{prov['commit']}` · {prov['date']}")


def write_provenance(ctx: Context, path: str | Path) -> dict:
    prov = provenance(ctx)
    Path(path).write_text(json.dumps(prov, indent=1))
    return prov


def chapter_runs(family: str, dataset: str, ctx: Context) -> list[Run]:
    """Load or train every run of one chapter's rows of the grid."""
    return [load_or_train(cfg, ctx.data_dir, ctx.runs_dir, ctx.device, force=ctx.force)
            for cfg in grid(family, dataset, ctx.profile)]


def grid_table(ctx: Context, family: str, dataset: str) -> pd.DataFrame:
    """The chapter's runs as configured: architecture, latent size, optimizer, epochs, images."""
    rows = [{"variant": c.variant, "arch": c.arch, "z": c.latent_dim,
             "widths": str(c.hidden or c.channels), "critic": str(c.d_hidden or c.d_channels or "-"),
             "optimizer": f"{c.optimizer} {c.lr:g}", "batch": c.batch_size, "epochs": c.epochs,
             "train images": c.train_size or "all"} for c in grid(family, dataset, ctx.profile)]
    return pd.DataFrame(rows).set_index("variant")


_ESTIMATE = {"vae": ("loss", "train -ELBO"), "gan": ("jsd", "JSD estimate"), "wgan": ("emd", "EMD estimate")}


def summary_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run: status, the family's own estimate, sample metrics and cost."""
    rows = []
    for run in runs:
        s, c = run.summary, run.config
        key, name = _ESTIMATE[c.family]
        row = {"run": c.label, "status": s["status"], name: s["final_epoch"].get(key)}
        if c.family == "vae":
            row.update({"test -ELBO": s.get("test_neg_elbo"), "test BCE": s.get("test_bce"),
                        "test KL": s.get("test_kl")})
        row.update({"sharpness / real": s.get("sharpness_ratio"), "classes covered": s.get("classes_covered"),
                    "KL to uniform": s.get("kl_to_uniform"), "train s": round(s["train_seconds"]),
                    "images / s": round(s["images_per_second"])})
        rows.append(row)
    return pd.DataFrame(rows).set_index("run").round(3)


def diverged_notes(runs: list[Run]) -> str:
    notes = [f"- **{r.config.label} diverged** at epoch {r.summary['diverged_at'].get('epoch')}, "
             f"step {r.summary['diverged_at'].get('step')}: its curves stop there and it has no sample metrics."
             for r in runs if r.diverged]
    return "\n".join(notes)


# ---- findings: sentences from numbers ---------------------------------------------------------

def _fmt(x, digits=3):
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}g}"


def _complete(runs):
    return [r for r in runs if not r.diverged]


def _score(run: Run, key: str) -> float | None:
    """Lower is better. Sharpness is best at a ratio of 1 (as sharp as real images), so it
    scores |log ratio|; the other keys (losses, KL) score as they are."""
    value = run.summary.get(key)
    if value is None:
        return None
    return abs(math.log(max(value, 1e-12))) if key == "sharpness_ratio" else value


def _latent_trend(runs: list[Run], key: str, label: str) -> list[str]:
    """Per variant with several latent sizes: does the metric improve as z grows?"""
    lines = []
    by_variant: dict[str, list[Run]] = {}
    for r in _complete(runs):
        by_variant.setdefault(r.config.variant, []).append(r)
    for variant, group in by_variant.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.config.latent_dim)
        vals = [r.summary.get(key) for r in group]
        pairs = ", ".join(f"z={r.config.latent_dim}: {_fmt(v)}" for r, v in zip(group, vals))
        scores = [_score(r, key) for r in group]
        better = [b < a for a, b in zip(scores, scores[1:])]
        trend = ("improves with every step up in latent size" if all(better) else
                 "does not improve with latent size" if not any(better) else "does not change monotonically")
        lines.append(f"- {variant}: {label} {trend} ({pairs}).")
    return lines


def labeller_sentence(dataset: str, ctx: Context) -> tuple[float, str]:
    acc = labeller_accuracy(dataset, ctx.data_dir, grid("vae", dataset, ctx.profile)[0].test_size, ctx.device)
    trust = ("good enough to read class coverage from" if acc >= 0.9 else
             "too weak for its class coverage to mean much; read it as a rough hint only")
    return acc, (f"The pixel-space 1-nearest-neighbour labeller behind the coverage numbers labels "
                 f"{acc:.1%} of real {DATASET_TITLES[dataset]} test images correctly: {trust}.")


def _collapse_lines(runs: list[Run]) -> list[str]:
    """Coverage of every run; the MLP runs are checked against the reports' collapse."""
    lines = []
    for r in _complete(runs):
        covered = r.summary.get("classes_covered")
        collapsed = covered is not None and covered <= 6
        state = "collapsed onto a few classes" if collapsed else "covers most classes"
        if r.config.arch == "mlp":
            state += (", which agrees with the reports" if collapsed else ", which does not reproduce the reports' collapse")
        lines.append(f"- {r.config.label} covers {covered} of 10 classes "
                     f"(KL to uniform {_fmt(r.summary.get('kl_to_uniform'))} nats): it {state}.")
    return lines


def _conv_vs_mlp(runs: list[Run], key: str, label: str) -> str | None:
    done = [r for r in _complete(runs) if r.summary.get(key) is not None]
    mlp = [r for r in done if r.config.arch == "mlp"]
    conv = [r for r in done if r.config.arch == "conv"]
    if not mlp or not conv:
        return None
    best_mlp = min(mlp, key=lambda r: _score(r, key))
    best_conv = min(conv, key=lambda r: _score(r, key))
    conv_wins = _score(best_conv, key) < _score(best_mlp, key)
    verdict = "The convolutional model is better" if conv_wins else "The MLP is as good or better"
    return (f"{verdict} on {label}: best conv ({best_conv.config.label}) {_fmt(best_conv.summary[key])} "
            f"against best MLP ({best_mlp.config.label}) {_fmt(best_mlp.summary[key])}.")


def _estimate_trend(runs: list[Run], key: str, name: str) -> list[str]:
    lines = []
    for r in _complete(runs):
        per_epoch = r.history["epochs"].get(key, [])
        if len(per_epoch) >= 2:
            direction = "fell" if per_epoch[-1] < per_epoch[0] else "rose"
            lines.append(f"- {r.config.label}: the {name} {direction} from {_fmt(per_epoch[0])} "
                         f"in epoch 1 to {_fmt(per_epoch[-1])} in epoch {len(per_epoch)}.")
    return lines


def findings(family: str, dataset: str, runs: list[Run], ctx: Context) -> str:
    """Markdown: the chapter's results, checked against the reference reports' findings."""
    if family not in FAMILIES or dataset not in DATASETS:
        raise ConfigError(f"findings for {family}/{dataset}: expected a family in {FAMILIES} and a dataset in {DATASETS}")
    out = []
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.**", notes, ""]
    if family == "vae":
        out.append("**Latent size.** Test negative ELBO (lower is better), per architecture:")
        out += _latent_trend(runs, "test_neg_elbo", "the test -ELBO")
        out.append("\n**Latent size against sharpness.** Sharpness of samples relative to real images "
                   "(1 is as sharp as the test set; closer to 1 counts as better):")
        out += _latent_trend(runs, "sharpness_ratio", "sharpness")
        if dataset == "cifar10":
            line = _conv_vs_mlp(runs, "test_neg_elbo", "test -ELBO")
            out.append(f"\n**CIFAR-10 is hard for MLPs.** {line} The reports found MLPs struggle on CIFAR-10.")
    else:
        key, name = ("jsd", "JSD estimate") if family == "gan" else ("emd", "EMD estimate")
        out.append(f"**The {name} over training.**")
        out += _estimate_trend(runs, key, name)
        _, labeller = labeller_sentence(dataset, ctx)
        out.append(f"\n**Mode collapse.** The reference reports saw their MLP GAN produce only a few "
                   f"digit classes. {labeller} In our run:")
        out += _collapse_lines(runs)
        if dataset == "cifar10":
            line = _conv_vs_mlp(runs, "sharpness_ratio",
                                "sample sharpness relative to real images (closest to 1 is best)")
            if line:
                out.append(f"\n**CIFAR-10 is hard for MLPs.** {line}")
    return "\n".join(out)


# ---- the discussion: every chapter side by side ---------------------------------------------

def all_runs(ctx: Context) -> list[Run]:
    """Every run of the grid. Never forced: with FORCE=1 the chapters have just retrained them."""
    ctx = dataclasses.replace(ctx, force=False)
    return [run for fam in FAMILIES for ds in DATASETS for run in chapter_runs(fam, ds, ctx)]


def comparison_table(runs: list[Run]) -> pd.DataFrame:
    """Every run on the measurements that mean the same for all families, grouped by dataset."""
    rows = [{"dataset": DATASET_TITLES[r.config.dataset], "family": FAMILY_TITLES[r.config.family],
             "arch": r.config.arch, "run": r.config.label, "status": r.summary["status"],
             "classes covered": r.summary.get("classes_covered"), "KL to uniform": r.summary.get("kl_to_uniform"),
             "sharpness / real": r.summary.get("sharpness_ratio"), "train s": round(r.summary["train_seconds"]),
             "images / s": round(r.summary["images_per_second"])} for r in runs]
    table = pd.DataFrame(rows).sort_values(["dataset", "KL to uniform"], na_position="last")
    return table.set_index(["dataset", "family", "run"]).round(3)


def best_per_family(runs: list[Run], dataset: str) -> list[Run]:
    """Per family, the complete run whose samples are closest to uniform over the classes."""
    best = []
    for fam in FAMILIES:
        done = [r for r in _complete(runs) if r.config.family == fam and r.config.dataset == dataset]
        if done:
            best.append(min(done, key=lambda r: r.summary["kl_to_uniform"]))
    return best


def discussion_findings(runs: list[Run], ctx: Context) -> str:
    out = []
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.** They are left out of the comparisons below.", notes, ""]
    for ds in DATASETS:
        acc, labeller = labeller_sentence(ds, ctx)
        best = best_per_family(runs, ds)
        if not best:
            continue
        ranked = sorted(best, key=lambda r: r.summary["kl_to_uniform"])
        listing = "; ".join(f"{FAMILY_TITLES[r.config.family]} {r.config.label}: {r.summary['classes_covered']} "
                            f"classes, KL {_fmt(r.summary['kl_to_uniform'])}, sharpness "
                            f"{_fmt(r.summary['sharpness_ratio'])}" for r in ranked)
        lead = FAMILY_TITLES[ranked[0].config.family]
        hedge = "" if acc >= 0.9 else " With so weak a labeller this ranking is a hint, not a verdict."
        out.append(f"**{DATASET_TITLES[ds]}.** {labeller} Ranked by how evenly their samples spread over the "
                   f"classes, the best run of each family is: {listing}. By this measure the {lead} leads.{hedge}")
        out.append("")
    collapsed = [r for r in _complete(runs) if r.config.family == "gan" and r.config.arch == "mlp"
                 and r.config.dataset == "mnist"]
    if collapsed:
        worst = min(collapsed, key=lambda r: r.summary["classes_covered"])
        agree = "agrees with" if worst.summary["classes_covered"] <= 6 else "does not reproduce"
        out.append(f"**Mode collapse.** The least diverse MLP GAN on MNIST ({worst.config.label}) covers "
                   f"{worst.summary['classes_covered']} of 10 classes, which {agree} the reports' collapse "
                   f"onto 3 or 4 digits.")
    vae_c = [r for r in _complete(runs) if r.config.family == "vae" and r.config.dataset == "mnist"
             and r.config.variant == "MLP C"]
    if len(vae_c) >= 2:
        out.append("\n**Larger latents.** For the MNIST VAE MLP C:")
        out += _latent_trend(vae_c, "test_neg_elbo", "the test -ELBO")
        out += _latent_trend(vae_c, "sharpness_ratio", "sharpness")
    cifar_vae = [r for r in runs if r.config.family == "vae" and r.config.dataset == "cifar10"]
    line = _conv_vs_mlp(cifar_vae, "test_neg_elbo", "the CIFAR-10 VAE's test -ELBO")
    if line:
        out.append(f"\n**Convolution on CIFAR-10.** {line}")
    return "\n".join(out)
