"""The ADMS/PUSH HTTP listener (standard library only).

Endpoints a pushing terminal uses:

``GET /iclock/cdata?SN=…&options=all``
    the handshake: answered with :func:`.protocol.handshake_options`.
``POST /iclock/cdata?SN=…&table=ATTLOG``
    punches: parsed, handed to ``on_punches(serial, punches, bad)`` and
    answered ``OK:<n>``. When ``on_punches`` raises the answer is HTTP 500,
    so the terminal keeps the records and sends them again: nothing is lost.
    Other tables (OPERLOG, ATTPHOTO…) are acknowledged and ignored.
``GET /iclock/getrequest?SN=…``
    ``OK``, or the next command queued with :meth:`AdmsServer.queue_command`.
``POST /iclock/devicecmd?SN=…``
    the terminal's result of a command: acknowledged ``OK``.
``GET /iclock/ping?SN=…``
    ``OK``.

A serial number not in the allowlist gets HTTP 403 and a log line. Bodies are
read raw whatever the Content-Type (terminals send ``text/plain``, nothing,
or nonsense).
"""

from __future__ import annotations

import collections
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import structlog

from .._records import BadRecord, Punch
from .protocol import handshake_options, parse_attlog_body

__all__ = ["AdmsServer", "OnPunches"]

log = structlog.get_logger("attendd.adms")

OnPunches = Callable[[str, list[Punch], list[BadRecord]], object]

#: The largest upload body accepted (a full-log re-upload is a few MB).
MAX_BODY = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        log.debug("http", client=self.client_address[0], line=format % args)

    # -- helpers

    def _reply(self, status: int, text: str = "OK") -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _serial(self, path: str, query: dict[str, list[str]]) -> str | None:
        """The SN of an allowed terminal, or None after answering 403."""
        serial = (query.get("SN") or [""])[0].strip()
        if serial and serial in self.server.owner.allowlist:
            return serial
        log.warning("push from a terminal not in the allowlist", serial=serial or None,
                    client=self.client_address[0], path=path)
        self._reply(403, "Forbidden")
        return None

    # -- verbs

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        path = url.path.rstrip("/")
        if path not in ("/iclock/cdata", "/iclock/getrequest", "/iclock/ping", "/iclock/devicecmd"):
            self._reply(404, "Not Found")
            return
        serial = self._serial(path, query)
        if serial is None:
            return
        owner = self.server.owner
        if path == "/iclock/cdata":
            log.info("push handshake", serial=serial)
            self._reply(200, handshake_options(serial))
        elif path == "/iclock/getrequest":
            self._reply(200, owner._next_command(serial) or "OK")
        else:
            self._reply(200, "OK")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        path = url.path.rstrip("/")
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._reply(400, "Bad Request")
            return
        if path not in ("/iclock/cdata", "/iclock/devicecmd"):
            self._reply(404, "Not Found")
            return
        serial = self._serial(path, query)
        if serial is None:
            return
        if path == "/iclock/devicecmd":
            log.info("push command result", serial=serial, result=body[:200].decode("utf-8", "replace"))
            self._reply(200, "OK")
            return
        table = (query.get("table") or [""])[0].upper()
        if table != "ATTLOG":
            log.debug("push table ignored", serial=serial, table=table, bytes=len(body))
            self._reply(200, "OK")
            return
        punches, bad = parse_attlog_body(body)
        try:
            self.server.owner.on_punches(serial, punches, bad)
        except Exception as exc:  # noqa: BLE001 - any failure: the terminal must resend
            log.error("push upload not stored; the terminal will resend", serial=serial,
                      punches=len(punches), error=str(exc) or type(exc).__name__)
            self._reply(500, "ERROR")
            return
        log.info("push upload", serial=serial, punches=len(punches), bad=len(bad))
        self._reply(200, f"OK:{len(punches)}")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: "AdmsServer"


class AdmsServer:
    """The listener; ``port=0`` picks a free port (read :attr:`port` after :meth:`start`)."""

    def __init__(self, host: str, port: int, allowlist: Iterable[str], on_punches: OnPunches) -> None:
        self.host = host
        self._port = port
        self.allowlist = frozenset(allowlist)
        self.on_punches = on_punches
        self._commands: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        self._next_id = 0
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd is not None else self._port

    def start(self) -> "AdmsServer":
        httpd = _HTTPServer((self.host, self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="adms-server", daemon=True)
        self._thread.start()
        log.info("push listener started", host=self.host, port=self.port)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._port = self._httpd.server_address[1]
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "AdmsServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def queue_command(self, serial: str, text: str) -> str:
        """Queue ``text`` (e.g. ``DATA QUERY ATTLOG StartTime=…\\tEndTime=…``) for ``serial``.

        Returns the line the terminal will get, ``C:<id>:<text>``; a text that
        already starts with ``C:`` is sent as it is.
        """
        with self._lock:
            if not text.startswith("C:"):
                self._next_id += 1
                text = f"C:{self._next_id}:{text}"
            self._commands[serial].append(text)
        return text

    def _next_command(self, serial: str) -> str | None:
        with self._lock:
            queue = self._commands.get(serial)
            return queue.popleft() if queue else None
