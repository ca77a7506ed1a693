"""Tables (pandas) of a chapter's configs and runs, and of every run side by side.

A configuration trained with several seeds shows as rows under one name: first the seed mean (its 95%
interval is the interval of the mean, intervals.seed_mean), then each seed with
its own bootstrap interval, so a reader sees both how well the mean is pinned down and how far the seeds
spread. Rows, not per-seed columns: every measure keeps its one column, and an HTML table stays as wide
with 5 seeds as with 1.
"""
from __future__ import annotations

import pandas as pd

from .. import families
from ..config import RunConfig
from ..data import DATASET_TITLES
from ..results import Run
from .intervals import POSITIVE, SHARES, Estimate, fmt, from_interval, show
from .runsets import (YARDSTICK, average_seeds, config_key, estimate, family_title, fd_over_floor, lost,
                      seeds_measured, still_improving, unmeasurable, value)


def grid_table(configs: list[RunConfig]) -> pd.DataFrame:
    """The chapter's runs as configured: architecture, latent size, optimizer, epochs, images."""
    rows = [{"variant": c.variant, "arch": c.arch, "z": c.latent_dim,
             "widths": str(c.hidden or c.channels), "critic": str(c.d_hidden or c.d_channels or "-"),
             "optimizer": f"{c.optimizer} {c.lr:g}", "batch": c.batch_size, "epochs": c.epochs,
             "train images": c.train_size or "all"} | ({"changed": c.changes} if c.changes else {})
            for c in configs if c.seed == 0]
    table = pd.DataFrame(rows).set_index("variant")
    return table.fillna("") if "changed" in table else table


# never below 0 besides intervals.POSITIVE: times and rates
_NOT_NEGATIVE = (*POSITIVE, "train_seconds", "images_per_second", "train_cpu_seconds", "images_per_cpu_second")

# The speed columns, in CPU seconds of the training steps (results.timing): they leave out the time a run
# waited while other work on a shared machine had the CPU, which wall seconds count. {column: summary key}
SPEED = {"train CPU s": "train_cpu_seconds", "images / CPU s": "images_per_cpu_second"}


def _in_range(key: str, e: Estimate) -> Estimate:
    """A +-1.96 standard-error (or t) interval can cross its measure's bound (a test KL near 0); cut it
    there, as intervals.seed_mean cuts a seed mean's: a positive measure from 0 up, a share inside [0, 1]."""
    if not e.has_interval or (key not in _NOT_NEGATIVE and key not in SHARES):
        return e
    return Estimate(e.value, max(e.lo, 0.0), min(e.hi, 1.0) if key in SHARES else e.hi)


def cell(run: Run, key: str, digits: int = 3):
    """The number for a table with its 95% interval: "value [lo, hi]" for one run (its bootstrap interval),
    "mean [lo, hi]" for a seed-averaged run (the interval of the mean, in the measure's range:
    intervals.seed_mean; no "± std": FD's mean is geometric, and the seed rows below it show the spread); the
    bare number where it has no interval, None where it has no number."""
    e = estimate(run, key)
    if e is None:
        return None
    if not e.has_interval and run.summary.get("seeds", 1) == 1:
        return round(e.value, digits)
    whole = digits == 0                            # seconds, images / CPU s: whole numbers, never "1e+01"
    text = (lambda x: f"{x:.0f}") if whole else (lambda x: fmt(x, digits))
    shown = text(e.value)
    if not e.has_interval:
        return shown
    e = _in_range(key, e)
    return f"{shown} [{text(e.lo)}, {text(e.hi)}]"


def status(run: Run) -> str:
    """"complete", "diverged", or "unmeasurable" (samples the yardstick could not measure); over seeds,
    how many were lost and why: "complete (1 of 3 seeds diverged, 1 unmeasurable)"."""
    own = "unmeasurable" if unmeasurable(run) is not None else run.summary["status"]
    lost_seeds = [(n, why) for n, why in ((run.summary.get("seeds_diverged", 0), "diverged"),
                                          (run.summary.get("seeds_unmeasurable", 0), "unmeasurable")) if n]
    words = [f"{n} of {run.summary['seeds']} seeds {why}" if i == 0 else f"{n} {why}"
             for i, (n, why) in enumerate(lost_seeds)]
    return f"{own} ({', '.join(words)})" if lost_seeds else own


