"""The yearly 解密审查 of the carriers (seed 002 定密管理: 每年至少开展一次解密审查): for each
carrier whose 保密期限 ends within the year (listed on the first screen, services/reminders.py),
the outcome is recorded with its approver — 解密, 延期 with the new period, or 变更密级 — in
one write transaction: an event ``review`` in the carrier's history (结论, 批准人, 说明; shown as
解密审查), the carrier's own fields changed through the ledger's edit where the outcome changes
them (保密期限 for 延期, 密级 for 变更密级: 解密时间 is recomputed from them), and an audit entry
``carrier.review``. A carrier reviewed this year is no longer listed. Qt-free.
"""

from __future__ import annotations

from typing import Any

from mibao_desktop.errors import ValidationFailed
from mibao_desktop.ledgers import carriers
from mibao_desktop.ledgers.normalize import clean_text, is_blank
from mibao_desktop.services import audit
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.reminders import REVIEW_EVENT
from mibao_desktop.services.views import RecordView

CARRIERS = carriers.CARRIERS
DECLASSIFY, EXTEND, RELEVEL = OUTCOMES = ("解密", "延期", "变更密级")
DOING = "解密审查"
PERIOD, LEVEL = "secrecy_period", CARRIERS.level_field.name


class DeclassificationService:
    def __init__(self, ledgers: LedgerService) -> None:
        self.ledgers = ledgers

    def review(self, carrier_id: int, outcome: str, approver: str, *, new_period: Any = None,
               new_level: Any = None, note: str = "") -> RecordView:
        """Record one carrier's review. 延期 needs ``new_period`` (N 年 or 长期), 变更密级
        ``new_level``; every outcome an approver. Refused in Chinese, nothing stored."""
        errors, labels = {}, {"outcome": "审查结论", "approver": "批准人", PERIOD: "新的保密期限", LEVEL: "新的密级"}
        approver = clean_text(approver or "")
        if outcome not in OUTCOMES:
            errors["outcome"] = f"审查结论应为:{'、'.join(OUTCOMES)}"
        if not approver:
            errors["approver"] = "请填写批准人(定密责任人)"
        if outcome == EXTEND and is_blank(new_period):
            errors[PERIOD] = "延期须填写新的保密期限"
        if outcome == RELEVEL and is_blank(new_level):
            errors[LEVEL] = "变更密级须填写新的密级"
        if errors:
            raise ValidationFailed(errors, labels)
        reason = f"解密审查:{outcome},批准人 {approver}" + (f";{clean_text(note)}" if note else "")
        with self.ledgers._write(DOING) as session:
            ledger, current = self.ledgers._editable(session, carrier_id)
            if ledger is not CARRIERS:
                raise ValidationFailed({"outcome": f"{current.number} 不是国家秘密载体"}, labels)
            raw: dict[str, Any] = {}
            if outcome == EXTEND:
                raw[PERIOD] = new_period
            if outcome == RELEVEL:
                raw[LEVEL] = new_level
                if not is_blank(new_period):
                    raw[PERIOD] = new_period
            view = self.ledgers._edit(session, ledger, current, raw, reason=reason) if raw else current
            now = self.ledgers.clock()
            changes = [("outcome", None, outcome), ("approver", None, approver)]
            if outcome != DECLASSIFY:
                changes.append(("declassify_on", current.display("declassify_on"), view.display("declassify_on")))
            self.ledgers._event(session, CARRIERS, carrier_id, now, REVIEW_EVENT, reason=reason,
                                effective_date=now.date(), changes=changes)
            audit.append(session, self.ledgers.actor, "carrier.review", f"{CARRIERS.key}:{current.number}", {
                "record_id": carrier_id, "outcome": outcome, "approver": approver,
                "declassify_on": [current.display("declassify_on"), view.display("declassify_on")],
                **({"note": clean_text(note)} if note else {})}, at=now)
            self.ledgers._flush_or_explain(session)
            return self.ledgers._get_view(session, carrier_id)

    def reviewed(self, carrier_id: int, year: int) -> list[str]:
        """The outcomes recorded for a carrier in ``year`` (its history's 解密审查 entries)."""
        return [e.reason or "" for e in self.ledgers.history(carrier_id)
                if e.action == REVIEW_EVENT and e.at.year == year]


__all__ = ["DECLASSIFY", "DeclassificationService", "EXTEND", "OUTCOMES", "RELEVEL"]


