"""Issue 19: ``site_code`` in every ``att_*`` table, first in every natural key.

Several centres push into one scoring DB (a city's 政务服务中心 supervising its
counties', a province's big-data bureau collecting them all); without a site in
the key, two centres' staff 1001 were one row. Existing rows get the site code
the migration is run with (``[site] code`` of the config ``attendd db
upgrade`` reads; ``config.attributes["site_code"]``, else ``default``).

The column is added with that code as its server default, so the rows already
there take it, and the default is dropped again: every writer names its site.
Indexes that readers use to find a staff member or a window get the site
first too.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import context, op

revision, down_revision = "0003", "0002"
branch_labels = depends_on = None

_FALLBACK_SITE = "default"  # DEFAULT_SITE_CODE of daemon.scoring.tables, as it was at 0003

#: table -> (primary key name, its columns before 0003), for the tables whose natural key is the PK
_KEYS = {
    "att_staff_day": ("pk_att_staff_day", ["staff_no", "work_date"]),
    "att_staff_period": ("pk_att_staff_period", ["period_kind", "period_key", "staff_no"]),
    "att_window_period": ("pk_att_window_period", ["period_kind", "period_key", "window_code"]),
    "att_deduction": ("pk_att_deduction", ["period_kind", "period_key", "staff_no", "rule", "ref"]),
}

#: table -> its indexes before 0003 (the site goes first in each)
_INDEXES = {
    "att_staff_day": [("ix_att_staff_day_work_date", ["work_date"])],
    "att_staff_period": [
        ("ix_att_staff_period_staff", ["staff_no", "period_kind", "period_key"]),
        ("ix_att_staff_period_window", ["period_kind", "period_key", "window_code"]),
    ],
    "att_window_period": [("ix_att_window_period_window", ["window_code", "period_kind", "period_key"])],
    "att_deduction": [
        ("ix_att_deduction_staff", ["staff_no", "period_kind", "period_key"]),
        ("ix_att_deduction_work_date", ["work_date"]),
    ],
    "att_push_run": [("ix_att_push_run_period", ["period_kind", "period_key"])],
}


def _schema():
    return context.config.attributes.get("schema")


def _site() -> str:
    site = context.config.attributes.get("site_code") or _FALLBACK_SITE
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in site) or not 0 < len(site) <= 32:
        raise ValueError(f"site_code {site!r}: expected 1 to 32 ASCII letters, digits, '_' or '-'")
    return site


def upgrade() -> None:
    schema, site = _schema(), _site()
    for table, indexes in _INDEXES.items():
        with op.batch_alter_table(table, schema=schema) as t:
            t.add_column(sa.Column("site_code", sa.String(32), nullable=False, server_default=site))
        with op.batch_alter_table(table, schema=schema) as t:
            t.alter_column("site_code", server_default=None, existing_type=sa.String(32), existing_nullable=False)
            for name, _columns in indexes:
                t.drop_index(name)
            if table in _KEYS:
                pk, key = _KEYS[table]
                t.drop_constraint(pk, type_="primary")
                t.create_primary_key(pk, ["site_code", *key])
            else:  # att_push_run: the surrogate id stays the PK; the run id is unique per site
                t.drop_constraint("uq_att_push_run_run_id", type_="unique")
                t.create_unique_constraint("uq_att_push_run_run_id", ["site_code", "run_id"])
            for name, columns in indexes:
                t.create_index(name, ["site_code", *columns])


def downgrade() -> None:
    """Back to one site: fails on a key conflict if the tables hold several sites' rows."""
    schema = _schema()
    for table, indexes in _INDEXES.items():
        with op.batch_alter_table(table, schema=schema) as t:
            for name, _columns in indexes:
                t.drop_index(name)
            if table in _KEYS:
                pk, key = _KEYS[table]
                t.drop_constraint(pk, type_="primary")
                t.create_primary_key(pk, key)
            else:
                t.drop_constraint("uq_att_push_run_run_id", type_="unique")
                t.create_unique_constraint("uq_att_push_run_run_id", ["run_id"])
            for name, columns in indexes:
                t.create_index(name, columns)
        with op.batch_alter_table(table, schema=schema) as t:
            t.drop_column("site_code")
