"""RunConfig: one frozen, validated description of a training run, and its stable hash."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

FAMILIES = ("vae", "gan", "wgan")
DATASETS = ("mnist", "cifar10")
ARCHS = ("mlp", "conv")
OPTIMIZERS = ("adam", "rmsprop")
CRITIC_NORMS = ("batch", "layer", "none")
PROFILES = ("full", "quick", "smoke")

# (channels, height, width) of each dataset as stored; conv models pad MNIST to 32x32 inside.
IMAGE_SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}

# Source files whose behaviour changes trained results: their digest joins the run hash,
# so editing a model or a loop retrains instead of silently reusing stale results.
_TRAINING_SOURCES = ("config.py", "data.py", "losses.py", "train.py", "metrics.py",
                     "models/vae.py", "models/gan.py")


class ConfigError(ValueError):
    """A parameter that cannot be used; the message is one line naming key, value and what is allowed."""


@dataclass(frozen=True)
class RunConfig:
    family: str                      # vae | gan | wgan
    dataset: str                     # mnist | cifar10
    arch: str                        # mlp | conv
    variant: str                     # the reports' row label, e.g. "MLP A"
    latent_dim: int
    hidden: tuple = ()               # MLP: encoder (VAE) or generator (GAN) hidden widths
    d_hidden: tuple = ()             # MLP GAN/WGAN: discriminator/critic hidden widths
    channels: tuple = ()             # conv: VAE encoder / generator channels
    d_channels: tuple = ()           # conv GAN/WGAN: discriminator/critic channels
    dropout: float = 0.0
    epochs: int = 1
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    betas: tuple = (0.5, 0.999)
    clip: float = 0.0                # WGAN weight clipping; 0 means none
    n_critic: int = 1                # critic steps per generator step (WGAN)
    gp: float = 0.0                  # WGAN-GP gradient penalty weight lambda; 0 means none
    critic_norm: str = "batch"       # conv critic normalisation: batch | layer | none
    train_size: int = 0              # 0 = whole training set, else the first N images
    test_size: int = 0               # 0 = whole test set
    n_samples: int = 64              # fixed-noise images per saved grid
    n_eval_samples: int = 1000       # generated images behind the sample metrics
    seed: int = 0
    amp: bool = False                # bf16 autocast for forward passes (losses stay fp32)
    compile: bool = False            # torch.compile the models

    def __post_init__(self):
        _validate(self)
        # lr=1 and lr=1.0 are one config: normalise numbers so they hash alike
        for f in dataclasses.fields(self):
            if f.type == "float":
                object.__setattr__(self, f.name, float(getattr(self, f.name)))
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    @property
    def image_shape(self) -> tuple:
        return IMAGE_SHAPES[self.dataset]

    @property
    def label(self) -> str:
        return f"{self.variant}, z={self.latent_dim}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def run_hash(self) -> str:
        """Stable over processes: config values plus the digest of the training code."""
        payload = json.dumps(self.to_dict(), sort_keys=True) + _source_digest()
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def run_name(self) -> str:
        slug = self.variant.lower().replace(" ", "").replace("-", "")
        return f"{self.family}-{self.dataset}-{slug}-z{self.latent_dim}-{self.run_hash()}"

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config key {unknown[0]!r}; allowed keys: {', '.join(sorted(known))}")
        coerced = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**coerced)


def _source_digest() -> str:
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for rel in _TRAINING_SOURCES:
        h.update((root / rel).read_bytes())
    return h.hexdigest()


def _fail(key, value, allowed):
    raise ConfigError(f"config {key}={value!r} is not allowed; expected {allowed}")


def _check_type(cfg: RunConfig):
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        expected = {"str": str, "int": int, "float": (int, float), "tuple": tuple, "bool": bool}[f.type]
        if (isinstance(value, bool) and f.type != "bool") or not isinstance(value, expected):
            _fail(f.name, value, f"a value of type {f.type}")
    if any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in cfg.betas):
        _fail("betas", cfg.betas, "two numbers in [0, 1)")
    for key in ("hidden", "d_hidden", "channels", "d_channels"):
        if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in getattr(cfg, key)):
            _fail(key, getattr(cfg, key), "a list of positive integers")


def _validate(cfg: RunConfig):
    _check_type(cfg)
    for key, allowed in (("family", FAMILIES), ("dataset", DATASETS), ("arch", ARCHS),
                         ("optimizer", OPTIMIZERS), ("critic_norm", CRITIC_NORMS)):
        if getattr(cfg, key) not in allowed:
            _fail(key, getattr(cfg, key), "one of " + ", ".join(allowed))
    for key in ("latent_dim", "epochs", "batch_size", "n_critic", "n_samples", "n_eval_samples"):
        if getattr(cfg, key) < 1:
            _fail(key, getattr(cfg, key), "an integer >= 1")
    for key in ("train_size", "test_size", "seed"):
        if getattr(cfg, key) < 0:
            _fail(key, getattr(cfg, key), "an integer >= 0 (0 means all)" if key != "seed" else "an integer >= 0")
    if not cfg.lr > 0:
        _fail("lr", cfg.lr, "a learning rate > 0")
    if not 0 <= cfg.dropout < 1:
        _fail("dropout", cfg.dropout, "a probability in [0, 1)")
    if cfg.clip < 0:
        _fail("clip", cfg.clip, "a clip value >= 0 (0 means no clipping)")
    if cfg.gp < 0:
        _fail("gp", cfg.gp, "a gradient penalty weight >= 0 (0 means none)")
    if cfg.family != "wgan" and (cfg.clip or cfg.n_critic != 1 or cfg.gp):
        key = "clip" if cfg.clip else "gp" if cfg.gp else "n_critic"
        _fail(key, getattr(cfg, key), f"the default for family {cfg.family!r}, which has no critic "
              "(only wgan clips, penalises gradients or runs n_critic steps)")
    if cfg.gp and cfg.clip:
        _fail("clip", cfg.clip, "0 when gp is set: weight clipping and the gradient penalty are alternatives")
    if cfg.critic_norm != "batch" and (cfg.arch != "conv" or cfg.family == "vae"):
        _fail("critic_norm", cfg.critic_norm, "'batch' (the default) unless the model has a conv critic")
    if cfg.gp and cfg.arch == "conv" and cfg.critic_norm == "batch":
        _fail("critic_norm", cfg.critic_norm, "'layer' or 'none' with a gradient penalty: BatchNorm mixes the "
              "examples whose gradients are penalised one by one")
    if cfg.gp and cfg.compile:
        _fail("compile", cfg.compile, "False with a gradient penalty (torch.compile has no double backward)")
    if len(cfg.betas) != 2 or not all(0 <= b < 1 for b in cfg.betas):
        _fail("betas", cfg.betas, "two numbers in [0, 1)")
    # widths of the other architecture or of a network the family lacks would be silently ignored
    foreign = {"mlp": ("channels", "d_channels"), "conv": ("hidden", "d_hidden")}[cfg.arch]
    foreign += ("d_hidden", "d_channels") if cfg.family == "vae" else ()
    for key in foreign:
        if getattr(cfg, key):
            why = ("empty for a VAE, which has no discriminator" if key.startswith("d_") and cfg.family == "vae"
                   else f"empty for arch={cfg.arch!r} (set {'hidden/d_hidden' if cfg.arch == 'mlp' else 'channels/d_channels'})")
            _fail(key, getattr(cfg, key), why)
    if cfg.arch == "mlp":
        if not cfg.hidden:
            _fail("hidden", cfg.hidden, "at least one hidden width for an MLP")
        if cfg.family != "vae" and not cfg.d_hidden:
            _fail("d_hidden", cfg.d_hidden, "at least one hidden width for an MLP discriminator")
    else:
        n = len(cfg.channels)
        if cfg.family == "vae" and not 1 <= n <= 5:
            _fail("channels", cfg.channels, "1 to 5 conv widths (each halves the 32x32 image)")
        if cfg.family != "vae" and n not in (3, 4):
            _fail("channels", cfg.channels, "3 or 4 generator widths (4x4 doubled to 32x32)")
        if cfg.family != "vae" and len(cfg.d_channels) != n:
            _fail("d_channels", cfg.d_channels, f"{n} widths, one per generator block")
