"""Checkpoints and resume: a run killed with SIGKILL at any point finishes exactly as if never killed.

Each case trains in a subprocess that kills itself at one point (after a checkpoint is in
place, between writing a checkpoint and renaming it, in the middle of an epoch), then the
test resumes the run in this process and compares it with an uninterrupted run on CPU:
the same per-step losses, the same weights bit for bit, the same summary numbers.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

import gen_core.results as results
from conftest import make_split
from gen_core.results import CHECKPOINT, load_or_train

TESTS = Path(__file__).resolve().parent
N_TRAIN, N_TEST = 32, 16          # 32 images / batch 8 = 4 steps per epoch
TIMING = set(results.SUMMARY_TIMES)      # seconds and load differ between any two runs


def synthetic_split(name, root, train, device, size):
    return make_split(N_TRAIN if train else N_TEST, name, seed=int(train))


def digest_the_real_training_code():
    """A run's name digests the code its training names (config.training_digest), once per process
    and source state. Replacing one of those functions first (to kill a run, or to load synthetic
    data) would name the run after the replacement, and a resume would look in another folder."""
    from gen_core import families
    from gen_core.config import training_digest

    for family in families.names():
        training_digest(family)


@pytest.fixture(autouse=True)
def _synthetic_data(monkeypatch):
    digest_the_real_training_code()
    monkeypatch.setattr("gen_core.data.cached_split", synthetic_split)


# Runs in a fresh interpreter: the same synthetic data, then a SIGKILL at the chosen point.
KILLED_RUN = r"""
import json, os, signal, sys
sys.path.insert(0, sys.argv[1])
import gen_core.results as results
from gen_core.config import RunConfig
from test_resume import digest_the_real_training_code, synthetic_split

cfg = RunConfig.from_dict(json.loads(sys.argv[3]))
digest_the_real_training_code()             # before anything below replaces part of it
point, steps_per_epoch = sys.argv[4], int(sys.argv[5])
import gen_core.data
gen_core.data.cached_split = synthetic_split

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point == "after_checkpoint_1":          # epoch 1's checkpoint is in place
    real_save = results.save_torch_atomic
    def save(obj, path):
        real_save(obj, path)
        if path.name == "checkpoint.pt" and obj["epoch"] == 1:
            die()
    results.save_torch_atomic = save
elif point == "inside_checkpoint_2":        # epoch 2's checkpoint written to its temporary file, not renamed
    real_replace = os.replace
    def replace(src, dst):
        if str(dst).endswith("checkpoint.pt") and os.path.exists(dst):
            die()
        real_replace(src, dst)
    os.replace = replace
elif point == "mid_epoch_2":                # the second step of epoch 2
    calls = [0]
    import importlib
    step_name = {"vae": "vae_step", "gan": "d_step", "wgan": "critic_step"}[cfg.family]
    step_module = importlib.import_module(f"gen_core.families.{cfg.family}")   # where the family's steps live
    real_step = getattr(step_module, step_name)
    def step(*args, **kwargs):
        calls[0] += 1
        if calls[0] == steps_per_epoch + 2:
            die()
        return real_step(*args, **kwargs)
    setattr(step_module, step_name, step)
