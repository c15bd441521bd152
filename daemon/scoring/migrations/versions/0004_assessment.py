"""Issue 18: the whole assessment — category scores, totals (rank, 流动红旗, grade) and the notices
across periods, per window and per person, each a slice of its period like the attendance tables.

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision, down_revision = "0004", "0003"
branch_labels = depends_on = None

_MYSQL: dict[str, Any] = {  # Any: create_table's keywords are typed one by one
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"), ("collate", "utf8mb4_bin"))
}
_HEAD = ("site_code", "period_kind", "period_key", "subject_kind", "subject")


def _head() -> list[sa.Column]:
    """The period and the subject: the natural key's start in all three tables."""
    return [
        sa.Column("site_code", sa.String(32), nullable=False),
        sa.Column("period_kind", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
    ]


def _tail() -> list[sa.Column]:
    return [
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
        sa.Column("rules_version", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    schema = context.config.attributes.get("schema")
    op.create_table(
        "att_category_score",
        *_head(),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=False),
        sa.Column("max_points", sa.Double(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("deducted", sa.Double(), nullable=False),
        sa.Column("lost", sa.Double(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=True),
        *_tail(),
        sa.PrimaryKeyConstraint(*_HEAD, "category", name="pk_att_category_score"),
        schema=schema,
        **_MYSQL,
    )
    op.create_table(
        "att_assessment_total",
        *_head(),
        sa.Column("window_code", sa.String(64), nullable=False),
        sa.Column("ranking_group", sa.String(64), nullable=False),
        sa.Column("total", sa.Double(), nullable=True),
        sa.Column("max_total", sa.Double(), nullable=False),
        sa.Column("bonus", sa.Double(), nullable=False),
        sa.Column("back", sa.Double(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("last_place", sa.Boolean(), nullable=False),
        sa.Column("red_flag", sa.Boolean(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=True),
        sa.Column("grade_note", sa.Text(), nullable=True),
        sa.Column("disqualified", sa.Boolean(), nullable=False),
        sa.Column("year_disqualified", sa.Boolean(), nullable=False),
        sa.Column("disqualify_reasons", sa.Text(), nullable=True),
        *_tail(),
        sa.PrimaryKeyConstraint(*_HEAD, name="pk_att_assessment_total"),
        schema=schema,
        **_MYSQL,
    )
    op.create_table(
        "att_notice",
        *_head(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("notice_period", sa.String(16), nullable=False),
        sa.Column("effect", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("periods", sa.Text(), nullable=True),
        *_tail(),
        sa.PrimaryKeyConstraint(*_HEAD, "kind", "rule", "notice_period", name="pk_att_notice"),
        schema=schema,
        **_MYSQL,
    )


def downgrade() -> None:
    schema = context.config.attributes.get("schema")
    for name in ("att_notice", "att_assessment_total", "att_category_score"):
        op.drop_table(name, schema=schema)
