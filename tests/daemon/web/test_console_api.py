"""Issue 14, for machines: the read-only API behind bearer tokens, its OpenAPI, /metrics, /healthz."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import login
from helpers import fill


@pytest.fixture
def token(console):
    from daemon.web.auth import new_token

    fill(console.store, late_on=date(2026, 3, 3))
    t = new_token()
    assert console.accounts.add_token("scoring-system", t, by="test", at=datetime(2026, 6, 1, tzinfo=UTC))
    return t


def test_the_api_needs_a_token_or_a_session(console, token):
    assert console.get("/api/v1/periods").status_code == 401
    assert console.get("/api/v1/periods", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = console.get("/api/v1/periods", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and isinstance(ok.json(), list)
    assert console.accounts.tokens()[0]["last_used_utc"] is not None
    console.accounts.remove_token("scoring-system", by="test", at=datetime(2026, 6, 1, tzinfo=UTC))
    assert console.get("/api/v1/periods", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    login(console, "viewer1")
    assert console.get("/api/v1/periods").status_code == 200


def test_the_api_serves_the_scoring_rows_and_the_account(console, token):
    h = {"Authorization": f"Bearer {token}"}
    staff = console.get("/api/v1/periods/2026-03/staff", headers=h).json()
    two = next(r for r in staff if r["staff_no"] == "2")
    assert two["late_count"] == 1 and two["deduction_points"] == 3 and two["attendance_score"] == 22
    windows = console.get("/api/v1/periods/2026-03/windows", headers=h).json()
    assert {w["window_code"] for w in windows} == {"gongan", "shuiwu"} and {w["rank"] for w in windows} <= {1, 2}
    deductions = console.get("/api/v1/periods/2026-03/deductions", headers=h).json()
    late = next(d for d in deductions if d["staff_no"] == "2" and d["rule"] == "late")
    assert late["work_date"] == "2026-03-03" and "09:20" in late["evidence"]
    account = console.get("/api/v1/staff/2/2026-03", headers=h).json()
    day = next(d for d in account["days"] if d["day"] == "2026-03-03")
    am_in = day["slots"][0]
    assert am_in["punch"] == "2026-03-03T09:20:00" and am_in["minutes"] == 20 and am_in["decision"] == "迟到 20 分钟"
    assert day["deductions"][0]["points"] == 3 and day["deductions"][0]["clause"]
    assert console.get("/api/v1/staff/999/2026-03", headers=h).status_code == 404
    assert console.get("/api/v1/periods/2026-13/staff", headers=h).status_code == 422


def test_openapi_documents_the_api_and_its_bearer_scheme(console):
    spec = console.get("/api/openapi.json").json()
    assert set(spec["paths"]) == {
        "/api/v1/periods",
        "/api/v1/periods/{period}/staff",
        "/api/v1/periods/{period}/windows",
        "/api/v1/periods/{period}/deductions",
        "/api/v1/staff/{staff_no}/{period}",
    }
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_metrics_from_loopback_without_a_session_and_from_elsewhere_with_one(console, token):
    from fastapi.testclient import TestClient

    # the test client's address is "testclient": not loopback, so it needs a session
    assert console.get("/metrics").status_code == 401
    login(console, "viewer1")
    body = console.get("/metrics").text
    assert "attendd_punches_stored " in body and "attendd_outbox_backlog" in body
    stored = float(next(line.split()[-1] for line in body.splitlines() if line.startswith("attendd_punches_stored ")))
    assert stored > 0
    local = TestClient(console.app, client=("127.0.0.1", 50000))
    assert local.get("/metrics").status_code == 200


def test_healthz_says_when_the_scheduler_stopped(tmp_path, clock):
    from fastapi.testclient import TestClient
    from helpers import write_centre

    from daemon.config import load_config
    from daemon.store import open_store
    from daemon.web import create_app

    config = load_config(write_centre(tmp_path))
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    alive = [True]
    client = TestClient(create_app(store, config, clock=clock, scheduler_alive=lambda: alive[0]))
    assert client.get("/healthz").status_code == 200
    alive[0] = False
    r = client.get("/healthz")
    assert r.status_code == 503 and "scheduler" in r.text
    store.close()