results.load_or_train(cfg, "unused", sys.argv[2], "cpu", progress=False)
raise SystemExit("the run finished without being killed")
"""


def train_killed(cfg, runs_dir: Path, point: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, str(TESTS), str(runs_dir), json.dumps(cfg.to_dict()),
                           point, str(N_TRAIN // cfg.batch_size)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    return proc


def weights(run) -> dict:
    return torch.load(run.dir / "model.pt", weights_only=True)


def assert_same_run(resumed, straight):
    assert resumed.history == straight.history                       # every per-step loss, exactly
    a, b = weights(resumed), weights(straight)
    for net in b:
        assert all(torch.equal(a[net][k], b[net][k]) for k in b[net]), net
    strip = lambda summary: {k: v for k, v in summary.items() if k not in TIMING}   # noqa: E731
    assert strip(resumed.summary) == strip(straight.summary)
    for epoch, path in straight.sample_paths.items():
        assert resumed.sample_paths[epoch].read_bytes() == path.read_bytes()
    assert_same_curve(resumed, straight)


def measured_curve(run) -> list[dict]:
    """The yardstick over training, against an untrained smoke LeNet (its features are enough)."""
    from gen_core import yardstick
    from gen_core.classifier import Classifier, build_classifier, classifier_config, features_and_logits
    from gen_core.data import to_unit

    torch.manual_seed(0)
    cfg = classifier_config("mnist", "smoke")
    clf = Classifier(cfg, build_classifier(cfg).eval(), {})
    test_features = features_and_logits(clf.model, to_unit(make_split(40, "mnist", seed=5).images))[0]
    ref = yardstick.RealSide("mnist", 16, clf, test_features, {})
    return yardstick.over_training(run, ref, "cpu")


def assert_same_curve(resumed, straight):
    """One point per snapshot epoch (3 epochs: 1 and 2; 2 epochs: 1; the last is model.pt), the same
    weights and the same numbers whether the run was killed and resumed or not (seconds aside)."""
    expected = {3: [1, 2], 2: [1]}[straight.config.epochs]
    assert [p.name for p in resumed.snapshot_paths] == [p.name for p in straight.snapshot_paths] == \
        [f"epoch_{e:03d}.pt" for e in expected]
    for a_path, b_path in zip(resumed.snapshot_paths, straight.snapshot_paths):
        a, b = torch.load(a_path, weights_only=True), torch.load(b_path, weights_only=True)
        assert (a["epoch"], a["generator_images"]) == (b["epoch"], b["generator_images"])
        assert all(torch.equal(a["models"][n][k], b["models"][n][k]) for n in b["models"] for k in b["models"][n])
    curves = [[{k: v for k, v in p.items() if k != "train_seconds"} for p in measured_curve(r)]
              for r in (resumed, straight)]
    assert [p["epoch"] for p in curves[0]] == expected and curves[0] == curves[1]


CASES = [
    ("vae", dict(dropout=0.2), "after_checkpoint_1"),      # dropout and the reparameterisation draw noise
    ("vae", dict(dropout=0.2), "inside_checkpoint_2"),
    ("vae", dict(dropout=0.2), "mid_epoch_2"),
    ("wgan", dict(), "mid_epoch_2"),                         # n_critic=5 counts steps across epochs
    ("wgan", dict(arch="conv", gp=10.0, clip=0.0, critic_norm="layer", optimizer="adam", betas=(0.0, 0.9)),
     "mid_epoch_2"),                                         # WGAN-GP: the interpolation weights are drawn too
    ("gan", dict(arch="conv"), "mid_epoch_2"),               # BatchNorm running stats, channels_last
]


@pytest.mark.parametrize("family, changes, point", CASES)
def test_killed_and_resumed_equals_uninterrupted(family, changes, point, tiny_cfg, tmp_path):
    cfg = tiny_cfg(family, epochs=3, batch_size=8, n_samples=4, n_eval_samples=16, **changes)
    killed_dir = tmp_path / "killed"
    train_killed(cfg, killed_dir, point)
    run_dir = killed_dir / cfg.run_name()
    assert not (run_dir / "summary.json").exists()
    saved = torch.load(run_dir / CHECKPOINT, weights_only=True)   # never a broken checkpoint
    assert saved["epoch"] == 1 and saved["hash"] == cfg.run_hash()

    resumed = load_or_train(cfg, "unused", killed_dir, "cpu", progress=False)
    straight = load_or_train(cfg, "unused", tmp_path / "straight", "cpu", progress=False)
    assert resumed.summary["status"] == "complete" and resumed.summary["epochs_done"] == 3
    assert_same_run(resumed, straight)
    assert not (run_dir / CHECKPOINT).exists()                      # finished runs keep model.pt only


def test_a_resumed_run_trains_only_the_epochs_after_its_checkpoint(tiny_cfg, tmp_path, capfd, monkeypatch):
    """Bit-equality with a straight run cannot tell a resume from a silent restart (a full retrain
    gives the same bits), so count what the resumed process trains, and plant values in the
    checkpoint's history and seconds that only a run continuing from it can report."""
    cfg = tiny_cfg("vae", epochs=3, batch_size=8, n_samples=4, n_eval_samples=16)
    train_killed(cfg, tmp_path, "after_checkpoint_1")
    path = tmp_path / cfg.run_name() / CHECKPOINT
    state = torch.load(path, weights_only=True)
    state["history"]["loss"][0] = 12345.0               # no step of this tiny VAE gives these losses
    state["epoch_means"]["loss"][0] = 6789.0
    # far more than this tiny run takes: what the resumed process adds on top is read off below
    planted = {"train_seconds": 1000.0, "train_cpu_seconds": 900.0, "epoch_work_seconds": 100.0,
               "wall_seconds": 2000.0, "cpu_seconds": 1800.0, "load_averages": [7.0],
               "machines": ["Planted CPU (AVX2, no AVX-512), 1 thread, torch 0.0"]}   # epoch 1 "trained elsewhere"
    state.update(planted)
    torch.save(state, path)                            # the hash is untouched: still this run's checkpoint

    steps, epochs = [], []
    # torch's global hook, not a replaced gen_core function: that would change the run's name
    counting = register_optimizer_step_post_hook(lambda optimizer, args, kwargs: steps.append(optimizer))
    capfd.readouterr()
    monkeypatch.setattr("os.getloadavg", lambda: (1.0, 0.5, 0.25))   # the resumed epochs' load samples
    began = time.perf_counter()
    try:
        run = load_or_train(cfg, "unused", tmp_path, "cpu", progress=False, on_epoch=epochs.append)
    finally:
        counting.remove()
    elapsed = time.perf_counter() - began
    assert f"resuming {cfg.run_name()} after epoch 1 of 3" in capfd.readouterr().err
    # 32 images / batch 8 = 4 steps an epoch of the VAE's one optimizer; epochs 2 and 3 are left: 8, not 12
    assert epochs == [2, 3] and len(steps) == 8
    assert run.history["steps"]["loss"][0] == 12345.0 and len(run.history["steps"]["loss"]) == 12
    assert run.history["epochs"]["loss"][0] == 6789.0 and len(run.history["epochs"]["loss"]) == 3
    # the seconds add up across the resume: the checkpoint's, plus this process's, which took `elapsed` in all
    s = run.summary
    added = {k: s[k] - planted[k] for k in ("train_seconds", "train_cpu_seconds", "epoch_work_seconds",
                                            "wall_seconds", "cpu_seconds")}
    assert all(v > 0 for v in added.values()) and added["wall_seconds"] <= elapsed
    assert added["train_seconds"] + added["epoch_work_seconds"] + s["evaluation_seconds"] <= added["wall_seconds"]
    # one load sample per epoch: epoch 1's planted 7, then 1 and 1 from epochs 2 and 3: (7 + 1 + 1) / 3 = 3
    assert s["load_average"] == 3.0
    # 3 epochs * 4 steps * 8 images = 96 images over the steps' CPU seconds, epoch 1's planted 900 included
    assert s["images_per_cpu_second"] == pytest.approx(96 / s["train_cpu_seconds"])
    # where it trained: the checkpoint's machine, then this one (a resume on the same machine adds none:
    # assert_same_run compares a resumed run's machines with a straight one's)
    from gen_core.train import machine
    assert s["machines"] == [planted["machines"][0], machine("cpu")]
    assert machine("cpu").endswith(f", 1 thread, torch {torch.__version__}")         # conftest: one thread


