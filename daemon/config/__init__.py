"""The configuration file: one TOML document, validated as a whole (SPEC §4.5).

Everything the daemon does is driven by a :class:`Config`. It is checked
completely before anything runs, and *every* problem is reported at once as
``file: key.path: message`` (e.g. ``attendd.toml: devices[1].port: must be
at most 65535, got 70000``), so an admin fixes the file in one go. Unknown
keys are errors everywhere except inside ``[policies.NAME]``, whose extra keys
are preset overrides that the rules engine validates.

Secrets (terminal comm keys, passwords inside database URLs) never show up in
``repr()`` / ``str()`` or in ``model_dump()`` / ``model_dump_json()`` unless
asked for with ``context={"reveal_secrets": True}``; :meth:`Config.secrets`
lists them so the logging set-up can mask them (:func:`daemon.logging.register_secret`).

Entry points: :func:`find_config`, :func:`load_config`, :func:`config_from_dict`,
:func:`default_config`; :func:`config_warnings` for what a valid config still gets wrong.

Import everything from ``daemon.config``; the private modules are its parts:
``_utils`` (showing values, raising located problems), ``_fields`` (value types
and their checks), ``_sections`` (the pydantic models), ``_references``
(cross-reference checks on the raw data), ``_problems`` (errors → ``file:
key.path: message``), ``_rules_checks`` (what the rules engine says of timetables
and policies), ``_load`` (the entry points).
"""

from __future__ import annotations

from ._fields import ClockTime as ClockTime
from ._fields import DbUrl as DbUrl
from ._fields import MonthDay as MonthDay
from ._fields import Name as Name
from ._fields import Text as Text
from ._load import DEFAULT_CONFIG_PATHS, config_from_dict, default_config, find_config, load_config
from ._load import STANDARD_TIMETABLE as STANDARD_TIMETABLE
from ._rules_checks import config_warnings as config_warnings
from ._sections import BULLETIN_FORMATS as BULLETIN_FORMATS
from ._sections import DEFAULT_PULL_TIMES as DEFAULT_PULL_TIMES
from ._sections import (
    DEFAULT_STATE_DIR,
    AppealsSection,
    Config,
    DaemonSection,
    Device,
    LoggingSection,
    Policy,
    Scoring,
    Site,
    Slot,
    Store,
    Timetable,
    TimetableVariant,
    WebSection,
    Window,
    default_state_dir,
)
from ._sections import AssessmentSection as AssessmentSection
from ._sections import BulletinFormat as BulletinFormat
from ._sections import BulletinPeriod as BulletinPeriod
from ._sections import BulletinSection as BulletinSection
from ._sections import CalendarSection as CalendarSection
from ._sections import Driver as Driver
from ._sections import DutyRota as DutyRota
from ._sections import RankingGroupSection as RankingGroupSection
from ._sections import parse_listen as parse_listen

__all__ = [
    "AppealsSection",
    "DEFAULT_CONFIG_PATHS",
    "DEFAULT_STATE_DIR",
    "Config",
    "DaemonSection",
    "Device",
    "LoggingSection",
    "Policy",
    "Scoring",
    "Site",
    "Slot",
    "Store",
    "Timetable",
    "TimetableVariant",
    "WebSection",
    "Window",
    "config_from_dict",
    "default_config",
    "default_state_dir",
    "find_config",
    "load_config",
]
