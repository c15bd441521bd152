"""Everything that talks to attendance terminals.

One small :class:`Terminal` interface, the records every driver yields
(:class:`Punch`, :class:`DeviceInfo`, :class:`DeviceUser`, :class:`AttendanceLog`,
:class:`BadRecord`, in ``_models``) with the bounds the store puts on them
(:data:`PIN_MAX_LEN`, :data:`INT_FIELD_MAX`; :func:`punch_problem` checks a record
against them and against what a terminal can enrol), and one exception
tree rooted at :class:`TerminalError`. Transports live in sub-packages
(``drivers.zk`` for the ZKTeco binary protocol over TCP/UDP, ``drivers.adms``
for terminals that push over HTTP, ``drivers.serial`` for RS232/RS485 lines
read through pyserial, each with its simulator). No rules and no database here.
"""

from ._exceptions import (
    ProtocolError,
    TerminalAuthError,
    TerminalError,
    TerminalUnreachable,
    TransferInterrupted,
    UnsupportedOperation,
)
from ._models import (
    INT_FIELD_MAX,
    PIN_MAX_LEN,
    AttendanceLog,
    BadRecord,
    DeviceInfo,
    DeviceUser,
    Punch,
    int_field_problem,
    pin_problem,
    punch_problem,
)
from ._terminal import Terminal

__all__ = [
    "AttendanceLog",
    "BadRecord",
    "DeviceInfo",
    "DeviceUser",
    "INT_FIELD_MAX",
    "PIN_MAX_LEN",
    "ProtocolError",
    "Punch",
    "Terminal",
    "TerminalAuthError",
    "TerminalError",
    "TerminalUnreachable",
    "TransferInterrupted",
    "UnsupportedOperation",
    "int_field_problem",
    "pin_problem",
    "punch_problem",
]
