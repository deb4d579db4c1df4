"""The ledger service: every read and write of ledger records.

Each write checks the role, validates against the ledger's declaration (types, required
fields, references, rules that look at other records, uniqueness), runs in one write
transaction that is begun before anything it depends on is read, records its history event
and audit entry, and either all of it is stored or none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import FieldChange, Record, RecordEvent
from mibao_desktop.errors import Cancelled, LifecycleError, NotFound, ServiceError, StaleRecord, ValidationFailed
from mibao_desktop.ledgers import LEDGERS, PEOPLE, Ledger, children_of, get_ledger
from mibao_desktop.ledgers.declaration import RuleContext
from mibao_desktop.ledgers.fields import Field, Level, Ref
from mibao_desktop.ledgers.levels import parse_marking
from mibao_desktop.ledgers.normalize import FieldError, clean_text, is_blank, split_values
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit
from mibao_desktop.services.references import Resolver, person_text
from mibao_desktop.services.repository import LedgerQuery, RecordRepository
from mibao_desktop.services.views import (
    BatchResult,
    ChangeRow,
    FieldChangeView,
    HistoryEntry,
    Page,
    Progress,
    RecordView,
    Referrer,
    RowRefusal,
)

LEDGER_ROLES = (Role.SECURITY_ADMIN,)  # 三员分立: only the security administrator keeps ledgers
RELATED = "related"  # the error key of a fault found in another record (a rule of a referring record)


DUPLICATE = "编号、序列号或MAC地址与已有记录重复,未保存。请检查后重试。"


def _unique_violation(exc: BaseException) -> bool:
    """A unique index refused a row: SQLite's UNIQUE constraint or PostgreSQL's 23505, raised
    through SQLAlchemy or straight from the driver (a COPY)."""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "23505" or (
        type(orig).__name__ == "IntegrityError" and str(orig).startswith("UNIQUE constraint failed"))


class StillReferenced(ServiceError):
    """The record is referred to by others; the user must be told which before it goes."""

    def __init__(self, message: str, referrers: list[Referrer]) -> None:
        super().__init__(message)
        self.referrers = referrers


class _Plan:
    """What normalising a ledger's rows needs, worked out once per ledger (an import normalises
    a million rows with it)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.names = frozenset(f.name for f in ledger.fields)
        self.typed = tuple(f for f in ledger.fields if f.compute is None)
        self.computed = ledger.computed_fields
        self.marked = tuple(f for f in ledger.fields if isinstance(f.type, Level) and f.type.period_field)
        self.required = tuple(f.name for f in self.typed if f.required
                              and not (f.name == ledger.key_field and ledger.auto_number))


_PLANS: dict[int, _Plan] = {}


def _plan(ledger: Ledger) -> _Plan:
    plan = _PLANS.get(id(ledger))
    if plan is None or plan.ledger is not ledger:
        plan = _PLANS[id(ledger)] = _Plan(ledger)
    return plan


def _labels(ledger: Ledger) -> dict[str, str]:
    return {f.name: f.label for f in ledger.fields} | {RELATED: "相关记录", "_parent": ledger.parent_label or "所属记录"}


