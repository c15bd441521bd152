"""The one rule for reporting something that fails and recovers.

A terminal that does not answer, a serial line that drops, a store that refuses a batch, a
scoring DB that refuses a push: the first failure of an outage is logged at error level, the
repeats at debug while it lasts, and the recovery once at info — so a terminal unplugged for a
weekend is one error and one recovery in the journal, not two thousand lines. Home Assistant's
DataUpdateCoordinator keeps this rule in one place; so do we. Here (in ``drivers``) because the
serial reader needs it and drivers never import the daemon; the daemon's device-state
bookkeeping is :mod:`daemon.health`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["report_failure", "report_recovery"]


def report_failure(log: Any, first: str, again: str, *, failures: int, **context: Any) -> bool:
    """Log one failure; ``failures`` counts the outage's failures so far, this one included.

    ``first`` is logged at error level for the first, ``again`` at debug for the others.
    Returns True when this was the first (the caller records the outage once, too).
    """
    if failures <= 1:
        log.error(first, **context)
        return True
    log.debug(again, failures=failures, **context)
    return False


def report_recovery(log: Any, event: str, *, failures: int, **context: Any) -> bool:
    """Log the end of an outage of ``failures`` failures at info; nothing when there was none."""
    if not failures:
        return False
    log.info(event, failures=failures, **context)
    return True
