"""The registry of model families: name -> the object that knows everything about the family.

    from gen_core import families
    fam = families.get(cfg.family)       # ConfigError naming the known families if unknown
    fam.run_epoch(...); fam.generate(...); fam.title_of(cfg)

Adding a family: write its module (a `Family` subclass, see base.py), add one line to
`_BUILTIN` below, and write its chapter notebooks. `register` adds one at run time (tests do).
"""
from __future__ import annotations

from ..errors import ConfigError, not_allowed
from .base import Family, Question, Row
from .gan import FAMILY as _GAN
from .vae import FAMILY as _VAE
from .wgan import FAMILY as _WGAN

_BUILTIN = (_VAE, _GAN, _WGAN)
_REGISTRY: dict[str, Family] = {fam.name: fam for fam in _BUILTIN}

__all__ = ["Family", "Question", "Row", "get", "names", "register", "unregister"]


def names() -> tuple[str, ...]:
    """The registered families, in the book's order."""
    return tuple(_REGISTRY)


def get(name: str) -> Family:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise not_allowed("family", name, "one of " + ", ".join(_REGISTRY)) from None


def register(family: Family) -> Family:
    """Make `family` known by its name (replacing one of the same name)."""
    if not isinstance(family, Family) or not family.name:
        raise ConfigError(f"cannot register {family!r}: expected a named gen_core.families.Family")
    _REGISTRY[family.name] = family
    return family


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)
