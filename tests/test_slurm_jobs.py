"""gen_core.slurm on a real single-node Slurm (the `slurm_cluster` fixture, tests/slurm_cluster.py):
the smoke chapter through a job array equals training here, a killed task resumes from its
checkpoint, a preempted one is requeued by submitit and resumes, --seeds 3 reaches the chapter
table, and bad input is refused before anything is submitted.

CI sets GEN_REQUIRE_SLURM=1, which turns the fixture's skip into a failure.
"""
from __future__ import annotations

import io
import json
import math
import subprocess
import time
from pathlib import Path

import pytest

from gen_core import slurm
from gen_core.__main__ import main
from gen_core.grid import grid, override
from gen_core.report import findings, session, tables
from gen_core.report.intervals import fmt
from gen_core.runs import Context, measured_run
from gen_core.results import load_or_train
from support import DATA_DIR, job_of, mlp_a_runs, results_without_timings

pytestmark = pytest.mark.slurm


def slurm_args(cluster, runs: Path) -> list[str]:
    return ["--launcher", "slurm", "--partition", cluster.partition, "--runs-dir", str(runs),
            "--data-dir", str(DATA_DIR), "--time", "10"]


def long_run():
    """A DCGAN on 4,096 images for 6 epochs: about 2 s per epoch on one thread, long enough to stop."""
    return override(grid("gan", "mnist", "smoke")[-1], epochs=6, train_size=4096)


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not path.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert path.exists(), f"{path} did not appear within {timeout} s"


