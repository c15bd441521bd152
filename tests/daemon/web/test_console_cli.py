"""Issue 14 through the command line: accounts and tokens (`attendd user`, `attendd token`),
`attendd explain`, `attendd web`, and the console inside `attendd run`."""

from __future__ import annotations

import io
import json
import signal
import urllib.request
from datetime import date

import pytest
from conftest import PASSWORD
from helpers import (
    assert_clean_failure,
    fill,
    free_port,
    notified_daemon,
    run_cli,
    self_signed_cert,
    spawn,
    wait_for,
    write_centre,
)


def _with_stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


@pytest.fixture
def centre(tmp_path):
    return write_centre(tmp_path, scoring_url=f"sqlite:///{tmp_path / 'scoring.db'}")


def test_accounts_are_made_on_the_server_and_on_the_record(centre, monkeypatch):
    cfg = str(centre)
    _with_stdin(monkeypatch, f"{PASSWORD}\n")
    added = run_cli("--config", cfg, "user", "add", "王芳", "--role", "clerk", "--password-stdin")
    assert added.returncode == 0 and added.stdout.strip() == "user 王芳 added (clerk)"
    _with_stdin(monkeypatch, f"{PASSWORD}\n")
    again = run_cli("--config", cfg, "user", "add", "王芳", "--role", "admin", "--password-stdin")
    assert again.returncode == 2 and "exists already" in again.stderr
    _with_stdin(monkeypatch, "short\n")
    weak = run_cli("--config", cfg, "user", "add", "李明", "--role", "viewer", "--password-stdin")
    assert weak.returncode == 2 and weak.stderr.strip().endswith("at least 10 characters; nothing changed")
    listed = run_cli("--config", cfg, "user", "list")
    assert "王芳" in listed.stdout and "clerk" in listed.stdout and "李明" not in listed.stdout
    assert PASSWORD not in listed.stdout + added.stdout + added.stderr  # the password is never shown
    _with_stdin(monkeypatch, f"{PASSWORD} new\n")
    assert run_cli("--config", cfg, "user", "passwd", "王芳", "--password-stdin").returncode == 0
    gone = run_cli("--config", cfg, "user", "remove", "nobody")
    assert gone.returncode == 2 and gone.stderr.strip() == "attendd: user nobody: no such user"
    assert run_cli("--config", cfg, "user", "remove", "王芳").returncode == 0

    from daemon.config import load_config
    from daemon.store import Accounts, open_store

    store = open_store(load_config(centre).store.url, timezone="Asia/Shanghai")
    events = [(e["event"], e["user_name"]) for e in Accounts(store).events()]
    assert events == [("user_remove", "王芳"), ("user_passwd", "王芳"), ("user_add", "王芳")]
    assert all(e["by"].startswith("cli:") for e in Accounts(store).events())
    store.close()


def test_a_token_is_shown_once_and_kept_as_its_digest(centre):
    cfg = str(centre)
    made = run_cli("--config", cfg, "token", "add", "scoring-system")
    assert made.returncode == 0
    token = made.stdout.strip().split(": ", 1)[1]
    assert len(token) >= 40
    listed = run_cli("--config", cfg, "token", "list")
    assert "scoring-system" in listed.stdout and token not in listed.stdout

    from daemon.config import load_config
    from daemon.store import open_store

    store = open_store(load_config(centre).store.url, timezone="Asia/Shanghai")
    with store.reading() as conn:
        stored = conn.exec_driver_sql("SELECT token_sha256 FROM api_token").scalar()
    assert stored != token and len(stored) == 64
    store.close()
    assert run_cli("--config", cfg, "token", "remove", "scoring-system").returncode == 0
    assert run_cli("--config", cfg, "token", "remove", "scoring-system").returncode == 2


def test_the_commands_need_a_config_file(tmp_path):
    for args in (("user", "list"), ("token", "list"), ("explain", "--staff", "1", "--period", "2026-03"), ("web",)):
        proc = run_cli(*args)
        assert proc.returncode == 2 and proc.stderr.startswith("attendd: no config file found"), args


