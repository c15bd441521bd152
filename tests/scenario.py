"""Mechanics shared by the preset scenario tests (``tests/rules/presets/test_preset_*.py``).

Not a test module: the scenarios themselves (staff, the period's events, the site's hours and
holiday lists) stay in each test file; this module only turns them into rules inputs —

* :func:`at` builds a punch time, :func:`workdays` walks a calendar (chinesecalendar by default,
  or hand-written lists through :func:`listed_workdays`);
* :func:`slots`, :func:`variant` and :func:`timetable` write the four-slot timetable tables that
  ``rules.build_timetable`` reads;
* :class:`Pattern` generates a staff member's on-time punches, with per-day changes and days away.

It also holds what several scenarios share word for word: :func:`evaluate`,
:func:`ded`, the engine's calendar :data:`CAL`, the 广西 hall of the county-002 and sanjiang
scenarios (:data:`GX_TIMETABLE`, :data:`GX_HALL`) and the 平湖 timetables of county-004-5 and yihuang
(:func:`pinghu_timetables`).

pytest puts ``tests/`` on ``sys.path``, so the scenario files import it as ``from scenario import …``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar

from rules import Inputs, WorkCalendar, build_timetable, evaluate_period, parse_period

SLOTS = ("am_in", "am_out", "pm_in", "pm_out")
"""The four check points of a day, in the order the scenarios write their times."""

SUMMER = ("05-01", "09-30")
"""The default seasonal window (``MM-DD`` to ``MM-DD``, both inclusive)."""

Times = Mapping[str, str] | Sequence[str]
"""A day's four times: ``{slot: "HH:MM"}`` or four ``"HH:MM"`` in :data:`SLOTS` order."""


def at(d: date, hhmm: str) -> datetime:
    """The datetime of ``"HH:MM"`` or ``"HH:MM:SS"`` on ``d``."""
    return datetime.combine(d, time(*(int(x) for x in hhmm.split(":"))))


def workdays(start: date, end: date, is_workday: Callable[[date], bool] = chinese_calendar.is_workday) -> list[date]:
    """The days from ``start`` to ``end`` (both inclusive) that ``is_workday`` accepts.

    The default is chinesecalendar's statutory calendar — the test's own, not the engine's
    ``WorkCalendar`` (pass ``WorkCalendar().is_workday`` to walk that instead)."""
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [d for d in days if is_workday(d)]


def listed_workdays(holidays: Collection[date], makeup: Collection[date]) -> Callable[[date], bool]:
    """A workday test from hand-written lists: Monday to Friday unless in ``holidays`` (weekday
    closures), and every day in ``makeup`` (调休 make-up workdays)."""

    def is_workday(d: date) -> bool:
        return (d.weekday() < 5 and d not in holidays) or d in makeup

    return is_workday


def attendance_flags(windows, **kw):
    """Ranking groups that opt in to 流动红旗 on the attendance ranking alone (issue 10: the default
    is none, as the documents award flags on the whole assessment): one group of all ``windows``,
    the count from their policy unless ``red_flags`` is given."""
    from rules import RankingGroup

    group = RankingGroup(flags_on="attendance", **kw)
    return {code: group for code in windows}


def in_season(d: date, season: tuple[str, str] = SUMMER) -> bool:
    """Whether ``d`` falls in ``season`` (``("MM-DD", "MM-DD")``, both inclusive, within one year)."""
    first, last = (tuple(int(x) for x in s.split("-")) for s in season)
    return first <= (d.month, d.day) <= last


def _times(times: Times) -> dict[str, str]:
    return dict(times) if isinstance(times, Mapping) else dict(zip(SLOTS, times, strict=True))


# --- timetable tables ------------------------------------------------------------------------


def slots(times: Times, accept: Sequence[tuple[str, str]]) -> list[dict]:
    """The ``slots`` table of a four-slot day: due ``times`` and, per slot in :data:`SLOTS` order,
    the ``accept`` window ``(from, to)`` of punches that count for it."""
    due = _times(times)
    return [
        {"name": name, "kind": name.rsplit("_", 1)[1], "at": due[name], "accept": list(window)}
        for name, window in zip(SLOTS, accept, strict=True)
    ]


def variant(name: str, season: tuple[str, str], slot_table: list[dict]) -> dict:
    """A seasonal variant's table: ``slot_table`` in force from ``season[0]`` to ``season[1]``."""
    return {"name": name, "from": season[0], "to": season[1], "slots": slot_table}


def timetable(slot_table: list[dict], *variants: dict) -> dict:
    """The table ``rules.build_timetable`` reads: the ordinary ``slots`` and any ``variants``."""
    return {"slots": slot_table, "variants": list(variants)} if variants else {"slots": slot_table}


