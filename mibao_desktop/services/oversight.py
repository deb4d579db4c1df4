"""Who watches whom (三员互相监督). Qt-free.

The security auditor audits the other two; the security administrator audits the auditor's own
actions, and only those, so that nobody's actions go unseen. Both read the one audit log; what
each may see is decided here.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services.accounts import ALERT_ACTIONS
from mibao_desktop.services.audit_service import AuditRow


def _row(e: AuditEntry) -> AuditRow:
    return AuditRow(e.id, e.at, e.actor, e.role, e.action, e.target, e.detail or {})


class OversightService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.clock = db, actor, clock

    def auditor_actions(self, *, since: dt.datetime | None = None, limit: int = 2000) -> list[AuditRow]:
        """审计员操作记录 for the security administrator: every entry made as 安全审计员 (logins,
        checks, exports …), newest first, and nothing of anybody else."""
        require(self.actor, Role.SECURITY_ADMIN, doing="查看安全审计员的操作记录")
        conditions = [AuditEntry.role == Role.AUDITOR.value]
        if since is not None:
            conditions.append(AuditEntry.at >= since)
        with self.db.session() as session:
            stmt = select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc()).limit(limit)
            return [_row(e) for e in session.scalars(stmt)]

    def alerts(self, *, limit: int = 200) -> list[AuditRow]:
        """For the auditor, newest first: password resets, role grants and first logins after a
        reset, the moments where one person could have taken another's power."""
        require(self.actor, Role.AUDITOR, doing="查看账户提醒")
        with self.db.session() as session:
            stmt = (select(AuditEntry).where(AuditEntry.action.in_(ALERT_ACTIONS))
                    .order_by(AuditEntry.id.desc()).limit(limit))
            return [_row(e) for e in session.scalars(stmt)]
