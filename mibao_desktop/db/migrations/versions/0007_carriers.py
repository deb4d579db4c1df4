"""State-secret carriers (国家秘密载体) and their copies (载体份号), a child ledger.

The tables as ``mibao_desktop.db.schema`` generates them from the declarations at this
revision (written out, so that later changes to the declarations cannot change this upgrade),
each with its search table and search index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = sa.String
# (column, type, foreign key to records, NOT NULL)
TABLES = {
    "carriers": [
        ("carrier_number", S(40), False, True), ("title", S(200), False, False), ("doc_number", S(60), False, False),
        ("issuer", S(60), False, False), ("level", S(10), False, False), ("secrecy_period", sa.Integer(), False, False),
        ("classified_on", sa.Date(), False, False), ("declassify_on", sa.Date(), False, False),
        ("form", S(50), False, False), ("copies", sa.Integer(), False, False), ("pages", sa.Integer(), False, False),
        ("scope", S(200), False, False), ("source", S(50), False, False), ("received_on", sa.Date(), False, False),
        ("keeper", sa.Integer(), True, False), ("department", S(40), False, False), ("location", S(60), False, False),
        ("status", S(50), False, True), ("remarks", sa.Text(), False, False)],
    "carrier_copies": [
        ("parent_id", sa.Integer(), True, True), ("copy_number", sa.Integer(), False, True),
        ("holder", sa.Integer(), True, False), ("due_on", sa.Date(), False, False), ("status", S(50), False, True),
        ("remarks", sa.Text(), False, False)],
}
INDEXED = {
    "carriers": ("carrier_number", "classified_on", "copies", "declassify_on", "department", "doc_number", "form",
                 "issuer", "keeper", "level", "location", "received_on", "secrecy_period", "source", "status", "title"),
    "carrier_copies": ("copy_number", "due_on", "holder", "parent_id", "status"),
}


def upgrade() -> None:
    bind = op.get_bind()
    for key, columns in TABLES.items():
        name = f"ledger_{key}"
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
        for column in INDEXED[key]:
            op.create_index(f"ix_{name}_{column}", name, [column])
        search = f"{name}_search"
        op.create_table(
            search,
            sa.Column("id", sa.Integer(), sa.ForeignKey(f"{name}.id"), primary_key=True, autoincrement=False),
            sa.Column("search_text", sa.Text(), nullable=False),
        )
        if bind.dialect.name == "sqlite":
            op.execute(f"CREATE VIRTUAL TABLE {search}_fts USING fts5(search_text, content='{search}',"
                       " content_rowid='id', tokenize='trigram')")
        elif bind.dialect.name == "postgresql":
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute(f"CREATE INDEX ix_{search}_search_trgm ON {search} USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    for key in reversed(list(TABLES)):
        name = f"ledger_{key}"
        if bind.dialect.name == "sqlite":
            op.execute(f"DROP TABLE IF EXISTS {name}_search_fts")
        op.drop_table(f"{name}_search")
        op.drop_table(name)
