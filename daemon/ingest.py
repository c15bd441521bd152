"""Sort incoming punches into storable ones and ones to keep aside.

Every input path (terminal pull, push receiver, serial line, file import) goes
through :func:`sort_punches` so the same record is judged the same way whichever
way it arrived. A timestamp that cannot be real is quarantined with its
reason, never scored and never silently dropped (SPEC §4.2). So is a record the
store cannot hold as it is, the same on SQLite, PostgreSQL and MariaDB
(:func:`drivers.punch_problem`): a PIN longer than the column or one no terminal
enrols (punctuation, spaces, control characters), a state, verify or work code
outside 0..2³¹−1 — never truncated, clamped or a database error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from drivers import BadRecord, DeviceUser, Punch, punch_problem

from .clock import site_time
from .store import Quarantined, SaveResult, Store

#: A terminal whose clock battery died restarts at 2000-01-01 00:00 and counts on from there, so
#: its punches carry dates in 2000 (the days after the reset). No terminal feeding attendd
#: recorded a real punch then: every date before :data:`RESET_CLOCK_END` is a reset clock's. The
#: quarantine review re-dates such a run from one known punch (daemon.store.quarantine_review).
RESET_CLOCK_DATE = date(2000, 1, 1)
RESET_CLOCK_END = date(2001, 1, 1)
#: How far ahead of our clock a punch may be before it is "in the future":
#: terminal clocks drift by minutes, never by a day.
FUTURE_TOLERANCE = timedelta(days=1)


def implausible(ts: datetime, *, now_local: datetime, installed: date | None) -> str | None:
    """Why ``ts`` cannot be a real punch, or None when it can.

    ``now_local`` is the site's wall-clock time now (naive, like ``ts``).
    """
    if ts.date() < RESET_CLOCK_END:
        return f"reset clock ({ts:%Y-%m-%d %H:%M:%S})"
    if installed is not None and ts.date() < installed:
        return f"before the terminal was installed on {installed.isoformat()}"
    if ts > now_local + FUTURE_TOLERANCE:
        return f"in the future ({ts:%Y-%m-%d %H:%M:%S})"
    return None


def sort_punches(
    punches: Iterable[Punch],
    bad: Iterable[BadRecord] = (),
    *,
    now_local: datetime,
    installed: date | None = None,
    pin_letters: bool = False,
) -> tuple[list[Punch], list[Quarantined]]:
    """(punches to store, records to quarantine).

    ``pin_letters``: the terminal's firmware enrols letters in PINs (its ``[[devices]]
    pin_letters``); else a PIN is digits.

    A punch is quarantined when the store cannot hold it as it is (the first
    reason from :func:`drivers.punch_problem`) or when its time cannot be real
    (:func:`implausible`). A pull holds few distinct PINs and field values, so each
    is judged once.
    """
    punches = punches if isinstance(punches, list) else list(punches)
    bad = list(bad)
    cutoff = now_local + FUTURE_TOLERANCE
    # What the store cannot hold, by the distinct (PIN, state, verify, work code) of the batch.
    unstorable: dict[tuple[str, int, int, int], str] = {}
    for key in {(p.pin, p.state, p.verify, p.work_code) for p in punches}:
        pin, state, verify, work_code = key
        why = punch_problem(Punch(pin, now_local, state, verify, work_code), pin_letters=pin_letters)
        if why is not None:
            unstorable[key] = why
    if punches and not bad and not unstorable:
        # The usual case: one pass over the times shows every punch plausible.
        first = min(p.timestamp for p in punches)
        last = max(p.timestamp for p in punches)
        if implausible(first, now_local=now_local, installed=installed) is None and last <= cutoff:
            return punches, []
    good: list[Punch] = []
    aside: list[Quarantined] = []
    # Only dates can be implausible, so judge each distinct date once.
    verdicts: dict[date, bool] = {}
    for p in punches:
        reason = unstorable.get((p.pin, p.state, p.verify, p.work_code)) if unstorable else None
        if reason is None:
            d = p.timestamp.date()
            ok = verdicts.get(d)
            if ok is None:
                ok = d >= RESET_CLOCK_END and (installed is None or d >= installed)
                verdicts[d] = ok
            if ok and p.timestamp <= cutoff:
                good.append(p)
                continue
            reason = implausible(p.timestamp, now_local=now_local, installed=installed) or "implausible"
        aside.append(
            Quarantined(
                raw=_raw_text(p),
                reason=reason,
                pin=p.pin,
                punched_at=p.timestamp,
            )
        )
    for b in bad:
        aside.append(Quarantined(raw=b.raw.hex(), reason=b.reason, pin=b.pin))
    return good, aside


def _raw_text(p: Punch) -> str:
    """A punch as the tab-separated line it came as: its PIN's control characters escaped, a
    number too long to print (an absurd decoded field) shown by its size."""
    pin = p.pin if p.pin.isprintable() else ascii(p.pin)[1:-1]
    fields = [str(v) if abs(v) < 10**20 else f"<{v.bit_length()}-bit number>" for v in (p.state, p.verify, p.work_code)]
    return "\t".join([pin, f"{p.timestamp:%Y-%m-%d %H:%M:%S}", *fields])


def save_batch(
    store: Store,
    device,
    *,
    device_serial: str,
    source: str,
    punches: list[Punch],
    bad: list[BadRecord] | tuple[()] = (),
    aside: list[Quarantined] | tuple[()] = (),
    now: datetime,
    tz: ZoneInfo,
    users: list[DeviceUser] | None = None,
    state: dict | None = None,
    run: dict | None = None,
) -> SaveResult:
    """Sort one delivered batch and store it in one transaction (an ingest run of its own).

    What every input path does with a batch: a pull, a push, a serial
    line, an imported file. ``bad`` are records the driver could not
    decode, ``aside`` ones the caller has already judged unstorable (a
    file's lines with an impossible time); both are quarantined. ``now`` is
    the aware current time; ``users`` replaces the terminal's enrolment
    list and ``state`` updates the device's state, in the same transaction;
    ``run`` adds to its ingest run (the pull's record count, the push's
    peer address). Raises StoreError.
    """
    now_local = site_time(now, tz)
    good, kept_aside = sort_punches(
        punches,
        bad,
        now_local=now_local,
        installed=getattr(device, "installed", None),
        pin_letters=bool(getattr(device, "pin_letters", False)),
    )
    return store.save_punches(
        device_name=device.name,
        device_serial=device_serial,
        source=source,
        punches=good,
        quarantined=kept_aside + list(aside),
        now_utc=now,
        users=users,
        state=state,
        run={"record_count": len(punches) + len(bad) + len(aside), **(run or {})},
    )
