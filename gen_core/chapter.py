"""What a chapter notebook calls: validated parameters, its runs, tables and findings text.

The findings are sentences built from the saved numbers, so the book's prose about
results always matches the run that produced the page.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import DATASETS, FAMILIES, ConfigError
from .grid import grid, resolve_profile, seeds
from .results import Run, default_device, load_or_train, report_problem
from .yardstick import CorruptRun, Reference, build_reference, measure_run

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
DATASET_TITLES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
FAMILY_TITLES = {"vae": "VAE", "gan": "GAN", "wgan": "WGAN"}
# md5 of the official CIFAR-10 test batch, to say in the banner which copy the run used.
_CIFAR_TEST_MD5 = "40351d587109b95175f43aff81a1287e"


def family_title(cfg) -> str:
    """VAE, GAN, WGAN, or WGAN-GP for the WGAN runs trained with a gradient penalty."""
    return "WGAN-GP" if cfg.gp else FAMILY_TITLES[cfg.family]


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


@functools.lru_cache(maxsize=4)
def _reference(dataset: str, profile: str, data_dir: str, runs_dir: str, device: str) -> Reference:
    first = grid("vae", dataset, profile)[0]          # N and the test set are the same for every run
    return build_reference(dataset, profile, first.n_eval_samples, first.test_size, data_dir, runs_dir, device)


def reference(dataset: str, ctx: Context) -> Reference:
    """The dataset's classifier (trained once per profile, cached) and the real-data floor."""
    return _reference(dataset, ctx.profile, str(ctx.data_dir), str(ctx.runs_dir), ctx.device)


def chapter_runs(family: str, dataset: str, ctx: Context) -> list[Run]:
    """Load or train every run (every seed) of one chapter's rows, each measured by the yardstick."""
    runs = [load_or_train(cfg, ctx.data_dir, ctx.runs_dir, ctx.device, force=ctx.force)
            for cfg in grid(family, dataset, ctx.profile)]
    ref = reference(dataset, ctx)
    for i, run in enumerate(runs):
        try:
            run.yardstick = measure_run(run, ref, ctx.device)
        except CorruptRun as err:              # reported, retrained, measured: never a crash
            report_problem(f"{err}; training it again")
            runs[i] = load_or_train(run.config, ctx.data_dir, ctx.runs_dir, ctx.device, force=True)
            runs[i].yardstick = measure_run(runs[i], ref, ctx.device)
    return runs


def first_seed(runs: list[Run]) -> list[Run]:
    """The seed-0 run of each configuration: the one whose curves and samples the figures show."""
    return [r for r in runs if r.config.seed == 0]


def _mean_std(values: list) -> tuple:
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return mean, std


def average_seeds(runs: list[Run]) -> list[Run]:
    """One Run per configuration: numbers averaged over its complete seeds, stds under "std".

    With one seed per configuration (quick, smoke) the runs come back unchanged.
    """
    groups: dict[str, list[Run]] = {}
    for run in runs:
        key = json.dumps({**run.config.to_dict(), "seed": None}, sort_keys=True)
        groups.setdefault(key, []).append(run)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        done = [r for r in group if not r.diverged]
        base = (done or group)[0]
        summary, yardstick, std = dict(base.summary), dict(base.yardstick), {}
        for target, source in ((summary, "summary"), (yardstick, "yardstick")):
            for key, value in list(target.items()):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    target[key], std[key] = _mean_std([getattr(r, source).get(key) for r in done])
        if "label_histogram" in yardstick and done:
            yardstick["label_histogram"] = [sum(h) / len(done) for h in
                                            zip(*(r.yardstick["label_histogram"] for r in done))]
        summary.update(seeds=len(group), seeds_diverged=len(group) - len(done), std=std)
        out.append(Run(base.config, base.dir, summary, base.history, yardstick))
    return out


def grid_table(ctx: Context, family: str, dataset: str) -> pd.DataFrame:
    """The chapter's runs as configured: architecture, latent size, optimizer, epochs, images."""
    rows = [{"variant": c.variant, "arch": c.arch, "z": c.latent_dim,
             "widths": str(c.hidden or c.channels), "critic": str(c.d_hidden or c.d_channels or "-"),
             "optimizer": f"{c.optimizer} {c.lr:g}", "batch": c.batch_size, "epochs": c.epochs,
             "train images": c.train_size or "all"} for c in grid(family, dataset, ctx.profile)]
    return pd.DataFrame(rows).set_index("variant")


