"""A console over a private SQLite store with a two-window centre and one user per role."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from helpers import write_centre

#: Every test user's password (long enough for the console's policy).
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2id at its cheapest parameters, so that a test's dozens of logins take milliseconds
    (the real parameters are checked once, in test_console_auth)."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from daemon.web import passwords

    cheap = PasswordHasher.from_parameters(CHEAPEST)
    monkeypatch.setattr(passwords, "_hasher", lambda: cheap)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


@contextmanager
def console_for(tmp_path, clock, **centre):
    """A test client of the console over a fresh store, ``centre`` passed to ``write_centre``."""
    from fastapi.testclient import TestClient

    from daemon.config import load_config
    from daemon.store import Accounts, open_store
    from daemon.web import create_app
    from daemon.web.passwords import hash_password

    config = load_config(write_centre(tmp_path, **centre))
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    accounts = Accounts(store)
    hashed = hash_password(PASSWORD)
    for name, role in (("viewer1", "viewer"), ("clerk1", "clerk"), ("admin1", "admin")):
        accounts.add_user(name, role, hashed, by="test", at=datetime(2026, 3, 1, tzinfo=UTC))
    app = create_app(store, config, clock=clock)
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            client.store = store  # type: ignore[attr-defined]
            client.accounts = accounts  # type: ignore[attr-defined]
            yield client
    finally:
        store.close()


@pytest.fixture
def console(tmp_path, clock):
    with console_for(tmp_path, clock) as client:
        yield client


def login(client, name: str, password: str = PASSWORD, *, next: str = "/"):
    """Open /login (which sets the login CSRF cookie), post the form; the response."""
    form = client.get("/login")
    token = client.cookies.get("attendd_login_csrf")
    assert form.status_code == 200 and token
    return client.post("/login", data={"name": name, "password": password, "csrf": token, "next": next})


def csrf_of(client) -> str:
    """The session's CSRF token, as the page's <body hx-headers> carries it."""
    import re

    page = client.get("/devices")
    m = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert m, page.text[:500]
    return m.group(1)
