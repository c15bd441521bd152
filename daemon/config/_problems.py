"""Problem messages: pydantic's validation errors turned into ``file: key.path: message`` lines.

Values are shown as written in the file (``got …``), except under keys that look secret.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from ..logging import mask_url_password
from ._sections import _SECTION_ORDER, Config
from ._utils import _did_you_mean, _show

_SECRET_KEYS = re.compile(r"comm_?key|passw(or)?d|secret|token", re.IGNORECASE)


def _format_loc(loc: tuple[str | int, ...], data: Mapping[str, Any] | None = None) -> str:
    """``("devices", 1, "port")`` → ``devices[1].port``; odd table names are quoted as in TOML.

    With the file's ``data``, a device also shows its name, ``devices[1] (hall-east).port``:
    the admin knows the terminal by name, not by its place in the file.
    """
    out = ""
    for n, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if n == 1 and loc[0] == "devices" and (name := _device_name(data, part)):
                out += f" ({name})"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_\-]+", part) else json.dumps(part, ensure_ascii=False)
            out += f".{key}" if out else key
    return out or "(top level)"


def _device_name(data: Mapping[str, Any] | None, index: int) -> str | None:
    """The ``name`` of ``devices[index]`` as written (quoted if odd), or None."""
    devices = data.get("devices") if isinstance(data, Mapping) else None
    if not isinstance(devices, list) or not 0 <= index < len(devices) or not isinstance(devices[index], Mapping):
        return None
    name = devices[index].get("name")
    if not isinstance(name, str) or not name:
        return None
    return name if re.fullmatch(r"[\w.\-]+", name) else json.dumps(name, ensure_ascii=False)


def _strip_type(tp: Any) -> Any:
    """``Annotated[X, …]`` → X, ``X | None`` → X."""
    while True:
        if typing.get_origin(tp) is Annotated:
            tp = typing.get_args(tp)[0]
            continue
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
            tp = args[0]
            continue
        return tp


def _type_at(loc: tuple[str | int, ...]) -> Any:
    """The declared type at ``loc`` inside :class:`Config` (None where it cannot tell)."""
    tp: Any = Config
    for part in loc:
        tp = _strip_type(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = {(f.alias or n): f for n, f in tp.model_fields.items()}
            tp = fields[part].annotation if part in fields else None
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    return _strip_type(tp)


def _known_keys(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


#: Error types raised by this package (the checks in _fields, _sections, _utils), whose messages are already final.
_OWN_MESSAGES = {"attendd", "clock_time", "month_day", "name", "encoding", "db_url", "timezone"}

_MESSAGES = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "date_parsing": 'expected a date "YYYY-MM-DD"',
    "date_type": 'expected a date "YYYY-MM-DD"',
    "date_from_datetime_parsing": 'expected a date "YYYY-MM-DD"',
    "date_from_datetime_inexact": 'expected a date "YYYY-MM-DD" without a time',
    "path_type": "expected a path",
}


def _message(error: Mapping[str, Any]) -> str:
    """A readable message for one pydantic error, ending in ``got …`` where that helps."""
    ctx, loc, value = error.get("ctx") or {}, tuple(error["loc"]), error.get("input")
    kind = ctx.get("original_type", error["type"])  # errors re-raised by Config's cross-reference check
    if kind in _OWN_MESSAGES:
        return str(error["msg"])
    secret = any(isinstance(p, str) and _SECRET_KEYS.search(p) for p in loc)
    got = "" if secret else f", got {mask_url_password(_show(value))}"
    if kind == "extra_forbidden":
        known = _known_keys(_type_at(loc[:-1]))
        hint = _did_you_mean(str(loc[-1]), known)
        return f"unknown key{hint}" if hint or not known else f"unknown key; known keys: {', '.join(known)}"
    if kind == "missing":
        tp = _type_at(loc)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return "required table is missing"
        return "required key is missing"
    if kind == "literal_error":
        return f"expected {str(ctx.get('expected', '')).replace(chr(39), chr(34))}{got}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"takes at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {
            "greater_than_equal": ("at least", "ge"),
            "less_than_equal": ("at most", "le"),
            "greater_than": ("more than", "gt"),
            "less_than": ("less than", "lt"),
        }[kind]
        limit = ctx.get(bound[1])
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {bound[0]} {limit}{got}"
    if kind == "string_pattern_mismatch":
        return f"expected no spaces or slashes{got}"
    if kind in _MESSAGES:
        return _MESSAGES[kind] + got
    msg = str(error["msg"]).replace("Input should be", "expected")
    return msg + got


def _problems(exc: ValidationError, source: str, data: Mapping[str, Any] | None = None) -> list[str]:
    """Every error as ``source: key.path: message``, in the file's section order
    (``data``, the file's content, names the devices in paths)."""
    errors = list(exc.errors())

    def order(item: tuple[int, Mapping[str, Any]]) -> tuple[int, int, int]:
        index, error = item
        loc = error["loc"]
        head = loc[0] if loc else ""
        entry = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1  # devices[N], windows[N]
        return (_SECTION_ORDER.index(head) if head in _SECTION_ORDER else -1, entry, index)

    lines = []
    for _, error in sorted(enumerate(errors), key=order):
        loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":  # a table's name is itself invalid
            where = _format_loc(loc[:-1], data)
            lines.append(f"{source}: {where}: invalid name: {_message({**error, 'loc': loc[:-1]})}")
            continue
        lines.append(f"{source}: {_format_loc(loc, data)}: {_message(error)}")
    return lines


def _in_file_order(lines: list[str], source: str) -> list[str]:
    """``source: key.path: message`` lines sorted by their section's place in the file
    (stable: within a section, the order they came in)."""

    def section(line: str) -> int:
        head = re.match(r"[A-Za-z_]*", line[len(source) + 2 :])
        name = head[0] if head else ""
        return _SECTION_ORDER.index(name) if name in _SECTION_ORDER else -1

    return sorted(lines, key=section)
