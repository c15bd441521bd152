"""Period lifecycle (issue 10): the outbox's ``queued`` flag and snapshot revisions,
months held open by the close job, forced closes, and the revision a reopen wrote.

Existing snapshots stay in the outbox when they are months (the daemon's own) or were
already pushed; the others were exploratory evaluations and leave it. Period keys written
with non-ASCII digits (``２０２６-03``) before keys were canonical are rewritten.

Revision ID: 0003
Revises: 0002
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _canonical(key: str) -> str:
    # A copy of rules.period._canonical_text as it was when this revision was written: a
    # migration is frozen, and must rewrite the same keys whatever later code does.
    out = []
    for ch in unicodedata.normalize("NFKC", key).strip():
        if not ch.isascii() and unicodedata.decimal(ch, None) is not None:
            ch = str(unicodedata.decimal(ch))
        elif unicodedata.category(ch) == "Pd":
            ch = "-"
        out.append(ch)
    return "".join(out).upper()


def upgrade() -> None:
    with op.batch_alter_table("period_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("period_reopen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=True))
    op.create_table(
        "period_hold",
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("held_utc", sa.DateTime(), nullable=False),
        sa.Column("checked_utc", sa.DateTime(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("released_utc", sa.DateTime(), nullable=True),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("period_key"),
    )
    op.create_table(
        "period_forced_close",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.Column("incomplete", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    snap = sa.table(
        "period_snapshot",
        sa.column("period_key", sa.String),
        sa.column("period_kind", sa.String),
        sa.column("pushed_digest", sa.String),
        sa.column("queued", sa.Boolean),
    )
    conn.execute(
        sa.update(snap)
        .where(sa.or_(snap.c.period_kind == "month", snap.c.pushed_digest.is_not(None)))
        .values(queued=True)
    )
    keys = [k for (k,) in conn.execute(sa.select(snap.c.period_key))]
    have = set(keys)
    for key in keys:
        canonical = _canonical(key)
        if canonical == key:
            continue
        if canonical in have:  # the canonical key has its own snapshot: drop the duplicate
            conn.execute(sa.delete(snap).where(snap.c.period_key == key))
        else:
            conn.execute(sa.update(snap).where(snap.c.period_key == key).values(period_key=canonical))
            have.add(canonical)
    reopen = sa.table("period_reopen", sa.column("id", sa.Integer), sa.column("period_key", sa.String))
    for rid, key in conn.execute(sa.select(reopen.c.id, reopen.c.period_key)).all():
        if _canonical(key) != key:
            conn.execute(sa.update(reopen).where(reopen.c.id == rid).values(period_key=_canonical(key)))


def downgrade() -> None:
    op.drop_table("period_forced_close")
    op.drop_table("period_hold")
    with op.batch_alter_table("period_reopen", schema=None) as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("period_snapshot", schema=None) as batch_op:
        batch_op.drop_column("revision")
        batch_op.drop_column("queued")
