"""The training loop every family shares: epochs, checkpoints and resume, divergence, sample
grids. What happens inside an epoch (the step functions) is the family's (`gen_core.families`).

Training is bound by overhead, not arithmetic, so the loop removes it (`make bench` measures
the result against a pytorch/examples-style DataLoader loop):
- batches are index slices of the uint8 training tensor on the device, normalised per batch;
- step functions return dicts of detached 0-dim tensors; the loop stacks them and reads them
  back once per epoch, so there is no host sync inside the step loop;
- Adam is the fused kernel; conv nets and their batches are channels_last (1.7x on CPU too);
- on CUDA cudnn.benchmark picks conv algorithms; bf16 autocast (`amp`) and `torch.compile`
  (`compile`) are config fields, off unless a profile turns them on.

Time is kept two ways: wall seconds (time.perf_counter), which count the time a run waited while other
work on a shared machine had the CPU, and this process's CPU seconds (time.process_time: every thread,
user and system), which do not (a one-thread worker on an idle machine has CPU seconds ~ wall seconds).
The loop splits the wall time into training steps and per-epoch work, and samples the machine's load
average at each epoch's end, so that a slow run shows what it shared the machine with.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm

from . import cuda, families
from .config import RunConfig
from .data import Split, epoch_batches
from .families.base import memory_format
from .numerics import flush_subnormals
from .store import progress_stream


@dataclass
class TrainResult:
    models: dict[str, nn.Module]
    history: dict[str, list[float]]            # per optimizer step, keyed by measurement
    epoch_means: dict[str, list[float]]        # per epoch
    sample_grids: dict[int, torch.Tensor]      # epoch -> (n_samples, C, H, W) in [0, 1]
    images_seen: int = 0
    # all seconds below add up across a resume (the checkpoint carries them); wall: perf_counter, CPU: process_time
    train_seconds: float = 0.0                 # wall seconds in training steps (the steps and their one read-back)
    train_cpu_seconds: float = 0.0             # this process's CPU seconds in those steps
    epoch_work_seconds: float = 0.0            # wall seconds after each epoch's steps: grid, snapshot, checkpoint
    wall_seconds: float = 0.0                  # wall seconds of train() as a whole (setup and the bar included)
    cpu_seconds: float = 0.0                   # CPU seconds of the same
    load_averages: list[float] = field(default_factory=list)   # the 1-minute load average at each epoch's end
    # where it trained: one "CPU model (threads), torch version" per machine that trained epochs of it, in order
    machines: list[str] = field(default_factory=list)
    status: str = "complete"                   # or "diverged"
    diverged_at: dict = field(default_factory=dict)


def make_optimizer(cfg: RunConfig, params) -> torch.optim.Optimizer:
    # fused Adam: one kernel for all parameters (CPU and CUDA); RMSprop has no fused kernel
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, fused=True)
    return torch.optim.RMSprop(params, lr=cfg.lr, foreach=True)


def sample_epochs(epochs: int, count: int = 4) -> list[int]:
    """Up to `count` epochs, evenly spaced, always including the first and the last."""
    if epochs <= count:
        return list(range(1, epochs + 1))
    return sorted({round(1 + i * (epochs - 1) / (count - 1)) for i in range(count)})


def snapshot_epochs(epochs: int) -> list[int]:
    """Log-spaced epochs at which the yardstick measures a run: 1 + ceil(log2 E) of them, from the
    first to the last (E = 3: 1, 2, 3; 15: 1, 2, 4, 8, 15; 25: 1, 2, 4, 7, 13, 25)."""
    count = 1 + math.ceil(math.log2(max(epochs, 1)))
    if count == 1:
        return [epochs]
    return sorted({round(epochs ** (i / (count - 1))) for i in range(count)})


# ---- sampling: the family decides how latents become images ---------------------------------

@torch.inference_mode()
def generate(cfg: RunConfig, models: dict, z: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] (B, C, H, W) from latents z (B, latent_dim), by the run's family."""
    return families.get(cfg.family).generate(cfg, models, z)


