"""What every family shares, and the interface a family module fills in.

A family is one object (an instance of a `Family` subclass) registered by name in
`gen_core.families`. Everything that makes a family what it is lives on it: its grid rows,
default optimizer, networks, step functions and epoch loop, sampler, logged curves and
estimate, extra measurements, title, and the questions its chapter asks. The training
loop, the results folders, the yardstick and the report ask the family; none of them
branches on a family's name.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import nn

from ..data import Split, to_signed, to_unit

if TYPE_CHECKING:                     # annotations only: config imports the registry
    from ..config import RunConfig


class Row(NamedTuple):
    """One row of the reports' grid: a variant at several latent sizes."""
    variant: str                 # the reports' row label, e.g. "MLP A"
    arch: str                    # mlp | conv
    latents: tuple               # latent sizes it runs at
    fields: dict                 # RunConfig fields: widths, and optimizer settings that differ
    full_epochs: int             # the reports' epochs (the full profile)
    # the profiles that train it (None: every one; grid.rows with a profile). Every row is a parameter
    # of its notebook at every profile; a row the reports only describe in words trains where a
    # verdict can rest on seeds and the reports' epochs (full, long), so quick and smoke keep their cost
    profiles: tuple | None = None

    def trained_at(self, profile: str) -> bool:
        """Whether `profile` trains this row."""
        return self.profiles is None or profile in self.profiles


class Bf16Evidence(NamedTuple):
    """fp32 against bf16 autocast on one run (seed 0), judged by the yardstick's FD: what decides
    whether the quick, long and smoke profiles train a row with bf16 (gen_core/grid.py)."""
    fp32: tuple                  # FD and its 95% bootstrap interval (fd, low, high)
    bf16: tuple
    speedup: float               # training images/s with bf16 over fp32, side by side

    @property
    def overlap(self) -> bool:
        return max(self.fp32[1], self.bf16[1]) <= min(self.fp32[2], self.bf16[2])

    @property
    def use(self) -> bool:
        """bf16 only where it is faster and the yardstick cannot tell the two apart. Where bf16 moved
        FD outside fp32's interval it stays off, even if it moved it down: a different result is
        not the same result."""
        return self.overlap and self.speedup > 1


class Question(NamedTuple):
    """A number whose trend over latent size a chapter reports, besides FD."""
    key: str                     # a summary or yardstick key
    name: str                    # how the sentence names it
    heading: str                 # the paragraph's bold heading and what the number is


def autocast(x: torch.Tensor, amp: bool):
    """bf16 autocast on x's device when `amp` (forward passes only; losses stay fp32)."""
    return torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp)


@contextlib.contextmanager
def eval_mode(*modules: nn.Module):
    """Modules in eval mode inside the block, as they were after it. Every sample the book shows
    or measures is drawn this way: BatchNorm uses its running statistics and dropout is off, so
    an image depends only on its own latent, never on the rest of its batch."""
    was = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, was):
            m.train(mode)


def memory_format(cfg: RunConfig) -> torch.memory_format:
    """channels_last for conv nets and their batches (1.7x on the DCGAN step, CPU too)."""
    return torch.channels_last if cfg.arch == "conv" else torch.contiguous_format


def image_batch(cfg: RunConfig, train: Split, idx: torch.Tensor, signed: bool) -> torch.Tensor:
    """uint8 rows -> float (B, C, H, W) in the model's range ([-1, 1] if signed, else [0, 1])."""
    x = to_signed(train.images[idx]) if signed else to_unit(train.images[idx])
    return x.contiguous(memory_format=memory_format(cfg))


