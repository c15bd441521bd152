"""Quarantined records keep their whole raw text, keyed by its SHA-256 (issue 13.8).

Before this revision ``quarantine.raw`` was a VARCHAR(255) and part of the unique key: the
store cut every raw line at 255 characters, so two long lines sharing their first 255
characters became one row. Now ``raw`` is a text of any length (MEDIUMTEXT on MariaDB,
whose TEXT stops at 64 KiB) and the key is (device serial, source, ``raw_sha256``), the hex
SHA-256 of the raw text's UTF-8 bytes: 64 characters, which every backend can index (MariaDB
cannot put a text column in a unique key). Existing rows get the digest of the text they hold.

Revision ID: 0005
Revises: 0004
"""

import hashlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_RAW_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
_OLD_RAW = sa.String(length=255)
_quarantine = sa.table(
    "quarantine",
    sa.column("id", sa.Integer()),
    sa.column("device_serial", sa.String()),
    sa.column("source", sa.String()),
    sa.column("raw", sa.Text()),
    sa.column("raw_sha256", sa.String()),
)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_constraint("uq_quarantine_raw", type_="unique")
        batch_op.alter_column("raw", existing_type=_OLD_RAW, type_=_RAW_TEXT, existing_nullable=False)
        batch_op.add_column(sa.Column("raw_sha256", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    q = _quarantine
    rows = conn.execute(sa.select(q.c.id, q.c.raw)).all()
    if rows:
        conn.execute(
            q.update().where(q.c.id == sa.bindparam("row_id")).values(raw_sha256=sa.bindparam("digest")),
            [{"row_id": row_id, "digest": _digest(raw)} for row_id, raw in rows],
        )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column("raw_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_quarantine_raw_sha256", ["device_serial", "source", "raw_sha256"])


def downgrade() -> None:
    """Back to VARCHAR(255): a longer raw text is cut to 255 characters, and of the rows that
    then share (device serial, source, raw) the oldest is kept."""
    conn = op.get_bind()
    q = _quarantine
    seen: set[tuple[str, str, str]] = set()
    drop, cut = [], []
    for row_id, serial, source, raw in conn.execute(
        sa.select(q.c.id, q.c.device_serial, q.c.source, q.c.raw).order_by(q.c.id)
    ):
        key = (serial, source, raw[:255])
        if key in seen:
            drop.append(row_id)
            continue
        seen.add(key)
        if len(raw) > 255:
            cut.append({"row_id": row_id, "short": raw[:255]})
    if drop:
        conn.execute(q.delete().where(q.c.id.in_(drop)))
    if cut:
        conn.execute(q.update().where(q.c.id == sa.bindparam("row_id")).values(raw=sa.bindparam("short")), cut)
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_constraint("uq_quarantine_raw_sha256", type_="unique")
        batch_op.drop_column("raw_sha256")
        batch_op.alter_column("raw", existing_type=_RAW_TEXT, type_=_OLD_RAW, existing_nullable=False)
        batch_op.create_unique_constraint("uq_quarantine_raw", ["device_serial", "source", "raw"])
