"""Which driver talks to a configured device: the one place the daemon picks a driver.

The pull (:mod:`daemon.sync`), the daemon, ``attendd devices`` and the demo all get their
terminal sessions here, so none of them needs the command line to reach a terminal.
"""

from __future__ import annotations

from drivers import Terminal, UnsupportedOperation

__all__ = ["connect_device"]


def connect_device(device) -> Terminal:
    """The driver session for one configured device (not yet opened)."""
    if device.driver == "zk":
        from drivers.zk import ZKTerminal

        return ZKTerminal(
            device.host,
            device.port,
            protocol=device.protocol,
            comm_key=device.comm_key.get_secret_value(),
            encoding=device.encoding,
            timeout=device.timeout,
        )
    raise UnsupportedOperation(f"driver {device.driver!r} is not pulled", device=device.name)
