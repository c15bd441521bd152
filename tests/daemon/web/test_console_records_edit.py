"""Issue 15 (2): the clerk's records edited and withdrawn (撤销) in the browser — the result moves
with them, every change is on the record, a withdrawn record is kept and marked, and a second
clerk's stale edit is refused with nothing lost."""

from __future__ import annotations

import re

import pytest
from conftest import login
from helpers import MISSING_DAY, fill_missing

from daemon.store import changes, list_records


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/records/exemptions").text).group(1)


def _points(client) -> float:
    return client.get("/api/v1/staff/2/2026-03").json()["totals"]["deduction_points"]


@pytest.fixture
def clerk(console):
    fill_missing(console.store)  # 乙 (2) misses the 12:01 punch of MISSING_DAY: 10 points under luoshan
    login(console, "clerk1")
    return console


def _add_exemption(client, csrf, **over):
    form = {"csrf": csrf, "ref": "E-1", "staff_no": "2", "date": MISSING_DAY.isoformat(), "slot": "am_out"}
    return client.post("/records/exemptions/add", data={**form, "reason": "外出办事", **over})


def _version(client, kind: str, key: str) -> str:
    page = client.get(f"/records/{kind}").text
    row = re.search(rf'data-key="{re.escape(key)}".*?</tr>', page, re.S)
    assert row, page[-2000:]
    return re.search(r'name="version" value="(\d+)"', row.group(0)).group(1)


def test_withdrawing_an_exemption_restores_the_deduction_and_keeps_the_record(clerk):
    assert _points(clerk) == 10
    csrf = _csrf(clerk)
    assert _add_exemption(clerk, csrf).status_code == 200
    assert _points(clerk) == 0  # 情况说明: the slot is excused
    r = clerk.post(
        "/records/exemptions/withdraw",
        data={"csrf": csrf, "key": "E-1", "version": _version(clerk, "exemptions", "E-1"), "reason": "说明不实"},
    )
    assert r.status_code == 200 and "已撤销 E-1" in r.text
    assert _points(clerk) == 10  # the deduction is back
    [row] = list_records(clerk.store, "exemptions")
    assert (row["withdrawn_by"], row["withdrawn_reason"]) == ("clerk1", "说明不实")  # kept, marked
    assert "已撤销（clerk1" in clerk.get("/records/exemptions").text
    entry = changes(clerk.store)[0]
    assert (entry["action"], entry["by"], entry["via"], entry["reason"]) == (
        "record_withdraw",
        "clerk1",
        "web",
        "说明不实",
    )
    assert entry["before"]["withdrawn"] is False and entry["after"]["slot"] == "am_out"
    # a withdrawn record is not edited, nor brought back by the same ref
    again = _add_exemption(clerk, csrf)
    assert again.status_code == 400 and "编号 E-1 is a withdrawn record" in again.text
    assert _points(clerk) == 10


def test_an_edit_moves_the_result_and_a_stale_edit_is_refused(clerk):
    csrf = _csrf(clerk)
    assert _add_exemption(clerk, csrf, slot="pm_out").status_code == 200  # the wrong slot: still 10
    assert _points(clerk) == 10
    form = clerk.get("/records/exemptions/edit", params={"key": "E-1"})
    assert form.status_code == 200 and 'value="pm_out"' in form.text
    seen = re.search(r'name="version" value="(\d+)"', form.text).group(1)
    edit = {"csrf": csrf, "key": "E-1", "version": seen, "staff_no": "2", "date": MISSING_DAY.isoformat()}
    first = clerk.post("/records/exemptions/edit", data={**edit, "slot": "am_out", "reason": "外出办事"})
    assert first.status_code == 200 and "updated 1" in first.text
    assert _points(clerk) == 0
    assert changes(clerk.store)[0]["action"] == "record_edit"
    # a second clerk who opened the form before that save: refused, the first clerk's edit stands
    second = clerk.post("/records/exemptions/edit", data={**edit, "slot": "pm_in", "reason": "另一位"})
    assert second.status_code == 409 and "changed by someone else" in second.text and "未保存" in second.text
    [row] = list_records(clerk.store, "exemptions")
    assert (row["slot"], row["reason"], row["version"]) == ("am_out", "外出办事", 2)
    stale_withdraw = clerk.post(
        "/records/exemptions/withdraw", data={"csrf": csrf, "key": "E-1", "version": seen, "reason": "x"}
    )
    assert stale_withdraw.status_code == 409 and list_records(clerk.store, "exemptions")[0]["withdrawn_utc"] is None


def test_duty_days_are_entered_in_the_browser(clerk):
    csrf = _csrf(clerk)
    r = clerk.post(
        "/records/duty/add",
        data={"csrf": csrf, "ref": "D-1", "date": "2026-03-07", "window_code": "公安窗口", "timetable": "standard"},
    )
    assert r.status_code == 200 and "new 1" in r.text
    [row] = list_records(clerk.store, "duty")
    assert (row["window_code"], str(row["day"])) == ("gongan", "2026-03-07")  # the window's name is taken
    days = clerk.get("/api/v1/staff/2/2026-03").json()["days"]
    assert next(d for d in days if d["day"] == "2026-03-07")["kind"] == "duty"
    bad = clerk.post("/records/duty/add", data={"csrf": csrf, "date": "2026-03-08", "timetable": "nosuch"})
    assert bad.status_code == 400 and "作息 'nosuch' is not a configured timetable" in bad.text


def test_viewers_cannot_withdraw_or_edit_and_csrf_holds(clerk):
    csrf = _csrf(clerk)
    _add_exemption(clerk, csrf)
    no_token = clerk.post("/records/exemptions/withdraw", data={"key": "E-1", "version": "1", "reason": "x"})
    assert no_token.status_code == 403
    clerk.cookies.clear()
    login(clerk, "viewer1")
    page = clerk.get("/records/exemptions").text
    assert "撤销原因" not in page and "/records/exemptions/edit" not in page
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page).group(1)
    data = {"csrf": token, "key": "E-1", "version": "1", "reason": "x"}
    assert clerk.post("/records/exemptions/withdraw", data=data).status_code == 403
    assert clerk.get("/records/exemptions/edit", params={"key": "E-1"}).status_code == 403
    assert list_records(clerk.store, "exemptions")[0]["withdrawn_utc"] is None
