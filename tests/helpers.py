"""What the tests share: the ``attendd`` command in a subprocess or in this process, a free port,
the test servers' URLs, and the config files most tests write.

``pyproject.toml`` puts ``tests/`` on ``sys.path`` (``pythonpath``), so a test imports these as
``from helpers import …`` whatever pytest's import mode. Fixtures stay in ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")

# --- the real database servers (CONTRIBUTING.md): PostgreSQL and MariaDB ------------------------

PG_URL = os.environ.get("ATTENDD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("ATTENDD_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
CI = os.environ.get("CI", "").lower() == "true"


def server_engine(url: str, what: str):
    """An AUTOCOMMIT admin engine on a test server; under CI an unreachable server
    fails the test, elsewhere it skips with the reason."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    engine = create_engine(url, connect_args={"connect_timeout": 3}, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to connect means the same here
        engine.dispose()
        reason = (
            f"{what} at {make_url(url).render_as_string(hide_password=True)} is unreachable: {str(exc).splitlines()[0]}"
        )
        if CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return engine


def utc(y, m, d, hh=0, mm=0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(UTC)


def put_roster(store, people: Iterable[tuple[str, str, str, str]], *, now_utc: datetime) -> None:
    """Put a roster of ``(staff_no, name, window_code, role)``, all active throughout, none exempt."""
    from daemon.store import put_records

    put_records(
        store,
        "roster",
        [
            {
                "staff_no": no,
                "name": name,
                "window_code": w,
                "role": role,
                "active_from": None,
                "active_to": None,
                "exempt": False,
            }
            for no, name, w, role in people
        ],
        now_utc=now_utc,
    )


def push_march(db, snap, **kw) -> None:
    """Push a snapshot's rows for the month 2026-03 into the scoring DB ``db``; ``kw`` are the
    rest of ``push_period``'s arguments (rules_version, computed_at, run_id, …)."""
    db.push_period(
        period_kind="month",
        period_key="2026-03",
        start=date(2026, 3, 1),
        end=date(2026, 4, 1),
        staff_days=snap.rows["staff_days"],
        staff_periods=snap.rows["staff_periods"],
        window_periods=snap.rows["window_periods"],
        deductions=snap.rows["deductions"],
        **kw,
    )


def leave_l1() -> dict:
    """Staff 4's day of personal leave on 2026-03-04 (ref L1), a fresh copy."""
    return {
        "ref": "L1",
        "staff_no": "4",
        "kind": "personal",
        "note": "",
        "start": datetime(2026, 3, 4, 8),
        "end": datetime(2026, 3, 4, 18),
    }


def fill(store, month: str = "2026-03", late_on: date | None = None):
    """The standard centre's store (:data:`TWO_WINDOWS`): a roster of four, a month of punches
    (``late_on``: staff 2 late that morning), a leave."""
    from daemon.store import put_records
    from drivers import Punch
    from rules import WorkCalendar, parse_period

    calendar = WorkCalendar()
    stamp = datetime(2026, 4, 1, tzinfo=UTC)
    put_roster(
        store,
        (
            ("1", "甲", "gongan", "chief"),
            ("2", "乙", "gongan", "staff"),
            ("3", "丙", "shuiwu", "chief"),
            ("4", "丁", "shuiwu", "staff"),
        ),
        now_utc=stamp,
    )
    p = parse_period(month)
    punches = []
    for d in p.days():
        if not calendar.is_workday(d):
            continue
        for no in "1234":
            for hhmm in ("08:50", "12:01", "12:55", "17:05"):
                h, m = map(int, hhmm.split(":"))
                if no == "2" and d == late_on and hhmm == "08:50":
                    h, m = 9, 20
                punches.append(Punch(no, datetime.combine(d, day_time(h, m))))
    store.save_punches(
        device_name="hall", device_serial="S1", source="zk", punches=punches, quarantined=[], now_utc=stamp
    )
    put_records(
        store,
        "leaves",
        [leave_l1()],
        now_utc=stamp,
    )


# --- the command line ---------------------------------------------------------------------------


def _command(args: tuple[str, ...], config: Path | str | None) -> list[str]:
    return [sys.executable, "-m", "daemon", *(("--config", str(config)) if config is not None else ()), *args]


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}


