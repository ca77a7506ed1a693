"""gen_core.runs, the funnel below the report: bad data and a bad runs folder stop everything in one
line before anything trains (in the worker pool, in one process and before a Slurm submission),
and the one finished-run line."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gen_core import runs, slurm
from gen_core.__main__ import main
from gen_core.config import ConfigError
from gen_core.errors import DataError

from support import DATA_DIR


@pytest.fixture
def truncated_mnist(tmp_path) -> Path:
    """A data folder whose MNIST training images are cut to 1,000 bytes; every other file is the real one."""
    root = tmp_path / "data"
    (root / "MNIST" / "raw").mkdir(parents=True)
    for path in (DATA_DIR / "MNIST" / "raw").iterdir():
        (root / "MNIST" / "raw" / path.name).symlink_to(path)
    (root / "cifar-10-batches-py").symlink_to(DATA_DIR / "cifar-10-batches-py")
    broken = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    broken.unlink()
    broken.write_bytes((DATA_DIR / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes()[:1000])
    return root


def trained_anything(runs_dir: Path) -> bool:
    return runs_dir.exists() and any(p.name.startswith(("vae-", "gan-", "wgan-")) for p in runs_dir.iterdir())


def test_check_data_names_the_broken_file(truncated_mnist):
    runs.check_data({"cifar10"}, truncated_mnist)                       # CIFAR-10 is whole: no error
    with pytest.raises(DataError, match=f"^cannot read MNIST file {truncated_mnist}/MNIST/raw/train-images-idx3-ubyte"):
        runs.check_data({"mnist", "cifar10"}, truncated_mnist)


@pytest.mark.parametrize("workers", ["2", "1"])
def test_bad_data_stops_the_cli_in_one_line_before_anything_trains(workers, truncated_mnist, tmp_path, capsys,
                                                                    monkeypatch):
    """The whole smoke grid (12 CIFAR-10 runs first in the pool's order, then 17 MNIST runs): nothing
    trains, one line names the file, exit 2 — in the pool and in this process."""
    monkeypatch.setenv("GEN_WORKERS", workers)
    out = tmp_path / "runs"
    assert main(["--profile", "smoke", "--data-dir", str(truncated_mnist), "--runs-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot read MNIST file ") and "train-images" in err[0], err
    assert not trained_anything(out)


def test_bad_data_is_refused_before_sbatch(truncated_mnist, tmp_path, capsys, monkeypatch):
    """Stand-in sinfo and squeue answer; sbatch would leave a mark. The broken file stops the command first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "sbatch-was-called"
    for tool, script in (("sinfo", "echo debug"), ("squeue", "exit 0"), ("sbatch", f"touch {marker}; exit 1")):
        (bin_dir / tool).write_text(f"#!/bin/sh\n{script}\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "runs"
    argv = ["--profile", "smoke", "--launcher", "slurm", "--data-dir", str(truncated_mnist), "--runs-dir", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot read MNIST file "), err
    assert not marker.exists() and not trained_anything(out)


@pytest.mark.parametrize("workers", ["2", "1"])
def test_a_runs_folder_that_is_a_file_is_one_line(workers, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GEN_WORKERS", workers)
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    for target in (blocker, blocker / "inside"):
        assert main(["--profile", "smoke", "--family", "gan", "--dataset", "mnist", "--runs-dir", str(target)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: runs folder {target} cannot be used: {blocker} is a file, not a folder "
                       f"(GEN_RUNS_DIR or --runs-dir)"]
    assert blocker.read_text() == "not a folder"


def test_setup_refuses_a_runs_folder_that_is_a_file_and_accepts_one_still_to_be_made(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        runs.setup("smoke", "data", tmp_path / "file" / "runs")
    ctx = runs.setup("smoke", "data", tmp_path / "new" / "runs", "1", device="cpu")
    assert (ctx.profile, ctx.runs_dir, ctx.force, ctx.device) == ("smoke", tmp_path / "new" / "runs", True, "cpu")
    assert not (tmp_path / "new").exists()                                  # nothing made before training


@pytest.mark.parametrize("args, expected", [
    (("complete", 36.512, 41.4), "complete, FD 36.5 (41 s)"),
    (("complete", None, 7.6), "complete (8 s)"),
    (("diverged", None, None), "diverged"),
    (("complete", 0.0123456, 100.0, " of training"), "complete, FD 0.0123 (100 s of training)"),
])
def test_the_finished_run_line(args, expected):
    assert runs.finished_line(*args) == expected


def test_slurm_tasks_run_the_funnel_and_requeue():
    """The Slurm task is the funnel's task, with submitit's requeue on top."""
    assert issubclass(slurm.SlurmTask, runs.TrainTask) and hasattr(slurm.SlurmTask, "checkpoint")
    assert not hasattr(runs.TrainTask, "checkpoint")


def test_pending_reads_the_yardstick_key_of_the_profile(tmp_path):
    """A run measured by another classifier, N or yardstick code is pending again; a diverged run, whose
    yardstick writes empty measures, is done once measured (it used to stay pending forever)."""
    from gen_core.yardstick import profile_key
    from support import mlp_a_runs

    cfg = mlp_a_runs()[0]
    run_dir = tmp_path / cfg.run_name()
    run_dir.mkdir()
    (run_dir / "summary.json").write_text('{"status": "diverged"}')
    assert runs.pending([cfg], tmp_path, measure=True, force=False, profile="smoke") == [cfg]      # not measured
    key = profile_key("mnist", "smoke")
    (run_dir / "yardstick.json").write_text(f'{{"key": "{key}", "measures": {{}}}}')
    assert runs.pending([cfg], tmp_path, measure=True, force=False, profile="smoke") == []
    assert profile_key("mnist", "quick") != key                     # another classifier and N
    assert runs.pending([cfg], tmp_path, measure=True, force=False, profile="quick") == [cfg]
    (run_dir / "yardstick.json").write_text('{"key": "stale", "measures": {}}')
    assert runs.pending([cfg], tmp_path, measure=True, force=False, profile="smoke") == [cfg]
    assert runs.pending([cfg], tmp_path, measure=True, force=False) == []           # no profile: any key


def test_a_diverged_run_is_written_as_measured(tmp_path):
    from types import SimpleNamespace

    from gen_core.results import Run
    from gen_core.yardstick import measure_run
    from support import mlp_a_runs

    run = Run(mlp_a_runs()[0], tmp_path, {"status": "diverged"}, {})
    assert measure_run(run, SimpleNamespace(key="k1"), "cpu") == {}
    assert json.loads((tmp_path / "yardstick.json").read_text()) == {"key": "k1", "measures": {}}


@pytest.mark.parametrize("text, expected", [
    ('{"fd": 58.0, "wall_seconds": 2838.5}', {"fd": 58.0, "wall_seconds": 2838.5}),
    ('{"fd": 58.0, "wall_sec', None),      # cut off while it was written
    ('[58.0]', None),                      # JSON, but not an object
    (None, None),                          # never written: the run has not finished
])
def test_read_summary_is_the_object_or_none(tmp_path, text, expected):
    """One reader for summary.json, shared by the pool, the pending check and the banner's training record."""
    if text is not None:
        (tmp_path / "summary.json").write_text(text)
    assert runs.read_summary(tmp_path) == expected
