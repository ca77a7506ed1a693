"""Figures drawn from saved run results only (no model weights needed)."""
from __future__ import annotations

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .results import Run

sns.set_theme(style="whitegrid", context="notebook")

# Curves each family logs per optimizer step, with the axis label they get.
CURVES = {
    "vae": [("loss", "total loss (nats / image)"), ("bce", "BCE reconstruction"), ("kl", "KL")],
    "gan": [("jsd", "JSD estimate (nats)"), ("d_loss", "discriminator loss"), ("g_loss", "generator loss")],
    "wgan": [("emd", "EMD estimate"), ("critic_loss", "critic loss"), ("g_loss", "generator loss")],
}


def _steps_frame(runs: list[Run], key: str, smooth: int) -> pd.DataFrame:
    """Long table (run, epoch, value) of one measurement, smoothed by a rolling mean."""
    frames = []
    for run in runs:
        values = run.history["steps"].get(key)
        if not values:
            continue
        epochs_done = max(run.summary.get("epochs_done", 1), 1)
        series = pd.Series(values, dtype=float)
        window = max(1, min(smooth, len(series) // 20 or 1))
        frames.append(pd.DataFrame({
            "run": run.config.label,
            "epoch": (series.index + 1) * epochs_done / len(series),
            "value": series.rolling(window, min_periods=1).mean()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "epoch", "value"])


def plot_curves(runs: list[Run], smooth: int = 50):
    """One panel per logged measurement of the family, one line per run, x in epochs."""
    family = runs[0].config.family
    curves = CURVES[family]
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
    for ax, (key, title) in zip(axes[0], curves):
        sns.lineplot(data=_steps_frame(runs, key, smooth), x="epoch", y="value", hue="run", ax=ax,
                     linewidth=1.2, legend=ax is axes[0][0])
        ax.set_title(title)
        ax.set_ylabel("")
    if axes[0][0].get_legend() is not None:
        sns.move_legend(axes[0][0], "upper left", bbox_to_anchor=(0, -0.2), ncol=3, frameon=False, title=None)
    fig.tight_layout()
    return fig


def _show_images(paths_and_titles: list, ncols: int, cell: float = 3.0,
                 empty: str = "no images: the run diverged before its first saved epoch"):
    n = len(paths_and_titles)
    if n == 0:                                  # a note in place of the figure, never a crash
        fig, ax = plt.subplots(figsize=(6, 0.5))
        ax.axis("off")
        ax.text(0, 0.5, empty, fontsize=10, va="center")
        return fig
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, cell * nrows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (path, title) in zip(axes.flat, paths_and_titles):
        ax.imshow(mpimg.imread(path), interpolation="nearest")
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _title(run: Run, with_family: bool) -> str:
    prefix = f"{run.config.family.upper()} {run.config.dataset}: " if with_family else ""
    return f"{prefix}{run.config.label}\nepoch {max(run.sample_paths)}"


def plot_final_samples(runs: list[Run], ncols: int = 3, with_family: bool = False):
    """The last fixed-noise grid of every run, side by side."""
    items = [(run.sample_paths[max(run.sample_paths)], _title(run, with_family))
             for run in runs if run.sample_paths]
    return _show_images(items, min(ncols, max(len(items), 1)))


def plot_samples_over_training(run: Run):
    """One run's fixed-noise grid at each saved epoch, in one strip."""
    items = [(path, f"epoch {epoch}") for epoch, path in run.sample_paths.items()]
    fig = _show_images(items, max(len(items), 1), cell=2.6,
                       empty=f"{run.config.label}: no samples, it diverged before its first saved epoch")
    fig.suptitle(run.config.label, y=1.02)
    return fig


def plot_reconstructions(runs: list[Run], ncols: int = 3):
    """VAE: test images (rows 1, 3, 5, 7) above their reconstructions (rows 2, 4, 6, 8)."""
    items = [(run.recon_path, run.config.label) for run in runs if run.recon_path is not None]
    return _show_images(items, min(ncols, max(len(items), 1)))


def _run_title(run: Run, with_family: bool) -> str:
    return f"{run.config.family.upper()} {run.config.label}" if with_family else run.config.label


def plot_label_histograms(runs: list[Run], class_names: list[str], with_family: bool = False):
    """Share of samples per class under the yardstick's classifier; the dashed line is uniform."""
    rows = [{"run": _run_title(run, with_family), "class": class_names[i], "share": share}
            for run in runs for i, share in enumerate(run.yardstick.get("label_histogram", []))]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    if rows:
        sns.barplot(data=pd.DataFrame(rows), x="class", y="share", hue="run", ax=ax)
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1), frameon=False, title=None)
    ax.axhline(1 / len(class_names), color="k", linestyle="--", linewidth=1)
    ax.set_xlabel("")
    fig.tight_layout()
    return fig


def _floor_lines(grid, floors: dict):
    for dataset, ax in grid.axes_dict.items():
        if dataset in floors:
            ax.axhline(floors[dataset], color="k", linestyle="--", linewidth=1, label="real-data floor")


def plot_fd_vs_latent(frame: pd.DataFrame, floors: dict):
    """FD (log scale) against latent size, one line per variant (colour: family), per dataset.

    floors: {dataset title: FD of real training images}; drawn dashed.
    """
    data = frame.dropna(subset=["FD"]).assign(variant=lambda d: d["family"] + " " + d["run"].str.split(",").str[0])
    # one line per variant (units, no averaging): MLP A and MLP B must not be joined into one line
    grid = sns.relplot(data=data, x="z", y="FD", hue="family", style="arch", units="variant", estimator=None,
                       col="dataset", kind="line", markers=True, dashes=False, height=3.8, aspect=1.2,
                       facet_kws={"sharey": False})
    grid.set(xscale="log", yscale="log")
    _floor_lines(grid, floors)
    grid.set_axis_labels("latent size z", "FD to the test set")
    return grid.figure


def plot_precision_recall(frame: pd.DataFrame, floors: dict):
    """One point per configuration; the star is real training images (the floor), top right is best."""
    grid = sns.relplot(data=frame.dropna(subset=["precision"]), x="recall", y="precision", hue="family",
                       style="arch", col="dataset", s=80, height=3.8, aspect=1.1)
    for dataset, ax in grid.axes_dict.items():
        if dataset in floors:
            ax.scatter([floors[dataset]["recall"]], [floors[dataset]["precision"]], marker="*", s=250,
                       color="k", label="real data")
        ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
    return grid.figure


def plot_coverage_bars(frame: pd.DataFrame):
    """Classes covered (at least half the uniform share) per configuration, per dataset."""
    data = frame.dropna(subset=["classes covered"]).assign(label=lambda d: d["family"] + " " + d["run"])
    grid = sns.catplot(data=data, y="label", x="classes covered", hue="family", col="dataset", kind="bar",
                       height=5, aspect=0.9, sharey=False, dodge=False)
    for ax in grid.axes.flat:
        ax.axvline(10, color="k", linestyle="--", linewidth=1)
        ax.set_ylabel("")
    return grid.figure
