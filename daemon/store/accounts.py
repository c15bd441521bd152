"""The web console's accounts in the local store: users, sessions, API tokens and the audit of them.

No secret is stored in the clear: a password as its argon2id hash (:mod:`daemon.web.passwords`),
a session or API token as the SHA-256 of the random token the browser or script holds (a token is
256 random bits, so a fast digest is enough; a stolen database yields no usable session).

Every change to an account and every login, failed login and logout is a row of ``auth_event``:
who, when, from where, what (SPEC: every change a person makes is on the record).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UtcDateTime
from .models import Base, _table
from .store import StoreError

ROLES = ("viewer", "clerk", "admin")


class WebUserRow(Base):
    """A console account: a name, a role and the argon2id hash of its password."""

    __tablename__ = "web_user"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class WebSessionRow(Base):
    """A signed-in browser: the digest of its cookie's token, whose it is, its CSRF token, until when."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user", "user_name"),)

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_utc: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """A read-only API token for another system (``attendd token add NAME``), kept as its digest."""

    __tablename__ = "api_token"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_utc: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AuthEventRow(Base):
    """The audit of accounts: logins (good and failed), logouts, users and tokens added or removed."""

    __tablename__ = "auth_event"
    __table_args__ = (Index("ix_auth_event_at", "at_utc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    event: Mapped[str] = mapped_column(String(32))  # login | login_failed | logout | user_add | …
    user_name: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))  # who did it: the user, an admin, "cli" (the shell's user)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


web_user_table = _table(WebUserRow)
web_session_table = _table(WebSessionRow)
api_token_table = _table(ApiTokenRow)
auth_event_table = _table(AuthEventRow)


