"""Opening the database (SQLite file or PostgreSQL server): engine, sessions, migrations.

Two kinds of session. ``session()`` reads: its transaction starts at the first statement and
sees one snapshot. ``write()`` changes: on SQLite its transaction starts with ``BEGIN
IMMEDIATE``, so it holds the one write lock *before* it reads what the change depends on (the
last audit hash, a failed-login counter, a uniqueness key); two writers then follow each other
instead of both reading the same state. On PostgreSQL several workstations write at once: the
services take row or advisory locks where a write depends on what it read, and counters are
updated in SQL (``n = n + 1``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

from sqlalchemy import URL, create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mibao_desktop.errors import DatabaseError, ServiceError


class Busy(ServiceError):
    """Another writer held the database past the busy timeout; nothing of this write was kept."""
from mibao_desktop.db.revisions import (  # noqa: F401 - re-exported
    MIGRATIONS_DIR, NewerDatabase, head_revision, known_revisions, newer_revision)

BUSY_TIMEOUT_MS = 10_000  # how long a write waits for the one before it (another import, a backup)
CACHE_KIB = 65536  # 64 MB page cache for searching; a streaming export uses STREAM_CACHE_KIB
STREAM_CACHE_KIB = 2048


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's model comparison: the search indexes (SQLite FTS5 tables and their shadow
    tables, PostgreSQL trigram indexes) are written by hand in the revisions, not modelled."""
    if type_ == "table" and ("_fts" in name or name.endswith("_search_walk")):  # (and revision 0029's walk)
        return False
    if type_ == "index" and name.endswith("_trgm"):
        return False
    return True


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy emits BEGIN itself (see _begin); the driver must not start transactions of its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives power loss up to the last commit
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # a writer waits for the one before it
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("mibao_write") else "BEGIN")


def alembic_config(connection=None):
    from alembic.config import Config  # Alembic is imported only when a migration is to run

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)  # Chinese stored as itself: a third of the size


def is_server_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql:", "postgresql+"))


