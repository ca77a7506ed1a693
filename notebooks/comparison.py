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
# (comparison)=
# # Comparison: one yardstick for all three families
#
# Each chapter measures its family on its own number: the VAE's negative ELBO, the GAN's
# Jensen-Shannon estimate, the WGAN's Earth-Mover estimate. Those cannot be compared across
# families, so neither report could say which model generates the best images.
# This page measures every run of the grid the same way, in the feature space of a classifier
# trained on the real training set (a LeNet for MNIST, a small ResNet for CIFAR-10; see {ref}`methods-yardstick`).
# The chapters behind it: {ref}`vae-mnist`, {ref}`gan-mnist`, {ref}`wgan-mnist`, {ref}`vae-cifar10`,
# {ref}`gan-cifar10` and {ref}`wgan-cifar10`; the tables list the WGAN chapters' gradient-penalty runs
# {cite:p}`gulrajani2017wgangp` as their own family, WGAN-GP. The measures:
#
# - **FD**, the Fréchet distance between Gaussians fitted to the features of $N$ generated
#   images and of the test set (lower is better), next to its floor: the same distance for $N$
#   real training images the classifier never trained on;
# - **KID** {cite:p}`binkowski2018demystifying`, the kernel distance between the same two sets of features,
#   unbiased at any $N$ (so it can dip below 0 for a sample as good as real data); shown beside FD, while
#   the verdicts use FD, and "What the grid shows" says where the two rank runs differently;
# - **precision** (how many samples fall on the real data's manifold) and **recall** (how much of
#   the real manifold the samples reach), as $k$-nearest-neighbour manifolds with $k = 3$;
# - **density** and **coverage** {cite:p}`naeem2020reliable`, with $k = 5$, which resist the outliers
#   that inflate $k$-NN precision;
# - **classes covered**: the classifier's label histogram over the samples it labels with confidence
#   and that lie on the real manifold ("on data"), the classes that get at least half their uniform
#   share, and the one collapse rule of {ref}`methods-collapse`;
# - for the VAE, the test-set negative ELBO; for every run, its training time and throughput in CPU seconds of
#   the training steps (*train CPU s*, *images / CPU s*), which leave out the time a run waited while other
#   work on the machine had the CPU.
#
# Every number carries a 95% interval in brackets (a bootstrap over the samples for one run, the
# interval of the mean over several seeds; {ref}`methods-intervals`). No sentence below names a winner
# unless every seed of it beats every seed of the other and the seed-mean intervals do not overlap; on one
# seed a verdict rests on bootstrap intervals and says it is provisional.

# %% tags=["parameters"]
# Flat parameters; papermill overrides them (see `make report`).
profile = "auto"       # auto | full | long | quick | smoke
data_dir = "data"      # torchvision layout; $GEN_DATA_DIR in the Makefile
runs_dir = "runs"      # run results, keyed by config hash
force = False          # accepted for symmetry; this page never forces a retrain

# %% tags=["remove-input"]
import pandas as pd
from IPython.display import HTML, Markdown, display

from gen_core.data import CLASS_NAMES, DATASET_TITLES
from gen_core.report import (claims, comparison, experiment, findings, plots, provenance, replication, runsets,
                             session, tables, weights)

ctx = session.setup(profile, data_dir, runs_dir, force)
display(Markdown(provenance.banner(provenance.provenance(ctx))))
display(HTML(provenance.reproduce_box(ctx, "comparison")))

# %% tags=["remove-output"]
# Every chapter's runs as the chapter last ran them; the chapters trained and measured them, so this only loads.
runs = session.all_runs(ctx)
real_sides = {ds: session.real_side(ds, ctx) for ds in ("mnist", "cifar10")}
real_floors = {ds: real.floor for ds, real in real_sides.items()}      # each floor's FD with its interval
frame = tables.comparison_frame(runs, real_floors)
floors = {DATASET_TITLES[ds]: real.floor for ds, real in real_sides.items()}

# %% [markdown]
# ## How these runs were trained
#
# Against the reports' settings, per dataset: data, epochs, and which rows ran at the reports' widths.

