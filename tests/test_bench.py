"""The benchmark's pieces work and count right; its speeds are measured by `make bench`, not here."""
from __future__ import annotations

import io

import pytest
import torch

from gen_core import bench
from gen_core.data import load_split
from gen_core.grid import grid


def test_every_case_is_a_row_of_both_grids_and_each_family_has_an_mlp_and_a_conv():
    for profile in ("quick", "full"):
        archs = {}
        for family, dataset, variant in bench.cases():
            cfg = bench.case_config(family, dataset, variant, profile)
            assert cfg in grid(family, dataset, profile) and cfg.seed == 0
            archs.setdefault(family, set()).add(cfg.arch)
        assert archs == {"vae": {"mlp", "conv"}, "gan": {"mlp", "conv"}, "wgan": {"mlp", "conv"}}


@pytest.mark.parametrize("family, arch", [("vae", "mlp"), ("gan", "conv"), ("wgan", "mlp")])
def test_compare_times_both_loops_on_the_same_number_of_batches(family, arch, tiny_cfg, mnist_root):
    cfg = tiny_cfg(family, arch=arch, batch_size=16)
    split = load_split("mnist", mnist_root, True, "cpu", 0)
    result = bench.compare(cfg, split, str(mnist_root), torch.device("cpu"), seconds=0.01, rounds=2)
    assert result.steps % (2 * cfg.n_critic) == 0 and result.steps >= 2 * cfg.n_critic
    assert result.images == result.steps * 16
    assert result.project_s > 0 and result.reference_s > 0
    # the bf16 column: as many steps or fewer (where bf16 is slow) with autocast, and its speed-up over fp32
    assert result.bf16_s > 0 and 0 < result.bf16_steps <= result.steps and result.bf16_steps % (2 * cfg.n_critic) == 0
    assert result.bf16_speedup == pytest.approx((result.bf16_images / result.bf16_s) / (result.images / result.project_s))
    assert result.workers_speedup is None                       # the workers column is separate


def test_the_workers_column_raises_the_failing_workers_error_not_the_broken_barrier():
    import threading
    from concurrent.futures import Future
    from types import SimpleNamespace

    class NoData(Exception):
        pass

    outcomes = iter([threading.BrokenBarrierError(), NoData("no data here")])   # the woken worker comes first

    def submit(*args):
        future = Future()
        future.set_exception(next(outcomes))
        return future

    timer = object.__new__(bench.WorkerTimer)
    timer.workers, timer.data_dir = 2, "data"
    timer.manager, timer.pool = SimpleNamespace(Barrier=lambda n: None), SimpleNamespace(submit=submit)
    with pytest.raises(NoData):
        timer.rate(grid("gan", "mnist", "smoke")[0], 2)


def test_compare_without_bf16_times_no_bf16_steps(tiny_cfg, mnist_root):
    cfg = tiny_cfg("vae", batch_size=16)
    split = load_split("mnist", mnist_root, True, "cpu", 0)
    result = bench.compare(cfg, split, str(mnist_root), torch.device("cpu"), seconds=0.01, rounds=1, bf16=False)
    assert result.bf16_s is None and result.bf16_steps == 0 and result.bf16_speedup is None


def test_reference_dataset_reads_a_cifar_copy_whose_md5s_differ(tiny_cfg, cifar_root):
    # the fixture's pickles are not the official files; torchvision's own class refuses them
    import torchvision.datasets as tvd

    with pytest.raises(RuntimeError, match="corrupted"):
        tvd.CIFAR10(str(cifar_root), train=True)
    data = bench.reference_dataset(tiny_cfg("gan", "cifar10"), str(cifar_root))
    image, label = data[0]
    assert len(data) == 50000 and image.shape == (3, 32, 32)
    assert image.min() >= -1 and image.max() <= 1                 # Normalize(0.5, 0.5): the Tanh range


def test_reference_steps_update_every_network(tiny_cfg, mnist_root):
    for family in ("vae", "gan", "wgan"):
        cfg = tiny_cfg(family, batch_size=8)
        models, opts = bench.reference_setup(cfg, torch.device("cpu"))
        before = {k: [p.detach().clone() for p in m.parameters()] for k, m in models.items()}
        loader = bench.reference_loader(cfg, str(mnist_root), torch.device("cpu"))
        batches = iter(loader)
        bench.reference_steps(cfg, models, opts, (next(batches) for _ in range(cfg.n_critic)), torch.device("cpu"))
        for k, m in models.items():
            assert any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters())), (family, k)
        if family == "wgan":
            assert all(p.abs().max() <= cfg.clip for p in models["critic"].parameters())


