"""The book's prose about results: sentences built from the runs' numbers.

Pure functions: numbers (runs already measured, the yardstick's reference) in, Markdown out.
Nothing here loads, trains or measures, so the prose always matches the numbers it is given.
"""
from __future__ import annotations

import math

from .. import families
from ..config import DATASETS
from ..data import DATASET_TITLES
from ..grid import DATASET_SIZES, fewest_seeds, row_seeds
from ..grid import seeds as profile_seeds
from ..results import Run
from ..yardstick import COLLAPSE_STATES, COLLAPSED_MAX, CONFIDENT, COUNTED_MIN, ON_DATA_MIN, RealSide
from .intervals import Estimate, compare, fmt, leaders, scored, show
from .runsets import (average_seeds, best_per_family, complete, config_key, estimate, first_seed, nearest_point,
                      point_estimate, seed_range, still_improving, value, variant_pair)


def plural(n, word: str, plural_form: str | None = None) -> str:
    return f"{fmt(n)} {word if n == 1 else (plural_form or word + 's')}"


def red(text: str) -> str:
    return f'<span style="color:#c00">{text}</span>'


def diverged_notes(runs: list[Run]) -> str:
    notes = [f"- **{r.config.label} (seed {r.config.seed}) diverged** at epoch {r.summary['diverged_at'].get('epoch')}, "
             f"step {r.summary['diverged_at'].get('step')}: its curves stop there and it has no sample metrics."
             for r in runs if r.diverged]
    return "\n".join(notes)


def ranked(a: Estimate, b: Estimate, key: str) -> int:
    """compare() on the key's score: -1 if a is better outside the noise, 1 if b is, 0 for a tie.
    Lower is better; sharpness is best at a ratio of 1, so it ranks by |log ratio|."""
    if key != "sharpness_ratio":
        return compare(a, b)
    log_ratio = lambda v: abs(math.log(max(v, 1e-12)))          # noqa: E731
    return compare(scored(a, log_ratio, best_at=1.0), scored(b, log_ratio, best_at=1.0))


_STEP_WORDS = {1: "better", -1: "worse", 0: "within noise"}


def latent_trend(runs: list[Run], key: str, label: str) -> list[str]:
    """Per variant with several latent sizes: does the metric improve as z grows, outside the noise?"""
    lines = []
    by_variant: dict[str, list[Run]] = {}
    for r in [r for r in complete(average_seeds(runs)) if value(r, key) is not None]:
        by_variant.setdefault(r.config.variant, []).append(r)
    for variant, group in by_variant.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.config.latent_dim)
        pairs = ", ".join(f"z={r.config.latent_dim}: {show(estimate(r, key))}" for r in group)
        steps = [ranked(estimate(a, key), estimate(b, key), key) for a, b in zip(group, group[1:])]   # 1: larger z better
        if all(s == 1 for s in steps):
            trend = "improves with every step up in latent size"
        elif all(s == -1 for s in steps):
            trend = "gets worse with every step up in latent size"
        elif all(s == 0 for s in steps):
            trend = "does not change outside the noise with latent size"
        else:
            trend = "changes with latent size, not in one direction (" + ", ".join(
                f"z={a.config.latent_dim} to {b.config.latent_dim}: {_STEP_WORDS[s]}"
                for a, b, s in zip(group, group[1:], steps)) + ")"
        lines.append(f"- {variant}: {label} {trend} ({pairs}).")
    return lines


def classifier_sentence(ref: RealSide) -> str:
    """The yardstick's classifier accuracy against its profile's floor (in red when below)."""
    s = ref.classifier.summary
    title = DATASET_TITLES[ref.dataset]
    text = (f"The {s['arch']} classifier behind these numbers labels {s['test_accuracy']:.1%} of "
            f"{s['test_images']} real {title} test images correctly (trained for {plural(s['epochs'], 'epoch')} on "
            f"{s['train_images']} training images; the {s['profile']} profile asks for at least {s['floor']:.0%}).")
    if s["below_floor"]:
        return red(f"<b>Below its floor:</b> {text} Its features and labels are too weak to trust these numbers.")
    return text


