"""The audit log (审计日志): append-only, each entry chained to the one before by SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.security import Actor

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: dt.datetime, actor: str, role: str, action: str,
               target: str, detail: dict[str, Any]) -> str:
    payload = json.dumps(
        {"at": at.isoformat(timespec="microseconds"), "actor": actor, "role": role,
         "action": action, "target": target, "detail": detail},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def append(session: Session, actor: Actor, action: str, target: str = "",
           detail: dict[str, Any] | None = None, *, at: dt.datetime | None = None) -> AuditEntry:
    """Add an entry in the caller's transaction, so it commits or rolls back with the write."""
    at = at or dt.datetime.now()
    detail = detail or {}
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    entry = AuditEntry(
        at=at, actor=actor.name, role=actor.role.value, action=action, target=target[:200],
        detail=detail, prev_hash=prev,
        hash=entry_hash(prev, at, actor.name, actor.role.value, action, target[:200], detail),
    )
    session.add(entry)
    session.flush()
    return entry
