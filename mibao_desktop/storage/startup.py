"""Opening the database at start, for the desktop and the command line alike. Qt-free.

Order: check the file's integrity (a damaged file is reported with the newest good backup,
not opened); copy it aside and upgrade it when the schema is older (Database.open); then make
the day's automatic backup on the first start of each day and rotate the old ones.
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

    def __init__(self, path: Path, problem: str, good: backup.BackupInfo | None) -> None:
        self.path, self.problem, self.good = path, problem, good
        advice = (f"最新的完好备份是 {good.path.name}({good.made_at:%Y-%m-%d %H:%M}),"
                  f"可在启动时选择恢复,或运行:mibao restore \"{good.path}\"" if good else
                  "没有找到完好的备份,请联系技术支持,不要删除该文件。")
        super().__init__(f"数据库文件 {path} 已损坏:{problem}。{advice}")


def open_database(data_dir: Path, *, clock: Callable[[], dt.datetime] = dt.datetime.now,
                  daily_backup: bool = True) -> Database:
    path = paths.database_path(data_dir)
    backups = paths.backup_dir(data_dir)
    if path.exists():
        problem = backup.integrity_problem(path)
        if problem:
            raise CorruptDatabase(path, problem, backup.newest_good_backup(backups))
    db = Database.open(path, backup_dir=backups)
    if daily_backup:
        with db.session() as session:
            policy = security_policy(session)
        try:
            backup.daily_backup_if_due(path, backups, backup.Rotation(policy.keep_daily, policy.keep_weekly,
                                                                     policy.keep_monthly), now=clock())
        except backup.BackupError:
            pass  # a missed daily copy must not keep the unit out of its ledgers; the next start retries
    return db
