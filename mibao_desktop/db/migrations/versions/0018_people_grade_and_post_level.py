"""People: 涉密等级 and 岗位密级 (issue 18 item 5).

A person of the 人员名册 gets the grade of their classified post (涉密等级: 核心/重要/一般) and
the post's level (岗位密级: 机密, 秘密 …), which some units keep instead of the grade, or beside
it. Both may stay empty (a person who is no classified staff). Nullable columns added by
ALTER, never a copy of the table; each is a filter (facet), so it gets its index like every
facet. Written out here so that later changes to the declaration cannot change this upgrade.
People registered before have neither.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PEOPLE = "ledger_people"


def upgrade() -> None:
    op.add_column(PEOPLE, sa.Column("grade", sa.String(50), nullable=True))
    op.add_column(PEOPLE, sa.Column("post_level", sa.String(10), nullable=True))
    op.create_index(f"ix_{PEOPLE}_grade", PEOPLE, ["grade", "id"])
    op.create_index(f"ix_{PEOPLE}_post_level", PEOPLE, ["post_level", "id"])


def downgrade() -> None:
    op.drop_index(f"ix_{PEOPLE}_post_level", table_name=PEOPLE)
    op.drop_index(f"ix_{PEOPLE}_grade", table_name=PEOPLE)
    with op.batch_alter_table(PEOPLE) as batch:
        batch.drop_column("post_level")
        batch.drop_column("grade")
