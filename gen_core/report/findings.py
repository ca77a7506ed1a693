"""The book's prose about results: sentences built from the runs' numbers.

Pure functions: numbers (runs already measured, the yardstick's reference) in, Markdown out.
Nothing here loads, trains or measures, so the prose always matches the numbers it is given.
"""
from __future__ import annotations

from .. import families
from ..config import DATASETS
from ..data import DATASET_TITLES
from ..results import Run
from ..yardstick import Reference
from .runsets import (average_seeds, best_per_family, complete, config_key, first_seed, score,
                      seeds_per_configuration, value, variant_pair)


def fmt(x, digits=3) -> str:
    """A number for prose: whole above 100, else `digits` significant digits; "n/a" for None."""
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}g}"


def plural(n, word: str, plural_form: str | None = None) -> str:
    return f"{fmt(n)} {word if n == 1 else (plural_form or word + 's')}"


def red(text: str) -> str:
    return f'<span style="color:#c00">{text}</span>'


def diverged_notes(runs: list[Run]) -> str:
    notes = [f"- **{r.config.label} (seed {r.config.seed}) diverged** at epoch {r.summary['diverged_at'].get('epoch')}, "
             f"step {r.summary['diverged_at'].get('step')}: its curves stop there and it has no sample metrics."
             for r in runs if r.diverged]
    return "\n".join(notes)


def latent_trend(runs: list[Run], key: str, label: str) -> list[str]:
    """Per variant with several latent sizes: does the metric improve as z grows?"""
    lines = []
    by_variant: dict[str, list[Run]] = {}
    for r in [r for r in complete(average_seeds(runs)) if value(r, key) is not None]:
        by_variant.setdefault(r.config.variant, []).append(r)
    for variant, group in by_variant.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.config.latent_dim)
        pairs = ", ".join(f"z={r.config.latent_dim}: {fmt(value(r, key))}" for r in group)
        scores = [score(r, key) for r in group]
        better = [b < a for a, b in zip(scores, scores[1:])]
        trend = ("improves with every step up in latent size" if all(better) else
                 "does not improve with latent size" if not any(better) else "does not change monotonically")
        lines.append(f"- {variant}: {label} {trend} ({pairs}).")
    return lines


def classifier_sentence(ref: Reference) -> str:
    """The yardstick's classifier accuracy against its profile's floor (in red when below)."""
    s = ref.classifier.summary
    title = DATASET_TITLES[ref.dataset]
    text = (f"The {s['arch']} classifier behind these numbers labels {s['test_accuracy']:.1%} of "
            f"{s['test_images']} real {title} test images correctly (trained for {plural(s['epochs'], 'epoch')} on "
            f"{s['train_images']} training images; the {s['profile']} profile asks for at least {s['floor']:.0%}).")
    if s["below_floor"]:
        return red(f"<b>Below its floor:</b> {text} Its features and labels are too weak to trust these numbers.")
    return text


def floor_sentence(ref: Reference) -> str:
    f = ref.floor
    return (f"{ref.n_samples} real {DATASET_TITLES[ref.dataset]} training images measured against the test set, "
            f"exactly like a generator's samples, give FD {fmt(f['fd'])}, precision {f['precision']:.2f} and "
            f"recall {f['recall']:.2f}: the best a perfect generator could expect at this N.")


def seeds_sentence(profile: str, n_seeds: int) -> str:
    return (f"Every configuration ran with {n_seeds} seeds; tables show mean ± standard deviation." if n_seeds > 1 else
            f"The {profile} profile trains each configuration once (seed 0), so the tables carry no error bars: "
            f"differences smaller than a few percent may be noise.")


def collapse_lines(runs: list[Run]) -> list[str]:
    """Coverage of every run; the MLP runs are checked against the reports' collapse."""
    lines = []
    for r in complete(average_seeds(runs)):
        covered = value(r, "classes_covered")
        collapsed = covered <= 6
        state = "collapsed onto a few classes" if collapsed else "covers most classes"
        if r.config.arch == "mlp":
            state += (", which agrees with the reports" if collapsed else ", which does not reproduce the reports' collapse")
        lines.append(f"- {r.config.label} covers {fmt(covered)} of 10 classes (KL to uniform "
                     f"{fmt(value(r, 'kl_to_uniform'))} nats, recall {value(r, 'recall'):.2f}): it {state}.")
    return lines


