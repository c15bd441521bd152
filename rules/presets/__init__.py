"""The presets shipped with attendd, one TOML file per seed document.

Reading these package files is the only file access in ``rules``: they are
part of the code, and the result depends on nothing outside the package.
"""

from __future__ import annotations

import copy
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from ..errors import RulesError

PRESETS = ("luoshan", "yihuang", "yihuang-staff", "sanjiang", "shangyu", "county-002", "county-004-5")


@cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data.setdefault("name", name)
    return data


def load_preset(name: str, *, path: str = "preset") -> dict[str, Any]:
    """The preset's table (a fresh copy); RulesError naming ``path`` if unknown."""
    if name not in PRESETS:
        raise RulesError(path, f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return copy.deepcopy(_load(name))
