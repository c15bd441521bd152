"""``attendd demo``: a newcomer's first run, with no config, no network, no server.

Starts three simulated terminals on loopback, one per service window, each
carrying a realistic month of punches (lates, early leaves, missing punches,
a leave, double punches, the statutory holiday calendar), writes a config
that points at them, syncs them into a local SQLite store in the demo folder
and prints what happened and where everything is.

Then it enters the clerk's records (roster, leaves, an exemption),
evaluates the month with the luoshan preset, pushes the results into an
embedded SQLite scoring DB, writes the month's bulletin and prints the
window ranking and the commands to try next.

The demo's month is fixed, not "last month": :data:`DEMO_MONTH` holds a
statutory holiday and its make-up workday (调休上班日), which is what the
README promises whatever day the demo runs. Its "now" comes from a clock
(:func:`demo_clock`): :data:`DEMO_NOW`, just after that month, running on as
the real clock runs, so the real date never reaches the results.
"""

from __future__ import annotations

import os
import random
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.table import Table

from drivers import Punch
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, make_users
from rules import WorkCalendar, parse_period

from .bulletin.publish import publish
from .clock import Clock, site_time, system_clock
from .config import load_config
from .console import console_for
from .errors import AttenddError
from .logging import setup_logging
from .outbox import drain, take_snapshot
from .scoring import ScoringDB
from .store import open_store, put_records
from .sync import sync_all

TZ_NAME = "Asia/Shanghai"
#: The demo's month: 国庆节 (10-01 to 10-07) and its make-up workday, Saturday 10-10, both inside it.
DEMO_MONTH = "2026-10"
#: The demo's "now": the Monday after its month, 09:30 in Shanghai (the month is complete).
DEMO_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo(TZ_NAME)).astimezone(UTC)
#: chinesecalendar's holiday names in the words a Chinese centre uses.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
}
CALENDAR = WorkCalendar()


@dataclass(frozen=True)
class DemoWindow:
    code: str
    name: str
    device: str
    serial: str
    pins: tuple[str, ...]


WINDOWS = (
    DemoWindow("gongan", "公安窗口", "hall-police", "DEMO0000001", tuple(str(p) for p in range(101, 107))),
    DemoWindow("shuiwu", "税务窗口", "hall-tax", "DEMO0000002", tuple(str(p) for p in range(201, 206))),
    DemoWindow("shichang", "市场监管窗口", "hall-market", "DEMO0000003", tuple(str(p) for p in range(301, 306))),
)


def demo_month() -> tuple[date, date]:
    """:data:`DEMO_MONTH` as (first day, first day of the next month)."""
    p = parse_period(DEMO_MONTH)
    return p.start, p.end


def demo_clock(real: Clock = system_clock) -> Clock:
    """The demo's clock: :data:`DEMO_NOW` when it is made, then as much later as ``real`` moved on."""
    started = real()
    return lambda: DEMO_NOW + (real() - started)


def is_workday(day: date) -> bool:
    """The statutory calendar the evaluation uses (holidays off, make-up weekend days worked)."""
    return CALENDAR.is_workday(day)


@dataclass(frozen=True)
class MonthCalendar:
    """What the demo's month shows of the statutory calendar."""

    workdays: int
    holidays: list[tuple[date, str]]  # the statutory holiday's days, with its Chinese name
    makeup: list[date]  # weekend days worked in exchange (调休上班日)


def month_calendar(start: date, end: date) -> MonthCalendar:
    import chinese_calendar

    days = [start + timedelta(days=i) for i in range((end - start).days)]
    holidays = []
    for d in days:
        if CALENDAR.day_kind(d) == "holiday":
            name = chinese_calendar.get_holiday_detail(d)[1] or ""
            holidays.append((d, HOLIDAY_NAMES.get(name, name)))
    makeup = [d for d in days if d.weekday() >= 5 and is_workday(d)]
    return MonthCalendar(sum(is_workday(d) for d in days), holidays, makeup)


