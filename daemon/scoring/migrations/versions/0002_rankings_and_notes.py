"""Issue 10: what a published result needs to be defended.

* ``att_staff_period.excused_punches`` — 补卡次数, as DingTalk's month report has it;
* ``att_staff_period.grade_note`` — a note on the grade that is not a finding (the 优秀 quota);
* ``att_window_period.ranking_group`` — windows are ranked within their group ("" = the centre);
* ``att_window_period.score_percent`` — the score as a share of the maximum, which is what is ranked.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _schema():
    return context.config.attributes.get("schema")


def upgrade() -> None:
    schema = _schema()
    with op.batch_alter_table("att_staff_period", schema=schema) as t:
        t.add_column(sa.Column("excused_punches", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("grade_note", sa.Text(), nullable=True))
    with op.batch_alter_table("att_window_period", schema=schema) as t:
        t.add_column(sa.Column("ranking_group", sa.String(64), nullable=False, server_default=""))
        t.add_column(sa.Column("score_percent", sa.Double(), nullable=True))


def downgrade() -> None:
    schema = _schema()
    with op.batch_alter_table("att_window_period", schema=schema) as t:
        t.drop_column("score_percent")
        t.drop_column("ranking_group")
    with op.batch_alter_table("att_staff_period", schema=schema) as t:
        t.drop_column("grade_note")
        t.drop_column("excused_punches")
