"""gen_core.launch through submitit's local executor: bad input refused before anything runs,
one task per run in worker processes, results identical to training in this process, state
lines, nothing complete retrained, a killed task resumed from its checkpoint.

The same paths on a real Slurm cluster: tests/test_launch_slurm.py.
"""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gen_core import launch
from gen_core.__main__ import main
from gen_core.config import ConfigError
from gen_core.grid import grid, override
from gen_core.results import load_or_train

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / os.environ.get("GEN_DATA_DIR", "data")          # real MNIST: `make data` writes it
TIMINGS = ("train_seconds", "images_per_second", "over_training_seconds", "seconds")


def mlp_a_runs() -> list:
    """The smoke grid's two MLP A GANs on MNIST (one epoch of 256 images each)."""
    return [c for c in grid("gan", "mnist", "smoke") if c.variant == "MLP A"]


def results_without_timings(run_dir: Path) -> dict:
    """Every results file of a run folder, with the wall-clock numbers taken out."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    out = {f: strip(json.loads((run_dir / f).read_text()))
           for f in ("config.json", "history.json", "summary.json", "yardstick.json")}
    out["model.pt"] = (run_dir / "model.pt").read_bytes()
    return out


# ---- bad input: one line, exit 2, nothing written --------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--launcher", "pbs"], "error: --launcher 'pbs' is not allowed; expected one of local, slurm"),
    (["--launcher", "local", "--no-wait"], "error: --no-wait is only used with --launcher slurm"),
    (["--partition", "gpu"], "error: --partition is only used with --launcher slurm"),
    (["--launcher", "local", "--mem", "8"], "error: --mem is only used with --launcher slurm"),
    (["--parallelism", "4"], "error: --parallelism is only used with --launcher local or slurm"),
    (["--time", "30"], "error: --time is only used with --launcher local or slurm"),
    (["--cpus-per-task", "2"], "error: --cpus-per-task is only used with --launcher local or slurm"),
    (["--launcher", "local", "--device", "cuda"], "error: --device cuda is not allowed with --launcher local, whose "
                                                  "workers train on the CPU"),
    (["--launcher", "local", "--cpus-per-task", "0"],
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
                   "login node, or use --launcher local"]
    assert not runs.exists()


def test_a_runs_folder_that_cannot_be_written_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the runs folder's parent should be")
    assert main(["--profile", "smoke", "--launcher", "local", "--runs-dir", str(blocker / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: runs folder {blocker / 'runs'} cannot be written (") and "--runs-dir" in err[0]


def test_resources_check_each_field():
    launch.Resources(time_min=1, cpus_per_task=1, gpus_per_task=0, mem_gb=1, parallelism=1).check()
    for field, bad in (("time_min", 0), ("mem_gb", 0), ("parallelism", 0), ("cpus_per_task", True),
                       ("gpus_per_task", 1.5)):
        with pytest.raises(ConfigError, match=f"^{launch.FLAGS[field]} {bad!r} is not allowed"):
            launch.Resources(**{field: bad}).check()


# ---- the local launcher ---------------------------------------------------------------------

def test_local_tasks_match_training_in_process_and_are_not_rerun(tmp_path):
    """Two worker processes train the two runs; each is bitwise what this process trains (one
    thread both ways); a second launch finds both complete and submits nothing."""
    configs = mlp_a_runs()
    out = io.StringIO()
    code = launch.launch(configs, "smoke", "local", DATA_DIR, tmp_path / "runs", launch.Resources(parallelism=2),
                         out=out)
    lines = out.getvalue().splitlines()
    assert code == 0, lines
    assert lines[0] == "local: 2 runs selected, 0 already complete, 0 in flight, 2 to submit"
    for cfg in configs:
        mine = [line for line in lines if line.startswith(cfg.run_name() + ":")]
        assert [line.split(": ")[1].split(",")[0].split(" (")[0] for line in mine] == ["running", "done"], mine
    assert lines[-1] == "summary: 2 runs, 0 already complete, 2 finished now, 0 failed"

    from gen_core.report.session import Context, measured_run
    ctx = Context("smoke", DATA_DIR, tmp_path / "here", False, "cpu")
    for cfg in configs:                                     # this process: torch threads = 1 (conftest)
        here = measured_run(cfg, ctx).dir
        assert results_without_timings(tmp_path / "runs" / cfg.run_name()) == results_without_timings(here)

    stamps = {c: (tmp_path / "runs" / c.run_name() / "summary.json").stat().st_mtime_ns for c in configs}
    again = io.StringIO()
    assert launch.launch(configs, "smoke", "local", DATA_DIR, tmp_path / "runs", launch.Resources(), out=again) == 0
    assert again.getvalue().splitlines() == [
        "local: 2 runs selected, 2 already complete, 0 in flight, 0 to submit",
        "summary: 2 runs, 2 already complete, 0 finished now, 0 failed"]
    assert stamps == {c: (tmp_path / "runs" / c.run_name() / "summary.json").stat().st_mtime_ns for c in configs}


def test_a_failing_task_is_reported_with_its_log_and_exit_1(tmp_path):
    """A run folder that is a file makes that task fail; the other run still finishes."""
    good, bad = mlp_a_runs()
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / bad.run_name()).write_text("not a folder")
    out = io.StringIO()
    code = launch.launch([good, bad], "smoke", "local", DATA_DIR, tmp_path / "runs", launch.Resources(), out=out,
                         measure=False)
    text = out.getvalue()
    assert code == 1, text
    failed = [line for line in text.splitlines() if line.startswith(f"{bad.run_name()}: failed: ")]
    assert len(failed) == 1 and ("NotADirectoryError" in failed[0] or "FileExistsError" in failed[0]), text
    log = Path(failed[0].split("; log ")[1].split(" (job")[0])
    assert log.exists() and "Traceback" in log.read_text()
    assert f"{good.run_name()}: done, complete" in text
    assert "summary: 2 runs, 0 already complete, 1 finished now, 1 failed" in text
    assert f"  failed: {bad.run_name()}, log {log}" in text


def job_of(cfg, printed: str) -> str:
    """The job id in the launcher's first line about `cfg`: "<run>: running (job 1234)"."""
    line = next(line for line in printed.splitlines() if line.startswith(cfg.run_name() + ": "))
    return line.rsplit("(job ", 1)[1].rstrip(")")


