"""Opening the database at start, for the desktop and the command line alike. Qt-free.

Order: a check of the file's structure in milliseconds (a damaged file is reported with the
newest good backup, not opened); copy it aside — a copy that is itself checked page by page —
and upgrade it when the schema is older (Database.open); then make the day's automatic backup
on the first start of each day and rotate the old ones. The full check (every page, every index
against its table, the search indexes) reads the whole file — seconds on a large one — so the
desktop runs :func:`full_check` and the day's backup after the login window is up, off the UI
thread; the command line runs it with ``mibao check``.

A PostgreSQL database (``--database postgresql://…`` or the data folder's ``database.ini``)
is opened as it is: its checks and backups are the server's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from mibao_desktop import paths
from mibao_desktop.storage import backup
from mibao_desktop.db.database import Database, DatabaseError
from mibao_desktop.services.settings import security_policy


class CorruptDatabase(DatabaseError):
    """The database file fails SQLite's integrity check."""

    def __init__(self, path: Path, problem: str, good: backup.BackupInfo | None, backups: Path | None = None) -> None:
        self.path, self.problem, self.good = path, problem, good
        advice = (f"最新的完好备份是 {good.path.name}({good.made_at:%Y-%m-%d %H:%M}),"
                  "可由安全保密管理员在启动时选择恢复,或运行:"
                  f"mibao --user 安全保密管理员的用户名 restore \"{good.path}\"" if good else
                  "备份登记中没有完好的备份。如有在本机建立的备份(例如复制到移动介质上的),请按原文件名复制回"
                  f"备份文件夹 {backups or '(数据文件夹中的 backups)'},与登记相符时即可恢复;否则请联系技术支持,"
                  "不要删除该文件。")
        super().__init__(f"数据库文件 {path} 已损坏:{problem}。{advice}")


def open_database(data_dir: Path, *, clock: Callable[[], dt.datetime] = dt.datetime.now,
                  daily_backup: bool = True, database: str | None = None) -> Database:
    target = paths.database_target(data_dir, database)
    if isinstance(target, str):
        return Database.open(target)
    path = target
    backups = paths.backup_dir(data_dir)
    if path.exists():
        problem = backup.structure_problem(path)
        if problem:
            raise CorruptDatabase(path, problem, backup.newest_good_backup(backups), backups)
    db = Database.open(path, backup_dir=backups)
    _record_restore_logins(db, data_dir, clock)
    if daily_backup:
        daily_backup_if_due(db, data_dir, clock=clock)
    return db


def _record_restore_logins(db: Database, data_dir: Path, clock: Callable[[], dt.datetime]) -> None:
    """The logins tried at a restore while the database could not be opened, kept in the data
    folder, go into its log now that it opens (a restore writes them itself; this takes those of
    a database mended otherwise, or of a restore that failed after its login)."""
    from mibao_desktop.services.backup_service import record_restore_logins

    try:
        record_restore_logins(db, data_dir, clock=clock)
    except OSError:  # the file unreadable: kept for the next start; the ledgers must still open
        pass


def daily_backup_if_due(db: Database, data_dir: Path, *, clock: Callable[[], dt.datetime] = dt.datetime.now
                        ) -> backup.BackupInfo | None:
    """The day's automatic backup, on the first start of each day, rotated as the policy keeps
    them. A missed copy must not keep the unit out of its ledgers: the next start retries."""
    if not db.is_sqlite:
        return None
    with db.session() as session:
        policy = security_policy(session)
    try:
        return backup.daily_backup_if_due(db.path, paths.backup_dir(data_dir), backup.Rotation(
            policy.keep_daily, policy.keep_weekly, policy.keep_monthly), now=clock())
    except backup.BackupError:
        return None


def corrupt_after_start(db: Database, data_dir: Path, *, thorough: bool = False) -> CorruptDatabase | None:
    """The full check: None, or the problem with the newest good backup named (the desktop
    then offers to restore it). After the window it reads only; ``thorough`` (``mibao
    check``) also compares each search index token by token, which locks out saves while it
    runs."""
    problem = full_check(db, thorough=thorough)
    if problem is None:
        return None
    backups = paths.backup_dir(data_dir)
    return CorruptDatabase(db.path, problem, backup.newest_good_backup(backups), backups)


def full_check(db: Database, *, thorough: bool = False) -> str | None:
    """The whole file against itself: SQLite's integrity check (every page, every index entry
    against its row) and each ledger's search index against its search table. None when all
    holds, else what is wrong, in plain Chinese. Seconds on a large file; reads only unless
    ``thorough``."""
    if not db.is_sqlite:
        return None
    return backup.integrity_problem(db.path) or search_problem(db, thorough=thorough)


def search_problem(db: Database, *, thorough: bool = False) -> str | None:
    """Each ledger's search index against its search table: the count of documents (read-only,
    milliseconds), and with ``thorough`` FTS5's own integrity check (a write command: it holds
    the write lock for seconds on a large file)."""
    if not db.is_sqlite:
        return None
    from mibao_desktop.db import search_index
    from mibao_desktop.db.schema import SEARCH_TABLES

    from mibao_desktop.db.schema import table_of

    with db.engine.connect() as conn:
        for key, table in SEARCH_TABLES.items():
            problem = search_index.count_problem(conn, table.name)
            if problem is None and thorough:
                problem = search_index.check(conn, table.name)
            if problem is None and key in search_index.WALKS:  # (and the texts kept in order: revision 0029)
                problem = search_index.walk_problem(conn, table.name, table_of(key).name, search_index.WALKS[key],
                                                    thorough=thorough)
            if problem:
                return problem
    return None
