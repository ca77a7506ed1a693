"""The single-node Slurm fixture (tests/slurm_cluster.py) runs real jobs: sbatch, submitit, arrays, scancel."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slurm

TIMEOUT_S = 60


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout.strip()


def _sbatch(*args: str) -> str:
    return _run("sbatch", "--parsable", *args).split(";")[0]


def _in_queue(job_id: str) -> str:
    """The job's squeue state ('' once it has left the queue)."""
    return _run("squeue", "-h", "-j", job_id, "-o", "%T") if job_id else ""


def _wait_gone(job_id: str, timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while (state := _in_queue(job_id)) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not state, f"job {job_id} still {state} after {timeout} s"


def _job_state(job_id: str) -> str:
    """JobState from scontrol (finished jobs stay known for MinJobAge=300 s)."""
    out = _run("scontrol", "-o", "show", "job", job_id)
    return next(f.split("=", 1)[1] for f in out.split() if f.startswith("JobState="))


def _wait_done(job, timeout: float = TIMEOUT_S) -> None:
    """job.done() with a deadline: without accounting a job that dies without a result pickle is never done."""
    deadline = time.monotonic() + timeout
    while not job.done():
        assert time.monotonic() < deadline, f"submitit job {job.job_id} not done after {timeout} s ({job.state})"
        time.sleep(0.5)


def test_sbatch_wrap_writes_a_file(slurm_cluster, tmp_path):
    target = tmp_path / "hello.txt"
    job_id = _sbatch("-p", slurm_cluster.partition, "-o", str(tmp_path / "out.log"),
                     "--wrap", f"hostname > {target}")
    _wait_gone(job_id)
    assert _job_state(job_id) == "COMPLETED"
    assert target.read_text().strip() == slurm_cluster.hostname


def test_submitit_returns_a_result(slurm_cluster, tmp_path):
    submitit = pytest.importorskip("submitit")

    def answer():
        return 6 * 7

    executor = submitit.AutoExecutor(folder=tmp_path / "logs", cluster="slurm")
    executor.update_parameters(slurm_partition=slurm_cluster.partition, timeout_min=5, cpus_per_task=1, mem_gb=1)
    job = executor.submit(answer)
    _wait_done(job)
    assert job.result() == 42
    # the result pickle appears while the job is still RUNNING (submitit's epilogue): wait for the queue
    _wait_gone(job.job_id)
    assert _job_state(job.job_id) == "COMPLETED"


def test_submitit_job_array(slurm_cluster, tmp_path):
    submitit = pytest.importorskip("submitit")

    def square_plus(x):
        return x * x + 1

    executor = submitit.AutoExecutor(folder=tmp_path / "logs", cluster="slurm")
    executor.update_parameters(slurm_partition=slurm_cluster.partition, timeout_min=5, cpus_per_task=1,
                               slurm_array_parallelism=2)
    jobs = executor.map_array(square_plus, [2, 3])
    assert len(jobs) == 2 and len({job.job_id.split("_")[0] for job in jobs}) == 1  # one array
    for job in jobs:
        _wait_done(job)
    assert [job.result() for job in jobs] == [5, 10]


def test_scancel_stops_a_running_job(slurm_cluster, tmp_path):
    job_id = _sbatch("-p", slurm_cluster.partition, "-o", str(tmp_path / "out.log"), "--wrap", "sleep 300")
    deadline = time.monotonic() + TIMEOUT_S
    while (state := _in_queue(job_id)) != "RUNNING":
        assert time.monotonic() < deadline, f"job {job_id} never ran (state {state!r})"
        time.sleep(0.3)
    _run("scancel", job_id)
    _wait_gone(job_id, timeout=30)
    assert _job_state(job_id) == "CANCELLED"
    # and the sleep itself is gone
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        assert not (cmdline[:2] == [b"sleep", b"300"] and f"SLURM_JOB_ID={job_id}".encode() in environ), \
            f"pid {proc.name} of job {job_id} survived scancel"
