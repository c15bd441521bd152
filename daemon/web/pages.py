"""The console's pages: the dashboard, the terminals, the punch and quarantine searches.

Routes are part of the contract (issue 14): ``/``, ``/devices``, ``/devices/{name}``,
``/punches``, ``/quarantine``; the result pages are in :mod:`.results`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from ..clock import site_time
from ..store import appeals
from .app import console_of, needs, page
from .auth import Visitor
from .views import device_rows, device_runs, job_rows, month_glance, outbox_rows

MAX_ROWS = 500  # a search shows at most this many rows; narrow it to see others


def parse_day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field}: 日期应为 YYYY-MM-DD，而不是 {text[:20]!r}") from None


def register(app: FastAPI) -> None:
    viewer, admin = needs("viewer"), needs("admin")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request, v: Visitor = Depends(viewer)) -> HTMLResponse:
        c = console_of(request)
        today = site_time(c.clock(), c.tz).date()
        month = today.strftime("%Y-%m")
        return page(
            request,
            "dashboard.j2",
            v,
            devices=device_rows(c, today=today),
            jobs=job_rows(c),
            outbox=outbox_rows(c),
            month=month,
            glance=month_glance(c, month),
            open_appeals=appeals(c.store, status="open"),
            today=today,
        )

    @app.get("/devices", response_class=HTMLResponse, include_in_schema=False)
    def devices(request: Request, v: Visitor = Depends(viewer)) -> HTMLResponse:
        c = console_of(request)
        today = site_time(c.clock(), c.tz).date()
        return page(request, "devices.j2", v, devices=device_rows(c, today=today))

    @app.get("/devices/{name}", response_class=HTMLResponse, include_in_schema=False)
    def device(request: Request, name: str, v: Visitor = Depends(viewer)) -> HTMLResponse:
        c = console_of(request)
        today = site_time(c.clock(), c.tz).date()
        rows = [d for d in device_rows(c, today=today) if d["name"] == name]
        if not rows:
            return page(request, "error.j2", v, 404, message=f"没有名为 {name!r} 的考勤机。")
        return page(request, "device.j2", v, device=rows[0], runs=device_runs(c, name))

    @app.get("/punches", response_class=HTMLResponse, include_in_schema=False)
    def punches(
        request: Request,
        v: Visitor = Depends(viewer),
        staff: str = Query("", max_length=32),
        device: str = Query("", max_length=64),
        start: str = Query("", alias="from", max_length=10),
        end: str = Query("", alias="to", max_length=10),
    ) -> HTMLResponse:
        c = console_of(request)
        form = {"staff": staff, "device": device, "from": start, "to": end}
        try:
            lo, hi = parse_day(start, "起始日期"), parse_day(end, "截止日期")
        except ValueError as exc:
            return page(request, "punches.j2", v, 400, form=form, rows=[], error=str(exc), more=False)
        rows = c.store.punches(
            device=device or None,
            staff=staff or None,
            start=datetime.combine(lo, time()) if lo else None,
            end=datetime.combine(hi + timedelta(days=1), time()) if hi else None,
            limit=MAX_ROWS + 1,
        )
        fragment = "punch_rows.j2" if request.headers.get("hx-request") else "punches.j2"
        return page(request, fragment, v, form=form, rows=rows[:MAX_ROWS], more=len(rows) > MAX_ROWS, error=None)

    @app.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users(request: Request, v: Visitor = Depends(admin)) -> HTMLResponse:
        """The accounts and the audit of them (admins only; accounts are made with ``attendd user``)."""
        c = console_of(request)
        accounts = [
            {
                "name": u.name,
                "role": u.role,
                "created": c.local(u.created_utc),
                "password_changed": c.local(u.password_changed_utc),
                "sessions": c.accounts.session_count(u.name),
            }
            for u in c.accounts.users()
        ]
        events = [{**e, "at": c.local(e["at_utc"], "%Y-%m-%d %H:%M:%S")} for e in c.accounts.events(limit=200)]
        return page(request, "admin_users.j2", v, accounts=accounts, events=events)

    @app.get("/quarantine", response_class=HTMLResponse, include_in_schema=False)
    def quarantine(
        request: Request,
        v: Visitor = Depends(viewer),
        staff: str = Query("", max_length=32),
        released: int | None = Query(None),
    ) -> HTMLResponse:
        c = console_of(request)
        return page(request, "quarantine.j2", v, **quarantine_context(c, v, staff), released=released)


def quarantine_context(c, v: Visitor, staff: str = "") -> dict:
    """The quarantine page's rows: every record with its decision (released, dismissed, pending)."""
    from ..store import quarantine_review as qr

    rows = c.store.quarantine()
    if staff:
        rows = [r for r in rows if r.get("pin") == staff]
    rows = sorted(rows, key=lambda r: (r["first_seen_utc"], r["id"]), reverse=True)
    decided = qr.reviews(c.store)
    shown = [{**r, "seen": c.local(r["first_seen_utc"]), "review": decided.get(r["id"])} for r in rows[:MAX_ROWS]]
    return {
        "rows": shown,
        "more": len(rows) > MAX_ROWS,
        "staff": staff,
        "can_act": v.user.role in ("clerk", "admin"),
        "pending": sum(1 for r in rows if r["id"] not in decided),
    }
