"""The web console (issues 14 and 15): accounts, sessions, API tokens and their audit; the change
log; the clerk's corrections (补签), appeals (申诉) and quarantine review.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_utc", sa.DateTime(), nullable=False),
        sa.Column("password_changed_utc", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "web_session",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_utc", sa.DateTime(), nullable=False),
        sa.Column("expires_utc", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_web_session_user", "web_session", ["user_name"])
    op.create_table(
        "api_token",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_utc", sa.DateTime(), nullable=False),
        sa.Column("last_used_utc", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "auth_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_auth_event_at", "auth_event", ["at_utc"])
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
    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("staff_no", sa.String(32), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("deduction_ref", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("received", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filed_by", sa.String(128), nullable=False),
        sa.Column("filed_utc", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_utc", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("remedy", sa.String(96), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_appeal_staff", "appeal", ["staff_no", "period_key"])
    op.create_table(
        "quarantine_review",
        sa.Column("quarantine_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("punched_at", sa.DateTime(), nullable=True),
        sa.Column("offset_s", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("quarantine_review")
    op.drop_index("ix_appeal_staff", table_name="appeal")
    op.drop_table("appeal")
    op.drop_index("ix_manual_punch_staff", table_name="manual_punch")
    op.drop_table("manual_punch")
    op.drop_index("ix_change_log_staff", table_name="change_log")
    op.drop_index("ix_change_log_at", table_name="change_log")
    op.drop_table("change_log")
    op.drop_index("ix_auth_event_at", table_name="auth_event")
    op.drop_table("auth_event")
    op.drop_table("api_token")
    op.drop_index("ix_web_session_user", table_name="web_session")
    op.drop_table("web_session")
    op.drop_table("web_user")
