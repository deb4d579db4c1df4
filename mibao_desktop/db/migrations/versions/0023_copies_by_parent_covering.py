"""The carrier copies' index by parent holds what a check lists of each copy.

A department's check list reads the copies of its carriers (100,000 of a million in the
benchmark): by the index on parent_id alone each copy's whole row was read from wherever it
lies in the table. The index now holds ``voided``, 份号, status, 存放位置 and 持有人 after the
parent, so the list reads the index alone (ledgers/carriers.py ``by_parent_index``). The same
name is kept: it replaces the narrower index, so a write keeps one index as before. Columns
written out here: later changes to the declarations cannot change this upgrade.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLE = "ledger_carrier_copies"
INDEX = f"ix_{TABLE}_parent_id"
COVERED = ("parent_id", "voided", "copy_number", "status", "location", "holder")


def upgrade() -> None:
    op.drop_index(INDEX, TABLE)
    op.create_index(INDEX, TABLE, list(COVERED))


def downgrade() -> None:
    op.drop_index(INDEX, TABLE)
    op.create_index(INDEX, TABLE, ["parent_id"])
