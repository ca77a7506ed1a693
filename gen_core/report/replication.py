"""What replication showed: each configuration's seed spread beside one seed's bootstrap interval, and
which of the previous published book's verdicts held with three seeds.

    seed_spread_table(runs)        per configuration with several seeds: the spread of its seeds' FD against
                                   the width of one seed's bootstrap interval
    seed_spread_sentence(runs)     the same, counted, in words
    previous_verdicts_table(runs)  each verdict of the previous book beside this build's answer: held, did not
                                   hold, or cannot tell
    previous_counts(table)         how many of each

The previous book is the one published before this replication (profile long, commit 9fba88e, executed
2026-12-03, 1 or 2 seeds per configuration). Its verdicts are quoted below as data, from its executed
comparison page, with the question this book's code asks for each. Pure: runs in, tables and words out.
"""
from __future__ import annotations

import math
import statistics
from typing import NamedTuple

import pandas as pd

from ..data import DATASET_TITLES
from ..results import Run
from ..yardstick import COLLAPSE_STATES
from .comparison import BUDGETS, comparison_verdicts
from .findings import family_label, plural, reports_looked
from .intervals import fmt
from .runsets import average_seeds, complete, config_key, seed_estimates, seeds_measured, value
from .verdicts import Outcome, Verdict

PREVIOUS_BOOK = "the book published before (profile long, commit 9fba88e, 1 or 2 seeds per configuration)"


# ---- the seed spread against one seed's bootstrap interval ------------------------------------------------

def _factor(lo: float, hi: float) -> float | None:
    """How many times wider the top of a range of positive numbers is than its bottom (FD is positive)."""
    return hi / lo if lo > 0 else None


SPREAD_COLUMNS = ("dataset", "configuration", "seeds", "FD of each seed", "seed spread (max / min)",
                  "one seed's interval (hi / lo, median)", "spread over interval", "seeds apart")


def seed_spread_rows(runs: list[Run]) -> list[dict]:
    """Per configuration with at least two measured seeds: its seeds' FD values, their spread as the factor
    max / min, the median over its seeds of one seed's bootstrap interval as the factor hi / lo, the first
    over the second, and whether any two seeds' bootstrap intervals are apart (do not overlap)."""
    rows = []
    for r in complete(average_seeds(runs)):
        seeds = [e for e in seed_estimates(r, "fd") if e.has_interval]
        if seeds_measured(r) < 2 or len(seeds) < 2:
            continue
        values = sorted(e.value for e in seeds)
        spread = _factor(values[0], values[-1])
        widths = [w for e in seeds if (w := _factor(e.lo, e.hi)) is not None]
        width = statistics.median(widths) if widths else None
        apart = any(a.hi < b.lo or b.hi < a.lo for i, a in enumerate(seeds) for b in seeds[i + 1:])
        rows.append({"dataset": DATASET_TITLES[r.config.dataset], "configuration": family_label(r),
                     "seeds": len(seeds), "values": [e.value for e in seeds], "spread": spread, "interval": width,
                     "ratio": (math.log(spread) / math.log(width)) if spread and width and width > 1 else None,
                     "apart": apart})
    return rows


def seed_spread_table(runs: list[Run]) -> pd.DataFrame:
    """seed_spread_rows as the page shows them. "spread over interval" compares the two factors on the log
    scale (log spread / log interval width): above 1, the seeds spread wider than one seed's interval."""
    rows = [(row["dataset"], row["configuration"], row["seeds"], ", ".join(fmt(v) for v in row["values"]),
             f"{row['spread']:.2f}×" if row["spread"] else "–", f"{row['interval']:.2f}×" if row["interval"] else "–",
             f"{row['ratio']:.1f}" if row["ratio"] is not None else "–", "yes" if row["apart"] else "no")
            for row in seed_spread_rows(runs)]
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS))


