"""Figures: from saved run results, or from tensors that weights.py computes from a run's weights."""
from __future__ import annotations

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch
from matplotlib.ticker import LogFormatter
from torchvision.utils import make_grid

from .. import families
from ..results import Run

sns.set_theme(style="whitegrid", context="notebook")


def _family(run: Run) -> str:
    return families.get(run.config.family).title


def _curve(run: Run, key: str, smooth: int) -> pd.DataFrame | None:
    """One run's logged measurement against epochs, smoothed by a rolling mean; None if it logs none."""
    values = run.history["steps"].get(key)
    if not values:
        return None
    epochs_done = max(run.summary.get("epochs_done", 1), 1)
    series = pd.Series(values, dtype=float)
    window = max(1, min(smooth, len(series) // 20 or 1))
    return pd.DataFrame({"epoch": (series.index + 1) * epochs_done / len(series),
                         "value": series.rolling(window, min_periods=1).mean()})


def _run_names(runs: list[Run]) -> list[str]:
    """Each run's label, with its seed where two runs share a label."""
    labels = [r.config.label for r in runs]
    return [f"{label}, seed {r.config.seed}" if labels.count(label) > 1 else label for label, r in zip(labels, runs)]


# One shared axis per curve while the runs' scales (largest |value| of the smoothed curve) differ by at
# most this factor; beyond it, one axis per run. A clipped critic's EMD estimate (about 0.01) beside a
# penalised critic's (about 25) would otherwise lie flat at 0. Not a log scale: the estimates and losses
# change sign, and each run's own shape (falling, oscillating) is what the panel is read for.
SHARED_AXIS_SPREAD = 20.0


def _spread(curves: dict[str, pd.DataFrame]) -> float:
    """How many times the largest run's scale exceeds the smallest's on one curve (1 for one run)."""
    scales = [c["value"].abs().replace(float("inf"), float("nan")).max() for c in curves.values()]
    scales = [x for x in scales if x == x and x > 0]
    return max(scales) / min(scales) if scales else 1.0


def plot_curves(runs: list[Run], smooth: int = 50, per_run: bool | None = None):
    """The curves the runs' family logs against epochs, smoothed by a rolling mean: one panel per curve with
    one line per run, or, with `per_run` (by default where a curve's runs differ in scale more than
    SHARED_AXIS_SPREAD times), a row per run, each panel on its own y axis. Every run keeps one colour,
    the legend's, in every panel: a panel that only some runs log (the WGAN-GP penalty) draws each in its
    own colour, not the palette's first."""
    curves = families.get(runs[0].config.family).curves
    names = _run_names(runs)
    colours = dict(zip(names, sns.color_palette(n_colors=max(len(runs), 1))))
    logged = {key: {n: c for n, r in zip(names, runs) if (c := _curve(r, key, smooth)) is not None}
              for key, _ in curves}
    curves = [(key, title) for key, title in curves if logged[key]]      # a curve no run logs: no panel
    if not curves:
        return _show_images([], 1, empty="no training curves: no run logged a step")
    if per_run is None:
        per_run = len(runs) > 1 and any(_spread(logged[key]) > SHARED_AXIS_SPREAD for key, _ in curves)
    rows = names if per_run else [None]
    legend_rows = -(-len(names) // 3)
    height = 2.1 * len(rows) if per_run else 3.2
    height += 0.28 * legend_rows + 0.2                         # room for the legend below the panels
    fig, axes = plt.subplots(len(rows), len(curves), figsize=(4.4 * len(curves), height), squeeze=False,
                             sharex="col" if per_run else "none")
    for i, row in enumerate(rows):
        for ax, (key, title) in zip(axes[i], curves):
            drawn = {n: c for n, c in logged[key].items() if row is None or n == row}
            for name, c in drawn.items():
                ax.plot(c["epoch"], c["value"], color=colours[name], linewidth=1.2, label=name)
            if not drawn:                       # this run does not log the curve (a clipped critic's penalty)
                ax.text(0.5, 0.5, "not logged by this run", transform=ax.transAxes, ha="center", va="center",
                        fontsize=9, color="0.4")
                ax.set_yticks([])
            if i == 0:
                ax.set_title(title)
            ax.set_xlabel("epoch" if i == len(rows) - 1 else "")
        if per_run:
            axes[i][0].set_ylabel(row, color=colours[row], fontsize=9)
    handles = [plt.Line2D([], [], color=colours[n], linewidth=2, label=n) for n in names]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(names), 3), frameon=False)
    fig.tight_layout(rect=(0, (0.28 * legend_rows + 0.2) / height, 1, 1))
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


class _PlainLog(LogFormatter):
    """Log-axis labels as plain numbers (0.6, 40), never 6e-01; which minor ticks get one: LogFormatter's."""

    def _num_to_string(self, x, vmin, vmax):
        return f"{x:g}"


# markers for the variants of one family (its colour), in the frame's order
_VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def plot_fd_vs_latent(frame: pd.DataFrame, floors: dict):
    """FD (log scale) against latent size (log scale), per dataset: one line per variant with its 95%
    interval at each point (the frame's "FD lo" and "FD hi": the interval of the seed mean over several
    seeds), colour by family and a marker per variant within it, each named in the legend under its panel.

    floors: {dataset title: FD of real training images}; drawn dashed.
    """
    data = frame.dropna(subset=["FD"]).assign(variant=lambda d: d["family"] + " " + d["run"].str.split(",").str[0])
    if data.empty:                               # a note in place of an empty chart, never a crash
        return _show_images([], 1, empty=NOTHING_MEASURED)
    datasets = list(dict.fromkeys(data["dataset"]))
    family_names = list(dict.fromkeys(data["family"]))
    colours = dict(zip(family_names, sns.color_palette(n_colors=len(family_names))))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.6 * len(datasets), 5.4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = data[data["dataset"] == dataset]
        for family, of_family in part.groupby("family", sort=False):
            # one line per variant: MLP A and MLP B must not be joined into one line
            for marker, (variant, points) in zip(_VARIANT_MARKERS * 4, of_family.groupby("variant", sort=False)):
                points = points.sort_values("z")
                lo = points["FD lo"].astype(float).fillna(points["FD"])      # no interval: no bar
                hi = points["FD hi"].astype(float).fillna(points["FD"])
                ax.errorbar(points["z"], points["FD"], yerr=[points["FD"] - lo, hi - points["FD"]],
                            color=colours[family], marker=marker, markersize=6, capsize=3, linewidth=1.3,
                            label=variant)
        if dataset in floors:
            ax.axhline(floors[dataset], color="k", linestyle="--", linewidth=1, label="real-data floor")
        ax.set(xscale="log", yscale="log", title=dataset, xlabel="latent size z",
               ylabel="FD to the test set" if ax is axes[0][0] else "")
        for axis in (ax.xaxis, ax.yaxis):         # 40, not 4 x 10^1; minor labels thinned over many decades
            axis.set_major_formatter(_PlainLog(labelOnlyBase=False))
            axis.set_minor_formatter(_PlainLog(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


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
