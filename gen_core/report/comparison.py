"""The comparison page's prose: every chapter's runs side by side, and against the reports.

Pure functions like findings.py, whose sentences they share: runs already measured and the yardstick's
real sides in, Markdown out.
"""
from __future__ import annotations

from .. import families
from ..config import DATASETS
from ..data import DATASET_TITLES
from ..results import Run
from ..yardstick import COLLAPSE_STATES, RealSide
from .findings import (classifier_sentence, conv_vs_mlp, family_label, floor_sentence, improving_sentence,
                       latent_trend, lost_run_notes, named_verdict, plural, profile_seed_range, ranked, reports_looked,
                       seeds_sentence, shares_clause)
from .intervals import fmt, show
from .runsets import (average_seeds, best_per_family, complete, config_key, estimate, nearest_point, point_estimate,
                      seed_range, seeds_measured, value)


def dataset_verdict(runs: list[Run], real: RealSide) -> str:
    ds = real.dataset
    best = sorted(best_per_family(runs, ds), key=lambda r: value(r, "fd"))
    listing = "; ".join(f"{family_label(r)}: FD {show(estimate(r, 'fd'))} "
                        f"({fmt(value(r, 'fd') / real.floor['fd'])} × the floor), precision "
                        f"{show(estimate(r, 'precision'), 2)}, recall {show(estimate(r, 'recall'), 2)}, coverage "
                        f"{show(estimate(r, 'coverage'), 2)}" for r in best)
    hedge = (" The classifier is below its floor, so this ranking is a hint, not a verdict."
             if real.classifier.summary["below_floor"] else "")
    return (f"**Which family is best on {DATASET_TITLES[ds]}, at the end of training?** {classifier_sentence(real)} "
            f"{floor_sentence(real)} The best configuration of each family, by FD: {listing}. "
            f"{named_verdict([(family_label(r), estimate(r, 'fd')) for r in best])}{hedge}")


def _seed_mean_note(run: Run) -> str:
    """", the geometric mean of n seeds with its interval" for a seed-averaged run (its FD), else ""."""
    n = seeds_measured(run)
    return f", the geometric mean of {n} seeds with its interval" if n > 1 else ""


def equal_budget_verdict(runs: list[Run], dataset: str) -> str | None:
    """The same families at (nearly) equal generator updates: each best configuration's measurement
    over training nearest to the smallest final budget among them."""
    best = [r for r in best_per_family(runs, dataset) if value(r, "over_training") and r.summary.get("generator_images")]
    if len(best) < 2:
        return None
    budget = int(min(r.summary["generator_images"] for r in best))
    chosen = [(r, nearest_point(r, budget)) for r in best]
    # a seed-averaged point says so itself: the chosen configurations may have different seed counts
    listing = "; ".join(f"{family_label(r)} after epoch {p['epoch']} ({int(p['generator_images']):,} images"
                        f"{_seed_mean_note(r)}): FD {show(point_estimate(p))}" for r, p in chosen)
    spread = max(p["generator_images"] for _, p in chosen) / min(p["generator_images"] for _, p in chosen)
    hedge = (f" Measurements are per epoch, so these budgets still differ by up to {spread:.1f}×: read this as "
             f"approximate." if spread > 1.25 else "")
    per_epoch = "; ".join(f"{family_label(r)} {int(r.summary['generator_images'] // max(r.summary.get('epochs_done', 1), 1)):,}"
                          for r in best)
    return (f"**And at equal generator updates?** Equal epochs are not equal training: per epoch, these generators "
            f"were updated on {per_epoch} images. The smallest budget among these runs is {budget:,} images "
            f"through the generator; each family's measurement nearest to it: {listing}. "
            f"{named_verdict([(family_label(r), point_estimate(p)) for r, p in chosen])}{hedge}")


def latent_summary(runs: list[Run]) -> list[str]:
    lines = []
    for fam in families.names():
        for ds in DATASETS:
            trend = latent_trend([r for r in runs if r.config.family == fam and r.config.dataset == ds], "fd", "FD")
            lines += [f"- {families.get(fam).title}, {DATASET_TITLES[ds]}, {line[2:]}" for line in trend]
    helped = sum("improves with every step" in line for line in lines)
    flat = sum("does not change outside the noise" in line for line in lines)
    head = (f"**Do larger latents help?** In {helped} of {len(lines)} architectures with several latent sizes, "
            f"FD improves outside the noise with every step up in latent size; in {flat} it does not change "
            f"outside the noise:")
    return [head] + lines


