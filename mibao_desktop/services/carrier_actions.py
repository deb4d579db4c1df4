"""The carrier's life as recorded actions (issue 13 item 2; seed 002 §八, seed 003 保密工作制度
第十条–第十二条): 登记/接收 with the copies 1…N made at once, then per copy 分发, 借阅, 归还,
复制, 清退, 移交, 送修, 销毁, 下落不明 and 找到.

Each action is declared with the copy's lifecycle (``ledgers.carriers.COPY_ACTIONS``: the
statuses it starts from, the status it leads to, the facts it records, the rule it follows).
A call checks the role, the copy's status, the facts and the rule, and stores everything in
one transaction through the ledger service's status-change machinery: a history event per copy
(the status, then the facts, then the copy's 持有人/应归还日期 changed with it) and an audit
entry per copy. A refusal says why in Chinese and names the rule (依据 …). A copy's 密级 and
保密期限 are its carrier's, never copied onto it by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mibao_desktop.db.models import RecordEvent
from mibao_desktop.errors import Cancelled, LifecycleError, ServiceError, ValidationFailed
from mibao_desktop.ledgers import PEOPLE
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.ledgers.carrier_registers import action_of
from mibao_desktop.ledgers.declaration import REASON, Action
from mibao_desktop.ledgers.fields import Ref
from mibao_desktop.ledgers.levels import CONFIDENTIAL, SECRET, TOP_SECRET
from mibao_desktop.ledgers.normalize import FieldError, is_blank
from mibao_desktop.services import audit, status_facts
from mibao_desktop.services.holdings import child_number
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery, RecordRepository
from mibao_desktop.services.views import Progress, RecordView

COPIES, CARRIERS = C.CARRIER_COPIES, C.CARRIERS
ACTIONS = {a.key: a for a in C.COPY_ACTIONS}
SINGLE = ("copy",)  # done on one original at a time: 复制 makes one new carrier of it
MAX_COPIES_AT_ONCE = 10_000  # the 份数 a carrier may declare
_SCOPE_SPLIT = re.compile(r"[、,,;;/\s]+")
WHOLE_UNIT = ("全体", "全体人员", "全单位", "本单位")  # a 知悉范围 that names everyone
_WHOLE_SUFFIX = re.compile(r"(?:全体人员|全体|全员|所有人员|人员)$")  # 科研一处全体人员 → 科研一处


def action_label(entry) -> str:
    """What a copy's history event was, in the action's word (借阅, 归还, 找到 …) rather than
    状态变更: the action leading into the status the event moved to whose facts it holds."""
    moved = entry.status_moved
    if moved is None:
        return entry.action_label
    held = {c.field for c in entry.changes[1:]}
    # the registers name the same action from the same move (one reading of a history event)
    best = ACTIONS.get(action_of("status", *moved))
    return best.label if best is not None and held & {f.name for f in best.facts} else entry.action_label


class RuleRefused(LifecycleError):
    """An action the rules refuse: the message says why and names the rule."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(f"{message}(依据:{rule})")
        self.rule = rule


def within_scope(scope: str | None, name: str, department: str | None) -> bool:
    """Whether a person is within a carrier's 知悉范围/发放范围 as units write it: names and
    departments listed with 、 or commas (科研一处、张伟), or the whole unit (全体人员)."""
    words = [w for w in _SCOPE_SPLIT.split(scope or "") if w]
    if any(w in WHOLE_UNIT for w in words):
        return True
    # A department is named whole (科研一处, 科研一处全体人员) or as the one it belongs to (科研一处
    # covers 科研一处一室). A part of a name is not it: 一处 is not 科研一处, and a substring test
    # once let 一处 stand for every 某某一处 of the unit.
    return any(w == name or (department and (_WHOLE_SUFFIX.sub("", w) == department
                                             or (len(w) < len(department) and department.startswith(w))))
               for w in words)


