"""Who watches whom (三员互相监督). Qt-free.

The security auditor audits the other two; the security administrator audits the auditor's own
actions, and only those, so that nobody's actions go unseen. Both read the one audit log; what
each may see is decided here.

An entry a restore carried into the chain (``audit.carried``: it was in the replaced log but not
in the restored file) is written by whoever restored, with no role of its own; what it holds is
the original entry, with its actor and role. It is shown to whom the original would have been
shown: an auditor's carried entry to the security administrator only, a carried reset or grant
among the auditor's alerts. A restore of a restore carries the carried entry again, so the
original is looked for a few levels down.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import and_, func, or_, select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services.accounts import ALERT_ACTIONS
from mibao_desktop.services.audit import CARRIED
from mibao_desktop.services.audit_service import AuditRow

# How deep a carried entry is looked into: a restore of a backup made before an earlier restore
# carries that restore's carried entries again, each a level deeper.
CARRIED_DEPTH = 4


def _original(column: str, depth: int):
    """The original entry's ``column`` inside an entry carried ``depth`` times (""), as SQL."""
    path = ("detail",) * (depth - 1) + (column,)
    value = AuditEntry.detail[path[0] if len(path) == 1 else path].as_string()
    return func.coalesce(value, "")


def _carried(depth: int):
    """An entry carried ``depth`` times: the entry and each level inside it down to ``depth - 1``
    are ``audit.carried``."""
    return and_(AuditEntry.action == CARRIED, *(_original("action", d) == CARRIED for d in range(1, depth)))


def made_as(role: Role):
    """SQL: an entry made as ``role``, in the log itself or carried in by a restore."""
    return or_(AuditEntry.role == role.value,
               *(and_(_carried(d), _original("role", d) == role.value) for d in range(1, CARRIED_DEPTH + 1)))


def of_actions(actions) -> object:
    """SQL: an entry of one of ``actions``, in the log itself or carried in by a restore."""
    return or_(AuditEntry.action.in_(actions),
               *(and_(_carried(d), _original("action", d).in_(actions)) for d in range(1, CARRIED_DEPTH + 1)))


def made_by(name: str):
    """SQL: an entry made by the account ``name``, in the log itself or carried in by a restore
    (whose own actor is whoever restored): a filter by person finds both."""
    return or_(AuditEntry.actor == name,
               *(and_(_carried(d), _original("actor", d) == name) for d in range(1, CARRIED_DEPTH + 1)))


def carried_actors():
    """(condition, column) pairs in SQL, one per depth: an entry carried that many times, and the
    original actor inside it; for the list of people the log names."""
    return [(_carried(d), _original("actor", d)) for d in range(1, CARRIED_DEPTH + 1)]


def carried_original(detail) -> dict | None:
    """The original entry inside a carried entry's ``detail`` (looked for as deep as the SQL
    above looks), or None: the same reading in Python, for the few carried entries read whole."""
    entry = detail
    for _ in range(CARRIED_DEPTH):
        if not isinstance(entry, dict):
            return None
        if entry.get("action") != CARRIED:
            return entry
        entry = entry.get("detail")
    return None


def not_the_auditors():
    """What the auditor's own view of the log may hold: nothing made as 安全审计员, whether it is
    in the log itself or carried in by a restore (三员互相监督: nobody reviews themselves)."""
    return ~made_as(Role.AUDITOR)


def _row(e: AuditEntry) -> AuditRow:
    return AuditRow(e.id, e.at, e.actor, e.role, e.action, e.target, e.detail or {})


class OversightService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.clock = db, actor, clock

    def auditor_actions(self, *, since: dt.datetime | None = None, limit: int = 2000) -> list[AuditRow]:
        """审计员操作记录 for the security administrator: every entry made as 安全审计员 (logins,
        checks, exports …), those a restore carried in among them, newest first, and nothing of
        anybody else."""
        require(self.actor, Role.SECURITY_ADMIN, doing="查看安全审计员的操作记录")
        conditions = [made_as(Role.AUDITOR)]
        if since is not None:
            conditions.append(AuditEntry.at >= since)
        with self.db.session() as session:
            stmt = select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc()).limit(limit)
            return [_row(e) for e in session.scalars(stmt)]

    def alerts(self, *, limit: int = 200) -> list[AuditRow]:
        """For the auditor, newest first: password resets, role grants and first logins after a
        reset, the moments where one person could have taken another's power (also those a
        restore carried in: a restore to an older state does not take a reset out of sight)."""
        require(self.actor, Role.AUDITOR, doing="查看账户提醒")
        with self.db.session() as session:
            stmt = (select(AuditEntry).where(of_actions(ALERT_ACTIONS))
                    .order_by(AuditEntry.id.desc()).limit(limit))
            return [_row(e) for e in session.scalars(stmt)]