def generate_many(cfg: RunConfig, models: dict, n: int, seed: int, device, batch: int = 500) -> torch.Tensor:
    gen = torch.Generator(device="cpu").manual_seed(seed)
    z = torch.randn(n, cfg.latent_dim, generator=gen).to(device)
    chunks = z.tensor_split(max(1, -(-n // batch)))      # even chunks: never a lone image for BatchNorm
    return torch.cat([generate(cfg, models, chunk) for chunk in chunks])


def build_models(cfg: RunConfig) -> dict[str, nn.Module]:
    """The run's networks, freshly initialised by its family."""
    return families.get(cfg.family).build_models(cfg)


# ---- the loop ---------------------------------------------------------------------------------

def machine(device) -> str:
    """What trains here: "AMD EPYC (family 25 model 17; AVX-512), 1 thread, torch 2.14.1" on a CPU, the GPU's name
    on CUDA. A run's summary lists one per machine that trained epochs of it (a resume may move it)."""
    from .bf16 import this_cpu

    threads = torch.get_num_threads()
    where = cuda.device_name(device) or f"{this_cpu()}, {threads} thread{'s' if threads != 1 else ''}"
    return f"{where}, torch {torch.__version__}"


def clocks() -> tuple[float, float]:
    """(wall, CPU) seconds now: time.perf_counter and this process's CPU time (every thread, user and system)."""
    return time.perf_counter(), time.process_time()


def load_average() -> float | None:
    """The machine's 1-minute load average (the kernel's running mean of runnable processes, this one
    included), or None where the OS keeps none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):            # no getloadavg (Windows), or unreadable
        return None


def collect(log: list[dict]) -> dict[str, list[float]]:
    """Stack a list of per-step dicts of 0-dim tensors into lists of floats: one host sync."""
    keys = sorted({k for stats in log for k in stats})
    values = {k: torch.stack([s[k] for s in log if k in s]).float().cpu().tolist() for k in keys}
    return values


def _first_non_finite(values: list[float]) -> int | None:
    return next((i for i, v in enumerate(values) if not math.isfinite(v)), None)


def rng_state(perm_gen: torch.Generator) -> dict:
    """Every random stream training draws from: noise, dropout and the epoch permutations."""
    return {"torch": torch.get_rng_state(), "perm": perm_gen.get_state(), **cuda.rng_state(perm_gen.device)}


def set_rng_state(state: dict, perm_gen: torch.Generator) -> None:
    # generator states must be CPU tensors; a checkpoint loaded onto a GPU has moved them there
    torch.set_rng_state(state["torch"].cpu())
    perm_gen.set_state(state["perm"].cpu())
    cuda.set_rng_state(state, perm_gen.device)


# TrainResult's seconds and load samples, which a checkpoint carries so that a resumed run adds up
TIMES = ("train_seconds", "train_cpu_seconds", "epoch_work_seconds", "wall_seconds", "cpu_seconds", "load_averages",
         "machines")


def checkpoint_state(cfg: RunConfig, result: TrainResult, opts: dict, perm_gen, epoch: int, steps_done: int) -> dict:
    """What resuming after `epoch` needs to continue exactly as if never stopped (torch.load-able
    with weights_only=True: tensors, numbers, strings, lists and dicts only)."""
    return {"config": cfg.to_dict(), "hash": cfg.run_hash(), "epoch": epoch, "steps_done": steps_done,
            "models": {k: m.state_dict() for k, m in result.models.items()},
            "optimizers": {k: o.state_dict() for k, o in opts.items()},
            "rng": rng_state(perm_gen), "history": result.history, "epoch_means": result.epoch_means,
            "sample_grids": result.sample_grids, "images_seen": result.images_seen,
            **{key: getattr(result, key) for key in TIMES}}


def _restore(state: dict, result: TrainResult, opts: dict, perm_gen) -> tuple[int, int]:
    for k, m in result.models.items():
        m.load_state_dict(state["models"][k])
    for k, o in opts.items():
        o.load_state_dict(state["optimizers"][k])
    set_rng_state(state["rng"], perm_gen)
    result.history, result.epoch_means = state["history"], state["epoch_means"]
    result.sample_grids = {int(e): g for e, g in state["sample_grids"].items()}
    result.images_seen = state["images_seen"]
    for key in TIMES:
        setattr(result, key, state[key])
    return state["epoch"] + 1, state["steps_done"]


def setup(cfg: RunConfig, device) -> tuple[dict, dict, dict]:
    """What a run starts from, seeded: its networks (on `device`, in the run's memory format), their
    optimizers, and what steps them (torch.compile wrappers sharing the parameters, or the same
    modules). `train` starts here, and `make bench` times exactly this."""
    flush_subnormals()
    torch.manual_seed(cfg.seed)
    models = {k: m.to(device, memory_format=memory_format(cfg)) for k, m in build_models(cfg).items()}
    opts = {k: make_optimizer(cfg, m.parameters()) for k, m in models.items()}
    # compiled wrappers share the parameters; `models` keeps the plain modules for saving
    steppers = {k: torch.compile(m) for k, m in models.items()} if cfg.compile else models
    return models, opts, steppers


def train(cfg: RunConfig, train_split: Split, device, progress: bool = True,
          on_epoch=None, resume: dict | None = None, on_checkpoint=None) -> TrainResult:
    """Train one run of the grid, from scratch or from a `checkpoint_state` (`resume`).

    After each finished epoch: `on_epoch(epoch, result)`, then `on_checkpoint(state)` with the
    state to resume from. A non-finite loss ends the run as "diverged" with its epoch and step.
    """
    started = clocks()
    device = torch.device(device)
    cuda.prepare(device)
    models, opts, steppers = setup(cfg, device)
    perm_gen = torch.Generator(device=device).manual_seed(cfg.seed)
    fixed_z = torch.randn(cfg.n_samples, cfg.latent_dim,
                          generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    result = TrainResult(models, {}, {}, {})
    first_epoch, steps_done = _restore(resume, result, opts, perm_gen) if resume else (1, 0)
    before = result.wall_seconds, result.cpu_seconds           # earlier processes', up to their checkpoint
    if first_epoch <= cfg.epochs and machine(device) not in result.machines[-1:]:
        result.machines.append(machine(device))

    def add_up() -> None:
        now = clocks()
        result.wall_seconds, result.cpu_seconds = (b + n - s for b, n, s in zip(before, now, started))

    keep_grids = set(sample_epochs(cfg.epochs))
    family = families.get(cfg.family)
    watched = family.watched
    bar = tqdm(range(first_epoch, cfg.epochs + 1), desc=f"{cfg.family} {cfg.dataset} {cfg.label}",
               unit="epoch", file=progress_stream(), disable=not progress, leave=True,
               initial=first_epoch - 1, total=cfg.epochs)
    for epoch in bar:
        batches = epoch_batches(len(train_split), cfg.batch_size, perm_gen, device)
        log: list[dict] = []
        wall, cpu = clocks()
        family.run_epoch(cfg, steppers, opts, train_split, batches, log, steps_done)
        values = collect(log)                   # also waits for the device
        work_wall, work_cpu = clocks()
        result.train_seconds += work_wall - wall
        result.train_cpu_seconds += work_cpu - cpu
        if (load := load_average()) is not None:
            result.load_averages.append(load)
        result.images_seen += len(batches) * cfg.batch_size
        for key, vals in values.items():
            result.history.setdefault(key, []).extend(vals)
            result.epoch_means.setdefault(key, []).append(sum(vals) / len(vals))
        bad = _first_non_finite(values[watched])
        if bad is not None:
            result.status = "diverged"
            result.diverged_at = {"epoch": epoch, "step": bad + 1, "global_step": steps_done + bad + 1}
            break
        steps_done += len(batches)
        if epoch in keep_grids:
            result.sample_grids[epoch] = generate(cfg, models, fixed_z).cpu()
        bar.set_postfix({watched: f"{result.epoch_means[watched][-1]:.3f}"})
        if on_epoch is not None:
            on_epoch(epoch, result)
        result.epoch_work_seconds += time.perf_counter() - work_wall
        add_up()
        if on_checkpoint is not None:
            saving = time.perf_counter()
            on_checkpoint(checkpoint_state(cfg, result, opts, perm_gen, epoch, steps_done))
            # counted from here on: the checkpoint cannot hold its own saving time
            result.epoch_work_seconds += time.perf_counter() - saving
    bar.close()
    add_up()
    return result
