"""The benchmark's pieces work and count right; its speeds are measured by `make bench`, not here."""
from __future__ import annotations

import io

import pytest
import torch

from gen_core import bench
from gen_core.config import ConfigError
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


# ---- each row against its own limit (gen_core/limits.py) ---------------------------------------

def test_the_flop_convention_on_a_tiny_matmul_and_a_tiny_conv_by_hand():
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from gen_core import limits

    # (2 x 3) @ (3 x 4): 8 outputs, each 3 multiplies and 3 adds = 48
    assert limits.matmul_flops(2, 3, 4) == 48
    assert limits.matmul_flops(2, 3, 4, batch=5) == 240
    # conv2d: input (1, 2, 4, 4), weight (3, 2, 3, 3), no padding -> output (1, 3, 2, 2) = 12 elements,
    # each 2 channels x 9 taps multiply-adds: 2 * 12 * 2 * 9 = 432
    assert limits.conv_flops((1, 2, 4, 4), (3, 2, 3, 3), (1, 3, 2, 2)) == 432
    # groups=2: input (1, 4, 3, 3), weight (4, 2, 1, 1) -> output 36 elements x 2 channels x 1 tap x 2 = 144
    assert limits.conv_flops((1, 4, 3, 3), (4, 2, 1, 1), (1, 4, 3, 3)) == 144
    # transposed: input (1, 2, 2, 2) = 8 elements, weight (2 in, 3 out, 3, 3) -> output (1, 3, 4, 4);
    # each input element is spread over 3 channels x 9 taps: 2 * 8 * 3 * 9 = 432
    assert limits.conv_flops((1, 2, 2, 2), (2, 3, 3, 3), (1, 3, 4, 4), transposed=True) == 432
    # backward: the input's gradient and the weight's, one forward each: 2 * 432; the first layer
    # (input needs no gradient) 432; the bias gradient is free
    assert limits.conv_backward_flops((1, 3, 2, 2), (1, 2, 4, 4), (3, 2, 3, 3), False, (True, True, True)) == 864
    assert limits.conv_backward_flops((1, 3, 2, 2), (1, 2, 4, 4), (3, 2, 3, 3), False, (False, True, True)) == 432

    # the same counts as torch's counter (what cost.step_flops uses) on the real calls:
    # forward 432 + backward 864 for the conv; 48 forward + 2 x 48 backward for the matmul
    x, w = torch.randn(1, 2, 4, 4, requires_grad=True), torch.randn(3, 2, 3, 3, requires_grad=True)
    a, b = torch.randn(2, 3, requires_grad=True), torch.randn(3, 4, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        F.conv2d(x, w).sum().backward()
    assert counter.get_total_flops() == 432 + 864
    with FlopCounterMode(display=False) as counter:
        (a @ b).sum().backward()
    assert counter.get_total_flops() == 48 * 3


def test_a_rows_recorded_kernels_count_what_step_flops_counts(tiny_cfg):
    from gen_core import limits
    from gen_core.cost import step_flops

    # the tiny MLP VAE (batch 8): encoder 784->16, heads 16->8 (mean and log-variance), decoder 4->16->784.
    # Forward multiply-adds per image: 784*16 + 16*8 + 4*16 + 16*784 = 25280; the weights' gradients
    # as many; the inputs' gradients all but the first layer's: 128 + 64 + 12544 = 12736.
    # FLOPs = 2 * (25280 + 25280 + 12736) = 126592 per image, 8 images a step
    cfg = tiny_cfg("vae")
    kernels = limits.record_kernels(cfg)
    assert {k.op for k in kernels} == {"mm", "addmm"}
    assert sum(limits.kernel_flops(k) for k in kernels) == 126592 * 8
    assert step_flops(cfg) == 126592
    # a conv row, and a WGAN row (a cycle: n_critic critic batches and one generator step), agree too
    for cfg in (tiny_cfg("vae", "cifar10", arch="conv"), tiny_cfg("wgan", arch="conv")):
        kernels = limits.record_kernels(cfg)
        assert sum(map(limits.kernel_flops, kernels)) == step_flops(cfg) * cfg.batch_size * cfg.n_critic
    # the conv VAE's first kernel: the image batch (8, 3, 32, 32) in the loop's channels_last layout,
    # strides (C*H*W, 1, W*C, C) = (3072, 1, 96, 3), into 4 channels at 16x16 with 4x4 taps:
    # 2 * (8 * 4 * 16 * 16) outputs * 3 channels * 16 taps = 786432 FLOPs
    first = limits.record_kernels(tiny_cfg("vae", "cifar10", arch="conv"))[0]
    assert first.op == "convolution" and first.args[0] == limits.TensorSpec((8, 3, 32, 32), (3072, 1, 96, 3))
    assert limits.kernel_flops(first) == 786432


def test_replayed_kernels_are_timed_in_whole_passes_in_the_steps_layout():
    from gen_core import limits

    mm = limits.Kernel("mm", (limits.TensorSpec((2, 3), (3, 1)), limits.TensorSpec((3, 4), (1, 3))), (2, 4))
    flops, seconds = limits.time_kernels([mm, mm], seconds=0.01)
    assert seconds > 0 and flops >= 96 and flops % 96 == 0          # one pass: 2 x 48
    # an expanded gradient (stride 0) keeps its layout
    grad = limits.TensorSpec((4, 1, 1, 1), (0, 0, 0, 0)).make(torch.Generator())
    assert grad.shape == (4, 1, 1, 1) and grad.stride() == (0, 0, 0, 0)
    with pytest.raises(ValueError, match=r"^kernels=\[\] is not allowed; expected the matmul or conv calls"):
        limits.time_kernels([])


def test_the_share_column_is_achieved_over_limit_on_hand_made_numbers():
    from gen_core import limits

    # 300 images of 1 MFLOP in 2 s: 150 MFLOP/s; the kernels 600 MFLOP in 2 s: 300 MFLOP/s; share 0.5
    row = limits.RowLimit(flops_per_image=1e6, images=300, step_s=2.0, kernel_flops=6e8, kernel_s=2.0, kind="sgemm")
    assert row.achieved == 1.5e8 and row.limit == 3e8 and row.share == 0.5
    assert limits.share(45e9, 60e9) == 0.75
    with pytest.raises(ValueError, match=r"^limit=0 is not allowed; expected a rate > 0"):
        limits.share(1.0, 0)
    with pytest.raises(ValueError, match=r"^achieved=-1.0 is not allowed; expected a rate >= 0"):
        limits.share(-1.0, 2.0)


def test_the_limit_table_has_its_columns_for_an_mlp_and_a_conv_row(tiny_cfg, split_factory):
    mlp, conv = tiny_cfg("vae"), tiny_cfg("gan", arch="conv")
    splits = {"mnist": split_factory(64)}
    out = io.StringIO()
    threads = torch.get_num_threads()
    rows = bench.print_limits([mlp, conv], lambda cfg: splits[cfg.dataset], out, seconds=0.02)
    assert torch.get_num_threads() == threads                           # one thread only while measuring
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("model"))
    assert lines[header].split()[1:] == ["MFLOP/image", "GFLOP/s", "limit", "GFLOP/s", "limit", "of", "share", "of",
                                         "limit"]
    for line, cfg, row, kind in zip(lines[header + 1: header + 3], (mlp, conv), rows, ("sgemm", "kernels")):
        assert line.startswith(bench.row_name(cfg))
        mflop, gflops, limit, shown_kind, share = line[32:].split()
        assert (shown_kind, row.kind) == (kind, kind)
        assert float(gflops) == round(row.achieved / 1e9, 1) and float(limit) == round(row.limit / 1e9, 1)
        assert float(share) == round(row.achieved / row.limit, 2) and row.images % cfg.batch_size == 0
    assert lines[header + 1][32:].split()[0] == "0.13"                  # 126592 FLOPs an image (the test above)


