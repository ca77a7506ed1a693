"""Run folders: atomic JSON, load-or-train caching, and what a finished run folder holds."""
from __future__ import annotations

import dataclasses
import json
import time

import pytest
import torch

import gen_core.results as results
import gen_core.store as store
from conftest import make_split
from gen_core.train import build_models
from gen_core.results import Run, load_or_train, load_run

N_TRAIN, N_TEST = 32, 32


@pytest.fixture
def synthetic_data(monkeypatch):
    """Replace the dataset reader: every split request is answered with synthetic images."""
    requests = []

    def fake_cached_split(name, root, train, device, size):
        requests.append((name, train, size))
        return make_split(N_TRAIN if train else N_TEST, name, seed=int(train))

    monkeypatch.setattr("gen_core.data.cached_split", fake_cached_split)
    return requests


@pytest.fixture
def counted_train(monkeypatch):
    calls = []
    real_train = results.train

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(results, "train", counting)
    return calls


def vae_cfg(tiny_cfg):
    # 32 train images / batch 16 = 2 steps per epoch; 2 epochs -> grids at epochs 1 and 2
    return tiny_cfg("vae", epochs=2, batch_size=16, n_samples=8, n_eval_samples=20)


# ---- load_or_train --------------------------------------------------------------------------

def test_load_or_train_writes_a_complete_run_folder(tmp_path, tiny_cfg, synthetic_data, counted_train, monkeypatch):
    cfg = vae_cfg(tiny_cfg)
    loads = iter([(1.5, 0.0, 0.0), (2.5, 0.0, 0.0)])                   # the machine's load at epochs 1 and 2
    monkeypatch.setattr("os.getloadavg", lambda: next(loads))
    began = time.perf_counter()
    run = load_or_train(cfg, "unused-data-dir", tmp_path, device="cpu", progress=False)
    elapsed = time.perf_counter() - began
    run_dir = tmp_path / cfg.run_name()
    assert run.dir == run_dir and len(counted_train) == 1
    names = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert names == ["config.json", "history.json", "model.pt", "recon.png",
                     "samples/epoch_001.png", "samples/epoch_002.png", "snapshots/epoch_001.pt", "summary.json"]
    assert [p.name for p in run.snapshot_paths] == ["epoch_001.pt"]      # epoch 2, the last, is model.pt
    snapshot = torch.load(run_dir / "snapshots" / "epoch_001.pt", weights_only=True)
    # 2 steps of 16 images in epoch 1; the VAE's decoder is updated on every one of them
    assert snapshot["epoch"] == 1 and snapshot["generator_images"] == 32 and set(snapshot["models"]) == {"vae"}
    assert sorted(run.sample_paths) == [1, 2] and run.recon_path == run_dir / "recon.png"
    # train and test were asked for, at the configured sizes, and nothing else (the pixel labeller's
    # 10,000 extra training images are gone)
    assert sorted(synthetic_data) == sorted([("mnist", True, cfg.train_size), ("mnist", False, cfg.test_size)])

    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["hash"] == cfg.run_hash() and saved["config"]["latent_dim"] == cfg.latent_dim
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["steps"]["loss"]) == 2 * 2 and len(history["epochs"]["loss"]) == 2

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary == run.summary
    assert summary["status"] == "complete" and summary["diverged_at"] == {}
    assert summary["epochs_done"] == 2
    assert summary["images_seen"] == 2 * 2 * 16                  # epochs * steps * batch
    assert summary["device"] == "cpu"
    assert summary["final_epoch"]["loss"] == history["epochs"]["loss"][-1]
    for key in ("test_neg_elbo", "test_bce", "test_kl", "sharpness_ratio", "sharpness_ratio_ci"):
        assert key in summary
    # classes covered are the yardstick's (yardstick.json), measured in the classifier's feature space
    assert not {"label_histogram", "classes_covered", "kl_to_uniform"} & set(summary)
    assert summary["test_neg_elbo"] == pytest.approx(summary["test_bce"] + summary["test_kl"])
    low, high = summary["sharpness_ratio_ci"]
    assert low <= summary["sharpness_ratio"] <= high

    # time: every key, the parts within the whole, the whole within what this test waited
    assert set(results.SUMMARY_TIMES) <= set(summary)
    assert all(summary[k] > 0 for k in results.SUMMARY_TIMES)
    wall, cpu = summary["wall_seconds"], summary["cpu_seconds"]
    assert summary["train_seconds"] + summary["epoch_work_seconds"] + summary["evaluation_seconds"] <= wall <= elapsed
    assert summary["train_cpu_seconds"] <= cpu <= wall * torch.get_num_threads() + 0.05    # 0.05 s: the clocks' reading
    assert summary["load_average"] == 2.0                                    # (1.5 + 2.5) / 2
    assert summary["images_per_second"] == pytest.approx(64 / summary["train_seconds"])       # 2 * 2 * 16 images
    assert summary["images_per_cpu_second"] == pytest.approx(64 / summary["train_cpu_seconds"])
    # the snapshot keeps epoch 1's seconds: a part of the whole run's
    assert 0 < snapshot["train_cpu_seconds"] < summary["train_cpu_seconds"]

    weights = torch.load(run_dir / "model.pt", map_location="cpu")
    assert set(weights) == {"vae"}
    build_models(cfg)["vae"].load_state_dict(weights["vae"])     # loads into a fresh model, strictly


