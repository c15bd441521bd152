"""Issue 15 point 1 in the console: a clerk records a 补签 for a missing punch and withdraws it;
the terminals' punches are never touched, every change is on the record, roles and CSRF hold,
and a second clerk's stale withdrawal is refused."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from conftest import login
from helpers import MISSING_DAY, add_correction, fill_missing


def _csrf(client, path: str = "/staff/2/2026-03") -> str:
    m = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get(path).text)
    assert m
    return m.group(1)


def _points(client) -> float:
    return client.get("/api/v1/staff/2/2026-03").json()["totals"]["deduction_points"]


def _day(client) -> list[dict]:
    return next(d for d in client.get("/api/v1/staff/2/2026-03").json()["days"] if d["day"] == MISSING_DAY.isoformat())


def _versions(client) -> list[str]:
    return re.findall(r'name="version" value="(\d+)"', client.get("/staff/2/2026-03").text)


@pytest.fixture
def centre(console):
    fill_missing(console.store)
    return console


def add(client, csrf: str, **over):
    form = {"csrf": csrf, "day": MISSING_DAY.isoformat(), "time": "12:01", "reason": "设备故障，值班室登记"}
    form["evidence"] = "值班室登记簿"
    return client.post("/staff/2/2026-03/corrections", data={**form, **over})


def test_a_correction_removes_the_deduction_and_its_withdrawal_restores_it(centre):
    from daemon.store import changes, manual_punches

    login(centre, "clerk1")
    assert _points(centre) == 10  # 罗山: a missing punch is the session's 旷工
    assert "记录补签" in centre.get("/staff/2/2026-03").text  # the clerk sees the form
    before = centre.store.count_punches()
    csrf = _csrf(centre)

    r = add(centre, csrf)
    assert r.status_code == 303 and r.headers["location"] == "/staff/2/2026-03#day-2026-03-03"
    assert _points(centre) == 0
    page = centre.get("/staff/2/2026-03").text
    assert "得分 25 / 25（扣 0 分）" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "（补签）" in page and '<span class="manual"' in page and "设备故障，值班室登记" in page
    day = _day(centre)
    assert day["deductions"] == [] and [c["by"] for c in day["corrections"]] == ["clerk1"]
    assert any(s["manual_id"] == day["corrections"][0]["id"] for s in day["slots"])
    assert centre.store.count_punches() == before  # the terminals' punches untouched
    (entry,) = changes(centre.store, action="punch_add")
    assert entry["by"] == "clerk1" and entry["via"] == "web" and entry["reason"] == "设备故障，值班室登记"
    assert entry["after"]["punched_at"] == "2026-03-03T12:01:00" and entry["staff_no"] == "2"

    (m,) = manual_punches(centre.store)
    r = centre.post(f"/corrections/{m['id']}/withdraw", data={"csrf": csrf, "reason": "登记有误", "version": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("#day-2026-03-03")
    assert _points(centre) == 10
    day = _day(centre)
    assert [d["points"] for d in day["deductions"]] == [10] and day["corrections"][0]["withdrawn"] is True
    assert "已撤销" in centre.get("/staff/2/2026-03").text
    (w,) = changes(centre.store, action="punch_withdraw")
    assert w["by"] == "clerk1" and w["reason"] == "登记有误" and w["after"]["withdrawn"] is True
    assert centre.store.count_punches() == before
    assert len(manual_punches(centre.store)) == 1  # withdrawn, not deleted


def test_the_cached_results_show_the_new_result_at_once(centre):
    """The console caches a period's results for a minute; a correction or a withdrawal empties it."""
    from daemon.store import manual_punches

    login(centre, "clerk1")
    csrf = _csrf(centre)

    def deductions() -> list:
        rows = centre.get("/api/v1/periods/2026-03/deductions").json()
        return [(r["work_date"], r["points"]) for r in rows if r["staff_no"] == "2"]

    assert deductions() == [("2026-03-03", 10)]  # now in the cache
    assert add(centre, csrf).status_code == 303
    assert deductions() == []
    (m,) = manual_punches(centre.store)
    r = centre.post(f"/corrections/{m['id']}/withdraw", data={"csrf": csrf, "reason": "登记有误", "version": "1"})
    assert r.status_code == 303
    assert deductions() == [("2026-03-03", 10)]


