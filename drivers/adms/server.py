"""The ADMS/PUSH HTTP listener: a Starlette app under uvicorn, in a thread of its own.

Endpoints a pushing terminal uses:

``GET /iclock/cdata?SN=…&options=all``
    the handshake: answered with :func:`.protocol.handshake_options`.
``POST /iclock/cdata?SN=…&table=ATTLOG``
    punches: parsed line by line, handed to ``on_upload(Upload(...))`` and answered
    ``OK:<good punches>``; bad lines travel in ``Upload.bad`` (quarantined by the daemon),
    so one bad line never sinks its batch. When ``on_upload`` raises
    (:class:`.access.UploadRefused`, or the store failing) the answer is 503, so the
    terminal keeps the records and sends them again. An empty body calls nothing.
    Other tables (OPERLOG, ATTPHOTO…) are acknowledged and ignored.
``GET /iclock/getrequest?SN=…``
    ``OK``, or the next command queued with :meth:`AdmsServer.queue_command`.
``POST /iclock/devicecmd?SN=…``
    the terminal's result of a command: acknowledged ``OK``.
``GET /iclock/ping?SN=…``
    ``OK``.

Anything else is 404. Bodies are read raw whatever the Content-Type (terminals send
``text/plain``, nothing, or nonsense).

Who may push
    the ``SN`` of the query must be in ``access`` (403 otherwise) and the peer address
    (the TCP peer; proxy headers are not trusted) allowed by its
    :class:`.access.DeviceAccess` (403, nothing stored). Refusals are logged once per
    (serial, address) and 10 minutes with the count since the last line; an allowed
    serial seen from a new address is logged once. Each peer address has a token bucket
    of ``rate_per_minute`` requests (429 with ``Retry-After`` beyond it).

Bounds (:class:`.access.Limits`)
    ``Content-Length`` above ``max_body`` is 413 before anything is read; a chunked body
    is counted while it streams and is 413 as soon as it passes ``max_body``. The bodies
    held in memory at once are at most :data:`BODY_BUDGET` × ``max_body`` (503 with
    ``Retry-After`` beyond), and at most :data:`UPLOAD_WORKERS` are parsed and stored at a
    time, so the memory of the listener is bounded whatever the clients do.
    ``max_connections`` is uvicorn's ``limit_concurrency`` (503 beyond it),
    ``idle_timeout`` its ``timeout_keep_alive``; request headers are limited to
    :data:`MAX_HEADER_BYTES` (h11's incomplete-event size; 400 beyond).

What uvicorn 0.54 / h11 0.16 do, and what this module adds
    *Idle and slow clients.* uvicorn's H11 protocol arms its keep-alive timer only after
    a response: a fresh connection that sends nothing, or sends half a request line and
    stalls, is held open for ever, and a body that stalls leaves the app waiting in
    ``receive()`` for ever. :class:`_Protocol` (a subclass of uvicorn's ``H11Protocol``)
    adds two deadlines: the request line and headers must be complete within
    ``header_timeout`` of the connection (or of the first byte of a keep-alive request),
    and the body within ``body_timeout`` of the headers; past either the connection is
    closed. Bytes trickled in do not extend a deadline.

    *Truncated bodies.* A body shorter than its Content-Length (the client closes, or
    stalls past ``body_timeout`` and is closed) reaches the app as ``http.disconnect``
    (Starlette's ``ClientDisconnect``): nothing is parsed, nothing stored, no ingest run.

    *Broken chunked encoding.* h11 raises ``RemoteProtocolError``; uvicorn answers 400
    itself and closes the connection; the app sees a disconnect and stores nothing.

    *Bodies longer than their Content-Length.* h11 reads exactly Content-Length bytes
    and keeps the rest as the start of the *next* request: uvicorn would answer the
    first one (``OK:n`` for a body cut at an arbitrary byte) and then a 400 for the
    "request" made of the extra bytes. Two checks stop the cut body from being stored:
    (1) :class:`_Protocol` marks the request when any byte arrives after its body and
    before its answer (terminals do not pipeline, and a POST must not be pipelined), and
    the upload is refused 400 when marked — checked after the body is read and again
    after parsing, just before ``on_upload``; (2) an ATTLOG body must end with a line
    end: a last line without one is a line cut off, and the request is answered 400.
    Our simulator and the firmware we know end every record with LF; a firmware that
    does not would get 400 on every upload (logged, nothing lost: it keeps its records).
    Extra bytes that arrive only after the answer can only follow a body that ended on a
    line end, so what was stored were whole lines.

    *TLS.* With ``tls=(certfile, keyfile)`` uvicorn serves HTTPS. asyncio's own
    60-second TLS handshake timeout applies before the connection reaches the protocol.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ipaddress
import logging
import math
import socket
import threading
import time
from collections.abc import Mapping

import h11
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope
from uvicorn.protocols.http.h11_impl import H11Protocol

from .access import DeviceAccess, Limits, OnUpload, Upload, UploadRefused
from .protocol import handshake_options, parse_attlog_body

__all__ = ["AdmsServer", "BODY_BUDGET", "LOG_INTERVAL", "MAX_HEADER_BYTES", "UPLOAD_WORKERS"]

log = structlog.get_logger("attendd.adms")

#: Request line + headers at most (h11's max incomplete event size).
MAX_HEADER_BYTES = 16 * 1024
#: Bodies held at once, in units of ``max_body``.
BODY_BUDGET = 8
#: Uploads parsed and handed to ``on_upload`` at once (a thread pool; the store
#: serialises its writes anyway).
UPLOAD_WORKERS = 2
#: A repeated event (refusal, store failure, slow client) is logged at most once per
#: key and this many seconds, with the count since the last line.
LOG_INTERVAL = 600.0
_PATHS = ("/iclock/cdata", "/iclock/getrequest", "/iclock/ping", "/iclock/devicecmd")
_OVERRUN = "attendd.adms.overrun"
#: The bounds when the caller gives none (a frozen dataclass: one instance serves every listener).
_DEFAULT_LIMITS = Limits()


class _Once:
    """Log an event once per key and interval; counts what it held back (bounded)."""

    def __init__(self, interval: float = LOG_INTERVAL, max_keys: int = 4096) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._seen: dict[object, list[float | int]] = {}  # key -> [last logged, held back]
        self._lock = threading.Lock()

    def __call__(self, key: object) -> int | None:
        """The number of events since the last line (this one included) when one is due."""
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self.interval:
                entry[1] += 1
                return None
            if entry is None and len(self._seen) >= self.max_keys:
                cutoff = now - self.interval
                for k in [k for k, e in self._seen.items() if e[0] < cutoff]:
                    del self._seen[k]
                if len(self._seen) >= self.max_keys:
                    self._seen.clear()
            count = 1 + int(entry[1]) if entry is not None else 1
            self._seen[key] = [now, 0]
            return count


class _Buckets:
    """A token bucket per peer address: ``per_minute`` requests a minute, bursts up to it."""

    def __init__(self, per_minute: int, max_keys: int = 16384) -> None:
        self.capacity = float(max(1, per_minute))
        self.rate = self.capacity / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, list[float]] = {}  # peer -> [tokens, at]

    def take(self, peer: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        b = self._buckets.get(peer)
        if b is None:
            if len(self._buckets) >= self.max_keys:  # forget the buckets that have refilled
                full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.capacity]
                for k in full:
                    del self._buckets[k]
                if len(self._buckets) >= self.max_keys:
                    self._buckets.clear()
            b = self._buckets[peer] = [self.capacity, now]
        tokens = min(self.capacity, b[0] + (now - b[1]) * self.rate)
        b[1] = now
        if tokens >= 1.0:
            b[0] = tokens - 1.0
            return 0.0
        b[0] = tokens
        return (1.0 - tokens) / self.rate


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a body deadline (see the module
    docstring), and the mark of bytes that arrive after a body before its answer."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    owner: AdmsServer

    _deadline: asyncio.TimerHandle | None = None
    _phase: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("header", self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._phase = None

    def _expired(self, phase: str) -> None:
        self._deadline = None
        self._phase = None
        if self.transport.is_closing():
            return
        peer = self.client[0] if self.client else "?"
        self.owner._note_slow(peer, phase)
        self.transport.close()  # connection_lost: a request in progress sees a disconnect

    def _follow(self) -> None:
        """Set the deadline for where the connection is now."""
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._phase != "header" and self.conn.trailing_data[0]:
                self._arm("header", self.header_timeout)  # part of the next request is here
        elif state is h11.SEND_BODY:
            if self._phase != "body":
                self._arm("body", self.body_timeout)
        else:
            self._disarm()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_started and self.conn.their_state is h11.DONE:
            cycle.scope[_OVERRUN] = True  # type: ignore[literal-required]
        if self.conn.their_state is h11.IDLE and self._phase is None:
            self._arm("header", self.header_timeout)
        super().data_received(data)
        cycle = self.cycle
        if (
            cycle is not None
            and not cycle.response_started
            and self.conn.their_state is h11.DONE
            and self.conn.trailing_data[0]
        ):
            cycle.scope[_OVERRUN] = True  # type: ignore[literal-required]
        if not self.transport.is_closing():
            self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            self._disarm()
        else:
            self._follow()


class _UvicornLog(logging.Handler):
    """uvicorn's own log lines, through structlog: errors as errors, the rest at debug
    (its per-request warnings, e.g. "Invalid HTTP request received.", must not flood)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            message = str(record.msg)
        if record.levelno >= logging.ERROR:
            log.error("push listener: uvicorn", message=message, exc_info=record.exc_info)
        else:
            log.debug("push listener: uvicorn", message=message)


