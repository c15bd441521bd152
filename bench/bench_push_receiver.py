"""Push receiver benchmark: the new listener (Starlette under uvicorn) against the old one.

Throughput: ``--terminals`` simulated pushing terminals (threads, spread over
``--client-procs`` client processes) each send their day — 200 staff x 4 punches,
then the next day — in ATTLOG batches of ``--batch`` lines, one HTTP request (and one
connection) per batch, for ``--duration`` seconds. The listener runs in a process of
its own; its ``on_upload`` stores each batch into a fresh SQLite store through
``daemon.ingest.save_batch`` (``--sink store``, the default: what the daemon does) or
only counts it (``--sink count``). Reported: uploads/s, punches/s, refused or failed
requests, and the server process's peak RSS (VmHWM).

Memory: ``--memory-clients`` clients push bodies just under ``max_body`` (4 MB) for
``--memory-duration`` seconds (half of them valid punch lines, half junk lines); the
server only counts. Reported: the server's peak RSS.

The old listener (``http.server``, commit b5bc913) is loaded from git into a temporary
module at bench time, with the parser of the same commit; nothing of it is kept in the
tree.

Run: .venv/bin/python bench/bench_push_receiver.py [--duration 60] [--terminals 50] [--sink store|count]
     [--only new old] [--memory-duration 15] [--memory-clients 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLD_COMMIT = "b5bc913"

SERVE = r"""
import importlib, json, logging, os, sys, threading, types
sys.path.insert(0, %(root)r)
import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

impl, sink, store_url, serials = %(impl)r, %(sink)r, %(store_url)r, %(serials)r
counts = {"uploads": 0, "punches": 0, "bad": 0}
lock = threading.Lock()
if sink == "store":
    from daemon.ingest import save_batch
    from daemon.store import open_store
    store = open_store(store_url, timezone="Asia/Shanghai")
    TZ = ZoneInfo("Asia/Shanghai")
    devices = {s: SimpleNamespace(name="t" + s, installed=None) for s in serials}

def take(serial, punches, bad):
    if sink == "store":
        save_batch(store, devices[serial], device_serial=serial, source="adms", punches=punches, bad=bad,
                   now=datetime.now(timezone.utc), tz=TZ)
    with lock:
        counts["uploads"] += 1
        counts["punches"] += len(punches)
        counts["bad"] += len(bad)

if impl == "new":
    from drivers.adms.access import DeviceAccess, Limits
    from drivers.adms.server import AdmsServer
    access = {s: DeviceAccess(s, "t" + s, any_address=True) for s in serials}
    srv = AdmsServer("127.0.0.1", 0, access, lambda up: take(up.serial, up.punches, up.bad),
                     limits=Limits(rate_per_minute=10**9))
else:
    import drivers.adms
    def load(name, source):
        mod = types.ModuleType("drivers.adms." + name)
        mod.__package__ = "drivers.adms"
        sys.modules[mod.__name__] = mod
        exec(compile(source, f"<{%(commit)r}:drivers/adms/{name}>", "exec"), mod.__dict__)
        return mod
    load("_bench_old_protocol", %(old_protocol)r)
    old = load("_bench_old_server", %(old_server)r.replace("from .protocol import", "from ._bench_old_protocol import"))
    srv = old.AdmsServer("127.0.0.1", 0, serials, take)
srv.start()
print(json.dumps({"port": srv.port, "pid": os.getpid()}), flush=True)
for line in sys.stdin:
    if line.strip() == "counts":
        print(json.dumps(counts), flush=True)
