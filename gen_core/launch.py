"""The grid as independent tasks, one per run, through submitit: a Slurm job array, or the same
tasks in local worker processes.

    python -m gen_core --launcher slurm --family gan --dataset mnist --seeds 3 --partition gpu
    python -m gen_core --launcher slurm --no-wait ...     # submit, print the job id, exit;
                                                          # the same command later reports and fills gaps
    python -m gen_core --launcher local ...               # the same tasks in local processes

Each task trains one run into the shared runs folder through `load_or_train` (its lock and its
per-epoch checkpoint) and measures it with the yardstick. A run that is already complete is not
submitted, nor is one that an earlier submission still has queued or running. When Slurm signals
a time limit or a preemption, submitit calls `TrainTask.checkpoint`, which requeues the same
task; it resumes from the run's last finished epoch. A task killed outright leaves that
checkpoint too, and submitting again resumes from it.

Every submission is recorded in <runs>/jobs/submissions.json (run folder -> job id), beside
submitit's logs and pickles in <runs>/jobs/, so a later command knows what is in flight.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, RunConfig

LAUNCHERS = ("local", "slurm")
JOBS = "jobs"                      # under the runs folder: submitit's folder and our record
SUBMISSIONS = "submissions.json"
POLL_SECONDS = {"local": 0.5, "slurm": 2.0}     # squeue is a call to the controller: not too often
# a task that leaves the queue without a result is failed after this long: a shared file system
# may show the result file on the login node well after the node wrote it
GONE_SECONDS = {"local": 1.0, "slurm": 60.0}
SLURM_TIME_MIN = 60                # default time limit of a Slurm task: long runs requeue and resume hourly
LOCAL_TIME_MIN = 7 * 24 * 60       # local tasks: no practical limit
MAX_REQUEUES = 100                 # time limits a task may hit (submitit's default, 3, ends long runs early);
                                   # a task that finished no epoch since its last requeue is not requeued
# Slurm states of a task still in the queue; anything else that leaves no result failed
# (squeue --states=all shows finished tasks for a few minutes: MinJobAge)
ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
          "RESIZING", "SUSPENDED", "STOPPED", "STAGE_OUT", "SIGNALING", "RESV_DEL_HOLD")
ARRAY_LIMIT = 256                  # submitit's default array parallelism: tasks of one array running at once


@dataclass(frozen=True)
class Resources:
    """What each task asks for. Slurm reads all of it; the local launcher its CPUs and parallelism."""
    partition: str | None = None        # None: the cluster's default partition
    time_min: int | None = None         # per task (None: 60 on Slurm, a week locally); near the limit
                                        # the task checkpoints and is requeued
    cpus_per_task: int = 1              # torch threads of the task
    gpus_per_task: int = 0
    mem_gb: int | None = None           # None: the partition's default
    parallelism: int | None = None      # tasks running at once (None: up to ARRAY_LIMIT on Slurm;
                                        # locally, CPUs / cpus_per_task)

    def check(self) -> None:
        _at_least("cpus_per_task", self.cpus_per_task, 1)
        _at_least("gpus_per_task", self.gpus_per_task, 0)
        for key in ("time_min", "mem_gb", "parallelism"):
            if getattr(self, key) is not None:
                _at_least(key, getattr(self, key), 1)


# the command-line option of each Resources field
FLAGS = {"partition": "--partition", "time_min": "--time", "cpus_per_task": "--cpus-per-task",
         "gpus_per_task": "--gpus-per-task", "mem_gb": "--mem", "parallelism": "--parallelism"}


def _at_least(key: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{FLAGS[key]} {value!r} is not allowed; expected a whole number >= {low}")


class TrainTask:
    """One run, trained (or resumed) and measured on whatever node runs it. Picklable: it
    holds the config as a dict and paths as strings."""

    def __init__(self, config: RunConfig, profile: str, data_dir: str, runs_dir: str, device: str | None,
                 measure: bool, threads: int, force: bool = False):
        self.config, self.profile = config.to_dict(), profile
        self.data_dir, self.runs_dir = str(Path(data_dir).resolve()), str(Path(runs_dir).resolve())
        self.device, self.measure, self.threads, self.force = device, measure, threads, force
        self.resumed_from = None        # the checkpoint's epoch when it was last requeued
        self.progress = True            # its epoch bar (a worker pool reports epochs instead)
        self.on_epoch = None            # called with each epoch it trains (set inside a pool worker)

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / RunConfig.from_dict(self.config).run_name()

    def __call__(self) -> dict:
        import torch

        from .cuda import default_device
        from .report.session import Context, measured_run
        from .results import load_or_train

        torch.set_num_threads(self.threads)
        cfg = RunConfig.from_dict(self.config)
        device = self.device or str(default_device())
        if self.measure:
            ctx = Context(self.profile, Path(self.data_dir), Path(self.runs_dir), self.force, device)
            run = measured_run(cfg, ctx, progress=self.progress, on_epoch=self.on_epoch)
        else:
            run = load_or_train(cfg, self.data_dir, self.runs_dir, device, force=self.force, progress=self.progress,
                                on_epoch=self.on_epoch)
        return {"run": run.dir.name, "status": run.summary["status"], "fd": run.yardstick.get("fd"),
                "train_seconds": run.summary["train_seconds"]}

    def checkpoint(self, *args, **kwargs):
        """submitit calls this on a time limit or a preemption. The run's checkpoint.pt already
        holds its last finished epoch: requeue the same task (never forced: it resumes), unless no
        epoch finished since the last requeue, where requeueing would loop forever."""
        import submitit
        import torch

        from .results import CHECKPOINT

        path = self.run_dir / CHECKPOINT
        epoch = torch.load(path, map_location="cpu", weights_only=True)["epoch"] if path.exists() else None
        if epoch is None or epoch == self.resumed_from:
            print(f"not requeued: no epoch of {self.run_dir.name} finished since the task started; raise --time "
                  f"above one epoch's time", file=sys.stderr, flush=True)
            return None
        again = TrainTask(RunConfig.from_dict(self.config), self.profile, self.data_dir, self.runs_dir, self.device,
                          self.measure, self.threads)
        again.resumed_from = epoch
        return submitit.helpers.DelayedSubmission(again)


def task_device(launcher: str, device: str | None, res: Resources) -> str | None:
    """Where tasks train: the --device given; local workers on the CPU; Slurm tasks that asked for
    no GPU on the CPU, even on a node whose GPUs they could see; else the node's default."""
    if launcher == "local" and device not in (None, "cpu"):
        raise ConfigError(f"--device {device} is not allowed with --launcher local, whose workers train on the "
                          f"CPU; on a GPU train without --launcher, or use --launcher slurm --gpus-per-task 1")
    if device is not None:
        return device
    return "cpu" if launcher == "local" or res.gpus_per_task == 0 else None


