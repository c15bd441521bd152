"""``/metrics``: the daemon's health in Prometheus' text format (prometheus-client).

Read from the store at each scrape (a collector, not counters kept in memory), so the numbers
are the same whichever process serves them — ``attendd web`` alone or inside ``attendd run`` —
and survive restarts: pulls by device and outcome, punches stored, the last good pull and clock
drift per device, the outbox backlog, each job's last duration and outcome.

Who may read it: without a session only addresses in ``[web] metrics_from`` (default loopback:
a Prometheus on the same server); from elsewhere a signed-in console user.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select

from ..store.models import ingest_run_table, job_run_table, punch_table
from . import auth
from .app import console_of
from .auth import LoginRequired

DEFAULT_METRICS_FROM = ("127.0.0.1/32", "::1/128")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(items: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(x, strict=False) for x in items]


def _allowed(address: str, nets: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in nets if n.version == ip.version)


class StoreCollector(Collector):
    """Every metric, read from the store when Prometheus scrapes."""

    def __init__(self, console) -> None:
        self._console = console

    def collect(self) -> Iterator:
        c = self._console
        store = c.store
        states = store.device_states()
        rt, pt, jt = ingest_run_table, punch_table, job_run_table
        with store.reading() as conn:
            runs = conn.execute(
                select(rt.c.device_name, rt.c.status, func.count(), func.coalesce(func.sum(rt.c.new), 0)).group_by(
                    rt.c.device_name, rt.c.status
                )
            ).all()
            punches = conn.scalar(select(func.count()).select_from(pt)) or 0
            jobs = conn.execute(select(jt).order_by(jt.c.job, jt.c.started_utc)).mappings().all()

        pulls = CounterMetricFamily(
            "attendd_pulls", "Input runs (pulls, pushes, imports) by device and outcome", labels=["device", "status"]
        )
        stored = CounterMetricFamily(
            "attendd_punches_stored_by_device", "Punches stored, by the device that delivered them", labels=["device"]
        )
        per_device_new: dict[str, int] = {}
        for device, status, n, new in runs:
            pulls.add_metric([device, status], n)
            per_device_new[device] = per_device_new.get(device, 0) + int(new)
        for device, n in sorted(per_device_new.items()):
            stored.add_metric([device], n)
        yield pulls
        yield stored
        yield GaugeMetricFamily("attendd_punches_stored", "Punches in the local store", value=punches)

        last = GaugeMetricFamily(
            "attendd_last_good_pull_timestamp_seconds", "When each device last synced fine", labels=["device"]
        )
        drift = GaugeMetricFamily(
            "attendd_clock_drift_seconds", "Terminal clock minus attendd's clock at the last pull", labels=["device"]
        )
        failing = GaugeMetricFamily("attendd_device_consecutive_failures", "Failed syncs in a row", labels=["device"])
        for d in c.config.devices:
            st = states.get(d.name)
            if st is None:
                continue
            if st.last_success_utc is not None:
                last.add_metric([d.name], st.last_success_utc.timestamp())
            if st.clock_offset_s is not None:
                drift.add_metric([d.name], st.clock_offset_s)
            failing.add_metric([d.name], st.consecutive_failures or 0)
        yield last
        yield drift
        yield failing

        from ..outbox import pending

        yield GaugeMetricFamily(
            "attendd_outbox_backlog",
            "Periods waiting to be pushed to the scoring DB",
            value=len(pending(store, None, since=c.config.site.since)),
        )

        duration = GaugeMetricFamily(
            "attendd_job_last_duration_seconds", "How long each job's last run took", labels=["job"]
        )
        ok = GaugeMetricFamily("attendd_job_last_ok", "1 if the job's last finished run succeeded", labels=["job"])
        latest: dict[str, dict] = {}
        for j in jobs:
            if j["finished_utc"] is not None:
                latest[j["job"]] = j
        for name, j in sorted(latest.items()):
            duration.add_metric([name], (j["finished_utc"] - j["started_utc"]).total_seconds())
            ok.add_metric([name], 1.0 if j["status"] == "ok" else 0.0)
        yield duration
        yield ok


def register(app: FastAPI, metrics_from: Sequence[Network]) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(app.state.console))

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        c = console_of(request)
        if (
            not _allowed(auth.client_address(request), metrics_from)
            and auth.session_of(request, c.accounts, c.clock()) is None
        ):
            raise LoginRequired()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
