"""The configuration file (SPEC §4.5): every problem reported with its key path, secrets kept out of sight."""

from __future__ import annotations

import re
import textwrap
from datetime import date, time
from pathlib import Path

import pytest
from helpers import SMALL_CENTRE
from helpers import config_problems as problems
from helpers import write_toml as write

import daemon.config as config_module
from daemon.config import Config, config_from_dict, default_config, default_state_dir, find_config, load_config
from daemon.errors import AttenddError, ConfigError, UserError
from daemon.period_results import compile_rules

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"

# A small valid file (helpers.SMALL_CENTRE); tests append to it or replace parts of it.
BASE = SMALL_CENTRE


# --------------------------------------------------------------------------
# the example file


def test_example_config_is_valid_and_realistic() -> None:
    config = load_config(EXAMPLE)

    assert config.site.name.endswith("政务服务中心")
    assert len(config.windows) >= 3
    assert len(config.devices) >= 3
    udp = [d for d in config.devices if d.protocol == "udp"]
    assert udp and udp[0].comm_key.get_secret_value() != 0
    assert config.policies["hall"].preset == "luoshan"
    standard = config.timetables["standard"]
    # SPEC §4.5's standard timetable, exactly
    assert [(s.name, s.kind, s.at, s.accept) for s in standard.slots] == [
        ("am_in", "in", time(9, 0), (time(7, 0), time(10, 30))),
        ("am_out", "out", time(12, 0), (time(11, 0), time(12, 50))),
        ("pm_in", "in", time(13, 0), (time(12, 30), time(15, 0))),
        ("pm_out", "out", time(17, 0), (time(16, 0), time(20, 0))),
    ]
    assert standard.variants, "a summer timetable"
    built = compile_rules(config)[0]["standard"]  # which slots apply on a day: the rules' timetable
    assert [s.at for s in built.slots_on(date(2026, 7, 15))] == [s.at for s in standard.variants[0].slots]
    assert [s.at for s in built.slots_on(date(2026, 3, 2))] == [s.at for s in standard.slots]


#: Every section model the package exports, each documented key by key in config.example.toml.
SECTIONS = [
    getattr(config_module, name)
    for name in (
        "Site Store Scoring DaemonSection LoggingSection Device Slot Timetable TimetableVariant Policy Window WebSection "
        "AppealsSection BulletinSection DutyRota AssessmentSection"
    ).split()
]


@pytest.mark.parametrize("model", SECTIONS, ids=lambda m: m.__name__)
def test_example_config_documents_every_key(model: type) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for name, field in model.model_fields.items():
        key = field.alias or name
        as_key = rf"(^|[\s{{,#]){re.escape(key)}\s*="
        as_table = rf"^\[+[\w.]+\.{re.escape(key)}\]+"
        assert re.search(f"{as_key}|{as_table}", text, re.MULTILINE), f"{model.__name__}.{key}"


def test_top_level_sections_are_documented() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in Config.model_fields:
        assert re.search(rf"^\[+{section}[\].]", text, re.MULTILINE), section


# --------------------------------------------------------------------------
# problems, with key paths


def test_unknown_key_is_rejected_with_its_path(tmp_path: Path) -> None:
    text = BASE.replace('host = "10.0.0.21"', 'host = "10.0.0.21"\nprot = 4370')
    assert problems(tmp_path, text) == ['devices[0] (hall-east).prot: unknown key (did you mean "port"?)']