def configurations(runs: list[Run]) -> list[tuple[Run, list[Run]]]:
    """Each configuration once, in the order of `runs`: its seed mean (runsets.average_seeds; the run itself
    for one seed) and its seeds' own runs, by seed."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(config_key(run.config), []).append(run)
    return [(average_seeds(group)[0], sorted(group, key=lambda r: r.config.seed)) for group in groups.values()]


def seed_rows(mean: Run, seeds: list[Run]) -> list[tuple[str, Run]]:
    """The rows a configuration shows, (label, run): "mean of 3 seeds" then "seed 0", "seed 1", ...; with one
    seed only "seed 0 (one seed)", so a reader does not take it for a mean. Lost seeds count in the label:
    "mean of 2 of 3 seeds" rests on the 2 measured ones."""
    if len(seeds) == 1:
        return [(f"seed {seeds[0].config.seed} (one seed)", seeds[0])]
    measured = seeds_measured(mean)
    label = f"mean of {len(seeds)} seeds" if measured == len(seeds) else f"mean of {measured} of {len(seeds)} seeds"
    return [(label, mean)] + [(f"seed {r.config.seed}", r) for r in seeds]


def _final(runs: list[Run], key: str):
    """The family's estimate at the last epoch (the summary keeps it per run), averaged over `runs`."""
    finals = [f for f in (r.summary["final_epoch"].get(key) for r in runs) if f is not None]
    return round(sum(finals) / len(finals), 3) if finals else None


def summary_table(runs: list[Run]) -> pd.DataFrame:
    """The chapter's runs, indexed by (run, seed): a configuration with several seeds shows its seed mean
    (interval of the mean) and then each seed (its own bootstrap interval); one with one seed, that seed."""
    rows = []
    for mean, seeds in configurations(runs):
        family = families.get(mean.config.family)
        key, name = family.estimate
        for label, run in seed_rows(mean, seeds):
            # the mean row's last-epoch estimate: the measured seeds' mean
            over = [r for r in seeds if not lost(r)] if run is mean and len(seeds) > 1 else [run]
            row = {"run": mean.config.label, "seed": label, "status": status(run), name: _final(over, key)}
            row.update({col: cell(run, k, digits) for k, col, digits in family.summary_columns})
            row.update({col: cell(run, k, 2 if k != "fd" else 3) for k, col in YARDSTICK.items()})
            row.update({"collapse": value(run, "collapse"), "still improving": _improving(run),
                        "sharpness / real": cell(run, "sharpness_ratio"),
                        **{col: cell(run, key, 0) for col, key in SPEED.items()}})
            rows.append(row)
    return pd.DataFrame(rows).set_index(["run", "seed"])


def _improving(run: Run) -> str:
    """"yes" / "no", or "n/a" for a run measured fewer than twice over training."""
    return {True: "yes", False: "no", None: "n/a"}[still_improving(run)]


def _family_columns(runs: list[Run]) -> list[tuple[str, str, int]]:
    """The comparison columns the runs' families add (the VAE's test -ELBO), each once, in order."""
    columns = {}
    for fam in dict.fromkeys(r.config.family for r in runs):
        columns.update({key: (key, label, digits) for key, label, digits in families.get(fam).comparison_columns})
    return list(columns.values())


def _floor_of(floors: dict, dataset: str) -> dict:
    """floors[dataset], checked: the real side's floor measures (a dict with "fd" and its "fd_ci")."""
    if dataset not in floors:
        raise ValueError(f"floors has no entry for dataset {dataset!r}; give one per dataset of the runs "
                         f"(session.real_side(dataset, ctx).floor), got {sorted(floors)}")
    floor = floors[dataset]
    if not isinstance(floor, dict) or "fd" not in floor:
        raise ValueError(f"floors[{dataset!r}] is {floor!r}; it must be the real side's floor measures, a dict "
                         f"with 'fd' and 'fd_ci' (session.real_side(dataset, ctx).floor)")
    return floor


def comparison_frame(runs: list[Run], floors: dict[str, dict]) -> pd.DataFrame:
    """Every configuration with numbers (seed means), one row each, for plots and ranking; "FD lo" and
    "FD hi" are FD's 95% interval (runsets.estimate: the interval of the seed mean over several seeds).

    floors: {dataset: the real side's floor measures (real.floor: "fd", "fd_ci", ...)}. "FD / floor" is None
    where runsets.fd_over_floor finds the floor's own interval too wide to carry a ratio.
    """
    rows = []
    extra = _family_columns(runs)
    for r in average_seeds(runs):
        c = r.config
        fd = estimate(r, "fd")
        rows.append({"dataset": DATASET_TITLES[c.dataset], "family": family_title(c), "arch": c.arch,
                     "run": c.label, "z": c.latent_dim, "status": status(r),
                     **{label: value(r, k) for k, label in YARDSTICK.items()},
                     "FD lo": fd.lo if fd is not None else None, "FD hi": fd.hi if fd is not None else None,
                     "FD / floor": fd_over_floor(value(r, "fd"), _floor_of(floors, c.dataset)),
                     **{label: value(r, key) for key, label, _ in extra}, "collapse": value(r, "collapse"),
                     "still improving": _improving(r), **{col: value(r, key) for col, key in SPEED.items()},
                     "seeds": r.summary.get("seeds", 1)})
    return pd.DataFrame(rows)


