"""The worker pool: `python -m gen_core` and `make report` on a CPU train and measure runs in one
long-lived single-thread process per core (two such processes train more images per second than
one with two threads; `make bench` measures it), the costliest runs first (gen_core/cost.py).

Each task is a `runs.TrainTask`, the same one a Slurm job runs: under the run's lock, one
checkpoint per epoch, so stopping the pool (Ctrl-C, a killed worker) loses at most each running
run's current epoch and the same command resumes them. The terminal shows one bar for the epochs
of all runs, the runs in flight, and one line per finished run. On a GPU one process trains.
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

from .config import RunConfig
from .errors import ConfigError, fail, one_line

WORKER_THREADS = 1           # torch threads per worker
POLL_SECONDS = 0.5           # how often the terminal is updated
MIN_WORKERS = 1
INTERRUPTED = "interrupted: finished runs are kept; the same command resumes the others from their last epoch"


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
    return {**task(), "seconds": time.perf_counter() - start}


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
    print(f"workers: {len(runs)} runs selected, {len(runs) - len(todo)} already done, {len(todo)} to train or "
          f"measure in {min(workers, len(todo)) if todo else 0} single-thread worker processes", file=out, flush=True)
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
    events = multiprocessing.get_context("spawn").Queue()
    pool = spawn_pool(min(workers, len(todo)), _start_worker, (events, WORKER_THREADS))
    interrupt, previous_handler = _defer_ctrl_c()
    try:
        futures = {pool.submit(_run_task, TrainTask(c, profile, data_dir, runs_dir, "cpu", measure, WORKER_THREADS,
                                                    force), name): name for name, c in zip(names, todo)}
        remaining = set(futures)
        while remaining:
            if interrupt.is_set():
                raise KeyboardInterrupt
            done, remaining = wait(remaining, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            _drain(events, seen, started, bar)
            for future in done:
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
                finished += 1
                bar.update(epochs[name] - seen[name])
                seen[name] = epochs[name]
                started.pop(name, None)
                bar.write(f"[{finished}/{len(todo)}] {name}: {line}", file=out)
            bar.set_postfix_str(", ".join(f"{shown[n]} {seen[n]}/{epochs[n]}" for n in started))
    except BrokenProcessPool:
        bar.close()
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
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        pool.shutdown(wait=True, cancel_futures=True)
    bar.close()
    print(f"summary: {len(runs)} runs, {len(runs) - len(todo)} already done, {finished - len(failed)} finished now, "
          f"{len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""), file=out, flush=True)
    return 1 if failed else 0


def _defer_ctrl_c() -> tuple[threading.Event, object]:
    """A Ctrl-C only sets the returned event, which the pool's loop checks between polls. A
    KeyboardInterrupt raised at an arbitrary bytecode can land inside concurrent.futures' wait()
    while it holds the futures' locks, after which shutdown() waits forever (a CI simulation hung
    after a Ctrl-C once, under load)
    Returns the event and the handler to restore (None off the main thread, where none is set)."""
    interrupt = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return interrupt, None
    return interrupt, signal.signal(signal.SIGINT, lambda signum, frame: interrupt.set())


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
