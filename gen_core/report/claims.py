"""The two reports' claims (DESIGN.md, "The reports' claims"), tested one by one against the runs.

Each claim has one small pure test: every seed's Run and the yardstick's real sides in, a ClaimResult
out, saying what measures it, the numbers, and whether the runs agree, contradict or cannot tell.

How a test reads a verdict (verdicts.decide, the one rule):
- WINNER for the side the claim favours: agrees; WINNER for another side: contradicts.
- TIE: cannot tell ("within noise"), except where the claim is that two things are alike (C4, C10),
  where a tie agrees and a winner contradicts.
- AHEAD: cannot tell ("ahead in every seed, not established").
- One seed: the rule runs on bootstrap intervals and a verdict is marked "(one seed: provisional)".
  A measure read off a curve (a spread, a level, seconds) has no interval on one run, so there it
  cannot tell.
A claim with several parts agrees when every part agrees, contradicts when any part contradicts, and
otherwise cannot tell. A part the runs cannot test by construction (a number on the report's own loss
scale) is named in the reason as "not tested" and does not decide the outcome.

Sample-quality words ("sharper" for a GAN or WGAN, "better samples", "clearer", "less distinct",
"looks most like the data") are tested by FD, lower is better. A VAE's "sharper" is tested by the
sharpness ratio (samples' over the test images', closer to 1 is better: verdicts.score) where the runs
have one, else by FD. "Poor" means: beaten by the rule, on FD, by the best configuration this grid
trains on the same dataset (any family); FD over the real-data floor is shown beside it.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable, NamedTuple

import pandas as pd

from .. import families
from ..data import DATASET_TITLES
from ..grid import reports_config, reports_trained, rows
from ..results import Run
from ..yardstick import COLLAPSE_STATES, COLLAPSED_MAX
from .intervals import POSITIVE, Estimate, fmt, log_mean, mean_interval, mean_sd
from .runsets import average_seeds, complete, estimate, fd_over_floor, lost, value
from .tables import wrapped
from .verdicts import Entry, Outcome, Verdict, decide, entry, numbers

# The reports' claims are about named models, so this is the one module outside families/ that names
# families: here, once, as the reports' three (tests/test_layout.py allows only this line).
VAE, GAN, WGAN = "vae", "gan", "wgan"

AGREES, CONTRADICTS, CANNOT_TELL = "agrees", "contradicts", "cannot tell"
OUTCOMES = (AGREES, CONTRADICTS, CANNOT_TELL)
NOT_TESTED = "not tested"          # a part the runs cannot test by construction; never a claim's outcome
PROVISIONAL = "one seed: provisional"


# Curve measures. A curve's "settled" part is its second half: the values from index len // 2 on (epochs
# 2-3 of 3, 8-15 of 15, 13-25 of 25; the same for per-step values).
SETTLE_SHARE = 0.1       # "converged" / "steady": within this share of the curve's range (max - min)
NEAR_FACTOR = 1.5        # C15: a level "near" x lies in [x / 1.5, x * 1.5]
JSD_MAX = math.log(2)    # the JSD estimate log 2 - L_D / 2 never exceeds log 2 nats (Methods)


class Claim(NamedTuple):
    id: str                  # "M1".."M9" (the MLP report), "C1".."C17" (the conv report)
    report: str              # "MLP report" or "conv report"
    text: str                # the claim, in our words (DESIGN.md)
    test: Callable           # (Evidence) -> ClaimResult


@dataclass(frozen=True)
class ClaimResult:
    id: str
    measurement: str         # what tests it
    numbers: str             # the numbers behind the outcome
    outcome: str             # one of OUTCOMES
    provisional: bool = False  # the outcome rests on one seed
    reason: str = ""         # why it cannot tell, and what was not tested

    @property
    def outcome_text(self) -> str:
        """"agrees", or "agrees (one seed: provisional)" for a verdict that rests on one seed."""
        return f"{self.outcome} ({PROVISIONAL})" if self.provisional and self.outcome != CANNOT_TELL else self.outcome


@dataclass(frozen=True)
class Evidence:
    """What every claim's test reads: every seed's Run, the yardstick's real side per dataset, the profile."""
    runs: tuple
    real_sides: dict
    profile: str


class Side(NamedTuple):
    """One configuration of the grid, whatever its seed."""
    family: str
    dataset: str
    variant: str
    z: int

    def name(self, with_family: bool = False) -> str:
        head = f"{families.get(self.family).title} " if with_family and "GP" not in self.variant else ""
        return f"{head}{self.variant}, z={self.z}"


class Part(NamedTuple):
    """One tested part of a claim."""
    name: str
    outcome: str             # one of OUTCOMES or NOT_TESTED
    numbers: str = ""
    provisional: bool = False
    reason: str = ""


# ---- runs of a configuration -----------------------------------------------------------------------

def seed_runs(ev: Evidence, side: Side) -> list[Run]:
    """Every seed of a grid configuration (runs a chapter changed, cfg.changes, are not the grid's)."""
    return [r for r in ev.runs if (r.config.family, r.config.dataset, r.config.variant, r.config.latent_dim)
            == tuple(side) and not r.config.changes]


def missing_reason(ev: Evidence, side: Side) -> str:
    """Why a configuration has no measured run: the profile does not train it, it is not in the grid,
    every seed was lost, or it has not run."""
    row = next((r for r in rows(side.family, side.dataset) if r.variant == side.variant), None)
    name = f"{side.name(True)} on {DATASET_TITLES[side.dataset]}"
    if row is None or side.z not in row.latents:
        return f"the grid has no {name}"
    if not row.trained_at(ev.profile):
        return f"the {ev.profile} profile does not train {name} ({' and '.join(row.profiles)} do)"
    found = seed_runs(ev, side)
    if found and all(lost(r) for r in found):
        return f"every seed of {name} diverged or could not be measured ({len(found)} of {len(found)})"
    return f"no finished run of {name}"


def grid_sides(family: str, dataset: str, variant: str) -> list[Side]:
    row = next((r for r in rows(family, dataset) if r.variant == variant), None)
    return [] if row is None else [Side(family, dataset, variant, z) for z in row.latents]


