"""gen_core.slurm without a cluster: bad options refused in one line before anything runs (and
`--launcher local` retired in favour of the worker pool), the task state machine against a
stand-in `squeue`, Slurm's requeue of a task that made progress.

The same paths on a real Slurm cluster: tests/test_slurm_jobs.py.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from gen_core import slurm
from gen_core.__main__ import main
from gen_core.config import ConfigError
from gen_core.results import load_or_train

from support import DATA_DIR, mlp_a_runs


# ---- bad input: one line, exit 2, nothing written --------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--launcher", "pbs"], "error: --launcher 'pbs' is not allowed; expected slurm (on one machine, the worker "
                            "pool: --workers N or GEN_WORKERS=N)"),
    (["--launcher", "local"], "error: --launcher local was retired: on one machine the worker pool trains runs side "
                              "by side (python -m gen_core --workers N, or GEN_WORKERS=N); --launcher takes only slurm"),
    (["--no-wait"], "error: --no-wait is only used with --launcher slurm"),
    (["--partition", "gpu"], "error: --partition is only used with --launcher slurm"),
    (["--mem", "8"], "error: --mem is only used with --launcher slurm"),
    (["--parallelism", "4"], "error: --parallelism is only used with --launcher slurm"),
    (["--time", "30"], "error: --time is only used with --launcher slurm"),
    (["--cpus-per-task", "2"], "error: --cpus-per-task is only used with --launcher slurm"),
    (["--launcher", "slurm", "--workers", "2"], "error: --workers is only used without --launcher"),
    (["--launcher", "slurm", "--cpus-per-task", "0"],
     "error: --cpus-per-task 0 is not allowed; expected a whole number >= 1"),
    (["--launcher", "slurm", "--gpus-per-task", "-1"],
     "error: --gpus-per-task -1 is not allowed; expected a whole number >= 0"),
])
def test_bad_launcher_options_are_one_line(args, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))           # no sbatch: the checks above come first
    runs = tmp_path / "runs"
    assert main(["--profile", "smoke", "--runs-dir", str(runs), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err
    assert not runs.exists()


def test_slurm_without_sbatch_is_refused_before_anything(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    runs = tmp_path / "runs"
    assert main(["--profile", "smoke", "--launcher", "slurm", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --launcher slurm needs sbatch on the PATH and it is not there; run this on a Slurm "
                   "login node, or train here in the worker pool (without --launcher)"]
    assert not runs.exists()


def test_a_runs_folder_that_cannot_be_written_is_refused(tmp_path):
    from gen_core.store import share_runs_folder

    blocker = tmp_path / "file"
    blocker.write_text("a file where the runs folder's parent should be")
    with pytest.raises(ConfigError, match=f"^runs folder {blocker / 'runs'} cannot be written \\(.*--runs-dir"):
        share_runs_folder(blocker / "runs")
    share_runs_folder(tmp_path / "runs")                  # a new folder: made, with its shared locks
    assert (tmp_path / "runs" / ".locks").is_dir()


def test_resources_check_each_field():
    slurm.Resources(time_min=1, cpus_per_task=1, gpus_per_task=0, mem_gb=1, parallelism=1).check()
    for field, bad in (("time_min", 0), ("mem_gb", 0), ("parallelism", 0), ("cpus_per_task", True),
                       ("gpus_per_task", 1.5)):
        with pytest.raises(ConfigError, match=f"^{slurm.FLAGS[field]} {bad!r} is not allowed"):
            slurm.Resources(**{field: bad}).check()


def test_task_device_keeps_cpu_tasks_off_gpus():
    cpu_only, with_gpu = slurm.Resources(), slurm.Resources(gpus_per_task=1)
    assert slurm.task_device(None, cpu_only) == "cpu"           # a node's GPUs it did not ask for
    assert slurm.task_device(None, with_gpu) is None             # the node's default: cuda
    assert slurm.task_device("cuda:1", with_gpu) == "cuda:1"


# ---- the state machine against a stand-in squeue ----------------------------------------------

def fake_squeue(tmp_path, monkeypatch, script: str) -> None:
    """Put an executable `squeue` running `script` (sh) first on the PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "squeue").write_text("#!/bin/sh\n" + script + "\n")
    (bin_dir / "squeue").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


