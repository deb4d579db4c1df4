"""出国(境) and 因私出入境证件: the trips (``ledger_trips``: application, approval, the 行前保密提醒谈话
and the report back, each set by the trip's recorded actions) and the exit documents the unit
holds (``ledger_exit_documents``: 证件号码, 持证人, 证件类别, 有效期至, 存放位置, the trip it was last
handed out for and its 应交回日期), each with its search table and search index, as 0020 made the
trainings'. The columns are written out here (later changes to the declarations cannot change
this upgrade). Both tables start empty.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

S = sa.String
TRIPS = "ledger_trips"
DOCUMENTS = "ledger_exit_documents"
# (column, type, foreign key to records, NOT NULL)
TRIP_COLUMNS = [
    ("trip_number", S(20), False, True), ("traveller", sa.Integer(), True, False), ("kind", S(50), False, False),
    ("destinations", S(100), False, False), ("leave_on", sa.Date(), False, False),
    ("return_on", sa.Date(), False, False), ("purpose", sa.Text(), False, False), ("companions", S(100), False, False),
    ("applied_on", sa.Date(), False, False), ("restriction", S(100), False, False), ("approver", S(40), False, False),
    ("approved_on", sa.Date(), False, False), ("exception_reason", sa.Text(), False, False),
    ("briefed_on", sa.Date(), False, False), ("briefed_by", S(40), False, False),
    ("briefing_notes", sa.Text(), False, False), ("reported_on", sa.Date(), False, False),
    ("report", sa.Text(), False, False), ("status", S(50), False, True), ("remarks", sa.Text(), False, False),
]
TRIP_INDEXED = ("applied_on", "approved_on", "approver", "briefed_on", "companions", "destinations", "kind",
                "leave_on", "reported_on", "restriction", "return_on", "status", "traveller", "trip_number")
DOCUMENT_COLUMNS = [
    ("document_number", S(12), False, True), ("holder", sa.Integer(), True, False), ("kind", S(50), False, False),
    ("issued_on", sa.Date(), False, False), ("expires_on", sa.Date(), False, False),
    ("location", S(60), False, False), ("trip", sa.Integer(), True, False), ("due_on", sa.Date(), False, False),
    ("status", S(50), False, True), ("remarks", sa.Text(), False, False),
]
DOCUMENT_INDEXED = ("document_number", "due_on", "expires_on", "holder", "issued_on", "kind", "location", "status",
                    "trip")


def _ledger_table(name: str, columns, indexed) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
        *[sa.Column(c, t, sa.ForeignKey("records.id"), nullable=not nn) if fk else sa.Column(c, t, nullable=not nn)
          for c, t, fk, nn in columns],
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in indexed:
        op.create_index(f"ix_{name}_{column}", name, [column, "id"])
    search = f"{name}_search"
    op.create_table(
        search,
        sa.Column("id", sa.Integer(), sa.ForeignKey(f"{name}.id"), primary_key=True, autoincrement=False),
        sa.Column("search_text", sa.Text(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE {search}_fts USING fts5(search_text, content='{search}',"
                   " content_rowid='id', tokenize='trigram')")
        op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {search}_fts_vocab USING fts5vocab({search}_fts, 'row')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_{search}_search_trgm ON {search} USING gin (search_text gin_trgm_ops)")


def upgrade() -> None:
    _ledger_table(TRIPS, TRIP_COLUMNS, TRIP_INDEXED)
    _ledger_table(DOCUMENTS, DOCUMENT_COLUMNS, DOCUMENT_INDEXED)


def downgrade() -> None:
    bind = op.get_bind()
    for name in (DOCUMENTS, TRIPS):
        search = f"{name}_search"
        if bind.dialect.name == "sqlite":
            op.execute(f"DROP TABLE IF EXISTS {search}_fts_vocab")
            op.execute(f"DROP TABLE IF EXISTS {search}_fts")
        op.drop_table(search)
        op.drop_table(name)
