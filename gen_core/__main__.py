"""Train any part of the grid without a notebook kernel.

    python -m gen_core --profile quick                       # the whole grid
    python -m gen_core --family gan --dataset mnist          # one chapter's runs
    python -m gen_core --family vae --dataset mnist --variant "MLP C" --latent 2
    python -m gen_core --list                                # show the runs, train nothing
    python -m gen_core --profile full --estimate             # time a few steps of each run, train nothing
    python -m gen_core --family gan --dataset mnist --seeds 3   # seeds 0, 1, 2 of each configuration
    python -m gen_core --launcher slurm --partition gpu --gpus-per-task 1 --seeds 5   # one Slurm job array
    python -m gen_core --workers 1                           # one run after another in this process

On a CPU the runs train in the worker pool (gen_core/workers.py), on a GPU in this process. Each
lands in --runs-dir, named by its config and training code, measured by the yardstick, so a later
`make report` finds it cached and only renders.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import families
from .config import DATASETS, ConfigError
from .cost import print_estimate
from .data import DataError
from .errors import fail
from .grid import full_grid, grid, override, resolve_profile
from .errors import print_error
from .runs import finished_line, pending
from .runs import status as run_status
from .slurm import ARRAY_LIMIT, FLAGS, SLURM_TIME_MIN, Resources, check_launcher, launch, task_device
from .slurm import slots as launch_slots
from .workers import INTERRUPTED, check_workers, interrupted_status, default_workers, train_in_pool


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m gen_core", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default=os.environ.get("PROFILE", "auto"),
                   help="auto | full | long | quick | smoke (default: $PROFILE or auto)")
    p.add_argument("--family", choices=families.names())
    p.add_argument("--dataset", choices=DATASETS)
    p.add_argument("--variant", help='a row label such as "MLP A" or "DCGAN"')
    p.add_argument("--latent", type=int, help="only runs with this latent size")
    p.add_argument("--data-dir", default=os.environ.get("GEN_DATA_DIR", "data"))
    p.add_argument("--runs-dir", default=os.environ.get("GEN_RUNS_DIR", "runs"))
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--force", action="store_true", help="retrain even if results are cached")
    p.add_argument("--seeds", type=int, default=None,
                   help="train seeds 0..N-1 of every selected configuration (default: the profile's)")
    p.add_argument("--list", action="store_true", help="print the selected runs and exit")
    p.add_argument("--estimate", action="store_true",
                   help="time a few training steps of every selected configuration on this device, print the "
                        "expected training time per run and in total, and exit without training")
    p.add_argument("--workers", metavar="N", help="single-thread worker processes training runs side by side "
                                                  "(default on a CPU: $GEN_WORKERS, else one per CPU core; on a "
                                                  "GPU: 1, whatever $GEN_WORKERS says; 1 trains in this process)")
    p.add_argument("--no-measure", action="store_true",
                   help="skip the yardstick (classifier training and FD, precision/recall, coverage)")
    launch = p.add_argument_group("Slurm (gen_core/slurm.py): one task per run, through submitit")
    launch.add_argument("--launcher", help="slurm: one job array (default: train on this machine, in the worker "
                                           "pool on a CPU)")
    launch.add_argument("--no-wait", action="store_true",
                        help="slurm: submit, print the job id and exit; the same command later reports the "
                             "states and submits what is missing")
    launch.add_argument("--partition", help="slurm: the partition (default: the cluster's default)")
    launch.add_argument("--time", type=int, dest="time_min", metavar="MINUTES",
                        help=f"slurm: time limit per task; near it a task checkpoints and is requeued "
                             f"(default: {SLURM_TIME_MIN})")
    launch.add_argument("--cpus-per-task", type=int, metavar="N", help="slurm: CPUs (torch threads) per task "
                                                                       "(default 1)")
    launch.add_argument("--gpus-per-task", type=int, default=0, metavar="N", help="slurm: GPUs per task (default 0)")
    launch.add_argument("--mem", type=int, dest="mem_gb", metavar="GB", help="slurm: memory per task in GB "
                                                                             "(default: the partition's)")
    launch.add_argument("--parallelism", type=int, metavar="N", help=f"slurm: tasks running at once (default: "
                                                                     f"Slurm schedules up to {ARRAY_LIMIT})")
    return p.parse_args(argv)


SLURM_ONLY = ("no_wait", "partition", "gpus_per_task", "mem_gb", "time_min", "parallelism", "cpus_per_task")


def _resources(args) -> Resources | None:
    """Slurm's resources, or None to train on this machine; ConfigError for Slurm's options without it."""
    defaults = {"no_wait": False, "gpus_per_task": 0}
    flags = {**FLAGS, "no_wait": "--no-wait"}
    if args.launcher is not None:
        check_launcher(args.launcher)
    if args.launcher is None:
        for key in SLURM_ONLY:
            if getattr(args, key) != defaults.get(key):
                raise ConfigError(f"{flags[key]} is only used with --launcher slurm")
        return None
    if args.workers is not None:
        raise ConfigError("--workers is only used without --launcher (Slurm's tasks run side by side: "
                          "--parallelism and --cpus-per-task)")
    return Resources(args.partition, args.time_min, 1 if args.cpus_per_task is None else args.cpus_per_task,
                     args.gpus_per_task, args.mem_gb, args.parallelism)


def select_runs(profile, family=None, dataset=None, variant=None, latent=None, seeds=None):
    """The profile's runs that match the filters; with `seeds`, seeds 0..seeds-1 of each configuration."""
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        fail("--seeds", seeds, "a whole number of seeds >= 1", sep=" ")
    runs = grid(family, dataset, profile) if family and dataset else full_grid(profile)
    runs = [c for c in runs if (not family or c.family == family) and (not dataset or c.dataset == dataset)
            and (not variant or c.variant == variant) and (latent is None or c.latent_dim == latent)]
    if not runs:
        raise ConfigError(f"no run of the {profile} grid matches family={family} dataset={dataset} "
                          f"variant={variant} latent={latent}; use --list to see the runs")
    if seeds is not None:
        configs = [c for c in runs if c.seed == 0]
        runs = [override(c, seed=s) for c in configs for s in range(seeds)]
    return runs


