"""The book's prose about results: sentences built from the runs' numbers, for a chapter (one family
on one dataset) and shared with the comparison page's prose (comparison.py).

Pure functions: numbers (runs already measured, the yardstick's real side) in, Markdown out.
Nothing here loads, trains or measures, so the prose always matches the numbers it is given.
"""
from __future__ import annotations

from .. import families
from ..data import DATASET_TITLES
from ..grid import DATASET_SIZES, fewest_seeds, row_seeds
from ..grid import seeds as profile_seeds
from ..results import Run
from ..yardstick import (COLLAPSE_STATES, COLLAPSED_MAX, CONFIDENT, COUNTED_FRACTION, COUNTED_MIN, ON_DATA_FRACTION,
                         ON_DATA_MIN, RealSide)
from .intervals import fmt, show
from .runsets import (average_seeds, complete, config_key, estimate, first_seed, point_estimate, seed_estimates,
                      seed_range, seeds_measured, still_improving, unmeasurable, value, variant_pair)
from .verdicts import HIGHER_IS_BETTER, Entry, Outcome, Verdict, decide, sentence


def plural(n, word: str, plural_form: str | None = None) -> str:
    return f"{fmt(n)} {word if n == 1 else (plural_form or word + 's')}"


def red(text: str) -> str:
    return f'<span style="color:#c00">{text}</span>'


def diverged_notes(runs: list[Run]) -> str:
    notes = [f"- **{r.config.label} (seed {r.config.seed}) diverged** at epoch {r.summary['diverged_at'].get('epoch')}, "
             f"step {r.summary['diverged_at'].get('step')}: its curves stop there and it has no sample metrics."
             for r in runs if r.diverged]
    return "\n".join(notes)


def unmeasurable_notes(runs: list[Run]) -> str:
    """A line per run that trained without diverging but whose samples the yardstick could not measure."""
    notes = [f"- **{r.config.label} (seed {r.config.seed}) is unmeasurable**: {unmeasurable(r)}. Its losses stayed "
             f"finite, so its curves and samples are shown, but it has no yardstick numbers."
             for r in runs if unmeasurable(r) is not None]
    return "\n".join(notes)


def lost_run_notes(runs: list[Run], left_out: str = "") -> list[str]:
    """The paragraphs on runs without yardstick numbers (diverged, unmeasurable), each headed and followed
    by `left_out` (what the page does without them); [] when every run was measured."""
    out = []
    for head, notes in (("**Diverged runs.**", diverged_notes(runs)),
                        ("**Unmeasurable runs.**", unmeasurable_notes(runs))):
        if notes:
            out += [head + left_out, notes, ""]
    return out


def run_entry(name: str, run: Run, key: str) -> Entry:
    """One side of a verdict from a seed-averaged run (runsets.average_seeds): each measured seed's
    value of `key` with its own bootstrap interval, and the seed mean with its interval."""
    return Entry(name, tuple(seed_estimates(run, key)), estimate(run, key))


def measure_name(label: str) -> str:
    """A trend's label as verdicts.sentence names the measure: "the test -ELBO" -> "test -ELBO"."""
    return label.removeprefix("the ")


def latent_verdicts(runs: list[Run], key: str, label: str | None = None) -> dict[str, list[Verdict]]:
    """Per variant with several latent sizes (runs of one family on one dataset), one Verdict per step up
    in latent size: the smaller z against the next larger, by the rule (verdicts.decide)."""
    out: dict[str, list[Verdict]] = {}
    by_variant: dict[str, list[Run]] = {}
    for r in [r for r in complete(average_seeds(runs)) if value(r, key) is not None]:
        by_variant.setdefault(r.config.variant, []).append(r)
    for variant, group in by_variant.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.config.latent_dim)
        where = f"{families.get(group[0].config.family).title} {variant} on {DATASET_TITLES[group[0].config.dataset]}"
        out[variant] = [decide(f"{where}: does {label or key} change from z={a.config.latent_dim} to "
                               f"z={b.config.latent_dim}?", key,
                               [run_entry(f"z={r.config.latent_dim}", r, key) for r in (a, b)])
                        for a, b in zip(group, group[1:])]
    return out