# ---- before anything is submitted: one line for each thing that would make every task fail ---

def check_launcher(name: str) -> str:
    if name not in LAUNCHERS:
        raise ConfigError(f"--launcher {name!r} is not allowed; expected one of {', '.join(LAUNCHERS)}")
    return name


def check_writable(runs_dir: Path) -> None:
    """The tasks write their results under `runs_dir` and lock each run in <runs>/.locks (so every
    process sharing the folder sees the locks, store.lock_path): create both and take a lock, or refuse."""
    from .store import SHARED_LOCKS, file_lock

    try:
        (Path(runs_dir) / SHARED_LOCKS).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=runs_dir, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ConfigError(f"runs folder {runs_dir} cannot be written ({err.strerror or err}); the tasks write "
                          f"their results there: choose another --runs-dir or fix its permissions") from None
    try:
        with file_lock(Path(runs_dir) / SHARED_LOCKS / ".lock-test"):
            pass
    except OSError as err:
        raise ConfigError(f"runs folder {runs_dir} is on a file system without flock ({err.strerror or err}); "
                          f"tasks could train one run twice: use a folder on NFSv4, GPFS, or Lustre mounted "
                          f"with flock") from None


def slurm_partitions() -> list[str]:
    """The partitions `sinfo` lists; ConfigError when sbatch is missing or Slurm does not answer."""
    for tool in ("sbatch", "sinfo", "squeue"):
        if shutil.which(tool) is None:
            raise ConfigError(f"--launcher slurm needs {tool} on the PATH and it is not there; run this on a "
                              f"Slurm login node, or use --launcher local")
    proc = subprocess.run(["sinfo", "-a", "-h", "-o", "%R"], capture_output=True, text=True)   # -a: hidden ones too
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"--launcher slurm: sinfo failed ({reason}); is the Slurm controller reachable?")
    return sorted(set(proc.stdout.split()))


