"""The rich console attendd prints tables on (the command line and the demo)."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console

__all__ = ["console_for"]


def console_for(out: TextIO) -> Console:
    """On a terminal, fit its width; into a file or pipe, never wrap a row."""
    return Console(file=out, soft_wrap=False, width=None if out.isatty() else 250)
