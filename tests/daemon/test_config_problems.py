"""Issue 13, points 9–12: the config file refused completely and in one line per problem.

Every problem of the file in one run (unknown presets and each policy override mistake with the
rest, "did you mean" for override keys, devices named in their paths, Asia/Shanghai for Chinese
zone names); store URLs that keep nothing refused and relative SQLite paths taken beside the
config file; passwords in a URL's query masked; TOML too deep or too big for the parser, one line.
Through the command line (``check-config`` and a command that loads the config), exit code 2.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from helpers import SMALL_CENTRE, assert_clean_failure, attendd, run_cli
from helpers import config_problems as problems

from daemon.config import load_config

# A valid centre (issue 13's examples): one terminal, the standard day, a policy per window.
CENTRE = SMALL_CENTRE


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "attendd.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(path: Path, *command: str) -> list[str]:
    """What ``attendd --config PATH COMMAND`` says on stderr, checked to be a clean refusal (exit 2)."""
    proc = run_cli("--config", str(path), *command)
    assert_clean_failure(proc, 2)
    assert proc.stdout == ""
    return proc.stderr.splitlines()


# --- point 9: every problem in one run -------------------------------------------------------


def test_every_problem_in_one_run_with_presets_overrides_and_device_names(tmp_path: Path) -> None:
    text = (
        CENTRE.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"')
        .replace('host = "10.0.0.21"', 'host = "10.0.0.21"\nport = 70000')
        .replace('preset = "luoshan"', 'preset = "luoshen"')
        + '\n[policies.desk]\npreset = "luoshan"\nmax_point = 30\novrflow = "cap"\n'
        + "[policies.desk.points]\nlat = 2\n"
        + '[policies.desk.day]\ngrace_minutes = "five"\n'
        + '\n[[devices]]\nname = "tax-hall"\nhost = "10.0.0.22"\nprotcol = "udp"\n'
    )
    path = write(tmp_path, text)
    want = [
        'site.timezone: unknown time zone "Asia/Beijing" (did you mean "Asia/Shanghai"? '
        "China keeps one time, Beijing time, named Asia/Shanghai)",
        "devices[0] (hall-east).port: must be at most 65535, got 70000",
        'devices[1] (tax-hall).protcol: unknown key (did you mean "protocol"?)',
        "policies.hall.preset: unknown preset 'luoshen'; known: luoshan, yihuang, yihuang-staff, sanjiang, "
        "shangyu, county-002, county-004-5",
        'policies.desk.points.lat: unknown key (did you mean "late"?)',
        "policies.desk.day.grace_minutes: Input should be a valid integer, unable to parse string as an integer",
        'policies.desk.max_point: unknown key (did you mean "max_points"?)',
        'policies.desk.ovrflow: unknown key (did you mean "overflow"?)',
    ]
    assert refused(path, "check-config") == [f"{path}: {line}" for line in want]
    assert refused(path, "db", "upgrade") == [f"{path}: {line}" for line in want]  # any command that loads it
    assert not (tmp_path / "attendd.db").exists()


def test_an_override_key_far_from_any_gets_no_guess(tmp_path: Path) -> None:
    text = CENTRE.replace('preset = "luoshan"', 'preset = "luoshan"\nlate_points = 2\nfoo = 1')
    assert problems(tmp_path, text) == ["policies.hall.late_points: unknown key", "policies.hall.foo: unknown key"]


@pytest.mark.parametrize(
    "zone", ["Asia/Beijing", "Beijing", "Asia/Guangzhou", "China Standard Time", "UTC+8", "北京时间"]
)
def test_chinese_zone_names_suggest_asia_shanghai(tmp_path: Path, zone: str) -> None:
    (line,) = problems(tmp_path, CENTRE.replace('"Asia/Shanghai"', f'"{zone}"'))
    assert line.startswith(f'site.timezone: unknown time zone "{zone}" (did you mean "Asia/Shanghai"? ')


def test_other_zone_typos_keep_the_close_match(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, CENTRE.replace('"Asia/Shanghai"', '"Europe/Berln"'))
    assert line == 'site.timezone: unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?)'


def test_a_timetable_problem_comes_with_the_others(tmp_path: Path) -> None:
    """The rules' own timetable checks (slot order) no longer wait for the rest of the file to be fixed."""
    text = CENTRE.replace('at = "12:00", accept = ["11:00", "12:50"]', 'at = "08:00", accept = ["07:00", "08:30"]')
    text = text.replace('host = "10.0.0.21"', 'host = "10.0.0.21"\nport = 0')
    got = problems(tmp_path, text)
    assert got[0] == "devices[0] (hall-east).port: must be at least 1, got 0"
    assert len(got) == 2 and got[1].startswith("timetables.standard.slots"), got


# --- point 10: store URLs that keep nothing; relative SQLite paths -------------------------


