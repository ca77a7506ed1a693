"""Tables (pandas) of a chapter's configs and runs, and of every run side by side."""
from __future__ import annotations

import pandas as pd

from .. import families
from ..config import RunConfig
from ..data import DATASET_TITLES
from ..results import Run
from .intervals import fmt
from .runsets import YARDSTICK, average_seeds, estimate, family_title, still_improving, unmeasurable, value


def grid_table(configs: list[RunConfig]) -> pd.DataFrame:
    """The chapter's runs as configured: architecture, latent size, optimizer, epochs, images."""
    rows = [{"variant": c.variant, "arch": c.arch, "z": c.latent_dim,
             "widths": str(c.hidden or c.channels), "critic": str(c.d_hidden or c.d_channels or "-"),
             "optimizer": f"{c.optimizer} {c.lr:g}", "batch": c.batch_size, "epochs": c.epochs,
             "train images": c.train_size or "all"} | ({"changed": c.changes} if c.changes else {})
            for c in configs if c.seed == 0]
    table = pd.DataFrame(rows).set_index("variant")
    return table.fillna("") if "changed" in table else table


def cell(run: Run, key: str, digits: int = 3):
    """The number for a table with its 95% interval: "value [lo, hi]" for one run, "mean ± std [lo, hi]"
    over several seeds (the interval of the mean, in the measure's range: intervals.seed_mean); the bare
    number where it has no interval."""
    e = estimate(run, key)
    if e is None:
        return None
    if run.summary.get("seeds", 1) > 1:
        text = f"{fmt(e.value, digits)} ± {fmt(run.summary['std'].get(key, 0.0), 2)}"
    elif not e.has_interval:
        return round(e.value, digits)
    else:
        text = fmt(e.value, digits)
    return f"{text} [{fmt(e.lo, digits)}, {fmt(e.hi, digits)}]" if e.has_interval else text


def status(run: Run) -> str:
    """"complete", "diverged", or "unmeasurable" (samples the yardstick could not measure); over seeds,
    how many were lost and why: "complete (1 of 3 seeds diverged, 1 unmeasurable)"."""
    own = "unmeasurable" if unmeasurable(run) is not None else run.summary["status"]
    lost = [(n, why) for n, why in ((run.summary.get("seeds_diverged", 0), "diverged"),
                                    (run.summary.get("seeds_unmeasurable", 0), "unmeasurable")) if n]
    words = [f"{n} of {run.summary['seeds']} seeds {why}" if i == 0 else f"{n} {why}"
             for i, (n, why) in enumerate(lost)]
    return f"{own} ({', '.join(words)})" if lost else own


def summary_table(runs: list[Run]) -> pd.DataFrame:
    """One row per configuration (mean ± std over seeds where there are several)."""
    rows = []
    for run in average_seeds(runs):
        c = run.config
        family = families.get(c.family)
        key, name = family.estimate
        final = run.summary["final_epoch"].get(key)          # the last epoch's mean (seed 0 when several)
        row = {"run": c.label, "status": status(run), name: None if final is None else round(final, 3)}
        row.update({label: cell(run, k, digits) for k, label, digits in family.summary_columns})
        row.update({label: cell(run, k, 2 if k != "fd" else 3) for k, label in YARDSTICK.items()})
        row.update({"collapse": value(run, "collapse"), "still improving": _improving(run),
                    "sharpness / real": cell(run, "sharpness_ratio"), "train s": cell(run, "train_seconds", 0),
                    "images / s": cell(run, "images_per_second", 0), "seeds": run.summary.get("seeds", 1)})
        rows.append(row)
    return pd.DataFrame(rows).set_index("run")


def _improving(run: Run) -> str:
    """"yes" / "no", or "n/a" for a run measured fewer than twice over training."""
    return {True: "yes", False: "no", None: "n/a"}[still_improving(run)]


def _family_columns(runs: list[Run]) -> list[tuple[str, str, int]]:
    """The comparison columns the runs' families add (the VAE's test -ELBO), each once, in order."""
    columns = {}
    for fam in dict.fromkeys(r.config.family for r in runs):
        columns.update({key: (key, label, digits) for key, label, digits in families.get(fam).comparison_columns})
    return list(columns.values())


def comparison_frame(runs: list[Run], floors: dict[str, float]) -> pd.DataFrame:
    """Every configuration with numbers (seed means), one row each, for plots and ranking.

    floors: {dataset: FD of real images}, for the "FD / floor" column.
    """
    rows = []
    extra = _family_columns(runs)
    for r in average_seeds(runs):
        c = r.config
        rows.append({"dataset": DATASET_TITLES[c.dataset], "family": family_title(c), "arch": c.arch,
                     "run": c.label, "z": c.latent_dim, "status": status(r),
                     **{label: value(r, k) for k, label in YARDSTICK.items()},
                     "FD / floor": None if value(r, "fd") is None else value(r, "fd") / floors[c.dataset],
                     **{label: value(r, key) for key, label, _ in extra}, "collapse": value(r, "collapse"),
                     "still improving": _improving(r), "train s": value(r, "train_seconds"),
                     "images / s": value(r, "images_per_second"), "seeds": r.summary.get("seeds", 1)})
    return pd.DataFrame(rows)


def comparison_table(runs: list[Run], floors: dict[str, float]) -> pd.DataFrame:
    """The comparison frame grouped by dataset, best FD first, with ± std where there are seeds."""
    averaged = {(family_title(r.config), DATASET_TITLES[r.config.dataset], r.config.label): r
                for r in average_seeds(runs)}
    table = comparison_frame(runs, floors).sort_values(["dataset", "FD"], na_position="last")
    table.insert(0, "rank", table.groupby("dataset").cumcount() + 1)
    for key, label, digits in [(k, label, 3 if k == "fd" else 2) for k, label in YARDSTICK.items()] + _family_columns(runs):
        table[label] = [cell(averaged[(f, d, run)], key, digits) for f, d, run in
                        zip(table["family"], table["dataset"], table["run"])]
    # to_numeric: a column where no run has a number holds None, which does not round
    table["FD / floor"] = pd.to_numeric(table["FD / floor"]).round(1)
    table[["train s", "images / s"]] = table[["train s", "images / s"]].apply(pd.to_numeric).round(0)
    return table.drop(columns="z").set_index(["dataset", "rank"])


# Published Inception FIDs on CIFAR-10, quoted for context: another feature space, another N
# and other real images, so never on one scale with our FD. Each number names where it was read
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
