"""Issue 14, accounts and security, through the ASGI test client: sessions, roles, CSRF,
revocation, the login throttle, the audit and the security headers."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import PASSWORD, csrf_of, login


def test_every_page_needs_a_session_but_login_healthz_and_static(console):
    for path in ("/", "/devices", "/devices/x", "/punches", "/quarantine"):
        r = console.get(path)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}", path
    assert console.get("/healthz").text == "ok\n"
    assert console.get("/static/htmx.min.js").status_code == 200
    assert console.get("/login").status_code == 200
    # an htmx request is told where to go instead of being handed the login page as a fragment
    r = console.get("/punches", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"] == "/login?next=/punches"


def test_login_sets_a_strict_httponly_cookie_and_lands_on_next(console):
    r = login(console, "clerk1", next="/devices")
    assert r.status_code == 303 and r.headers["location"] == "/devices"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("attendd_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # no TLS here; under TLS create_app(secure_cookies=True)
    page = console.get("/")
    assert page.status_code == 200 and "clerk1" in page.text and "考勤机" in page.text


def test_next_never_leaves_the_site(console):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        console.cookies.clear()
        r = login(console, "viewer1", next=target)
        assert r.status_code == 303 and r.headers["location"] == "/", target


def test_a_wrong_password_and_an_unknown_user_read_the_same_and_are_audited(console):
    wrong = login(console, "clerk1", "not the password")
    nobody = login(console, "nobody", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in nobody.text
    assert "attendd_session" not in console.cookies
    events = [(e["event"], e["user_name"]) for e in console.accounts.events()]
    assert ("login_failed", "clerk1") in events and ("login_failed", "nobody") in events


def test_the_login_form_needs_its_csrf_cookie(console):
    console.get("/login")
    r = console.post("/login", data={"name": "clerk1", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and "attendd_session" not in console.cookies


def test_unsafe_requests_need_the_session_csrf_token(console):
    login(console, "clerk1")
    assert console.post("/logout").status_code == 403  # no token: refused, still signed in
    assert console.get("/").status_code == 200
    assert console.post("/logout", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    r = console.post("/logout", data={"csrf": csrf_of(console)})
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_logout_revokes_the_session_even_for_a_copied_cookie(console):
    login(console, "clerk1")
    stolen = console.cookies.get("attendd_session")
    console.post("/logout", headers={"X-CSRF-Token": csrf_of(console)})
    console.cookies.set("attendd_session", stolen)
    assert console.get("/").status_code == 303
    assert [e["event"] for e in console.accounts.events()][:2] == ["logout", "login"]


def test_removing_a_user_or_changing_the_password_ends_its_sessions_at_once(console):
    login(console, "clerk1")
    assert console.get("/").status_code == 200
    console.accounts.remove_user("clerk1", by="admin1", at=datetime(2026, 6, 30, tzinfo=UTC))
    assert console.get("/").status_code == 303
    console.cookies.clear()
    login(console, "viewer1")
    assert console.get("/").status_code == 200
    console.accounts.set_password("viewer1", "x", by="admin1", at=datetime(2026, 6, 30, tzinfo=UTC))
    assert console.get("/").status_code == 303


def test_sessions_expire(console, clock):
    login(console, "viewer1")
    clock.advance(hours=9, minutes=59)
    assert console.get("/").status_code == 200
    clock.advance(minutes=2)
    assert console.get("/").status_code == 303


def test_failed_logins_are_limited_per_account_then_429_even_with_the_right_password(console, clock):
    for _ in range(5):
        assert login(console, "clerk1", "wrong password!").status_code == 401
    r = login(console, "clerk1")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "attendd_session" not in console.cookies
    assert login(console, "viewer1").status_code == 303  # another account is not locked out
    clock.advance(minutes=15, seconds=1)
    assert login(console, "clerk1").status_code == 303


def test_failed_logins_are_limited_per_address(console):
    for i in range(20):
        assert login(console, f"guess{i}", "wrong password!").status_code == 401
    assert login(console, "clerk1").status_code == 429


def test_security_headers_on_every_response(console):
    for r in (console.get("/login"), console.get("/"), console.get("/healthz")):
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert console.get("/login").headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(console):
    import re

    login(console, "admin1")
    for path in ("/login", "/", "/devices", "/punches", "/quarantine"):
        html = console.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path  # no onclick= & co.


def test_passwords_are_argon2id_at_rfc_9106_parameters(monkeypatch):
    """The stored form is argon2id, 64 MiB, 3 passes, 4 lanes (argon2-cffi's RFC 9106 profile),
    whatever the tests' cheap hasher does; a hash of other parameters asks to be rehashed."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from daemon.web import passwords

    monkeypatch.undo()
    passwords._hasher.cache_clear()
    h = passwords.hash_password(PASSWORD)
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(h, PASSWORD) and not passwords.verify_password(h, PASSWORD + "x")
    assert not passwords.verify_password(None, PASSWORD)  # an unknown user never signs in
    assert passwords.needs_rehash(PasswordHasher.from_parameters(CHEAPEST).hash(PASSWORD))
    assert passwords.password_problem("clerk1", "short") == "a password needs at least 10 characters"
    assert passwords.password_problem("clerk1234567", "CLERK1234567") == "the password cannot be the user's name"


def test_roles_viewer_and_clerk_read_only_admins_see_the_accounts_and_their_audit(console):
    for name in ("viewer1", "clerk1"):
        console.cookies.clear()
        login(console, name)
        assert console.get("/").status_code == 200
        denied = console.get("/admin/users")
        assert denied.status_code == 403 and "管理员" in denied.text
        assert "/admin/users" not in console.get("/").text  # no link to what they may not open
    console.cookies.clear()
    login(console, "admin1")
    page = console.get("/admin/users")
    assert page.status_code == 200
    assert all(n in page.text for n in ("viewer1", "clerk1", "admin1"))
    assert page.text.count("登录") >= 3  # the three logins above are on the record
