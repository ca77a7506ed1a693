"""The report: what the chapter notebooks and the comparison call, one module per job.

    session      the notebook's context, its runs (loaded or trained, measured; the one retry
                 of a corrupt run), the yardstick's real side, which runs each chapter used
    experiment   a chapter's parameters (latent sizes, epochs, overrides) -> its configs
    provenance   where results came from: commit, data copy, banner, the reproduce box
    runsets      questions over sets of runs: seed means, best runs, pairs, extremes
    tables       pandas tables of configs and runs
    findings     prose from numbers: pure functions, no loading, training or measuring
    comparison   the comparison page's prose across families, built on findings' sentences
    weights      figures that need a run's weights (interpolations, 2-D latents, memorization)
    plots        matplotlib/seaborn figures

The library below it (`gen_core.config`, `grid`, `families`, `train`, `results`, `yardstick`)
trains and measures; nothing there imports from here.
"""
