"""Issue 15, point 6: the audit log — every change, login, close and reopen in one list for admins,
filterable, exportable as CSV (safe to open in a spreadsheet)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from conftest import csrf_of, login
from helpers import fill


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [_text(r).strip() for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.fixture
def audited(console, clock):
    """A March with a change from the command line, a clerk's close and reopen, and an admin signed in."""
    from daemon.store import record_change

    fill(console.store)
    with console.store.transaction() as conn:
        record_change(
            conn,
            at=datetime(2026, 4, 2, 1, 0, tzinfo=UTC),
            by="=cmd",
            via="cli",
            action="punch_add",
            subject="manual_punch",
            subject_id=7,
            staff_no="2",
            reason="设备故障，值班室登记",
            after={"at": "2026-03-03T08:55:00"},
        )
    login(console, "clerk1")
    token = csrf_of(console)
    clock.advance(minutes=1)
    assert console.post("/periods/2026-03/close", data={"csrf": token}).status_code == 303
    clock.advance(minutes=1)
    r = console.post("/periods/2026-03/reopen", data={"csrf": token, "reason": "请假条补交"})
    assert r.status_code == 303
    clock.advance(minutes=1)
    console.post("/logout", data={"csrf": token})
    clock.advance(minutes=1)
    login(console, "admin1")
    return console


def test_the_admin_sees_every_kind_of_entry_newest_first(audited):
    r = audited.get("/audit")
    assert r.status_code == 200
    rows = _rows(r.text)
    text = " ".join(rows)
    assert "登录 账号 clerk1" in text and "登录 账号 admin1" in text and "退出" in text
    assert "结账 期间 2026-03" in text and "重新开账 期间 2026-03" in text and "请假条补交" in text
    assert "=cmd 命令行 补签 补签 7 2 设备故障，值班室登记" in text
    assert rows[0].startswith("2026-06-30 18:04:00 admin1 网页 登录")  # newest first, in Shanghai time
    assert rows[1].startswith("2026-06-30 18:03:00 clerk1 网页 退出")
    assert rows[2].startswith("2026-06-30 18:02:00 clerk1 网页 重新开账 期间 2026-03 请假条补交")
    assert rows[3].startswith("2026-06-30 18:01:00 clerk1 网页 结账 期间 2026-03")
    assert rows[-1].startswith("2026-03-01")  # the users made at set-up come last
    # the reopen is shown once, though it is in the change log and in period_reopen
    assert sum("重新开账" in x for x in rows) == 1


def test_a_reopen_from_the_command_line_is_in_the_log_too(audited):
    """period_reopen / period_forced_close rows the console did not write (the CLI's) are listed."""
    from sqlalchemy import insert

    from daemon.store.models import forced_close_table

    with audited.store.transaction() as conn:
        conn.execute(
            insert(forced_close_table),
            {
                "period_key": "2026-04",
                "by": "老王",
                "reason": "四月停业",
                "at_utc": datetime(2026, 5, 1, 2, tzinfo=UTC),
                "incomplete": "no punches stored for 2026-04",
                "revision": 1,
            },
        )
    text = " ".join(_rows(audited.get("/audit").text))
    assert "老王 命令行 强制结账 期间 2026-04" in text and "四月停业" in text and "no punches" in text


def test_the_filters_narrow_the_list(audited):
    by_clerk = _rows(audited.get("/audit", params={"who": "clerk1"}).text)
    assert by_clerk and all(" clerk1 " in r for r in by_clerk)
    closes = _rows(audited.get("/audit", params={"action": "period_close"}).text)
    assert len(closes) == 1 and "结账 期间 2026-03" in closes[0]
    staff = _rows(audited.get("/audit", params={"staff": "2"}).text)
    assert len(staff) == 1 and "补签" in staff[0]
    april = _rows(audited.get("/audit", params={"from": "2026-04-01", "to": "2026-04-30"}).text)
    assert len(april) == 1 and "=cmd" in april[0]
    early = _rows(audited.get("/audit", params={"to": "2026-03-01"}).text)
    assert len(early) == 3 and all("新建账号" in x for x in early)  # viewer1, clerk1, admin1
    nothing = _rows(audited.get("/audit", params={"who": "nobody"}).text)
    assert nothing == ["没有记录。"]
    bad = audited.get("/audit", params={"from": "March"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_only_an_admin_may_read_the_log(console):
    for name in ("viewer1", "clerk1"):
        login(console, name)
        assert console.get("/audit").status_code == 403, name
        assert console.get("/audit.csv").status_code == 403, name
        console.post("/logout", data={"csrf": csrf_of(console)})
    console.cookies.clear()
    assert console.get("/audit").status_code == 303  # not signed in: to /login


def test_the_csv_has_the_rows_and_no_formulas(audited):
    r = audited.get("/audit.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "操作人", "途径", "操作", "对象", "工号", "原因", "变更前", "变更后"]
    assert len(rows) - 1 == len(_rows(audited.get("/audit").text))
    [cmd] = [x for x in rows if "补签" in x]
    assert cmd[1] == "'=cmd" and cmd[6] == "设备故障，值班室登记"
    filtered = list(
        csv.reader(io.StringIO(audited.get("/audit.csv", params={"staff": "2"}).content.decode("utf-8-sig")))
    )
    assert len(filtered) == 2
    assert date.fromisoformat(filtered[1][0][:10]) == date(2026, 4, 2)
