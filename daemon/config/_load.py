"""Entry points: finding, reading and validating a config file, or the embedded default one."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError
from ..files import read_user_file
from ._problems import _problems
from ._rules_checks import _rules_problems
from ._sections import Config, _sqlite_url

#: Where :func:`find_config` looks when no ``--config`` is given, in order.
DEFAULT_CONFIG_PATHS: tuple[Path, ...] = (Path("/etc/attendd/attendd.toml"), Path("attendd.toml"))


def config_from_dict(data: Mapping[str, Any], *, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate already-parsed TOML data; :class:`ConfigError` lists every problem.

    ``source`` names the file in messages; a relative ``daemon.state_dir`` is
    taken relative to ``base_dir`` (the config file's directory) when given.
    """
    try:
        config = Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_problems(exc, source)) from None
    if problems := _rules_problems(data, source):
        raise ConfigError(problems)
    return config


_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.DOTALL)


def load_config(path: Path) -> Config:
    """Read and validate a config file.

    Raises :class:`UserError` (``path: no such file``) when it cannot be read,
    and :class:`ConfigError` for TOML syntax errors (``path: line N, column M:
    message``) and for invalid content (``path: key.path: message``, all of them).
    """
    path = Path(path)
    raw = read_user_file(path, what="TOML file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([f"{path}: line {line}: not UTF-8 text; save the file as UTF-8"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if m := _TOML_POSITION.match(message):
            message = f"line {m['line']}, column {m['col']}: {m['msg']}"
        raise ConfigError([f"{path}: {message}"]) from None
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