def _fidelity(measures: dict, keys=("fd", "precision", "recall", "density", "coverage")) -> str:
    names = {"fd": "FD"}
    return ", ".join(f"{names.get(k, k)} {show(point_estimate(measures, k), 3 if k == 'fd' else 2)}"
                     for k in keys if k in measures)


def floor_sentence(ref: RealSide) -> str:
    return (f"{ref.n_samples} real {DATASET_TITLES[ref.dataset]} training images that the classifier never trained "
            f"on, measured against the test set exactly like a generator's samples, give {_fidelity(ref.floor)}: "
            f"the floor, what real data scores at this N.")


def seeds_sentence(profile: str, n_seeds: int, fewest: int | None = None,
                   trained_range: tuple[int, int] | None = None) -> str:
    """How many seeds the numbers average over (the most and the `fewest` of any configuration),
    and where seeds beyond the profile's came from. `trained_range`: the fewest and the most seeds
    the profile trains for this page's rows (default: for any row)."""
    fewest = n_seeds if fewest is None else fewest
    least, trained = trained_range or (fewest_seeds(profile), profile_seeds(profile))
    per = f"{trained} seed{'s' if trained > 1 else ''}" if least == trained else f"{least} to {trained} seeds"
    found = (f" The {profile} profile trains {per} per configuration; the "
             f"others were found in the runs folder "
             f"(`python -m gen_core --seeds N` trains them, here or on a cluster)." if n_seeds > trained else "")
    if n_seeds > 1:
        count = f"{n_seeds} seeds" if fewest == n_seeds else f"{fewest} to {n_seeds} seeds (the seeds column gives each)"
        return (f"Every configuration ran with {count}; tables show mean ± standard deviation and, in "
                f"brackets, the 95% interval of the mean.{found}")
    return (f"Every configuration here ran once (seed 0), as the {profile} profile trains it. Each number carries its "
            f"95% bootstrap "
            f"interval over the samples (in brackets), which leaves out seed-to-seed variation; where two intervals "
            f"overlap the text calls the difference a tie.")


def profile_seed_range(profile: str, runs: list[Run]) -> tuple[int, int] | None:
    """The fewest and the most seeds `profile` trains for the rows of `runs` (None for no runs)."""
    counts = [row_seeds(profile, r.config.family, r.config.dataset, r.config.arch) for r in runs]
    return (min(counts), max(counts)) if counts else None


def _widths(cfg, key: str) -> str:
    return "-".join(str(w) for w in getattr(cfg, key))


_WIDTH_NAMES = {"hidden": "generator/encoder hidden layers", "d_hidden": "discriminator/critic hidden layers",
                "channels": "generator/encoder channels", "d_channels": "discriminator/critic channels"}


def _width_change(cfg, full, changed: list[str]) -> str:
    """How a row's widths compare with the reports', by the widest layer of each changed stack."""
    ratios = [max(getattr(full, k)) / max(getattr(cfg, k)) for k in changed
              if getattr(full, k) and getattr(cfg, k)]
    if ratios and all(r > 1 for r in ratios):
        return f"is narrower, about 1/{max(ratios):.3g} of the reports' widths"
    if ratios and all(r < 1 for r in ratios):
        return f"is wider, about {1 / min(ratios):.3g}x the reports' widths"
    return "has other widths than the reports'"


