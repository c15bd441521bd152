"""A simulated pushing terminal for tests: what a PUSH-firmware terminal sends.

Each call is one HTTP/1.1 request on a connection of its own (``http.client``), from
``source`` when given (e.g. ``"127.0.0.2"``: "another host" on loopback). ``https://``
URLs are accepted; the certificate is not verified (tests use a self-signed one).
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit

from .._models import Punch
from .protocol import attlog_line

__all__ = ["PushReply", "attlog_body", "get", "push_attlog", "push_body"]


class PushReply(tuple[int, str]):
    """(HTTP status, body text)."""

    __slots__ = ()

    def __new__(cls, status: int, text: str) -> PushReply:
        return super().__new__(cls, (status, text))

    @property
    def status(self) -> int:
        return self[0]

    @property
    def text(self) -> str:
        return self[1]


def _connection(base_url: str, timeout: float, source: str | None) -> tuple[http.client.HTTPConnection, str]:
    url = urlsplit(base_url)
    if url.hostname is None:
        raise ValueError(f"no host in {base_url!r}")
    source_address = (source, 0) if source else None
    if url.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            url.hostname, url.port or 443, timeout=timeout, source_address=source_address, context=context
        )
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout, source_address=source_address)
    return conn, url.path.rstrip("/")


def _request(
    base_url: str,
    path: str,
    data: bytes | None = None,
    *,
    timeout: float = 10,
    source: str | None = None,
    content_type: str = "text/plain",
) -> PushReply:
    conn, prefix = _connection(base_url, timeout, source)
    try:
        headers = {"Content-Type": content_type} if data is not None else {}
        conn.request("POST" if data is not None else "GET", prefix + path, body=data, headers=headers)
        resp = conn.getresponse()
        return PushReply(resp.status, resp.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def get(base_url: str, path: str, serial: str, *, source: str | None = None, **params: str) -> PushReply:
    """GET ``base_url + path?SN=serial&…``."""
    return _request(base_url, f"{path}?{urlencode({'SN': serial, **params})}", source=source)


def push_body(
    base_url: str, serial: str, body: bytes, table: str = "ATTLOG", *, source: str | None = None, timeout: float = 10
) -> PushReply:
    """POST a raw upload body for ``table``."""
    query = urlencode({"SN": serial, "table": table, "Stamp": "9999"})
    return _request(base_url, f"/iclock/cdata?{query}", data=body, source=source, timeout=timeout)


def attlog_body(punches: Iterable[Punch]) -> bytes:
    """An ATTLOG upload body: one line per punch, each ending with LF (as firmware sends)."""
    return "".join(attlog_line(p) + "\n" for p in punches).encode("utf-8")


def push_attlog(
    base_url: str, serial: str, punches: Iterable[Punch], *, source: str | None = None, handshake: bool = True
) -> PushReply:
    """Handshake, then upload ``punches``; the server's reply to the upload.

    A refused handshake (e.g. 403 for an unknown serial) is returned as it is,
    and nothing is uploaded.
    """
    if handshake:
        hello = get(base_url, "/iclock/cdata", serial, source=source, options="all", pushver="2.4.1", language="83")
        if hello.status != 200:
            return hello
    return push_body(base_url, serial, attlog_body(punches), source=source)
