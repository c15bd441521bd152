"""``attendd simulate-device`` and ``listen-serial``: trying a terminal out.

``simulate-device`` plays a terminal (ZKTeco, or a serial one printing lines); ``listen-serial``
runs only the serial readers of ``attendd run``, against a real serial terminal or a simulated one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.serial import PRESETS

from ..errors import AttenddError, UserError
from .context import Context
from .output import say
from .parser import Subcommands, int_between, seconds
from .service import serial_listener

if TYPE_CHECKING:
    from drivers import Punch

#: The most synthetic records ``simulate-device --records`` makes: a full terminal's log, about
#: 170 MB and 2 s to build (more would only fill the memory of the machine trying it out).
MAX_RECORDS = 1_000_000
#: The most enrolled users: a terminal numbers its users with 16 bits.
MAX_USERS = 65535
#: ``simulate-device --tz`` without a config: Beijing time, the zone of every site the daemon serves.
DEFAULT_TZ = "Asia/Shanghai"


def register(sub: Subcommands) -> None:
    s = sub.add_parser("simulate-device", help="run a simulated terminal: ZKTeco (TCP and UDP on one port) or serial")
    s.add_argument(
        "--driver",
        choices=("zk", "serial"),
        default="zk",
        help="zk (default), or serial: text lines on a TCP port (socket://) or a pty",
    )
    s.add_argument("--port", type=int_between(1, 65535), help="required for zk")
    s.add_argument("--host", default="127.0.0.1")
    src = s.add_mutually_exclusive_group()
    src.add_argument(
        "--records",
        type=int_between(0, MAX_RECORDS),
        metavar="N",
        help=f"N synthetic four-punch-a-day records (at most {MAX_RECORDS:,})",
    )
    src.add_argument("--attlog", metavar="FILE", help="serve the punches of a USB attlog export")
    s.add_argument("--comm-key", type=int_between(0, 999999), default=0, metavar="K", help="0 (none) to 999999")
    s.add_argument(
        "--users",
        type=int_between(1, MAX_USERS),
        default=None,
        metavar="N",
        help=f"number of enrolled users, at most {MAX_USERS} (default: one per PIN)",
    )
    s.add_argument("--serial", default="SIM00000001", help="the serial number it reports (1 to 64 characters)")
    s.add_argument("--record-size", type=int, choices=(8, 16, 40, 49), default=40)
    s.add_argument("--encoding", default="gbk")
    s.add_argument(
        "--tz",
        metavar="ZONE",
        help=f"the zone the terminal's clock shows (default: the config's [site] timezone, else {DEFAULT_TZ})",
    )
    for flag, most, default, what in (
        ("--packet-pause", 10, None, "pause between the packets of one reply, as firmware sends them (default 0.001)"),
        ("--reply-delay", 60, 0.0, "wait before every reply, like a slow terminal (default 0)"),
    ):
        s.add_argument(flag, type=seconds(most), default=default, metavar="SECONDS", help=what)
    serial = s.add_argument_group("serial terminal (--driver serial)")
    where = serial.add_mutually_exclusive_group()
    where.add_argument("--listen", metavar="HOST:PORT", help="serve socket://HOST:PORT (default --host and --port)")
    where.add_argument("--pty", action="store_true", help="print on a new pseudo-terminal and show its /dev/pts path")
    serial.add_argument("--format", choices=tuple(PRESETS), default="attlog", help="line format (default attlog)")
    serial.add_argument(
        "--interval",
        type=seconds(86400),
        default=0.0,
        metavar="SECONDS",
        help="print one record every SECONDS, as people punch (default: all at once)",
    )
    s.set_defaults(func=simulate_device)

    s = sub.add_parser("listen-serial", help="only the serial readers, in the foreground (to try a serial terminal)")
    s.add_argument("--device", metavar="NAME", action="append", help="only this serial device (repeatable)")
    s.set_defaults(func=listen_serial)


def simulate_device(args: argparse.Namespace) -> int:
    from drivers.zk.simulator import run_simulator
    from drivers.zk.simulator.cli import CannotListen

    exported = _read_attlog(Path(args.attlog)) if args.attlog else None
    _check_encoding(args.encoding)
    if not 0 < len(args.serial) <= 64 or not args.serial.isprintable():
        raise UserError(f"--serial: expected 1 to 64 printable characters, got {args.serial!r}")
    if args.driver == "serial":
        return _simulate_serial(args, exported)
    if args.port is None:
        raise UserError("--port: required for a simulated zk terminal")
    from drivers.zk.simulator.transport import DEFAULT_PACKET_PAUSE

    tz = _terminal_zone(args)
    try:
        run_simulator(
            args.port,
            records=args.records,
            punches=exported,
            comm_key=args.comm_key,
            users=args.users,
            serial=args.serial,
            host=args.host,
            record_size=args.record_size,
            encoding=args.encoding,
            tz=tz,
            packet_pause=DEFAULT_PACKET_PAUSE if args.packet_pause is None else args.packet_pause,
            reply_delay=args.reply_delay,
        )
    except CannotListen as exc:
        raise AttenddError(f"simulate-device: {exc.strerror}") from None
    return 0


def _terminal_zone(args: argparse.Namespace) -> str:
    """``--tz``, else the site's time zone when a config is given or found, else :data:`DEFAULT_TZ`.

    A terminal keeps the local time of the office it hangs in; the host running the simulator
    often runs in UTC, which would show the daemon an 8-hour drift that no real terminal has.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if args.tz is None:
        from .. import config as config_mod

        explicit = Path(args.config) if getattr(args, "config", None) else None
        if explicit is None and config_mod.find_config(None) is None:
            return DEFAULT_TZ
        return Context.from_args(args).config.site.timezone
    try:
        ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"--tz: unknown time zone {args.tz!r} (expected an IANA name, e.g. {DEFAULT_TZ})") from None
    return str(args.tz)


