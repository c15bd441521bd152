"""``/api/v1``: read-only JSON for scoring systems that cannot read the scoring database.

The same rows the scoring DB receives (SPEC §4.4: ``att_staff_period``, ``att_window_period``,
``att_deduction``) and the day-by-day account of one person. A client sends a token made by
``attendd token add NAME`` as ``Authorization: Bearer TOKEN``; a signed-in browser may read it too.
Nothing here writes. OpenAPI at ``/api/openapi.json``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select

import rules

from ..errors import UserError
from ..store.models import snapshot_table
from . import auth
from .app import console_of
from .auth import LoginRequired
from .views import console_period, period_rows

_bearer = HTTPBearer(auto_error=False, description="a token from `attendd token add NAME`")

PERIOD = Path(pattern=r"^20\d{2}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]|W(0[1-9]|[1-4]\d|5[0-3])))?$", examples=["2026-03"])
STAFF_NO = Path(min_length=1, max_length=32)


class PeriodInfo(BaseModel):
    period_key: str
    period_kind: str
    is_final: bool
    revision: int | None
    computed_utc: datetime | None


class StaffPeriod(BaseModel):
    period_kind: str
    period_key: str
    staff_no: str
    window_code: str
    policy: str
    scheduled_days: int
    present_days: int
    late_count: int
    early_count: int
    missing_punches: int
    absent_days: float
    personal_leave_days: float
    sick_leave_days: float
    other_leave_days: float
    midday_leave_count: int
    off_post_count: int
    deduction_points: float
    max_points: float
    attendance_score: float
    grade: str | None
    disqualified: bool
    disqualify_reasons: list[str]
    is_final: bool
    excused_punches: int
    grade_note: str | None


class WindowPeriod(BaseModel):
    period_kind: str
    period_key: str
    window_code: str
    window_name: str
    staff_count: int
    attendance_score: float
    max_points: float
    rank: int
    red_flag: bool
    chief_onsite_ratio: float | None
    is_final: bool
    ranking_group: str | None
    score_percent: float | None


class DeductionOut(BaseModel):
    period_kind: str
    period_key: str
    staff_no: str
    rule: str
    ref: str
    work_date: date | None
    slot: str | None
    points: float
    evidence: str
    note: str | None


class Problem(BaseModel):
    detail: str


def api_reader(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> str:
    """Who reads: the API token's name, or the signed-in user's; else 401."""
    c = console_of(request)
    if credentials is not None:
        token = credentials.credentials
        name = c.accounts.token_name(token, now=c.clock()) if len(token) <= 128 else None
        if name is None:
            raise LoginRequired()
        return f"token:{name}"
    session = auth.session_of(request, c.accounts, c.clock())
    if session is None:
        raise LoginRequired()
    return session.user.name


def _period(text: str) -> rules.Period:
    try:
        return console_period(text)
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None


def _rows(request: Request, period: str, table: str) -> list[dict[str, Any]]:
    c = console_of(request)
    try:
        return period_rows(c, _period(period))[table]
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None


def register(app: FastAPI) -> None:
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(api_reader)], responses={401: {"model": Problem}})
    missing: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}

    @api.get("/periods", response_model=list[PeriodInfo], summary="Periods with stored results")
    def periods(request: Request) -> list[dict[str, Any]]:
        t = snapshot_table
        with console_of(request).store.reading() as conn:
            rows = conn.execute(
                select(t.c.period_key, t.c.period_kind, t.c.is_final, t.c.revision, t.c.computed_utc).order_by(
                    t.c.period_key
                )
            ).mappings()
            return [{**r, "is_final": bool(r["is_final"])} for r in rows]

    @api.get("/periods/{period}/staff", response_model=list[StaffPeriod], responses=missing, summary="att_staff_period")
    def staff_periods(request: Request, period: str = PERIOD) -> list[dict[str, Any]]:
        return _rows(request, period, "staff_periods")

    @api.get(
        "/periods/{period}/windows", response_model=list[WindowPeriod], responses=missing, summary="att_window_period"
    )
    def window_periods(request: Request, period: str = PERIOD) -> list[dict[str, Any]]:
        return _rows(request, period, "window_periods")

    @api.get(
        "/periods/{period}/deductions",
        response_model=list[DeductionOut],
        responses=missing,
        summary="att_deduction: every deduction with its evidence",
    )
    def deductions(request: Request, period: str = PERIOD) -> list[dict[str, Any]]:
        return _rows(request, period, "deductions")

    @api.get(
        "/staff/{staff_no}/{period}",
        response_model=dict[str, Any],
        responses=missing,
        summary="One person's period day by day (as `attendd explain --format json`)",
    )
    def staff_account(request: Request, staff_no: str = STAFF_NO, period: str = PERIOD) -> dict[str, Any]:
        from ..explain import explain_staff

        c = console_of(request)
        try:
            return explain_staff(c.store, c.config, staff_no, _period(period), as_of=c.clock()).as_json()
        except UserError as exc:
            raise HTTPException(404, str(exc)) from None

    app.include_router(api)
