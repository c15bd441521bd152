"""Issue 13.8: terminal data is bounded the same way on SQLite, PostgreSQL and MariaDB.

A PIN longer than the store's column, one no terminal enrols, or a state / verify / work code
outside 0..2³¹−1 is quarantined with its reason — never a traceback, never truncated or
clamped, never stored as a punch — and a quarantined raw line keeps all its bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from helpers import assert_clean_failure, write_devices_config
from helpers import run_cli as attendd
from sqlalchemy import text

from daemon.ingest import save_batch
from daemon.store import Quarantined, Store
from drivers import INT_FIELD_MAX, PIN_MAX_LEN, BadRecord, Punch, pin_problem, punch_problem

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
T = datetime(2026, 3, 2, 8, 55)
DEVICE = SimpleNamespace(name="hall", installed=None)

#: (punch, what its quarantine reason says); none of them may be stored.
UNSTORABLE = [
    (Punch("1" * (PIN_MAX_LEN + 1), T), "PIN of 33 characters (at most 32)"),
    (Punch("1" * PIN_MAX_LEN + "2", T), "PIN of 33 characters (at most 32)"),  # same first 32
    (Punch("7", T, work_code=INT_FIELD_MAX + 1), "work code 2147483648 is out of range"),
    (Punch("7", T, state=-1), "state -1 is out of range"),
    (Punch("7", T, verify=2**63), "verify 9223372036854775808 is out of range"),
    (Punch("8", T, state=10**5000), "state a 16610-bit number is out of range"),
    (Punch("`?0,?0", T), "is not one a terminal enrols"),
    (Punch("12 34", T), "is not one a terminal enrols"),
    (Punch("9\x01", T), r"PIN '9\x01' is not one a terminal enrols"),
    (Punch("9\x00", T), r"PIN '9\x00' is not one a terminal enrols"),
    (Punch("A-1", T), "is not one a terminal enrols"),
    (Punch("ZZ", T), "is not one a terminal enrols (digits"),
    (Punch("张三", T), "is not one a terminal enrols"),
]
GOOD = [Punch("1001", T), Punch("0001001", T), Punch("1" * PIN_MAX_LEN, T, 5, 15, INT_FIELD_MAX)]


@pytest.mark.parametrize(
    ("pin", "ok"),
    [("1", True), ("0001001", True), ("9" * 32, True), ("9" * 33, False), ("", False), ("ZZ", False)]
    + [(p, False) for p in ("1 2", "1\t2", "1,2", "1.2", "1_2", "1\x7f", "１２", "1\u200b")],
)
def test_what_a_terminal_enrols(pin, ok):
    """Digits (a corrupted export's ``ZZ`` is not staff) — letters too where the firmware enrols them."""
    assert (pin_problem(pin) is None) is ok
    letters_ok = ok or pin in ("ZZ",)
    assert (pin_problem(pin, letters=True) is None) is letters_ok
    assert pin_problem("A1001", letters=True) is None and pin_problem("x" * 32, letters=True) is None


def test_terminal_data_is_bounded_alike_on_every_backend(any_store_url):
    """One store per backend (a server database costs seconds to migrate): built at revision
    0004 with quarantine rows, migrated, then fed every kind of damaged record."""
    store = _store_at_0004_migrated(any_store_url)
    try:
        _check_unstorable_punches(store)
        _check_long_raw_lines(store)
        _check_pushed_body(store)
        _check_schema(store)
    finally:
        store.close()


def _save(store, serial="S1", *, punches=(), bad=(), aside=()):
    return save_batch(
        store,
        DEVICE,
        device_serial=serial,
        source="zk",
        punches=list(punches),
        bad=list(bad),
        aside=list(aside),
        now=NOW,
        tz=TZ,
    )


def _check_unstorable_punches(any_store):
    punches = GOOD + [p for p, _ in UNSTORABLE]
    saved = _save(any_store, punches=punches)
    assert (saved.new, saved.quarantined_new) == (len(GOOD), len(UNSTORABLE))
    stored = sorted(
        (r["pin"], r["state"], r["verify"], r["work_code"]) for r in any_store.punches() if r["device_serial"] == "S1"
    )
    assert stored == sorted((p.pin, p.state, p.verify, p.work_code) for p in GOOD)  # not clamped, not cut
    rows = any_store.quarantine("S1")
    assert len(rows) == len(UNSTORABLE)  # the two 33-character PINs are two rows, not one
    for (punch, reason), row in zip(UNSTORABLE, rows, strict=True):
        assert reason in row["reason"], (punch, row["reason"])
        assert row["punched_at"] == T and row["raw_sha256"] == hashlib.sha256(row["raw"].encode()).hexdigest()
    raws = [r["raw"] for r in rows]
    assert raws[0].startswith("1" * 33 + "\t2026-03-02 08:55:00") and raws[8].startswith("9\\x01\t")
    # the pin column holds a PIN only as it is: a longer or unprintable one is in the raw text
    assert [r["pin"] for r in rows][:3] == [None, None, "7"] and rows[9]["pin"] is None
    again = _save(any_store, punches=punches)  # a re-pull: nothing new, nothing doubled
    assert (again.new, again.quarantined_new) == (0, 0)
    assert len(any_store.quarantine("S1")) == len(UNSTORABLE)


def _check_long_raw_lines(any_store):
    """Two lines longer than 255 bytes sharing their first 255 are two rows, each whole."""
    head = "x" * 255
    lines = [head + "\t2026-02-31 08:00:00", head + "\t2026-02-30 08:00:00"]
    blobs = [b"\x01" * 300 + b"\x02", b"\x01" * 300 + b"\x03"]
    huge = "y" * 100_000  # beyond MariaDB's plain TEXT
    saved = _save(
        any_store,
        "S2",
        aside=[Quarantined(raw=line, reason="impossible time", pin=head) for line in lines + [huge]],
        bad=[BadRecord(i, blob, "line: bad") for i, blob in enumerate(blobs)],
    )
    assert saved.quarantined_new == 5
    raws = sorted(r["raw"] for r in any_store.quarantine("S2"))
    assert raws == sorted([*lines, huge, blobs[0].hex(), blobs[1].hex()])
    assert _save(any_store, "S2", aside=[Quarantined(raw=lines[1], reason="again")]).quarantined_new == 0


OLD_RAWS = ("0100ff", "7\t2000-01-01 00:00:00\t0\t0\t0", "z" * 255)


def _store_at_0004_migrated(url: str) -> Store:
    """A store at revision 0004 with quarantine rows (device S0), migrated to the head: the
    rows keep their raw text and get its digest, which is their key from then on."""
    s = Store(url, timezone="Asia/Shanghai")
    with s.transaction() as conn:
        command.upgrade(s._alembic(conn), "0004")
    with s.transaction() as conn:
        for raw in OLD_RAWS:
            conn.execute(
                text(
                    "INSERT INTO quarantine (device_serial, device_name, source, raw, reason, first_seen_utc) "
                    "VALUES ('S0', 'hall', 'zk', :raw, 'old', '2026-03-01 00:00:00')"
                ),
                {"raw": raw},
            )
    s.upgrade()
    rows = s.quarantine("S0")
    assert [(r["raw"], r["raw_sha256"]) for r in rows] == [
        (raw, hashlib.sha256(raw.encode()).hexdigest()) for raw in OLD_RAWS
    ]
    # the same record again adds nothing, a longer one is new
    again = [Quarantined(raw="z" * 255, reason="again"), Quarantined(raw="z" * 256, reason="longer")]
    assert _save(s, "S0", aside=again).quarantined_new == 1
    return s


def test_every_quarantined_punch_says_why():
    from daemon.bulletin.labels import quarantine

    for punch, reason in UNSTORABLE:
        why = punch_problem(punch) or ""
        assert reason in why, punch
        assert quarantine(why) == ("工号无效" if why.startswith("PIN ") else "数值超出范围")  # the bulletin's word
    assert [punch_problem(p) for p in GOOD] == [None] * len(GOOD)


def test_import_attlog_quarantines_what_the_store_cannot_hold(tmp_path):
    """Through the CLI: a damaged export's odd PINs and fields are quarantined, not staff."""
    cfg = write_devices_config(tmp_path, [{"name": "hall", "serial": "REAL000001"}])
    lines = [
        "     1001\t2026-03-02 08:55:01\t1\t0\t15\t0",
        "`?0,?0\t2026-03-02 08:56:01\t1\t0\t15\t0",
        "12 34\t2026-03-02 08:57:01\t1\t0\t15\t0",
        f"{'5' * 33}\t2026-03-02 08:58:01\t1\t0\t15\t0",
        f"{'5' * 32}6\t2026-03-02 08:58:01\t1\t0\t15\t0",
        "1002\t2026-03-02 08:59:01\t1\t0\t15\t99999999999",
        "1003\t2026-03-02 09:00:01\t1\t" + "9" * 5000 + "\t15\t0",
        f"{'w' * 300}\t2026-02-31 08:00:00\t1\t0\t15\t0",
        f"{'w' * 300}\t2026-02-30 08:00:00\t1\t0\t15\t0",
    ]
    path = tmp_path / "1_attlog.dat"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = attendd("--config", str(cfg), "import", "attlog", str(path), "--device", "hall")
    assert_clean_failure(proc, 0)
    assert proc.stdout.strip() == "read 9, new 1, duplicate 0, quarantined 8, rejected 0"
    store = Store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    try:
        assert [r["pin"] for r in store.punches()] == ["1001"]
        reasons = [r["reason"] for r in store.quarantine()]
        assert sum("is not one a terminal enrols" in r for r in reasons) == 2
        assert sum("PIN of 33 characters" in r for r in reasons) == 2
        assert sum("out of range" in r for r in reasons) == 2
        raws = {r["raw"] for r in store.quarantine()}
        assert set(lines[-3:]) <= raws  # whole: 5,000 digits, and two long lines sharing 300 characters
    finally:
        store.close()


def _check_schema(any_store):
    """Revision 0005 gives the quarantine table exactly its model on each backend (the whole
    schema is compared on SQLite by test_store.py)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from daemon.store.models import Base

    def quarantine_only(obj, name, type_, reflected, compare_to) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in (None, "quarantine")

    with any_store.reading() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": quarantine_only})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def _check_pushed_body(any_store):
    """The ADMS path: the parser's bad lines (NUL in a PIN, 33 characters) and the punches only
    the store's door refuses (punctuation, inner space, Chinese) are all quarantined."""
    from drivers.adms.protocol import parse_attlog_body

    body = "\n".join(
        [
            "1001\t2026-03-02 08:55:01\t0\t15\t0",
            "9\x00\t2026-03-02 08:55:02\t0\t15\t0",
            f"{'5' * 33}\t2026-03-02 08:55:03\t0\t15\t0",
            f"{'5' * 32}6\t2026-03-02 08:55:03\t0\t15\t0",
            "`?0,?0\t2026-03-02 08:55:04\t0\t15\t0",
            "12 34\t2026-03-02 08:55:05\t0\t15\t0",
            "张三\t2026-03-02 08:55:06\t0\t15\t0",
        ]
    ).encode("utf-8")
    punches, bad = parse_attlog_body(body)
    saved = _save(any_store, "S3", punches=punches, bad=bad)
    assert (saved.new, saved.quarantined_new) == (1, 6)
    assert [r["pin"] for r in any_store.punches() if r["device_serial"] == "S3"] == ["1001"]
    assert all(r["pin"] is None or r["pin"] in ("`?0,?0", "12 34", "张三") for r in any_store.quarantine("S3"))


def test_a_terminal_that_enrols_letters_says_so_in_its_config(tmp_path):
    """``[[devices]] pin_letters = true``: that terminal's A1001 is staff; elsewhere it is quarantined."""
    from daemon.config import config_from_dict
    from daemon.ingest import sort_punches

    config = config_from_dict(
        {
            "site": {"name": "x"},
            "devices": [{"name": "a", "host": "10.0.0.1"}, {"name": "b", "host": "10.0.0.2", "pin_letters": True}],
        },
        base_dir=tmp_path,
    )
    plain, letters = config.devices
    assert (plain.pin_letters, letters.pin_letters) == (False, True)
    batch = [Punch("A1001", T), Punch("1001", T)]
    now = T.replace(year=T.year + 1)
    good, aside = sort_punches(batch, now_local=now, pin_letters=plain.pin_letters)
    assert [p.pin for p in good] == ["1001"] and [q.pin for q in aside] == ["A1001"]
    good, aside = sort_punches(batch, now_local=now, pin_letters=letters.pin_letters)
    assert [p.pin for p in good] == ["A1001", "1001"] and aside == []
