"""The argparse pieces the topic modules share (SPEC §4.1)."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeAlias


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


#: What ``add_subparsers()`` returns; each topic module's ``register(sub)`` adds its commands to it.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"