def _mlp_collapse_answer(runs: list[Run]) -> tuple[str, str, int] | None:
    """(per-run listing, the answer against the reports' collapse, how many collapsed); None without MLP GANs."""
    mlp_gans = [r for r in complete(average_seeds(runs)) if reports_looked(r)]
    if not mlp_gans:
        return None
    states = {r.config.label: value(r, "collapse") for r in mlp_gans}
    listing = "; ".join(f"{r.config.label}: {value(r, 'collapse')} ({shares_clause(r)}"
                        + ("" if value(r, "collapse") == COLLAPSE_STATES[0] else
                           f"; they cover {fmt(value(r, 'classes_covered'))} classes") + ")" for r in mlp_gans)
    collapsed = [k for k, v in states.items() if v == COLLAPSE_STATES[1]]
    judged = [k for k, v in states.items() if v != COLLAPSE_STATES[0]]
    if collapsed:
        answer = f"{plural(len(collapsed), 'run')} collapsed, which agrees with the reports' collapse onto 3 or 4 digits"
    elif judged:
        answer = "none collapsed, which does not reproduce the reports' collapse onto 3 or 4 digits"
    else:
        answer = "none is on the data yet, so this grid cannot say whether they collapse"
    return listing, answer, len(collapsed)


def mlp_collapse(runs: list[Run]) -> str | None:
    """Against the reports' finding that their MLP GAN collapsed onto 3 or 4 MNIST digits, by the one rule."""
    found = _mlp_collapse_answer(runs)
    if found is None:
        return None
    listing, answer, _ = found
    return f"**Does the MLP GAN collapse?** By the one rule (Methods), the MNIST MLP GANs: {listing}. So {answer}."


def conv_on_cifar(runs: list[Run]) -> list[str]:
    lines = []
    for fam in families.names():
        line = conv_vs_mlp([r for r in runs if r.config.family == fam and r.config.dataset == "cifar10"],
                           "fd", f"the CIFAR-10 {families.get(fam).title}'s FD")
        if line:
            lines.append(f"- {line}")
    wins = sum("convolutional model is better" in line for line in lines)
    return [f"**Does convolution matter on CIFAR-10?** The convolutional model has the lower FD outside the noise "
            f"in {wins} of {len(lines)} families:"] + lines


def _nonzero_tally(first: str, counted: list[tuple[int, str]]) -> str:
    """`first`, then each "{}"-template of `counted` whose count is not zero, joined as a list in words:
    "in 0 it gets worse" reads as noise."""
    parts = [first] + [template.format(n) for n, template in counted if n]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def against_reports(runs: list[Run]) -> list[str]:
    """The reports' findings, point by point, against what this run measured: where it agrees, where
    the evidence says otherwise, and where it cannot say."""
    out = ["**Against the reports, point by point.**", ""]
    sharp = [line for fam in families.names() for q in families.get(fam).latent_questions if q.key == "sharpness_ratio"
             for ds in DATASETS for line in latent_trend([r for r in runs if r.config.family == fam
                                                          and r.config.dataset == ds], q.key, q.name)]
    if sharp:
        sharper = sum("improves with every step" in line for line in sharp)
        blurrier = sum("gets worse with every step" in line for line in sharp)
        flat = sum("does not change outside the noise" in line for line in sharp)
        tally = _nonzero_tally(f"in {sharper} of {len(sharp)} {'architecture' if len(sharp) == 1 else 'architectures'}"
                               f" with several latent sizes it improves outside the noise with every step up in z",
                               [(blurrier, "in {} it gets worse"), (flat, "in {} it does not change outside the noise"),
                                (len(sharp) - sharper - blurrier - flat, "in {} it is not monotone")])
        verdict = ("This agrees with reading larger latents as sharper." if sharper == len(sharp) else
                   "So this run cannot tell." if flat == len(sharp) else
                   "No architecture got sharper with every step up in z, so here the evidence does not support "
                   "reading larger latents as sharper." if sharper == 0 else
                   "Where a larger latent makes samples sharper, this run agrees with reading larger latents as "
                   "sharper; elsewhere the evidence says otherwise.")
        out.append(f"1. **Latent size against sharpness.** The reports related latent size to how sharp the samples "
                   f"look, by eye; here sharpness is measured against the test images' own (1 is as sharp; see the VAE "
                   f"chapters). {tally[0].upper()}{tally[1:]}. {verdict}")
    collapse = _mlp_collapse_answer(runs)
    if collapse:
        out.append(f"2. **MLP GAN collapse.** The reports saw their MNIST MLP GAN produce only 3 or 4 digit classes. "
                   f"By the one collapse rule, {collapse[1]}.")
    conv = conv_on_cifar(runs)[1:]
    if conv:
        wins = sum("convolutional model is better" in line for line in conv)
        losses = sum("the MLP is better" in line for line in conv)
        ties = len(conv) - wins - losses
        verdict = ("which agrees with the reports" if wins == len(conv) else
                   "which says otherwise: the MLPs did as well or better" if wins == 0 and losses else
                   "so this run cannot tell" if wins == 0 else
                   f"which agrees with the reports for {wins} of the {len(conv)} families only")
        tally = _nonzero_tally(f"in {wins} of {len(conv)} {'family' if len(conv) == 1 else 'families'}",
                               [(losses, "the MLP in {}"),
                                (ties, "{} is a tie within noise" if ties == 1 else "{} are ties within noise")])
        out.append(f"3. **Convolution on CIFAR-10.** The reports found MLPs struggle on CIFAR-10. Here the convolutional "
                   f"model has the lower FD outside the noise {tally}, {verdict} (the "
                   f"numbers are under \"Does convolution matter on CIFAR-10?\" above).")
    recipes = []
    for ds in DATASETS:
        # each adversarial family's best run with the reports' recipe (no gradient penalty: beyond the reports)
        best = [min(done, key=lambda r: value(r, "fd")) for fam in families.names() if families.get(fam).adversarial
                for done in [[r for r in complete(average_seeds(runs)) if r.config.family == fam
                              and r.config.dataset == ds and not r.config.gp]] if done]
        if len(best) > 1:
            named = [(family_label(r), estimate(r, "fd")) for r in best]
            recipes.append(f"on {DATASET_TITLES[ds]}, " + ", ".join(f"{n} FD {show(e)}" for n, e in named) + ". "
                           + named_verdict(named))
    if recipes:
        out.append("4. **WGAN against GAN.** The reports trained the WGAN with weight clipping beside the GAN; the best "
                   "run of each, by FD (the gradient-penalty runs are beyond the reports and left out here): "
                   + " And ".join(recipes))
    return out if len(out) > 2 else []