_ESTIMATE = {"vae": ("loss", "train -ELBO"), "gan": ("jsd", "JSD estimate"), "wgan": ("emd", "EMD estimate")}
# Classifier-space numbers (yardstick.py), by the column name the tables give them.
YARDSTICK = {"fd": "FD", "precision": "precision", "recall": "recall",
             "classes_covered": "classes covered", "kl_to_uniform": "KL to uniform"}


def value(run: Run, key: str):
    """A run's number: yardstick keys from the classifier measures, the rest from its summary.

    (The summary also holds the training-time pixel-labeller coverage; the book uses the classifier's.)
    """
    return run.yardstick.get(key) if key in YARDSTICK else run.summary.get(key)


def _cell(run: Run, key: str, digits: int = 3):
    """The number for a table: plain with one seed, "mean ± std" over several."""
    v = value(run, key)
    if v is None or run.summary.get("seeds", 1) == 1:
        return None if v is None else round(v, digits)
    return f"{v:.{digits}g} ± {run.summary['std'].get(key, 0.0):.2g}"


def _status(run: Run) -> str:
    lost = run.summary.get("seeds_diverged", 0)
    return f"{run.summary['status']} ({lost} of {run.summary['seeds']} seeds diverged)" if lost else run.summary["status"]


def summary_table(runs: list[Run]) -> pd.DataFrame:
    """One row per configuration (mean ± std over seeds where there are several)."""
    rows = []
    for run in average_seeds(runs):
        c = run.config
        key, name = _ESTIMATE[c.family]
        final = run.summary["final_epoch"].get(key)          # the last epoch's mean (seed 0 when several)
        row = {"run": c.label, "status": _status(run), name: None if final is None else round(final, 3)}
        if c.family == "vae":
            row.update({"test -ELBO": _cell(run, "test_neg_elbo", 4), "test BCE": _cell(run, "test_bce", 4),
                        "test KL": _cell(run, "test_kl")})
        row.update({label: _cell(run, k) for k, label in YARDSTICK.items()})
        row.update({"sharpness / real": _cell(run, "sharpness_ratio"), "train s": _cell(run, "train_seconds", 0),
                    "images / s": _cell(run, "images_per_second", 0), "seeds": run.summary.get("seeds", 1)})
        rows.append(row)
    return pd.DataFrame(rows).set_index("run")


def diverged_notes(runs: list[Run]) -> str:
    notes = [f"- **{r.config.label} (seed {r.config.seed}) diverged** at epoch {r.summary['diverged_at'].get('epoch')}, "
             f"step {r.summary['diverged_at'].get('step')}: its curves stop there and it has no sample metrics."
             for r in runs if r.diverged]
    return "\n".join(notes)


# ---- findings: sentences from numbers ---------------------------------------------------------

def _fmt(x, digits=3):
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}g}"


def _plural(n, word: str, plural: str | None = None) -> str:
    return f"{_fmt(n)} {word if n == 1 else (plural or word + 's')}"


def _complete(runs):
    return [r for r in runs if not r.diverged and value(r, "fd") is not None]


def _score(run: Run, key: str) -> float | None:
    """Lower is better. Sharpness is best at a ratio of 1 (as sharp as real images), so it
    scores |log ratio|; the other keys (FD, losses, KL) score as they are."""
    v = value(run, key)
    if v is None:
        return None
    return abs(math.log(max(v, 1e-12))) if key == "sharpness_ratio" else v


def _latent_trend(runs: list[Run], key: str, label: str) -> list[str]:
    """Per variant with several latent sizes: does the metric improve as z grows?"""
    lines = []
    by_variant: dict[str, list[Run]] = {}
    for r in _complete(average_seeds(runs)):
        by_variant.setdefault(r.config.variant, []).append(r)
    for variant, group in by_variant.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.config.latent_dim)
        pairs = ", ".join(f"z={r.config.latent_dim}: {_fmt(value(r, key))}" for r in group)
        scores = [_score(r, key) for r in group]
        better = [b < a for a, b in zip(scores, scores[1:])]
        trend = ("improves with every step up in latent size" if all(better) else
                 "does not improve with latent size" if not any(better) else "does not change monotonically")
        lines.append(f"- {variant}: {label} {trend} ({pairs}).")
    return lines


def _red(text: str) -> str:
    return f'<span style="color:#c00">{text}</span>'


