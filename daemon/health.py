"""Device health, as the store keeps it: one set of words and one way to record it.

A device's state row (``device_state``) has ``consecutive_failures`` and ``last_error``; every
input path — the pull (:mod:`daemon.sync`), the serial listener, the push receiver — writes it
through :func:`failed_state` / :func:`ok_state`, and every reader — ``attendd status``,
``attendd devices``, the bulletin's sync health — reads it through :func:`health` and
:func:`problem`. The logging rule (error once, quiet, recovery once) is
:mod:`drivers._health`.

A reachable terminal can still be in trouble (issue 16): its clock off by more than ``[daemon]
max_clock_drift`` (:func:`clock_problem`), its log or user table nearly full
(:func:`capacity_problem`). The readers that show a terminal's health now (``attendd devices``,
``attendd sync``, ``attendd status``, the console) pass the limit to :func:`problem` and
:func:`health`; the pull logs each such problem once when it starts and once when it ends
(:func:`report_change`), the same rule as an outage's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drivers._health import report_failure, report_recovery

__all__ = [
    "CAPACITY_WARN",
    "CLOCK_OFF",
    "DEFAULT_MAX_DRIFT_S",
    "FAILING",
    "NEVER",
    "OK",
    "capacity_problem",
    "clock_problem",
    "drift_text",
    "failed_state",
    "health",
    "ok_state",
    "problem",
    "report_change",
    "report_failure",
    "report_recovery",
    "usage_text",
    "whole_hours",
]

OK, FAILING, NEVER, CLOCK_OFF = "ok", "failing", "never synced", "clock off"

#: ``[daemon] max_clock_drift``'s default: 2 minutes (docs/decisions.md, "Terminal care").
DEFAULT_MAX_DRIFT_S = 120.0
#: A drift this close to a non-zero whole number of hours is named a time-zone setting.
WHOLE_HOURS_SLACK_S = 120.0
#: The share of a terminal's capacity (records, users) from which it is warned about.
CAPACITY_WARN = 0.9


def health(state: Any | None, *, max_drift_s: float | None = None) -> str:
    """``ok``, ``failing`` (the last attempt failed) or ``never synced`` (no state yet); with
    ``max_drift_s``, ``clock off`` for a reachable terminal whose clock is beyond it."""
    if state is None:
        return NEVER
    if state.consecutive_failures:
        return FAILING
    if max_drift_s is not None and clock_problem(state.clock_offset_s, max_drift_s):
        return CLOCK_OFF
    return OK


def problem(state: Any | None, *, max_drift_s: float | None = None) -> str | None:
    """The error of a failing device, else None (an old error of a healthy device is history).

    With ``max_drift_s`` (the readers of a terminal's health now), a healthy device's clock
    beyond it and a log or user table from :data:`CAPACITY_WARN` full are problems too.
    """
    if state is None:
        return None
    if state.consecutive_failures:
        return str(state.last_error)
    if max_drift_s is None:
        return None
    found = [
        clock_problem(state.clock_offset_s, max_drift_s),
        capacity_problem(state.record_count, getattr(state, "record_capacity", None)),
        capacity_problem(state.user_count, getattr(state, "user_capacity", None), what="user table"),
    ]
    return "; ".join(p for p in found if p) or None


def drift_text(seconds: float | None) -> str:
    """A clock offset as people read it: ``+42s``, ``-5.3min``, ``+8.0h`` (empty when unknown)."""
    if seconds is None:
        return ""
    sign = "+" if seconds >= 0 else "-"
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{s / 60:.1f}min"
    return f"{sign}{s / 3600:.1f}h"


def whole_hours(offset_s: float) -> int | None:
    """The non-zero whole number of hours ``offset_s`` is within :data:`WHOLE_HOURS_SLACK_S` of
    (a terminal set to the wrong time zone, or to UTC), else None."""
    hours = round(offset_s / 3600)
    return hours if hours and abs(offset_s - hours * 3600) <= WHOLE_HOURS_SLACK_S else None


def clock_problem(offset_s: float | None, max_drift_s: float) -> str | None:
    """What is wrong with a terminal clock ``offset_s`` seconds off attendd's (ahead when
    positive), or None within ``max_drift_s`` or when unknown."""
    if offset_s is None or abs(offset_s) <= max_drift_s:
        return None
    way = "ahead" if offset_s > 0 else "behind"
    text = f"clock {drift_text(abs(offset_s))[1:]} {way} (limit {drift_text(max_drift_s)[1:]})"
    hours = whole_hours(offset_s)
    if hours:
        text += f": {abs(hours)} whole hour{'s' if abs(hours) > 1 else ''}, likely the terminal's time-zone setting"
    return text


def capacity_problem(used: int | None, capacity: int | None, *, what: str = "attendance log") -> str | None:
    """A warning when ``used`` is :data:`CAPACITY_WARN` of ``capacity`` or more, else None (also
    when the terminal does not report its capacity)."""
    if not capacity or used is None or used < CAPACITY_WARN * capacity:
        return None
    if used >= capacity:
        return f"{what} full ({used} of {capacity}): new records are refused or overwrite the oldest, by model"
    return f"{what} {100 * used // capacity}% full ({used} of {capacity})"


def usage_text(used: int | None, capacity: int | None) -> str:
    """``used / capacity`` (``1200 / 200000``), or ``used`` alone when the capacity is unknown."""
    if used is None:
        return ""
    return f"{used} / {capacity}" if capacity else str(used)


def report_change(log: Any, was: str | None, now: str | None, *, started: str, ended: str, **context: Any) -> None:
    """Log a condition (a clock off, a log nearly full) once when it starts and once when it ends.

    ``was`` and ``now`` are its description at the previous pull and at this one (None: fine).
    The start is a warning, the end info; a condition that persists logs nothing more.
    """
    if now and not was:
        log.warning(started, problem=now, **context)
    elif was and not now:
        log.info(ended, was=was, **context)


def failed_state(previous: Any | None, error: str, at_utc: datetime, **extra: Any) -> dict[str, Any]:
    """The state update for a failure at ``at_utc`` (an instant): one more failure in a row."""
    failures = (previous.consecutive_failures if previous is not None else 0) + 1
    return {"last_attempt_utc": at_utc, "last_error": error, "consecutive_failures": failures, **extra}


def ok_state(at_utc: datetime, **extra: Any) -> dict[str, Any]:
    """The state update for a success at ``at_utc`` (an instant): the outage, if any, is over."""
    return {
        "last_attempt_utc": at_utc,
        "last_success_utc": at_utc,
        "last_error": None,
        "consecutive_failures": 0,
        **extra,
    }
