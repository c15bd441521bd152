"""The quarantine review in the console: preview and release (re-dated) or dismiss quarantined records.

``POST /quarantine/preview`` shows what a release would store (each record's time before and
after the offset, and why one cannot be released); ``POST /quarantine/release`` applies it, all
or none; ``POST /quarantine/dismiss`` records a reason. Clerks and admins; the store functions
are :mod:`daemon.store.quarantine_review`, the same as ``attendd quarantine``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clock import site_time
from ..errors import UserError
from ..store import quarantine_review as qr
from .app import console_of, fields, needs, page
from .auth import Visitor


def _ids(values: list[str]) -> list[int]:
    try:
        ids = sorted({int(v) for v in values})
    except ValueError:
        raise UserError("记录编号应为数字") from None
    if not ids:
        raise UserError("请先勾选要处理的隔离记录")
    return ids


def _offset(terminal_time: str, real_time: str, offset_s: str) -> timedelta:
    """The offset from one known punch (what the terminal said, when it really was), or given in seconds."""
    if offset_s:
        try:
            return timedelta(seconds=float(offset_s))
        except ValueError:
            raise UserError("时差应为秒数") from None
    if not terminal_time and not real_time:
        return timedelta(0)
    try:
        said = datetime.fromisoformat(terminal_time)
        real = datetime.fromisoformat(real_time)
    except ValueError:
        raise UserError("已知打卡的两个时间应为 YYYY-MM-DD HH:MM[:SS]") from None
    return qr.offset_from(said, real)


#: The review form: the records chosen, the offset (from a known punch, or in seconds), the reason.
REVIEW = fields(ids=-20, terminal_time=19, real_time=19, offset_s=20, reason=2000)


def register(app: FastAPI) -> None:
    clerk = needs("clerk")

    def show(request: Request, v: Visitor, status_code: int, **context) -> HTMLResponse:
        from .pages import quarantine_context

        return page(request, "quarantine.j2", v, status_code, **quarantine_context(console_of(request), v), **context)

    @app.post("/quarantine/preview", response_class=HTMLResponse, include_in_schema=False)
    def preview(request: Request, v: Visitor = Depends(clerk), f=Depends(REVIEW)) -> HTMLResponse:
        ids, terminal_time, real_time, offset_s = f["ids"], f["terminal_time"], f["real_time"], f["offset_s"]
        c = console_of(request)
        try:
            chosen, offset = _ids(ids), _offset(terminal_time, real_time, offset_s)
            lines = qr.preview_release(
                c.store,
                chosen,
                offset=offset,
                now_local=site_time(c.clock(), c.tz),
                installed=c.config.installed_dates(),
            )
        except UserError as exc:
            return show(request, v, 400, error=str(exc))
        return show(request, v, 200, preview=lines, offset_s=offset.total_seconds(), chosen=chosen)

    @app.post("/quarantine/release", include_in_schema=False)
    def release(request: Request, v: Visitor = Depends(clerk), f=Depends(REVIEW)) -> Response:
        ids, offset_s, reason = f["ids"], f["offset_s"], f["reason"]
        c = console_of(request)
        try:
            new = qr.release(
                c.store,
                _ids(ids),
                offset=_offset("", "", offset_s or "0"),
                reason=reason,
                by=v.user.name,
                via="web",
                now_utc=c.clock(),
                now_local=site_time(c.clock(), c.tz),
                installed=c.config.installed_dates(),
            )
        except UserError as exc:
            return show(request, v, 400, error=str(exc))
        c.cache.clear()
        return RedirectResponse(f"/quarantine?released={new}", status_code=303)

    @app.post("/quarantine/dismiss", include_in_schema=False)
    def dismiss(request: Request, v: Visitor = Depends(clerk), f=Depends(REVIEW)) -> Response:
        ids, reason = f["ids"], f["reason"]
        c = console_of(request)
        try:
            qr.dismiss(c.store, _ids(ids), reason=reason, by=v.user.name, via="web", now_utc=c.clock())
        except UserError as exc:
            return show(request, v, 400, error=str(exc))
        return RedirectResponse("/quarantine", status_code=303)