class FakeJob:
    def __init__(self, job_id, folder: Path):
        self.job_id = job_id
        self.paths = type("Paths", (), {"result_pickle": folder / f"{job_id}_result.pkl",
                                        "stderr": folder / f"{job_id}_log.err"})()


def test_poll_follows_squeue_and_fails_a_task_gone_without_result(tmp_path, monkeypatch):
    """PENDING (and why) -> RUNNING -> (squeue down: no news) -> CANCELLED: failed only on the third
    poll without a result, since the result may reach a shared file system late."""
    monkeypatch.setattr(slurm, "GONE_SECONDS", 0.0)
    state = tmp_path / "state"
    fake_squeue(tmp_path, monkeypatch, f'if [ "$(cat {state})" = down ]; then echo "Unable to contact slurm '
                                      f'controller" >&2; exit 1; fi; echo "7_0 $(cat {state})"; echo "7_1 RUNNING"')
    task = slurm.Task(mlp_a_runs()[0], FakeJob("7_0", tmp_path), "submitted")
    said = []

    def step(squeue_says):
        state.write_text(squeue_says)
        slurm.poll([task], lambda t, text: said.append(text), tmp_path / "runs")
        return task.state

    assert step("PENDING Priority") == "PENDING" and said == ["pending (Priority)"]
    assert step("PENDING Priority") == "PENDING" and said == ["pending (Priority)"]        # no change, no line
    assert step("PENDING Resources") == "PENDING" and said[-1] == "pending (Resources)"
    assert step("RUNNING None") == "RUNNING" and said[-1] == "running"
    assert step("down") == "RUNNING" and len(said) == 3
    assert step("CANCELLED") == "RUNNING" and step("CANCELLED") == "RUNNING"
    assert step("CANCELLED") == "failed"
    assert said[-1] == (f"failed: it ended without a result (cancelled: cancelled, killed or out of memory); "
                        f"log {tmp_path / '7_0_log.err'}")


def test_a_requeued_or_stopped_task_is_still_in_flight(tmp_path, monkeypatch):
    monkeypatch.setattr(slurm, "GONE_SECONDS", 0.0)
    for state in ("REQUEUED", "STOPPED"):
        fake_squeue(tmp_path, monkeypatch, f'echo "8 {state} None"')
        task = slurm.Task(mlp_a_runs()[0], FakeJob("8", tmp_path), "RUNNING")
        said = []
        for _ in range(5):
            slurm.poll([task], lambda t, text: said.append(text), tmp_path / "runs")
        assert task.state == state and said == [state.lower()]


def test_a_task_gone_without_result_whose_run_is_complete_on_disk_is_done(tmp_path, monkeypatch):
    """The result pickle has not reached this machine, but the run folder is complete: done."""
    monkeypatch.setattr(slurm, "GONE_SECONDS", 0.0)
    fake_squeue(tmp_path, monkeypatch, 'exit 0')
    cfg = mlp_a_runs()[0]
    run = load_or_train(cfg, DATA_DIR, tmp_path / "runs", "cpu", progress=False)
    task = slurm.Task(cfg, FakeJob("9_1", tmp_path), "RUNNING")
    said = []
    for _ in range(3):
        slurm.poll([task], lambda t, text: said.append(text), tmp_path / "runs")
    assert task.state == "done"
    assert said == [f"done, complete ({run.summary['train_seconds']:.0f} s of training)"]     # not measured: no FD


