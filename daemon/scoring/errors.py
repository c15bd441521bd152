"""The scoring DB's error: a runtime failure (exit code 1) with a one-line reason."""

from __future__ import annotations

from ..errors import AttenddError


class ScoringError(AttenddError):
    """The scoring DB cannot be reached, is not migrated, or refused a push.

    The message is one line; it names the database by its URL with the
    password hidden, and the driver's reason without SQL or parameters.
    """

    exit_code = 1


class RowError(ScoringError):
    """A pushed row does not fit its table (unknown column, wrong period, day outside the slice)."""
