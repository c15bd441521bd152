"""``attendd simulate-device`` and ``listen-serial``: trying a terminal out.

``simulate-device`` plays a terminal (ZKTeco, or a serial one printing lines); ``listen-serial``
runs only the serial readers of ``attendd run``, against a real serial terminal or a simulated one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers.serial import PRESETS

from ..errors import UserError
from .context import Context
from .output import say
from .parser import Subcommands
from .service import serial_listener


def register(sub: Subcommands) -> None:
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
    serial.add_argument("--format", choices=tuple(PRESETS), default="attlog", help="line format (default attlog)")
    serial.add_argument(
        "--interval",
        type=float,
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

    attlog = Path(args.attlog) if args.attlog else None
    if attlog is not None and not attlog.is_file():
        raise UserError(f"--attlog: {attlog}: no such file")
    if args.records is not None and args.records < 0:
        raise UserError("--records: must be 0 or more")
    if args.driver == "serial":
        return _simulate_serial(args, attlog)
    if args.port is None:
        raise UserError("--port: required for a simulated zk terminal")
    if not (0 < args.port < 65536):
        raise UserError(f"--port: expected 1-65535, got {args.port}")
    run_simulator(
        args.port,
        records=args.records,
        attlog=attlog,
        comm_key=args.comm_key,
        users=args.users,
        serial=args.serial,
        host=args.host,
        record_size=args.record_size,
        encoding=args.encoding,
    )
    return 0


def _simulate_serial(args: argparse.Namespace, attlog: Path | None) -> int:
    """``simulate-device --driver serial``: a terminal printing lines on a TCP port or a pty."""
    from drivers.attlog import read_attlog
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
    if args.interval < 0:
        raise UserError("--interval: must be 0 or more")
    punches = (
        read_attlog(attlog)
        if attlog
        else synthetic_punches(100 if args.records is None else args.records, pins=args.users or 50)
    )
    if args.format == "compact" and any(not p.pin.isdigit() for p in punches):
        raise UserError("--format compact: every PIN must be digits")
    run_serial_simulator(
        punches, listen=listen, use_pty=args.pty, format=args.format, encoding=args.encoding, interval=args.interval
    )
    return 0


def listen_serial(args: argparse.Namespace) -> int:
    from drivers._foreground import until_stopped

    from ..logging import mask_url_password
    from ..serial_listener import device_serial

    ctx = Context.from_args(args)
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
