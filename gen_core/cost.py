"""The cost model the worker pool and the bench share: FLOPs per run, timed estimates, and the
order and makespan of runs on a few slots.

    step_flops(cfg)          matmul and conv FLOPs per training image (forward and backward)
    run_flops(cfg)           ... times the images it trains on: the pool's longest-first key
    longest_first(runs)      the costliest first, so that no long run starts last
    makespan(seconds, slots) the wall time of tasks started longest first on `slots` slots
    estimate_run(cfg, ...)   seconds one run would train, from a few timed steps of `train`'s own setup
    print_estimate(runs,...) `python -m gen_core --estimate`: per configuration, in total, and its makespan
"""
from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from . import cuda, families
from .config import DATASET_SIZES, RunConfig
from .data import Split
from .grid import full_grid
from .train import collect, setup

# Dense peak of one H100 SXM (NVIDIA datasheet): FP32 on CUDA cores, TF32 and BF16 on tensor cores.
H100_PEAK = {"fp32": 67e12, "tf32": 495e12, "bf16": 989e12}


def time_steps(cfg: RunConfig, split: Split, steps: int, device, state=None, first_step: int = 0,
               clock=time.perf_counter) -> float:
    """Seconds for `steps` batches of the family's epoch function, including the loop's one read-back.
    `state`: (steppers, optimizers) to continue from; default a fresh `train.setup`. `clock`: wall
    seconds by default; time.process_time gives this process's CPU seconds."""
    models, opts = state or fresh(cfg, device)
    gen = torch.Generator(device=split.images.device).manual_seed(first_step)
    idx = torch.randint(0, len(split), (steps, cfg.batch_size), generator=gen, device=split.images.device)
    cuda.synchronize(device)
    start = clock()
    log: list[dict] = []
    families.get(cfg.family).run_epoch(cfg, models, opts, split, list(idx), log, first_step)
    collect(log)                                   # the loop's once-per-epoch host sync
    return clock() - start


def fresh(cfg: RunConfig, device) -> tuple[dict, dict]:
    """(steppers, optimizers) exactly as `train` builds them (train.setup)."""
    _, opts, steppers = setup(cfg, torch.device(device))
    return steppers, opts


