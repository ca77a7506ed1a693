"""`python -m gen_core`: errors are one line on stderr with exit status 2, --list prints the grid."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torchvision.datasets

import gen_core.results
from gen_core.__main__ import main, select_runs
from gen_core.grid import full_grid, grid


def run_cli(*args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PROFILE", "GEN_DATA_DIR", "GEN_RUNS_DIR")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "gen_core", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# ---- as a subprocess ------------------------------------------------------------------------

def test_bogus_profile_exits_2_with_one_line(tmp_path):
    proc = run_cli("--profile", "bogus", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "'bogus'" in lines[0] and "smoke" in lines[0]
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []           # nothing written


def test_list_smoke_prints_29_runs(tmp_path):
    proc = run_cli("--list", "--profile", "smoke", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 29                          # 6 + 5 + 6 + 5 + 3 + 4
    names = [c.run_name() for c in full_grid("smoke")]
    assert [line.split()[0] for line in lines] == names      # same hashes in another process
    assert all(line.endswith("epochs=1 train_size=256") for line in lines)
    assert list(tmp_path.iterdir()) == []            # --list trains nothing


# ---- in process -----------------------------------------------------------------------------

def test_list_one_chapter_full(capsys, monkeypatch):
    monkeypatch.delenv("PROFILE", raising=False)
    assert main(["--list", "--profile", "full", "--family", "gan", "--dataset", "cifar10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [c.run_name() for c in grid("gan", "cifar10", "full")]
    assert all(line.endswith("epochs=25 train_size=all") for line in lines)   # train_size 0 prints 'all'


def test_profile_comes_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("PROFILE", "bogus")
    assert main(["--list"]) == 2
    assert "PROFILE='bogus'" in capsys.readouterr().err


def test_unknown_variant(capsys):
    code = main(["--list", "--profile", "smoke", "--family", "vae", "--dataset", "mnist", "--variant", "MLP Z"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: no run of the smoke grid matches") and "variant=MLP Z" in err
    assert len(err.strip().splitlines()) == 1


def test_select_runs_filters():
    runs = select_runs("smoke", family="vae", dataset="mnist", variant="MLP C", latent=32)
    assert [(c.variant, c.latent_dim) for c in runs] == [("MLP C", 32)]
    # a family alone spans both datasets: 6 + 5 VAE runs
    assert len(select_runs("smoke", family="vae")) == 11
    # a latent size alone: z=200 is MLP A and MLP B on MNIST (GAN, WGAN) and the WGAN CIFAR MLP = 5
    assert len(select_runs("smoke", latent=200)) == 5
    with pytest.raises(Exception, match="latent=3"):
        select_runs("smoke", latent=3)


def test_argparse_rejects_unknown_family(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--family", "diffusion"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_missing_data_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    class Offline:
        def __init__(self, *args, **kwargs):
            raise ConnectionError("offline")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    gen_core.data.cached_split.cache_clear()
    code = main(["--profile", "smoke", "--family", "vae", "--dataset", "mnist", "--variant", "MLP B",
                 "--data-dir", str(tmp_path / "empty"), "--runs-dir", str(tmp_path / "runs"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: mnist is not in ") and str(tmp_path / "empty") in err
    assert '"Offline use"' in err and "../shared" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_trains_selected_runs_and_reports_status(tmp_path, capsys, monkeypatch, tiny_cfg):
    # route the grid to one tiny config and the data to synthetic splits
    from conftest import make_split
    cfg = tiny_cfg("vae", batch_size=16, n_samples=8, n_eval_samples=16)
    monkeypatch.setattr("gen_core.__main__.select_runs", lambda *a, **k: [cfg])
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(200 if train and not size else 32, name))
    argv = ["--profile", "smoke", "--runs-dir", str(tmp_path), "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"[1/1] {cfg.run_name()}: complete, FD ")
    assert (tmp_path / cfg.run_name() / "summary.json").exists()
    # the yardstick ran too: the run is measured and the smoke classifier is cached beside it
    assert (tmp_path / cfg.run_name() / "yardstick.json").exists()
    assert len(list(tmp_path.glob("classifier-mnist-*/model.pt"))) == 1


def test_a_run_with_a_corrupt_model_is_reported_and_retrained(tmp_path, capfd, monkeypatch, tiny_cfg):
    from conftest import make_split
    cfg = tiny_cfg("vae", batch_size=16, n_samples=8, n_eval_samples=16)
    monkeypatch.setattr("gen_core.__main__.select_runs", lambda *a, **k: [cfg])
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(200 if train and not size else 32, name))
    argv = ["--profile", "smoke", "--runs-dir", str(tmp_path), "--device", "cpu"]
    assert main(argv) == 0
    run_dir = tmp_path / cfg.run_name()
    def measured():                                              # yardstick.json without its timings
        y = json.loads((run_dir / "yardstick.json").read_text())["measures"]
        y["over_training_seconds"] = None
        y["over_training"] = [{**p, "train_seconds": None} for p in y["over_training"]]
        return y

    first = measured()
    (run_dir / "yardstick.json").unlink()
    (run_dir / "model.pt").write_bytes(b"")
    capfd.readouterr()
    assert main(argv) == 0
    captured = capfd.readouterr()
    assert f"run {run_dir}: model.pt is unreadable" in captured.err and "training it again" in captured.err
    assert captured.out.startswith(f"[1/1] {cfg.run_name()}: complete, FD ")
    assert measured() == first                                    # same seed: same weights, same FD


def test_seeds_runs_every_selected_configuration_with_seeds_0_to_n_minus_1():
    from gen_core.__main__ import select_runs

    runs = select_runs("quick", "gan", "mnist", seeds=3)
    assert len(runs) == 5 * 3
    assert sorted({r.seed for r in runs}) == [0, 1, 2]
    assert len({r.run_name() for r in runs}) == 15                     # each seed is its own run folder
    assert [r.seed for r in select_runs("full", "vae", "mnist", "MLP A", 50, seeds=1)] == [0]


@pytest.mark.parametrize("value", ["0", "-2"])
def test_bad_seeds_is_one_line(value, capsys):
    assert main(["--profile", "quick", "--seeds", value, "--list"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --seeds {int(value)} is not allowed; expected a whole number of seeds >= 1\n"


def test_estimate_times_each_configuration_once_and_trains_nothing(tmp_path, capsys, monkeypatch):
    """Seeds share one timing: 2 configurations x 3 seeds, each timed at 60 s -> 6 min in total."""
    import gen_core.cost as cost
    from conftest import make_split

    timed = []
    monkeypatch.setenv("GEN_WORKERS", "1")                # in this process: no wall-time line
    monkeypatch.setattr(cost, "estimate_run", lambda cfg, split, device, steps, warmup: timed.append(cfg) or 60.0)
    monkeypatch.setattr("gen_core.data.cached_split", lambda name, root, train, device, size: make_split(32, name))
    argv = ["--profile", "full", "--family", "gan", "--dataset", "mnist", "--variant", "DCGAN", "--estimate",
            "--runs-dir", str(tmp_path / "runs"), "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert [c.latent_dim for c in timed] == [64, 256] and {c.seed for c in timed} == {0}
    assert "  gan mnist DCGAN, z=64: 60 s per run, 3.0 min for 3 seeds" in out
    assert out.rstrip().endswith("total: 6.0 min of training for 6 runs on cpu")
    assert not (tmp_path / "runs").exists()


def test_estimate_under_a_launcher_or_workers_adds_the_wall_time(tmp_path, capsys, monkeypatch):
    """6 runs of 60 s (2 configurations x 3 seeds): Slurm with 4 at once takes 2 rounds, 2 min of wall
    time; with no parallelism limit it runs all 6 at once, 60 s."""
    import gen_core.cost as cost
    from conftest import make_split

    monkeypatch.setattr(cost, "estimate_run", lambda cfg, split, device, steps, warmup: 60.0)
    monkeypatch.setattr("gen_core.data.cached_split", lambda name, root, train, device, size: make_split(32, name))
    argv = ["--profile", "full", "--family", "gan", "--dataset", "mnist", "--variant", "DCGAN", "--estimate",
            "--runs-dir", str(tmp_path / "runs"), "--device", "cpu"]
    assert main(argv + ["--launcher", "slurm", "--parallelism", "4"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(
        "wall time with 4 tasks at once: 2.0 min (longest first; each task as fast as here)")
    assert main(argv + ["--launcher", "slurm"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("wall time with 6 tasks at once: 60 s (longest first; each "
                                                     "task as fast as here)")
    assert main(argv + ["--workers", "3"]) == 0                 # the worker pool: 3 slots of 60 s runs, twice
    assert capsys.readouterr().out.rstrip().endswith("wall time with 3 tasks at once: 2.0 min (longest first; "
                                                     "each task as fast as here)")
    assert not (tmp_path / "runs").exists()


