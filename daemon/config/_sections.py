"""The config's sections: one pydantic model per TOML table, :class:`Config` for the whole file.

Secrets stay hidden here: ``comm_key`` and database URL passwords are masked in
``repr()`` and dumps unless ``context={"reveal_secrets": True}``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing
import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Secret,
    SerializationInfo,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..durations import parse_duration
from ..errors import UserError
from ..logging import mask_url_password
from ._fields import (
    ClockTime,
    DbUrl,
    MonthDay,
    Name,
    Text,
    _check_encoding,
    _parse_clock,
    _sqlite_beside,
    _url_password,
)
from ._references import _as_init_error, _cross_reference_errors
from ._utils import _checked, _did_you_mean, _located, _problem, _show

#: The state directory when neither ``$STATE_DIRECTORY`` nor ``daemon.state_dir`` says otherwise.
DEFAULT_STATE_DIR = Path("/var/lib/attendd")

#: The four daily pulls of SPEC §4.5: ten minutes after each check slot's expected time.
DEFAULT_PULL_TIMES = ("09:10", "12:10", "13:10", "17:10")

_MASK = "**********"


class _Section(BaseModel):
    """Base of every config table: unknown keys are errors, values are read-only.

    Dumps use the file's key names (``schema``, ``from``), so a dump validates again.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)


def _reveal(info: SerializationInfo) -> bool:
    return bool(isinstance(info.context, Mapping) and info.context.get("reveal_secrets"))


class _HasDbUrl(_Section):
    """A section with an optional database ``url`` whose password never shows.

    A relative SQLite path (``sqlite:///attendd.db``) is taken relative to the config
    file's folder, like ``daemon.state_dir``: the daemon's working directory (``/`` under
    systemd) is no place for a database.
    """

    url: DbUrl | None = None

    @field_validator("url")
    @classmethod
    def _sqlite_relative_to_config(cls, value: str | None, info: ValidationInfo) -> str | None:
        base = info.context.get("base_dir") if isinstance(info.context, Mapping) else None
        return value if value is None or base is None else _sqlite_beside(value, Path(base))

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
    #: ``site_code`` of this centre's rows in the scoring DB, first in every natural key
    #: (issue 19): centres sharing one scoring DB need codes of their own. ASCII, 1–32 of
    #: ``A-Z a-z 0-9 _ -``; unset, ``"default"`` (a lone centre's own scoring DB).
    code: str = "default"

    @field_validator("code")
    @classmethod
    def _ascii_code(cls, value: str) -> str:
        """ASCII, so every scoring-DB reader's collation and every lock name agree on it."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", value):
            raise PydanticCustomError("site_code", 'expected 1 to 32 ASCII letters, digits, "_" or "-"')
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = _chinese_zone_hint(value) or _did_you_mean(value, zoneinfo.available_timezones())
            raise PydanticCustomError(
                "timezone", "unknown time zone {got}{hint}", {"got": _show(value), "hint": hint}
            ) from None
        return value

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The site's time zone, e.g. ``ZoneInfo("Asia/Shanghai")``."""
        return zoneinfo.ZoneInfo(self.timezone)


#: Names an admin may write for China's time: mainland cities (in pinyin or Chinese) and the
#: usual words for Beijing time. The tz database has one zone for all of them, Asia/Shanghai.
_CHINESE_ZONE_WORDS = re.compile(
    r"beijing|peking|china|prc|cst|chinese|"
    r"guangzhou|shenzhen|wuhan|chengdu|nanjing|hangzhou|tianjin|xi_?an|nanchang|fuzhou|changsha|"
    r"kunming|jinan|zhengzhou|hefei|shenyang|changchun|nanning|guiyang|lanzhou|taiyuan|"
    r"shijiazhuang|hohhot|yinchuan|xining|lhasa|haikou|qingdao|dalian|xiamen|suzhou|ningbo|"
    r"wuxi|dongguan|foshan|ganzhou|jiujiang|yichun|shangrao|"
    r"北京|中国|上海|重庆|(?:utc|gmt)\s*\+\s*0?8(?::?00)?$",
    re.IGNORECASE,
)


def _chinese_zone_hint(value: str) -> str:
    """`` (did you mean "Asia/Shanghai"? …)`` for a Chinese-looking zone name such as
    ``Asia/Beijing`` or ``UTC+8``, which the tz database does not have (it is not a fuzzy
    match: "Asia/Beijing" is closest to nothing Chinese)."""
    if not _CHINESE_ZONE_WORDS.search(value.replace(" ", "_")):
        return ""
    return ' (did you mean "Asia/Shanghai"? China keeps one time, Beijing time, named Asia/Shanghai)'


