"""RunConfig: one frozen, validated description of a training run, and its stable hash."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from .digest import code_digest
from .errors import ConfigError, config_fail, fail

DATASETS = ("mnist", "cifar10")
ARCHS = ("mlp", "conv")
OPTIMIZERS = ("adam", "rmsprop")
CRITIC_NORMS = ("batch", "layer", "none")
PROFILES = ("full", "long", "quick", "smoke")

# (channels, height, width) of each dataset as stored; conv models pad MNIST to 32x32 inside.
IMAGE_SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
# Images in the whole training and test sets (train_size=0, test_size=0), as gen_core.data reads
# them. Here, not in grid.py, so that a config can refuse sizes and batches its dataset cannot fill
# before anything is read or trained.
DATASET_SIZES = {"mnist": 60000, "cifar10": 50000}
TEST_SIZES = {"mnist": 10000, "cifar10": 10000}

# The code every run executes: the loop (checkpoints, divergence, sample grids), the run folder it
# writes, and the data path. With the family's training methods (Family.training_code) and all the
# gen_core code these name, its digest joins the run hash (gen_core/digest.py): editing a network, a
# step, a loss or the loop renames exactly the runs that execute it. Named by string, so that this
# module stays at the bottom of the import graph.
TRAINING_CODE = ("gen_core.train:train", "gen_core.results:train_and_save", "gen_core.data:load_split")

# RunConfig fields only some families read; a family that does not read one keeps its default.
FAMILY_FIELDS = ("hidden", "d_hidden", "channels", "d_channels", "dropout", "clip", "n_critic", "gp",
                 "critic_norm")


@dataclass(frozen=True)
class RunConfig:
    family: str                      # a registered family (gen_core.families): vae | gan | wgan
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
    changes: str = ""                # how the run differs from its grid row ("lr=0.0001"), for its label

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
        """"MLP A, z=100", and what a chapter's parameters changed: "MLP A, z=100 (lr=0.0001)"."""
        return f"{self.variant}, z={self.latent_dim}" + (f" ({self.changes})" if self.changes else "")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def run_hash(self) -> str:
        """Stable over processes: the config's values and the digest of the code its training executes."""
        payload = json.dumps(self.to_dict(), sort_keys=True) + training_digest(self.family)
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


def training_digest(family: str) -> str:
    """The code a run of `family` executes: the shared loop and data path, and the family's training
    methods with what they name. Titles, questions, curve labels and bench settings are not in it."""
    from .families import get

    fam = get(family)
    methods, values = fam.training_code()
    return (code_digest(*TRAINING_CODE) + code_digest(*methods, owner=type(fam))
            + json.dumps(values, sort_keys=True, default=repr))


def parse_force(force) -> bool:
    """FORCE as a user writes it: true/false or 1/0 (strings too)."""
    if isinstance(force, str):
        text = force.strip().lower()
        if text not in ("", "0", "1", "true", "false"):
            fail("force", force, "true/false or 1/0")
        return text in ("1", "true")
    if not isinstance(force, (bool, int)) or force not in (0, 1):
        fail("force", force, "true/false or 1/0")
    return bool(force)



def _check_type(cfg: RunConfig):
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        expected = {"str": str, "int": int, "float": (int, float), "tuple": tuple, "bool": bool}[f.type]
        if (isinstance(value, bool) and f.type != "bool") or not isinstance(value, expected):
            config_fail(f.name, value, f"a value of type {f.type}")
    if any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in cfg.betas):
        config_fail("betas", cfg.betas, "two numbers in [0, 1)")
    for key in ("hidden", "d_hidden", "channels", "d_channels"):
        if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in getattr(cfg, key)):
            config_fail(key, getattr(cfg, key), "a list of positive integers")


def _check_family_fields(cfg: RunConfig, family) -> None:
    """A field its family does not read keeps its default (else it would be silently ignored)."""
    from .families import get, names

    for key in FAMILY_FIELDS:
        default = RunConfig.__dataclass_fields__[key].default
        if key not in family.fields and getattr(cfg, key) != default:
            users = [name for name in names() if key in get(name).fields]
            shown = "empty" if default == () else f"the default ({default!r})"
            config_fail(key, getattr(cfg, key), f"{shown} for family {cfg.family!r}, which does not use it"
                        + (f" (used by {', '.join(users)})" if users else ""))


def _check_sizes(cfg: RunConfig) -> None:
    """Subsets no larger than their split, and at least one batch per epoch. Without this, a
    train_size above the dataset trains on the whole set under the larger number's name, and a
    batch above the training images fails every run at its first epoch (data.epoch_batches)."""
    for key, whole in (("train_size", DATASET_SIZES), ("test_size", TEST_SIZES)):
        if getattr(cfg, key) > whole[cfg.dataset]:
            config_fail(key, getattr(cfg, key), f"0 (all) or at most {whole[cfg.dataset]} for {cfg.dataset}")
    images = cfg.train_size or DATASET_SIZES[cfg.dataset]
    if cfg.batch_size > images:
        config_fail("batch_size", cfg.batch_size, f"at most {images}, the run's training images "
                    f"(train_size={cfg.train_size}" + (f": all of {cfg.dataset})" if not cfg.train_size else ")"))


def _validate(cfg: RunConfig):
    from .families import get, names

    _check_type(cfg)
    for key, allowed in (("family", names()), ("dataset", DATASETS), ("arch", ARCHS),
                         ("optimizer", OPTIMIZERS), ("critic_norm", CRITIC_NORMS)):
        if getattr(cfg, key) not in allowed:
            config_fail(key, getattr(cfg, key), "one of " + ", ".join(allowed))
    for key in ("latent_dim", "epochs", "batch_size", "n_critic", "n_samples", "n_eval_samples"):
        if getattr(cfg, key) < 1:
            config_fail(key, getattr(cfg, key), "an integer >= 1")
    for key in ("train_size", "test_size", "seed"):
        if getattr(cfg, key) < 0:
            config_fail(key, getattr(cfg, key), "an integer >= 0 (0 means all)" if key != "seed" else "an integer >= 0")
    _check_sizes(cfg)
    if not cfg.lr > 0:
        config_fail("lr", cfg.lr, "a learning rate > 0")
    if not 0 <= cfg.dropout < 1:
        config_fail("dropout", cfg.dropout, "a probability in [0, 1)")
    if cfg.clip < 0:
        config_fail("clip", cfg.clip, "a clip value >= 0 (0 means no clipping)")
    if cfg.gp < 0:
        config_fail("gp", cfg.gp, "a gradient penalty weight >= 0 (0 means none)")
    if len(cfg.betas) != 2 or not all(0 <= b < 1 for b in cfg.betas):
        config_fail("betas", cfg.betas, "two numbers in [0, 1)")
    # widths of the other architecture would be silently ignored
    foreign = {"mlp": ("channels", "d_channels"), "conv": ("hidden", "d_hidden")}[cfg.arch]
    for key in foreign:
        if getattr(cfg, key):
            config_fail(key, getattr(cfg, key), f"empty for arch={cfg.arch!r} (set "
                  f"{'hidden/d_hidden' if cfg.arch == 'mlp' else 'channels/d_channels'})")
    _check_family_fields(cfg, get(cfg.family))
    get(cfg.family).validate(cfg)                 # the family's own rules
