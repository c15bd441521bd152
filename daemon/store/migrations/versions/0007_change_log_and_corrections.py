"""The clerk's work on the record (issue 15): the change log and manual punches (补签).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("staff_no", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
    )
    op.create_index("ix_change_log_at", "change_log", ["at_utc"])
    op.create_index("ix_change_log_staff", "change_log", ["staff_no"])
    op.create_table(
        "manual_punch",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("punched_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("created_utc", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_utc", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(128), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_manual_punch_staff", "manual_punch", ["staff_no", "punched_at"])


def downgrade() -> None:
    op.drop_index("ix_manual_punch_staff", table_name="manual_punch")
    op.drop_table("manual_punch")
    op.drop_index("ix_change_log_staff", table_name="change_log")
    op.drop_index("ix_change_log_at", table_name="change_log")
    op.drop_table("change_log")
