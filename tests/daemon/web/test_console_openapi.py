"""Issue 14: the API checked against its own OpenAPI with schemathesis — every operation, any
valid or edge-case input, answers what its schema says (status codes, content types, bodies)
and never a server error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import schemathesis
from helpers import fill
from hypothesis import HealthCheck, settings


@pytest.fixture
def api_schema(console):
    from daemon.web.auth import new_token

    fill(console.store, late_on=date(2026, 3, 3))
    token = new_token()
    console.accounts.add_token("schemathesis", token, by="test", at=datetime(2026, 6, 1, tzinfo=UTC))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", console.app)
    schema.token = token  # type: ignore[attr-defined]
    return schema


def test_the_api_keeps_its_openapi(api_schema):
    """Each operation, ~15 generated cases: valid and edge-case periods and staff numbers."""
    from hypothesis import given

    headers = {"Authorization": f"Bearer {api_schema.token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers)

        check()
