"""The carriers' search texts kept a second time in the order the carriers are shown (登记编号),
so that a search word whose matches all sort late is found by reading texts in order, not by
looking each one up (issue 13 item 8, filter keystroke p95 ≤ 50 ms at 100,000 carriers).

ZT-202 or 保字〔202 are in 60 % of the carriers, all sorted after 40,000 that hold neither: the
walk in 登记编号 order looked up 40,000 search texts one by one in the search table (ordered by
id), 1.5–2 µs each, 80–100 ms. ``ledger_carriers_search_walk`` holds (登记编号, id, search text)
as a table clustered on (登记编号, id) (WITHOUT ROWID): the walk reads the texts in order from
its leaves, a quarter of the cost. It is kept by triggers (SQLite only; PostgreSQL answers LIKE
from pg_trgm): a search text written or changed, a carrier renumbered, a row deleted. Either
of a carrier's two rows may be written first (the import writes the carrier, then its text).
The ledger key and its sort column are written out here, so that later changes to the app
cannot change this upgrade.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

WALKS = {"carriers": "carrier_number"}  # ledger key: the column its rows are shown in order of


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for key, column in WALKS.items():
        t, s = f"ledger_{key}", f"ledger_{key}_search"
        w = f"{s}_walk"
        op.execute(f"CREATE TABLE {w} (sort_key TEXT NOT NULL, id INTEGER NOT NULL, search_text TEXT NOT NULL, "
                   "PRIMARY KEY (sort_key, id)) WITHOUT ROWID")
        op.execute(f"INSERT INTO {w} (sort_key, id, search_text) SELECT t.{column}, t.id, s.search_text "
                   f"FROM {t} AS t JOIN {s} AS s ON s.id = t.id")
        # a row is added when the second of its two rows is written, whichever that is
        op.execute(f"CREATE TRIGGER {w}_text_added AFTER INSERT ON {s} BEGIN "
                   f"INSERT OR IGNORE INTO {w} (sort_key, id, search_text) "
                   f"SELECT t.{column}, NEW.id, NEW.search_text FROM {t} AS t WHERE t.id = NEW.id; END")
        op.execute(f"CREATE TRIGGER {w}_row_added AFTER INSERT ON {t} BEGIN "
                   f"INSERT OR IGNORE INTO {w} (sort_key, id, search_text) "
                   f"SELECT NEW.{column}, NEW.id, s.search_text FROM {s} AS s WHERE s.id = NEW.id; END")
        op.execute(f"CREATE TRIGGER {w}_text_changed AFTER UPDATE OF search_text ON {s} BEGIN "
                   f"UPDATE {w} SET search_text = NEW.search_text "
                   f"WHERE id = NEW.id AND sort_key = (SELECT {column} FROM {t} WHERE id = NEW.id); END")
        op.execute(f"CREATE TRIGGER {w}_renumbered AFTER UPDATE OF {column} ON {t} BEGIN "
                   f"UPDATE {w} SET sort_key = NEW.{column} WHERE sort_key = OLD.{column} AND id = OLD.id; END")
        op.execute(f"CREATE TRIGGER {w}_text_deleted AFTER DELETE ON {s} BEGIN "
                   f"DELETE FROM {w} WHERE id = OLD.id AND sort_key = (SELECT {column} FROM {t} WHERE id = OLD.id); "
                   "END")
        op.execute(f"CREATE TRIGGER {w}_row_deleted AFTER DELETE ON {t} BEGIN "
                   f"DELETE FROM {w} WHERE sort_key = OLD.{column} AND id = OLD.id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for key in WALKS:
        w = f"ledger_{key}_search_walk"
        for trigger in ("text_added", "row_added", "text_changed", "renumbered", "text_deleted", "row_deleted"):
            op.execute(f"DROP TRIGGER IF EXISTS {w}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {w}")
