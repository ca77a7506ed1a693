"""Figures: from saved run results, or from tensors that weights.py computes from a run's weights."""
from __future__ import annotations

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch
from torchvision.utils import make_grid

from .. import families
from ..results import Run

sns.set_theme(style="whitegrid", context="notebook")


def _family(run: Run) -> str:
    return families.get(run.config.family).title


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
    """One panel per curve the runs' family logs, one line per run, x in epochs."""
    curves = families.get(runs[0].config.family).curves
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
    prefix = f"{_family(run)} {run.config.dataset}: " if with_family else ""
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
    return f"{_family(run)} {run.config.label}" if with_family else run.config.label


def plot_label_histograms(runs: list[Run], class_names: list[str], with_family: bool = False,
                          empty: str = "no run here is on the data yet: no label histogram to show"):
    """Share of counted samples per class under the yardstick's classifier; the dashed line is uniform."""
    rows = [{"run": _run_title(run, with_family), "class": class_names[i], "share": share}
            for run in runs for i, share in enumerate(run.yardstick.get("label_histogram", []))]
    if not rows:                                 # a note in place of an empty chart
        return _show_images([], 1, empty=empty)
    fig, ax = plt.subplots(figsize=(10, 3.6))
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


def over_training_frame(runs: list[Run], with_family: bool = False) -> pd.DataFrame:
    """Long table of the yardstick over training: run, epoch, generator images, seconds, FD and its interval."""
    rows = [{"run": _run_title(run, with_family), "epoch": p["epoch"], "generator images": p["generator_images"],
             "train seconds": p["train_seconds"], "FD": p["fd"], "lo": p.get("fd_ci", [p["fd"]] * 2)[0],
             "hi": p.get("fd_ci", [p["fd"]] * 2)[1]}
            for run in runs for p in run.yardstick.get("over_training") or [] if p.get("generator_images")]
    return pd.DataFrame(rows, columns=["run", "epoch", "generator images", "train seconds", "FD", "lo", "hi"])