# %% tags=["remove-input"]
display(Markdown("\n\n".join(findings.settings_sentence(ctx.profile, experiment.with_reports(
    [r.config for r in runsets.first_seed(runs) if r.config.dataset == ds])) for ds in ("mnist", "cifar10"))))

# %% [markdown]
# ## The yardstick itself
#
# How good the classifier behind every number on this page is, and what real data scores:

# %% tags=["remove-input"]
display(Markdown("\n\n".join(f"- {findings.classifier_sentence(real)} {findings.floor_sentence(real)} "
                             f"{findings.real_collapse_sentence(real)}" for real in real_sides.values())))

# %% [markdown]
# ## Every run
#
# Grouped by dataset and ranked by FD, best first (a configuration with several seeds by its seed mean).
# A configuration trained with several seeds shows its seed mean first, with the 95% interval of that mean,
# then each seed with its own bootstrap interval; one with a single seed shows that seed, marked "one seed".
# *FD / floor* divides by the real-data floor (*floor FD*, with its interval), so 1 would be
# indistinguishable from real images at this $N$; it reads n/a where the floor's own interval spans more
# than a factor of 2, too uncertain to divide by. FD values are not comparable
# across datasets: each dataset has its own classifier and feature space.

# %% tags=["remove-input"]
with pd.option_context("display.max_rows", None):   # every row: pandas shows only 10 of a table over 60
    display(tables.comparison_table(runs, real_floors))

# %% [markdown]
# ## Distance against latent size
#
# One line per variant (colour: family; marker and legend: the variant), each point with its 95% interval (over
# several seeds, the interval of the seed mean); the dashed line is the real-data floor. Both axes are logarithmic.

# %% tags=["hide-input"]
plots.plot_fd_vs_latent(frame, {ds: f["fd"] for ds, f in floors.items()});

# %% [markdown]
# ## Precision against recall
#
# One point per configuration. A sharp generator that only produces a few kinds of image sits
# top left (high precision, low recall); a blurry one that spreads over everything sits lower.
# The star is real training data.

# %% tags=["hide-input"]
plots.plot_precision_recall(frame, floors);

# %% [markdown]
# ## The yardstick over training
#
# The best configuration of each family (lowest final FD), measured at log-spaced epochs: FD against the images its
# generator was updated on (left; a WGAN updates its generator once per five critic steps, so equal epochs are not
# equal training) and against training seconds (right). Bars are 95% bootstrap intervals; the dashed line is the
# real-data floor. "What the grid shows" below compares the families at the end and at equal generator updates.

# %% tags=["hide-input"]
for dataset in ("mnist", "cifar10"):
    plots.plot_fd_over_training(runsets.best_per_family(runs, dataset), real_sides[dataset].floor["fd"],
                                with_family=True, title=DATASET_TITLES[dataset])

# %% [markdown]
# ## Classes covered
#
# How many of the ten classes each configuration's counted samples cover ({ref}`methods-collapse`;
# for a run not yet on the data that count rests on few samples, and the book reads it neither as
# collapse nor as its absence), then the label histograms of the most collapsed and the most even
# run on the data on each dataset (the dashed line is the uniform share).

# %% tags=["hide-input"]
plots.plot_class_bars(frame);

# %% tags=["hide-input"]
for dataset in ("mnist", "cifar10"):
    extremes = [r for r in runsets.collapse_extremes(runs) if r.config.dataset == dataset]
    plots.plot_label_histograms(extremes, CLASS_NAMES[dataset], with_family=True,
                                empty=f"no {DATASET_TITLES[dataset]} run is on the data yet: no label histogram to show")

# %% [markdown]
# ## The best run of each family
#
# Per dataset, the configuration of each family with the lowest FD, drawn from its fixed noise
# at the last epoch: VAE, GAN and WGAN side by side.

# %% tags=["hide-input"]
for dataset in ("mnist", "cifar10"):
    plots.plot_final_samples(runsets.best_per_family(runs, dataset), with_family=True)

