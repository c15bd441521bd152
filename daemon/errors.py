"""The application's exception tree and the exit code each one means.

    AttenddError        a runtime failure (exit code 1): a device, a database, a bug
    └── UserError       bad input (exit code 2): config, file, arguments
        └── ConfigError the configuration file is invalid; carries every problem

The CLI catches :class:`AttenddError`, prints ``str(error)`` without a
traceback and exits with ``error.exit_code`` (SPEC §4.1: 0 success,
1 runtime failure, 2 bad input). Messages never contain secrets.
"""

from __future__ import annotations

from collections.abc import Iterable


class AttenddError(Exception):
    """Base of attendd's own errors; a runtime failure unless a subclass says otherwise."""

    exit_code: int = 1


class UserError(AttenddError):
    """Bad input from the user: a config, a file or an argument.

    The message is one line that names the culprit (a path, a key, an
    argument) and is shown as-is, without a traceback.
    """

    exit_code = 2


class ConfigError(UserError):
    """The configuration cannot be used; ``problems`` lists every reason.

    Each problem reads ``"{file}: {key.path}: {message}"`` (or
    ``"{file}: line N, column M: {message}"`` for TOML syntax errors), so an
    admin can fix everything in one go. ``str()`` is the problems, one per line.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)
