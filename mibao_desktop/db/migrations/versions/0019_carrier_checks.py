"""Checks of the carriers' copies (issue 13 item 4): 月核对, 季检查, 年终清退归档 (seed 003 保密工作制度
第十条). Two new tables: the check (kind, period, scope, who opened and closed it, the counts)
and its items (each copy seen while open; at the close every finding with the copy's record as
it was then). Nothing existing changes. Written out here so that later changes to the models
cannot change this upgrade.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("scope_value", sa.String(100), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by", sa.String(60), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(60), nullable=True),
        sa.Column("checkers", sa.String(200), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_carrier_checks_open", "carrier_checks", ["closed_at", "kind", "period"])
    op.create_table(
        "carrier_check_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("check_id", sa.Integer(), sa.ForeignKey("carrier_checks.id"), nullable=False),
        sa.Column("copy_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("finding", sa.String(20), nullable=False),
        sa.Column("seen_how", sa.String(10), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("carrier_number", sa.String(40), nullable=True),
        sa.Column("copy_number", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("level", sa.String(10), nullable=True),
        sa.Column("holder", sa.String(60), nullable=True),
        sa.Column("place", sa.String(60), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("belongs", sa.String(200), nullable=True),
        sa.Column("followed", sa.String(200), nullable=True),
        sa.UniqueConstraint("check_id", "copy_id", name="uq_carrier_check_items_copy"),
    )
    op.create_index("ix_carrier_check_items_finding", "carrier_check_items", ["check_id", "finding"])


def downgrade() -> None:
    op.drop_index("ix_carrier_check_items_finding", "carrier_check_items")
    op.drop_table("carrier_check_items")
    op.drop_index("ix_carrier_checks_open", "carrier_checks")
    op.drop_table("carrier_checks")
