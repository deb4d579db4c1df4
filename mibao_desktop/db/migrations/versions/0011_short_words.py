"""Search words of one or two characters answered from the index.

Every search text now ends with two line breaks (``search_index.TEXT_END``), so that each of
its characters starts a trigram of the FTS5 index, and each index gets an fts5vocab table
listing its trigrams. A word of one or two characters (黄子, zz) is then found through the
trigrams that begin with it instead of by reading every text (see ``db/search_index.py``).
PostgreSQL gets the same texts (its trigram index has no such vocabulary; the ending is
harmless there and keeps the two engines' texts alike).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mibao_desktop.db import search_index

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

END = search_index.TEXT_END


def _search_tables(bind) -> list[str]:
    return sorted(name for name in sa.inspect(bind).get_table_names()
                  if name.startswith("ledger_") and name.endswith("_search"))


def upgrade() -> None:
    bind = op.get_bind()
    for name in _search_tables(bind):
        if bind.dialect.name == "sqlite":
            # the index is rebuilt from the new texts in one pass rather than row by row
            bind.exec_driver_sql(f"UPDATE {name} SET search_text = search_text || char(10, 10)")
            search_index.rebuild(bind, name)
            search_index.create_vocab(bind, name)
        else:
            bind.exec_driver_sql(f"UPDATE {name} SET search_text = search_text || E'\\n\\n'")


def downgrade() -> None:
    bind = op.get_bind()
    for name in _search_tables(bind):
        if bind.dialect.name == "sqlite":
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS {search_index.vocab_table(name)}")
            bind.exec_driver_sql(f"UPDATE {name} SET search_text = rtrim(search_text, char(10))")
            search_index.rebuild(bind, name)
        else:
            bind.exec_driver_sql(f"UPDATE {name} SET search_text = rtrim(search_text, E'\\n')")
