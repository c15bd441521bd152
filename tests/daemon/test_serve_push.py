"""Issue 11, against a running ``attendd serve-push`` on loopback, as a host on the LAN meets it.

The client binds to 127.0.0.2 to be "another host"; the terminal is allowed from 127.0.0.1 only.
What is stored is read back from the store the receiver writes.
"""

from __future__ import annotations

import http.client
import random
import signal
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from helpers import assert_clean_failure, attendd, free_port, read_until_closed, spawn
from sqlalchemy import create_engine, text

from drivers import Punch
from drivers.adms.protocol import attlog_line

SN = "ADMS0001"
#: The figure bench/bench_push_receiver.py measured, with room (README "Benchmarks").
PEAK_RSS_MB = 200


def _config(tmp_path: Path, port: int, **daemon) -> Path:
    keys = {
        "push_listen": f'"127.0.0.1:{port}"',
        "push_idle_timeout": 2,
        "push_header_timeout": 2,
        "push_body_timeout": 3,
        "push_rate_per_minute": 100_000,
        "push_max_body": 262_144,
        **daemon,
    }
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(
        f'[site]\nname = "x"\ntimezone = "Asia/Shanghai"\n[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        "[daemon]\n"
        + "".join(f"{k} = {v}\n" for k, v in keys.items())
        + f'[[devices]]\nname = "face"\ndriver = "adms"\nserial = "{SN}"\nallow_from = ["127.0.0.1"]\n',
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def receiver(tmp_path):
    """(port, store URL, process) of a running ``attendd serve-push``."""
    port = free_port()
    cfg = _config(tmp_path, port)
    log = (tmp_path / "serve-push.log").open("w")  # a file, not a pipe nobody reads: a log line a push
    proc = spawn("--log-format", "json", "serve-push", config=cfg, stderr=log)
    line = proc.stdout.readline()
    assert f"port {port}" in line, (line, (tmp_path / "serve-push.log").read_text())
    yield port, f"sqlite:///{tmp_path / 'store.db'}", proc
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    log.close()


def post(
    port: int, body: bytes, *, source: str = "127.0.0.1", serial: str = SN, headers: dict | None = None
) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(
            "POST",
            "/iclock/cdata?" + urlencode({"SN": serial, "table": "ATTLOG", "Stamp": "9999"}),
            body=body,
            headers={"Content-Type": "text/plain", **(headers or {})},
        )
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def raw(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send raw bytes, half-close, and read what the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return read_until_closed(s)


def body_of(punches) -> bytes:
    return "".join(attlog_line(p) + "\n" for p in punches).encode()


def stored(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("punch", "quarantine", "ingest_run")
            }
    finally:
        engine.dispose()


T0 = datetime(2026, 3, 2, 8, 50)


def test_only_the_allowed_address_pushes_and_a_cut_body_stores_nothing(receiver):
    port, url, _ = receiver
    body = body_of([Punch("7", T0), Punch("8", T0 + timedelta(minutes=1))])
    assert post(port, body, source="127.0.0.2")[0] == 403
    assert post(port, body, serial="STRANGER")[0] == 403
    # a body shorter than its Content-Length, the connection then closed
    head = (
        f"POST /iclock/cdata?SN={SN}&table=ATTLOG HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body) + 40}\r\n\r\n"
    ).encode()
    raw(port, head + body)
    # a body longer than its Content-Length (the rest would be read as the next request)
    head = (
        f"POST /iclock/cdata?SN={SN}&table=ATTLOG HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body) - 10}\r\n\r\n"
    ).encode()
    assert raw(port, head + body).startswith(b"HTTP/1.1 400")
    # a broken chunked encoding
    chunked = (
        (
            f"POST /iclock/cdata?SN={SN}&table=ATTLOG HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        ).encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    assert raw(port, chunked).startswith(b"HTTP/1.1 400")
    assert stored(url) == {"punch": 0, "quarantine": 0, "ingest_run": 0}
    assert post(port, body) == (200, "OK:2")
    assert stored(url) == {"punch": 2, "quarantine": 0, "ingest_run": 1}


def test_one_oversized_field_is_quarantined_and_the_good_lines_stored_and_big_bodies_get_413(receiver):
    port, url, _ = receiver
    body = (
        body_of([Punch("7", T0)])
        + ("X" * 40 + f"\t{T0:%Y-%m-%d %H:%M:%S}\t0\t15\t0\n").encode()
        + f"8\t{T0:%Y-%m-%d %H:%M:%S}\t0\t15\t99999999999\n".encode()
        + body_of([Punch("9", T0)])
    )
    assert post(port, body) == (200, "OK:2")
    assert post(port, body) == (200, "OK:2")  # the resend: nothing new, nothing doubled
    assert stored(url) == {"punch": 2, "quarantine": 2, "ingest_run": 2}
    big = body_of([Punch(str(i % 500), T0 + timedelta(seconds=i)) for i in range(8000)])
    assert len(big) > 262_144
    assert post(port, big)[0] == 413
    assert stored(url)["punch"] == 2


def test_idle_connections_are_closed_by_the_server(receiver):
    """200 connections that never send a request are all closed within the header timeout (2 s)."""
    port, _, _ = receiver
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(200)]
    t0 = time.monotonic()
    try:
        for s in socks:
            try:
                assert s.recv(1024) == b""  # blocks until the server closes it (10 s socket timeout)
            except ConnectionResetError:
                pass
        elapsed = time.monotonic() - t0
    finally:
        for s in socks:
            s.close()
    assert elapsed < 8, elapsed


@pytest.mark.slow
def test_overlapping_uploads_store_every_punch_once(receiver):
    """20 clients × 200 uploads, each a random slice of one day's 600 punches: every distinct punch
    is stored exactly once."""
    port, url, _ = receiver
    day = [Punch(str(100 + i % 60), T0 + timedelta(minutes=i)) for i in range(600)]
    sent: set[tuple[str, datetime]] = set()
    lock = threading.Lock()
    errors: list[object] = []

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            for _ in range(200):
                start = rng.randrange(0, 590)
                batch = day[start : start + rng.randrange(1, 10)]
                conn.request("POST", f"/iclock/cdata?SN={SN}&table=ATTLOG", body=body_of(batch))
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors.append(resp.status)
                    return
                with lock:
                    sent.update(p.key() for p in batch)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT pin, punched_at FROM punch")).all()
    engine.dispose()
    assert len(rows) == len(sent) == len({(p, str(t)) for p, t in rows})


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_memory_stays_bounded_under_bodies_at_the_limit(tmp_path):
    """The flood that took the old listener to 10.7 GB: eight clients push junk bodies just under
    the default limit (4 MiB), three each, and announce 60 MB ones. The big ones get 413 before a
    byte is read; the junk is parsed only up to the daily quarantine cap and refused (503). The
    receiver's peak RSS stays under PEAK_RSS_MB, the figure bench/bench_push_receiver.py measures
    at the default settings, with room."""
    port = free_port()
    cfg = _config(tmp_path, port, push_max_body=4 * 1024 * 1024, push_body_timeout=30)
    log = (tmp_path / "serve-push.log").open("w")
    proc = spawn("--log-format", "json", "serve-push", config=cfg, stderr=log)
    try:
        assert f"port {port}" in proc.stdout.readline()
        line = b"junk line without a tab " + b"J" * 100 + b"\n"
        body = line * ((4 * 1024 * 1024 - 1024) // len(line))
        codes: list[int] = []

        def client() -> None:
            for _ in range(3):
                codes.append(post(port, body)[0])
            codes.append(post(port, b"", headers={"Content-Length": str(60 * 1024 * 1024)})[0])

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(set(codes)) == [413, 503] and len(codes) == 32, codes
        peak = _peak_rss_mb(proc.pid)
        print(f"serve-push peak RSS {peak:.0f} MiB")
        assert peak < PEAK_RSS_MB
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        log.close()


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = attendd("--config", str(_config(tmp_path, port)), "serve-push", timeout=30)
    assert_clean_failure(proc, 1)
    (line,) = proc.stderr.strip().splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line
