"""The comparison page's prose: every chapter's runs side by side, and against the reports.

Pure functions like findings.py, whose sentences they share: runs already measured and the yardstick's
real sides in, Markdown (and the answers table, a DataFrame) out. Every verdict is a verdicts.Verdict,
put into words by verdicts.sentence alone; counts such as "in 2 of 10" are taken from Verdicts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .. import families
from ..config import DATASETS
from ..data import DATASET_TITLES
from ..grid import reports_trained
from ..results import Run
from ..yardstick import COLLAPSE_STATES, COLLAPSED_MAX, RealSide
from .findings import (TRENDS, conv_mlp_verdict, conv_vs_mlp, conv_won, family_label, improving_sentence,
                       latent_trend, latent_trend_kind, latent_verdicts, lost_run_notes, plural, profile_seed_range,
                       modes_clause, reports_looked, run_entry, seeds_sentence, shares_clause)
from .intervals import Estimate, fmt, show
from .runsets import (FLOOR_SPAN_MAX, average_seeds, best_per_family, complete, config_key, estimate, fd_over_floor, point_estimate,
                      seed_range, seeds_measured, value)
from .tables import wrapped
from .verdicts import Outcome, Verdict, decide, entry, numbers, seeds_phrase, sentence


def best_family_verdict(runs: list[Run], dataset: str) -> Verdict | None:
    """Which family's best configuration (lowest seed-mean FD) has the lowest FD on `dataset` at the end of
    training, by the rule; entries lowest FD first. None where no family has a measured run."""
    best = sorted(best_per_family(runs, dataset), key=lambda r: value(r, "fd"))
    if not best:
        return None
    return decide(f"Which family has the lowest FD on {DATASET_TITLES[dataset]}, at the end of training?", "fd",
                  [run_entry(family_label(r), r, "fd") for r in best])


def _times_floor(fd: float, real: RealSide) -> str:
    """" (12 × the floor)"; the caller checks that the floor carries a ratio (runsets.fd_over_floor)."""
    return f" ({fmt(fd_over_floor(fd, real.floor))} × the floor)"


def dataset_verdict(runs: list[Run], real: RealSide) -> str:
    """The best configuration of each family at the end of training, its FD against the floor, and the
    verdict. The classifier and the floor themselves are on the page once, under "The yardstick itself"."""
    ds = real.dataset
    head = f"**Which family is best on {DATASET_TITLES[ds]}, at the end of training?**"
    v = best_family_verdict(runs, ds)
    if v is None:
        return f"{head} No family has a measured run here."
    by_name = {family_label(r): r for r in best_per_family(runs, ds)}
    ratios = fd_over_floor(1.0, real.floor) is not None
    listing = "; ".join(f"{e.name}: FD {show(e.mean)}{_times_floor(value(r, 'fd'), real) if ratios else ''}, precision "
                        f"{show(estimate(r, 'precision'), 2)}, recall {show(estimate(r, 'recall'), 2)}, coverage "
                        f"{show(estimate(r, 'coverage'), 2)}" for e in v.entries for r in [by_name[e.name]])
    floor = "" if ratios else (f" No FD is divided by the floor here: the floor's own interval "
                               f"{show(point_estimate(real.floor))} spans more than {FLOOR_SPAN_MAX:g}×.")
    hedge = (" The classifier is below its floor (see \"The yardstick itself\"), so this ranking is a hint, not a "
             "verdict." if real.classifier.summary["below_floor"] else "")
    return f"{head} The best configuration of each family, by FD: {listing}. {sentence(v)}{floor}{hedge}"


def _seed_mean_note(run: Run) -> str:
    """", the geometric mean of n seeds with its interval" for a seed-averaged run (its FD), else ""."""
    n = seeds_measured(run)
    return f", the geometric mean of {n} seeds with its interval" if n > 1 else ""


# The two budgets the families are compared at besides the end of training: what each point over training
# records (yardstick.over_training), and how the question names it.
BUDGETS = {"generator_images": "equal generator updates", "train_seconds": "equal training time"}


@dataclass(frozen=True)
class AtEqualBudget:
    """The families' best configurations at (nearly) one budget: each one's measurement over training
    nearest (in log scale) to the smallest final budget among them, and the verdict on those points."""
    field: str                              # a key of BUDGETS
    budget: float                           # the smallest final budget (last point over training) among them
    chosen: tuple[tuple[Run, dict], ...]    # each family's seed-averaged run and its chosen (seed-mean) point
    spread: float                           # the largest chosen point's budget over the smallest's
    verdict: Verdict                        # its entries in the order of `chosen`


def _curve(run: Run, field: str) -> list[dict]:
    return [p for p in value(run, "over_training") or [] if p.get(field)]


def _seeds_at(runs: list[Run], run: Run, epoch) -> list[Estimate]:
    """Each measured seed's FD at `epoch` of the configuration of the seed-averaged `run`, with its
    own bootstrap interval: what the seed-mean point over training averages."""
    same = [r for r in complete(runs) if config_key(r.config) == config_key(run.config)]
    return [point_estimate(p) for r in same for p in value(r, "over_training") or [] if p.get("epoch") == epoch]


def equal_budget(runs: list[Run], dataset: str, field: str = "generator_images") -> AtEqualBudget | None:
    """The families' best configurations on `dataset` compared at one budget of `field` (BUDGETS): the
    smallest final budget among them, each one's point nearest to it; None for fewer than two families
    measured over training."""
    if field not in BUDGETS:
        raise ValueError(f"budget {field!r} is not allowed; the families are compared at {', '.join(BUDGETS)}")
    best = [r for r in best_per_family(runs, dataset) if _curve(r, field)]
    if len(best) < 2:
        return None
    budget = min(_curve(r, field)[-1][field] for r in best)
    chosen = tuple((r, min(_curve(r, field), key=lambda p: abs(math.log(p[field] / budget)))) for r in best)
    # every seed's point at the chosen epoch (the seed mean's seeds); one seed: that run's own point
    entries = [entry(family_label(r), "fd", _seeds_at(runs, r, p["epoch"]) or [point_estimate(p)]) for r, p in chosen]
    verdict = decide(f"Which family has the lowest FD on {DATASET_TITLES[dataset]}, at {BUDGETS[field]}?", "fd",
                     entries)
    spread = max(p[field] for _, p in chosen) / min(p[field] for _, p in chosen)
    return AtEqualBudget(field, budget, chosen, spread, verdict)


def _budget_listing(at: AtEqualBudget, where) -> str:
    """Each chosen family's point: "<family> after epoch E (<where>): FD ..."; a seed-averaged point says so
    itself, since the chosen configurations may have different seed counts."""
    return "; ".join(f"{family_label(r)} after epoch {p['epoch']} ({where(p)}{_seed_mean_note(r)}): FD {show(e.mean)}"
                     for (r, p), e in zip(at.chosen, at.verdict.entries))


def _budget_hedge(at: AtEqualBudget, what: str) -> str:
    return (f" Measurements are per epoch, so these {what} still differ by up to {at.spread:.1f}×: read this as "
            f"approximate." if at.spread > 1.25 else "")


def equal_budget_verdict(runs: list[Run], dataset: str) -> str | None:
    """The same families at (nearly) equal generator updates: each best configuration's measurement
    over training nearest to the smallest final budget among them."""
    at = equal_budget(runs, dataset, "generator_images")
    if at is None:
        return None
    listing = _budget_listing(at, lambda p: f"{int(p['generator_images']):,} images")
    per_epoch = "; ".join(f"{family_label(r)} {int(r.summary['generator_images'] // max(r.summary.get('epochs_done', 1), 1)):,}"
                          for r, _ in at.chosen if r.summary.get("generator_images"))
    updated = (f"Equal epochs are not equal training: per epoch, these generators were updated on {per_epoch} "
               f"images. " if per_epoch else "")
    return (f"**And at equal generator updates?** {updated}The smallest budget among these runs is "
            f"{int(at.budget):,} images through the generator; each family's measurement nearest to it: {listing}. "
            f"{sentence(at.verdict)}{_budget_hedge(at, 'budgets')}")


def equal_time_verdict(runs: list[Run], dataset: str) -> str | None:
    """The same families at (nearly) equal training time: each best configuration's measurement over
    training nearest to the shortest final training time among them."""
    at = equal_budget(runs, dataset, "train_seconds")
    if at is None:
        return None
    listing = _budget_listing(at, lambda p: f"{fmt(p['train_seconds'])} s of training")
    return (f"**And at equal training time?** These times were taken on a shared machine, where other work can slow "
            f"a run by tens of percent, so this answer is rougher than the one at equal updates. The shortest final "
            f"training time among these runs is {fmt(at.budget)} s; each family's measurement nearest to it: "
            f"{listing}. {sentence(at.verdict)}{_budget_hedge(at, 'times')}")


def _latent_kinds(runs: list[Run], key: str, label: str) -> list[tuple[str, str, str, list[Verdict]]]:
    """(family, dataset, variant, its steps' Verdicts) for every architecture with several latent sizes."""
    return [(fam, ds, variant, steps) for fam in families.names() for ds in DATASETS
            for variant, steps in latent_verdicts(
                [r for r in runs if r.config.family == fam and r.config.dataset == ds], key, label).items()]


def _in_words(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def latent_summary(runs: list[Run]) -> list[str]:
    """Do larger latents help? Per architecture its FD trend (findings.latent_trend), counted by kind from
    the step Verdicts."""
    lines = []
    for fam in families.names():
        for ds in DATASETS:
            trend = latent_trend([r for r in runs if r.config.family == fam and r.config.dataset == ds], "fd", "FD")
            lines += [f"- {families.get(fam).title}, {DATASET_TITLES[ds]}, {line[2:]}" for line in trend]
    kinds = [latent_trend_kind(steps) for *_, steps in _latent_kinds(runs, "fd", "FD")]
    if not kinds:
        return ["**Do larger latents help?** No architecture here ran with several latent sizes."]
    n = {kind: kinds.count(kind) for kind in TRENDS}
    # the three answers always (better, no change, worse); the rarer kinds only where they occur
    parts = [f"FD improves outside the noise with every step up in latent size in {n['improves']}",
             f"does not change outside the noise in {n['flat']}", f"gets worse with every step in {n['worse']}"]
    parts += [f"{words} in {n[kind]}" for kind, words in (
        ("ahead", "is lower in every seed with every step but not established at every step"),
        ("behind", "is higher in every seed with every step but not established at every step"),
        ("some steps", "changes at some steps only"), ("both ways", "changes in both directions"),
        ("not ranked", "cannot be ranked (not every FD has an interval)")) if n[kind]]
    one = " (one seed: provisional)" if max(seed_range(runs)) < 2 else ""
    head = f"**Do larger latents help?** Of {plural(len(kinds), 'architecture')} with several latent sizes, " \
           f"{_in_words(parts)}{one}:"
    return [head] + lines


def _seed_states(runs: list[Run], run: Run) -> list[str]:
    """The collapse state of every measured seed of `run`'s configuration."""
    return [value(r, "collapse") for r in complete(runs) if config_key(r.config) == config_key(run.config)
            and value(r, "collapse") is not None]


def _mlp_collapse_answer(runs: list[Run]) -> tuple[str, str, int] | None:
    """(per-configuration listing, the answer against the reports' collapse, how many collapsed in every
    seed); None without MLP GANs. The reports saw every MNIST MLP GAN collapse (claim M4), so only every
    configuration collapsed in every seed agrees; each seed is judged on its own."""
    mlp_gans = [r for r in complete(average_seeds(runs)) if reports_looked(r)]
    if not mlp_gans:
        return None
    seeds = {r.config.label: _seed_states(runs, r) for r in mlp_gans}

    def per_seed(r: Run) -> str:
        states = seeds[r.config.label]
        return "" if len(states) < 2 else f"; collapsed in {states.count(COLLAPSE_STATES[1])} of {len(states)} seeds"
    listing = "; ".join(f"{r.config.label}: {value(r, 'collapse')} ({shares_clause(r)}"
                        + ("" if value(r, "collapse") == COLLAPSE_STATES[0] else
                           f"; they cover {fmt(value(r, 'classes_covered'))} classes") + f"; {modes_clause(r)}"
                        + per_seed(r) + ")" for r in mlp_gans)
    every = [k for k, v in seeds.items() if v and all(s == COLLAPSE_STATES[1] for s in v)]
    judged = [k for k, v in seeds.items() if any(s != COLLAPSE_STATES[0] for s in v)]
    provisional = " (one seed: provisional)" if min(len(v) for v in seeds.values()) < 2 else ""
    reports = "the reports saw every MNIST MLP GAN collapse onto 3 or 4 digits"
    if len(every) == len(seeds):
        answer = f"every one collapsed in every seed, which agrees: {reports}{provisional}"
    elif every:
        answer = (f"{len(every)} of {len(seeds)} collapsed in every seed, while {reports}: this agrees only in "
                  f"part{provisional}")
    elif judged:
        answer = f"none collapsed in every seed, which does not reproduce it: {reports}{provisional}"
    else:
        answer = "none is on the data yet, so this grid cannot say whether they collapse"
    return listing, answer, len(every)


def mlp_collapse(runs: list[Run]) -> str | None:
    """Against the reports' finding that their MLP GAN collapsed onto 3 or 4 MNIST digits, by the one rule."""
    found = _mlp_collapse_answer(runs)
    if found is None:
        return None
    listing, answer, _ = found
    return (f"**Does the MLP GAN collapse?** By the one rule (Methods: collapsed means the counted samples cover at "
            f"most {COLLAPSED_MAX} classes), the MNIST MLP GANs: {listing}. So {answer}.")


def conv_verdicts(runs: list[Run]) -> list[Verdict]:
    """Per family on CIFAR-10, its best conv against its best MLP on FD (findings.conv_mlp_verdict)."""
    found = [conv_mlp_verdict([r for r in runs if r.config.family == fam and r.config.dataset == "cifar10"], "fd",
                              f"Does convolution lower the CIFAR-10 {families.get(fam).title}'s FD?")
             for fam in families.names()]
    return [v for v in found if v is not None]


def conv_on_cifar(runs: list[Run]) -> list[str]:
    lines = []
    for fam in families.names():
        line = conv_vs_mlp([r for r in runs if r.config.family == fam and r.config.dataset == "cifar10"],
                           "fd", f"the CIFAR-10 {families.get(fam).title}'s FD")
        if line:
            lines.append(f"- {line}")
    found = conv_verdicts(runs)
    wins = sum(conv_won(v) == 1 for v in found)
    one = " (one seed: provisional)" if found and min(v.seeds for v in found) < 2 else ""
    return [f"**Does convolution matter on CIFAR-10?** The convolutional model has the lower FD outside the noise "
            f"in {wins} of {len(found)} families{one}:"] + lines


def wgan_gan_verdict(runs: list[Run], dataset: str) -> Verdict | None:
    """The best run of each adversarial family with the reports' recipe (no gradient penalty: beyond the
    reports) on `dataset`, by FD; None for fewer than two such families."""
    done = complete(average_seeds(runs))
    best = [min(group, key=lambda r: value(r, "fd")) for fam in families.names() if families.get(fam).adversarial
            for group in [[r for r in done if r.config.family == fam and r.config.dataset == dataset
                           and reports_trained(r.config)]] if group]
    if len(best) < 2:
        return None
    return decide(f"WGAN (weight clipping) or GAN: which has the lower FD on {DATASET_TITLES[dataset]}?", "fd",
                  [run_entry(family_label(r), r, "fd") for r in best])


def wgan_gan_sentence(runs: list[Run]) -> str | None:
    """The reports' WGAN (weight clipping) against their GAN, per dataset, by FD; None without both."""
    found = [f"on {DATASET_TITLES[ds]}, " + ", ".join(f"{e.name} FD {show(e.mean)}" for e in v.entries) + ". "
             + sentence(v) for ds in DATASETS for v in [wgan_gan_verdict(runs, ds)] if v is not None]
    if not found:
        return None
    return ("**WGAN against GAN.** The reports trained the WGAN with weight clipping beside the GAN; the best run of "
            "each, by FD (the gradient-penalty runs are beyond the reports and left out here): " + " And ".join(found))


def _budget_note(at: AtEqualBudget) -> str:
    """What an equal-budget answer leaves out, for the table (the prose says it at length)."""
    timed = " Timed on a shared machine." if at.field == "train_seconds" else ""
    spread = f" The chosen points still differ by up to {at.spread:.1f}×: approximate." if at.spread > 1.25 else ""
    return timed + spread


def _page_verdicts(runs: list[Run]) -> list[tuple[str, Verdict, str]]:
    """(dataset, Verdict, what its answer leaves out) for every verdict of the page, in the page's order."""
    out: list[tuple[str, Verdict, str]] = []
    for ds in DATASETS:
        end = best_family_verdict(runs, ds)
        out += [(ds, end, "")] if end else []
        out += [(ds, at.verdict, _budget_note(at)) for field in BUDGETS for at in [equal_budget(runs, ds, field)] if at]
    out += [(ds, v, "") for fam, ds, _, steps in _latent_kinds(runs, "fd", "FD") for v in steps]
    out += [("cifar10", v, "") for v in conv_verdicts(runs)]
    out += [(ds, v, "") for ds in DATASETS for v in [wgan_gan_verdict(runs, ds)] if v]
    return out


def comparison_verdicts(runs: list[Run]) -> list[tuple[str, Verdict]]:
    """Every verdict of the comparison page in the page's order, each with its dataset (whose classifier
    it rests on): per dataset the best family at the end, at equal updates and at equal time; every step
    up in latent size; convolution on CIFAR-10; WGAN against GAN."""
    return [(ds, v) for ds, v, _ in _page_verdicts(runs)]


ANSWER_COLUMNS = ("question", "answer", "numbers", "seeds")
BELOW_FLOOR_NOTE = " The classifier is below its floor: a hint, not a verdict."


def answers_table(runs: list[Run], real_sides: dict[str, RealSide] | None = None) -> pd.DataFrame:
    """The comparison page's answers first: one row per verdict (comparison_verdicts), its question, the
    answer (verdicts.sentence, then what it leaves out: budgets that still differ, a classifier below its
    floor), the numbers behind it (verdicts.numbers) and what it rests on."""
    weak = {ds for ds, real in (real_sides or {}).items() if real.classifier.summary["below_floor"]}
    rows = [(v.question, sentence(v) + note + (BELOW_FLOOR_NOTE if ds in weak else ""), numbers(v),
             "one seed" if v.outcome is Outcome.NOT_RANKED and v.seeds == 1 else seeds_phrase(v))
            for ds, v, note in _page_verdicts(runs)]
    return pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))


