"""The web console: a FastAPI app rendering Jinja2 pages on the server, htmx for partial updates.

:func:`create_app` builds it around a store, a config and a clock; ``attendd web`` serves it
alone, ``attendd run`` beside the daemon when ``[web] listen`` is set. Everything it serves comes
from this package (templates, ``static/`` with the vendored htmx): the centre's LAN has no CDN.

Security in one place (see :mod:`.auth`): every page but ``/login``, ``/healthz`` and
``/static`` needs a session; every unsafe request its CSRF token; every response the headers
below (a Content-Security-Policy without inline script or style, no framing, no sniffing, no
caching of pages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from .. import __version__
from ..clock import Clock, site_time, system_clock
from ..store.accounts import Accounts
from . import auth
from .auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, CsrfFailed, Forbidden, LoginRequired, Visitor
from .passwords import hash_password, needs_rehash, verify_password
from .throttle import LoginThrottle
from .views import TtlCache

HERE = Path(__file__).parent
ROLE_WORDS = {"viewer": "查看", "clerk": "考勤员", "admin": "管理员"}

#: The account events (``auth_event``) in the clerk's words.
EVENT_WORDS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "user_add": "新建账号",
    "user_passwd": "修改密码",
    "user_remove": "删除账号",
    "token_add": "新建接口令牌",
    "token_remove": "吊销接口令牌",
}

SECURITY_HEADERS = {
    # No inline script or style anywhere: htmx's own indicator style is turned off (htmx-config).
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass
class Console:
    """What every route needs: the store and its accounts, the config, the clock, the login throttle."""

    store: Any
    config: Any
    clock: Clock
    accounts: Accounts
    throttle: LoginThrottle
    secure_cookies: bool = False
    scheduler_alive: Callable[[], bool] | None = None
    templates: Jinja2Templates = field(default_factory=lambda: _templates())
    cache: TtlCache = field(default_factory=TtlCache)

    @property
    def tz(self):
        return self.config.site.tz

    def this_month(self) -> str:
        return site_time(self.clock(), self.tz).strftime("%Y-%m")

    def local(self, t: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "" if t is None else site_time(t, self.tz).strftime(fmt)


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.globals["version"] = __version__
    t.env.globals["role_words"] = ROLE_WORDS
    t.env.globals["event_words"] = EVENT_WORDS
    t.env.globals["job_words"] = {"pull": "拉取打卡", "close": "月度结账", "week": "周报", "drain": "推送考核库"}
    return t


def console_of(request: Request) -> Console:
    return request.app.state.console


async def visitor(request: Request) -> Visitor:
    """The signed-in user (any role), CSRF checked for unsafe methods; else :class:`LoginRequired`."""
    c = console_of(request)
    s = auth.session_of(request, c.accounts, c.clock())
    if s is None:
        raise LoginRequired()
    await auth.check_csrf(request, s.csrf)
    return Visitor(s.user, s.csrf, s)


def needs(role: str) -> Callable[..., Any]:
    async def dependency(v: Visitor = Depends(visitor)) -> Visitor:
        if not auth.role_at_least(v.user.role, role):
            raise Forbidden(role)
        return v

    return dependency


def fields(**limits: int) -> Callable[..., Any]:
    """A dependency: the request's form fields (or, for GET, its query parameters) ``name`` →
    stripped text of at most ``limits[name]`` characters (missing: ""). A list field is asked for
    with a negative limit (``ids=-20``: the values of every ``ids``, each at most 20 characters).
    Longer input is refused (400): anything from the network is bounded."""

    async def dependency(request: Request) -> dict[str, Any]:
        source = await request.form() if request.method == "POST" else request.query_params
        out: dict[str, Any] = {}
        for name, limit in limits.items():
            values = [v for v in source.getlist(name) if isinstance(v, str)]
            if any(len(v) > abs(limit) for v in values):
                raise HTTPException(400, f"{name}: longer than {abs(limit)} characters")
            out[name] = [v.strip() for v in values] if limit < 0 else (values[0].strip() if values else "")
        return out

    return dependency


def page(request: Request, name: str, v: Visitor | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    c = console_of(request)
    return c.templates.TemplateResponse(
        request,
        name,
        {"visitor": v, "site": c.config.site, "local": c.local, "this_month": c.this_month(), **context},
        status_code=status_code,
    )


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/metrics"  # machines: 401, not a redirect


def create_app(
    store,
    config,
    *,
    clock: Clock = system_clock,
    secure_cookies: bool = False,
    scheduler_alive: Callable[[], bool] | None = None,
    throttle: LoginThrottle | None = None,
    metrics_from: Sequence[str] | None = None,
) -> FastAPI:
    """The console app. ``secure_cookies`` under TLS; ``scheduler_alive`` inside ``attendd run``;
    ``metrics_from``: the networks that may read ``/metrics`` without a session (default loopback)."""
    app = FastAPI(
        title="attendd",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.console = Console(
        store=store,
        config=config,
        clock=clock,
        accounts=Accounts(store),
        throttle=throttle or LoginThrottle(clock),
        secure_cookies=secure_cookies,
        scheduler_alive=scheduler_alive,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not signed in"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = "/login?next=" + request.url.path
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": f"needs the role {exc.needed}"}, status_code=403)
        return page(request, "error.j2", None, 403, message=f"此页面需要“{ROLE_WORDS[exc.needed]}”及以上权限。")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
        return page(request, "error.j2", None, 403, message="表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")

    _login_routes(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> Response:
        c = console_of(request)
        try:
            with c.store.reading() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure of the store is "not healthy"
            return PlainTextResponse(f"store: {type(exc).__name__}\n", status_code=503)
        if c.scheduler_alive is not None and not c.scheduler_alive():
            return PlainTextResponse("scheduler: stopped\n", status_code=503)
        return PlainTextResponse("ok\n")

    from . import api, appeals, audit, corrections, metrics, pages, periods, quarantine, records, results

    pages.register(app)
    results.register(app)
    corrections.register(app)  # 补签: the clerk's corrections (issue 15)
    periods.register(app)  # evaluate, close, reopen, publish (issue 15)
    audit.register(app)  # /audit: every change on the record (issue 15)
    appeals.register(app)  # /appeals: 申诉 filed and decided (issue 15)
    quarantine.register(app)  # release (re-dated) or dismiss quarantined records (issue 15)
    records.register(app)  # the clerk's records: list and upload (issue 15)
    api.register(app)
    metrics.register(app, metrics.networks(metrics_from or metrics.DEFAULT_METRICS_FROM))
    return app


def _login_routes(app: FastAPI) -> None:
    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> Response:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_token()
        response = page(request, "login.j2", None, login_csrf=token, next=auth.safe_next(next), error=None)
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
        return response

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        name: str = Form("", max_length=64),
        password: str = Form("", max_length=1024),
        csrf: str = Form("", max_length=128),
        next: str = Form("/", max_length=512),
    ) -> Response:
        c = console_of(request)
        address = auth.client_address(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        if expected is None or not auth.same_token(csrf, expected):
            raise CsrfFailed()
        name = name.strip()
        wait = c.throttle.retry_after(name, address)
        if wait is not None:
            response = page(
                request,
                "login.j2",
                None,
                429,
                login_csrf=expected,
                next=auth.safe_next(next),
                error=f"登录失败次数过多，请 {max(1, (wait + 59) // 60)} 分钟后再试。",
            )
            response.headers["Retry-After"] = str(wait)
            return response
        user = c.accounts.user(name) if name else None
        now = c.clock()
        if not verify_password(user.password_hash if user else None, password) or user is None:
            c.throttle.failed(name, address)
            c.accounts.record("login_failed", name[:64] or "(empty)", by=name[:64], at=now, address=address)
            return page(
                request,
                "login.j2",
                None,
                401,
                login_csrf=expected,
                next=auth.safe_next(next),
                error="用户名或密码错误。",
            )
        c.throttle.succeeded(name)
        if needs_rehash(user.password_hash):
            c.accounts.rehash(user.name, hash_password(password))
        token = auth.new_token()
        c.accounts.open_session(
            token, user.name, auth.new_token(), address=address, at=now, expires=now + auth.SESSION_LIFETIME
        )
        landing = RedirectResponse(auth.safe_next(next), status_code=303)
        _set_cookie(request, landing, SESSION_COOKIE, token, max_age=int(auth.SESSION_LIFETIME.total_seconds()))
        landing.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return landing

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, v: Visitor = Depends(visitor)) -> Response:
        c = console_of(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        c.accounts.close_session(token, address=auth.client_address(request), at=c.clock())
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=console_of(request).secure_cookies,
    )
