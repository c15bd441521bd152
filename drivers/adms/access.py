"""Who may push, and the bounds of the listener: plain data the daemon builds from its config.

The listener (:mod:`.server`) enforces them; nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from .._models import BadRecord, Punch

__all__ = ["DeviceAccess", "Limits", "OnUpload", "Upload", "UploadRefused"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class DeviceAccess:
    """A pushing terminal's serial number and where it may push from.

    ``networks``: the addresses / CIDR ranges its requests may come from (a
    centre's terminals have fixed LAN addresses); ``any_address``: accept any
    peer (the config must say so explicitly).
    """

    serial: str
    name: str
    networks: tuple[Network, ...] = ()
    any_address: bool = False

    def allows(self, peer: str) -> bool:
        if self.any_address:
            return True
        try:
            addr = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in n for n in self.networks)


@dataclass(frozen=True, slots=True)
class Limits:
    """The listener's bounds; each has a config key under ``[daemon]`` (``push_*``)."""

    max_body: int = 4 * 1024 * 1024  # bytes; a day's full re-upload of 20,000 lines is ~1 MB
    max_connections: int = 256  # concurrent connections; beyond: 503
    idle_timeout: float = 15.0  # seconds a connection may sit idle (keep-alive) before it is closed
    header_timeout: float = 10.0  # seconds to send the request line and headers
    body_timeout: float = 60.0  # seconds to send the whole body
    rate_per_minute: int = 120  # requests per peer address per minute (a terminal polls every few s)
    quarantine_per_day: int = 5_000  # quarantined lines per device per day; beyond: refused, flagged


@dataclass(frozen=True, slots=True)
class Upload:
    """One ATTLOG upload that passed every check: whose, from where, and what it holds."""

    serial: str
    device: str
    peer: str
    punches: list[Punch] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    body_bytes: int = 0


class UploadRefused(Exception):
    """Raised by :data:`OnUpload` to refuse an upload on purpose (e.g. the device's daily
    quarantine cap is reached): answered 503 with the reason logged, nothing stored; the
    terminal keeps the records and sends them again later."""


#: Stores an upload; returns anything. Raises :class:`UploadRefused`, or any other
#: exception when the store itself fails: both are answered 503 (the terminal resends).
OnUpload = Callable[[Upload], object]
