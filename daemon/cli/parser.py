"""The argparse pieces the topic modules share (SPEC §4.1)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn, TypeAlias

#: ``--format`` for commands whose rows other tools read (monitoring scripts, spreadsheets).
FORMATS = ("table", "csv", "json")


def add_format(parser: argparse.ArgumentParser, help: str = "table (default), or csv / json for scripts") -> None:
    """``--format table|csv|json`` (:data:`FORMATS`), table by default."""
    parser.add_argument("--format", choices=FORMATS, default="table", help=help)


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


#: What ``add_subparsers()`` returns; each topic module's ``register(sub)`` adds its commands to it.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high``.

    Bounded so that an absurd number is refused before anything runs, in one line, rather
    than overflowing a database column or filling the memory (``--limit 99999999999999999999``).
    """

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {text.strip()}")
        return value

    parse.__name__ = "number"  # what argparse names in its own messages
    return parse


def seconds(high: float) -> Callable[[str], float]:
    """An argparse ``type``: a finite number of seconds from 0 to ``high`` (no ``nan``, no ``inf``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        if not math.isfinite(value) or not 0 <= value <= high:
            raise argparse.ArgumentTypeError(f"expected 0 to {high:g} seconds, got {text.strip()}")
        return value

    parse.__name__ = "seconds"
    return parse
