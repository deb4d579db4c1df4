"""保密教育培训: the training sessions (``ledger_trainings``) and their attendees
(``ledger_training_attendances``, a child ledger: one person of the register once per session),
each with its search table and search index, as 0007 made the carriers'. 学时 are kept in tenths
(1.5 学时 → 15) so that a year's hours sum exactly. The columns are written out here (later
changes to the declarations cannot change this upgrade). Both tables start empty.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

S = sa.String
TRAININGS = "ledger_trainings"
ATTENDANCES = "ledger_training_attendances"
# (column, type, foreign key to records, NOT NULL)
TRAINING_COLUMNS = [
    ("training_number", S(20), False, True), ("held_on", sa.Date(), False, False), ("subject", S(100), False, False),
    ("hours", sa.Integer(), False, False), ("lecturer", S(60), False, False), ("place", S(60), False, False),
    ("form", S(50), False, False), ("status", S(50), False, True), ("remarks", sa.Text(), False, False),
]
TRAINING_INDEXED = ("form", "held_on", "hours", "lecturer", "place", "status", "subject", "training_number")
ATTENDANCE_COLUMNS = [
    ("person", sa.Integer(), True, False), ("attended_hours", sa.Integer(), False, False),
    ("status", S(50), False, True), ("remarks", sa.Text(), False, False),
]
ATTENDANCE_INDEXED = ("attended_hours", "person", "status")


def _ledger_table(name: str, columns, indexed, *, child: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
        *([sa.Column("parent_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False)] if child else []),
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
    if child:
        op.create_index(f"ix_{name}_parent_id", name, ["parent_id"])
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
    _ledger_table(TRAININGS, TRAINING_COLUMNS, TRAINING_INDEXED, child=False)
    _ledger_table(ATTENDANCES, ATTENDANCE_COLUMNS, ATTENDANCE_INDEXED, child=True)


def downgrade() -> None:
    bind = op.get_bind()
    for name in (ATTENDANCES, TRAININGS):
        search = f"{name}_search"
        if bind.dialect.name == "sqlite":
            op.execute(f"DROP TABLE IF EXISTS {search}_fts_vocab")
            op.execute(f"DROP TABLE IF EXISTS {search}_fts")
        op.drop_table(search)
        op.drop_table(name)
