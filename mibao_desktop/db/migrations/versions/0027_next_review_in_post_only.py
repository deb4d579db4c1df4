"""下次复审日期 only for people in post: it is cleared for everyone whose status says they left
(脱密期, 已脱密, 调离, 退休), as the status change does from now on (ledgers/people.py
next_review). A 复审 is of people in post; the stored date is what the 首页's 复审 due, sorts and
filters read, so leavers must not keep one. A person who comes back to 在岗 gets it computed
again by that change. The column is neither searched nor counted: only the column changes.
The statuses are written out here, so that later changes to the app cannot change this upgrade.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

OUT_OF_POST = ("脱密期", "已脱密", "调离", "退休")


def upgrade() -> None:
    people = sa.table("ledger_people", sa.column("status"), sa.column("next_review", sa.Date()))
    op.execute(people.update().where(people.c.status.in_(OUT_OF_POST), people.c.next_review.is_not(None))
               .values(next_review=None))


def downgrade() -> None:
    pass  # the dates cleared were of people out of post: nothing to put back
