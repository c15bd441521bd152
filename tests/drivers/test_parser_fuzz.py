"""Issue 13 (must hold): any bytes given to the USB export parser or the ADMS body parser give
punches or per-line bad records (or, for a file that is no text log, AttlogNotText) — never
another exception; and what they give, sorted for the store, is punches the store can hold
as they are plus records to quarantine.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from daemon.ingest import sort_punches
from drivers import BadRecord, Punch, punch_problem
from drivers.adms.protocol import parse_attlog_body
from drivers.attlog import AttlogNotText, read_attlog_file, scan_attlog_bytes, split_lines

NOW_LOCAL = datetime(2026, 3, 31, 18, 0)
FAST = settings(max_examples=200, deadline=None)
#: Found by these tests: a number column of 5,000 digits made ``int()`` raise (Python's limit
#: on decimal conversion), a traceback in ``attendd import attlog``.
LONG_NUMBER = b"7\t2026-03-02 08:55:01\t1\t" + b"9" * 5000 + b"\t15\t0\n"

# Lines shaped like records, with each field drawn from what a damaged export holds: odd PINs
# (punctuation, spaces, control characters, non-ASCII, 33 characters), real and impossible
# times, numbers past 2³¹ or thousands of digits long, extra and missing columns.
_digits = st.from_regex(r"\A *[0-9]{1,9}\Z")
_pin = st.one_of(
    _digits,
    _digits,
    st.sampled_from(["ZZ", "`?0,?0", "12 34", "9\x01", "张三", "1" * 33, "A-1", "", " "]),
    st.text(max_size=40),
)
_real_time = st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda t: f"{t:%Y-%m-%d %H:%M:%S}"
)
_time = st.one_of(
    _real_time,
    _real_time,
    _real_time,
    st.sampled_from(["2026-02-31 08:00:00", "2026-03-02 25:00:00", "2000-01-01 00:00:00", "0000-00-00 00:00:00"]),
    st.text(max_size=20),
)
_number = st.one_of(
    st.integers(0, 20).map(str),
    st.sampled_from(["2147483647", "2147483648", "99999999999", "9" * 5000, "0" * 30 + "7", ""]),
    st.sampled_from(["-1", "x", "１"]),
    st.text(alphabet="0123456789 ", max_size=12),
)
_record = st.builds(
    lambda pin, time, numbers: "\t".join([pin, time, *numbers]),
    _pin,
    _time,
    st.lists(_number, max_size=6),
)
_line = st.one_of(_record, _record, st.text(max_size=60), st.sampled_from(["", "OGT2060012345", "CRC:1A2B", "   "]))


def _encoded(lines: list[str], crlf: bool, gbk: bool) -> bytes:
    text = ("\r\n" if crlf else "\n").join(lines)
    return text.encode("gbk", "replace") if gbk else text.encode("utf-8", "surrogatepass")


_text_bodies = st.builds(_encoded, st.lists(_line, max_size=12), st.booleans(), st.booleans())
_bodies = st.one_of(
    _text_bodies,
    _text_bodies,
    st.binary(max_size=400),
    st.builds(
        lambda a, b: a + b,
        st.builds(_encoded, st.lists(_line, max_size=6), st.just(False), st.just(False)),
        st.binary(max_size=40),
    ),
)


def _check_sorted(punches: list[Punch], bad: list[BadRecord]) -> None:
    """What the parsers give passes the store's door: storable punches, the rest quarantined."""
    good, aside = sort_punches(punches, bad, now_local=NOW_LOCAL)
    assert all(punch_problem(p) is None for p in good)
    assert len(good) + len(aside) == len(punches) + len(bad)
    assert all(q.reason for q in aside)


@FAST
@given(_bodies)
@example(LONG_NUMBER)
def test_any_bytes_give_attlog_lines_or_a_refusal(data):
    try:
        scan = scan_attlog_bytes(data, name="1_attlog.dat")
    except AttlogNotText as exc:
        assert "1_attlog.dat: not a readable attendance log" in str(exc)
        return
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    assert [item.number for item in scan.lines] == list(range(1, len(split_lines(text)) + 1))  # every line, once
    for item in scan.lines:
        assert (item.punch is not None) == (item.kind == "punch")
        assert (item.reason is not None) == (item.kind in ("bad", "rejected"))
    punches = [item.punch for item in scan.of("punch") if item.punch is not None]
    assert all(0 <= v <= 2**31 - 1 for p in punches for v in (p.state, p.verify, p.work_code))
    _check_sorted(punches, [item.bad_record() for item in scan.of("bad")])


@settings(max_examples=20, deadline=None)
@given(_bodies)
def test_read_attlog_file_is_the_same_scan(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("usb") / "1_attlog.dat"
    path.write_bytes(data)
    try:
        expected = scan_attlog_bytes(data, name=str(path))
    except AttlogNotText:
        try:
            read_attlog_file(path)
        except AttlogNotText:
            return
        raise AssertionError("read_attlog_file took a file scan_attlog_bytes refused") from None
    assert read_attlog_file(path) == expected


@FAST
@given(_bodies)
@example(LONG_NUMBER)
def test_any_bytes_give_adms_punches_or_bad_lines(body):
    punches, bad = parse_attlog_body(body)
    lines = body.split(b"\n")
    assert len(punches) + len(bad) <= len(lines)
    assert all(isinstance(p, Punch) and p.pin and len(p.pin) <= 32 for p in punches)
    assert all(isinstance(b, BadRecord) and 1 <= b.index <= len(lines) and b.reason for b in bad)
    assert [b.index for b in bad] == sorted({b.index for b in bad})  # one record per line, in order
    _check_sorted(punches, bad)