def settings_sentence(profile: str, pairs: list) -> str:
    """How a page's runs differ from the reports' training of the same rows: data, epochs, and which
    rows run at the reports' widths and which are capped, by how much. `pairs`: (config, the
    reports' config of its row: grid.reports_config), one per run."""
    pairs = [(c, r) for c, r in pairs if r is not None]
    if not pairs:
        return ""
    images = sorted({(c.train_size or DATASET_SIZES[c.dataset], DATASET_SIZES[c.dataset], DATASET_TITLES[c.dataset])
                     for c, _ in pairs})
    data = "; ".join(f"all {total:,} {title} training images" if n == total else
                     f"{n:,} of the {total:,} {title} training images" for n, total, title in images)
    epochs = sorted({(c.epochs, r.epochs) for c, r in pairs})
    if all(e == full for e, full in epochs):
        when = f"the reports' {' and '.join(str(e) for e in sorted({e for e, _ in epochs}))} epochs"
    else:
        when = ", ".join(f"{plural(e, 'epoch')} (the reports: {full})" for e, full in epochs)
    same, capped = [], []
    for variant in dict.fromkeys(c.variant for c, _ in pairs):
        cfg, full = next((c, r) for c, r in pairs if c.variant == variant)
        changed = [k for k in _WIDTH_NAMES if getattr(cfg, k) != getattr(full, k)]
        if not changed:
            same.append(variant)
            continue
        detail = ", ".join(f"{_WIDTH_NAMES[k]} {_widths(full, k)} → {_widths(cfg, k)}" for k in changed)
        capped.append(f"{variant} {_width_change(cfg, full, changed)} ({detail})")
    widths = []
    if same:
        widths.append(f"{' and '.join(same) if len(same) < 3 else ', '.join(same[:-1]) + ' and ' + same[-1]} "
                      f"{'runs' if len(same) == 1 else 'run'} at the reports' widths")
    widths += capped
    return (f"**Against the reports' settings.** The `{profile}` profile trains these runs on {data}, for {when}. "
            + "; ".join(w[0].upper() + w[1:] if i == 0 else w for i, w in enumerate(widths)) + ".")


def _shares(r: Run) -> str:
    return f"{value(r, 'on_data'):.0%} of its samples lie on the data and {value(r, 'counted'):.0%} count"


def _reports_looked(r: Run) -> bool:
    """The reports saw collapse in one place only: their MLP GANs on MNIST."""
    return families.get(r.config.family).reports_collapse and r.config.arch == "mlp" and r.config.dataset == "mnist"


def collapse_lines(runs: list[Run]) -> list[str]:
    """The collapse rule's state for every run; the MLP runs are checked against the reports' collapse."""
    lines = []
    for r in complete(average_seeds(runs)):
        state = value(r, "collapse")
        head = f"- {r.config.label}: {_shares(r)}"
        if state == COLLAPSE_STATES[0]:
            lines.append(f"{head}, so it is **not yet on the data** and its collapse cannot be judged "
                         f"(recall {show(estimate(r, 'recall'), 2)}).")
            continue
        verdict = f"**{state}**"
        if _reports_looked(r):
            verdict += (", which agrees with the reports" if state == COLLAPSE_STATES[1]
                        else ", which does not reproduce the reports' collapse")
        lines.append(f"{head}; they cover {fmt(value(r, 'classes_covered'))} of 10 classes (KL to uniform "
                     f"{fmt(value(r, 'kl_to_uniform'))} nats): {verdict}.")
    return lines


def named_verdict(named: list[tuple[str, Estimate]], what: str = "FD") -> str:
    """The sentence every comparison ends on: one winner only if its interval overlaps no other's."""
    if len(named) == 1:
        return f"Only {named[0][0]} is here, so there is nothing to rank."
    if not all(e.has_interval for _, e in named):
        return f"Not every {what} here has an interval, so no winner is named."
    lead = leaders(named)
    if len(lead) == 1:
        return f"{lead[0]} has the lowest {what}, and its interval overlaps no other's."
    return (f"Within noise: {', '.join(lead[:-1])} and {lead[-1]} tie for the lowest {what} "
            f"(their intervals overlap).")


