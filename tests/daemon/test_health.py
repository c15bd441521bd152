"""One device-health policy: the words every reader shows and the logging rule every path follows."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import structlog
from structlog.testing import capture_logs

from daemon.health import FAILING, NEVER, OK, failed_state, health, ok_state, problem
from drivers._health import report_failure, report_recovery

AT = datetime(2026, 3, 2, 1, 0)


def test_the_words_and_the_state_updates():
    assert health(None) == NEVER and problem(None) is None
    down = SimpleNamespace(consecutive_failures=2, last_error="timed out")
    assert (health(down), problem(down)) == (FAILING, "timed out")
    back = SimpleNamespace(consecutive_failures=0, last_error="timed out")  # an old error is history
    assert (health(back), problem(back)) == (OK, None)
    assert failed_state(down, "refused", AT)["consecutive_failures"] == 3
    assert failed_state(None, "refused", AT, serial="S1") == {
        "last_attempt_utc": AT,
        "last_error": "refused",
        "consecutive_failures": 1,
        "serial": "S1",
    }
    assert ok_state(AT)["consecutive_failures"] == 0 and ok_state(AT)["last_success_utc"] == AT


def test_an_outage_is_one_error_quiet_repeats_and_one_recovery():
    log = structlog.get_logger("test")
    with capture_logs() as logs:
        firsts = [report_failure(log, "down", "still down", failures=n, device="d") for n in (1, 2, 3)]
        assert report_recovery(log, "back", failures=3, device="d")
        assert not report_recovery(log, "back", failures=0, device="d")
    assert firsts == [True, False, False]
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("down", "error"),
        ("still down", "debug"),
        ("still down", "debug"),
        ("back", "info"),
    ]
    assert logs[-1]["failures"] == 3
