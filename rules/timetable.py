"""Timetables: the day's check slots, seasonal variants, and their validation.

A slot is one check point (am_in, am_out, …) with the time it is due, the
window in which a punch counts for it, and grace minutes. Slots pair into
sessions (in, out): a four-slot day has two sessions of half a day each, a
two-slot day one session of a whole day. A missing session is absence of
that part of the day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from typing import Any

from .errors import RulesError


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def parse_hhmm(value: Any, path: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            h, m = int(parts[0]), int(parts[1])
            if 0 <= h < 24 and 0 <= m < 60:
                return time(h, m)
    raise RulesError(path, f'expected "HH:MM", got {value!r}')


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    kind: str  # in | out
    at: time
    accept_from: time
    accept_to: time
    grace: int = 0
    session: int = 0  # index of the (in, out) pair this slot belongs to
    label: str = ""  # the reader's word (上午签到 …): the evidence says it, not the name

    @property
    def word(self) -> str:
        """What the evidence calls the slot: its label, else its name."""
        return self.label or self.name

    @property
    def at_min(self) -> int:
        return _minutes(self.at)

    @property
    def accept_range(self) -> tuple[int, int]:
        return _minutes(self.accept_from), _minutes(self.accept_to)


@dataclass(frozen=True, slots=True)
class Variant:
    """Seasonal hours (e.g. summer) from ``start`` to ``end`` as (month, day), inclusive."""

    name: str
    start: tuple[int, int]
    end: tuple[int, int]
    slots: tuple[Slot, ...]

    def covers(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # runs across the new year


@dataclass(frozen=True, slots=True)
class Timetable:
    name: str
    slots: tuple[Slot, ...]
    variants: tuple[Variant, ...] = ()

    def slots_on(self, day: date) -> tuple[Slot, ...]:
        for v in self.variants:
            if v.covers(day):
                return v.slots
        return self.slots

    @staticmethod
    def sessions(slots: Sequence[Slot]) -> int:
        return max((s.session for s in slots), default=-1) + 1


def build_slots(items: Sequence[Mapping[str, Any]], path: str) -> tuple[Slot, ...]:
    """Validate and build slots; every problem names its key path."""
    if not items:
        raise RulesError(path, "a timetable needs at least one in/out pair of slots")
    slots: list[Slot] = []
    names: set[str] = set()
    for i, raw in enumerate(items):
        p = f"{path}[{i}]"
        unknown = set(raw) - {"name", "kind", "at", "accept", "grace", "label"}
        if unknown:
            raise RulesError(f"{p}.{sorted(unknown)[0]}", "unknown key")
        name = raw.get("name")
        if not isinstance(name, str) or not name or name == "all":
            raise RulesError(f"{p}.name", "expected a slot name (not 'all')")
        if name in names:
            raise RulesError(f"{p}.name", f"slot {name!r} appears twice")
        names.add(name)
        kind = raw.get("kind")
        if kind not in ("in", "out"):
            raise RulesError(f"{p}.kind", f'expected "in" or "out", got {kind!r}')
        at = parse_hhmm(raw.get("at"), f"{p}.at")
        accept = raw.get("accept", [raw.get("at"), raw.get("at")])
        if not isinstance(accept, (list, tuple)) or len(accept) != 2:
            raise RulesError(f"{p}.accept", 'expected ["HH:MM", "HH:MM"]')
        lo = parse_hhmm(accept[0], f"{p}.accept[0]")
        hi = parse_hhmm(accept[1], f"{p}.accept[1]")
        if not (lo <= at <= hi):
            raise RulesError(f"{p}.accept", f"the acceptance window {lo:%H:%M}–{hi:%H:%M} must contain {at:%H:%M}")
        grace = raw.get("grace", 0)
        if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 240:
            raise RulesError(f"{p}.grace", f"expected whole minutes 0–240, got {grace!r}")
        expected = "in" if i % 2 == 0 else "out"
        if kind != expected:
            raise RulesError(f"{p}.kind", f"slots alternate in, out, in, out…; slot {i + 1} must be {expected!r}")
        label = raw.get("label") or ""
        if not isinstance(label, str):
            raise RulesError(f"{p}.label", f"expected text, got {label!r}")
        slots.append(Slot(name, kind, at, lo, hi, grace, i // 2, label.strip()))
    if len(slots) % 2:
        raise RulesError(path, "slots come in (in, out) pairs; the last 'in' has no 'out'")
    slots = default_labels(slots)
    for i in range(1, len(slots)):
        prev, cur = slots[i - 1], slots[i]
        ref = f'slots[{i - 1}] "{prev.name}"'
        if cur.at <= prev.at:
            raise RulesError(
                f"{path}[{i}].at", f"slots must be in time order: {cur.at:%H:%M} is not after {ref} at {prev.at:%H:%M}"
            )
        if cur.accept_from <= prev.at:
            raise RulesError(
                f"{path}[{i}].accept",
                f"overlaps {ref}: acceptance window starts at {cur.accept_from:%H:%M}, "
                f"not after that slot's expected time {prev.at:%H:%M}",
            )
        if prev.accept_to >= cur.at:
            raise RulesError(
                f"{path}[{i}].accept",
                f"overlaps {ref}: its acceptance window runs to {prev.accept_to:%H:%M}, "
                f"not before this slot's expected time {cur.at:%H:%M}",
            )
    return tuple(slots)


def default_labels(slots: Sequence[Slot]) -> list[Slot]:
    """Give every slot without a ``label`` the word a clerk uses: 上午 or 下午 by its expected time
    (up to 12:00 is the morning: a 12:00 out ends it), 签到 for an in, 签退 for an out; the second
    in-slot of the same half-day is 上午签到2 (and its out 上午签退2), and so on."""
    out: list[Slot] = []
    seen: dict[tuple[str, str], int] = {}
    for s in slots:
        half = "上午" if s.at <= time(12) else "下午"
        key = (half, s.kind)
        seen[key] = seen.get(key, 0) + 1
        if s.label:
            out.append(s)
            continue
        n = seen[key]
        word = f"{half}{'签到' if s.kind == 'in' else '签退'}{n if n > 1 else ''}"
        out.append(replace(s, label=word))
    return out


def _month_day(value: Any, path: str) -> tuple[int, int]:
    if isinstance(value, str):
        parts = value.split("-")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            m, d = int(parts[0]), int(parts[1])
            try:
                date(2000, m, d)  # a leap year accepts 02-29
                return m, d
            except ValueError:
                pass
    raise RulesError(path, f'expected "MM-DD", got {value!r}')


def build_timetable(name: str, data: Mapping[str, Any], path: str | None = None) -> Timetable:
    """A timetable from its TOML table: ``slots`` and optional seasonal ``variants``."""
    path = path or f"timetables.{name}"
    unknown = set(data) - {"slots", "variants"}
    if unknown:
        raise RulesError(f"{path}.{sorted(unknown)[0]}", "unknown key")
    slots = build_slots(data.get("slots") or [], f"{path}.slots")
    variants = []
    for i, v in enumerate(data.get("variants") or []):
        vp = f"{path}.variants[{i}]"
        start = _month_day(v.get("from"), f"{vp}.from")
        end = _month_day(v.get("to"), f"{vp}.to")
        variants.append(
            Variant(
                str(v.get("name") or f"variant {i + 1}"), start, end, build_slots(v.get("slots") or [], f"{vp}.slots")
            )
        )
    leap_year = [date(2000, 1, 1) + timedelta(days=n) for n in range(366)]
    seasons: list[set[date]] = []
    for j, v in enumerate(variants):
        days = {d for d in leap_year if v.covers(d)}
        for i, other in enumerate(seasons):
            if days & other:
                a = variants[i]
                raise RulesError(
                    f"{path}.variants[{j}].from",
                    f"season {_md(v.start)}..{_md(v.end)} overlaps variants[{i}] ({_md(a.start)}..{_md(a.end)})",
                )
        seasons.append(days)
    return Timetable(name, slots, tuple(variants))


def _md(md: tuple[int, int]) -> str:
    return f"{md[0]:02d}-{md[1]:02d}"
