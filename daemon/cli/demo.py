"""``attendd demo``: a first run, with simulated terminals (the demo itself is :mod:`daemon.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .parser import Subcommands


def register(sub: Subcommands) -> None:
    s = sub.add_parser("demo", help="a first run: simulated terminals, sync into a local store, summary")
    s.add_argument("--dir", metavar="PATH", help="where to keep the demo's files (default: ./attendd-demo)")
    s.set_defaults(func=demo)


def demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(Path(args.dir) if args.dir else Path.cwd() / "attendd-demo", args)