class Family:
    name: str = ""                       # the registry key, RunConfig.family
    title: str = ""                      # how the book names it
    optimizer: dict = {}                 # default optimizer settings of its grid rows
    rows: dict[str, list[Row]] = {}      # dataset -> its grid rows
    curves: list[tuple[str, str]] = []   # (logged key, axis label), one panel each
    estimate: tuple[str, str] = ("", "")  # (logged key, name): the family's own training estimate
    watched: str = ""                    # the loss whose non-finite value ends a run as diverged
    signed: bool = False                 # trains on images in [-1, 1] (Tanh) rather than [0, 1]
    adversarial: bool = False            # trained against a critic or discriminator
    fields: tuple = ()                   # the FAMILY_FIELDS it reads
    interpolation_kinds: tuple = ("linear",)
    encodes: bool = False                # has an encoder (`encode`): latent-mean figures
    summary_columns: list[tuple[str, str, int]] = []  # (summary key, column, digits) its tables add
    comparison_columns: list[tuple[str, str, int]] = []  # the same, for the comparison's table
    variant_pair: tuple = ()             # two variants its chapter compares side by side at equal z
    bench_cases: tuple = ()              # (dataset, variant) rows `make bench` times, an MLP and a conv
    bench_goals: dict = {}               # {device type: {arch: the project/reference ratio to reach}}
    # bf16 measured against fp32 (`python -m gen_core.bench --amp-quality`): (dataset, arch, variant) ->
    # Bf16Evidence; variant None stands for the rows of that dataset and architecture not named
    bf16: dict[tuple, Bf16Evidence] = {}
    latent_questions: list[Question] = []  # trends over latent size its chapter reports besides FD
    sampler_models: tuple = ()           # the networks `generate` needs: what a training snapshot keeps
    checks_collapse: bool = False        # its chapter reports mode collapse per run
    reports_collapse: bool = False       # the reports saw its MLP variant collapse

    # ---- config and grid ------------------------------------------------------------------

    def title_of(self, cfg: RunConfig) -> str:
        """The family as a table names it (a variant of the family may name itself)."""
        return self.title

    def bf16_evidence(self, dataset: str, arch: str, variant: str) -> Bf16Evidence | None:
        """The measurement behind a row's bf16 decision (None: never measured, so fp32)."""
        return self.bf16.get((dataset, arch, variant), self.bf16.get((dataset, arch, None)))

    def validate(self, cfg: RunConfig) -> None:
        """Family rules on a config (ConfigError); the generic ones, and the fields a family does not
        read (`fields`), are checked in config.py."""

    # ---- what a run's name covers (config.training_digest) -----------------------------------

    # the methods that train a run and write its results, and the attributes the loop reads; with
    # the code they name (gen_core/digest.py). Titles, questions, curves, columns, bench cases and
    # goals and the bf16 evidence are not among them: editing those renames no run
    training_methods = ("build_models", "run_epoch", "generate", "generator_steps", "measure", "save_extras")
    training_values = ("watched", "sampler_models")

    def training_code(self) -> tuple[list, dict]:
        """(the family's training methods, the values of its training attributes)."""
        cls = type(self)
        return ([getattr(cls, name) for name in self.training_methods],
                {name: getattr(self, name) for name in self.training_values})

    # ---- networks and training ------------------------------------------------------------

    def build_models(self, cfg: RunConfig) -> dict[str, nn.Module]:
        raise NotImplementedError

    def run_epoch(self, cfg: RunConfig, models: dict, opts: dict, train: Split, batches, log: list,
                  first_step: int) -> None:
        """One pass over `batches` (index tensors), appending one dict of 0-dim tensors per step to `log`."""
        raise NotImplementedError

    def generate(self, cfg: RunConfig, models: dict, z: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) in [0, 1] from latents z (B, latent_dim), without gradients."""
        raise NotImplementedError

    def generator_steps(self, cfg: RunConfig, steps: int) -> int:
        """Updates of the generating network after `steps` optimizer steps (one each, by default)."""
        return steps

    def encode(self, models: dict, x: torch.Tensor) -> torch.Tensor | None:
        """Latent means (B, latent_dim) of images in [0, 1], for families with an encoder; else None."""
        return None

    # ---- after training ---------------------------------------------------------------------

    def measure(self, cfg: RunConfig, models: dict, test: Split) -> dict:
        """Family-specific numbers for summary.json (the VAE's test -ELBO); none by default."""
        return {}

    def save_extras(self, cfg: RunConfig, models: dict, test: Split, run_dir) -> None:
        """Family-specific files in the run folder (the VAE's reconstructions); none by default."""

    # ---- make bench ---------------------------------------------------------------------------

    def reference_step(self, cfg: RunConfig, models: dict, opts: dict, real: torch.Tensor, step: int) -> float:
        """One step as pytorch/examples writes it (plain optimizers, `.item()` every step)."""
        raise NotImplementedError