def seed_effects(runs: list[Run]) -> str:
    """Do seeds move FD more than one run's bootstrap interval is wide?"""
    groups: dict[str, list[Run]] = {}
    for r in complete(runs):
        groups.setdefault(config_key(r.config), []).append(r)
    several = [g for g in groups.values() if len(g) > 1]
    if not several:
        return ("**Seed effects.** Each configuration ran once, so seed-to-seed variation is not measured here; "
                "the intervals cover sampling noise only.")
    apart = sum(any(ranked(estimate(a, "fd"), estimate(b, "fd"), "fd") != 0 for a in g for b in g if a is not b)
                for g in several)
    return (f"**Seed effects.** In {apart} of {len(several)} configurations with several seeds, two seeds' FDs differ "
            f"outside their bootstrap intervals: there, retraining moves FD more than resampling does, and only the "
            f"interval of the seed mean is a fair basis for comparison.")


def comparison_findings(runs: list[Run], real_sides: dict[str, RealSide], profile: str) -> str:
    """Markdown: the grid's verdicts across families. real_sides: {dataset: the yardstick's real side}."""
    out = [seeds_sentence(profile, *seed_range(runs), profile_seed_range(profile, runs)), ""]
    out += lost_run_notes(runs, " They are left out of the comparisons below.")
    for ds in DATASETS:
        if best_per_family(runs, ds):
            out += [dataset_verdict(runs, real_sides[ds]), ""]
            budget = equal_budget_verdict(runs, ds)
            if budget:
                out += [budget, ""]
    out += latent_summary(runs) + [""]
    collapse = mlp_collapse(runs)
    if collapse:
        out += [collapse, ""]
    out += conv_on_cifar(runs) + ["", seed_effects(runs), "", improving_sentence(runs, with_family=True)]
    points = against_reports(runs)
    if points:
        out += [""] + points
    return "\n".join(out)


def memorization_sentence(found) -> str:
    """Markdown: are samples closer to the training set than unseen real images are?
    `found`: a weights.NearestTraining."""
    ratio = found.sample_median / found.test_median
    verdict = ("closer to the training set than unseen real images are, a sign of copying" if ratio < 0.5 else
               "no closer to the training set than unseen real images are: no sign of copying")
    return (f"{families.get(found.run.config.family).title} {found.run.config.label}: the median "
            f"distance from a sample to its nearest training image is {fmt(found.sample_median)}, against "
            f"{fmt(found.test_median)} for real test images (ratio {ratio:.2f}); its samples are {verdict}.")
