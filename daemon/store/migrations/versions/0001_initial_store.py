"""Initial local store: punches, ingest runs, quarantine, device state and users.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_state",
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("firmware", sa.String(length=128), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=True),
        sa.Column("user_count", sa.Integer(), nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.Column("last_attempt_utc", sa.DateTime(), nullable=True),
        sa.Column("last_success_utc", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("device_name"),
    )
    op.create_table(
        "device_user",
        sa.Column("device_serial", sa.String(length=64), nullable=False),
        sa.Column("pin", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("seen_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_serial", "pin"),
    )
    op.create_table(
        "ingest_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("device_serial", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("started_utc", sa.DateTime(), nullable=False),
        sa.Column("finished_utc", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=True),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ingest_run", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_run_device", ["device_name", "started_utc"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_serial", sa.String(length=64), nullable=False),
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.String(length=255), nullable=False),
        sa.Column("pin", sa.String(length=32), nullable=True),
        sa.Column("punched_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("first_seen_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_serial", "source", "raw", name="uq_quarantine_raw"),
    )
    op.create_table(
        "punch",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_serial", sa.String(length=64), nullable=False),
        sa.Column("pin", sa.String(length=32), nullable=False),
        sa.Column("punched_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("verify", sa.Integer(), nullable=False),
        sa.Column("work_code", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ingest_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("punched_at", "pin", "device_serial", name="uq_punch_natural"),
    )


def downgrade() -> None:
    op.drop_table("punch")
    op.drop_table("quarantine")
    with op.batch_alter_table("ingest_run", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_run_device")

    op.drop_table("ingest_run")
    op.drop_table("device_user")
    op.drop_table("device_state")