# %% [markdown]
# ## Memorization check
#
# Could a low FD come from copying training images? For the best GAN or WGAN and the best VAE on each dataset,
# 16 samples (left of each pair) beside their nearest training image in the classifier's feature space (right),
# with the distance between them. The baseline is the same distance for real test images, which no model saw.

# %% tags=["hide-input"]
checks = [weights.nearest_training(run, ctx) for ds in ("mnist", "cifar10")
          for run in runsets.memorization_candidates(runs, ds)]
for found in checks:
    plots.plot_nearest_training(found)

# %% tags=["remove-input"]
display(Markdown("\n".join(f"- {comparison.memorization_sentence(found)}" for found in checks)))

# %% [markdown]
# ## What the grid shows
#
# Every number below is read from this build's runs. First the answers, one row per question: the verdict by the
# one rule of {ref}`methods-intervals` (a winner only where every seed of it beats every seed of the others and the
# seed-mean intervals do not overlap; with one seed, a provisional verdict on bootstrap intervals), the numbers
# behind it and the seeds it rests on. Then the same answers in words, with what each one leaves out.

# %% tags=["remove-input"]
display(comparison.answers_shown(comparison.answers_table(runs, real_sides)))
display(Markdown(comparison.comparison_findings(runs, real_sides, ctx.profile)))

# %% [markdown]
# ## What replication showed
#
# Each configuration trains several seeds (three at `long` and `full`), so that a verdict rests on retraining
# and not only on resampling one run's samples. First, per configuration, how far its seeds' FDs spread
# (max / min) beside how wide one seed's bootstrap interval is (hi / lo, the median over its seeds); then every
# verdict of the book published before this one, which rested on one or two seeds, beside this build's answer
# to the same question.

# %% tags=["remove-input"]
display(Markdown(replication.seed_spread_sentence(runs)))
spread = replication.seed_spread_table(runs)
if not spread.empty:                                    # no configuration with two seeds: the sentence says so
    display(tables.wrapped(spread, "seed-spread", hide_index=True))
previous = replication.previous_verdicts_table(runs)
display(Markdown(replication.previous_sentence(previous)))
display(tables.wrapped(previous, "previous-verdicts", hide_index=True))

# %% [markdown]
# ## The reports, claim by claim
#
# The two reports this book starts from make 26 claims (listed in the project's design notes: M1-M9 from the
# report that trained the MLPs, C1-C17 from the one that trained the conv models). Each row tests one claim with
# one stated measurement and the one rule of {ref}`methods-intervals`, and says whether these runs agree,
# contradict it, or cannot tell, and why ({ref}`methods-claims`).

# %% tags=["remove-input"]
results = claims.claim_results(runs, real_sides, ctx.profile)
display(Markdown(claims.claims_sentence(results)))
display(claims.claims_shown(claims.claims_frame(results)))

# %% [markdown]
# ## How this distance relates to Inception FID
#
# Published GAN scores use the Fréchet *Inception* Distance {cite:p}`heusel2017fid`: the same formula,
# but on 2048-dimensional features of an Inception-v3 network trained on ImageNet, usually with
# 50 000 samples against the training set. Ours uses a small classifier trained on the dataset
# itself, a feature space of 64 to 256 dimensions, $N$ samples against the test set. The distance
# scales with the feature space's dimension and spread and it is biased upward at small $N$, so
# the two are **not on one scale**: an FD of 10 here says nothing about an FID of 10 there, and
# the MNIST and CIFAR-10 numbers on this page are not on one scale with each other either. What
# carries over is the ranking within one feature space, and the floor tells how far from real data
# a run is. Inception FID needs ImageNet weights downloaded at run time, so it is not part of
# `make report`, which must work offline.
#
# For context only, and **not comparable** with the numbers above, published Inception FIDs on
# CIFAR-10 for DCGAN and WGAN-GP (StudioGAN) and for the standard GAN loss and WGAN-GP in the
# large study of {cite:t}`lucic2018equal`. Even among themselves these differ in architecture,
# tuning budget and the real images they are measured against:

# %% tags=["remove-input"]
display(tables.published_fids())
