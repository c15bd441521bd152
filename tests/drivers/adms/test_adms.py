"""ZKTeco PUSH/ADMS: the upload parser, the HTTP listener on loopback, and the store behind it."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.config import Device
from daemon.devices import connect_device
from daemon.ingest import save_batch
from daemon.store import StoreError
from daemon.sync import sync_device
from drivers import Punch
from drivers.adms.access import DeviceAccess, Upload
from drivers.adms.protocol import data_query_attlog, handshake_options, parse_attlog_body
from drivers.adms.server import AdmsServer
from drivers.adms.simulator import get, push_attlog, push_body
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer

TZ = ZoneInfo("Asia/Shanghai")
SERIAL = "CKJ3233600123"

PUNCHES = [
    Punch("1", datetime(2026, 6, 1, 8, 51, 2), 0, 15, 0),
    Punch("2", datetime(2026, 6, 1, 8, 55, 40), 0, 1, 0),
    Punch("1", datetime(2026, 6, 1, 17, 3, 9), 1, 15, 0),
]


# --- the parser -------------------------------------------------------------------------------


def test_parse_lf_and_crlf_alike():
    lf = b"1\t2026-06-01 08:51:02\t0\t15\t0\t0\t0\n2\t2026-06-01 08:55:40\t0\t1\t0\n"
    crlf = lf.replace(b"\n", b"\r\n")
    for body in (lf, crlf):
        punches, bad = parse_attlog_body(body)
        assert punches == PUNCHES[:2]
        assert bad == []


def test_parse_short_lines_default_to_zero_and_blank_lines_are_skipped():
    punches, bad = parse_attlog_body(b"\n 7 \t2026-06-01 08:00:00\n\n")
    assert punches == [Punch("7", datetime(2026, 6, 1, 8), 0, 0, 0)]
    assert bad == []


def test_parse_bad_lines_carry_their_line_numbers():
    body = (
        b"1\t2026-06-01 08:51:02\t0\t15\t0\n"
        b"garbage\n"
        b"2\t2026-02-31 08:00:00\t0\t1\t0\n"
        b"3\t2026-06-01 08:00:00\tx\t1\t0\n"
        b"\t2026-06-01 08:00:00\t0\t1\t0\n"
        b"4\t2026-06-01 09:00:00\t0\t1\t0\r\n"
    )
    punches, bad = parse_attlog_body(body)
    assert [p.pin for p in punches] == ["1", "4"]
    assert [b.index for b in bad] == [2, 3, 4, 5]
    assert bad[1].pin == "2" and "impossible" in bad[1].reason
    assert bad[0].raw == b"garbage"


def test_parse_gbk_body():
    body = "张三\t2026-06-01 08:00:00\t0\t1\t0\n".encode("gbk")
    punches, bad = parse_attlog_body(body)
    assert punches == [Punch("张三", datetime(2026, 6, 1, 8), 0, 1, 0)] and bad == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parse_arbitrary_bytes_never_raises(body):
    punches, bad = parse_attlog_body(body)
    assert all(isinstance(p, Punch) for p in punches)
    assert len(punches) + len(bad) <= body.count(b"\n") + 1


def test_handshake_block():
    block = handshake_options(SERIAL)
    assert block.startswith(f"GET OPTION FROM: {SERIAL}\n")
    for line in (
        "ATTLOGStamp=None",
        "OPERLOGStamp=9999",
        "ATTPHOTOStamp=None",
        "ErrorDelay=30",
        "Delay=10",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=TransData AttLog",
        "Realtime=1",
        "Encrypt=None",
    ):
        assert f"\n{line}\n" in block


# --- the listener and the store ---------------------------------------------------------------


ACCESS = {SERIAL: DeviceAccess(SERIAL, "gate", any_address=True)}


def storing(store, clock):
    """An on_upload storing into ``store`` the way the daemon does (one ingest run per batch)."""
    device = SimpleNamespace(name="gate", installed=None)

    def on_upload(up: Upload):
        return save_batch(
            store, device, device_serial=up.serial, source="adms", punches=up.punches, bad=up.bad, now=clock(), tz=TZ
        )

    return on_upload


@pytest.fixture
def receiver(store, clock):
    srv = AdmsServer("127.0.0.1", 0, ACCESS, storing(store, clock)).start()
    yield srv
    srv.stop()


def url(srv) -> str:
    return f"http://127.0.0.1:{srv.port}"


def test_handshake_returns_the_options_block(receiver):
    reply = get(url(receiver), "/iclock/cdata", SERIAL, options="all")
    assert reply.status == 200
    assert reply.text == handshake_options(SERIAL)
    assert get(url(receiver), "/iclock/ping", SERIAL) == (200, "OK")


def test_upload_is_stored_once(store, receiver):
    assert push_attlog(url(receiver), SERIAL, PUNCHES) == (200, "OK:3")
    assert store.count_punches() == 3
    rows = sorted(store.punches(), key=lambda r: (r["punched_at"], r["pin"]))
    assert [(r["pin"], r["punched_at"], r["state"], r["verify"]) for r in rows] == [
        (p.pin, p.timestamp, p.state, p.verify) for p in sorted(PUNCHES, key=lambda p: (p.timestamp, p.pin))
    ]
    runs = store.ingest_runs("gate")
    assert runs and runs[-1]["source"] == "adms" and runs[-1]["device_serial"] == SERIAL
    # the same upload again: accepted (the terminal may forget it was sent) but nothing added
    assert push_attlog(url(receiver), SERIAL, PUNCHES) == (200, "OK:3")
    assert store.count_punches() == 3


def test_bad_lines_are_quarantined_not_dropped(store, receiver):
    body = b"1\t2026-06-01 08:51:02\t0\t15\t0\nnonsense\n"
    assert push_body(url(receiver), SERIAL, body) == (200, "OK:1")
    assert store.count_punches() == 1
    assert len(store.quarantine(SERIAL)) == 1


def test_unknown_serial_is_refused_and_nothing_stored(store, receiver):
    assert push_attlog(url(receiver), "STRANGER001", PUNCHES).status == 403
    assert push_body(url(receiver), "STRANGER001", b"1\t2026-06-01 08:51:02\t0\t15\t0\n").status == 403
    assert get(url(receiver), "/iclock/getrequest", "STRANGER001").status == 403
    assert store.count_punches() == 0


def test_body_read_raw_whatever_the_content_type(store, receiver):
    import urllib.request

    req = urllib.request.Request(
        f"{url(receiver)}/iclock/cdata?SN={SERIAL}&table=ATTLOG",
        data=b"1\t2026-06-01 08:51:02\t0\t15\t0\n",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.read() == b"OK:1"
    assert store.count_punches() == 1


def test_getrequest_returns_a_queued_command_once(receiver):
    assert get(url(receiver), "/iclock/getrequest", SERIAL) == (200, "OK")
    text = data_query_attlog(1, datetime(2026, 6, 1), datetime(2026, 6, 30, 23, 59, 59))
    line = receiver.queue_command(SERIAL, text.split(":", 2)[2])
    assert line == text
    assert line.startswith("C:1:DATA QUERY ATTLOG StartTime=2026-06-01 00:00:00\tEndTime=")
    assert get(url(receiver), "/iclock/getrequest", SERIAL) == (200, line)
    assert get(url(receiver), "/iclock/getrequest", SERIAL) == (200, "OK")
    # the terminal reports the command's result
    import urllib.request

    req = urllib.request.Request(
        f"{url(receiver)}/iclock/devicecmd?SN={SERIAL}", data=b"ID=1&Return=0&CMD=DATA", method="POST"
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.read() == b"OK"


def test_store_failure_answers_an_error_and_the_retry_stores_everything_once(store, clock):
    real = storing(store, clock)
    failing = {"on": True}

    def on_upload(up):
        if failing["on"]:
            raise StoreError("cannot write to the local store: disk I/O error")
        return real(up)

    with AdmsServer("127.0.0.1", 0, ACCESS, on_upload) as srv:
        reply = push_attlog(url(srv), SERIAL, PUNCHES)
        assert reply.status >= 500 and not reply.text.startswith("OK")
        assert store.count_punches() == 0
        failing["on"] = False
        assert push_attlog(url(srv), SERIAL, PUNCHES) == (200, "OK:3")
        assert push_attlog(url(srv), SERIAL, PUNCHES) == (200, "OK:3")
    assert store.count_punches() == 3


def test_pushed_and_pulled_punch_is_stored_once(store, clock, receiver):
    assert push_attlog(url(receiver), SERIAL, PUNCHES) == (200, "OK:3")
    term = SimulatedTerminal(
        serial=SERIAL,
        punches=PUNCHES,
        clock=lambda: clock().astimezone(TZ).replace(tzinfo=None),
    )
    with SimulatorServer(term) as sim:
        dev = Device(name="hall", driver="zk", host="127.0.0.1", port=sim.port, timeout=5)
        res = sync_device(store, dev, connect=connect_device, clock=clock, tz=TZ)
    assert res.status == "ok", res.error
    assert res.new == 0 and res.duplicate == 3
    assert store.count_punches() == 3 == store.count_punches(SERIAL)
