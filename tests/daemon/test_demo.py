"""Issue 13, point 17: ``attendd demo`` shows what the README promises whatever today's date — a
month with a statutory holiday and its make-up workday — and the commands it suggests work without
activating the venv.

The demo runs in this process on a fake clock years away from its month; the suggested commands
run in a shell whose ``PATH`` has no venv, as a newcomer would paste them.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from helpers import ROOT

from daemon.demo import DEMO_MONTH, DEMO_NOW, attendd_command, demo_clock, month_calendar, run_demo
from daemon.store import open_store
from rules import parse_period

FAR_FUTURE = datetime(2031, 7, 15, 3, 0, tzinfo=UTC)
FAR_PAST = datetime(2019, 2, 1, 3, 0, tzinfo=UTC)


def test_the_demo_month_holds_a_statutory_holiday_and_its_make_up_workday():
    p = parse_period(DEMO_MONTH)
    cal = month_calendar(p.start, p.end)
    assert [n for _, n in cal.holidays] and {n for _, n in cal.holidays} == {"国庆节"}
    assert cal.makeup == [date(2026, 10, 10)]
    # the make-up Saturday is the holiday's own (chinesecalendar names it), not a random workday
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 10)) == (False, "National Day")
    assert p.start <= cal.holidays[0][0] and cal.holidays[-1][0] < p.end
    assert DEMO_NOW.date() >= p.end, "the demo's now is after its month: the month is complete"


def test_the_demo_clock_starts_at_demo_now_and_runs_on_with_the_real_one():
    ticks = iter([FAR_FUTURE, FAR_FUTURE + timedelta(seconds=90)])
    clock = demo_clock(lambda: next(ticks))
    assert clock() == DEMO_NOW + timedelta(seconds=90)


def _run(folder: Path, real: datetime) -> str:
    """The demo in ``folder`` on a real clock stuck at ``real``; what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_demo(folder, clock=lambda: real) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def far(tmp_path_factory):
    """The demo run in 2031, from a folder of its own: (that folder, what it printed)."""
    cwd = tmp_path_factory.mktemp("newcomer")
    before = Path.cwd()
    os.chdir(cwd)
    try:
        return cwd, _run(cwd / "demo-far", FAR_FUTURE)
    finally:
        os.chdir(before)


def test_the_demo_shows_the_same_month_whatever_today_is(far, monkeypatch):
    cwd, printed = far
    assert "attendd demo — 2026-10 for three windows" in printed
    assert (
        "calendar:    国庆节 10-01 to 10-07 off (法定节假日), 10-10 (Saturday) worked (调休上班日): 18 workdays"
        in printed
    )
    assert "2026-10 考勤排名" in printed and "bulletin:    " in printed
    for when in ("2031", "2019", "2026-11-"):  # no real date leaks into what it prints
        assert when not in printed.replace(str(cwd), "")

    store = open_store(f"sqlite:///{cwd / 'demo-far' / 'attendd.db'}", timezone="Asia/Shanghai")
    try:
        on = lambda d: store.punches(start=datetime(2026, 10, d), end=datetime(2026, 10, d + 1))  # noqa: E731
        assert all(on(d) == [] for d in range(1, 8)), "nobody punches on the holiday"
        makeup = on(10)
        assert len({p["pin"] for p in makeup}) >= 14, "every officer works the make-up Saturday"
        assert on(11) == [], "the Sunday after is a rest day"
        seen = {p["first_seen_utc"] for p in makeup}
        assert all(DEMO_NOW <= t < DEMO_NOW + timedelta(minutes=10) for t in seen), seen  # the demo's clock
    finally:
        store.close()
    names = sorted(p.name for p in (cwd / "demo-far" / "bulletins").iterdir())
    for fmt in ("html", "xlsx", "csv"):
        assert f"考勤通报-2026-10.{fmt}" in names

    # years earlier, the same demo to the character
    monkeypatch.chdir(cwd)
    past = _run(cwd / "demo-past", FAR_PAST)
    assert past.replace("demo-past", "DIR") == printed.replace("demo-far", "DIR")


def test_the_suggested_commands_work_without_the_venv(far):
    cwd, printed = far
    commands = [line.strip() for line in printed.split("try:", 1)[1].splitlines()[:3]]
    assert [c.split()[3] for c in commands] == ["punches", "evaluate", "bulletin"], commands
    for c in commands:
        program = c.split()[0]
        assert "/" in program and os.access(program, os.X_OK), f"{program}: not a path to run as it is"
    venv_bin = str(Path(sys.executable).parent)
    clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    clean["PATH"] = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    printed_by = []
    for c in commands:
        proc = subprocess.run(c, shell=True, cwd=cwd, env=clean, capture_output=True, text=True, timeout=120)
        if proc.returncode == 1 and "font" in proc.stderr and "pdf" in c:
            continue  # no CJK TrueType font on this machine: the PDF alone cannot be written
        assert proc.returncode == 0, (c, proc.stderr)
        printed_by.append(proc.stdout)
    assert "2026-10-10" in printed_by[0] and "101" in printed_by[0]  # staff 101 on the make-up Saturday
    assert "shuiwu" in printed_by[1] and "2026-10" in printed_by[1]


def test_the_command_is_the_venv_script_relative_inside_its_folder():
    script = Path(os.path.abspath(sys.executable)).parent / "attendd"
    if not script.is_file():
        pytest.skip(f"no attendd script beside {sys.executable} (run the tests with .venv/bin/pytest)")
    clone = script.parent.parent.parent  # the folder with .venv/ in it
    assert attendd_command(clone) == str(script.relative_to(clone))  # .venv/bin/attendd
    assert attendd_command(script.parent) == "./attendd"  # never a bare name the shell looks up
    assert attendd_command(ROOT / "no-such-folder" / "x") == str(script)
