"""What the rules engine says of the config's timetables and policies: the errors
(:func:`_rules_problems`, part of validation) and :func:`config_warnings` (a valid config's pitfalls)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ._sections import Config


def _rules_problems(data: Mapping[str, Any], source: str, refused: Collection[tuple[str, str]] = ()) -> list[str]:
    """What the rules engine says of the timetables and policies: slot order and overlap,
    seasons, an unknown preset, and every mistake in a policy's overrides (each with "did
    you mean" for a misspelt key).

    The rules own these checks so that a timetable or policy means the same to
    ``check-config`` as to an evaluation. They run on the raw data, alongside the file's
    other checks, so one run reports everything; ``refused`` names the ``(section, name)``
    tables those checks already refused, which are not checked again.
    """
    from rules import RulesError, build_timetable
    from rules.policy import policy_problems

    problems = []
    for name, table in _tables(data, "timetables"):
        if ("timetables", name) in refused:
            continue
        try:
            build_timetable(name, table, f"timetables.{name}")
        except RulesError as exc:
            problems.append(f"{source}: {exc}")
    for name, table in _tables(data, "policies"):
        if ("policies", name) in refused or not isinstance(table.get("preset"), str):
            continue
        overrides = {k: v for k, v in table.items() if k != "preset"}
        problems += [f"{source}: {exc}" for exc in policy_problems(name, table["preset"], overrides)]
    return problems


def _tables(data: Mapping[str, Any], section: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``[section.NAME]`` tables of the raw data that are tables (the rest is refused elsewhere)."""
    tables = data.get(section)
    if not isinstance(tables, Mapping):
        return []
    return [(str(name), table) for name, table in tables.items() if isinstance(table, Mapping)]


def config_warnings(config: Config, source: str = "<config>") -> list[str]:
    """What a valid config still gets wrong, as ``source: key.path: message`` lines (warnings:
    the config loads and evaluates; ``attendd check-config`` prints them).

    A policy that turns a late or early beyond ``day.absence_after_minutes`` into absence (三江:
    迟到早退超过1.5小时的按旷工处理) cannot apply it to a slot whose session is too short for such a
    punch: a punch counts for a missing slot only inside its session (between the in- and
    out-slot's due times), so a session of 90 minutes or less never shows a late of more than 90.
    A warning, not an error: the session may be what the site really works (a short duty); the
    site either accepts that the rule cannot apply there or overrides the policy.
    """
    from rules import RulesError, build_timetable, resolve_policy

    out: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for window in config.windows:
        table, pol = config.timetables.get(window.timetable), config.policies.get(window.policy)
        if table is None or pol is None:
            continue
        try:
            policy = resolve_policy(window.policy, pol.preset, pol.overrides)
            tt = build_timetable(window.timetable, table.model_dump(by_alias=True))
        except RulesError:
            continue  # reported as an error elsewhere
        threshold = policy.day.absence_after_minutes
        if threshold is None:
            continue
        base = f"timetables.{window.timetable}"
        for where, slots in [(base, tt.slots)] + [
            (f"{base}.variants[{j}]", v.slots) for j, v in enumerate(tt.variants)
        ]:
            for i in range(0, len(slots) - 1, 2):
                first, last = slots[i], slots[i + 1]
                span = last.at_min - first.at_min
                if span - 1 > threshold:
                    continue
                for k, slot, what, word in (
                    (i, first, "a late arrival", "late"),
                    (i + 1, last, "an early departure", "early"),
                ):
                    key = (where, slot.name, window.policy)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(
                        f'{source}: {where}.slots[{k}]: policy "{window.policy}" counts {what} of more than '
                        f"{threshold} minutes as absence (day.absence_after_minutes), but {slot.name}'s session runs "
                        f"{first.at:%H:%M}–{last.at:%H:%M} ({span} minutes), so no punch for {slot.name} can be that "
                        f"{word}: the rule never applies to this slot"
                    )
    return out
