"""``attendd import …``: files an admin brings in by hand (SPEC §4.1, §4.3)."""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path

from ..errors import UserError
from ..ingest import sort_punches
from ..store import Quarantined
from ..sync import utc_now
from .context import Context

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
file's serial-number line."""


def _device(ctx: Context, name: str):
    for device in ctx.config.devices:
        if device.name == name:
            return device
    names = ", ".join(d.name for d in ctx.config.devices) or "none configured"
    raise UserError(f"--device: no device named {name!r} in {ctx.config_label} (devices: {names})")


def _serial(ctx: Context, store, device, file_serial: str | None, path: Path) -> str:
    configured = getattr(device, "serial", None)
    state = store.device_state(device.name)
    known = configured or (state.serial if state is not None and state.serial else None)
    if known:
        if file_serial and file_serial != known:
            raise UserError(
                f"{path}:1: the export is from terminal {file_serial}, but device {device.name!r} "
                f"is {known} (wrong --device?)"
            )
        return known
    if file_serial:
        return file_serial
    raise UserError(
        f"{path}: device {device.name!r} has no known serial number and the file does not name one; "
        f'set serial = "..." under its [[devices]] entry in {ctx.config_label} '
        "(the terminal shows it under System Info)"
    )


def import_attlog(args) -> int:
    from drivers.attlog import AttlogNotText, read_attlog_file

    ctx = Context.from_args(args)
    device = _device(ctx, args.device)
    path = Path(args.file)
    try:
        scan = read_attlog_file(path)
    except AttlogNotText as exc:
        raise UserError(str(exc)) from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not an attlog file") from None
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None

    rejected = scan.of("rejected")
    for item in rejected[:MAX_LISTED]:
        print(f"{path}:{item.number}: {item.reason}", file=sys.stderr)
    if len(rejected) > MAX_LISTED:
        print(f"{path}: … and {len(rejected) - MAX_LISTED} more rejected lines", file=sys.stderr)
    if rejected and not args.skip_bad:
        raise UserError(
            f"{path}: {len(rejected)} rejected line(s); nothing imported "
            "(fix the file, or import the other lines with --skip-bad)"
        )

    store = ctx.store()
    serial = _serial(ctx, store, device, scan.serial, path)
    now = utc_now()
    now_local = now.astimezone(ctx.tz).replace(tzinfo=None)
    good, aside = sort_punches(
        [item.punch for item in scan.of("punch")],
        now_local=now_local,
        installed=getattr(device, "installed", None),
    )
    # Lines with an impossible time keep their text as the raw form (a file has no bytes record).
    aside += [Quarantined(raw=item.text, reason=item.reason or "bad record", pin=item.pin) for item in scan.of("bad")]
    saved = store.save_punches(
        device_name=device.name,
        device_serial=serial,
        source=ATTLOG_SOURCE,
        punches=good,
        quarantined=aside,
        now_utc=now.astimezone(UTC).replace(tzinfo=None),
        run={"status": "ok", "record_count": len(good) + len(aside), "error": None},
    )
    skipped = len(scan.lines) - len(good) - len(aside) - len(rejected)
    if skipped:
        parts = []
        header, trailer, blank = scan.of("header"), scan.of("trailer"), scan.of("blank")
        if header:
            parts.append(f"serial-number line {header[0].number} ({header[0].text.strip()})")
        if trailer:
            parts.append(f"checksum line {trailer[0].number}")
        if blank:
            parts.append(f"{len(blank)} blank line(s)")
        print(f"{path}: skipped {skipped} line(s) that are not records: {', '.join(parts)}", file=sys.stderr)
    print(
        f"read {len(scan.lines)}, new {saved.new}, duplicate {saved.duplicate}, "
        f"quarantined {len(aside)}, rejected {len(rejected)}"
    )
    return 0
