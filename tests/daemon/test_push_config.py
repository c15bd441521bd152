"""Issue 11, the daemon's side of the push receiver: who may push (config), the bounds' keys,
and the store behind it (the peer in the ingest run, the daily quarantine cap)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import config_problems as problems
from helpers import write_toml as write

from daemon.config import load_config, parse_listen
from daemon.push_receiver import access_of, limits_of, make_on_upload
from drivers import BadRecord, Punch
from drivers.adms.access import Upload, UploadRefused

TZ = ZoneInfo("Asia/Shanghai")
SITE = '[site]\nname = "测试中心"\n'


def adms(**keys) -> str:
    body = "".join(f"{k} = {v}\n" for k, v in keys.items())
    return f'[[devices]]\nname = "face"\ndriver = "adms"\nserial = "ADMS0001"\n{body}'


def test_a_pushing_terminal_must_say_where_it_pushes_from(tmp_path):
    """The serial number is printed on the label and sent in clear: it proves nothing. An adms
    device needs allow_from, or allow_any_address = true said explicitly."""
    (line,) = problems(tmp_path, SITE + adms())
    assert line.startswith('devices[0] (face).allow_from: required for driver "adms"') and "allow_any_address" in line
    assert load_config(write(tmp_path, SITE + adms(allow_any_address="true"))).devices[0].allow_any_address
    cfg = load_config(write(tmp_path, SITE + adms(allow_from='["10.0.3.21", "10.0.4.0/24"]')))
    assert [str(n) for n in cfg.devices[0].networks()] == ["10.0.3.21/32", "10.0.4.0/24"]
    access = access_of(cfg)["ADMS0001"]
    assert access.allows("10.0.4.77") and access.allows("::ffff:10.0.3.21") and not access.allows("10.0.3.22")


def test_bad_addresses_duplicate_serials_and_misplaced_keys_are_config_errors(tmp_path):
    got = problems(
        tmp_path,
        SITE
        + adms(allow_from='["10.0.3.300", "hall"]')
        + "\n"
        + '[[devices]]\nname = "face2"\ndriver = "adms"\nserial = "ADMS0001"\nallow_any_address = true\n'
        + '[[devices]]\nname = "old"\nhost = "10.0.0.9"\nallow_from = ["10.0.0.9"]\n',
    )
    assert (
        'devices[0] (face).allow_from: "10.0.3.300" is not an IP address or CIDR range (e.g. 10.0.3.21 or 10.0.3.0/24)'
        in got
    )
    assert 'devices[1] (face2).serial: duplicate adms serial "ADMS0001" (also devices[0])' in got
    assert 'devices[2] (old).allow_from: only for driver "adms" (pushing terminals)' in got


@pytest.mark.parametrize(
    ("listen", "why"),
    [
        ("0.0.0.0:99999", "a port from 1 to 65535"),
        ("0.0.0.0:0", "a port from 1 to 65535"),
        ("hall east:8081", "is not an IP address or a host name"),
        ("[10.0.0.1]:8081", "is not an IPv6 address"),
        ("8081", "expected HOST:PORT"),
    ],
)
def test_push_listen_is_checked_at_config_load(tmp_path, listen, why):
    (line,) = problems(tmp_path, SITE + f'[daemon]\npush_listen = "{listen}"\n')
    assert line.startswith("daemon.push_listen: ") and why in line


def test_push_listen_forms_and_the_limits_keys(tmp_path):
    assert parse_listen("[::1]:8443") == ("::1", 8443)
    assert parse_listen(":8081") == ("0.0.0.0", 8081)
    assert parse_listen("attendd.lan:8081") == ("attendd.lan", 8081)
    cfg = load_config(
        write(
            tmp_path,
            SITE + "[daemon]\npush_max_body = 65536\npush_rate_per_minute = 30\npush_quarantine_per_day = 10\n",
        )
    )
    limits = limits_of(cfg)
    assert (limits.max_body, limits.rate_per_minute, limits.quarantine_per_day) == (65536, 30, 10)
    (line,) = problems(tmp_path, SITE + f'[daemon]\npush_tls_key = "{tmp_path / "k.pem"}"\n')
    assert line.startswith("daemon.push_tls_key: no such file")
    (tmp_path / "k.pem").write_text("x")
    (line,) = problems(tmp_path, SITE + f'[daemon]\npush_tls_key = "{tmp_path / "k.pem"}"\n')
    assert line.startswith("daemon.push_tls_cert: required with the other push_tls_* key")


def _site(tmp_path, cap: int):
    cfg = load_config(
        write(
            tmp_path,
            SITE + f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
            f"[daemon]\npush_quarantine_per_day = {cap}\n" + adms(allow_from='["127.0.0.1"]'),
        )
    )
    from daemon.store import open_store

    return cfg, open_store(cfg.store_url(), timezone="Asia/Shanghai")


def test_each_stored_batch_records_its_peer(tmp_path):
    cfg, store = _site(tmp_path, 100)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    on_upload = make_on_upload(store, cfg, lambda: now, TZ)
    saved = on_upload(Upload("ADMS0001", "face", "127.0.0.1", [Punch("7", datetime(2026, 3, 2, 8, 50))], []))
    assert saved.new == 1
    (run,) = _runs(store)
    assert run["peer"] == "127.0.0.1" and run["device_name"] == "face"
    store.close()


def _runs(store):
    from sqlalchemy import select

    from daemon.store.models import IngestRunRow

    with store.reading() as conn:
        return [dict(r) for r in conn.execute(select(IngestRunRow.__table__)).mappings()]


def test_the_daily_quarantine_cap_refuses_junk_and_flags_the_device_once(tmp_path):
    """Five quarantined lines a day at most: a batch of junk beyond it is refused (the listener
    answers 503, the terminal keeps its records), the device is flagged failing once for the day,
    and nothing of the refused batches is stored; a clean batch still goes in."""
    cfg, store = _site(tmp_path, 5)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    on_upload = make_on_upload(store, cfg, lambda: now, TZ)

    def junk(n: int, start: int = 0) -> list[BadRecord]:
        return [BadRecord(i + 1, f"junk {start + i}".encode(), f"line {i + 1}: no tab") for i in range(n)]

    on_upload(Upload("ADMS0001", "face", "127.0.0.1", [], junk(4)))
    for attempt in range(3):
        with pytest.raises(UploadRefused, match="over the daily cap of 5"):
            on_upload(Upload("ADMS0001", "face", "127.0.0.1", [], junk(2, 100 + 10 * attempt)))
    runs = _runs(store)
    assert [r["status"] for r in runs] == ["ok", "failed"]  # one flag for the day, not one per refusal
    assert sum(r["quarantined"] or 0 for r in runs) == 4
    state = store.device_state("face")
    assert state.consecutive_failures == 1 and "push_quarantine_per_day" in state.last_error
    ok = on_upload(Upload("ADMS0001", "face", "127.0.0.1", [Punch("7", datetime(2026, 3, 2, 8, 50))], []))
    assert ok.new == 1 and store.device_state("face").consecutive_failures == 0
    store.close()
