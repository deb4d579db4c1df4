"""The search index of a ledger table's ``search_text``: SQLite FTS5 (trigram) or PostgreSQL
pg_trgm. Both answer a word of three or more characters from an index.

On SQLite the FTS5 table is an external-content index of the ledger table, written by the
repository in the same transaction as the rows (``add``/``remove``). Triggers would do the
same, but FTS5 inserts made from a trigger cost three times as much as the same inserts made
directly (measured: 4,400 against 15,300 rows/s), and imports must be fast. On PostgreSQL a
GIN trigram index on the column keeps itself.

The revision that creates a ledger table calls :func:`create` for it.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


def fts_table(table_name: str) -> str:
    return f"{table_name}_fts"


def trigram_index(table_name: str) -> str:
    return f"ix_{table_name}_search_trgm"


def create(conn: Connection, table_name: str) -> None:
    """Make the index of ``table_name`` and fill it from the rows already there."""
    if conn.dialect.name == "sqlite":
        fts = fts_table(table_name)
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table_name}',"
                             " content_rowid='id', tokenize='trigram')")
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.exec_driver_sql(f"CREATE INDEX {trigram_index(table_name)} ON {table_name} "
                             "USING gin (search_text gin_trgm_ops)")


def drop(conn: Connection, table_name: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {fts_table(table_name)}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {trigram_index(table_name)}")


def rebuild(conn: Connection, table_name: str) -> None:
    if conn.dialect.name == "sqlite":
        fts = fts_table(table_name)
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def count_problem(conn: Connection, table_name: str) -> str | None:
    """The quick, read-only comparison: the index holds as many documents as the search table
    has rows (a row written without its index entry, or left behind, shows here). None when
    they agree. Milliseconds; takes no lock."""
    if conn.dialect.name != "sqlite":
        return None
    fts = fts_table(table_name)
    indexed = conn.exec_driver_sql(f"SELECT count(*) FROM {fts}_docsize").scalar()
    rows = conn.exec_driver_sql(f"SELECT count(*) FROM {table_name}").scalar()
    if indexed != rows:
        return f"{table_name} 的搜索索引与数据不一致(索引 {indexed} 条,数据 {rows} 条)"
    return None


def check(conn: Connection, table_name: str) -> str | None:
    """None when the index matches the table token by token; else what is wrong (FTS5's
    integrity check). It is a write command: it holds the database's write lock while it
    runs (about 16 s for a million records), so only ``mibao check`` runs it."""
    if conn.dialect.name != "sqlite":
        return None
    fts = fts_table(table_name)
    try:
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")
    except Exception as exc:  # SQLITE_CORRUPT_VTAB
        return f"{table_name} 的搜索索引与数据不一致({exc})"
    return None


def add(session: Session, table_name: str, rows: Iterable[tuple[int, str]]) -> None:
    """Index new rows (or new text of changed rows, after :func:`remove` of the old)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    params = [{"id": i, "text": t} for i, t in rows]
    if params:
        session.execute(text(f"INSERT INTO {fts_table(table_name)}(rowid, search_text) VALUES (:id, :text)"), params)


def remove(session: Session, table_name: str, rows: Iterable[tuple[int, str]]) -> None:
    """Take rows out of the index; each must come with the text it was indexed with."""
    if session.get_bind().dialect.name != "sqlite":
        return
    fts = fts_table(table_name)
    params = [{"id": i, "text": t} for i, t in rows]
    if params:
        session.execute(text(f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', :id, :text)"), params)
