"""The worker pool: `python -m gen_core` and `make report` on a CPU train and measure runs in one
long-lived single-thread process per core (two such processes train more images per second than
one with two threads; `make bench` measures it), the costliest runs first (gen_core/cost.py).

Each task is a `runs.TrainTask`, the same one a Slurm job runs: under the run's lock, one
checkpoint per epoch, so stopping the pool (Ctrl-C, `kill` of the command, a killed worker) loses at
most each running run's current epoch and the same command resumes them. The terminal shows one bar for the epochs
of all runs, the runs in flight, and one line per finished run. On a GPU one process trains.

Each run a worker trains is first estimated (gen_core/cost.py: a few steps timed in CPU seconds, which
leave out the time the worker waited while other work had the CPU, so that on a busy machine too the
estimate is about an idle machine's wall time). Its finished line gives the run's wall seconds against
that estimate, and the closing lines add them up and flag each run that took SLOW times its estimate or
more, with the machine's load average over it.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import NamedTuple

from .config import RunConfig
from .errors import ConfigError, fail, one_line

WORKER_THREADS = 1           # torch threads per worker
POLL_SECONDS = 0.5           # how often the terminal is updated
MIN_WORKERS = 1
# A worker's estimate: ESTIMATE_STEPS steps timed after ESTIMATE_WARMUP untimed ones, only for a run at least
# ESTIMATE_SHARE times as long (the estimate adds at most 1/40 to a run's steps; smoke runs get none)
ESTIMATE_STEPS, ESTIMATE_WARMUP, ESTIMATE_SHARE = 8, 3, 40
SLOW = 1.5                   # a run whose wall seconds reach SLOW x its estimate is flagged in the closing lines
INTERRUPTED = "interrupted: finished runs are kept; the same command resumes the others from their last epoch"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)       # Ctrl-C, and `kill` / a job scheduler's cancel


class Stopped(KeyboardInterrupt):
    """The pool stopped its workers on a signal. A KeyboardInterrupt, so every caller's Ctrl-C path
    takes it; `signum` gives the exit status (`interrupted_status`)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interrupted_status(err: KeyboardInterrupt) -> int:
    """The shell's status for a command a signal stopped: 128 + its number (130 for Ctrl-C, 143 for kill)."""
    return 128 + getattr(err, "signum", signal.SIGINT)


def cpu_count() -> int:
    """The CPUs this process may run on (a Slurm allocation or taskset can give fewer than the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                        # not on Linux
        return os.cpu_count() or 1


def default_workers(device: str) -> int:
    """As many workers as CPUs when training on the CPU; one (this process) on a GPU. On the CPU
    GEN_WORKERS overrides it (`make report GEN_WORKERS=1` trains inside the notebooks, as before the pool)."""
    if str(device).split(":")[0] != "cpu":
        return 1                                 # the workers train on the CPU: not what a GPU user wants
    if "GEN_WORKERS" in os.environ:
        return check_workers(os.environ["GEN_WORKERS"], "GEN_WORKERS")
    return cpu_count()


def check_workers(value, name: str = "--workers") -> int:
    try:
        count = int(str(value).strip())
    except ValueError:
        count = None
    if count is None or count < MIN_WORKERS or isinstance(value, bool):
        fail(name, value, "a whole number of worker processes >= 1 (1 trains in this process)")
    return count


def spawn_pool(workers: int, initializer=None, initargs=()) -> ProcessPoolExecutor:
    """`workers` spawned processes (no fork after torch made its threads) that ignore Ctrl-C: it reaches
    the whole process group, and the pool's owner stops them itself (`stop_workers`). The worker pool
    and the bench's workers column both start theirs here."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_process,
                               initargs=(initializer, initargs))


def _start_process(initializer, initargs) -> None:
    # first, before the slow imports: a worker's KeyboardInterrupt would only print a traceback per process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


# ---- inside a worker -----------------------------------------------------------------------

_events = None               # the worker's end of the progress queue


def _start_worker(events, threads: int) -> None:
    import torch
    from tqdm import tqdm

    global _events
    _events = events
    # tqdm otherwise makes a multiprocessing lock here (even for a disabled bar) that a stopped
    # worker leaves behind: "resource_tracker: ... leaked semaphore objects" at exit
    tqdm.set_lock(threading.RLock())
    torch.set_num_threads(threads)


class TrainingCodeChanged(ConfigError):
    """A worker's run hashes to another name than the pool gave it: a training source was edited."""


