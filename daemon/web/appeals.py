"""``/appeals``: appeals (申诉) against deductions — listed for everyone, filed and decided by clerks.

The same store functions as ``attendd appeal`` (:mod:`daemon.store.appeals`); the person acting is
the signed-in user (``via="web"``). A decision carries the version of the appeal its page showed,
so a second clerk deciding the same appeal is told so and nothing changes (409).
"""

from __future__ import annotations

from datetime import date

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clock import site_time
from ..errors import UserError
from ..store import StaleEdit, appeals, decide_appeal, file_appeal
from ..store.changes import Actor
from .app import console_of, fields, needs, page
from .auth import Visitor

STATUS_WORDS = {"open": "待处理", "upheld": "成立", "rejected": "驳回"}
LIST = fields(status=16, staff=32, ref=64)
FILING = fields(staff=32, ref=64, says=2000, received=10, period=7)
DECISION = fields(verdict=8, reason=2000, remedy=96, version=12)


def register(app: FastAPI) -> None:
    viewer, clerk = needs("viewer"), needs("clerk")

    def listing(request: Request, v: Visitor, status_code: int = 200, error: str | None = None, **form) -> HTMLResponse:
        c = console_of(request)
        rows = appeals(c.store, status=form.get("status") or None, staff_no=form.get("staff") or None)
        today = site_time(c.clock(), c.tz).date()
        return page(
            request,
            "appeals.j2",
            v,
            status_code,
            rows=rows,
            words=STATUS_WORDS,
            today=today,
            form=form,
            error=error,
            can_act=v.user.role in ("clerk", "admin"),
        )

    @app.get("/appeals", response_class=HTMLResponse, include_in_schema=False)
    def appeal_list(request: Request, v: Visitor = Depends(viewer), f=Depends(LIST)) -> HTMLResponse:
        return listing(request, v, **f)

    @app.post("/appeals", include_in_schema=False)
    def appeal_file(request: Request, v: Visitor = Depends(clerk), form=Depends(FILING)) -> Response:
        c = console_of(request)
        staff, ref, says, received, period = (form[k] for k in ("staff", "ref", "says", "received", "period"))
        try:
            try:
                day = date.fromisoformat(received) if received else site_time(c.clock(), c.tz).date()
            except ValueError:
                raise UserError(f"收到日期应为 YYYY-MM-DD，而不是 {received[:20]!r}") from None
            new_id = file_appeal(
                c.store,
                staff_no=staff.strip(),
                deduction_ref=ref,
                statement=says,
                received=day,
                period_key=period or None,
                decide_by_day=c.config.appeals.decide_by_day,
                by=v.user.name,
                via="web",
                now_utc=c.clock(),
            )
        except UserError as exc:
            return listing(request, v, 400, str(exc), **form)
        c.cache.clear()
        return RedirectResponse(f"/appeals#appeal-{new_id}", status_code=303)

    @app.post("/appeals/{appeal_id}/decide", include_in_schema=False)
    def appeal_decide(request: Request, appeal_id: int, v: Visitor = Depends(clerk), f=Depends(DECISION)) -> Response:
        verdict, reason, remedy = f["verdict"], f["reason"], f["remedy"]
        version = int(f["version"]) if f["version"].isdigit() else 0
        c = console_of(request)
        try:
            if verdict not in ("uphold", "reject"):
                raise UserError("请选择“成立”或“驳回”")
            who = Actor(v.user.name, "web", c.clock())
            decide_appeal(
                c.store,
                appeal_id,
                who,
                upheld=verdict == "uphold",
                reason=reason,
                remedy=remedy or None,
                version=version or None,
            )
        except StaleEdit as exc:
            return listing(request, v, 409, str(exc))
        except UserError as exc:
            return listing(request, v, 400, str(exc))
        c.cache.clear()
        return RedirectResponse(f"/appeals#appeal-{appeal_id}", status_code=303)
