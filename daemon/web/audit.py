"""The audit log (issue 15, point 6): ``/audit`` and ``/audit.csv``, for admins.

One list, newest first, of everything on the record: the change log (every change a person made
to what results are computed from, and each close, reopen and publish — :mod:`daemon.store.changes`),
the account events (logins, failed logins, logouts, users and tokens — ``auth_event``), and the
periods' own records of forced closes and reopens (``period_forced_close``, ``period_reopen``; one
the console made is already in the change log under the same time, person and period, and is shown
once). Filters: ``who``, ``action``, ``staff``, ``from`` / ``to`` (site-local dates, inclusive).
The CSV is the same rows, UTF-8 with a BOM (Excel), every text cell through
:func:`daemon.spreadsheet.csv_text` (no formula injection).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from ..spreadsheet import csv_text, csv_writer
from ..store.changes import changes
from ..store.models import forced_close_table, reopen_table
from .app import EVENT_WORDS, Console, console_of, needs, page
from .auth import Visitor
from .pages import parse_day as _day

#: The most rows a source contributes (narrow the filters to see older ones).
MAX_ROWS = 1000

ACTION_WORDS = {
    "punch_add": "补签",
    "punch_withdraw": "撤销补签",
    "record_add": "新增记录",
    "record_edit": "修改记录",
    "record_withdraw": "撤销记录",
    "records_import": "导入记录",
    "appeal_add": "登记申诉",
    "appeal_uphold": "申诉成立",
    "appeal_reject": "驳回申诉",
    "quarantine_release": "释放隔离记录",
    "quarantine_dismiss": "驳回隔离记录",
    "period_close": "结账",
    "period_forced_close": "强制结账",
    "period_reopen": "重新开账",
    "bulletin_publish": "发布通报",
    **EVENT_WORDS,
}
SUBJECT_WORDS = {"period": "期间", "punch": "打卡", "manual_punch": "补签", "account": "账号"}
VIA_WORDS = {"web": "网页", "cli": "命令行", "daemon": "守护进程"}
CSV_HEADER = ["时间", "操作人", "途径", "操作", "对象", "工号", "原因", "变更前", "变更后"]
_ACCOUNT_EVENTS = {"login", "login_failed", "logout"}


def _compact(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def audit_rows(
    console: Console,
    *,
    who: str = "",
    action: str = "",
    staff: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every source's entries, filtered, newest first (plain rows: ``at_utc``, ``who``, ``via``,
    ``action``, ``subject``, ``staff_no``, ``reason``, ``before``, ``after``)."""
    rows: list[dict[str, Any]] = []
    for r in changes(
        console.store,
        by=who or None,
        action=action or None,
        staff_no=staff or None,
        since=since,
        until=until,
        limit=MAX_ROWS,
    ):
        subject = SUBJECT_WORDS.get(r["subject"], r["subject"])
        rows.append(
            {
                "at_utc": r["at_utc"],
                "who": r["by"],
                "via": r["via"],
                "action": r["action"],
                "subject": f"{subject} {r['subject_id']}",
                "staff_no": r["staff_no"] or "",
                "reason": r["reason"] or "",
                "before": _compact(r["before"]),
                "after": _compact(r["after"]),
            }
        )
    logged = {(r["action"], r["subject"], r["who"], r["at_utc"]) for r in rows}

    def keep(at: datetime, by: str, act: str) -> bool:
        return (
            not staff
            and (not who or by == who)
            and (not action or act == action)
            and (since is None or at >= since)
            and (until is None or at < until)
        )

    for e in console.accounts.events(limit=MAX_ROWS):
        if not keep(e["at_utc"], e["by"], e["event"]):
            continue
        rows.append(
            {
                "at_utc": e["at_utc"],
                "who": e["by"],
                "via": "web" if e["event"] in _ACCOUNT_EVENTS or e["address"] else "cli",
                "action": e["event"],
                "subject": f"账号 {e['user_name']}" + (f"（{e['address']}）" if e["address"] else ""),
                "staff_no": "",
                "reason": "",
                "before": "",
                "after": e["detail"] or "",
            }
        )
    for table, act in ((forced_close_table, "period_forced_close"), (reopen_table, "period_reopen")):
        with console.store.reading() as conn:
            found = conn.execute(select(table).order_by(table.c.id.desc()).limit(MAX_ROWS)).mappings().all()
        for r in found:
            if not keep(r["at_utc"], r["by"], act):
                continue
            subject = f"期间 {r['period_key']}"
            # the console's own close or reopen is in the change log already (same time, person, period)
            twin = "period_close" if act == "period_forced_close" else act
            if (twin, subject, r["by"], r["at_utc"]) in logged:
                continue
            after = {"revision": r["revision"]}
            if act == "period_forced_close" and r["incomplete"]:
                after["incomplete"] = r["incomplete"]
            rows.append(
                {
                    "at_utc": r["at_utc"],
                    "who": r["by"],
                    "via": "cli",  # the console writes its own to the change log (above)
                    "action": act,
                    "subject": subject,
                    "staff_no": "",
                    "reason": r["reason"] or "",
                    "before": "",
                    "after": _compact(after),
                }
            )
    rows.sort(key=lambda r: r["at_utc"], reverse=True)
    for r in rows:
        r["at"] = console.local(r["at_utc"], "%Y-%m-%d %H:%M:%S")
        r["action_word"] = ACTION_WORDS.get(r["action"], r["action"])
        r["via_word"] = VIA_WORDS.get(r["via"], r["via"])
    return rows