class Database:
    """One database with its engine and session factories.

    ``path`` is the SQLite file (None on PostgreSQL); ``url`` names the database without its
    password, for messages.
    """

    def __init__(self, engine: Engine, path: Path | None) -> None:
        self.path = path
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self.dialect = engine.dialect.name
        # A read sees one snapshot: SQLite's read transactions do; PostgreSQL's default (READ
        # COMMITTED) takes a new one per statement, so a count and the rows after it could differ.
        reads = engine if self.dialect == "sqlite" else engine.execution_options(isolation_level="REPEATABLE READ")
        self.session_factory = sessionmaker(reads, expire_on_commit=False)
        self._write_factory = sessionmaker(engine.execution_options(mibao_write=True), expire_on_commit=False)
        self._watcher: sqlite3.Connection | None = None  # see change_mark
        self._watcher_lock = threading.Lock()
        self._watch = object()  # which watcher a mark was read through (marks of two are not compared)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def where(self) -> str:
        """Where the data is, as the user knows it: the file, or the server and database."""
        return str(self.path) if self.path is not None else self.url

    @classmethod
    def open(cls, target: Path | str, *, backup_dir: Path | None = None, migrate: bool = True) -> "Database":
        """Open a SQLite file (a path) or a PostgreSQL database (a ``postgresql://`` URL)."""
        if is_server_url(target):
            db = cls(_server_engine(str(target)), None)
        else:
            path = Path(target)
            newer = newer_revision(path) if migrate else None
            if newer is not None:  # before the engine: its first connection would switch the file to WAL
                raise NewerDatabase(str(path), newer)
            path.parent.mkdir(parents=True, exist_ok=True)
            # URL.create: a folder named "a%20b" or "C#data" is taken as it is, not as URL escapes
            engine = create_engine(URL.create("sqlite", database=str(path)), json_serializer=_json)
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            db = cls(engine, path)
        if migrate:
            try:
                db.upgrade(backup_dir=backup_dir or (db.path.parent / "backups" if db.path else None))
            except BaseException:
                db.close()
                raise
            db.take_unit_levels()
        return db

    def take_unit_levels(self) -> None:
        """The unit's own levels (its setting 本单位密级: 涉密专用, 内部 …) become the ones in use,
        as every list, ranking and reading of a level asks them (``levels.unit()``): when the
        database opens, at each login (another workstation may have changed them) and when the
        setting is saved."""
        from mibao_desktop.db.models import Setting
        from mibao_desktop.ledgers import levels

        from mibao_desktop.ledgers import people

        with self.session() as session:
            row = session.get(Setting, levels.SETTING)
            stored = None if row is None else row.value
            # the 复审周期 too, taken at the same moments: 下次复审日期 is computed with them
            row = session.get(Setting, people.REVIEW_SETTING)
            intervals = None if row is None else row.value
        levels.use(levels.UnitLevels.from_stored(stored))
        people.use_review_intervals(intervals or {})

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:  # no such table: a new, empty database
                return None

    def upgrade(self, *, backup_dir: Path | None, target: str = "head") -> Path | None:
        """Bring the schema to ``target``; an existing SQLite file is copied aside first.

        Returns the path of the copy, or None when nothing had to change (or on a server,
        whose backups are its administrator's). A database made by a newer MiBao is refused
        and left as it is.
        """
        head = head_revision()
        current = self.current_revision()
        if current == head and target == "head":
            return None
        if current is not None and current not in known_revisions():  # read only so far: nothing changed
            raise NewerDatabase(self.where, current)
        from alembic import command
        saved = None
        if current is not None and self.path is not None and backup_dir is not None:
            from mibao_desktop.storage.backup import make_backup  # keep the file as it was before any migration

            saved = make_backup(self.path, backup_dir, "before-upgrade").path
        with self.engine.connect() as conn:
            if self.is_sqlite:
                # Table rebuilds (Alembic's batch mode) drop and rename tables that others refer to:
                # the references are checked once, at the end, instead of at every step.
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    command.upgrade(alembic_config(conn), target)
                    if self.is_sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise DatabaseError(f"升级后数据库的引用关系不一致({broken[:3]}),已撤销升级。")
            finally:
                if self.is_sqlite:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
        return saved

    def session(self) -> Session:
        """A session for reading (one snapshot from its first statement until it ends)."""
        return self.session_factory()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: begun before anything is read, committed when the block ends,
        rolled back when it raises."""
        try:
            with self._write_factory() as session, session.begin():
                if not self.is_sqlite:
                    session.connection()  # begin now, so that what follows reads inside the transaction
                yield session
        except OperationalError as exc:
            # Two imports of the same file at once: the second waited the busy timeout for the
            # first and got "database is locked"; it is told so, not shown a traceback.
            if "database is locked" in str(exc.orig):
                raise Busy(f"数据库正被另一项操作(例如另一次导入或备份)写入,等待 {BUSY_TIMEOUT_MS // 1000} 秒后仍未结束。"
                           "本次操作没有保存任何内容,请等它完成后再试。") from None
            raise

    def change_mark(self, session: Session) -> tuple | None:
        """A mark that changes whenever anything is committed to the database (by this
        process or another workstation), read in a write transaction: two equal marks say
        nothing was committed in between (an import then keeps what its preview read from the
        file). None: no mark can be had.

        SQLite: ``PRAGMA data_version`` of a connection of its own that never writes, which
        changes with every commit of any other connection (ours or another process's); the
        file's inode too, in case it was replaced whole. PostgreSQL: the audit chain's last
        entry, which every write of a service moves (entries are appended under a lock held
        to commit, so they commit in their order), and the record id sequence, which every new
        record moves, audited or not."""
        if self.is_sqlite:
            if self.path is None:
                return None
            with self._watcher_lock:
                if self._watcher is None:
                    self._watcher = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                                    timeout=BUSY_TIMEOUT_MS / 1000)  # (waits as a writer does)
                version = self._watcher.execute("PRAGMA data_version").fetchone()[0]
            return (self._watch, os.stat(self.path).st_ino, version)
        row = session.execute(text(
            "SELECT (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1), "
            "(SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
            "(SELECT last_value FROM records_id_seq), (SELECT is_called FROM records_id_seq)")).one()
        return (self._watch, *row)

    def close(self) -> None:
        with self._watcher_lock:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
            self._watch = object()
        self.engine.dispose()


_SERVER_SETTINGS = (("jit", "off"),)  # (see _server_engine)


def _server_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # No JIT compilation: PostgreSQL compiles a query whose estimated cost is high, and a walk
    # of a million rows that stops at its first page is estimated so (the search box: 0.8 s
    # of compiling for a 57 ms page of 黄 at a million computers); nothing here runs long
    # enough to win it back. (Plans are left to the server's plan cache: forcing a custom plan
    # for every statement doubled the cost of row-by-row inserts and of the statements inside
    # row triggers, the training-hours tally's; the one statement whose generic plan was a
    # disaster, an import's key lookup, is never prepared: RecordRepository.all_keys.)
    # Server options the URL gives (database.ini: ?options=-c statement_timeout=…) are kept, and
    # ours added beside them unless the URL names the setting itself: connect_args replaces the
    # URL's options, and taking the URL's alone lost ours
    given = parsed.query.get("options") or ""
    if not isinstance(given, str):  # the parameter given twice: both, in order
        given = " ".join(given)
    parts = [given] if given.strip() else []
    parts += [f"-c {name}={value}" for name, value in _SERVER_SETTINGS
              if not re.search(rf"(?:-c\s*|--){name}\s*=", given)]
    options = " ".join(parts)
    try:
        engine = create_engine(parsed, json_serializer=_json, pool_pre_ping=True,
                               connect_args={"options": options})
        with engine.connect():
            pass
    except Exception as exc:  # psycopg's own message names host, port and what failed
        raise DatabaseError(f"无法连接数据库服务器 {parsed.render_as_string(hide_password=True)}:{exc}") from None
    return engine
