"""Who is asking: the session cookie, the CSRF token, roles, and API bearer tokens.

- A page needs a live session (:func:`page_user`): without one, a browser is sent to ``/login``
  (303), an API client gets 401. ``/login``, ``/healthz`` and ``/static`` are the only open paths.
- The session cookie (``attendd_session``) holds 256 random bits; the store keeps their digest
  (:mod:`daemon.store.accounts`). HttpOnly, SameSite=Strict, Path=/, Secure under TLS.
  Logout, a password change and ``attendd user remove`` delete the session row, so the cookie is
  dead at once, on every worker.
- Every unsafe request (POST, PUT, PATCH, DELETE) carries the session's CSRF token, as the form
  field ``csrf`` or the header ``X-CSRF-Token`` (what htmx sends: ``hx-headers`` on ``<body>``),
  compared in constant time. SameSite=Strict already keeps other sites' forms out; the token
  keeps out what SameSite does not cover (an old browser, a sibling host on the same site).
- Roles rank viewer < clerk < admin: a route names the least role it needs.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request

from ..store.accounts import ROLES, Accounts, WebSession, WebUser

SESSION_COOKIE = "attendd_session"
LOGIN_CSRF_COOKIE = "attendd_login_csrf"
#: A session lasts a working day; then the clerk signs in again.
SESSION_LIFETIME = timedelta(hours=10)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No live session: a page redirects to /login, the API answers 401."""


class Forbidden(Exception):
    """A live session whose role is below what the route needs (403)."""

    def __init__(self, needed: str) -> None:
        super().__init__(needed)
        self.needed = needed


class CsrfFailed(Exception):
    """An unsafe request without the session's CSRF token (403)."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def safe_next(target: str | None) -> str:
    """Where to go after the login: only a path of this site (no ``//host``, no scheme)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@dataclass
class Visitor:
    """The signed-in user of one request, with the session's CSRF token for the page's forms."""

    user: WebUser
    csrf: str
    session: WebSession


def session_of(request: Request, accounts: Accounts, now: datetime) -> WebSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        return None
    return accounts.session(token, now=now)


async def check_csrf(request: Request, expected: str) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not same_token(given, expected):
        raise CsrfFailed()