def conv_vs_mlp(runs: list[Run], key: str, label: str) -> str | None:
    done = [r for r in complete(average_seeds(runs)) if value(r, key) is not None]
    mlp = [r for r in done if r.config.arch == "mlp"]
    conv = [r for r in done if r.config.arch == "conv"]
    if not mlp or not conv:
        return None
    best_mlp = min(mlp, key=lambda r: value(r, key))
    best_conv = min(conv, key=lambda r: value(r, key))
    verdict = {-1: "the convolutional model is better", 1: "the MLP is better",
               0: "the convolutional model and the MLP tie within noise"}[
        ranked(estimate(best_conv, key), estimate(best_mlp, key), key)]
    return (f"On {label}, {verdict}: best conv ({best_conv.config.label}) {show(estimate(best_conv, key))} "
            f"against best MLP ({best_mlp.config.label}) {show(estimate(best_mlp, key))}.")


def estimate_trend(runs: list[Run], key: str, name: str) -> list[str]:
    lines = []
    for r in first_seed(complete(runs)):
        per_epoch = r.history["epochs"].get(key, [])
        if len(per_epoch) >= 2:
            direction = "fell" if per_epoch[-1] < per_epoch[0] else "rose"
            lines.append(f"- {r.config.label}: the {name} {direction} from {fmt(per_epoch[0])} "
                         f"in epoch 1 to {fmt(per_epoch[-1])} in epoch {len(per_epoch)}.")
    return lines


def improving_sentence(runs: list[Run], with_family: bool = False) -> str:
    """Which runs' FD was still falling over their last two measurements, outside the noise."""
    done = [r for r in complete(first_seed(runs)) if still_improving(r) is not None]
    if not done:
        return "**Converged?** No run was measured twice over training, so convergence is not judged here."
    name = (lambda r: f"{_family_label(r)} on {DATASET_TITLES[r.config.dataset]}") if with_family else \
        (lambda r: r.config.label)
    still = [f"{name(r)} (FD {show(point_estimate(value(r, 'over_training')[-2]))} then "
             f"{show(point_estimate(value(r, 'over_training')[-1]))})" for r in done if still_improving(r)]
    if not still:
        return (f"**Converged?** No run's FD fell outside the noise between its last two measurements "
                f"({len(done)} runs measured twice or more).")
    return (f"**Converged?** {plural(len(still), 'run')} of {len(done)} {'was' if len(still) == 1 else 'were'} "
            f"**still improving** at the end (FD fell outside the noise between the last two measurements): "
            f"{'; '.join(still)}. More epochs would change their numbers.")


def chapter_findings(runs: list[Run], ref: RealSide, profile: str) -> str:
    """Markdown: a chapter's results (one family on one dataset), checked against the reports' findings."""
    family = families.get(runs[0].config.family) if runs else None
    out = [classifier_sentence(ref) + " " + floor_sentence(ref) + " " +
           seeds_sentence(profile, *seed_range(runs), profile_seed_range(profile, runs)), ""]
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.**", notes, ""]
    out.append("**Latent size.** Frechet distance in the classifier's feature space (lower is better), "
               "per architecture:")
    out += latent_trend(runs, "fd", "FD")
    for question in family.latent_questions if family else []:
        out.append("\n" + question.heading)
        out += latent_trend(runs, question.key, question.name)
    out += ["", improving_sentence(runs)]
    if family and family.adversarial:
        key, name = family.estimate
        out.append(f"\n**The {name} over training.**")
        out += estimate_trend(runs, key, name)
    if family and family.checks_collapse:
        out.append(f"\n**Mode collapse.** The reference reports saw their MLP GAN produce only a few digit classes. "
                   f"{collapse_rule()} In our runs:")
        out += collapse_lines(runs)
    if family and family.variant_pair:
        out += ["", clip_vs_gp_sentence(runs)]
    if ref.dataset == "cifar10":
        line = conv_vs_mlp(runs, "fd", "FD")
        if line:
            out.append(f"\n**CIFAR-10 is hard for MLPs.** The reports found MLPs struggle on CIFAR-10. {line[0].upper()}{line[1:]}")
    return "\n".join(out)


