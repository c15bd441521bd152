"""The exception tree every driver raises.

    TerminalError                 anything a terminal or its transport did wrong
    ├── TerminalUnreachable       no answer: refused, timed out, no route
    ├── TerminalAuthError         the terminal refused our comm key
    ├── TransferInterrupted       the connection dropped in the middle of a transfer
    ├── ProtocolError             a reply we cannot parse or did not expect
    └── UnsupportedOperation      this driver / firmware cannot do that

Messages never contain comm keys or passwords.
"""

from __future__ import annotations


class TerminalError(Exception):
    """Base of every driver error; ``device`` names the terminal when known."""

    def __init__(self, message: str, *, device: str | None = None) -> None:
        super().__init__(message)
        self.device = device

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.device}: {base}" if self.device else base


class TerminalUnreachable(TerminalError):
    """The terminal did not answer (connection refused, timeout, no route)."""


class TerminalAuthError(TerminalError):
    """The terminal refused the comm key (wrong key, or a key was needed)."""


class TransferInterrupted(TerminalError):
    """The connection dropped while data was being transferred; nothing of it is used."""


class ProtocolError(TerminalError):
    """The terminal answered something we cannot parse or did not expect."""


class UnsupportedOperation(TerminalError):
    """The driver or the terminal's firmware does not offer this operation."""
