"""``attendd import …``: files an admin brings in by hand (SPEC §4.1, §4.3).

The ``import`` command is here, with its ``attlog`` action (a terminal's USB export); the clerk's
record kinds (roster, leaves, …) are :mod:`daemon.cli.clerk`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import system_clock
from ..errors import UserError
from ..files import read_user_file
from ..health import ok_state
from ..ingest import save_batch
from ..store import Quarantined
from . import clerk
from .context import Context
from .output import say
from .parser import Parser, Subcommands

if TYPE_CHECKING:
    from ..config import Device
    from ..store import Store

#: Source recorded on ingest runs and quarantined rows for USB exports.
ATTLOG_SOURCE = "usb"
#: How many rejected lines are listed before the rest are only counted.
MAX_LISTED = 20

ATTLOG_HELP = """\
Import a ZKTeco USB attendance export (1_attlog.dat) as punches of --device.

Every line of FILE is counted exactly once; the summary line reads
  read N, new N, duplicate N, quarantined N, rejected N
where read is the number of lines in FILE and
  read = new + duplicate + quarantined + rejected + skipped,
skipped being the serial-number first line, the checksum last line and blank
lines (stated on stderr when there are any). new punches were not stored
before; duplicate ones were (from an earlier import or a pull of the same
terminal: the natural key is serial, PIN, time); quarantined lines are kept
aside and not scored (an impossible date, a reset clock, before the device was
installed, in the future); rejected lines are not records and are listed as
FILE:LINE: reason.

The file is imported in one transaction. Any rejected line makes the import
store nothing and exit 2, unless --skip-bad is given. The serial number is the
device's configured `serial`, else the one its last pull recorded, else the
file's serial-number line; a `driver = "usb"` device without any of them
stores its punches under usb:<name> (as serial-line devices use serial:<name>)."""


def register(sub: Subcommands) -> None:
    """``attendd import KIND FILE``: one sub-action per kind of input file (SPEC §4.1, §4.3)."""
    s = sub.add_parser("import", help="import a file: attlog (USB export), roster, leaves, …")
    kinds = s.add_subparsers(dest="import_kind", metavar="KIND", parser_class=Parser)
    kinds.required = True
    a = kinds.add_parser(
        "attlog",
        help="a ZKTeco USB attendance export (1_attlog.dat)",
        description=ATTLOG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("file", metavar="FILE")
    a.add_argument("--device", metavar="NAME", required=True, help="the configured device the export came from")
    a.add_argument("--skip-bad", action="store_true", help="store the good lines even when some are rejected")
    a.set_defaults(func=import_attlog)
    clerk.add_import_actions(kinds)


def _device(ctx: Context, name: str) -> Device:
    for device in ctx.config.devices:
        if device.name == name:
            return device
    names = ", ".join(d.name for d in ctx.config.devices) or "none configured"
    raise UserError(f"--device: no device named {name!r} in {ctx.config_label} (devices: {names})")


def usb_serial(device: Device) -> str:
    """What the punches of a ``usb`` device without ``serial`` are stored under: ``usb:<name>``,
    as a serial-line device's are under ``serial:<name>`` (:func:`daemon.serial_listener.device_serial`)."""
    return f"usb:{device.name}"


def _serial(ctx: Context, store: Store, device: Device, file_serial: str | None, path: Path) -> str:
    configured = getattr(device, "serial", None)
    state = store.device_state(device.name)
    known = configured or (state.serial if state is not None and state.serial else None)
    if known == usb_serial(device):
        return known  # an export that names its terminal keeps going where the earlier ones went
    if known:
        if file_serial and file_serial != known:
            raise UserError(
                f"{path}:1: the export is from terminal {file_serial}, but device {device.name!r} "
                f"is {known} (wrong --device?)"
            )
        return known
    if file_serial:
        return file_serial
    if device.driver == "usb":
        return usb_serial(device)
    raise UserError(
        f"{path}: device {device.name!r} has no known serial number and the file does not name one; "
        f'set serial = "..." under its [[devices]] entry in {ctx.config_label} '
        "(the terminal shows it under System Info)"
    )


def import_attlog(args: argparse.Namespace) -> int:
    from drivers.attlog import AttlogNotText, scan_attlog_bytes

    ctx = Context.from_args(args)
    device = _device(ctx, args.device)
    path = Path(args.file)
    try:
        scan = scan_attlog_bytes(read_user_file(path, what="attlog file"), name=str(path))
    except AttlogNotText as exc:
        raise UserError(str(exc)) from None

    rejected = scan.of("rejected")
    for item in rejected[:MAX_LISTED]:
        say(f"{path}:{item.number}: {item.reason}", err=True)
    if len(rejected) > MAX_LISTED:
        say(f"{path}: … and {len(rejected) - MAX_LISTED} more rejected lines", err=True)
    if rejected and not args.skip_bad:
        raise UserError(
            f"{path}: {len(rejected)} rejected line(s); nothing imported "
            "(fix the file, or import the other lines with --skip-bad)"
        )

    store = ctx.store()
    serial = _serial(ctx, store, device, scan.serial, path)
    saved = save_batch(
        store,
        device,
        device_serial=serial,
        source=ATTLOG_SOURCE,
        punches=[item.punch for item in scan.of("punch") if item.punch is not None],
        # Lines with an impossible time keep their text as the raw form (a file has no bytes record).
        aside=[Quarantined(raw=item.text, reason=item.reason or "bad record", pin=item.pin) for item in scan.of("bad")],
        now=(now := system_clock()),
        tz=ctx.tz,
        # a USB-only terminal's import is its last good sync (`devices`, `status`); a pulled
        # terminal's state stays the pull's, whose health an import says nothing about
        state=ok_state(now, serial=serial) if device.driver == "usb" else None,
        run={"status": "ok", "error": None},
    )
    skipped = len(scan.lines) - saved.read - len(rejected)
    if skipped:
        parts = []
        header, trailer, blank = scan.of("header"), scan.of("trailer"), scan.of("blank")
        if header:
            parts.append(f"serial-number line {header[0].number} ({header[0].text.strip()})")
        if trailer:
            parts.append(f"checksum line {trailer[0].number}")
        if blank:
            parts.append(f"{len(blank)} blank line(s)")
        say(f"{path}: skipped {skipped} line(s) that are not records: {', '.join(parts)}", err=True)
    say(
        f"read {len(scan.lines)}, new {saved.new}, duplicate {saved.duplicate}, "
        f"quarantined {saved.quarantined}, rejected {len(rejected)}"
    )
    return 0