def token_digest(token: str) -> str:
    """What the store keeps of a session or API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebUser:
    name: str
    role: str
    password_hash: str
    created_utc: datetime
    password_changed_utc: datetime


@dataclass(frozen=True)
class WebSession:
    user: WebUser
    csrf: str
    expires_utc: datetime


def _fail(what: str, exc: SQLAlchemyError) -> StoreError:
    return StoreError(f"cannot {what} in the local store: {type(exc).__name__}")


class Accounts:
    """The store's accounts API; every write is one transaction that also records its ``auth_event``."""

    def __init__(self, store) -> None:
        self._store = store

    # --- audit -----------------------------------------------------------------------------

    @staticmethod
    def _audit(conn, event: str, user: str, *, by: str, at: datetime, address: str = "", detail: str = "") -> None:
        conn.execute(
            insert(auth_event_table),
            {"at_utc": at, "event": event, "user_name": user, "by": by, "address": address[:64], "detail": detail},
        )

    def record(self, event: str, user: str, *, by: str, at: datetime, address: str = "", detail: str = "") -> None:
        """Record an event that changes nothing else (a failed login)."""
        try:
            with self._store.transaction() as conn:
                self._audit(conn, event, user, by=by, at=at, address=address, detail=detail)
        except SQLAlchemyError as exc:
            raise _fail("record an account event", exc) from None

    def events(self, *, limit: int = 200) -> list[dict]:
        t = auth_event_table
        with self._store.reading() as conn:
            rows = conn.execute(select(t).order_by(t.c.id.desc()).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    # --- users -----------------------------------------------------------------------------

    def user(self, name: str) -> WebUser | None:
        t = web_user_table
        with self._store.reading() as conn:
            row = conn.execute(select(t).where(t.c.name == name)).mappings().first()
        return None if row is None else WebUser(**row)

    def users(self) -> list[WebUser]:
        t = web_user_table
        with self._store.reading() as conn:
            return [WebUser(**r) for r in conn.execute(select(t).order_by(t.c.name)).mappings()]

    def add_user(self, name: str, role: str, password_hash: str, *, by: str, at: datetime) -> bool:
        """Add ``name``; False when it exists already (nothing changed)."""
        if role not in ROLES:
            raise ValueError(role)
        try:
            with self._store.transaction() as conn:
                if conn.scalar(select(web_user_table.c.name).where(web_user_table.c.name == name)) is not None:
                    return False
                conn.execute(
                    insert(web_user_table),
                    {
                        "name": name,
                        "role": role,
                        "password_hash": password_hash,
                        "created_utc": at,
                        "password_changed_utc": at,
                    },
                )
                self._audit(conn, "user_add", name, by=by, at=at, detail=f"role={role}")
        except SQLAlchemyError as exc:
            raise _fail("add a user", exc) from None
        return True

    def set_password(self, name: str, password_hash: str, *, by: str, at: datetime) -> bool:
        """Replace ``name``'s password and sign out all its sessions; False when there is no such user."""
        t = web_user_table
        try:
            with self._store.transaction() as conn:
                done = conn.execute(
                    update(t).where(t.c.name == name).values(password_hash=password_hash, password_changed_utc=at)
                ).rowcount
                if not done:
                    return False
                conn.execute(delete(web_session_table).where(web_session_table.c.user_name == name))
                self._audit(conn, "user_passwd", name, by=by, at=at)
        except SQLAlchemyError as exc:
            raise _fail("change a password", exc) from None
        return True

    def rehash(self, name: str, password_hash: str) -> None:
        """Store a stronger hash of the same password (the hasher's parameters were raised)."""
        t = web_user_table
        with self._store.transaction() as conn:
            conn.execute(update(t).where(t.c.name == name).values(password_hash=password_hash))

    def remove_user(self, name: str, *, by: str, at: datetime) -> bool:
        """Remove ``name`` and revoke its sessions at once; False when there is no such user."""
        try:
            with self._store.transaction() as conn:
                done = conn.execute(delete(web_user_table).where(web_user_table.c.name == name)).rowcount
                if not done:
                    return False
                conn.execute(delete(web_session_table).where(web_session_table.c.user_name == name))
                self._audit(conn, "user_remove", name, by=by, at=at)
        except SQLAlchemyError as exc:
            raise _fail("remove a user", exc) from None
        return True

    # --- sessions --------------------------------------------------------------------------

    def open_session(self, token: str, user: str, csrf: str, *, address: str, at: datetime, expires: datetime) -> None:
        """A successful login: the session row and its ``login`` event, in one transaction."""
        t = web_session_table
        try:
            with self._store.transaction() as conn:
                conn.execute(delete(t).where(t.c.expires_utc <= at))  # forget expired sessions as we go
                conn.execute(
                    insert(t),
                    {
                        "token_sha256": token_digest(token),
                        "user_name": user,
                        "csrf": csrf,
                        "address": address[:64],
                        "created_utc": at,
                        "expires_utc": expires,
                    },
                )
                self._audit(conn, "login", user, by=user, at=at, address=address)
        except SQLAlchemyError as exc:
            raise _fail("open a session", exc) from None

    def session(self, token: str, *, now: datetime) -> WebSession | None:
        """The live session of ``token`` with its user, or None (unknown, expired, or its user removed)."""
        s, u = web_session_table, web_user_table
        with self._store.reading() as conn:
            row = (
                conn.execute(
                    select(s.c.csrf, s.c.expires_utc, u)
                    .join(u, u.c.name == s.c.user_name)
                    .where(s.c.token_sha256 == token_digest(token), s.c.expires_utc > now)
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        data = dict(row)
        return WebSession(
            WebUser(**{k: data[k] for k in ("name", "role", "password_hash", "created_utc", "password_changed_utc")}),
            data["csrf"],
            data["expires_utc"],
        )

    def close_session(self, token: str, *, address: str, at: datetime) -> None:
        """Logout: the session is gone at once, the ``logout`` is recorded."""
        t = web_session_table
        with self._store.transaction() as conn:
            name = conn.scalar(select(t.c.user_name).where(t.c.token_sha256 == token_digest(token)))
            if name is None:
                return
            conn.execute(delete(t).where(t.c.token_sha256 == token_digest(token)))
            self._audit(conn, "logout", name, by=name, at=at, address=address)

    def session_count(self, user: str) -> int:
        t = web_session_table
        with self._store.reading() as conn:
            return len(conn.execute(select(t.c.token_sha256).where(t.c.user_name == user)).all())

    # --- API tokens ------------------------------------------------------------------------

    def add_token(self, name: str, token: str, *, by: str, at: datetime) -> bool:
        t = api_token_table
        try:
            with self._store.transaction() as conn:
                if conn.scalar(select(t.c.name).where(t.c.name == name)) is not None:
                    return False
                conn.execute(insert(t), {"name": name, "token_sha256": token_digest(token), "created_utc": at})
                self._audit(conn, "token_add", name, by=by, at=at)
        except SQLAlchemyError as exc:
            raise _fail("add a token", exc) from None
        return True

    def remove_token(self, name: str, *, by: str, at: datetime) -> bool:
        t = api_token_table
        with self._store.transaction() as conn:
            done = conn.execute(delete(t).where(t.c.name == name)).rowcount
            if done:
                self._audit(conn, "token_remove", name, by=by, at=at)
        return bool(done)

    def tokens(self) -> list[dict]:
        t = api_token_table
        with self._store.reading() as conn:
            rows = conn.execute(select(t.c.name, t.c.created_utc, t.c.last_used_utc).order_by(t.c.name)).mappings()
            return [dict(r) for r in rows]

    def token_name(self, token: str, *, now: datetime) -> str | None:
        """The name of the API token ``token``, or None; notes its last use."""
        t = api_token_table
        digest = token_digest(token)
        with self._store.transaction() as conn:
            name = conn.scalar(select(t.c.name).where(t.c.token_sha256 == digest))
            if name is not None:
                conn.execute(update(t).where(t.c.token_sha256 == digest).values(last_used_utc=now))
        return name
