"""Serving the console: a listening socket bound first (so a port in use is one line, before
anything starts), then uvicorn on it in a thread of its own — for ``attendd web``, and beside the
daemon for ``attendd run`` with ``[web] listen``."""

from __future__ import annotations

import socket
import threading

import uvicorn

from ..errors import AttenddError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a port in use is an :class:`AttenddError` (exit 1)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise AttenddError(f"web console: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class WebServer:
    """uvicorn serving ``app`` on an already bound socket, in a thread: :meth:`start`, :meth:`stop`."""

    def __init__(self, app, host: str, port: int, *, tls: tuple[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self._sock = bind(host, port)
        cert, key = tls if tls else (None, None)
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                ssl_certfile=cert,
                ssl_keyfile=key,
                timeout_keep_alive=15,
                limit_concurrency=256,
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self._server.config.ssl_certfile else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> WebServer:
        # In a thread uvicorn installs no signal handlers: the main thread's own (the daemon's,
        # or ``until_stopped``) decide when to stop, and call :meth:`stop`.
        self._thread = threading.Thread(target=self.run, name="web-console", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