def check_partition(partition: str | None) -> None:
    known = slurm_partitions()
    if partition is not None and partition not in known:
        raise ConfigError(f"--partition {partition!r} is not a partition Slurm knows; this cluster has: "
                          f"{', '.join(known) or 'none'}")


# ---- the executor --------------------------------------------------------------------------

def jobs_folder(runs_dir: Path) -> Path:
    return Path(runs_dir).resolve() / JOBS


def executor(launcher: str, runs_dir: Path, res: Resources):
    import submitit

    folder = jobs_folder(runs_dir) / "%j"
    if launcher == "local":
        ex = submitit.LocalExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
        ex.update_parameters(timeout_min=res.time_min or LOCAL_TIME_MIN, cpus_per_task=res.cpus_per_task,
                             gpus_per_node=res.gpus_per_task)
        return ex
    ex = submitit.SlurmExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
    params = dict(time=res.time_min or SLURM_TIME_MIN, cpus_per_task=res.cpus_per_task, ntasks_per_node=1,
                  job_name="gen_core")
    if res.partition:
        params["partition"] = res.partition
    if res.gpus_per_task:
        params["gpus_per_task"] = res.gpus_per_task
    if res.mem_gb:
        params["mem"] = f"{res.mem_gb}GB"
    if res.parallelism:
        params["array_parallelism"] = res.parallelism
    ex.update_parameters(**params)
    return ex


