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
:func:`default_config`.
"""

from __future__ import annotations

import codecs
import difflib
import ipaddress
import json
import os
import re
import tomllib
import types
import typing
import urllib.parse
import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Secret,
    SerializationInfo,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .errors import ConfigError, UserError
from .logging import mask_url_password

__all__ = [
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
    "Window",
    "config_from_dict",
    "default_config",
    "default_state_dir",
    "find_config",
    "load_config",
]

#: Where :func:`find_config` looks when no ``--config`` is given, in order.
DEFAULT_CONFIG_PATHS: tuple[Path, ...] = (Path("/etc/attendd/attendd.toml"), Path("attendd.toml"))

#: The state directory when neither ``$STATE_DIRECTORY`` nor ``daemon.state_dir`` says otherwise.
DEFAULT_STATE_DIR = Path("/var/lib/attendd")

#: The four daily pulls of SPEC §4.5: ten minutes after each check slot's expected time.
DEFAULT_PULL_TIMES = ("09:10", "12:10", "13:10", "17:10")

_MASK = "**********"


# --------------------------------------------------------------------------
# small helpers: showing values, masking URL passwords, raising located errors


def _show(value: object) -> str:
    """A value as the admin wrote it in TOML, for ``got …`` in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
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


def _located(title: str, errors: list[tuple[tuple[str | int, ...], str, object]]) -> ValidationError:
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


# --------------------------------------------------------------------------
# value types