def answers_shown(table: pd.DataFrame):
    """answers_table as the page shows it: without row numbers, its sentences wrapped."""
    return wrapped(table, "answers", hide_index=True)


def kid_agreement(runs: list[Run]) -> str:
    """Does KID rank the configurations as FD does? Per dataset, every pair of configurations: how many
    the two order alike by their seed means, and of the pairs FD separates by the rule, how many KID
    separates the same way, leaves tied, or reverses (named). Verdicts use FD; this says what KID adds."""
    out = []
    for ds in DATASETS:
        done = [r for r in complete(average_seeds(runs)) if r.config.dataset == ds and value(r, "kid") is not None]
        pairs = [(a, b) for i, a in enumerate(done) for b in done[i + 1:]]
        if not pairs:
            continue
        alike = sum((value(a, "fd") < value(b, "fd")) == (value(a, "kid") < value(b, "kid")) for a, b in pairs)
        same = tied = 0
        reversed_ = []
        for a, b in pairs:
            by_fd = decide("", "fd", [run_entry(family_label(r), r, "fd") for r in (a, b)])
            if by_fd.outcome is not Outcome.WINNER:
                continue
            by_kid = decide("", "kid", [run_entry(family_label(r), r, "kid") for r in (a, b)])
            if by_kid.outcome is Outcome.WINNER and by_kid.winner == by_fd.winner:
                same += 1
            elif by_kid.outcome is Outcome.WINNER:
                reversed_.append(f"{by_fd.winner} by FD, {by_kid.winner} by KID")
            else:
                tied += 1
        separated = same + tied + len(reversed_)
        text = (f"On {DATASET_TITLES[ds]}, KID orders {alike} of {len(pairs)} pairs of configurations as FD does (by "
                f"their seed means). Of the {separated} pairs FD separates by the rule, KID separates {same} the "
                f"same way, leaves {tied} within noise and reverses {len(reversed_)}")
        out.append(text + (f": {'; '.join(reversed_)}." if reversed_ else "."))
    if not out:
        return ""
    one = " Each configuration has one seed, so these separations are provisional." \
        if max(seed_range(runs)) < 2 else ""
    return "**Does KID agree with FD?** " + " ".join(out) + one + " The verdicts on this page use FD."


