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
=============  ===========================================
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..errors import UserError
from .reader import Table, aliases_of, read_table

KINDS = ("roster", "leaves", "exemptions", "inspections", "substitutions")

LEAVE_KINDS = ("personal", "sick", "annual", "official", "marriage", "maternity", "injury", "bereavement", "midday")
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
    "中途请假": "midday",
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
}
OPTIONAL = {
    "roster": ("role", "active_from", "active_to", "exempt"),
    "leaves": ("note", "ref"),
    "exemptions": ("reason", "ref"),
    "inspections": ("minutes", "note", "ref"),
    "substitutions": ("ref",),
}
IDENTITY = {
    "leaves": ("staff_no", "start"),
    "exemptions": ("staff_no", "day", "slot"),
    "inspections": ("staff_no", "at", "kind"),
    "substitutions": ("substitute_no", "covered_no", "start_date"),
}
_REF_PREFIX = {"leaves": "L", "exemptions": "E", "inspections": "I", "substitutions": "S"}


class Bad(ValueError):
    """One row's reason for rejection."""


# --- cells ---------------------------------------------------------------------------------


def text(v: Any) -> str:
    """A cell as text: ``None`` → "", an Excel number 1001.0 → "1001"."""
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
    if any(c.isspace() for c in s) or not s.isprintable():
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
    raise Bad(f"unknown {column} {s!r} (expected one of: {', '.join(allowed)})")


def _bool(v: Any, column: str) -> bool:
    s = text(v).lower()
    if s in BOOL_ALIASES:
        return BOOL_ALIASES[s]
    raise Bad(f"{column} {s!r} is not yes/no (1/0, 是/否)")


def _minutes(v: Any) -> int:
    if v is None or text(v) == "":
        return 0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        n = float(v)
    else:
        s = re.sub(r"\s*(分钟|分|min|mins|minutes)$", "", text(v), flags=re.I)
        try:
            n = float(s)
        except ValueError:
            raise Bad(f"minutes {text(v)!r} is not a number") from None
    if n != n or n < 0 or n > 24 * 60 or not float(n).is_integer():
        raise Bad(f"minutes {text(v)!r} must be a whole number from 0 to 1440")
    return int(n)


# --- one parser per kind -----------------------------------------------------------------


def _roster(r: dict, slots) -> dict:
    row: dict[str, Any] = {
        "staff_no": ident(r.get("staff_no"), "staff_no"),
        "name": free_text(r.get("name"), "name", limit=128, required=True),
        "window_code": ident(r.get("window_code"), "window_code", limit=64),
        "role": choice(r.get("role"), "role", ("chief", "staff"), ROLE_ALIASES, default="staff"),
        "active_from": parse_date(r["active_from"], "active_from") if text(r.get("active_from")) else None,
        "active_to": parse_date(r["active_to"], "active_to") if text(r.get("active_to")) else None,
        "exempt": _bool(r.get("exempt"), "exempt"),
    }
    if row["active_from"] and row["active_to"] and row["active_to"] < row["active_from"]:
        raise Bad(f"active_to {row['active_to']} is before active_from {row['active_from']}")
    return row


def _leave(r: dict, slots) -> dict:
    row: dict[str, Any] = {
        "staff_no": ident(r.get("staff_no"), "staff_no"),
        "kind": choice(r.get("kind"), "kind", LEAVE_KINDS, LEAVE_ALIASES),
        "start": parse_datetime(r.get("start"), "start"),
        "end": parse_datetime(r.get("end"), "end"),
        "note": free_text(r.get("note"), "note"),
    }
    if row["end"] <= row["start"]:
        raise Bad(f"end {row['end']:%Y-%m-%d %H:%M} is not after start {row['start']:%Y-%m-%d %H:%M}")
    return row


def _slot(v: Any, slots: Collection[str] | None) -> str:
    s = text(v)
    if not s:
        raise Bad("slot is empty")
    value = SLOT_ALIASES.get(s, s.lower() if s.lower() == "all" else s)
    if value == "all":
        return value
    if slots is not None:
        if value in slots:
            return value
        raise Bad(f"unknown slot {s!r} (expected all, 全天 or a timetable slot: {', '.join(sorted(slots))})")
    return ident(value, "slot")