class LedgerService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db = db
        self.actor = actor
        self.clock = clock

    # -- helpers ---------------------------------------------------------------------------

    def _read(self, doing: str = "查看台账") -> Session:
        require(self.actor, *LEDGER_ROLES, doing=doing)
        return self.db.session()

    @contextlib.contextmanager
    def _write(self, doing: str) -> Iterator[Session]:
        """A write transaction, begun before anything is read; committed when the block ends.
        A unique index refusing a value (another workstation stored it after this one checked:
        the database's backstop against a race) is told as such, whichever statement met it."""
        require(self.actor, *LEDGER_ROLES, doing=doing)
        try:
            with self.db.write() as session:
                yield session
        except Exception as exc:
            if _unique_violation(exc):
                raise ServiceError(DUPLICATE) from None
            raise

    @staticmethod
    def ledger(key: str | Ledger) -> Ledger:
        return key if isinstance(key, Ledger) else get_ledger(key)

    def _views(self, session: Session, ledger: Ledger, rows: Sequence[RowMapping]) -> list[RecordView]:
        refs = RecordRepository(session).resolve(ledger, rows)
        views = []
        for row in rows:
            values = {f.name: refs.get((row["id"], f.name)) if f.is_reference else f.from_storage(row[f.name])
                      for f in ledger.fields}
            views.append(RecordView(
                id=row["id"], ledger=ledger, values=values, voided=bool(row["voided"]), void_reason=row["void_reason"],
                version=row["version"], created_at=row["created_at"], updated_at=row["updated_at"],
                parent_id=row.get("parent_id")))
        return views

    def _view(self, session: Session, ledger: Ledger, row: RowMapping) -> RecordView:
        return self._views(session, ledger, [row])[0]

    def _locate(self, session: Session, record_id: int, *, lock: bool = False) -> tuple[Ledger, RowMapping]:
        repo = RecordRepository(session)
        located = repo.locate(record_id)
        row = repo.row(LEDGERS[located.ledger], record_id, lock=lock) if located and located.ledger in LEDGERS else None
        if row is None:
            raise NotFound(f"找不到编号为 {record_id} 的记录,它可能已被删除或数据库已更换。")
        return LEDGERS[located.ledger], row

    def _get_view(self, session: Session, record_id: int, *, lock: bool = False) -> RecordView:
        ledger, row = self._locate(session, record_id, lock=lock)
        return self._view(session, ledger, row)

    def _scope(self, ledger: Ledger, parent_id: int | None) -> str:
        """The space a record's unique values may not repeat in: the ledger's scope, or, for a
        child ledger, its parent's (份号 is unique within its carrier)."""
        return f"{ledger.unique_scope}#{parent_id}" if ledger.parent is not None else ledger.unique_scope

    # -- validation ------------------------------------------------------------------------

    def normalise(self, ledger: Ledger, raw: Mapping[str, Any], *, current: Mapping[str, Any] | None = None
                  ) -> tuple[dict[str, Any], dict[str, str]]:
        """Typed values from ``raw`` over ``current`` (or the defaults) and the faults found,
        without looking at the database: types, 密级 with its period, required fields and
        computed values."""
        plan = _plan(ledger)
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        if not raw.keys() <= plan.names:
            unknown = set(raw) - plan.names
            raise ServiceError(f"{ledger.title}没有这些字段:{'、'.join(sorted(unknown))}")
        for f in plan.typed:
            name = f.name
            if name in raw:
                try:
                    values[name] = f.normalise(raw[name])
                except FieldError as exc:
                    errors[name] = str(exc)
            elif current is not None:
                values[name] = current.get(name)
            else:
                values[name] = f.default
        for f in plan.marked:  # 机密★10年 fills the period too, unless the period is given itself
            if f.name in raw and f.name not in errors and is_blank(raw.get(f.type.period_field)):
                try:
                    _level, period = parse_marking(raw[f.name], f.type.allowed)
                except FieldError:
                    period = None
                if period is not None:
                    values[f.type.period_field] = period
        for name in plan.required:
            if values.get(name) is None and name not in errors:
                errors[name] = "必填,不能为空"
        if not errors:
            for f in plan.computed:
                values[f.name] = f.compute(values)
        return values, errors

    def validate(self, ledger: Ledger, raw: Mapping[str, Any], *, current: Mapping[str, Any] | None = None,
                 record_id: int | None = None, session: Session | None = None, parent_id: int | None = None,
                 resolver: Resolver | None = None) -> dict[str, Any]:
        """Normalise ``raw`` over ``current`` values; raise ValidationFailed naming each field.

        Without a session only what the values say is checked (a form's field as it is left);
        with one, references are resolved, the ledger's rules run over the records they point
        to, and uniqueness is checked against the database.
        """
        values, errors = self.normalise(ledger, raw, current=current)
        if not errors and session is not None:
            resolver = resolver or self._resolver(session, preview=False)
            errors.update(self._resolve(ledger, values, resolver, current))
            if not errors:
                errors.update(self._rules(session, ledger, values, record_id))
            if not errors:
                errors.update(self._unique_errors(session, ledger, values, record_id, parent_id))
        if errors:
            raise ValidationFailed(errors, _labels(ledger))
        return values

    def _resolve(self, ledger: Ledger, values: dict[str, Any], resolver: Resolver,
                 current: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Resolve the references; a voided record may stay where the record (``current``)
        already names it, but is not named anew (chosen by id before it was voided)."""
        errors = {}
        for f in ledger.reference_fields:
            try:
                values[f.name] = resolver.resolve(ledger, f, values.get(f.name), values)
            except FieldError as exc:
                errors[f.name] = str(exc)
                continue
            held = {r.id for r in f.refs((current or {}).get(f.name))}
            gone = [r for r in f.refs(values[f.name]) if r.voided and r.id not in held]
            if gone:
                errors[f.name] = f"“{gone[0].text}”已作废,不能引用"
        return errors

    def _rules(self, session: Session, ledger: Ledger, values: Mapping[str, Any], record_id: int | None,
               *, replaced: RecordView | None = None) -> dict[str, str]:
        """Run the ledger's rules; ``replaced`` stands in for the stored version of a record
        being changed (a referring record's rules are checked against the change)."""
        if not ledger.rules:
            return {}
        loaded: dict[str, list[RecordView]] = {}

        def referenced(name: str) -> list[RecordView]:
            if name not in loaded:
                refs = [r for r in ledger.field(name).refs(values.get(name)) if r.id is not None]
                loaded[name] = [replaced if replaced is not None and r.id == replaced.id else self._get_view(session, r.id)
                                for r in refs]
            return loaded[name]

        errors: dict[str, str] = {}
        context = RuleContext(values=values, record_id=record_id, referenced=referenced)
        for rule in ledger.rules:
            for name, message in rule(context).items():
                errors.setdefault(name, message)
        return errors

    def _referrers_rules(self, session: Session, changed: RecordView) -> dict[str, str]:
        """A change to a record may break a rule of a record that refers to it (a computer
        raised to 绝密 above the printer it uses): those rules run against the change."""
        errors = {}
        repo = RecordRepository(session)
        for ledger, _f, rid in repo.referrers(changed.id):
            if not ledger.rules:
                continue
            other = self._get_view(session, rid)
            found = self._rules(session, ledger, other.values, rid, replaced=changed)
            if found:
                errors[RELATED] = f"{ledger.noun} {other.label} 将不符合规定:" + ";".join(found.values())
                break
        return errors

    @staticmethod
    def unique_keys(ledger: Ledger, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [(f.name, key) for f in ledger.unique_fields for key in f.unique_keys(values.get(f.name))]

    def _unique_errors(self, session: Session, ledger: Ledger, values: Mapping[str, Any], record_id: int | None,
                       parent_id: int | None = None) -> dict[str, str]:
        repo = RecordRepository(session)
        clashes = repo.clashes(self._scope(ledger, parent_id), self.unique_keys(ledger, values), record_id)
        errors: dict[str, str] = {}
        for (name, key), other in clashes.items():
            errors.setdefault(name, self._clash_message(session, ledger.field(name), values[name], key, other))
        return errors

    def _clash_message(self, session: Session, f: Field, value: Any, key: str, other: Record) -> str:
        values = value if f.many else [value]
        shown = next((f.type.display(v) for v in values if str(f.type.to_storage(v)).casefold() == key), key)
        other_ledger = LEDGERS.get(other.ledger)
        noun = other_ledger.noun if other_ledger else other.ledger
        owner_text = ""
        if other_ledger is not None:
            view = self._get_view(session, other.id)
            owner = next((view.display(n) for n in ("user", "responsible_person") if other_ledger.has_field(n)
                          and view.values.get(n)), "")
            owner_text = f"({owner})" if owner else ""
        voided = "(已作废)" if other.voided else ""
        return f"“{shown}”已登记在{noun} {other.label}{owner_text}{voided}上,不能重复"

    # -- people and references ----------------------------------------------------------------

    def _resolver(self, session: Session, *, preview: bool, batch: dict | None = None,
                  pending: dict[int, tuple[str, str | None]] | None = None) -> Resolver:
        """``pending`` (an import): a new person gets an id at once but is stored only when a
        row that is kept refers to them (:meth:`create_many`), so that a refused row adds no one."""
        def add_person(name: str, department: str | None) -> int | None:
            if preview:
                return None
            if pending is not None:
                self._person_values(name, department)
                record_id = RecordRepository(session).allocate_ids(1)[0]
                pending[record_id] = (name, department)
                return record_id
            return self._add_person(session, name, department)

        return Resolver(RecordRepository(session), add_person, batch=batch or {})

    def _person_values(self, name: str, department: str | None) -> dict[str, Any]:
        values, errors = self.normalise(PEOPLE, {"name": name, "department": department or None})
        if errors:
            raise FieldError("无法把“" + name + "”加入人员名册:" + ";".join(errors.values()))
        return values

    def _add_person(self, session: Session, name: str, department: str | None, record_id: int | None = None) -> int:
        """A name not yet in the register becomes a person (人员), recorded like any other."""
        values = self._person_values(name, department)
        values["status"] = PEOPLE.lifecycle.initial
        repo = RecordRepository(session)
        if record_id is None:
            record_id = repo.allocate_ids(1)[0]
        values[PEOPLE.key_field] = self._next_number(session, PEOPLE)
        now = self.clock()
        repo.insert(PEOPLE, [(record_id, values, None)], now, lambda p: self._scope(PEOPLE, p))
        self._event(session, PEOPLE, record_id, now, "create", reason="登记其他台账时新增")
        audit.append(session, self.actor, "record.create", f"{PEOPLE.key}:{values[PEOPLE.key_field]}",
                     {"ledger": PEOPLE.title, "record_id": record_id, "name": name}, at=now)
        return record_id

    def _next_number(self, session: Session, ledger: Ledger, taken: frozenset[str] | set[str] = frozenset()) -> str:
        """The next free automatic number (RY-0001 …), past every number in use and the
        (case-folded) ``taken`` ones (numbers given to other rows of the same import). Remembered
        for the transaction, so that an import numbering many records reads the numbers once."""
        from mibao_desktop.db.schema import table_of

        counters = session.info.setdefault("mibao_numbers", {})
        if ledger.key not in counters:
            t = table_of(ledger)
            prefix = ledger.auto_number.split("{", 1)[0]
            highest = 0
            for number in session.scalars(select(t.c[ledger.key_field]).where(t.c[ledger.key_field].like(prefix + "%"))):
                tail = str(number)[len(prefix):]
                if tail.isdigit():
                    highest = max(highest, int(tail))
            counters[ledger.key] = highest
        repo = RecordRepository(session)
        while True:
            counters[ledger.key] += 1
            number = ledger.auto_number.format(counters[ledger.key])
            if number.casefold() not in taken and not repo.clashes(
                    ledger.unique_scope, [(ledger.key_field, number.casefold())], None):
                return number

    def referrers(self, record_id: int, *, include_voided: bool = False) -> list[Referrer]:
        """Every record that refers to this one (a person's devices, a computer's printers)."""
        with self._read() as session:
            return self._referrers(session, record_id, include_voided=include_voided)

    def _referrers(self, session: Session, record_id: int, *, include_voided: bool = False) -> list[Referrer]:
        repo = RecordRepository(session)
        out = []
        for ledger, f, rid in repo.referrers(record_id, include_voided=include_voided):
            row = repo.row(ledger, rid)
            out.append(Referrer(ledger, rid, str(row[ledger.label_field]), f.label, row["status"], bool(row["voided"])))
        return out

    def suggestions(self, ledger_key: str | Ledger, field_name: str, text: str, limit: int = 20
                    ) -> list[tuple[Ref, str]]:
        """What a reference field may be completed with as the user types: (reference, text
        shown in the list), people told apart by department and number."""
        ledger = self.ledger(ledger_key)
        f = ledger.field(field_name)
        text = clean_text(text or "")
        out: list[tuple[Ref, str]] = []
        with self._read() as session:
            repo = RecordRepository(session)
            for key in f.type.targets:
                target = LEDGERS[key]
                for row in repo.suggest(target, text, limit):
                    label = str(row[target.label_field])
                    shown = person_text(row) if target is PEOPLE else f"{label}({target.noun})" \
                        if len(f.type.targets) > 1 else label
                    out.append((Ref(row["id"], label), shown))
        return out[:limit]

    # -- writes ----------------------------------------------------------------------------

    def _event(self, session: Session, ledger: Ledger, record_id: int, now: dt.datetime, action: str, *,
               reason: str | None = None, effective_date: dt.date | None = None,
               changes: Iterable[tuple[str, str | None, str | None]] = ()) -> None:
        event = RecordEvent(record_id=record_id, ledger=ledger.key, at=now, actor=self.actor.name, action=action,
                            reason=reason, effective_date=effective_date)
        event.changes = [FieldChange(field=n, old_value=o, new_value=v) for n, o, v in changes]
        session.add(event)
        moved_into = next((v for n, _o, v in changes if n == "status"), "") if action == "status" else ""
        RecordRepository(session).tally(ledger, now.year, action, moved_into or "")

    def create(self, ledger_key: str | Ledger, raw: Mapping[str, Any], *, parent_id: int | None = None) -> RecordView:
        """登记 a new record. Status starts at the lifecycle's initial status."""
        ledger = self.ledger(ledger_key)
        raw = {k: v for k, v in raw.items() if k != "status"}
        with self._write(f"登记{ledger.noun}") as session:
            self._check_parent(session, ledger, parent_id)
            repo = RecordRepository(session)
            if ledger.auto_number and is_blank(raw.get(ledger.key_field)):
                raw[ledger.key_field] = self._next_number(session, ledger)
            values = self.validate(ledger, raw, session=session, parent_id=parent_id)
            values["status"] = ledger.lifecycle.initial
            now = self.clock()
            record_id = repo.allocate_ids(1)[0]
            repo.insert(ledger, [(record_id, values, parent_id)], now, lambda p: self._scope(ledger, p))
            self._event(session, ledger, record_id, now, "create")
            audit.append(session, self.actor, "record.create", f"{ledger.key}:{values[ledger.key_field]}",
                         {"ledger": ledger.title, "record_id": record_id}, at=now)
            self._flush_or_explain(session)
            return self._get_view(session, record_id)

    def _check_parent(self, session: Session, ledger: Ledger, parent_id: int | None) -> None:
        if ledger.parent is None:
            if parent_id is not None:
                raise ServiceError(f"{ledger.noun}不属于其他记录。")
            return
        located = RecordRepository(session).locate(parent_id) if parent_id is not None else None
        if located is None or located.ledger != ledger.parent:
            raise ServiceError(f"{ledger.noun}必须属于一条{LEDGERS[ledger.parent].noun}记录。")
        if located.voided:
            raise LifecycleError(f"{LEDGERS[ledger.parent].noun} {located.label} 已作废,不能再添加{ledger.noun}。")

    def update(self, record_id: int, raw: Mapping[str, Any], *, expected_version: int | None = None,
               reason: str | None = None) -> RecordView:
        """修改 editable fields; each changed field goes into the history with old and new value.
        A new number or name carries through to every record that refers to this one."""
        with self._write("修改台账") as session:
            ledger, row = self._locate(session, record_id, lock=True)
            current = self._view(session, ledger, row)
            if expected_version is not None and expected_version != current.version:
                raise StaleRecord("这条记录在您打开后已被修改,请关闭窗口重新打开后再改。")
            if current.voided:
                raise LifecycleError(f"{current.number} 已作废,不能修改;如需修改请先恢复。")
            if current.status in ledger.lifecycle.terminal:
                raise LifecycleError(f"{current.number} 已{current.status},记录只能查看,不能修改。")
            unknown = set(raw) - {f.name for f in ledger.fields}
            if unknown:
                raise ServiceError(f"{ledger.title}没有这些字段:{'、'.join(sorted(unknown))}")
            locked = [ledger.field(n).label for n in raw if not ledger.field(n).editable
                      and ledger.field(n).compute is None and not is_blank(raw[n])
                      and ledger.field(n).normalise(raw[n]) != current.values.get(n)]
            if locked:
                raise LifecycleError(f"{'、'.join(locked)}不能在此修改,请使用“变更状态”。")
            raw = {k: v for k, v in raw.items() if ledger.field(k).editable}
            if ledger.auto_number and is_blank(raw.get(ledger.key_field, "x")):
                del raw[ledger.key_field]  # 留空时自动编号: a record that has its number keeps it
            for f in ledger.reference_fields:
                if f.many and isinstance(raw.get(f.name), str) and current.values.get(f.name):
                    # the form hands a list back as it showed it (JM-0001(已作废)；JM-0002): an item
                    # shown as a reference the record holds stays that reference
                    shown = {str(r): r for r in current.values[f.name]}
                    raw = {**raw, f.name: [shown.get(part, part) for part in split_values(raw[f.name])]}
            values = self.validate(ledger, raw, current=current.values, record_id=record_id, session=session,
                                   parent_id=current.parent_id)
            changes = [(f, f.display(current.values.get(f.name)), f.display(values.get(f.name)))
                       for f in ledger.fields if values.get(f.name) != current.values.get(f.name)
                       or (f.many and f.is_reference and f.display(values.get(f.name)) != f.display(current.values.get(f.name)))]
            if not changes:
                return current
            changed = RecordView(**{**current.__dict__, "values": values})
            related = self._referrers_rules(session, changed)
            if related:
                raise ValidationFailed(related, _labels(ledger))
            now = self.clock()
            repo = RecordRepository(session)
            repo.write_values(ledger, record_id, current.values, values, now, voided=False)
            repo.set_keys(record_id, self._scope(ledger, current.parent_id), self.unique_keys(ledger, values))
            self._event(session, ledger, record_id, now, "update", reason=reason,
                        changes=[(f.name, old, new) for f, old, new in changes])
            audit.append(session, self.actor, "record.update", f"{ledger.key}:{values[ledger.key_field]}",
                         {"record_id": record_id, "fields": [f.label for f, _, _ in changes]}, at=now)
            if current.label != str(values.get(ledger.label_field) or ""):
                self._carry_label(session, record_id)
            self._flush_or_explain(session)
            return self._get_view(session, record_id)

    def _carry_label(self, session: Session, record_id: int) -> None:
        """A record renumbered (or a person renamed): those that refer to it show and find it
        by its new number (their stored labels and search text follow; their ids never change)."""
        repo = RecordRepository(session)
        for ledger, _f, rid in repo.referrers(record_id, include_voided=True):
            view = self._get_view(session, rid)
            repo.refresh_labels(ledger, rid, view.values)
            repo.reindex(ledger, rid, view.values)

    def change_status(self, record_id: int, new_status: str, *, reason: str = "",
                      effective_date: dt.date | None = None, confirm_referenced: bool = False) -> RecordView:
        """停用/维修/外出/报废/销毁 …: a status change with its date and reason in the history.

        A closing status (报废, 已销毁, a person's 调离 or 离职) needs a reason, and is refused while
        other records refer to the record until the user has seen which (``confirm_referenced``):
        a retired computer still named by a printer, a leaver still holding devices. A terminal
        status ends the record's life.
        """
        reason = clean_text(reason or "", multiline=True)
        with self._write("变更状态") as session:
            ledger, row = self._locate(session, record_id, lock=True)
            lifecycle = ledger.lifecycle
            number = row[ledger.key_field]
            if row["voided"]:
                raise LifecycleError(f"{number} 已作废,不能变更状态。")
            if new_status not in lifecycle.statuses:
                raise LifecycleError(f"“{new_status}”不是{ledger.noun}的状态,应为:{'、'.join(lifecycle.statuses)}")
            if new_status not in lifecycle.allowed_next(row["status"]):
                allowed = "、".join(lifecycle.allowed_next(row["status"])) or "无"
                raise LifecycleError(f"{number} 当前为“{row['status']}”,不能改为“{new_status}”。可改为:{allowed}")
            if new_status in lifecycle.closing and not reason:
                raise ValidationFailed({"reason": f"改为“{new_status}”必须填写原因"}, {"reason": "原因"})
            effective_date = effective_date or self.clock().date()
            if effective_date > self.clock().date():
                raise ValidationFailed({"effective_date": "日期晚于今天,请核对"}, {"effective_date": "日期"})
            if new_status in lifecycle.closing and not confirm_referenced:
                self._refuse_if_referenced(session, ledger, record_id, number, f"改为“{new_status}”")
            now = self.clock()
            old = row["status"]
            RecordRepository(session).set_status(ledger, record_id, old, new_status, now)
            self._event(session, ledger, record_id, now, "status", reason=reason or None,
                        effective_date=effective_date, changes=[("status", old, new_status)])
            audit.append(session, self.actor, "record.status", f"{ledger.key}:{number}",
                         {"record_id": record_id, "from": old, "to": new_status, "reason": reason}, at=now)
            return self._get_view(session, record_id)

    def _refuse_if_referenced(self, session: Session, ledger: Ledger, record_id: int, number: str, doing: str) -> None:
        referrers = self._referrers(session, record_id)
        if referrers:
            shown = "、".join(str(r) for r in referrers[:10]) + (f" 等 {len(referrers)} 条" if len(referrers) > 10 else "")
            raise StillReferenced(f"{ledger.noun} {number} 仍被以下记录引用:{shown}。{doing}后这些记录仍会显示它"
                                  "(标注已作废或已销毁),请确认。", referrers)

    def void(self, record_id: int, reason: str, *, confirm_referenced: bool = False) -> RecordView:
        """作废 a record entered by mistake. It stays, marked, with its history; its number,
        serials and MACs are freed so the record can be entered again correctly. While other
        records refer to it, the user must first have been told which."""
        reason = clean_text(reason or "", multiline=True)
        if not reason:
            raise ValidationFailed({"reason": "作废必须填写原因,例如“重复登记”或“录入错误”"}, {"reason": "原因"})
        with self._write("作废记录") as session:
            ledger, row = self._locate(session, record_id, lock=True)
            number = row[ledger.key_field]
            if row["voided"]:
                raise LifecycleError(f"{number} 已经作废。")
            if not confirm_referenced:
                self._refuse_if_referenced(session, ledger, record_id, number, "作废")
            children = [c for c in children_of(ledger)
                        if RecordRepository(session).count(c, LedgerQuery(parent_id=record_id))]
            if children:
                raise LifecycleError(f"{ledger.noun} {number} 下还有在册的{'、'.join(c.noun for c in children)},"
                                     "请先处理这些记录。")
            current = self._view(session, ledger, row)
            now = self.clock()
            repo = RecordRepository(session)
            repo.set_voided(ledger, record_id, True, reason, now, current.values)
            repo.release_keys(record_id)
            self._event(session, ledger, record_id, now, "void", reason=reason)
            audit.append(session, self.actor, "record.void", f"{ledger.key}:{number}",
                         {"record_id": record_id, "reason": reason}, at=now)
            return self._get_view(session, record_id)

    def restore(self, record_id: int) -> RecordView:
        """恢复 a voided record (undo of a mistaken void), if its unique values are still free."""
        with self._write("恢复记录") as session:
            ledger, row = self._locate(session, record_id, lock=True)
            if not row["voided"]:
                raise LifecycleError(f"{row[ledger.key_field]} 没有作废,无需恢复。")
            current = self._view(session, ledger, row)
            if ledger.parent is not None:  # a copy comes back only under a carrier in use
                parent = RecordRepository(session).locate(current.parent_id)
                if parent is not None and parent.voided:
                    noun = LEDGERS[ledger.parent].noun
                    raise LifecycleError(f"{noun} {parent.label} 已作废,不能恢复其下的{ledger.noun};请先恢复该{noun}。")
            errors = self._unique_errors(session, ledger, current.values, record_id, current.parent_id)
            if errors:
                raise ValidationFailed(errors, _labels(ledger))
            now = self.clock()
            repo = RecordRepository(session)
            repo.set_voided(ledger, record_id, False, None, now, current.values)
            repo.set_keys(record_id, self._scope(ledger, current.parent_id), self.unique_keys(ledger, current.values))
            self._event(session, ledger, record_id, now, "restore")
            audit.append(session, self.actor, "record.restore", f"{ledger.key}:{current.number}",
                         {"record_id": record_id}, at=now)
            self._flush_or_explain(session)
            return self._get_view(session, record_id)

    def revert(self, record_id: int, event_id: int) -> RecordView:
        """撤销 one edit: put back the old values of the fields it changed (itself a new,
        recorded edit, so nothing leaves the history)."""
        with self._read() as session:
            event = session.get(RecordEvent, event_id)
            if event is None or event.record_id != record_id or event.action != "update":
                raise LifecycleError("只能撤销“修改”记录。")
            old = {c.field: c.old_value or None for c in event.changes}
            stamp = event.at.strftime("%Y-%m-%d %H:%M")
        return self.update(record_id, old, reason=f"撤销 {stamp} 的修改")

    def create_many(self, ledger_key: str | Ledger, rows: Iterable[Mapping[str, Any]], *,
                    all_or_nothing: bool = False, dry_run: bool = False, progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None, total: int | None = None,
                    source: str = "") -> BatchResult:
        """Register many records in one transaction (import, sample data).

        Every row is validated like :meth:`create`: references are resolved against the
        database and against the other rows (in any order), new people are added to the
        register, rules run, and duplicates are found against the database and inside the
        batch. Good rows are stored and bad ones named in the result; with
        ``all_or_nothing`` nothing is stored while any row is bad. A ``dry_run`` checks every
        row and stores nothing (an import preview). Cancelling stores nothing.

        A row of a child ledger names its parent by number under the key ``_parent``. A row of
        a ledger with a child ledger may bring its child records under ``_children`` (a carrier
        with its copies): they are checked with it, and a carrier any of whose copies is wrong
        is refused whole, so that no carrier is registered with copies missing.
        """
        ledger = self.ledger(ledger_key)
        result = BatchResult()
        rows = list(rows)
        total = total or len(rows)
        labels = _labels(ledger)
        with self._write(f"导入{ledger.noun}") as session:
            repo = RecordRepository(session)
            # 1. each row on its own: types, required fields, computed values
            staged: list[tuple[int, dict[str, Any], int | None]] = []
            children_raw: dict[int, list[Mapping[str, Any]]] = {}
            for index, raw in enumerate(rows):
                if cancelled and index % 200 == 0 and cancelled():
                    raise Cancelled()
                raw = {k: v for k, v in raw.items() if k != "status"}
                parent_text = raw.pop("_parent", None)
                if "_children" in raw:
                    children_raw[index] = list(raw.pop("_children") or ())
                try:
                    values, errors = self.normalise(ledger, raw)
                except ServiceError as exc:
                    result.refused.append(RowRefusal(index, "", str(exc)))
                    continue
                parent_id = None
                if ledger.parent is not None:
                    parent_id, parent_error = self._parent_by_number(session, ledger, parent_text)
                    if parent_error:
                        errors["_parent"] = parent_error
                if errors:
                    result.refused.extend(RowRefusal(index, labels.get(n, n), m) for n, m in errors.items())
                    continue
                staged.append((index, values, parent_id))
                if progress and index % 500 == 0:
                    progress(index // 2, total)
            # 2. numbers for the new records, so that rows may refer to rows further down
            auto = [v for _, v, _ in staged if ledger.auto_number and v.get(ledger.key_field) is None]
            for values in auto:
                values[ledger.key_field] = None  # numbered when stored (below)
            ids = repo.allocate_ids(len(staged)) if not dry_run else list(range(-len(staged), 0))
            batch = {}
            for (index, values, _), rid in zip(staged, ids):
                if values.get(ledger.key_field):
                    batch.setdefault((ledger.key, str(values[ledger.label_field] or "").casefold()), rid)
            pending: dict[int, tuple[str, str | None]] = {}  # new people, stored if a row kept names them
            resolver = self._resolver(session, preview=dry_run, batch=batch, pending=pending)
            person_names = {ref.text for _, v, _ in staged for f in ledger.reference_fields if f.is_person
                            for ref in f.refs(v.get(f.name)) if ref.id is None and ref.text}
            resolver.prefetch_people(person_names)
            row_keys = [self.unique_keys(ledger, v) for _, v, _ in staged]
            batch_keys = repo.all_keys(ledger.unique_scope, [k for keys in row_keys for k in keys]
                                       ) if ledger.parent is None else {}
            seen_keys: dict[tuple[str, str, str], int] = {}
            good: list[tuple[int, dict[str, Any], int | None]] = []
            for n, ((index, values, parent_id), rid, keys) in enumerate(zip(staged, ids, row_keys)):
                if cancelled and n % 200 == 0 and cancelled():
                    raise Cancelled()
                errors = self._resolve(ledger, values, resolver)
                if not errors:
                    errors = self._rules(session, ledger, values, None)
                if errors:
                    result.refused.extend(RowRefusal(index, labels.get(k, k), m) for k, m in errors.items())
                    continue
                refused = False
                scope = self._scope(ledger, parent_id)
                held = batch_keys if ledger.parent is None else repo.all_keys(scope, keys)
                for name, key in keys:
                    if (name, key) in held:
                        other = repo.locate(held[(name, key)])
                        msg = self._clash_message(session, ledger.field(name), values[name], key, other)
                    elif (scope, name, key) in seen_keys:
                        msg = f"与本批第 {seen_keys[(scope, name, key)] + 1} 条重复"
                    else:
                        continue
                    result.refused.append(RowRefusal(index, labels[name], msg))
                    refused = True
                if refused:
                    continue
                for name, key in keys:
                    seen_keys[(scope, name, key)] = index
                values["status"] = ledger.lifecycle.initial
                good.append((rid, values, parent_id))
                if progress and n % 500 == 0:
                    progress((len(staged) + n) // 2, total)
            good = self._drop_dangling(ledger, good, set(ids), staged, ids, result, labels)
            children: list[tuple[Ledger, int, dict[str, Any], int]] = []
            if children_raw:
                good, children = self._stage_children(session, ledger, good, children_raw, staged, ids, resolver,
                                                      result, dry_run)
            result.accepted = len(good)
            named = [ref for owner, values in [(ledger, v) for _, v, _ in good] + [(c, v) for c, _, v, _ in children]
                     for f in owner.reference_fields if f.is_person for ref in f.refs(values.get(f.name))]
            used = {ref.id for ref in named}
            new_people = [(pid, name, department) for pid, (name, department) in pending.items() if pid in used]
            result.people_added = (list(dict.fromkeys(ref.text for ref in named if ref.id is None)) if dry_run
                                   else [name for _, name, _ in new_people])
            if dry_run or (all_or_nothing and result.refused):
                session.rollback()
                return result
            for pid, name, department in new_people:  # before the rows that refer to them
                self._add_person(session, name, department, record_id=pid)
            now = self.clock()
            given = {key for _rid, values, _ in good for name, key in self.unique_keys(ledger, values)
                     if name == ledger.key_field}  # numbers typed in other rows are not given again
            for rid, values, _ in good:
                if values.get(ledger.key_field) is None and ledger.auto_number:
                    values[ledger.key_field] = self._next_number(session, ledger, given)
            repo.insert(ledger, good, now, lambda p: self._scope(ledger, p))
            for child in {c.key: c for c, _, _, _ in children}.values():
                repo.insert(child, [(rid, v, pid) for c, rid, v, pid in children if c is child], now,
                            lambda p, c=child: self._scope(c, p))
                stored = [rid for c, rid, _, _ in children if c is child]
                repo.bulk_insert(RecordEvent.__table__, [
                    {"record_id": rid, "ledger": child.key, "at": now, "actor": self.actor.name, "action": "import",
                     "reason": source or None, "effective_date": None} for rid in stored])
                repo.tally(child, now.year, "import", n=len(stored))
            if good:
                repo.bulk_insert(RecordEvent.__table__, [
                    {"record_id": rid, "ledger": ledger.key, "at": now, "actor": self.actor.name, "action": "import",
                     "reason": source or None, "effective_date": None} for rid, _, _ in good])
                repo.tally(ledger, now.year, "import", n=len(good))
            result.created = [rid for rid, _, _ in good]
            audit.append(session, self.actor, "record.import", ledger.key,
                         {"ledger": ledger.title, "created": len(good),
                          "refused_rows": len({r.index for r in result.refused}), "source": source,
                          "people_added": result.people_added[:200],
                          "asset_numbers": [v[ledger.key_field] for _, v, _ in good[:1000]]}, at=now)
            if cancelled and cancelled():
                raise Cancelled()
            if progress:
                progress(total, total)
        return result

    def _stage_children(self, session: Session, ledger: Ledger, good: list, children_raw: dict, staged: list,
                        ids: list[int], resolver: Resolver, result: BatchResult, dry_run: bool):
        """Check the child records brought with each good parent row; a parent with any bad
        child is refused with it. Returns the parents kept and their children to store."""
        kinds = children_of(ledger)
        if len(kinds) != 1:
            raise ServiceError(f"{ledger.noun}没有可以一同导入的下级记录。")
        child = kinds[0]
        labels = _labels(child)
        index_of = {rid: index for (index, _v, _p), rid in zip(staged, ids)}
        kept, out = [], []
        for rid, values, parent_id in good:
            index = index_of[rid]
            bad = False
            seen: dict[tuple[str, str], int] = {}
            staged_children = []
            for position, raw in enumerate(children_raw.get(index, ())):
                raw = {k: v for k, v in raw.items() if k not in ("status", "_parent")}
                cvalues, errors = self.normalise(child, raw)
                if not errors:
                    errors = self._resolve(child, cvalues, resolver)
                for name, key in ([] if errors else self.unique_keys(child, cvalues)):
                    if (name, key) in seen:
                        errors[name] = f"与同一{ledger.noun}的另一行重复"
                    seen[(name, key)] = position
                if errors:
                    bad = True
                    result.refused.extend(RowRefusal(index, labels.get(k, k), m, child=position)
                                          for k, m in errors.items())
                    continue
                cvalues["status"] = child.lifecycle.initial
                staged_children.append(cvalues)
            if bad:
                result.refused.append(RowRefusal(index, "", f"其下的{child.noun}有误,这条{ledger.noun}连同其{child.noun}都未导入"))
                continue
            kept.append((rid, values, parent_id))
            child_ids = RecordRepository(session).allocate_ids(len(staged_children)) if not dry_run else \
                [-1] * len(staged_children)
            out.extend((child, cid, cvalues, rid) for cid, cvalues in zip(child_ids, staged_children))
        return kept, out

    @staticmethod
    def _drop_dangling(ledger: Ledger, good: list, batch_ids: set[int], staged: list, ids: list[int],
                       result: BatchResult, labels: dict[str, str]) -> list:
        """Rows that refer to a row of the same import which was refused cannot be stored
        either: refuse them too, naming the row they depend on."""
        index_of = {rid: index for (index, _v, _p), rid in zip(staged, ids)}
        while True:
            stored = {rid for rid, _, _ in good}
            kept, dropped = [], False
            for rid, values, parent_id in good:
                missing = [(f, ref) for f in ledger.reference_fields for ref in f.refs(values.get(f.name))
                           if ref.id in batch_ids and ref.id not in stored]
                if missing:
                    f, ref = missing[0]
                    result.refused.append(RowRefusal(index_of[rid], labels[f.name],
                                                     f"引用的“{ref.text}”在本批第 {index_of[ref.id] + 1} 条,该条未能导入"))
                    dropped = True
                else:
                    kept.append((rid, values, parent_id))
            good = kept
            if not dropped:
                return good

    def _parent_by_number(self, session: Session, ledger: Ledger, text: Any) -> tuple[int | None, str]:
        parent = LEDGERS[ledger.parent]
        if is_blank(text):
            return None, f"须填写所属{parent.noun}的编号"
        try:
            number = parent.field(parent.key_field).normalise(text)
        except FieldError as exc:  # too long, control characters: this row's fault, not the import's
            return None, f"所属{parent.noun}的编号有误:{exc}"
        row = RecordRepository(session).by_key(parent, number)
        if row is None or row["voided"]:
            return None, f"没有编号为“{number}”的{parent.noun}"
        return row["id"], ""

    @staticmethod
    def _flush_or_explain(session: Session) -> None:
        try:
            session.flush()
        except IntegrityError:
            # The friendly check runs first; this is the database's backstop against a race.
            raise ServiceError(DUPLICATE) from None

    def import_mapping(self, ledger_key: str | Ledger) -> dict[str, str]:
        """The column mapping the user chose in the last import of this ledger (header → field)."""
        from mibao_desktop.services import settings

        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return dict(settings.read(session, f"import_mapping.{ledger.key}", {}) or {})

    def save_import_mapping(self, ledger_key: str | Ledger, mapping: Mapping[str, str]) -> None:
        from mibao_desktop.services import settings

        ledger = self.ledger(ledger_key)
        with self._write("保存导入列对应") as session:
            settings.write(session, f"import_mapping.{ledger.key}", dict(mapping), self.actor.name, self.clock())

    def record_output(self, action: str, ledger_key: str | Ledger, target: str, count: int,
                      detail: dict[str, Any] | None = None) -> None:
        """Audit an output of information (导出, 打印): what, how many records, to where
        (seed 002 §七.5: 严格控制信息输出)."""
        ledger = self.ledger(ledger_key)
        with self._write("输出台账信息") as session:
            audit.append(session, self.actor, action, target,
                         {"ledger": ledger.title, "count": count, **(detail or {})}, at=self.clock())

    # -- reads -----------------------------------------------------------------------------

    def get(self, record_id: int) -> RecordView:
        with self._read() as session:
            return self._get_view(session, record_id)

    def get_many(self, ids: Sequence[int]) -> list[RecordView]:
        """Records by id, in that order (a selection of the table)."""
        with self._read() as session:
            return [self._get_view(session, i) for i in ids]

    def find(self, ledger_key: str | Ledger, number: str, *, parent_id: int | None = None) -> RecordView | None:
        ledger = self.ledger(ledger_key)
        key = ledger.field(ledger.key_field).normalise(number)
        with self._read() as session:
            row = RecordRepository(session).by_key(ledger, key, parent_id=parent_id)
            return self._view(session, ledger, row) if row else None

    def query(self, ledger_key: str | Ledger, query: LedgerQuery, *, count: bool = True) -> Page:
        """One page and the number of matches. With ``count=False`` the number is given only
        when it comes free with the page (``Page.total`` None otherwise): the table shows the
        page of a broad search at once and asks :meth:`count` after it, off the UI thread."""
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            rows, total = RecordRepository(session).page_with_total(ledger, query, count=count)
            return Page(self._views(session, ledger, rows), total)

    def count(self, ledger_key: str | Ledger, query: LedgerQuery | None = None) -> int:
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return RecordRepository(session).count(ledger, query or LedgerQuery())

    def facet_counts(self, ledger_key: str | Ledger, name: str) -> dict[str, int]:
        """How many records (in use, not voided) hold each value of a facet (状态, 密级 …)."""
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return RecordRepository(session).facet_counts(ledger, name)

    def rows(self, ledger_key: str | Ledger, query: LedgerQuery) -> list[RecordView]:
        """One page without counting (the table model fetches pages as it scrolls)."""
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            rows, _total = RecordRepository(session).page_with_total(ledger, query, count=False)
            return self._views(session, ledger, rows)

    def children(self, parent_id: int, ledger_key: str | Ledger | None = None, *, include_voided: bool = False
                 ) -> list[RecordView]:
        """The records that belong to a parent (a carrier's copies), in number order."""
        with self._read() as session:
            parent_ledger = LEDGERS[RecordRepository(session).locate(parent_id).ledger]
            kinds = [self.ledger(ledger_key)] if ledger_key else list(children_of(parent_ledger))
            out = []
            for child in kinds:
                rows = RecordRepository(session).page(child, LedgerQuery(parent_id=parent_id, limit=None,
                                                                          include_voided=include_voided))
                out.extend(self._views(session, child, rows))
            return out

    def iter_all(self, ledger_key: str | Ledger, query: LedgerQuery | None = None,
                 batch: int = 2000) -> Iterator[RecordView]:
        """Every matching record, page by page (exports)."""
        base = query or LedgerQuery()
        offset = 0
        while True:
            page = self.rows(ledger_key, base.but(offset=offset, limit=batch))
            yield from page
            if len(page) < batch:
                return
            offset += batch

    def stream(self, ledger_key: str | Ledger, query: LedgerQuery | None = None, *,
               fields: Sequence[str] | None = None):
        """For an export: the count, the highest level and every row's typed values, read in
        one transaction (a consistent snapshot) with a small page cache. Use as a context manager."""
        from mibao_desktop.services.value_stream import ValueStream

        require(self.actor, *LEDGER_ROLES, doing="导出台账")
        return ValueStream(self, self.ledger(ledger_key), query or LedgerQuery(), fields)

    def distinct_values(self, ledger_key: str | Ledger, name: str) -> list[str]:
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return RecordRepository(session).distinct_values(ledger, name)

    def changes_between(self, start: dt.datetime, end: dt.datetime, ledger_key: str | Ledger | None = None
                        ) -> Iterator[ChangeRow]:
        """Every event (of one ledger, or all) from ``start`` up to ``end``, oldest first (streamed)."""
        only = self.ledger(ledger_key).key if ledger_key else None
        last = 0
        while True:
            with self._read() as session:
                stmt = (select(RecordEvent, Record.label)
                        .join(Record, Record.id == RecordEvent.record_id)
                        .where(RecordEvent.at >= start, RecordEvent.at < end, RecordEvent.id > last)
                        .order_by(RecordEvent.id).limit(2000))
                if only:
                    stmt = stmt.where(RecordEvent.ledger == only)
                rows = session.execute(stmt).all()
                out = []
                for event, number in rows:
                    ledger = LEDGERS[event.ledger]
                    labels = _labels(ledger)
                    changes = tuple(FieldChangeView(c.field, labels.get(c.field, c.field), c.old_value or "",
                                                    c.new_value or "") for c in event.changes)
                    out.append(ChangeRow(event.id, event.at, event.actor, event.action, event.reason,
                                         event.effective_date, changes, ledger, number))
                    last = event.id
            if not out:
                return
            yield from out

    def year_counts(self, ledger_key: str | Ledger, year: int) -> dict[tuple[str, str], int]:
        """How many of each kind of event a ledger had in a year: (action, status moved into) → n,
        from the tallies kept with every event (a few rows, whatever the ledger's size)."""
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return RecordRepository(session).tallies(ledger, year)

    def history(self, record_id: int) -> list[HistoryEntry]:
        """The record's history, newest first, with each changed field's old and new value."""
        with self._read() as session:
            ledger, _row = self._locate(session, record_id)
            events = session.scalars(
                select(RecordEvent).where(RecordEvent.record_id == record_id).order_by(RecordEvent.id.desc())
            ).all()
            labels = _labels(ledger)
            return [
                HistoryEntry(
                    id=e.id, at=e.at, actor=e.actor, action=e.action, reason=e.reason, effective_date=e.effective_date,
                    changes=tuple(FieldChangeView(c.field, labels.get(c.field, c.field), c.old_value or "",
                                                  c.new_value or "") for c in e.changes),
                )
                for e in events
            ]


__all__ = [
    "BatchResult", "ChangeRow", "FieldChangeView", "HistoryEntry", "LedgerQuery", "LedgerService", "Page",
    "RecordView", "Referrer", "RowRefusal", "StillReferenced",
]