def test_second_call_loads_from_disk(tmp_path, tiny_cfg, synthetic_data, monkeypatch):
    cfg = vae_cfg(tiny_cfg)
    first = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)

    def must_not_train(*args, **kwargs):
        raise AssertionError("a cached run was retrained")

    monkeypatch.setattr(results, "train", must_not_train)
    second = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    assert isinstance(second, Run)
    assert second.config == cfg and second.dir == first.dir
    assert second.summary == first.summary
    assert second.history == json.loads((first.dir / "history.json").read_text())
    # force retrains even though the results are there
    with pytest.raises(AssertionError, match="retrained"):
        load_or_train(cfg, "unused", tmp_path, device="cpu", force=True, progress=False)


def test_force_retrains(tmp_path, tiny_cfg, synthetic_data, counted_train):
    cfg = vae_cfg(tiny_cfg)
    load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    assert len(counted_train) == 1
    load_or_train(cfg, "unused", tmp_path, device="cpu", force=True, progress=False)
    assert len(counted_train) == 2


def test_another_config_gets_another_folder(tmp_path, tiny_cfg, synthetic_data, counted_train):
    cfg = vae_cfg(tiny_cfg)
    load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    other = load_or_train(cfg.__class__.from_dict({**cfg.to_dict(), "seed": 1}), "unused", tmp_path,
                          device="cpu", progress=False)
    assert len(counted_train) == 2 and other.dir != tmp_path / cfg.run_name()
    assert len(list(tmp_path.iterdir())) == 2


def test_gan_run_folder_has_no_recon(tmp_path, tiny_cfg, synthetic_data):
    cfg = tiny_cfg("gan", epochs=1, batch_size=16, n_samples=8, n_eval_samples=20)
    run = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    assert run.recon_path is None and sorted(run.sample_paths) == [1]
    assert set(torch.load(run.dir / "model.pt", map_location="cpu")) == {"generator", "critic"}
    assert "test_neg_elbo" not in run.summary and "sharpness_ratio" in run.summary
    assert load_run(run.dir).summary == run.summary


def test_vae_run_with_a_small_test_set(tmp_path, tiny_cfg, monkeypatch):
    # Regression (fixed): _save_recon does x.view(4, 8, ...) on test.images[:32], so any
    # test split with fewer than 32 images (test_size=16 is a valid config) crashes with a
    # RuntimeError after training has finished, and the run is lost.
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(32 if train else 16, name))
    cfg = vae_cfg(tiny_cfg)
    cfg = cfg.__class__.from_dict({**cfg.to_dict(), "test_size": 16})
    run = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    assert run.summary["status"] == "complete"


def test_diverged_run_is_saved_without_measurements(tmp_path, tiny_cfg, synthetic_data):
    # Regression (fixed): train_and_save never creates run_dir itself; only
    # _save_png_atomic (sample grids, recon) and write_json_atomic do. A run that diverges
    # in its first epoch has no grid and no recon, so torch.save(..., run_dir/.model.pt.tmp)
    # is the first write and fails with "Parent directory ... does not exist": the
    # 'diverged' status is never recorded and the notebook/CLI crash instead.
    # RMSprop at lr 1e30 on an unclipped critic overflows within the first epoch
    cfg = tiny_cfg("wgan", lr=1e30, clip=0.0, n_critic=1, epochs=2, batch_size=16, n_eval_samples=20)
    run = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    assert run.diverged and run.summary["status"] == "diverged"
    assert run.summary["diverged_at"]["epoch"] == 1
    assert "sharpness_ratio" not in run.summary and run.sample_paths == {}
    assert load_run(run.dir).diverged


# ---- load_run -----------------------------------------------------------------------------

