"""The audit log (审计日志): append-only, each entry chained to the one before by SHA-256.

The application only ever appends. An edited entry no longer matches its hash; a deleted or
inserted one breaks the chain of ``prev_hash``; the newest entry is also recorded in the
settings as the chain's head, so removing entries from the end is seen too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mibao_desktop.db.models import AuditEntry, Setting
from mibao_desktop.security import Actor

GENESIS = "0" * 64
HEAD_KEY = "audit_head"  # {"id": …, "hash": …} of the newest entry, kept in settings


def entry_hash(prev_hash: str, at: dt.datetime, actor: str, role: str, action: str,
               target: str, detail: dict[str, Any]) -> str:
    payload = json.dumps(
        {"at": at.isoformat(timespec="microseconds"), "actor": actor, "role": role,
         "action": action, "target": target, "detail": detail},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def append(session: Session, actor: Actor | str, action: str, target: str = "",
           detail: dict[str, Any] | None = None, *, at: dt.datetime | None = None) -> AuditEntry:
    """Add an entry in the caller's transaction, so it commits or rolls back with the write.

    ``actor`` is a plain name for someone not logged in (a failed login of an unknown name).
    """
    at = at or dt.datetime.now()
    detail = detail or {}
    _serialise(session)
    name, role = (actor.name, actor.role.value) if isinstance(actor, Actor) else (str(actor)[:60], "")
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    entry = AuditEntry(
        at=at, actor=name, role=role, action=action, target=target[:200],
        detail=detail, prev_hash=prev,
        hash=entry_hash(prev, at, name, role, action, target[:200], detail),
    )
    session.add(entry)
    session.flush()
    head = session.get(Setting, HEAD_KEY)
    value = {"id": entry.id, "hash": entry.hash}
    if head is None:
        session.add(Setting(key=HEAD_KEY, value=value, updated_at=at, updated_by=name))
    else:
        head.value, head.updated_at, head.updated_by = value, at, name
    return entry


AUDIT_LOCK = 0x4D42_0001  # PostgreSQL advisory lock: one appender at a time, across workstations


def _serialise(session: Session) -> None:
    """Hold the chain while this transaction appends: two writers that both read the same last
    hash would fork the chain. SQLite's write transactions (BEGIN IMMEDIATE) already follow
    each other; PostgreSQL takes a transaction-scoped advisory lock, freed at commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_id: int | None = None  # the first entry that does not hold
    message: str = ""


def verify(session: Session, batch: int = 5000) -> Verification:
    """Walk the chain from the first entry; report the first that was changed, inserted or
    follows a deleted one."""
    prev_hash, prev_id, checked = GENESIS, 0, 0
    for entry in _all_entries(session, batch):
        checked += 1
        expected = entry_hash(entry.prev_hash, entry.at, entry.actor, entry.role, entry.action,
                              entry.target, entry.detail or {})
        if entry.hash != expected:
            return Verification(False, checked, entry.id, f"第 {entry.id} 条审计记录的内容被改动过(与其校验值不符)。")
        if entry.prev_hash != prev_hash:
            return Verification(False, checked, entry.id,
                                f"第 {entry.id} 条审计记录与前一条(第 {prev_id} 条)接不上:"
                                "其间的记录被删除,或这一条是插入的。")
        prev_hash, prev_id = entry.hash, entry.id
    head = session.get(Setting, HEAD_KEY)
    if head is not None and (head.value or {}).get("hash") != prev_hash:
        expected_id = (head.value or {}).get("id")
        return Verification(False, checked, prev_id or None,
                            f"审计日志的末尾与记录的最后一条(第 {expected_id} 条)不符:末尾的记录被删除或追加过。")
    if head is None and checked:
        return Verification(False, checked, prev_id, "审计日志缺少链头记录,日志可能被替换过。")
    return Verification(True, checked, None, f"审计日志完整:共 {checked} 条,逐条校验无误。")


def _all_entries(session: Session, batch: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()
