# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # WGAN on MNIST
#
# Wasserstein GANs on MNIST with weight clipping (0.01), RMSprop and 5 critic steps per generator step: the MLP pairs of the GAN chapter without the Sigmoid, and a small DC-WGAN.

# %% tags=["parameters"]
# Flat parameters; papermill overrides them (see `make report`).
profile = "auto"       # auto | full | quick | smoke
data_dir = "data"      # torchvision layout; $GEN_DATA_DIR in the Makefile
runs_dir = "runs"      # run results, keyed by config hash
force = False          # retrain even when results are cached

# %% tags=["remove-input"]
from IPython.display import Markdown, display

from gen_core import chapter, plots

FAMILY, DATASET = "wgan", "mnist"
ctx = chapter.setup(profile, data_dir, runs_dir, force)
display(Markdown(chapter.banner(chapter.provenance(ctx))))

# %% [markdown]
# ## The runs
#
# The rows of the reference reports' grid for this chapter, sized by the profile named above.

# %% tags=["remove-input"]
display(chapter.grid_table(ctx, FAMILY, DATASET))

# %% tags=["remove-output"]
# Load each run's saved results, or train it now if its config hash is not on disk.
runs = chapter.chapter_runs(FAMILY, DATASET, ctx)
shown = chapter.first_seed(runs)     # figures draw seed 0; tables average over the seeds

# %% [markdown]
# ## Training curves
#
# Per critic step: the Earth-Mover estimate $E[f(x)] - E[f(G(z))]$, the critic loss and (per generator step) the generator loss, smoothed by a rolling mean. The estimate is scaled by the clipped critic's unknown Lipschitz constant, so compare it within a run, not across architectures.

# %% tags=["remove-input"]
plots.plot_curves(shown);

# %% [markdown]
# ## Samples
#
# Each grid decodes the same fixed noise, drawn once per run, at the last epoch.

# %% tags=["remove-input"]
plots.plot_final_samples(shown);

# %% [markdown]
# How the samples of each run change over training, for the same fixed noise:

# %% tags=["remove-input"]
for run in shown:
    plots.plot_samples_over_training(run)

# %% [markdown]
# ## Numbers
#
# The final epoch's mean EMD estimate; then the yardstick every family shares (see Methods and the comparison page): Fréchet distance (FD) to the test set in the classifier's feature space, precision and recall, and the classes covered with the KL of the label histogram to uniform. Sharpness relative to real test images follows, then cost: training seconds and images per second seen by the optimizer. The bar chart shows each run's label histogram under the classifier; the dashed line is the uniform share a generator covering every class would get.

# %% tags=["remove-input"]
display(chapter.summary_table(runs))

# %% tags=["remove-input"]
plots.plot_label_histograms(shown, chapter.CLASS_NAMES[DATASET]);

# %% [markdown]
# ## What this run shows

# %% tags=["remove-input"]
display(Markdown(chapter.findings(FAMILY, DATASET, runs, ctx)))
