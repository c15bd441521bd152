"""Password hashing for console accounts: argon2id (argon2-cffi), and a verify that takes as long
for an unknown user as for a known one.

The hasher's parameters are argon2-cffi's defaults (RFC 9106's second recommended option:
argon2id, 64 MiB, 3 passes, 4 lanes). When a later release raises them, a login with the old
hash still succeeds and tells the caller to store a fresh one (:func:`needs_rehash`).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: The shortest password the console accepts (a site's policy may want more; none wants less).
MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing a megabyte of "password" is a denial of service, not a password


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so that "no such user" and "wrong password"
    # take the same time and an attacker cannot list the accounts by timing the login.
    return _hasher().hash("attendd: no such user")


def password_problem(name: str, password: str) -> str | None:
    """Why ``password`` cannot be ``name``'s password, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if password.strip().lower() == name.strip().lower():
        return "the password cannot be the user's name"
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; with ``stored_hash`` None (no such user) it
    does the same work and answers False."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]  # still verify (same time), but never hash a huge body
    try:
        return _hasher().verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)
