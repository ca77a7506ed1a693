"""One yardstick for every family: measurements in the feature space of a classifier trained
on the real training set minus a held-out set (`classifier.py`), comparable across VAE, GAN and WGAN.

- Frechet distance between Gaussians fitted to features of N generated images and of the
  test set:  FD = |mu_g - mu_r|^2 + Tr(S_g) + Tr(S_r) - 2 Tr((S_r^1/2 S_g S_r^1/2)^1/2).
  Its floor is the same distance from N held-out real training images, which the classifier
  never saw, to the test set.
- On equal sets of n = min(N, test images) features each (the real side a seeded subset):
  precision and recall as k-nearest-neighbour manifolds (Kynkaanniemi et al. 2019, k = 3);
  density and coverage (Naeem et al. 2020, k = 5).
- KID (Binkowski et al. 2018): the unbiased MMD^2 between the same two sets as FD, with the kernel
  (x.y / d + 1)^3; it can be negative at finite N. Reported beside FD; verdicts use FD.
- A 95% bootstrap interval on each of those six numbers: resampled features, never new samples.
- Classes covered: the classifier's label histogram over the samples it labels with confidence
  and that fall on the real manifold, and the one collapse rule (`collapse_state`, below), its
  thresholds set by what the floor's real images score.
- The same numbers at log-spaced epochs of training, from the run's snapshots (`over_training`).

The statistics between two sets of features, and their bootstrap, are in feature_measures.py.

Each run's numbers are cached in its folder as yardstick.json, keyed by the classifier's
hash, N and the digest of the code that measures (`RealSide.key`), so a retrained classifier
re-measures without retraining runs. A run whose samples cannot be measured (non-finite or
degenerate: `Unmeasurable`) is cached as {"unmeasurable": "<why>"}, and the pages show it as such.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import data
from .classifier import Classifier, features_and_logits, held_out_indices, load_or_train_classifier
from .data import Split, to_unit
from .digest import code_digest
from .feature_measures import (K_DENSITY, Balls, bootstrap_counts, frechet_from_moments, interval, kernel_cross,
                               kernel_within, neighbour_balls, prdc, psd_sqrt, weighted_moments)
from .numerics import flush_subnormals
from .store import report_problem, write_json_atomic

REPLICATES = 200         # bootstrap resamples behind every interval
INTERMEDIATE_SHARE = 4   # the points over training measure N / 4 samples (the last: N) ...
INTERMEDIATE_REPLICATES = 100   # ... with 100 resamples: under 5% of the fastest run's training time
FIDELITY = ("fd", "precision", "recall", "density", "coverage")

# The one mode-collapse rule, used on every page (Methods states it). Labels of samples off the
# data show the classifier's bias, not the generator's modes, so a run is judged only when enough of
# its samples lie on the real data's k-NN manifold (precision's test), and its label histogram
# counts only samples there that the classifier labels with at least CONFIDENT probability.
# "Enough" is set by real images: the floor's N held-out real images, measured exactly like samples,
# are themselves not all on the manifold (a k-NN ball union misses some unseen real points) nor all
# confidently labelled (CIFAR-10 least). A run is "not yet on the data" below ON_DATA_FRACTION of
# their on-data share or COUNTED_FRACTION of their counted share. Half: a generator need not match
# real data to be judged, but its histogram must rest on at least half as many samples per N as the
# real images' own does, so that it describes a good part of what the generator makes, not a small
# minority that happens to look real. Relative, so the bar means the same on MNIST and on CIFAR-10,
# whose real images reach different shares (a weaker classifier is less often confident).
CONFIDENT = 0.9
ON_DATA_FRACTION = 0.5   # of the real images' on-data share, below which a run is "not yet on the data"
COUNTED_FRACTION = 0.5   # ... or of their counted share (on it and confidently labelled)
ON_DATA_MIN = 0.5        # absolute thresholds for a real side without measured shares (no floor yet,
COUNTED_MIN = 0.25       # or one built by hand); build_real_side judges its floor by its own shares
COLLAPSED_MAX = 5        # a run whose counted samples cover at most this many classes is "collapsed"
COLLAPSE_STATES = ("not yet on the data", "collapsed", "not collapsed")


def collapse_state(on_data: float, counted: float, n_covered: int, on_data_min: float = ON_DATA_MIN,
                   counted_min: float = COUNTED_MIN) -> str:
    """One of COLLAPSE_STATES, from the shares of samples on the manifold and counted, and the number
    of classes the counted ones cover (`classes_covered`). Rule: "not yet on the data" if
    on_data < on_data_min or counted < counted_min or nothing counts (no histogram to read); else
    "collapsed" if n_covered <= COLLAPSED_MAX, else "not collapsed". The thresholds: `collapse_thresholds`."""
    if on_data < on_data_min or counted < counted_min or counted <= 0:
        return COLLAPSE_STATES[0]
    return COLLAPSE_STATES[1] if n_covered <= COLLAPSED_MAX else COLLAPSE_STATES[2]


def collapse_thresholds(floor: dict) -> tuple[float, float]:
    """(on_data_min, counted_min) for runs measured against this floor (the N held-out real images'
    sample_measures): ON_DATA_FRACTION of its on-data share and COUNTED_FRACTION of its counted share.
    A floor without those shares (not measured yet) gives the absolute ON_DATA_MIN, COUNTED_MIN."""
    if floor.get("on_data") is None or floor.get("counted") is None:
        return ON_DATA_MIN, COUNTED_MIN
    return ON_DATA_FRACTION * floor["on_data"], COUNTED_FRACTION * floor["counted"]


def judge_collapse(measures: dict, on_data_min: float, counted_min: float) -> dict:
    """`measures` (label_measures' numbers) with the thresholds it is judged by stored beside the collapse
    state they give, so that a seed mean can be judged again without the real side (runsets.average_seeds)."""
    return {**measures, "on_data_min": on_data_min, "counted_min": counted_min,
            "collapse": collapse_state(measures["on_data"], measures["counted"], measures["classes_covered"],
                                       on_data_min, counted_min)}


def label_histogram(labels: torch.Tensor, n_classes: int = 10) -> list[float]:
    """Fraction of the labels (n,) in each class."""
    counts = torch.bincount(labels.long().cpu(), minlength=n_classes).float()
    return (counts / counts.sum()).tolist()


def classes_covered(histogram: list[float]) -> int:
    """Classes that get at least half their uniform share: all samples in one of 10 classes cover 1."""
    return int(sum(p >= 0.5 / len(histogram) for p in histogram))


def kl_to_uniform(histogram: list[float]) -> float:
    """KL(histogram || uniform) in nats: 0 for uniform, log 10 for one class of 10."""
    return sum(p * math.log(p * len(histogram)) for p in histogram if p > 0)


class Unmeasurable(ValueError):
    """Samples the yardstick cannot measure (non-finite, or too degenerate for the Frechet distance):
    the message says why, in one line. A run that trained without diverging can still get here."""


# ---- every number for one set of samples --------------------------------------------------------

def _subset(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    return x[data.subset_indices(len(x), n, seed).to(x.device)]


def sample_measures(features: torch.Tensor, logits: torch.Tensor, real_side: "RealSide",
                    replicates: int = REPLICATES, labels: bool = True, kid: bool = True) -> dict:
    """Every yardstick number for one set of samples, given their features (M, F) and logits (M, 10),
    each of FIDELITY and (with `kid`) KID with its 95% bootstrap interval under the key + "_ci"; with
    `labels`, the collapse rule's numbers, judged by the thresholds the real side's floor sets
    (`collapse_thresholds`).
    Unmeasurable if the features are not finite or too degenerate for the Frechet distance or KID."""
    broken = int((~torch.isfinite(features)).any(dim=1).sum())
    if broken:
        raise Unmeasurable(f"{broken} of its {len(features)} samples have NaN or infinite classifier features")
    real_all = real_side.test_features
    n = min(len(features), len(real_all))
    real, fake = _subset(real_all, n, seed=3), features[:n]        # equal sets for the k-NN measures
    balls = neighbour_balls(real, fake)
    point = {k: float(v[0]) for k, v in prdc(balls, torch.ones(1, n), torch.ones(1, n)).items()}
    boot = prdc(balls, bootstrap_counts(n, replicates, seed=4), bootstrap_counts(n, replicates, seed=5))
    # FD on every sample and test image; each replicate resamples both sides
    mu_r, sqrt_r = real_side.real_moments(replicates)             # row 0: the test set itself
    counts = torch.cat([torch.ones(1, len(features), dtype=torch.float64),
                        bootstrap_counts(len(features), replicates, seed=6)])            # row 0: all samples
    try:
        fds = frechet_from_moments(mu_r, sqrt_r, *weighted_moments(features, counts))  # (1 + B,)
    except torch.linalg.LinAlgError as err:            # finite features whose covariance eigh cannot take
        raise Unmeasurable(f"its samples' features are too degenerate for the Frechet distance "
                           f"({str(err).splitlines()[0]})") from None
    fd, fd_replicates = float(fds[0]), fds[1:]
    if not math.isfinite(fd):
        raise Unmeasurable(f"the Frechet distance of its samples' features is {fd}")
    out = {"fd": fd, "fd_ci": interval(fd_replicates, fd), "n_generated": len(features), "n_real": n}
    if kid:
        # KID on the same sets and resamples as FD (feature_measures: unbiased, copies left out of a
        # resample's within-set pairs); its interval may reach below 0, as KID itself may
        kids = (kernel_within(features, counts) + real_side.kid_within(replicates)
                - 2 * kernel_cross(features, real_all, counts, real_side.real_counts(replicates))).cpu()
        if not math.isfinite(float(kids[0])):
            raise Unmeasurable(f"the KID of its samples' features is {float(kids[0])}")
        out.update(kid=float(kids[0]), kid_ci=interval(kids[1:], float(kids[0]), low=-float("inf")))
    for key, value in point.items():
        out.update({key: value, f"{key}_ci": interval(boot[key], value, high=float("inf") if key == "density" else 1.0)})
    if labels:
        out.update(label_measures(logits[:n], balls, collapse_thresholds(real_side.floor)))
    return out


def label_measures(logits: torch.Tensor, balls: Balls,
                   thresholds: tuple[float, float] = (ON_DATA_MIN, COUNTED_MIN)) -> dict:
    """The share of samples on the real manifold ("on_data") and of those counted for mode collapse
    (on it and confidently labelled), the counted samples' label histogram, the classes it covers,
    its KL to uniform, and the collapse state by `thresholds` (on_data_min, counted_min), stored too."""
    inside = balls.fake_in_real.any(dim=1).cpu()                                   # (n,)
    confident = torch.softmax(logits.float(), dim=1).max(dim=1).values.cpu() >= CONFIDENT
    counted = inside & confident
    hist = label_histogram(logits.argmax(dim=1).cpu()[counted]) if counted.any() else [0.0] * 10
    covered = classes_covered(hist)
    on_data, share = float(inside.double().mean()), float(counted.double().mean())
    return judge_collapse({"on_data": on_data, "counted": share, "label_histogram": hist, "classes_covered": covered,
                           "kl_to_uniform": kl_to_uniform(hist)}, *thresholds)


@dataclass
class RealSide:
    """The real side of the yardstick for one dataset and profile."""
    dataset: str
    n_samples: int                   # N: generated images per run, and held-out real images of the floor
    classifier: Classifier
    test_features: torch.Tensor      # (test images, F)
    floor: dict                      # sample_measures of the N held-out real images against the test set
    _moments: dict = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return measures_key(self.classifier.config, self.n_samples)

    def real_counts(self, replicates: int) -> torch.Tensor:
        """(1 + B, test images): all ones, then the count vectors of `replicates` bootstrap resamples of
        the test set, the same for FD and KID and for every run."""
        if ("counts", replicates) not in self._moments:
            n = len(self.test_features)
            self._moments["counts", replicates] = torch.cat([torch.ones(1, n, dtype=torch.float64),
                                                             bootstrap_counts(n, replicates, seed=7)])
        return self._moments["counts", replicates]

    def real_moments(self, replicates: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The test features' mean and covariance square root, then those of `replicates` bootstrap
        resamples: (1 + B, F) and (1 + B, F, F), computed once and shared by every run."""
        if replicates not in self._moments:
            mu, cov = weighted_moments(self.test_features, self.real_counts(replicates))
            self._moments[replicates] = (mu, psd_sqrt(cov))
        return self._moments[replicates]

    def kid_within(self, replicates: int) -> torch.Tensor:
        """KID's within-test-set kernel mean for the test set and its `replicates` resamples: (1 + B,),
        computed once and shared by every run."""
        if ("kid", replicates) not in self._moments:
            self._moments["kid", replicates] = kernel_within(self.test_features, self.real_counts(replicates))
        return self._moments["kid", replicates]


def build_real_side(dataset: str, profile: str, n_samples: int, test_size: int, data_dir, runs_dir,
                    device, progress: bool = True) -> RealSide:
    """Train or load the classifier; embed the test set and the N held-out training images."""
    flush_subnormals()
    clf = load_or_train_classifier(dataset, profile, data_dir, runs_dir, device, progress)
    root = str(Path(data_dir).resolve())
    test: Split = data.cached_split(dataset, root, False, str(device), test_size)
    train: Split = data.cached_split(dataset, root, True, str(device), 0)
    held = held_out_indices(clf.config, len(train)).to(train.images.device)      # never trained on
    test_features, _ = features_and_logits(clf.model, to_unit(test.images))
    real = RealSide(dataset, n_samples, clf, test_features, {})
    floor = sample_measures(*features_and_logits(clf.model, to_unit(train.images[held])), real)
    real.floor = judge_collapse(floor, *collapse_thresholds(floor))   # no floor before it: judged by its own shares
    real.real_moments(INTERMEDIATE_REPLICATES)        # once per dataset, not charged to the first run measured
    return real


class CorruptRun(RuntimeError):
    """A finished run whose weights cannot be read back; the message names the folder, what is wrong
    with its weights and what needs them (the caller retrains it: runs.retrain)."""


FIGURE_NEEDS_WEIGHTS = "a figure on this page draws from its networks"
YARDSTICK_NEEDS_WEIGHTS = "the yardstick samples its networks (it has no yardstick.json for this classifier and N)"


def load_models(run, device, needed_by: str = FIGURE_NEEDS_WEIGHTS) -> dict:
    """A finished run's networks with its saved weights, on `device`; CorruptRun if model.pt is missing
    or unreadable, saying so and why the weights are needed (`needed_by`)."""
    from .train import build_models

    path = run.dir / "model.pt"
    if not path.exists():
        raise CorruptRun(f"run {run.dir}: model.pt is missing ({path}), and {needed_by}")
    models = build_models(run.config)
    try:
        weights = torch.load(path, map_location=device, weights_only=True)
        for name, model in models.items():
            model.load_state_dict(weights[name])
            model.to(device)
    except Exception as err:      # truncated, not a checkpoint, another architecture
        raise CorruptRun(f"run {run.dir}: model.pt is unreadable ({type(err).__name__}), and {needed_by}") from None
    return models


def load_snapshot(run, path: Path, device) -> tuple[dict, dict]:
    """A snapshot's networks (those the family samples with, loaded) and its meta data."""
    from .train import build_models

    models = build_models(run.config)
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        for name, weights in state["models"].items():
            models[name].load_state_dict(weights)
        meta = {k: state[k] for k in ("epoch", "generator_images", "train_seconds")}
    except Exception as err:      # truncated, not a checkpoint, another architecture
        raise CorruptRun(f"run {run.dir}: snapshot {path.name} is unreadable ({type(err).__name__})") from None
    return {k: m.to(device) for k, m in models.items()}, meta


def _measure_models(cfg, models, real: RealSide, n: int, device, labels: bool = True,
                    replicates: int = REPLICATES) -> dict:
    from .train import generate_many

    samples = generate_many(cfg, models, n, cfg.seed + 2, device)      # (n, C, H, W) in [0, 1]
    broken = int((~torch.isfinite(samples.flatten(1))).any(dim=1).sum())
    if broken:          # a run can train with finite losses and still generate such samples in eval mode
        raise Unmeasurable(f"{broken} of its {n} samples hold NaN or infinite pixels")
    # the curve's points (labels=False) skip KID too: on a CPU its kernel sums add about half to a point's cost
    return sample_measures(*features_and_logits(real.classifier.model, samples), real, replicates,
                           labels=labels, kid=labels)


def over_training(run, real: RealSide, device, final_models: dict | None = None) -> list[dict]:
    """The yardstick at each snapshot epoch and, given its networks, at the end: every point alike
    (N / INTERMEDIATE_SHARE samples, INTERMEDIATE_REPLICATES resamples; FIDELITY numbers only), since
    FD's finite-N bias differs between N and N / 4 and the points are compared with each other.
    A point whose samples are unmeasurable is left out of the curve, reported once for the run."""
    n = max(real.n_samples // INTERMEDIATE_SHARE, K_DENSITY + 2)
    points, left_out = [], []

    def add(meta: dict, models: dict) -> None:
        try:
            points.append({**meta, **_measure_models(run.config, models, real, n, device, labels=False,
                                                     replicates=INTERMEDIATE_REPLICATES)})
        except Unmeasurable as err:
            left_out.append(f"epoch {meta['epoch']}: {err}")

    for path in run.snapshot_paths:
        models, meta = load_snapshot(run, path, device)
        add(meta, models)
    if final_models is not None:
        add({"epoch": run.summary.get("epochs_done"), "generator_images": run.summary.get("generator_images"),
             "train_seconds": run.summary.get("train_seconds")}, final_models)
    if left_out:
        report_problem(f"run {run.dir}: the yardstick cannot measure its samples at {'; '.join(left_out)}; "
                       f"its curve over training leaves them out")
    return points


def _cached_measures(path: Path, key: str) -> dict | None:
    """The measures yardstick.json holds for `key`; None if it is absent or measured with another key,
    and also (reported with its path) if it cannot be read: then the run is measured again."""
    try:
        cached = json.loads(path.read_text())
        return cached["measures"] if cached["key"] == key else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:      # truncated, not JSON, not our layout
        report_problem(f"{path} is unreadable ({type(err).__name__}); measuring the run again")
        return None


def measures_key(classifier_config, n_samples: int) -> str:
    """What a run's cached yardstick.json was measured with: the classifier, N and this code."""
    payload = f"{classifier_config.run_hash()}:{n_samples}:{code_digest(measure_run)}"
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def profile_key(dataset: str, profile: str) -> str:
    """`measures_key` of a profile's real side, without building it (no classifier is trained or loaded)."""
    from .classifier import classifier_config
    from .grid import eval_samples

    return measures_key(classifier_config(dataset, profile), eval_samples(profile))


def measure_run(run, real: RealSide, device) -> dict:
    """The yardstick for one finished run, from its saved weights; cached in yardstick.json.

    "over_training" lists the numbers at every snapshot epoch and, last, at the end, all measured
    alike (`over_training`); "over_training_seconds" is what those points cost to measure. A run whose
    samples cannot be measured gets {"unmeasurable": why}, reported once (then cached like any measures)."""
    flush_subnormals()
    path = run.dir / "yardstick.json"
    if (cached := _cached_measures(path, real.key)) is not None:
        return cached
    if run.diverged:                 # nothing to measure; written, so that it counts as measured (runs.pending)
        write_json_atomic(path, {"key": real.key, "measures": {}})
        return {}
    models = load_models(run, device, needed_by=YARDSTICK_NEEDS_WEIGHTS)
    try:
        measures = _measure_models(run.config, models, real, real.n_samples, device)
    except Unmeasurable as err:
        report_problem(f"run {run.dir}: the yardstick cannot measure its samples ({err}); its pages show it "
                       f"as unmeasurable")
        measures = {"unmeasurable": str(err)}
    else:
        start = time.perf_counter()
        points = over_training(run, real, device, final_models=models)
        measures.update(over_training=points, over_training_seconds=time.perf_counter() - start)
    write_json_atomic(path, {"key": real.key, "measures": measures})
    return measures