def _calendar_line(cal: MonthCalendar) -> str:
    names = "、".join(dict.fromkeys(n for _, n in cal.holidays))
    first, last = cal.holidays[0][0], cal.holidays[-1][0]
    makeup = ", ".join(f"{d:%m-%d} ({d:%A})" for d in cal.makeup)
    return (
        f"{names} {first:%m-%d} to {last:%m-%d} off (法定节假日), {makeup} worked (调休上班日): {cal.workdays} workdays"
    )


def leave_days(start: date, end: date) -> list[date]:
    """The two workdays the first person of each window takes off (from the 12th, after the
    holiday and its make-up workday, so both show every officer)."""
    out: list[date] = []
    d = start
    while d < end and len(out) < 2:
        if is_workday(d) and d.day >= 12:
            out.append(d)
        d += timedelta(days=1)
    return out


def attendd_command(cwd: Path | None = None) -> str:
    """How to type this very attendd again without activating its venv.

    The ``attendd`` script beside the running interpreter (``.venv/bin/attendd``), else the
    script this process was started as, else ``PYTHON -m daemon``; relative to ``cwd`` when
    it lies inside it, absolute otherwise. Symbolic links are kept: a venv's ``python`` is one.
    """
    here = Path(os.path.abspath(cwd or Path.cwd()))
    beside = Path(os.path.abspath(sys.executable)).parent / "attendd"
    started = Path(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else None
    if beside.is_file():
        program = beside
    elif started is not None and started.name == "attendd" and started.is_file():
        program = started
    else:
        return f"{shlex.quote(os.path.abspath(sys.executable))} -m daemon"
    return shlex.quote(_shown(program, here))


def _shown(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when inside it (``.venv/bin/attendd``, ``./attendd``: a shell
    never looks a name with a slash up in ``PATH``), else absolute."""
    try:
        rel = path.relative_to(cwd)
    except ValueError:
        return str(path)
    return str(rel) if len(rel.parts) > 1 else f"./{rel}"


def month_of_punches(pins: tuple[str, ...], start: date, end: date, seed: int) -> list[Punch]:
    """Four punches a workday per person, with the usual human irregularities.

    About 4% late arrivals (09:01–09:40), 2% early leaves (16:20–16:58), 0.4%
    missing punches, 3% double punches a few seconds apart, and the first
    person of each window on leave for two days in the second week.
    """
    rng = random.Random(seed)
    out: list[Punch] = []
    day = start
    off = set(leave_days(start, end))
    while day < end:
        if is_workday(day):
            for i, pin in enumerate(pins):
                if i == 0 and day in off:
                    continue
                verify = 15 if i % 3 else 1
                times = [
                    time(8, 40) if rng.random() > 0.04 else time(9, rng.randint(1, 40)),
                    time(12, 1),
                    time(12, 50),
                    time(17, 2) if rng.random() > 0.02 else time(16, rng.randint(20, 58)),
                ]
                for slot, t in enumerate(times):
                    if rng.random() < 0.004:
                        continue  # forgot to punch
                    jitter = rng.randint(0, 9 * 60) if slot in (0, 3) else rng.randint(0, 4 * 60)
                    when = datetime.combine(day, t) + timedelta(seconds=jitter)
                    state = (0, 2, 3, 1)[slot]
                    out.append(Punch(pin, when, state, verify))
                    if rng.random() < 0.03:
                        out.append(Punch(pin, when + timedelta(seconds=rng.randint(2, 20)), state, verify))
        day += timedelta(days=1)
    out.sort(key=lambda p: p.timestamp)
    return out


def _config_text(folder: Path, ports: list[int], since: date) -> str:
    lines = [
        "# Written by `attendd demo`: the simulated terminals listen only while the demo runs.",
        # `since`: the demo has no records before its month, so a year's counting rules must not read them.
        f'[site]\nname = "演示县政务服务中心"\ntimezone = "Asia/Shanghai"\nsince = {since.isoformat()}\n',
        f'[bulletin]\ndir = "{folder / "bulletins"}"\nfooter = "演示数据，姓名与打卡均为模拟生成。"\n'
        # the DOCX (公文) bulletin's 发文字号; its 发文机关标志 is [site] name
        'number_format = "演政服〔{year}〕{n}号"\n',
        f'[store]\nurl = "sqlite:///{folder / "attendd.db"}"\n',
        f'[scoring]\nurl = "sqlite:///{folder / "scoring.db"}"\n',
        "[daemon]\nsync_workers = 3\n",
    ]
    for w, port in zip(WINDOWS, ports, strict=True):
        lines.append(
            f'[[devices]]\nname = "{w.device}"\ndriver = "zk"\nhost = "127.0.0.1"\nport = {port}\n'
            f'protocol = "tcp"\nencoding = "gbk"\nserial = "{w.serial}"\ntimeout = 10\n'
        )
    lines.append(
        "[timetables.standard]\nslots = [\n"
        '  { name = "am_in",  kind = "in",  at = "09:00", accept = ["07:00", "10:30"] },\n'
        '  { name = "am_out", kind = "out", at = "12:00", accept = ["11:00", "12:29"] },\n'
        '  { name = "pm_in",  kind = "in",  at = "13:00", accept = ["12:30", "15:00"] },\n'
        '  { name = "pm_out", kind = "out", at = "17:00", accept = ["16:00", "20:00"] },\n]\n'
    )
    # No red_flags: the documents award 流动红旗 on the whole assessment, so the demo, like a new
    # centre, publishes the attendance ranking (考勤排名) and flags nobody (see [ranking_groups]).
    lines.append('[policies.hall]\npreset = "luoshan"\n')
    for w in WINDOWS:
        lines.append(
            f'[[windows]]\ncode = "{w.code}"\nname = "{w.name}"\ntimetable = "standard"\n'
            f'policy = "hall"\ndevices = ["{w.device}"]\n'
        )
    return "\n".join(lines)


def run_demo(folder: Path, args=None, *, clock: Clock = system_clock) -> int:
    """Run the demo in ``folder``; returns the exit code.

    ``clock`` is the real clock; the demo runs on :func:`demo_clock` of it, so what it shows is
    the same whatever day it is (a test passes a fake clock far from :data:`DEMO_MONTH`).
    """
    now_of = demo_clock(clock)
    now = now_of()
    tz = ZoneInfo(TZ_NAME)
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    log_format = getattr(args, "log_format", None) or "auto"
    setup_logging(log_format, getattr(args, "log_level", None) or "warning")
    console = console_for(sys.stdout)
    start, end = demo_month()
    console.print(f"[bold]attendd demo[/bold] — {start:%Y-%m} for three windows, in {folder}")
    console.print(f"calendar:    {_calendar_line(month_calendar(start, end))}", highlight=False)

    servers = []
    try:
        for i, w in enumerate(WINDOWS):
            punches = month_of_punches(w.pins, start, end, seed=i + 1)
            term = SimulatedTerminal(
                serial=w.serial,
                punches=punches,
                users=make_users(w.pins),
                encoding="gbk",
                clock=lambda: site_time(now_of(), tz),  # set to site time, on the demo's clock
            )
            servers.append((w, term, SimulatorServer(term).start()))
        cfg_path = folder / "attendd.toml"
        cfg_path.write_text(_config_text(folder, [s.port for _, _, s in servers], start), encoding="utf-8")
        cfg = load_config(cfg_path)
        store = open_store(cfg.store_url(), timezone=cfg.site.timezone)
        results = sync_all(store, cfg.devices, connect=_connect, clock=now_of, tz=tz, workers=3)
    finally:
        for _, _, srv in servers:
            srv.stop()

    table = Table(title=f"sync of {len(results)} simulated terminals", header_style="bold")
    for col in ("window", "device", "serial", "records", "new", "duplicate", "quarantined", "status"):
        table.add_column(col)
    for (w, _term, _), r in zip(servers, results, strict=True):
        table.add_row(
            w.name,
            r.device,
            r.serial or "",
            str(r.record_count or 0),
            str(r.new),
            str(r.duplicate),
            str(r.quarantined),
            r.status if not r.error else r.error,
        )
    console.print(table)

    # The clerk's records: roster, the leave the first person of each window took, one exemption.
    _clerk_records(store, start, end, now)
    period = parse_period(f"{start:%Y-%m}")
    snap = take_snapshot(store, cfg, period, now=now)
    scoring = ScoringDB(cfg.scoring_url())
    scoring.upgrade()
    pushed = drain(store, scoring, now=now, only=[period.key], force=True)
    ranking = Table(
        title=f"{period.key} 考勤排名 (attendance ranking; preset luoshan: 出勤值勤, 25 points)",
        caption="ranked on the share of the maximum; ties share a rank (1, 1, 3). No 红旗: the "
        "documents award it on the whole assessment, not on attendance alone",
        header_style="bold",
    )
    for col in ("rank", "window", "staff", "score", "of max"):
        ranking.add_column(col)
    for wp in sorted(snap.rows["window_periods"], key=lambda r: (r["rank"], r["window_code"])):
        ranking.add_row(
            str(wp["rank"]),
            wp["window_name"],
            str(wp["staff_count"]),
            f"{wp['attendance_score']:.2f}",
            f"{wp['score_percent']:.1f}%",
        )
    console.print(ranking)
    kinds: dict[str, int] = {}
    for d in snap.rows["deductions"]:
        kinds[d["rule"]] = kinds.get(d["rule"], 0) + 1
    console.print("deductions: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    try:
        bulletins = publish(store, cfg, period, now=now)
        missing = ""
    except AttenddError as exc:  # e.g. no CJK font for the PDF: the other formats are written
        bulletins = sorted(cfg.bulletin_dir().glob(f"*-{period.key}*"))
        missing = f" ({exc})"
    first_pin = WINDOWS[0].pins[0]
    rows = sum(o.rows for o in pushed)
    here = Path(os.path.abspath(Path.cwd()))
    run = f"{attendd_command(here)} --config {shlex.quote(_shown(cfg_path, here))}"
    console.print(
        f"local store: {folder / 'attendd.db'} ({store.count_punches()} punches)\n"
        f"scoring DB:  {folder / 'scoring.db'} "
        + (f"({rows} rows pushed to the att_* tables)\n" if pushed else "(already up to date)\n")
        + f"bulletin:    {cfg.bulletin_dir()}/ ({', '.join(sorted({p.suffix[1:] for p in bulletins}))}){missing}\n"
        + "".join(f"             open {p}\n" for p in bulletins if p.suffix == ".html")
        + f"config:      {cfg_path} (its terminals stop with the demo)\n"
        f"try:         {run} punches --staff {first_pin} --from {start} --to {end - timedelta(days=1)}\n"
        f"             {run} evaluate --period {period.key}\n"
        f"             {run} bulletin --period {period.key} --format pdf -o bulletin.pdf\n"
        "             (they work as they are: no need to activate the venv)",
        highlight=False,
    )
    scoring.close()
    store.close()
    failed = any(r.failed for r in results) or any(o.status == "failed" for o in pushed)
    return 1 if failed else 0


def _clerk_records(store, start: date, end: date, now: datetime) -> None:
    stamp = now
    roster = []
    for w in WINDOWS:
        names = make_users(w.pins)
        for i, u in enumerate(names):
            roster.append(
                {
                    "staff_no": u.pin,
                    "name": u.name,
                    "window_code": w.code,
                    "role": "chief" if i == 0 else "staff",
                    "active_from": None,
                    "active_to": None,
                    "exempt": False,
                }
            )
    put_records(store, "roster", roster, now_utc=stamp)
    days = leave_days(start, end)
    put_records(
        store,
        "leaves",
        [
            {
                "ref": f"DEMO-L{n}",
                "staff_no": w.pins[0],
                "kind": "personal" if n % 2 else "sick",
                "start": datetime.combine(d, time(8)),
                "end": datetime.combine(d, time(18)),
                "note": "演示",
            }
            for n, (w, d) in enumerate((w, d) for w in WINDOWS for d in days)
        ],
        now_utc=stamp,
    )
    first = next(d for d in (start + timedelta(days=i) for i in range(31)) if is_workday(d))
    put_records(
        store,
        "exemptions",
        [
            {
                "ref": "DEMO-E1",
                "staff_no": WINDOWS[1].pins[1],
                "day": first,
                "slot": "all",
                "reason": "外出办事（有证明）",
            },
        ],
        now_utc=stamp,
    )


def _connect(device):
    from .devices import connect_device

    return connect_device(device)