def _read_attlog(path: Path) -> list[Punch]:
    """The punches of ``--attlog FILE``; a file that is missing or not an export is one line."""
    from drivers.attlog import read_attlog

    if not path.exists():
        raise UserError(f"--attlog: {path}: no such file")
    if not path.is_file():
        raise UserError(f"--attlog: {path}: not a file")
    try:
        return read_attlog(path)
    except OSError as exc:
        raise UserError(f"--attlog: {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # names the file and its first line that is not a record
        raise UserError(f"--attlog: {exc}") from None


def _check_encoding(name: str) -> None:
    """A text encoding Python knows (``rot13`` and ``zlib`` are codecs, not text encodings)."""
    try:
        "".encode(name)
    except LookupError:
        raise UserError(f"--encoding: unknown text encoding {name!r} (e.g. gbk, utf-8)") from None


def _simulate_serial(args: argparse.Namespace, exported: list[Punch] | None) -> int:
    """``simulate-device --driver serial``: a terminal printing lines on a TCP port or a pty."""
    from drivers.serial.simulator import run_serial_simulator
    from drivers.zk.simulator import synthetic_punches

    listen = None
    if not args.pty:
        if args.listen:
            host, _, port = args.listen.rpartition(":")
        else:
            host, port = args.host, "" if args.port is None else str(args.port)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError("--listen: expected HOST:PORT (or --pty), e.g. --listen 127.0.0.1:4001")
        listen = (host or "127.0.0.1", int(port))
    punches = (
        exported
        if exported is not None
        else synthetic_punches(100 if args.records is None else args.records, pins=args.users or 50)
    )
    if args.format == "compact" and any(not p.pin.isdigit() for p in punches):
        raise UserError("--format compact: every PIN must be digits")
    try:
        run_serial_simulator(
            punches, listen=listen, use_pty=args.pty, format=args.format, encoding=args.encoding, interval=args.interval
        )
    except OSError as exc:  # binding the port or opening the pty: nothing else there touches the system
        where = f"{listen[0]}:{listen[1]}" if listen else "a pseudo-terminal"
        detail = str(exc.strerror or exc).split(" (while attempting")[0]  # socket.create_server repeats where
        raise AttenddError(f"simulate-device: cannot listen on {where}: {detail}") from None
    return 0


def listen_serial(args: argparse.Namespace) -> int:
    from drivers._foreground import until_stopped

    from ..logging import mask_url_password
    from ..serial_listener import device_serial

    ctx = Context.from_args(args, require_file=True)
    store = ctx.store()
    listener = serial_listener(ctx, store, args.device)
    if not listener.readers:
        raise UserError(
            f'{ctx.config_label}: no serial devices to listen to (add [[devices]] with driver = "serial" and a url)'
        )
    with until_stopped() as stopping, listener:
        for r in listener.readers:
            fmt = r.record_format
            what = f"the {fmt.name} format ({fmt.layout})" if fmt.name in PRESETS else "a custom pattern"
            say(
                f"listening to {r.name} on {mask_url_password(r.url)} at {r.baudrate} baud: {what}, "
                f"stored as {device_serial(ctx.config.device(r.name))}",
                flush=True,
            )
        while not stopping.wait(0.5):
            pass
    for r in listener.readers:
        say(
            f"{r.name}: {r.stats.lines} lines, {r.stats.punches} punches, {r.stats.bad} bad records, "
            f"{r.stats.connections} connection(s)",
            flush=True,
        )
    return 0