def test_a_task_is_failed_only_after_the_grace_period(tmp_path, monkeypatch):
    monkeypatch.setattr(slurm, "GONE_SECONDS", 3600.0)
    fake_squeue(tmp_path, monkeypatch, 'exit 0')
    task = slurm.Task(mlp_a_runs()[0], FakeJob("9_2", tmp_path), "RUNNING")
    for _ in range(10):
        slurm.poll([task], lambda t, text: None, tmp_path / "runs")
    assert task.state == "RUNNING"


def test_squeue_answers_per_job_and_skips_purged_ones(tmp_path, monkeypatch):
    """One call per job id; a purged job ("Invalid job id") is left out, an unreachable controller is None."""
    fake_squeue(tmp_path, monkeypatch, 'case "$*" in *" 5") echo "5_0 RUNNING None"; echo "5_1 PENDING Priority";; '
                                       '*" 6") echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;; '
                                       '*) echo "Unable to contact slurm controller" >&2; exit 1;; esac')
    assert slurm.slurm_queue(["5_0", "6_2", "5_1"]) == {"5_0": ("RUNNING", "None"), "5_1": ("PENDING", "Priority")}
    assert slurm.slurm_queue(["5_0", "9_0"]) is None
    assert slurm.slurm_queue([]) == {}


def test_nothing_is_submitted_when_squeue_cannot_say_what_is_in_flight(tmp_path, monkeypatch):
    fake_squeue(tmp_path, monkeypatch, 'echo "Unable to contact slurm controller" >&2; exit 1')
    cfg = mlp_a_runs()[0]
    slurm.record_submissions(tmp_path / "runs", {cfg.run_name(): "12_0"})
    with pytest.raises(ConfigError, match="^squeue did not answer, so the runs still in flight are unknown"):
        slurm.in_flight([cfg], tmp_path / "runs")


def test_a_job_squeue_lists_as_cancelled_or_completed_is_not_in_flight(tmp_path, monkeypatch):
    """squeue --states=all still lists a finished job for a few minutes (MinJobAge): one that ended
    CANCELLED, COMPLETED, FAILED or TIMEOUT without a result must be submitted again, not waited on."""
    cfg = mlp_a_runs()[0]
    slurm.record_submissions(tmp_path / "runs", {cfg.run_name(): "14_0"})
    for ended in ("CANCELLED", "COMPLETED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"):
        fake_squeue(tmp_path, monkeypatch, f'echo "14_0 {ended} None"')
        assert slurm.in_flight([cfg], tmp_path / "runs") == {}, ended
    for active in ("PENDING", "RUNNING", "REQUEUED", "SUSPENDED"):
        fake_squeue(tmp_path, monkeypatch, f'echo "14_0 {active} None"')
        assert list(slurm.in_flight([cfg], tmp_path / "runs")) == [cfg.run_name()], active


def test_a_requeued_task_resumes_and_is_not_requeued_without_progress(tmp_path):
    """checkpoint() requeues a copy that resumes (never forced) and remembers the epoch it
    resumes from; with no epoch finished since, it declines (None), so a task whose epoch
    outlasts --time cannot loop."""
    import torch

    cfg = mlp_a_runs()[0]
    task = slurm.SlurmTask(cfg, "smoke", DATA_DIR, tmp_path / "runs", "cpu", True, 1, force=True)
    assert task.checkpoint() is None                                        # no epoch finished at all
    (tmp_path / "runs" / cfg.run_name()).mkdir(parents=True)
    torch.save({"epoch": 2}, tmp_path / "runs" / cfg.run_name() / "checkpoint.pt")
    again = task.checkpoint().function
    assert (again.resumed_from, again.force, again.config, again.threads) == (2, False, task.config, 1)
    assert again.checkpoint() is None                                       # still epoch 2
    torch.save({"epoch": 3}, tmp_path / "runs" / cfg.run_name() / "checkpoint.pt")
    assert again.checkpoint().function.resumed_from == 3