def test_a_store_that_keeps_nothing_is_refused(tmp_path: Path) -> None:
    text = CENTRE + '[store]\nurl = "sqlite://"\n[scoring]\nurl = "sqlite:///:memory:"\n'
    path = write(tmp_path, text)
    why = (
        "an in-memory SQLite database keeps nothing once attendd exits; name a file, e.g. "
        "sqlite:////var/lib/attendd/attendd.db (absolute) or sqlite:///attendd.db (next to the config file)"
    )
    want = [f'{path}: store.url: {why}, got "sqlite://"', f'{path}: scoring.url: {why}, got "sqlite:///:memory:"']
    assert refused(path, "check-config") == want
    assert refused(path, "db", "upgrade") == want
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attendd.toml"]  # nothing written
    for url in ("sqlite:///", "sqlite+pysqlite://", "sqlite:///file:x?mode=memory&uri=true"):
        (line,) = problems(tmp_path, CENTRE + f'[store]\nurl = "{url}"\n')
        assert line.startswith("store.url: an in-memory SQLite database keeps nothing"), line


def test_a_relative_sqlite_path_is_beside_the_config_file(tmp_path: Path, monkeypatch) -> None:
    config_dir, elsewhere = tmp_path / "etc", tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write(config_dir, CENTRE + '[store]\nurl = "sqlite:///data/store.db"\n[scoring]\nurl = "sqlite:///s.db"\n')
    config = load_config(path)
    assert config.store_url() == f"sqlite:///{config_dir}/data/store.db"
    assert config.scoring_url() == f"sqlite:///{config_dir}/s.db"
    proc = run_cli("--config", os.path.relpath(path), "db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert f"local store sqlite:///{config_dir}/data/store.db: revision" in proc.stdout
    assert (config_dir / "data" / "store.db").is_file() and (config_dir / "s.db").is_file()
    assert list(elsewhere.iterdir()) == []
    absolute = load_config(write(config_dir, CENTRE + f'[store]\nurl = "sqlite:///{tmp_path}/abs.db"\n'))
    assert absolute.store_url() == f"sqlite:///{tmp_path}/abs.db"


# --- point 11: a password in the URL's query is masked ---------------------------------------


def test_a_query_password_is_masked_like_a_userinfo_one(tmp_path: Path) -> None:
    secret = "Qp-9x-secret"
    text = (
        CENTRE
        + f'[store]\nurl = "sqlite://?password={secret}"\n'
        + f'[scoring]\nurl = "postgres ql://scorer@db/scoring?sslmode=require&password={secret}"\n'
    )
    path = write(tmp_path, text)
    lines = refused(path, "check-config")
    assert len(lines) == 2 and not any(secret in line for line in lines), lines
    assert lines[0].endswith('got "sqlite://?password=***"')
    assert lines[1].endswith('got "postgres ql://scorer@db/scoring?sslmode=require&password=***"')
    good = load_config(write(tmp_path, CENTRE + f'[scoring]\nurl = "postgresql+psycopg://s@db/x?password={secret}"\n'))
    assert secret in good.secrets()
    assert secret not in repr(good) and secret not in good.model_dump_json()
    assert good.model_dump()["scoring"]["url"] == "postgresql+psycopg://s@db/x?password=***"
    assert good.model_dump(context={"reveal_secrets": True})["scoring"]["url"].endswith(f"password={secret}")


# --- point 12: TOML the parser cannot take -------------------------------------------------------


def test_huge_and_deep_values_are_one_line(tmp_path: Path) -> None:
    head = CENTRE.replace('name = "测试中心"', 'name = "测试中心"\nnote = "x"')
    cases = {
        "int": head + "[daemon]\nsync_workers = " + "7" * 100_000 + "\n",
        "array": head + "[daemon]\npull_times = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "inline": head + "[daemon]\npull_times = " + "{a=" * 100_000 + "1" + "}" * 100_000 + "\n",
        "dotted": head + "[policies.hall]\n" + ".".join(["a"] * 100_000) + " = 1\n",
        "header": head + "[" + ".".join(["a"] * 100_000) + "]\n",
    }
    deep = "values nested too deeply (more than 32 levels of arrays and tables)"
    for name, text in cases.items():
        path = write(tmp_path / name, text)
        why = "integer too long: at most 4300 digits" if name == "int" else deep
        assert refused(path, "check-config") == [f"{path}: line {len(text.splitlines())}: {why}"], name
    parsed = write(tmp_path / "parsed", head + "[daemon]\npull_times = " + "[" * 40 + "]" * 40 + "\n")
    assert refused(parsed, "check-config") == [f"{parsed}: daemon.pull_times[0]…: {deep}"]
    big = write(tmp_path / "big", head.replace('note = "x"', "note = 1") + "[daemon]\nsync_workers = " + "9" * 4000)
    assert (
        refused(big, "db", "upgrade")[-1]
        == f"{big}: daemon.sync_workers: must be at most 64, got an integer of 4000 digits"
    )
    long = "测" * 100_000
    (line,) = problems(tmp_path, CENTRE.replace('"Asia/Shanghai"', f'"{long}"'))
    assert line == f'site.timezone: unknown time zone "{long[:75]}…" (100000 characters)'


def test_a_deep_array_in_a_fresh_process_is_one_line(tmp_path: Path) -> None:
    """The parser's recursion, in a process of its own (not under pytest's deeper stack)."""
    path = write(tmp_path, CENTRE + "[daemon]\npull_times = " + "[" * 100_000 + "]" * 100_000 + "\n")
    proc = attendd("--config", str(path), "check-config")
    assert_clean_failure(proc, 2)
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert proc.stderr.splitlines() == [
        f"{path}: line {lines}: values nested too deeply (more than 32 levels of arrays and tables)"
    ]
