"""Issue 16 (5): the quarantine review's re-date and dismiss on the command line.

``quarantine list --device --reason``, ``quarantine redate --device D --from T1 --to T2`` (a reset
clock's run, chosen by the terminal's own times, re-dated by ``--offset`` or ``--known``,
previewed with ``--dry-run``) and ``quarantine dismiss`` of such a run: exit codes, one-line
refusals, the change log naming ``--by``, and a dry run that stores nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from helpers import assert_clean_failure, run_cli, write_centre

from drivers import Punch

STAMP = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
#: The terminal (installed 2020) restarted at 2000-01-01 and kept counting from there.
RESET = [
    Punch("1", datetime(2000, 1, 3, 8, 1)),
    Punch("1", datetime(2000, 1, 3, 17, 3)),
    Punch("2", datetime(2000, 1, 3, 8, 10)),
    Punch("2", datetime(2000, 1, 5, 8, 0)),  # a later day: outside the run re-dated below
]
SAID, REAL = datetime(2000, 1, 3, 8, 1), datetime(2026, 3, 4, 8, 2)
DEVICES = (
    '[[devices]]\nname = "hall"\nhost = "10.0.0.21"\ninstalled = 2020-01-01\n'
    '[[devices]]\nname = "lobby"\nhost = "10.0.0.22"\ninstalled = 2020-01-01\n'
)
RUN = ("--device", "hall", "--from", "2000-01-01", "--to", "2000-01-03")


@pytest.fixture
def centre(tmp_path):
    """hall's reset clock run quarantined (four records), and one of lobby's from the future."""
    from daemon.config import load_config
    from daemon.ingest import sort_punches
    from daemon.store import open_store

    cfg = write_centre(tmp_path, extra=DEVICES)
    store = open_store(load_config(cfg).store.url, timezone="Asia/Shanghai")
    for name, serial, punches in (
        ("hall", "S1", RESET),
        ("lobby", "S2", [Punch("3", datetime(2031, 5, 1, 9, 0))]),
    ):
        good, aside = sort_punches(punches, now_local=datetime(2026, 3, 5, 10, 0), installed=date(2020, 1, 1))
        assert good == []
        store.save_punches(
            device_name=name, device_serial=serial, source="zk", punches=[], quarantined=aside, now_utc=STAMP
        )
    yield str(cfg), store
    store.close()


def one_line(proc) -> str:
    """The refusal's only line on stderr (exit 2, no traceback)."""
    assert_clean_failure(proc, 2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def listed(cfg: str, *args: str) -> list[dict]:
    proc = run_cli("--config", cfg, "quarantine", "list", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def unchanged(store) -> tuple[int, int]:
    """(punches stored, change-log entries): what a refusal or a dry run must leave as it was."""
    from daemon.store import changes

    return store.count_punches(), len(changes(store))


def test_list_filters_by_device_and_reason(centre):
    cfg, _store = centre
    assert len(listed(cfg)) == 5
    assert {r["device_name"] for r in listed(cfg, "--device", "hall")} == {"hall"}
    assert len(listed(cfg, "--device", "S1")) == 4  # by serial too
    assert [r["pin"] for r in listed(cfg, "--reason", "future")] == ["3"]
    assert len(listed(cfg, "--reason", "RESET CLOCK")) == 4  # any case
    assert listed(cfg, "--device", "lobby", "--reason", "reset") == []
    none = run_cli("--config", cfg, "quarantine", "list", "--device", "lobby", "--reason", "reset")
    assert none.returncode == 0 and none.stdout.strip() == "no quarantined record matches"
    line = one_line(run_cli("--config", cfg, "quarantine", "list", "--device", "nope"))
    assert line == "attendd: --device: no device named or with serial 'nope' (devices: hall, lobby)"


def test_redate_dry_run_stores_nothing_then_the_run_is_re_dated_and_audited(centre):
    from daemon.store import changes

    cfg, store = centre
    offset = REAL - SAID
    duration = f"+{offset.days}d{offset.seconds // 60}m"  # +9557d1m
    dry = run_cli("--config", cfg, "quarantine", "redate", *RUN, "--offset", duration, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2026-03-04 08:02:00" in dry.stdout and "2026-03-04 17:04:00" in dry.stdout
    assert "2026-03-04 08:11:00" in dry.stdout and "2000-01-05" not in dry.stdout  # only the run asked for
    assert dry.stdout.strip().endswith("dry run: nothing stored (3 record(s) would be re-dated)")
    back = run_cli("--config", cfg, "quarantine", "redate", *RUN, "--offset=-8h", "--dry-run")  # still in 2000
    assert back.returncode == 0 and "3 cannot be re-dated (see problem)" in back.stdout
    assert unchanged(store) == (0, 0)

    done = run_cli(
        "--config",
        cfg,
        "quarantine",
        "redate",
        *RUN,
        "--known",
        f"{SAID}={REAL}",
        "--reason",
        "时钟复位",
        "--by",
        "王芳",
    )
    assert done.returncode == 0, done.stderr
    seconds = f"{offset.total_seconds():+.0f}"
    assert done.stdout.strip() == f"re-dated 3 record(s) of hall by {seconds} s: 3 new punch(es)"
    assert sorted((p["pin"], p["punched_at"]) for p in store.punches()) == [
        ("1", datetime(2026, 3, 4, 8, 2)),
        ("1", datetime(2026, 3, 4, 17, 4)),
        ("2", datetime(2026, 3, 4, 8, 11)),
    ]
    [entry] = changes(store)
    assert (entry["action"], entry["by"], entry["via"], entry["reason"]) == (
        "quarantine_release",
        "王芳",
        "cli",
        "时钟复位",
    )
    assert entry["after"]["selection"] == {"device": "hall", "from": "2000-01-01", "to": "2000-01-03"}
    assert entry["after"]["offset_s"] == offset.total_seconds() and len(entry["after"]["ids"]) == 3
    # the 5 January record was outside the range: still pending; the run is decided
    assert [r["punched_at"] for r in listed(cfg, "--device", "hall")] == [datetime(2000, 1, 5, 8, 0).isoformat(" ")]
    again = one_line(run_cli("--config", cfg, "quarantine", "redate", *RUN, "--offset", seconds, "--dry-run"))
    assert "no pending quarantined record from 2000-01-01 to 2000-01-03" in again


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--device", "hall", "--from", "2000-01-03", "--to", "2000-01-01", "--offset", "60", "--dry-run"),
            "attendd: --to: 2000-01-01 is not after --from 2000-01-03",
        ),
        (
            ("--device", "nope", "--from", "2000-01-01", "--to", "2000-01-03", "--offset", "60", "--dry-run"),
            "attendd: --device: no device named or with serial 'nope' (devices: hall, lobby)",
        ),
        (
            (*RUN, "--offset", "+26y", "--dry-run"),
            "attendd: --offset: expected seconds or a duration like +9559d1m (d, h, m, s), got '+26y'",
        ),
        ((*RUN, "--offset", "99999999d", "--dry-run"), "attendd: --offset: at most 36600 days either way"),
        ((*RUN, "--dry-run"), "attendd: redate: how far the clock was off: --offset OFFSET or --known TERMINAL=REAL"),
        ((*RUN, "--offset", "60", "--known", f"{SAID}={REAL}", "--dry-run"), "attendd: --known or --offset, not both"),
        ((*RUN, "--known", "yesterday", "--dry-run"), "attendd: --known: expected"),
        (
            ("--device", "hall", "--from", "2000-02-30", "--to", "2000-03-01", "--offset", "60"),
            "attendd: --from: expected a real date",
        ),
        ((*RUN, "--offset", "60", "--by", "王芳"), "attendd: redate: say why and who with --reason TEXT --by NAME"),
        ((*RUN, "--offset", "0", "--reason", "r", "--by", "王芳"), "reset clock"),  # re-dated to 2000: refused
    ],
    ids=[
        "to-before-from",
        "unknown-device",
        "years",
        "huge",
        "no-offset",
        "both",
        "bad-known",
        "bad-date",
        "no-reason",
        "no-real-date",
    ],
)
def test_redate_refuses_bad_input_in_one_line_and_stores_nothing(centre, args, expected):
    cfg, store = centre
    line = one_line(run_cli("--config", cfg, "quarantine", "redate", *args))
    assert line.startswith(expected) or expected in line, line
    assert unchanged(store) == (0, 0)
    assert len(listed(cfg)) == 5


