"""RS232 / RS485 terminals through pyserial (SPEC §4.2 ``serial``).

ZKTeco's serial framing is not public, so this driver reads what such lines
carry in practice: one text record per line, printed the moment someone
punches. It is built in layers, like pymodbus:

* :mod:`.transport` opens a device path or a pyserial URL (``socket://``,
  ``rfc2217://``) and reads bytes;
* :mod:`.framing` cuts the bytes into frames (:class:`LineFramer`; a binary
  protocol plugs in its own :class:`Framer`);
* :mod:`.formats` turns a frame into a :class:`~drivers.Punch` or a
  :class:`~drivers.BadRecord` with a configurable pattern and presets;
* :mod:`.reader` runs the three in a thread with reconnects and back-off;
* :mod:`.simulator` is a serial terminal on a pty or a TCP port, with faults.
"""

from .formats import DEFAULT_TIME_FORMAT, PRESETS, RecordFormat, check_pattern, check_time_format, resolve_format
from .framing import BadFrame, Frame, Framer, LineFramer
from .reader import Backoff, OnBatch, OnHealth, ReaderStats, SerialReader
from .transport import check_url, open_port, read_available

__all__ = [
    "DEFAULT_TIME_FORMAT",
    "PRESETS",
    "Backoff",
    "BadFrame",
    "Frame",
    "Framer",
    "LineFramer",
    "OnBatch",
    "OnHealth",
    "ReaderStats",
    "RecordFormat",
    "SerialReader",
    "check_pattern",
    "check_time_format",
    "check_url",
    "open_port",
    "read_available",
    "resolve_format",
]
