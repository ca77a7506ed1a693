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
# (gan-cifar10)=
# # GAN on CIFAR-10
#
# Classic GANs on CIFAR-10: an MLP pair and a DCGAN at two latent sizes.
#
# Against the reports: the MLP row trains at their widths, optimizer and epochs at `full` and `long`; at `long` the DCGAN's widths are 1/8 of the reports' (widest layer 64, not 512) ({ref}`intro-differences`).

# %% tags=["parameters"]
# Flat parameters: edit them here, or set them for one run with
# `make report-gan_cifar10 PARAMS='{mlp_latents: [17], epochs: 2}'`.
profile = "auto"       # auto | full | long | quick | smoke
data_dir = "data"      # torchvision layout; $GEN_DATA_DIR in the Makefile
runs_dir = "runs"      # run results, keyed by config hash
force = False          # retrain even when results are cached
# The experiment; None keeps the grid's values (gen_core/grid.py)
mlp_latents = None         # latent sizes of MLP, e.g. [17]
dcgan_latents = None       # latent sizes of DCGAN
epochs = None              # epochs of every run (None: the profile's)
overrides = {}             # RunConfig fields for every run, e.g. {"lr": 1e-4}

# %% tags=["remove-input"]
from IPython.display import HTML, Markdown, display

from gen_core.data import CLASS_NAMES
from gen_core.report import experiment, findings, plots, provenance, runsets, session, tables, weights

FAMILY, DATASET = "gan", "cifar10"
ctx = session.setup(profile, data_dir, runs_dir, force)
exp = experiment.chapter(FAMILY, DATASET, epochs=epochs, overrides=overrides,
                         mlp_latents=mlp_latents, dcgan_latents=dcgan_latents)
configs = exp.configs(ctx.profile)     # every run of this chapter: the grid's rows, changed as above
display(Markdown(provenance.banner(provenance.provenance(ctx))))
display(HTML(provenance.reproduce_box(ctx, exp.name, exp.parameters())))
display(Markdown(findings.settings_sentence(ctx.profile, experiment.with_reports(configs))))

# %% [markdown]
# ## The runs
#
# The rows of the reports' grid for this chapter, sized by the profile named above. This notebook's parameters may change them: latent sizes show in `z`, and changed epochs or `overrides` in a `changed` column and in every label of that run.

# %% tags=["remove-input"]
display(tables.grid_table(configs))

# %% tags=["remove-output"]
# Load each run's saved results, or train it now if its config hash is not on disk.
runs = session.chapter_runs(configs, exp.name, ctx)
shown = runsets.first_seed(runs)     # figures draw seed 0; tables average over the seeds

# %% [markdown]
# ## Training curves
#
# Per optimizer step: the Jensen-Shannon estimate $\log 2 - L_D/2$ (nats), the discriminator loss $L_D$ and the non-saturating generator loss, smoothed by a rolling mean. A JSD estimate near 0 means the discriminator cannot tell real from generated; near $\log 2 \approx 0.693$ it separates them perfectly. Where one curve's runs differ in scale more than 20-fold, each run gets its own row of panels, each on its own y axis; a run has the same colour in every panel as in the legend.

# %% tags=["hide-input"]
plots.plot_curves(shown);

# %% [markdown]
# ## The yardstick over training
#
# FD to the test set at log-spaced epochs (the first, the last and a few between), against the images the generator was updated on (left) and against training seconds (right), one line per run; bars are 95% bootstrap intervals and the dashed line is the real-data floor. The earlier points measure a quarter as many samples as the last one (see {ref}`methods-over-training`), so their intervals are wider. A line still falling at its end means more training would change this chapter's numbers.

# %% tags=["hide-input"]
plots.plot_fd_over_training(shown, session.real_side(DATASET, ctx).floor["fd"]);

# %% [markdown]
# ## Samples
#
# Each grid decodes the same fixed noise, drawn once per run, at the last epoch.

# %% tags=["hide-input"]
plots.plot_final_samples(shown);

# %% [markdown]
# How the samples of each run change over training, for the same fixed noise:

# %% tags=["hide-input"]
for run in shown:
    plots.plot_samples_over_training(run)

# %% [markdown]
# ## Latent interpolations
#
# The best run of this chapter (lowest FD): each row generates ten latents between two random draws, on a straight line (left) and on the great circle between them (spherical, right). A Gaussian latent of this size lies near a sphere of radius $\sqrt{z}$, and the straight line's midpoint falls inside it, where the generator saw no training noise; the spherical path stays at that radius. Every image is drawn in eval mode, so it depends only on its own latent, not on the other latents of its batch.

# %% tags=["hide-input"]
best = runsets.best_run(runs)
if best is not None:
    plots.plot_interpolations(best, weights.interpolations(best, ctx));

# %% [markdown]
# ## Numbers
#
# Each configuration trained with several seeds shows its seed mean first (with the 95% interval of that mean), then one row per seed with its own bootstrap interval; a configuration with a single seed shows that seed, marked "one seed". The final epoch's mean JSD estimate; then the yardstick every family shares (see Methods and the comparison page): Fréchet distance (FD) to the test set in the classifier's feature space, precision, recall, density and coverage, each with its 95% bootstrap interval in brackets; the share of samples on the real manifold (*on data*) and the share that count for mode collapse (*counted*), the classes the counted ones cover and the collapse rule's verdict (see {ref}`methods-collapse`); and whether FD was still falling at the end. Sharpness relative to real test images follows, then cost, in this process's CPU seconds of the training steps, which leave out the time a run waited while other work on the machine had the CPU: the steps' CPU seconds (*train CPU s*) and the images the optimizer saw per CPU second (*images / CPU s*). The bar chart shows the label histogram of the samples that count, for each run the collapse rule judges (runs not yet on the data are left out); the dashed line is the uniform share a generator covering every class would get.

# %% tags=["remove-input"]
display(tables.summary_table(runs))

# %% tags=["hide-input"]
plots.plot_label_histograms(runsets.on_the_data(shown), CLASS_NAMES[DATASET]);

# %% [markdown]
# ## What this run shows

# %% tags=["remove-input"]
display(Markdown(findings.chapter_findings(runs, session.real_side(DATASET, ctx), ctx.profile)))

# %% [markdown]
# How this chapter's runs rank against the other families on one yardstick: {ref}`comparison`. How each number is measured: {ref}`methods-yardstick`.
