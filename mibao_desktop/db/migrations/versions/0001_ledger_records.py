"""Ledger records, uniqueness keys and per-field change history.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ledger", sa.String(40), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=True),
        sa.Column("asset_number", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    # search_text in the listing index: the search box scans the index alone, never the JSON rows
    op.create_index("ix_records_ledger_listing", "records", ["ledger", "voided", "asset_number", "search_text"])
    op.create_index("ix_records_ledger_status", "records", ["ledger", "status"])
    op.create_index("ix_records_parent", "records", ["parent_id"])

    op.create_table(
        "unique_values",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.UniqueConstraint("scope", "field", "value", name="uq_unique_values_scope_field_value"),
    )
    op.create_index("ix_unique_values_record", "unique_values", ["record_id"])

    op.create_table(
        "record_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
    )
    op.create_index("ix_record_events_record", "record_events", ["record_id"])
    op.create_index("ix_record_events_at", "record_events", ["at"])

    op.create_table(
        "field_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("record_events.id"), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
    )
    op.create_index("ix_field_changes_event", "field_changes", ["event_id"])


def downgrade() -> None:
    op.drop_table("field_changes")
    op.drop_table("record_events")
    op.drop_table("unique_values")
    op.drop_table("records")
