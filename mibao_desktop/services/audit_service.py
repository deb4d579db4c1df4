"""The security auditor's view of the audit log (安全审计员): read, filter, verify, export.

Only the auditor may read it; reading the ledgers is not the auditor's job (三员分立).

The auditor audits the other two and not themselves: what the auditor reads and exports leaves
out every entry made as 安全审计员 (their own and any other auditor's), which the security
administrator reviews instead (services/oversight.py). Verifying still walks every entry: the
chain is one, and a gap in the auditor's part must show in the auditor's check too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import func, select

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry
from mibao_desktop.errors import ServiceError
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit, settings

ACTION_LABELS = {
    "auth.login": "登录", "auth.login_failed": "登录失败", "auth.locked_out": "账户锁定", "auth.logout": "退出",
    "auth.lock": "锁屏", "auth.unlock": "解除锁屏", "auth.unlock_failed": "解除锁屏失败",
    "account.setup": "初始化账户", "account.create": "新建账户", "account.reset_password": "重置口令",
    "account.password_change": "修改口令", "account.disable": "停用账户", "account.enable": "启用账户",
    "account.unlock": "解锁账户", "settings.change": "修改设置",
    "record.create": "登记", "record.update": "修改记录", "record.status": "变更状态", "record.action": "办理载体手续", "record.void": "作废",
    "record.restore": "恢复", "record.import": "导入", "record.bulk_update": "批量修改",
    "ledger.export": "导出", "ledger.print": "打印",
    "ledger.export_media": "导出到移动介质", "report.annual": "年度报表",
    "audit.verify": "校验审计日志", "audit.export": "导出审计日志",
    "audit.head_mismatch": "审计日志末尾异常", "audit.carried": "恢复时撤下的记录", "backup.make": "备份", "backup.restore": "恢复备份",
    "account.grant_role": "授予角色并启用", "auth.login_after_reset": "口令重置后首次登录",
    "auth.password_change_failed": "修改口令时原口令错误", "auth.session_ended": "会话结束(账户已停用或角色已变)",
    "account.set_person_id": "登记工号", "auth.restore_login_failed": "恢复备份时登录失败",
    "check.open": "开始载体核对", "check.mark": "核对载体份", "check.unmark": "撤销核对勾选",
    "check.close": "完成载体核对", "check.follow_up": "核对缺失标为下落不明",
    # 盘点 and, since revision 0028, the carriers' 载体核对 (its entries name 核对类别 and 期间)
    "stocktake.open": "开始盘点或载体核对", "stocktake.mark": "盘点或核对:扫描或勾选",
    "stocktake.unmark": "撤销盘点或核对勾选", "stocktake.close": "完成盘点或载体核对",
    "stocktake.follow_up": "核对缺失标为下落不明",
    "carrier.review": "解密审查",
}


# Said wherever the auditor's listing is shown or exported, so that nobody takes it for the whole log.
OWN_ENTRIES_NOTE = "本人及其他审计员的操作由安全保密管理员审查,不在此列出。"


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@dataclass(frozen=True)
class AuditFilter:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    actor: str = ""
    action: str = ""  # an action, or its prefix ("auth." for all logins and locks)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def detail_text(self) -> str:
        parts = []
        for key, value in self.detail.items():
            if isinstance(value, (list, tuple)):
                value = "、".join(map(str, value))
            elif isinstance(value, dict):
                value = ";".join(f"{k}:{v}" for k, v in value.items())
            parts.append(f"{key}={value}")
        return ";".join(parts)


class AuditService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.clock = db, actor, clock

    def _require(self, doing: str) -> None:
        require(self.actor, Role.AUDITOR, doing=doing)

    @staticmethod
    def _where(f: AuditFilter) -> list:
        # Entries made as 安全审计员 (also those a restore carried in, by their original role)
        # are the security administrator's to review, never the auditor's own: nobody reviews
        # themselves (三员互相监督). The rule is oversight's (imported here: it imports this module).
        from mibao_desktop.services.oversight import made_by, not_the_auditors

        conds = [not_the_auditors()]
        if f.since:
            conds.append(AuditEntry.at >= f.since)
        if f.until:
            conds.append(AuditEntry.at < f.until)
        if f.actor:  # also the entries a restore carried in, by their original actor
            conds.append(made_by(f.actor))
        if f.action:
            conds.append(AuditEntry.action.startswith(f.action) if f.action.endswith(".")
                         else AuditEntry.action == f.action)
        return conds

    def entries(self, f: AuditFilter = AuditFilter(), *, offset: int = 0, limit: int | None = 500) -> list[AuditRow]:
        """Newest first."""
        self._require("查看审计日志")
        with self.db.session() as session:
            stmt = select(AuditEntry).where(*self._where(f)).order_by(AuditEntry.id.desc()).offset(offset)
            if limit is not None:
                stmt = stmt.limit(limit)
            return [AuditRow(e.id, e.at, e.actor, e.role, e.action, e.target, e.detail or {})
                    for e in session.scalars(stmt)]

    def lines(self, f: AuditFilter = AuditFilter(), *, offset: int = 0, limit: int | None = 500) -> list:
        """Newest first, as the auditor's window shows them (services/audit_lines): ledger
        names, record numbers, 字段: 旧 → 新, 撤销. The records named are read for the whole
        page at once."""
        from mibao_desktop.services.audit_lines import describe_all

        self._require("查看审计日志")
        with self.db.session() as session:
            stmt = select(AuditEntry).where(*self._where(f)).order_by(AuditEntry.id.desc()).offset(offset)
            if limit is not None:
                stmt = stmt.limit(limit)
            rows = [AuditRow(e.id, e.at, e.actor, e.role, e.action, e.target, e.detail or {})
                    for e in session.scalars(stmt)]
            return describe_all(session, rows)

    def count(self, f: AuditFilter = AuditFilter()) -> int:
        self._require("查看审计日志")
        with self.db.session() as session:
            return session.scalar(select(func.count(AuditEntry.id)).where(*self._where(f))) or 0

    def actors(self) -> list[str]:
        """The people the auditor's view names, those of the entries a restore carried in too."""
        from mibao_desktop.services.audit import CARRIED
        from mibao_desktop.services.oversight import carried_original

        self._require("查看审计日志")
        where = self._where(AuditFilter())
        with self.db.session() as session:
            names = set(session.scalars(select(AuditEntry.actor).where(*where).distinct()))
            # the few carried entries read once and looked into here: a query per depth read
            # the whole log four more times (9.7 s at a million entries)
            for (detail,) in session.execute(select(AuditEntry.detail).where(AuditEntry.action == CARRIED)):
                original = carried_original(detail)
                if original is not None and original.get("role") != Role.AUDITOR.value:
                    names.add(str(original.get("actor") or ""))
        names.discard("")
        return sorted(names)

    @staticmethod
    def parse_anchors(anchors: Iterable[str | audit.Anchor]) -> list[audit.Anchor]:
        """The anchors as typed, read; one typed wrongly is a ServiceError saying the form. The
        window asks before it starts the (long) check, so a typing slip is said at once."""
        try:
            return [a if isinstance(a, audit.Anchor) else audit.Anchor.parse(a) for a in anchors]
        except audit.AnchorError as exc:
            raise ServiceError(str(exc)) from None

    def verify(self, anchors: Iterable[str | audit.Anchor] = (), *,
               progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> audit.Verification:
        """校验: walk the whole chain, and check each anchor (``N:HASH16`` from the footer of an
        export, a printout or the backup register) against it. The check itself is recorded,
        after it ran: the entry it appends cannot hide what it found.

        Long at a million entries: run off the UI thread (ui/tasks.py) with ``progress`` and
        ``cancelled``. A check cancelled (audit.VerifyCancelled, raised on) is recorded too, as
        结果=已取消 with the entries walked: the security administrator, who reviews the
        auditor, sees a check begun and given up, and no entry says 完整 for it."""
        self._require("校验审计日志")
        parsed = self.parse_anchors(anchors)
        try:
            with self.db.session() as session:
                result = audit.verify(session, anchors=parsed, progress=progress, cancelled=cancelled)
        except audit.VerifyCancelled as stopped:
            with self.db.write() as session:
                audit.append(session, self.actor, "audit.verify", "审计日志",
                             {"result": "已取消", "checked": stopped.checked,
                              "anchors": [str(a) for a in parsed]}, at=self.clock())
            raise
        with self.db.write() as session:
            # when the auditor last walked the whole chain: the first screen's reminder reads it
            # here rather than searching the log for the entry below
            settings.write(session, "audit_last_verified", self.clock().isoformat(), self.actor.name, self.clock())
            audit.append(session, self.actor, "audit.verify", "审计日志",
                         {"result": "完整" if result.ok else "异常", "checked": result.checked,
                          "broken_id": result.broken_id, "anchors": [str(a) for a in parsed]}, at=self.clock())
        return result

    def for_export(self, f: AuditFilter = AuditFilter()) -> tuple[int, Iterator]:
        """The number of entries and the entries (oldest first, streamed, as the window shows
        them: services/audit_lines) an export writes; the writing is excel.audit_export's,
        which records it with :meth:`record_export`."""
        self._require("导出审计日志")
        return self.count(f), self._iter(f, described=True)

    def record_export(self, path: Path, count: int, *, anchor: str = "", marking: str = "") -> None:
        detail = {"count": count, "file": str(path), "anchor": anchor}
        if marking:
            detail["marking"] = marking
        with self.db.write() as session:
            audit.append(session, self.actor, "audit.export", str(path), detail, at=self.clock())

    def _iter(self, f: AuditFilter, batch: int = 2000, *, described: bool = False) -> Iterator:
        from mibao_desktop.services.audit_lines import describe_all

        last = 0
        while True:
            with self.db.session() as session:
                rows = session.scalars(select(AuditEntry).where(*self._where(f), AuditEntry.id > last)
                                       .order_by(AuditEntry.id).limit(batch)).all()
                out = [AuditRow(e.id, e.at, e.actor, e.role, e.action, e.target, e.detail or {}) for e in rows]
                shown = describe_all(session, out) if described else out
            if not out:
                return
            yield from shown
            last = out[-1].id