def classifier_sentence(dataset: str, ctx: Context) -> str:
    """The yardstick's classifier accuracy against its profile's floor (in red when below)."""
    s = reference(dataset, ctx).classifier.summary
    title = DATASET_TITLES[dataset]
    text = (f"The {s['arch']} classifier behind these numbers labels {s['test_accuracy']:.1%} of "
            f"{s['test_images']} real {title} test images correctly (trained for {_plural(s['epochs'], 'epoch')} on "
            f"{s['train_images']} training images; the {s['profile']} profile asks for at least {s['floor']:.0%}).")
    if s["below_floor"]:
        return _red(f"<b>Below its floor:</b> {text} Its features and labels are too weak to trust these numbers.")
    return text


def floor_sentence(dataset: str, ctx: Context) -> str:
    ref = reference(dataset, ctx)
    f = ref.floor
    return (f"{ref.n_samples} real {DATASET_TITLES[dataset]} training images measured against the test set, "
            f"exactly like a generator's samples, give FD {_fmt(f['fd'])}, precision {f['precision']:.2f} and "
            f"recall {f['recall']:.2f}: the best a perfect generator could expect at this N.")


def _collapse_lines(runs: list[Run]) -> list[str]:
    """Coverage of every run; the MLP runs are checked against the reports' collapse."""
    lines = []
    for r in _complete(average_seeds(runs)):
        covered = value(r, "classes_covered")
        collapsed = covered <= 6
        state = "collapsed onto a few classes" if collapsed else "covers most classes"
        if r.config.arch == "mlp":
            state += (", which agrees with the reports" if collapsed else ", which does not reproduce the reports' collapse")
        lines.append(f"- {r.config.label} covers {_fmt(covered)} of 10 classes (KL to uniform "
                     f"{_fmt(value(r, 'kl_to_uniform'))} nats, recall {value(r, 'recall'):.2f}): it {state}.")
    return lines


def _conv_vs_mlp(runs: list[Run], key: str, label: str) -> str | None:
    done = [r for r in _complete(average_seeds(runs)) if value(r, key) is not None]
    mlp = [r for r in done if r.config.arch == "mlp"]
    conv = [r for r in done if r.config.arch == "conv"]
    if not mlp or not conv:
        return None
    best_mlp = min(mlp, key=lambda r: _score(r, key))
    best_conv = min(conv, key=lambda r: _score(r, key))
    conv_wins = _score(best_conv, key) < _score(best_mlp, key)
    verdict = "the convolutional model is better" if conv_wins else "the MLP is as good or better"
    return (f"On {label}, {verdict}: best conv ({best_conv.config.label}) {_fmt(value(best_conv, key))} "
            f"against best MLP ({best_mlp.config.label}) {_fmt(value(best_mlp, key))}.")


def _estimate_trend(runs: list[Run], key: str, name: str) -> list[str]:
    lines = []
    for r in first_seed(_complete(runs)):
        per_epoch = r.history["epochs"].get(key, [])
        if len(per_epoch) >= 2:
            direction = "fell" if per_epoch[-1] < per_epoch[0] else "rose"
            lines.append(f"- {r.config.label}: the {name} {direction} from {_fmt(per_epoch[0])} "
                         f"in epoch 1 to {_fmt(per_epoch[-1])} in epoch {len(per_epoch)}.")
    return lines


def seeds_sentence(ctx: Context) -> str:
    n = seeds(ctx.profile)
    return (f"Every configuration ran with {n} seeds; tables show mean ± standard deviation." if n > 1 else
            f"The {ctx.profile} profile trains each configuration once (seed 0), so the tables carry no error bars: "
            f"differences smaller than a few percent may be noise.")


def findings(family: str, dataset: str, runs: list[Run], ctx: Context) -> str:
    """Markdown: the chapter's results, checked against the reference reports' findings."""
    if family not in FAMILIES or dataset not in DATASETS:
        raise ConfigError(f"findings for {family}/{dataset}: expected a family in {FAMILIES} and a dataset in {DATASETS}")
    out = [classifier_sentence(dataset, ctx) + " " + floor_sentence(dataset, ctx) + " " + seeds_sentence(ctx), ""]
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.**", notes, ""]
    out.append("**Latent size.** Frechet distance in the classifier's feature space (lower is better), "
               "per architecture:")
    out += _latent_trend(runs, "fd", "FD")
    if family == "vae":
        out.append("\n**Latent size against the test ELBO.** Test negative ELBO (nats per image, lower is better):")
        out += _latent_trend(runs, "test_neg_elbo", "the test -ELBO")
        out.append("\n**Latent size against sharpness.** Sharpness of samples relative to real images "
                   "(1 is as sharp as the test set; closer to 1 counts as better):")
        out += _latent_trend(runs, "sharpness_ratio", "sharpness")
    else:
        key, name = ("jsd", "JSD estimate") if family == "gan" else ("emd", "EMD estimate")
        out.append(f"\n**The {name} over training.**")
        out += _estimate_trend(runs, key, name)
        out.append("\n**Mode collapse.** The reference reports saw their MLP GAN produce only a few "
                   "digit classes. Under the classifier, in our run:")
        out += _collapse_lines(runs)
    if family == "wgan":
        out += ["", clip_vs_gp_sentence(runs)]
    if dataset == "cifar10":
        line = _conv_vs_mlp(runs, "fd", "FD")
        if line:
            out.append(f"\n**CIFAR-10 is hard for MLPs.** The reports found MLPs struggle on CIFAR-10. {line[0].upper()}{line[1:]}")
    return "\n".join(out)