def steps_per_run(cfg: RunConfig, train_images: int) -> int:
    return cfg.epochs * (train_images // cfg.batch_size)


def estimate_run(cfg: RunConfig, split: Split, device, steps: int = 30, warmup: int = 5,
                 clock=time.perf_counter) -> float:
    """Seconds one run would train on `split`, from `steps` timed batches after `warmup` untimed ones
    (`clock`: as in `time_steps`)."""
    state = fresh(cfg, device)
    time_steps(cfg, split, warmup, device, state)
    per_step = time_steps(cfg, split, steps, device, state, first_step=warmup, clock=clock) / steps
    return per_step * steps_per_run(cfg, len(split))


def estimate_training(profile: str, splits, device, steps: int = 30) -> dict[str, float]:
    """Seconds each run of the profile's grid would train, from `steps` timed batches of it."""
    return {cfg.run_name(): estimate_run(cfg, splits(cfg), device, steps) for cfg in full_grid(profile)}


def estimate_classifiers(profile: str, data_dir: str, device, batches: int = 8) -> float:
    from .classifier import classifier_config, train_classifier
    from .data import load_split

    total = 0.0
    for dataset in ("mnist", "cifar10"):
        cfg = classifier_config(dataset, profile)
        full = load_split(dataset, data_dir, True, device, cfg.train_size)
        sample = Split(full.images[: batches * cfg.batch_size], full.labels[: batches * cfg.batch_size])
        start = time.perf_counter()
        train_classifier(replace(cfg, epochs=1), sample, device, progress=False)
        total += (time.perf_counter() - start) / len(sample) * len(full) * cfg.epochs
    return total


class _GlobalOnly:
    """Stands in for FlopCounterMode's ModuleTracker: only the "Global" total, no module hooks."""
    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None


class TotalFlopCounter(FlopCounterMode):
    """torch's FlopCounterMode without per-module attribution. Its module tracker's backward hooks
    fail under a double backward (WGAN-GP's gradient penalty: "A leaf node was passed to
    _will_engine_execute_node"); the totals need no attribution."""

    def __init__(self):
        super().__init__(display=False)
        self.mod_tracker = _GlobalOnly()


def step_flops(cfg: RunConfig) -> float:
    """Matmul and conv FLOPs per training image of one run (forward and backward, all networks;
    with a gradient penalty, its double backward too)."""
    batch = 2                                             # BatchNorm needs two; FLOPs scale with B
    cfg = replace(cfg, batch_size=batch, amp=False, compile=False)
    split = Split(torch.zeros(batch * cfg.n_critic, *cfg.image_shape, dtype=torch.uint8),
                  torch.zeros(batch * cfg.n_critic, dtype=torch.long))
    models, opts = fresh(cfg, torch.device("cpu"))
    idx = list(torch.arange(len(split)).view(cfg.n_critic, batch))  # a WGAN cycle: n_critic + 1 G step
    with TotalFlopCounter() as counter:
        families.get(cfg.family).run_epoch(cfg, models, opts, split, idx, [], 0)
    return counter.get_total_flops() / len(split)


def run_flops(cfg: RunConfig, per_image: float | None = None) -> float:
    """FLOPs to train one run: `step_flops` (or `per_image`, when known) times the images it trains on."""
    per_image = step_flops(cfg) if per_image is None else per_image
    return per_image * steps_per_run(cfg, cfg.train_size or DATASET_SIZES[cfg.dataset]) * cfg.batch_size


def grid_flops(profile: str) -> float:
    return sum(run_flops(cfg) for cfg in full_grid(profile))


def longest_first(runs: list[RunConfig]) -> list[RunConfig]:
    """The runs ordered by their FLOPs (per image, times images and epochs), the costliest first."""
    per_image: dict = {}                       # seeds share one count

    def cost(cfg: RunConfig) -> float:
        key = dataclasses.replace(cfg, seed=0)
        if key not in per_image:
            per_image[key] = step_flops(cfg)
        return run_flops(cfg, per_image[key])

    return sorted(runs, key=cost, reverse=True)


def makespan(seconds: list[float], slots: int) -> float:
    """Wall time of tasks taking `seconds`, started longest first, each on the first free slot."""
    free = [0.0] * max(1, min(slots, len(seconds) or 1))
    for s in sorted(seconds, reverse=True):
        free[free.index(min(free))] += s
    return max(free)


def print_estimate(runs, data_dir, device, steps: int = 8, warmup: int = 3, out=None,
                   slots: int | None = None) -> float:
    """Times `steps` batches of each distinct configuration (seeds share one timing) on `device` and
    prints its expected training seconds; returns the total over `runs`. With `slots` (tasks at
    once under a launcher), also the wall time of running them that way."""
    from .data import cached_split

    out = out or sys.stdout
    root = str(Path(data_dir).resolve())
    by_config: dict = {}
    for cfg in runs:
        by_config.setdefault(dataclasses.replace(cfg, seed=0), []).append(cfg)
    print(f"estimate on {device}: {steps} timed steps of each of {len(by_config)} configurations "
          f"(after {warmup} untimed), times their epochs and seeds; training only, before measuring "
          f"and the book", file=out, flush=True)
    total, each = 0.0, []
    for cfg, seeded in by_config.items():
        seconds = estimate_run(cfg, cached_split(cfg.dataset, root, True, str(device), cfg.train_size), device,
                               steps, warmup)
        total += seconds * len(seeded)
        each += [seconds] * len(seeded)
        print(f"  {cfg.family} {cfg.dataset} {cfg.label}: {duration(seconds)} per run"
              + (f", {duration(seconds * len(seeded))} for {len(seeded)} seeds" if len(seeded) > 1 else ""),
              file=out, flush=True)
    print(f"total: {duration(total)} of training for {len(runs)} runs on {device}", file=out, flush=True)
    if slots:
        print(f"wall time with {slots} tasks at once: {duration(makespan(each, slots))} (longest first; "
              f"each task as fast as here)", file=out, flush=True)
    return total


def duration(seconds: float) -> str:
    """Seconds as a person reads them: "41 s", "12.5 min", "3.2 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def print_estimates(estimate_profile: str, flops_profile: str, splits, root: str, device, workers: int,
                    out=sys.stdout) -> None:
    """`make bench`'s closing lines: the `estimate_profile` report's training time on this machine in
    one process (and in `workers` single-thread workers), and the `flops_profile` grid's FLOPs against
    an H100's peak."""
    train_s = estimate_training(estimate_profile, splits, device)
    clf_s = estimate_classifiers(estimate_profile, root, device)
    slowest = sorted(train_s.items(), key=lambda kv: -kv[1])[:3]
    print(f"\n{estimate_profile} report on this machine, estimated from 30 timed steps of each of its {len(train_s)} runs "
          f"(bf16 where the grid uses it): training {sum(train_s.values()) / 60:.1f} min + classifiers "
          f"{clf_s / 60:.1f} min = {(sum(train_s.values()) + clf_s) / 60:.1f} min in one process, before measuring, "
          f"the 7 notebooks and the book. Slowest runs: "
          + ", ".join(f"{name} {s:.0f} s" for name, s in slowest), file=out, flush=True)
    if workers > 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            single = estimate_training(estimate_profile, splits, device)
        finally:
            torch.set_num_threads(threads)
        print(f"The same runs timed in one thread: {sum(single.values()) / 60:.1f} min in all; in {workers} workers, "
              f"longest first and each as fast as alone: {makespan(list(single.values()), workers) / 60:.1f} min "
              f"of training", file=out, flush=True)
    flops = grid_flops(flops_profile)
    print(f"{flops_profile} grid: {flops / 1e15:.3g} PFLOP of matmuls and convolutions to train all "
          f"{len(full_grid(flops_profile))} runs; at an H100's dense peak that is "
          f"{flops / H100_PEAK['fp32']:.0f} s in FP32, {flops / H100_PEAK['tf32']:.0f} s in TF32 (what CUDA runs "
          f"use) and {flops / H100_PEAK['bf16']:.0f} s in BF16 "
          f"(the physical floor; the measured time is in the README)", file=out, flush=True)