def attendd(
    *args: str,
    config: Path | str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``attendd [--config CONFIG] ARGS`` in a new interpreter (this checkout's code), text output.

    For what only a process shows: signals, exit codes, a daemon running, start-up. Tests of what a
    command prints and stores use :func:`run_cli`, a second faster per call.
    """
    return subprocess.run(
        _command(args, config), capture_output=True, text=True, cwd=cwd or ROOT, env=_env(env), timeout=timeout
    )


def spawn(
    *args: str,
    config: Path | str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text: bool = True,
) -> subprocess.Popen:
    """``attendd [--config CONFIG] ARGS`` started in the background (the caller stops it)."""
    return subprocess.Popen(
        _command(args, config), stdout=stdout, stderr=stderr, text=text, cwd=cwd or ROOT, env=_env(env)
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``attendd ARGS`` run in this process, as a :class:`subprocess.CompletedProcess`.

    For tests of what a command prints and stores; a new interpreter per call costs about a
    second of imports, so the process-level tests (signals, a daemon running, a real
    terminal's output) keep ``subprocess``. An exception a user mistake should not cause
    propagates and fails the test, as a traceback would.
    """
    import contextlib
    import io

    from daemon.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["attendd", *args], code, out.getvalue(), err.getvalue())


def assert_clean_failure(proc: subprocess.CompletedProcess, code: int) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_until_closed(s: socket.socket) -> bytes:
    """All that ``s`` receives until the peer closes it (or a timeout or reset ends it)."""
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def wait_for(
    condition: Callable[[], object],
    what: str,
    *,
    proc: subprocess.Popen | None = None,
    timeout: float = 60,
    poll: float = 0.005,
):
    """Poll until ``condition()`` is truthy and return it; fail if ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            _out, err = proc.communicate()
            tail = (err.decode("utf-8", "replace") if isinstance(err, bytes) else err or "")[-2000:]
            pytest.fail(f"the process exited ({proc.returncode}) before {what}: {tail}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(poll)


@contextmanager
def notified_daemon(cfg: Path, tmp_path: Path):
    """``attendd run`` with a systemd notify socket, up to its READY=1: yields (process, socket).

    The caller signals it and reads what it wants; a daemon still running at the end is killed.
    """
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(60)
        proc = spawn("--log-format", "json", "run", config=cfg, env={"NOTIFY_SOCKET": str(path)})
        try:
            assert sock.recv(200).startswith(b"READY=1")
            yield proc, sock
        finally:
            if proc.poll() is None:
                proc.kill()


def sigkill(proc: subprocess.Popen) -> int:
    """SIGKILL ``proc`` and wait for it; returns its exit status (-9 when the signal killed it)."""
    proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=30)


# --- config files ---------------------------------------------------------------------------------


def standard_slots() -> list[dict]:
    """config.example.toml's standard four-slot day (SPEC §4.5), a fresh copy."""
    return [
        {"name": "am_in", "kind": "in", "at": "09:00", "accept": ["07:00", "10:30"]},
        {"name": "am_out", "kind": "out", "at": "12:00", "accept": ["11:00", "12:29"]},
        {"name": "pm_in", "kind": "in", "at": "13:00", "accept": ["12:30", "15:00"]},
        {"name": "pm_out", "kind": "out", "at": "17:00", "accept": ["16:00", "20:00"]},
    ]


def timetable_toml(name: str = "standard", slots: Iterable[Mapping] | None = None) -> str:
    """``[timetables.NAME]`` with ``slots`` (default: :func:`standard_slots`) as TOML."""
    lines = ",\n".join(
        f'  {{ name = "{s["name"]}", kind = "{s["kind"]}", at = "{s["at"]}", accept = {json.dumps(s["accept"])} }}'
        for s in (standard_slots() if slots is None else slots)
    )
    return f"[timetables.{name}]\nslots = [\n{lines},\n]\n"


#: (code, name, policy) of the two windows most tests use.
TWO_WINDOWS = (("gongan", "公安窗口", "hall"), ("shuiwu", "税务窗口", "hall"))


def centre_toml(
    tmp_path: Path,
    *,
    site: str = "测试中心",
    timezone: str | None = "Asia/Shanghai",
    since: str | None = None,
    scoring_url: str | None = None,
    schema: str | None = None,
    policies: Mapping[str, str] | None = None,
    windows: Iterable[tuple[str, str, str]] = TWO_WINDOWS,
    window_extra: str = "",
    extra: str = "",
) -> str:
    """A centre's config: ``[site]``, the store in ``tmp_path``, ``[scoring]`` if given, the
    standard timetable, ``policies`` (name → preset; default hall → luoshan) and ``windows`` on it.

    ``since`` is TOML as written (``2026-03-01`` a date, ``"2026-03-01"`` a string);
    ``window_extra`` is added to every window, ``extra`` (more tables) at the end.
    """
    text = f'[site]\nname = "{site}"\n'
    if timezone is not None:
        text += f'timezone = "{timezone}"\n'
    if since is not None:
        text += f"since = {since}\n"
    text += f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
    if scoring_url is not None:
        text += f'[scoring]\nurl = "{scoring_url}"\n' + (f'schema = "{schema}"\n' if schema else "")
    text += timetable_toml()
    for name, preset in (policies or {"hall": "luoshan"}).items():
        text += f'[policies.{name}]\npreset = "{preset}"\n'
    for code, name, policy in windows:
        text += f'[[windows]]\ncode = "{code}"\nname = "{name}"\ntimetable = "standard"\npolicy = "{policy}"\n'
        text += window_extra
    return text + extra


def write_centre(tmp_path: Path, **kw) -> Path:
    """:func:`centre_toml` written to ``tmp_path / "attendd.toml"``."""
    path = tmp_path / "attendd.toml"
    path.write_text(centre_toml(tmp_path, **kw), encoding="utf-8")
    return path


def write_devices_config(tmp_path: Path, devices: list[dict]) -> Path:
    """A site with only a store and these zk terminals on loopback (keys as in ``[[devices]]``)."""
    parts = [
        '[site]\nname = "测试中心"\ntimezone = "Asia/Shanghai"\n',
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n',
    ]
    for d in devices:
        body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items())
        parts.append(f'[[devices]]\ndriver = "zk"\nhost = "127.0.0.1"\ntimeout = 2\n{body}\n')
    path = tmp_path / "attendd.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_store_config(
    tmp_path: Path, extra: str = "", *, site: str = "x", timezone: str | None = "Asia/Shanghai", db: str = "store.db"
) -> Path:
    """``[site]`` and a store in ``tmp_path`` (``db``), then ``extra`` TOML, as ``attendd.toml``."""
    path = tmp_path / "attendd.toml"
    head = f'[site]\nname = "{site}"\n' + (f'timezone = "{timezone}"\n' if timezone else "")
    path.write_text(head + f'[store]\nurl = "sqlite:///{tmp_path / db}"\n' + extra, encoding="utf-8")
    return path


