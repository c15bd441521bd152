"""Several ``attendd run`` on one server store: leases on work, and the instances holding them (issue 19).

Two or three daemons with the same config on one PostgreSQL (or MariaDB) store divide a pull
slot between them device by device: a worker that is free *takes* the next device's claim
(``pull:<device>`` for that slot) and pulls it; a claim already taken, by anyone, is left alone.
A claim is a lease: it expires ``[daemon] claim_lease`` after it was taken unless the holder's
heartbeat renews it (every quarter of the lease), so a daemon killed mid-pull leaves its
devices to another one within one lease. A device's claim is kept, marked done, once its pull
is recorded (an ingest run), so nobody pulls it again for that slot; the month close, the
weekly bulletin, the after-pull work and the outbox drain hold a ``job:<job>`` / ``drain``
lease for as long as they run (deleted at the end: the job-run table says what is done).

Every step is one short transaction that is race-free on a server database: taking a free
claim is an INSERT on the (name, slot) primary key (a second inserter gets an IntegrityError),
taking over an expired one is ``UPDATE … WHERE expires_utc < now AND done_utc IS NULL`` (a row
lock: of two takers, the second re-reads the renewed lease and updates nothing). Times are the
daemons' clocks: the hosts must keep time (NTP), a skew well under the lease.

On SQLite the store is one machine's file and one daemon's: the scheduler does not use claims
there (it works exactly as before issue 19); instances are still registered for ``attendd status``.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .store import Store
from .store.models import claim_table, instance_table

#: The slot of leases that are not per slot (the outbox drain).
NO_SLOT = datetime(2000, 1, 1, tzinfo=UTC)

#: How long a device's done claim is kept (``attendd status``, a late catch-up) before pruning.
KEEP_DONE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Instance:
    """This ``attendd run``: a random id, the host name and the process id."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


def _lease_end(now: datetime, lease_s: float) -> datetime:
    return now + timedelta(seconds=lease_s)


def register(store: Store, me: Instance, *, now: datetime) -> None:
    """Record ``me`` as running on this store (``attendd status`` lists it)."""
    with store.transaction() as conn:
        conn.execute(
            insert(instance_table),
            {"id": me.id, "host": me.host, "pid": me.pid, "started_utc": now, "last_seen_utc": now},
        )


def heartbeat(store: Store, me: Instance, *, now: datetime, lease_s: float) -> int:
    """Say ``me`` is alive and renew every unfinished claim it holds; returns how many."""
    c, i = claim_table, instance_table
    with store.transaction() as conn:
        conn.execute(update(i).where(i.c.id == me.id).values(last_seen_utc=now))
        renewed = conn.execute(
            update(c).where(c.c.holder == me.id, c.c.done_utc.is_(None)).values(expires_utc=_lease_end(now, lease_s))
        )
    return renewed.rowcount


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def stopped(store: Store, me: Instance, *, now: datetime) -> None:
    """``me`` stops: its unfinished claims expire at once (another instance takes them now)."""
    _retire(store, [me.id], now)


def _retire(store: Store, ids: list[str], now: datetime) -> None:
    c, i = claim_table, instance_table
    with store.transaction() as conn:
        conn.execute(update(i).where(i.c.id.in_(ids)).values(stopped_utc=now))
        conn.execute(update(c).where(c.c.holder.in_(ids), c.c.done_utc.is_(None)).values(expires_utc=now))


def retire_dead_here(store: Store, me: Instance, *, now: datetime) -> list[str]:
    """At start-up: the instances recorded on this host whose process is gone (or whose pid is
    ours now: a container restarts as pid 1) stop, and their claims expire at once, so a daemon
    restarted after a crash need not wait a lease for its own predecessor's work."""
    i = instance_table
    with store.reading() as conn:
        rows = conn.execute(
            select(i.c.id, i.c.pid).where(i.c.host == me.host, i.c.id != me.id, i.c.stopped_utc.is_(None))
        ).all()
    dead = [r.id for r in rows if r.pid == me.pid or not _pid_alive(r.pid)]
    if dead:
        _retire(store, dead, now)
    return dead