def measured_entry(ev: Evidence, side: Side, key: str, with_family: bool = False) -> Entry | str:
    """The side's Entry on a yardstick or summary key (each seed's estimate with its own interval), or
    why it has none."""
    seeds = [e for r in seed_runs(ev, side) if not lost(r) for e in [estimate(r, key)] if e is not None]
    if not seeds:
        return missing_reason(ev, side) if not any(not lost(r) for r in seed_runs(ev, side)) else \
            f"{side.name(with_family)} has no {key}"
    return entry(side.name(with_family), key, seeds)


def real_mean(values: list[float], top: float | None = None) -> Estimate:
    """A seed mean with its t interval (no interval for one seed), cut at `top` where the measure ends."""
    if len(values) < 2:
        return Estimate(values[0])
    e = mean_interval(*mean_sd(values), len(values))
    return Estimate(e.value, e.lo, e.hi if top is None else min(e.hi, top))


def curve_entry(ev: Evidence, side: Side, measure: Callable, kind: str = "positive",
                top: float | None = None) -> Entry | str:
    """An Entry of a number each seed's run gives (a curve's spread or level, seconds), without a
    bootstrap interval: the seed mean carries the interval (intervals.log_mean or real_mean)."""
    found = [r for r in seed_runs(ev, side) if not r.diverged]
    values = [v for v in (measure(r) for r in found) if v is not None]
    if not values:
        return missing_reason(ev, side) if not found else f"{side.name()} has too short a curve"
    if kind == "positive" and min(values) <= 0:
        kind = "real"                                           # no logarithm: the t interval
    mean = log_mean(values) if kind == "positive" else real_mean(values, top)
    return Entry(side.name(), tuple(Estimate(v) for v in values), mean)


# ---- verdicts into parts ---------------------------------------------------------------------------

# "Alike": both seed-mean intervals inside a band at most ALIKE_FACTOR wide (highest upper end over lowest
# lower end) for a positive measure (intervals.POSITIVE: FD, the test BCE), or ALIKE_SPAN wide for one that
# can be 0 or below (the JSD level, in nats).
ALIKE_FACTOR = 1.25
ALIKE_SPAN = 0.1
ALIKE_WORDS = (f"their intervals span more than a factor {ALIKE_FACTOR} (or {ALIKE_SPAN} for a level that can be "
               f"0 or below)")


def shown_alike(v: Verdict) -> bool:
    """Whether the entries' seed-mean intervals all lie within one band of ALIKE_FACTOR (ALIKE_SPAN)."""
    means = [e.mean for e in v.entries]
    if not all(m.has_interval for m in means):
        return False
    lo, hi = min(m.lo for m in means), max(m.hi for m in means)
    return hi / lo <= ALIKE_FACTOR if v.measure in POSITIVE and lo > 0 else hi - lo <= ALIKE_SPAN


# "much" better or worse: the rule says which side is better outside the noise, not by how much
HOW_MUCH = Part("how much", NOT_TESTED, reason="how much: the rule names the better side, not the size of the gap")


def judged(v: Verdict, claimed: str, name: str = "", alike: bool = False) -> Part:
    """A verdict read against the claim: `claimed` should win (or, `alike`, the entries should tie)."""
    nums = numbers(v)
    if v.outcome is Outcome.NOT_RANKED:
        one = any(e.n == 1 and not e.mean.has_interval for e in v.entries)
        why = ("one seed, and this measure has no interval on one run (the seeds' spread gives it one)" if one
               else "not every side has an interval")
        return Part(name, CANNOT_TELL, nums, False, why)
    rests = f" ({PROVISIONAL})" if v.provisional else ""
    if v.outcome is Outcome.AHEAD:
        return Part(name, CANNOT_TELL, nums, v.provisional, f"{v.leaders[0]} is ahead in every seed, not established")
    if v.outcome is Outcome.WINNER:
        if alike:
            return Part(name, CONTRADICTS, nums, v.provisional, f"{v.winner} wins: they differ outside the noise")
        if v.winner == claimed:
            return Part(name, AGREES, nums, v.provisional)
        return Part(name, CONTRADICTS, nums, v.provisional, f"{v.winner} wins")
    # a tie: the best entry beats none of those it names (v.leaders); a side it beats is contradicted.
    # A tie alone does not show two things alike (with few seeds a tie is the rule's default): they agree
    # only where both seed-mean intervals also lie within one narrow band (shown_alike).
    if alike:
        if shown_alike(v):
            return Part(name, AGREES, nums, v.provisional)
        return Part(name, CANNOT_TELL, nums, False, f"not separated, but not shown alike either: {ALIKE_WORDS}")
    if claimed not in v.leaders:
        return Part(name, CONTRADICTS, nums, v.provisional, f"{v.leaders[0]} beats {claimed}")
    return Part(name, CANNOT_TELL, nums, v.provisional, f"within noise{rests}")


def compared(question: str, key: str, sides: list, claimed: str, name: str = "", alike: bool = False) -> Part:
    """decide() on Entries (or the reasons some side has none), read by `judged`."""
    missing = [s for s in sides if isinstance(s, str)]
    if missing:
        return Part(name, CANNOT_TELL, "", False, "; ".join(dict.fromkeys(missing)))
    return judged(decide(question, key, sides), claimed, name, alike)


def fd_pair(ev: Evidence, better: Side, worse: Side, name: str = "", with_family: bool = False) -> Part:
    """FD: does `better` beat `worse`, as the claim says?"""
    sides = [measured_entry(ev, s, "fd", with_family) for s in (better, worse)]
    return compared(f"Does {better.name(with_family)} beat {worse.name(with_family)} on FD?", "fd", sides,
                    better.name(with_family), name)