def test_make_bench_puts_every_cpu_row_against_its_limit_after_the_main_table(monkeypatch):
    from gen_core import limits

    # the measurements stubbed: 1 MFLOP an image, 100 images in 1 s (100 MFLOP/s) against 400 MFLOP/s
    made = limits.RowLimit(1e6, 100, 1.0, 4e8, 1.0, "sgemm")
    monkeypatch.setattr(bench, "compare", lambda cfg, *a, **k: bench.Comparison(cfg, 10, 1.0, 2.0))
    monkeypatch.setattr(bench.limits, "measure_row", lambda cfg, split, seconds: made)
    monkeypatch.setattr(bench.data, "cached_split", lambda *a, **k: None)
    monkeypatch.setattr(bench, "print_estimates", lambda *a, **k: None)
    out = io.StringIO()
    results = bench.run_bench("smoke", "data", torch.device("cpu"), False, 1.0, out=out, workers=0)
    assert len(results) == 7 and all(c.limit is made for c in results)
    text = out.getvalue()
    assert text.index("Each row against its own limit") > text.index("x fp32: bf16 autocast")
    lines = [line for line in text.splitlines() if line.endswith(" 0.25")]   # 100 / 400 MFLOP/s
    assert [line[:32].strip() for line in lines] == [bench.row_name(c.cfg) for c in results]
    assert all(line[32:].split()[:4] == ["1.00", "0.1", "0.4", "sgemm"] for line in lines)


def test_a_step_profile_shares_add_up_to_one_and_hold_the_steps_kernels(tiny_cfg, split_factory):
    """A tiny VAE MLP step: each of its 2 + 2 linear layers is one addmm forward; backward adds one mm for
    every weight's gradient and one for every input's gradient but the first layer's (its input is data):
    4 + 3 = 7 mm a step. The shares are of one whole, and the printed lines name the kernels' share."""
    from gen_core import limits

    cfg = tiny_cfg("vae")
    ops = limits.step_profile(cfg, split_factory(64), steps=4)
    assert abs(sum(op.share for op in ops) - 1) < 1e-9
    assert [op.share for op in ops] == sorted((op.share for op in ops), reverse=True)
    calls = {op.name: op.calls for op in ops}
    assert calls["aten::addmm"] == 4 * 4 and calls["aten::mm"] == 7 * 4, calls
    assert 0 < limits.kernel_share(ops) < 1
    assert limits.kernel_share(ops) == sum(op.share for op in ops if op.name in ("aten::addmm", "aten::mm"))
    out = io.StringIO()
    bench.print_step_profiles([cfg], lambda c: split_factory(64), out, steps=4, top=3)
    lines = out.getvalue().strip().splitlines()
    head, _, tail = lines[0].partition(": ")                     # its own profile: another share
    share, _, rest = tail.partition("% ")
    assert head == bench.row_name(cfg) and 0 < int(share) < 100
    assert rest == "of the step's self time in matmul and conv kernels (4 steps, one thread, float32); the largest:"
    assert len(lines) == 4 and all(line.startswith("  ") and "calls/step" in line for line in lines[1:])
    assert [limits.is_kernel(n) for n in ("aten::mm", "aten::bmm", "aten::_convolution", "aten::mkldnn_convolution",
                                          "aten::convolution_backward", "aten::log_sigmoid_forward",
                                          "Optimizer.step#Adam.step", "mm")] == [True] * 5 + [False] * 3
    with pytest.raises(ConfigError, match="steps"):
        limits.step_profile(cfg, split_factory(64), steps=0)
