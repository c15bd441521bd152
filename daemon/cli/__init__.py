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

from ..errors import AttenddError, ConfigError, UserError
from . import bulletin, clerk, demo, devices, imports, results, service, setup, tryout
from .output import say
from .parser import Parser


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="attendd", description="Attendance integration daemon for government service centres.")
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
    service.register(sub)  # status, run, serve-push
    devices.register(sub)  # sync, devices [users], punches
    tryout.register(sub)  # simulate-device, listen-serial
    imports.register(sub)  # import attlog, and the clerk's kinds: import roster|leaves|…
    clerk.register(sub)  # list
    demo.register(sub)  # demo
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