def collapse_rule() -> str:
    """The one collapse rule, in words (from `yardstick`, where it is defined)."""
    return (f"A sample lies on the data when it falls on the real data's k-NN manifold, and counts when the "
            f"classifier also gives its top class at least {CONFIDENT:.0%} probability. A run with fewer than "
            f"{ON_DATA_MIN:.0%} of its samples on the data, or fewer than {COUNTED_MIN:.0%} counted, is *not yet on "
            f"the data*; otherwise it is *collapsed* when its counted samples cover at most {COLLAPSED_MAX} of the "
            f"10 classes (a class is covered with half its uniform share).")


def _recipe(cfg) -> str:
    constraint = f"a gradient penalty of weight {fmt(cfg.gp)}" if cfg.gp else f"weights clipped to ±{fmt(cfg.clip)}"
    betas = f", betas ({fmt(cfg.betas[0])}, {fmt(cfg.betas[1])})" if cfg.optimizer == "adam" else ""
    return f"{constraint}, {cfg.optimizer} at {cfg.lr:g}{betas}, a critic with {cfg.critic_norm} normalisation"


def clip_vs_gp_sentence(runs: list[Run]) -> str:
    """Markdown: the WGAN paper's recipe (clipping) against the WGAN-GP recipe on the same networks."""
    by_config = {config_key(r.config): r for r in average_seeds(runs)}
    pair = [by_config[config_key(r.config)] for r in variant_pair(runs)]
    head = "**Weight clipping (the WGAN paper's recipe) against the WGAN-GP recipe.**"
    if len(pair) < 2:
        return f"{head} This grid has no DC-WGAN and WGAN-GP pair of one latent size to compare."
    clipped, gp = pair
    if clipped.diverged or gp.diverged or value(clipped, "fd") is None or value(gp, "fd") is None:
        lost = " and ".join(r.config.label for r in pair if r.diverged or value(r, "fd") is None)
        return f"{head} {lost} has no sample metrics (diverged), so the two cannot be compared here."
    setup = (f"The two runs share the generator, the critic's widths, z={gp.config.latent_dim} and "
             f"{gp.config.n_critic} critic steps per generator step, and differ in three things at once: "
             f"{_recipe(clipped.config)} against {_recipe(gp.config)}. A difference between them belongs to the "
             f"recipe, not to the penalty alone.")
    verdict = {-1: "The WGAN-GP recipe gives the lower FD", 1: "Weight clipping gives the lower FD",
               0: "Their FDs tie within noise"}[ranked(estimate(gp, "fd"), estimate(clipped, "fd"), "fd")]
    numbers = (f"{verdict}: clipping {show(estimate(clipped, 'fd'))} (precision {show(estimate(clipped, 'precision'), 2)}, "
               f"recall {show(estimate(clipped, 'recall'), 2)}) against WGAN-GP {show(estimate(gp, 'fd'))} (precision "
               f"{show(estimate(gp, 'precision'), 2)}, recall {show(estimate(gp, 'recall'), 2)}).")
    norms = ""
    if value(clipped, "critic_grad_norm") is not None and value(gp, "critic_grad_norm") is not None:
        norms = (f" Measured at points between test images and samples, the clipped critic's mean gradient norm is "
                 f"{show(estimate(clipped, 'critic_grad_norm'))} and the penalised critic's "
                 f"{show(estimate(gp, 'critic_grad_norm'))} (in eval mode); a 1-Lipschitz critic has norm at most 1, "
                 f"and the penalty pulls it towards 1. An EMD estimate is a Wasserstein-1 distance only as far as its "
                 f"critic is 1-Lipschitz.")
    speed = (f" Throughput: {fmt(value(gp, 'images_per_second'))} images/s for the penalised critic against "
             f"{fmt(value(clipped, 'images_per_second'))} for the clipped one (each penalised step also differentiates "
             f"through the critic's gradient; timings on a shared machine vary by tens of percent).")
    return f"{head} {setup} {numbers}{norms}{speed}"


# ---- the comparison: every chapter side by side ---------------------------------------------

def _family_label(r: Run) -> str:
    return f"{families.get(r.config.family).title_of(r.config)} ({r.config.label})"