def _run_task(task, name: str) -> dict:
    """One TrainTask in a worker, reporting its start and each epoch it trains to the pool under
    `name`, the run's name as the pool computed it."""
    start = time.perf_counter()
    if task.run_dir.name != name:             # the hash covers the training code, read again here
        raise TrainingCodeChanged(f"the training code changed while the pool ran (this run is now "
                                  f"{task.run_dir.name}, not {name}); run the same command again to train the "
                                  f"new code")
    _events.put((name, 0))
    task.progress = False
    task.on_epoch = lambda epoch: _events.put((name, epoch))
    estimate = estimate_task(task)
    out = {**task(), "seconds": time.perf_counter() - start}
    if estimate is not None:
        from .runs import read_summary

        summary = read_summary(task.run_dir) or {}
        out.update(estimate_seconds=estimate, **{k: summary.get(k) for k in ("wall_seconds", "cpu_seconds",
                                                                             "load_average")})
    return out


def _train_classifier(dataset: str, profile: str, data_dir: str, runs_dir: str) -> dict:
    """The profile's yardstick classifier for `dataset`, trained in a worker (or loaded, if another
    process trained it meanwhile): what every measurement of that dataset's runs waits for."""
    from .classifier import load_or_train_classifier

    start = time.perf_counter()
    clf = load_or_train_classifier(dataset, profile, data_dir, runs_dir, "cpu", progress=False)
    return {"arch": clf.config.arch, "accuracy": clf.summary["test_accuracy"], "seconds": time.perf_counter() - start}


def classifiers_first(runs: list[RunConfig], profile: str, runs_dir, measure: bool) -> list[str]:
    """The datasets whose yardstick classifier the pool trains before any run: those of `runs` when they
    are measured, in the book's order, whose classifier is not trained yet. First, because every
    measurement of a dataset waits for its classifier: trained inside the first run's measuring, it held
    that worker while the other, done with its own run, waited on the classifier's lock. At the start
    the two classifiers run side by side, one per worker: on 2 cores that takes as long as one after the
    other on two threads, and frees the first worker for a run when the smaller one is done (README, "Speed")."""
    from .classifier import is_trained
    from .config import DATASETS

    if not measure:
        return []
    needed = {c.dataset for c in runs}
    return [d for d in DATASETS if d in needed and not is_trained(d, profile, runs_dir)]


def classifier_line(dataset: str, result: dict) -> str:
    """The pool's line for a classifier it trained: "classifier mnist (LeNet): test accuracy 98.1% (91 s)"."""
    return f"classifier {dataset} ({result['arch']}): test accuracy {result['accuracy']:.1%} ({result['seconds']:.0f} s)"


def estimate_task(task) -> float | None:
    """Seconds the task's run would train on an idle machine (cost.estimate_run in this worker's CPU
    seconds: one thread, so about an idle machine's wall seconds, without the waits for the CPU that other
    work causes now), or None where it will not train (trained already: the pool only measures it) or is too short to time.
    Training is unchanged by it: train.setup seeds every random stream again."""
    from .config import RunConfig
    from .cost import estimate_run, steps_per_run
    from .data import cached_split
    from .runs import read_summary

    if not task.force and read_summary(task.run_dir) is not None:
        return None
    cfg = RunConfig.from_dict(task.config)
    # the same call as results.train_and_save: the run reads this cached split again
    split = cached_split(cfg.dataset, task.data_dir, True, task.device or "cpu", cfg.train_size)
    if steps_per_run(cfg, len(split)) < ESTIMATE_SHARE * (ESTIMATE_STEPS + ESTIMATE_WARMUP):
        return None
    return estimate_run(cfg, split, task.device or "cpu", ESTIMATE_STEPS, ESTIMATE_WARMUP, clock=time.process_time)


# ---- realized against estimated time: pure functions of the numbers ----------------------------

class RunTime(NamedTuple):
    """One trained run's time: its summary's wall and CPU seconds (the whole run: steps, per-epoch work and
    evaluation, so an idle machine gives a little over 1x the steps' estimate), its estimate and load average."""
    name: str
    wall_seconds: float
    cpu_seconds: float
    estimate_seconds: float
    load_average: float | None


