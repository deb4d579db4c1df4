"""Carriers copy by copy (issue 13 item 1): what the recorded actions need on the records.

A carrier gets 复制来源 (a copy made by copying is a carrier of its own, linked to its source;
seed 002 §八(四)), 加盖戳记 (收文章 on receipt, 复制戳记 on a copy) and 须清退 (a paper that
must be returned to its issuer may not be destroyed here); a copy gets its own 存放位置. Nullable
columns added by ALTER, never a copy of a million-row table; the columns are written out here
so that later changes to the declarations cannot change this upgrade. Carriers registered
before have no source, no stamp noted and 须清退 unknown (empty, read as 否).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CARRIERS = "ledger_carriers"
COPIES = "ledger_carrier_copies"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a referencing column; Alembic would copy the table
        op.execute(f"ALTER TABLE {CARRIERS} ADD COLUMN source_carrier INTEGER REFERENCES records (id)")
    else:
        op.add_column(CARRIERS, sa.Column("source_carrier", sa.Integer(), sa.ForeignKey("records.id"), nullable=True))
    op.add_column(CARRIERS, sa.Column("stamp", sa.String(50), nullable=True))
    op.add_column(CARRIERS, sa.Column("return_required", sa.String(50), nullable=True))
    op.add_column(COPIES, sa.Column("location", sa.String(60), nullable=True))
    op.create_index(f"ix_{CARRIERS}_source_carrier", CARRIERS, ["source_carrier", "id"])
    op.create_index(f"ix_{COPIES}_location", COPIES, ["location", "id"])


def downgrade() -> None:
    op.drop_index(f"ix_{COPIES}_location", table_name=COPIES)
    op.drop_index(f"ix_{CARRIERS}_source_carrier", table_name=CARRIERS)
    with op.batch_alter_table(COPIES) as batch:
        batch.drop_column("location")
    with op.batch_alter_table(CARRIERS) as batch:
        batch.drop_column("return_required")
        batch.drop_column("stamp")
        batch.drop_column("source_carrier")