def seed_spread_sentence(runs: list[Run]) -> str:
    """The seed spread counted: in how many configurations two seeds' FD intervals are apart, and the median
    spread against the median interval."""
    rows = seed_spread_rows(runs)
    if not rows:
        return ("**Seed spread.** No configuration has two measured seeds here, so how far retraining moves FD is "
                "not measured; each interval covers the resampling of one run's samples only.")
    apart = sum(row["apart"] for row in rows)
    wider = sum(row["ratio"] is not None and row["ratio"] > 1 for row in rows)
    spreads = [row["spread"] for row in rows if row["spread"]]
    widths = [row["interval"] for row in rows if row["interval"]]
    medians = (f": the median spread is {statistics.median(spreads):.2f}× against a median interval of "
               f"{statistics.median(widths):.2f}×" if spreads and widths else "")
    if 2 * wider > len(rows):
        moral = ("In most of them retraining moves FD more than resampling one run's samples does, so a verdict "
                 "rests on the seeds, and one seed's interval alone would claim more than the runs carry.")
    else:
        moral = (f"In {len(rows) - wider} of {len(rows)}, one seed's interval is at least as wide as its seeds' "
                 f"spread; the verdicts rest on the seeds all the same.")
    return (f"**Seed spread.** In {apart} of {plural(len(rows), 'configuration')} with several seeds, two seeds' FD "
            f"bootstrap intervals do not overlap, and in {wider} the seeds spread wider (max / min) than one seed's "
            f"interval is wide (hi / lo){medians}. {moral}")


# ---- the previous book's verdicts, and this build's answers ---------------------------------------------

class Previous(NamedTuple):
    """One verdict of the previous book: the question as this book's code asks it (Verdict.question), what the
    previous book answered, and who it named best (an entry name or its start: "GAN", "z=128", "Conv"; None
    where it found no change outside the noise)."""
    question: str
    said: str
    leader: str | None


def _best(dataset: str, when: str) -> str:
    return f"Which family has the lowest FD on {DATASET_TITLES[dataset]}, at {when}?"


def _latent(family: str, variant: str, dataset: str, a: int, b: int) -> str:
    return f"{family} {variant} on {DATASET_TITLES[dataset]}: does FD change from z={a} to z={b}?"


def _conv(family: str) -> str:
    return f"Does convolution lower the CIFAR-10 {family}'s FD?"


def _wgan(dataset: str) -> str:
    return f"WGAN (weight clipping) or GAN: which has the lower FD on {DATASET_TITLES[dataset]}?"


MLP_GAN_COLLAPSE = "Does the MNIST MLP GAN collapse onto a few digits?"
_SAME = "no change outside the noise"

# From the previous book's comparison page ("What the grid shows"), in its order
PREVIOUS = (
    Previous(_best("mnist", "the end of training"), "GAN (DCGAN, z=64)", "GAN"),
    Previous(_best("mnist", BUDGETS["generator_images"]), "WGAN-GP (DC-WGAN-GP, z=64)", "WGAN-GP"),
    Previous(_best("cifar10", "the end of training"), "WGAN-GP (DC-WGAN-GP, z=64)", "WGAN-GP"),
    Previous(_best("cifar10", BUDGETS["generator_images"]), "WGAN-GP (DC-WGAN-GP, z=64)", "WGAN-GP"),
    Previous(_latent("VAE", "MLP A", "mnist", 50, 100), _SAME, None),
    Previous(_latent("VAE", "MLP C", "mnist", 2, 32), _SAME, None),
    Previous(_latent("VAE", "MLP C", "mnist", 32, 128), _SAME, None),
    Previous(_latent("VAE", "MLP C", "cifar10", 2, 128), "better at z=128", "z=128"),
    Previous(_latent("VAE", "Conv", "cifar10", 2, 128), "better at z=128", "z=128"),
    Previous(_latent("GAN", "MLP A", "mnist", 100, 200), _SAME, None),
    Previous(_latent("GAN", "DCGAN", "mnist", 64, 256), _SAME, None),
    Previous(_latent("GAN", "DCGAN", "cifar10", 64, 256), "worse at z=256", "z=64"),
    Previous(_latent("WGAN", "MLP A", "mnist", 100, 200), _SAME, None),
    Previous(_latent("WGAN", "DC-WGAN", "mnist", 64, 256), "worse at z=256", "z=64"),
    Previous(_latent("WGAN", "DC-WGAN", "cifar10", 64, 256), "worse at z=256", "z=64"),
    Previous(MLP_GAN_COLLAPSE, "none of the three collapsed", None),
    Previous(_conv("VAE"), "yes: conv is better", "Conv"),
    Previous(_conv("GAN"), "yes: conv is better", "Conv"),
    Previous(_conv("WGAN"), "yes: conv is better", "Conv"),
    Previous(_wgan("mnist"), "GAN", "GAN"),
    Previous(_wgan("cifar10"), "GAN", "GAN"),
)

HELD, NOT_HELD, CANNOT_TELL = "held", "did not hold", "cannot tell"