def _quiet_uvicorn_loggers() -> None:
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(h, _UvicornLog) for h in logger.handlers):
            logger.handlers = [_UvicornLog()]


def _text(status: int, text: str, *, close: bool = False, headers: dict[str, str] | None = None) -> Response:
    h = dict(headers or {})
    if close:
        h["Connection"] = "close"
    return PlainTextResponse(text, status_code=status, headers=h)


class AdmsServer:
    """The listener; ``port=0`` picks a free port (read :attr:`port` after :meth:`start`).

    ``access``: the pushing terminals by serial number; ``on_upload``: stores one
    :class:`.access.Upload` (runs in a worker thread, never on the event loop);
    ``tls``: (certificate file, key file) to serve HTTPS.
    """

    def __init__(
        self,
        host: str,
        port: int,
        access: Mapping[str, DeviceAccess],
        on_upload: OnUpload,
        *,
        limits: Limits = _DEFAULT_LIMITS,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self._port = port
        self.access = dict(access)
        self.on_upload = on_upload
        self.limits = limits
        self.tls = tls
        self._commands: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        self._next_id = 0
        self._lock = threading.Lock()
        self._once = _Once()
        self._seen: set[tuple[str, str]] = set()
        self._buckets = _Buckets(limits.rate_per_minute)
        self._budget = BODY_BUDGET * limits.max_body
        self._in_memory = 0  # body bytes held now (event-loop thread only)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST"])])

    # -- life cycle

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1] if self._sock is not None else self._port

    @property
    def allowlist(self) -> list[str]:
        """The serial numbers that may push, sorted."""
        return sorted(self.access)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def _bind(self) -> socket.socket:
        try:
            family = (
                socket.AF_INET6
                if isinstance(ipaddress.ip_address(self.host), ipaddress.IPv6Address)
                else socket.AF_INET
            )
        except ValueError:
            family = socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets TCP_NODELAY
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen on {self.host}:{self._port}: {exc.strerror or exc}") from exc
        sock.setblocking(False)
        return sock

    def start(self) -> AdmsServer:
        """Listen and serve in a background thread; returns once uvicorn is listening.

        Raises OSError (one line: address, port, reason) when the port cannot be bound.
        """
        if self._server is not None:
            return self
        limits = self.limits
        protocol = type(
            "AdmsProtocol",
            (_Protocol,),
            {
                "header_timeout": limits.header_timeout,
                "body_timeout": limits.body_timeout,
                "owner": self,
            },
        )
        _quiet_uvicorn_loggers()
        config = uvicorn.Config(
            self.app,
            http=protocol,
            ws="none",
            lifespan="off",
            interface="asgi3",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            limit_concurrency=limits.max_connections,
            timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]  # a float works
            timeout_graceful_shutdown=3,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        config.load()  # a bad certificate or key raises here, in the caller's thread
        sock = self._bind()
        server = uvicorn.Server(config)
        self._pool = concurrent.futures.ThreadPoolExecutor(UPLOAD_WORKERS, thread_name_prefix="adms-upload")
        failed: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # noqa: BLE001 - SystemExit from a failed startup too
                failed.append(exc)

        self._sock, self._server = sock, server
        self._thread = threading.Thread(target=run, name="adms-server", daemon=True)
        self._thread.start()
        while not server.started and self._thread.is_alive():
            time.sleep(0.005)
        if not server.started:
            self._thread.join(5)
            self._cleanup()
            reason = failed[0] if failed else "the server stopped"
            raise OSError(f"cannot serve on {self.host}:{self._port}: {reason}")
        log.info("push listener started", host=self.host, port=self.port, scheme=self.scheme, devices=len(self.access))
        return self

    def _cleanup(self) -> None:
        if self._sock is not None:
            self._port = self._sock.getsockname()[1] if self._sock.fileno() >= 0 else self._port
            self._sock.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._sock = self._server = self._thread = self._pool = None

    def stop(self) -> None:
        if self._server is None:
            return
        self._port = self.port
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._cleanup()

    def __enter__(self) -> AdmsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- commands

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

    # -- logging helpers

    def _note_slow(self, peer: str, phase: str) -> None:
        count = self._once(("slow", peer, phase))
        if count is not None:
            log.info(
                "push listener dropped a slow client",
                client=peer,
                waiting_for="headers" if phase == "header" else "the body",
                times=count,
            )

    def _refuse(self, status: int, reason: str, serial: str | None, peer: str, **kw: object) -> None:
        key = ("refused", reason, serial if reason != "unknown serial" else None, peer)
        count = self._once(key)
        if count is not None:
            log.warning("push refused", reason=reason, serial=serial, client=peer, status=status, times=count, **kw)

    # -- the app

    async def _dispatch(self, request: Request) -> Response:
        peer = request.client.host if request.client else ""
        post = request.method == "POST"
        try:
            response = await self._handle(request, peer, post)
        except ClientDisconnect:
            response = _text(400, "Bad Request", close=True)  # never sent: the client is gone
        except Exception as exc:  # noqa: BLE001 - never a 500 to a terminal
            log.error("push listener error", client=peer, path=request.url.path, error=repr(exc))
            response = _text(503, "ERROR", close=post)
        log.debug("http", client=peer, method=request.method, path=request.url.path, status=response.status_code)
        return response

    async def _handle(self, request: Request, peer: str, post: bool) -> Response:
        wait = self._buckets.take(peer)
        if wait:
            self._refuse(429, "rate limit", None, peer)
            return _text(429, "Too Many Requests", close=post, headers={"Retry-After": str(math.ceil(wait))})
        path = request.url.path.rstrip("/")
        if path not in _PATHS or (post and path not in ("/iclock/cdata", "/iclock/devicecmd")):
            return _text(404, "Not Found", close=post)
        serial = (request.query_params.get("SN") or "").strip()
        device = self.access.get(serial) if serial else None
        if device is None:
            self._refuse(403, "unknown serial", serial[:40] or None, peer, path=path)
            return _text(403, "Forbidden", close=post)
        if not device.allows(peer):
            self._refuse(403, "address not allowed", serial, peer, device=device.name)
            return _text(403, "Forbidden", close=post)
        if (serial, peer) not in self._seen:
            if len(self._seen) >= 4096:
                self._seen.clear()
            self._seen.add((serial, peer))
            log.info("push terminal seen from an address", serial=serial, device=device.name, client=peer)

        if not post:
            if path == "/iclock/cdata":
                log.info("push handshake", serial=serial, device=device.name)
                return _text(200, handshake_options(serial))
            if path == "/iclock/getrequest":
                return _text(200, self._next_command(serial) or "OK")
            return _text(200, "OK")

        body = await self._read_body(request, serial, peer)
        if isinstance(body, Response):
            return body
        try:
            return await self._upload(request, path, serial, device, peer, body)
        finally:
            self._in_memory -= len(body)

    async def _upload(
        self, request: Request, path: str, serial: str, device: DeviceAccess, peer: str, body: bytes
    ) -> Response:
        if path == "/iclock/devicecmd":
            log.info("push command result", serial=serial, result=body[:200].decode("utf-8", "replace"))
            return _text(200, "OK")
        table = (request.query_params.get("table") or "").upper()
        if table != "ATTLOG":
            log.debug("push table ignored", serial=serial, table=table[:20], bytes=len(body))
            return _text(200, "OK")
        if request.scope.get(_OVERRUN):
            self._refuse(400, "bytes after the body (longer than its Content-Length)", serial, peer)
            return _text(400, "Bad Request", close=True)
        if not body.endswith(b"\n") and body.strip():
            self._refuse(400, "body cut off (its last line has no line end)", serial, peer)
            return _text(400, "Bad Request", close=True)
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._store, request.scope, serial, device, peer, body)

    async def _read_body(self, request: Request, serial: str, peer: str) -> bytes | Response:
        limits = self.limits
        length = request.headers.get("content-length")
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        declared = 0
        if length is not None and not chunked:
            try:
                declared = int(length)
            except ValueError:  # h11 refuses it before we get here
                return _text(400, "Bad Request", close=True)
            if declared > limits.max_body:
                self._refuse(413, "body too large", serial, peer, bytes=declared, max_body=limits.max_body)
                return _text(413, "Payload Too Large", close=True)
        if self._in_memory + declared > self._budget:
            self._refuse(503, "busy: too many bodies in memory", serial, peer)
            return _text(503, "Busy", close=True, headers={"Retry-After": "10"})
        self._in_memory += declared
        held = declared  # bytes reserved in the budget for this body
        parts: list[bytes] = []
        size = 0
        done = False
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_body:
                    self._refuse(413, "body too large", serial, peer, bytes=size, max_body=limits.max_body)
                    return _text(413, "Payload Too Large", close=True)
                if size > held:
                    if self._in_memory + (size - held) > self._budget:
                        self._refuse(503, "busy: too many bodies in memory", serial, peer)
                        return _text(503, "Busy", close=True, headers={"Retry-After": "10"})
                    self._in_memory += size - held
                    held = size
                if chunk:
                    parts.append(chunk)
            body = b"".join(parts)
            del parts
            done = True
        finally:
            if done:
                self._in_memory -= held - len(body)  # the caller releases len(body)
            else:
                self._in_memory -= held
        return body

    def _store(self, scope: Scope, serial: str, device: DeviceAccess, peer: str, body: bytes) -> Response:
        """Parse and hand over one ATTLOG body (in a worker thread)."""
        punches, bad = parse_attlog_body(body, max_bad=self.limits.quarantine_per_day + 1)
        if not punches and not bad:
            return _text(200, "OK:0")
        if scope.get(_OVERRUN):
            self._refuse(400, "bytes after the body (longer than its Content-Length)", serial, peer)
            return _text(400, "Bad Request", close=True)
        upload = Upload(serial=serial, device=device.name, peer=peer, punches=punches, bad=bad, body_bytes=len(body))
        try:
            self.on_upload(upload)
        except Exception as exc:  # noqa: BLE001 - UploadRefused or the store: the terminal resends
            refused = isinstance(exc, UploadRefused)
            count = self._once(("upload failed", serial))
            if count is not None:
                (log.warning if refused else log.error)(
                    "push upload refused; the terminal will resend"
                    if refused
                    else "push upload not stored; the terminal will resend",
                    serial=serial,
                    device=device.name,
                    punches=len(punches),
                    bad=len(bad),
                    error=str(exc) or type(exc).__name__,
                    times=count,
                )
            return _text(503, "ERROR", headers={"Retry-After": "30"})
        log.debug("push upload", serial=serial, device=device.name, punches=len(punches), bad=len(bad))
        return _text(200, f"OK:{len(punches)}")
