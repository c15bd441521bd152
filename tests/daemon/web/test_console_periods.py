"""Issue 15, point 5 and 7: a period's actions in the console — evaluate now (and when it was last
evaluated, whether its months are dirty), close after a preview of what is incomplete, a forced
close and a reopen with their reasons on the record, publishing the bulletin files — and who may."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from conftest import PASSWORD, csrf_of, login
from helpers import add_correction, fill


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def clerk(console):
    fill(console.store, late_on=date(2026, 3, 3))
    login(console, "clerk1")
    console.csrf = csrf_of(console)  # type: ignore[attr-defined]
    return console


def _post(client, path: str, **data):
    return client.post(path, data={"csrf": client.csrf, **data})


def _periods(client) -> dict[str, dict]:
    return {p["period_key"]: p for p in client.get("/api/v1/periods").json()}


def _changes(client, action: str) -> list[dict]:
    from daemon.store import changes

    return changes(client.store, action=action)


def test_evaluate_now_stores_the_results_and_clears_the_dirty_month(clerk):
    from daemon.store import dirty_months

    assert "2026-03" in dirty_months(clerk.store)  # the punches marked it
    page = _text(clerk.get("/periods/2026-03").text)
    assert "尚未计算" in page and "待重算：2026-03" in page and "立即计算" in page
    r = _post(clerk, "/periods/2026-03/evaluate")
    assert r.status_code == 303 and r.headers["location"] == "/periods/2026-03"
    assert "2026-03" not in dirty_months(clerk.store)
    page = _text(clerk.get("/periods/2026-03").text)
    assert "最近计算 2026-06-30 18:00:00" in page  # the clock, in Shanghai time
    assert "未结账（第 1 版" in page and "无（结果与当前数据一致）" in page
    assert _periods(clerk)["2026-03"]["is_final"] is False
    assert not _changes(clerk, "period_evaluate")  # nothing changed but the results: no entry
    # a change to an input marks the month dirty again; the page says so until it is re-evaluated
    add_correction(
        clerk.store, datetime(2026, 3, 3, 8, 55), via="web", now_utc=datetime(2026, 6, 30, 10, 0, tzinfo=UTC)
    )
    assert "待重算：2026-03" in _text(clerk.get("/periods/2026-03").text)
    assert _post(clerk, "/periods/2026-03/evaluate").status_code == 303
    page = _text(clerk.get("/periods/2026-03").text)
    assert "无（结果与当前数据一致）" in page and "第 2 版" in page  # the 补签 moved the results
    # a go-live refusal is one line
    assert _post(clerk, "/periods/2025-13/evaluate").status_code == 400


def test_the_close_preview_lists_what_is_incomplete_and_a_forced_close_needs_a_reason(clerk):
    preview = clerk.get("/periods/2026-04/close")
    assert preview.status_code == 200
    assert "no punches stored for 2026-04" in preview.text and "强制结账" in preview.text
    refused = _post(clerk, "/periods/2026-04/close")
    assert refused.status_code == 400 and "数据不完整，未结账" in refused.text
    no_reason = _post(clerk, "/periods/2026-04/close", force="1", reason="  ")
    assert no_reason.status_code == 400 and "强制结账必须填写原因" in no_reason.text
    assert "2026-04" not in _periods(clerk)
    r = _post(clerk, "/periods/2026-04/close", force="1", reason="四月停业装修，无人上班")
    assert r.status_code == 303
    assert _periods(clerk)["2026-04"]["is_final"] is True
    from sqlalchemy import select

    from daemon.store.models import forced_close_table

    with clerk.store.reading() as conn:
        forced = conn.execute(select(forced_close_table)).mappings().all()
    assert [(f["period_key"], f["by"], f["reason"]) for f in forced] == [
        ("2026-04", "clerk1", "四月停业装修，无人上班")
    ]
    assert "no punches" in forced[0]["incomplete"]
    [entry] = _changes(clerk, "period_close")
    assert (entry["by"], entry["via"], entry["subject"], entry["subject_id"]) == ("clerk1", "web", "period", "2026-04")
    assert entry["reason"] == "四月停业装修，无人上班" and entry["after"]["forced"] is True
    page = _text(clerk.get("/periods/2026-04").text)
    assert "已结账（终版，第 1 版）" in page and "强制结账 clerk1 四月停业装修" in page


def test_closing_a_complete_month_makes_it_final_and_reopening_needs_a_reason(clerk):
    preview = _text(clerk.get("/periods/2026-03/close").text)
    assert "数据完整" in preview
    assert _post(clerk, "/periods/2026-03/close").status_code == 303
    assert _periods(clerk)["2026-03"]["is_final"] is True
    page = _text(clerk.get("/periods/2026-03").text)
    assert "已结账（终版，第 1 版）" in page and "重新开账" in page
    again = _post(clerk, "/periods/2026-03/close")
    assert again.status_code == 400 and "已结账" in again.text
    [closed] = _changes(clerk, "period_close")
    assert closed["after"] == {"forced": False, "is_final": True, "revision": 1} and closed["reason"] == ""

    assert _post(clerk, "/periods/2026-03/reopen", reason="").status_code == 400
    assert not _changes(clerk, "period_reopen")
    r = _post(clerk, "/periods/2026-03/reopen", reason="乙 3月3日 请假条补交")
    assert r.status_code == 303
    from sqlalchemy import select

    from daemon.store.models import reopen_table

    with clerk.store.reading() as conn:
        reopens = conn.execute(select(reopen_table)).mappings().all()
    assert [(x["by"], x["reason"]) for x in reopens] == [("clerk1", "乙 3月3日 请假条补交")]
    [entry] = _changes(clerk, "period_reopen")
    assert entry["by"] == "clerk1" and entry["before"]["is_final"] is True and entry["subject_id"] == "2026-03"
    assert _periods(clerk)["2026-03"]["is_final"] is True  # a reopened month is final again, a new revision
    assert "重新开账 clerk1 乙 3月3日 请假条补交" in _text(clerk.get("/periods/2026-03").text)
    # a month not final has nothing to reopen
    assert _post(clerk, "/periods/2026-05/reopen", reason="x").status_code == 400


def test_publish_writes_the_bulletin_files_and_lists_them(tmp_path, clock):
    from fastapi.testclient import TestClient
    from helpers import write_centre

    from daemon.config import load_config
    from daemon.store import Accounts, open_store
    from daemon.web import create_app
    from daemon.web.passwords import hash_password

    folder = tmp_path / "bulletins"
    config = load_config(write_centre(tmp_path, extra=f'[bulletin]\ndir = "{folder}"\nformats = ["html", "csv"]\n'))
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    fill(store)
    Accounts(store).add_user("clerk1", "clerk", hash_password(PASSWORD), by="test", at=datetime(2026, 3, 1, tzinfo=UTC))
    with TestClient(create_app(store, config, clock=clock), follow_redirects=False) as client:
        login(client, "clerk1")
        client.csrf = csrf_of(client)  # type: ignore[attr-defined]
        assert "尚未发布" in client.get("/periods/2026-03").text
        r = _post(client, "/periods/2026-03/publish")
        assert r.status_code == 303
        names = {p.name for p in folder.iterdir()}
        assert {"考勤通报-2026-03.csv", "考勤通报-2026-03.html", "考勤通报-2026-03-deductions.csv"} <= names
        page = client.get("/periods/2026-03").text
        assert all(n in page for n in names), names
        assert '<a href="/periods/2026-03/bulletin.csv">考勤通报-2026-03.csv</a>' in page
        from daemon.store import changes

        [entry] = changes(store, action="bulletin_publish")
        assert entry["by"] == "clerk1" and set(entry["after"]["files"]) == names
        assert client.get("/periods/2026-03/bulletin.html").status_code == 200
    store.close()


def test_a_viewer_cannot_act_and_every_post_needs_the_csrf_token(console):
    fill(console.store)
    login(console, "viewer1")
    token = csrf_of(console)
    page = console.get("/periods/2026-03").text
    assert "立即计算" not in page and 'action="/periods/2026-03/publish"' not in page  # no buttons for a viewer
    assert console.get("/periods/2026-03/close").status_code == 403
    for action in ("evaluate", "close", "reopen", "publish"):
        r = console.post(f"/periods/2026-03/{action}", data={"csrf": token, "reason": "x", "force": "1"})
        assert r.status_code == 403, action
    console.post("/logout", data={"csrf": token})
    login(console, "clerk1")
    for action in ("evaluate", "close", "reopen", "publish"):
        r = console.post(f"/periods/2026-03/{action}", data={"reason": "x"})
        assert r.status_code == 403 and "CSRF" in r.text, action
    assert "2026-03" not in _periods(console)  # nothing was done


def test_the_new_pages_have_no_inline_script_or_style(console):
    fill(console.store)
    login(console, "admin1")
    for path in ("/periods/2026-03", "/periods/2026-04/close", "/audit"):
        html = console.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<[^>]+\s(on[a-z]+|style)=", html), path
    assert 'href="/audit"' in console.get("/periods/2026-03").text  # the admin's way to the log


def test_the_docx_downloads_without_taking_a_number(console):
    """Issue 17: the console serves the 公文 too; a download is a look, so it takes no 发文字号
    (publishing does)."""
    import io
    import zipfile

    from conftest import login
    from helpers import fill

    from daemon.store.bulletin_numbers import number_of

    fill(console.store)
    login(console, "viewer1")
    r = console.get("/periods/2026-03/bulletin.docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    body = zipfile.ZipFile(io.BytesIO(r.content)).read("word/document.xml").decode("utf-8")
    assert "通报如下" in body
    assert number_of(console.store, "2026-03") is None
