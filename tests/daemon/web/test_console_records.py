"""Issue 15 (2): the clerk's records in the browser — one reader, two doors: an upload goes through
exactly `attendd import`'s checks and messages, all or nothing, on the record."""

from __future__ import annotations

import re

import pytest
from conftest import login
from helpers import fill

LEAVES = "工号,请假类型,开始时间,结束时间,备注\n2,事假,2026-03-10,2026-03-10,家中有事\n"


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/records/leaves").text).group(1)


@pytest.fixture
def clerk(console):
    from datetime import date

    fill(console.store, late_on=date(2026, 3, 3))
    login(console, "clerk1")
    return console


def _upload(client, kind: str, name: str, text: str, **form):
    return client.post(
        f"/records/{kind}/upload",
        data={"csrf": _csrf(client), **form},
        files={"file": (name, text.encode("utf-8"), "text/csv")},
    )


def test_an_uploaded_leave_sheet_is_stored_and_on_the_record(clerk):
    from daemon.store import changes

    r = _upload(clerk, "leaves", "请假.csv", LEAVES)
    assert r.status_code == 200 and "请假.csv: leaves: read 1, stored 1, rejected 0; new 1" in r.text
    assert "家中有事" in clerk.get("/records/leaves").text
    [entry] = changes(clerk.store)
    assert (entry["action"], entry["subject"], entry["by"], entry["via"]) == (
        "records_import",
        "leaves",
        "clerk1",
        "web",
    )
    again = _upload(clerk, "leaves", "请假.csv", LEAVES)
    assert "unchanged 1" in again.text and len(changes(clerk.store)) == 1  # nothing changed, nothing logged


def test_a_bad_row_is_named_in_the_clerks_words_and_nothing_is_stored(clerk):
    bad = LEAVES + "999,事假,2026-03-11,2026-03-11,\n2,旅游假,2026-03-12,2026-03-12,\n"
    r = _upload(clerk, "leaves", "请假.csv", bad)
    assert r.status_code == 400
    assert "请假.csv:3:" in r.text and "请假.csv:4:" in r.text and "请假类型" in r.text
    assert "nothing stored" in r.text
    from daemon.store import list_records

    assert [
        x
        for x in list_records(clerk.store, "leaves")
        if x["staff_no"] == "2" and str(x["start"]).startswith("2026-03-1")
    ] == []
    kept = _upload(clerk, "leaves", "请假.csv", bad, skip_bad="1")
    assert kept.status_code == 200 and "stored 1, rejected 2" in kept.text


def test_viewers_read_the_records_but_cannot_upload(clerk):
    clerk.cookies.clear()
    login(clerk, "viewer1")
    page = clerk.get("/records/exemptions")
    assert page.status_code == 200 and 'type="file"' not in page.text
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)
    r = clerk.post(
        "/records/leaves/upload", data={"csrf": token}, files={"file": ("a.csv", LEAVES.encode(), "text/csv")}
    )
    assert r.status_code == 403
    assert clerk.get("/records/nope").status_code == 404


def test_one_record_typed_in_the_form_gets_the_files_checks_and_is_on_the_record(clerk):
    from daemon.store import changes, list_records

    token = _csrf(clerk)
    form = {"csrf": token, "staff_no": "2", "kind": "事假", "start": "2026-03-11", "end": "2026-03-11", "note": "看病"}
    added = clerk.post("/records/leaves/add", data=form)
    assert added.status_code == 200 and "新增记录: leaves: read 1, stored 1, rejected 0; new 1" in added.text
    [leave] = [x for x in list_records(clerk.store, "leaves") if x["note"] == "看病"]
    assert (leave["kind"], str(leave["start"])[:10]) == ("personal", "2026-03-11")
    assert [(c["action"], c["by"]) for c in changes(clerk.store)] == [("record_add", "clerk1")]
    bad = clerk.post("/records/leaves/add", data={**form, "kind": "旅游假", "note": "x"})
    assert bad.status_code == 400 and "新增记录:2:" in bad.text and "请假类型" in bad.text
    assert 'value="旅游假"' in bad.text  # what she typed is kept for her to correct
    edited = clerk.post("/records/leaves/add", data={**form, "ref": leave["ref"], "note": "看病（已补假条）"})
    assert edited.status_code == 200 and "updated 1" in edited.text
    assert [x["note"] for x in list_records(clerk.store, "leaves") if x["ref"] == leave["ref"]] == ["看病（已补假条）"]
    assert changes(clerk.store)[0]["action"] == "record_edit"
