"""`make bench`: the project's training loop against a pytorch/examples-style loop, side by side.

    python -m gen_core.bench                    # the rows each family names (Family.bench_cases)
    python -m gen_core.bench --compile          # also time the loop under torch.compile
    python -m gen_core.bench --amp-quality      # fp32 against bf16, same seed, judged by the yardstick
    python -m gen_core.bench --profile-steps    # torch.profiler: where each row's step time goes

The rows each family names in `bench_cases` (an MLP and a conv row each; the WGAN family also its
gradient-penalty row: 7 in all) of the profile's grid (quick on CPU, full on CUDA) train in one
process, on the same model, optimizer settings and data files, two ways:

- project: the family's epoch function on networks and optimizers from `train.setup` (what
  training itself builds), on index slices of the uint8 tensor on the device,
  fused Adam, channels_last conv nets, losses read back once (what `make report` runs);
- reference: the way pytorch/examples writes it: a torchvision dataset with ToTensor, a
  DataLoader with shuffle, `.to(device)` per batch, `loss.item()` every step.

Rounds alternate so drift hits both alike; the ratio is reference time over project time for
the same images. Two more columns measure the grid's speed switches: bf16 autocast (`grid`: whether
the profile trains that row in bf16) and, on a CPU, one single-thread process per core side by
side (the worker pool's) against one process with every thread. Then the quick report's estimated
time here and the full grid's FLOPs (gen_core/cost.py). Speed is measured here, never in tests.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from . import cuda, data, families, limits
from .config import ConfigError, RunConfig
from .data import DataError, Split
from .errors import fail, print_error
from .grid import full_grid, grid, resolve_profile
from .cost import fresh, print_estimates, time_steps
from .numerics import flush_subnormals
from .train import build_models
from .workers import spawn_pool, stop_workers


def cases() -> list[tuple[str, str, str]]:
    """(family, dataset, variant) of every row the families ask `make bench` to time."""
    return [(fam, ds, variant) for fam in families.names() for ds, variant in families.get(fam).bench_cases]


def case_config(family: str, dataset: str, variant: str, profile: str) -> RunConfig:
    return next(c for c in grid(family, dataset, profile) if c.variant == variant and c.seed == 0)


# ---- the reference loop, as pytorch/examples writes it ------------------------------------------

def reference_dataset(cfg: RunConfig, data_dir: str):
    import torchvision.datasets as tvd
    import torchvision.transforms as T

    channels = cfg.image_shape[0]
    # the VAE's Bernoulli targets are in [0, 1]; the GANs' Tanh range is [-1, 1] (examples/dcgan)
    transform = T.ToTensor() if not families.get(cfg.family).signed else T.Compose(
        [T.ToTensor(), T.Normalize((0.5,) * channels, (0.5,) * channels)])
    if cfg.dataset == "mnist":
        return tvd.MNIST(data_dir, train=True, transform=transform)

    class AnyCifar10Copy(tvd.CIFAR10):
        # the offline copy is re-encoded, so its md5s differ: check that the files are there
        train_list = [[name, None] for name, _ in tvd.CIFAR10.train_list]
        test_list = [[name, None] for name, _ in tvd.CIFAR10.test_list]

        def _load_meta(self):             # class names are not needed to time training
            self.classes, self.class_to_idx = [], {}
    return AnyCifar10Copy(data_dir, train=True, transform=transform)


def reference_loader(cfg: RunConfig, data_dir: str, device: torch.device):
    # examples/mnist: shuffle always; on CUDA one worker and pinned memory
    return torch.utils.data.DataLoader(reference_dataset(cfg, data_dir), batch_size=cfg.batch_size,
                                       shuffle=True, drop_last=True, **cuda.loader_options(device))


def reference_steps(cfg: RunConfig, models: dict, opts: dict, batches, device) -> float:
    """One plain step per batch with a host sync per step, as in examples/vae and examples/dcgan
    (each family's `reference_step`)."""
    family = families.get(cfg.family)
    return sum(family.reference_step(cfg, models, opts, images.to(device), i) for i, (images, _) in enumerate(batches))


# ---- timing ---------------------------------------------------------------------------------------

def reference_setup(cfg: RunConfig, device) -> tuple[dict, dict]:
    """The reference loop's networks (NCHW) and plain optimizers, seeded as `train.setup` is."""
    flush_subnormals()                          # every timing runs as training does (numerics.py)
    torch.manual_seed(cfg.seed)
    models = {k: m.to(device) for k, m in build_models(cfg).items()}
    plain = {"adam": lambda p: torch.optim.Adam(p, lr=cfg.lr, betas=cfg.betas),
             "rmsprop": lambda p: torch.optim.RMSprop(p, lr=cfg.lr)}[cfg.optimizer]
    return models, {k: plain(m.parameters()) for k, m in models.items()}


def time_reference(cfg: RunConfig, loader, steps: int, device, state) -> float:
    models, opts = state
    cuda.synchronize(device)
    start = time.perf_counter()
    batches = iter(loader)                         # a fresh shuffle, as every epoch starts
    reference_steps(cfg, models, opts, (next(batches) for _ in range(steps)), device)
    cuda.synchronize(device)
    return time.perf_counter() - start


@dataclass
class Comparison:
    cfg: RunConfig
    steps: int
    project_s: float                 # the project loop in fp32, one process with every thread
    reference_s: float
    bf16_s: float | None = None      # the project loop with bf16 autocast
    workers: int = 0                 # single-thread processes timed side by side (0: not timed)
    workers_rate: float | None = None  # their images/s, summed
    bf16_steps: int = 0              # the steps bf16_s timed (0: `steps`; fewer where bf16 is slow)
    limit: limits.RowLimit | None = None  # the step against its own kernels, one thread (CPU only)

    @property
    def images(self) -> int:
        return self.steps * self.cfg.batch_size

    @property
    def bf16_images(self) -> int:
        return (self.bf16_steps or self.steps) * self.cfg.batch_size

    @property
    def ratio(self) -> float:
        return self.reference_s / self.project_s

    @property
    def bf16_speedup(self) -> float | None:
        return None if self.bf16_s is None else (self.bf16_images / self.bf16_s) / (self.images / self.project_s)

    @property
    def workers_speedup(self) -> float | None:
        return None if self.workers_rate is None else self.workers_rate / (self.images / self.project_s)


def compare(cfg: RunConfig, split: Split, data_dir: str, device, seconds: float = 4.0, rounds: int = 3,
            bf16: bool = True) -> Comparison:
    """Alternate project, bf16 and reference rounds of equal step counts, sized to ~`seconds` each."""
    project, reference = fresh(cfg, device), reference_setup(cfg, device)
    bf16_cfg = replace(cfg, amp=True)
    autocast = fresh(bf16_cfg, device) if bf16 else None
    loader = reference_loader(cfg, data_dir, device)
    warm = max(3, cfg.n_critic)
    time_steps(cfg, split, warm, device, project)            # first calls pay allocation / compile
    bf16_warm_s = time_steps(bf16_cfg, split, warm, device, autocast) if bf16 else 0.0
    per_step = time_reference(cfg, loader, warm, device, reference) / warm
    whole = cfg.n_critic                                       # a WGAN round ends on a generator step
    steps = max(whole, int(seconds / per_step) // whole * whole)
    steps = min(steps, len(loader) // whole * whole)           # a round stays within one epoch
    # emulated bf16 (a CPU without AVX-512) runs 10-20x slower: its rounds get ~`seconds` too
    bf16_steps = min(steps, max(whole, int(seconds * warm / bf16_warm_s) // whole * whole)) if bf16 else 0
    project_s = reference_s = bf16_s = 0.0
    for r in range(rounds):
        project_s += time_steps(cfg, split, steps, device, project, first_step=warm + r * steps)
        if bf16:
            bf16_s += time_steps(bf16_cfg, split, bf16_steps, device, autocast, first_step=warm + r * bf16_steps)
        reference_s += time_reference(cfg, loader, steps, device, reference)
    return Comparison(cfg, steps * rounds, project_s, reference_s, bf16_s if bf16 else None,
                      bf16_steps=bf16_steps * rounds)          # 0 without bf16


# ---- worker processes side by side (gen_core/workers.py) --------------------------------------------

BARRIER_SECONDS = 900        # a worker that never reaches the barrier (killed) breaks it after this


def _time_in_worker(config: dict, data_dir: str, steps: int, barrier) -> tuple[int, float]:
    """In one single-thread worker: warm up, wait for the others, then time `steps` project steps."""
    torch.set_num_threads(1)
    cfg, cpu = RunConfig.from_dict(config), torch.device("cpu")
    try:
        split = data.cached_split(cfg.dataset, data_dir, True, "cpu", cfg.train_size)
        state = fresh(cfg, cpu)
        warm = max(3, cfg.n_critic)
        time_steps(cfg, split, warm, cpu, state)
    except BaseException:
        barrier.abort()                             # the others stop waiting (BrokenBarrierError), not hang
        raise
    barrier.wait(BARRIER_SECONDS)                   # every worker times the same stretch of wall time
    return steps * cfg.batch_size, time_steps(cfg, split, steps, cpu, state, first_step=warm)


class WorkerTimer:
    """`workers` spawned single-thread processes (the worker pool's, gen_core/workers.py), kept for
    every case (they start once)."""

    def __init__(self, workers: int, data_dir: str):
        import multiprocessing

        self.workers, self.data_dir = workers, data_dir
        self.manager = multiprocessing.get_context("spawn").Manager()
        self.pool = spawn_pool(workers)

    def rate(self, cfg: RunConfig, steps: int) -> float:
        """Images/s of the workers together, each running the project loop (fp32) for `steps` steps."""
        barrier = self.manager.Barrier(self.workers)
        futures = [self.pool.submit(_time_in_worker, cfg.to_dict(), self.data_dir, steps, barrier)
                   for _ in range(self.workers)]
        errors = [e for e in (f.exception() for f in futures) if e is not None]
        if errors:                   # the worker that failed, not the ones its barrier.abort() woke up
            import threading
            raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])
        return sum(images / seconds for images, seconds in (f.result() for f in futures))

    def close(self, interrupted: bool = False) -> None:
        """After a Ctrl-C the workers (which ignore it) are terminated, not waited for."""
        if interrupted:
            stop_workers(self.pool)                 # before shutdown(), which forgets the processes
        self.pool.shutdown(wait=not interrupted, cancel_futures=True)
        self.manager.shutdown()


# ---- the command ----------------------------------------------------------------------------

def _fmt_rate(images: int, seconds: float) -> str:
    return f"{images / seconds:,.0f}"


def row_name(cfg: RunConfig) -> str:
    return f"{cfg.family} {cfg.dataset} {cfg.variant} z={cfg.latent_dim}" + (" +compile" if cfg.compile else "")


LIMIT_COLUMNS = ("MFLOP/image", "GFLOP/s", "limit GFLOP/s", "limit of", "share of limit")


def print_limits(configs: list[RunConfig], splits, out=sys.stdout, seconds: float = 1.0) -> list[limits.RowLimit]:
    """Each row against its own limit, in one thread (`limits.measure_row`, about 2 x `seconds` a row):
    the training step's matmul and conv FLOPs per image (`cost.step_flops`) and per second, the
    same row's kernels alone, and the step's share of them. `splits(cfg)`: the row's training split
    on the CPU."""
    print("\nEach row against its own limit, one thread (float32): the training step's GFLOP/s, and the "
          "GFLOP/s of the matmul and conv kernels it calls, timed alone at its shapes", file=out, flush=True)
    print(f"{'model':32s} " + " ".join(f"{c:>{max(len(c), 8)}s}" for c in LIMIT_COLUMNS), file=out, flush=True)
    rows = []
    for cfg in configs:
        r = limits.measure_row(cfg, splits(cfg), seconds)
        rows.append(r)
        print(f"{row_name(cfg):32s} {r.flops_per_image / 1e6:11.2f} {r.achieved / 1e9:8.1f} {r.limit / 1e9:13.1f} "
              f"{r.kind:>8s} {r.share:14.2f}", file=out, flush=True)
    print("limit of: sgemm where the step's kernels are all matmuls (an MLP), kernels where convolutions and "
          "their gradients are among them (a conv net, in its memory format); share of limit = GFLOP/s over "
          "limit GFLOP/s. FLOPs count 2 per multiply-add (torch's FlopCounterMode, gen_core/limits.py)",
          file=out, flush=True)
    return rows


def run_bench(profile: str, data_dir: str, device: torch.device, compile_: bool, seconds: float,
              out=sys.stdout, estimate_profile: str = "quick", flops_profile: str = "full",
              workers: int | None = None, limit_seconds: float = 1.0) -> list[Comparison]:
    """The table: per case, the project loop against the reference loop, then with bf16 autocast, then
    (on a CPU) in `workers` single-thread processes side by side; on a CPU each case against its own
    limit (`print_limits`); then the estimates."""
    from .grid import bf16_on_this_cpu, uses_bf16
    from .workers import cpu_count

    bf16_on_this_cpu()                  # a bad GEN_BF16 fails here, not after the first row is timed
    root = str(Path(data_dir).resolve())

    def splits(cfg):
        return data.cached_split(cfg.dataset, root, True, str(device), cfg.train_size)

    workers = (cpu_count() if device.type == "cpu" else 0) if workers is None else workers
    timer = WorkerTimer(workers, root) if workers > 1 else None
    print(f"make bench: device {device} ({torch.get_num_threads()} CPU threads), profile {profile}, "
          f"torch {torch.__version__}", file=out, flush=True)
    head = f"{workers} workers" if timer else "workers"
    print(f"{'model':32s} {'steps':>6s} {'project img/s':>14s} {'reference img/s':>16s} {'ratio':>6s} {'goal':>10s} "
          f"{'bf16 img/s':>11s} {'x fp32':>6s} {'grid':>5s} {head + ' img/s':>16s} {'x 1 proc':>8s}",
          file=out, flush=True)
    results, interrupted = [], False
    try:
        for family, dataset, variant in cases():
            base = case_config(family, dataset, variant, profile)
            for switches in [dict(amp=False)] + ([dict(amp=False, compile=True)] if compile_ and not base.gp else []):
                cfg = replace(base, **switches)          # (no double backward under torch.compile)
                c = compare(cfg, splits(cfg), root, device, seconds, bf16=not cfg.compile)
                if timer and not cfg.compile:
                    c.workers, c.workers_rate = timer.workers, timer.rate(cfg, max(1, c.steps // 3))
                results.append(c)
                goal = families.get(family).bench_goals.get(device.type, {}).get(cfg.arch)
                verdict = "" if goal is None else f">= {goal:g} {'met' if c.ratio >= goal else 'MISSED'}"
                name = row_name(cfg)
                used = "bf16" if uses_bf16(profile, family, dataset, cfg.arch, variant) else "fp32"
                bf16 = (f"{_fmt_rate(c.bf16_images, c.bf16_s):>11s} {c.bf16_speedup:6.2f} {used:>5s}"
                        if c.bf16_s else f"{'-':>11s} {'-':>6s} {'':>5s}")
                pool = (f"{c.workers_rate:16,.0f} {c.workers_speedup:8.2f}" if c.workers_rate
                        else f"{'-':>16s} {'-':>8s}")
                print(f"{name:32s} {c.steps:6d} {_fmt_rate(c.images, c.project_s):>14s} "
                      f"{_fmt_rate(c.images, c.reference_s):>16s} {c.ratio:6.2f} {verdict:>10s} {bf16} {pool}",
                      file=out, flush=True)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if timer:
            timer.close(interrupted)
    print("x fp32: bf16 autocast over fp32 in one process; grid: what the profile trains this row with "
          "(the family's bf16 measurements, gen_core/families, on a CPU with AVX-512 unless GEN_BF16=0, "
          "or anywhere with GEN_BF16=1); "
          f"x 1 proc: the workers' images/s together over one process with {torch.get_num_threads()} threads "
          "(fp32 both)", file=out, flush=True)
    if device.type == "cpu":
        plain = [c for c in results if not c.cfg.compile]
        for c, r in zip(plain, print_limits([c.cfg for c in plain], splits, out, limit_seconds)):
            c.limit = r

    print_estimates(estimate_profile, flops_profile, splits, root, device, workers, out)      # gen_core/cost.py
    return results


def print_step_profiles(configs: list[RunConfig], splits, out=sys.stdout, steps: int = 50, top: int = 8) -> None:
    """`--profile-steps`: per row, torch.profiler's `top` ops by self time over `steps` one-thread training
    steps (`limits.step_profile`), and the share of the matmul and conv kernels, which is the row's limit."""
    for cfg in configs:
        ops = limits.step_profile(cfg, splits(cfg), steps)
        print(f"\n{row_name(cfg)}: {limits.kernel_share(ops):.0%} of the step's self time in matmul and conv "
              f"kernels ({steps} steps, one thread, float32); the largest:", file=out, flush=True)
        for op in ops[:top]:
            print(f"  {op.share:6.1%}  {op.calls // steps:4d} calls/step  {op.name}", file=out, flush=True)


# ---- bf16 against fp32: the same seed trained both ways, judged by the yardstick ------------------

def amp_representatives(profile: str) -> list[RunConfig]:
    """Seed 0 of the first row of each family x dataset x architecture, and of both variants a
    family compares side by side (the WGAN's weight clipping and gradient penalty)."""
    seen, out = set(), []
    for cfg in full_grid(profile):
        paired = cfg.variant in (families.get(cfg.family).variant_pair or ())
        key = (cfg.family, cfg.dataset, cfg.arch, cfg.variant if paired else "")
        if cfg.seed == 0 and key not in seen:
            seen.add(key)
            out.append(cfg)
    return out


def amp_quality(profile: str, data_dir, runs_dir, device, out=None) -> list[dict]:
    """Train each representative run in fp32 and with bf16 autocast (same seed), measure both with
    the yardstick, and print FD with its interval, whether the intervals overlap, and the
    training-time ratio. What grid.BF16 records per profile comes from this table."""
    from .runs import Context, measured_run, status

    out = out or sys.stdout
    ctx = Context(profile, Path(data_dir), Path(runs_dir), False, str(device))
    rows = []
    print(f"bf16 against fp32 at the {profile} profile on {device} (seed 0 each; FD [95% interval]):", file=out,
          flush=True)
    for cfg in amp_representatives(profile):
        fp32, bf16 = (measured_run(replace(cfg, amp=a), ctx) for a in (False, True))
        row = {"family": cfg.family, "dataset": cfg.dataset, "arch": cfg.arch, "variant": cfg.variant,
               "speedup": fp32.summary["train_seconds"] / bf16.summary["train_seconds"]}
        for name, run in (("fp32", fp32), ("bf16", bf16)):
            row[name] = {k: run.yardstick.get(k) for k in ("fd", "fd_ci", "precision", "recall")}
        unmeasured = [f"{name} {status(run)}" for name, run in (("fp32", fp32), ("bf16", bf16))
                      if row[name]["fd_ci"] is None]
        if unmeasured:                 # diverged or unmeasurable: no FD to compare
            row["overlap"] = None
            rows.append(row)
            print(f"  {cfg.family} {cfg.dataset} {cfg.variant}: {', '.join(unmeasured)}; no FD to compare", file=out,
                  flush=True)
            continue
        lo = max(row["fp32"]["fd_ci"][0], row["bf16"]["fd_ci"][0])
        hi = min(row["fp32"]["fd_ci"][1], row["bf16"]["fd_ci"][1])
        row["overlap"] = lo <= hi
        rows.append(row)
        print(f"  {cfg.family} {cfg.dataset} {cfg.variant}: fp32 FD {row['fp32']['fd']:.4g} "
              f"[{row['fp32']['fd_ci'][0]:.4g}, {row['fp32']['fd_ci'][1]:.4g}], bf16 FD {row['bf16']['fd']:.4g} "
              f"[{row['bf16']['fd_ci'][0]:.4g}, {row['bf16']['fd_ci'][1]:.4g}], "
              f"{'overlap' if row['overlap'] else 'APART'}; training {row['speedup']:.2f}x", file=out, flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gen_core.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="auto", help="whose model sizes: auto (quick on CPU, full on CUDA) | "
                                                     "full | long | quick | smoke")
    p.add_argument("--data-dir", default=os.environ.get("GEN_DATA_DIR", "data"))
    p.add_argument("--device", default=None, help="cpu, cuda ... (default: cuda if available)")
    p.add_argument("--workers", type=int, default=None, help="single-thread processes side by side in the workers "
                                                             "column (default: one per CPU core on a CPU; 0 or 1: "
                                                             "leave the column out)")
    p.add_argument("--compile", action="store_true", help="also time the project loop with torch.compile")
    p.add_argument("--amp-quality", action="store_true",
                   help="instead: train one run per family, dataset and architecture in fp32 and in bf16 (same "
                        "seed), measure both with the yardstick and print whether their FD intervals overlap")
    p.add_argument("--runs-dir", default=os.environ.get("GEN_RUNS_DIR", "runs"),
                   help="where --amp-quality keeps its runs (cached like any run)")
    p.add_argument("--profile-steps", action="store_true",
                   help="instead: torch.profiler on each row's training step in one thread, float32: the ops that "
                        "take its time, by self time (what keeps a row under its own limit)")
    p.add_argument("--seconds", type=float, default=4.0, help="target length of one timed round (default 4)")
    p.add_argument("--estimate-profile", default="quick",
                   help="whose report to estimate from timed steps on this device (default quick)")
    p.add_argument("--flops-profile", default="full", help="whose grid to count FLOPs of (default full)")
    args = p.parse_args(argv)
    try:
        device = torch.device(args.device) if args.device else cuda.default_device()
        cuda.prepare(device)
        profile = resolve_profile(args.profile, cuda.is_cuda(device))
        if not args.seconds > 0:
            fail("--seconds", args.seconds, "a number > 0")
        if args.amp_quality:
            amp_quality(profile, args.data_dir, args.runs_dir, device)
            return 0
        if args.profile_steps:
            root = str(Path(args.data_dir).resolve())
            print_step_profiles([replace(case_config(*case, profile), amp=False) for case in cases()],
                                lambda cfg: data.cached_split(cfg.dataset, root, True, "cpu", cfg.train_size))
            return 0
        if args.workers is not None and args.workers < 0:
            fail("--workers", args.workers, "a whole number >= 0", sep=" ")
        run_bench(profile, args.data_dir, device, args.compile, args.seconds, workers=args.workers,
                  estimate_profile=resolve_profile(args.estimate_profile, cuda.is_cuda(device)),
                  flops_profile=resolve_profile(args.flops_profile, cuda.is_cuda(device)))
    except (ConfigError, DataError) as err:
        return print_error(err)
    except KeyboardInterrupt:
        print("interrupted: the bench stopped; the rows above are complete", file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
