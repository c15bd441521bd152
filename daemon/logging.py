"""Structured logging: one processor chain for our logs and every library's.

Set up the way PyPI's warehouse does it: structlog loggers hand their event
dict to the standard library (``ProcessorFormatter.wrap_for_formatter``), and
one :class:`structlog.stdlib.ProcessorFormatter` on the root handler renders
both those and plain ``logging`` records from SQLAlchemy, APScheduler, pyzk or
Alembic. So every line has the same keys (``timestamp``, ``level``, ``logger``,
``event`` and the bound context) and goes through the same redaction.

* Output: JSON lines when stderr is not a terminal (journald, files) or
  ``fmt="json"``; readable console rendering on a terminal or ``fmt="console"``.
* Context: bind it per operation with
  ``structlog.contextvars.bound_contextvars(device=..., job=..., period=...)``;
  the chain merges it into every line logged inside, by us or by a library.
* Secrets (SPEC §6: comm keys and DB passwords are never logged): the
  :func:`redact` processor masks values of secret-named keys (``comm_key``,
  ``password``, ``token`` …), passwords inside URLs, and every string given to
  :func:`register_secret`, wherever they occur, tracebacks included. It runs
  after tracebacks are turned into text, and the console renderer is given
  plain tracebacks, never rich ones that print local variables.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

__all__ = ["MASK", "clear_secrets", "mask_url_password", "redact", "register_secret", "setup_logging"]

#: What a secret is replaced with.
MASK = "***"

_SECRET_KEY = re.compile(r"comm_?key|passw(or)?d|pwd|secret|token|api_?key", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):(?P<pw>[^\s/]*)@")
#: A password given as a URL query parameter (``?password=pw``, ``&passwd=pw``), which the
#: database drivers accept as well as one in the userinfo.
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|passwd|pwd)=)(?P<pw>[^&#\s\"'<>]*)", re.IGNORECASE)

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

#: Libraries whose INFO is noise at the daemon's default level (SQLAlchemy logs every statement).
# SQLAlchemy logs every statement at INFO; Alembic announces its dialect on every open.
_QUIET_LIBRARIES = {"sqlalchemy": logging.WARNING, "alembic": logging.WARNING}

_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()
_handler: logging.Handler | None = None


# --------------------------------------------------------------------------
# secrets


def register_secret(value: str | int) -> None:
    """Never log ``value``: mask it wherever it appears in a logged string.

    Call it for every comm key and password once the config is loaded
    (``for s in config.secrets(): register_secret(s)``). Values shorter than
    3 characters are ignored: masking "0" or "12" would garble every line.
    """
    text = str(value)
    if len(text) < 3:
        return
    global _secrets_pattern
    with _lock:
        if text in _secrets:
            return
        _secrets.add(text)
        longest_first = sorted(_secrets, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in longest_first))


def clear_secrets() -> None:
    """Forget every registered secret (for tests)."""
    global _secrets_pattern
    with _lock:
        _secrets.clear()
        _secrets_pattern = None


def mask_url_password(text: str) -> str:
    """``postgresql://user:pw@host/db`` → ``postgresql://user:***@host/db``, anywhere in ``text``;
    likewise a password given as a query parameter: ``…/db?password=pw`` → ``…/db?password=***``."""
    text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + (MASK if m["pw"] else ""), text)


def _scrub_text(text: str) -> str:
    text = mask_url_password(text)
    pattern = _secrets_pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def _scrub(value: Any) -> Any:
    """``value`` with every secret masked, recursing into dicts, lists and tuples.

    Other objects are turned into the text the renderers would print (``repr``;
    ISO format for dates and times, ``str`` for paths), so nothing escapes the scan.
    """
    if isinstance(value, str):
        return _scrub_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        pattern = _secrets_pattern
        return MASK if pattern is not None and pattern.search(str(value)) else value
    if isinstance(value, Mapping):
        return {k: (MASK if _is_secret_key(k) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return _scrub_text(str(value))
    return _scrub_text(repr(value))


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every key and value of the event.

    (a) the value of a key named like a secret (``comm_key``, ``password``,
    ``passwd``, ``secret``, ``token``) becomes ``***``; (b) ``scheme://user:pw@``
    becomes ``scheme://user:***@`` and ``?password=pw`` becomes ``?password=***``
    in any string; (c) every string registered with :func:`register_secret`
    becomes ``***`` in any string or number.
    """
    return {
        key: (MASK if _is_secret_key(key) and value is not None else _scrub(value)) for key, value in event_dict.items()
    }


_LEADING_KEYS = ("timestamp", "level", "logger", "event")


def _leading_keys_first(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Put ``timestamp, level, logger, event`` first so JSON lines read well by eye."""
    head = {k: event_dict[k] for k in _LEADING_KEYS if k in event_dict}
    return {**head, **{k: v for k, v in event_dict.items() if k not in head}}


# --------------------------------------------------------------------------
# set-up


def _shared_processors() -> list[Processor]:
    """What both our events and stdlib records go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _foreign_pre_chain() -> list[Processor]:
    """The shared processors for plain ``logging`` records, plus their ``extra={...}`` fields."""
    return [*_shared_processors(), structlog.stdlib.ExtraAdder(), _drop_formatter_leftovers]


def _drop_formatter_leftovers(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Drop ``message`` / ``asctime``, which another handler's Formatter may have left on the record."""
    event_dict.pop("message", None)
    event_dict.pop("asctime", None)
    return event_dict


def _renderer(fmt: str, stream: TextIO) -> Processor:
    tty = _isatty(stream)
    if fmt == "auto":
        fmt = "console" if tty else "json"
    if fmt == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False, sort_keys=False)
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=tty, exception_formatter=structlog.dev.plain_traceback)
    raise ValueError(f"unknown log format {fmt!r}: expected auto, json or console")


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def setup_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Route all logging, ours and the libraries', through one chain to ``stream`` (stderr).

    ``fmt`` is ``auto`` (console on a terminal, JSON lines otherwise),
    ``json`` or ``console``; ``level`` a level name. Calling it again
    replaces the handler it installed before (tests re-point the stream);
    handlers installed by others (pytest's caplog) are left alone.
    """
    global _handler
    if level.lower() not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}: expected one of {', '.join(_LEVELS)}")
    stream = sys.stderr if stream is None else stream
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_foreign_pre_chain(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # tracebacks become text here, so redact sees them
            redact,
            _leading_keys_first,
            _renderer(fmt.lower(), stream),
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.set_name("attendd")

    root = logging.getLogger()
    with _lock:
        if _handler is not None:
            root.removeHandler(_handler)
        root.addHandler(handler)
        _handler = handler
    root.setLevel(_LEVELS[level.lower()])
    for name, quiet in _QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger made before setup_logging (module level, tests)
        # must still follow the configuration in force when it logs.
        cache_logger_on_first_use=False,
    )