def _exemption(r: dict, slots) -> dict:
    return {
        "staff_no": ident(r.get("staff_no"), "staff_no"),
        "day": parse_date(r.get("date"), "date"),
        "slot": _slot(r.get("slot"), slots),
        "reason": free_text(r.get("reason"), "reason"),
    }


def _inspection(r: dict, slots) -> dict:
    return {
        "staff_no": ident(r.get("staff_no"), "staff_no"),
        "at": parse_datetime(r.get("at"), "at"),
        "kind": choice(r.get("kind"), "kind", INSPECTION_KINDS, INSPECTION_ALIASES),
        "minutes": _minutes(r.get("minutes")),
        "note": free_text(r.get("note"), "note"),
    }


def _substitution(r: dict, slots) -> dict:
    row: dict[str, Any] = {
        "substitute_no": ident(r.get("substitute_no"), "substitute_no"),
        "covered_no": ident(r.get("covered_no"), "covered_no"),
        "start_date": parse_date(r.get("start_date"), "start_date"),
        "end_date": parse_date(r.get("end_date"), "end_date"),
    }
    if row["substitute_no"] == row["covered_no"]:
        raise Bad(f"substitute_no and covered_no are both {row['covered_no']!r}")
    if row["end_date"] < row["start_date"]:
        raise Bad(f"end_date {row['end_date']} is before start_date {row['start_date']}")
    return row


PARSERS: dict[str, Callable[[dict, Collection[str] | None], dict]] = {
    "roster": _roster,
    "leaves": _leave,
    "exemptions": _exemption,
    "inspections": _inspection,
    "substitutions": _substitution,
}


def stable_ref(kind: str, row: dict) -> str:
    """``L-`` + 20 hex digits of a hash of the record's identifying fields."""
    key = "\x1f".join([kind] + [text(row[f]) for f in IDENTITY[kind]])
    return f"{_REF_PREFIX[kind]}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}"


def _key_label(kind: str) -> str:
    return (
        "staff_no"
        if kind == "roster"
        else "ref"
        if kind not in IDENTITY
        else " and ".join("date" if f == "day" else f for f in IDENTITY[kind])
    )


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
    slots: Collection[str] | None = None,
) -> Parsed:
    """Parse every row; a row is either in ``.rows`` or has one line in ``.problems``."""
    if kind not in PARSERS:
        raise ValueError(f"unknown record kind {kind!r}")
    parse = PARSERS[kind]
    out = Parsed(kind, path)
    first_line: dict[str, int] = {}
    for line_no, raw in rows:
        out.read += 1
        try:
            if raw.get("__extra__"):
                raise Bad(f"{raw['__extra__']} more cell(s) than there are columns")
            row = parse(raw, slots)
            if kind != "roster":
                given = text(raw.get("ref"))
                if given:
                    row["ref"] = ident(given, "ref", limit=64)
                else:
                    row["ref"] = stable_ref(kind, row)
            key = row["staff_no"] if kind == "roster" else row["ref"]
            if key in first_line:
                raise Bad(
                    f"the same record as line {first_line[key]} (same {_key_label(kind) if not text(raw.get('ref')) else 'ref'})"
                )
            first_line[key] = line_no
        except Bad as exc:
            out.problems.append(f"{path}:{line_no}: {exc}")
            continue
        except Exception as exc:  # a parser bug must not take the other rows down
            out.problems.append(f"{path}:{line_no}: cannot read this row ({type(exc).__name__}: {exc})")
            continue
        out.rows.append(row)
    return out


def check_columns(kind: str, table: Table) -> None:
    """One :class:`UserError` naming every missing required column and its accepted names."""
    missing = [c for c in REQUIRED[kind] if c not in table.columns]
    if missing:
        parts = "; ".join(f"{c} (accepted: {', '.join(aliases_of(c))})" for c in missing)
        raise UserError(f"{table.path}: {kind} file lacks column(s) {parts}")


def parse_file(
    kind: str, path: str | Path, *, slots: Collection[str] | None = None, display: str | None = None
) -> Parsed:
    """Read ``path`` (CSV or XLSX) as ``kind`` records."""
    table = read_table(path, display=display)
    check_columns(kind, table)
    return parse_rows(kind, table.rows, table.path, slots=slots)
