"""Several ``attendd run`` on one server store (issue 19): leases on work (``claim``) and the
running instances (``daemon_instance``).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _instants(*names: str, optional: str = "") -> list[sa.Column]:
    """Instants (naive UTC, like every ``*_utc`` column); ``optional`` the one that may be NULL."""
    return [sa.Column(n, sa.DateTime(), nullable=n == optional) for n in (*names, optional) if n]


def upgrade() -> None:
    op.create_table(
        "claim",
        sa.Column("name", sa.String(191), primary_key=True),
        sa.Column("slot_utc", sa.DateTime(), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        *_instants("claimed_utc", "expires_utc", optional="done_utc"),
        sa.Column("takeovers", sa.Integer(), nullable=False),
    )
    op.create_table(
        "daemon_instance",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        *_instants("started_utc", "last_seen_utc", optional="stopped_utc"),
    )


def downgrade() -> None:
    op.drop_table("daemon_instance")
    op.drop_table("claim")