def conv_vs_mlp(runs: list[Run], key: str, label: str) -> str | None:
    done = [r for r in complete(average_seeds(runs)) if value(r, key) is not None]
    mlp = [r for r in done if r.config.arch == "mlp"]
    conv = [r for r in done if r.config.arch == "conv"]
    if not mlp or not conv:
        return None
    best_mlp = min(mlp, key=lambda r: score(r, key))
    best_conv = min(conv, key=lambda r: score(r, key))
    conv_wins = score(best_conv, key) < score(best_mlp, key)
    verdict = "the convolutional model is better" if conv_wins else "the MLP is as good or better"
    return (f"On {label}, {verdict}: best conv ({best_conv.config.label}) {fmt(value(best_conv, key))} "
            f"against best MLP ({best_mlp.config.label}) {fmt(value(best_mlp, key))}.")


def estimate_trend(runs: list[Run], key: str, name: str) -> list[str]:
    lines = []
    for r in first_seed(complete(runs)):
        per_epoch = r.history["epochs"].get(key, [])
        if len(per_epoch) >= 2:
            direction = "fell" if per_epoch[-1] < per_epoch[0] else "rose"
            lines.append(f"- {r.config.label}: the {name} {direction} from {fmt(per_epoch[0])} "
                         f"in epoch 1 to {fmt(per_epoch[-1])} in epoch {len(per_epoch)}.")
    return lines


def chapter_findings(runs: list[Run], ref: Reference, profile: str) -> str:
    """Markdown: a chapter's results (one family on one dataset), checked against the reports' findings."""
    family = families.get(runs[0].config.family) if runs else None
    out = [classifier_sentence(ref) + " " + floor_sentence(ref) + " " +
           seeds_sentence(profile, seeds_per_configuration(runs)), ""]
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.**", notes, ""]
    out.append("**Latent size.** Frechet distance in the classifier's feature space (lower is better), "
               "per architecture:")
    out += latent_trend(runs, "fd", "FD")
    for question in family.latent_questions if family else []:
        out.append("\n" + question.heading)
        out += latent_trend(runs, question.key, question.name)
    if family and family.adversarial:
        key, name = family.estimate
        out.append(f"\n**The {name} over training.**")
        out += estimate_trend(runs, key, name)
    if family and family.checks_collapse:
        out.append("\n**Mode collapse.** The reference reports saw their MLP GAN produce only a few "
                   "digit classes. Under the classifier, in our run:")
        out += collapse_lines(runs)
    if family and family.variant_pair:
        out += ["", clip_vs_gp_sentence(runs)]
    if ref.dataset == "cifar10":
        line = conv_vs_mlp(runs, "fd", "FD")
        if line:
            out.append(f"\n**CIFAR-10 is hard for MLPs.** The reports found MLPs struggle on CIFAR-10. {line[0].upper()}{line[1:]}")
    return "\n".join(out)


def clip_vs_gp_sentence(runs: list[Run]) -> str:
    """Markdown: weight clipping against the gradient penalty on the same DC-WGAN networks."""
    by_config = {config_key(r.config): r for r in average_seeds(runs)}
    pair = [by_config[config_key(r.config)] for r in variant_pair(runs)]
    head = "**Weight clipping against the gradient penalty.**"
    if len(pair) < 2:
        return f"{head} This grid has no DC-WGAN and WGAN-GP pair of one latent size to compare."
    clipped, gp = pair
    if clipped.diverged or gp.diverged or value(clipped, "fd") is None or value(gp, "fd") is None:
        lost = " and ".join(r.config.label for r in pair if r.diverged or value(r, "fd") is None)
        return f"{head} {lost} has no sample metrics (diverged), so the two cannot be compared here."
    better = gp if value(gp, "fd") < value(clipped, "fd") else clipped
    how = "the gradient penalty" if better is gp else "weight clipping"
    emd = gp.summary["final_epoch"].get("emd")
    return (f"{head} On the same networks and latent size (z={gp.config.latent_dim}), {how} gives the lower FD: "
            f"clipping {fmt(value(clipped, 'fd'))} (precision {value(clipped, 'precision'):.2f}, recall "
            f"{value(clipped, 'recall'):.2f}, {plural(value(clipped, 'classes_covered'), 'class', 'classes')}) against "
            f"the penalty {fmt(value(gp, 'fd'))} (precision {value(gp, 'precision'):.2f}, recall "
            f"{value(gp, 'recall'):.2f}, {plural(value(gp, 'classes_covered'), 'class', 'classes')}). The penalised "
            f"critic trained at {fmt(value(gp, 'images_per_second'))} images/s against "
            f"{fmt(value(clipped, 'images_per_second'))} for the clipped one: each critic step also differentiates "
            f"through the critic's gradient. Because the penalty holds the critic near 1-Lipschitz, its final EMD "
            f"estimate ({fmt(emd)}) is on the scale of a Wasserstein-1 distance between images in [-1, 1]; the "
            f"clipped critic's estimate is scaled by an unknown constant.")


