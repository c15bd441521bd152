"""Serial terminals inside attendd: config keys, the listener and the store, the CLI.

End to end over a real pty pair and over ``socket://`` against the
simulator, into a real store: every punch stored exactly once, every bad
line quarantined, also when the connection drops mid-line.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from helpers import attendd, free_port, spawn

from daemon.config import Device, config_from_dict, load_config
from daemon.errors import ConfigError
from daemon.serial_listener import (
    SerialListener,
    device_serial,
    make_on_batch,
    make_on_health,
    make_readers,
    record_format,
    serial_devices,
)
from drivers.serial import Backoff
from drivers.serial.simulator import Faults, PtyTerminal, SimulatedSerialTerminal, TcpTerminal
from drivers.zk.simulator import synthetic_punches

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]
FAST = Backoff(initial=0.001, factor=2, cap=0.01)


def wait_until(condition, what: str, limit: float = 30.0) -> None:
    """Poll ``condition`` (a guard against hanging, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def config(*devices: Device):
    return SimpleNamespace(devices=list(devices), device=lambda n: next(d for d in devices if d.name == n))


def stored(store) -> list[tuple]:
    return sorted((r["pin"], r["punched_at"], r["state"], r["verify"], r["work_code"]) for r in store.punches())


def as_rows(punches) -> list[tuple]:
    return sorted((p.pin, p.timestamp, p.state, p.verify, p.work_code) for p in punches)


# --- config -----------------------------------------------------------------------------------


def test_serial_keys_default_and_resolve():
    d = Device(name="annex", driver="serial", url="socket://127.0.0.1:4001")
    assert (d.format, d.pattern, d.time_format, d.baudrate) == ("attlog", None, None, 9600)
    fmt = record_format(d)
    assert fmt.name == "attlog" and fmt.encoding == "gbk"  # the device's encoding
    custom = Device(
        name="b",
        driver="serial",
        url="/dev/ttyUSB0",
        format="csv",
        pattern=r"(?P<pin>\d+) (?P<time>.+)",
        time_format="%d.%m.%Y %H:%M",
    )
    assert record_format(custom).name == "custom"  # the pattern wins over the format
    assert record_format(custom).time_formats == ("%d.%m.%Y %H:%M",)


def test_bad_serial_keys_are_reported_with_their_key_paths(tmp_path):
    path = tmp_path / "attendd.toml"
    path.write_text(
        '[site]\nname = "x"\n'
        '[[devices]]\nname = "ok"\ndriver = "serial"\nurl = "/dev/ttyS0"\n'
        '[[devices]]\nname = "annex"\ndriver = "serial"\nurl = "telnet://127.0.0.1:23"\nformat = "cvs"\n'
        "pattern = '(?P<pin>\\d+) (?P<when>.+)'\ntime_format = \"%H:%M\"\n"
        '[[devices]]\nname = "broken"\ndriver = "serial"\nurl = "/dev/ttyS1"\npattern = "(?P<pin>[0-9+"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    lines = str(refused.value).splitlines()
    assert lines == [
        f"{path}: devices[1] (annex).url: pyserial does not know telnet:// URLs (use socket://, rfc2217:// or a device path)",
        f'{path}: devices[1] (annex).format: unknown format "cvs" (did you mean "csv"?); '
        'presets: "attlog", "adms", "csv", "rtlog", "compact"',
        f"{path}: devices[1] (annex).pattern: the pattern needs the named group (?P<time>…)",
        f"{path}: devices[1] (annex).time_format: time format '%H:%M' must contain the year, month, day, hour and minute "
        "(e.g. %Y-%m-%d %H:%M:%S)",
        f"{path}: devices[2] (broken).pattern: not a valid regular expression: unterminated character set at position 8",
    ]


def test_the_example_config_documents_the_serial_keys():
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for key in ("format =", "# pattern =", "# time_format ="):
        assert key in text
    cfg = load_config(ROOT / "config.example.toml")
    (annex,) = [d for d in cfg.devices if d.driver == "serial"]
    assert not annex.enabled  # its address is an example: nothing ever connects to it


def test_device_serial_is_the_configured_one_or_derived_from_the_name():
    assert device_serial(Device(name="annex", driver="serial", url="/dev/ttyS0")) == "serial:annex"
    assert device_serial(Device(name="annex", driver="serial", url="/dev/ttyS0", serial="CJDE2123")) == "CJDE2123"


def test_only_enabled_serial_devices_are_listened_to():
    cfg = config_from_dict(
        {
            "site": {"name": "x"},
            "devices": [
                {"name": "a", "driver": "serial", "url": "/dev/ttyS0"},
                {"name": "b", "driver": "serial", "url": "/dev/ttyS1", "enabled": False},
                {"name": "c", "driver": "zk", "host": "127.0.0.1"},
            ],
        }
    )
    assert [d.name for d in serial_devices(cfg)] == ["a"]
    assert [d.name for d in serial_devices(cfg, ["b"])] == ["b"]  # named: even when disabled
    from daemon.errors import UserError

    with pytest.raises(UserError, match="c is not a serial device"):
        serial_devices(cfg, ["c"])


# --- into the store ---------------------------------------------------------------------------


def test_pty_end_to_end_every_punch_stored_once(store, clock):
    punches = synthetic_punches(120, pins=8)
    with PtyTerminal(SimulatedSerialTerminal(punches, format="attlog", encoding="gbk")) as pty:
        dev = Device(name="annex", driver="serial", url=pty.path)
        with SerialListener(make_readers(store, config(dev), clock, TZ, backoff=FAST)) as listener:
            wait_until(lambda: store.count_punches() >= 120, "120 punches")
    assert listener.readers[0].stats.connections == 1
    assert stored(store) == as_rows(punches)
    assert store.count_punches("serial:annex") == 120
    runs = store.ingest_runs("annex")
    assert {r["source"] for r in runs} == {"serial"} and sum(r["new"] for r in runs) == 120
    state = store.device_state("annex")
    assert state.serial == "serial:annex" and state.consecutive_failures == 0 and state.last_success_utc


def test_socket_drop_mid_line_loses_nothing_and_doubles_nothing(store, clock):
    """Noise, byte-by-byte writes, a connection cut in the middle of a record and a terminal
    that re-sends the last records after reconnecting: each punch is stored once, the half
    line and the noise are quarantined."""
    punches = synthetic_punches(60, pins=6)
    faults = Faults(noise_before=frozenset({5, 20, 41}), drop_at=30, replay=3, byte_by_byte=True)
    term = SimulatedSerialTerminal(punches, format="rtlog", faults=faults)
    with TcpTerminal(term) as srv:
        dev = Device(name="annex", driver="serial", url=srv.url, format="rtlog", serial="CJDE2123")
        with SerialListener(make_readers(store, config(dev), clock, TZ, backoff=FAST)) as listener:
            wait_until(lambda: term.done and listener.readers[0].stats.punches >= 63, "every record")
    reader = listener.readers[0]
    assert srv.connections == 2 and reader.stats.connections == 2
    assert reader.stats.punches == 63  # three re-sent …
    assert stored(store) == as_rows(punches)  # … and stored once
    quarantined = store.quarantine("CJDE2123")
    reasons = sorted(q["reason"].split(": ", 1)[1] for q in quarantined)
    assert len(quarantined) == 4
    assert sum("cut off when the connection dropped" in r for r in reasons) == 1
    assert sum("not a real time" in r or "does not match" in r or "not gbk text" in r for r in reasons) == 3
    half = next(q for q in quarantined if "cut off" in q["reason"])
    assert term.line(punches[30]).startswith(bytes.fromhex(half["raw"]))


def test_a_store_failure_keeps_the_batch_until_the_store_takes_it(store, clock):
    from daemon.store import StoreError

    punches = synthetic_punches(10, pins=2)
    dev = Device(name="annex", driver="serial", url="x")
    real = make_on_batch(store, dev, clock, TZ)
    failing = {"left": 3}

    def on_batch(p, b):
        if failing["left"]:
            failing["left"] -= 1
            raise StoreError("cannot write to the local store: database is locked")
        return real(p, b)

    term = SimulatedSerialTerminal(punches, format="csv")
    with TcpTerminal(term) as srv:
        from drivers.serial import PRESETS, SerialReader

        with SerialReader(srv.url, on_batch, record_format=PRESETS["csv"], backoff=FAST, poll=0.02):
            wait_until(lambda: store.count_punches() >= 10, "10 punches")
    assert stored(store) == as_rows(punches) and failing["left"] == 0


def test_line_health_is_the_device_state(store, clock):
    dev = Device(name="annex", driver="serial", url="socket://127.0.0.1:1")
    on_health = make_on_health(store, dev, clock)
    on_health(None)
    assert store.device_state("annex").consecutive_failures == 0
    on_health("annex: connection lost: socket disconnected")
    state = store.device_state("annex")
    assert state.consecutive_failures == 1 and "socket disconnected" in state.last_error
    clock.advance(minutes=5)
    on_health(None)
    state = store.device_state("annex")
    assert state.consecutive_failures == 0 and state.last_error is None
    assert [r["status"] for r in store.ingest_runs("annex")] == ["ok", "failed", "ok"]


# --- the command line -------------------------------------------------------------------------


def _stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_listen_serial_stores_what_simulate_device_prints(tmp_path):
    port = free_port()
    db = tmp_path / "store.db"
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(
        f'[site]\nname = "x"\ntimezone = "Asia/Shanghai"\n[store]\nurl = "sqlite:///{db}"\n'
        f'[[devices]]\nname = "annex"\ndriver = "serial"\nurl = "socket://127.0.0.1:{port}"\nformat = "compact"\n'
        '[[devices]]\nname = "hall"\ndriver = "zk"\nhost = "127.0.0.1"\nenabled = false\n',
        encoding="utf-8",
    )
    sim = spawn(
        "simulate-device",
        "--driver",
        "serial",
        "--listen",
        f"127.0.0.1:{port}",
        "--format",
        "compact",
        "--records",
        "30",
        "--encoding",
        "ascii",
    )
    try:
        line = sim.stdout.readline()
        assert f"socket://127.0.0.1:{port}" in line and "30 records in the compact format" in line
        listen = spawn("--config", str(cfg), "listen-serial")
        try:
            first = listen.stdout.readline()
            assert f"listening to annex on socket://127.0.0.1:{port}" in first and "serial:annex" in first

            def count() -> int:
                from daemon.store import open_store

                s = open_store(f"sqlite:///{db}", timezone="Asia/Shanghai")
                try:
                    return s.count_punches()
                finally:
                    s.close()

            wait_until(lambda: count() >= 30, "30 stored punches")
        finally:
            rc, out, err = _stop(listen)
        assert rc == 0, err
        assert "annex: 30 lines, 30 punches, 0 bad records, 1 connection(s)" in out
        assert "Traceback" not in err
    finally:
        rc, _out, err = _stop(sim)
    assert rc == 0, err
    listed = attendd("--config", str(cfg), "punches", "--format", "json")
    rows = json.loads(listed.stdout)
    assert len(rows) == 30 and {(r["device_serial"], r["source"]) for r in rows} == {("serial:annex", "serial")}
    sync = attendd("--config", str(cfg), "sync")
    assert sync.returncode == 2 and "serial terminals are listened to, not pulled" in sync.stderr


def test_listen_serial_without_serial_devices_says_so(tmp_path):
    cfg = tmp_path / "attendd.toml"
    cfg.write_text(f'[site]\nname = "x"\n[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n', encoding="utf-8")
    proc = attendd("--config", str(cfg), "listen-serial")
    assert proc.returncode == 2 and "no serial devices to listen to" in proc.stderr


def test_simulate_device_zk_still_needs_a_port():
    proc = attendd("simulate-device", "--records", "5")
    assert proc.returncode == 2 and "--port: required" in proc.stderr


def test_simulate_device_on_a_pty(tmp_path):
    """`--pty` prints the slave's path; a reader opening it as a device path gets the records."""
    from drivers.serial import PRESETS, SerialReader

    sim = spawn("simulate-device", "--driver", "serial", "--pty", "--format", "csv", "--records", "12")
    got: list = []
    done = threading.Event()
    try:
        line = sim.stdout.readline()
        path = line.split(" on ", 1)[1].split(":", 1)[0]
        assert path.startswith("/dev/")

        def on_batch(punches, bad):
            got.extend(punches)
            if len(got) >= 12:
                done.set()

        with SerialReader(path, on_batch, record_format=PRESETS["csv"], poll=0.02, backoff=FAST):
            assert done.wait(30)
    finally:
        rc, _out, err = _stop(sim)
    assert rc == 0, err
    assert got == synthetic_punches(12, pins=50)


def test_attendd_run_listens_to_serial_terminals_and_stops_them(tmp_path):
    punches = synthetic_punches(25, pins=5)
    db = tmp_path / "store.db"
    with TcpTerminal(SimulatedSerialTerminal(punches, format="adms")) as srv:
        cfg = tmp_path / "attendd.toml"
        cfg.write_text(
            f'[site]\nname = "x"\ntimezone = "Asia/Shanghai"\n[store]\nurl = "sqlite:///{db}"\n'
            f'[scoring]\nurl = "sqlite:///{tmp_path / "scoring.db"}"\n'
            f'[[devices]]\nname = "annex"\ndriver = "serial"\nurl = "{srv.url}"\nformat = "adms"\n',
            encoding="utf-8",
        )
        upgrade = attendd("--config", str(cfg), "db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        from daemon.store import open_store

        store = open_store(f"sqlite:///{db}", timezone="Asia/Shanghai")
        proc = spawn("--config", str(cfg), "--log-format", "json", "run")
        try:
            wait_until(lambda: store.count_punches() >= 25 or proc.poll() is not None, "25 stored punches")
        finally:
            rc, _out, err = _stop(proc)
        assert rc == 0, err[-2000:]
        assert stored(store) == as_rows(punches)
        store.close()
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert "serial reader started" in events and "serial reader stopped" in events
    assert "Traceback" not in err