def clip_and_gp(runs: list[Run]) -> list[Run]:
    """The DC-WGAN run with weight clipping and the WGAN-GP run of the same latent size (seed 0)."""
    gp = [r for r in runs if r.config.gp and r.config.seed == 0]
    if not gp:
        return []
    clipped = [r for r in runs if r.config.variant == "DC-WGAN" and r.config.latent_dim == gp[0].config.latent_dim
               and r.config.seed == 0]
    return clipped[:1] + gp[:1]


def clip_vs_gp_sentence(runs: list[Run]) -> str:
    """Markdown: weight clipping against the gradient penalty on the same DC-WGAN networks."""
    by_config = {json.dumps({**r.config.to_dict(), "seed": 0}, sort_keys=True): r for r in average_seeds(runs)}
    pair = [by_config[json.dumps({**r.config.to_dict(), "seed": 0}, sort_keys=True)] for r in clip_and_gp(runs)]
    head = "**Weight clipping against the gradient penalty.**"
    if len(pair) < 2:
        return f"{head} This grid has no DC-WGAN and WGAN-GP pair of one latent size to compare."
    clipped, gp = pair
    if clipped.diverged or gp.diverged or value(clipped, "fd") is None or value(gp, "fd") is None:
        lost = " and ".join(r.config.label for r in pair if r.diverged or value(r, "fd") is None)
        return f"{head} {lost} has no sample metrics (diverged), so the two cannot be compared here."
    better = gp if value(gp, "fd") < value(clipped, "fd") else clipped
    how = "the gradient penalty" if better is gp else "weight clipping"
    emd = gp.summary["final_epoch"].get("emd")
    return (f"{head} On the same networks and latent size (z={gp.config.latent_dim}), {how} gives the lower FD: "
            f"clipping {_fmt(value(clipped, 'fd'))} (precision {value(clipped, 'precision'):.2f}, recall "
            f"{value(clipped, 'recall'):.2f}, {_plural(value(clipped, 'classes_covered'), 'class', 'classes')}) against "
            f"the penalty {_fmt(value(gp, 'fd'))} (precision {value(gp, 'precision'):.2f}, recall "
            f"{value(gp, 'recall'):.2f}, {_plural(value(gp, 'classes_covered'), 'class', 'classes')}). The penalised "
            f"critic trained at {_fmt(value(gp, 'images_per_second'))} images/s against "
            f"{_fmt(value(clipped, 'images_per_second'))} for the clipped one: each critic step also differentiates "
            f"through the critic's gradient. Because the penalty holds the critic near 1-Lipschitz, its final EMD "
            f"estimate ({_fmt(emd)}) is on the scale of a Wasserstein-1 distance between images in [-1, 1]; the "
            f"clipped critic's estimate is scaled by an unknown constant.")


def reproduce_box(ctx: Context, notebook: str) -> str:
    """HTML for a "reproduce this page" box: the make command and the parameters this page ran with."""
    extra = "".join(f" {var}={value}" for var, value, default in
                    (("GEN_DATA_DIR", ctx.data_dir, Path("data")), ("GEN_RUNS_DIR", ctx.runs_dir, Path("runs")))
                    if Path(value) != default) + (" FORCE=1" if ctx.force else "")
    make = f"make report-{notebook} PROFILE={ctx.profile}{extra}"
    params = ", ".join(f"<code>{k} = {v!r}</code>" for k, v in
                       (("profile", ctx.profile), ("data_dir", str(ctx.data_dir)), ("runs_dir", str(ctx.runs_dir)),
                        ("force", ctx.force)))
    return (f'<div class="admonition tip"><p class="admonition-title">Reproduce this page</p>'
            f"<p>From a clone of the repository, <code>{make}</code> re-executes this notebook with the parameters "
            f"below, then <code>make book</code> renders it. Runs already in the runs folder are loaded, not "
            f"retrained; add <code>FORCE=1</code> to retrain them. <code>make report PROFILE={ctx.profile}</code> "
            f"rebuilds the whole book.</p><p>Parameters: {params}.</p></div>")


