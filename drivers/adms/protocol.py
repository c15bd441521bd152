"""The ADMS/PUSH wire format, without I/O.

An ATTLOG upload (``POST /iclock/cdata?SN=…&table=ATTLOG``) is one punch per
line, tab-separated::

    PIN\\tYYYY-MM-DD HH:MM:SS\\tstate\\tverify\\tworkcode\\t…

with LF or CRLF line ends; the trailing numeric columns default to 0 and
columns after the fifth are ignored. The body is UTF-8, or GBK on older
firmware. A line that is not a punch becomes a :class:`BadRecord` whose
``index`` is its 1-based line number, to be quarantined, never dropped.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from datetime import datetime

from .._models import INT_FIELD_MAX, PIN_MAX_LEN, BadRecord, Punch

__all__ = ["MAX_RAW_KEPT", "body_encoding", "decode_body", "handshake_options", "parse_attlog_body"]

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_COLUMNS = ((2, "state"), (3, "verify"), (4, "work code"))
_INT_DIGITS = len(str(INT_FIELD_MAX))
#: A bad line's raw bytes kept for the quarantine at most (a real line is under 100 bytes;
#: a megabyte of junk without a line end must not become a megabyte quarantine row).
MAX_RAW_KEPT = 512
_CHUNK = 64 * 1024


def _valid(body: bytes, encoding: str) -> bool:
    """Whether ``body`` decodes as ``encoding``, in 64 KB steps (no whole-body copy)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(body)
    try:
        for start in range(0, len(body), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def body_encoding(body: bytes) -> tuple[str, str]:
    """(encoding, errors) of a whole body: UTF-8, else GBK, else UTF-8 with replacement."""
    if body.isascii() or _valid(body, "utf-8"):
        return "utf-8", "strict"
    if _valid(body, "gbk"):
        return "gbk", "strict"
    return "utf-8", "replace"


def decode_body(body: bytes) -> str:
    """UTF-8, else GBK, else UTF-8 with replacement characters (never raises)."""
    encoding, errors = body_encoding(body)
    return body.decode(encoding, errors)


def _int_column(value: str, name: str) -> int:
    value = value.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"{name} {value[:20]!r} is not a number")
    if len(value) > _INT_DIGITS or int(value) > INT_FIELD_MAX:
        raise ValueError(f"{name} {value[:20]} is out of range 0..{INT_FIELD_MAX}")
    return int(value)


def _lines(body: bytes) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line without its line end) of every line, lazily."""
    start, number, size = 0, 0, len(body)
    while start < size:
        end = body.find(b"\n", start)
        if end < 0:
            end = size
        number += 1
        yield number, body[start:end].rstrip(b"\r")
        start = end + 1


def parse_attlog_body(body: bytes, *, max_bad: int | None = None) -> tuple[list[Punch], list[BadRecord]]:
    """(punches, bad lines) of an ATTLOG upload body; never raises.

    Each line is checked against everything the store enforces: a PIN of at most
    :data:`PIN_MAX_LEN` printable characters, state, verify and work code integers in
    0..:data:`INT_FIELD_MAX`, a real date and time. A line that fails becomes a
    :class:`BadRecord` with its raw bytes (at most :data:`MAX_RAW_KEPT`) and the reason,
    so one bad line never sinks its batch.

    The body is walked line by line (never split whole), so memory stays within the
    body plus what is returned: about 150 bytes a punch. ``max_bad``: keep at most this
    many bad lines (a batch with more is refused anyway by the daemon's daily quarantine
    cap, so there is no point in building them).
    """
    encoding, errors = body_encoding(body)
    punches: list[Punch] = []
    bad: list[BadRecord] = []
    pins: dict[str, str] = {}  # one string per PIN, not one per punch
    for number, raw in _lines(body):
        if not raw.strip():
            continue
        if len(raw) > MAX_RAW_KEPT * 4:
            if max_bad is None or len(bad) < max_bad:
                bad.append(_bad_line(number, raw, f"a line of {len(raw)} bytes (kept: the first {MAX_RAW_KEPT})"))
            continue
        line = raw.decode(encoding, errors)
        cols = line.split("\t")
        pin = cols[0].strip()
        try:
            if len(cols) < 2:
                raise ValueError("no tab")
            if not pin:
                raise ValueError("empty PIN")
            if not pin.isprintable():
                raise ValueError("PIN is not printable text")
            if len(pin) > PIN_MAX_LEN:
                raise ValueError(f"PIN of {len(pin)} characters (at most {PIN_MAX_LEN})")
            when = cols[1].strip()
            if not _TIME.match(when) or not when.isascii():
                raise ValueError(f"time {when[:40]!r} is not YYYY-MM-DD HH:MM:SS")
            try:
                ts = datetime.strptime(when, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - the terminal's naive local time
            except ValueError:
                raise ValueError(f"impossible time {when!r}") from None
            state, verify, work_code = (_int_column(cols[i], name) if i < len(cols) else 0 for i, name in _COLUMNS)
        except ValueError as exc:
            if max_bad is None or len(bad) < max_bad:
                # the PIN as it is, or none: a cut one would name somebody else
                bad.append(_bad_line(number, raw, str(exc), pin=pin if 0 < len(pin) <= PIN_MAX_LEN else None))
            continue
        pin = pins.setdefault(pin, pin)
        punches.append(Punch(pin, ts, state, verify, work_code))
    return punches, bad


def _bad_line(number: int, raw: bytes, why: str, *, pin: str | None = None) -> BadRecord:
    """A line of an upload that is not a punch, with (the start of) its bytes and why."""
    return BadRecord(index=number, raw=raw[:MAX_RAW_KEPT], reason=f"line {number}: {why}", pin=pin)


def handshake_options(
    serial: str,
    *,
    attlog_stamp: str = "None",
    error_delay: int = 30,
    delay: int = 10,
    trans_times: str = "00:00;14:05",
    trans_interval: int = 1,
    realtime: bool = True,
) -> str:
    """The options block answering ``GET /iclock/cdata?SN=…&options=all``."""
    return (
        f"GET OPTION FROM: {serial}\n"
        f"ATTLOGStamp={attlog_stamp}\n"
        "OPERLOGStamp=9999\n"
        "ATTPHOTOStamp=None\n"
        f"ErrorDelay={error_delay}\n"
        f"Delay={delay}\n"
        f"TransTimes={trans_times}\n"
        f"TransInterval={trans_interval}\n"
        "TransFlag=TransData AttLog\n"
        f"Realtime={1 if realtime else 0}\n"
        "Encrypt=None\n"
    )


def attlog_line(p: Punch) -> str:
    """One upload line for ``p`` (what a terminal sends)."""
    return f"{p.pin}\t{p.timestamp:%Y-%m-%d %H:%M:%S}\t{p.state}\t{p.verify}\t{p.work_code}\t0\t0"


def data_query_attlog(command_id: int, start: datetime, end: datetime) -> str:
    """A getrequest command asking the terminal to re-upload punches in a window."""
    return f"C:{command_id}:DATA QUERY ATTLOG StartTime={start:%Y-%m-%d %H:%M:%S}\tEndTime={end:%Y-%m-%d %H:%M:%S}"
