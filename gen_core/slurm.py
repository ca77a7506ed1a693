"""The grid on a Slurm cluster: one job array, one task per run, through submitit. (On one machine
the worker pool trains runs side by side: gen_core/workers.py.)

    python -m gen_core --launcher slurm --family gan --dataset mnist --seeds 3 --partition gpu
    python -m gen_core --launcher slurm --no-wait ...     # submit, print the job id, exit;
                                                          # the same command later reports and fills gaps

Each task is the funnel's (`runs.TrainTask`: the run's lock, a checkpoint per epoch, the
yardstick). A run already complete is not submitted, nor one an earlier submission still has
queued or running (<runs>/jobs/submissions.json records them, beside submitit's logs). On a time
limit or a preemption submitit calls `SlurmTask.checkpoint`, which requeues the task; it resumes
from the run's last finished epoch, as a task killed outright does when submitted again.
"""
from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, RunConfig
from .errors import fail
from .runs import TrainTask, finished_line, status
from .store import share_runs_folder

LAUNCHERS = ("slurm",)             # --launcher local was retired: the worker pool (GEN_WORKERS) trains locally
JOBS = "jobs"                      # under the runs folder: submitit's folder and our record
SUBMISSIONS = "submissions.json"
POLL_SECONDS = 2.0                 # squeue is a call to the controller: not too often
# a task that leaves the queue without a result is failed after this long: a shared file system
# may show the result file on the login node well after the node wrote it
GONE_SECONDS = 60.0
SLURM_TIME_MIN = 60                # default time limit of a Slurm task: long runs requeue and resume hourly
MAX_REQUEUES = 100                 # time limits a task may hit (submitit's default, 3, ends long runs early);
                                   # a task that finished no epoch since its last requeue is not requeued
# Slurm states of a task still in the queue; anything else that leaves no result failed
# (squeue --states=all shows finished tasks for a few minutes: MinJobAge)
ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
          "RESIZING", "SUSPENDED", "STOPPED", "STAGE_OUT", "SIGNALING", "RESV_DEL_HOLD")
ARRAY_LIMIT = 256                  # submitit's default array parallelism: tasks of one array running at once


@dataclass(frozen=True)
class Resources:
    """What each task asks for."""
    partition: str | None = None        # None: the cluster's default partition
    time_min: int | None = None         # per task (None: 60 minutes); near the limit
                                        # the task checkpoints and is requeued
    cpus_per_task: int = 1              # torch threads of the task
    gpus_per_task: int = 0
    mem_gb: int | None = None           # None: the partition's default
    parallelism: int | None = None      # tasks running at once (None: up to ARRAY_LIMIT)

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
        fail(FLAGS[key], value, f"a whole number >= {low}", sep=" ")


class SlurmTask(TrainTask):
    """A run's task on a Slurm node, which submitit requeues on a time limit or a preemption."""

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
        again = SlurmTask(RunConfig.from_dict(self.config), self.profile, self.data_dir, self.runs_dir, self.device,
                          self.measure, self.threads)
        again.resumed_from = epoch
        return submitit.helpers.DelayedSubmission(again)


def task_device(device: str | None, res: Resources) -> str | None:
    """Where tasks train: the --device given; tasks that asked for no GPU on the CPU, even on a node
    whose GPUs they could see; else the node's default."""
    if device is not None:
        return device
    return "cpu" if res.gpus_per_task == 0 else None


# ---- before anything is submitted: one line for each thing that would make every task fail ---

def check_launcher(name: str) -> str:
    if name == "local":
        raise ConfigError("--launcher local was retired: on one machine the worker pool trains runs side by side "
                          "(python -m gen_core --workers N, or GEN_WORKERS=N); --launcher takes only slurm")
    if name not in LAUNCHERS:
        fail("--launcher", name, "slurm (on one machine, the worker pool: --workers N or GEN_WORKERS=N)", sep=" ")
    return name


def slurm_partitions() -> list[str]:
    """The partitions `sinfo` lists; ConfigError when sbatch is missing or Slurm does not answer."""
    for tool in ("sbatch", "sinfo", "squeue"):
        if shutil.which(tool) is None:
            raise ConfigError(f"--launcher slurm needs {tool} on the PATH and it is not there; run this on a "
                              f"Slurm login node, or train here in the worker pool (without --launcher)")
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


def executor(runs_dir: Path, res: Resources):
    import submitit

    folder = jobs_folder(runs_dir) / "%j"
    ex = submitit.SlurmExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
    optional = {"partition": res.partition, "gpus_per_task": res.gpus_per_task, "array_parallelism": res.parallelism,
                "mem": f"{res.mem_gb}GB" if res.mem_gb else None}          # unset: the cluster's defaults
    ex.update_parameters(time=res.time_min or SLURM_TIME_MIN, cpus_per_task=res.cpus_per_task, ntasks_per_node=1,
                         job_name="gen_core", **{k: v for k, v in optional.items() if v})
    return ex


