"""Each `make bench` row against its own speed limit: the matmul and convolution kernels that row's
training step calls, timed alone (one thread, back to back, outside the loop), against the step itself.

    record_kernels(cfg)              the matmul and conv calls of one training cycle, at the row's shapes
    kernel_flops(kernel)             FLOPs of one call, by the convention of `cost.step_flops`
    time_kernels(kernels, seconds)   (FLOPs, seconds) of the kernels replayed on random inputs
    measure_row(cfg, split, ...)     a RowLimit: the step and its kernels, each timed in one thread
    share(achieved, limit)           achieved / limit

Why the row's own kernels: a wide MLP matmul and an 8-channel convolution can run at very different
rates on one core, so one peak number would blame a conv row's loop for what its kernels cost.
An MLP row's kernels are all matmuls (its sgemm rate at its layer shapes); a conv row's are its
convolutions (NCHW or channels_last, as the loop runs them: `families.base.memory_format`), their
two gradients and any linear layers. Recording the calls instead of listing layers by hand keeps the
shapes, strides (memory format), batch size and capped widths exactly those of the profile's step,
the WGAN's n_critic critic steps and the gradient penalty's double backward included.

FLOP convention, that of torch's FlopCounterMode, which `cost.step_flops` uses (multiplies and adds
both counted, bias and elementwise work not counted):
- matmul (m x k) @ (k x n): 2 * m * k * n (addmm the same; bmm times its batch);
- convolution: 2 * output elements * in_channels / groups * kernel area; a transposed convolution
  swaps the roles of input and output: 2 * input elements * out_channels / groups * kernel area;
- convolution backward: each gradient asked for (of the input, of the weight) costs one forward,
  so 2x forward for both (the first layer, whose input needs no gradient, 1x); the bias gradient
  is a sum and costs none. (torch's counter charges a grouped convolution's weight gradient
  `groups` times; no network here is grouped.)
The tests check these by hand and check that a row's recorded kernels add up to `step_flops`.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from . import families
from .config import RunConfig
from .cost import fresh, step_flops, time_steps
from .data import Split
from .errors import fail

aten = torch.ops.aten
MATMULS = ("mm", "addmm", "bmm")
CONVS = ("convolution", "convolution_backward")
_TIMED = {getattr(aten, name).default: name for name in MATMULS + CONVS}


@dataclass(frozen=True)
class TensorSpec:
    """A float32 tensor argument as the step passed it: shape and strides (so, its memory format)."""
    shape: tuple
    stride: tuple

    def make(self, gen: torch.Generator) -> torch.Tensor:
        """Random values in this layout (strides of 0, from an expanded gradient, kept)."""
        size = 1 + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) if all(self.shape) else 0
        return torch.randn(size, generator=gen).as_strided(self.shape, self.stride)


@dataclass(frozen=True)
class Kernel:
    """One matmul or convolution call of the step: its aten op (a MATMULS or CONVS name), its
    arguments with tensors as TensorSpec, and its output's shape (the first output's)."""
    op: str
    args: tuple
    out_shape: tuple


def matmul_flops(m: int, k: int, n: int, batch: int = 1) -> int:
    """(m x k) @ (k x n): m * n outputs, each k multiplies and k adds."""
    return 2 * batch * m * k * n


def conv_flops(input_shape, weight_shape, output_shape, transposed: bool = False) -> int:
    """One convolution: each output element takes in_channels/groups x kernel area multiply-adds
    (weight (out, in/groups, kh, kw)). Transposed (weight (in, out/groups, kh, kw)): each input
    element is spread over out_channels/groups x kernel area outputs."""
    per_element = weight_shape[1] * math.prod(weight_shape[2:])
    return 2 * math.prod(input_shape if transposed else output_shape) * per_element


def conv_backward_flops(grad_output_shape, input_shape, weight_shape, transposed: bool, output_mask) -> int:
    """The gradients of one convolution: one forward's FLOPs for the input's gradient and one for the
    weight's, each only if asked for (output_mask: input, weight, bias; the bias's is a sum, 0)."""
    forward = conv_flops(input_shape, weight_shape, grad_output_shape, transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def kernel_flops(kernel: Kernel) -> int:
    """FLOPs of one recorded call (the module docstring's convention)."""
    a = kernel.args
    if kernel.op == "mm":
        (m, k), (_, n) = a[0].shape, a[1].shape
        return matmul_flops(m, k, n)
    if kernel.op == "addmm":                                    # bias + mat1 @ mat2
        (m, k), (_, n) = a[1].shape, a[2].shape
        return matmul_flops(m, k, n)
    if kernel.op == "bmm":
        (b, m, k), (_, _, n) = a[0].shape, a[1].shape
        return matmul_flops(m, k, n, batch=b)
    if kernel.op == "convolution":                              # input, weight, bias, stride, ..., transposed
        return conv_flops(a[0].shape, a[1].shape, kernel.out_shape, a[6])
    if kernel.op == "convolution_backward":                     # grad_output, input, weight, ..., transposed, ..., mask
        return conv_backward_flops(a[0].shape, a[1].shape, a[2].shape, a[7], a[10])
    fail("kernel op", kernel.op, "one of " + ", ".join(MATMULS + CONVS))


def _spec(x):
    if isinstance(x, torch.Tensor):
        return TensorSpec(tuple(x.shape), tuple(x.stride()))
    return tuple(x) if isinstance(x, list) else x


class _Recorder(TorchDispatchMode):
    """Notes every timed op's call below autograd (so backward's calls too)."""

    def __init__(self):
        super().__init__()
        self.kernels: list[Kernel] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in _TIMED:
            if kwargs:
                fail(f"{func} keyword arguments", sorted(kwargs), "positional arguments only (as autograd calls it)")
            first = out[0] if isinstance(out, tuple) else out       # None: a gradient not asked for
            shape = tuple(first.shape) if isinstance(first, torch.Tensor) else ()
            self.kernels.append(Kernel(_TIMED[func], tuple(_spec(x) for x in args), shape))
        elif func.overloadpacket in flop_registry:
            # step_flops counts it, so the limit must time it: add it to MATMULS or CONVS and kernel_flops
            fail("a counted op of the step", str(func),
                 "one that gen_core/limits.py times: " + ", ".join(MATMULS + CONVS))
        return out


def record_kernels(cfg: RunConfig, state: tuple[dict, dict] | None = None) -> list[Kernel]:
    """The matmul and conv calls of one training cycle of `cfg` on the CPU in float32, in order: one
    batch (a WGAN: n_critic critic batches and its generator step), as `cost.step_flops` counts it
    but at the row's own batch size. `state`: the (steppers, optimizers) to step (`cost.fresh`, which
    is the default); the recorded cycle trains them one cycle."""
    if cfg.amp:
        fail("config amp", cfg.amp, "False: a row's limit is measured in float32")
    if cfg.compile:
        fail("config compile", cfg.compile, "False: a row's limit is measured on the eager step")
    n = cfg.batch_size * cfg.n_critic
    split = Split(torch.zeros(n, *cfg.image_shape, dtype=torch.uint8), torch.zeros(n, dtype=torch.long))
    models, opts = state or fresh(cfg, torch.device("cpu"))
    idx = list(torch.arange(n).view(cfg.n_critic, cfg.batch_size))
    with _Recorder() as recorder:
        families.get(cfg.family).run_epoch(cfg, models, opts, split, idx, [], 0)
    return recorder.kernels


def _replayer(kernels: list[Kernel]):
    """A function that calls every kernel once, in order, on fixed random inputs (one set per
    distinct call, made once, so the timing is the kernels' and not the allocator's)."""
    gen = torch.Generator().manual_seed(0)
    inputs = {k: tuple(x.make(gen) if isinstance(x, TensorSpec) else (list(x) if isinstance(x, tuple) else x)
                       for x in k.args) for k in dict.fromkeys(kernels)}
    calls = [(getattr(aten, k.op).default, inputs[k]) for k in kernels]

    def once():
        for op, args in calls:
            op(*args)
    return once


def time_kernels(kernels: list[Kernel], seconds: float = 1.0) -> tuple[float, float]:
    """(FLOPs, seconds) of whole passes over `kernels`, replayed back to back for about `seconds`
    after one untimed pass, in this process's threads."""
    if not kernels:
        fail("kernels", kernels, "the matmul or conv calls of a step (record_kernels)")
    once, flops = _replayer(kernels), sum(kernel_flops(k) for k in kernels)
    with torch.no_grad():
        once()                                    # first calls pick and pack (oneDNN primitives)
        passes, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds or passes == 0:
            once()
            passes += 1
    return flops * passes, elapsed


@contextlib.contextmanager
def one_thread():
    """torch on one thread inside the block (the worker pool's setting), as it was after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def share(achieved: float, limit: float) -> float:
    """The share of a row's limit its training step reaches: achieved / limit (both FLOP/s)."""
    if not limit > 0:
        fail("limit", limit, "a rate > 0 (FLOP/s)")
    if not achieved >= 0:
        fail("achieved", achieved, "a rate >= 0 (FLOP/s)")
    return achieved / limit


@dataclass
class RowLimit:
    """One row's step and its own kernels, each timed in one thread, in the same rounds."""
    flops_per_image: float       # cost.step_flops
    images: int                  # training images the timed steps took
    step_s: float
    kernel_flops: float          # FLOPs of the kernel passes replayed
    kernel_s: float
    kind: str                    # "sgemm" (matmuls only) or "kernels" (convolutions among them)

    @property
    def achieved(self) -> float:
        """The training step's FLOP/s."""
        return self.flops_per_image * self.images / self.step_s

    @property
    def limit(self) -> float:
        """Its kernels' FLOP/s alone."""
        return self.kernel_flops / self.kernel_s

    @property
    def share(self) -> float:
        return share(self.achieved, self.limit)


def measure_row(cfg: RunConfig, split: Split, seconds: float = 1.0, rounds: int = 2) -> RowLimit:
    """`cfg`'s training step (fp32, on the CPU, `cost.time_steps`) against its own kernels, both in one
    thread, alternating `rounds` rounds of each so that drift hits both: about `seconds` of kernels
    and as much of whole training cycles (a WGAN's: n_critic batches)."""
    if not seconds > 0:
        fail("seconds", seconds, "a number > 0")
    if rounds < 1:
        fail("rounds", rounds, "a whole number >= 1")
    cpu, whole = torch.device("cpu"), cfg.n_critic
    with one_thread():
        state = fresh(cfg, cpu)
        kernels = record_kernels(cfg, state)          # also the steps' warm-up (first calls allocate)
        kind = "sgemm" if all(k.op in MATMULS for k in kernels) else "kernels"
        per_step = time_steps(cfg, split, whole, cpu, state, first_step=whole) / whole
        steps = max(whole, int(seconds / rounds / per_step) // whole * whole)
        flops = step_s = kernel_s = 0.0
        for r in range(rounds):
            step_s += time_steps(cfg, split, steps, cpu, state, first_step=2 * whole + r * steps)
            f, s = time_kernels(kernels, seconds / rounds)
            flops, kernel_s = flops + f, kernel_s + s
    return RowLimit(step_flops(cfg), steps * rounds * cfg.batch_size, step_s, flops, kernel_s, kind)


# ---- where the rest of a step's time goes --------------------------------------------------------

@dataclass(frozen=True)
class OpTime:
    """One op's self time in profiled training steps, as a share of all their self time."""
    name: str        # an aten op, or a Python-level record such as "Optimizer.step#Adam.step" (its own code)
    calls: int
    share: float


def step_profile(cfg: RunConfig, split: Split, steps: int = 50) -> list[OpTime]:
    """torch.profiler over `steps` training steps of `cfg` on the CPU in one thread (after as many
    untimed ones): every op by its self time, the largest first. The matmul and conv ops are the
    row's limit; the rest (optimizer, loss, activations, the optimizer's own Python) is what keeps the
    step under it."""
    from torch.profiler import ProfilerActivity, profile

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        fail("steps", steps, "a whole number >= 1")
    cpu = torch.device("cpu")
    with one_thread():
        state = fresh(cfg, cpu)
        time_steps(cfg, split, steps, cpu, state)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            time_steps(cfg, split, steps, cpu, state, first_step=steps)
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    ops = [OpTime(e.key, e.count, e.self_cpu_time_total / total) for e in events]
    return sorted(ops, key=lambda op: -op.share)


def is_kernel(name: str) -> bool:
    """Whether a profiled op is one of the kernels a row's limit times: a matmul (MATMULS), or a
    convolution, whose self time lands in the op that runs it (aten::_convolution, mkldnn_convolution,
    convolution_backward), not in the aten::convolution that dispatches to it."""
    op = name.removeprefix("aten::")
    return name.startswith("aten::") and (op in MATMULS or "convolution" in op)


def kernel_share(ops: list[OpTime]) -> float:
    """The share of a step profile's self time in the kernels a row's limit times (`is_kernel`)."""
    return sum(op.share for op in ops if is_kernel(op.name))
