"""Questions over sets of runs: seed means, a run's numbers, best runs, pairs and extremes.

Pure: these take Run objects (already loaded and measured) and return runs or numbers.
"""
from __future__ import annotations

import dataclasses
import json
from .. import families
from ..config import DATASETS
from ..results import Run
from ..yardstick import COLLAPSE_STATES, collapse_state
from .intervals import Estimate, from_interval, from_standard_error, mean_sd, seed_mean

# Classifier-space numbers (yardstick.py), by the column name the tables give them.
YARDSTICK = {"fd": "FD", "kid": "KID", "precision": "precision", "recall": "recall", "density": "density",
             "coverage": "coverage", "on_data": "on data", "counted": "counted", "classes_covered": "classes covered"}
_FROM_YARDSTICK = set(YARDSTICK) | {"kl_to_uniform", "label_histogram", "collapse", "over_training", "unmeasurable"}


def value(run: Run, key: str):
    """A run's number: yardstick keys from the classifier measures, the rest from its summary."""
    source = run.yardstick if key.removesuffix("_ci") in _FROM_YARDSTICK else run.summary
    return source.get(key)


def unmeasurable(run: Run) -> str | None:
    """Why the yardstick could not measure the run's samples (non-finite or degenerate), else None."""
    return run.yardstick.get("unmeasurable")


def lost(run: Run) -> bool:
    """A run with no yardstick numbers to average or rank: diverged, or its samples unmeasurable."""
    return run.diverged or unmeasurable(run) is not None


def seeds_measured(run: Run) -> int:
    """How many seeds a (seed-averaged) run's numbers rest on."""
    return run.summary.get("seeds", 1) - run.summary.get("seeds_diverged", 0) - run.summary.get("seeds_unmeasurable", 0)


def estimate(run: Run, key: str) -> Estimate | None:
    """A run's number with its 95% interval: over several seeds their mean with its interval, kept in the
    measure's range (intervals.seed_mean: log scale for FD); for one run its bootstrap interval
    (key + "_ci") or +-1.96 standard errors (key + "_se")."""
    v = value(run, key)
    if v is None:
        return None
    n = seeds_measured(run)
    seeds = run.summary.get("seed_values", {}).get(key)
    if n > 1 and seeds:
        return seed_mean(key, seeds)
    if value(run, key + "_ci"):
        return from_interval(v, value(run, key + "_ci"))
    se = run.summary.get(key + "_se")
    return from_standard_error(v, se) if se is not None else Estimate(v)


def seed_estimates(run: Run, key: str) -> list[Estimate]:
    """Each measured seed's value of `key` with its own bootstrap interval: from a seed-averaged run's
    "seed_values" and "seed_intervals", or the one run's estimate; [] where the run has no value."""
    values = run.summary.get("seed_values", {}).get(key)
    if seeds_measured(run) > 1 and values:
        cis = run.summary.get("seed_intervals", {}).get(key) or [None] * len(values)
        return [from_interval(v, ci) for v, ci in zip(values, cis)]
    e = estimate(run, key)
    return [] if e is None else [e]


def point_estimate(point: dict, key: str = "fd") -> Estimate:
    """One measurement over training (yardstick `over_training` entry) as an Estimate."""
    return from_interval(point[key], point.get(key + "_ci"))


# FD / floor reads as "how far from real data" only where the floor itself is pinned down: a floor whose
# own 95% interval spans more than this factor (CIFAR-10's at small N) would make the ratio a guess.
FLOOR_SPAN_MAX = 2.0


def fd_over_floor(fd: float | None, floor: dict) -> float | None:
    """FD divided by the real-data floor's FD; None without an FD, or where the floor's interval
    spans more than FLOOR_SPAN_MAX times (hi / lo), and so cannot carry a ratio."""
    ci = floor.get("fd_ci")
    if fd is None or not ci or ci[0] <= 0 or ci[1] / ci[0] > FLOOR_SPAN_MAX:
        return None
    return fd / floor["fd"]


