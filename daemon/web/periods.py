"""A period's actions in the console (issue 15, point 5): evaluate now, close, reopen, publish.

The same rules as the command line, through the same functions: :func:`daemon.outbox.take_snapshot`
(evaluate now, reopen), :func:`daemon.outbox.close_period` (refused while the data is incomplete —
:func:`daemon.outbox.incomplete` — unless forced with a reason), and
:func:`daemon.bulletin.publish.publish` (the bulletin files, written where the daemon writes them).
Go-live (``[site] since``) and a period's refusal are one line, 400.

Each close, reopen and publish is also written to the change log (``period_close``,
``period_reopen``, ``bulletin_publish``), in its own small transaction once the action has
succeeded; the forced close and the reopen keep their own rows as well (``period_forced_close``,
``period_reopen``). The period page (``/periods/{period}``, in :mod:`.results`) shows when the
period was last evaluated, whether it is final, whether its months are dirty, and the files
published (:func:`period_state`, which the period page shows).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

import rules

from ..errors import AttenddError, UserError
from ..store import appeals, dirty_months
from ..store.changes import Actor, log_period
from ..store.models import forced_close_table, reopen_table, snapshot_table
from .app import Console, console_of, fields, needs, page
from .auth import Visitor
from .views import console_period

MAX_REASON = 2000


def months_of(period: rules.Period) -> list[str]:
    """The calendar months ``period`` touches (``YYYY-MM``)."""
    out = []
    d = date(period.start.year, period.start.month, 1)
    while d < period.end:
        out.append(d.strftime("%Y-%m"))
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def snapshot_of(console: Console, key: str) -> dict[str, Any] | None:
    t = snapshot_table
    with console.store.reading() as conn:
        row = (
            conn.execute(
                select(t.c.computed_utc, t.c.is_final, t.c.revision, t.c.pushed_utc).where(t.c.period_key == key)
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    return {
        "computed": console.local(row["computed_utc"], "%Y-%m-%d %H:%M:%S"),
        "is_final": bool(row["is_final"]),
        "revision": row["revision"],
        "pushed": console.local(row["pushed_utc"]),
    }


def period_state(console: Console, period: rules.Period) -> dict[str, Any]:
    """What the period page shows about ``period`` beside its results: the stored snapshot (when
    evaluated, final, revision), its dirty months, its closes and reopens, the published files."""
    from ..bulletin.publish import file_name

    dirty = set(dirty_months(console.store))
    history = []
    with console.store.reading() as conn:
        for table, word in ((forced_close_table, "强制结账"), (reopen_table, "重新开账")):
            for r in conn.execute(select(table).where(table.c.period_key == period.key)).mappings():
                history.append({**r, "word": word})
    history.sort(key=lambda r: r["at_utc"], reverse=True)
    folder = console.config.bulletin_dir()
    stem = file_name(period, "x")[:-2]  # 考勤通报-2026-03: the files and the CSV's companions
    main = {file_name(period, fmt): fmt for fmt in console.config.bulletin.formats}
    try:
        found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith(stem))
    except OSError:  # not there yet (nothing published) or not readable
        found = []
    files = [
        {"name": p.name, "fmt": main.get(p.name), "time": console.local(datetime.fromtimestamp(p.stat().st_mtime, UTC))}
        for p in found
        if p.name in main or p.name.startswith(stem + "-")
    ]
    return {
        "snapshot": snapshot_of(console, period.key),
        "dirty": [m for m in months_of(period) if m in dirty],
        "history": [{**h, "at": console.local(h["at_utc"])} for h in history],
        "files": files,
        "folder": str(folder),
    }


def _log(
    console: Console, v: Visitor, now: datetime, action: str, key: str, reason: str, before: Any, after: Any
) -> None:
    """The action's change-log entry (``now``: the time the action itself recorded)."""
    log_period(console.store, Actor(v.user.name, "web", now), action, key, reason=reason, before=before, after=after)


def _back(key: str) -> Response:
    return RedirectResponse(f"/periods/{key}", status_code=303)