def test_amp_representatives_are_one_run_per_family_dataset_architecture_and_wgan_variant():
    from gen_core.bench import amp_representatives

    picked = [(c.family, c.dataset, c.variant, c.seed) for c in amp_representatives("quick")]
    assert picked == [
        ("vae", "mnist", "MLP A", 0), ("gan", "mnist", "MLP A", 0), ("gan", "mnist", "DCGAN", 0),
        ("wgan", "mnist", "MLP A", 0), ("wgan", "mnist", "DC-WGAN", 0), ("wgan", "mnist", "DC-WGAN-GP", 0),
        ("vae", "cifar10", "MLP", 0), ("vae", "cifar10", "Conv", 0), ("gan", "cifar10", "MLP", 0),
        ("gan", "cifar10", "DCGAN", 0), ("wgan", "cifar10", "MLP", 0), ("wgan", "cifar10", "DC-WGAN", 0),
        ("wgan", "cifar10", "DC-WGAN-GP", 0)]


def test_the_workers_column_sums_the_workers_images_per_second(tiny_cfg, mnist_root):
    """Two spawned single-thread workers each time the same steps; the column is their rates added,
    and its speed-up divides by the one-process rate of the same comparison."""
    cfg = tiny_cfg("gan", batch_size=16)
    timer = bench.WorkerTimer(2, str(mnist_root))
    try:
        rate = timer.rate(cfg, 4)
    finally:
        timer.close()
    assert rate > 0
    c = bench.Comparison(cfg, steps=10, project_s=2.0, reference_s=3.0, bf16_s=1.0, workers=2, workers_rate=120.0)
    # one process: 10 steps x 16 images in 2 s = 80 img/s; the workers 120 img/s together: 1.5x
    assert c.images == 160 and c.ratio == 1.5 and c.bf16_speedup == 2.0 and c.workers_speedup == 1.5
    # bf16 timed over fewer steps (5 of 10): 80 images in 1 s against 160 in 2 s is the same speed
    slow = bench.Comparison(cfg, steps=10, project_s=2.0, reference_s=3.0, bf16_s=1.0, bf16_steps=5)
    assert slow.bf16_images == 80 and slow.bf16_speedup == 1.0


def test_a_worker_that_fails_before_timing_breaks_the_barrier_instead_of_hanging_the_others(monkeypatch):
    import threading

    class NoData(Exception):
        pass

    def missing(*args, **kwargs):
        raise NoData("no data here")

    monkeypatch.setattr(bench.data, "cached_split", missing)
    monkeypatch.setattr(bench, "BARRIER_SECONDS", 1)   # a regression fails in 1 s, not 15 min
    cfg = grid("gan", "mnist", "smoke")[0]
    barrier = threading.Barrier(2)
    with pytest.raises(NoData):                     # the worker's own error, not the barrier's
        bench._time_in_worker(cfg.to_dict(), "data", 2, barrier)
    assert barrier.broken                           # the other worker's wait raises at once
    with pytest.raises(threading.BrokenBarrierError):
        barrier.wait(1)


def test_a_bad_gen_bf16_is_refused_before_anything_is_timed(monkeypatch):
    from gen_core.config import ConfigError

    def timed(*args, **kwargs):
        raise AssertionError("a row was timed before GEN_BF16 was checked")

    monkeypatch.setenv("GEN_BF16", "maybe")
    monkeypatch.setattr(bench, "compare", timed)
    out = io.StringIO()
    with pytest.raises(ConfigError, match=r"^GEN_BF16='maybe' is not allowed; expected auto "):
        bench.run_bench("smoke", "data", torch.device("cpu"), False, 1.0, out=out, workers=0)
    assert out.getvalue() == ""                                       # refused before the table's header


def test_closing_the_workers_after_a_ctrl_c_terminates_them_instead_of_waiting(mnist_root):
    import time

    timer = bench.WorkerTimer(2, str(mnist_root))
    busy = [timer.pool.submit(time.sleep, 120) for _ in range(2)]     # a round that would take 2 minutes
    deadline = time.monotonic() + 60
    while not all(f.running() for f in busy) and time.monotonic() < deadline:
        time.sleep(0.1)
    processes = list(timer.pool._processes.values())                  # the stdlib pool's, read before close
    assert len(processes) == 2 and all(p.is_alive() for p in processes)
    started = time.monotonic()
    timer.close(interrupted=True)
    for p in processes:
        p.join(10)
    assert not any(p.is_alive() for p in processes)
    assert time.monotonic() - started < 30                            # not the 120 s the sleeps would take
