"""The scoring DB contract tables of SPEC §4.4 (att_staff_day, att_staff_period,
att_window_period, att_deduction, att_push_run).

Creates only ``att_*`` tables, in the schema ``env.py`` was given (the
PostgreSQL schema; ``None`` on MySQL/MariaDB and SQLite).

Revision ID: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql, postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {  # table options (Any: create_table's keywords are typed one by one)
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")  # a mariadb+pymysql URL reads only mariadb_* options
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"), ("collate", "utf8mb4_bin"))
}


def _schema():
    return context.config.attributes.get("schema")


def _utc():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql").with_variant(sa.Text(), "sqlite")


def _stamp():
    return [
        sa.Column("computed_at", _utc(), nullable=False),
        sa.Column("rules_version", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "att_staff_day",
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=False),
        sa.Column("day_kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("late_count", sa.Integer(), nullable=False),
        sa.Column("late_minutes", sa.Integer(), nullable=False),
        sa.Column("early_count", sa.Integer(), nullable=False),
        sa.Column("early_minutes", sa.Integer(), nullable=False),
        sa.Column("missing_punches", sa.Integer(), nullable=False),
        sa.Column("excused_punches", sa.Integer(), nullable=False),
        sa.Column("absent_days", sa.Double(), nullable=False),
        sa.Column("leave_kind", sa.String(32), nullable=True),
        sa.Column("leave_days", sa.Double(), nullable=False),
        sa.Column("off_post_count", sa.Integer(), nullable=False),
        sa.Column("deduction_points", sa.Double(), nullable=False),
        sa.Column("first_punch", _utc(), nullable=True),
        sa.Column("last_punch", _utc(), nullable=True),
        sa.Column("detail", _json(), nullable=True),
        *_stamp(),
        sa.PrimaryKeyConstraint("staff_no", "work_date", name="pk_att_staff_day"),
        schema=schema,
        **MYSQL,
    )
    op.create_index("ix_att_staff_day_work_date", "att_staff_day", ["work_date"], schema=schema)

    op.create_table(
        "att_staff_period",
        sa.Column("period_kind", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(64), nullable=True),
        sa.Column("scheduled_days", sa.Integer(), nullable=False),
        sa.Column("present_days", sa.Integer(), nullable=False),
        sa.Column("late_count", sa.Integer(), nullable=False),
        sa.Column("early_count", sa.Integer(), nullable=False),
        sa.Column("missing_punches", sa.Integer(), nullable=False),
        sa.Column("absent_days", sa.Double(), nullable=False),
        sa.Column("personal_leave_days", sa.Double(), nullable=False),
        sa.Column("sick_leave_days", sa.Double(), nullable=False),
        sa.Column("other_leave_days", sa.Double(), nullable=False),
        sa.Column("midday_leave_count", sa.Integer(), nullable=False),
        sa.Column("off_post_count", sa.Integer(), nullable=False),
        sa.Column("deduction_points", sa.Double(), nullable=False),
        sa.Column("max_points", sa.Double(), nullable=False),
        sa.Column("attendance_score", sa.Double(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=True),
        sa.Column("disqualified", sa.Boolean(), nullable=False),
        sa.Column("disqualify_reasons", sa.Text(), nullable=True),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        *_stamp(),
        sa.PrimaryKeyConstraint("period_kind", "period_key", "staff_no", name="pk_att_staff_period"),
        schema=schema,
        **MYSQL,
    )
    op.create_index(
        "ix_att_staff_period_staff", "att_staff_period", ["staff_no", "period_kind", "period_key"], schema=schema
    )
    op.create_index(
        "ix_att_staff_period_window", "att_staff_period", ["period_kind", "period_key", "window_code"], schema=schema
    )

    op.create_table(
        "att_window_period",
        sa.Column("period_kind", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=False),
        sa.Column("window_name", sa.String(128), nullable=True),
        sa.Column("staff_count", sa.Integer(), nullable=False),
        sa.Column("attendance_score", sa.Double(), nullable=False),
        sa.Column("max_points", sa.Double(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("red_flag", sa.Boolean(), nullable=False),
        sa.Column("chief_onsite_ratio", sa.Double(), nullable=True),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        *_stamp(),
        sa.PrimaryKeyConstraint("period_kind", "period_key", "window_code", name="pk_att_window_period"),
        schema=schema,
        **MYSQL,
    )
    op.create_index(
        "ix_att_window_period_window", "att_window_period", ["window_code", "period_kind", "period_key"], schema=schema
    )

    op.create_table(
        "att_deduction",
        sa.Column("period_kind", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=True),
        sa.Column("slot", sa.String(32), nullable=True),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        *_stamp(),
        sa.PrimaryKeyConstraint("period_kind", "period_key", "staff_no", "rule", "ref", name="pk_att_deduction"),
        schema=schema,
        **MYSQL,
    )
    op.create_index("ix_att_deduction_staff", "att_deduction", ["staff_no", "period_kind", "period_key"], schema=schema)
    op.create_index("ix_att_deduction_work_date", "att_deduction", ["work_date"], schema=schema)

    op.create_table(
        "att_push_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("period_kind", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("include_days", sa.Boolean(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        *_stamp(),
        sa.PrimaryKeyConstraint("id", name="pk_att_push_run"),
        sa.UniqueConstraint("run_id", name="uq_att_push_run_run_id"),
        schema=schema,
        **MYSQL,
    )
    op.create_index("ix_att_push_run_period", "att_push_run", ["period_kind", "period_key"], schema=schema)


def downgrade() -> None:
    schema = _schema()
    for table in ("att_push_run", "att_deduction", "att_window_period", "att_staff_period", "att_staff_day"):
        op.drop_table(table, schema=schema)