def still_improving(run: Run) -> bool | None:
    """FD fell over the last two measurements by more than the noise (intervals apart); None for a
    run measured fewer than twice, which says nothing either way."""
    points = value(run, "over_training") or []
    if len(points) < 2:
        return None
    last, before = point_estimate(points[-1]), point_estimate(points[-2])
    return last.has_interval and before.has_interval and last.hi < before.lo


def family_title(cfg) -> str:
    """How the tables name the run's family ("WGAN-GP" for the penalised WGAN runs)."""
    return families.get(cfg.family).title_of(cfg)


def config_key(cfg) -> str:
    """The configuration a run belongs to, whatever its seed."""
    return json.dumps({**cfg.to_dict(), "seed": None}, sort_keys=True)


def first_seed(runs: list[Run]) -> list[Run]:
    """The seed-0 run of each configuration: the one whose curves and samples the figures show."""
    return [r for r in runs if r.config.seed == 0]


def seed_range(runs: list[Run]) -> tuple[int, int]:
    """The most and the fewest seeds any configuration of `runs` has ((0, 0) for no runs)."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[config_key(run.config)] = counts.get(config_key(run.config), 0) + 1
    return max(counts.values(), default=0), min(counts.values(), default=0)


def mean_std(values: list) -> tuple:
    """Mean and sample standard deviation (n - 1) of the values that are not None."""
    values = [v for v in values if v is not None]
    return mean_sd(values) if values else (None, None)


def average_seeds(runs: list[Run]) -> list[Run]:
    """One Run per configuration: numbers averaged over its measured seeds (neither diverged nor
    unmeasurable; intervals.seed_mean: FD's is the geometric mean), the seeds' values under
    "seed_values", their own bootstrap intervals under "seed_intervals" and their standard deviations
    under "std"; how many seeds were lost, and why, under
    "seeds_diverged" and "seeds_unmeasurable". With one seed per configuration (quick, smoke) the runs
    come back unchanged.
    """
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(config_key(run.config), []).append(run)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        done = [r for r in group if not lost(r)]
        base = (done or group)[0]
        summary, yardstick, std, seed_values, seed_intervals = dict(base.summary), dict(base.yardstick), {}, {}, {}
        for target, source in ((summary, "summary"), (yardstick, "yardstick")):
            for key, val in list(target.items()):
                if isinstance(val, (int, float)) and not isinstance(val, bool):
                    values = [v for v in (getattr(r, source).get(key) for r in done) if v is not None]
                    std[key] = mean_std(values)[1]
                    target[key] = seed_mean(key, values).value if values else None
                    seed_values[key] = values
                    # each seed's own bootstrap interval beside its value (None where it has none)
                    seed_intervals[key] = [getattr(r, source).get(key + "_ci") for r in done
                                           if getattr(r, source).get(key) is not None]
        for target in (summary, yardstick):
            for key in [k for k in target if k.endswith("_ci") and len(done) > 1]:
                del target[key]                     # one run's interval; estimate() uses the seeds'
        if "label_histogram" in yardstick and done:
            yardstick["label_histogram"] = [sum(h) / len(done) for h in
                                            zip(*(r.yardstick["label_histogram"] for r in done))]
        if yardstick.get("on_data") is not None:       # the rule on the seed means, as for one run, by the
            # thresholds its real side set (stored with each seed's measures; the seeds share one floor). The
            # classes covered are the seeds' mean count, as the tables show it, never the classes of the averaged
            # histogram: seeds collapsed onto different digits would average to an even histogram.
            thresholds = {k: base.yardstick[k] for k in ("on_data_min", "counted_min") if k in base.yardstick}
            yardstick["collapse"] = collapse_state(yardstick["on_data"], yardstick["counted"],
                                                   yardstick["classes_covered"], **thresholds)
        if len(done) > 1:
            yardstick["over_training"] = mean_curve(done)
        diverged = sum(r.diverged for r in group)
        summary.update(seeds=len(group), seeds_diverged=diverged, seeds_unmeasurable=len(group) - len(done) - diverged,
                       std=std, seed_values=seed_values, seed_intervals=seed_intervals)
        out.append(Run(base.config, base.dir, summary, base.history, yardstick))
    return out


def mean_curve(runs: list[Run]) -> list[dict] | None:
    """The seeds' FD over training, averaged epoch by epoch (intervals.seed_mean: geometric, its interval
    on log FD); None unless every seed was measured at the same epochs."""
    curves = [r.yardstick.get("over_training") or [] for r in runs]
    epochs = [[p["epoch"] for p in c] for c in curves]
    if not curves[0] or any(e != epochs[0] for e in epochs):
        return None
    points = []
    for at_epoch in zip(*curves):
        e = seed_mean("fd", [p["fd"] for p in at_epoch])
        points.append({"epoch": at_epoch[0]["epoch"], "generator_images": at_epoch[0]["generator_images"],
                       "train_seconds": mean_std([p["train_seconds"] for p in at_epoch])[0],
                       "fd": e.value, "fd_ci": [e.lo, e.hi]})
    return points


def on_the_data(runs: list[Run]) -> list[Run]:
    """The runs the collapse rule judges (not "not yet on the data"): the ones a label histogram describes."""
    return [r for r in runs if value(r, "collapse") not in (None, COLLAPSE_STATES[0])]


def complete(runs: list[Run]) -> list[Run]:
    """The runs that finished and have yardstick numbers (not diverged, not unmeasurable)."""
    return [r for r in runs if not lost(r) and value(r, "fd") is not None]


def best_run(runs: list[Run]) -> Run | None:
    """The configuration with the lowest FD (seed mean): its seed-0 run, or the first measured seed's if
    seed 0 diverged or was unmeasurable."""
    done = complete(average_seeds(runs))
    if not done:
        return None
    best = min(done, key=lambda r: value(r, "fd")).config
    same = [r for r in runs if dataclasses.replace(r.config, seed=0) == dataclasses.replace(best, seed=0)
            and not lost(r)]
    return min(same, key=lambda r: r.config.seed)


def best_per_family(runs: list[Run], dataset: str) -> list[Run]:
    """Per family, the configuration with the lowest FD (seed mean); its seed-0 run for samples."""
    best = []
    for fam in families.names():
        done = [r for r in complete(average_seeds(runs)) if r.config.family == fam and r.config.dataset == dataset]
        if done:
            best.append(min(done, key=lambda r: value(r, "fd")))
    return best


def collapse_extremes(runs: list[Run]) -> list[Run]:
    """The most collapsed and the most even run on the data (KL of the counted samples' label histogram
    to uniform), per dataset; runs not yet on the data have no histogram to rank."""
    out = []
    for ds in DATASETS:
        done = [r for r in on_the_data(complete(first_seed(runs))) if r.config.dataset == ds]
        if done:
            ranked = sorted(done, key=lambda r: value(r, "kl_to_uniform"))
            out += [ranked[-1], ranked[0]]
    return out


def variant_pair(runs: list[Run]) -> list[Run]:
    """The seed-0 runs of the two variants the family compares side by side (its `variant_pair`,
    e.g. DC-WGAN with clipping and DC-WGAN-GP) at the second one's first latent size; [] if absent."""
    pair = families.get(runs[0].config.family).variant_pair if runs else ()
    if not pair:
        return []
    second = [r for r in runs if r.config.variant == pair[1] and r.config.seed == 0]
    if not second:
        return []
    z = second[0].config.latent_dim
    first = [r for r in runs if r.config.variant == pair[0] and r.config.latent_dim == z and r.config.seed == 0]
    return first[:1] + second[:1]


def two_d_runs(runs: list[Run]) -> list[Run]:
    """Runs with a 2-dimensional latent of a family with an encoder (seed 0, not diverged):
    the ones a plane can show, decoded and encoded."""
    return [r for r in runs if families.get(r.config.family).encodes and r.config.latent_dim == 2
            and r.config.seed == 0 and not r.diverged]


def memorization_candidates(runs: list[Run], dataset: str) -> list[Run]:
    """The best adversarial run (GAN or WGAN) and the best of the other families (VAE), by FD."""
    on_dataset = [r for r in runs if r.config.dataset == dataset]
    adversarial = [r for r in on_dataset if families.get(r.config.family).adversarial]
    picks = [best_run(adversarial), best_run([r for r in on_dataset if r not in adversarial])]
    return [r for r in picks if r is not None]