class CarrierActions:
    """The recorded actions on carriers and their copies, for the person at work."""

    # what 接收/制作 needs beyond the declaration: the scope each copy is lent within (seed 002 §八:
    # 制作涉密载体,应当…注明发放范围)
    REGISTER_REQUIRES = ("scope",)

    def __init__(self, ledgers: LedgerService) -> None:
        self.ledgers = ledgers

    # -- what may be done ------------------------------------------------------------------

    @staticmethod
    def rule_for(action: Action, carrier: RecordView) -> str:
        """The rule the action follows for this carrier (a 绝密 carrier's 复制 has its own)."""
        if action.key == "copy" and carrier.values.get("level") == TOP_SECRET:
            return C.RULE_COPY_TOP
        return action.rule

    @staticmethod
    def actions() -> tuple[Action, ...]:
        return C.COPY_ACTIONS

    @staticmethod
    def available(copy: RecordView) -> list[Action]:
        """The actions a copy's status allows (the desktop's 办理 menu); none for a voided copy."""
        if copy.voided:
            return []
        return [a for a in C.COPY_ACTIONS if copy.status in a.from_]

    # -- 制作/登记, 接收 ----------------------------------------------------------------------

    def register(self, carrier: Mapping[str, Any], *, holders: Sequence[Any] = ()) -> RecordView:
        """登记 a carrier and its copies 1…份数 at once, in one transaction: 制作 (made here:
        marked with its level and period, its scope, count and copy numbers, seed 002 §八) or
        接收 (received: counted, numbered, stamped 收文章 and registered). ``holders`` gives
        the copies their first holders in order (fewer: the rest stay with the keeper)."""
        raw = dict(carrier)
        source = raw.get("source") or "接收"
        if source == "复制":
            raise ServiceError("复制件请在原件的份上办理“复制”,以便与原件关联并登记审批。")
        if source == "接收":
            if is_blank(raw.get("stamp")):
                raw["stamp"] = C.RECEIVED_STAMP  # 接收 … 加盖收文章 (seed 002 §八)
            if str(raw.get("stamp")).strip() != C.RECEIVED_STAMP:
                raise RuleRefused("接收的涉密载体应加盖收文章", C.RULE_RECEIVE)
        errors = {name: f"请注明{CARRIERS.field(name).label}(发放范围)" if name == "scope" else "必填,不能为空"
                  for name in self.REGISTER_REQUIRES if is_blank(raw.get(name))}
        if errors:
            raise ValidationFailed(errors, {name: CARRIERS.field(name).label for name in errors})
        doing = "接收" if source == "接收" else "制作登记"
        with self.ledgers._write(f"{doing}涉密载体") as session:
            return self._register(session, raw, holders, doing)

    def _register(self, session: Session, raw: Mapping[str, Any], holders: Sequence[Any], doing: str,
                  audit_detail: Mapping[str, Any] | None = None) -> RecordView:
        values, errors = self.ledgers.normalise(CARRIERS, raw)
        count = values.get("copies") if not errors.get("copies") else None
        if count is None:
            raise ValidationFailed({"copies": errors.get("copies", "请填写份数")}, {"copies": "份数"})
        numbers = list(range(1, count + 1))
        detail = {"doing": doing, "copies": count, "copy_numbers": f"1-{count}" if count > 1 else "1",
                  **({"stamp": values["stamp"]} if values.get("stamp") else {}), **(audit_detail or {})}
        carrier_id = self.ledgers._create(session, CARRIERS, raw, None, audit_detail=detail)
        carrier = self.ledgers._get_view(session, carrier_id)
        if any(not is_blank(h) for h in holders):  # copies given to people one by one
            for n in numbers:
                holder = holders[n - 1] if n - 1 < len(holders) and not is_blank(holders[n - 1]) \
                    else carrier.values["keeper"]
                self.ledgers._create(session, COPIES, {"copy_number": n, "holder": holder,
                                                       "location": carrier.values.get("location")}, carrier_id,
                                     audit_detail={"doing": doing})
        else:
            self._copies_with_keeper(session, carrier, numbers, doing)
        self.ledgers._flush_or_explain(session)
        return self.ledgers._get_view(session, carrier_id)

    def _copies_with_keeper(self, session: Session, carrier: RecordView, numbers: Sequence[int], doing: str) -> None:
        """Copies 1…N with the carrier's keeper and place, checked once and stored together (a
        print run of hundreds is registered in one go): each with its 登记 event in its history,
        one audit entry naming them all (the carrier's own entry counts them too)."""
        repo = RecordRepository(session)
        values = self.ledgers.validate(COPIES, {"copy_number": numbers[0], "holder": carrier.values["keeper"],
                                                "location": carrier.values.get("location")},
                                       session=session, parent_id=carrier.id)
        values["status"] = COPIES.lifecycle.initial
        now = self.ledgers.clock()
        ids = repo.allocate_ids(len(numbers))
        repo.insert(COPIES, [(rid, {**values, "copy_number": n}, carrier.id) for rid, n in zip(ids, numbers)], now,
                    lambda p: self.ledgers._scope(COPIES, p))
        repo.bulk_insert(RecordEvent.__table__, [
            {"record_id": rid, "ledger": COPIES.key, "at": now, "actor": self.ledgers.actor.name, "action": "create",
             "reason": None, "effective_date": None} for rid in ids])
        repo.tally(COPIES, now.year, "create", n=len(ids))
        audit.append(session, self.ledgers.actor, "record.create", f"{COPIES.key}:{carrier.number}", {
            "ledger": COPIES.title, "doing": doing, "carrier": carrier.number, "record_id": ids[0],
            "copy_numbers": f"{numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else str(numbers[0]),
            "copies": len(numbers), "record_ids": ids[:1000]}, at=now)

    def transfer_keeper(self, carrier_id: int, keeper: Any, *, approver: str, reason: str = "") -> RecordView:
        """移交 the carrier itself to a new 保管人 (its copies keep their holders): an edit whose
        reason says who approved it, in its history and audit entry."""
        if is_blank(approver):
            raise ValidationFailed({"approver": "移交必须填写批准人"}, {"approver": "批准人"})
        with self.ledgers._write("修改台账") as session:
            return self._transfer_keeper(session, carrier_id, keeper, approver, reason)

    def _transfer_keeper(self, session: Session, carrier_id: int, keeper: Any, approver: str,
                         reason: str = "") -> RecordView:
        """:meth:`transfer_keeper` in the caller's transaction (a leaver's hand-over of a selection)."""
        words = f"移交(批准人:{str(approver).strip()})" + (f":{reason.strip()}" if reason and reason.strip() else "")
        ledger, current = self.ledgers._editable(session, carrier_id)
        return self.ledgers._edit(session, ledger, current, {"keeper": keeper}, reason=words)

    def _transfer_copy(self, session: Session, copy_id: int, facts: Mapping[str, Any]) -> RecordView:
        """One copy's 移交 in the caller's transaction (a leaver's hand-over of a selection)."""
        action = ACTIONS["transfer"]
        row = self._copy_row(session, copy_id)
        carrier = self.ledgers._get_view(session, row["parent_id"])
        return self._one(session, action, row, carrier, self._resolved(session, action, row, facts),
                         self.ledgers.clock().date())

    # -- the actions on copies ---------------------------------------------------------------

    def act(self, key: str, copy_ids: Iterable[int], facts: Mapping[str, Any] | None = None, *,
            effective_date: dt.date | None = None, progress: Progress | None = None,
            cancelled: Callable[[], bool] | None = None) -> list[RecordView]:
        """Carry out the action ``key`` (distribute, lend, give_back, copy, clear, transfer,
        repair, destroy, missing, found) on each copy, all in one transaction: all are done or
        none. Returns the copies as they are after it (for 复制: the new carriers). A batch of
        hundreds (销毁 the rest of a large print run) reports ``progress(done, total)`` and
        stops when ``cancelled()`` turns true, storing nothing."""
        action = ACTIONS.get(key)
        if action is None:
            raise ServiceError(f"没有名为“{key}”的载体手续,可选:{'、'.join(a.label for a in C.COPY_ACTIONS)}")
        ids = list(dict.fromkeys(copy_ids))
        if not ids:
            raise ServiceError(f"请先选择要{action.label}的载体份。")
        if action.key in SINGLE and len(ids) > 1:
            raise ServiceError(f"{action.label}一次办理一份原件,请只选择一份。")
        raw = dict(facts or {})
        today = self.ledgers.clock().date()
        day = effective_date or today
        with self.ledgers._write(action.label) as session:
            # locked in id order first: two workstations acting on overlapping copies picked in
            # different orders would otherwise each hold one and wait for the other (a deadlock
            # on PostgreSQL), as void_many does
            for copy_id in sorted(ids):
                self.ledgers._locate(session, copy_id, lock=True)
            latest = self._latest_changes(session, ids) if action.to is not None else {}
            if action.key == "destroy" and is_blank(raw.get("inventory")):
                raw["inventory"] = f"XH-{self.ledgers.clock():%Y%m%d-%H%M%S}"  # one list for the whole batch
            done: list[RecordView] = []
            carriers: dict[int, RecordView] = {}  # read once per carrier, not per copy
            resolved: dict[str, Any] | None = None  # the facts' people, resolved once for the batch
            for n, copy_id in enumerate(ids):
                if cancelled is not None and cancelled():
                    raise Cancelled(f"已取消,没有载体份被{action.label}。")
                if progress is not None:
                    progress(n, len(ids))
                row = self._copy_row(session, copy_id)
                if row["parent_id"] not in carriers:
                    carriers[row["parent_id"]] = self.ledgers._get_view(session, row["parent_id"])
                if resolved is None:
                    resolved = self._resolved(session, action, row, raw)
                done.append(self._one(session, action, row, carriers[row["parent_id"]], dict(resolved), day,
                                      latest.get(copy_id)))
            if action.to in COPIES.lifecycle.closing:
                for carrier_id in sorted(carriers):
                    self._close_carrier_if_done(session, carrier_id, day)
            self.ledgers._flush_or_explain(session)
            return done

    # one method per action, as the desktop's forms and the command line call them
    def distribute(self, copy_ids, facts, **kw): return self.act("distribute", copy_ids, facts, **kw)  # noqa: E704
    def lend(self, copy_ids, facts, **kw): return self.act("lend", copy_ids, facts, **kw)  # noqa: E704
    def give_back(self, copy_ids, facts=None, **kw): return self.act("give_back", copy_ids, facts, **kw)  # noqa: E704
    def copy(self, copy_id, facts, **kw): return self.act("copy", [copy_id], facts, **kw)[0]  # noqa: E704
    def clear(self, copy_ids, facts, **kw): return self.act("clear", copy_ids, facts, **kw)  # noqa: E704
    def transfer(self, copy_ids, facts, **kw): return self.act("transfer", copy_ids, facts, **kw)  # noqa: E704
    def repair(self, copy_ids, facts, **kw): return self.act("repair", copy_ids, facts, **kw)  # noqa: E704
    def destroy(self, copy_ids, facts, **kw): return self.act("destroy", copy_ids, facts, **kw)  # noqa: E704
    def missing(self, copy_ids, facts, **kw): return self.act("missing", copy_ids, facts, **kw)  # noqa: E704
    def found(self, copy_ids, facts, **kw): return self.act("found", copy_ids, facts, **kw)  # noqa: E704

    def _copy_row(self, session: Session, copy_id: int):
        ledger, row = self.ledgers._locate(session, copy_id, lock=True)
        if ledger.key != COPIES.key:
            raise ServiceError(f"{ledger.noun} {row[ledger.key_field]} 不是载体的份,不能办理载体手续。")
        return row

    def _one(self, session: Session, action: Action, row, carrier: RecordView, facts: dict[str, Any],
             day: dt.date, latest: tuple[dt.date, str] | None = None) -> RecordView:
        copy = self.ledgers._view(session, COPIES, row)
        name = child_number(copy, carrier)
        if copy.voided:
            raise LifecycleError(f"{name} 已作废,不能{action.label}。")
        if latest is not None and day < latest[0]:
            raise ValidationFailed({"effective_date": f"{name} 已于 {latest[0].isoformat()} 办理{latest[1]},"
                                                      f"{action.label}日期 {day.isoformat()} 不能早于它,请核对日期"},
                                   {"effective_date": "日期"})
        if copy.status not in action.from_:
            raise RuleRefused(f"{name} 当前为“{copy.status}”,不能{action.label};"
                              f"{action.label}只适用于{'、'.join(f'“{s}”' for s in action.from_)}的载体份",
                              C.RULE_COLLECT if action.key == "destroy" else C.RULE_BOOK)
        self._check(session, action, carrier, name, facts)
        edits = self._edits(action, copy, carrier, facts, day)
        detail = {"action": action.label, "carrier": carrier.number, "copy": name}
        if action.key == "copy":
            made = self._make_copy(session, carrier, copy, facts, day)
            facts = {**facts, "copy_as": made.number}
            detail["made"] = made.number
        view = self.ledgers._change_status(session, COPIES, row, action.to, facts, day, asked=action.facts,
                                           edits=edits, audit_detail=detail, doing=action.label,
                                           kind="status" if action.to is not None else action.key,
                                           confirm_referenced=True)
        return made if action.key == "copy" else view

    @staticmethod
    def _latest_changes(session: Session, ids: Sequence[int]) -> dict[int, tuple[dt.date, str]]:
        """Each copy's latest status change that stands (neither a reversal nor taken back by
        one): the day it took effect and what it was (借阅 …). An action may not be dated before
        it, or the copy's history (and the registers read from it by day) would be out of order."""
        out: dict[int, tuple[dt.date, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            events = session.scalars(select(RecordEvent).where(RecordEvent.record_id.in_(chunk),
                                                               RecordEvent.action == "status")
                                     .options(selectinload(RecordEvent.changes))
                                     .order_by(RecordEvent.id.desc())).all()
            undone: set[int] = set()
            for e in events:
                if e.record_id in out:
                    continue
                reverses = next((c for c in e.changes if c.field == status_facts.REVERSES), None)
                if reverses is not None:
                    undone.update(int(i) for i in (reverses.new_ids or "").split() if i.isdigit())
                    continue
                if e.id in undone or not e.changes:
                    continue
                moved = e.changes[0]
                fits = [a for a in C.COPY_ACTIONS if a.to == moved.new_value and moved.old_value in a.from_]
                held = {c.field for c in e.changes[1:]}
                best = max(fits, key=lambda a: len(held & {f.name for f in a.facts}), default=None)
                what = best.label if best is not None else f"“{moved.new_value}”"
                out[e.record_id] = (e.effective_date or e.at.date(), what)
        return out

    def _resolved(self, session: Session, action: Action, row, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The facts with each person resolved once (a name new to the register is added), so
        that the fact and the copy's 持有人 set with it name the same person."""
        out = {k: v for k, v in raw.items() if k in {f.name for f in action.facts}}
        resolver = self.ledgers._resolver(session, preview=False)
        errors = {}
        for f in action.facts:
            if f.is_person and not is_blank(out.get(f.name)):
                try:
                    out[f.name] = resolver.resolve(COPIES, f, f.normalise(out[f.name]), row)
                except FieldError as exc:
                    errors[f.name] = str(exc)
        if errors:
            raise ValidationFailed(errors, {f.name: f.label for f in action.facts})
        return out

    def _check(self, session: Session, action: Action, carrier: RecordView, name: str,
               facts: Mapping[str, Any]) -> None:
        """The rules of seed 002 §八 and seed 003 an action must meet beyond its required facts."""
        level = carrier.values.get("level")
        if action.key == "distribute" and is_blank(facts.get("recipient")) and is_blank(facts.get("recipient_unit")):
            raise ValidationFailed({"recipient": "分发必须填写接收人或接收单位"}, {"recipient": "接收人"})
        if action.key == "lend" and isinstance(facts.get("borrower"), Ref):
            person = RecordRepository(session).row(PEOPLE, facts["borrower"].id)
            department = person["department"] if person is not None else None
            scope = carrier.values.get("scope")
            if not within_scope(scope, facts["borrower"].text, department) and is_blank(facts.get("beyond_scope")):
                where = f"知悉范围为“{scope}”" if scope else "未注明知悉范围"
                raise RuleRefused(f"借阅人{facts['borrower'].text}"
                                  + (f"({department})" if department else "")
                                  + f"不在载体 {carrier.number} 的知悉范围内({where}):须在“超出知悉范围的批准理由”中"
                                  "写明批准其借阅的理由", C.RULE_SCOPE)
        if action.key == "copy":
            if level == TOP_SECRET and is_blank(facts.get("top_secret_exception")):
                raise RuleRefused(f"{name} 为绝密级,一般不得复制、摘录、引用、汇编;确需复制的,须记录原制发机关"
                                  "批准的特批依据", C.RULE_COPY_TOP)
            if level in (SECRET, CONFIDENTIAL) and is_blank(facts.get("issuer_consent")):
                raise RuleRefused(f"{name} 为{level}级,复制须先经制发机关(单位)批准,请填写“制发机关批准”",
                                  C.RULE_COPY)
        if action.key == "destroy":
            if carrier.values.get("return_required") == "是":
                raise RuleRefused(f"{carrier.number}“{carrier.values.get('title')}”为须清退的文件,不得自行销毁,"
                                  "请办理“清退”", C.RULE_CLEAR)
            one, two = facts.get("supervisor_1"), facts.get("supervisor_2")
            if isinstance(one, Ref) and isinstance(two, Ref) and one.id == two.id:
                raise RuleRefused(f"监销人须为两人以上,两位监销人不能同为{one.text}", C.RULE_DESTROY)
        if action.key == "repair":
            if carrier.values.get("form") not in C.MEDIA_FORMS:
                raise RuleRefused(f"{carrier.number} 为“{carrier.values.get('form') or '纸质'}”载体,送修只适用于"
                                  f"{'、'.join(C.MEDIA_FORMS)}", C.RULE_REPAIR)
            if facts.get("storage_removed") == "否":
                raise RuleRefused("送外维修前须拆除信息存储部件", C.RULE_REPAIR)

    def _edits(self, action: Action, copy: RecordView, carrier: RecordView, facts: dict[str, Any],
               day: dt.date) -> dict[str, Any]:
        """What the action changes on the copy itself (kept in the same history event)."""
        keeper = carrier.values.get("keeper")
        if action.key == "distribute" and isinstance(facts.get("recipient"), Ref):
            return {"holder": facts["recipient"]}
        if action.key == "transfer" and isinstance(facts.get("new_holder"), Ref):
            return {"holder": facts["new_holder"]}
        if action.key == "lend" and isinstance(facts.get("borrower"), Ref):
            return {"holder": facts["borrower"], "due_on": facts.get("due_back")}
        if action.key in ("give_back", "found"):
            due = copy.values.get("due_on")
            if action.key == "give_back" and copy.status == "借出" and due is not None and day > due:
                late = f"逾期 {(day - due).days} 天归还(应还 {due.isoformat()})"
                note = str(facts.get("return_note") or "").strip()
                facts["return_note"] = f"{late};{note}" if note else late
            return {"holder": keeper, "due_on": None}
        return {}

    def _make_copy(self, session: Session, carrier: RecordView, copy: RecordView, facts: Mapping[str, Any],
                   day: dt.date) -> RecordView:
        """复制/摘录/汇编: the copy is a carrier of its own, linked to its source, stamped 复制 and
        managed as an original (seed 002 §八(四)); its level and period are the source's."""
        number = str(facts.get("copy_as") or "").strip().upper() or self._copy_number(session, carrier.number)
        kind = facts.get("copy_kind") or "复制"
        v = carrier.values
        raw = {
            "carrier_number": number, "title": v.get("title") if kind == "复制" else f"{v.get('title')}({kind})",
            "doc_number": v.get("doc_number"), "issuer": v.get("issuer"), "level": v.get("level"),
            "secrecy_period": v.get("secrecy_period"), "classified_on": v.get("classified_on"), "form": v.get("form"),
            "copies": facts.get("copy_count") or 1, "pages": v.get("pages"), "scope": v.get("scope"),
            "source": "复制", "source_carrier": Ref(carrier.id, carrier.number), "stamp": C.COPY_STAMP,
            "return_required": v.get("return_required"), "received_on": day, "keeper": v.get("keeper"),
            "department": v.get("department"), "location": v.get("location"),
            "remarks": f"由 {child_number(copy, carrier)} {kind}",
        }
        return self._register(session, raw, (), kind, audit_detail={"original": child_number(copy, carrier),
                                                                    "approver": facts.get("approver")})

    @staticmethod
    def _copy_number(session: Session, source: str) -> str:
        repo = RecordRepository(session)
        n = 1
        while repo.by_key(CARRIERS, f"{source}-F{n}") is not None:
            n += 1
        return f"{source}-F{n}"

    def _close_carrier_if_done(self, session: Session, carrier_id: int, day: dt.date) -> None:
        """A carrier whose every copy is closed ends too: 已销毁 when any copy was destroyed,
        else 清退 (its copies all went back to the issuer)."""
        ledger, row = self.ledgers._locate(session, carrier_id, lock=True)
        rows = RecordRepository(session).page(COPIES, LedgerQuery(parent_id=carrier_id, limit=None))
        kept = [r for r in rows if not r["voided"]]
        if not kept or any(r["status"] not in COPIES.lifecycle.closing for r in kept):
            return
        target = "已销毁" if any(r["status"] == "已销毁" for r in kept) else "清退"
        if row["status"] == target or target not in ledger.lifecycle.allowed_next(row["status"]):
            return
        words = "各份均已销毁" if target == "已销毁" else "各份均已清退"
        self.ledgers._change_status(session, ledger, row, target, {REASON: words}, day, confirm_referenced=True)

    # -- reading -----------------------------------------------------------------------------

    def copies(self, carrier_id: int) -> list[RecordView]:
        return self.ledgers.children(carrier_id, COPIES)

