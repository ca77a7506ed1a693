"""The two errors users see as one line (`error: ...`), importable without torch."""


class ConfigError(ValueError):
    """A parameter that cannot be used; the message is one line naming key, value and what is allowed."""


class DataError(RuntimeError):
    """The dataset is missing or unreadable; the message names the path and the fix."""
