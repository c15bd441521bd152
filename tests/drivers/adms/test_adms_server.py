"""The ADMS/PUSH listener under attack: who may push, bounds, exact bodies, no poison batch.

Against :class:`AdmsServer` on loopback with a recording ``on_upload``; "another host" is
a client bound to 127.0.0.2. Timeouts are small so the suite stays fast.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
from datetime import datetime

import pytest
from helpers import read_until_closed, self_signed_cert
from structlog.testing import capture_logs

from drivers import INT_FIELD_MAX, PIN_MAX_LEN, Punch
from drivers.adms.access import DeviceAccess, Limits, Upload, UploadRefused
from drivers.adms.protocol import MAX_RAW_KEPT, attlog_line, parse_attlog_body
from drivers.adms.server import AdmsServer
from drivers.adms.simulator import attlog_body, get, push_attlog, push_body

SERIAL = "CKJ3233600123"
OTHER = "CKJ3233600999"  # allowed from anywhere
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
ACCESS = {
    SERIAL: DeviceAccess(SERIAL, "gate", LOOPBACK),
    OTHER: DeviceAccess(OTHER, "hall", any_address=True),
}
LIMITS = Limits(
    max_body=64 * 1024,
    max_connections=1000,
    idle_timeout=1.0,
    header_timeout=1.0,
    body_timeout=0.5,
    rate_per_minute=1_000_000,
    quarantine_per_day=100,
)
LINE = b"1\t2026-06-01 08:51:02\t0\t15\t0\t0\t0\n"


class Recorder:
    """on_upload that keeps every Upload; ``fail`` makes it raise that exception."""

    def __init__(self) -> None:
        self.uploads: list[Upload] = []
        self.fail: BaseException | None = None
        self.lock = threading.Lock()

    def __call__(self, up: Upload) -> None:
        if self.fail is not None:
            raise self.fail
        with self.lock:
            self.uploads.append(up)

    @property
    def punches(self) -> list[Punch]:
        return [p for u in self.uploads for p in u.punches]


@pytest.fixture(scope="module")
def server():
    rec = Recorder()
    srv = AdmsServer("127.0.0.1", 0, ACCESS, rec, limits=LIMITS).start()
    srv.recorder = rec
    yield srv
    srv.stop()


@pytest.fixture
def srv(server):
    server.recorder.uploads.clear()
    server.recorder.fail = None
    return server


def url(srv) -> str:
    return f"http://127.0.0.1:{srv.port}"


def raw(srv, data: bytes, *, then: bytes = b"", pause: float = 0.0, close: bool = False, wait: float = 3.0) -> bytes:
    """Send ``data`` on a raw socket (then ``then`` after ``pause``), return all that comes back
    until the server closes (or ``wait`` passes)."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    try:
        s.sendall(data)
        if pause:
            time.sleep(pause)
        if then:
            s.sendall(then)
        if close:
            s.shutdown(socket.SHUT_WR)
        s.settimeout(wait)
        return read_until_closed(s)
    finally:
        s.close()


def post_head(serial: str = SERIAL, extra: str = "") -> bytes:
    return (f"POST /iclock/cdata?SN={serial}&table=ATTLOG&Stamp=9999 HTTP/1.1\r\nHost: t\r\n{extra}").encode()


# --- who may push ----------------------------------------------------------------------------


def test_a_push_from_an_address_not_allowed_stores_nothing(srv):
    assert push_body(url(srv), SERIAL, LINE, source="127.0.0.2").status == 403
    assert push_attlog(url(srv), SERIAL, [Punch("1", datetime(2026, 6, 1, 8))], source="127.0.0.2").status == 403
    assert get(url(srv), "/iclock/getrequest", SERIAL, source="127.0.0.2").status == 403
    assert srv.recorder.uploads == []
    # the same serial from its own address, and a device allowed from anywhere
    assert push_body(url(srv), SERIAL, LINE) == (200, "OK:1")
    assert push_body(url(srv), OTHER, LINE, source="127.0.0.2") == (200, "OK:1")
    assert [(u.serial, u.device, u.peer) for u in srv.recorder.uploads] == [
        (SERIAL, "gate", "127.0.0.1"),
        (OTHER, "hall", "127.0.0.2"),
    ]


def test_unknown_serial_is_403_and_stores_nothing(srv):
    assert push_body(url(srv), "STRANGER001", LINE).status == 403
    assert get(url(srv), "/iclock/cdata", "STRANGER001", options="all").status == 403
    assert get(url(srv), "/iclock/ping", "").status == 403
    assert srv.recorder.uploads == []


def test_refusals_are_logged_once_per_address_not_per_request(server):
    rec = Recorder()
    with AdmsServer("127.0.0.1", 0, ACCESS, rec, limits=LIMITS) as srv, capture_logs() as logs:
        for _ in range(5):
            assert push_body(url(srv), SERIAL, LINE, source="127.0.0.2").status == 403
        for _ in range(3):
            assert push_body(url(srv), SERIAL, LINE).status == 200
    refused = [e for e in logs if e["event"] == "push refused"]
    assert len(refused) == 1 and refused[0]["client"] == "127.0.0.2" and refused[0]["serial"] == SERIAL
    seen = [e for e in logs if e["event"] == "push terminal seen from an address"]
    assert [(e["serial"], e["client"]) for e in seen] == [(SERIAL, "127.0.0.1")]


