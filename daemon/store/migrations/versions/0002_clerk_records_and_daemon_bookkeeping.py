"""The clerk's records (roster, leave, exemptions, inspections, substitutions) and the
daemon's bookkeeping (job runs, period snapshots / outbox, reopens, dirty months).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dirty_month",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("since_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "exemption",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("exemption", schema=None) as batch_op:
        batch_op.create_index("ix_exemption_staff", ["staff_no", "day"], unique=False)

    op.create_table(
        "inspection",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index("ix_inspection_staff", ["staff_no", "at"], unique=False)

    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("scheduled_for_utc", sa.DateTime(), nullable=False),
        sa.Column("started_utc", sa.DateTime(), nullable=False),
        sa.Column("finished_utc", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "scheduled_for_utc", name="uq_job_run_slot"),
    )
    op.create_table(
        "leave",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("leave", schema=None) as batch_op:
        batch_op.create_index("ix_leave_staff", ["staff_no", "start"], unique=False)

    op.create_table(
        "period_reopen",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "period_snapshot",
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("period_kind", sa.String(length=16), nullable=False),
        sa.Column("computed_utc", sa.DateTime(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("pushed_digest", sa.String(length=64), nullable=True),
        sa.Column("pushed_utc", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_utc", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("period_key"),
    )
    op.create_table(
        "staff",
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("window_code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("active_to", sa.Date(), nullable=True),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("staff_no"),
    )
    op.create_table(
        "substitution",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("substitute_no", sa.String(length=32), nullable=False),
        sa.Column("covered_no", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )


def downgrade() -> None:
    op.drop_table("substitution")
    op.drop_table("staff")
    op.drop_table("period_snapshot")
    op.drop_table("period_reopen")
    with op.batch_alter_table("leave", schema=None) as batch_op:
        batch_op.drop_index("ix_leave_staff")

    op.drop_table("leave")
    op.drop_table("job_run")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_staff")

    op.drop_table("inspection")
    with op.batch_alter_table("exemption", schema=None) as batch_op:
        batch_op.drop_index("ix_exemption_staff")

    op.drop_table("exemption")
    op.drop_table("dirty_month")