def test_a_run_is_dismissed_by_device_and_range_with_a_dry_run_first(centre):
    from daemon.store import changes

    cfg, store = centre
    dry = run_cli("--config", cfg, "quarantine", "dismiss", *RUN, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip().endswith("dry run: nothing stored (3 record(s) would be dismissed)")
    assert unchanged(store) == (0, 0) and len(listed(cfg)) == 5
    need = one_line(run_cli("--config", cfg, "quarantine", "dismiss", *RUN, "--reason", "测试打卡"))
    assert need.startswith("attendd: dismiss: say why and who with --reason TEXT --by NAME")
    both = one_line(run_cli("--config", cfg, "quarantine", "dismiss", "1", *RUN, "--reason", "r", "--by", "王芳"))
    assert both == "attendd: dismiss: record ids or --device --from --to, not both"
    half = one_line(run_cli("--config", cfg, "quarantine", "dismiss", "--device", "hall", "--reason", "r", "--by", "x"))
    assert half.startswith("attendd: dismiss: name the records")
    done = run_cli("--config", cfg, "quarantine", "dismiss", *RUN, "--reason", "测试打卡", "--by", "李科长")
    assert done.returncode == 0 and done.stdout.strip() == "dismissed 3 record(s)"
    [entry] = changes(store)
    assert (entry["action"], entry["by"], entry["via"]) == ("quarantine_dismiss", "李科长", "cli")
    assert store.count_punches() == 0  # dismissed records never count
    assert {r["decision"] for r in listed(cfg, "--all", "--device", "hall")} == {"dismissed", "pending"}