def combine(claim_id: str, measurement: str, parts: list[Part], notes: list[str] = ()) -> ClaimResult:
    """A claim's outcome from its parts (module docstring): every part agrees -> agrees; any contradicts
    -> contradicts; else cannot tell. Parts NOT_TESTED and `notes` go into the reason."""
    tested = [p for p in parts if p.outcome != NOT_TESTED]
    several = len(tested) > 1
    label = lambda p: f"{p.name}: " if several and p.name else ""              # noqa: E731
    nums = " | ".join(f"{label(p)}{p.numbers}" for p in tested if p.numbers)
    if any(p.outcome == CONTRADICTS for p in tested):
        against = [p for p in tested if p.outcome == CONTRADICTS]
        outcome, provisional = CONTRADICTS, any(p.provisional for p in against)
        why = [f"{label(p)}{p.reason}" for p in against if p.reason]
    elif tested and all(p.outcome == AGREES for p in tested):
        outcome, provisional, why = AGREES, any(p.provisional for p in tested), []
    else:
        outcome, provisional = CANNOT_TELL, False
        why = [f"{label(p)}{p.reason}" for p in tested if p.outcome == CANNOT_TELL]
    why += [f"not tested: {p.reason}" for p in parts if p.outcome == NOT_TESTED] + list(notes)
    return ClaimResult(claim_id, measurement, nums, outcome, provisional, "; ".join(why))


def floor_notes(ev: Evidence, datasets=("cifar10",)) -> list[str]:
    """A hint, not a verdict, where a dataset's classifier is below its floor."""
    return [f"the {DATASET_TITLES[ds]} classifier is below its floor: a hint, not a verdict" for ds in datasets
            if ds in ev.real_sides and ev.real_sides[ds].classifier.summary.get("below_floor")]


# ---- curve measures (per-epoch means under history["epochs"], per-step values under ["steps"]) ------

