"""Durations as people type them — ``"90s"``, ``"2m"``, ``"1h30m"``, ``"+9559d1m"``, ``"-8h"`` or
plain seconds — for the config (``max_clock_drift``, ``claim_lease``) and the command line
(``quarantine --offset``). One reading for both; each caller bounds and words its own refusal."""

from __future__ import annotations

import math
import re

_UNIT = {"d": 86_400, "h": 3_600, "min": 60, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)(d|h|min|m|s)")
_WHOLE = re.compile(r"[+-]?(?:\d+(?:\.\d+)?(?:d|h|min|m|s))+")


def parse_duration(text: str) -> float | None:
    """Seconds (signed) that ``text`` says, or None when it is no duration. Days, hours, minutes
    (``m`` or ``min``) and seconds; no months or years, whose length varies."""
    value = text.strip().lower().replace(" ", "")
    try:
        seconds = float(value)
    except ValueError:
        if not _WHOLE.fullmatch(value):
            return None
        seconds = sum(float(n) * _UNIT[unit] for n, unit in _PART.findall(value))
        seconds = -seconds if value.startswith("-") else seconds
    return seconds if math.isfinite(seconds) else None