def test_rate_limit_answers_429_with_retry_after_and_stores_nothing():
    rec = Recorder()
    limits = Limits(rate_per_minute=5, header_timeout=1, body_timeout=1, idle_timeout=1)
    with AdmsServer("127.0.0.1", 0, ACCESS, rec, limits=limits) as srv:
        replies = [push_body(url(srv), SERIAL, LINE).status for _ in range(5)]
        assert replies == [200] * 5
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("POST", f"/iclock/cdata?SN={SERIAL}&table=ATTLOG", body=LINE)
        resp = conn.getresponse()
        assert resp.status == 429 and int(resp.getheader("Retry-After")) >= 1
        conn.close()
        # another address has its own bucket
        assert push_body(url(srv), OTHER, LINE, source="127.0.0.2").status == 200
    assert len(rec.uploads) == 6


# --- exact bodies ----------------------------------------------------------------------------


def test_a_truncated_body_stores_nothing(srv):
    # Content-Length 1000, 10 bytes, then the client closes
    raw(srv, post_head(extra="Content-Length: 1000\r\n\r\n") + LINE[:10], close=True)
    # the same but the client stalls: closed by the server after body_timeout
    t0 = time.monotonic()
    out = raw(srv, post_head(extra="Content-Length: 1000\r\n\r\n") + LINE[:10])
    assert time.monotonic() - t0 < LIMITS.body_timeout + 1.5
    assert not out.startswith(b"HTTP/1.1 200")
    time.sleep(0.1)
    assert srv.recorder.uploads == []


def test_a_body_longer_than_its_content_length_stores_nothing(srv):
    body = LINE + LINE.replace(b"08:51:02", b"08:52:02")
    # sent at once: the bytes after the body are seen before the answer
    out = raw(srv, post_head(extra=f"Content-Length: {len(body) - 5}\r\n\r\n") + body)
    assert out.startswith(b"HTTP/1.1 400")
    # the extra bytes come later: the cut last line has no line end
    out = raw(srv, post_head(extra=f"Content-Length: {len(body) - 5}\r\n\r\n") + body[:-5], then=body[-5:], pause=0.3)
    assert out.startswith(b"HTTP/1.1 400")
    time.sleep(0.1)
    assert srv.recorder.uploads == []


def test_a_body_whose_last_line_has_no_line_end_is_refused(srv):
    assert push_body(url(srv), SERIAL, LINE + LINE[:-1]).status == 400
    assert srv.recorder.uploads == []


def test_broken_chunked_encoding_is_400_and_stores_nothing(srv):
    head = post_head(extra="Transfer-Encoding: chunked\r\n\r\n")
    out = raw(srv, head + b"5\r\n" + LINE[:5] + b"\r\nzz\r\n" + LINE)  # not a chunk size
    assert out.startswith(b"HTTP/1.1 400")
    out = raw(srv, head + b"3\r\n" + LINE[:10] + b"\r\n0\r\n\r\n")  # a chunk longer than its size
    assert out.startswith(b"HTTP/1.1 400")
    time.sleep(0.1)
    assert srv.recorder.uploads == []
    # a good chunked body is stored
    out = raw(
        srv,
        post_head(extra="Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        + b"%x\r\n" % len(LINE)
        + LINE
        + b"\r\n0\r\n\r\n",
    )
    assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"OK:1")
    assert len(srv.recorder.punches) == 1


def test_an_empty_body_calls_nothing(srv):
    assert push_body(url(srv), SERIAL, b"") == (200, "OK:0")
    assert push_body(url(srv), SERIAL, b"\r\n\n") == (200, "OK:0")
    assert srv.recorder.uploads == []


# --- bounds ----------------------------------------------------------------------------------


