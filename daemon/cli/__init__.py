"""The ``attendd`` command line (SPEC §4.1).

Exit codes: 0 success, 1 runtime failure (a device or database failed),
2 bad input (config, file, arguments) with a one-line reason and never a
traceback.

Each topic module registers its own subcommands (``register(sub)``) and holds their
handlers; :func:`build_parser` calls them in the order ``attendd --help`` lists them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .. import __version__
from ..errors import AttenddError, ConfigError, UserError
from . import (
    appeals,
    assessment,
    bulletin,
    clerk,
    console,
    demo,
    devices,
    explain,
    imports,
    quarantine,
    results,
    service,
    setup,
    tryout,
)
from .output import say
from .parser import Parser


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="attendd", description="Attendance integration daemon for government service centres.")
    p.add_argument("--version", action="version", version=f"attendd {__version__}")
    p.add_argument(
        "--config", metavar="PATH", help="config file (default /etc/attendd/attendd.toml, then ./attendd.toml)"
    )
    p.add_argument(
        "--log-format",
        choices=("auto", "json", "console"),
        default=None,
        help="log format (default: console on a terminal, JSON otherwise)",
    )
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    setup.register(sub)  # check-config, db upgrade
    bulletin.register(sub)  # bulletin
    results.register(sub)  # evaluate, push
    explain.register(sub)  # explain
    assessment.register(sub)  # assess
    service.register(sub)  # status, run, serve-push
    devices.register(sub)  # sync, devices [users], punches
    tryout.register(sub)  # simulate-device, listen-serial
    imports.register(sub)  # import attlog, and the clerk's kinds: import roster|leaves|…
    clerk.register(sub)  # list
    console.register(sub)  # web, user add|passwd|list|remove, token add|list|remove
    appeals.register(sub)  # appeal add|decide|list
    quarantine.register(sub)  # quarantine list|release|dismiss
    demo.register(sub)  # demo
    return p


#: Arguments that name files: these may be any bytes (a Linux file name need not be UTF-8).
_PATH_ARGUMENTS = frozenset({"config", "path", "file", "attlog", "dir", "output"})


def _check_text(args: argparse.Namespace) -> None:
    """Refuse an argument that is not UTF-8 text (a name, a PIN, a period) before it reaches
    a database or a terminal, where it would fail with an encoding traceback."""
    for dest, value in vars(args).items():
        if dest in _PATH_ARGUMENTS:
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and any("\udc80" <= ch <= "\udcff" for ch in text):
                shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                flag = _FLAGS.get(dest, dest.replace("_", "-"))
                raise UserError(f"--{flag}: expected UTF-8 text, got '{shown}'")


#: Arguments whose ``dest`` is not their flag's name.
_FLAGS = {"start": "from", "end": "to"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_text(args)
        return int(args.func(args) or 0)
    except ConfigError as exc:
        say(str(exc), err=True)  # already `file: key.path: message`, one per line
        return 2
    except UserError as exc:
        say(f"attendd: {exc}", err=True)
        return 2
    except AttenddError as exc:
        say(f"attendd: {exc}", err=True)
        return getattr(exc, "exit_code", 1) or 1
    except KeyboardInterrupt:
        say("attendd: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0


__all__ = ["build_parser", "main"]