# --- punches ---------------------------------------------------------------------------------


def jittered(d: date, slot: str, due: str, staff_no: str) -> datetime:
    """A punch near ``due`` that is on time: an ``*_in`` 3–14 minutes early, an ``*_out`` 1–9
    minutes late, with seconds — the same for the same day and staff number."""
    seed = d.toordinal() + int(staff_no)
    if slot.endswith("_in"):
        return at(d, due) - timedelta(minutes=3 + seed % 12, seconds=seed * 7 % 60)
    return at(d, due) + timedelta(minutes=1 + seed * 3 % 9, seconds=seed * 11 % 60)


Change = Mapping[str, "str | None"] | Sequence[str]
"""One day's change to a pattern: ``{slot: "HH:MM[:SS]" or None (no punch)}`` for the slots that
differ, or the whole day's punches as a sequence of times (``()``: none at all)."""


@dataclass(frozen=True)
class Pattern:
    """How a scenario's staff punch when nothing happens, and on which days.

    ``hours``: the day's four times (see :data:`Times`). Without ``jitter`` they are the punches
    themselves; with it they are the due times and each punch is :func:`jittered` around its own.
    ``summer``: the times in force in ``season`` instead (a timetable's seasonal variant).
    ``is_workday``: the calendar :meth:`workdays` and :meth:`punches` walk (see :func:`workdays`).
    """

    hours: Times
    summer: Times | None = None
    season: tuple[str, str] = SUMMER
    jitter: bool = False
    is_workday: Callable[[date], bool] = chinese_calendar.is_workday

    def times_on(self, d: date) -> dict[str, str]:
        """The four times in force on ``d``."""
        return _times(self.summer if self.summer is not None and in_season(d, self.season) else self.hours)

    def workdays(self, start: date, end: date) -> list[date]:
        """This pattern's workdays from ``start`` to ``end``, both inclusive."""
        return workdays(start, end, self.is_workday)

    def day(self, d: date, change: Change | None = None, staff_no: str = "0") -> list[datetime]:
        """One day's punches in slot order, with ``change`` (see :data:`Change`) applied."""
        if change is not None and not isinstance(change, Mapping):
            return [at(d, x) for x in change]
        change = change or {}
        out = []
        for slot, due in self.times_on(d).items():
            v = change.get(slot, "")
            if v is None:
                continue
            out.append(at(d, v) if v else jittered(d, slot, due, staff_no) if self.jitter else at(d, due))
        return out

    def on(
        self,
        days: Iterable[date],
        changes: Mapping[date, Change] | None = None,
        away: Collection[date] = frozenset(),
        staff_no: str = "0",
        extra: Iterable[datetime] = (),
    ) -> list[datetime]:
        """Punches on each of ``days`` but those ``away`` (no punches at all), ``changes`` mapping a
        day to its :data:`Change`, plus ``extra`` punches as given; sorted."""
        changes = changes or {}
        out = list(extra)
        for d in days:
            if d not in away:
                out += self.day(d, changes.get(d), staff_no)
        return sorted(out)

    def punches(
        self,
        staff_no: str,
        start: date,
        end: date,
        changes: Mapping[date, Change] | None = None,
        away: Collection[date] = frozenset(),
        extra: Iterable[datetime] = (),
    ) -> list[datetime]:
        """:meth:`on` every workday from ``start`` to ``end`` (both inclusive) for ``staff_no``."""
        return self.on(self.workdays(start, end), changes, away, staff_no, extra)


# --- running the engine ----------------------------------------------------------------------

CAL = WorkCalendar()
"""The engine's own calendar (statutory holidays and 调休), shared by the scenarios that use it."""


def evaluate(inputs, period: str):
    """``rules.evaluate_period`` of ``inputs`` over ``period`` (``"2026-05"``, ``"2026-Q2"`` …)."""
    return evaluate_period(inputs, parse_period(period))


def window_inputs(
    windows: Mapping[str, str], policy, timetables: Mapping, window_timetable: Mapping, **records
) -> Inputs:
    """``rules.Inputs`` for ``windows`` that all keep one ``policy``, each on its timetable
    (``window_timetable``: window code → a name in ``timetables``), on :data:`CAL`; ``records`` are
    the rest (staff, punches, leaves …)."""
    return Inputs(
        windows=dict(windows),
        policies={w: policy for w in windows},
        timetables=dict(timetables),
        window_timetable=dict(window_timetable),
        calendar=CAL,
        **records,
    )


def hall_inputs(windows: Mapping[str, str], policy, hall: str, table: dict, **records) -> Inputs:
    """:func:`window_inputs` with every window on one timetable ``hall``, built from ``table``."""
    return window_inputs(windows, policy, {hall: build_timetable(hall, table)}, {w: hall for w in windows}, **records)