def _check_time(t: RunTime) -> None:
    for key in ("wall_seconds", "cpu_seconds", "estimate_seconds"):
        value = getattr(t, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
                or (key == "estimate_seconds" and value == 0):
            raise ValueError(f"{t.name}: {key} is {value!r}; it must be a number of seconds, "
                             f"{'above 0' if key == 'estimate_seconds' else '0 or more'}")


def versus_estimate(t: RunTime) -> str:
    """A finished line's tail: "training 42 s against 40 s estimated (1.05x)"."""
    from .cost import duration

    _check_time(t)
    return (f"training {duration(t.wall_seconds)} against {duration(t.estimate_seconds)} estimated "
            f"({t.wall_seconds / t.estimate_seconds:.2f}x)")


def slow_line(t: RunTime, cpus: int) -> str | None:
    """The closing line of a run whose wall seconds reached SLOW x its estimate, with its CPU seconds
    and the machine's load average over it against `cpus`; None for a run that did not."""
    from .cost import duration

    _check_time(t)
    if isinstance(cpus, bool) or not isinstance(cpus, int) or cpus < 1:
        raise ValueError(f"cpus is {cpus!r}; it must be a whole number of CPUs, 1 or more")
    ratio = t.wall_seconds / t.estimate_seconds
    if ratio < SLOW:
        return None
    if t.load_average is None:
        load = "no load average recorded"
    else:
        # load average: the mean number of runnable processes; above the CPUs, some of them waited
        more = "more runnable processes than CPUs" if t.load_average > cpus else "no more runnable processes than CPUs"
        load = f"load average {t.load_average:.1f} over the run on {cpus} CPUs: {more}"
    return (f"  slow: {t.name}: {ratio:.2f}x its estimate ({duration(t.wall_seconds)} of wall time, "
            f"{duration(t.cpu_seconds)} of CPU time, {t.cpu_seconds / t.estimate_seconds:.2f}x, against "
            f"{duration(t.estimate_seconds)} estimated); {load}")


def timing_lines(times: list[RunTime], cpus: int) -> list[str]:
    """The pool's closing lines on time: the trained runs' wall and CPU seconds against their estimates,
    all together, then one `slow_line` per run SLOW x over; [] when no run trained with an estimate."""
    from .cost import duration

    if not times:
        return []
    slow = [line for line in (slow_line(t, cpus) for t in times) if line is not None]
    wall, cpu, estimate = (sum(getattr(t, k) for t in times) for k in ("wall_seconds", "cpu_seconds",
                                                                       "estimate_seconds"))
    runs = f"{len(times)} run{'s' if len(times) != 1 else ''}"
    over = (f"{len(slow)} ran {SLOW:g}x or more over {'its' if len(slow) == 1 else 'their'} estimate:" if slow
            else f"none ran {SLOW:g}x or more over its estimate")
    return [f"time: {runs} trained in {duration(wall)} of wall time and {duration(cpu)} of CPU time against "
            f"{duration(estimate)} estimated ({wall / estimate:.2f}x and {cpu / estimate:.2f}x); {over}"] + slow


# ---- the pool ------------------------------------------------------------------------------

def train_in_pool(runs: list[RunConfig], profile: str, data_dir, runs_dir, workers: int, measure: bool = True,
                  force: bool = False, out=None) -> int:
    """Train (or resume) and measure `runs` in `workers` single-thread processes. One line per
    finished run and a summary; returns 1 if any run failed, else 0. The data the runs need is read
    and checked first: a broken file is one DataError, before anything trains."""
    from tqdm import tqdm

    from .cost import longest_first
    from .runs import TrainTask, check_data, finished_line, pending
    from .store import progress_stream

    out = out or sys.stdout
    todo = pending(runs, runs_dir, measure, force, profile)
    classifiers = classifiers_first(todo, profile, runs_dir, measure)
    processes = min(workers, len(todo) + len(classifiers)) if todo else 0
    print(f"workers: {len(runs)} runs selected, {len(runs) - len(todo)} already done, {len(todo)} to train or "
          f"measure in {processes} single-thread worker processes", file=out, flush=True)
    if not todo:
        return 0
    check_data({c.dataset for c in todo}, data_dir)
    todo = longest_first(todo)
    # names once: a training source edited while the pool runs would change them
    names = [c.run_name() for c in todo]
    epochs = {name: c.epochs for name, c in zip(names, todo)}
    # in the bar: the name without its hash, and the seed where there are several
    shown = {name: name.rsplit("-", 1)[0] + (f" seed {c.seed}" if c.seed else "") for name, c in zip(names, todo)}
    seen = dict.fromkeys(epochs, 0)          # last epoch reported per run
    bar = tqdm(total=sum(epochs.values()), unit="epoch", desc="training", file=progress_stream(),
               dynamic_ncols=True)
    failed, finished, started = [], 0, {}      # started: the runs in flight, in start order
    times: list[RunTime] = []                  # the runs trained with an estimate, for the closing lines
    events = multiprocessing.get_context("spawn").Queue()
    pool = spawn_pool(processes, _start_worker, (events, WORKER_THREADS))
    received, previous_handlers = _defer_stop_signals()
    try:
        # submitted first, so the first free workers take them (the pool starts tasks in submission order)
        trained = {pool.submit(_train_classifier, d, profile, str(Path(data_dir).resolve()),
                               str(Path(runs_dir).resolve())): d for d in classifiers}
        futures = {pool.submit(_run_task, TrainTask(c, profile, data_dir, runs_dir, "cpu", measure, WORKER_THREADS,
                                                    force), name): name for name, c in zip(names, todo)}
        remaining = set(futures) | set(trained)
        while remaining:
            if received:
                raise Stopped(received[0])
            done, remaining = wait(remaining, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            _drain(events, seen, started, bar)
            for future in done:
                if future in trained:           # its error, if any, comes again with its runs' measuring
                    error = future.exception()
                    bar.write(f"classifier {trained[future]}: failed: {type(error).__name__}: {one_line(error)}"
                              if error is not None else classifier_line(trained[future], future.result()), file=out)
                    continue
                name = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise
                except TrainingCodeChanged as err:   # every run still queued would fail the same way
                    bar.close()
                    stop_workers(pool)
                    pool.shutdown(wait=False, cancel_futures=True)
                    print(f"error: {err} ({finished} of {len(todo)} runs finished before)", file=sys.stderr,
                          flush=True)
                    return 1
                except Exception as err:             # the run's own error: report it, keep the others going
                    failed.append(name)
                    line = f"failed: {type(err).__name__}: {one_line(err)}"
                else:
                    line = finished_line(result["status"], result.get("fd"), result["seconds"])
                    if result.get("estimate_seconds") and result.get("wall_seconds") is not None:
                        times.append(RunTime(name, result["wall_seconds"], result["cpu_seconds"],
                                             result["estimate_seconds"], result["load_average"]))
                        line += "; " + versus_estimate(times[-1])
                finished += 1
                bar.update(epochs[name] - seen[name])
                seen[name] = epochs[name]
                started.pop(name, None)
                bar.write(f"[{finished}/{len(todo)}] {name}: {line}", file=out)
            bar.set_postfix_str(", ".join(f"{shown[n]} {seen[n]}/{epochs[n]}" for n in started))
    except BrokenProcessPool:
        bar.close()
        if received:                             # a signal to the whole process group killed the workers first
            stop_workers(pool)
            raise Stopped(received[0]) from None
        left = len(todo) - finished
        print(f"error: a worker process died (killed, or out of memory); {left} run{'s' if left != 1 else ''} did "
              f"not finish. "
              f"Run the same command again: finished runs are kept and interrupted ones resume from their last "
              f"epoch", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        bar.close()
        stop_workers(pool)                       # before shutdown(), which forgets the processes
        pool.shutdown(wait=False, cancel_futures=True)
        raise                                    # the caller says INTERRUPTED
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        pool.shutdown(wait=True, cancel_futures=True)
    bar.close()
    for line in timing_lines(times, os.cpu_count() or 1):      # the load average is the whole machine's
        print(line, file=out, flush=True)
    print(f"summary: {len(runs)} runs, {len(runs) - len(todo)} already done, {finished - len(failed)} finished now, "
          f"{len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""), file=out, flush=True)
    return 1 if failed else 0


def _defer_stop_signals() -> tuple[list[int], dict]:
    """Ctrl-C and SIGTERM only append their number to the returned list, which the pool's loop checks
    between polls. A KeyboardInterrupt raised at an arbitrary bytecode can land inside concurrent.futures'
    wait() while it holds the futures' locks, after which shutdown() waits forever (a CI simulation hung
    after a Ctrl-C once, under load); and a SIGTERM's default death left the workers training on, each
    until its run ended. Returns the list and the handlers to restore (none off the main thread, where
    no handler can be set)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return received, {}
    return received, {signum: signal.signal(signum, lambda number, frame: received.append(number))
                      for signum in STOP_SIGNALS}


def _drain(events, seen: dict, started: dict, bar) -> None:
    """Apply the workers' (run, epoch) reports: epoch 0 means it started."""
    while True:
        try:
            name, epoch = events.get_nowait()
        except queue.Empty:
            return
        if epoch == 0:
            started[name] = True
        elif epoch > seen[name]:
            bar.update(epoch - seen[name])
            seen[name] = epoch


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C reaches the workers too, but one deep inside a torch kernel may not stop at once."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
