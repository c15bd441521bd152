"""``attendd run``: scheduled pulls, re-evaluation, pushes and the month close.

Jobs and their times:

* ``pull`` at ``daemon.pull_times`` (four a day by default): pull every
  terminal, then re-evaluate the months whose inputs changed (and the
  current one), snapshot them and drain the outbox;
* ``close`` on ``daemon.close_day`` of each month at ``daemon.close_time``:
  the previous month's final results (``is_final``) — unless its data is
  incomplete (a silent terminal, no punches): then the month is *held open*
  (``attendd status``), the job ends ``held``, and every pull tries again;
* ``drain`` every ``daemon.drain_minutes``: retry what the scoring DB missed.

APScheduler (with the site timezone set explicitly) fires the jobs; what
a firing does is decided here from the job-run table: a slot already done
is not done again, and at start-up the latest slot of each job that was
missed while the service was down, or crashed mid-way, runs once. Every
function takes the time as an argument, so tests drive it with a fake clock.

Nothing before the go-live month (``[site] since``) is evaluated, pushed,
closed or published, whatever old punches a terminal or an import brings.

Several daemons on one PostgreSQL (or MariaDB) store (issue 19, :mod:`daemon.claims`): every
one of them takes part in each pull slot, device by device under per-device claims, and waits
until every device of the slot is done (taking over the claims of a daemon that died, once
their lease runs out); then one of them, under the ``job:pull`` lease, re-evaluates, drains and
retries the held months. The close and the weekly bulletin run under their job's lease (the
others wait for it, then find the slot done in the job-run table), and the outbox drain under
the ``drain`` lease. On SQLite nothing of this applies: one daemon, as before.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from structlog.contextvars import bound_contextvars

from rules import parse_period, period_of

from . import claims
from .bulletin.publish import closing_periods, previous_week, publish
from .config import Config
from .errors import AttenddError
from .notify import notify, watchdog_interval
from .outbox import PeriodIncomplete, before_go_live, close_period, drain, held_periods, hold, take_snapshot
from .store import Store, clear_dirty, dirty_months
from .store.models import job_run_table
from .sync import PULLED_DRIVERS, sync_all

log = structlog.get_logger("attendd.scheduler")


def quiet_apscheduler() -> None:
    """Keep APScheduler's own chatter ("Adding job tentatively", "Added job", "Scheduler started",
    "Running job", "Job executed successfully": a line per job and per firing) out of an INFO log.

    Our log already says what ran and how it went (the job-run table, ``attendd status``); the
    library's lines show only with ``--log-level debug``, its warnings and errors always.
    """
    debugging = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if debugging else logging.WARNING)


def latest_fire(trigger, now: datetime, *, horizon: timedelta = timedelta(days=40)) -> datetime | None:
    """The trigger's last fire time at or before ``now`` (within ``horizon``)."""
    t = trigger.get_next_fire_time(None, now - horizon)
    last = None
    while t is not None and t <= now:
        last = t
        t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


def job_triggers(config: Config, tz: ZoneInfo) -> dict[str, object]:
    """The scheduled jobs and when they fire: ``pull`` (one job with every pull time: after an
    outage one catch-up pull is enough), ``close``, and ``week`` when weekly bulletins are on."""
    d = config.daemon
    triggers: dict[str, object] = {
        "pull": OrTrigger([CronTrigger(hour=t.hour, minute=t.minute, timezone=tz) for t in d.pull_times]),
        "close": CronTrigger(day=d.close_day, hour=d.close_time.hour, minute=d.close_time.minute, timezone=tz),
    }
    if "week" in config.bulletin.periods:
        triggers["week"] = CronTrigger(
            day_of_week="mon", hour=d.close_time.hour, minute=d.close_time.minute, timezone=tz
        )
    return triggers


