"""Turning the clerk's tables into store rows (SPEC §4.3).

One parser per kind: :func:`parse_rows` takes ``(line_no, {column: cell})``
rows (see :mod:`.reader`) and returns the rows for
:func:`daemon.store.put_records` and the problems, each
``"FILE:LINE: reason"``. A row is either wholly accepted or reported; no
cell text ever raises.

Records without an id column get a stable ``ref``: a hash of the fields that
identify the record (below), so importing the same file again replaces the
records instead of doubling them, and correcting a non-identifying field
(a leave's end, a note) replaces the old version.

=============  ===========================================
kind           identifying fields
=============  ===========================================
leaves         staff_no, start
exemptions     staff_no, date, slot
inspections    staff_no, at, kind
substitutions  substitute_no, covered_no, start_date
duty           date, window_code, staff_no
rotas          window_code, staff, timetable, start_date
assessments    date, window_code, staff_no, category, item, kind, points
category-      period, window_code, staff_no, category
scores
=============  ===========================================
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rules.model import LEAVE_KINDS, LEAVE_WORDS

from ..errors import UserError
from .reader import HEADER_ALIASES, Table, aliases_of, read_table

KINDS = (
    "roster",
    "leaves",
    "exemptions",
    "inspections",
    "substitutions",
    "duty",
    "rotas",
    "assessments",
    "category-scores",
)

INSPECTION_KINDS = ("off_post", "roaming", "sleeping", "unrelated_activity")

LEAVE_ALIASES = {
    "事假": "personal",
    "病假": "sick",
    "年休假": "annual",
    "年假": "annual",
    "公假": "official",
    "婚假": "marriage",
    "产假": "maternity",
    "公伤": "injury",
    "工伤": "injury",
    "丧假": "bereavement",
    "公伤假": "injury",
    "中途请假": "midday",
    "调休": "in_lieu",
    "补休": "in_lieu",
    "出差": "business_trip",
    "公出": "business_trip",
}
INSPECTION_ALIASES = {
    "离岗": "off_post",
    "脱岗": "off_post",
    "串岗": "roaming",
    "睡岗": "sleeping",
    "打瞌睡": "sleeping",
    "干与工作无关的事": "unrelated_activity",
}
ROLE_ALIASES = {"首席代表": "chief", "窗口负责人": "chief", "工作人员": "staff"}
SLOT_ALIASES = {"全天": "all", "上午上班": "am_in", "上午下班": "am_out", "下午上班": "pm_in", "下午下班": "pm_out"}
BOOL_ALIASES = {
    "": False,
    "0": False,
    "no": False,
    "false": False,
    "n": False,
    "否": False,
    "1": True,
    "yes": True,
    "true": True,
    "y": True,
    "是": True,
}

#: Columns a file must have, and the optional ones read when present.
REQUIRED = {
    "roster": ("staff_no", "name", "window_code"),
    "leaves": ("staff_no", "kind", "start", "end"),
    "exemptions": ("staff_no", "date", "slot"),
    "inspections": ("staff_no", "at", "kind"),
    "substitutions": ("substitute_no", "covered_no", "start_date", "end_date"),
    "duty": ("date", "timetable"),
    "rotas": ("timetable",),
    "assessments": ("date", "category", "points"),
    "category-scores": ("period", "category", "score"),
}
OPTIONAL = {
    "roster": ("role", "active_from", "active_to", "exempt"),
    "leaves": ("note", "ref"),
    "exemptions": ("reason", "ref"),
    "inspections": ("minutes", "note", "ref"),
    "substitutions": ("ref",),
    "duty": ("window_code", "staff_no", "note", "ref"),
    "rotas": ("window_code", "staff", "weekdays", "day_kinds", "start_date", "end_date", "note", "ref"),
    "assessments": ("window_code", "staff_no", "item", "kind", "evidence", "note", "recorded_by", "ref"),
    "category-scores": ("window_code", "staff_no", "note", "ref"),
}
#: Columns a file may carry for the clerk's own reading, not stored: 序号 everywhere; 姓名 and 窗口
#: beside a staff number (the roster is the one place a name or window is recorded).
REFERENCE = {
    "roster": ("row_no",),
    "leaves": ("row_no", "name", "window_code"),
    "exemptions": ("row_no", "name", "window_code"),
    "inspections": ("row_no", "name", "window_code"),
    "substitutions": ("row_no", "name", "window_code"),
    "duty": ("row_no", "name"),
    "rotas": ("row_no",),
    "assessments": ("row_no", "name"),
    "category-scores": ("row_no", "name"),
}
IDENTITY = {
    "leaves": ("staff_no", "start"),
    "exemptions": ("staff_no", "day", "slot"),
    "inspections": ("staff_no", "at", "kind"),
    "substitutions": ("substitute_no", "covered_no", "start_date"),
    "duty": ("day", "window_code", "staff_no"),
    "rotas": ("window_code", "staff", "timetable", "start"),
    "assessments": ("day", "window_code", "staff_no", "category", "item", "kind", "points"),
    "category-scores": ("period_key", "window_code", "staff_no", "category"),
}
_REF_PREFIX = {
    "leaves": "L",
    "exemptions": "E",
    "inspections": "I",
    "substitutions": "S",
    "duty": "D",
    "rotas": "R",
    "assessments": "A",
    "category-scores": "C",
}
#: An assessment record counts one of three ways (its points are always positive).
ASSESSMENT_KINDS = ("deduction", "bonus", "back", "veto")
ASSESSMENT_ALIASES = {
    "扣分": "deduction",
    "减分": "deduction",
    "加分": "bonus",
    "附加分": "bonus",
    "倒扣": "back",
    "一票否决": "veto",
}
#: 星期: Monday 1 … Sunday 7, as the clerk writes them (周六, 星期日, 6, 周末).
WEEKDAY_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}
DAY_KIND_ALIASES = {"休息日": "rest", "周末": "rest", "节假日": "holiday", "法定节假日": "holiday", "假日": "holiday"}


class Bad(ValueError):
    """One row's reason for rejection."""