def register(app: FastAPI) -> None:
    """Add this module's routes to the console."""
    admin = needs("admin")

    def gather(request: Request, form: dict[str, str]) -> list[dict[str, Any]]:
        c = console_of(request)
        lo, hi = _day(form["from"], "起始日期"), _day(form["to"], "截止日期")

        def utc(d: date) -> datetime:
            return datetime.combine(d, time(), tzinfo=c.tz).astimezone(UTC)

        return audit_rows(
            c,
            who=form["who"],
            action=form["action"],
            staff=form["staff"],
            since=utc(lo) if lo else None,
            until=utc(hi + timedelta(days=1)) if hi else None,
        )

    def filters(
        who: str = Query("", max_length=128),
        action: str = Query("", max_length=32),
        staff: str = Query("", max_length=32),
        start: str = Query("", alias="from", max_length=10),
        end: str = Query("", alias="to", max_length=10),
    ) -> dict[str, str]:
        return {"who": who.strip(), "action": action.strip(), "staff": staff.strip(), "from": start, "to": end}

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/audit.csv", include_in_schema=False)
    def audit(
        request: Request,
        v: Visitor = Depends(admin),
        form: dict[str, str] = Depends(filters),
    ) -> Response:
        as_csv = request.url.path.endswith(".csv")
        try:
            rows = gather(request, form)
        except ValueError as exc:
            if as_csv:
                return Response(str(exc) + "\n", status_code=400, media_type="text/plain; charset=utf-8")
            return page(request, "audit.j2", v, 400, form=form, rows=[], error=str(exc), actions=ACTION_WORDS)
        if not as_csv:
            return page(request, "audit.j2", v, form=form, rows=rows, error=None, actions=ACTION_WORDS)
        out = io.StringIO()
        out.write("\ufeff")
        w = csv_writer(out, lineterminator="\r\n")
        w.writerow(CSV_HEADER)
        for r in rows:
            cells = [r["at"], r["who"], r["via_word"], r["action_word"], r["subject"], r["staff_no"]]
            w.writerow([csv_text(str(x)) for x in [*cells, r["reason"], r["before"], r["after"]]])
        stamp = console_of(request).local(console_of(request).clock(), "%Y%m%d-%H%M")
        return Response(
            out.getvalue().encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )
