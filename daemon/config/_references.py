"""Cross-reference checks on the raw TOML data: duplicate names and references to undefined ones.

They run on the raw data (from :class:`~daemon.config.Config`'s wrap validator) so that they
are reported together with every other problem of the file, not after those are fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError

from ._utils import _did_you_mean


def _cross_reference_errors(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Duplicate device names / window codes, and windows naming what does not exist."""
    errors: list[dict[str, Any]] = []

    def err(loc: tuple[str | int, ...], msg: str, value: object) -> None:
        errors.append({"loc": loc, "msg": msg, "input": value})

    def names_in(section: str, key: str, what: str) -> list[str] | None:
        items = data.get(section, [])
        if not isinstance(items, list):
            return None
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            name = item.get(key) if isinstance(item, Mapping) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                err((section, i, key), f'duplicate {what} "{name}" (also {section}[{seen[name]}])', name)
            seen.setdefault(name, i)
        return list(seen)

    device_names = names_in("devices", "name", "device name")
    devices = data.get("devices", [])
    pushing: dict[str, int] = {}
    for i, d in enumerate(devices if isinstance(devices, list) else []):
        if isinstance(d, Mapping) and d.get("driver") == "adms" and isinstance(d.get("serial"), str):
            if d["serial"] in pushing:  # the serial is how a push says whose it is
                err(
                    ("devices", i, "serial"),
                    f'duplicate adms serial "{d["serial"]}" (also devices[{pushing[d["serial"]]}])',
                    d["serial"],
                )
            pushing.setdefault(d["serial"], i)
    names_in("windows", "code", "window code")

    def check_ref(loc: tuple[str | int, ...], value: object, defined: list[str] | None, what: str) -> None:
        if not isinstance(value, str) or defined is None or value in defined:
            return
        if defined:
            listed = ", ".join(f'"{n}"' for n in defined)
            err(loc, f'unknown {what} "{value}"{_did_you_mean(value, defined)}; defined: {listed}', value)
        else:
            err(loc, f'unknown {what} "{value}": none is defined', value)

    def table_names(section: str) -> list[str] | None:
        tables = data.get(section, {})
        return list(tables) if isinstance(tables, Mapping) else None

    timetables, policies = table_names("timetables"), table_names("policies")
    windows = data.get("windows", [])
    for i, window in enumerate(windows if isinstance(windows, list) else []):
        if not isinstance(window, Mapping):
            continue
        check_ref(("windows", i, "timetable"), window.get("timetable"), timetables, "timetable")
        check_ref(("windows", i, "policy"), window.get("policy"), policies, "policy")
        devices = window.get("devices")
        for j, name in enumerate(devices if isinstance(devices, list) else []):
            check_ref(("windows", i, "devices", j), name, device_names, "device")
    window_codes = (
        [w["code"] for w in windows if isinstance(w, Mapping) and isinstance(w.get("code"), str)]
        if isinstance(windows, list)
        else None
    )
    rotas = data.get("duty_rotas", [])
    for i, rota in enumerate(rotas if isinstance(rotas, list) else []):
        if not isinstance(rota, Mapping):
            continue
        # no [timetables] means the standard one (SPEC §4.5)
        check_ref(("duty_rotas", i, "timetable"), rota.get("timetable"), timetables or ["standard"], "timetable")
        if "window" in rota:
            check_ref(("duty_rotas", i, "window"), rota.get("window"), window_codes, "window")
    groups = data.get("ranking_groups", {})
    if isinstance(groups, Mapping) and isinstance(windows, list):
        used = {w.get("ranking_group") for w in windows if isinstance(w, Mapping)}
        for name in groups:
            if name not in used:  # most likely a typo in a window's ranking_group
                err(("ranking_groups", name), f'no window has ranking_group = "{name}"', name)
    return errors


def _as_init_error(error: Mapping[str, Any]) -> InitErrorDetails:
    """Re-raise a reported error unchanged (message and location) inside a new ValidationError."""
    ctx = dict(error.get("ctx") or {})
    ctx.update(message=error["msg"], original_type=error.get("type", "attendd"))
    return InitErrorDetails(
        type=PydanticCustomError("attendd", "{message}", ctx),
        loc=tuple(error["loc"]),
        input=error.get("input"),
    )
