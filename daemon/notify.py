"""systemd's notify protocol in a few lines: READY, STOPPING, WATCHDOG, STATUS.

systemd passes a datagram socket in ``$NOTIFY_SOCKET`` (a path, or an
abstract name starting with "@"); outside systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


def notify(*fields: str, environ: dict | None = None) -> bool:
    """Send ``KEY=VALUE`` lines to systemd; False when not under systemd or on error."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
        return True
    except OSError:
        return False


def watchdog_interval(environ: dict | None = None) -> float | None:
    """Seconds between watchdog pings (half of ``$WATCHDOG_USEC``), or None."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec or not usec.isdigit():
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2_000_000
