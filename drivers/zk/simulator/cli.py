"""The command-line entry of the simulator: ``attendd simulate-device`` (zk driver).

Builds a :class:`~.device.SimulatedTerminal` from a USB export or synthetic
punches and serves it with :class:`~.transport.SimulatorServer` in the
foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..._foreground import announce, until_stopped
from ..._models import Punch
from .device import SimulatedTerminal
from .synthetic import make_users, synthetic_punches
from .transport import DEFAULT_PACKET_PAUSE, SimulatorServer

__all__ = ["DEFAULT_RECORDS", "CannotListen", "run_simulator", "wall_clock"]

DEFAULT_RECORDS = 1000


class CannotListen(OSError):
    """The simulator's port cannot be bound (in use, not ours, or the host does not resolve).

    Its own class so that ``attendd simulate-device`` can say so in one line without taking
    every ``OSError`` of the serving loop for a binding problem.
    """


def wall_clock(tz: str | None) -> Callable[[], datetime]:
    """A terminal's clock: the host's time now in zone ``tz`` as naive local time (a terminal
    knows no zone); None: the host's local time. ZoneInfoNotFoundError for an unknown zone."""
    if tz is None:
        return datetime.now
    zone = ZoneInfo(tz)
    return lambda: datetime.now(zone).replace(tzinfo=None)


def run_simulator(
    port: int,
    *,
    records: int | None = None,
    attlog: Path | None = None,
    punches: list[Punch] | None = None,
    comm_key: int = 0,
    users: int | None = None,
    serial: str = "SIM00000001",
    host: str = "127.0.0.1",
    record_size: int = 40,
    encoding: str = "gbk",
    tz: str | None = None,
    packet_pause: float = DEFAULT_PACKET_PAUSE,
    reply_delay: float = 0.0,
) -> None:
    """Serve a simulated terminal until Ctrl-C or SIGTERM (``attendd simulate-device``).

    ``tz``: the terminal's clock shows the host's time in this zone (naive, as a terminal keeps
    it), so a daemon of a site in that zone sees no drift on a host that runs in UTC; None: the
    host's own local time. ``packet_pause`` and ``reply_delay``: see :class:`SimulatorServer`.

    The log comes from ``attlog`` (a USB export, see :mod:`drivers.attlog`), from
    ``punches`` (such an export already read) or is ``records`` synthetic punches
    (default 1,000); only one of them. ``users=N``
    enrols PINs 1..N (and synthetic punches use those N people); otherwise one
    user per PIN in the log. Prints one line saying where it listens; raises
    :class:`CannotListen` when the port cannot be bound.
    """
    if sum(x is not None for x in (attlog, punches, records)) > 1:
        raise ValueError("give one of records, attlog and punches")
    if attlog is not None:
        from ...attlog import read_attlog

        punches = read_attlog(attlog)
    elif punches is None:
        punches = synthetic_punches(DEFAULT_RECORDS if records is None else records, pins=users or 50)
    user_list = None
    if users is not None:
        user_list = make_users((str(i) for i in range(1, users + 1)), encoding=encoding)
    terminal = SimulatedTerminal(
        serial=serial,
        punches=punches,
        users=user_list,
        comm_key=comm_key,
        record_size=record_size,
        encoding=encoding,
        clock=wall_clock(tz),
    )
    server = SimulatorServer(terminal, host=host, port=port, packet_pause=packet_pause, reply_delay=reply_delay)
    try:
        server.start()
    except OSError as exc:
        raise CannotListen(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    with until_stopped() as stopping, server:
        announce(
            f"Simulated ZKTeco terminal {serial} listening on {host}:{server.port} (TCP and UDP): "
            f"{len(terminal.punches)} records ({record_size}-byte layout), {len(terminal.users)} users, "
            f"comm key {'required' if comm_key else 'none'}, clock {tz or 'host local time'} "
            f"({terminal.clock_now():%Y-%m-%d %H:%M})"
        )
        while not stopping.wait(0.5):
            pass
