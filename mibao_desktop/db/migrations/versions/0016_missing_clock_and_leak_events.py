"""The missing clock and the leak events (泄密事件), seed 003 泄密事件报告和查处制度 第二条.

A carrier copy gets 下落不明日期 (the day it was marked missing), 查找期限 (the last day it may
be found: 10 days for 绝密, 60 for 机密 and 秘密; indexed, so the watch list is one index range)
and the 泄密事件 the clock opened for it. The leak events get their own ledger table with its
search table and search index, as 0007 made the carriers'. The columns are written out here
(later changes to the declarations cannot change this upgrade). No copy is missing-marked by a
database before this revision with a date to stamp: a copy already 下落不明 gets the day of its
latest status change into 下落不明 from its history, or, with none, stays without a clock until
it is marked again (its row says so: 查找期限 empty).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

S = sa.String
COPIES = "ledger_carrier_copies"
LEAKS = "ledger_leak_events"
# (column, type, foreign key to records, NOT NULL)
LEAK_COLUMNS = [
    ("event_number", S(20), False, True), ("grade", S(50), False, False), ("report_by", S(60), False, False),
    ("found_on", sa.Date(), False, False), ("occurred_on", sa.Date(), False, False), ("place", S(100), False, False),
    ("item", S(300), False, False), ("carrier", sa.Integer(), True, False), ("copy_numbers", S(200), False, False),
    ("level", S(10), False, False), ("count", sa.Integer(), False, False), ("responsible", sa.Integer(), True, False),
    ("post", S(60), False, False), ("political_status", S(20), False, False), ("department", S(40), False, False),
    ("account", sa.Text(), False, False), ("harm", sa.Text(), False, False), ("measures", sa.Text(), False, False),
    ("investigation", sa.Text(), False, False), ("status", S(50), False, True), ("remarks", sa.Text(), False, False),
]
LEAK_INDEXED = ("carrier", "copy_numbers", "count", "department", "department__pinyin", "event_number", "found_on",
                "grade", "item", "level", "occurred_on", "place", "report_by", "responsible", "status")
COPY_INDEXED = ("leak_event", "missing_since", "search_until")
SEARCH_DAYS = {"绝密": 10, "机密": 60, "秘密": 60}  # seed 003 第二条, as it stood at this revision


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        LEAKS,
        sa.Column("id", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True, autoincrement=False),
        *[sa.Column(c, t, sa.ForeignKey("records.id"), nullable=not nn) if fk else sa.Column(c, t, nullable=not nn)
          for c, t, fk, nn in LEAK_COLUMNS],
        sa.Column("department__pinyin", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in LEAK_INDEXED:
        op.create_index(f"ix_{LEAKS}_{column}", LEAKS, [column, "id"])
    search = f"{LEAKS}_search"
    op.create_table(
        search,
        sa.Column("id", sa.Integer(), sa.ForeignKey(f"{LEAKS}.id"), primary_key=True, autoincrement=False),
        sa.Column("search_text", sa.Text(), nullable=False),
    )
    if bind.dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE {search}_fts USING fts5(search_text, content='{search}',"
                   " content_rowid='id', tokenize='trigram')")
        op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {search}_fts_vocab USING fts5vocab({search}_fts, 'row')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_{search}_search_trgm ON {search} USING gin (search_text gin_trgm_ops)")

    # ALTERs adding nullable columns, never a copy of a million-row table
    op.add_column(COPIES, sa.Column("missing_since", sa.Date(), nullable=True))
    op.add_column(COPIES, sa.Column("search_until", sa.Date(), nullable=True))
    if bind.dialect.name == "sqlite":  # SQLite adds a column with its reference inline (Alembic would copy the table)
        op.execute(f"ALTER TABLE {COPIES} ADD COLUMN leak_event INTEGER REFERENCES records (id)")
    else:
        op.add_column(COPIES, sa.Column("leak_event", sa.Integer(), sa.ForeignKey("records.id"), nullable=True))
    for column in COPY_INDEXED:
        op.create_index(f"ix_{COPIES}_{column}", COPIES, [column, "id"])
    _stamp_missing(bind)


def _stamp_missing(bind) -> None:
    """Copies already 下落不明: the day of their latest change into it, and the clock from it."""
    rows = bind.execute(sa.text(
        f"SELECT c.id, p.level FROM {COPIES} c JOIN ledger_carriers p ON p.id = c.parent_id "
        "WHERE c.status = '下落不明'")).all()
    for copy_id, level in rows:
        event = bind.execute(sa.text(
            "SELECT e.effective_date, e.at FROM record_events e JOIN field_changes f ON f.event_id = e.id "
            "WHERE e.record_id = :id AND f.field = 'status' AND f.new_value = '下落不明' "
            "ORDER BY e.id DESC LIMIT 1"), {"id": copy_id}).first()
        if event is None:
            continue
        since = event[0] or event[1]
        if isinstance(since, str):
            since = dt.date.fromisoformat(since[:10])
        elif isinstance(since, dt.datetime):
            since = since.date()
        days = SEARCH_DAYS.get(level or "")
        until = since + dt.timedelta(days=days) if days else None
        bind.execute(sa.text(f"UPDATE {COPIES} SET missing_since = :since, search_until = :until WHERE id = :id"),
                     {"since": since, "until": until, "id": copy_id})


def downgrade() -> None:
    bind = op.get_bind()
    for column in reversed(COPY_INDEXED):
        op.drop_index(f"ix_{COPIES}_{column}", table_name=COPIES)
    with op.batch_alter_table(COPIES) as batch:
        for column in ("leak_event", "search_until", "missing_since"):
            batch.drop_column(column)
    search = f"{LEAKS}_search"
    if bind.dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {search}_fts_vocab")
        op.execute(f"DROP TABLE IF EXISTS {search}_fts")
    op.drop_table(search)
    op.drop_table(LEAKS)
