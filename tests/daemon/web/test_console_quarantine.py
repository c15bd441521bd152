"""Issue 15 (4): the quarantine review — a reset clock's run re-dated from one known punch,
previewed, released as punches with their origin kept; other records dismissed with a reason;
the quarantined rows themselves never altered. In the console and on the command line."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from conftest import console_for, login
from helpers import put_roster, run_cli, write_centre

from drivers import Punch

STAMP = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
RESET = [
    Punch("1", datetime(2000, 1, 3, 8, 1)),
    Punch("1", datetime(2000, 1, 3, 17, 3)),
    Punch("2", datetime(2000, 1, 3, 8, 10)),
]


def _reset_clock(store) -> list[int]:
    """The terminal (installed 2020) restarted at 2000-01-01: its punches of the next days are
    quarantined as a reset clock's."""
    from daemon.ingest import sort_punches

    put_roster(store, (("1", "甲", "gongan", "staff"), ("2", "乙", "gongan", "staff")), now_utc=STAMP)
    good, aside = sort_punches(RESET, now_local=datetime(2026, 3, 5, 10, 0), installed=date(2020, 1, 1))
    assert good == [] and {q.reason.split(" (")[0] for q in aside} == {"reset clock"}
    store.save_punches(
        device_name="hall", device_serial="S1", source="zk", punches=[], quarantined=aside, now_utc=STAMP
    )
    return sorted(q["id"] for q in store.quarantine())


def _table(store, name: str) -> list[tuple]:
    with store.reading() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY id")]


#: The terminal, as the config knows it: installed in 2020.
HALL = '[[devices]]\nname = "hall"\nhost = "10.0.0.21"\ninstalled = 2020-01-01\n'


@pytest.fixture
def clerk(tmp_path, clock):
    with console_for(tmp_path, clock, extra=HALL) as console:
        console.ids = _reset_clock(console.store)  # type: ignore[attr-defined]
        login(console, "clerk1")
        yield console


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/quarantine").text).group(1)


def test_a_reset_clock_run_is_previewed_then_released_with_its_origin(clerk):
    from daemon.store import changes

    before = _table(clerk.store, "quarantine")
    token = _csrf(clerk)
    ids = clerk.ids[:2]
    form = {
        "csrf": token,
        "ids": [str(i) for i in ids],
        "terminal_time": "2000-01-03 08:01:00",
        "real_time": "2026-03-04 08:02:00",
    }
    preview = clerk.post("/quarantine/preview", data=form)
    assert preview.status_code == 200
    assert "2026-03-04 08:02:00" in preview.text and "2026-03-04 17:04:00" in preview.text
    assert _table(clerk.store, "punch") == []  # a preview stores nothing
    offset = re.search(r'name="offset_s" value="([^"]+)"', preview.text).group(1)
    done = clerk.post(
        "/quarantine/release",
        data={"csrf": token, "ids": [str(i) for i in ids], "offset_s": offset, "reason": "时钟复位，按值班记录校正"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/quarantine?released=2"
    punches = clerk.store.punches(staff="1")
    assert [p["punched_at"] for p in punches] == [datetime(2026, 3, 4, 8, 2), datetime(2026, 3, 4, 17, 4)]
    assert {p["source"] for p in punches} == {
        "release"
    }  # their origin: the release's ingest run, the terminal's serial
    assert {p["device_serial"] for p in punches} == {"S1"}
    assert _table(clerk.store, "quarantine") == before  # the quarantined rows are never altered
    assert [c["action"] for c in changes(clerk.store)] == ["quarantine_release"]
    again = clerk.post(
        "/quarantine/release", data={"csrf": token, "ids": [str(ids[0])], "offset_s": offset, "reason": "x"}
    )
    assert again.status_code == 400 and "already decided" in again.text and len(clerk.store.punches(staff="1")) == 2


def test_an_impossible_release_releases_nothing_and_the_rest_can_be_dismissed(clerk):
    token = _csrf(clerk)
    no_offset = clerk.post(
        "/quarantine/release", data={"csrf": token, "ids": [str(i) for i in clerk.ids], "offset_s": "0", "reason": "r"}
    )
    assert no_offset.status_code == 400 and "reset clock" in no_offset.text
    assert clerk.store.punches() == []  # all or none
    dismissed = clerk.post(
        "/quarantine/dismiss", data={"csrf": token, "ids": [str(clerk.ids[2])], "reason": "测试打卡"}
    )
    assert dismissed.status_code == 303
    page = clerk.get("/quarantine").text
    assert "已忽略" in page and "测试打卡" in page and "待处理 2 条" in page
    assert (
        clerk.post(
            "/quarantine/dismiss", data={"csrf": token, "ids": [str(clerk.ids[2])], "reason": "again"}
        ).status_code
        == 400
    )


def test_viewers_cannot_act_on_the_quarantine(clerk):
    clerk.cookies.clear()
    login(clerk, "viewer1")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', clerk.get("/quarantine").text).group(1)
    assert 'name="ids"' not in clerk.get("/quarantine").text
    for path in ("/quarantine/preview", "/quarantine/release", "/quarantine/dismiss"):
        assert clerk.post(path, data={"csrf": token, "ids": [str(clerk.ids[0])], "reason": "r"}).status_code == 403


def test_the_quarantine_review_on_the_command_line(tmp_path):
    from daemon.config import load_config
    from daemon.store import open_store

    cfg = str(write_centre(tmp_path, extra=HALL))
    store = open_store(load_config(cfg).store.url, timezone="Asia/Shanghai")
    ids = _reset_clock(store)
    store.close()
    listed = run_cli("--config", cfg, "quarantine", "list", "--format", "csv")
    assert listed.returncode == 0 and len(listed.stdout.strip().splitlines()) == 4
    known = "2000-01-03 08:01:00=2026-03-04 08:02:00"
    preview = run_cli("--config", cfg, "quarantine", "release", str(ids[2]), "--known", known, "--preview")
    assert preview.returncode == 0 and "2026-03-04 08:11:00" in preview.stdout
    need = run_cli("--config", cfg, "quarantine", "release", str(ids[2]), "--known", known)
    assert need.returncode == 2 and "--reason TEXT --by NAME" in need.stderr
    bad = run_cli(
        "--config", cfg, "quarantine", "release", str(ids[2]), "--known", "yesterday", "--reason", "r", "--by", "王芳"
    )
    assert bad.returncode == 2 and bad.stderr.startswith("attendd: --known: expected")
    ok = run_cli(
        "--config", cfg, "quarantine", "release", str(ids[2]), "--known", known, "--reason", "时钟复位", "--by", "王芳"
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "released 1 record(s): 1 new punch(es)"
    gone = run_cli("--config", cfg, "quarantine", "dismiss", "999", "--reason", "r", "--by", "王芳")
    assert (
        gone.returncode == 2
        and gone.stderr.strip() == "attendd: quarantined record 999: no such record; nothing dismissed"
    )
    assert (
        run_cli(
            "--config", cfg, "quarantine", "dismiss", *map(str, ids[:2]), "--reason", "r", "--by", "王芳"
        ).returncode
        == 0
    )
    assert run_cli("--config", cfg, "quarantine", "list").stdout.strip() == "nothing in quarantine waits for a decision"