class Store(_HasDbUrl):
    """``[store]``: the local store. No ``url``: SQLite ``attendd.db`` in the state directory.

    ``schema`` (attribute ``schema_name``): on PostgreSQL, the schema the store's tables
    and version table live in (created if missing); ignored elsewhere.
    """

    schema_name: Name | None = Field(default=None, alias="schema")


class Scoring(_HasDbUrl):
    """``[scoring]``: the shared scoring DB (SPEC §4.4).

    No ``url``: an embedded SQLite ``scoring.db`` in the state directory.
    ``schema`` (attribute ``schema_name``) is where ``att_*`` tables live on
    databases that have schemas.
    """

    schema_name: Name | None = Field(default=None, alias="schema")


def _beside_config(value: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path in the config is relative to the config file's directory, not to the cwd."""
    base = info.context.get("base_dir") if isinstance(info.context, Mapping) else None
    if value is not None and not value.is_absolute() and base is not None:
        return Path(base) / value
    return value


def _existing_file(value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise _problem(f"no such file: {value}")
    return value


def _tls_paths(cert: Path | None, key: Path | None) -> tuple[str, str] | None:
    return (str(cert), str(key)) if cert and key else None


def _networks(value: list[str] | None) -> list[str] | None:
    """Addresses or CIDR ranges (a bare address is a /32 or /128)."""
    for item in value or []:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise _problem(
                f"{_show(item)} is not an IP address or CIDR range (e.g. 10.0.3.21 or 10.0.3.0/24)"
            ) from None
    return value


def _tls_pair(model: str, prefix: str, cert: Path | None, key: Path | None) -> None:
    """Both ``{prefix}cert`` and ``{prefix}key``, or neither: HTTPS needs the two."""
    if (cert is None) != (key is None):
        missing = f"{prefix}key" if key is None else f"{prefix}cert"
        message = f"required with the other {prefix}* key: HTTPS needs both a certificate and its key"
        raise _located(model, [((missing,), message, None)])


def _listen_value(value: str) -> str:
    """``HOST:PORT`` with a port 1–65535 and a host that is an IP address or a host name."""
    parse_listen(value)
    return value


def _tls_file_value(value: Path, info: ValidationInfo) -> Path:
    """A certificate or key file, relative to the config file's folder; it must exist."""
    return _existing_file(_beside_config(value, info)) or value


Listen = Annotated[str, AfterValidator(_listen_value)]
TlsFile = Annotated[Path, AfterValidator(_tls_file_value)]


class _HttpsSection(_Section):
    """A section with an optional certificate and key for HTTPS (``{prefix}cert``, ``{prefix}key``):
    both or neither."""

    _tls_prefix: ClassVar[str]

    def _tls(self) -> tuple[str, str] | None:
        return _tls_paths(getattr(self, f"{self._tls_prefix}cert"), getattr(self, f"{self._tls_prefix}key"))

    @model_validator(mode="after")
    def _tls_pair(self) -> _HttpsSection:
        cert, key = getattr(self, f"{self._tls_prefix}cert"), getattr(self, f"{self._tls_prefix}key")
        _tls_pair(type(self).__name__, self._tls_prefix, cert, key)
        return self


class DaemonSection(_HttpsSection):
    """``[daemon]``: scheduled pulls, parallelism, the state directory."""

    _tls_prefix: ClassVar[str] = "push_tls_"

    pull_times: list[ClockTime] = Field(default_factory=lambda: [_parse_clock(t) for t in DEFAULT_PULL_TIMES])
    sync_workers: int = Field(default=8, ge=1, le=64)
    state_dir: Path | None = None
    close_day: int = Field(default=3, ge=1, le=28)
    """Day of the month on which the previous month is closed (final results, bulletin)."""
    close_time: ClockTime = Field(default_factory=lambda: _parse_clock("02:00"))
    drain_minutes: int = Field(default=5, ge=1, le=1440)
    """How often the outbox retries pushes the scoring DB missed."""
    push_listen: Listen = "0.0.0.0:8081"
    """Where the ADMS/PUSH receiver listens (``HOST:PORT``, ``[IPv6]:PORT``) when a device has driver = "adms"."""
    push_tls_cert: TlsFile | None = None
    """A PEM certificate (chain) for HTTPS, for firmware that pushes over TLS; with ``push_tls_key``."""
    push_tls_key: TlsFile | None = None
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
    max_clock_drift: float = Field(default=120.0, gt=0, le=86_400)
    """Seconds a terminal's clock may be off attendd's before it is a problem (issue 16; default 2
    minutes, docs/decisions.md). Seconds, or a duration string: ``"90s"``, ``"2m"``, ``"1h"``."""
    claim_lease: float = Field(default=120.0, ge=1, le=3600)
    """Seconds a claim on a device's pull (or a job) lasts unless its holder renews it (every quarter
    of it); when several ``attendd run`` share a PostgreSQL store, another takes the work of one that
    died after at most this long (issue 19). Seconds or a duration string, like ``max_clock_drift``."""

    @field_validator("max_clock_drift", "claim_lease", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        """``"90s"``, ``"2m"``, ``"2min"``, ``"1h"``, ``"1m30s"`` as seconds; a number is seconds already."""
        if not isinstance(value, str):
            return value
        seconds = parse_duration(value)
        if seconds is None:
            raise _problem(f'expected seconds or a duration such as "90s", "2m" or "1h", got {_show(value)}')
        return seconds

    def push_address(self) -> tuple[str, int]:
        return parse_listen(self.push_listen)

    def push_tls(self) -> tuple[str, str] | None:
        """(certificate, key) paths for HTTPS, or None."""
        return self._tls()

    @field_validator("state_dir")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return _beside_config(value, info)

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


class WebSection(_HttpsSection):
    """``[web]``: the web console (issue 14). ``attendd web`` serves it alone; ``attendd run``
    serves it too when ``listen`` is set. Opening it to the LAN (``0.0.0.0:8080``) is the
    admin's explicit choice: ``attendd web`` alone listens on loopback by default."""

    _tls_prefix: ClassVar[str] = "tls_"

    listen: Listen | None = None
    """``HOST:PORT`` (``[IPv6]:PORT``) for the console; unset: ``attendd run`` serves no console."""
    tls_cert: TlsFile | None = None
    """A PEM certificate (chain) for HTTPS; with ``tls_key``. Under TLS the session cookie is Secure."""
    tls_key: TlsFile | None = None
    metrics_from: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    """Addresses or CIDR ranges that may read ``/metrics`` without signing in (a Prometheus)."""

    @field_validator("metrics_from")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return _networks(value) or []

    def tls(self) -> tuple[str, str] | None:
        """(certificate, key) paths for HTTPS, or None."""
        return self._tls()


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
    pin_letters: bool = False
    """The terminal's firmware enrols letters in user IDs (PINs); else a PIN with letters is a
    damaged record and is quarantined (``drivers.pin_problem``)."""
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
    auto_set_time: bool = False
    """Driver ``zk``: at each pull, set the terminal's clock from the host's when it is off by more
    than ``[daemon] max_clock_drift`` (logged, with the drift before and after)."""
    clear_log: Literal["never", "after_stored"] = "never"
    """Driver ``zk``: ``"after_stored"`` clears the terminal's log after a pull that stored every
    record, the terminal locked from the read to the clear (docs/decisions.md); else never."""

    @field_validator("allow_from")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        return _networks(value)

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
        if self.driver != "zk" and (self.auto_set_time or self.clear_log != "never"):
            key = "auto_set_time" if self.auto_set_time else "clear_log"
            raise _located("Device", [((key,), 'only for driver "zk" (terminals attendd pulls)', None)])
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
    #: the reader's word for the slot in evidence, bulletins and the console; default from its
    #: kind and half of the day (上午签到, 上午签退, 下午签到, 下午签退: rules.timetable.default_labels)
    label: str | None = Field(default=None, min_length=1, max_length=16)

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


class DutyRota(_Section):
    """``[[duty_rotas]]``: a standing duty rota (值班 / 轮值, SPEC §5.1): a window, or people in turn,
    work the matching days off (休息日, 节假日) on ``timetable`` — the police window every weekend
    and holiday, a rotating Sunday. The clerk can enter more in the console (``/records/rotas``)
    or as a file (``attendd import rotas``); both count."""

    timetable: Name
    window: Name | None = None
    """The window whose staff all work these days; or ``staff``."""
    staff: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default_factory=list, max_length=31)
    """Staff numbers; several take the matching weeks in turn, in this order, from ``start``."""
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=list)
    """1 Monday … 7 Sunday; empty: every day off."""
    days: list[Literal["rest", "holiday"]] = Field(default_factory=list)
    """``rest`` (weekends), ``holiday`` (statutory holidays); empty: both."""
    start: date | None = None
    end: date | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _someone(self) -> DutyRota:
        if not self.window and not self.staff:
            raise _problem("a duty rota needs window or staff (whose duty it is)")
        if len(self.staff) > 1 and self.start is None:
            raise _problem("a rotation of several staff needs start (the first person's first day)")
        if self.start and self.end and self.end < self.start:
            raise _problem(f"end {self.end} is before start {self.start}")
        return self


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
    "duty_rotas",
    "assessment",
    "calendar",
    "bulletin",
)

