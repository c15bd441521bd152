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

import re
from datetime import datetime

from .._records import BadRecord, Punch

__all__ = ["decode_body", "handshake_options", "parse_attlog_body"]

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def decode_body(body: bytes) -> str:
    """UTF-8, else GBK, else UTF-8 with replacement characters (never raises)."""
    for enc in ("utf-8", "gbk"):
        try:
            return body.decode(enc)
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", errors="replace")


def _int_column(value: str) -> int:
    value = value.strip()
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"non-numeric column {value!r}")
    return int(value)


def parse_attlog_body(body: bytes) -> tuple[list[Punch], list[BadRecord]]:
    """(punches, bad lines) of an ATTLOG upload body; never raises."""
    text = decode_body(body)
    punches: list[Punch] = []
    bad: list[BadRecord] = []
    raw_lines = body.split(b"\n")
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        raw = raw_lines[number - 1].rstrip(b"\r") if number - 1 < len(raw_lines) else line.encode("utf-8", "replace")
        cols = line.split("\t")
        pin = cols[0].strip()
        try:
            if len(cols) < 2:
                raise ValueError("no tab")
            if not pin:
                raise ValueError("empty PIN")
            if not pin.isprintable():
                raise ValueError("PIN is not printable text")
            when = cols[1].strip()
            if not _TIME.match(when) or not when.isascii():
                raise ValueError(f"time {when[:40]!r} is not YYYY-MM-DD HH:MM:SS")
            try:
                ts = datetime.strptime(when, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise ValueError(f"impossible time {when!r}") from None
            state, verify, work_code = (_int_column(cols[i]) if i < len(cols) else 0 for i in (2, 3, 4))
        except ValueError as exc:
            bad.append(BadRecord(index=number, raw=raw, reason=f"line {number}: {exc}", pin=pin or None))
            continue
        punches.append(Punch(pin, ts, state, verify, work_code))
    return punches, bad


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
