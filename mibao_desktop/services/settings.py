"""The unit's settings (设置): read by everyone who needs them, changed only by the role whose
job they are, every change audited."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import Setting
from mibao_desktop.ledgers.normalize import clean_text
from mibao_desktop.security.inputs import unreadable
from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit
from mibao_desktop.errors import ValidationFailed

SECURITY_POLICY = "security_policy"
UNIT_NAME = "unit_name"  # 单位名称: on every form, label sheet and export; asked at the first start
UNIT_NAME_MAX = 60  # 中国航天科工集团第二研究院七〇六所保密办公室 is 22


def clean_unit_name(text: str) -> str:
    """The unit's name as it will be printed, or a refusal in Chinese (never cut short)."""
    why = unreadable(text or "")
    if why:
        raise ValidationFailed({UNIT_NAME: why}, {UNIT_NAME: "单位名称"})
    name = clean_text(text or "")
    if len(name) > UNIT_NAME_MAX:
        raise ValidationFailed({UNIT_NAME: f"最多 {UNIT_NAME_MAX} 个字,现有 {len(name)} 个字"}, {UNIT_NAME: "单位名称"})
    return name


def read(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def write(session: Session, key: str, value: Any, by: str, at: dt.datetime) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=at, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = value, at, by


def security_policy(session: Session) -> SecurityPolicy:
    return SecurityPolicy.from_dict(read(session, SECURITY_POLICY))


class SettingsService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.clock = db, actor, clock
        # Told the new policy once it is saved (the desktop's idle lock takes its new time at
        # once, not at the next login).
        self.policy_listeners: list[Callable[[SecurityPolicy], None]] = []

    def security_policy(self) -> SecurityPolicy:
        with self.db.session() as session:
            return security_policy(session)

    def set_security_policy(self, policy: SecurityPolicy) -> SecurityPolicy:
        """口令策略、锁定、自动锁屏与备份保留: the security administrator's settings."""
        require(self.actor, Role.SECURITY_ADMIN, doing="修改安全策略")
        problems = policy.problems()
        if problems:
            raise ValidationFailed(problems, dict(SecurityPolicy.LABELS))
        with self.db.write() as session:
            old = security_policy(session)
            now = self.clock()
            write(session, SECURITY_POLICY, policy.as_dict(), self.actor.name, now)
            changed = {SecurityPolicy.LABELS[k]: [old.as_dict()[k], v] for k, v in policy.as_dict().items()
                       if old.as_dict()[k] != v}
            audit.append(session, self.actor, "settings.change", "安全策略", {"changed": changed}, at=now)
        for listener in list(self.policy_listeners):
            listener(policy)
        return policy