def test_mistakes_are_400_with_the_page_and_nothing_is_written(centre):
    from daemon.store import changes, manual_punches

    login(centre, "clerk1")
    csrf = _csrf(centre)
    for over, words in (
        ({"reason": "   "}, "请填写补签原因"),
        ({"time": "25:61"}, "补签时间应为 HH:MM"),
        ({"day": "2026-04-01"}, "不在 2026-03 期间内"),
        ({"day": "3月3日"}, "补签日期应为 YYYY-MM-DD"),
    ):
        r = add(centre, csrf, **over)
        assert r.status_code == 400 and words in r.text, over
        assert "乙（2）· 2026-03" in r.text  # the page, with the message
    r = centre.post(
        "/staff/999/2026-03/corrections", data={"csrf": csrf, "day": "2026-03-03", "time": "12:01", "reason": "x"}
    )
    assert r.status_code == 404 and "not in the roster" in r.text
    assert (
        centre.post("/corrections/77/withdraw", data={"csrf": csrf, "reason": "x", "version": "1"}).status_code == 404
    )
    assert manual_punches(centre.store) == [] and changes(centre.store) == []


def test_a_viewer_cannot_act_and_a_post_needs_the_csrf_token(centre):
    from daemon.store import manual_punches

    m = add_correction(centre.store, datetime(2026, 3, 3, 12, 1), reason="r", by="x")
    login(centre, "viewer1")
    page = centre.get("/staff/2/2026-03").text
    assert "记录补签" not in page and "撤销补签" not in page  # no forms for a viewer
    csrf = _csrf(centre)
    assert add(centre, csrf).status_code == 403
    r = centre.post(f"/corrections/{m}/withdraw", data={"csrf": csrf, "reason": "x", "version": "1"})
    assert r.status_code == 403
    centre.post("/logout", data={"csrf": csrf})
    login(centre, "clerk1")
    assert add(centre, "not-the-token").status_code == 403
    r = centre.post(f"/corrections/{m}/withdraw", data={"reason": "x", "version": "1"})
    assert r.status_code == 403
    assert [(x["id"], x["withdrawn_utc"]) for x in manual_punches(centre.store)] == [(m, None)]


def test_a_second_clerks_stale_withdrawal_is_refused(centre, clock):
    from fastapi.testclient import TestClient

    from daemon.store import changes, manual_punches

    login(centre, "clerk1")
    csrf = _csrf(centre)
    assert add(centre, csrf).status_code == 303
    (m,) = manual_punches(centre.store)
    # a second clerk, in her own browser, opens the same page: version 1
    centre.accounts.add_user("clerk2", "clerk", centre.accounts.user("clerk1").password_hash, by="t", at=clock())
    with TestClient(centre.app, base_url="http://testserver", follow_redirects=False) as other:
        login(other, "clerk2")
        other_csrf = _csrf(other)
        assert _versions(other) == ["1"] and _versions(centre) == ["1"]
        r = centre.post(f"/corrections/{m['id']}/withdraw", data={"csrf": csrf, "reason": "重复登记", "version": "1"})
        assert r.status_code == 303
        r = other.post(
            f"/corrections/{m['id']}/withdraw", data={"csrf": other_csrf, "reason": "另一理由", "version": "1"}
        )
        assert r.status_code == 409
        assert "已被他人修改" in r.text and "未保存" in r.text and "乙（2）· 2026-03" in r.text
    (after,) = manual_punches(centre.store)
    assert after["withdrawn_by"] == "clerk1" and after["withdrawn_reason"] == "重复登记" and after["version"] == 2
    assert [c["by"] for c in changes(centre.store, action="punch_withdraw")] == ["clerk1"]


def test_the_bulletin_no_longer_counts_a_corrected_day(centre):
    """Annex (issue 15): the bulletin's deductions come from the same rules, corrections counted."""
    from daemon.bulletin import collect
    from rules import parse_period

    login(centre, "clerk1")
    app_console = centre.app.state.console

    def deducted() -> list:
        b = collect(centre.store, app_console.config, parse_period("2026-03"), now=app_console.clock(), queue=False)
        return [(x.day, x.points) for x in b.annex if x.staff_no == "2"]

    assert deducted() == [(MISSING_DAY, 10)]
    assert add(centre, _csrf(centre)).status_code == 303
    assert deducted() == []
