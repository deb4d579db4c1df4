"""Stocktaking (盘点) of any labelled ledger (issue 15 item 2): two new tables, the session
(which ledger, its scope, who opened and closed it, the counts) and its items (each record or
unknown code seen while open, how often; at the close every finding with the record as it was
then). The carriers' checks keep their own tables (revision 0019): their items are copies with
a 份号 and a period of 月核对/季检查, which a generic session does not have. Nothing existing
changes. Written out here so that later changes to the models cannot change this upgrade.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stocktakes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ledger", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("scope_value", sa.String(100), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by", sa.String(60), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(60), nullable=True),
        sa.Column("checkers", sa.String(200), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_stocktakes_open", "stocktakes", ["closed_at", "ledger"])
    op.create_table(
        "stocktake_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stocktake_id", sa.Integer(), sa.ForeignKey("stocktakes.id"), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True),
        sa.Column("code", sa.String(200), nullable=True),
        sa.Column("finding", sa.String(20), nullable=False),
        sa.Column("seen_how", sa.String(10), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("times_seen", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("number", sa.String(60), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("level", sa.String(10), nullable=True),
        sa.Column("person", sa.String(60), nullable=True),
        sa.Column("department", sa.String(60), nullable=True),
        sa.Column("place", sa.String(60), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("belongs", sa.String(200), nullable=True),
        sa.UniqueConstraint("stocktake_id", "record_id", name="uq_stocktake_items_record"),
        sa.UniqueConstraint("stocktake_id", "code", name="uq_stocktake_items_code"),
    )
    op.create_index("ix_stocktake_items_finding", "stocktake_items", ["stocktake_id", "finding"])


def downgrade() -> None:
    op.drop_index("ix_stocktake_items_finding", "stocktake_items")
    op.drop_table("stocktake_items")
    op.drop_index("ix_stocktakes_open", "stocktakes")
    op.drop_table("stocktakes")