def take(store: Store, name: str, slot: datetime, me: Instance, *, now: datetime, lease_s: float) -> bool:
    """Take the claim ``name`` for ``slot``: free, or expired and not done; False otherwise."""
    c = claim_table
    until = _lease_end(now, lease_s)
    try:
        with store.transaction() as conn:
            conn.execute(
                insert(c),
                {
                    "name": name,
                    "slot_utc": slot,
                    "holder": me.id,
                    "claimed_utc": now,
                    "expires_utc": until,
                    "takeovers": 0,
                },
            )
        return True
    except IntegrityError:
        pass
    with store.transaction() as conn:
        taken = conn.execute(
            update(c)
            .where(c.c.name == name, c.c.slot_utc == slot, c.c.done_utc.is_(None), c.c.expires_utc < now)
            .values(holder=me.id, claimed_utc=now, expires_utc=until, takeovers=c.c.takeovers + 1)
        )
    return taken.rowcount == 1


def finish(store: Store, name: str, slot: datetime, me: Instance, *, now: datetime) -> None:
    """The work of ``name`` for ``slot`` is recorded: nobody does it again."""
    c = claim_table
    with store.transaction() as conn:
        conn.execute(update(c).where(c.c.name == name, c.c.slot_utc == slot, c.c.holder == me.id).values(done_utc=now))


def release(store: Store, name: str, slot: datetime, me: Instance) -> None:
    """Give up a lease ``me`` holds (a job ended: the job-run table records how)."""
    c = claim_table
    with store.transaction() as conn:
        conn.execute(delete(c).where(c.c.name == name, c.c.slot_utc == slot, c.c.holder == me.id))


def claim(store: Store, name: str, slot: datetime) -> dict | None:
    """The claim ``name`` for ``slot`` as stored, or None."""
    c = claim_table
    with store.reading() as conn:
        row = conn.execute(select(c).where(c.c.name == name, c.c.slot_utc == slot)).mappings().first()
    return dict(row) if row else None


def not_done(store: Store, names: list[str], slot: datetime) -> list[str]:
    """Those of ``names`` whose work for ``slot`` is not recorded as done (taken or not)."""
    c = claim_table
    with store.reading() as conn:
        done = set(
            conn.scalars(select(c.c.name).where(c.c.slot_utc == slot, c.c.name.in_(names), c.c.done_utc.is_not(None)))
        )
    return [n for n in names if n not in done]


def prune(store: Store, *, now: datetime) -> None:
    """Forget done claims of slots older than :data:`KEEP_DONE` (the table stays small)."""
    c = claim_table
    with store.transaction() as conn:
        conn.execute(delete(c).where(c.c.done_utc.is_not(None), c.c.slot_utc < now - KEEP_DONE))


def instances(store: Store) -> list[dict]:
    """Every instance that ran on this store, newest first, with the unfinished claims each holds."""
    c, i = claim_table, instance_table
    with store.reading() as conn:
        rows = [dict(r) for r in conn.execute(select(i).order_by(i.c.started_utc.desc())).mappings()]
        held: dict[str, int] = {}
        for holder in conn.scalars(select(c.c.holder).where(c.c.done_utc.is_(None))):
            held[holder] = held.get(holder, 0) + 1
    for r in rows:
        r["holding"] = held.get(r["id"], 0)
    return rows


def held_claims(store: Store) -> list[dict]:
    """The claims taken and not done (work in progress, or left by an instance that died)."""
    c = claim_table
    with store.reading() as conn:
        q = select(c).where(c.c.done_utc.is_(None)).order_by(c.c.slot_utc, c.c.name)
        return [dict(r) for r in conn.execute(q).mappings()]