def test_two_epochs_equal_one_then_resume_one(tiny_cfg, tmp_path):
    """The issue's wording: 2 epochs straight == 1 epoch, kill, resume 1 more."""
    cfg = tiny_cfg("vae", epochs=2, batch_size=8, dropout=0.2, n_samples=4, n_eval_samples=16)
    train_killed(cfg, tmp_path / "killed", "after_checkpoint_1")
    resumed = load_or_train(cfg, "unused", tmp_path / "killed", "cpu", progress=False)
    assert_same_run(resumed, load_or_train(cfg, "unused", tmp_path / "straight", "cpu", progress=False))


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_a_corrupt_checkpoint_is_reported_and_the_run_trains_from_the_start(damage, tiny_cfg, tmp_path, capfd):
    cfg = tiny_cfg("vae", epochs=2, batch_size=8, n_samples=4, n_eval_samples=16)
    train_killed(cfg, tmp_path / "killed", "after_checkpoint_1")
    path = tmp_path / "killed" / cfg.run_name() / CHECKPOINT
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "empty": b"", "garbage": b"not a checkpoint"}[damage])
    capfd.readouterr()
    again = load_or_train(cfg, "unused", tmp_path / "killed", "cpu", progress=False)
    err = capfd.readouterr().err
    assert f"checkpoint {path} is unreadable" in err and "from the start" in err
    assert_same_run(again, load_or_train(cfg, "unused", tmp_path / "straight", "cpu", progress=False))


def test_a_checkpoint_of_another_config_is_not_resumed(tiny_cfg, tmp_path, capfd):
    cfg = tiny_cfg("vae", epochs=2, batch_size=8, n_samples=4, n_eval_samples=16)
    train_killed(cfg, tmp_path / "killed", "after_checkpoint_1")
    state = torch.load(tmp_path / "killed" / cfg.run_name() / CHECKPOINT, weights_only=True)
    state["hash"] = "0123456789ab"
    torch.save(state, tmp_path / "killed" / cfg.run_name() / CHECKPOINT)
    capfd.readouterr()
    again = load_or_train(cfg, "unused", tmp_path / "killed", "cpu", progress=False)
    assert "belongs to another config (hash 0123456789ab)" in capfd.readouterr().err
    assert_same_run(again, load_or_train(cfg, "unused", tmp_path / "straight", "cpu", progress=False))


def test_force_ignores_the_checkpoint(tiny_cfg, tmp_path, monkeypatch):
    cfg = tiny_cfg("vae", epochs=2, batch_size=8, n_samples=4, n_eval_samples=16)
    train_killed(cfg, tmp_path / "killed", "after_checkpoint_1")
    monkeypatch.setattr(results, "load_checkpoint", lambda *a: pytest.fail("FORCE=1 resumed a checkpoint"))
    run = load_or_train(cfg, "unused", tmp_path / "killed", "cpu", force=True, progress=False)
    assert run.summary["epochs_done"] == 2