def _state_words(snap: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if snap is None else {"is_final": snap["is_final"], "revision": snap["revision"]}


def live_period(c: Console, text: str) -> rules.Period:
    """The period ``text`` names, refused (UserError) when it is before the centre's go-live."""
    from ..outbox import check_go_live

    p = console_period(text)
    check_go_live(c.config, p)
    return p


CLOSING = fields(force=8, reason=MAX_REASON)
REOPENING = fields(reason=MAX_REASON)


def register(app: FastAPI) -> None:
    """Add this module's routes to the console."""
    clerk = needs("clerk")

    def refused(request: Request, v: Visitor, message: str) -> HTMLResponse:
        return page(request, "error.j2", v, 400, message=message)

    @app.post("/periods/{period}/evaluate", include_in_schema=False)
    def evaluate_now(request: Request, period: str, v: Visitor = Depends(clerk)) -> Response:
        """Re-evaluate now, as the daemon does for a dirty month: a new snapshot (queued for the
        scoring DB) if the results moved; a final period is kept as published."""
        from ..outbox import take_snapshot
        from ..store import clear_dirty

        c = console_of(request)
        try:
            p = console_period(period)
            now = c.clock()
            take_snapshot(c.store, c.config, p, now=now)
        except UserError as exc:
            return refused(request, v, str(exc))
        if p.kind == "month":
            clear_dirty(c.store, [p.key], now)
        c.cache.clear()
        return _back(p.key)

    def close_form(
        request: Request, v: Visitor, p: rules.Period, *, status: int = 200, error: str | None = None, reason: str = ""
    ) -> HTMLResponse:
        from ..outbox import incomplete

        c = console_of(request)
        return page(
            request,
            "period_close.j2",
            v,
            status,
            period=p,
            reasons=incomplete(c.store, c.config, p, now=c.clock()),
            open_appeals=[
                a
                for a in appeals(c.store, status="open")
                if p.start.isoformat()[:7] <= a["period_key"] and a["period_key"] < p.end.isoformat()[:7]
            ],
            snapshot=snapshot_of(c, p.key),
            error=error,
            reason=reason,
        )

    @app.get("/periods/{period}/close", response_class=HTMLResponse, include_in_schema=False)
    def close_preview(request: Request, period: str, v: Visitor = Depends(clerk)) -> HTMLResponse:
        """What closing would finalise, and what is incomplete or still under appeal."""
        try:
            return close_form(request, v, live_period(console_of(request), period))
        except UserError as exc:
            return refused(request, v, str(exc))

    @app.post("/periods/{period}/close", include_in_schema=False)
    def close(request: Request, period: str, v: Visitor = Depends(clerk), f=Depends(CLOSING)) -> Response:
        from ..outbox import PeriodIncomplete, close_period

        c, force, reason = console_of(request), f["force"], f["reason"]
        try:
            p = console_period(period)
        except UserError as exc:
            return refused(request, v, str(exc))
        before = snapshot_of(c, p.key)
        if before is not None and before["is_final"]:
            return refused(request, v, f"{p.key} 已结账（终版，第 {before['revision']} 版）；如需重算请重新开账。")
        forced = bool(force)
        if forced and not reason:
            return close_form(request, v, p, status=400, error="强制结账必须填写原因。")
        now = c.clock()
        try:
            snap = close_period(
                c.store,
                c.config,
                p,
                now=now,
                force_by=v.user.name if forced else None,
                force_reason=reason if forced else None,
            )
        except PeriodIncomplete as exc:
            message = f"{p.key} 数据不完整，未结账：{'；'.join(exc.reasons)}（确认无误可勾选“强制结账”并填写原因）"
            return close_form(request, v, p, status=400, error=message, reason=reason)
        except UserError as exc:
            return close_form(request, v, p, status=400, error=str(exc), reason=reason)
        c.cache.clear()
        _log(
            c,
            v,
            now,
            "period_close",
            p.key,
            reason,
            _state_words(before),
            {"is_final": True, "revision": snap.revision, "forced": forced},
        )
        return _back(p.key)

    @app.post("/periods/{period}/reopen", include_in_schema=False)
    def reopen(request: Request, period: str, v: Visitor = Depends(clerk), f=Depends(REOPENING)) -> Response:
        from ..outbox import take_snapshot

        c, reason = console_of(request), f["reason"]
        try:
            p = console_period(period)
            if not reason:
                raise UserError("重新开账必须填写原因。")
            before = snapshot_of(c, p.key)
            if before is None or not before["is_final"]:
                raise UserError(f"{p.key} 尚未结账，无需重新开账。")
            now = c.clock()
            snap = take_snapshot(c.store, c.config, p, now=now, reopen_by=v.user.name, reopen_reason=reason)
        except UserError as exc:
            return refused(request, v, str(exc))
        c.cache.clear()
        _log(
            c,
            v,
            now,
            "period_reopen",
            p.key,
            reason,
            _state_words(before),
            {"is_final": True, "revision": snap.revision},
        )
        return _back(p.key)

    @app.post("/periods/{period}/publish", include_in_schema=False)
    def publish_now(request: Request, period: str, v: Visitor = Depends(clerk)) -> Response:
        from ..bulletin.publish import publish

        c = console_of(request)
        try:
            p = console_period(period)
            now = c.clock()
            written = publish(c.store, c.config, p, now=now)
        except UserError as exc:  # go-live, an unknown period, no roster
            return refused(request, v, str(exc))
        except AttenddError as exc:  # a format that failed (the others are written)
            return refused(request, v, f"通报未能全部写出：{exc}")
        except OSError as exc:
            return refused(request, v, f"通报目录无法写入：{exc}")
        c.cache.clear()
        _log(c, v, now, "bulletin_publish", p.key, "", None, {"files": [f.name for f in written]})
        return _back(p.key)
