"""Opening the SQLite database: pragmas, migrations, a copy set aside before each upgrade."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be opened; the message says why in plain Chinese."""


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's model comparison: the FTS5 search index (``records_fts`` and its
    shadow tables) is written by hand in revision 0003, not declared as a model."""
    return not (type_ == "table" and name.startswith("records_fts"))


CACHE_KIB = 65536  # 64 MB page cache for searching; a streaming export uses STREAM_CACHE_KIB
STREAM_CACHE_KIB = 2048


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives power loss up to the last commit
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # a search scans the whole listing index
    cursor.close()


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    """One SQLite file with its engine and session factory."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.session_factory = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, path: Path, *, backup_dir: Path | None = None, migrate: bool = True) -> "Database":
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Chinese stored as itself, not as \uXXXX escapes: a third of the size
        # URL.create: a folder named "a%20b" or "C#data" is taken as it is, not as URL escapes
        engine = create_engine(URL.create("sqlite", database=str(path)),
                               json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False))
        event.listen(engine, "connect", _sqlite_pragmas)
        db = cls(path, engine)
        if migrate:
            db.upgrade(backup_dir=backup_dir or path.parent / "backups")
        return db

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, *, backup_dir: Path, target: str = "head") -> Path | None:
        """Bring the schema to ``target``; an existing database is copied aside first.

        Returns the path of the copy, or None when nothing had to change.
        """
        head = head_revision()
        current = self.current_revision()
        script = ScriptDirectory.from_config(alembic_config())
        if current is not None and current != head:
            try:
                script.get_revision(current)
            except Exception:
                raise DatabaseError(
                    f"数据库文件 {self.path} 由更新版本的密保创建(版本 {current}),"
                    "请安装新版本的密保后再打开。"
                ) from None
        if current == head and target == "head":
            return None
        saved = None
        if current is not None:  # keep the file as it was before any migration touches it
            from mibao_desktop.storage.backup import make_backup

            saved = make_backup(self.path, backup_dir, "before-upgrade").path
        with self.engine.begin() as conn:
            command.upgrade(alembic_config(conn), target)
        return saved

    def session(self) -> Session:
        return self.session_factory()

    def close(self) -> None:
        self.engine.dispose()
