"""The result pages: a person's period day by day, a window's month as a grid, a period's ranking.

``/staff/{staff_no}/{period}`` is :func:`daemon.explain.explain_staff` rendered;
``/windows/{code}/{period}`` evaluates only that window's staff (their results do not depend on
anyone else's) and takes the window's score and rank from the period's results;
``/periods/{period}`` shows those results — what ``attendd evaluate`` shows and the scoring DB
receives — and the bulletin's files.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask

import rules

from ..errors import UserError
from ..store.models import staff_table
from .app import console_of, needs, page
from .auth import Visitor
from .views import console_period, period_rows

#: The bulletin as a download: what each format is served as.
BULLETIN_TYPES = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
#: The bulletin's HTML has its own inline styles and no script; served under this policy, framed
#: only by the console's own period page (which shows it in the page, sandboxed).
BULLETIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
GRID_WORDS = {
    "ok": "√",
    "late": "迟",
    "early": "早",
    "missing": "缺",
    "absent": "旷",
    "leave": "假",
    "excused": "补",
    "rest": "",
    "not_scheduled": "",
}
LEGEND = [
    ("ok", "正常"),
    ("late", "迟到"),
    ("early", "早退"),
    ("missing", "缺卡"),
    ("absent", "旷工"),
    ("leave", "请假"),
    ("excused", "已补卡/说明"),
    ("rest", "休息/节假日"),
]


def register(app: FastAPI) -> None:
    viewer = needs("viewer")

    def problem(request: Request, v: Visitor, exc: UserError) -> HTMLResponse:
        return page(request, "error.j2", v, 404, message=str(exc))

    @app.get("/staff/{staff_no}/{period}", response_class=HTMLResponse, include_in_schema=False)
    def staff(request: Request, staff_no: str, period: str, v: Visitor = Depends(viewer)) -> HTMLResponse:
        from ..explain import explain_staff

        c = console_of(request)
        try:
            account = explain_staff(c.store, c.config, staff_no, console_period(period), as_of=c.clock())
        except UserError as exc:
            return problem(request, v, exc)
        return page(request, "staff.j2", v, a=account, status_words=GRID_WORDS)

    @app.get("/windows/{code}/{period}", response_class=HTMLResponse, include_in_schema=False)
    def window(request: Request, code: str, period: str, v: Visitor = Depends(viewer)) -> HTMLResponse:
        c = console_of(request)
        try:
            p = console_period(period)
            grid = window_grid(c, code, p)
            ranking = {r["window_code"]: r for r in period_rows(c, p)["window_periods"]}
        except UserError as exc:
            return problem(request, v, exc)
        return page(
            request,
            "window.j2",
            v,
            g=grid,
            period=p,
            result=ranking.get(code),
            legend=LEGEND,
            words=GRID_WORDS,
        )

    @app.get("/periods/{period}", response_class=HTMLResponse, include_in_schema=False)
    def period_page(request: Request, period: str, v: Visitor = Depends(viewer)) -> HTMLResponse:
        from .periods import period_state

        c = console_of(request)
        try:
            p = console_period(period)
            rows = period_rows(c, p)
        except UserError as exc:
            return problem(request, v, exc)
        names = _names(c)
        ranking = sorted(rows["window_periods"], key=lambda r: (r["rank"], r["window_code"]))
        disqualified = [
            {**r, "name": names.get(r["staff_no"], "")} for r in rows["staff_periods"] if r.get("disqualified")
        ]
        return page(
            request,
            "period.j2",
            v,
            period=p,
            ranking=ranking,
            disqualified=disqualified,
            staff_count=len(rows["staff_periods"]),
            st=period_state(c, p),
            formats=list(BULLETIN_TYPES),
        )

    @app.get("/periods/{period}/bulletin.{fmt}", include_in_schema=False)
    def bulletin_file(request: Request, period: str, fmt: str, v: Visitor = Depends(viewer)) -> Response:
        from ..bulletin import collect, write_bulletin
        from ..bulletin.publish import file_name

        c = console_of(request)
        if fmt not in BULLETIN_TYPES:
            return page(request, "error.j2", v, 404, message=f"没有 {fmt[:10]!r} 格式的通报。")
        try:
            p = console_period(period)
            b = collect(c.store, c.config, p, now=c.clock(), queue=False)
        except UserError as exc:
            return problem(request, v, exc)
        scratch = Path(tempfile.mkdtemp(prefix="attendd-bulletin-"))
        bc = c.config.bulletin
        target = scratch / file_name(p, fmt)
        lh = _draft_letterhead(c, b) if fmt == "docx" else None
        write_bulletin(b, fmt, target, font=str(bc.font) if bc.font else None, footer=bc.footer or "", letterhead=lh)
        headers = {"Content-Security-Policy": BULLETIN_CSP, "X-Frame-Options": "SAMEORIGIN"} if fmt == "html" else {}
        return FileResponse(
            target,
            media_type=BULLETIN_TYPES[fmt],
            filename=target.name,
            content_disposition_type="inline" if fmt in ("html", "pdf") else "attachment",
            headers=headers,
            background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
        )


def _draft_letterhead(console, b):
    """A download is a look, not an issue: the DOCX carries the period's 发文字号 if one was issued
    (by publishing it), else none — a viewer's download never takes a number."""
    from ..bulletin.collect import previous_figures
    from ..bulletin.docx import letterhead
    from ..store.bulletin_numbers import number_of

    b.previous = previous_figures(console.store, console.config, b.period, now=console.clock())
    issued = number_of(console.store, b.period.key)
    return letterhead(console.config, issued.number if issued else "")


def _names(console) -> dict[str, str]:
    with console.store.reading() as conn:
        return {r.staff_no: r.name for r in conn.execute(select(staff_table.c.staff_no, staff_table.c.name))}


def window_grid(console, code: str, period: rules.Period) -> dict[str, Any]:
    """The window's staff × day grid for ``period``: each cell the day's worst slot status."""
    from ..explain import day_kind_of, day_status
    from ..period_results import compile_rules, evaluate

    window = next((w for w in console.config.windows if w.code == code), None)
    if window is None:
        raise UserError(f"没有代码为 {code[:20]!r} 的窗口。")
    with console.store.reading() as conn:
        people = conn.execute(
            select(staff_table.c.staff_no, staff_table.c.name)
            .where(staff_table.c.window_code == code)
            .order_by(staff_table.c.staff_no)
        ).all()
    days = list(period.days())
    calendar = compile_rules(console.config)[3]
    kinds = {d: day_kind_of(calendar, d) for d in days}
    rows = []
    if people:
        ev = evaluate(console.store, console.config, period, as_of=console.clock(), only=[p.staff_no for p in people])
        totals = {s.staff_no: s for s in ev.staff}
        for p in people:
            by_day = {d.day: d for d in ev.days.get(p.staff_no, [])}
            cells = []
            for d in days:
                r = by_day.get(d)
                if r is None:
                    cells.append("not_scheduled" if kinds[d] in ("workday", "makeup") else "rest")
                    continue
                cells.append(day_status(r.scheduled, kinds[d], (s.status for s in r.slots)))
            rows.append({"staff_no": p.staff_no, "name": p.name, "cells": cells, "total": totals.get(p.staff_no)})
    return {"code": code, "name": window.name, "days": days, "kinds": kinds, "rows": rows}
