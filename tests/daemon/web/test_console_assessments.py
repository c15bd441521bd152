"""Issue 18 (2): the other categories' records entered and listed in the console, checked against
the document like a file's rows, and on the change log."""

from __future__ import annotations

import re

from conftest import console_for, login

from daemon.store import changes, list_records


def test_an_assessment_record_is_entered_checked_and_audited(tmp_path, clock):
    with console_for(tmp_path, clock, policies={"hall": "shangyu"}) as c:
        from datetime import UTC, datetime

        from helpers import put_roster

        put_roster(c.store, (("1", "甲", "gongan", "chief"),), now_utc=datetime(2026, 3, 1, tzinfo=UTC))
        login(c, "clerk1")
        page = c.get("/records/assessments")
        assert page.status_code == 200 and "考核记录" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = {"csrf": csrf, "date": "2026-03-10", "window_code": "gongan", "category": "办件管理", "kind": "扣分"}
        # 000 上虞 二、1 办件管理 … 每起扣1-5分: 8 is no case of it
        bad = c.post("/records/assessments/add", data={**form, "points": "8", "item": "超时"})
        assert bad.status_code == 400 and "分值: 8 is outside 办件管理's 1–5 per case" in bad.text
        assert list_records(c.store, "assessments") == []
        ok = c.post(
            "/records/assessments/add", data={**form, "points": "2", "item": "超时办结", "recorded_by": "监督办"}
        )
        assert ok.status_code == 200 and "new 1" in ok.text
        [row] = list_records(c.store, "assessments")
        assert (row["category"], row["points"], row["kind"], row["recorded_by"]) == (
            "办件管理",
            2,
            "deduction",
            "监督办",
        )
        assert "超时办结" in c.get("/records/assessments").text
        entry = changes(c.store)[0]
        assert (entry["action"], entry["subject"], entry["by"], entry["via"]) == (
            "record_add",
            "assessments",
            "clerk1",
            "web",
        )