#: A format the daemon can publish a bulletin in.
BulletinFormat = Literal["html", "xlsx", "pdf", "csv", "docx"]

BULLETIN_FORMATS: tuple[BulletinFormat, ...] = typing.get_args(BulletinFormat)

#: A period a bulletin covers.
BulletinPeriod = Literal["week", "month", "quarter", "half", "year"]

_DEFAULT_PERIODS: tuple[BulletinPeriod, ...] = ("month", "quarter", "half", "year")

#: 三、下步要求 of the DOCX bulletin unless ``[bulletin] requirements`` says otherwise.
DEFAULT_REQUIREMENTS = (
    "各窗口单位要严格执行考勤管理制度，对本期通报的问题认真整改；窗口负责人要加强日常管理，"
    "督促工作人员按时到岗、规范打卡，确需离岗的须按规定办理请假手续。"
    "对考勤有异议的，请于通报印发之日起五个工作日内向中心办公室提出申诉。"
)


class AssessmentSection(_Section):
    """``[assessment]``: the whole assessment (issue 18) — every category of the preset's document,
    totals, ranking, 流动红旗, grades and the notices across periods — computed and pushed beside
    the attendance results."""

    enabled: bool = False
    """Off: attendd publishes the attendance category alone (a centre keeping the others elsewhere)."""


