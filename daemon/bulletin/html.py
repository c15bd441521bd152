"""The HTML bulletin: one self-contained file (inline CSS and SVG, no script).

Jinja2 with autoescaping on for every value: names come from terminals and
spreadsheets, so ``<script>`` in a name is printed, never run. The print
stylesheet lays it out on A4; a window starts a new page only when it does not fit the rest of
the page (``break-inside: avoid``). Each window's daily sheet (每日考勤) is a folded ``<details>``.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import jinja2

from .. import __version__
from . import charts, daily, labels, parts
from .labels import num
from .model import Bulletin

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("daemon.bulletin", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float | None) -> str:
    """A share in per cent (72.3 → ``72.3%``), rounded as every format rounds it (labels.percent)."""
    return "" if value is None else f"{labels.percent(value)}%"


_ENV.filters.update(num=num, pct=_pct, drift=labels.drift, cell=labels.text)


def chart_windows(b: Bulletin):
    """Each window's score as a share of its maximum (what the ranking compares)."""
    bars = [(w.name, round(w.percent, 1), w.red_flag) for w in b.ranking]
    return charts.hbar(bars, 100.0, title="窗口考勤得分率" + ("（红色：流动红旗）" if b.flags_shown else ""), unit="%")


def chart_weekdays(b: Bulletin):
    return charts.columns(
        labels.WEEKDAYS,
        [("迟到", b.lates_by_weekday, "#c0392b"), ("早退", b.early_by_weekday, "#e08e0b")],
        title="迟到、早退按星期分布",
    )


def _devices_table(b: Bulletin) -> SimpleNamespace:
    """The sync table as every format prints it (:func:`parts.devices`), each row with its device."""
    header, rows = parts.devices(b)
    return SimpleNamespace(header=header, rows=list(zip(b.devices, rows, strict=True)))


def render_html(b: Bulletin, *, footer: str = "") -> str:
    names = {w.code: w.name for w in b.windows}
    return _ENV.get_template("bulletin.html.j2").render(
        b=b,
        totals=b.totals(),
        version=__version__,
        footer=footer,
        last_day=b.period.end - timedelta(days=1),
        chart_windows=chart_windows(b),
        chart_weekdays=chart_weekdays(b),
        leave_label=lambda k: labels.LEAVE_KINDS.get(k, k),
        rule_label=labels.rule,
        devices_table=_devices_table(b),
        daily_legend=daily.legend(),
        daily_colours=daily.COLOURS,
        daily_totals=daily.TOTALS,
        weekday=lambda d: labels.WEEKDAYS[d.weekday()][-1],
        window_name=lambda code: names.get(code, code),
        ranking_notes=parts.ranking_notes(b),
        assessed=parts.assessed(b),
        assessed_staff=parts.assessed_staff(b),
        notices=parts.notices(b),
    )
