"""The ids a reference held, kept in the history beside the text it showed.

Undoing an edit (撤销修改) put a reference back by the number or name the history showed, which
may since name another record (a computer renumbered and its old number reused, a person
renamed, a namesake added): the wrong record came back, or a new person was registered.
``field_changes.old_ids``/``new_ids`` keep the ids (one per line) from here on; history written
before has none and is undone by its text, adding nobody (the service says so).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("field_changes", sa.Column("old_ids", sa.Text(), nullable=True))
    op.add_column("field_changes", sa.Column("new_ids", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("field_changes") as batch:
        batch.drop_column("new_ids")
        batch.drop_column("old_ids")
