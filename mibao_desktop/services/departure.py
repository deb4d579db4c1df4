"""Leaving a classified post (离岗离职), the 脱密期, and the major-event reports. Qt-free.

Seed 002 §六(三): the secrecy office and personnel hold a 保密提醒谈话 with the person, have
them sign the 离岗离职保密承诺书, see that every classified carrier (paper and electronic) is
returned, revoke their access to classified systems and set the 脱密期 measures. Seed 003
涉密人员管理制度 第七条: a 脱密期 of 6 months to 3 years; 第八条: the person is let go only once
what they held was returned and verified.

The procedure is one service (:class:`DepartureService`, ``Services.departure``):

- :meth:`~DepartureService.holdings` lists what the person still holds: every record, not
  voided and not closed, that names them in a field declared ``Person(in_charge=True)`` (a
  device's 责任人 and 使用人, a carrier's 保管人, a copy's 持有人), a copy with its carrier, and
  every one that names them in a field held only in some statuses (``Person.held_in``: an exit
  document 已领取 by its 持证人, which goes back to the unit by 交回, never to another person);
- each item goes back or to a named person through the services that own it: a copy is
  归还 or 移交 by the carrier actions (with their rules and history), a carrier's 保管人 is
  transferred by ``transfer_keeper``, a device's or medium's person field is edited through the
  ledger service, each in its own transaction with its history and audit entry;
- :meth:`~DepartureService.leave` closes the person (脱密期, 调离 or 退休) in one transaction
  that checks again that nothing is held (the refusal names each item), asks for the talk, the
  signed commitment and the revoked access (who and when), and sets 脱密期开始/截止 from the
  grade (the unit's setting per grade) with the change;
- :meth:`~DepartureService.end_due` moves everyone whose 脱密期 ended to 已脱密, with a history
  entry each: at each start of the security administrator's window and by
  ``mibao decommission-check``.

A bare 变更状态 from 在岗 into a closing status is refused by the ledger service, naming this
procedure (``Lifecycle.procedures``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import select

from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import LifecycleError, ServiceError, ValidationFailed
from mibao_desktop.ledgers import LEDGERS, PEOPLE, decommission
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.ledgers.declaration import DECOMMISSIONED, DECOMMISSIONING, DEPARTURE_FACTS, REASON
from mibao_desktop.ledgers.major_events import MAJOR_EVENT_REPORTS
from mibao_desktop.ledgers.normalize import is_blank
from mibao_desktop.security import Role, require
from mibao_desktop.services import audit, settings as settings_store
from mibao_desktop.services.holdings import child_number
from mibao_desktop.services.ledger_service import LEDGER_ROLES, LedgerService
from mibao_desktop.services.repository import RecordRepository
from mibao_desktop.services.views import RecordView

DOING = "离岗离职"
LEAVING = tuple(s for s in PEOPLE.lifecycle.allowed_next(PEOPLE.lifecycle.initial))  # 脱密期、调离、退休
FROM, UNTIL = decommission.FROM.name, decommission.UNTIL.name
GIVE_BACK = next(a for a in C.COPY_ACTIONS if a.key == "give_back")
TRANSFER = next(a for a in C.COPY_ACTIONS if a.key == "transfer")
# the facts a departure must give (the declaration leaves them optional for later moves)
REQUIRED_FACTS = tuple(f.name for f in DEPARTURE_FACTS)
BATCH = 500  # ids per query when reading what a person holds


@dataclass(frozen=True)
class HeldItem:
    """A record in the person's hands, through which of its fields (``fields``: names)."""

    record: RecordView
    fields: tuple[str, ...]
    parent: RecordView | None = None  # a copy's carrier
    _person_id: int | None = None  # whose hands

    @property
    def number(self) -> str:
        return child_number(self.record, self.parent)

    @property
    def noun(self) -> str:
        return self.record.ledger.noun

    @property
    def roles(self) -> str:
        return "、".join(self.record.ledger.field(n).label for n in self.fields)

    @property
    def title(self) -> str:
        source = self.parent or self.record
        for name in ("title", "brand_model", "device_type", "media_type"):
            if source.ledger.has_field(name) and source.values.get(name):
                return source.display(name)
        return ""

    @property
    def level(self) -> str:
        for r in (self.record, self.parent):
            f = r.ledger.level_field if r is not None else None
            if f is not None and r.values.get(f.name):
                return r.values[f.name]
        return ""

    @property
    def is_copy(self) -> bool:
        return self.record.ledger.key == C.CARRIER_COPIES.key

    @property
    def goes_back_only(self) -> bool:
        """Held only while out (an exit document 已领取, ``Person.held_in``): it goes back to the
        unit by its own action, never to another person."""
        return any(getattr(self.record.ledger.field(n).type, "held_in", None) for n in self.fields)

    @property
    def can_give_back(self) -> bool:
        """A copy lent, distributed, taken out or sent for repair goes back to its carrier's
        保管人 by 归还 (when the keeper is someone else)."""
        if not self.is_copy or self.parent is None or self.record.status not in GIVE_BACK.from_:
            return False
        keepers = [self.parent.values.get(f.name) for f in self.parent.ledger.fields
                   if getattr(f.type, "in_charge", False)]  # the carrier's 保管人
        return any(getattr(k, "id", None) not in (None, self._person_id) for k in keepers)

    def __str__(self) -> str:
        return f"{self.noun} {self.number}({self.roles},{self.record.status})"