def ded(result) -> list[tuple[str, str, float]]:
    """A result's deductions as sorted (rule, ref, points)."""
    return sorted((x.rule, x.ref, x.points) for x in result.deductions)


# --- the 广西 hall (county-002, sanjiang) ------------------------------------------------------

GX_WINTER = {"am_in": "08:00", "am_out": "12:00", "pm_in": "14:30", "pm_out": "17:30"}
GX_SUMMER = {"am_in": "08:00", "am_out": "12:00", "pm_in": "15:00", "pm_out": "18:00"}
GX_TIMETABLE = timetable(
    slots(GX_WINTER, [("06:30", "10:00"), ("10:01", "13:00"), ("13:01", "15:30"), ("15:31", "22:00")]),
    variant(
        "夏季作息",
        ("05-01", "09-30"),
        slots(GX_SUMMER, [("06:30", "10:00"), ("10:01", "13:30"), ("13:31", "16:00"), ("16:01", "22:00")]),
    ),
)
"""Winter 08:00–12:00, 14:30–17:30; summer (05-01 … 09-30) 08:00–12:00, 15:00–18:00."""

# 国务院办公厅关于2026年部分节假日安排的通知, January–June: weekday closures and make-up workdays.
# 元旦 1月1日–3日, 1月4日（周日）上班; 春节 2月15日–23日, 2月14日（周六）、2月28日（周六）上班;
# 清明节 4月4日–6日; 劳动节 5月1日–5日, 5月9日（周六）上班; 端午节 6月19日–21日.
HOLIDAYS_2026_H1 = {
    date(2026, 1, 1),
    date(2026, 1, 2),
    *(date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)),
    date(2026, 4, 6),
    date(2026, 5, 1),
    date(2026, 5, 4),
    date(2026, 5, 5),
    date(2026, 6, 19),
}
MAKEUP_2026_H1 = {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9)}

GX_HALL = Pattern(
    GX_WINTER, summer=GX_SUMMER, jitter=True, is_workday=listed_workdays(HOLIDAYS_2026_H1, MAKEUP_2026_H1)
)
"""On-time punches (in 3–14 min early, out 1–9 min late) every workday of the lists above."""


# --- the 平湖 hours (county-004-5, yihuang) -----------------------------------------------------


def pinghu_timetables(policy, name: str, season: tuple[str, str], times: Times, accept) -> dict:
    """The three 平湖 timetables: ``pinghu`` (the preset's hours with a seasonal :func:`variant`
    ``name`` of due ``times`` and ``accept`` windows, see :func:`slots`, in force in ``season``),
    ``pinghu-noon`` (中午部分窗口实行错时服务: 08:30–12:30 and 13:30–17:30, the centre's hours) and
    ``police-duty`` (周六、节假日公安值班时间(周日轮值服务)：上午 9:00-11:00 下午 14:00-16:00)."""
    noon = slots(
        ("08:30", "12:30", "13:30", "17:30"),
        [("06:00", "10:29"), ("10:30", "12:59"), ("13:00", "15:29"), ("15:30", "23:59")],
    )
    duty = slots(
        ("09:00", "11:00", "14:00", "16:00"),
        [("06:00", "09:59"), ("10:00", "12:29"), ("12:30", "14:59"), ("15:00", "23:59")],
    )
    return {
        "pinghu": build_timetable(
            "pinghu", timetable(policy.timetable["slots"], variant(name, season, slots(times, accept)))
        ),
        "pinghu-noon": build_timetable("pinghu-noon", timetable(noon)),
        "police-duty": build_timetable("police-duty", timetable(duty)),
    }


NOON_WORK = Pattern(("08:25", "12:31", "13:25", "17:32"))
"""On time for ``pinghu-noon``."""
DUTY = Pattern(("08:55", "11:01", "13:55", "16:01"))
"""On time for ``police-duty``."""


def pinghu_punches(staff, work: Pattern, start: date, end: date, planted, away, duty_days) -> dict[str, list[datetime]]:
    """Each of ``staff``'s punches from ``start`` to ``end``: :data:`NOON_WORK` in the tax window
    (``shuiwu``), ``work`` in the others, with the ``planted`` changes (``{(staff_no, day): Change}``)
    and whole days ``away`` (``{staff_no: days}``); then :data:`DUTY` on ``duty_days`` (``{staff_no: days}``)."""
    out: dict[str, list[datetime]] = {}
    for s in staff:
        no = s.staff_no
        mine = {d: day for (n, d), day in planted.items() if n == no}
        pattern = NOON_WORK if s.window == "shuiwu" else work
        out[no] = pattern.punches(no, start, end, mine, away=away.get(no, ())) + DUTY.on(duty_days.get(no, ()), mine)
    return out
