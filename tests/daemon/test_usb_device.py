"""A USB-only terminal (issue 16, item 6): a ``usb`` device without ``serial`` stores its punches
under ``usb:<name>`` (as serial-line devices use ``serial:<name>``), and its last import is its
last good sync in ``attendd devices`` and ``attendd status``."""

from __future__ import annotations

import json

from helpers import run_cli, write_store_config

from daemon.store import Store

EXPORT = "1\t2026-03-02 08:00:00\t1\t0\t1\t0\n2\t2026-03-02 08:01:30\t1\t0\t1\t0\n"


def usb_site(tmp_path, device: str = ""):
    return write_store_config(tmp_path, '[[devices]]\nname = "annex"\ndriver = "usb"\n' + device)


def stored_serials(tmp_path) -> dict[str, int]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}", timezone="Asia/Shanghai")
    try:
        serials = [r["device_serial"] for r in s.punches()]
    finally:
        s.close()
    return {x: serials.count(x) for x in set(serials)}


def test_an_import_without_a_serial_is_stored_under_usb_name_and_counts_as_a_sync(tmp_path):
    cfg = usb_site(tmp_path)
    export = tmp_path / "1_attlog.dat"
    export.write_text(EXPORT, encoding="utf-8")
    before = json.loads(run_cli("--config", str(cfg), "status", "--format", "json").stdout)
    assert before["devices"][0]["health"] == "never synced"

    first = run_cli("--config", str(cfg), "import", "attlog", str(export), "--device", "annex")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "read 2, new 2, duplicate 0, quarantined 0, rejected 0"
    assert stored_serials(tmp_path) == {"usb:annex": 2}

    (dev,) = json.loads(run_cli("--config", str(cfg), "status", "--format", "json").stdout)["devices"]
    assert (dev["serial"], dev["health"], dev["error"]) == ("usb:annex", "ok", "")
    assert dev["last_sync"]  # the import's time, not "never synced"
    listed = run_cli("--config", str(cfg), "devices", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["serial"] == "usb:annex" and row["last_sync"] == dev["last_sync"] and row["last_error"] == ""

    # a later export that names its terminal on a first line goes where the earlier ones went
    framed = tmp_path / "2_attlog.dat"
    framed.write_text("BRC7201960100\n" + EXPORT + "3\t2026-03-03 08:00:00\t1\t0\t1\t0\n", encoding="utf-8")
    again = run_cli("--config", str(cfg), "import", "attlog", str(framed), "--device", "annex")
    assert again.returncode == 0, again.stderr
    assert "new 1, duplicate 2" in again.stdout and stored_serials(tmp_path) == {"usb:annex": 3}


def test_a_configured_serial_still_wins(tmp_path):
    cfg = usb_site(tmp_path, 'serial = "REAL0001"\n')
    export = tmp_path / "1_attlog.dat"
    export.write_text(EXPORT, encoding="utf-8")
    assert run_cli("--config", str(cfg), "import", "attlog", str(export), "--device", "annex").returncode == 0
    assert stored_serials(tmp_path) == {"REAL0001": 2}