def test_explain_prints_the_late_day_with_its_clause(centre):
    from daemon.config import load_config
    from daemon.store import open_store

    store = open_store(load_config(centre).store.url, timezone="Asia/Shanghai")
    fill(store, late_on=date(2026, 3, 3))
    store.close()
    table = run_cli("--config", str(centre), "explain", "--staff", "2", "--period", "2026-03")
    assert table.returncode == 0, table.stderr
    assert "迟到 20 分钟" in table.stdout and "09:20:00" in table.stdout and "得分 22 / 25" in table.stdout
    as_json = json.loads(
        run_cli("--config", str(centre), "explain", "--staff", "2", "--period", "2026-03", "--format", "json").stdout
    )
    day = next(d for d in as_json["days"] if d["day"] == "2026-03-03")
    assert day["deductions"][0]["rule"] == "late" and day["deductions"][0]["points"] == 3
    nobody = run_cli("--config", str(centre), "explain", "--staff", "999", "--period", "2026-03")
    assert nobody.returncode == 2 and nobody.stderr.strip() == "attendd: staff '999': not in the roster"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_attendd_web_serves_until_sigterm_and_a_port_in_use_is_one_line(centre):
    port = free_port()
    proc = spawn("web", "--listen", f"127.0.0.1:{port}", config=centre)
    try:
        line = wait_for(lambda: proc.stdout.readline(), "the console's address", proc=proc)
        assert line.strip() == f"web console on http://127.0.0.1:{port} (stop with Ctrl-C)"
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
        status, body = _get(f"http://127.0.0.1:{port}/login")
        assert status == 200 and "登录" in body
        second = spawn("web", "--listen", f"127.0.0.1:{port}", config=centre)
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 1 and err.strip().startswith(
            f"attendd: web console: cannot listen on 127.0.0.1:{port}"
        )
        assert "Traceback" not in err
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_attendd_run_serves_the_console_when_web_listen_is_set(tmp_path):
    port = free_port()
    cfg = write_centre(
        tmp_path,
        scoring_url=f"sqlite:///{tmp_path / 'scoring.db'}",
        extra=f'[web]\nlisten = "127.0.0.1:{port}"\n',
    )
    assert run_cli("--config", str(cfg), "db", "upgrade").returncode == 0
    with notified_daemon(cfg, tmp_path) as (proc, _sock):
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")  # the store answers, the scheduler runs
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err
    assert_clean_failure(run_cli("--config", str(cfg), "web", "--listen", "nowhere"), 2)


def test_under_tls_the_console_is_https_and_its_cookies_are_secure(tmp_path, monkeypatch):
    """``[web] tls_cert`` / ``tls_key``: the console speaks HTTPS only, and its cookies carry Secure."""
    import httpx

    cert, key = self_signed_cert(tmp_path)
    port = free_port()
    cfg = write_centre(tmp_path, extra=f'[web]\nlisten = "127.0.0.1:{port}"\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    assert run_cli("--config", str(cfg), "user", "add", "王芳", "--role", "clerk", "--password-stdin").returncode == 0
    proc = spawn("web", config=cfg)
    try:
        line = wait_for(lambda: proc.stdout.readline(), "the console's address", proc=proc)
        assert line.startswith(f"web console on https://127.0.0.1:{port}")
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=False) as client:
            assert client.get("/healthz").text == "ok\n"
            form = client.get("/login")
            assert "Secure" in form.headers["set-cookie"]
            r = client.post(
                "/login",
                data={"name": "王芳", "password": PASSWORD, "csrf": client.cookies["attendd_login_csrf"], "next": "/"},
            )
            session = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "attendd_session=" in v)
            assert r.status_code == 303 and "Secure" in session and "HttpOnly" in session
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)  # plain HTTP is not served
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
