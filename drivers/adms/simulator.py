"""A simulated pushing terminal for tests: what a PUSH-firmware terminal sends."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Iterable
from urllib.parse import urlencode

from .._records import Punch
from .protocol import attlog_line

__all__ = ["PushReply", "get", "push_attlog", "push_body"]


class PushReply(tuple):
    """(HTTP status, body text)."""

    __slots__ = ()

    def __new__(cls, status: int, text: str) -> "PushReply":
        return super().__new__(cls, (status, text))

    @property
    def status(self) -> int:
        return self[0]

    @property
    def text(self) -> str:
        return self[1]


def _request(url: str, data: bytes | None = None, timeout: float = 10) -> PushReply:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        req.add_header("Content-Type", "text/plain")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return PushReply(resp.status, resp.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        with exc:
            return PushReply(exc.code, exc.read().decode("utf-8", "replace"))


def get(base_url: str, path: str, serial: str, **params: str) -> PushReply:
    """GET ``base_url + path?SN=serial&…``."""
    return _request(f"{base_url.rstrip('/')}{path}?{urlencode({'SN': serial, **params})}")


def push_body(base_url: str, serial: str, body: bytes, table: str = "ATTLOG") -> PushReply:
    """POST a raw upload body for ``table``."""
    query = urlencode({"SN": serial, "table": table, "Stamp": "9999"})
    return _request(f"{base_url.rstrip('/')}/iclock/cdata?{query}", data=body)


def push_attlog(base_url: str, serial: str, punches: Iterable[Punch]) -> PushReply:
    """Handshake, then upload ``punches``; the server's reply to the upload.

    A refused handshake (e.g. 403 for an unknown serial) is returned as it is,
    and nothing is uploaded.
    """
    hello = get(base_url, "/iclock/cdata", serial, options="all", pushver="2.4.1", language="83")
    if hello.status != 200:
        return hello
    body = "".join(attlog_line(p) + "\n" for p in punches).encode("utf-8")
    return push_body(base_url, serial, body)