def test_the_smoke_chapter_through_slurm_equals_training_here(slurm_cluster, tmp_path, capsys):
    configs = grid("gan", "mnist", "smoke")
    runs = tmp_path / "runs"
    assert main(["--profile", "smoke", "--family", "gan", "--dataset", "mnist", *slurm_args(slurm_cluster, runs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "slurm: 5 runs selected, 0 already complete, 0 in flight, 5 to submit"
    array = lines[1].split()[3].rstrip(":")
    assert lines[1] == f"submitted job array {array}: 5 tasks, logs in {runs.resolve() / 'jobs'}"
    for i, cfg in enumerate(configs):
        mine = [line for line in lines if line.startswith(cfg.run_name() + ": ")]
        assert mine[0] == f"{cfg.run_name()}: submitted (job {array}_{i})"
        assert mine[-1].startswith(f"{cfg.run_name()}: done, complete, FD ") and mine[-1].endswith(f"(job {array}_{i})")
    assert lines[-1] == "summary: 5 runs, 0 already complete, 5 finished now, 0 failed"

    ctx = Context("smoke", DATA_DIR, tmp_path / "here", False, "cpu")
    for cfg in configs:                                  # this process runs one torch thread, as each task
        assert results_without_timings(runs / cfg.run_name()) == results_without_timings(measured_run(cfg, ctx).dir)


def test_a_cancelled_task_resumes_when_submitted_again_and_finished_runs_stay(slurm_cluster, tmp_path):
    """An array of two 6-epoch runs beside one finished run: rerunning with --no-wait reports both
    in flight; cancelling one task after its first checkpoint and submitting again resumes it
    there, bitwise as if never stopped, and touches neither the finished run nor the other task."""
    short, long = mlp_a_runs()[0], long_run()
    other = override(long, seed=1)
    runs = tmp_path / "runs"
    load_or_train(short, DATA_DIR, runs, "cpu", progress=False)
    finished = (runs / short.run_name() / "summary.json").stat().st_mtime_ns
    res = slurm.Resources(partition=slurm_cluster.partition, time_min=10)
    selected = [short, long, other]

    out = io.StringIO()
    assert slurm.launch(selected, "smoke", DATA_DIR, runs, res, measure=False, no_wait=True, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "slurm: 3 runs selected, 1 already complete, 0 in flight, 2 to submit"
    assert lines[-1] == "not waiting: run the same command again to see their states and submit what is missing"
    job, job_other = job_of(long, out.getvalue()), job_of(other, out.getvalue())
    array = job.split("_")[0]
    assert (job, job_other) == (f"{array}_0", f"{array}_1")                 # one array, one task per run
    assert json.loads((runs / "jobs" / slurm.SUBMISSIONS).read_text()) == {long.run_name(): job,
                                                                             other.run_name(): job_other}

    again = io.StringIO()                                 # while they run: reported, not submitted twice
    assert slurm.launch(selected, "smoke", DATA_DIR, runs, res, measure=False, no_wait=True,
                         out=again) == 0
    assert again.getvalue().splitlines()[0] == "slurm: 3 runs selected, 1 already complete, 2 in flight, 0 to submit"
    assert {job_of(c, again.getvalue()) for c in (long, other)} == {job, job_other}
    assert all(", submitted earlier (job " in line for line in again.getvalue().splitlines()[1:3])

    wait_for(runs / long.run_name() / "checkpoint.pt")
    subprocess.run(["scancel", job], check=True)
    deadline = time.time() + 60
    while (slurm.slurm_queue([job]) or {}).get(job, (None,))[0] in slurm.ACTIVE and time.time() < deadline:
        time.sleep(0.5)
    assert not (runs / long.run_name() / "summary.json").exists()

    resumed = io.StringIO()
    assert slurm.launch(selected, "smoke", DATA_DIR, runs, res, measure=False, out=resumed) == 0
    text = resumed.getvalue()
    assert text.splitlines()[0] in ("slurm: 3 runs selected, 1 already complete, 1 in flight, 1 to submit",
                                    "slurm: 3 runs selected, 2 already complete, 0 in flight, 1 to submit"), text
    second = job_of(long, text)
    assert second.split("_")[0] != array
    log = (runs / "jobs" / second / f"{second}_0_log.err").read_text()
    assert f"resuming {long.run_name()} after epoch" in log
    assert (runs / short.run_name() / "summary.json").stat().st_mtime_ns == finished      # not retrained
    assert json.loads((runs / other.run_name() / "summary.json").read_text())["epochs_done"] == 6
    # resumed bitwise: the same curves as six epochs without a stop, trained here
    here = load_or_train(long, DATA_DIR, tmp_path / "here", "cpu", progress=False)
    assert json.loads((runs / long.run_name() / "history.json").read_text()) == here.history


def test_a_preempted_task_is_requeued_by_submitit_and_resumes(slurm_cluster, tmp_path):
    """USR2 is Slurm's warning before a time limit or a preemption: submitit calls
    TrainTask.checkpoint, requeues the same task id, and it resumes from the last epoch."""
    long = long_run()
    runs = tmp_path / "runs"
    res = slurm.Resources(partition=slurm_cluster.partition, time_min=10)
    out = io.StringIO()
    assert slurm.launch([long], "smoke", DATA_DIR, runs, res, measure=False, no_wait=True, out=out) == 0
    job = job_of(long, out.getvalue())
    wait_for(runs / long.run_name() / "checkpoint.pt")
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    # Slurm holds a requeued job back for about two minutes; once it is back in the queue,
    # let it start now (the requeue itself is what this test checks)
    deadline = time.time() + 60
    while "Requeued job" not in _submitit_log(runs, job) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], capture_output=True)

    waited = io.StringIO()                                # the same command: waits on the job in flight
    assert slurm.launch([long], "smoke", DATA_DIR, runs, res, measure=False, out=waited) == 0
    text = waited.getvalue()
    assert text.splitlines()[0] == "slurm: 1 runs selected, 0 already complete, 1 in flight, 0 to submit"
    assert f"{long.run_name()}: done, complete" in text
    assert "Caught signal SIGUSR2" in _submitit_log(runs, job) and "Requeued job" in _submitit_log(runs, job)
    assert f"resuming {long.run_name()} after epoch" in (runs / "jobs" / job / f"{job}_0_log.err").read_text()
    assert json.loads((runs / long.run_name() / "summary.json").read_text())["epochs_done"] == 6


def _submitit_log(runs: Path, job: str) -> str:
    """submitit's own lines (signals, requeues) go to the task's stdout log."""
    path = runs / "jobs" / job / f"{job}_0_log.out"
    return path.read_text() if path.exists() else ""


def test_seeds_3_through_slurm_reach_the_chapter_table(slurm_cluster, tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["--profile", "smoke", "--family", "gan", "--dataset", "mnist", "--variant", "MLP A", "--latent", "100",
            "--seeds", "3", *slurm_args(slurm_cluster, runs)]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "summary: 3 runs, 0 already complete, 3 finished now, 0 failed"
    seed0 = next(c for c in grid("gan", "mnist", "smoke") if c.variant == "MLP A" and c.latent_dim == 100)
    assert sorted(p.name for p in runs.glob("gan-mnist-mlpa-z100-*")) == sorted(
        override(seed0, seed=s).run_name() for s in range(3))

    ctx = Context("smoke", DATA_DIR, runs, False, "cpu")
    chapter = session.chapter_runs([seed0], "gan_mnist", ctx)        # the profile's one seed, and two found
    assert [r.config.seed for r in chapter] == [0, 1, 2]
    table = tables.summary_table(chapter)
    assert [seed for _, seed in table.index] == ["mean of 3 seeds", "seed 0", "seed 1", "seed 2"]
    fds = [r.yardstick["fd"] for r in chapter]
    logs = [math.log(f) for f in fds]                              # FD's mean is geometric, its interval on log FD
    log_mean = sum(logs) / 3
    log_half = 4.303 * (sum((v - log_mean) ** 2 for v in logs) / 2) ** 0.5 / 3 ** 0.5   # t(0.975, 2) sd / sqrt(3)
    assert table["FD"].iloc[0] == (f"{fmt(math.exp(log_mean))} "
                                   f"[{fmt(math.exp(log_mean - log_half))}, {fmt(math.exp(log_mean + log_half))}]")
    for i, r in enumerate(chapter):                                # each seed with its own bootstrap interval
        lo, hi = r.yardstick["fd_ci"]
        assert table["FD"].iloc[1 + i] == f"{fmt(r.yardstick['fd'])} [{fmt(lo)}, {fmt(hi)}]"
    text = findings.chapter_findings(chapter, session.real_side("mnist", ctx), "smoke")
    assert "Every configuration ran with 3 seeds" in text and "The smoke profile trains 1 seed per configuration; the others were found" in text


def test_a_request_sbatch_refuses_is_one_line_and_nothing_is_recorded(slurm_cluster, tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["--profile", "smoke", "--family", "gan", "--dataset", "mnist", "--variant", "MLP A",
            *slurm_args(slurm_cluster, runs), "--mem", "100000000"]              # 100 PB per task
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: sbatch refused the job array, nothing was submitted: "), err
    assert not (runs / "jobs" / slurm.SUBMISSIONS).exists()


def test_an_unknown_partition_is_one_line_before_anything_is_submitted(slurm_cluster, tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["--profile", "smoke", "--launcher", "slurm", "--partition", "nope", "--runs-dir", str(runs)]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: --partition 'nope' is not a partition Slurm knows; this cluster has: {slurm_cluster.partition}"]
    assert not runs.exists()


def test_squeue_of_a_job_this_cluster_never_had_is_empty_not_an_error(slurm_cluster):
    """What a job purged after MinJobAge looks like: left out, so its run is submitted again."""
    assert slurm.slurm_queue(["987654_0"]) == {}