def second_half(values: list) -> list:
    return list(values[len(values) // 2:])


def spread(run: Run, key: str) -> float | None:
    """"Steadier" / "smoother": the standard deviation (n - 1) of the per-step values over the second half
    of training's steps: what a per-iteration curve's jitter and drift show once it has settled."""
    tail = second_half(run.history.get("steps", {}).get(key, []))
    return statistics.stdev(tail) if len(tail) >= 2 else None


def level(run: Run, key: str) -> float | None:
    """Where a curve "hovers" / "settles": the mean of its per-epoch means over the second half of the epochs."""
    tail = second_half(run.history.get("epochs", {}).get(key, []))
    return sum(tail) / len(tail) if tail else None


def epochs_to_settle(curve: list[float]) -> int | None:
    """"Iterations to converge", at the resolution of epochs: the first epoch (1-based) from which every
    epoch mean stays within SETTLE_SHARE of the curve's range of the last epoch's mean; None under 2 epochs."""
    if len(curve) < 2:
        return None
    tol = SETTLE_SHARE * (max(curve) - min(curve)) + 1e-12
    settled = len(curve)
    while settled > 1 and abs(curve[settled - 2] - curve[-1]) <= tol:
        settled -= 1
    return settled


def falls_steadily(curve: list[float]) -> bool | None:
    """M8's "falls steadily": no epoch-to-epoch rise larger than SETTLE_SHARE of the curve's range, and the
    last epoch below the first; None under 2 epochs."""
    if len(curve) < 2:
        return None
    tol = SETTLE_SHARE * (max(curve) - min(curve)) + 1e-12
    return curve[-1] < curve[0] and all(b - a <= tol for a, b in zip(curve, curve[1:]))


def epoch_curve(run: Run, key: str) -> list[float]:
    return list(run.history.get("epochs", {}).get(key, []))


def settle_part(ev: Evidence, faster: Side, slower: Side, key: str, name: str) -> Part:
    """Epochs to settle per seed: `faster` should need fewer in every pair of seeds. Contradicts where it
    needs more in every pair; equal or overlapping counts cannot tell (epochs are a coarse clock)."""
    counts = {}
    for side in (faster, slower):
        found = [r for r in seed_runs(ev, side) if not r.diverged]
        counts[side] = [n for n in (epochs_to_settle(epoch_curve(r, key)) for r in found) if n is not None]
        if not counts[side]:
            return Part(name, CANNOT_TELL, "", False, missing_reason(ev, side) if not found else
                        f"{side.name()} trained under 2 epochs: no curve to settle")
    a, b = counts[faster], counts[slower]
    nums = "; ".join(f"{s.name()} settles at epoch {', '.join(str(n) for n in counts[s])}" for s in (faster, slower))
    one = min(len(a), len(b)) == 1
    if max(a) < min(b):
        return Part(name, AGREES, nums, one)
    if min(a) > max(b):
        return Part(name, CONTRADICTS, nums, one)
    return Part(name, CANNOT_TELL, nums, False, "the epochs to settle tie or overlap across seeds")


# ---- the claims' tests -----------------------------------------------------------------------------

V = lambda variant, z, ds="mnist": Side(VAE, ds, variant, z)          # noqa: E731
G = lambda variant, z, ds="mnist": Side(GAN, ds, variant, z)          # noqa: E731
W = lambda variant, z, ds="mnist": Side(WGAN, ds, variant, z)         # noqa: E731

FD = "FD (classifier features, lower is better)"


def m1(ev):
    a, b = V("MLP A", 50), V("MLP A", 100)
    part = compared("Does the test BCE rise from z=50 to z=100?", "test_bce",
                    [measured_entry(ev, s, "test_bce") for s in (a, b)], a.name())
    return combine("M1", "test BCE, the -ELBO's reconstruction term (nats per image, lower is better): "
                         "z=50 should be lower", [part])


def sharper_key(ev: Evidence, sides: list[Side]) -> str:
    """The sharpness ratio where every side's runs carry one, else FD."""
    runs = [r for s in sides for r in seed_runs(ev, s) if not lost(r)]
    return "sharpness_ratio" if runs and all(value(r, "sharpness_ratio") is not None for r in runs) else "fd"


def m2(ev):
    b, a = V("MLP B", 100), V("MLP A", 100)
    key = sharper_key(ev, [a, b])
    what = "sharpness" if key == "sharpness_ratio" else "FD"
    sharper = compared("Is MLP B sharper?", key, [measured_entry(ev, s, key) for s in (b, a)], b.name(), what)
    similar = compared("Is the reconstruction loss alike?", "test_bce",
                       [measured_entry(ev, s, "test_bce") for s in (b, a)], b.name(), "test BCE", alike=True)
    how = ("the sharpness ratio (samples' sharpness over the test images', closer to 1 is better)"
           if key == "sharpness_ratio" else FD + " (the runs carry no sharpness ratio)")
    return combine("M2", f"sharper: {how}; similar loss: the test BCE ties", [sharper, similar])


def m3(ev):
    lo, hi = G("MLP A", 100), G("MLP A", 200)
    steady = compared("Is the JSD steadier at z=200?", "jsd_spread",
                      [curve_entry(ev, s, lambda r: spread(r, "jsd")) for s in (hi, lo)], hi.name(), "JSD spread")
    return combine("M3", "steadier: the standard deviation of the per-step JSD estimate over the second half of "
                         "training (lower is steadier); sharper: " + FD,
                   [steady, fd_pair(ev, hi, lo, "FD"), HOW_MUCH])


def m4(ev):
    sides = [G("MLP A", 100), G("MLP A", 200), G("MLP B", 200)]
    how = (f"the collapse rule on each run (every seed): its counted samples cover at most {COLLAPSED_MAX} "
           f"classes; the claim needs every run collapsed")
    per_side, states, provisional = [], [], False
    for s in sides:
        done = [r for r in seed_runs(ev, s) if not lost(r) and value(r, "collapse") is not None]
        if not done:
            return combine("M4", how, [Part("", CANNOT_TELL, "", False, missing_reason(ev, s))])
        provisional |= len(done) == 1
        states += [value(r, "collapse") for r in done]
        per_side.append(f"{s.name()}: " + ", ".join(
            f"{value(r, 'collapse')} ({fmt(value(r, 'classes_covered'))} classes; recall {fmt(value(r, 'recall'), 2)}, "
            f"coverage {fmt(value(r, 'coverage'), 2)})" for r in done))
    nums = "; ".join(per_side)
    judged_states = [x for x in states if x != COLLAPSE_STATES[0]]
    if COLLAPSE_STATES[2] in states:
        part = Part("", CONTRADICTS, nums, provisional,
                    f"{states.count(COLLAPSE_STATES[2])} of {len(states)} runs are not collapsed")
    elif len(judged_states) == len(states):
        part = Part("", AGREES, nums, provisional)
    else:
        part = Part("", CANNOT_TELL, nums, False, f"{len(states) - len(judged_states)} of {len(states)} runs are not "
                                                  f"yet on the data, so their collapse cannot be judged")
    return combine("M4", how, [part])


def m5(ev):
    return combine("M5", "less distinct: " + FD + "; MLP A should be lower",
                   [fd_pair(ev, G("MLP A", 200), G("MLP B", 200))])


def m6(ev):
    return combine("M6", "sharper: " + FD + "; z=200 should be lower", [fd_pair(ev, W("MLP A", 200), W("MLP A", 100))])


def m7(ev):
    return combine("M7", "less distinct: " + FD + "; MLP A should be lower",
                   [fd_pair(ev, W("MLP A", 200), W("MLP B", 200))])


def m8(ev):
    how = (f"the per-epoch mean EMD estimate of every MLP WGAN run (MNIST and CIFAR-10, every seed): it falls "
           f"steadily when no epoch rises by more than {SETTLE_SHARE:.0%} of the curve's range and the last epoch "
           f"is below the first")
    sides = [s for ds in ("mnist", "cifar10") for row in rows(WGAN, ds) if row.arch == "mlp"
             for s in grid_sides(WGAN, ds, row.variant)]
    listing, verdicts, provisional = [], [], False
    for s in sides:
        found = [r for r in seed_runs(ev, s) if not r.diverged]
        if not found:
            return combine("M8", how, [Part("", CANNOT_TELL, "", False, missing_reason(ev, s))])
        falls = [falls_steadily(epoch_curve(r, "emd")) for r in found]
        if None in falls:
            short = f"{s.name()} trained under 2 epochs: no curve"
            return combine("M8", how, [Part("", CANNOT_TELL, "", False, short)])
        provisional |= len(found) == 1
        verdicts += falls
        first = epoch_curve(found[0], "emd")
        listing.append(f"{s.name()} on {DATASET_TITLES[s.dataset]}: falls steadily in {sum(falls)} of {len(falls)} "
                       f"seeds (seed {found[0].config.seed}: {fmt(first[0])} to {fmt(first[-1])})")
    nums = "; ".join(listing)
    if all(verdicts):
        return combine("M8", how, [Part("", AGREES, nums, provisional)])
    return combine("M8", how, [Part("", CONTRADICTS, nums, provisional,
                                    f"{len(verdicts) - sum(verdicts)} of {len(verdicts)} runs do not fall steadily")])


def dataset_best(ev: Evidence, dataset: str, keep=lambda cfg: True) -> Side | None:
    """The configuration with the lowest seed-mean FD (runsets.average_seeds) among the grid's runs on
    `dataset` that `keep` accepts."""
    done = [r for r in complete(average_seeds([r for r in ev.runs if r.config.dataset == dataset
                                                and not r.config.changes and keep(r.config)]))]
    if not done:
        return None
    c = min(done, key=lambda r: value(r, "fd")).config
    return Side(c.family, c.dataset, c.variant, c.latent_dim)


def floor_ratios(ev: Evidence, sides: list[Side]) -> str:
    """Each side's seed-mean FD over the real-data floor, where the floor is pinned down (runsets.fd_over_floor)."""
    out = []
    for s in sides:
        real = ev.real_sides.get(s.dataset)
        done = [r for r in complete(average_seeds(seed_runs(ev, s)))]
        ratio = fd_over_floor(value(done[0], "fd"), real.floor) if done and real is not None else None
        if ratio is not None:
            out.append(f"{s.name(True)} {fmt(ratio)}x")
    return f" (FD / floor: {', '.join(out)})" if out else ""


def poor_part(ev: Evidence, side: Side | str, name: str) -> Part:
    """"Poor": `side` is beaten by the rule, on FD, by the best configuration of the grid on its dataset."""
    if isinstance(side, str):
        return Part(name, CANNOT_TELL, "", False, side)
    best = dataset_best(ev, side.dataset)
    if best == side:
        # the grid's best: "poor" is contradicted only if it beats the next best by the rule
        runner = dataset_best(ev, side.dataset, lambda c: (c.family, c.dataset, c.variant, c.latent_dim) != tuple(side))
        if runner is None:
            return Part(name, CANNOT_TELL, "", False, f"{side.name(True)} is the only configuration measured")
        part = fd_pair(ev, side, runner, name, with_family=True)
        if part.outcome == AGREES:                       # it beats every other configuration of the grid
            return Part(name, CONTRADICTS, part.numbers + floor_ratios(ev, [side, runner]), part.provisional,
                        f"{side.name(True)} has the lowest FD of the grid on {DATASET_TITLES[side.dataset]}")
        return Part(name, CANNOT_TELL, part.numbers + floor_ratios(ev, [side, runner]), False,
                    f"{side.name(True)} has the lowest FD of the grid but does not beat the next best by the rule")
    part = fd_pair(ev, best, side, name, with_family=True)
    return part._replace(numbers=part.numbers + floor_ratios(ev, [side, best]))


def best_of(ev: Evidence, family: str, dataset: str, variant: str, keep=lambda cfg: True) -> Side | str:
    """The lowest-FD latent size of a grid row (or why the row has no measured run)."""
    best = dataset_best(ev, dataset, lambda c: c.family == family and c.variant == variant and keep(c))
    if best is not None:
        return best
    sides = grid_sides(family, dataset, variant)
    return missing_reason(ev, sides[0]) if sides else f"the grid has no {variant} on {DATASET_TITLES[dataset]}"


POOR = ("poor: beaten by the rule, on FD, by the best configuration of the grid on that dataset (any family; "
        "FD over the real-data floor beside it)")


def m9(ev):
    parts = [poor_part(ev, best_of(ev, fam, "cifar10", "MLP"), families.get(fam).title) for fam in families.names()]
    return combine("M9", "each family's CIFAR-10 MLP; " + POOR, parts, floor_notes(ev))


def c1(ev):
    sides = [V("MLP C", z) for z in (2, 32, 128)]
    lowest = compared("Is the test -ELBO lowest at z=128?", "test_neg_elbo",
                      [measured_entry(ev, s, "test_neg_elbo") for s in sides], sides[-1].name(), "test -ELBO")
    slower = [settle_part(ev, s, sides[-1], "loss", f"settling, {s.name()} against z=128") for s in sides[:-1]]
    return combine("C1", "lowest total loss: the test -ELBO (nats per image) of z=2, 32, 128, z=128 should win; "
                         "more iterations: the epoch at which the per-epoch training loss settles (within "
                         f"{SETTLE_SHARE:.0%} of the curve's range of its last epoch), later for z=128 than for each "
                         "smaller z in every seed", [lowest] + slower)


def c2(ev):
    sides = [V("MLP C", z) for z in (2, 32, 128)]
    steps = [fd_pair(ev, b, a, f"{a.name()} to {b.name()}") for a, b in zip(sides, sides[1:])]
    return combine("C2", FD + "; each step up in z should be better", steps)


def c3(ev):
    return combine("C3", "much worse (dark images with white blobs): " + FD + "; hidden 512 should be lower",
                   [fd_pair(ev, V("MLP C", 32), V("MLP C h64", 32)), HOW_MUCH])


def c4(ev):
    sides = [G("DCGAN", 64), G("DCGAN", 256)]
    alike = compared("Do the JSD curves of z=64 and z=256 sit alike?", "jsd_level",
                     [curve_entry(ev, s, lambda r: level(r, "jsd"), "real", JSD_MAX) for s in sides],
                     sides[0].name(), "JSD level", alike=True)
    scale = Part("level", NOT_TESTED, reason="the report's 0.3-0.4 reads 0.5 as ideal, another scale than this "
                                              "estimate's (nats, 0 at equilibrium, log 2 at most; Methods)")
    return combine("C4", "alike: the level of the JSD estimate (mean of its per-epoch means over the second half of "
                         "the epochs, nats) ties between z=64 and z=256", [alike, scale])


def c5(ev):
    return combine("C5", "noisier, less clear: " + FD + "; z=64 should be lower",
                   [fd_pair(ev, G("DCGAN", 64), G("DCGAN", 256))])


def c6(ev):
    return combine("C6", "better samples: " + FD + " of DC-WGAN (RMSprop) against DC-WGAN Adam at z=64 (MNIST)",
                   [fd_pair(ev, W("DC-WGAN", 64), W("DC-WGAN Adam", 64)), HOW_MUCH])


def works_part(ev: Evidence, side: Side) -> Part:
    """"Works": every seed trained without diverging, was measured, and its samples lie on the data (the
    collapse rule's state is not "not yet on the data")."""
    found = seed_runs(ev, side)
    if not found:
        return Part("works", CANNOT_TELL, "", False, missing_reason(ev, side))
    bad = [r for r in found if lost(r) or value(r, "collapse") in (None, COLLAPSE_STATES[0])]
    nums = (f"{side.name()}: {len(found) - len(bad)} of {len(found)} seeds trained, were measured and lie on the data")
    if bad and not any(lost(r) for r in bad) and undertrained(ev, side):
        return Part("works", CANNOT_TELL, nums, False, f"{len(bad)} of {len(found)} seeds are not yet on the data "
                                                       f"after fewer epochs than the report's")
    return Part("works", CONTRADICTS if bad else AGREES, nums, len(found) == 1,
                f"{len(bad)} of {len(found)} seeds diverged, were unmeasurable or are not yet on the data"
                if bad else "")


def undertrained(ev: Evidence, side: Side) -> bool:
    """Whether the side's runs trained fewer epochs than the reports' row (quick, smoke)."""
    found = seed_runs(ev, side)
    full = reports_config(found[0].config) if found else None
    return full is not None and any(r.config.epochs < full.epochs for r in found)


def c7(ev):
    clip = W("DC-WGAN", 64)
    return combine("C7", "works: every seed of the DC-WGAN (clip 0.01, z=64, MNIST) trains, is measured and lies on "
                         "the data; poor results at 0.1: " + FD + ", clip 0.01 should be lower",
                   [works_part(ev, clip), fd_pair(ev, clip, W("DC-WGAN clip 0.1", 64), "clip 0.1")])


def c8(ev):
    a, b = W("DC-WGAN", 64), W("DC-WGAN", 256)
    smooth = compared("Is the EMD smoother at z=64?", "emd_spread",
                      [curve_entry(ev, s, lambda r: spread(r, "emd")) for s in (a, b)], a.name(), "EMD spread")
    return combine("C8", "smoother EMD: the standard deviation of the per-step EMD estimate over the second half of "
                         "training; faster convergence: the epoch its per-epoch EMD settles (as C1); better samples: "
                         + FD + "; z=64 should win each",
                   [smooth, settle_part(ev, a, b, "emd", "settling"), fd_pair(ev, a, b, "FD")])


def family_bests(ev: Evidence, dataset: str) -> list[Side | str]:
    """Each family's best configuration on `dataset` by seed-mean FD, among the rows the reports show."""
    out = []
    for fam in families.names():
        best = dataset_best(ev, dataset, lambda c, fam=fam: c.family == fam and reports_trained(c))
        out.append(best if best is not None else f"no finished {families.get(fam).title} run on "
                                                 f"{DATASET_TITLES[dataset]}")
    return out


def best_family_part(ev: Evidence, dataset: str, claimed: str, name: str) -> Part:
    bests = family_bests(ev, dataset)
    entries = [b if isinstance(b, str) else measured_entry(ev, b, "fd", True) for b in bests]
    names = {b.family: b.name(True) for b in bests if not isinstance(b, str)}
    return compared(f"Which family is best on {DATASET_TITLES[dataset]}?", "fd", entries,
                    names.get(claimed, claimed), name)


def c9(ev):
    images = best_family_part(ev, "mnist", VAE, "most like the data")
    gan, wgan = G("DCGAN", 64), W("DC-WGAN", 64)
    seconds = compared("Does the WGAN train slower?", "train_seconds",
                       [curve_entry(ev, s, lambda r: value(r, "train_seconds")) for s in (gan, wgan)],
                       gan.name(), "training seconds")
    bests = family_bests(ev, "mnist")
    pair = [b for b in bests if not isinstance(b, str) and b.family in (GAN, WGAN)]
    here = "no GAN or no WGAN run here"
    if len(pair) == 2:
        v = decide("GAN or WGAN?", "fd", [measured_entry(ev, s, "fd", True) for s in pair])
        here = {Outcome.WINNER: f"{v.leaders[0]} wins", Outcome.AHEAD: f"{v.leaders[0]} is ahead in every seed",
                Outcome.TIE: "they tie within noise"}.get(v.outcome, "they are not ranked")
    order = Part("GAN against WGAN", NOT_TESTED,
                 reason=f"whether the GAN or the WGAN generates better, since the report ranks them both ways (by FD "
                        f"here {here})")
    return combine("C9", "most like the data: " + FD + " of each family's best configuration on MNIST (the reports' "
                         "rows), the VAE should win; the WGAN trains slower: whole-run training seconds of DCGAN "
                         "against DC-WGAN at z=64 (this machine's timings)", [images, seconds, order])


def c10(ev):
    best = best_of(ev, VAE, "cifar10", "MLP C")
    z2, z128 = V("MLP C", 2, "cifar10"), V("MLP C", 128, "cifar10")
    alike = compared("Are z=2 and z=128 alike?", "fd", [measured_entry(ev, s, "fd") for s in (z2, z128)],
                     z128.name(), "z=2 against z=128", alike=True)
    none32 = Part("z=32", NOT_TESTED, reason="the grid has no CIFAR-10 MLP C at z=32")
    return combine("C10", "CIFAR-10 VAE MLP C; " + POOR + "; about the same: FD of z=2 and z=128 tie",
                   [poor_part(ev, best, "poor"), alike, none32], floor_notes(ev))


def c11(ev):
    z2, z128 = V("Conv", 2, "cifar10"), V("Conv", 128, "cifar10")
    loss = compared("Is the test -ELBO lower at z=128?", "test_neg_elbo",
                    [measured_entry(ev, s, "test_neg_elbo") for s in (z128, z2)], z128.name(), "test -ELBO")
    scale = Part("41 to 38", NOT_TESTED, reason="the report's loss of about 41 to 38 is on another scale (ours sums "
                                                 "BCE over the 3072 pixel values, plus KL, in nats per image)")
    return combine("C11", "the test -ELBO (nats per image) and, for colour appearing, " + FD + "; z=128 should win",
                   [loss, fd_pair(ev, z128, z2, "FD"), scale], floor_notes(ev))


def c12(ev):
    return combine("C12", "the CIFAR-10 conv VAE's best latent size; " + POOR,
                   [poor_part(ev, best_of(ev, VAE, "cifar10", "Conv"), "")], floor_notes(ev))


def c13(ev):
    z64, z256 = G("DCGAN", 64, "cifar10"), G("DCGAN", 256, "cifar10")
    jsd = compared("Is the JSD estimate lower at z=256?", "jsd_level",
                   [curve_entry(ev, s, lambda r: level(r, "jsd"), "real", JSD_MAX) for s in (z256, z64)],
                   z256.name(), "JSD level")
    scale = Part("0.6 against 0.7", NOT_TESTED,
                 reason="the report's 0.6 against 0.7 reads 0.5 as ideal, another scale than this estimate's "
                        "(Methods); only the order is tested")
    return combine("C13", "clearer: " + FD + "; the JSD estimate's level (mean of its per-epoch means over the second "
                          "half, nats), lower at z=256; z=256 should win both",
                   [fd_pair(ev, z256, z64, "FD"), jsd, scale], floor_notes(ev))


def c14(ev):
    gan, vae = best_of(ev, GAN, "cifar10", "DCGAN"), best_of(ev, VAE, "cifar10", "Conv")
    if isinstance(gan, str) or isinstance(vae, str):
        part = Part("", CANNOT_TELL, "", False, gan if isinstance(gan, str) else vae)
    else:
        part = fd_pair(ev, gan, vae, with_family=True)
    return combine("C14", FD + " of the best DCGAN against the best conv VAE on CIFAR-10", [part], floor_notes(ev))


def reports_critic(ev: Evidence, side: Side) -> bool:
    """Whether the side's runs have the report's critic (widths, clip): only then is an EMD level on its scale."""
    found = seed_runs(ev, side)
    full = reports_config(found[0].config) if found else None
    return full is not None and all((r.config.d_channels, r.config.clip) == (full.d_channels, full.clip) for r in found)


def near_part(ev: Evidence, targets: dict) -> Part:
    """Every seed's EMD level within NEAR_FACTOR of the report's; contradicts where no seed's is."""
    listing, fits, provisional = [], [], False
    for side, target in targets.items():
        levels = [v for v in (level(r, "emd") for r in seed_runs(ev, side) if not r.diverged) if v is not None]
        if not levels:
            return Part("EMD level", CANNOT_TELL, "", False, missing_reason(ev, side))
        inside = [target / NEAR_FACTOR <= v <= target * NEAR_FACTOR for v in levels]
        fits.append(inside)
        provisional |= len(levels) == 1
        listing.append(f"{side.name()} settles at {', '.join(fmt(v) for v in levels)} (report: near {fmt(target)})")
    nums = "; ".join(listing)
    if all(all(f) for f in fits):
        return Part("EMD level", AGREES, nums, provisional)
    if any(not any(f) for f in fits):
        return Part("EMD level", CONTRADICTS, nums, provisional,
                    f"a level lies outside [x / {NEAR_FACTOR}, x * {NEAR_FACTOR}] in every seed")
    return Part("EMD level", CANNOT_TELL, nums, False, "the seeds' levels fall both inside and outside the band")


def c15(ev):
    z64, z256 = W("DC-WGAN", 64, "cifar10"), W("DC-WGAN", 256, "cifar10")
    if all(reports_critic(ev, s) for s in (z64, z256)):
        levels = near_part(ev, {z256: 0.2, z64: 0.1})
    else:
        levels = Part("EMD level", NOT_TESTED, reason="the EMD levels 0.2 and 0.1, since these critics are not the "
                                                      "report's (widths capped at this profile) and an EMD estimate "
                                                      "scales with its critic's Lipschitz constant")
    return combine("C15", "slightly better: " + FD + ", z=256 should be lower; settles near: the EMD estimate's level "
                          f"(mean of its per-epoch means over the second half) within a factor {NEAR_FACTOR} of the "
                          "report's, where the critic is the report's",
                   [fd_pair(ev, z256, z64, "FD"), levels], floor_notes(ev))


def c16(ev):
    parts = [best_family_part(ev, "cifar10", WGAN, "WGAN best")]
    bests = {b.family: b for b in family_bests(ev, "cifar10") if not isinstance(b, str)}
    for fam in (GAN, WGAN):
        if fam in bests and VAE in bests:
            parts.append(fd_pair(ev, bests[fam], bests[VAE], f"{families.get(fam).title} over VAE", True))
        else:
            absent = "VAE" if VAE not in bests else families.get(fam).title
            parts.append(Part(f"{families.get(fam).title} over VAE", CANNOT_TELL, "", False,
                              f"no finished {absent} run on CIFAR-10"))
    return combine("C16", FD + " of each family's best configuration on CIFAR-10 (the reports' rows): the WGAN should "
                          "win, and the GAN and the WGAN each beat the VAE", parts, floor_notes(ev))


ARCH_WORDS = {"mlp": "MLPs", "conv": "conv models"}


def conv_gain_part(ev: Evidence, family: str, dataset: str) -> Part:
    """The best conv configuration against the best MLP one (FD, the rule), and the conv gain (the ratio of
    their seed-mean FDs) against the largest gain within one architecture (worst over best FD of its
    configurations: latent size and depth, the reports' other changes)."""
    name = f"{families.get(family).title} {DATASET_TITLES[dataset]}"
    groups = {arch: [r for r in complete(average_seeds([r for r in ev.runs if r.config.family == family
                                                        and r.config.dataset == dataset and r.config.arch == arch
                                                        and not r.config.changes and reports_trained(r.config)]))]
              for arch in ("mlp", "conv")}
    if not groups["mlp"] or not groups["conv"]:
        return Part(name, CANNOT_TELL, "", False, f"no finished {'MLP' if not groups['mlp'] else 'conv'} run of the "
                                                  f"{name}")
    side = lambda r: Side(r.config.family, r.config.dataset, r.config.variant, r.config.latent_dim)   # noqa: E731
    best = {a: min(g, key=lambda r: value(r, "fd")) for a, g in groups.items()}
    worst = {a: max(g, key=lambda r: value(r, "fd")) for a, g in groups.items()}
    conv = fd_pair(ev, side(best["conv"]), side(best["mlp"]), name)
    gain = value(best["mlp"], "fd") / value(best["conv"], "fd")
    within = {a: value(worst[a], "fd") / value(best[a], "fd") for a in groups}
    arch = max(within, key=within.get)
    nums = (f"{conv.numbers}; conv gain {fmt(gain)}x against {fmt(within[arch])}x within the {ARCH_WORDS[arch]} "
            f"({side(worst[arch]).name()} over {side(best[arch]).name()})")
    if conv.outcome == CONTRADICTS:
        return conv._replace(numbers=nums)
    if within[arch] >= gain and best[arch] is not worst[arch]:
        other = fd_pair(ev, side(best[arch]), side(worst[arch]))
        if other.outcome == AGREES:                      # a larger gain that the rule establishes
            return Part(name, CONTRADICTS, nums, other.provisional,
                        f"a change within the {ARCH_WORDS[arch]} gains more")
        return Part(name, CANNOT_TELL, nums, False,
                    f"a change within the {ARCH_WORDS[arch]} gains as much, within noise")
    return conv._replace(numbers=nums)


def c17(ev):
    parts = [conv_gain_part(ev, fam, ds) for fam in (GAN, WGAN) for ds in ("mnist", "cifar10")]
    return combine("C17", "for the GAN and the WGAN on each dataset: the best conv configuration beats the best MLP "
                          "one on " + FD + ", and their FD ratio exceeds the largest ratio between two configurations "
                          "of one architecture (the reports' rows)", parts, floor_notes(ev))


MLP, CONV = "MLP report", "conv report"
CLAIMS = (
    Claim("M1", MLP, "VAE MLP A: raising z from 50 to 100 raises the reconstruction loss.", m1),
    Claim("M2", MLP, "VAE MLP B (deeper) at z = 100 gives sharper samples than MLP A at z = 100, at a similar "
                     "reconstruction loss.", m2),
    Claim("M3", MLP, "GAN MLP A: raising z from 100 to 200 steadies the JSD estimate and gives much sharper "
                     "samples.", m3),
    Claim("M4", MLP, "Every MNIST MLP GAN collapses onto 3 or 4 classes.", m4),
    Claim("M5", MLP, "GAN MLP B (deeper, z = 200) gives less distinct samples than MLP A at z = 200 (it would need "
                     "more training).", m5),
    Claim("M6", MLP, "WGAN MLP A: raising z from 100 to 200 gives sharper samples.", m6),
    Claim("M7", MLP, "WGAN MLP B (deeper, z = 200) gives less distinct samples than MLP A at z = 200.", m7),
    Claim("M8", MLP, "The WGAN's EMD estimate falls steadily over the epochs, in every run.", m8),
    Claim("M9", MLP, "On CIFAR-10 the MLP VAE, GAN and WGAN all do poorly.", m9),
    Claim("C1", CONV, "VAE MNIST MLP C: the total loss is lowest at the largest latent (z = 128), which also takes "
                      "more iterations to converge.", c1),
    Claim("C2", CONV, "VAE MNIST MLP C: samples improve with latent size; z = 128 looks better than z = 32.", c2),
    Claim("C3", CONV, "VAE MNIST: hidden width 64 is much worse than 512 (dark images with white blobs).", c3),
    Claim("C4", CONV, "DCGAN MNIST: the JSD curves of z = 64 and z = 256 look alike and hover around 0.3-0.4 (the "
                      "report reads 0.5 as ideal; Methods explains the estimate).", c4),
    Claim("C5", CONV, "DCGAN MNIST: z = 256 gives noisier, less clear samples than z = 64.", c5),
    Claim("C6", CONV, "DC-WGAN: RMSprop gives much better samples than Adam.", c6),
    Claim("C7", CONV, "DC-WGAN: clipping at 0.01 works; a larger clip value gives poor results.", c7),
    Claim("C8", CONV, "DC-WGAN MNIST: z = 64 beats z = 256 (smoother EMD, faster convergence, better samples).", c8),
    Claim("C9", CONV, "MNIST overall: the VAE's images look most like the data; the GAN at z = 64 is good and quick "
                      "to train; the WGAN generates best from random vectors but trains slower. Its closing section "
                      "instead ranks the GAN's MNIST images above the WGAN's.", c9),
    Claim("C10", CONV, "VAE CIFAR MLP: poor; z = 2 and z = 128 about the same, slightly better at 128 (z = 32 about "
                       "as 128).", c10),
    Claim("C11", CONV, "Conv VAE CIFAR: z = 128 is much better than z = 2 (loss about 41 to 38; colour appears).", c11),
    Claim("C12", CONV, "The VAE stays poor on CIFAR-10 even with convolutions.", c12),
    Claim("C13", CONV, "DCGAN CIFAR: z = 256 beats z = 64 (clearer samples; JSD estimate about 0.6 against 0.7).", c13),
    Claim("C14", CONV, "On CIFAR-10 the DCGAN clearly beats the conv VAE.", c14),
    Claim("C15", CONV, "DC-WGAN CIFAR: z = 256 slightly better than z = 64; the EMD settles near 0.2 (z = 64 near "
                       "0.1).", c15),
    Claim("C16", CONV, "CIFAR-10 overall: the WGAN gives the best images; GAN and WGAN beat the VAE.", c16),
    Claim("C17", CONV, "Convolutions instead of linear layers are the largest gain for the GAN and the WGAN (the "
                       "linear MNIST GAN's digits were hard to recognise).", c17),
)

COLUMNS = ("claim", "report", "measurement", "numbers", "outcome", "reason")


def claim_results(runs: list[Run], real_sides: dict, profile: str) -> list[ClaimResult]:
    """Every claim's result, in CLAIMS' order. runs: every seed's Run; real_sides: {dataset: real side}."""
    ev = Evidence(tuple(runs), dict(real_sides), profile)
    return [claim.test(ev) for claim in CLAIMS]


def claims_frame(results: list[ClaimResult]) -> pd.DataFrame:
    """One row per result: the claim (id and text), its report, measurement, numbers, outcome, reason."""
    by_id = {c.id: c for c in CLAIMS}
    return pd.DataFrame([(f"{r.id}. {by_id[r.id].text}", by_id[r.id].report, r.measurement, r.numbers,
                          r.outcome_text, r.reason) for r in results], columns=list(COLUMNS))


def claims_shown(frame: pd.DataFrame):
    """claims_frame as the page shows it: without row numbers, its sentences wrapped."""
    return wrapped(frame, "claims", hide_index=True)


def claims_table(runs: list[Run], real_sides: dict, profile: str) -> pd.DataFrame:
    """The reports' claims, one row each in DESIGN.md's order, tested against the runs."""
    return claims_frame(claim_results(runs, real_sides, profile))


def claims_counts(results: list[ClaimResult]) -> dict:
    """How many claims the runs agree with, contradict, and cannot tell."""
    return {o: sum(r.outcome == o for r in results) for o in OUTCOMES}


def claims_sentence(results: list[ClaimResult]) -> str:
    """"Of the 26 claims, the runs agree with 18, contradict 5 and cannot tell on 3." and how many of the
    agreements and contradictions rest on one seed."""
    n = claims_counts(results)
    decided = n[AGREES] + n[CONTRADICTS]
    one = sum(r.provisional and r.outcome != CANNOT_TELL for r in results)
    tail = (f" {'All' if one == decided else one} of the {decided} verdicts rest on one seed and are provisional."
            if one else "")
    return (f"Of the {len(results)} claims, the runs agree with {n[AGREES]}, contradict {n[CONTRADICTS]} and "
            f"cannot tell on {n[CANNOT_TELL]}.{tail}")