# ---- the comparison: every chapter side by side ---------------------------------------------

def all_runs(ctx: Context) -> list[Run]:
    """Every run of the grid. Never forced: with FORCE=1 the chapters have just retrained them."""
    ctx = dataclasses.replace(ctx, force=False)
    return [run for fam in FAMILIES for ds in DATASETS for run in chapter_runs(fam, ds, ctx)]


def comparison_frame(runs: list[Run], ctx: Context) -> pd.DataFrame:
    """Every configuration with numbers (seed means), one row each, for plots and ranking."""
    floors = {ds: reference(ds, ctx).floor["fd"] for ds in {r.config.dataset for r in runs}}
    rows = []
    for r in average_seeds(runs):
        c = r.config
        rows.append({"dataset": DATASET_TITLES[c.dataset], "family": family_title(c), "arch": c.arch,
                     "run": c.label, "z": c.latent_dim, "status": _status(r),
                     **{label: value(r, k) for k, label in YARDSTICK.items()},
                     "FD / floor": None if value(r, "fd") is None else value(r, "fd") / floors[c.dataset],
                     "test -ELBO": value(r, "test_neg_elbo"), "train s": value(r, "train_seconds"),
                     "images / s": value(r, "images_per_second"), "seeds": r.summary.get("seeds", 1)})
    return pd.DataFrame(rows)


def comparison_table(runs: list[Run], ctx: Context) -> pd.DataFrame:
    """The comparison frame grouped by dataset, best FD first, with ± std where there are seeds."""
    averaged = {(family_title(r.config), DATASET_TITLES[r.config.dataset], r.config.label): r
                for r in average_seeds(runs)}
    table = comparison_frame(runs, ctx).sort_values(["dataset", "FD"], na_position="last")
    table.insert(0, "rank", table.groupby("dataset").cumcount() + 1)
    for key, label in list(YARDSTICK.items()) + [("test_neg_elbo", "test -ELBO")]:
        table[label] = [_cell(averaged[(f, d, run)], key) for f, d, run in
                        zip(table["family"], table["dataset"], table["run"])]
    table["FD / floor"] = table["FD / floor"].round(1)
    table[["train s", "images / s"]] = table[["train s", "images / s"]].round(0)
    return table.drop(columns="z").set_index(["dataset", "rank"])


def best_per_family(runs: list[Run], dataset: str) -> list[Run]:
    """Per family, the configuration with the lowest FD (seed mean); its seed-0 run for samples."""
    best = []
    for fam in FAMILIES:
        done = [r for r in _complete(average_seeds(runs)) if r.config.family == fam and r.config.dataset == dataset]
        if done:
            best.append(min(done, key=lambda r: value(r, "fd")))
    return best


def collapse_extremes(runs: list[Run]) -> list[Run]:
    """The most collapsed and the most even run (KL of the label histogram to uniform), per dataset."""
    out = []
    for ds in DATASETS:
        done = [r for r in _complete(first_seed(runs)) if r.config.dataset == ds]
        if done:
            ranked = sorted(done, key=lambda r: value(r, "kl_to_uniform"))
            out += [ranked[-1], ranked[0]]
    return out


def _dataset_verdict(runs: list[Run], ds: str, ctx: Context) -> str:
    best = sorted(best_per_family(runs, ds), key=lambda r: value(r, "fd"))
    ref = reference(ds, ctx)
    listing = "; ".join(f"{FAMILY_TITLES[r.config.family]} {r.config.label}: FD {_fmt(value(r, 'fd'))} "
                        f"({_fmt(value(r, 'fd') / ref.floor['fd'])} × the real-data floor), precision "
                        f"{value(r, 'precision'):.2f}, recall {value(r, 'recall'):.2f}, "
                        f"{_plural(value(r, 'classes_covered'), 'class', 'classes')} covered" for r in best)
    lead = best[0]
    hedge = (" The classifier is below its floor, so this ranking is a hint, not a verdict."
             if ref.classifier.summary["below_floor"] else "")
    return (f"**Which family is best on {DATASET_TITLES[ds]}?** {classifier_sentence(ds, ctx)} "
            f"{floor_sentence(ds, ctx)} The best configuration of each family, by FD: {listing}. "
            f"The {FAMILY_TITLES[lead.config.family]} ({lead.config.label}) leads.{hedge}")


