"""Entry points: finding, reading and validating a config file, or the embedded default one."""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError
from ..files import read_user_file
from ._problems import _format_loc, _in_file_order, _problems
from ._rules_checks import _rules_problems
from ._sections import Config, _sqlite_url

#: Where :func:`find_config` looks when no ``--config`` is given, in order.
DEFAULT_CONFIG_PATHS: tuple[Path, ...] = (Path("/etc/attendd/attendd.toml"), Path("attendd.toml"))


def config_from_dict(data: Mapping[str, Any], *, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate already-parsed TOML data; :class:`ConfigError` lists every problem.

    ``source`` names the file in messages; a relative ``daemon.state_dir`` (or
    SQLite path in ``store.url`` / ``scoring.url``, or bulletin path) is taken
    relative to ``base_dir`` (the config file's directory) when given.
    """
    if (deep := _too_deep(data)) is not None:
        raise ConfigError([f"{source}: {_format_loc(deep[:3])}…: {_DEEP}"])
    try:
        config: Config | None = Config.model_validate(data, context={"base_dir": base_dir})
        lines: list[str] = []
        refused: set[tuple[str, str]] = set()
    except ValidationError as exc:
        config, lines = None, _problems(exc, source, data)
        refused = {(str(e["loc"][0]), str(e["loc"][1])) for e in exc.errors() if len(e["loc"]) > 1}
    lines += _rules_problems(data, source, refused)  # with the rest, so one run reports everything
    if lines or config is None:
        raise ConfigError(_in_file_order(lines, source))
    return config


#: How deep arrays and tables may nest (a real config needs five levels; Python's parser
#: and validators recurse, so a file nested thousands deep would crash them).
MAX_DEPTH = 32
_DEEP = f"values nested too deeply (more than {MAX_DEPTH} levels of arrays and tables)"
_MAX_DIGITS = sys.get_int_max_str_digits() or 4300


_KEY_PART = r"""(?:[A-Za-z0-9_\-]+|"[^"\n]*"|'[^'\n]*')"""
#: A dotted key (``a.b.c = 1``, ``[a.b.c]``, ``{ a.b.c = 1 }``) of more than MAX_DEPTH parts.
_DEEP_KEY = re.compile(
    rf"(?:^|[{{,])[ \t]*\[*[ \t]*{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{MAX_DEPTH},}}", re.MULTILINE
)


def _too_deep(data: object) -> tuple[str | int, ...] | None:
    """The key path of the first value nested more than :data:`MAX_DEPTH` deep, or None
    (iterative, so that no depth can make it recurse)."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_DEPTH:
            return loc[: MAX_DEPTH + 1]
        if isinstance(value, Mapping):
            stack += [(v, (*loc, str(k))) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, (*loc, i)) for i, v in enumerate(value)]
    return None


def _line_of_deep_nesting(text: str) -> int | None:
    """The line where brackets first nest beyond :data:`MAX_DEPTH` (strings and comments
    skipped, roughly: it only points the admin at the place), or None."""
    depth, quote, line, i = 0, "", 1, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line += 1
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    """``tomllib.loads``, every failure one located problem: syntax errors, and what the parser
    cannot take at all (an integer of thousands of digits, arrays nested thousands deep)."""
    if m := _DEEP_KEY.search(text):  # tomllib takes quadratic time over such a key: refuse it first
        raise ConfigError([f"{path}: line {text[: m.start()].count(chr(10)) + 1}: {_DEEP}"])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if m := _TOML_POSITION.match(message):
            message = f"line {m['line']}, column {m['col']}: {m['msg']}"
        raise ConfigError([f"{path}: {message}"]) from None
    except ValueError:  # int(): more digits than Python converts
        m = re.search(rf"[0-9](?:_?[0-9]){{{_MAX_DIGITS},}}", text)
        where = f"line {text[: m.start()].count(chr(10)) + 1}: " if m else ""
        raise ConfigError([f"{path}: {where}integer too long: at most {_MAX_DIGITS} digits"]) from None
    except RecursionError:
        line = _line_of_deep_nesting(text)
        raise ConfigError([f"{path}: {f'line {line}: ' if line else ''}{_DEEP}"]) from None


_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.DOTALL)


def load_config(path: Path) -> Config:
    """Read and validate a config file.

    Raises :class:`UserError` (``path: no such file``) when it cannot be read,
    and :class:`ConfigError` for TOML syntax errors (``path: line N, column M:
    message``), values the parser cannot take (``path: line N: integer too long …``)
    and for invalid content (``path: key.path: message``, all of them).
    """
    path = Path(path)
    raw = read_user_file(path, what="TOML file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([f"{path}: line {line}: not UTF-8 text; save the file as UTF-8"]) from None
    data = _parse_toml(text, path)
    return config_from_dict(data, source=str(path), base_dir=path.parent)


def find_config(explicit: Path | None, *, candidates: tuple[Path, ...] | None = None) -> Path | None:
    """The config file to use: ``explicit`` if given (even if missing, so
    loading reports it), else the first of ``/etc/attendd/attendd.toml`` and
    ``./attendd.toml`` that exists, else None (run on :func:`default_config`).
    """
    if explicit is not None:
        return Path(explicit)
    for candidate in DEFAULT_CONFIG_PATHS if candidates is None else candidates:
        if candidate.is_file():
            return candidate
    return None


#: SPEC §4.5's standard timetable (罗山-style hours: 09:00–12:00, 13:00–17:00).
STANDARD_TIMETABLE: dict[str, Any] = {
    "slots": [
        {"name": "am_in", "kind": "in", "at": "09:00", "accept": ["07:00", "10:30"]},
        {"name": "am_out", "kind": "out", "at": "12:00", "accept": ["11:00", "12:50"]},
        {"name": "pm_in", "kind": "in", "at": "13:00", "accept": ["12:30", "15:00"]},
        {"name": "pm_out", "kind": "out", "at": "17:00", "accept": ["16:00", "20:00"]},
    ]
}


def default_config(state_dir: Path) -> Config:
    """The embedded configuration used when there is no file.

    A demo centre in Asia/Shanghai, SQLite store and scoring DB in
    ``state_dir``, the standard timetable and a ``hall`` policy on the
    ``luoshan`` preset, and no devices or windows.
    """
    state_dir = Path(state_dir)
    return config_from_dict(
        {
            "site": {"name": "演示政务服务中心", "timezone": "Asia/Shanghai"},
            "store": {"url": _sqlite_url(state_dir / "attendd.db")},
            "scoring": {"url": _sqlite_url(state_dir / "scoring.db")},
            "daemon": {"state_dir": str(state_dir)},
            "timetables": {"standard": STANDARD_TIMETABLE},
            "policies": {"hall": {"preset": "luoshan"}},
        },
        source="<default config>",
    )
