"""Errors the rules raise: each names the key path or the date it is about."""

from __future__ import annotations


class RulesError(ValueError):
    """Invalid rules, or rules that cannot be applied; ``path`` is the key path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class CalendarUnknown(RulesError):
    """The holiday calendar does not cover a year being evaluated."""
