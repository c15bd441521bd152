"""Structured logging: one chain for our logs and libraries', bound context, secrets never written (SPEC §6)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.contextvars import bound_contextvars

import daemon.logging as attendd_logging
from daemon.logging import clear_secrets, register_secret, setup_logging

COMM_KEY = "918273"
DB_PASSWORD = "Zk7-pw-scoring"
DB_URL = f"postgresql+psycopg://scorer:{DB_PASSWORD}@db.example/scoring"


class Terminal(io.StringIO):
    """A stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    yield
    clear_secrets()
    if attendd_logging._handler is not None:
        logging.getLogger().removeHandler(attendd_logging._handler)
        attendd_logging._handler = None
    structlog.reset_defaults()


@pytest.fixture
def out() -> io.StringIO:
    stream = io.StringIO()
    setup_logging("json", "info", stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_bound_context(out: io.StringIO) -> None:
    log = structlog.get_logger("daemon.sync")
    with bound_contextvars(device="hall-east", job="pull"):
        log.info("pulled", records=12)
        with bound_contextvars(period="2026-03"):
            log.warning("count went down", before=500, after=20)
    log.info("outside")

    first, second, third = lines(out)
    assert first["event"] == "pulled" and first["records"] == 12
    assert first["device"] == "hall-east" and first["job"] == "pull"
    assert first["level"] == "info" and first["logger"] == "daemon.sync" and first["timestamp"].endswith("Z")
    assert second["period"] == "2026-03" and second["level"] == "warning"
    assert "device" not in third and "job" not in third


def test_stdlib_library_logs_go_through_the_same_chain(out: io.StringIO) -> None:
    log = structlog.get_logger("daemon.store")
    with bound_contextvars(device="tax-hall", job="sync"):
        log.warning("ours")
        logging.getLogger("sqlalchemy.engine").warning("pool %s exhausted", "main")
        logging.getLogger("apscheduler.scheduler").info("Scheduler started")

    ours, sqlalchemy, apscheduler = lines(out)
    assert set(sqlalchemy) == set(ours)
    assert sqlalchemy["event"] == "pool main exhausted"
    assert sqlalchemy["logger"] == "sqlalchemy.engine"
    assert sqlalchemy["device"] == "tax-hall" and sqlalchemy["job"] == "sync"
    assert apscheduler["logger"] == "apscheduler.scheduler" and apscheduler["level"] == "info"


def test_level_filters_ours_and_libraries() -> None:
    stream = io.StringIO()
    setup_logging("json", "warning", stream=stream)
    structlog.get_logger("daemon").info("hidden")
    logging.getLogger("zk").info("hidden too")
    structlog.get_logger("daemon").error("shown")
    assert [line["event"] for line in lines(stream)] == ["shown"]


def test_sqlalchemy_statement_echo_stays_quiet_at_info(out: io.StringIO) -> None:
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")
    assert out.getvalue() == ""


def test_secrets_never_written(out: io.StringIO) -> None:
    register_secret(COMM_KEY)
    register_secret(DB_PASSWORD)
    log = structlog.get_logger("daemon.sync")
    with bound_contextvars(device="tax-hall"):
        log.info("connecting", comm_key=int(COMM_KEY), url=DB_URL, key_as_number=int(COMM_KEY))
        log.info(f"raw text with {COMM_KEY} inside", nested={"dsn": DB_URL, "password": "x", "args": [COMM_KEY]})
        try:
            raise ConnectionError(f"terminal refused comm key {COMM_KEY} for {DB_URL}")
        except ConnectionError:
            log.exception("pull failed")
            logging.getLogger("zk.base").exception("library saw it too")
        logging.getLogger("sqlalchemy.pool").error("cannot connect to %s", DB_URL)

    text = out.getvalue()
    assert COMM_KEY not in text
    assert DB_PASSWORD not in text
    records = lines(out)
    assert records[0]["comm_key"] == "***" and records[0]["key_as_number"] == "***"
    assert records[0]["url"] == "postgresql+psycopg://scorer:***@db.example/scoring"
    assert records[1]["nested"]["password"] == "***"
    assert "terminal refused comm key ***" in records[2]["exception"]
    assert "terminal refused comm key ***" in records[3]["exception"]
    assert records[4]["event"] == "cannot connect to postgresql+psycopg://scorer:***@db.example/scoring"


def test_url_passwords_masked_without_registration(out: io.StringIO) -> None:
    structlog.get_logger().info("dsn", dsn="mysql+pymysql://att:s3cr3t-pw@10.0.0.5/scoring?charset=utf8mb4")
    assert lines(out)[0]["dsn"] == "mysql+pymysql://att:***@10.0.0.5/scoring?charset=utf8mb4"


def test_url_query_passwords_masked_like_userinfo_ones(out: io.StringIO) -> None:
    """Issue 13 point 11: drivers take ``?password=`` too; it is masked wherever a URL is logged."""
    log = structlog.get_logger()
    log.info("dsn", dsn="postgresql+psycopg://att@10.0.0.5/scoring?sslmode=require&password=Qp-9x&connect_timeout=3")
    log.info("cannot connect to mysql+pymysql://att@h/s?PASSWD=Zz%2099 (timed out)", url="pg://a:b1c@h/d?pwd=w8w")
    first, second = lines(out)
    assert first["dsn"] == "postgresql+psycopg://att@10.0.0.5/scoring?sslmode=require&password=***&connect_timeout=3"
    assert second["event"] == "cannot connect to mysql+pymysql://att@h/s?PASSWD=*** (timed out)"
    assert second["url"] == "pg://a:***@h/d?pwd=***"
    assert attendd_logging.mask_url_password("sqlite:///x.db?password=") == "sqlite:///x.db?password="
    assert attendd_logging.mask_url_password("/reset?passwords=no") == "/reset?passwords=no"


def test_secret_named_keys_are_masked(out: io.StringIO) -> None:
    structlog.get_logger().info("login", password="pw1", db_passwd="pw2", api_token="t", secret="s", user="scorer")
    record = lines(out)[0]
    assert [record[k] for k in ("password", "db_passwd", "api_token", "secret")] == ["***"] * 4
    assert record["user"] == "scorer"


def test_short_secrets_are_ignored(out: io.StringIO) -> None:
    register_secret("12")
    register_secret(0)
    structlog.get_logger().info("pulled 12 records of 120")
    assert lines(out)[0]["event"] == "pulled 12 records of 120"


def test_console_renderer_when_asked() -> None:
    stream = io.StringIO()
    setup_logging("console", stream=stream)
    register_secret(COMM_KEY)
    with bound_contextvars(device="hall-east"):
        structlog.get_logger("daemon.sync").info("pulled", records=3, comm_key=COMM_KEY)
    text = stream.getvalue()
    assert not text.lstrip().startswith("{")
    assert "pulled" in text and "device=hall-east" in text and "records=3" in text
    assert COMM_KEY not in text
    assert "\x1b[" not in text  # no colours when the stream is not a terminal


def test_auto_picks_console_on_a_terminal_and_json_otherwise() -> None:
    tty = Terminal()
    setup_logging("auto", stream=tty)
    structlog.get_logger().info("hello")
    assert not tty.getvalue().startswith("{")

    pipe = io.StringIO()
    setup_logging("auto", stream=pipe)
    structlog.get_logger().info("hello")
    assert lines(pipe)[0]["event"] == "hello"


def test_setup_is_idempotent_and_repoints_the_stream() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("json", stream=first)
    log = structlog.get_logger("daemon")  # made before the second set-up: must follow it
    setup_logging("json", stream=second)
    log.info("once")
    logging.getLogger("alembic").warning("once too")
    assert first.getvalue() == ""
    assert [line["event"] for line in lines(second)] == ["once", "once too"]


def test_bad_format_or_level() -> None:
    with pytest.raises(ValueError, match="log format"):
        setup_logging("xml", stream=io.StringIO())
    with pytest.raises(ValueError, match="log level"):
        setup_logging("json", "loud", stream=io.StringIO())


def test_stdlib_extra_fields_are_kept_and_redacted(out: io.StringIO) -> None:
    logging.getLogger("zk.base").warning("handshake", extra={"serial": "CJDE212360012", "password": "pw-123"})
    record = lines(out)[0]
    assert record["serial"] == "CJDE212360012" and record["password"] == "***"
