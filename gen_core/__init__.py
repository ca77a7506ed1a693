"""gen_core: data, models, losses, training loops, metrics, plots and run results for the report."""
from .config import ConfigError, RunConfig
from .data import DataError

__all__ = ["ConfigError", "DataError", "RunConfig"]
