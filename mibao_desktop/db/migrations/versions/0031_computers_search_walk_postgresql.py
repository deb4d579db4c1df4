"""PostgreSQL: the computers' search texts kept a second time in the order they are shown (编号),
so that a search is walked in that order by reading texts one after another instead of joining
each row's text by id (issue 9 item 8, filter keystroke p95 ≤ 50 ms at a million computers).

At a million computers a walk joined each computer (by the 编号 index) to its text (by the
search table's key): 2.6 µs a row, zz's page 15,900 rows in, 41 ms. Read from
``ledger_computers_search_walk`` (编号, id, search text; filled in 编号 order, its key
(sort_key, id)) the same walk costs 0.4–1 µs a row (15 ms). It also lets a word whose
pg_trgm trigrams are in most rows (jm-01, jmsn001, 00-1a-2b-00-6: pg_trgm keeps letters and
digits only, and has no positions) be looked for in the first rows in order before the index is
asked (a page of jm-01 is 10,200 rows in: 7 ms, where pg_trgm rechecks 54,000 rows, 170 ms).

Kept by triggers, as revision 0029 keeps the carriers' on SQLite: a text written (one statement
for all the rows an import writes at once, reading their 编号 by key: 9-20 µs a row, where the
server spends 300-400 µs writing a computer's row and text), a text changed, a computer
renumbered, a text deleted. A text refers to its computer (foreign key), so it is always
written after it and deleted before it: nothing is needed on the computer's own insert or delete
(SQLite's 0029 has both). SQLite's computers need none of it (FTS5 answers them). The ledger key and its sort column are written out here, so
that later changes to the app cannot change this upgrade.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

WALKS = {"computers": "asset_number"}  # ledger key: the column its rows are shown in order of


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for key, column in WALKS.items():
        t, s = f"ledger_{key}", f"ledger_{key}_search"
        w = f"{s}_walk"
        op.execute(f"CREATE TABLE {w} (sort_key TEXT NOT NULL, id INTEGER NOT NULL, search_text TEXT NOT NULL)")
        # in order, then the key built from the sorted rows: the walk reads its pages one after another
        op.execute(f"INSERT INTO {w} (sort_key, id, search_text) SELECT t.{column}, t.id, s.search_text "
                   f"FROM {t} AS t JOIN {s} AS s ON s.id = t.id ORDER BY t.{column}, t.id")
        op.execute(f"ALTER TABLE {w} ADD PRIMARY KEY (sort_key, id)")
        op.execute(f"ANALYZE {w}")
        # a row is added with its text (written after its computer); an import writes a few
        # thousand texts in one statement: their 编号 are read by key (LIMIT 1 keeps the planner
        # from hashing the whole ledger for them)
        _function(f"{w}_text_added",
                  f"INSERT INTO {w} (sort_key, id, search_text) SELECT k.sort_key, a.id, a.search_text "
                  f"FROM added AS a CROSS JOIN LATERAL (SELECT t.{column} AS sort_key FROM {t} AS t "
                  "WHERE t.id = a.id LIMIT 1) AS k")
        op.execute(f"CREATE TRIGGER {w}_text_added AFTER INSERT ON {s} REFERENCING NEW TABLE AS added "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {w}_text_added()")
        _function(f"{w}_text_changed",
                  f"UPDATE {w} SET search_text = NEW.search_text "
                  f"WHERE id = NEW.id AND sort_key = (SELECT {column} FROM {t} WHERE id = NEW.id)")
        op.execute(f"CREATE TRIGGER {w}_text_changed AFTER UPDATE OF search_text ON {s} FOR EACH ROW "
                   f"WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION {w}_text_changed()")
        _function(f"{w}_renumbered",
                  f"UPDATE {w} SET sort_key = NEW.{column} WHERE sort_key = OLD.{column} AND id = OLD.id")
        op.execute(f"CREATE TRIGGER {w}_renumbered AFTER UPDATE OF {column} ON {t} FOR EACH ROW "
                   f"WHEN (OLD.{column} IS DISTINCT FROM NEW.{column}) EXECUTE FUNCTION {w}_renumbered()")
        _function(f"{w}_text_deleted",
                  f"DELETE FROM {w} WHERE id = OLD.id AND sort_key = (SELECT {column} FROM {t} WHERE id = OLD.id)")
        op.execute(f"CREATE TRIGGER {w}_text_deleted AFTER DELETE ON {s} FOR EACH ROW "
                   f"EXECUTE FUNCTION {w}_text_deleted()")


def _function(name: str, statement: str) -> None:
    op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {statement}; "
               "RETURN NULL; END $$")


TRIGGERS = ("text_added", "text_changed", "renumbered", "text_deleted")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for key in WALKS:
        w = f"ledger_{key}_search_walk"
        op.execute(f"DROP TABLE IF EXISTS {w}")
        for trigger in TRIGGERS:  # (the triggers are on the ledger's tables: dropped with their function)
            op.execute(f"DROP FUNCTION IF EXISTS {w}_{trigger}() CASCADE")
