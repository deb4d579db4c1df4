"""Reports to removable media, and the output register (输出登记) that lists them.

The report is first written whole to a local temporary file, then copied onto the medium with
a manifest and a read-back check (mibao_desktop.removable_drives); only a verified copy is registered and
audited (seed 002 §七.5: 严格控制信息输出).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import OutputEntry
from mibao_desktop.errors import ServiceError
from mibao_desktop.removable_drives import Written, copy_to_medium
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit


def check_target(db: Database | None, target) -> None:
    """Refuse to write a report over the database, its WAL or journal, or anything in the
    backup folder: an export chosen onto ``mibao.sqlite`` destroyed the ledgers (and the audit
    log) as surely as deleting them, whatever role made it. Checked before anything is written."""
    if not isinstance(target, (str, Path)) or db is None or db.path is None:
        return  # a printer, a stream; or a server database, which has no file here
    target = Path(target)
    try:
        chosen = target.resolve()
    except OSError:
        return
    database = Path(db.path).resolve()
    guarded = {database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))}
    backups = (database.parent / "backups").resolve()
    if chosen in guarded or (target.exists() and any(g.exists() and _same(target, g) for g in guarded)):
        raise ServiceError(f"不能把导出或报表写到数据库文件 {target.name} 上:那会毁掉全部台账和审计日志。"
                           "请另选文件名或文件夹。")
    if chosen.parent == backups or backups in chosen.parents:
        raise ServiceError(f"不能把导出或报表写到备份文件夹 {backups} 中:那里只存放密保建立的备份。请另选文件夹。")


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@dataclass(frozen=True)
class OutputView:
    id: int
    at: dt.datetime
    actor: str
    what: str
    file_name: str
    target: str
    size: int
    sha256: str
    marking: str
    records: int
    anchor: str = ""  # the audit chain's head when the report was written (N:HASH16)


class OutputService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.clock = db, actor, clock

    def _require(self, doing: str) -> None:
        require(self.actor, Role.SECURITY_ADMIN, doing=doing)

    def to_medium(self, produce: Callable[[Path], int], file_name: str, folder: Path, *, what: str,
                  marking: str) -> tuple[Written, int]:
        """``produce(path)`` writes the report locally and returns its record count; the file
        then goes onto ``folder`` (on the medium), verified, and is registered."""
        self._require("导出到移动介质")
        check_target(self.db, Path(folder) / file_name)
        anchor = audit.current_anchor(self.db)  # what the report's footer shows (read as it is written)
        work = Path(tempfile.mkdtemp(prefix="mibao-out-"))
        try:
            local = work / file_name
            count = produce(local)
            written = copy_to_medium(local, Path(folder), file_name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        now = self.clock()
        with self.db.write() as session:
            session.add(OutputEntry(at=now, actor=self.actor.name, what=what, file_name=file_name,
                                    target=str(Path(folder)), size=written.size, sha256=written.sha256,
                                    marking=marking, records=count, anchor=str(anchor)))
            audit.append(session, self.actor, "ledger.export_media", str(written.path),
                         {"what": what, "size": written.size, "sha256": written.sha256, "records": count,
                          "marking": marking, "manifest": str(written.manifest), "anchor": str(anchor)}, at=now)
        return written, count

    def register(self, limit: int = 1000) -> list[OutputView]:
        self._require("查看输出登记")
        with self.db.session() as session:
            rows = session.scalars(select(OutputEntry).order_by(OutputEntry.id.desc()).limit(limit))
            return [OutputView(r.id, r.at, r.actor, r.what, r.file_name, r.target, r.size, r.sha256, r.marking,
                               r.records, r.anchor or "") for r in rows]