def slots(res: Resources, n_tasks: int) -> int:
    """Tasks running at once: as many as the array may run (ARRAY_LIMIT)."""
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


def slurm_queue(job_ids) -> dict[str, tuple[str, str]] | None:
    """Task id ("123_4", or "123" for a lone job) -> (its Slurm state, Slurm's reason for it: "Resources",
    "JobHeldAdmin", "None"), for the tasks squeue still knows; None when squeue cannot answer (the
    controller is unreachable, say). One call per job: squeue refuses a whole list when one id in it
    was already purged."""
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
    job: object = None          # a submitit Job; None before it is submitted
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


def _done_line(status: str, fd, train_seconds) -> str:
    return "done, " + finished_line(status, fd, train_seconds, " of training")


def _finished_on_disk(task: Task, runs_dir: Path) -> str | None:
    """The "done" line of a run whose folder is complete although no result pickle reached us."""
    import json

    from .results import load_run

    run = load_run(Path(runs_dir) / task.name, report=False)
    if run is None:
        return None
    try:
        run.yardstick = json.loads((run.dir / "yardstick.json").read_text())["measures"]
    except (OSError, ValueError, KeyError, TypeError):
        pass                                    # not measured (--no-measure), or not yet readable here
    return _done_line(status(run), run.yardstick.get("fd"), run.summary["train_seconds"])


def poll(tasks: list[Task], say, runs_dir: Path) -> bool:
    """Update the state of every submitted, unfinished task; `say` one line per change. False
    when the queue did not answer."""
    live = [t for t in tasks if t.job is not None and not t.finished]
    queue = slurm_queue([t.job_id for t in live])
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
        if state not in ACTIVE:
            t.gone_polls += 1
            t.gone_since = t.gone_since or time.monotonic()
            if t.gone_polls >= 3 and time.monotonic() - t.gone_since >= GONE_SECONDS:
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


def wait(tasks: list[Task], say, runs_dir: Path, out=None) -> None:
    """Poll until every task is done or failed."""
    silent = 0                                # polls in a row that squeue did not answer
    while True:
        silent = 0 if poll(tasks, say, runs_dir) else silent + 1
        if silent and silent % 30 == 0:
            print(f"squeue has not answered for {silent * POLL_SECONDS:.0f} s; still waiting (the tasks "
                  f"run on; Ctrl-C stops only this command)", file=out or sys.stdout, flush=True)
        if all(t.finished for t in tasks):
            return
        time.sleep(POLL_SECONDS)


# ---- the command ----------------------------------------------------------------------------

def launch(runs: list[RunConfig], profile: str, data_dir: Path, runs_dir: Path, res: Resources,
           device: str | None = None, measure: bool = True, no_wait: bool = False, force: bool = False,
           out=None) -> int:
    """Submit the runs that are neither complete (unless `force`) nor in flight as one job array;
    wait for them unless `no_wait`. Prints one line per state change and a summary; returns 1 when a
    task failed, else 0. The data is read and checked before anything is submitted."""
    from .runs import check_data, pending

    out = out or sys.stdout
    res.check()
    device = task_device(device, res)
    check_partition(res.partition)
    share_runs_folder(runs_dir)

    def say(task: Task, text: str) -> None:
        print(f"{task.name}: {text} (job {task.job_id})", file=out, flush=True)

    todo = pending(runs, runs_dir, measure, force, profile)     # complete, and measured if asked: not submitted
    check_data({c.dataset for c in todo}, data_dir)       # one line here, not one failed task per run
    complete = [c for c in runs if c not in todo]
    earlier = in_flight(todo, runs_dir)
    missing = [c for c in todo if c.run_name() not in earlier]
    print(f"slurm: {len(runs)} runs selected, {len(complete)} already complete, {len(earlier)} in flight, "
          f"{len(missing)} to submit", file=out, flush=True)
    for t in earlier.values():
        say(t, f"{t.state.lower()}, submitted earlier")
    tasks = [Task(c) for c in missing]
    if tasks:
        jobs = submit_array(executor(runs_dir, res), [SlurmTask(t.cfg, profile, data_dir, runs_dir, device, measure,
                                                                res.cpus_per_task, force) for t in tasks])
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
    tasks += earlier.values()
    wait(tasks, say, runs_dir, out)                # Ctrl-C stops only this command: the tasks run on
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
        state, reason = queue.get(job_id, (None, "None"))
        if job_id is not None and state in ACTIVE:
            job = submitit.SlurmJob(folder=jobs_folder(runs_dir) / "%j", job_id=job_id)
            out[cfg.run_name()] = Task(cfg, job, state, reason)
    return out