def _names(leader: str, prev: str) -> bool:
    """Whether an entry name is the one the previous book named ("GAN" names "GAN (DCGAN, z=64)", not "WGAN")."""
    return leader == prev or leader.startswith(prev + " (")


def judge(prev: Previous, now: Verdict | None) -> tuple[str, str]:
    """(held / did not hold / cannot tell, why) for one previous verdict against this build's Verdict on the
    same question. A named winner holds if the same one wins by the rule now, fails if another wins or if the
    entries tied for the best leave it out (the best beats it); a "no change" holds on a tie and fails on a
    winner; an entry ahead in every seed without a win, a tie that includes the named winner, a provisional
    (one-seed) verdict or a missing one cannot tell."""
    if now is None:
        return CANNOT_TELL, "not answered here: a side has no measured run"
    if now.outcome is Outcome.NOT_RANKED:
        return CANNOT_TELL, "not ranked here: a side has no measured run or no interval"
    if now.provisional:
        return CANNOT_TELL, "one seed: provisional"
    lead = now.leaders[0] if now.leaders else ""
    if now.outcome is Outcome.WINNER:
        if prev.leader is None:
            return NOT_HELD, f"{lead} wins now"
        return (HELD, f"{lead} wins") if _names(lead, prev.leader) else (NOT_HELD, f"{lead} wins now")
    if now.outcome is Outcome.AHEAD:
        return CANNOT_TELL, f"{lead} is ahead in every seed, but the seed-mean intervals overlap"
    if prev.leader is None:
        return HELD, "still within noise"
    if not any(_names(name, prev.leader) for name in now.leaders):
        # a tie lists the best and the entries it does not beat: the previous winner is beaten by the rule
        return NOT_HELD, "beaten now: " + ", ".join(now.leaders) + " tie for the best"
    return CANNOT_TELL, "within noise now: " + ", ".join(now.leaders) + " tie"


def _collapse_now(runs: list[Run]) -> tuple[str, str, str]:
    """(this build's answer, outcome, why) on the MNIST MLP GANs' collapse, each seed judged on its own."""
    looked = [r for r in complete(runs) if reports_looked(r) and value(r, "collapse")]
    if not looked:
        return "no measured MLP GAN", CANNOT_TELL, "not answered here"
    states = [value(r, "collapse") for r in looked]
    collapsed, judged = states.count(COLLAPSE_STATES[1]), [s for s in states if s != COLLAPSE_STATES[0]]
    seeds = f"{collapsed} of {len(states)} runs collapsed (every seed of every configuration)"
    per_config = [sum(config_key(r.config) == k for r in looked) for k in {config_key(r.config) for r in looked}]
    if min(per_config) < 2:
        return seeds, CANNOT_TELL, "one seed: provisional"
    if collapsed:
        return seeds, NOT_HELD, "a seed collapsed"
    if len(judged) < len(states):
        return seeds, CANNOT_TELL, f"{len(states) - len(judged)} not yet on the data"
    return seeds, HELD, "no seed collapsed"


PREVIOUS_COLUMNS = ("question", "the previous book", "this book", "outcome", "why")


def previous_verdicts_table(runs: list[Run]) -> pd.DataFrame:
    """Every verdict of the previous book (PREVIOUS) beside this build's answer to the same question
    (comparison.comparison_verdicts; the MLP GANs' collapse from each seed's collapse state) and the outcome."""
    from .verdicts import sentence

    now = {v.question: v for _, v in comparison_verdicts(runs)}
    rows = []
    for prev in PREVIOUS:
        if prev.question == MLP_GAN_COLLAPSE:
            answer, outcome, why = _collapse_now(runs)
        else:
            v = now.get(prev.question)
            outcome, why = judge(prev, v)
            answer = sentence(v) if v is not None else "not asked: no runs"
        rows.append((prev.question, prev.said, answer, outcome, why))
    return pd.DataFrame(rows, columns=list(PREVIOUS_COLUMNS))


def previous_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many previous verdicts held, did not hold, and cannot tell."""
    counts = table["outcome"].value_counts()
    return {k: int(counts.get(k, 0)) for k in (HELD, NOT_HELD, CANNOT_TELL)}


def previous_sentence(table: pd.DataFrame) -> str:
    """The previous book's verdicts counted, in words."""
    c = previous_counts(table)
    return (f"**Against {PREVIOUS_BOOK}.** Of its {len(table)} verdicts, {c[HELD]} held with this build's seeds, "
            f"{c[NOT_HELD]} did not, and {c[CANNOT_TELL]} cannot be told now (the table below says why for each).")