# How one step up in latent size went, from its Verdict: the larger z wins or loses by the rule, is only
# ahead (or behind) in every seed, ties, or cannot be ranked.
BETTER, WORSE, AHEAD, BEHIND, WITHIN_NOISE, UNRANKED = "better", "worse", "ahead", "behind", "within noise", "unranked"


def step_outcome(v: Verdict) -> str:
    """One step's Verdict (entries: smaller z, then larger z) as seen from the larger z."""
    if v.outcome is Outcome.NOT_RANKED:
        return UNRANKED
    if v.outcome is Outcome.TIE:
        return WITHIN_NOISE
    larger = v.leaders[0] == v.entries[-1].name
    if v.outcome is Outcome.WINNER:
        return BETTER if larger else WORSE
    return AHEAD if larger else BEHIND


# An architecture's trend over all its steps (its kind), counted on the comparison page.
TRENDS = {"improves": "improves with every step up in latent size",
          "ahead": "is {better} in every seed with every step up in latent size, {how}",
          "flat": "does not change outside the noise with latent size",
          "worse": "gets worse with every step up in latent size",
          "behind": "is {worse} in every seed with every step up in latent size, {how}",
          "some steps": "changes with latent size at some steps only",
          "both ways": "changes with latent size, not in one direction",
          "not ranked": "cannot be ranked by latent size"}


def latent_trend_kind(steps: list[Verdict]) -> str:
    """The kind of an architecture's trend (a key of TRENDS), from its steps' outcomes alone."""
    seen = {step_outcome(v) for v in steps}
    if UNRANKED in seen:
        return "not ranked"
    for kind, allowed in (("improves", {BETTER}), ("worse", {WORSE}), ("flat", {WITHIN_NOISE}),
                          ("ahead", {BETTER, AHEAD}), ("behind", {WORSE, BEHIND})):
        if seen <= allowed:
            return kind
    return "both ways" if seen & {BETTER, AHEAD} and seen & {WORSE, BEHIND} else "some steps"


def ahead_words(measure: str) -> tuple[str, str]:
    """How "ahead" and "behind" in every seed read for a measure: lower / higher FD, nearer / farther from
    1 for sharpness, higher / lower for a share."""
    if measure == "sharpness_ratio":
        return "nearer 1", "farther from 1"
    return ("higher", "lower") if measure in HIGHER_IS_BETTER else ("lower", "higher")


def step_words(v: Verdict) -> str:
    """One step in words, from the larger z: "better", "within noise", "lower in every seed, not established"."""
    better, worse = ahead_words(v.measure)
    return {AHEAD: f"{better} in every seed, not established", BEHIND: f"{worse} in every seed, not established",
            UNRANKED: "not ranked"}.get(step_outcome(v), step_outcome(v))


def latent_trend(runs: list[Run], key: str, label: str) -> list[str]:
    """Per variant with several latent sizes: its trend in words (from its steps' outcomes), each size's
    number, and each step's verdict (verdicts.sentence)."""
    lines = []
    for variant, steps in latent_verdicts(runs, key, label).items():
        kind = latent_trend_kind(steps)
        better, worse = ahead_words(key)
        won = sum(step_outcome(v) in (BETTER, WORSE) for v in steps)
        how = "not established" if not won else f"established at {won} of {len(steps)} steps only"
        trend = TRENDS[kind].format(better=better, worse=worse, how=how)
        if kind in ("some steps", "both ways"):
            trend += " (" + ", ".join(f"{v.entries[0].name} to {v.entries[1].name.removeprefix('z=')}: {step_words(v)}"
                                      for v in steps) + ")"
        sizes = [steps[0].entries[0]] + [v.entries[1] for v in steps]
        pairs = ", ".join(f"{e.name}: {show(e.mean)}" for e in sizes)
        said = [sentence(v, measure_name(label)) for v in steps]
        if kind == "not ranked" and len(set(said)) == 1:
            said = said[:1]                  # "not every FD here has an interval", once
        elif len(steps) > 1:                 # each step's verdict names its step
            said = [f"{v.entries[0].name} to {v.entries[1].name.removeprefix('z=')}: {text}"
                    for v, text in zip(steps, said)]
        lines.append(f"- {variant}: {label} {trend} ({pairs}). {' '.join(said)}")
    return lines


