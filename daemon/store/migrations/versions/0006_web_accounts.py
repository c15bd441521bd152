"""The web console's accounts (issue 14): users, sessions, API tokens, and their audit.

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


def downgrade() -> None:
    op.drop_index("ix_auth_event_at", table_name="auth_event")
    op.drop_table("auth_event")
    op.drop_table("api_token")
    op.drop_index("ix_web_session_user", table_name="web_session")
    op.drop_table("web_session")
    op.drop_table("web_user")
