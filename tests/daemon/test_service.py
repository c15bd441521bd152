"""`attendd run` as systemd runs it: Type=notify READY / STOPPING, catch-up at start, SIGTERM."""

from __future__ import annotations

import signal
import socket

from helpers import attendd, notified_daemon

from daemon.notify import notify, watchdog_interval
from drivers.zk.simulator import SimulatedTerminal, SimulatorServer, synthetic_punches


def test_notify_speaks_the_protocol(tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        assert notify("READY=1", "STATUS=ok", environ={"NOTIFY_SOCKET": str(path)})
        assert sock.recv(100) == b"READY=1\nSTATUS=ok"
    assert not notify("READY=1", environ={})
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None


def test_run_is_ready_catches_up_and_stops_on_sigterm(tmp_path):
    term = SimulatedTerminal(serial="RUN0000001", punches=synthetic_punches(300, pins=5))
    with SimulatorServer(term) as srv:
        cfg = tmp_path / "attendd.toml"
        cfg.write_text(
            f"""
[site]
name = "测试中心"
timezone = "Asia/Shanghai"
[store]
url = "sqlite:///{tmp_path / "store.db"}"
[scoring]
url = "sqlite:///{tmp_path / "scoring.db"}"
[[devices]]
name = "hall"
host = "127.0.0.1"
port = {srv.port}
timeout = 5
""",
            encoding="utf-8",
        )
        upgrade = attendd("--config", str(cfg), "db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        with notified_daemon(cfg, tmp_path) as (proc, sock):
            proc.send_signal(signal.SIGTERM)
            assert sock.recv(200) == b"STOPPING=1"
            _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        assert "Traceback" not in err, err[-3000:]
        # at start-up the missed pull ran once: the punches are stored and the job recorded
        status = attendd("--config", str(cfg), "status")
        assert status.returncode == 0, status.stderr
        assert "pull" in status.stdout and " ok " in status.stdout
        punches = attendd("--config", str(cfg), "punches", "--format", "csv")
        assert len(punches.stdout.strip().splitlines()) == 301
