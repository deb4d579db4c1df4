"""Backups and restore (备份与恢复) as a service: the one place the desktop, the command line
and the start-up use, each with its role check and audit entry. Qt-free.

The copying itself is ``mibao_desktop.storage.backup`` (the SQLite file's life). On PostgreSQL
the data lives on the server: backups are then its administrator's job (pg_dump/pg_restore),
and the service says so instead of copying anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mibao_desktop import paths
from mibao_desktop.db.database import Database
from mibao_desktop.errors import ServiceError
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit
from mibao_desktop.storage import backup

SERVER_BACKUPS = ("数据库在 PostgreSQL 服务器上:备份和恢复由数据库管理员在服务器上用 pg_dump / pg_restore 完成,"
                  "密保不复制服务器上的数据。")


@dataclass(frozen=True)
class Restored:
    backup_file: Path
    previous: Path | None  # where the database that was replaced was kept


class BackupService:
    def __init__(self, data_dir: Path, actor: Actor | None, *, clock: Callable[[], dt.datetime] = dt.datetime.now
                 ) -> None:
        self.data_dir, self.actor, self.clock = Path(data_dir), actor, clock

    @property
    def folder(self) -> Path:
        return paths.backup_dir(self.data_dir)

    def _file_only(self, db: Database | None) -> None:
        if db is not None and not db.is_sqlite:
            raise ServiceError(SERVER_BACKUPS)

    def make(self, db: Database, kind: str = "manual") -> backup.BackupInfo:
        """立即备份: a checked copy in the backup folder, recorded in the audit log."""
        require(self.actor, Role.SECURITY_ADMIN, doing="备份数据库")
        self._file_only(db)
        made = backup.make_backup(db.path, self.folder, kind, now=self.clock())
        with db.write() as session:
            audit.append(session, self.actor, "backup.make", made.path.name, {"file": str(made.path)}, at=self.clock())
        return made

    def backups(self) -> list[backup.BackupInfo]:
        return backup.list_backups(self.folder)

    def restore(self, backup_file: Path) -> Restored:
        """从备份恢复: put ``backup_file`` in place of the database, the current file kept aside
        first, and record it in the restored database's audit log.

        Every connection to the database must be closed before this runs. A healthy database
        is replaced only by the security administrator; a damaged one (nobody can log in to
        it) after the user's confirmation alone, recorded as done at start-up.
        """
        if isinstance(paths.database_target(self.data_dir), str):  # the folder's database.ini names a server
            raise ServiceError(SERVER_BACKUPS)
        db_path = paths.database_path(self.data_dir)
        damaged = not db_path.exists() or backup.integrity_problem(db_path) is not None
        if not damaged and self.actor is None:  # the full check after start also finds a broken search index
            damaged = _search_problem(db_path) is not None
        if self.actor is not None:
            require(self.actor, Role.SECURITY_ADMIN, doing="恢复备份")
        elif not damaged:
            raise ServiceError("数据库完好,恢复备份须由安全保密管理员登录后进行。")
        aside = backup.restore(db_path, Path(backup_file), self.folder, now=self.clock())
        db = Database.open(db_path, backup_dir=self.folder)
        try:
            with db.write() as session:
                audit.append(session, self.actor or "(启动时恢复)", "backup.restore", Path(backup_file).name,
                             {"file": str(backup_file), "previous_saved_as": str(aside.path) if aside else "",
                              "damaged": damaged}, at=self.clock())
        finally:
            db.close()
        return Restored(Path(backup_file), aside.path if aside else None)


def _search_problem(db_path: Path) -> str | None:
    from mibao_desktop.storage.startup import search_problem

    db = Database.open(db_path, migrate=False)
    try:
        return search_problem(db, thorough=True)  # nobody is working on it: the lock harms no one
    finally:
        db.close()