def _ratio(run: Run, floor: dict):
    """FD / floor for a table: 3 digits; "n/a" where the floor cannot carry a ratio; None without an FD."""
    if value(run, "fd") is None:
        return None
    ratio = fd_over_floor(value(run, "fd"), floor)
    return "n/a" if ratio is None else fmt(ratio)


def _rounded(x):
    return None if x is None else round(x)


def comparison_table(runs: list[Run], floors: dict[str, dict]) -> pd.DataFrame:
    """Every configuration grouped by dataset and ranked by its seed-mean FD (best first), indexed by
    (dataset, rank, family, run, seed): the seed mean's row, then each seed's (seed_rows); every row of a
    configuration shares its rank. "floor FD" is the real-data floor with its interval, beside
    "FD / floor", which reads "n/a" where that interval is too wide to divide by (runsets.fd_over_floor).

    floors: {dataset: the real side's floor measures (real.floor)}.
    """
    ranked = comparison_frame(runs, floors).sort_values(["dataset", "FD"], na_position="last")
    ranks = dict(zip(zip(ranked["family"], ranked["dataset"], ranked["run"]),
                     ranked.groupby("dataset").cumcount() + 1))
    by_name = {(family_title(m.config), DATASET_TITLES[m.config.dataset], m.config.label): (m, seeds)
               for m, seeds in configurations(runs)}
    yardstick = [(k, label, 3 if k == "fd" else 2) for k, label in YARDSTICK.items()]
    rows = []
    for name, rank in ranks.items():
        mean, seeds = by_name[name]
        floor = _floor_of(floors, mean.config.dataset)
        floor_fd = show(from_interval(floor["fd"], floor.get("fd_ci")))
        for label, run in seed_rows(mean, seeds):
            # FD, the measure the rows are ranked by, first: the table is wider than the page
            rows.append({"dataset": name[1], "rank": rank, "family": name[0], "run": name[2], "seed": label,
                         **{col: cell(run, k, digits) for k, col, digits in yardstick},
                         "FD / floor": _ratio(run, floor), "floor FD": floor_fd,
                         **{col: cell(run, k, digits) for k, col, digits in _family_columns(runs)},
                         "arch": run.config.arch, "status": status(run),
                         "collapse": value(run, "collapse"), "still improving": _improving(run),
                         **{col: _rounded(value(run, key)) for col, key in SPEED.items()}})
    return pd.DataFrame(rows).set_index(["dataset", "rank", "family", "run", "seed"])


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

# The published table's text columns are sentences: they wrap (book/_static/tables.css keeps every other
# table's cells on one line) inside this width, so no column is cut off or pushes the table off the page.
WRAPPED_WIDTH = "24em"


def wrapped(table: pd.DataFrame, uuid: str, hide_index: bool = False):
    """A table of sentences as a pandas Styler whose cells wrap (class "wrap-text", and the same rule
    inline for a page without tables.css), escaped for HTML; `uuid` keeps its HTML the same on every build."""
    wrap = [("white-space", "normal"), ("max-width", WRAPPED_WIDTH), ("vertical-align", "top"), ("text-align", "left")]
    style = (table.style.set_uuid(uuid).format(escape="html").format_index(escape="html")    # "Dai & Wipf" as &amp;
             .set_table_attributes('class="dataframe wrap-text"')
             .set_table_styles([{"selector": "td", "props": wrap}, {"selector": "th", "props": wrap}]))
    return style.hide(axis="index") if hide_index else style


def published_fids():
    """The published numbers above as a table, labelled as not comparable with this book's FD: a wrapped
    Styler (its DataFrame is `.data`)."""
    table = pd.DataFrame(PUBLISHED_CIFAR10_FIDS, columns=["model", "Inception FID (not comparable)", "source", "setting"])
    return wrapped(table.set_index("model"), "published-fids")