def _children(pid: int) -> list[int]:
    proc = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in proc.stdout.split()]


def test_a_killed_task_resumes_from_its_checkpoint_and_finished_runs_are_kept(tmp_path):
    """SIGKILL the worker of a 6-epoch run after its first checkpoint: that task fails without a
    result; launching again resumes it after the checkpoint's epoch and leaves the other run alone."""
    short = mlp_a_runs()[0]
    long = override(grid("gan", "mnist", "smoke")[-1], epochs=6, train_size=4096)    # DCGAN, ~2 s per epoch
    runs = tmp_path / "runs"
    load_or_train(short, DATA_DIR, runs, "cpu", progress=False)
    finished = (runs / short.run_name() / "summary.json").stat().st_mtime_ns
    out = io.StringIO()
    codes = []
    worker = threading.Thread(target=lambda: codes.append(launch.launch(
        [short, long], "smoke", "local", DATA_DIR, runs, launch.Resources(), out=out, measure=False)))
    worker.start()
    checkpoint = runs / long.run_name() / "checkpoint.pt"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert checkpoint.exists(), out.getvalue()
    job_id = job_of(long, out.getvalue())
    for pid in _children(int(job_id)):                        # the controller's child is the task
        os.kill(pid, signal.SIGKILL)
    worker.join(120)
    assert codes == [1], out.getvalue()
    assert f"{long.run_name()}: failed: it ended without a result" in out.getvalue()
    assert not (runs / long.run_name() / "summary.json").exists()

    again = io.StringIO()
    assert launch.launch([short, long], "smoke", "local", DATA_DIR, runs, launch.Resources(), out=again,
                         measure=False) == 0, again.getvalue()
    assert again.getvalue().splitlines()[0] == "local: 2 runs selected, 1 already complete, 0 in flight, 1 to submit"
    log = runs / "jobs" / job_of(long, again.getvalue()) / f"{job_of(long, again.getvalue())}_0_log.err"
    assert f"resuming {long.run_name()} after epoch" in log.read_text()
    summary = json.loads((runs / long.run_name() / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["epochs_done"] == 6
    assert (runs / short.run_name() / "summary.json").stat().st_mtime_ns == finished


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
    monkeypatch.setitem(launch.GONE_SECONDS, "slurm", 0.0)
    state = tmp_path / "state"
    fake_squeue(tmp_path, monkeypatch, f'if [ "$(cat {state})" = down ]; then echo "Unable to contact slurm '
                                      f'controller" >&2; exit 1; fi; echo "7_0 $(cat {state})"; echo "7_1 RUNNING"')
    task = launch.Task(mlp_a_runs()[0], FakeJob("7_0", tmp_path), "submitted")
    said = []

    def step(squeue_says):
        state.write_text(squeue_says)
        launch.poll("slurm", [task], lambda t, text: said.append(text), tmp_path / "runs")
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
    monkeypatch.setitem(launch.GONE_SECONDS, "slurm", 0.0)
    for state in ("REQUEUED", "STOPPED"):
        fake_squeue(tmp_path, monkeypatch, f'echo "8 {state} None"')
        task = launch.Task(mlp_a_runs()[0], FakeJob("8", tmp_path), "RUNNING")
        said = []
        for _ in range(5):
            launch.poll("slurm", [task], lambda t, text: said.append(text), tmp_path / "runs")
        assert task.state == state and said == [state.lower()]


def test_a_task_gone_without_result_whose_run_is_complete_on_disk_is_done(tmp_path, monkeypatch):
    """The result pickle has not reached this machine, but the run folder is complete: done."""
    monkeypatch.setitem(launch.GONE_SECONDS, "slurm", 0.0)
    fake_squeue(tmp_path, monkeypatch, 'exit 0')
    cfg = mlp_a_runs()[0]
    run = load_or_train(cfg, DATA_DIR, tmp_path / "runs", "cpu", progress=False)
    task = launch.Task(cfg, FakeJob("9_1", tmp_path), "RUNNING")
    said = []
    for _ in range(3):
        launch.poll("slurm", [task], lambda t, text: said.append(text), tmp_path / "runs")
    assert task.state == "done"
    assert said == [f"done, complete, {run.summary['train_seconds']:.0f} s of training"]     # not measured: no FD


def test_a_task_is_failed_only_after_the_grace_period(tmp_path, monkeypatch):
    monkeypatch.setitem(launch.GONE_SECONDS, "slurm", 3600.0)
    fake_squeue(tmp_path, monkeypatch, 'exit 0')
    task = launch.Task(mlp_a_runs()[0], FakeJob("9_2", tmp_path), "RUNNING")
    for _ in range(10):
        launch.poll("slurm", [task], lambda t, text: None, tmp_path / "runs")
    assert task.state == "RUNNING"


def test_squeue_answers_per_job_and_skips_purged_ones(tmp_path, monkeypatch):
    """One call per job id; a purged job ("Invalid job id") is left out, an unreachable controller is None."""
    fake_squeue(tmp_path, monkeypatch, 'case "$*" in *" 5") echo "5_0 RUNNING None"; echo "5_1 PENDING Priority";; '
                                       '*" 6") echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;; '
                                       '*) echo "Unable to contact slurm controller" >&2; exit 1;; esac')
    assert launch.slurm_queue(["5_0", "6_2", "5_1"]) == {"5_0": "RUNNING", "5_1": "PENDING"}
    assert launch.slurm_queue(["5_0", "9_0"]) is None
    assert launch.slurm_queue([]) == {}


def test_nothing_is_submitted_when_squeue_cannot_say_what_is_in_flight(tmp_path, monkeypatch):
    fake_squeue(tmp_path, monkeypatch, 'echo "Unable to contact slurm controller" >&2; exit 1')
    cfg = mlp_a_runs()[0]
    launch.record_submissions(tmp_path / "runs", {cfg.run_name(): "12_0"})
    with pytest.raises(ConfigError, match="^squeue did not answer, so the runs still in flight are unknown"):
        launch.in_flight([cfg], tmp_path / "runs")


def test_task_device_keeps_cpu_tasks_off_gpus():
    cpu_only, with_gpu = launch.Resources(), launch.Resources(gpus_per_task=1)
    assert launch.task_device("slurm", None, cpu_only) == "cpu"           # a node's GPUs it did not ask for
    assert launch.task_device("slurm", None, with_gpu) is None             # the node's default: cuda
    assert launch.task_device("slurm", "cuda:1", with_gpu) == "cuda:1"
    assert launch.task_device("local", None, cpu_only) == "cpu"
    with pytest.raises(ConfigError, match="^--device cuda is not allowed with --launcher local"):
        launch.task_device("local", "cuda", cpu_only)


def test_a_requeued_task_resumes_and_is_not_requeued_without_progress(tmp_path):
    """checkpoint() requeues a copy that resumes (never forced) and remembers the epoch it
    resumes from; with no epoch finished since, it declines (None), so a task whose epoch
    outlasts --time cannot loop."""
    import torch

    cfg = mlp_a_runs()[0]
    task = launch.TrainTask(cfg, "smoke", DATA_DIR, tmp_path / "runs", "cpu", True, 1, force=True)
    assert task.checkpoint() is None                                        # no epoch finished at all
    (tmp_path / "runs" / cfg.run_name()).mkdir(parents=True)
    torch.save({"epoch": 2}, tmp_path / "runs" / cfg.run_name() / "checkpoint.pt")
    again = task.checkpoint().function
    assert (again.resumed_from, again.force, again.config, again.threads) == (2, False, task.config, 1)
    assert again.checkpoint() is None                                       # still epoch 2
    torch.save({"epoch": 3}, tmp_path / "runs" / cfg.run_name() / "checkpoint.pt")
    assert again.checkpoint().function.resumed_from == 3


def test_force_trains_complete_runs_again(tmp_path):
    cfg = mlp_a_runs()[0]
    runs = tmp_path / "runs"
    load_or_train(cfg, DATA_DIR, runs, "cpu", progress=False)
    before = (runs / cfg.run_name() / "summary.json").stat().st_mtime_ns
    out = io.StringIO()
    assert launch.launch([cfg], "smoke", "local", DATA_DIR, runs, launch.Resources(), measure=False, force=True,
                         out=out) == 0
    assert out.getvalue().splitlines()[0] == "local: 1 runs selected, 0 already complete, 0 in flight, 1 to submit"
    assert (runs / cfg.run_name() / "summary.json").stat().st_mtime_ns != before
