"""The serial driver without the store: framing, record formats, transport, reader, simulator.

Byte-level framer tests, every preset against fixture lines, custom
patterns, fuzzing of framer + parser, the back-off schedule with an
injected sleep, the reader over ``loop://``, a real pty and ``socket://``.
"""

from __future__ import annotations

import socket
import threading
from datetime import datetime

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from drivers import BadRecord, Punch, TerminalUnreachable, TransferInterrupted
from drivers.attlog import scan_attlog
from drivers.serial import (
    PRESETS,
    Backoff,
    BadFrame,
    Framer,
    LineFramer,
    RecordFormat,
    SerialReader,
    check_pattern,
    check_time_format,
    check_url,
    open_port,
    read_available,
    resolve_format,
)
from drivers.serial.simulator import NOISE, RENDER, Faults, PtyTerminal, SimulatedSerialTerminal, TcpTerminal
from drivers.zk.simulator import synthetic_punches

T = datetime(2026, 3, 2, 8, 55, 1)
FAST = Backoff(initial=0.001, factor=2, cap=0.01)


def frames_of(framer: LineFramer, *chunks: bytes) -> list:
    out = []
    for c in chunks:
        out += framer.feed(c)
    return out


# --- framing ----------------------------------------------------------------------------------


def test_lf_crlf_and_bare_cr_end_lines_alike():
    assert frames_of(LineFramer(), b"a\nb\r\nc\rd\n") == [b"a", b"b", b"c", b"d"]


def test_crlf_split_across_reads_is_one_line_end():
    assert frames_of(LineFramer(), b"a\r", b"\nb\r", b"\n") == [b"a", b"b"]
    assert frames_of(LineFramer(), b"a\r", b"", b"\nb\n") == [b"a", b"b"]


def test_a_record_arriving_byte_by_byte_comes_out_once_whole():
    line = b"1001\t2026-03-02 08:55:01\t1\t0\t15\t0\r\n"
    framer = LineFramer()
    out = [f for i in range(len(line)) for f in framer.feed(line[i : i + 1])]
    assert out == [line[:-2]]


def test_empty_and_blank_lines_are_skipped():
    assert frames_of(LineFramer(), b"\n\r\n\r\r \t \na\n\n") == [b"a"]


def test_an_overlong_line_is_a_bad_frame_and_memory_stays_bounded():
    framer = LineFramer(max_line=100)
    out = frames_of(framer, b"x" * 80, b"y" * 80, b"z" * 5000)
    assert out == []
    assert len(framer._buf) <= 100
    out = frames_of(framer, b"zz\nok\n")
    assert len(out) == 2 and out[1] == b"ok"
    bad = out[0]
    assert isinstance(bad, BadFrame)
    assert bad.size == 80 + 80 + 5000 + 2 and len(bad.raw) == 64 and bad.raw.startswith(b"x" * 64)
    assert "longer than 100 bytes" in bad.reason
    assert framer.discarded == 1


def test_reset_discards_the_half_line_and_reports_it():
    framer = LineFramer()
    assert framer.feed(b"1001\t2026-03-02 08:55:01\n1002\t2026-03") == [b"1001\t2026-03-02 08:55:01"]
    half = framer.reset()
    assert half == BadFrame(b"1002\t2026-03", half.reason, 12) and "cut off" in half.reason
    assert framer.discarded == 1
    assert framer.reset() is None  # nothing left
    assert framer.feed(b"-02 08:55:01\n") == [b"-02 08:55:01"]  # the next line starts afresh


def test_reset_after_cr_forgets_the_pending_lf():
    framer = LineFramer()
    assert framer.feed(b"a\r") == [b"a"]
    assert framer.reset() is None
    assert framer.feed(b"\nb\n") == [b"b"]  # a new stream's LF is its own (empty) line


def test_reset_in_an_overlong_line_reports_it_as_overlong():
    framer = LineFramer(max_line=10)
    framer.feed(b"0123456789ABCDEF")
    bad = framer.reset()
    assert bad is not None and bad.size == 16 and "longer than 10" in bad.reason


def test_line_framer_is_a_framer():
    assert isinstance(LineFramer(), Framer)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=8))