def comparison_findings(runs: list[Run], real_sides: dict[str, RealSide], profile: str) -> str:
    """Markdown: the grid's verdicts across families, in words (answers_table holds them as a table).
    real_sides: {dataset: the yardstick's real side}."""
    out = [seeds_sentence(profile, *seed_range(runs), profile_seed_range(profile, runs)), ""]
    out += lost_run_notes(runs, " They are left out of the comparisons below.")
    for ds in DATASETS:
        if best_per_family(runs, ds):
            out += [dataset_verdict(runs, real_sides[ds]), ""]
            for text in (equal_budget_verdict(runs, ds), equal_time_verdict(runs, ds)):
                out += [text, ""] if text else []
    out += latent_summary(runs) + [""]
    collapse = mlp_collapse(runs)
    if collapse:
        out += [collapse, ""]
    out += conv_on_cifar(runs) + [""]
    recipes = wgan_gan_sentence(runs)
    out += [recipes, ""] if recipes else []
    out += [improving_sentence(runs, with_family=True)]
    kid = kid_agreement(runs)
    out += ["", kid] if kid else []
    return "\n".join(out)


def memorization_sentence(found) -> str:
    """Markdown: are samples closer to the training set than unseen real images are, in the median and in
    the lower tail? `found`: a weights.NearestTraining; the tail's rule is weights.LowerTail.suspected."""
    ratio = found.sample_median / found.test_median
    verdict = ("much closer to the training set than unseen real images are, a sign of copying" if ratio < 0.5 else
               "closer to the training set than unseen real images are, though not by half: not counted as copying"
               if ratio < 0.9 else "no closer to the training set than unseen real images are: no sign of copying")
    t = found.tail
    if t.suspected:
        tail = (f"the interval lies above {t.suspect_above:.0%}, so copying of some training images is suspected")
    elif t.share_ci[0] > t.expected:
        tail = (f"above {t.expected:.0%}, but not clearly (the rule asks for an interval above {t.suspect_above:.0%}, "
                f"since the threshold is itself estimated), so not counted as copying")
    else:
        tail = "no sign that a few training images are copied"
    return (f"{families.get(found.run.config.family).title} {found.run.config.label}: the median "
            f"distance from a sample to its nearest training image is {fmt(found.sample_median)}, against "
            f"{fmt(found.test_median)} for real test images (ratio {ratio:.2f}); its samples are {verdict}. "
            f"In the lower tail, {t.share:.1%} [{t.share_ci[0]:.1%}, {t.share_ci[1]:.1%}] of its {t.n_samples} "
            f"samples lie nearer to a training image than the nearest {t.expected:.0%} of {t.n_test} real test images "
            f"do (distance {fmt(t.threshold)}; about {t.expected:.0%} expected without copying): {tail}.")