def test_load_run_of_missing_or_truncated_folder(tmp_path, tiny_cfg, synthetic_data):
    assert load_run(tmp_path / "nothing-here") is None
    cfg = vae_cfg(tiny_cfg)
    run = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    assert load_run(run.dir) is not None
    summary = run.dir / "summary.json"
    text = summary.read_text()
    summary.write_text(text[: len(text) // 2])         # a half-written summary
    assert load_run(run.dir) is None
    summary.unlink()                                   # an unfinished run
    assert load_run(run.dir) is None
    summary.write_text(text)
    (run.dir / "config.json").write_text(json.dumps({"config": {**cfg.to_dict(), "latent_dim": 0}}))
    assert load_run(run.dir) is None                   # an invalid config is not a finished run


@pytest.mark.parametrize("name", ["summary.json", "history.json", "config.json"])
def test_a_truncated_results_file_is_reported_and_retrained(name, tmp_path, tiny_cfg, synthetic_data, counted_train,
                                                            capfd):
    cfg = vae_cfg(tiny_cfg)
    run = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    text = (run.dir / name).read_text()
    (run.dir / name).write_text(text[: len(text) // 2])
    capfd.readouterr()
    again = load_or_train(cfg, "unused", tmp_path, device="cpu", progress=False)
    err = capfd.readouterr().err
    assert f"run {run.dir} has an unreadable results file" in err and "training it again" in err
    assert err.count("unreadable") == 1                     # once, though the lock makes it look twice
    assert len(counted_train) == 2
    assert json.loads((run.dir / "summary.json").read_text()) == again.summary
    assert {k: v for k, v in again.summary.items() if "second" not in k} == \
        {k: v for k, v in run.summary.items() if "second" not in k}          # same seed: same numbers


def test_run_properties(tmp_path, tiny_cfg):
    cfg = vae_cfg(tiny_cfg)
    (tmp_path / "samples").mkdir()
    for epoch in (10, 2):
        (tmp_path / "samples" / f"epoch_{epoch:03d}.png").write_bytes(b"")
    run = Run(cfg, tmp_path, {"status": "diverged"}, {})
    assert run.sample_paths == {2: tmp_path / "samples" / "epoch_002.png",
                                10: tmp_path / "samples" / "epoch_010.png"}
    assert run.recon_path is None and run.diverged
    assert not Run(cfg, tmp_path, {"status": "complete"}, {}).diverged


# ---- several processes, one runs folder (make -j N report) --------------------------------

def test_load_or_train_loads_what_another_process_saved_while_it_waited(tmp_path, tiny_cfg, synthetic_data,
                                                                         monkeypatch):
    cfg = vae_cfg(tiny_cfg)
    finished = load_or_train(cfg, "unused", tmp_path / "other", "cpu", progress=False)
    # the run is missing when first looked up, and finished (by another process) once the lock is ours
    answers = iter([None, finished])
    monkeypatch.setattr(results, "load_run", lambda run_dir, report=True: next(answers))
    monkeypatch.setattr(results, "train_and_save", lambda *a, **k: pytest.fail("trained a run another process saved"))
    assert load_or_train(cfg, "unused", tmp_path, "cpu", progress=False) is finished
    assert store.lock_path(tmp_path, cfg.run_name()).exists()
    assert not any(p.name.endswith(".lock") for p in tmp_path.rglob("*"))    # the runs folder holds results


def test_generator_images_count_generator_updates(tiny_cfg):
    """A GAN updates its generator every step; a WGAN once per n_critic critic steps (counted across
    epochs), so after 12 critic steps of 8 images with n_critic 5 it has seen 2 * 8 = 16 images."""
    gan, wgan = tiny_cfg("gan", batch_size=8), tiny_cfg("wgan", batch_size=8, n_critic=5)
    assert results.generator_images(gan, 12 * 8) == 96
    assert results.generator_images(wgan, 12 * 8) == 16
    assert results.generator_images(wgan, 4 * 8) == 0


# ---- other seeds of a configuration on disk --------------------------------------------------

def test_seeds_on_disk_finds_finished_seeds_of_the_same_configuration_only(tmp_path, tiny_cfg, synthetic_data):
    """Seeds 1 and 2 finished: found, by seed. Not found: seed 0 itself, an unfinished seed 3,
    another learning rate, and a folder whose name says other code trained it."""
    cfg = vae_cfg(tiny_cfg)
    for seed in (2, 0, 1):
        load_or_train(dataclasses.replace(cfg, seed=seed), "unused", tmp_path, device="cpu", progress=False)
    other_lr = dataclasses.replace(cfg, seed=4, lr=cfg.lr / 2)
    load_or_train(other_lr, "unused", tmp_path, device="cpu", progress=False)
    unfinished = dataclasses.replace(cfg, seed=3)
    load_or_train(unfinished, "unused", tmp_path, device="cpu", progress=False)
    (tmp_path / unfinished.run_name() / "summary.json").unlink()
    stale = dataclasses.replace(cfg, seed=5)                  # trained by older code: another hash in its name
    load_or_train(stale, "unused", tmp_path, device="cpu", progress=False)
    (tmp_path / stale.run_name()).rename(tmp_path / (store.same_configuration(stale.run_name()) + "0123456789ab"))

    found = results.seeds_on_disk(cfg, tmp_path)
    assert [c.seed for c in found] == [1, 2]
    assert found == [dataclasses.replace(cfg, seed=1), dataclasses.replace(cfg, seed=2)]
    assert [c.seed for c in results.seeds_on_disk(dataclasses.replace(cfg, seed=1), tmp_path)] == [0, 2]
    assert results.seeds_on_disk(cfg, tmp_path / "empty") == []


def test_same_configuration_drops_only_the_hash():
    assert store.same_configuration("gan-mnist-mlpa-z100-5425a31a6ada") == "gan-mnist-mlpa-z100-"
    assert store.same_configuration("wgan-cifar10-dcwgangp-z64-0123456789ab") == "wgan-cifar10-dcwgangp-z64-"