# --- cells ---------------------------------------------------------------------------------


def text(v: Any) -> str:
    """A cell as text: ``None`` → "", an Excel number 1001.0 → "1001"."""
    if type(v) is str:  # the common case first: a CSV cell
        return v.strip()
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    return str(v).strip()


_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_SPACE = re.compile(r"\s")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _date(m: re.Match) -> date:
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_date(v: Any, column: str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = text(v)
    if not s:
        raise Bad(f"{column} is empty")
    m = _DATE.fullmatch(s)
    if m is None:
        # "2026-03-02 00:00:00" from a spreadsheet that stored a date as a datetime
        m2 = re.fullmatch(_DATE.pattern + r"[ T]0{1,2}:00(?::00)?", s)
        if m2 is None:
            raise Bad(f"{column} {s!r} is not a date (YYYY-MM-DD or YYYY/MM/DD)")
        m = m2
    try:
        return _date(m)
    except ValueError as exc:
        raise Bad(f"{column} {s!r} is not a real date ({exc})") from None


def parse_datetime(v: Any, column: str) -> datetime:
    if isinstance(v, datetime):
        v = v.replace(tzinfo=None)
        if v.microsecond:  # Excel's float rounding: 08:59:59.999 is 09:00
            v = v.replace(microsecond=0) + (timedelta(seconds=1) if v.microsecond >= 500_000 else timedelta())
        return v
    if isinstance(v, date):
        raise Bad(f"{column} {v.isoformat()!r} has no time (YYYY-MM-DD HH:MM)")
    s = text(v)
    if not s:
        raise Bad(f"{column} is empty")
    parts = s.split(None, 1) if "T" not in s else s.split("T", 1)
    dm = _DATE.fullmatch(parts[0])
    tm = _TIME.fullmatch(parts[1].strip()) if len(parts) == 2 else None
    if dm is None or tm is None:
        raise Bad(f"{column} {s!r} is not a date and time (YYYY-MM-DD HH:MM)")
    try:
        return datetime.combine(_date(dm), time(int(tm.group(1)), int(tm.group(2)), int(tm.group(3) or 0)))
    except ValueError as exc:
        raise Bad(f"{column} {s!r} is not a real date and time ({exc})") from None


def ident(v: Any, column: str, *, limit: int = 32) -> str:
    s = text(v)
    if not s:
        raise Bad(f"{column} is empty")
    if len(s) > limit:
        raise Bad(f"{column} {s[:20]!r}… is longer than {limit} characters")
    if not s.isprintable() or _SPACE.search(s):
        raise Bad(f"{column} {s!r} contains spaces or control characters")
    return s


def free_text(v: Any, column: str, *, limit: int | None = None, required: bool = False) -> str:
    s = text(v)
    if required and not s:
        raise Bad(f"{column} is empty")
    if limit is not None and len(s) > limit:
        raise Bad(f"{column} is longer than {limit} characters")
    return s


def choice(
    v: Any, column: str, allowed: Collection[str], aliases: dict[str, str], *, default: str | None = None
) -> str:
    s = text(v)
    if not s and default is not None:
        return default
    key = s.lower().replace(" ", "_").replace("-", "_")
    value = aliases.get(s, key)
    if value in allowed:
        return value
    if not s:
        raise Bad(f"{column} is empty")
    raise Bad(f"unknown {column} {s!r} (expected one of: {forms(allowed, aliases)})")


def forms(allowed: Collection[str], aliases: Mapping[str, str]) -> str:
    """``"事假 (personal), 年休假/年假 (annual), …"``: each value's Chinese forms, then its code."""
    out = []
    for value in allowed:
        chinese = [k for k, v in aliases.items() if v == value]
        out.append(f"{'/'.join(chinese)} ({value})" if chinese else value)
    return ", ".join(out)


def _bool(v: Any, column: str) -> bool:
    s = text(v).lower()
    if s in BOOL_ALIASES:
        return BOOL_ALIASES[s]
    raise Bad(f"{column} {s!r} is not yes/no (1/0, 是/否)")


def _minutes(v: Any, column: str = "minutes") -> int:
    if v is None or text(v) == "":
        return 0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        n = float(v)
    else:
        s = re.sub(r"\s*(分钟|分|min|mins|minutes)$", "", text(v), flags=re.I)
        try:
            n = float(s)
        except ValueError:
            raise Bad(f"{column} {text(v)!r} is not a number") from None
    if n != n or n < 0 or n > 24 * 60 or not float(n).is_integer():
        raise Bad(f"{column} {text(v)!r} must be a whole number from 0 to 1440")
    return int(n)


# --- one parser per kind -----------------------------------------------------------------


@dataclass
class Context:
    """What a row's parser needs besides its cells: the file's own header names (for messages),
    the configured windows and timetable slots, and the roster's staff numbers (for leave)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    slots: Collection[str] | Mapping[str, str] | None = None  # names, or every word → its slot's name
    windows: Mapping[str, str] | None = None  # code → Chinese name
    staff: Collection[str] | None = None
    timetables: Collection[str] | None = None  # the configured timetables' names (duty, rotas)
    #: the whole assessment's check of a parsed record or category score: its problems, each
    #: ``field: message`` (the scheme's categories, items and the document's ranges); None: unchecked
    check: Callable[[dict], list[str]] | None = None

    def label(self, column: str) -> str:
        """The header the clerk wrote for ``column`` (``"start"`` → ``"开始时间"``); for a column the
        file does not have, its main Chinese name (``staff_no`` → ``工号``)."""
        return self.labels.get(column) or _main_header(column)


def _window(v: Any, c: Context) -> str:
    """A window code; a window's Chinese name is taken for its code when one window has it."""
    label = c.label("window_code")
    s = text(v)
    if c.windows is None or s in c.windows:
        return ident(s, label, limit=64)
    named = [code for code, name in c.windows.items() if name == s]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise Bad(f"{label} {s!r} is the name of {len(named)} windows ({', '.join(named)}); write the code")
    folded = [code for code in c.windows if code.lower() == s.lower()]
    if len(folded) == 1:
        return folded[0]
    if not s:
        raise Bad(f"{label} is empty")
    items = [f"{code} ({name})" for code, name in c.windows.items()]
    known = ", ".join(items[:8]) + (", …" if len(items) > 8 else "") if items else "none configured"
    raise Bad(f"{label} {s!r} is not a window code; known: {known}")


def _roster(r: dict, c: Context) -> dict:
    row: dict[str, Any] = {
        "staff_no": ident(r.get("staff_no"), c.label("staff_no")),
        "name": free_text(r.get("name"), c.label("name"), limit=128, required=True),
        "window_code": _window(r.get("window_code"), c),
    }
    # Only the columns the file has: a re-import without 角色 keeps the stored role (issue 13).
    if "role" in r:
        row["role"] = choice(r.get("role"), c.label("role"), ("chief", "staff"), ROLE_ALIASES, default="staff")
    for col in ("active_from", "active_to"):
        if col in r:
            row[col] = parse_date(r[col], c.label(col)) if text(r.get(col)) else None
    if "exempt" in r:
        row["exempt"] = _bool(r.get("exempt"), c.label("exempt"))
    if row.get("active_from") and row.get("active_to") and row["active_to"] < row["active_from"]:
        raise Bad(f"{c.label('active_to')} {row['active_to']} is before {c.label('active_from')} {row['active_from']}")
    return row


#: A leave given by dates only ends at the end of its last day (whole days).
END_OF_DAY = time(23, 59, 59)


def _leave_time(v: Any, column: str) -> tuple[datetime, bool]:
    """A leave's start or end and whether it was a date only (a whole day)."""
    if isinstance(v, datetime):
        # An XLSX date cell is a datetime at midnight: the clerk typed a date.
        return parse_datetime(v, column), (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0)
    if isinstance(v, date):
        return datetime.combine(v, time()), True
    s = text(v)
    if s and _DATE.fullmatch(s):
        return datetime.combine(parse_date(s, column), time()), True
    return parse_datetime(v, column), False


def _leave(r: dict, c: Context) -> dict:
    staff_no = _in_roster(r.get("staff_no"), c.label("staff_no"), c)
    kind = choice(r.get("kind"), c.label("kind"), LEAVE_KINDS, LEAVE_ALIASES)
    start, _ = _leave_time(r.get("start"), c.label("start"))
    end, whole_day = _leave_time(r.get("end"), c.label("end"))
    if whole_day:
        end = datetime.combine(end.date(), END_OF_DAY)
    if kind == "midday" and end - start >= timedelta(hours=12):
        raise Bad(f"{LEAVE_WORDS['midday']} needs a start and end time ({c.label('start')} and {c.label('end')})")
    row = _texts({"staff_no": staff_no, "kind": kind, "start": start, "end": end}, r, c, "note")
    if row["end"] <= row["start"]:
        raise Bad(
            f"{c.label('end')} {row['end']:%Y-%m-%d %H:%M} is not after {c.label('start')} {row['start']:%Y-%m-%d %H:%M}"
        )
    return row


def _slot(v: Any, c: Context) -> str:
    label, slots = c.label("slot"), c.slots
    s = text(v)
    if not s:
        raise Bad(f"{label} is empty")
    value = SLOT_ALIASES.get(s, s.lower() if s.lower() == "all" else s)
    if value == "all":
        return value
    if slots is not None:
        if value in slots:  # a slot's name, or its label (上午签到)
            return slots[value] if isinstance(slots, Mapping) else value
        names = sorted({slots[k] if isinstance(slots, Mapping) else k for k in slots})
        raise Bad(f"unknown {label} {s!r} (expected all, 全天 or a timetable slot: {', '.join(names)})")
    return ident(value, label)


def _texts(row: dict[str, Any], r: dict, c: Context, *columns: str) -> dict[str, Any]:
    """``row`` with the free-text ``columns`` the file has (a note, a reason): absent ones stay stored."""
    for col in columns:
        if col in r:
            row[col] = free_text(r.get(col), c.label(col))
    return row


def _exemption(r: dict, c: Context) -> dict:
    row: dict[str, Any] = {
        "staff_no": ident(r.get("staff_no"), c.label("staff_no")),
        "day": parse_date(r.get("date"), c.label("date")),
        "slot": _slot(r.get("slot"), c),
    }
    return _texts(row, r, c, "reason")


def _inspection(r: dict, c: Context) -> dict:
    row: dict[str, Any] = {
        "staff_no": ident(r.get("staff_no"), c.label("staff_no")),
        "at": parse_datetime(r.get("at"), c.label("at")),
        "kind": choice(r.get("kind"), c.label("kind"), INSPECTION_KINDS, INSPECTION_ALIASES),
    }
    if "minutes" in r:
        row["minutes"] = _minutes(r.get("minutes"), c.label("minutes"))
    return _texts(row, r, c, "note")


def _substitution(r: dict, c: Context) -> dict:
    sub, cov = c.label("substitute_no"), c.label("covered_no")
    start, end = c.label("start_date"), c.label("end_date")
    row: dict[str, Any] = {
        "substitute_no": ident(r.get("substitute_no"), sub),
        "covered_no": ident(r.get("covered_no"), cov),
        "start_date": parse_date(r.get("start_date"), start),
        "end_date": parse_date(r.get("end_date"), end),
    }
    if row["substitute_no"] == row["covered_no"]:
        raise Bad(f"{sub} and {cov} are both {row['covered_no']!r}")
    if row["end_date"] < row["start_date"]:
        raise Bad(f"{end} {row['end_date']} is before {start} {row['start_date']}")
    return row


def _in_roster(v: Any, column: str, c: Context) -> str:
    staff_no = ident(v, column)
    if c.staff is not None and staff_no not in c.staff:
        raise Bad(f"{column} {staff_no!r} is not in the roster (import the roster first)")
    return staff_no


def _timetable(v: Any, c: Context) -> str:
    label = c.label("timetable")
    name = ident(v, label, limit=64)
    if c.timetables is not None and name not in c.timetables:
        raise Bad(f"{label} {name!r} is not a configured timetable; known: {', '.join(sorted(c.timetables)) or 'none'}")
    return name


def _whose(r: dict, c: Context, staff_column: str, what: str = "duty") -> dict[str, Any]:
    """A record's window and / or people (a duty, a rota, an assessment): at least one of them."""
    row: dict[str, Any] = {}
    if text(r.get("window_code")):
        row["window_code"] = _window(r.get("window_code"), c)
    if staff_column == "staff_no" and text(r.get("staff_no")):
        row["staff_no"] = _in_roster(r.get("staff_no"), c.label("staff_no"), c)
    if staff_column == "staff" and text(r.get("staff")):
        label = c.label("staff")
        people = [p for p in re.split(r"[\s,，、;；>→]+", text(r.get("staff"))) if p]
        if len(people) > 31:
            raise Bad(f"{label}: at most 31 people in one rota")
        row["staff"] = ",".join(_in_roster(p, label, c) for p in people)
    if not row:
        who = c.label("staff_no" if staff_column == "staff_no" else "staff")
        raise Bad(f"give {c.label('window_code')} or {who} (whose {what} it is)")
    return row


def parse_weekdays(v: Any, column: str) -> str:
    """星期: ``"6,7"``, ``"周六、周日"``, ``"星期日"``, ``"周末"`` → ``"6,7"`` (Monday 1 … Sunday 7)."""
    s = text(v).replace("周末", "6,7")
    days: set[int] = set()
    for part in (p for p in re.split(r"[\s,，、;；/]+", s) if p):
        word = re.sub(r"^(星期|周|礼拜)", "", part)
        if word in WEEKDAY_WORDS:
            days.add(WEEKDAY_WORDS[word])
        elif word.isdigit() and 1 <= int(word) <= 7:
            days.add(int(word))
        else:
            raise Bad(f"{column} {part!r} is not a weekday (1–7 or 周一…周日)")
    return ",".join(str(d) for d in sorted(days))


def parse_day_kinds(v: Any, column: str) -> str:
    """适用日: ``"休息日、节假日"`` → ``"holiday,rest"``; empty means both (every day off)."""
    kinds = set()
    for part in (p for p in re.split(r"[\s,，、;；/]+", text(v)) if p):
        kinds.add(choice(part, column, ("rest", "holiday"), DAY_KIND_ALIASES))
    return ",".join(sorted(kinds))


def _duty(r: dict, c: Context) -> dict:
    row: dict[str, Any] = {
        "day": parse_date(r.get("date"), c.label("date")),
        "timetable": _timetable(r.get("timetable"), c),
        **_whose(r, c, "staff_no"),
    }
    return _texts(row, r, c, "note")


def _rota(r: dict, c: Context) -> dict:
    row: dict[str, Any] = {"timetable": _timetable(r.get("timetable"), c), **_whose(r, c, "staff")}
    for col in ("weekdays", "day_kinds"):
        if col in r:
            parse = parse_weekdays if col == "weekdays" else parse_day_kinds
            row[col] = parse(r.get(col), c.label(col))
    for col, stored in (("start_date", "start"), ("end_date", "end")):
        if col in r:
            row[stored] = parse_date(r[col], c.label(col)) if text(r.get(col)) else None
    if row.get("start") and row.get("end") and row["end"] < row["start"]:
        raise Bad(f"{c.label('end_date')} {row['end']} is before {c.label('start_date')} {row['start']}")
    if "," in row.get("staff", "") and not row.get("start"):
        raise Bad(f"a rotation of several people needs {c.label('start_date')} (the first person's first day)")
    return _texts(row, r, c, "note")


def _number(v: Any, column: str, *, high: float = 1000) -> float:
    s = re.sub(r"\s*分$", "", text(v))
    if not s:
        raise Bad(f"{column} is empty")
    try:
        n = float(s)
    except ValueError:
        raise Bad(f"{column} {text(v)!r} is not a number") from None
    if n != n or not 0 <= n <= high:
        raise Bad(f"{column} {text(v)!r} must be a number from 0 to {high:g}")
    return round(n, 4)


def _checked(row: dict[str, Any], c: Context) -> dict[str, Any]:
    """``row`` if the assessment's scheme takes it; else Bad with each problem in the file's words."""
    problems = c.check(row) if c.check is not None else []
    if problems:
        words = []
        for p in problems:
            name, sep, rest = p.partition(": ")
            words.append(f"{c.label(name)}: {rest}" if sep and name.isidentifier() else p)
        raise Bad("; ".join(words))
    return row


def _assessment(r: dict, c: Context) -> dict:
    row: dict[str, Any] = {
        "day": parse_date(r.get("date"), c.label("date")),
        "category": free_text(r.get("category"), c.label("category"), limit=64, required=True),
        "points": _number(r.get("points"), c.label("points")),
        "kind": choice(r.get("kind"), c.label("kind"), ASSESSMENT_KINDS, ASSESSMENT_ALIASES, default="deduction"),
        **_whose(r, c, "staff_no", "record"),
    }
    if "recorded_by" in r:
        row["recorded_by"] = free_text(r.get("recorded_by"), c.label("recorded_by"), limit=128)
    return _checked(_texts(row, r, c, "item", "evidence", "note"), c)


def _category_score(r: dict, c: Context) -> dict:
    from rules import RulesError, parse_period

    label = c.label("period")
    key = text(r.get("period"))
    try:
        period_key = parse_period(key).key
    except (RulesError, ValueError):
        raise Bad(f"{label} {key!r} is not a period (2026-03, 2026-Q1, 2026-H1, 2026)") from None
    row: dict[str, Any] = {
        "period_key": period_key,
        "category": free_text(r.get("category"), c.label("category"), limit=64, required=True),
        "score": _number(r.get("score"), c.label("score")),
        **_whose(r, c, "staff_no", "score"),
    }
    return _checked(_texts(row, r, c, "note"), c)


PARSERS: dict[str, Callable[[dict, Context], dict]] = {
    "roster": _roster,
    "leaves": _leave,
    "exemptions": _exemption,
    "inspections": _inspection,
    "substitutions": _substitution,
    "duty": _duty,
    "rotas": _rota,
    "assessments": _assessment,
    "category-scores": _category_score,
}


def stable_ref(kind: str, row: dict) -> str:
    """``L-`` + 20 hex digits of a hash of the record's identifying fields."""
    key = "\x1f".join([kind] + [text(row.get(f)) for f in IDENTITY[kind]])
    return f"{_REF_PREFIX[kind]}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}"


def _key_label(kind: str, c: Context) -> str:
    if kind == "roster":
        return c.label("staff_no")
    names = {"day": "date", "start": "start_date" if kind == "rotas" else "start", "period_key": "period"}
    return " and ".join(c.label(names.get(f, f)) for f in IDENTITY[kind])


# --- files ---------------------------------------------------------------------------------


@dataclass
class Parsed:
    kind: str
    path: str
    read: int = 0
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_rows(
    kind: str,
    rows: Iterable[tuple[int, dict[str, Any]]],
    path: str,
    *,
    slots: Collection[str] | Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    windows: Mapping[str, str] | None = None,
    staff: Collection[str] | None = None,
    timetables: Collection[str] | None = None,
    withdrawn: Mapping[str, str] | None = None,
    check: Callable[[dict], list[str]] | None = None,
) -> Parsed:
    """Parse every row; a row is either in ``.rows`` or has one line in ``.problems``.

    A row holds only the columns the file has (and ``ref``), so that storing it leaves the
    columns the file lacks as they are. ``labels`` (column → the file's header) name the
    clerk's own headers in problems; ``windows`` (code → name) checks a roster's windows;
    ``staff`` (the roster's staff numbers) checks a leave's staff number; ``timetables`` a duty's;
    ``withdrawn`` (key → by whom, when) refuses a row that would bring a withdrawn record back;
    ``check`` (the whole assessment's scheme) checks an assessment record or a category score.
    """
    if kind not in PARSERS:
        raise ValueError(f"unknown record kind {kind!r}")
    parse = PARSERS[kind]
    ctx = Context(labels or {}, slots, windows, staff, timetables, check)
    out = Parsed(kind, path)
    first_line: dict[str, int] = {}
    for line_no, raw in rows:
        out.read += 1
        try:
            if raw.get("__extra__"):
                raise Bad(f"{raw['__extra__']} cell(s) outside the named columns")
            row = parse(raw, ctx)
            if kind != "roster":
                given = text(raw.get("ref"))
                if given:
                    row["ref"] = ident(given, ctx.label("ref"), limit=64)
                else:
                    row["ref"] = stable_ref(kind, row)
            key = row["staff_no"] if kind == "roster" else row["ref"]
            if withdrawn and key in withdrawn:
                raise Bad(
                    f"{ctx.label('ref')} {key} is a withdrawn record ({withdrawn[key]}); a withdrawn record "
                    f"stays withdrawn: give a new {ctx.label('ref')} to record it again"
                )
            if key in first_line:
                same = _key_label(kind, ctx) if kind == "roster" or not text(raw.get("ref")) else ctx.label("ref")
                raise Bad(f"the same record as line {first_line[key]} (same {same})")
            first_line[key] = line_no
        except Bad as exc:
            out.problems.append(f"{path}:{line_no}: {exc}")
            continue
        except Exception as exc:  # a parser bug must not take the other rows down
            out.problems.append(f"{path}:{line_no}: cannot read this row ({type(exc).__name__}: {exc})")
            continue
        out.rows.append(row)
    return out


def _main_header(column: str) -> str:
    """The first Chinese header of ``column`` (``staff_no`` → ``工号``), else the name itself."""
    return next((k for k, v in HEADER_ALIASES.items() if v == column and not k.isascii()), column)


def check_columns(kind: str, table: Table) -> None:
    """One :class:`UserError` naming every missing required column (and its accepted names), or
    every column the kind does not read: a column is never silently ignored."""
    missing = [c for c in REQUIRED[kind] if c not in table.columns]
    if missing:
        parts = "; ".join(f"{c} (accepted: {', '.join(aliases_of(c))})" for c in missing)
        raise UserError(f"{table.path}: {kind} file lacks column(s) {parts}")
    known = (*REQUIRED[kind], *OPTIONAL[kind], *REFERENCE[kind])
    unknown = [table.headers.get(c) or c for c in table.columns if c not in known]
    if unknown:
        has = ", ".join(_main_header(c) for c in known)
        raise UserError(
            f"{table.path}: unknown column(s) {', '.join(repr(u) for u in unknown)}; a {kind} file has: {has} "
            '(every accepted header is in the README, "The clerk\'s files"; remove the column or rename it)'
        )


def parse_file(
    kind: str,
    path: str | Path,
    *,
    slots: Collection[str] | Mapping[str, str] | None = None,
    display: str | None = None,
    windows: Mapping[str, str] | None = None,
    staff: Collection[str] | None = None,
) -> Parsed:
    """Read ``path`` (CSV or XLSX) as ``kind`` records."""
    table = read_table(path, display=display)
    check_columns(kind, table)
    return parse_rows(kind, table.rows, table.path, slots=slots, labels=table.headers, windows=windows, staff=staff)