def test_a_body_above_max_body_is_413_before_it_is_read(srv):
    out = raw(srv, post_head(extra=f"Content-Length: {LIMITS.max_body + 1}\r\n\r\n"))
    assert out.startswith(b"HTTP/1.1 413")
    chunk = LINE * 100
    out = raw(
        srv,
        post_head(extra="Transfer-Encoding: chunked\r\n\r\n")
        + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (LIMITS.max_body // len(chunk) + 2),
    )
    assert out.startswith(b"HTTP/1.1 413")
    assert srv.recorder.uploads == []
    # a body of exactly max_body is fine
    body = LINE * (LIMITS.max_body // len(LINE))
    assert push_body(url(srv), SERIAL, body) == (200, f"OK:{LIMITS.max_body // len(LINE)}")


def test_oversized_headers_are_refused(srv):
    out = raw(srv, b"GET /iclock/ping?SN=" + SERIAL.encode() + b" HTTP/1.1\r\nX-Junk: " + b"a" * 40_000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")


def test_idle_connections_are_all_closed_by_the_server_within_its_timeout(srv):
    socks = []
    try:
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", srv.port))
            if i % 2:
                s.sendall(b"POST /iclock/cdata?SN=")  # half a request line, then nothing
            socks.append(s)
        t0 = time.monotonic()
        closed = 0
        for s in socks:
            s.settimeout(max(0.1, LIMITS.header_timeout + 2 - (time.monotonic() - t0)))
            try:
                if s.recv(1024) == b"":
                    closed += 1
            except (TimeoutError, ConnectionResetError):
                pass
        assert closed == 200
        assert time.monotonic() - t0 < LIMITS.header_timeout + 2
    finally:
        for s in socks:
            s.close()
    # a keep-alive connection idle after its answer is closed too
    out = raw(srv, f"GET /iclock/ping?SN={SERIAL} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 200") and out.endswith(b"OK")


def test_slow_headers_are_not_extended_by_trickling(srv):
    s = socket.create_connection(("127.0.0.1", srv.port))
    try:
        t0 = time.monotonic()
        s.settimeout(0.2)
        for ch in b"GET /iclock/ping?SN=":
            try:
                s.sendall(bytes([ch]))
                if s.recv(10) == b"":
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        assert time.monotonic() - t0 < LIMITS.header_timeout + 1
    finally:
        s.close()


# --- no poison batch -------------------------------------------------------------------------


def test_a_batch_with_one_oversized_field_stores_its_good_lines(srv):
    body = (
        LINE
        + b"A" * 40
        + b"\t2026-06-01 08:52:00\t0\t15\t0\n"
        + b"2\t2026-06-01 08:53:00\t0\t15\t99999999999\n"
        + b"3\t2026-06-01 08:54:00\t0\t1\t0\n"
    )
    assert push_body(url(srv), SERIAL, body) == (200, "OK:2")
    (up,) = srv.recorder.uploads
    assert [p.pin for p in up.punches] == ["1", "3"]
    assert [(b.index, b.raw) for b in up.bad] == [(2, body.split(b"\n")[1]), (3, body.split(b"\n")[2])]
    assert "PIN of 40 characters" in up.bad[0].reason
    assert "work code 99999999999 is out of range" in up.bad[1].reason
    assert up.body_bytes == len(body) and up.peer == "127.0.0.1"


def test_store_failures_answer_503(srv):
    srv.recorder.fail = RuntimeError("database is locked")
    assert push_body(url(srv), SERIAL, LINE).status == 503
    srv.recorder.fail = UploadRefused("daily quarantine cap reached")
    assert push_body(url(srv), SERIAL, LINE).status == 503
    srv.recorder.fail = None
    assert push_body(url(srv), SERIAL, LINE) == (200, "OK:1")


def test_parser_checks_what_the_store_enforces():
    body = (
        b"x" * PIN_MAX_LEN
        + b"\t2026-06-01 08:00:00\t0\t0\t0\n"
        + b"y" * (PIN_MAX_LEN + 1)
        + b"\t2026-06-01 08:00:00\n"
        + b"5\t2026-06-01 08:00:00\t%d\t0\t0\n" % INT_FIELD_MAX
        + b"6\t2026-06-01 08:00:00\t%d\t0\t0\n" % (INT_FIELD_MAX + 1)
        + b"7\t2026-06-01 08:00:00\t0\t-1\t0\n"
        + b"8\t2026-02-30 08:00:00\n"
        + b"9\x01\t2026-06-01 08:00:00\n"
        + b"z" * 10_000
        + b"\n"
    )
    punches, bad = parse_attlog_body(body)
    assert [p.pin for p in punches] == ["x" * PIN_MAX_LEN, "5"]
    assert [b.index for b in bad] == [2, 4, 5, 6, 7, 8]
    assert len(bad[-1].raw) == MAX_RAW_KEPT
    # at most max_bad bad lines are built; good ones after them still come through
    punches, bad = parse_attlog_body(b"junk\n" * 1000 + LINE, max_bad=11)
    assert len(bad) == 11 and len(punches) == 1


# --- TLS, start and stop ---------------------------------------------------------------------


def test_port_in_use_is_a_clear_oserror(srv):
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{srv.port}"):
        AdmsServer("127.0.0.1", srv.port, ACCESS, Recorder()).start()


def test_tls(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    rec = Recorder()
    with AdmsServer("127.0.0.1", 0, ACCESS, rec, limits=LIMITS, tls=(str(cert), str(key))) as srv:
        base = f"https://127.0.0.1:{srv.port}"
        assert push_attlog(base, SERIAL, [Punch("1", datetime(2026, 6, 1, 8))]) == (200, "OK:1")
        with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
            get(f"http://127.0.0.1:{srv.port}", "/iclock/ping", SERIAL)
    assert len(rec.punches) == 1


# --- load ------------------------------------------------------------------------------------


# 20 clients × 200 overlapping uploads: tests/daemon/test_serve_push.py, against a running
# `attendd serve-push` and its store (every distinct punch stored exactly once).


def test_simulator_lines_end_with_lf():
    p = Punch("1", datetime(2026, 6, 1, 8))
    assert attlog_body([p, p]) == (attlog_line(p) + "\n").encode() * 2