_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_clock(value: object) -> time:
    """``"HH:MM"`` (or a TOML local time with zero seconds) → :class:`datetime.time`."""
    if isinstance(value, time) and value.tzinfo is None and not value.second and not value.microsecond:
        return value
    if isinstance(value, str) and (m := _HHMM.match(value)):
        hour, minute = int(m[1]), int(m[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise PydanticCustomError("clock_time", 'expected "HH:MM", got {got}', {"got": _show(value)})


#: A wall-clock time of day written ``"HH:MM"``; dumps back to ``"HH:MM"``.
ClockTime = Annotated[time, BeforeValidator(_parse_clock), PlainSerializer(lambda t: t.strftime("%H:%M"))]

_MMDD = re.compile(r"^(\d{2})-(\d{2})$")


def _check_month_day(value: object) -> str:
    """``"MM-DD"`` naming a real day of a leap year (``02-29`` allowed)."""
    if isinstance(value, str) and (m := _MMDD.match(value)):
        try:
            date(2024, int(m[1]), int(m[2]))
        except ValueError:
            pass
        else:
            return value
    raise PydanticCustomError("month_day", 'expected "MM-DD", got {got}', {"got": _show(value)})


#: A day of the year written ``"MM-DD"`` (seasonal timetables).
MonthDay = Annotated[str, BeforeValidator(_check_month_day)]

_NAME = re.compile(r"^[\w.\-]+$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise PydanticCustomError(
            "name", 'expected letters, digits, "_", "-" or ".", no spaces, got {got}', {"got": _show(value)}
        )
    return value


#: A name other keys refer to (device, timetable, policy, window code, slot).
Name = Annotated[str, Field(min_length=1), AfterValidator(_check_name)]

#: Free text that must not be empty (display names).
Text = Annotated[str, Field(min_length=1)]


def _check_encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise PydanticCustomError("encoding", "unknown text encoding {got}", {"got": _show(value)}) from None
    return value


def _check_db_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise PydanticCustomError(
            "db_url",
            "expected a SQLAlchemy database URL such as postgresql+psycopg://user@host/db "
            "or sqlite:////var/lib/attendd/attendd.db, got {got}",
            {"got": mask_url_password(_show(value))},
        ) from None
    return value


#: A SQLAlchemy database URL; its password is masked in repr and dumps.
DbUrl = Annotated[str, Field(min_length=1), AfterValidator(_check_db_url)]


def _url_password(url: str | None) -> list[str]:
    """The password of a database URL, as written and decoded (both may be logged)."""
    if not url:
        return []
    from sqlalchemy.engine import make_url

    try:
        as_written = urllib.parse.urlsplit(url).password  # percent-encoded, as in the file
    except ValueError:
        as_written = None
    return sorted(p for p in {make_url(url).password, as_written} if p)


class _Section(BaseModel):
    """Base of every config table: unknown keys are errors, values are read-only.

    Dumps use the file's key names (``schema``, ``from``), so a dump validates again.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)


def _reveal(info: SerializationInfo) -> bool:
    return bool(isinstance(info.context, Mapping) and info.context.get("reveal_secrets"))


class _HasDbUrl(_Section):
    """A section with an optional database ``url`` whose password never shows."""

    url: DbUrl | None = None

    @field_serializer("url")
    def _dump_url(self, url: str | None, info: SerializationInfo) -> str | None:
        return url if url is None or _reveal(info) else mask_url_password(url)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for key, value in super().__repr_args__():
            yield key, (mask_url_password(value) if key == "url" and isinstance(value, str) else value)


# --------------------------------------------------------------------------
# sections


class Site(_Section):
    """``[site]``: the centre, named on bulletins, and its time zone (terminals keep local time)."""

    name: Text
    timezone: str = "Asia/Shanghai"
    #: Go-live date: days before it are not scheduled for anyone (no records were
    #: kept then), so a year's counting rules do not read them as absences.
    since: date | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = _did_you_mean(value, zoneinfo.available_timezones())
            raise PydanticCustomError(
                "timezone", "unknown time zone {got}{hint}", {"got": _show(value), "hint": hint}
            ) from None
        return value

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The site's time zone, e.g. ``ZoneInfo("Asia/Shanghai")``."""
        return zoneinfo.ZoneInfo(self.timezone)


class Store(_HasDbUrl):
    """``[store]``: the local store. No ``url``: SQLite ``attendd.db`` in the state directory."""


class Scoring(_HasDbUrl):
    """``[scoring]``: the shared scoring DB (SPEC §4.4).

    No ``url``: an embedded SQLite ``scoring.db`` in the state directory.
    ``schema`` (attribute ``schema_name``) is where ``att_*`` tables live on
    databases that have schemas.
    """

    schema_name: Name | None = Field(default=None, alias="schema")


class DaemonSection(_Section):
    """``[daemon]``: scheduled pulls, parallelism, the state directory."""

    pull_times: list[ClockTime] = Field(default_factory=lambda: [_parse_clock(t) for t in DEFAULT_PULL_TIMES])
    sync_workers: int = Field(default=8, ge=1, le=64)
    state_dir: Path | None = None
    close_day: int = Field(default=3, ge=1, le=28)
    """Day of the month on which the previous month is closed (final results, bulletin)."""
    close_time: ClockTime = Field(default_factory=lambda: _parse_clock("02:00"))
    drain_minutes: int = Field(default=5, ge=1, le=1440)
    """How often the outbox retries pushes the scoring DB missed."""
    push_listen: str = "0.0.0.0:8081"
    """Where the ADMS/PUSH receiver listens (``HOST:PORT``, ``[IPv6]:PORT``) when a device has driver = "adms"."""
    push_tls_cert: Path | None = None
    """A PEM certificate (chain) for HTTPS, for firmware that pushes over TLS; with ``push_tls_key``."""
    push_tls_key: Path | None = None
    push_max_body: int = Field(default=4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    """The largest upload body in bytes (413 above it)."""
    push_max_connections: int = Field(default=256, ge=1, le=10_000)
    """Concurrent connections to the receiver; beyond it new ones get 503."""
    push_idle_timeout: float = Field(default=15.0, gt=0, le=600)
    """Seconds a connection may sit idle between requests before the receiver closes it."""
    push_header_timeout: float = Field(default=10.0, gt=0, le=600)
    """Seconds a client has to send a request's line and headers (slow clients are dropped)."""
    push_body_timeout: float = Field(default=60.0, gt=0, le=3600)
    """Seconds a client has to send a whole body."""
    push_rate_per_minute: int = Field(default=120, ge=1, le=100_000)
    """Requests per minute from one address (429 beyond; a terminal polls every few seconds)."""
    push_quarantine_per_day: int = Field(default=5_000, ge=0, le=10_000_000)
    """Quarantined lines per pushing device per day; a batch beyond it is refused and the device flagged."""

    @field_validator("push_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        """``HOST:PORT`` with a port 1–65535 and a host that is an IP address or a host name."""
        parse_listen(value)
        return value

    @field_validator("push_tls_cert", "push_tls_key")
    @classmethod
    def _tls_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        value = cls._relative_to_config(value, info)
        if value is not None and not value.is_file():
            raise _problem(f"no such file: {value}")
        return value

    def push_address(self) -> tuple[str, int]:
        return parse_listen(self.push_listen)

    def push_tls(self) -> tuple[str, str] | None:
        """(certificate, key) paths for HTTPS, or None."""
        if self.push_tls_cert and self.push_tls_key:
            return str(self.push_tls_cert), str(self.push_tls_key)
        return None

    @model_validator(mode="after")
    def _tls_pair(self) -> DaemonSection:
        if (self.push_tls_cert is None) != (self.push_tls_key is None):
            missing = "push_tls_key" if self.push_tls_key is None else "push_tls_cert"
            raise _located(
                "DaemonSection",
                [
                    (
                        (missing,),
                        "required with the other push_tls_* key: HTTPS needs both a certificate and its key",
                        None,
                    )
                ],
            )
        return self

    @field_validator("state_dir")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """A relative ``state_dir`` is relative to the config file's directory, not to the cwd."""
        base = info.context.get("base_dir") if isinstance(info.context, Mapping) else None
        if value is not None and not value.is_absolute() and base is not None:
            return Path(base) / value
        return value

    @model_validator(mode="after")
    def _distinct_pull_times(self) -> DaemonSection:
        seen: dict[time, int] = {}
        errors = []
        for i, t in enumerate(self.pull_times):
            if t in seen:
                errors.append((("pull_times", i), f"{t:%H:%M} is listed twice (also pull_times[{seen[t]}])", t))
            seen.setdefault(t, i)
        if errors:
            raise _located("DaemonSection", errors)
        return self


class LoggingSection(_Section):
    """``[logging]``: JSON lines for journald, or console rendering on a terminal."""

    format: Literal["auto", "json", "console"] = "auto"
    level: Annotated[
        Literal["debug", "info", "warning", "error", "critical"],
        BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
    ] = "info"


Driver = Literal["zk", "adms", "serial", "usb"]


class Device(_Section):
    """``[[devices]]``: one attendance terminal (SPEC §4.2).

    ``comm_key`` is a secret: read it with ``device.comm_key.get_secret_value()``.
    Punches stamped before ``installed`` are quarantined, not scored.
    """

    name: Name
    driver: Driver = "zk"
    host: Annotated[str, Field(min_length=1, pattern=r"^[^\s/]+$")] | None = None
    port: int = Field(default=4370, ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    comm_key: Secret[Annotated[int, Field(ge=0, le=999999)]] = Secret(0)
    encoding: Annotated[str, AfterValidator(_check_encoding)] = "gbk"
    timeout: float = Field(default=10.0, gt=0, le=600)
    installed: date | None = None
    serial: Annotated[str, Field(min_length=1)] | None = None
    enabled: bool = True
    url: Annotated[str, Field(min_length=1)] | None = None
    baudrate: int = Field(default=9600, ge=50, le=4_000_000)
    format: str = "attlog"
    """Driver ``serial``: the line format, a preset of :data:`drivers.serial.PRESETS`."""
    pattern: Annotated[str, Field(min_length=1)] | None = None
    """Driver ``serial``: a regular expression with named groups ``pin`` and ``time``; wins over ``format``."""
    time_format: Annotated[str, Field(min_length=1)] | None = None
    """Driver ``serial``: how ``time`` (or ``date`` + ``time``) is written, as for ``strptime``."""
    allow_from: list[str] | None = None
    """Driver ``adms``: the addresses or CIDR ranges (``10.0.3.21``, ``10.0.3.0/24``) the terminal
    pushes from; a request from anywhere else is refused (403) and stores nothing."""
    allow_any_address: bool = False
    """Driver ``adms``: accept its pushes from any address (instead of ``allow_from``): say so explicitly."""

    @field_validator("allow_from")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise _problem(
                    f"{_show(item)} is not an IP address or CIDR range (e.g. 10.0.3.21 or 10.0.3.0/24)"
                ) from None
        return value

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``allow_from`` as networks (a bare address is a /32 or /128)."""
        return tuple(ipaddress.ip_network(x, strict=False) for x in self.allow_from or ())

    @field_validator("url")
    @classmethod
    def _serial_url(cls, value: str | None) -> str | None:
        from drivers.serial import check_url

        return _checked(check_url, value)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        from drivers.serial import PRESETS

        if value not in PRESETS:
            listed = ", ".join(f'"{n}"' for n in PRESETS)
            raise _problem(f"unknown format {_show(value)}{_did_you_mean(value, PRESETS)}; presets: {listed}")
        return value

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        from drivers.serial import check_pattern

        _checked(check_pattern, value)
        return value

    @field_validator("time_format")
    @classmethod
    def _valid_time_format(cls, value: str | None) -> str | None:
        from drivers.serial import check_time_format

        return _checked(check_time_format, value)

    @model_validator(mode="after")
    def _driver_needs(self) -> Device:
        needs = {
            "zk": ("host", "the terminal's IP address or host name"),
            "serial": ("url", "a serial device such as /dev/ttyS0 or a pyserial URL such as socket://host:port"),
            "adms": ("serial", "the terminal's serial number, which the push listener allow-lists"),
        }
        if self.driver in needs:
            key, what = needs[self.driver]
            if getattr(self, key) is None:
                raise _located("Device", [((key,), f'required for driver "{self.driver}": {what}', None)])
        if self.driver == "adms" and not self.allow_from and not self.allow_any_address:
            raise _located(
                "Device",
                [
                    (
                        ("allow_from",),
                        'required for driver "adms": the addresses or CIDR ranges '
                        "the terminal pushes from (its serial number is printed on its label and "
                        "sent in clear, so it proves nothing); or allow_any_address = true",
                        None,
                    )
                ],
            )
        if self.driver != "adms" and (self.allow_from is not None or self.allow_any_address):
            key = "allow_from" if self.allow_from is not None else "allow_any_address"
            raise _located("Device", [((key,), 'only for driver "adms" (pushing terminals)', None)])
        return self

    @field_serializer("comm_key")
    def _dump_comm_key(self, value: Secret[int], info: SerializationInfo) -> Any:
        if _reveal(info):
            return value.get_secret_value()
        return _MASK if info.mode == "json" else value


class Slot(_Section):
    """One daily check point: expected time ``at``, punches accepted in ``accept``, ``grace`` minutes."""

    name: Name
    kind: Literal["in", "out"]
    at: ClockTime
    accept: tuple[ClockTime, ClockTime]
    grace: int = Field(default=0, ge=0, le=240)

    @field_validator("name")
    @classmethod
    def _not_all(cls, value: str) -> str:
        if value == "all":
            raise _problem('"all" is reserved (exemption files use it for every slot)')
        return value

    @model_validator(mode="after")
    def _accept_contains_at(self) -> Slot:
        start, end = self.accept
        if start >= end:
            msg = f"acceptance window must run forwards, got {start:%H:%M}–{end:%H:%M}"
        elif not start <= self.at <= end:
            msg = f"acceptance window {start:%H:%M}–{end:%H:%M} does not contain the expected time {self.at:%H:%M}"
        else:
            return self
        raise _located("Slot", [(("accept",), msg, [f"{start:%H:%M}", f"{end:%H:%M}"])])


class TimetableVariant(_Section):
    """A seasonal timetable (e.g. summer hours) from ``from`` to ``to`` inclusive; may wrap the new year."""

    name: Text | None = None
    from_: MonthDay = Field(alias="from")
    to: MonthDay
    slots: list[Slot] = Field(min_length=1)


class Timetable(_Section):
    """``[timetables.NAME]``: the day's check slots, plus optional seasonal ``variants``.

    Which slots apply on a day is the rules' business (:meth:`rules.Timetable.slots_on`, built
    by :func:`daemon.evaluate.compile_rules`); the config only validates the tables."""

    slots: list[Slot] = Field(min_length=1)
    variants: list[TimetableVariant] = Field(default_factory=list)


class Policy(BaseModel):
    """``[policies.NAME]``: a ``preset`` (SPEC §5.2) and overrides of any of its values.

    The only table that accepts keys it does not know: every key besides
    ``preset`` is an override, kept as written in :attr:`overrides` and
    validated by the rules engine against the preset's own keys.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    preset: Name

    @property
    def overrides(self) -> dict[str, Any]:
        """The override keys and values, as written in the file."""
        return dict(self.model_extra or {})


class Window(_Section):
    """``[[windows]]``: a service window (窗口), the unit that is ranked."""

    code: Name
    name: Text
    timetable: Name
    policy: Name
    devices: Annotated[list[Name], Field(min_length=1)] | None = None
    """The devices whose punches count for this window's staff; absent: every device."""
    ranking_group: Name | None = None
    """The windows this one is ranked against (a ``[ranking_groups.NAME]``, or just a name);
    absent: one ranking for the whole centre."""


class RankingGroupSection(_Section):
    """``[ranking_groups.NAME]``: how one group of windows is ranked and flagged.

    Windows are ranked on their attendance score as a share of their maximum.
    The documents award 流动红旗 on the whole assessment, which attendd does not
    have, so by default (``flags_on = "none"``) it publishes the attendance
    ranking (考勤排名) and flags nobody. ``flags_on = "attendance"`` opts in to
    flags on attendance alone: the top ``red_flags`` windows (default: the
    count the windows' policy gives), never one scored 0 or with no scheduled
    staff-days; windows tied at the boundary are all left out when flagging
    them all would exceed the count, or all flagged with ``ties = "share"``.
    """

    title: Text | None = None
    """The group's name on the bulletin, e.g. "一楼大厅"; default: the table's name."""
    flags_on: Literal["none", "attendance"] = "none"
    red_flags: Annotated[int, Field(ge=0)] | None = None
    ties: Literal["exclude", "share"] = "exclude"


_SECTION_ORDER = (
    "site",
    "store",
    "scoring",
    "daemon",
    "logging",
    "devices",
    "timetables",
    "policies",
    "windows",
    "ranking_groups",
    "calendar",
    "bulletin",
)

BULLETIN_FORMATS = ("html", "xlsx", "pdf", "csv")


class BulletinSection(_Section):
    """``[bulletin]``: what the daemon publishes, where, and how (SPEC §4.6).

    At each month close the daemon writes the closed month's bulletin, and
    the quarter's, half-year's and year's when that month ends one, in every
    format of ``formats``. With ``"week"`` in ``periods`` it also writes the
    previous ISO week's summary every Monday (宜黄 publishes weekly).
    """

    dir: Path | None = None
    """Where bulletins go; default ``bulletins/`` in the state directory. Relative: to the config file."""
    formats: list[Literal[BULLETIN_FORMATS]] = Field(default_factory=lambda: list(BULLETIN_FORMATS))
    periods: list[Literal["week", "month", "quarter", "half", "year"]] = Field(
        default_factory=lambda: ["month", "quarter", "half", "year"]
    )
    font: Path | None = None
    """A TrueType CJK font to embed in PDFs; default: the first one found (e.g. fonts-wqy-microhei)."""
    footer: Text | None = None
    """A line printed at the foot of every bulletin (e.g. who to ask about a deduction)."""

    @field_validator("dir", "font")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return DaemonSection._relative_to_config(value, info)


class CalendarSection(_Section):
    """``[calendar]``: the centre's own additions to the statutory calendar.

    ``closures`` are extra days off, ``workdays`` extra working days, and
    ``years`` the years the centre declares itself where chinesecalendar does
    not know them yet (then weekdays work, weekends rest, plus the two lists).
    """

    years: list[Annotated[int, Field(ge=2000, le=2100)]] = Field(default_factory=list)
    closures: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


class Config(_Section):
    """The whole configuration file.

    Useful beyond the attributes: :meth:`state_directory`, :meth:`store_url`,
    :meth:`scoring_url`, :meth:`device`, :meth:`secrets`.
    """

    site: Site
    store: Store = Field(default_factory=Store)
    scoring: Scoring = Field(default_factory=Scoring)
    daemon: DaemonSection = Field(default_factory=DaemonSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    devices: list[Device] = Field(default_factory=list)
    timetables: dict[Name, Timetable] = Field(default_factory=dict)
    policies: dict[Name, Policy] = Field(default_factory=dict)
    windows: list[Window] = Field(default_factory=list)
    ranking_groups: dict[Name, RankingGroupSection] = Field(default_factory=dict)
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    bulletin: BulletinSection = Field(default_factory=BulletinSection)

    @model_validator(mode="wrap")
    @classmethod
    def _cross_references(cls, data: Any, handler: Any) -> Config:
        """Check names across sections even when other parts of the file are invalid.

        Runs on the raw TOML data so that an unknown timetable is reported
        together with, say, a bad port, not after it is fixed.
        """
        if not isinstance(data, Mapping):
            return handler(data)
        cross = _cross_reference_errors(data)
        try:
            config = handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(
                "Config",
                [_as_init_error(e) for e in exc.errors()] + [_as_init_error(e) for e in cross],
            ) from None
        if cross:
            raise ValidationError.from_exception_data("Config", [_as_init_error(e) for e in cross])
        return config

    # ---- derived values

    def state_directory(self, environ: Mapping[str, str] | None = None) -> Path:
        """Where attendd keeps its state.

        ``$STATE_DIRECTORY`` (set by systemd's ``StateDirectory=``; the first
        of several) wins, then ``daemon.state_dir``, then ``/var/lib/attendd``.
        """
        return default_state_dir(environ, configured=self.daemon.state_dir)

    def bulletin_dir(self, environ: Mapping[str, str] | None = None) -> Path:
        """Where the daemon writes bulletins: ``bulletin.dir``, else ``bulletins/`` in the state directory."""
        return self.bulletin.dir or self.state_directory(environ) / "bulletins"

    def store_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The local store's SQLAlchemy URL: ``store.url``, else SQLite ``attendd.db`` in the state directory."""
        return self.store.url or _sqlite_url(self.state_directory(environ) / "attendd.db")

    def scoring_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The scoring DB's URL: ``scoring.url``, else an embedded SQLite ``scoring.db`` in the state directory."""
        return self.scoring.url or _sqlite_url(self.state_directory(environ) / "scoring.db")

    def device(self, name: str) -> Device:
        """The device called ``name``; :class:`UserError` naming the known ones if there is none."""
        for device in self.devices:
            if device.name == name:
                return device
        known = ", ".join(d.name for d in self.devices) or "none configured"
        raise UserError(f"unknown device {name!r}{_did_you_mean(name, [d.name for d in self.devices])}; known: {known}")

    def secrets(self) -> list[str]:
        """Every secret value in the config, as text: non-zero comm keys and URL passwords.

        Meant for :func:`daemon.logging.register_secret`, so logs never show them.
        """
        found = [str(d.comm_key.get_secret_value()) for d in self.devices if d.comm_key.get_secret_value()]
        found += _url_password(self.store.url) + _url_password(self.scoring.url)
        return sorted(set(found))


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[IPv6]:PORT``, or ``:PORT`` for every address) → (host, port).

    Raises ValueError naming what is wrong: the port must be 1–65535, the host an IP address
    or a host name (letters, digits, dots and hyphens).
    """
    host, sep, port = value.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise _problem(f"expected HOST:PORT with a port from 1 to 65535, got {_show(value)}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _problem(f"{_show(host)} in brackets is not an IPv6 address") from None
    elif host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not re.fullmatch(
                r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*",
                host,
            ):
                raise _problem(f"{_show(host)} is not an IP address or a host name") from None
    return host or "0.0.0.0", int(port)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


def default_state_dir(environ: Mapping[str, str] | None = None, *, configured: Path | None = None) -> Path:
    """The state directory before (or without) a config: ``$STATE_DIRECTORY``
    (its first entry), else ``configured``, else ``/var/lib/attendd``."""
    env = os.environ if environ is None else environ
    if value := env.get("STATE_DIRECTORY"):
        return Path(value.split(":")[0])
    return configured or DEFAULT_STATE_DIR


# --------------------------------------------------------------------------
# cross-reference checks (on raw data) and error formatting


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


_SECRET_KEYS = re.compile(r"comm_?key|passw(or)?d|secret|token", re.IGNORECASE)


def _format_loc(loc: tuple[str | int, ...]) -> str:
    """``("devices", 1, "port")`` → ``devices[1].port``; odd table names are quoted as in TOML."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_\-]+", part) else json.dumps(part, ensure_ascii=False)
            out += f".{key}" if out else key
    return out or "(top level)"


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


#: Error types raised by this module, whose messages are already final.
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


def _problems(exc: ValidationError, source: str) -> list[str]:
    """Every error as ``source: key.path: message``, in the file's section order."""
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
            lines.append(f"{source}: {_format_loc(loc[:-1])}: invalid name: {_message({**error, 'loc': loc[:-1]})}")
            continue
        lines.append(f"{source}: {_format_loc(loc)}: {_message(error)}")
    return lines


# --------------------------------------------------------------------------
# entry points


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


def _rules_problems(data: Mapping[str, Any], source: str) -> list[str]:
    """What the rules engine says of the timetables and policies (slot order and
    overlap, seasons, presets and their overrides): one problem per table.

    The rules own these checks so that a timetable or policy means the same
    to ``check-config`` as to an evaluation.
    """
    from rules import RulesError, build_timetable, resolve_policy

    problems = []
    for name, table in (data.get("timetables") or {}).items():
        try:
            build_timetable(name, table, f"timetables.{name}")
        except RulesError as exc:
            problems.append(f"{source}: {exc}")
    for name, table in (data.get("policies") or {}).items():
        overrides = {k: v for k, v in table.items() if k != "preset"}
        try:
            resolve_policy(name, table["preset"], overrides, path=f"policies.{name}")
        except RulesError as exc:
            problems.append(f"{source}: {exc}")
    return problems


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


_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.DOTALL)


def load_config(path: Path) -> Config:
    """Read and validate a config file.

    Raises :class:`UserError` (``path: no such file``) when it cannot be read,
    and :class:`ConfigError` for TOML syntax errors (``path: line N, column M:
    message``) and for invalid content (``path: key.path: message``, all of them).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a TOML file") from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
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