def local_parallelism(res: Resources) -> int:
    return res.parallelism or max(1, (os.cpu_count() or 1) // res.cpus_per_task)


def slots(launcher: str, res: Resources, n_tasks: int) -> int:
    """Tasks running at once: local workers, or as many as the array may run (ARRAY_LIMIT)."""
    if launcher == "local":
        return local_parallelism(res)
    return min(res.parallelism or ARRAY_LIMIT, max(1, n_tasks))


# ---- what is already done or in flight -----------------------------------------------------

def read_submissions(runs_dir: Path) -> dict:
    """run folder name -> the Slurm task id ("123_4") of its latest submission."""
    import json

    try:
        return json.loads((jobs_folder(runs_dir) / SUBMISSIONS).read_text())
    except (OSError, ValueError):
        return {}


def record_submissions(runs_dir: Path, jobs: dict) -> None:
    from .store import write_json_atomic

    write_json_atomic(jobs_folder(runs_dir) / SUBMISSIONS, {**read_submissions(runs_dir), **jobs})


def slurm_queue(job_ids) -> dict[str, str] | None:
    """Task id ("123_4", or "123" for a lone job) -> its Slurm state, for the tasks squeue still
    knows; None when squeue cannot answer (the controller is unreachable, say). One call per
    job: squeue refuses a whole list when one id in it was already purged."""
    found = slurm_queue_reasons(job_ids)
    return None if found is None else {job: state for job, (state, _) in found.items()}


def slurm_queue_reasons(job_ids) -> dict[str, tuple[str, str]] | None:
    """As slurm_queue, with Slurm's reason for each state ("Resources", "JobHeldAdmin", "None")."""
    states = {}
    for job in sorted({j.split("_")[0] for j in job_ids}):
        proc = subprocess.run(["squeue", "-h", "-r", "--states=all", "-o", "%i %T %r", "-j", job],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            if "Invalid job id" in proc.stderr:          # finished long ago and forgotten
                continue
            return None
        for line in proc.stdout.splitlines():
            fields = line.split(maxsplit=2)
            if len(fields) >= 2:
                states[fields[0]] = (fields[1], fields[2].strip() if len(fields) > 2 else "None")
    return states


@dataclass
class Task:
    cfg: RunConfig
    job: object = None          # a submitit Job; None while it waits for a local worker
    state: str = "waiting"      # waiting | submitted | PENDING | RUNNING ... | done | failed
    reason: str = "None"        # Slurm's reason for the state (why a task is pending or held)
    gone_polls: int = 0         # polls in a row with no queue entry and no result
    gone_since: float = 0.0     # when it was first seen out of the queue without a result

    @property
    def name(self) -> str:
        return self.cfg.run_name()

    @property
    def job_id(self) -> str:
        return "-" if self.job is None else self.job.job_id

    @property
    def log(self) -> Path:
        return Path(self.job.paths.stderr)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def _outcome(task: Task):
    """("done", result dict) or ("failed", message) once the task wrote its result pickle, else None."""
    if not Path(task.job.paths.result_pickle).exists():
        return None
    err = task.job.exception()
    if err is None:
        return "done", task.job.result()
    lines = [line for line in str(err).splitlines() if line.strip() and not line.startswith("---")]
    return "failed", next((line.strip() for line in reversed(lines) if "Error" in line), type(err).__name__)


def _queue_states(launcher: str, tasks: list[Task]) -> dict[str, tuple[str, str]] | None:
    if launcher == "slurm":
        return slurm_queue_reasons([t.job_id for t in tasks])
    return {t.job_id: (t.job.state, "None") for t in tasks}    # local: RUNNING while the worker lives


def _active(launcher: str, state: str | None) -> bool:
    return state in ACTIVE if launcher == "slurm" else state == "RUNNING"


def _done_line(status: str, fd, train_seconds) -> str:
    return f"done, {status}" + ("" if fd is None else f", FD {fd:.3g}") + f", {train_seconds:.0f} s of training"


def _finished_on_disk(task: Task, runs_dir: Path) -> str | None:
    """The "done" line of a run whose folder is complete although no result pickle reached us."""
    import json

    from .results import load_run

    run = load_run(Path(runs_dir) / task.name, report=False)
    if run is None:
        return None
    try:
        fd = json.loads((run.dir / "yardstick.json").read_text())["measures"]["fd"]
    except (OSError, ValueError, KeyError, TypeError):
        fd = None
    return _done_line(run.summary["status"], fd, run.summary["train_seconds"])


def poll(launcher: str, tasks: list[Task], say, runs_dir: Path) -> bool:
    """Update the state of every submitted, unfinished task; `say` one line per change. False
    when the queue did not answer."""
    live = [t for t in tasks if t.job is not None and not t.finished]
    queue = _queue_states(launcher, live)
    for t in live:
        outcome = _outcome(t)
        if outcome is not None:
            t.state, detail = outcome
            if t.state == "done":
                say(t, _done_line(detail["status"], detail.get("fd"), detail["train_seconds"]))
            else:
                say(t, f"failed: {detail}; log {t.log}")
            continue
        if queue is None:                 # squeue did not answer: no news this time
            continue
        state, reason = queue.get(t.job_id, (None, "None"))
        if not _active(launcher, state):
            t.gone_polls += 1
            t.gone_since = t.gone_since or time.monotonic()
            if t.gone_polls >= 3 and time.monotonic() - t.gone_since >= GONE_SECONDS[launcher]:
                done = _finished_on_disk(t, runs_dir)
                t.state = "done" if done else "failed"
                say(t, done or f"failed: it ended without a result ({(state or 'no longer queued').lower()}: "
                               f"cancelled, killed or out of memory); log {t.log}")
            continue
        t.gone_polls, t.gone_since = 0, 0.0
        if (state, reason) != (t.state, t.reason):
            t.state, t.reason = state, reason
            say(t, state.lower() + ("" if reason in ("None", "") else f" ({reason})"))
    return queue is not None


def wait(launcher: str, tasks: list[Task], say, runs_dir: Path, start=None, parallelism: int = 0,
         out=None) -> None:
    """Poll until every task is done or failed. Locally, `start` submits a waiting task whenever
    fewer than `parallelism` run (submitit's local executor starts whatever it is given)."""
    silent = 0                                # polls in a row that squeue did not answer
    while True:
        running = sum(1 for t in tasks if t.job is not None and not t.finished)
        for t in [t for t in tasks if t.job is None][:max(0, parallelism - running)]:
            start(t)
            say(t, "running")
        silent = 0 if poll(launcher, tasks, say, runs_dir) else silent + 1
        if silent and silent % 30 == 0:
            print(f"squeue has not answered for {silent * POLL_SECONDS[launcher]:.0f} s; still waiting (the tasks "
                  f"run on; Ctrl-C stops only this command)", file=out or sys.stdout, flush=True)
        if all(t.finished for t in tasks):
            return
        time.sleep(POLL_SECONDS[launcher])


# ---- the command ----------------------------------------------------------------------------

def launch(runs: list[RunConfig], profile: str, launcher: str, data_dir: Path, runs_dir: Path, res: Resources,
           device: str | None = None, measure: bool = True, no_wait: bool = False, force: bool = False,
           out=None) -> int:
    """Submit the runs that are neither complete (unless `force`) nor in flight; wait for them
    unless `no_wait`. Prints one line per state change and a summary; returns 1 when a task
    failed, else 0."""
    from .results import load_run

    out = out or sys.stdout
    check_launcher(launcher)
    res.check()
    if launcher == "local" and no_wait:
        raise ConfigError("--no-wait is not allowed with --launcher local: local tasks end with this command; "
                          "use --launcher slurm")
    device = task_device(launcher, device, res)
    if launcher == "slurm":
        check_partition(res.partition)
    check_writable(runs_dir)

    def say(task: Task, text: str) -> None:
        print(f"{task.name}: {text} (job {task.job_id})", file=out, flush=True)

    complete = [] if force else [c for c in runs if load_run(Path(runs_dir) / c.run_name(), report=False) is not None]
    earlier = in_flight([c for c in runs if c not in complete], runs_dir) if launcher == "slurm" else {}
    missing = [c for c in runs if c not in complete and c.run_name() not in earlier]
    print(f"{launcher}: {len(runs)} runs selected, {len(complete)} already complete, {len(earlier)} in flight, "
          f"{len(missing)} to submit", file=out, flush=True)
    for t in earlier.values():
        say(t, f"{t.state.lower()}, submitted earlier")

    def make(cfg: RunConfig) -> TrainTask:
        return TrainTask(cfg, profile, data_dir, runs_dir, device, measure, res.cpus_per_task, force)

    ex = executor(launcher, runs_dir, res)
    tasks = [Task(c) for c in missing]
    if launcher == "slurm" and tasks:
        jobs = submit_array(ex, [make(t.cfg) for t in tasks])
        for t, job in zip(tasks, jobs):
            t.job, t.state = job, "submitted"
        record_submissions(runs_dir, {t.name: t.job_id for t in tasks})
        print(f"submitted job array {tasks[0].job_id.split('_')[0]}: {len(tasks)} tasks, logs in "
              f"{jobs_folder(runs_dir)}", file=out, flush=True)
        for t in tasks:
            say(t, "submitted")
    if no_wait:
        if earlier or tasks:
            print("not waiting: run the same command again to see their states and submit what is missing",
                  file=out, flush=True)
        return 0

    def start(t: Task) -> None:
        t.job, t.state = ex.submit(make(t.cfg)), "RUNNING"

    tasks += earlier.values()
    try:
        wait(launcher, tasks, say, runs_dir, start, local_parallelism(res) if launcher == "local" else 0, out)
    except BaseException:                 # Ctrl-C: local workers end with the command, Slurm tasks run on
        if launcher == "local":
            for t in tasks:
                if t.job is not None and not t.finished:
                    t.job.cancel()
        raise
    failed = [t for t in tasks if t.state == "failed"]
    print(f"summary: {len(runs)} runs, {len(complete)} already complete, {len(tasks) - len(failed)} finished now, "
          f"{len(failed)} failed" + "".join(f"\n  failed: {t.name}, log {t.log}" for t in failed),
          file=out, flush=True)
    return 1 if failed else 0


def submit_array(ex, tasks: list[TrainTask]) -> list:
    """One job array; ConfigError with sbatch's own words when it refuses (a limit of the partition)."""
    from submitit.core.utils import FailedJobError

    try:
        with contextlib.redirect_stderr(io.StringIO()), ex.batch():   # submitit echoes sbatch's refusal there
            return [ex.submit(task) for task in tasks]
    except (FailedJobError, subprocess.CalledProcessError, OSError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        said = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
        raise ConfigError(f"sbatch refused the job array, nothing was submitted: {said}") from None


def in_flight(configs: list[RunConfig], runs_dir: Path) -> dict[str, Task]:
    """Runs whose latest Slurm submission is still queued or running, as Tasks to wait on."""
    import submitit

    recorded = read_submissions(runs_dir)
    ids = {c.run_name(): recorded[c.run_name()] for c in configs if c.run_name() in recorded}
    queue = slurm_queue(ids.values())
    if queue is None:
        raise ConfigError("squeue did not answer, so the runs still in flight are unknown and nothing was "
                          "submitted; try again when the Slurm controller answers")
    out = {}
    for cfg in configs:
        job_id = ids.get(cfg.run_name())
        if job_id is not None and queue.get(job_id) in ACTIVE:
            job = submitit.SlurmJob(folder=jobs_folder(runs_dir) / "%j", job_id=job_id)
            out[cfg.run_name()] = Task(cfg, job, queue[job_id])
    return out