srv.stop()
"""


def old_source(path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, impl: str, sink: str, serials: list[str], tmp: str) -> None:
        store_url = f"sqlite:///{tmp}/{impl}-store.db"
        script = SERVE % {
            "root": str(ROOT),
            "impl": impl,
            "sink": sink,
            "store_url": store_url,
            "serials": serials,
            "commit": OLD_COMMIT,
            "old_server": old_source("drivers/adms/server.py"),
            "old_protocol": old_source("drivers/adms/protocol.py"),
        }
        if sink == "store":  # the schema first, outside the timed part
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                    f"from daemon.store import open_store; open_store({store_url!r}, timezone='Asia/Shanghai').close()",
                ],
                check=True,
            )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        info = json.loads(self.proc.stdout.readline())
        self.port, self.pid = info["port"], info["pid"]

    def counts(self) -> dict:
        self.proc.stdin.write("counts\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


# --- clients (run in child processes) ---------------------------------------------------------


def _post(port: int, path: str, body: bytes | None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST" if body is not None else "GET",
            path,
            body=body,
            headers={"Content-Type": "text/plain"} if body is not None else {},
        )
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _terminal(port: int, serial: str, seed: int, batch: int, until: float, out: list) -> None:
    uploads = punches = failed = 0
    day = datetime(2025, 1, 1) + timedelta(days=seed % 7)
    _post(port, f"/iclock/cdata?SN={serial}&options=all&pushver=2.4.1", None)
    while time.time() < until:
        lines = [
            f"{pin}\t{day + timedelta(hours=h, minutes=(pin * 7 + seed) % 50, seconds=pin % 60):%Y-%m-%d %H:%M:%S}"
            f"\t{k % 2}\t15\t0\t0\t0\n"
            for k, h in enumerate((8, 12, 13, 17))
            for pin in range(1, 201)
        ]
        lines.sort(key=lambda line: line.split("\t")[1])
        for i in range(0, len(lines), batch):
            if time.time() >= until:
                break
            body = "".join(lines[i : i + batch]).encode()
            try:
                status, text = _post(port, f"/iclock/cdata?SN={serial}&table=ATTLOG&Stamp=9999", body)
            except OSError:
                status, text = 0, ""
            if status == 200 and text.startswith("OK"):
                uploads += 1
                punches += int(text[3:] or 0)
            else:
                failed += 1
            _post(port, f"/iclock/getrequest?SN={serial}", None)
        day += timedelta(days=1)
    out.append((uploads, punches, failed))


def _client_proc(port: int, serials: list[str], batch: int, until: float, q) -> None:
    out: list = []
    threads = [threading.Thread(target=_terminal, args=(port, s, n, batch, until, out)) for n, s in enumerate(serials)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.put(out)


def _big_client(port: int, serial: str, n: int, max_body: int, until: float, q) -> None:
    line = b"12345\t2025-03-04 08:51:02\t0\t15\t0\t0\t0\n"
    valid = line * (max_body // len(line) - 1)
    junk = b"x\n" * (max_body // 2 - 16)
    sent = refused = 0
    while time.time() < until:
        body = valid if (sent + refused + n) % 2 == 0 else junk
        try:
            status, _ = _post(port, f"/iclock/cdata?SN={serial}&table=ATTLOG", body)
        except OSError:
            status = 0
        if status == 200:
            sent += 1
        else:
            refused += 1
            time.sleep(0.2)
    q.put((sent, refused))


def throughput(impl: str, args, tmp: str) -> dict:
    serials = [f"PUSH{i:04d}" for i in range(args.terminals)]
    srv = Server(impl, args.sink, serials, tmp)
    try:
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        until = time.time() + args.duration
        per = -(-len(serials) // args.client_procs)
        procs = [
            ctx.Process(target=_client_proc, args=(srv.port, serials[i : i + per], args.batch, until, q))
            for i in range(0, len(serials), per)
        ]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        results = [r for _ in procs for r in q.get()]
        wall = time.perf_counter() - t0
        for p in procs:
            p.join()
        counts = srv.counts()
        rss = vm_hwm_mib(srv.pid)
    finally:
        srv.close()
    uploads = sum(r[0] for r in results)
    punches = sum(r[1] for r in results)
    return {
        "impl": impl,
        "wall": wall,
        "uploads": uploads,
        "punches": punches,
        "failed": sum(r[2] for r in results),
        "server_uploads": counts["uploads"],
        "uploads_s": uploads / wall,
        "punches_s": punches / wall,
        "rss": rss,
    }


def memory(impl: str, args, tmp: str) -> dict:
    from drivers.adms.access import Limits

    max_body = Limits().max_body
    serials = ["BIG0001"]
    srv = Server(impl, "count", serials, tmp)
    try:
        base = vm_hwm_mib(srv.pid)
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        until = time.time() + args.memory_duration
        procs = [
            ctx.Process(target=_big_client, args=(srv.port, serials[0], n, max_body, until, q))
            for n in range(args.memory_clients)
        ]
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
        rss = vm_hwm_mib(srv.pid)
    finally:
        srv.close()
    return {
        "impl": impl,
        "base": base,
        "rss": rss,
        "sent": sum(r[0] for r in results),
        "refused": sum(r[1] for r in results),
        "max_body": max_body,
    }


def each(impls, measure, describe) -> None:
    """Measure each implementation in turn and print a line about it as soon as it is done."""
    for impl in impls:
        print(f"  {impl}: {describe(measure(impl))}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--terminals", type=int, default=50)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--client-procs", type=int, default=5)
    ap.add_argument("--sink", choices=("store", "count"), default="store")
    ap.add_argument("--only", nargs="+", choices=("new", "old"), default=["new", "old"])
    ap.add_argument("--memory-duration", type=float, default=15.0)
    ap.add_argument("--memory-clients", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="attendd-bench-push-") as tmp:
        print(
            f"{args.terminals} terminals, batches of {args.batch} lines, {args.duration:g} s each, "
            f"sink={args.sink} ({os.cpu_count()} cores)"
        )
        each(
            args.only,
            lambda impl: throughput(impl, args, tmp),
            lambda r: (
                f"{r['uploads']} uploads in {r['wall']:.1f} s = {r['uploads_s']:.0f} uploads/s, "
                f"{r['punches_s']:.0f} punches/s, {r['failed']} failed; server peak RSS {r['rss']:.0f} MiB"
            ),
        )
        if args.memory_duration > 0:
            print(
                f"memory: {args.memory_clients} clients pushing ~4 MB bodies (valid and junk lines) for "
                f"{args.memory_duration:g} s, sink=count"
            )
            each(
                args.only,
                lambda impl: memory(impl, args, tmp),
                lambda m: (
                    f"{m['sent']} bodies answered 200, {m['refused']} refused/failed; server peak RSS "
                    f"{m['rss']:.0f} MiB (idle {m['base']:.0f} MiB)"
                ),
            )


if __name__ == "__main__":
    main()
