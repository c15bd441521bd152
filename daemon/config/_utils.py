"""Small helpers for the config's messages: showing values as written, raising located problems."""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

#: The longest value shown whole in a message; longer ones are cut, so a problem stays one short line.
_LONGEST = 80


def _show(value: object) -> str:
    """A value as the admin wrote it in TOML, for ``got …`` in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10**_LONGEST:  # a huge number: its length says enough
        return f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= _LONGEST else f'{text[: _LONGEST - 4]}…" ({len(value)} characters)'
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
        return text if len(text) <= 60 else text[:57] + "...]"
    return str(value)


def _problem(message: str, **ctx: Any) -> PydanticCustomError:
    """A validation error whose message is shown as-is (no "Value error, " prefix)."""
    return PydanticCustomError("attendd", "{message}", {**ctx, "message": message})


def _located(title: str, errors: Sequence[tuple[tuple[str | int, ...], str, object]]) -> ValidationError:
    """Several errors at locations relative to the model being validated.

    Raised from a validator, pydantic prefixes each location with the
    model's own, so a timetable can point at ``slots[2].accept``.
    """
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("attendd", "{message}", {"message": msg}), loc=loc, input=inp)
            for loc, msg, inp in errors
        ],
    )


def _checked(check: typing.Callable[[Any], Any], value: Any) -> Any:
    """``check(value)`` (unless None), its ValueError turned into a located config problem."""
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise _problem(str(exc)) from None


def _did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
