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
# # Discussion: the families side by side
#
# Each chapter measures its family on its own number: the VAE's negative ELBO, the GAN's
# Jensen-Shannon estimate, the WGAN's Earth-Mover estimate. Those cannot be compared across
# families. This page puts every run of the grid on the measurements that mean the same thing
# for all of them: how evenly the samples spread over the classes (under the pixel-space
# nearest-neighbour labeller of the methods page), how sharp they are relative to real images,
# and what they cost to train. These are crude, pixel-level measures; they say which runs
# collapse or blur, not which model is best in a perceptual sense.

# %% tags=["parameters"]
profile = "auto"
data_dir = "data"
runs_dir = "runs"
force = False

# %% tags=["remove-input"]
from IPython.display import Markdown, display

from gen_core import chapter, plots

ctx = chapter.setup(profile, data_dir, runs_dir, force)
display(Markdown(chapter.banner(chapter.provenance(ctx))))

# %% tags=["remove-output"]
# Every run of the grid; all are cached by the chapters, so this only loads.
runs = chapter.all_runs(ctx)

# %% [markdown]
# ## Every run
#
# Sorted within each dataset by KL divergence of the samples' label histogram to uniform
# (0 means every class equally often; $\log 10 \approx 2.3$ means a single class).
# The sharpness ratio is 1 for samples exactly as sharp as real test images: below 1 they are
# blurred (typical of a VAE), above 1 they carry more high-frequency content than real images,
# which for these short runs is pixel noise.

# %% tags=["remove-input"]
display(chapter.comparison_table(runs))

# %% tags=["remove-input"]
plots.plot_coverage_vs_sharpness(chapter.comparison_table(runs));

# %% [markdown]
# ## The best run of each family
#
# Per dataset, the run of each family whose samples spread most evenly over the classes.

# %% tags=["remove-input"]
for dataset in ("mnist", "cifar10"):
    plots.plot_final_samples(chapter.best_per_family(runs, dataset), with_family=True)

# %% [markdown]
# ## What the grid shows

# %% tags=["remove-input"]
display(Markdown(chapter.discussion_findings(runs, ctx)))
