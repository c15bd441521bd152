"""Which days are workdays: the statutory calendar plus the centre's own overrides.

``chinesecalendar`` knows the State Council's holidays and make-up workdays
(调休) for the years up to its release. The centre adds extra closures and
extra workdays, and for a year the package does not know yet it declares
that year itself (``years``); evaluating an undeclared unknown year stops
with a message that names that way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import chinese_calendar

from .errors import CalendarUnknown


@dataclass(frozen=True)
class WorkCalendar:
    """Day kinds for the site: ``workday``, ``rest`` (weekend) or ``holiday``."""

    closures: frozenset[date] = field(default_factory=frozenset)  # extra days off (holiday)
    workdays: frozenset[date] = field(default_factory=frozenset)  # extra workdays (调休 the package lacks)
    years: frozenset[int] = field(default_factory=frozenset)  # years the centre declares itself

    def day_kind(self, day: date) -> str:
        if day in self.closures:
            return "holiday"
        if day in self.workdays:
            return "workday"
        if day.year in self.years:
            return "workday" if day.weekday() < 5 else "rest"
        return _statutory(day)

    def is_workday(self, day: date) -> bool:
        return self.day_kind(day) == "workday"

    def check_years(self, first: date, last: date) -> None:
        """Raise CalendarUnknown unless every year from ``first`` to ``last`` is known."""
        for year in range(first.year, last.year + 1):
            if year not in self.years:
                _statutory(date(year, 6, 1))


@lru_cache(maxsize=4096)
def _statutory(day: date) -> str:
    try:
        if chinese_calendar.is_workday(day):
            return "workday"
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        raise CalendarUnknown(
            "calendar",
            f"the holiday calendar does not know {day.year} (chinesecalendar {chinese_calendar.__version__}); "
            f"declare it under [calendar] years = [{day.year}] with its holidays as closures and its "
            "make-up workdays as workdays, or upgrade chinesecalendar",
        ) from None
    return "holiday" if on_holiday and name is not None else "rest"