def test_framing_does_not_depend_on_how_the_bytes_were_cut(data, cuts):
    whole = LineFramer(max_line=50)
    expected = whole.feed(data)
    pieces = LineFramer(max_line=50)
    got, start = [], 0
    for cut in sorted(cuts) + [len(data)]:
        got += pieces.feed(data[start:cut])
        start = max(start, cut)
    assert got == expected
    assert whole.reset() == pieces.reset()
    for f in expected:
        if isinstance(f, bytes):
            assert b"\r" not in f and b"\n" not in f and f.strip(b" \t") and len(f) <= 50


# --- record formats ---------------------------------------------------------------------------

GOOD_LINES = {
    "attlog": [
        (b"     1001\t2026-03-02 08:55:01\t1\t0\t15\t0", Punch("1001", T, 0, 15, 0)),
        (b"7\t2026-03-02 08:55:01", Punch("7", T)),
        (b"7\t2026-03-02 08:55:01\t1\t1\t1\t3\t255\t9", Punch("7", T, 1, 1, 3)),
    ],
    "adms": [
        (b"1001\t2026-03-02 08:55:01\t1\t15\t0\t0\t0", Punch("1001", T, 1, 15, 0)),
        (b"1001\t2026-03-02 08:55:01\t\t\t", Punch("1001", T)),
    ],
    "csv": [
        (b"1001,2026-03-02 08:55:01,1,15", Punch("1001", T, 1, 15, 0)),
        (b" 1001 , 2026-03-02 08:55:01 ", Punch("1001", T)),
        (b"1001,2026-03-02 08:55:01,0,1,4,extra", Punch("1001", T, 0, 1, 4)),
    ],
    "rtlog": [
        (
            b"time=2026-03-02 08:55:01\tpin=1001\tcardno=0\teventaddr=1\tevent=0\tinoutstatus=1\tverifytype=15",
            Punch("1001", T, 1, 15, 0),
        ),
        (b"PIN=1001\tTime=2026-03-02 08:55:01\tStatus=0\tVerify=1\tWorkCode=8", Punch("1001", T, 0, 1, 8)),
        (b"event=0\tpin=42\ttime=2026-03-02 08:55:01", Punch("42", T)),
    ],
    "compact": [
        (b"0000001001 20260302085501 0 15", Punch("1001", T, 0, 15, 0)),
        (b"0000000000 20260302085501", Punch("0", T)),
        (b"  12 20260302085501 1 1 2  ", Punch("12", T, 1, 1, 2)),
    ],
}

BAD_LINES = {
    "attlog": [
        (b"1001 2026-03-02 08:55:01", "does not match the attlog format"),
        (b"\t2026-03-02 08:55:01\t1\t0", "empty PIN"),
        (b"1001\t2026-02-31 08:00:00\t1\t0", "not a real time"),
        (b"1001\t2026-03-02 08:55:01\t1\tx\t15", "state 'x' is not a number"),
    ],
    "adms": [
        (b"1001\t02/03/2026 08:55\t0", "not a real time"),
        (b"1001\t2026-03-02 08:55:01\t0\t99999999999", "verify '99999999999' is not a number"),
    ],
    "csv": [
        (b"1001;2026-03-02 08:55:01", "does not match the csv format"),
        (b"1001,2026-03-02 25:00:00", "not a real time"),
        (b"1001,2026-03-02 08:55:01,0,1,w", "work code 'w' is not a number"),
    ],
    "rtlog": [
        (b"time=2026-03-02 08:55:01\tcardno=7", "does not match the rtlog format"),
        (b"cardpin=1\ttime=2026-03-02 08:55:01", "does not match the rtlog format"),
        (b"pin=\ttime=2026-03-02 08:55:01", "empty PIN"),
    ],
    "compact": [
        (b"A001 20260302085501", "does not match the compact format"),
        (b"1001 20260231085501", "not a real time"),
        (b"1001 2026030208550", "does not match the compact format"),
    ],
}


@pytest.mark.parametrize(("name", "line", "punch"), [(n, ln, p) for n, cases in GOOD_LINES.items() for ln, p in cases])
def test_every_preset_reads_its_lines(name, line, punch):
    assert PRESETS[name].parse(line, 1) == punch


