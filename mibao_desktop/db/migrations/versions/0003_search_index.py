"""Full-text search index (FTS5, trigram) over records.search_text, kept by triggers.

A search word of three or more characters is then answered from the index in a few
milliseconds at 100,000 records, instead of a scan of every row. SQLite only: on other
databases the repository searches with LIKE.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATEMENTS = (
    "CREATE VIRTUAL TABLE records_fts USING fts5("
    " search_text, content='records', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN"
    " INSERT INTO records_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN"
    " INSERT INTO records_fts(records_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER records_fts_update AFTER UPDATE OF search_text ON records BEGIN"
    " INSERT INTO records_fts(records_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO records_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO records_fts(records_fts) VALUES ('rebuild')",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("records_fts_insert", "records_fts_delete", "records_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS records_fts")
