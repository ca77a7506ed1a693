"""Verdicts as data: which entry (a configuration, a family's best run) is better on one measure, by
the one written rule, and the one function that puts a verdict into words.

The rule (stated in Methods, with its false-positive rate):
- With at least 2 measured seeds on each side, A **beats** B when every seed of A scores better than
  every seed of B *and* the 95% intervals of the two seed means (on log FD for FD) do not overlap.
- When every seed of A is better but the seed-mean intervals overlap, A is only **ahead in every seed**:
  reported, never called a win.
- With 1 seed on either side, A beats B when their bootstrap intervals do not overlap, and the verdict
  is **provisional**: a bootstrap interval leaves out seed-to-seed variation.
Otherwise the two **tie**.

Pure: Estimates in, Verdicts and words out. Counts such as "in 2 of 10" are taken from Verdicts.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import Enum

from .intervals import Estimate, fmt, scored, seed_mean, separated, show


@dataclass(frozen=True)
class Entry:
    """One side of a comparison: each measured seed's value with its own bootstrap interval, and the
    seed mean with its interval (intervals.seed_mean; for one seed, that seed's estimate)."""
    name: str
    seeds: tuple[Estimate, ...]
    mean: Estimate

    @property
    def n(self) -> int:
        return len(self.seeds)


def entry(name: str, measure: str, seeds: list[Estimate]) -> Entry:
    """An Entry from its seeds' estimates; the mean is intervals.seed_mean over their values."""
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError(f"entry {name!r} has no measured seed; an entry needs at least one")
    return Entry(name, seeds, seeds[0] if len(seeds) == 1 else seed_mean(measure, [s.value for s in seeds]))


class Outcome(str, Enum):
    WINNER = "winner"            # one entry beats every other by the rule
    AHEAD = "ahead in every seed"  # two entries: every seed of one is better, the mean intervals overlap
    TIE = "tie"                  # no entry beats all the others
    NOT_RANKED = "not ranked"    # fewer than two entries, or one without an interval


def score(measure: str):
    """The scale a measure ranks on, lower is better: sharpness ratios by |log r| (best at 1), shares
    where higher is better negated, the rest as they are (FD, KID, -ELBO)."""
    if measure == "sharpness_ratio":
        return lambda v: abs(math.log(max(v, 1e-12)))
    if measure in HIGHER_IS_BETTER:
        return lambda v: -v
    return lambda v: v


HIGHER_IS_BETTER = ("precision", "recall", "coverage", "density", "classes_covered")


def _scored(e: Estimate, measure: str) -> Estimate:
    return scored(e, score(measure), best_at=1.0 if measure == "sharpness_ratio" else None)


def ahead_in_every_seed(a: Entry, b: Entry, measure: str) -> bool:
    s = score(measure)
    return all(s(x.value) < s(y.value) for x in a.seeds for y in b.seeds)


def beats(a: Entry, b: Entry, measure: str) -> bool:
    """The rule (module docstring): does A beat B on `measure`?"""
    sa, sb = _scored(a.mean, measure), _scored(b.mean, measure)
    if min(a.n, b.n) >= 2:
        return ahead_in_every_seed(a, b, measure) and separated(sa, sb) and sa.value < sb.value
    return separated(sa, sb) and sa.value < sb.value


@dataclass(frozen=True)
class Verdict:
    """The answer to one question on one measure: its entries, the outcome, and who leads."""
    question: str
    measure: str                 # the key ranked on, e.g. "fd"
    entries: tuple[Entry, ...]
    outcome: Outcome
    leaders: tuple[str, ...]     # the winner alone, the entry ahead in every seed, or the entries tied for the best

    @property
    def winner(self) -> str | None:
        return self.leaders[0] if self.outcome is Outcome.WINNER else None

    @property
    def seeds(self) -> int:
        """The fewest measured seeds of any entry: what the verdict rests on."""
        return min((e.n for e in self.entries), default=0)

    @property
    def provisional(self) -> bool:
        return self.outcome is not Outcome.NOT_RANKED and self.seeds < 2


def decide(question: str, measure: str, entries: list[Entry]) -> Verdict:
    """The verdict on `entries` by the rule: a winner beats every other entry; with two entries,
    one ahead in every seed without a win is AHEAD; else the entries no better one beats tie."""
    entries = tuple(entries)
    if len(entries) < 2 or not all(e.mean.has_interval for e in entries):
        return Verdict(question, measure, entries, Outcome.NOT_RANKED, ())
    s = score(measure)
    order = sorted(entries, key=lambda e: s(e.mean.value))
    best = order[0]
    if all(beats(best, other, measure) for other in order[1:]):
        return Verdict(question, measure, entries, Outcome.WINNER, (best.name,))
    if len(entries) == 2 and min(best.n, order[1].n) >= 2 and ahead_in_every_seed(best, order[1], measure):
        return Verdict(question, measure, entries, Outcome.AHEAD, (best.name,))
    tied = [best.name] + [e.name for e in order[1:] if not beats(best, e, measure)]
    return Verdict(question, measure, entries, Outcome.TIE, tuple(tied))


def seeds_phrase(v: Verdict) -> str:
    """What a verdict rests on: "3 seeds each", "2 to 3 seeds", or "one seed: provisional"."""
    counts = sorted({e.n for e in v.entries})
    if v.provisional:
        return "one seed: provisional"
    return f"{counts[0]} seeds each" if len(counts) == 1 else f"{counts[0]} to {counts[-1]} seeds"


def numbers(v: Verdict, digits: int = 3) -> str:
    """Each entry's seed mean with its interval, and its seeds' values where there are several."""
    def one(e: Entry) -> str:
        per_seed = f" (seeds {', '.join(fmt(s.value, digits) for s in e.seeds)})" if e.n > 1 else ""
        return f"{e.name} {show(e.mean, digits)}{per_seed}"
    return "; ".join(one(e) for e in v.entries)


def sentence(v: Verdict, what: str | None = None) -> str:
    """The verdict in words, ending on what it rests on. `what`: the measure's name (default: its key,
    "FD" for fd)."""
    what = what or {"fd": "FD", "kid": "KID"}.get(v.measure, v.measure)
    lower = "best" if v.measure in HIGHER_IS_BETTER or v.measure == "sharpness_ratio" else "lowest"
    if v.outcome is Outcome.NOT_RANKED:
        if len(v.entries) < 2:
            return f"Only {v.entries[0].name if v.entries else 'nothing'} is here, so there is nothing to rank."
        return f"Not every {what} here has an interval, so no winner is named."
    rests = seeds_phrase(v)
    if v.outcome is Outcome.WINNER:
        how = ("every seed of it is better than every seed of the others and the seed-mean intervals do not "
               "overlap" if not v.provisional else "its interval overlaps no other's")
        return f"{v.leaders[0]} has the {lower} {what}: {how} ({rests})."
    if v.outcome is Outcome.AHEAD:
        return (f"{v.leaders[0]} has the {lower} {what} in every seed, but the seed-mean intervals overlap, so "
                f"no winner is named ({rests}).")
    names = list(v.leaders)
    return (f"Within noise: {', '.join(names[:-1])} and {names[-1]} tie for the {lower} {what} ({rests}).")


def false_positive_rate(n: int, trials: int = 20000, seed: int = 0) -> float:
    """How often the rule names a winner between two entries whose n seeds each come from one and the
    same distribution (log FD normal, as its seed mean assumes): Monte Carlo over `trials` pairs.
    Scale-free: the rule compares ranks and t intervals, which a common mean and spread do not change."""
    rng = random.Random(seed)
    wins = 0
    for _ in range(trials):
        ea, eb = (entry(name, "fd", [Estimate(math.exp(rng.gauss(0.0, 1.0))) for _ in range(n)]) for name in "ab")
        wins += beats(ea, eb, "fd") or beats(eb, ea, "fd")
    return wins / trials
