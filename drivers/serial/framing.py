"""Framing: cut the byte stream of a serial line into records.

A serial port delivers bytes in arbitrary pieces (one byte, half a record,
three records and a bit). A :class:`Framer` turns those pieces into whole
frames; the record formats (:mod:`.formats`) never see a partial one. The
framer is the pluggable layer (as in pymodbus: transport below framer below
messages): :class:`LineFramer` serves the text protocols this driver knows,
and a binary protocol would plug in a framer of its own (length-prefixed,
STX/ETX, checksummed …) without touching the reader or the store.

Nothing is lost silently: what cannot be a frame — a line longer than the
limit, the half line left when the connection dropped — comes out as a
:class:`BadFrame` in stream order, and the reader quarantines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["BadFrame", "Frame", "Framer", "LineFramer", "MAX_LINE"]

#: The longest line :class:`LineFramer` accepts by default; a real-time
#: record is well under 200 bytes.
MAX_LINE = 1024

#: How much of a broken frame is kept as its raw evidence.
SAMPLE = 64


@dataclass(frozen=True, slots=True)
class BadFrame:
    """Bytes that are not a whole frame: ``raw`` (at most :data:`SAMPLE` bytes of
    them), how many there were, and why they were dropped."""

    raw: bytes
    reason: str
    size: int


#: What :meth:`Framer.feed` yields: a whole frame, or what could not be one.
Frame = bytes | BadFrame


@runtime_checkable
class Framer(Protocol):
    """Cuts a byte stream into frames; one instance per stream.

    ``feed`` takes the next bytes and returns every frame they complete, in
    order (possibly none); bytes of an unfinished frame wait for the next
    call. ``reset`` forgets the unfinished frame — the reader calls it when
    the connection drops, because the rest of that frame will never come —
    and returns it as a :class:`BadFrame` (None when there was nothing).
    ``discarded`` counts the frames given up that way and as overlong.
    """

    discarded: int

    def feed(self, data: bytes) -> list[Frame]: ...

    def reset(self) -> BadFrame | None: ...


class LineFramer:
    """Text lines ended by LF, CRLF or a bare CR (terminals use all three).

    Lines that are empty or only spaces and tabs are skipped, so a CRLF
    between records, or a terminal that sends a blank line as a keep-alive,
    yields nothing. A line longer than ``max_line`` bytes (binary noise, a
    baud-rate mismatch that never produces a line end) is not buffered: its
    first :data:`SAMPLE` bytes are kept, the rest is counted and dropped
    until the next line end, and it comes out as a :class:`BadFrame`. Memory
    stays bounded by ``max_line`` whatever arrives.
    """

    def __init__(self, max_line: int = MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.max_line = max_line
        self.discarded = 0
        self._buf = bytearray()
        self._skipped = 0  # > 0 while dropping the tail of an overlong line
        self._after_cr = False  # a CR ended the last line: a LF right after it belongs to it

    def feed(self, data: bytes) -> list[Frame]:
        out: list[Frame] = []
        start = 0
        n = len(data)
        if not n:
            return out
        if self._after_cr and data[0] == 0x0A:
            start = 1
        self._after_cr = False
        while start < n:
            cut = _next_line_end(data, start)
            if cut < 0:
                self._keep(data[start:])
                break
            self._keep(data[start:cut])
            self._end_line(out)
            if data[cut] == 0x0D:
                if cut + 1 < n:
                    start = cut + 2 if data[cut + 1] == 0x0A else cut + 1
                    continue
                self._after_cr = True
            start = cut + 1
        return out

    def reset(self) -> BadFrame | None:
        self._after_cr = False
        if self._skipped:
            return self._overlong()
        if not self._buf.strip(b" \t"):
            self._buf.clear()
            return None
        raw = bytes(self._buf)
        self._buf.clear()
        self.discarded += 1
        return BadFrame(
            raw[:SAMPLE], f"incomplete record ({len(raw)} bytes) cut off when the connection dropped", len(raw)
        )

    # --- internals

    def _keep(self, part: bytes) -> None:
        if self._skipped:
            self._skipped += len(part)
            return
        if len(self._buf) + len(part) > self.max_line:
            self._skipped = len(self._buf) + len(part)
            if len(self._buf) < SAMPLE:
                self._buf += part[: SAMPLE - len(self._buf)]
            del self._buf[SAMPLE:]
            return
        self._buf += part

    def _end_line(self, out: list[Frame]) -> None:
        if self._skipped:
            out.append(self._overlong())
            return
        if self._buf.strip(b" \t"):
            out.append(bytes(self._buf))
        self._buf.clear()

    def _overlong(self) -> BadFrame:
        frame = BadFrame(
            bytes(self._buf), f"line longer than {self.max_line} bytes ({self._skipped} bytes) discarded", self._skipped
        )
        self._buf.clear()
        self._skipped = 0
        self.discarded += 1
        return frame


def _next_line_end(data: bytes, start: int) -> int:
    """Index of the first CR or LF at or after ``start``, or -1."""
    lf = data.find(b"\n", start)
    cr = data.find(b"\r", start, lf if lf >= 0 else len(data))
    return cr if cr >= 0 else lf
