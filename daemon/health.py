"""Device health, as the store keeps it: one set of words and one way to record it.

A device's state row (``device_state``) has ``consecutive_failures`` and ``last_error``; every
input path — the pull (:mod:`daemon.sync`), the serial listener, the push receiver — writes it
through :func:`failed_state` / :func:`ok_state`, and every reader — ``attendd status``,
``attendd devices``, the bulletin's sync health — reads it through :func:`health` and
:func:`problem`. The logging rule (error once, quiet, recovery once) is
:mod:`drivers._health`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drivers._health import report_failure, report_recovery

__all__ = [
    "FAILING",
    "NEVER",
    "OK",
    "failed_state",
    "health",
    "ok_state",
    "problem",
    "report_failure",
    "report_recovery",
]

OK, FAILING, NEVER = "ok", "failing", "never synced"


def health(state: Any | None) -> str:
    """``ok``, ``failing`` (the last attempt failed) or ``never synced`` (no state yet)."""
    if state is None:
        return NEVER
    return FAILING if state.consecutive_failures else OK


def problem(state: Any | None) -> str | None:
    """The error of a failing device, else None (an old error of a healthy device is history)."""
    return state.last_error if state is not None and state.consecutive_failures else None


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
