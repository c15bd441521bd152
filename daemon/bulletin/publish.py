"""The daemon's side of bulletins: which periods a closed month publishes, and writing them all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import structlog

from rules import Period, period_of

from ..config import Config
from ..errors import AttenddError
from ..store import Store
from . import labels
from .collect import collect

log = structlog.get_logger("attendd.bulletin")


def file_name(period: Period, fmt: str) -> str:
    """``考勤通报-2026-03.html``, ``考勤周报-2026-W12.pdf``."""
    return f"{labels.kind_of_bulletin(period)}-{period.key}.{fmt}"


def closing_periods(month: Period, kinds: Sequence[str]) -> list[Period]:
    """The periods of ``kinds`` that end with ``month`` (the month itself, a quarter it ends, …)."""
    last = month.end - timedelta(days=1)
    out = []
    for kind in ("month", "quarter", "half", "year"):
        if kind in kinds:
            p = period_of(kind, last)
            if p.end == month.end:
                out.append(p)
    return out


def previous_week(today: date) -> Period:
    return period_of("week", today - timedelta(days=7))


def publish(store: Store, config: Config, period: Period, *, now: datetime) -> list[Path]:
    """Write ``period``'s bulletin in every configured format into the bulletin directory.

    Every format is attempted; if one fails (no CJK font for the PDF, say)
    the others are still written and the first failure is raised after.
    """
    from . import write_bulletin
    from .docx import prepare_docx

    b = collect(store, config, period, now=now, queue=True)  # the daemon's own schedule: queued
    folder = config.bulletin_dir()
    written: list[Path] = []
    failures: list[str] = []
    for fmt in config.bulletin.formats:
        try:
            written += write_bulletin(
                b,
                fmt,
                folder / file_name(period, fmt),
                font=str(config.bulletin.font) if config.bulletin.font else None,
                footer=config.bulletin.footer or "",
                # the official document takes (or keeps) its 发文字号 when it is written
                letterhead=prepare_docx(store, config, b, now=now, by="daemon") if fmt == "docx" else None,
            )
        except (AttenddError, OSError) as exc:
            log.error("bulletin not written", format=fmt, error=str(exc))
            failures.append(f"{fmt}: {exc}")
    log.info("bulletin written", files=[str(p) for p in written], deductions=len(b.annex))
    if failures:
        raise AttenddError(f"bulletin {period.key}: " + "; ".join(failures))
    return written
