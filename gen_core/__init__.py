"""gen_core: the library behind the report (config and grid, families, training, results,
the yardstick) and, in gen_core.report, what the notebooks call."""
from .errors import ConfigError, DataError


def __getattr__(name):          # RunConfig on first use: `import gen_core` stays free of torch
    if name == "RunConfig":
        from .config import RunConfig
        return RunConfig
    raise AttributeError(f"module 'gen_core' has no attribute {name!r}")


__all__ = ["ConfigError", "DataError", "RunConfig"]