def write_toml(tmp_path: Path, text: str) -> Path:
    """``text``, dedented, as ``tmp_path / "attendd.toml"``."""
    import textwrap

    path = tmp_path / "attendd.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_problems(tmp_path: Path, text: str) -> list[str]:
    """The problems load_config reports for ``text``, without the file name."""
    from daemon.config import load_config
    from daemon.errors import ConfigError

    path = write_toml(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    prefix = f"{path}: "
    assert all(p.startswith(prefix) for p in info.value.problems), info.value.problems
    return [p[len(prefix) :] for p in info.value.problems]


# --- the three-window centre of test_rankings / test_readings_through_cli ------------------------


def _march_workdays() -> list:
    import chinese_calendar

    from rules import parse_period

    return [d for d in parse_period("2026-03").days() if chinese_calendar.is_workday(d)]


MARCH_WORKDAYS = _march_workdays()
#: A day's four on-time punches (attlog time text) on the standard timetable.
ON_TIME = ("08:50:00", "12:01:00", "12:55:00", "17:05:00")
THREE_WINDOWS = (("gongan", "公安窗口", "ls"), ("shuiwu", "税务窗口", "yh"), ("shichang", "市场监管窗口", "c2"))


def write_three_windows(tmp_path: Path, scoring_url: str, schema: str | None, groups: str = "") -> str:
    """A centre of three windows under three presets (luoshan 25, yihuang-staff 30, county-002 10);
    ``groups`` (``[ranking_groups.*]`` TOML) puts every window in ranking group "hall"."""
    return str(
        write_centre(
            tmp_path,
            site="测试县政务服务中心",
            timezone=None,
            since='"2026-03-01"',
            scoring_url=scoring_url,
            schema=schema,
            policies={"ls": "luoshan", "yh": "yihuang-staff", "c2": "county-002"},
            windows=THREE_WINDOWS,
            window_extra='ranking_group = "hall"\n' if groups else "",
            extra='[[devices]]\nname = "usb"\ndriver = "usb"\nserial = "USB0001"\n' + groups,
        )
    )


#: A small valid config file (one terminal, the standard day, one window); tests append to it
#: or replace parts of it.
SMALL_CENTRE = """\
[site]
name = "罗山县政务服务中心"
timezone = "Asia/Shanghai"

[[devices]]
name = "hall-east"
host = "10.0.0.21"

[timetables.standard]
slots = [
  { name = "am_in",  kind = "in",  at = "09:00", accept = ["07:00", "10:30"] },
  { name = "am_out", kind = "out", at = "12:00", accept = ["11:00", "12:50"] },
  { name = "pm_in",  kind = "in",  at = "13:00", accept = ["12:30", "15:00"] },
  { name = "pm_out", kind = "out", at = "17:00", accept = ["16:00", "20:00"] },
]

[policies.hall]
preset = "luoshan"

[[windows]]
code = "gongan"
name = "公安窗口"
timetable = "standard"
policy = "hall"
"""


def scoring_staff_day(no: str, d: date, **over) -> dict:
    """An ``att_staff_day`` row (SPEC §4.4): a late of 7 minutes at the 公安 window; ``over`` replaces keys."""
    return {
        "staff_no": no,
        "work_date": d,
        "window_code": "gongan",
        "day_kind": "workday",
        "status": "late",
        "late_count": 1,
        "late_minutes": 7,
        "early_count": 0,
        "early_minutes": 0,
        "missing_punches": 0,
        "excused_punches": 0,
        "absent_days": 0.0,
        "leave_kind": None,
        "leave_days": 0.0,
        "off_post_count": 0,
        "deduction_points": 0.5,
        "first_punch": datetime(d.year, d.month, d.day, 9, 7, 12, 250000),
        "last_punch": datetime(d.year, d.month, d.day, 17, 2, 3),
        "detail": [
            {"slot": "am_in", "status": "late", "punch": f"{d} 09:07:12", "minutes": 7},
            {"slot": "pm_out", "status": "ok", "punch": f"{d} 17:02:03", "minutes": 0},
        ],
        **over,
    }


def chromium_path() -> str:
    """Debian's Chromium (nothing downloads a browser); skip without it, fail under ``CI=true``."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "Chromium is not installed (Debian: apt install chromium; deploy/system-packages.sh --test)"
    if CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made by openssl in ``folder``; skip without openssl."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (it makes the test's self-signed certificate)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
        + ["-days", "2", "-subj", "/CN=127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


#: :func:`fill_missing`'s day: staff 2 (乙) has no am_out punch (12:01) that day.
MISSING_DAY = date(2026, 3, 3)


def fill_missing(store) -> None:
    """Staff 1 and 2 (公安窗口) punch every March workday, except 乙's 12:01 on :data:`MISSING_DAY`
    (a missing punch: 旷工 of the morning under luoshan, 10 points)."""
    from drivers import Punch
    from rules import WorkCalendar, parse_period

    stamp = datetime(2026, 4, 1, tzinfo=UTC)
    put_roster(store, (("1", "甲", "gongan", "chief"), ("2", "乙", "gongan", "staff")), now_utc=stamp)
    calendar, punches = WorkCalendar(), []
    for d in parse_period("2026-03").days():
        if not calendar.is_workday(d):
            continue
        for no in "12":
            for hh, mm in ((8, 50), (12, 1), (12, 55), (17, 5)):
                if not (no == "2" and d == MISSING_DAY and (hh, mm) == (12, 1)):
                    punches.append(Punch(no, datetime.combine(d, day_time(hh, mm))))
    store.save_punches(
        device_name="hall", device_serial="S1", source="zk", punches=punches, quarantined=[], now_utc=stamp
    )


def add_correction(store, at: datetime, *, staff_no: str = "2", by: str = "clerk1", **kw) -> int:
    """A 补签 recorded on the command line's behalf (the tests' shortcut); returns its id."""
    from daemon.store import add_manual_punch

    kw.setdefault("reason", "设备故障，值班室登记")
    kw.setdefault("now_utc", datetime(2026, 4, 2, tzinfo=UTC))
    return add_manual_punch(store, staff_no=staff_no, at=at, by=by, via=kw.pop("via", "cli"), **kw)
