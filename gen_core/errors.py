"""The two errors users see as one line (`error: ...`), and the one way a bad value is named.
Importable without torch."""


class ConfigError(ValueError):
    """A parameter that cannot be used; the message is one line naming key, value and what is allowed."""


class DataError(RuntimeError):
    """The dataset is missing or unreadable; the message names the path and the fix."""


def print_error(err: Exception) -> int:
    """A command's ending for a ConfigError or DataError (or BookError): `error: ...` on one line, status 2."""
    import sys

    print(f"error: {one_line(err)}", file=sys.stderr)
    return 2


def one_line(text) -> str:
    """The first non-empty line of a message (a library's error may span several)."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def not_allowed(name: str, value, expected: str, sep: str = "=") -> ConfigError:
    """The one "X is not allowed; expected ..." message: `name=value` (a flag: sep=" ")."""
    return ConfigError(f"{name}{sep}{value!r} is not allowed; expected {expected}")


def fail(name: str, value, expected: str, sep: str = "="):
    """Raise `not_allowed(...)`: every check of a parameter ends here."""
    raise not_allowed(name, value, expected, sep)


def config_fail(key: str, value, expected: str):
    """A RunConfig field's error ("config lr=-1 is not allowed; expected a learning rate > 0")."""
    fail(f"config {key}", value, expected)


def check_choice(name: str, value, allowed) -> None:
    """ConfigError unless `value` is one of `allowed` (named in the message)."""
    if value not in allowed:
        fail(name, value, "one of " + ", ".join(allowed))
