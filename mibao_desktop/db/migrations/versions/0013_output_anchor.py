"""The audit chain's head on each output register entry.

Every report copied to removable media already carries the head (``N:HASH16``) in its page
footer; the register keeps it too, so the auditor can check the log against every copy that
left the machine (``mibao audit verify --anchor``) even when the copy itself is not at hand.
Entries made before have none.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("output_register", sa.Column("anchor", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("output_register") as batch:
        batch.drop_column("anchor")
