"""ZKTeco PUSH / ADMS: terminals that push punches over HTTP (SPEC §4.2 ``adms``).

:mod:`.protocol` parses upload bodies and builds replies (pure, no I/O);
:mod:`.access` who may push and the listener's bounds (plain data the daemon builds from
its config); :mod:`.server` the HTTP listener (Starlette under uvicorn);
:mod:`.simulator` a pushing terminal for tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .access import DeviceAccess, Limits, OnUpload, Upload, UploadRefused
from .protocol import handshake_options, parse_attlog_body

if TYPE_CHECKING:  # for the checker only: at run time the listener is imported on first use
    from .server import AdmsServer

__all__ = [
    "AdmsServer",
    "DeviceAccess",
    "Limits",
    "OnUpload",
    "Upload",
    "UploadRefused",
    "handshake_options",
    "parse_attlog_body",
]


def __getattr__(name: str) -> type[AdmsServer]:
    # the listener pulls in uvicorn and Starlette: only when asked for
    if name == "AdmsServer":
        from .server import AdmsServer

        return AdmsServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