@dataclass
class Daemon:
    config: Config
    store: Store
    scoring: object  # ScoringDB
    connect: Callable
    clock: Callable[[], datetime]
    tz: ZoneInfo
    triggers: dict[str, object] = field(default_factory=dict)
    #: who this daemon is in the claims of a shared store (:mod:`daemon.claims`)
    instance: claims.Instance = field(default_factory=claims.Instance)

    def __post_init__(self) -> None:
        self.triggers.update(job_triggers(self.config, self.tz))
        self._stopping = threading.Event()

    @property
    def shared(self) -> bool:
        """Whether other daemons may share this store (a server database): work is claimed."""
        return not self.store.is_sqlite

    @property
    def _lease_s(self) -> float:
        return self.config.daemon.claim_lease

    def _poll_s(self) -> float:
        """How often a daemon waiting for another's claim looks again."""
        return min(1.0, self._lease_s / 4)

    def _lease(self, name: str, slot: datetime, *, wait: bool) -> bool:
        """Take the lease ``name`` for ``slot``; with ``wait``, while another instance holds it,
        wait for it to be released or to expire (its holder died). False: not taken."""
        while True:
            if claims.take(self.store, name, slot, self.instance, now=self.clock(), lease_s=self._lease_s):
                return True
            row = claims.claim(self.store, name, slot)
            if row is not None and (row["done_utc"] is not None or not wait):
                return False
            if row is not None and self._stopping.wait(self._poll_s()):
                return False

    # --- the job-run table ----------------------------------------------------------------

    def _claim(self, job: str, slot: datetime, now: datetime) -> bool:
        """Record that ``job`` runs for ``slot``; False when that slot is already done.

        On a shared store the job's lease is taken first (waiting while another daemon runs
        it), so the job-run row is read and written by its one holder."""
        if not self.shared:
            return self._record_start(job, slot, now)
        if not self._lease(f"job:{job}", slot, wait=True):
            return False
        try:
            started = self._record_start(job, slot, self.clock())
        except BaseException:
            claims.release(self.store, f"job:{job}", slot, self.instance)
            raise
        if not started:
            claims.release(self.store, f"job:{job}", slot, self.instance)
        return started

    def _record_start(self, job: str, slot: datetime, now: datetime) -> bool:
        t = job_run_table
        with self.store.transaction() as conn:
            row = conn.execute(select(t).where(t.c.job == job, t.c.scheduled_for_utc == slot)).mappings().first()
            if row is not None and row["status"] == "ok":
                return False
            if row is None:
                try:
                    conn.execute(
                        insert(t),
                        {
                            "job": job,
                            "scheduled_for_utc": slot,
                            "started_utc": now,
                            "status": "running",
                        },
                    )
                except IntegrityError:
                    return False
            else:  # failed, or crashed while running: run it again
                conn.execute(
                    update(t)
                    .where(t.c.id == row["id"])
                    .values(started_utc=now, status="running", error=None, finished_utc=None)
                )
        return True

    def _finish(self, job: str, slot: datetime, status: str, error: str | None = None) -> None:
        t = job_run_table
        with self.store.transaction() as conn:
            conn.execute(
                update(t)
                .where(t.c.job == job, t.c.scheduled_for_utc == slot)
                .values(status=status, error=error, finished_utc=self.clock())
            )
        if self.shared:
            claims.release(self.store, f"job:{job}", slot, self.instance)

    def execute(self, job: str, slot: datetime) -> bool:
        """Run ``job`` for its scheduled ``slot`` once; False if it was already done."""
        if job == "pull" and self.shared:
            with bound_contextvars(job=job):
                self.pull_slot(slot)  # every daemon takes part; the after-pull work runs once
        now = self.clock()
        if not self._claim(job, slot, now):
            return False
        with bound_contextvars(job=job):
            lock = getattr(self.scoring, "job_lock", None)
            try:
                if lock is not None:
                    with lock(job) as got:
                        if not got:
                            log.info("another attendd runs this job; skipped")
                            self._finish(job, slot, "ok", "skipped: another daemon holds the lock")
                            return False
                        note = self._run(job, slot)
                else:
                    note = self._run(job, slot)
            except AttenddError as exc:  # a known failure: one line, no traceback
                log.error("job failed", error=str(exc))
                self._finish(job, slot, "failed", str(exc))
                return True
            except Exception as exc:  # a job must never take the daemon down
                log.exception("job failed")
                self._finish(job, slot, "failed", str(exc))
                return True
        # "held": the month stays open (a restart checks it again, and so does every pull)
        self._finish(job, slot, "held" if note else "ok", note)
        return True

    def _run(self, job: str, slot: datetime) -> str | None:
        if job == "pull":
            if self.shared:
                self.after_pull()  # the devices were pulled under their claims (pull_slot)
            else:
                self.pull_and_push()
        elif job == "close":
            return self.close_month(slot)
        elif job == "week":
            self.weekly_bulletin(slot)
        return None

    def catch_up(self) -> list[str]:
        """At start-up: run each job's latest slot if it was missed or crashed."""
        now = self.clock()
        ran = []
        for job, trigger in sorted(self.triggers.items()):
            slot = latest_fire(trigger, now)
            if slot is not None and self.execute(job, slot):
                ran.append(job)
        return ran

    # --- the jobs -----------------------------------------------------------------------------

    def _pulled_devices(self) -> list:
        return [d for d in self.config.devices if d.enabled and d.driver in PULLED_DRIVERS]

    def _sync(self, devices: list, **claiming) -> None:
        sync_all(
            self.store,
            devices,
            connect=self.connect,
            clock=self.clock,
            tz=self.tz,
            workers=self.config.daemon.sync_workers,
            max_drift_s=self.config.daemon.max_clock_drift,
            **claiming,
        )

    def pull_and_push(self) -> None:
        devices = self._pulled_devices()
        if devices:
            self._sync(devices)
        self.after_pull()

    def pull_slot(self, slot: datetime) -> None:
        """Pull, with the other daemons of a shared store, every device once for ``slot``.

        A free worker claims the next device nobody has claimed (``pull:<device>``), pulls it and
        marks the claim done. When nothing is left to claim, the daemon waits for the devices
        others are pulling; one whose holder died (its lease not renewed) is taken over and
        pulled again. Returns when every device of the slot is done, or the daemon is stopping.
        """
        devices = {f"pull:{d.name}": d for d in self._pulled_devices()}
        me = self.instance

        def claim(d) -> bool:
            return claims.take(self.store, f"pull:{d.name}", slot, me, now=self.clock(), lease_s=self._lease_s)

        def pulled(d) -> None:
            claims.finish(self.store, f"pull:{d.name}", slot, me, now=self.clock())

        todo = list(devices)
        while todo:
            self._sync([devices[n] for n in todo], claim=claim, pulled=pulled)
            todo = claims.not_done(self.store, list(devices), slot)
            if todo and self._stopping.wait(self._poll_s()):
                return

    def after_pull(self) -> None:
        """What follows a pull: re-evaluate, drain the outbox, retry the held months."""
        if self.shared:
            claims.prune(self.store, now=self.clock())
        if not self.config.windows:
            log.info("no [[windows]] in the config: punches are pulled, nothing is evaluated")
            return
        self.reevaluate()
        self.drain()
        self.retry_held()

    def reevaluate(self) -> list[str]:
        """Snapshot the current month and every month whose inputs changed (none before go-live)."""
        now = self.clock()
        today = now.astimezone(self.tz).date()
        months = set(dirty_months(self.store)) | {period_of("month", today).key}
        done, early = [], []
        for key in sorted(months):
            if key > period_of("month", today).key:
                continue  # a punch from the future is quarantined; nothing to evaluate
            if before_go_live(self.config, parse_period(key)):
                early.append(key)  # old punches from a terminal or an import: not attendd's months
                continue
            with bound_contextvars(period=key):
                take_snapshot(self.store, self.config, parse_period(key), now=now)
            done.append(key)
        if early:
            log.info("months before go-live not evaluated", months=early, since=str(self.config.site.since))
        clear_dirty(self.store, done + early, now)
        return done

    def close_month(self, slot: datetime) -> str | None:
        """Final results for the month before the one ``slot`` falls in.

        Returns a note when the month is held open (its data is incomplete)."""
        if not self.config.windows:
            return None
        local = slot.astimezone(self.tz).date()
        previous = period_of("month", local.replace(day=1) - timedelta(days=1))
        if before_go_live(self.config, previous):
            log.info("month before go-live: not closed", period=previous.key, since=str(self.config.site.since))
            return None
        return self._close(previous)

    def retry_held(self) -> None:
        """Close the held months whose data is now complete (after each pull)."""
        if not self.config.windows:
            return
        for row in held_periods(self.store):
            period = parse_period(row["period_key"])
            if not before_go_live(self.config, period):
                self._close(period, retry=True)

    def _close(self, previous, *, retry: bool = False) -> str | None:
        with bound_contextvars(period=previous.key):
            try:
                close_period(self.store, self.config, previous, now=self.clock())
            except PeriodIncomplete as exc:
                hold(self.store, previous, exc.reasons, now=self.clock())
                if retry:
                    log.info("month still held open: data incomplete", reasons=exc.reasons)
                else:
                    log.error("month held open: data incomplete, not closed", reasons=exc.reasons)
                return f"{previous.key} held open: " + "; ".join(exc.reasons)
            log.info("month closed")
        self.drain()
        # The scoring DB has the results first; a bulletin that fails (no PDF font, a full
        # disk) fails the job, which a restart or the next close runs again.
        failures = []
        for period in closing_periods(previous, self.config.bulletin.periods):
            with bound_contextvars(period=period.key):
                try:
                    publish(self.store, self.config, period, now=self.clock())
                except AttenddError as exc:
                    failures.append(str(exc))
        if failures:
            raise AttenddError("; ".join(failures))
        return None

    def weekly_bulletin(self, slot: datetime) -> None:
        """The previous ISO week's summary (宜黄 publishes weekly)."""
        if not self.config.windows:
            return
        week = previous_week(slot.astimezone(self.tz).date())
        if before_go_live(self.config, week):
            return
        with bound_contextvars(period=week.key):
            publish(self.store, self.config, week, now=self.clock())

    def drain(self, *, wait: bool = True) -> None:
        """Push what the outbox holds; on a shared store under the ``drain`` lease, so the outbox
        drains once (``wait=False``, the periodic drain: skipped while another daemon drains)."""
        if self.scoring is None:
            return
        if not self.shared:
            drain(self.store, self.scoring, now=self.clock(), since=self.config.site.since)
            return
        if not self._lease("drain", claims.NO_SLOT, wait=wait):
            return
        try:
            drain(self.store, self.scoring, now=self.clock(), since=self.config.site.since)
        finally:
            claims.release(self.store, "drain", claims.NO_SLOT, self.instance)

    # --- the service ---------------------------------------------------------------------

    def serve(self) -> None:
        """Run until SIGTERM / SIGINT; the job in progress finishes first."""
        stopping = threading.Event()
        received: list[int] = []

        def stop(signum: int, _frame: object) -> None:
            # Only note the signal: a handler runs between two bytecodes of the main thread, which
            # may be inside a log call, and logging from here re-enters the stream's writer
            # ("reentrant call inside BufferedWriter"): the handler died before setting the event
            # and a SIGTERM just after READY left the daemon running. The main loop logs it.
            received.append(signum)
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self._stopping = stopping
        beating = self._start_instance()
        try:
            self._serve(stopping, received)
        finally:
            beating.set()
            try:
                claims.stopped(self.store, self.instance, now=self.clock())
            except Exception as exc:  # the store is down: the leases expire by themselves
                log.warning("cannot record this instance's stop", error=str(exc))

    def _start_instance(self) -> threading.Event:
        """Register this daemon on its store (``attendd status``), free the claims of its dead
        predecessors on this host, and start the heartbeat that renews its leases."""
        now = self.clock()
        claims.register(self.store, self.instance, now=now)
        dead = claims.retire_dead_here(self.store, self.instance, now=now)
        if dead:
            log.info("instances that died on this host retired, their claims freed", instances=len(dead))
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self._lease_s / 4):
                try:
                    claims.heartbeat(self.store, self.instance, now=self.clock(), lease_s=self._lease_s)
                except Exception as exc:  # a store outage: try again at the next beat
                    log.warning("heartbeat failed", error=str(exc))

        threading.Thread(target=beat, name="heartbeat", daemon=True).start()
        log.info("instance registered", instance=self.instance.id, host=self.instance.host, shared=self.shared)
        return done

    def _serve(self, stopping: threading.Event, received: list[int]) -> None:
        ran = self.catch_up()
        if ran:
            log.info("caught up on missed jobs", jobs=ran)
        quiet_apscheduler()
        sched = BackgroundScheduler(
            timezone=self.tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )
        for job, trigger in self.triggers.items():
            sched.add_job(self._fire, trigger, args=[job], id=job, name=job)
        sched.add_job(
            lambda: self.drain(wait=False),
            IntervalTrigger(minutes=self.config.daemon.drain_minutes, timezone=self.tz),
            id="drain",
            name="drain",
        )
        interval = watchdog_interval()
        if interval:
            sched.add_job(lambda: notify("WATCHDOG=1"), IntervalTrigger(seconds=interval), id="watchdog")
        sched.start()
        self._scheduler = sched
        notify("READY=1", "STATUS=running")
        log.info("attendd running", jobs=sorted(self.triggers), timezone=str(self.tz))
        while not stopping.wait(1.0):
            pass
        notify("STOPPING=1")
        log.info("stopping: finishing the current job", signal=signal.Signals(received[0]).name)
        sched.shutdown(wait=True)
        log.info("attendd stopped")

    def alive(self) -> bool:
        """Whether the scheduler is running (the web console's ``/healthz`` inside ``attendd run``)."""
        sched = getattr(self, "_scheduler", None)
        return sched is not None and sched.running

    def _fire(self, job: str) -> None:
        slot = latest_fire(self.triggers[job], self.clock())
        if slot is not None:
            self.execute(job, slot)


def job_runs(store: Store) -> list[dict]:
    """The latest run of every job (for ``attendd status``)."""
    t = job_run_table
    with store.reading() as conn:
        rows = conn.execute(select(t).order_by(t.c.job, t.c.scheduled_for_utc)).mappings().all()
    latest: dict[str, dict] = {}
    for r in rows:
        latest[r["job"]] = dict(r)
    return list(latest.values())


def today_in(tz: ZoneInfo, now: datetime) -> date:
    return now.astimezone(tz).date()