def plot_fd_over_training(runs: list[Run], floor_fd: float, with_family: bool = False, title: str = ""):
    """FD (log) against images through the generator and against training seconds (log), one line per
    run with its 95% intervals as bars; the dashed line is the real-data floor."""
    from matplotlib.ticker import NullFormatter

    frame = over_training_frame(runs, with_family)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    if title:
        fig.suptitle(title)
    colours = dict(zip(frame["run"].unique(), sns.color_palette(n_colors=max(frame["run"].nunique(), 1))))
    for ax, x in zip(axes, ("generator images", "train seconds")):
        for name, group in frame.groupby("run", sort=False):
            ax.errorbar(group[x], group["FD"], yerr=[group["FD"] - group["lo"], group["hi"] - group["FD"]],
                        marker="o", markersize=4, capsize=2, linewidth=1.2, color=colours[name], label=name)
        ax.axhline(floor_fd, color="k", linestyle="--", linewidth=1, label="real-data floor")
        ax.set(xscale="log", yscale="log", xlabel=x, ylabel="FD to the test set" if ax is axes[0] else "")
        ax.xaxis.set_minor_formatter(NullFormatter())          # log ticks at powers of 10 only
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    rows = -(-len(labels) // 4)
    fig.tight_layout(rect=(0, 0.07 * rows + 0.02, 1, 1))            # room for the legend below
    return fig


# the note that replaces a chart of yardstick numbers when no run has any
NOTHING_MEASURED = "no run here has yardstick numbers: each diverged or could not be measured"


def plot_fd_vs_latent(frame: pd.DataFrame, floors: dict):
    """FD (log scale) against latent size, one line per variant (colour: family), per dataset.

    floors: {dataset title: FD of real training images}; drawn dashed.
    """
    data = frame.dropna(subset=["FD"]).assign(variant=lambda d: d["family"] + " " + d["run"].str.split(",").str[0])
    if data.empty:                               # a note in place of an empty chart, never a crash
        return _show_images([], 1, empty=NOTHING_MEASURED)
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
    data = frame.dropna(subset=["precision"])
    if data.empty:
        return _show_images([], 1, empty=NOTHING_MEASURED)
    grid = sns.relplot(data=data, x="recall", y="precision", hue="family", style="arch", col="dataset", s=80,
                       height=3.8, aspect=1.1)
    for dataset, ax in grid.axes_dict.items():
        if dataset in floors:
            ax.scatter([floors[dataset]["recall"]], [floors[dataset]["precision"]], marker="*", s=250,
                       color="k", label="real data")
        ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
    return grid.figure


def plot_class_bars(frame: pd.DataFrame):
    """Classes covered (each with at least half its uniform share of the counted samples) per configuration,
    per dataset; the dashed line is all 10."""
    data = frame.dropna(subset=["classes covered"]).assign(label=lambda d: d["family"] + " " + d["run"])
    if data.empty:
        return _show_images([], 1, empty=NOTHING_MEASURED)
    grid = sns.catplot(data=data, y="label", x="classes covered", hue="family", col="dataset", kind="bar",
                       height=5, aspect=0.9, sharey=False, dodge=False)
    for ax in grid.axes.flat:
        ax.axvline(10, color="k", linestyle="--", linewidth=1)
        ax.set_ylabel("")
    return grid.figure


# ---- figures from tensors (weights.py) ---------------------------------------------------------

def _grid_image(images: torch.Tensor, nrow: int, padding: int = 2):
    """(N, C, H, W) in [0, 1] -> an (H', W', 3) array for imshow, via torchvision's make_grid."""
    return make_grid(images.float(), nrow=nrow, padding=padding, pad_value=1.0).permute(1, 2, 0).numpy()


def plot_interpolations(run: Run, paths: dict, steps: int = 10):
    """One panel per kind of path: each row walks from one random latent to another in `steps`."""
    fig, axes = plt.subplots(1, len(paths), figsize=(6.5 * len(paths), 3.2), squeeze=False)
    for ax, (kind, images) in zip(axes[0], paths.items()):
        ax.imshow(_grid_image(images, steps), interpolation="nearest")
        ax.set_title(f"{kind} interpolation", fontsize=10)
        ax.axis("off")
    fig.suptitle(f"{_family(run)} {run.config.label}", y=1.02)
    fig.tight_layout()
    return fig


def plot_manifold(run: Run, images: torch.Tensor, values: torch.Tensor):
    """The decoder over a grid of 2-D latents: columns are z_1, rows z_2 (N(0, 1) quantiles)."""
    n = len(values)
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    grid = _grid_image(images, n, padding=0)
    ax.imshow(grid, interpolation="nearest")
    cell = grid.shape[0] / n
    ticks = [i * cell + cell / 2 for i in range(0, n, 2)]
    ax.set_xticks(ticks, [f"{v:.1f}" for v in values[::2].tolist()])
    ax.set_yticks(ticks, [f"{v:.1f}" for v in values.flip(0)[::2].tolist()])
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=f"{run.config.label}: decoded latent grid")
    ax.grid(False)
    return fig


def plot_latent_means(run: Run, means: torch.Tensor, labels: torch.Tensor, class_names: list[str]):
    """The test set's posterior means in the 2-D latent plane, coloured by class."""
    frame = pd.DataFrame({"$z_1$": means[:, 0].numpy(), "$z_2$": means[:, 1].numpy(),
                          "class": [class_names[i] for i in labels.tolist()]})
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    sns.scatterplot(data=frame, x="$z_1$", y="$z_2$", hue="class", hue_order=class_names, s=8, alpha=0.7,
                    linewidth=0, palette="tab10", ax=ax)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1), frameon=False, title=None, markerscale=2)
    ax.set_title(f"{run.config.label}: test-set latent means")
    fig.tight_layout()
    return fig


def plot_nearest_training(found, per_row: int = 4):
    """Each sample (left) beside its nearest training image (right), titled with their distance."""
    n = len(found.samples)
    rows = -(-n // per_row)
    fig, axes = plt.subplots(rows, 2 * per_row, figsize=(1.3 * 2 * per_row, 1.5 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        left, right = axes[i // per_row][2 * (i % per_row)], axes[i // per_row][2 * (i % per_row) + 1]
        for ax, image in ((left, found.samples[i]), (right, found.neighbours[i])):
            ax.imshow(image.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
        left.set_title(f"d = {found.distances[i]:.2f}", fontsize=8, loc="left")
    fig.suptitle(f"{_family(found.run)} {found.run.config.label}: sample | nearest training image", y=1.0)
    fig.tight_layout()
    return fig