def _latent_summary(runs: list[Run]) -> list[str]:
    lines = []
    for fam in FAMILIES:
        for ds in DATASETS:
            trend = _latent_trend([r for r in runs if r.config.family == fam and r.config.dataset == ds], "fd", "FD")
            lines += [f"- {FAMILY_TITLES[fam]}, {DATASET_TITLES[ds]}, {line[2:]}" for line in trend]
    helped = sum("improves with every step" in line for line in lines)
    head = (f"**Do larger latents help?** In {helped} of {len(lines)} architectures with several latent sizes, "
            f"FD improves with every step up in latent size:")
    return [head] + lines


def _mlp_gan_collapse(runs: list[Run]) -> str | None:
    mlp_gans = [r for r in _complete(average_seeds(runs)) if r.config.family == "gan" and r.config.arch == "mlp"
                and r.config.dataset == "mnist"]
    if not mlp_gans:
        return None
    worst = min(mlp_gans, key=lambda r: value(r, "classes_covered"))
    covered = value(worst, "classes_covered")
    agree = ("agrees with" if covered <= 4 else "comes close to" if covered <= 6 else "does not reproduce")
    coverage = ", ".join(f"{r.config.label}: {_fmt(value(r, 'classes_covered'))} classes, recall "
                         f"{value(r, 'recall'):.2f}" for r in mlp_gans)
    return (f"**Does the MLP GAN collapse?** On MNIST the MLP GANs cover {coverage}. The least diverse "
            f"({worst.config.label}) covers {_fmt(covered)} of 10 classes, which {agree} the reports' collapse "
            f"onto 3 or 4 digits.")


def _conv_on_cifar(runs: list[Run]) -> list[str]:
    lines = []
    for fam in FAMILIES:
        line = _conv_vs_mlp([r for r in runs if r.config.family == fam and r.config.dataset == "cifar10"],
                            "fd", f"the CIFAR-10 {FAMILY_TITLES[fam]}'s FD")
        if line:
            lines.append(f"- {line}")
    wins = sum("convolutional model is better" in line for line in lines)
    return [f"**Does convolution matter on CIFAR-10?** The convolutional model has the lower FD in {wins} of "
            f"{len(lines)} families:"] + lines


def comparison_findings(runs: list[Run], ctx: Context) -> str:
    out = [seeds_sentence(ctx), ""]
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.** They are left out of the comparisons below.", notes, ""]
    for ds in DATASETS:
        if best_per_family(runs, ds):
            out += [_dataset_verdict(runs, ds, ctx), ""]
    out += _latent_summary(runs) + [""]
    collapse = _mlp_gan_collapse(runs)
    if collapse:
        out += [collapse, ""]
    out += _conv_on_cifar(runs)
    return "\n".join(out)


# Published Inception FIDs on CIFAR-10, quoted for context: another feature space, another N
# and reference set, so never on one scale with our FD. Each number names where it was read
# (Lucic et al.'s table via its reprint in Dai & Wipf 2019) and its evaluation setting.
PUBLISHED_CIFAR10_FIDS = [
    # (model, Inception FID, source, setting)
    ("DCGAN (CNN)", "49.03", "PyTorch-StudioGAN README, CIFAR10 benchmark",
     "10K generated vs the 10K test images; PyTorch Inception port"),
    ("WGAN-GP (ResNet)", "25.85", "PyTorch-StudioGAN README, CIFAR10 benchmark",
     "10K generated vs the 10K test images; PyTorch Inception port"),
    ("NS GAN (InfoGAN arch.)", "58.5 ± 1.9", "Lucic et al. 2018, as reprinted by Dai & Wipf 2019, Table 1",
     "best FID over a large hyperparameter search, mean ± std over restarts"),
    ("WGAN GP (InfoGAN arch.)", "55.8 ± 0.9", "Lucic et al. 2018, as reprinted by Dai & Wipf 2019, Table 1",
     "best FID over a large hyperparameter search, mean ± std over restarts"),
]


def published_fids() -> pd.DataFrame:
    """The published numbers above as a table, labelled as not comparable with this book's FD."""
    table = pd.DataFrame(PUBLISHED_CIFAR10_FIDS, columns=["model", "Inception FID (not comparable)", "source", "setting"])
    return table.set_index("model")
