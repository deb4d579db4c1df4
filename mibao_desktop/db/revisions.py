"""Which schema a database has, and whether this program knows it: read from the revision
files' names and a read-only look at the file, without SQLAlchemy or Alembic (the desktop asks
before its login window, which must be up in a fraction of a second). Qt-free."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mibao_desktop.errors import DatabaseError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def known_revisions() -> set[str]:
    """Every revision this program has: revisions are numbered (0001_…, 0002_…) in one line and
    each file's number is its revision id — read from the file names, without importing Alembic
    at every start (a third of a second)."""
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")}


def head_revision() -> str:
    """The newest revision: the highest number is Alembic's head."""
    return max(known_revisions())


class NewerDatabase(DatabaseError):
    """The database was made (or upgraded) by a newer MiBao: this program does not know its
    schema and refuses it before anything is written — no migration, no backup, no audit."""

    def __init__(self, where: str, revision: str) -> None:
        self.where, self.revision = where, revision
        super().__init__(
            f"数据库版本比程序新,请安装新版本。数据库 {where} 已由更新版本的密保升级(数据库版本 {revision},"
            f"本程序 {_program_version()} 只认识到 {head_revision()});请安装与之相同或更新版本的密保后再打开。"
            "数据未作任何改动。")


def _program_version() -> str:
    from mibao_desktop import __version__

    return __version__


def newer_revision(path: Path) -> str | None:
    """The revision of the SQLite file at ``path`` when a newer MiBao wrote it (one this program
    does not know), else None (a known revision, no revision yet, or no file). Read through a
    read-only connection, before any connection sets its pragmas: the file is not changed."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # no version table (a new file), or not a database: the opening reports it
        return None
    if row is None or row[0] in known_revisions():
        return None
    return row[0]
