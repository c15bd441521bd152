"""The ``attendd`` command line (SPEC §4.1).

Exit codes: 0 success, 1 runtime failure (a device or database failed),
2 bad input (config, file, arguments) with a one-line reason and never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..config import BULLETIN_FORMATS
from ..errors import AttenddError, ConfigError, UserError
from . import commands


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="attendd", description="Attendance integration daemon for government service centres.")
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
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("check-config", help="validate the config and report every problem")
    s.add_argument("path", nargs="?", help="config file to check (default: the one --config names or finds)")
    s.set_defaults(func=commands.check_config)

    s = sub.add_parser("db", help="database maintenance")
    dbsub = s.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    dbsub.required = True
    u = dbsub.add_parser("upgrade", help="create or migrate the local store and the scoring-DB tables")
    u.set_defaults(func=commands.db_upgrade)

    s = sub.add_parser("bulletin", help="write the attendance bulletin (考勤通报) for a period")
    s.add_argument("--period", required=True, help="2026-03, 2026-Q1, 2026-H1, 2026 or 2026-W12")
    s.add_argument(
        "--format",
        choices=(*BULLETIN_FORMATS, "all"),
        default="html",
        help="html (default), xlsx, pdf, csv, or all of them (then -o is a directory)",
    )
    s.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write (default: 考勤通报-PERIOD.FORMAT in the current directory)",
    )
    s.set_defaults(func=commands.bulletin)

    s = sub.add_parser(
        "evaluate",
        help="compute and show results for a period (2026-03, 2026-Q1, 2026-H1, 2026, "
        "2026-W12); queues nothing for the scoring DB unless --final or --reopen",
    )
    s.add_argument("--period", required=True)
    s.add_argument(
        "--final",
        action="store_true",
        help="close the period: final results, queued for the scoring DB (what the month close does); "
        "refused while its data is incomplete",
    )
    s.add_argument(
        "--force",
        action="store_true",
        help="with --final: close it although its data is incomplete (needs --by and --reason; recorded)",
    )
    s.add_argument(
        "--reopen",
        action="store_true",
        help="recompute a final period, final again as a new revision (needs --by and --reason; recorded)",
    )
    s.add_argument("--by", metavar="NAME", help="who reopens or force-closes (recorded)")
    s.add_argument("--reason", metavar="TEXT", help="why (recorded)")
    s.set_defaults(func=commands.evaluate)

    s = sub.add_parser("push", help="push a period's results to the scoring DB now")
    s.add_argument("--period", required=True)
    s.set_defaults(func=commands.push)

    s = sub.add_parser("status", help="last run of each job, device health, outbox backlog")
    s.set_defaults(func=commands.status)

    s = sub.add_parser("run", help="the daemon in the foreground (what systemd starts)")
    s.set_defaults(func=commands.run)

    s = sub.add_parser("serve-push", help="only the ADMS/PUSH receiver, in the foreground (to try a pushing terminal)")
    s.add_argument("--listen", metavar="HOST:PORT", help="default: daemon.push_listen")
    s.set_defaults(func=commands.serve_push)

    s = sub.add_parser("sync", help="pull punches from the terminals now")
    s.add_argument("--device", metavar="NAME", action="append", help="only this device (repeatable)")
    s.add_argument("--force", action="store_true", help="download even when the record count is unchanged")
    s.set_defaults(func=commands.sync)

    s = sub.add_parser("devices", help="each device: reachable, serial, firmware, records, clock drift, last sync")
    s.add_argument("--offline", action="store_true", help="do not contact the devices; show only what the store knows")
    s.set_defaults(func=commands.devices)
    dsub = s.add_subparsers(dest="devices_command", metavar="ACTION", parser_class=_Parser)
    u = dsub.add_parser(
        "users", help="roster vs terminals: PINs enrolled but not in the roster, staff enrolled nowhere"
    )
    u.add_argument("--format", choices=("table", "csv", "json"), default="table")
    u.set_defaults(func=commands.device_users)

    s = sub.add_parser("punches", help="show stored punches (did my punch arrive?)")
    s.add_argument("--device", metavar="NAME", help="device name or serial")
    s.add_argument("--staff", metavar="PIN", help="staff number (the PIN enrolled on terminals)")
    s.add_argument("--from", dest="start", metavar="DATE", help="from this date or time (YYYY-MM-DD[ HH:MM])")
    s.add_argument("--to", dest="end", metavar="DATE", help="up to and including this date (or before this time)")
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.add_argument("--limit", type=int, default=None, metavar="N", help="at most N punches")
    s.set_defaults(func=commands.punches)

    s = sub.add_parser("simulate-device", help="run a simulated terminal: ZKTeco (TCP and UDP on one port) or serial")
    s.add_argument(
        "--driver",
        choices=("zk", "serial"),
        default="zk",
        help="zk (default), or serial: text lines on a TCP port (socket://) or a pty",
    )
    s.add_argument("--port", type=int, help="required for zk")
    s.add_argument("--host", default="127.0.0.1")
    src = s.add_mutually_exclusive_group()
    src.add_argument("--records", type=int, metavar="N", help="N synthetic four-punch-a-day records")
    src.add_argument("--attlog", metavar="FILE", help="serve the punches of a USB attlog export")
    s.add_argument("--comm-key", type=int, default=0, metavar="K")
    s.add_argument(
        "--users", type=int, default=None, metavar="N", help="number of enrolled users (default: one per PIN)"
    )
    s.add_argument("--serial", default="SIM00000001")
    s.add_argument("--record-size", type=int, choices=(8, 16, 40, 49), default=40)
    s.add_argument("--encoding", default="gbk")
    serial = s.add_argument_group("serial terminal (--driver serial)")
    where = serial.add_mutually_exclusive_group()
    where.add_argument("--listen", metavar="HOST:PORT", help="serve socket://HOST:PORT (default --host and --port)")
    where.add_argument("--pty", action="store_true", help="print on a new pseudo-terminal and show its /dev/pts path")
    from drivers.serial import PRESETS

    serial.add_argument("--format", choices=tuple(PRESETS), default="attlog", help="line format (default attlog)")
    serial.add_argument(
        "--interval",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="print one record every SECONDS, as people punch (default: all at once)",
    )
    s.set_defaults(func=commands.simulate_device)

    s = sub.add_parser("listen-serial", help="only the serial readers, in the foreground (to try a serial terminal)")
    s.add_argument("--device", metavar="NAME", action="append", help="only this serial device (repeatable)")
    s.set_defaults(func=commands.listen_serial)

    _add_import(sub)
    _add_list(sub)

    s = sub.add_parser("demo", help="a first run: simulated terminals, sync into a local store, summary")
    s.add_argument("--dir", metavar="PATH", help="where to keep the demo's files (default: ./attendd-demo)")
    s.set_defaults(func=commands.demo)
    return p


def _add_import(sub) -> argparse._SubParsersAction:
    """``attendd import KIND FILE``: one sub-action per kind of input file (SPEC §4.1, §4.3)."""
    from . import imports

    s = sub.add_parser("import", help="import a file: attlog (USB export), roster, leaves, …")
    isub = s.add_subparsers(dest="import_kind", metavar="KIND", parser_class=_Parser)
    isub.required = True
    a = isub.add_parser(
        "attlog",
        help="a ZKTeco USB attendance export (1_attlog.dat)",
        description=imports.ATTLOG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("file", metavar="FILE")
    a.add_argument("--device", metavar="NAME", required=True, help="the configured device the export came from")
    a.add_argument("--skip-bad", action="store_true", help="store the good lines even when some are rejected")
    a.set_defaults(func=imports.import_attlog)
    from . import records

    records.add_import_actions(isub)
    return isub


def _add_list(sub) -> None:
    """``attendd list staff|leaves|exemptions|inspections|substitutions`` (SPEC §4.3)."""
    from . import records

    records.add_list(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)  # already `file: key.path: message`, one per line
        return 2
    except UserError as exc:
        print(f"attendd: {exc}", file=sys.stderr)
        return 2
    except AttenddError as exc:
        print(f"attendd: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1) or 1
    except KeyboardInterrupt:
        print("attendd: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


__all__ = ["build_parser", "main"]
