"""``attendd import attlog FILE --device NAME``: every line accounted for, atomic, merges with pulls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import assert_clean_failure, write_devices_config
from helpers import run_cli as attendd
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.attlog import parse_attlog_lines, read_attlog, read_attlog_file, scan_attlog

SUMMARY = re.compile(r"^read (\d+), new (\d+), duplicate (\d+), quarantined (\d+), rejected (\d+)$", re.M)


def config(tmp_path: Path, **device) -> Path:
    return write_devices_config(tmp_path, [{"name": "hall", **device}])


def summary(proc) -> tuple[int, ...]:
    m = SUMMARY.search(proc.stdout)
    assert m, (proc.returncode, proc.stdout, proc.stderr)
    return tuple(int(x) for x in m.groups())


def stored(tmp_path: Path, serial: str | None = None) -> int:
    from daemon.store import Store

    if not (tmp_path / "store.db").exists():
        return 0
    s = Store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    try:
        return s.count_punches(serial)
    finally:
        s.close()


def test_real_export_imports_every_line_and_reimport_adds_nothing(tmp_path, attlog_path):
    cfg = config(tmp_path, serial="REAL000001")
    first = attendd("--config", str(cfg), "import", "attlog", str(attlog_path), "--device", "hall")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "read 11902, new 11902, duplicate 0, quarantined 0, rejected 0"
    again = attendd("--config", str(cfg), "import", "attlog", str(attlog_path), "--device", "hall")
    assert again.returncode == 0, again.stderr
    assert summary(again) == (11902, 0, 11902, 0, 0)
    assert stored(tmp_path) == 11902


def test_export_of_a_pulled_terminal_merges_without_duplicates(tmp_path, attlog_path):
    from zoneinfo import ZoneInfo

    from daemon.clock import system_clock as utc_now
    from daemon.config import Device
    from daemon.devices import connect_device
    from daemon.store import open_store
    from daemon.sync import sync_device
    from drivers.zk.simulator import SimulatedTerminal, SimulatorServer

    cfg = config(tmp_path)  # no serial in the config: the pull recorded it
    term = SimulatedTerminal(serial="PULL000001", punches=read_attlog(attlog_path))
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    try:
        with SimulatorServer(term) as srv:
            device = Device(name="hall", host="127.0.0.1", port=srv.port, timeout=5)
            result = sync_device(store, device, connect=connect_device, clock=utc_now, tz=ZoneInfo("Asia/Shanghai"))
        assert result.status == "ok", result.error
        assert result.new == 11902
    finally:
        store.close()
    proc = attendd("--config", str(cfg), "import", "attlog", str(attlog_path), "--device", "hall")
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == (11902, 0, 11902, 0, 0)
    assert stored(tmp_path, "PULL000001") == 11902 == stored(tmp_path)


def test_framed_crlf_export_with_padded_pins_and_extra_columns(tmp_path):
    export = tmp_path / "1_attlog.dat"
    export.write_bytes(
        "\ufeffBOCK201260123\r\n"
        "        5\t2026-03-02 08:01:02\t1\t0\t1\t0\t0\t7\r\n"
        "       17\t2026-03-02 08:03:04\t1\t1\t15\t0\r\n"
        "\r\n"
        "  123\t2026-03-02 17:30:00\r\n"
        "5\t2026-03-02 08:01:02\t1\t0\t1\t0\r\n"  # the same punch as line 2, unpadded
        "9F3A2B7C\r\n".encode("utf-8")
    )
    cfg = config(tmp_path)  # serial from the file's first line
    proc = attendd("--config", str(cfg), "import", "attlog", str(export), "--device", "hall")
    assert proc.returncode == 0, proc.stderr
    read, new, dup, quar, rej = summary(proc)
    assert (read, new, dup, quar, rej) == (7, 3, 1, 0, 0)
    assert read - (new + dup + quar + rej) == 3  # serial line, checksum line, blank line
    assert "skipped 3" in proc.stderr
    assert stored(tmp_path, "BOCK201260123") == 3


def test_parser_reads_framing_and_columns():
    items = list(scan_attlog(["OGT2060012345\n", "   42\t2026-03-02 08:00:00\t1\t4\t15\t9\textra\n", "ABCD1234==\n"]))
    assert [i.kind for i in items] == ["header", "punch", "trailer"]
    p = items[1].punch
    assert (p.pin, p.state, p.verify, p.work_code) == ("42", 4, 15, 9)


def test_a_bad_line_stores_nothing_and_skip_bad_stores_the_rest(tmp_path):
    export = tmp_path / "att.dat"
    export.write_text("1\t2026-03-02 08:00:00\t1\t0\t1\t0\n2\tyesterday\n3\t2026-03-02 08:05:00\n", encoding="utf-8")
    cfg = config(tmp_path, serial="S1")
    proc = attendd("--config", str(cfg), "import", "attlog", str(export), "--device", "hall")
    assert_clean_failure(proc, 2)
    assert f"{export}:2: time 'yesterday'" in proc.stderr
    assert stored(tmp_path) == 0
    proc = attendd("--config", str(cfg), "import", "attlog", str(export), "--device", "hall", "--skip-bad")
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == (3, 2, 0, 0, 1)
    assert f"{export}:2:" in proc.stderr
    assert stored(tmp_path, "S1") == 2


def test_many_bad_lines_are_listed_up_to_twenty(tmp_path):
    export = tmp_path / "att.dat"
    export.write_text("1\t2026-03-02 08:00:00\n" + "x\tnope\n" * 25, encoding="utf-8")
    proc = attendd("--config", str(config(tmp_path, serial="S1")), "import", "attlog", str(export), "--device", "hall")
    assert_clean_failure(proc, 2)
    assert proc.stderr.count(f"{export}:") >= 20
    assert "5 more rejected" in proc.stderr


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 8,  # binary
        b"\x8f\x1a\x93\xfe" * 500,  # encrypted-looking, no NUL
        "gAAAAABk3x9Lk2\u00e9nc0d3d\nZm9vYmFy\nYmF6cXV4\n".encode() * 3,  # text, but no line is a record
    ],
)
def test_encrypted_or_binary_export_is_refused_in_one_line(tmp_path, content):
    export = tmp_path / "1_attlog.dat"
    export.write_bytes(content)
    proc = attendd("--config", str(config(tmp_path, serial="S1")), "import", "attlog", str(export), "--device", "hall")
    assert_clean_failure(proc, 2)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "encrypted" in proc.stderr
    assert stored(tmp_path) == 0


def test_impossible_date_is_quarantined_with_its_line(tmp_path):
    from daemon.store import Store

    export = tmp_path / "att.dat"
    export.write_text("7\t2026-02-31 08:00:00\t1\t0\t1\t0\n7\t2026-02-27 08:00:00\t1\t0\t1\t0\n", encoding="utf-8")
    cfg = config(tmp_path, serial="S1")
    proc = attendd("--config", str(cfg), "import", "attlog", str(export), "--device", "hall")
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == (2, 1, 0, 1, 0)
    s = Store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    try:
        (q,) = s.quarantine("S1")
    finally:
        s.close()
    assert q["raw"] == "7\t2026-02-31 08:00:00\t1\t0\t1\t0"
    assert "impossible" in q["reason"] and q["pin"] == "7"


def test_device_must_be_configured_and_serial_known(tmp_path):
    export = tmp_path / "att.dat"
    export.write_text("1\t2026-03-02 08:00:00\n", encoding="utf-8")
    cfg = config(tmp_path)
    proc = attendd("--config", str(cfg), "import", "attlog", str(export), "--device", "nope")
    assert_clean_failure(proc, 2)
    assert "hall" in proc.stderr
    proc = attendd("--config", str(cfg), "import", "attlog", str(export), "--device", "hall")
    assert_clean_failure(proc, 2)
    assert "serial" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    framed = tmp_path / "other.dat"
    framed.write_text("OTHER00001\n1\t2026-03-02 08:00:00\n", encoding="utf-8")
    proc = attendd(
        "--config", str(config(tmp_path, serial="MINE000001")), "import", "attlog", str(framed), "--device", "hall"
    )
    assert_clean_failure(proc, 2)
    assert "OTHER00001" in proc.stderr and stored(tmp_path) == 0


# --- the parser never raises and accounts for every line ------------------------------------

_line = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda pin, ts, rest: f"{pin}\t{ts}" + "".join(f"\t{r}" for r in rest),
        st.text(alphabet=" 0123456789ab", max_size=10),
        st.one_of(
            st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
            st.from_regex(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", fullmatch=True),
            st.text(max_size=20),
        ),
        st.lists(st.text(alphabet="0123456789x \r", max_size=4), max_size=8),
    ),
    st.from_regex(r"[A-Za-z0-9+/=:_-]{1,20}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_line, st.sampled_from(["\n", "\r\n", ""])), max_size=30))
def test_parser_never_raises_and_accounts_for_every_line(items):
    lines = [text + end for text, end in items]
    scanned = list(scan_attlog(lines))
    assert sorted(i.number for i in scanned) == list(range(1, len(lines) + 1))
    assert [i.number for i in scanned] == list(range(1, len(lines) + 1))
    assert sum(i.kind == "header" for i in scanned) <= 1 and sum(i.kind == "trailer" for i in scanned) <= 1
    for i in scanned:
        assert (i.punch is not None) == (i.kind == "punch")
        assert (i.reason is not None) == (i.kind in ("bad", "rejected"))
    legacy = list(parse_attlog_lines(lines))
    assert [n for n, _ in legacy] == [i.number for i in scanned if i.kind in ("punch", "bad", "rejected")]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_file_reader_never_fails_but_to_refuse(tmp_path_factory, data):
    from drivers.attlog import AttlogNotText, split_lines

    path = tmp_path_factory.mktemp("fuzz") / "a.dat"
    path.write_bytes(data)
    try:
        scan = read_attlog_file(path)
    except AttlogNotText:
        return
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    assert len(scan.lines) == len(split_lines(text)) if text else len(scan.lines) == 0