@dataclass(frozen=True)
class Plan:
    """What leaving would set: the 脱密期 from ``start`` for the person's grade (None when the
    person has no grade: no 脱密期 can be computed)."""

    person: RecordView
    months: int | None
    start: dt.date
    end: dt.date | None

    def form_facts(self, status: str, facts: Mapping[str, Any]) -> dict[str, Any]:
        """What the 离岗保密承诺书 prints of a departure under way (``PrintService.form(departure=)``):
        the procedure's facts so far, and the 脱密期 when the person goes into it."""
        out = {"status": status, **{k: v for k, v in facts.items() if not is_blank(v)}}
        if status == DECOMMISSIONING and self.end is not None and self.months is not None:
            out.update(start=self.start, end=self.end, months_text=decommission.months_text(self.months))
        return out

    @property
    def period_text(self) -> str:
        if self.months is None or self.end is None:
            return "未定涉密等级,无法计算脱密期"
        return (f"{decommission.months_text(self.months)}({self.start:%Y年%m月%d日}至"
                f"{self.end:%Y年%m月%d日})")


class DepartureService:
    def __init__(self, ledgers: LedgerService, actions: Callable[[], Any]) -> None:
        self.ledgers = ledgers
        self._actions = actions  # the carrier actions (built on demand by Services)
        self.db, self.actor, self.clock = ledgers.db, ledgers.actor, ledgers.clock

    # -- the 脱密期 per grade (a setting of the unit) ----------------------------------------

    def periods(self) -> dict[str, int]:
        """Months of 脱密期 per grade: the unit's setting over the defaults."""
        with self.db.session() as session:
            return self._periods(session)

    @staticmethod
    def _periods(session) -> dict[str, int]:
        stored = settings_store.read(session, decommission.SETTING) or {}
        return {g: int(stored.get(g, m)) for g, m in decommission.DEFAULT_MONTHS.items()}

    def set_periods(self, months: Mapping[str, Any]) -> dict[str, int]:
        """The security administrator's: each grade's 脱密期 in months, 6 to 36 (seed 003 第七条)."""
        require(self.actor, Role.SECURITY_ADMIN, doing="修改脱密期设置")
        errors, new = {}, {}
        for grade in decommission.DEFAULT_MONTHS:
            raw = months.get(grade)
            try:
                value = int(str(raw).strip())
            except (TypeError, ValueError):
                errors[grade] = f"{grade}涉密人员的脱密期应填写月数"
                continue
            if not decommission.MIN_MONTHS <= value <= decommission.MAX_MONTHS:
                errors[grade] = (f"脱密期一般为6个月至3年(保密制度第七条),{grade}涉密人员填写的 {value} 个月"
                                 "不在此范围内")
            new[grade] = value
        if errors:
            raise ValidationFailed(errors, {g: f"{g}涉密人员脱密期" for g in decommission.DEFAULT_MONTHS})
        with self.db.write() as session:
            old = self._periods(session)
            now = self.clock()
            settings_store.write(session, decommission.SETTING, new, self.actor.name, now)
            changed = {f"{g}涉密人员": [decommission.months_text(old[g]), decommission.months_text(v)]
                       for g, v in new.items() if old[g] != v}
            audit.append(session, self.actor, "settings.change", decommission.SETTING_LABEL, {"changed": changed},
                         at=now)
        return new

    def plan(self, person_id: int, start: dt.date | None = None) -> Plan:
        with self.ledgers._read(DOING) as session:
            person = self._person(session, person_id)
            return self._plan(session, person, start or self.clock().date())

    def _plan(self, session, person: RecordView, start: dt.date) -> Plan:
        grade = person.values.get("grade")
        months = self._periods(session).get(grade) if grade else None
        return Plan(person, months, start, decommission.end_of(start, months) if months else None)

    def _person(self, session, person_id: int, *, lock: bool = False) -> RecordView:
        view = self.ledgers._get_view(session, person_id, lock=lock)
        if view.ledger.key != PEOPLE.key:
            raise ServiceError(f"{view.number} 不是{PEOPLE.title}中的人员。")
        return view

    # -- what the person holds --------------------------------------------------------------

    def holdings(self, person_id: int) -> list[HeldItem]:
        """Every record still in the person's hands (see the module's doc), in the navigation's
        order of ledgers, then by number."""
        with self.ledgers._read(DOING) as session:
            self._person(session, person_id)
            return self._held(session, person_id)

    def _held(self, session, person_id: int) -> list[HeldItem]:
        """One query per ledger that names the person (an index on each person field), then the
        rows still held read together, ledger by ledger, and their parents (a copy's carrier)."""
        repo = RecordRepository(session)
        fields: dict[int, list[str]] = {}
        by_ledger: dict[str, list[int]] = {}
        held_in: dict[int, set[str] | None] = {}  # record → the statuses it is held in (None: any)
        for ledger, f, rid in repo.referrers(person_id):
            statuses = getattr(f.type, "held_in", frozenset())
            if getattr(f.type, "in_charge", False) or statuses:
                held = held_in.get(rid, set())
                held_in[rid] = None if held is None or not statuses else held | statuses
                if rid not in fields:
                    by_ledger.setdefault(ledger.key, []).append(rid)
                fields.setdefault(rid, []).append(f.name)
        views: list[RecordView] = []
        for key, ids in by_ledger.items():
            ledger = LEDGERS[key]
            t = table_of(ledger)
            for start in range(0, len(ids), BATCH):
                rows = session.execute(select(t).where(t.c.id.in_(ids[start:start + BATCH]),
                                                       t.c.voided == False,  # noqa: E712 (SQL)
                                                       t.c.status.not_in(ledger.lifecycle.closing or ("",)))
                                       ).mappings().all()
                rows = [r for r in rows if held_in[r["id"]] is None or r["status"] in held_in[r["id"]]]
                views.extend(self.ledgers._views(session, ledger, rows))
        parents: dict[int, RecordView] = {}
        wanted: dict[str, list[int]] = {}
        for v in views:
            if v.parent_id is not None and v.parent_id not in wanted.setdefault(v.ledger.parent, []):
                wanted[v.ledger.parent].append(v.parent_id)
        for key, ids in wanted.items():
            for start in range(0, len(ids), BATCH):
                rows = repo.rows_by_ids(LEDGERS[key], ids[start:start + BATCH])
                parents.update((p.id, p) for p in self.ledgers._views(session, LEDGERS[key], rows))
        items = []
        for view in views:
            names = [f.name for f in view.ledger.fields if f.name in fields[view.id]]  # the declaration's order
            items.append(HeldItem(view, tuple(names), parents.get(view.parent_id), person_id))
        order = {l.key: i for i, l in enumerate(LEDGERS.values())}
        items.sort(key=lambda h: (order.get(h.record.ledger.key, 0), h.number))
        return items

    # -- handing each item back or over ------------------------------------------------------

    def give_back(self, person_id: int, copy_ids: Sequence[int], *, note: str = "") -> list[RecordView]:
        """归还 copies the person had (lent, distributed, taken out): they go back to their
        carrier's 保管人, through the carrier actions."""
        if not copy_ids:
            raise ServiceError("请先选择要归还的载体份。")
        person = self.ledgers.get(person_id)
        return self._actions().give_back(list(copy_ids), {"return_note": note or f"{person.label}离岗清退"})

    def hand_over(self, person_id: int, record_ids: Sequence[int], to: Any, *, approver: str,
                  progress: Callable[[int, int], None] | None = None) -> list[RecordView]:
        """Each item to the person ``to`` (a name as typed, or a Ref): a copy 移交 (its rules:
        批准人), a carrier's 保管人 transferred, a device's or medium's 责任人/使用人 changed,
        through the owners' own steps (rules, history, audit entry each).

        The selection is one transaction, all or nothing: an administrator who chose ten items
        and is told one may not go must not find the other nine half moved (a receiver who then
        signs for a list that is not what was handed). Every item is tried, so that the refusal
        names each one that may not go and why; then, when any was refused, nothing is stored."""
        if is_blank(to):
            raise ValidationFailed({"to": "请填写接收人"}, {"to": "移交给"})
        if is_blank(approver):
            raise ValidationFailed({"approver": "移交须填写批准人"}, {"approver": "批准人"})
        person = self.ledgers.get(person_id)
        if getattr(to, "id", None) == person_id or str(to).strip() in (person.label, person.number):
            raise ValidationFailed({"to": f"接收人不能是离岗的{person.label}本人"}, {"to": "移交给"})
        gone = self._not_in_post(to)
        if gone:
            raise ValidationFailed({"to": gone}, {"to": "移交给"})
        with self.ledgers._write(DOING) as session:
            for rid in sorted(set(record_ids)):  # locked in id order first, as void_many does
                self.ledgers._locate(session, rid, lock=True)
            self._person(session, person_id)
            held = {h.record.id: h for h in self._held(session, person_id)}
            done: list[RecordView] = []
            refused: list[tuple[HeldItem, ServiceError]] = []
            chosen = list(dict.fromkeys(record_ids))
            for n, rid in enumerate(chosen):
                if progress is not None:
                    progress(n, len(chosen))
                item = held.get(rid)
                if item is None:
                    continue  # handed over meanwhile (another workstation): nothing left to do
                try:
                    done.append(self._hand_over_one(session, person, item, to, approver))
                except ServiceError as exc:
                    refused.append((item, exc))
            if len(refused) == 1 and isinstance(refused[0][1], ValidationFailed):
                item, exc = refused[0]
                lead = f"{item.noun} {item.number} 未能移交" + (",所选物品均未移交:" if len(chosen) > 1 else ":")
                raise ValidationFailed(exc.errors, exc.labels, lead=lead)
            if refused:
                said = "".join(f"{item.noun} {item.number} 未能移交:"
                               + (";".join(exc.errors.values()) if isinstance(exc, ValidationFailed) else str(exc))
                               for item, exc in refused)
                if len(chosen) > 1:
                    said = f"所选 {len(chosen)} 件中有 {len(refused)} 件不能移交,均未移交:" + said
                raise LifecycleError(said)
            return done

    def _not_in_post(self, to: Any) -> str:
        """Why ``to`` may not receive what a leaver hands over: the person chosen (or everyone of
        the name typed) has left the post themselves; "" when they may (or are new: added)."""
        with self.ledgers._read(DOING) as session:
            if getattr(to, "id", None) is not None:
                rows = [RecordRepository(session).row(PEOPLE, to.id)]
            else:
                rows = RecordRepository(session).people_named([str(getattr(to, "text", to)).strip()])
        rows = [r for r in rows if r is not None]
        if rows and all(r["status"] != PEOPLE.lifecycle.initial for r in rows):
            return f"{rows[0]['name']} 当前为“{rows[0]['status']}”,已不在岗,不能接收移交的物品"
        return ""

    def _hand_over_one(self, session, person: RecordView, item: HeldItem, to: Any, approver: str) -> RecordView:
        reason = f"{person.label}离岗交接(批准人:{approver.strip()})"
        if item.goes_back_only:
            raise LifecycleError(f"{item.noun} {item.number} 当前为“{item.record.status}”,须由本人交回单位"
                                 f"(在{item.record.ledger.title}中办理“交回”),不能移交他人。")
        if item.is_copy:
            if item.record.status not in TRANSFER.from_:
                raise LifecycleError(f"{item.noun} {item.number} 当前为“{item.record.status}”,"
                                     f"须先归还,再移交。")
            return self._actions()._transfer_copy(session, item.record.id, {"new_holder": to, "approver": approver})
        if item.record.ledger.key == C.CARRIERS.key:
            return self._actions()._transfer_keeper(session, item.record.id, to, approver, f"{person.label}离岗交接")
        ledger, current = self.ledgers._editable(session, item.record.id)
        return self.ledgers._edit(session, ledger, current, {name: to for name in item.fields}, reason=reason)

    # -- closing the person ------------------------------------------------------------------

    def leave(self, person_id: int, status: str, facts: Mapping[str, Any], *,
              effective_date: dt.date | None = None) -> RecordView:
        """Close the person into ``status`` (脱密期, 调离 or 退休) with the procedure's facts
        (原因, 保密提醒谈话日期 and 谈话人, 离岗保密承诺书签订日期, 取消涉密系统权限经办人 and
        日期), refused while anything is still in their hands (each item named). 脱密期 sets
        脱密期开始 (the day of leaving) and 脱密期截止 (from the grade's setting)."""
        if status not in LEAVING:
            raise LifecycleError(f"离岗后的状态应为:{'、'.join(LEAVING)}")
        day = effective_date or self.clock().date()
        labels = {f.name: f.label for f in DEPARTURE_FACTS}
        missing = {n: f"离岗离职必须填写{labels[n]}" for n in REQUIRED_FACTS if is_blank(facts.get(n))}
        if missing:
            raise ValidationFailed(missing, labels)
        with self.ledgers._write(DOING) as session:
            ledger, row = self.ledgers._locate(session, person_id, lock=True)
            if ledger.key != PEOPLE.key:
                raise ServiceError(f"{row[ledger.key_field]} 不是{PEOPLE.title}中的人员。")
            person = self.ledgers._view(session, ledger, row)
            if row["status"] != PEOPLE.lifecycle.initial:
                raise LifecycleError(f"{person.label} 当前为“{row['status']}”,不在岗,无须办理离岗离职。")
            held = self._held(session, person_id)
            if held:
                shown = "、".join(str(h) for h in held[:20]) + (f" 等 {len(held)} 件" if len(held) > 20 else "")
                raise LifecycleError(f"{person.label} 手中还有 {len(held)} 件未清退:{shown}。"
                                     "请逐件归还或移交后再办理离岗(保密制度第八条:清退个人承办、保管的密件,"
                                     "经验证无误后方可办理)。")
            edits = None
            if status == DECOMMISSIONING:
                plan = self._plan(session, person, day)
                if plan.end is None:
                    raise ValidationFailed({"grade": f"{person.label} 未定涉密等级,无法按等级确定脱密期;"
                                                     "请先在人员信息中填写涉密等级"}, {"grade": "涉密等级"})
                edits = {FROM: plan.start, UNTIL: plan.end}
            raw = {n: facts.get(n) for n in REQUIRED_FACTS}
            return self.ledgers._change_status(session, ledger, row, status, raw, day, confirm_referenced=True,
                                               edits=edits, doing=DOING,
                                               audit_detail={"procedure": DOING})

    # -- the end of the 脱密期 -----------------------------------------------------------------

    def due(self, today: dt.date | None = None) -> list[RecordView]:
        """People in 脱密期 whose period ended before ``today`` (one index range)."""
        today = today or self.clock().date()
        t = table_of(PEOPLE)
        with self.ledgers._read(DOING) as session:
            rows = session.execute(select(t).where(t.c[UNTIL] < today, t.c.status == DECOMMISSIONING,
                                                   t.c.voided == False).order_by(t.c[UNTIL], t.c.id)  # noqa: E712
                                   ).mappings().all()
            return self.ledgers._views(session, PEOPLE, rows)

    def within(self) -> list[RecordView]:
        """Everyone in 脱密期, by the end of their period (one index range)."""
        t = table_of(PEOPLE)
        with self.ledgers._read(DOING) as session:
            rows = session.execute(select(t).where(t.c.status == DECOMMISSIONING, t.c.voided == False)  # noqa: E712
                                   .order_by(t.c[UNTIL], t.c.id)).mappings().all()
            return self.ledgers._views(session, PEOPLE, rows)

    def end_due(self, today: dt.date | None = None) -> list[RecordView]:
        """Move each person whose 脱密期 ended (脱密期截止 before ``today``) to 已脱密, dated the
        day after the end, with the reason in their history; the people moved. Most days
        nobody is due: no write lock is taken then."""
        today = today or self.clock().date()
        require(self.actor, *LEDGER_ROLES, doing="脱密期满转为已脱密")
        if not self.due(today):
            return []
        t = table_of(PEOPLE)
        moved: list[RecordView] = []
        with self.ledgers._write("脱密期满转为已脱密") as session:
            rows = session.execute(select(t).where(t.c[UNTIL] < today, t.c.status == DECOMMISSIONING,
                                                   t.c.voided == False).order_by(t.c.id)  # noqa: E712
                                   .with_for_update()).mappings().all()
            for row in rows:
                until = row[UNTIL]
                moved.append(self.ledgers._change_status(
                    session, PEOPLE, row, DECOMMISSIONED,
                    {REASON: f"脱密期满(脱密期截止 {until.isoformat()}),转为已脱密"},
                    min(until + dt.timedelta(days=1), today), confirm_referenced=True, doing="脱密期满转为已脱密"))
        return moved

    # -- 重大事项报告 -------------------------------------------------------------------------

    def report_major_event(self, person_id: int, values: Mapping[str, Any]) -> RecordView:
        """Register a 重大事项报告 under the person: said in the person's own history too
        (``Ledger.parent_history``), audited with the person named."""
        with self.ledgers._write(f"登记{MAJOR_EVENT_REPORTS.noun}") as session:
            person = self._person(session, person_id, lock=True)
            report_id = self.ledgers._create(session, MAJOR_EVENT_REPORTS, values, person_id,
                                             audit_detail={"person": person.label, "person_id": person_id})
            self.ledgers._flush_or_explain(session)
            return self.ledgers._get_view(session, report_id)


__all__ = ["DOING", "DepartureService", "HeldItem", "LEAVING", "Plan"]