# ---- the comparison: every chapter side by side ---------------------------------------------

def dataset_verdict(runs: list[Run], ref: Reference) -> str:
    ds = ref.dataset
    best = sorted(best_per_family(runs, ds), key=lambda r: value(r, "fd"))
    listing = "; ".join(f"{families.get(r.config.family).title} {r.config.label}: FD {fmt(value(r, 'fd'))} "
                        f"({fmt(value(r, 'fd') / ref.floor['fd'])} × the real-data floor), precision "
                        f"{value(r, 'precision'):.2f}, recall {value(r, 'recall'):.2f}, "
                        f"{plural(value(r, 'classes_covered'), 'class', 'classes')} covered" for r in best)
    lead = best[0]
    hedge = (" The classifier is below its floor, so this ranking is a hint, not a verdict."
             if ref.classifier.summary["below_floor"] else "")
    return (f"**Which family is best on {DATASET_TITLES[ds]}?** {classifier_sentence(ref)} "
            f"{floor_sentence(ref)} The best configuration of each family, by FD: {listing}. "
            f"The {families.get(lead.config.family).title} ({lead.config.label}) leads.{hedge}")


def latent_summary(runs: list[Run]) -> list[str]:
    lines = []
    for fam in families.names():
        for ds in DATASETS:
            trend = latent_trend([r for r in runs if r.config.family == fam and r.config.dataset == ds], "fd", "FD")
            lines += [f"- {families.get(fam).title}, {DATASET_TITLES[ds]}, {line[2:]}" for line in trend]
    helped = sum("improves with every step" in line for line in lines)
    head = (f"**Do larger latents help?** In {helped} of {len(lines)} architectures with several latent sizes, "
            f"FD improves with every step up in latent size:")
    return [head] + lines


def mlp_collapse(runs: list[Run]) -> str | None:
    """Against the reports' finding that their MLP GAN collapsed onto 3 or 4 MNIST digits."""
    mlp_gans = [r for r in complete(average_seeds(runs)) if families.get(r.config.family).reports_collapse
                and r.config.arch == "mlp" and r.config.dataset == "mnist"]
    if not mlp_gans:
        return None
    worst = min(mlp_gans, key=lambda r: value(r, "classes_covered"))
    covered = value(worst, "classes_covered")
    agree = ("agrees with" if covered <= 4 else "comes close to" if covered <= 6 else "does not reproduce")
    coverage = ", ".join(f"{r.config.label}: {fmt(value(r, 'classes_covered'))} classes, recall "
                         f"{value(r, 'recall'):.2f}" for r in mlp_gans)
    return (f"**Does the MLP GAN collapse?** On MNIST the MLP GANs cover {coverage}. The least diverse "
            f"({worst.config.label}) covers {fmt(covered)} of 10 classes, which {agree} the reports' collapse "
            f"onto 3 or 4 digits.")


def conv_on_cifar(runs: list[Run]) -> list[str]:
    lines = []
    for fam in families.names():
        line = conv_vs_mlp([r for r in runs if r.config.family == fam and r.config.dataset == "cifar10"],
                           "fd", f"the CIFAR-10 {families.get(fam).title}'s FD")
        if line:
            lines.append(f"- {line}")
    wins = sum("convolutional model is better" in line for line in lines)
    return [f"**Does convolution matter on CIFAR-10?** The convolutional model has the lower FD in {wins} of "
            f"{len(lines)} families:"] + lines


def comparison_findings(runs: list[Run], refs: dict[str, Reference], profile: str) -> str:
    """Markdown: the grid's verdicts across families. refs: {dataset: its yardstick reference}."""
    out = [seeds_sentence(profile, seeds_per_configuration(runs)), ""]
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.** They are left out of the comparisons below.", notes, ""]
    for ds in DATASETS:
        if best_per_family(runs, ds):
            out += [dataset_verdict(runs, refs[ds]), ""]
    out += latent_summary(runs) + [""]
    collapse = mlp_collapse(runs)
    if collapse:
        out += [collapse, ""]
    out += conv_on_cifar(runs)
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
