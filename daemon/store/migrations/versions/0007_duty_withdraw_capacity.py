"""The clerk's records withdrawn, not deleted, and versioned (issue 15); duty assignments (值班) and
rotas (轮值) entered by the clerk; a terminal's reported capacity (issue 16); the bulletin's
issued numbers (发文字号, issue 17); the whole assessment's records in the other categories and
category scores from another scoring system (issue 18).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_WITHDRAWN_TABLES = ("leave", "exemption", "inspection", "substitution")


def _withdrawal() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("withdrawn_utc", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(128), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    for name in _WITHDRAWN_TABLES:
        with op.batch_alter_table(name) as batch:
            for column in _withdrawal():
                batch.add_column(column)
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("device_state") as batch:
        batch.add_column(sa.Column("record_capacity", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("user_capacity", sa.Integer(), nullable=True))
    op.create_table(
        "duty",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=True),
        sa.Column("staff_no", sa.String(32), nullable=True),
        sa.Column("timetable", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        *_withdrawal(),
    )
    op.create_index("ix_duty_day", "duty", ["day"])
    op.create_table(
        "duty_rota",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("window_code", sa.String(64), nullable=True),
        sa.Column("staff", sa.Text(), nullable=False),
        sa.Column("timetable", sa.String(64), nullable=False),
        sa.Column("weekdays", sa.String(32), nullable=False),
        sa.Column("day_kinds", sa.String(32), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        *_withdrawal(),
    )
    op.create_table(
        "assessment_record",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=True),
        sa.Column("staff_no", sa.String(32), nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        *_withdrawal(),
    )
    op.create_index("ix_assessment_record_day", "assessment_record", ["day"])
    op.create_table(
        "category_score",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("window_code", sa.String(64), nullable=True),
        sa.Column("staff_no", sa.String(32), nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        *_withdrawal(),
    )
    op.create_index("ix_category_score_period", "category_score", ["period_key"])
    op.create_table(
        "bulletin_number",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("number", sa.String(128), nullable=False),
        sa.Column("issued_utc", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bulletin_number")
    op.drop_index("ix_category_score_period", table_name="category_score")
    op.drop_table("category_score")
    op.drop_index("ix_assessment_record_day", table_name="assessment_record")
    op.drop_table("assessment_record")
    op.drop_table("duty_rota")
    op.drop_index("ix_duty_day", table_name="duty")
    op.drop_table("duty")
    with op.batch_alter_table("device_state") as batch:
        batch.drop_column("user_capacity")
        batch.drop_column("record_capacity")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("version")
    for name in _WITHDRAWN_TABLES:
        with op.batch_alter_table(name) as batch:
            for column in ("withdrawn_reason", "withdrawn_by", "withdrawn_utc", "version"):
                batch.drop_column(column)
