"""Corrections (补签) in the console: a clerk records a punch a terminal missed, or withdraws one.

``POST /staff/{staff_no}/{period}/corrections`` (day, time, reason, evidence) and
``POST /corrections/{id}/withdraw`` (reason, the version the clerk saw), both for clerks and
admins, both with the session's CSRF token. The store writes the change, its ``change_log``
entry and the month's dirty mark in one transaction (:mod:`daemon.store.corrections`); the
terminals' ``punch`` table is never touched. On success the browser goes back to the staff page
at the day (303); a mistake shows the page again with the message (400); a withdrawal of a
correction someone else changed since the page was opened is refused (409) and nothing changes.
"""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import rules

from ..errors import UserError
from ..store import StaleEdit
from ..store.corrections import add_manual_punch, manual_punch, withdraw_manual_punch
from .app import console_of, fields, needs, page
from .auth import Visitor
from .views import console_period

ADDING = fields(day=10, time=8, reason=1000, evidence=1000)
WITHDRAWING = fields(reason=1000, version=12, period=10)
#: The largest id a correction can have (SQLite's and every server's integer holds it).
MAX_ID = 2**62


def _staff_url(staff_no: str, period: rules.Period, day: date) -> str:
    return f"/staff/{quote(staff_no, safe='')}/{period.key}#day-{day.isoformat()}"


def _staff_page(
    request: Request, v: Visitor, staff_no: str, period: rules.Period, status: int, message: str
) -> HTMLResponse:
    """The staff page again, with what went wrong at its top."""
    from ..explain import explain_staff
    from .results import GRID_WORDS

    c = console_of(request)
    try:
        account = explain_staff(c.store, c.config, staff_no, period, as_of=c.clock())
    except UserError as exc:
        return page(request, "error.j2", v, 404, message=f"{message}（{exc}）")
    return page(request, "staff.j2", v, status, a=account, status_words=GRID_WORDS, error=message)


def _time_of_day(text: str) -> time | None:
    text = text.strip()
    if len(text) not in (5, 8):  # HH:MM or HH:MM:SS
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def register(app: FastAPI) -> None:
    clerk = needs("clerk")

    @app.post("/staff/{staff_no}/{period}/corrections", include_in_schema=False)
    def add_correction(
        request: Request,
        staff_no: str,
        period: str,
        v: Visitor = Depends(clerk),
        f=Depends(ADDING),
    ) -> Response:
        day, at_time, reason, evidence = f["day"], f["time"], f["reason"], f["evidence"]
        c = console_of(request)
        try:
            p = console_period(period)
        except UserError as exc:
            return page(request, "error.j2", v, 404, message=str(exc))
        try:
            d = date.fromisoformat(day.strip())
        except ValueError:
            return _staff_page(request, v, staff_no, p, 400, f"补签日期应为 YYYY-MM-DD，而不是 {day[:20]!r}。")
        if not p.start <= d < p.end:
            return _staff_page(request, v, staff_no, p, 400, f"补签日期 {d.isoformat()} 不在 {p.key} 期间内。")
        t = _time_of_day(at_time)
        if t is None:
            return _staff_page(
                request, v, staff_no, p, 400, f"补签时间应为 HH:MM（例：12:01），而不是 {at_time[:20]!r}。"
            )
        if not reason.strip():
            return _staff_page(request, v, staff_no, p, 400, "请填写补签原因（例：设备故障，值班室登记）。")
        try:
            add_manual_punch(
                c.store,
                staff_no=staff_no,
                at=datetime.combine(d, t),
                reason=reason,
                evidence=evidence,
                by=v.user.name,
                via="web",
                now_utc=c.clock(),
            )
        except UserError as exc:
            return _staff_page(request, v, staff_no, p, 400, f"补签未保存：{exc}")
        c.cache.clear()  # the period's results have changed: no page shows the old ones
        return RedirectResponse(_staff_url(staff_no, p, d), status_code=303)

    @app.post("/corrections/{punch_id}/withdraw", include_in_schema=False)
    def withdraw_correction(request: Request, punch_id: int, v: Visitor = Depends(clerk), f=Depends(WITHDRAWING)):
        reason, version, period = f["reason"], f["version"], f["period"]
        c = console_of(request)
        row = manual_punch(c.store, punch_id) if 1 <= punch_id <= MAX_ID else None
        if row is None:
            return page(request, "error.j2", v, 404, message=f"没有编号为 {punch_id} 的补签记录。")
        staff_no, at = row["staff_no"], row["punched_at"]
        try:
            p = console_period(period.strip() or at.strftime("%Y-%m"))
        except UserError as exc:
            return page(request, "error.j2", v, 404, message=str(exc))
        if not p.start <= at.date() < p.end:
            p = console_period(at.strftime("%Y-%m"))
        seen = int(version) if version.strip().isdigit() else None
        if seen is None:
            return _staff_page(request, v, staff_no, p, 400, "撤销补签的表单缺少版本号，请刷新页面后重试。")
        stale = (
            f"补签 {punch_id}（{at:%m-%d %H:%M}）在您打开页面后已被他人修改"
            f"（当前版本 {row['version']}，您看到的是 {seen}）：本次撤销未保存。请刷新页面查看最新情况。"
        )
        if row["version"] != seen:
            return _staff_page(request, v, staff_no, p, 409, stale)
        if row["withdrawn_utc"] is not None:
            return _staff_page(request, v, staff_no, p, 400, f"补签 {punch_id} 已由 {row['withdrawn_by']} 撤销。")
        if not reason.strip():
            return _staff_page(request, v, staff_no, p, 400, "请填写撤销补签的原因。")
        try:
            withdraw_manual_punch(
                c.store, punch_id, reason=reason, by=v.user.name, via="web", now_utc=c.clock(), version=seen
            )
        except StaleEdit:
            return _staff_page(request, v, staff_no, p, 409, stale)
        except UserError as exc:
            return _staff_page(request, v, staff_no, p, 400, f"撤销未保存：{exc}")
        c.cache.clear()
        return RedirectResponse(_staff_url(staff_no, p, at.date()), status_code=303)