@pytest.mark.parametrize(("name", "line", "why"), [(n, ln, w) for n, cases in BAD_LINES.items() for ln, w in cases])
def test_every_preset_rejects_bad_lines_with_their_line_number(name, line, why):
    record = PRESETS[name].parse(line, 17)
    assert isinstance(record, BadRecord)
    assert record.index == 17 and record.raw == line
    assert record.reason.startswith("line 17: ") and why in record.reason


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_documents_an_example_it_reads(name):
    fmt = PRESETS[name]
    assert fmt.description and fmt.layout
    assert isinstance(fmt.parse(fmt.example.encode(), 1), Punch)


@pytest.mark.parametrize("name", list(PRESETS))
def test_what_the_simulator_prints_reads_back_as_the_same_punch(name):
    punches = synthetic_punches(60, pins=7)
    fmt = PRESETS[name]
    assert [fmt.parse(RENDER[name](p).encode(), i) for i, p in enumerate(punches)] == punches


def test_attlog_preset_reads_a_pin_exactly_as_the_usb_export_parser_does():
    lines = ["     0042\t2026-03-02 08:55:01\t1\t0\t15\t0", "  张三 \t2026-03-02 08:55:01\t1\t1"]
    for line in lines:
        (usb,) = scan_attlog([line])
        assert PRESETS["attlog"].parse(line.encode(), 1) == usb.punch


def test_attlog_preset_agrees_with_the_usb_parser_on_the_real_export(attlog_path):
    lines = attlog_path.read_text(encoding="utf-8").splitlines()[:2000]
    usb = [item.punch for item in scan_attlog(lines) if item.kind == "punch"]
    ours = [PRESETS["attlog"].parse(line.encode(), i) for i, line in enumerate(lines, 1)]
    assert ours == usb


def test_binary_and_undecodable_lines_are_bad_records():
    fmt = PRESETS["attlog"]
    assert "binary data" in fmt.parse(b"7\t2026-03-02 08:55:01\x00\x01", 1).reason
    assert "not utf-8 text" in fmt.parse(b"\xff\xfe7\t2026-03-02 08:55:01", 2).reason
    gbk = fmt.with_options(encoding="gbk")
    assert gbk.parse("张三\t2026-03-02 08:55:01".encode("gbk"), 3) == Punch("张三", T)


def test_too_long_a_pin_is_a_bad_record():
    record = PRESETS["csv"].parse(b"1" * 33 + b",2026-03-02 08:55:01", 4)
    assert isinstance(record, BadRecord) and "at most 32 characters" in record.reason


def test_a_custom_pattern_with_date_and_time_groups():
    fmt = resolve_format(
        pattern=r"(?P<date>\d{2}/\d{2}/\d{4});(?P<time>\d{2}:\d{2});0*(?P<pin>\d+)(;(?P<state>\d))?",
        time_format="%d/%m/%Y %H:%M",
    )
    assert fmt.name == "custom"
    assert fmt.parse(b"02/03/2026;08:55;000123;1", 1) == Punch("123", datetime(2026, 3, 2, 8, 55), 1)
    assert "the configured pattern" in fmt.parse(b"02/03/2026 08:55 123", 2).reason


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(?P<pin>\d+", "not a valid regular expression"),
        (r"(?P<pin>\d+) (?P<when>.+)", "needs the named group (?P<time>…)"),
        (r"(\d+) (.+)", "needs the named groups (?P<pin>…) and (?P<time>…)"),
    ],
)
def test_a_bad_custom_pattern_is_refused_with_a_clear_message(pattern, message):
    with pytest.raises(ValueError) as refused:
        check_pattern(pattern)
    assert message in str(refused.value)
    with pytest.raises(ValueError):
        RecordFormat("custom", pattern)


def test_time_formats_and_encodings_are_checked():
    assert check_time_format("%d.%m.%y %H%M") == "%d.%m.%y %H%M"
    for fmt in ("%H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M %z"):
        with pytest.raises(ValueError):
            check_time_format(fmt)
    with pytest.raises(ValueError, match="unknown text encoding"):
        resolve_format("csv", encoding="klingon")
    with pytest.raises(ValueError, match="unknown format 'cvs'; presets: attlog"):
        resolve_format("cvs")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=80),
            st.sampled_from([RENDER[n](Punch("1001", T, 1, 15, 0)).encode() for n in RENDER]),
            st.sampled_from(list(NOISE)),
            st.sampled_from([b"\r\n", b"\n", b"\r"]),
        ),
        max_size=20,
    ),
    st.sampled_from(list(PRESETS)),
)
def test_no_input_crashes_and_every_frame_is_a_punch_or_a_bad_record(chunks, name):
    framer = LineFramer(max_line=120)
    frames = [f for c in chunks for f in framer.feed(c)]
    tail = framer.reset()
    frames += [tail] if tail else []
    records = [
        PRESETS[name].parse(f, i) if isinstance(f, bytes) else BadRecord(i, f.raw, f.reason)
        for i, f in enumerate(frames, 1)
    ]
    assert len(records) == len(frames)
    for i, r in enumerate(records, 1):
        assert isinstance(r, (Punch, BadRecord))
        if isinstance(r, BadRecord):
            assert r.index == i


# --- transport --------------------------------------------------------------------------------


def test_urls_pyserial_knows_and_device_paths_are_accepted():
    for url in ("/dev/ttyS0", "/dev/ttyUSB0", "COM3", "socket://127.0.0.1:4001", "rfc2217://127.0.0.1:4001", "loop://"):
        assert check_url(url) == url
    with pytest.raises(ValueError, match="does not know ftp://"):
        check_url("ftp://127.0.0.1/x")


def test_pyserial_errors_map_onto_the_driver_exceptions(tmp_path):
    with pytest.raises(TerminalUnreachable, match="cannot open"):
        open_port(str(tmp_path / "ttyNOPE"), device="annex")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TerminalUnreachable):
        open_port(f"socket://127.0.0.1:{port}")
    server = socket.create_server(("127.0.0.1", 0))
    port = open_port(f"socket://127.0.0.1:{server.getsockname()[1]}", timeout=0.05)
    conn, _ = server.accept()
    conn.sendall(b"1001\n")
    conn.close()
    server.close()
    assert read_available(port) == b"1001\n"  # what came before the close is read first
    with pytest.raises(TransferInterrupted, match="connection lost"):
        read_available(port)
    port.close()


# --- the reader -------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_with_bounded_jitter():
    b = Backoff(initial=1, factor=2, cap=60)
    assert [b.delay(n) for n in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    j = Backoff(initial=10, factor=2, cap=60, jitter=0.1)
    assert j.delay(0, rand=lambda: 0.0) == 9.0 and j.delay(0, rand=lambda: 1.0) == 11.0
    assert j.delay(5, rand=lambda: 1.0) == pytest.approx(66.0)


class FailingOpener:
    """Refuses ``failures`` times, then opens a ``loop://`` port holding ``data``."""

    def __init__(self, failures: int, data: bytes = b"") -> None:
        self.failures = failures
        self.data = data
        self.calls = 0

    def __call__(self, url, **kw):
        self.calls += 1
        if self.calls <= self.failures:
            raise TerminalUnreachable(f"cannot open {url}: [Errno 2] No such file", device=kw.get("device"))
        port = serial.serial_for_url("loop://", timeout=kw.get("timeout", 0.05))
        port.write(self.data)
        return port


def test_reconnect_backoff_schedule_and_health_logging():
    delays: list[float] = []
    batches: list = []
    health: list = []
    opener = FailingOpener(5, b"7\t2026-03-02 08:55:01\n")

    def sleep(seconds: float) -> bool:
        delays.append(seconds)
        return False

    def on_batch(punches, bad):
        batches.append((punches, bad))
        reader.stop(timeout=0)

    reader = SerialReader(
        "/dev/ttyUSB9",
        on_batch,
        name="annex",
        opener=opener,
        sleep=sleep,
        poll=0.01,
        backoff=Backoff(initial=1, factor=2, cap=10),
        on_health=health.append,
    )
    with capture_logs() as logs:
        reader.run()
    assert delays == [1, 2, 4, 8, 10]
    assert batches == [([Punch("7", T)], [])]
    assert health == ["annex: cannot open /dev/ttyUSB9: [Errno 2] No such file", None]
    events = [(e["event"], e["log_level"]) for e in logs if e["event"].startswith("serial link")]
    assert events == [("serial link down", "error")] + [("serial link still down", "debug")] * 4 + [
        ("serial link recovered", "info")
    ]


def test_the_backoff_restarts_once_data_has_arrived():
    delays: list[float] = []
    ports = iter([b"1\t2026-03-02 08:55:01\n", None, None, b"2\t2026-03-02 08:55:01\n", None])
    got: list[Punch] = []

    def opener(url, **kw):
        data = next(ports)
        if data is None:
            raise TerminalUnreachable("refused")
        port = serial.serial_for_url("loop://", timeout=0.01)
        port.write(data)
        return _ClosingAfterData(port)

    def sleep(seconds: float) -> bool:
        delays.append(seconds)
        return len(delays) >= 5

    reader = SerialReader(
        "socket://127.0.0.1:1",
        lambda p, b: got.extend(p),
        opener=opener,
        sleep=sleep,
        backoff=Backoff(initial=1, factor=2, cap=60),
    )
    reader.run()
    assert [p.pin for p in got] == ["1", "2"]
    assert delays == [1, 2, 4, 1, 2]


class _ClosingAfterData:
    """A loop:// port that fails like a dropped connection once its data is read."""

    def __init__(self, port) -> None:
        self.port = port

    def read(self, n):
        data = self.port.read(n)
        if not data:
            raise serial.SerialException("socket disconnected")
        return data

    @property
    def in_waiting(self):
        return self.port.in_waiting

    @property
    def timeout(self):
        return self.port.timeout

    @timeout.setter
    def timeout(self, value):
        self.port.timeout = value

    def close(self):
        self.port.close()


def test_a_batch_the_store_refuses_is_retried_until_it_is_taken():
    attempts: list[int] = []
    delays: list[float] = []
    stored: list = []

    def on_batch(punches, bad):
        attempts.append(len(punches))
        if len(attempts) < 4:
            raise RuntimeError("database is locked")
        stored.append((punches, bad))
        reader.stop(timeout=0)

    reader = SerialReader(
        "loop://",
        on_batch,
        opener=FailingOpener(0, b"1\t2026-03-02 08:55:01\nnonsense\n"),
        sleep=lambda s: delays.append(s) or False,
        backoff=Backoff(initial=1, cap=4),
        poll=0.01,
    )
    with capture_logs() as logs:
        reader.run()
    assert attempts == [1, 1, 1, 1] and delays == [1, 2, 4]
    ((punches, bad),) = stored
    assert punches == [Punch("1", T)] and [b.index for b in bad] == [2]
    levels = [(e["event"], e["log_level"]) for e in logs if "stored" in e["event"]]
    assert levels == [
        ("serial records not stored; retrying", "error"),
        ("serial records still not stored", "debug"),
        ("serial records still not stored", "debug"),
        ("serial records stored after retrying", "info"),
    ]
    assert reader.stats.punches == 1 and reader.stats.bad == 1


def test_stopping_while_the_store_refuses_logs_every_record():
    def on_batch(punches, bad):
        reader.stop(timeout=0)
        raise RuntimeError("disk full")

    reader = SerialReader(
        "loop://", on_batch, opener=FailingOpener(0, b"1001\t2026-03-02 08:55:01\t0\t1\t0\t0\n"), poll=0.01
    )
    with capture_logs() as logs:
        reader.run()
    (lost,) = [e for e in logs if "NOT stored" in e["event"]]
    assert lost["log_level"] == "error" and lost["error"] == "disk full"
    assert lost["punches"] == ["1001\t2026-03-02 08:55:01\t1\t0\t0"]  # PIN, time, state, verify, work code


def test_a_reader_stops_promptly_on_an_idle_line():
    reader = SerialReader("loop://", lambda p, b: None, opener=FailingOpener(0), poll=0.01).start()
    reader.stop()
    assert reader._thread is not None and not reader._thread.is_alive()


def test_a_custom_framer_plugs_in():
    class Stx:
        """STX … ETX frames, as a binary protocol might use."""

        discarded = 0

        def __init__(self) -> None:
            self.buf = b""

        def feed(self, data):
            self.buf += data
            out = []
            while b"\x03" in self.buf:
                frame, _, self.buf = self.buf.partition(b"\x03")
                out.append(frame.lstrip(b"\x02"))
            return out

        def reset(self):
            self.buf = b""
            return None

    got: list = []
    data = b"\x021,2026-03-02 08:55:01\x03\x022,2026-03-02 08:55:01\x03"

    def on_batch(punches, bad):
        got.extend(punches)
        if len(got) == 2:
            reader.stop(timeout=0)

    reader = SerialReader(
        "loop://", on_batch, framer=Stx(), record_format=PRESETS["csv"], opener=FailingOpener(0, data), poll=0.01
    )
    reader.run()
    assert [p.pin for p in got] == ["1", "2"]


# --- over a real pty and a real socket, against the simulator ---------------------------------


class Collect:
    """An on_batch that keeps everything and says when ``expected`` punches have come."""

    def __init__(self, expected: int) -> None:
        self.punches: list[Punch] = []
        self.bad: list[BadRecord] = []
        self.expected = expected
        self.enough = threading.Event()

    def __call__(self, punches, bad) -> None:
        self.punches += punches
        self.bad += bad
        if len(self.punches) >= self.expected:
            self.enough.set()


@pytest.mark.parametrize("name", list(PRESETS))
def test_reader_over_a_pty_reads_every_preset(name):
    punches = synthetic_punches(40, pins=6)
    collect = Collect(40)
    with PtyTerminal(SimulatedSerialTerminal(punches, format=name)) as pty:
        assert pty.url.startswith("/dev/")
        with SerialReader(pty.url, collect, record_format=PRESETS[name], poll=0.02, backoff=FAST):
            assert collect.enough.wait(30)
    assert collect.punches == punches and collect.bad == []


def test_reader_over_socket_with_noise_slow_bytes_and_a_dropped_connection():
    punches = synthetic_punches(30, pins=5)
    faults = Faults(noise_before=frozenset({2, 9, 15, 22}), drop_at=12, replay=2, byte_by_byte=True)
    term = SimulatedSerialTerminal(punches, format="adms", faults=faults)
    collect = Collect(32)  # two replayed
    with TcpTerminal(term) as srv:
        reader = SerialReader(srv.url, collect, record_format=PRESETS["adms"], poll=0.02, backoff=FAST)
        with reader:
            assert collect.enough.wait(30)
    assert srv.connections == 2 and reader.stats.connections == 2
    assert sorted(set(collect.punches)) == sorted(punches)  # nothing lost
    assert len(collect.punches) == 32  # two sent twice: the store's key takes care of them
    reasons = [b.reason for b in collect.bad]
    assert len(reasons) == 5
    assert sum("cut off when the connection dropped" in r for r in reasons) == 1
    half = next(b for b in collect.bad if "cut off" in b.reason)
    assert half.raw and term.line(punches[12]).startswith(half.raw)


def test_a_burst_over_socket_is_read_in_chunks_not_byte_by_byte():
    """pyserial's socket:// ``in_waiting`` is 1 whenever anything is readable, so reading
    ``in_waiting`` bytes at a time took one recv per byte (a 20,000-line burst: 5.9 s, now 0.5 s
    in bench/bench_serial.py). read_available must take what is there in one go."""
    from drivers.serial.transport import open_port, read_available

    with socket.create_server(("127.0.0.1", 0)) as srv:
        port = open_port(f"socket://127.0.0.1:{srv.getsockname()[1]}", timeout=1.0)
        conn, _ = srv.accept()
        with conn:
            payload = b"1001\t2026-03-02 08:55:01\t1\t0\t15\t0\r\n" * 500  # 19 KB
            conn.sendall(payload)
            counted = _CountingReads(port)
            got = b""
            while len(got) < len(payload):
                got += read_available(counted)
            assert got == payload
            assert counted.reads <= 20, f"{counted.reads} port reads for {len(payload)} bytes"
            assert port.timeout == 1.0  # restored
        port.close()


class _CountingReads:
    """A pyserial port that counts its ``read`` calls."""

    def __init__(self, port) -> None:
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "reads", 0)

    def read(self, n=1):
        object.__setattr__(self, "reads", self.reads + 1)
        return self.port.read(n)

    def __getattr__(self, name):
        return getattr(self.port, name)

    def __setattr__(self, name, value):
        setattr(self.port, name, value)