def classifier_sentence(real: RealSide) -> str:
    """The yardstick's classifier accuracy against its profile's floor (in red when below)."""
    s = real.classifier.summary
    title = DATASET_TITLES[real.dataset]
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


def floor_sentence(real: RealSide) -> str:
    return (f"{real.n_samples} real {DATASET_TITLES[real.dataset]} training images that the classifier never trained "
            f"on, measured against the test set exactly like a generator's samples, give {_fidelity(real.floor)}: "
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
        count = (f"{n_seeds} seeds" if fewest == n_seeds else
                 f"{fewest} to {n_seeds} seeds (each table's \"mean of N seeds\" row says how many)")
        return (f"Every configuration ran with {count}; tables show the seed mean "
                f"and, in brackets, the 95% interval of the mean, which stays in the measure's range: FD's mean is "
                f"geometric, its interval taken on log FD; shares stay in [0, 1]; classes covered get none. Below each "
                f"mean, a row per seed gives that seed's own value and bootstrap interval.{found}")
    return (f"Every configuration here ran once (seed 0), as the {profile} profile trains it. Each number carries its "
            f"95% bootstrap "
            f"interval over the samples (in brackets), which leaves out seed-to-seed variation; where two intervals "
            f"overlap the text calls the difference a tie, and every verdict on one seed is provisional (Methods).")


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


def shares_clause(r: Run) -> str:
    """"90% of its samples lie on the data and 70% count", and the thresholds the rule held the run to
    where its measures store them (yardstick.judge_collapse)."""
    text = f"{value(r, 'on_data'):.0%} of its samples lie on the data and {value(r, 'counted'):.0%} count"
    y = r.yardstick
    if y.get("on_data_min") is not None and y.get("counted_min") is not None:
        text += f" (the rule asks for {y['on_data_min']:.0%} and {y['counted_min']:.0%})"
    return text


def modes_clause(r: Run) -> str:
    """Recall and coverage: how much of the real data the samples reach, beside the classes they cover."""
    return f"recall {show(estimate(r, 'recall'), 2)}, coverage {show(estimate(r, 'coverage'), 2)}"


def reports_looked(r: Run) -> bool:
    """The reports saw collapse in one place only: their MLP GANs on MNIST."""
    return families.get(r.config.family).reports_collapse and r.config.arch == "mlp" and r.config.dataset == "mnist"


def collapse_lines(runs: list[Run]) -> list[str]:
    """The collapse rule's state for every run; the MLP runs are checked against the reports' collapse."""
    lines = []
    for r in complete(average_seeds(runs)):
        state = value(r, "collapse")
        head = f"- {r.config.label}: {shares_clause(r)}"
        if state == COLLAPSE_STATES[0]:
            lines.append(f"{head}, so it is **not yet on the data** and its collapse cannot be judged "
                         f"({modes_clause(r)}).")
            continue
        verdict = f"**{state}**"
        if reports_looked(r):
            verdict += (", which agrees with the reports" if state == COLLAPSE_STATES[1]
                        else ", which does not reproduce the reports' collapse")
            verdict += " (one seed: provisional)" if seeds_measured(r) < 2 else ""
        lines.append(f"{head}; they cover {fmt(value(r, 'classes_covered'))} of 10 classes (KL to uniform "
                     f"{fmt(value(r, 'kl_to_uniform'))} nats; {modes_clause(r)}): {verdict}.")
    return lines


def conv_mlp_verdict(runs: list[Run], key: str, question: str = "") -> Verdict | None:
    """The best convolutional configuration against the best MLP on `key` (entries: conv, then MLP);
    None unless both architectures have a measured run."""
    done = [r for r in complete(average_seeds(runs)) if value(r, key) is not None]
    mlp = [r for r in done if r.config.arch == "mlp"]
    conv = [r for r in done if r.config.arch == "conv"]
    if not mlp or not conv:
        return None
    best_conv, best_mlp = (min(group, key=lambda r: value(r, key)) for group in (conv, mlp))
    return decide(question or f"Is the best conv or the best MLP better on {key}?", key,
                  [run_entry(f"Conv ({best_conv.config.label})", best_conv, key),
                   run_entry(f"MLP ({best_mlp.config.label})", best_mlp, key)])


def conv_vs_mlp(runs: list[Run], key: str, label: str, question: str = "") -> str | None:
    """The best conv against the best MLP: both numbers, then the verdict's sentence."""
    v = conv_mlp_verdict(runs, key, question)
    if v is None:
        return None
    conv, mlp = v.entries
    return (f"On {label}, best {conv.name[0].lower()}{conv.name[1:]} {show(conv.mean)} against best {mlp.name} "
            f"{show(mlp.mean)}. {sentence(v)}")


def conv_won(v: Verdict) -> int:
    """1 if the conv entry (the first) wins, -1 if the MLP does, 0 otherwise (tie, ahead, not ranked)."""
    return 0 if v.winner is None else (1 if v.winner == v.entries[0].name else -1)


def estimate_trend(runs: list[Run], key: str, name: str) -> list[str]:
    lines = []
    for r in first_seed(complete(runs)):
        per_epoch = r.history["epochs"].get(key, [])
        if len(per_epoch) >= 2:
            direction = "fell" if per_epoch[-1] < per_epoch[0] else "rose"
            lines.append(f"- {r.config.label}: the {name} {direction} from {fmt(per_epoch[0])} "
                         f"in epoch 1 to {fmt(per_epoch[-1])} in epoch {len(per_epoch)}.")
    return lines


def family_label(r: Run) -> str:
    return f"{families.get(r.config.family).title_of(r.config)} ({r.config.label})"


def improving_sentence(runs: list[Run], with_family: bool = False) -> str:
    """Which runs' FD was still falling over their last two measurements, outside the noise."""
    done = [r for r in complete(first_seed(runs)) if still_improving(r) is not None]
    if not done:
        return "**Converged?** No run was measured twice over training, so convergence is not judged here."
    name = (lambda r: f"{family_label(r)} on {DATASET_TITLES[r.config.dataset]}") if with_family else \
        (lambda r: r.config.label)
    still = [f"{name(r)} (FD {show(point_estimate(value(r, 'over_training')[-2]))} then "
             f"{show(point_estimate(value(r, 'over_training')[-1]))})" for r in done if still_improving(r)]
    if not still:
        return (f"**Converged?** No run's FD fell outside the noise between its last two measurements "
                f"({len(done)} runs measured twice or more).")
    return (f"**Converged?** {plural(len(still), 'run')} of {len(done)} {'was' if len(still) == 1 else 'were'} "
            f"**still improving** at the end (FD fell outside the noise between the last two measurements): "
            f"{'; '.join(still)}. More epochs would change their numbers.")


def chapter_findings(runs: list[Run], real: RealSide, profile: str) -> str:
    """Markdown: a chapter's results (one family on one dataset), checked against the reports' findings."""
    family = families.get(runs[0].config.family) if runs else None
    out = [classifier_sentence(real) + " " + floor_sentence(real) + " " +
           seeds_sentence(profile, *seed_range(runs), profile_seed_range(profile, runs)), ""]
    out += lost_run_notes(runs)
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
        out.append(f"\n**Mode collapse.** The reports saw their MLP GAN produce only a few digit classes. "
                   f"{collapse_rule(real)} {real_collapse_sentence(real)} In our runs:")
        out += collapse_lines(runs)
    if family and family.variant_pair:
        out += ["", clip_vs_gp_sentence(runs)]
    if real.dataset == "cifar10":
        line = conv_vs_mlp(runs, "fd", "FD")
        if line:
            out.append(f"\n**CIFAR-10 is hard for MLPs.** The reports found MLPs struggle on CIFAR-10. {line[0].upper()}{line[1:]}")
    return "\n".join(out)


def _share_of(fraction: float) -> str:
    return "half" if fraction == 0.5 else f"{fraction:g} times"


def collapse_rule(real: RealSide | None = None) -> str:
    """The one collapse rule, in words (from `yardstick`, where it is defined), with the thresholds that
    `real`'s floor sets (its held-out real images' shares); without shares on the floor, the rule in
    words, or the absolute thresholds a real side without a floor judges by."""
    floor = real.floor if real is not None else {}
    head = (f"A sample lies on the data when it falls on the real data's k-NN manifold, and counts when the "
            f"classifier also gives its top class at least {CONFIDENT:.0%} probability. ")
    if floor.get("on_data_min") is not None and floor.get("counted_min") is not None:
        bar = (f"The bar is set by real images: the {real.n_samples} held-out real {DATASET_TITLES[real.dataset]} "
               f"training images, measured like samples, have {floor['on_data']:.0%} on the data and "
               f"{floor['counted']:.0%} counted, so a run with fewer than {floor['on_data_min']:.0%} of its samples on "
               f"the data ({_share_of(ON_DATA_FRACTION)} the real share), or fewer than {floor['counted_min']:.0%} "
               f"counted ({_share_of(COUNTED_FRACTION)} theirs), is *not yet on the data*")
    elif real is not None:
        bar = (f"No real images were measured for this rule here, so a run with fewer than {ON_DATA_MIN:.0%} of its "
               f"samples on the data, or fewer than {COUNTED_MIN:.0%} counted, is *not yet on the data*")
    else:
        bar = (f"A run with fewer than {_share_of(ON_DATA_FRACTION)} the on-data share of held-out real images "
               f"measured the same way, or fewer than {_share_of(COUNTED_FRACTION)} their counted share, is *not yet "
               f"on the data*")
    return (head + bar + f"; otherwise it is *collapsed* when its counted samples cover at most {COLLAPSED_MAX} of "
            f"the 10 classes (a class is covered with half its uniform share).")


def real_collapse_sentence(real: RealSide) -> str:
    """What the collapse rule says of the N held-out real images themselves (the floor, judged by its own
    shares: yardstick.build_real_side); "" where the floor carries no label numbers."""
    f = real.floor
    if f.get("collapse") is None:
        return ""
    return (f"By the same rule, the {real.n_samples} held-out real {DATASET_TITLES[real.dataset]} training images "
            f"have {f['on_data']:.0%} of their images on the data and {f['counted']:.0%} counted; those counted cover "
            f"{fmt(f['classes_covered'])} of 10 classes (KL to uniform {fmt(f['kl_to_uniform'])} nats; recall "
            f"{show(point_estimate(f, 'recall'), 2)}, coverage {show(point_estimate(f, 'coverage'), 2)}): "
            f"**{f['collapse']}**, judged as a run is, with their own shares as the bar ({_share_of(ON_DATA_FRACTION)} "
            f"their on-data share, {_share_of(COUNTED_FRACTION)} their counted share)."
            + ("" if f["collapse"] == COLLAPSE_STATES[2] else
               f" Real images are {'on the data by definition' if f['collapse'] == COLLAPSE_STATES[0] else 'not collapsed'}"
               f": here the rule reads the classifier's confidence, not the generators' modes, and its verdicts on "
               f"runs on this dataset say little."))


def _recipe(cfg) -> str:
    constraint = f"a gradient penalty of weight {fmt(cfg.gp)}" if cfg.gp else f"weights clipped to ±{fmt(cfg.clip)}"
    betas = f", betas ({fmt(cfg.betas[0])}, {fmt(cfg.betas[1])})" if cfg.optimizer == "adam" else ""
    return f"{constraint}, {cfg.optimizer} at {cfg.lr:g}{betas}, a critic with {cfg.critic_norm} normalisation"


def clip_gp_pair(runs: list[Run]) -> list[Run]:
    """The family's clipped and penalised configurations of one latent size, seed-averaged; [] if absent."""
    by_config = {config_key(r.config): r for r in average_seeds(runs)}
    return [by_config[config_key(r.config)] for r in variant_pair(runs)]


def clip_gp_verdict(runs: list[Run]) -> Verdict | None:
    """Weight clipping against the WGAN-GP recipe on FD (entries: clipping, then WGAN-GP); None without
    both, measured."""
    pair = clip_gp_pair(runs)
    if len(pair) < 2 or any(value(r, "fd") is None for r in pair):
        return None
    clipped, gp = pair
    return decide(f"{DATASET_TITLES[gp.config.dataset]}: weight clipping or the WGAN-GP recipe, by FD?", "fd",
                  [run_entry(f"Clipping ({clipped.config.label})", clipped, "fd"),
                   run_entry(f"WGAN-GP ({gp.config.label})", gp, "fd")])


def clip_vs_gp_sentence(runs: list[Run]) -> str:
    """Markdown: the WGAN paper's recipe (clipping) against the WGAN-GP recipe on the same networks."""
    pair = clip_gp_pair(runs)
    head = "**Weight clipping (the WGAN paper's recipe) against the WGAN-GP recipe.**"
    if len(pair) < 2:
        return f"{head} This grid has no DC-WGAN and WGAN-GP pair of one latent size to compare."
    clipped, gp = pair
    lost = [f"{r.config.label} has no sample metrics ({'diverged' if r.diverged else 'unmeasurable'})"
            for r in pair if value(r, "fd") is None]
    if lost:
        return f"{head} {' and '.join(lost)}, so the two cannot be compared here."
    batches = ("" if clipped.config.batch_size == gp.config.batch_size else
               f" and batches of {clipped.config.batch_size} against {gp.config.batch_size} images")
    setup = (f"The two runs share the generator, the critic's widths, z={gp.config.latent_dim} and "
             f"{gp.config.n_critic} critic steps per generator step, and differ in "
             f"{'three' if not batches else 'four'} things at once: {_recipe(clipped.config)} against "
             f"{_recipe(gp.config)}{batches}. A difference between them belongs to the recipe, not to the "
             f"penalty alone.")
    numbers = (f"Clipping: FD {show(estimate(clipped, 'fd'))} (precision {show(estimate(clipped, 'precision'), 2)}, "
               f"recall {show(estimate(clipped, 'recall'), 2)}) against WGAN-GP {show(estimate(gp, 'fd'))} (precision "
               f"{show(estimate(gp, 'precision'), 2)}, recall {show(estimate(gp, 'recall'), 2)}). "
               f"{sentence(clip_gp_verdict(runs))}")
    norms = ""
    if value(clipped, "critic_grad_norm") is not None and value(gp, "critic_grad_norm") is not None:
        norms = (f" Measured at points between test images and samples, the clipped critic's mean gradient norm is "
                 f"{show(estimate(clipped, 'critic_grad_norm'))} and the penalised critic's "
                 f"{show(estimate(gp, 'critic_grad_norm'))} (in eval mode); a 1-Lipschitz critic has norm at most 1, "
                 f"and the penalty pulls it towards 1. An EMD estimate is a Wasserstein-1 distance only as far as its "
                 f"critic is 1-Lipschitz.")
    rates = [value(r, "images_per_cpu_second") for r in (gp, clipped)]
    speed = "" if None in rates else (
        f" Throughput: {fmt(rates[0])} images per CPU second for the penalised critic against {fmt(rates[1])} for the "
        f"clipped one (each penalised step also differentiates through the critic's gradient; CPU seconds leave out "
        f"the time a run waited while other work on the machine had the CPU).")
    return f"{head} {setup} {numbers}{norms}{speed}"