def test_unknown_section_is_rejected(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, BASE + "\n[scorer]\nurl = 'sqlite://'\n")
    assert problem.startswith("scorer: unknown key")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = BASE.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghi"') + textwrap.dedent("""
        [daemon]
        pull_times = ["09:10", "12:10", "25:00"]

        [[devices]]
        name = "tax-hall"
        host = "10.0.0.22"
        port = 70000
        protocol = "udpp"

        [[windows]]
        code = "shuiwu"
        name = "税务窗口"
        timetable = "standrd"
        policy = "hall"
        """)
    assert problems(tmp_path, text) == [
        'site.timezone: unknown time zone "Asia/Shanghi" (did you mean "Asia/Shanghai"?)',
        'daemon.pull_times[2]: expected "HH:MM", got "25:00"',
        "devices[1] (tax-hall).port: must be at most 65535, got 70000",
        'devices[1] (tax-hall).protocol: expected "tcp" or "udp", got "udpp"',
        'windows[1].timetable: unknown timetable "standrd" (did you mean "standard"?); defined: "standard"',
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [('"25:00"', '"25:00"'), ('"9.10"', '"9.10"'), ('"12:60"', '"12:60"'), ("910", "910"), ('""', '""')],
)
def test_bad_pull_time(tmp_path: Path, value: str, shown: str) -> None:
    text = BASE + f'\n[daemon]\npull_times = ["09:10", "12:10", {value}, "17:10"]\n'
    assert problems(tmp_path, text) == [f'daemon.pull_times[2]: expected "HH:MM", got {shown}']


def test_pull_times_default_to_the_four_of_the_spec(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE))
    assert config.daemon.pull_times == [time(9, 10), time(12, 10), time(13, 10), time(17, 10)]
    assert config.daemon.sync_workers == 8


def test_duplicate_pull_time(tmp_path: Path) -> None:
    text = BASE + '\n[daemon]\npull_times = ["09:10", "12:10", "09:10"]\n'
    assert problems(tmp_path, text) == ["daemon.pull_times[2]: 09:10 is listed twice (also pull_times[0])"]


def test_overlapping_slots(tmp_path: Path) -> None:
    # pm_in accepts from 11:30, before am_out's expected 12:00: the two slots overlap.
    text = BASE.replace('at = "13:00", accept = ["12:30", "15:00"]', 'at = "13:00", accept = ["11:30", "15:00"]')
    (problem,) = problems(tmp_path, text)
    assert problem.startswith('timetables.standard.slots[2].accept: overlaps slots[1] "am_out"')


def test_slots_out_of_order(tmp_path: Path) -> None:
    text = BASE.replace('at = "13:00", accept = ["12:30", "15:00"]', 'at = "11:30", accept = ["11:00", "11:40"]')
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("timetables.standard.slots[2].at: slots must be in time order")


def test_acceptance_window_must_contain_expected_time(tmp_path: Path) -> None:
    text = BASE.replace('accept = ["16:00", "20:00"]', 'accept = ["17:30", "20:00"]')
    assert problems(tmp_path, text) == [
        "timetables.standard.slots[3].accept: acceptance window 17:30–20:00 does not contain the expected time 17:00"
    ]


def test_bad_slot_time_and_kind(tmp_path: Path) -> None:
    text = BASE.replace('{ name = "am_in",  kind = "in",  at = "09:00"', '{ name = "am_in",  kind = "on",  at = "9h"')
    assert problems(tmp_path, text) == [
        'timetables.standard.slots[0].kind: expected "in" or "out", got "on"',
        'timetables.standard.slots[0].at: expected "HH:MM", got "9h"',
    ]


def test_seasonal_variants(tmp_path: Path) -> None:
    winter = """
        [[timetables.standard.variants]]
        from = "11-01"
        to = "02-28"
        slots = [
          { name = "am_in", kind = "in", at = "09:00", accept = ["07:00", "10:30"] },
          { name = "pm_out", kind = "out", at = "17:00", accept = ["16:00", "20:00"] },
        ]
        """
    config = load_config(write(tmp_path, BASE + textwrap.dedent(winter)))
    variant = config.timetables["standard"].variants[0]
    built = compile_rules(config)[0]["standard"]  # the season wraps the new year
    assert [s.at for s in built.slots_on(date(2026, 12, 31))] == [s.at for s in variant.slots]
    assert [s.at for s in built.slots_on(date(2027, 1, 5))] == [s.at for s in variant.slots]
    assert [s.at for s in built.slots_on(date(2026, 3, 1))] != [s.at for s in variant.slots]

    overlapping = winter + winter.replace('"11-01"', '"02-01"').replace('"02-28"', '"03-31"')
    assert problems(tmp_path, BASE + textwrap.dedent(overlapping)) == [
        "timetables.standard.variants[1].from: season 02-01..03-31 overlaps variants[0] (11-01..02-28)"
    ]
    bad_day = winter.replace('"02-28"', '"02-30"')
    assert problems(tmp_path, BASE + textwrap.dedent(bad_day)) == [
        'timetables.standard.variants[0].to: expected "MM-DD", got "02-30"'
    ]


def test_window_naming_unknown_timetable_policy_or_device(tmp_path: Path) -> None:
    text = BASE.replace('timetable = "standard"', 'timetable = "summer"').replace(
        'policy = "hall"', 'policy = "hal"\ndevices = ["hall-east", "hall-west"]'
    )
    assert problems(tmp_path, text) == [
        'windows[0].timetable: unknown timetable "summer"; defined: "standard"',
        'windows[0].policy: unknown policy "hal" (did you mean "hall"?); defined: "hall"',
        'windows[0].devices[1]: unknown device "hall-west" (did you mean "hall-east"?); defined: "hall-east"',
    ]


def test_duplicate_device_names_and_window_codes(tmp_path: Path) -> None:
    text = BASE + textwrap.dedent("""
        [[devices]]
        name = "hall-east"
        host = "10.0.0.22"

        [[windows]]
        code = "gongan"
        name = "公安窗口二"
        timetable = "standard"
        policy = "hall"
        """)
    assert problems(tmp_path, text) == [
        'devices[1] (hall-east).name: duplicate device name "hall-east" (also devices[0])',
        'windows[1].code: duplicate window code "gongan" (also windows[0])',
    ]


def test_bad_timezone(tmp_path: Path) -> None:
    text = BASE.replace('"Asia/Shanghai"', '"Beijing"')
    (problem,) = problems(tmp_path, text)
    assert problem.startswith('site.timezone: unknown time zone "Beijing"')
    assert load_config(write(tmp_path, BASE)).site.tz.key == "Asia/Shanghai"


def test_missing_required_keys(tmp_path: Path) -> None:
    text = BASE.replace('name = "罗山县政务服务中心"\n', "").replace('host = "10.0.0.21"', 'driver = "zk"')
    assert problems(tmp_path, text) == [
        "site.name: required key is missing",
        'devices[0] (hall-east).host: required for driver "zk": the terminal\'s IP address or host name',
    ]
    assert problems(tmp_path, "") == ["site: required table is missing"]


def test_device_field_validation(tmp_path: Path) -> None:
    extra = 'encoding = "gbkk"\ntimeout = 0\ninstalled = "2023-13-01"'
    text = BASE.replace('host = "10.0.0.21"', f'host = "10.0.0.21"\n{extra}')
    assert problems(tmp_path, text) == [
        'devices[0] (hall-east).encoding: unknown text encoding "gbkk"',
        "devices[0] (hall-east).timeout: must be more than 0, got 0",
        'devices[0] (hall-east).installed: expected a date "YYYY-MM-DD", got "2023-13-01"',
    ]


def test_device_defaults(tmp_path: Path) -> None:
    device = load_config(write(tmp_path, BASE)).devices[0]
    assert (device.driver, device.port, device.protocol) == ("zk", 4370, "tcp")
    assert (device.encoding, device.timeout) == ("gbk", 10)
    assert device.comm_key.get_secret_value() == 0
    assert device.enabled and device.installed is None and device.serial is None


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    text = BASE.replace('host = "10.0.0.21"', 'host = "10.0.0.21\nport = 4370')
    (problem,) = problems(tmp_path, text)
    assert re.fullmatch(r"line 7, column \d+: .+", problem), problem


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "attendd.toml"
    path.write_bytes(BASE.encode("gbk"))
    with pytest.raises(ConfigError, match=r"line 2: not UTF-8"):
        load_config(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "attendd.toml"
    path.write_bytes(BASE.encode("utf-8-sig"))
    assert load_config(path).site.name == "罗山县政务服务中心"


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(UserError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: no such file"
    assert info.value.exit_code == 2


def test_config_error_is_a_user_error_listing_problems() -> None:
    error = ConfigError(["a.toml: site.name: x", "a.toml: devices[0].port: y"])
    assert isinstance(error, UserError) and isinstance(error, AttenddError)
    assert error.exit_code == 2 and AttenddError("boom").exit_code == 1
    assert str(error) == "a.toml: site.name: x\na.toml: devices[0].port: y"


# --------------------------------------------------------------------------
# policies: the one place with free keys


def test_policy_keeps_override_keys(tmp_path: Path) -> None:
    overrides = "max_points = 30\n[policies.hall.points]\nlate = 2"
    text = BASE.replace('preset = "luoshan"', f'preset = "luoshan"\n{overrides}')
    policy = load_config(write(tmp_path, text)).policies["hall"]
    assert policy.preset == "luoshan"
    assert policy.overrides == {"max_points": 30, "points": {"late": 2}}


def test_policy_overrides_are_checked_by_the_rules(tmp_path: Path) -> None:
    text = BASE.replace('preset = "luoshan"', 'preset = "luoshan"\nlate_points = 2')
    assert problems(tmp_path, text) == ["policies.hall.late_points: unknown key"]
    text = BASE.replace('preset = "luoshan"', 'preset = "luoshen"')
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("policies.hall.preset: unknown preset 'luoshen'")


def test_policy_needs_a_preset(tmp_path: Path) -> None:
    text = BASE.replace('preset = "luoshan"', "late_points = 2")
    assert problems(tmp_path, text) == ["policies.hall.preset: required key is missing"]


# --------------------------------------------------------------------------
# secrets


def test_comm_key_never_shown_unless_asked(tmp_path: Path) -> None:
    text = BASE.replace('host = "10.0.0.21"', 'host = "10.0.0.21"\nprotocol = "udp"\ncomm_key = 918273')
    config = load_config(write(tmp_path, text))
    device = config.device("hall-east")
    assert device.comm_key.get_secret_value() == 918273

    for shown in (
        repr(config),
        str(config),
        repr(device),
        str(device),
        config.model_dump_json(),
        str(config.model_dump()),
        str(config.model_dump(mode="json")),
    ):
        assert "918273" not in shown
    assert "918273" in config.model_dump_json(context={"reveal_secrets": True})
    assert config.model_dump(context={"reveal_secrets": True})["devices"][0]["comm_key"] == 918273
    assert config.secrets() == ["918273"]
    assert device.comm_key.get_secret_value() == 918273


def test_bad_comm_key_is_not_echoed(tmp_path: Path) -> None:
    text = BASE.replace('host = "10.0.0.21"', 'host = "10.0.0.21"\ncomm_key = 9182731')
    assert problems(tmp_path, text) == ["devices[0] (hall-east).comm_key: must be at most 999999"]


def test_database_password_never_shown_unless_asked(tmp_path: Path) -> None:
    url = "postgresql+psycopg://scorer:Hunter2xyz@db.example/scoring"
    text = BASE + f'\n[scoring]\nurl = "{url}"\nschema = "attendance"\n'
    config = load_config(write(tmp_path, text))
    assert config.scoring_url() == "postgresql+psycopg://scorer:Hunter2xyz@db.example/scoring"
    assert config.scoring.schema_name == "attendance"
    for shown in (repr(config), str(config), config.model_dump_json(), str(config.model_dump())):
        assert "Hunter2xyz" not in shown
        assert "scorer:***@db.example" in shown
    assert "Hunter2xyz" in config.model_dump_json(context={"reveal_secrets": True})
    assert "Hunter2xyz" in config.secrets()


def test_bad_database_url(tmp_path: Path) -> None:
    text = BASE + '\n[store]\nurl = "not a url"\n'
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("store.url: expected a SQLAlchemy database URL")


def test_dump_validates_again() -> None:
    config = load_config(EXAMPLE)
    assert config_from_dict(config.model_dump(mode="json", context={"reveal_secrets": True})) == config


# --------------------------------------------------------------------------
# state directory, store URL, finding the file, the embedded default


def test_state_directory_env_then_key_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load_config(write(tmp_path, BASE))
    assert config.state_directory() == Path("/var/lib/attendd")
    assert config.store_url() == "sqlite:////var/lib/attendd/attendd.db"

    config = load_config(write(tmp_path, BASE + '\n[daemon]\nstate_dir = "/srv/attendd"\n'))
    assert config.store_url() == "sqlite:////srv/attendd/attendd.db"

    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/private/attendd:/var/lib/other")
    assert config.state_directory() == Path("/var/lib/private/attendd")
    assert config.store_url() == "sqlite:////var/lib/private/attendd/attendd.db"
    assert config.scoring_url() == "sqlite:////var/lib/private/attendd/scoring.db"

    explicit = load_config(write(tmp_path, BASE + '\n[store]\nurl = "sqlite:////data/a.db"\n'))
    assert explicit.store_url() == "sqlite:////data/a.db"


def test_default_state_dir_without_a_config() -> None:
    assert default_state_dir({}) == Path("/var/lib/attendd")
    assert default_state_dir({"STATE_DIRECTORY": "/run/x"}, configured=Path("/srv/a")) == Path("/run/x")
    assert default_state_dir({}, configured=Path("/srv/a")) == Path("/srv/a")


def test_relative_state_dir_is_next_to_the_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + '\n[daemon]\nstate_dir = "state"\n'))
    assert config.state_directory(environ={}) == tmp_path / "state"


def test_find_config(tmp_path: Path) -> None:
    etc, local = tmp_path / "etc.toml", tmp_path / "local.toml"
    assert find_config(Path("/x/y.toml"), candidates=(etc, local)) == Path("/x/y.toml")
    assert find_config(None, candidates=(etc, local)) is None
    local.write_text(BASE, encoding="utf-8")
    assert find_config(None, candidates=(etc, local)) == local
    etc.write_text(BASE, encoding="utf-8")
    assert find_config(None, candidates=(etc, local)) == etc


def test_default_config(tmp_path: Path) -> None:
    config = default_config(tmp_path)
    assert config.site.name == "演示政务服务中心"
    assert config.site.timezone == "Asia/Shanghai"
    assert config.devices == []
    assert config.store_url() == f"sqlite:///{tmp_path}/attendd.db"
    assert config.scoring_url() == f"sqlite:///{tmp_path}/scoring.db"
    assert "standard" in config.timetables


def test_unknown_device_lookup(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE))
    with pytest.raises(UserError, match='unknown device .hall-eats. \\(did you mean "hall-east"\\?\\)'):
        config.device("hall-eats")