class AppealsSection(_Section):
    """``[appeals]``: appeals (申诉) against deductions (issue 15)."""

    decide_by_day: int = Field(default=15, ge=1, le=28)
    """An appeal against a deduction of a month is decided by this day of the next month
    (site default: the 15th; the documents set no deadline)."""


class BulletinSection(_Section):
    """``[bulletin]``: what the daemon publishes, where, and how (SPEC §4.6).

    At each month close the daemon writes the closed month's bulletin, and
    the quarter's, half-year's and year's when that month ends one, in every
    format of ``formats``. With ``"week"`` in ``periods`` it also writes the
    previous ISO week's summary every Monday (宜黄 publishes weekly).
    """

    dir: Path | None = None
    """Where bulletins go; default ``bulletins/`` in the state directory. Relative: to the config file."""
    formats: list[BulletinFormat] = Field(default_factory=lambda: list(BULLETIN_FORMATS))
    periods: list[BulletinPeriod] = Field(default_factory=lambda: list(_DEFAULT_PERIODS))
    font: Path | None = None
    """A TrueType CJK font to embed in PDFs; default: the first one found (e.g. fonts-wqy-microhei)."""
    footer: Text | None = None
    """A line printed at the foot of every bulletin (e.g. who to ask about a deduction)."""
    # The DOCX bulletin (issue 17): an official document (公文) in the GB/T 9704 layout.
    number_format: str = "〔{year}〕{n}号"
    """发文字号, e.g. ``"罗政服〔{year}〕{n}号"``: ``{year}`` the issue year, ``{n}`` its count that year
    (kept in the store); ``""``: no 字号 line and no number issued."""
    issuer: Text | None = None
    """发文机关 for the red 发文机关标志 (e.g. ``"罗山县政务服务中心文件"``); default ``[site] name``."""
    recipients: Text = "各窗口单位"
    """主送机关: who the bulletin is addressed to."""
    requirements: Text = DEFAULT_REQUIREMENTS
    """The paragraph under 三、下步要求."""
    signer: Text | None = None
    """落款 (the issuing body under the text); default the issuer."""

    @field_validator("number_format")
    @classmethod
    def _numbered(cls, value: str) -> str:
        """Empty, or a format with ``{n}`` (without it every bulletin would have the same number)."""
        if not value:
            return value
        try:
            shown = value.format(year=2026, n=1)
        except (KeyError, IndexError, ValueError):
            raise _problem(
                f"{_show(value)} is not a 发文字号 format: only {{year}} and {{n}} may appear in braces "
                '(e.g. "罗政服〔{year}〕{n}号")'
            ) from None
        if shown == value.format(year=2026, n=2):
            raise _problem(
                f"{_show(value)} has no {{n}} (the bulletin's count in the year): every number would be the same"
            )
        if len(shown) > 100:
            raise _problem(f"{_show(value)} is longer than a 发文字号 can be (100 characters)")
        return value

    @field_validator("dir", "font")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return _beside_config(value, info)


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
    duty_rotas: list[DutyRota] = Field(default_factory=list)
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    bulletin: BulletinSection = Field(default_factory=BulletinSection)
    web: WebSection = Field(default_factory=WebSection)
    appeals: AppealsSection = Field(default_factory=AppealsSection)
    assessment: AssessmentSection = Field(default_factory=AssessmentSection)

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

    def installed_dates(self) -> dict[str, date | None]:
        """Each device's ``installed`` date by name (what a punch before it is judged against)."""
        return {d.name: d.installed for d in self.devices}

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