def main(argv=None) -> int:
    args = _parse(argv)
    try:
        from .runs import check_data, measured_run, setup

        profile = resolve_profile(args.profile)
        runs = select_runs(profile, args.family, args.dataset, args.variant, args.latent, args.seeds)
        resources = _resources(args)
        if args.list:
            for cfg in runs:
                print(cfg.run_name(), f"epochs={cfg.epochs}", f"train_size={cfg.train_size or 'all'}")
            return 0
        if args.estimate:
            return _estimate(args, runs, resources)
        if resources is not None:
            return launch(runs, profile, Path(args.data_dir), Path(args.runs_dir), resources, args.device,
                          measure=not args.no_measure, no_wait=args.no_wait, force=args.force)
        ctx = setup(profile, args.data_dir, args.runs_dir, args.force, args.device)
        workers = default_workers(ctx.device) if args.workers is None else check_workers(args.workers)
        if workers > 1 and ctx.device.split(":")[0] != "cpu":
            raise ConfigError(f"--workers {workers} is not allowed with --device {ctx.device}: the workers train on "
                              f"the CPU; on a GPU use --workers 1")
        # one run to do trains faster here, with every thread, than in one single-thread worker
        todo = pending(runs, ctx.runs_dir, not args.no_measure, args.force, profile)
        if workers > 1 and len(todo) > 1:
            return train_in_pool(runs, profile, ctx.data_dir, ctx.runs_dir, workers, measure=not args.no_measure,
                                 force=args.force)
        check_data({c.dataset for c in todo}, ctx.data_dir)     # one line, before anything trains
        for i, cfg in enumerate(runs, 1):
            start = time.perf_counter()
            run = measured_run(cfg, ctx, measure=not args.no_measure)     # a corrupt run is retrained
            print(f"[{i}/{len(runs)}] {cfg.run_name()}: " + finished_line(run_status(run), run.yardstick.get("fd"),
                                                                         time.perf_counter() - start), flush=True)
    except (ConfigError, DataError) as err:
        return print_error(err)
    except KeyboardInterrupt as err:
        print(INTERRUPTED, file=sys.stderr, flush=True)
        return interrupted_status(err)
    return 0


def _estimate(args, runs, resources) -> int:
    """--estimate: time a few steps of each configuration where and as its runs will train."""
    import torch

    from .cuda import default_device
    device = args.device or str(default_device())
    slots = None
    if resources is not None:      # time the steps where and as the tasks will run them
        resources.check()
        device = task_device(args.device, resources) or device
        torch.set_num_threads(resources.cpus_per_task)
        slots = launch_slots(resources, len(runs))
    else:                          # the worker pool: one thread per worker
        workers = default_workers(device) if args.workers is None else check_workers(args.workers)
        if workers > 1 and device == "cpu":
            torch.set_num_threads(1)
            slots = workers
    print_estimate(runs, args.data_dir, torch.device(device), slots=slots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