def dataset_verdict(runs: list[Run], ref: RealSide) -> str:
    ds = ref.dataset
    best = sorted(best_per_family(runs, ds), key=lambda r: value(r, "fd"))
    listing = "; ".join(f"{_family_label(r)}: FD {show(estimate(r, 'fd'))} "
                        f"({fmt(value(r, 'fd') / ref.floor['fd'])} × the floor), precision "
                        f"{show(estimate(r, 'precision'), 2)}, recall {show(estimate(r, 'recall'), 2)}, coverage "
                        f"{show(estimate(r, 'coverage'), 2)}" for r in best)
    hedge = (" The classifier is below its floor, so this ranking is a hint, not a verdict."
             if ref.classifier.summary["below_floor"] else "")
    return (f"**Which family is best on {DATASET_TITLES[ds]}, at the end of training?** {classifier_sentence(ref)} "
            f"{floor_sentence(ref)} The best configuration of each family, by FD: {listing}. "
            f"{named_verdict([(_family_label(r), estimate(r, 'fd')) for r in best])}{hedge}")


def _seed_mean_note(run: Run) -> str:
    """", the mean of n seeds with the interval of the mean" for a seed-averaged run, else ""."""
    n = run.summary.get("seeds", 1) - run.summary.get("seeds_diverged", 0)
    return f", the mean of {n} seeds with the interval of the mean" if n > 1 else ""


def equal_budget_verdict(runs: list[Run], dataset: str) -> str | None:
    """The same families at (nearly) equal generator updates: each best configuration's measurement
    over training nearest to the smallest final budget among them."""
    best = [r for r in best_per_family(runs, dataset) if value(r, "over_training") and r.summary.get("generator_images")]
    if len(best) < 2:
        return None
    budget = int(min(r.summary["generator_images"] for r in best))
    chosen = [(r, nearest_point(r, budget)) for r in best]
    # a seed-averaged point says so itself: the chosen configurations may have different seed counts
    listing = "; ".join(f"{_family_label(r)} after epoch {p['epoch']} ({int(p['generator_images']):,} images"
                        f"{_seed_mean_note(r)}): FD {show(point_estimate(p))}" for r, p in chosen)
    spread = max(p["generator_images"] for _, p in chosen) / min(p["generator_images"] for _, p in chosen)
    hedge = (f" Measurements are per epoch, so these budgets still differ by up to {spread:.1f}×: read this as "
             f"approximate." if spread > 1.25 else "")
    per_epoch = "; ".join(f"{_family_label(r)} {int(r.summary['generator_images'] // max(r.summary.get('epochs_done', 1), 1)):,}"
                          for r in best)
    return (f"**And at equal generator updates?** Equal epochs are not equal training: per epoch, these generators "
            f"were updated on {per_epoch} images. The smallest budget among these runs is {budget:,} images "
            f"through the generator; each family's measurement nearest to it: {listing}. "
            f"{named_verdict([(_family_label(r), point_estimate(p)) for r, p in chosen])}{hedge}")


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
    mlp_gans = [r for r in complete(average_seeds(runs)) if _reports_looked(r)]
    if not mlp_gans:
        return None
    states = {r.config.label: value(r, "collapse") for r in mlp_gans}
    listing = "; ".join(f"{r.config.label}: {value(r, 'collapse')} ({_shares(r)}"
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
            named = [(_family_label(r), estimate(r, "fd")) for r in best]
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


def comparison_findings(runs: list[Run], refs: dict[str, RealSide], profile: str) -> str:
    """Markdown: the grid's verdicts across families. refs: {dataset: its yardstick reference}."""
    out = [seeds_sentence(profile, *seed_range(runs), profile_seed_range(profile, runs)), ""]
    notes = diverged_notes(runs)
    if notes:
        out += ["**Diverged runs.** They are left out of the comparisons below.", notes, ""]
    for ds in DATASETS:
        if best_per_family(runs, ds):
            out += [dataset_verdict(runs, refs[ds]), ""]
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
