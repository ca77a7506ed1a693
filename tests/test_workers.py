"""gen_core.workers: the grid's runs in single-thread worker processes. Results bitwise those
of training in this process, one line per finished run, nothing done twice, a failing run
reported while the others finish, a killed worker resumed by the same command, bad input
refused in one line."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gen_core import runs, workers
from gen_core.classifier import classifier_config, is_trained
from gen_core.__main__ import main
from gen_core.config import ConfigError
from gen_core.grid import grid, override
from gen_core.results import load_or_train

from support import DATA_DIR, ROOT, TIMINGS, mlp_a_runs, results_without_timings


def finished_lines(text: str) -> dict[str, str]:
    """run name -> what its "[k/n] <run>: ..." line says."""
    out = {}
    for line in text.splitlines():
        if line.startswith("[") and "] " in line:
            name, _, said = line.split("] ", 1)[1].partition(": ")
            out[name] = said
    return out


def test_workers_match_training_in_process_and_do_nothing_twice(tmp_path):
    configs = mlp_a_runs()
    out = io.StringIO()
    assert workers.train_in_pool(configs, "smoke", DATA_DIR, tmp_path / "runs", 2, out=out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0] == ("workers: 2 runs selected, 0 already done, 2 to train or measure in 2 single-thread "
                        "worker processes")
    # the classifier first, in a worker of its own: its line comes before any run's
    clf = json.loads((tmp_path / "runs" / classifier_config("mnist", "smoke").run_name() / "summary.json").read_text())
    assert lines[1].startswith(f"classifier mnist (LeNet): test accuracy {clf['test_accuracy']:.1%} ("), lines
    said = finished_lines(out.getvalue())
    assert sorted(said) == sorted(c.run_name() for c in configs)
    for cfg in configs:
        fd = json.loads((tmp_path / "runs" / cfg.run_name() / "yardstick.json").read_text())["measures"]["fd"]
        assert said[cfg.run_name()].startswith(f"complete, FD {fd:.3g} ("), said
    assert lines[-1] == "summary: 2 runs, 0 already done, 2 finished now, 0 failed"

    from gen_core.runs import Context, measured_run
    ctx = Context("smoke", DATA_DIR, tmp_path / "here", False, "cpu")
    for cfg in configs:                                     # this process: torch threads = 1 (conftest)
        here = measured_run(cfg, ctx).dir
        assert results_without_timings(tmp_path / "runs" / cfg.run_name()) == results_without_timings(here)

    stamps = {c: (tmp_path / "runs" / c.run_name() / "summary.json").stat().st_mtime_ns for c in configs}
    again = io.StringIO()
    assert workers.train_in_pool(configs, "smoke", DATA_DIR, tmp_path / "runs", 2, out=again) == 0
    assert again.getvalue().splitlines() == [
        "workers: 2 runs selected, 2 already done, 0 to train or measure in 0 single-thread worker processes"]
    assert stamps == {c: (tmp_path / "runs" / c.run_name() / "summary.json").stat().st_mtime_ns for c in configs}


def test_a_complete_run_without_its_yardstick_is_measured_not_retrained(tmp_path):
    cfg = mlp_a_runs()[0]
    run = load_or_train(cfg, DATA_DIR, tmp_path, "cpu", progress=False)
    assert runs.pending([cfg], tmp_path, measure=False, force=False) == []
    assert runs.pending([cfg], tmp_path, measure=True, force=False) == [cfg]
    assert runs.pending([cfg], tmp_path, measure=False, force=True) == [cfg]
    stamp = (run.dir / "summary.json").stat().st_mtime_ns
    assert workers.train_in_pool([cfg], "smoke", DATA_DIR, tmp_path, 2, out=io.StringIO()) == 0
    assert (run.dir / "yardstick.json").exists()
    assert (run.dir / "summary.json").stat().st_mtime_ns == stamp


def test_a_truncated_results_file_is_work_to_do_not_done(tmp_path):
    """The pool judges a run by reading its files: a summary.json or yardstick.json cut short is pending
    (the worker then reports it with its path and trains or measures again), a whole one is done."""
    cfg = mlp_a_runs()[0]
    run_dir = tmp_path / "runs" / cfg.run_name()
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text('{"status": "complete"}')
    (run_dir / "yardstick.json").write_text('{"key": "k", "measures": {}}')
    assert runs.pending([cfg], tmp_path / "runs", measure=True, force=False) == []
    (run_dir / "yardstick.json").write_text('{"key": "k", "meas')
    assert runs.pending([cfg], tmp_path / "runs", measure=True, force=False) == [cfg]
    assert runs.pending([cfg], tmp_path / "runs", measure=False, force=False) == []
    (run_dir / "summary.json").write_text('{"status": "comp')
    assert runs.pending([cfg], tmp_path / "runs", measure=False, force=False) == [cfg]


def test_a_failing_run_is_reported_and_the_others_finish(tmp_path):
    good, bad = mlp_a_runs()
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / bad.run_name()).write_text("not a folder")
    out = io.StringIO()
    assert workers.train_in_pool([good, bad], "smoke", DATA_DIR, tmp_path / "runs", 2, measure=False, out=out) == 1
    said = finished_lines(out.getvalue())
    assert said[good.run_name()].startswith("complete (")
    assert said[bad.run_name()].startswith("failed: NotADirectoryError") or \
        said[bad.run_name()].startswith("failed: FileExistsError"), said
    assert out.getvalue().splitlines()[-1] == f"summary: 2 runs, 0 already done, 1 finished now, 1 failed: {bad.run_name()}"


def _spawned_workers() -> list[int]:
    """This process's children that are multiprocessing's spawned workers (not its resource tracker)."""
    pids = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split()
    return [int(p) for p in pids if "spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]


def test_a_killed_worker_is_reported_and_the_same_command_resumes(tmp_path, capfd):
    short = mlp_a_runs()[0]
    long = override(grid("gan", "mnist", "smoke")[-1], epochs=6, train_size=4096)    # DCGAN, ~2 s per epoch
    runs = tmp_path / "runs"
    load_or_train(short, DATA_DIR, runs, "cpu", progress=False)
    finished = (runs / short.run_name() / "summary.json").stat().st_mtime_ns
    codes, out = [], io.StringIO()
    pool = threading.Thread(target=lambda: codes.append(workers.train_in_pool(
        [short, long], "smoke", DATA_DIR, runs, 2, measure=False, out=out)))
    pool.start()
    checkpoint = runs / long.run_name() / "checkpoint.pt"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert checkpoint.exists(), out.getvalue()
    for pid in _spawned_workers():
        os.kill(pid, signal.SIGKILL)
    pool.join(120)
    assert codes == [1], out.getvalue()
    err = capfd.readouterr().err
    assert "error: a worker process died (killed, or out of memory); 1 run did not finish. Run the same command " \
           "again" in err
    assert not (runs / long.run_name() / "summary.json").exists()

    again = io.StringIO()
    assert workers.train_in_pool([short, long], "smoke", DATA_DIR, runs, 2, measure=False, out=again) == 0
    assert again.getvalue().splitlines()[0].startswith("workers: 2 runs selected, 1 already done, 1 to train")
    assert f"resuming {long.run_name()} after epoch" in capfd.readouterr().err
    summary = json.loads((runs / long.run_name() / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["epochs_done"] == 6
    assert (runs / short.run_name() / "summary.json").stat().st_mtime_ns == finished


# ---- how many workers, and bad input -----------------------------------------------------------

def test_default_workers_one_per_cpu_on_a_cpu_one_on_a_gpu(monkeypatch):
    monkeypatch.delenv("GEN_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert workers.default_workers("cpu") == 3
    assert workers.default_workers("cuda") == 1 and workers.default_workers("cuda:1") == 1
    monkeypatch.setenv("GEN_WORKERS", "5")
    assert workers.default_workers("cpu") == 5
    assert workers.default_workers("cuda") == 1        # the workers would train on the CPU


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", ""])
def test_bad_worker_counts_are_one_line(value, monkeypatch):
    monkeypatch.setenv("GEN_WORKERS", value)
    with pytest.raises(ConfigError, match=r"^GEN_WORKERS='.*' is not allowed; expected a whole number of worker "
                                          r"processes >= 1 \(1 trains in this process\)$"):
        workers.default_workers("cpu")


@pytest.mark.parametrize("args, expected", [
    (["--workers", "0"], "error: --workers='0' is not allowed; expected a whole number of worker processes >= 1"),
    (["--workers", "2", "--launcher", "slurm"], "error: --workers is only used without --launcher"),
    (["--workers", "2", "--device", "cuda"], "error: --workers 2 is not allowed with --device cuda: the workers "
                                             "train on the CPU; on a GPU use --workers 1"),
])
def test_bad_worker_options_are_one_line(args, expected, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["--profile", "smoke", "--family", "gan", "--dataset", "mnist", "--runs-dir", str(runs), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err
    assert not runs.exists()


def test_the_cli_trains_in_the_pool_by_default_on_a_cpu(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GEN_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert main(["--profile", "smoke", "--family", "gan", "--dataset", "mnist", "--variant", "MLP A",
                 "--runs-dir", str(tmp_path), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("workers: 2 runs selected, 0 already done, 2 to train or measure in 2 single-thread")
    assert len(finished_lines(out)) == 2


STOPPABLE_POOL_SCRIPT = """
import sys
import gen_core.__main__ as cli
from gen_core.grid import grid, override
dcgan = override(grid("gan", "mnist", "smoke")[-1], epochs=40, train_size=4096)     # minutes of work
cli.select_runs = lambda *args: [dcgan, override(dcgan, seed=1)]
sys.exit(cli.main(["--profile", "smoke", "--runs-dir", sys.argv[1], "--no-measure", "--workers", "2"]))
"""


@pytest.mark.parametrize("signum, whole_group", [
    (signal.SIGINT, True),           # Ctrl-C: the terminal signals the process group
    (signal.SIGTERM, False),         # `kill PID`: the command alone (the workers used to train on until their run ended)
    (signal.SIGTERM, True),          # a scheduler's cancel: every process (the workers die before the pool's loop looks)
], ids=["ctrl-c", "kill", "kill-group"])
def test_a_signal_stops_the_pool_with_one_line_and_no_worker_left(tmp_path, signum, whole_group):
    """Ctrl-C or SIGTERM: the workers ignore Ctrl-C and are stopped by the pool, the command says how to
    resume and exits 128 + the signal's number, with no traceback from any process."""
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-c", STOPPABLE_POOL_SCRIPT, str(runs)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "GEN_DATA_DIR": str(DATA_DIR)})
    deadline = time.time() + 180
    while not list(runs.glob("*/checkpoint.pt")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert list(runs.glob("*/checkpoint.pt")), proc.communicate()
    (os.killpg if whole_group else os.kill)(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum], err
    assert err.strip().splitlines()[-1] == workers.INTERRUPTED and "Traceback" not in err, err
    left = ["?"]
    for _ in range(50):            # the resource tracker exits once every process holding its pipe is gone
        left = subprocess.run(["pgrep", "-a", "-s", str(proc.pid)], capture_output=True, text=True).stdout.splitlines()
        if not left:
            break
        time.sleep(0.2)
    assert left == [], left
    assert not list(runs.glob("*/summary.json"))


def test_a_worker_refuses_a_run_whose_name_changed_since_the_pool_named_it(tmp_path, monkeypatch):
    """Training code edited while the pool runs changes the runs' hashes: the worker says so rather
    than train under a name the pool does not know."""
    import queue

    from gen_core.runs import TrainTask

    cfg = grid("vae", "mnist", "smoke")[0]
    task = TrainTask(cfg, "smoke", DATA_DIR, str(tmp_path / "runs"), "cpu", False, 1)
    monkeypatch.setattr(workers, "_events", queue.Queue())
    stale = cfg.run_name()[:-12] + "0" * 12
    with pytest.raises(ConfigError, match=rf"^the training code changed while the pool ran \(this run is now "
                                          rf"{cfg.run_name()}, not {stale}\); run the same command again"):
        workers._run_task(task, stale)
    assert workers._events.empty() and not (tmp_path / "runs").exists()     # nothing started


def test_changed_training_code_stops_the_pool_with_one_line(tmp_path, monkeypatch, capsys):
    """The parent names the runs with stale hashes (as before an edit); the spawned workers hash the
    code as it is: the first refusal stops the pool, rather than one failure per queued run."""
    configs = [c for c in grid("vae", "mnist", "smoke")][:3]
    real = {c.run_name(): c for c in configs}
    monkeypatch.setattr(type(configs[0]), "run_name", lambda self: "stale-" + "0" * 12)
    out = io.StringIO()
    assert workers.train_in_pool(configs, "smoke", DATA_DIR, tmp_path / "runs", 2, measure=False, out=out) == 1
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(said) == 1, err
    assert said[0].startswith("error: the training code changed while the pool ran (this run is now ")
    assert said[0].endswith("; run the same command again to train the new code (0 of 3 runs finished before)")
    assert "failed:" not in out.getvalue()
    assert not any((tmp_path / "runs" / name / "summary.json").exists() for name in real)


# ---- realized against estimated time -------------------------------------------------------------

def test_a_workers_estimate_leaves_its_run_as_if_never_timed(tmp_path, monkeypatch):
    """A worker times a few steps of a run before training it; train.setup seeds every random stream
    again, so the run comes out bit for bit as trained alone. A run too short to time, or one already
    trained (the pool only measures it), gets no estimate."""
    from gen_core.runs import TrainTask

    cfg = mlp_a_runs()[0]                        # 1 epoch of 256 images, batch 128: 2 steps
    task = TrainTask(cfg, "smoke", DATA_DIR, str(tmp_path / "pool"), "cpu", False, 1)
    assert workers.estimate_task(task) is None                 # 2 steps < 40 * (8 + 3)
    monkeypatch.setattr(workers, "ESTIMATE_SHARE", 0)           # estimate it all the same
    assert workers.estimate_task(task) > 0
    task()
    alone = load_or_train(cfg, DATA_DIR, tmp_path / "alone", "cpu", progress=False).dir
    pool = tmp_path / "pool" / cfg.run_name()
    for name in ("history.json", "config.json", "model.pt"):
        assert (pool / name).read_bytes() == (alone / name).read_bytes(), name
    strip = lambda d: {k: v for k, v in json.loads((d / "summary.json").read_text()).items()  # noqa: E731
                       if k not in TIMINGS}
    assert strip(pool) == strip(alone)
    assert workers.estimate_task(task) is None                 # trained: nothing left to estimate


def test_the_pool_gives_each_trained_run_against_its_estimate(tmp_path):
    """A run of 16 steps an epoch for 28 epochs = 448 >= 40 * (8 + 3) steps gets an estimate: its finished line
    and the closing lines give its wall seconds against it (flagged or not: this machine's load decides)."""
    cfg = override(mlp_a_runs()[0], batch_size=16, epochs=28)       # 256 images / 16 = 16 steps an epoch
    out = io.StringIO()
    assert workers.train_in_pool([cfg], "smoke", DATA_DIR, tmp_path / "runs", 2, measure=False, out=out) == 0
    lines = out.getvalue().splitlines()
    summary = json.loads((tmp_path / "runs" / cfg.run_name() / "summary.json").read_text())
    said = finished_lines(out.getvalue())[cfg.run_name()]
    assert said.startswith("complete (") and "; training " in said and " estimated (" in said, said
    ratio = float(said.rsplit("(", 1)[1].rstrip("x)"))
    estimate = summary["wall_seconds"] / ratio                  # what the worker estimated, within rounding
    assert estimate > 0
    at = next(i for i, line in enumerate(lines) if line.startswith("time: "))
    assert lines[at].startswith("time: 1 run trained in ") and f"({ratio:.2f}x and " in lines[at], lines
    # then its slow line if it took 1.5x its estimate or more (a tiny run's 28 checkpoints may), and the summary
    flagged = lines[at + 1:-1]
    if "; none ran 1.5x" in lines[at]:
        assert flagged == [], lines
    else:
        assert len(flagged) == 1, lines
        assert flagged[0].startswith(f"  slow: {cfg.run_name()}: {ratio:.2f}x its estimate ("), lines
    assert lines[-1] == "summary: 1 runs, 0 already done, 1 finished now, 0 failed"


def test_slow_runs_are_flagged_at_one_and_a_half_times_their_estimate_with_the_load():
    # 60 s wall against 20 s estimated: 60 / 20 = 3.00x; CPU 28 / 20 = 1.40x; load 3.9 > 2 CPUs
    slow = workers.RunTime("gan-a", 60.0, 28.0, 20.0, 3.9)
    assert workers.slow_line(slow, 2) == (
        "  slow: gan-a: 3.00x its estimate (60 s of wall time, 28 s of CPU time, 1.40x, against 20 s estimated); "
        "load average 3.9 over the run on 2 CPUs: more runnable processes than CPUs")
    # 30 / 20 = 1.5: flagged (1.5x or more); 29.9 / 20 = 1.495: not
    assert workers.slow_line(workers.RunTime("b", 30.0, 20.0, 20.0, 1.2), 2).endswith(
        "load average 1.2 over the run on 2 CPUs: no more runnable processes than CPUs")
    assert workers.slow_line(workers.RunTime("b", 29.9, 20.0, 20.0, 1.2), 2) is None
    assert workers.slow_line(workers.RunTime("c", 40.0, 20.0, 20.0, None), 2).endswith("; no load average recorded")
    # 42 / 40 = 1.05
    assert workers.versus_estimate(workers.RunTime("d", 42.0, 40.0, 40.0, None)) == \
        "training 42 s against 40 s estimated (1.05x)"


def test_the_closing_lines_add_the_runs_up_and_list_only_the_slow_ones():
    slow, fine = workers.RunTime("a", 60.0, 28.0, 20.0, 3.9), workers.RunTime("b", 20.0, 20.0, 20.0, 2.0)
    # wall 60 + 20 = 80, CPU 28 + 20 = 48, estimated 20 + 20 = 40: 80 / 40 = 2.00x, 48 / 40 = 1.20x
    assert workers.timing_lines([slow, fine], 2) == [
        "time: 2 runs trained in 80 s of wall time and 48 s of CPU time against 40 s estimated (2.00x and 1.20x); "
        "1 ran 1.5x or more over its estimate:", workers.slow_line(slow, 2)]
    # 20 / 20 = 1.00x on both clocks
    assert workers.timing_lines([fine], 2) == [
        "time: 1 run trained in 20 s of wall time and 20 s of CPU time against 20 s estimated (1.00x and 1.00x); "
        "none ran 1.5x or more over its estimate"]
    assert workers.timing_lines([], 2) == []


@pytest.mark.parametrize("time, cpus, expected", [
    (("x", 10.0, 5.0, 0.0, None), 2, r"^x: estimate_seconds is 0.0; it must be a number of seconds, above 0$"),
    (("x", -1.0, 5.0, 4.0, None), 2, r"^x: wall_seconds is -1.0; it must be a number of seconds, 0 or more$"),
    (("x", 10.0, None, 4.0, None), 2, r"^x: cpu_seconds is None; it must be a number of seconds, 0 or more$"),
    (("x", 10.0, 5.0, 4.0, None), 0, r"^cpus is 0; it must be a whole number of CPUs, 1 or more$"),
])
def test_bad_times_are_one_line(time, cpus, expected):
    with pytest.raises(ValueError, match=expected):
        workers.slow_line(workers.RunTime(*time), cpus)


def test_the_pool_trains_only_missing_classifiers_of_measured_datasets_in_the_books_order(tmp_path):
    mnist = mlp_a_runs()[0]
    cifar = override(mnist, dataset="cifar10")
    assert workers.classifiers_first([cifar, mnist], "smoke", tmp_path, measure=True) == ["mnist", "cifar10"]
    assert workers.classifiers_first([cifar, mnist], "smoke", tmp_path, measure=False) == []
    assert workers.classifiers_first([cifar], "smoke", tmp_path, measure=True) == ["cifar10"]
    done = tmp_path / classifier_config("mnist", "smoke").run_name()
    done.mkdir()
    (done / "summary.json").write_text("{\"test_accuracy\": 0.9")            # truncated: not trained
    assert not is_trained("mnist", "smoke", tmp_path)
    assert workers.classifiers_first([cifar, mnist], "smoke", tmp_path, measure=True) == ["mnist", "cifar10"]
    (done / "summary.json").write_text('{"test_accuracy": 0.9}')
    assert is_trained("mnist", "smoke", tmp_path)
    assert workers.classifiers_first([cifar, mnist], "smoke", tmp_path, measure=True) == ["cifar10"]
    assert not is_trained("mnist", "quick", tmp_path)                       # another profile, another classifier


def test_a_classifier_line_names_its_dataset_architecture_accuracy_and_time():
    assert (workers.classifier_line("mnist", {"arch": "LeNet", "accuracy": 0.98123, "seconds": 90.6})
            == "classifier mnist (LeNet): test accuracy 98.1% (91 s)")
