"""The ledger service: every read and write of ledger records.

Each write checks the role, validates against the ledger's declaration, runs in one
transaction with its history event and audit entry, and either all of it is stored or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import FieldChange, Record, RecordEvent, UniqueValue
from mibao_desktop.ledgers import LEDGERS, Ledger, get_ledger
from mibao_desktop.ledgers.fields import Field
from mibao_desktop.ledgers.normalize import FieldError, clean_text
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit
from mibao_desktop.errors import (
    Cancelled,
    LifecycleError,
    NotFound,
    ServiceError,
    StaleRecord,
    ValidationFailed,
)
from mibao_desktop.services.repository import LedgerQuery, RecordRepository, build_search_text

LEDGER_ROLES = (Role.SECURITY_ADMIN,)  # 三员分立: only the security administrator keeps ledgers

ACTION_LABELS = {
    "create": "登记",
    "update": "修改",
    "status": "状态变更",
    "void": "作废",
    "restore": "恢复",
    "import": "导入",
}


@dataclass(frozen=True)
class RecordView:
    """A record as the UI, reports and labels see it: typed values, no ORM object."""

    id: int
    ledger: Ledger
    values: Mapping[str, Any]
    voided: bool
    void_reason: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def asset_number(self) -> str:
        return self.values[self.ledger.key_field]

    @property
    def status(self) -> str:
        return self.values["status"]

    def display(self, name: str) -> str:
        return self.ledger.field(name).display(self.values.get(name))


@dataclass(frozen=True)
class FieldChangeView:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    reason: str | None
    effective_date: dt.date | None
    changes: tuple[FieldChangeView, ...]

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def revertible(self) -> bool:
        return self.action == "update" and bool(self.changes)


@dataclass(frozen=True)
class ChangeRow(HistoryEntry):
    """One event of any record in a period (the annual report's changes sheet)."""

    ledger: Ledger
    asset_number: str


@dataclass(frozen=True)
class Page:
    rows: list[RecordView]
    total: int


@dataclass(frozen=True)
class RowRefusal:
    """A row of a batch that was not stored: its index in the batch, the field and why."""

    index: int
    field: str  # Chinese label, "" when the row as a whole is refused
    message: str


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)
    refused: list[RowRefusal] = field(default_factory=list)
    accepted: int = 0  # rows that passed every check (stored, unless a dry run or all-or-nothing)


Progress = Callable[[int, int], None]


class ValueStream:
    """See LedgerService.stream."""

    def __init__(self, service: "LedgerService", ledger: Ledger, query: LedgerQuery,
                 fields: Sequence[str] | None) -> None:
        self.service, self.ledger, self.query = service, ledger, query
        self.fields = [ledger.field(n) for n in fields] if fields else list(ledger.fields)

    def __enter__(self) -> "ValueStream":
        from mibao_desktop.db.database import STREAM_CACHE_KIB

        self.session = self.service._read("导出台账")
        self.session.begin()
        self.sqlite = self.session.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            self.session.connection().exec_driver_sql(f"PRAGMA cache_size=-{STREAM_CACHE_KIB}")
        self.repo = RecordRepository(self.session)
        self.total = self.repo.count(self.ledger, self.query)
        return self

    def __exit__(self, *exc) -> None:
        from mibao_desktop.db.database import CACHE_KIB

        try:
            if self.sqlite:
                self.session.connection().exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        finally:
            self.session.rollback()
            self.session.close()

    def has_level(self, level: str) -> bool:
        q = self.query
        probe = LedgerQuery(text=q.text, filters={**q.filters, "level": level}, include_voided=q.include_voided,
                            parent_id=q.parent_id, limit=1)
        return bool(self.repo.page(self.ledger, probe))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        q = self.query
        whole = LedgerQuery(text=q.text, filters=dict(q.filters), include_voided=q.include_voided,
                            parent_id=q.parent_id, sort=q.sort, descending=q.descending, limit=None)
        stmt = self.repo._ordered(select(Record.data, Record.status), self.ledger, whole)
        for data, status in self.session.execute(stmt.execution_options(yield_per=2000)):
            yield {f.name: status if f.name == "status" else f.from_storage(data.get(f.name)) for f in self.fields}


class LedgerService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db = db
        self.actor = actor
        self.clock = clock

    # -- helpers ---------------------------------------------------------------------------

    def _read(self, doing: str = "查看台账") -> Session:
        require(self.actor, *LEDGER_ROLES, doing=doing)
        return self.db.session()

    def _write(self, doing: str) -> Session:
        """A session whose transaction the caller commits; roll back on any error."""
        require(self.actor, *LEDGER_ROLES, doing=doing)
        return self.db.session()

    @staticmethod
    def ledger(key: str | Ledger) -> Ledger:
        return key if isinstance(key, Ledger) else get_ledger(key)

    @staticmethod
    def view(record: Record) -> RecordView:
        ledger = LEDGERS[record.ledger]
        values = {f.name: f.from_storage(record.data.get(f.name)) for f in ledger.fields}
        values["status"] = record.status
        return RecordView(
            id=record.id, ledger=ledger, values=values, voided=record.voided,
            void_reason=record.void_reason, version=record.version,
            created_at=record.created_at, updated_at=record.updated_at,
        )

    def _get(self, session: Session, record_id: int) -> Record:
        record = RecordRepository(session).get(record_id)
        if record is None:
            raise NotFound(f"找不到编号为 {record_id} 的记录,它可能已被删除或数据库已更换。")
        return record

    # -- validation ------------------------------------------------------------------------

    def validate(self, ledger: Ledger, raw: Mapping[str, Any], *, current: Mapping[str, Any] | None = None,
                 record_id: int | None = None, session: Session | None = None) -> dict[str, Any]:
        """Normalise ``raw`` over ``current`` values; raise ValidationFailed naming each field.

        Checks types, required fields, the ledger's cross-field rules and uniqueness against
        the database (when a session is given).
        """
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for f in ledger.fields:
            if f.name in raw:
                try:
                    values[f.name] = f.normalise(raw[f.name])
                except FieldError as exc:
                    errors[f.name] = str(exc)
                    continue
            elif current is not None:
                values[f.name] = current.get(f.name)
            else:
                values[f.name] = f.default
            if values[f.name] is None and f.required:
                errors[f.name] = "必填,不能为空"
        unknown = set(raw) - {f.name for f in ledger.fields}
        if unknown:
            raise ServiceError(f"{ledger.title}没有这些字段:{'、'.join(sorted(unknown))}")
        if not errors:
            for rule in ledger.rules:
                errors.update(rule(values))
        if not errors and session is not None:
            errors.update(self._unique_errors(session, ledger, values, record_id))
        if errors:
            raise ValidationFailed(errors, {f.name: f.label for f in ledger.fields})
        return values

    @staticmethod
    def unique_keys(ledger: Ledger, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [(f.name, key) for f in ledger.unique_fields for key in f.unique_keys(values.get(f.name))]

    def _unique_errors(self, session: Session, ledger: Ledger, values: Mapping[str, Any],
                       record_id: int | None) -> dict[str, str]:
        clashes = RecordRepository(session).clashes(ledger.unique_scope, self.unique_keys(ledger, values), record_id)
        errors: dict[str, str] = {}
        for (name, _key), other in clashes.items():
            errors.setdefault(name, self._clash_message(ledger.field(name), values[name], _key, other))
        return errors

    @staticmethod
    def _clash_message(f: Field, value: Any, key: str, other: Record) -> str:
        values = value if f.many else [value]
        shown = next((f.type.display(v) for v in values if str(f.type.to_storage(v)).casefold() == key), key)
        other_ledger = LEDGERS.get(other.ledger)
        noun = other_ledger.noun if other_ledger else other.ledger
        owner = other.data.get("user") or other.data.get("responsible_person") or ""
        owner_text = f"({owner})" if owner else ""
        voided = "(已作废)" if other.voided else ""
        return f"“{shown}”已登记在{noun} {other.asset_number}{owner_text}{voided}上,不能重复"

    # -- writes ----------------------------------------------------------------------------

    @staticmethod
    def _stored(ledger: Ledger, values: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON ``data`` of a record: empty fields are left out (they read back as None)."""
        return {f.name: f.to_storage(values[f.name]) for f in ledger.fields
                if f.name != "status" and values.get(f.name) is not None}

    def _new_record(self, ledger: Ledger, values: Mapping[str, Any], now: dt.datetime,
                    parent_id: int | None = None) -> Record:
        return Record(
            ledger=ledger.key, parent_id=parent_id, asset_number=values[ledger.key_field],
            status=values["status"] or ledger.lifecycle.initial, voided=False,
            data=self._stored(ledger, values),
            search_text=build_search_text(ledger, values), created_at=now, updated_at=now, version=1,
        )

    def create(self, ledger_key: str | Ledger, raw: Mapping[str, Any], *, parent_id: int | None = None) -> RecordView:
        """登记 a new record. Status starts at the lifecycle's initial status."""
        ledger = self.ledger(ledger_key)
        raw = {k: v for k, v in raw.items() if k != "status"}
        with self._write(f"登记{ledger.noun}") as session, session.begin():
            if ledger.parent is not None:
                parent = self._get(session, parent_id) if parent_id is not None else None
                if parent is None or parent.ledger != ledger.parent:
                    raise ServiceError(f"{ledger.noun}必须属于一条{LEDGERS[ledger.parent].noun}记录。")
            values = self.validate(ledger, raw, session=session)
            values["status"] = ledger.lifecycle.initial
            now = self.clock()
            record = self._new_record(ledger, values, now, parent_id)
            session.add(record)
            session.flush()
            RecordRepository(session).set_keys(record, ledger.unique_scope, self.unique_keys(ledger, values))
            session.add(RecordEvent(record_id=record.id, at=now, actor=self.actor.name, action="create"))
            audit.append(session, self.actor, "record.create", f"{ledger.key}:{record.asset_number}",
                         {"ledger": ledger.title, "record_id": record.id}, at=now)
            self._flush_or_explain(session)
            return self.view(record)

    def update(self, record_id: int, raw: Mapping[str, Any], *, expected_version: int | None = None,
               reason: str | None = None) -> RecordView:
        """修改 editable fields; each changed field goes into the history with old and new value."""
        with self._write("修改台账") as session, session.begin():
            record = self._get(session, record_id)
            current = self.view(record)
            ledger = current.ledger
            if expected_version is not None and expected_version != record.version:
                raise StaleRecord("这条记录在您打开后已被修改,请关闭窗口重新打开后再改。")
            if record.voided:
                raise LifecycleError(f"{current.asset_number} 已作废,不能修改;如需修改请先恢复。")
            if current.status in ledger.lifecycle.terminal:
                raise LifecycleError(f"{current.asset_number} 已{current.status},记录只能查看,不能修改。")
            unknown = set(raw) - {f.name for f in ledger.fields}
            if unknown:
                raise ServiceError(f"{ledger.title}没有这些字段:{'、'.join(sorted(unknown))}")
            locked = [ledger.field(n).label for n in raw if not ledger.field(n).editable
                      and ledger.field(n).normalise(raw[n]) != current.values.get(n)]
            if locked:
                raise LifecycleError(f"{'、'.join(locked)}不能在此修改,请使用“变更状态”。")
            raw = {k: v for k, v in raw.items() if ledger.field(k).editable}
            values = self.validate(ledger, raw, current=current.values, record_id=record.id, session=session)
            changes = [
                (f, f.display(current.values.get(f.name)), f.display(values.get(f.name)))
                for f in ledger.fields if values.get(f.name) != current.values.get(f.name)
            ]
            if not changes:
                return current
            now = self.clock()
            self._store(record, ledger, values, now)
            RecordRepository(session).set_keys(record, ledger.unique_scope, self.unique_keys(ledger, values))
            event = RecordEvent(record_id=record.id, at=now, actor=self.actor.name, action="update", reason=reason)
            event.changes = [FieldChange(field=f.name, old_value=old, new_value=new) for f, old, new in changes]
            session.add(event)
            audit.append(session, self.actor, "record.update", f"{ledger.key}:{record.asset_number}",
                         {"record_id": record.id, "fields": [f.label for f, _, _ in changes]}, at=now)
            self._flush_or_explain(session)
            return self.view(record)

    def _store(self, record: Record, ledger: Ledger, values: Mapping[str, Any], now: dt.datetime) -> None:
        record.data = self._stored(ledger, values)
        record.asset_number = values[ledger.key_field]
        record.status = values["status"]
        record.search_text = build_search_text(ledger, values)
        record.updated_at = now
        record.version += 1

    def change_status(self, record_id: int, new_status: str, *, reason: str = "",
                      effective_date: dt.date | None = None) -> RecordView:
        """停用/维修/外出/报废/销毁 …: a status change with its date and reason in the history.

        A closing status (报废, 已销毁) needs a reason; a terminal one ends the record's life.
        """
        reason = clean_text(reason or "", multiline=True)
        with self._write("变更状态") as session, session.begin():
            record = self._get(session, record_id)
            current = self.view(record)
            ledger = current.ledger
            lifecycle = ledger.lifecycle
            if record.voided:
                raise LifecycleError(f"{current.asset_number} 已作废,不能变更状态。")
            if new_status not in lifecycle.statuses:
                raise LifecycleError(f"“{new_status}”不是{ledger.noun}的状态,应为:{'、'.join(lifecycle.statuses)}")
            if new_status not in lifecycle.allowed_next(record.status):
                allowed = "、".join(lifecycle.allowed_next(record.status)) or "无"
                raise LifecycleError(f"{current.asset_number} 当前为“{record.status}”,不能改为“{new_status}”。可改为:{allowed}")
            if new_status in lifecycle.closing and not reason:
                raise ValidationFailed({"reason": f"改为“{new_status}”必须填写原因"}, {"reason": "原因"})
            effective_date = effective_date or self.clock().date()
            if effective_date > self.clock().date():
                raise ValidationFailed({"effective_date": "日期晚于今天,请核对"}, {"effective_date": "日期"})
            now = self.clock()
            old = record.status
            record.status = new_status
            record.updated_at = now
            record.version += 1
            event = RecordEvent(record_id=record.id, at=now, actor=self.actor.name, action="status",
                                reason=reason or None, effective_date=effective_date)
            event.changes = [FieldChange(field="status", old_value=old, new_value=new_status)]
            session.add(event)
            audit.append(session, self.actor, "record.status", f"{ledger.key}:{record.asset_number}",
                         {"record_id": record.id, "from": old, "to": new_status, "reason": reason}, at=now)
            return self.view(record)

    def void(self, record_id: int, reason: str) -> RecordView:
        """作废 a record entered by mistake. It stays, marked, with its history; its asset
        number, serials and MACs are freed so the record can be entered again correctly."""
        reason = clean_text(reason or "", multiline=True)
        if not reason:
            raise ValidationFailed({"reason": "作废必须填写原因,例如“重复登记”或“录入错误”"}, {"reason": "原因"})
        with self._write("作废记录") as session, session.begin():
            record = self._get(session, record_id)
            if record.voided:
                raise LifecycleError(f"{record.asset_number} 已经作废。")
            now = self.clock()
            record.voided = True
            record.void_reason = reason
            record.updated_at = now
            record.version += 1
            RecordRepository(session).release_keys(record)
            session.add(RecordEvent(record_id=record.id, at=now, actor=self.actor.name, action="void", reason=reason))
            audit.append(session, self.actor, "record.void", f"{record.ledger}:{record.asset_number}",
                         {"record_id": record.id, "reason": reason}, at=now)
            return self.view(record)

    def restore(self, record_id: int) -> RecordView:
        """恢复 a voided record (undo of a mistaken void), if its unique values are still free."""
        with self._write("恢复记录") as session, session.begin():
            record = self._get(session, record_id)
            if not record.voided:
                raise LifecycleError(f"{record.asset_number} 没有作废,无需恢复。")
            current = self.view(record)
            ledger = current.ledger
            errors = self._unique_errors(session, ledger, current.values, record.id)
            if errors:
                raise ValidationFailed(errors, {f.name: f.label for f in ledger.fields})
            now = self.clock()
            record.voided = False
            record.void_reason = None
            record.updated_at = now
            record.version += 1
            RecordRepository(session).set_keys(record, ledger.unique_scope, self.unique_keys(ledger, current.values))
            session.add(RecordEvent(record_id=record.id, at=now, actor=self.actor.name, action="restore"))
            audit.append(session, self.actor, "record.restore", f"{ledger.key}:{record.asset_number}",
                         {"record_id": record.id}, at=now)
            self._flush_or_explain(session)
            return self.view(record)

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

        Every row is validated like :meth:`create`, including duplicates against the database
        and inside the batch. Good rows are stored and bad ones named in the result; with
        ``all_or_nothing`` nothing is stored while any row is bad. A ``dry_run`` checks every
        row and stores nothing (an import preview). Cancelling stores nothing.
        """
        ledger = self.ledger(ledger_key)
        result = BatchResult()
        rows = list(rows)
        total = total or len(rows)
        labels = {f.name: f.label for f in ledger.fields}
        with self._write(f"导入{ledger.noun}") as session, session.begin():
            repo = RecordRepository(session)
            held = repo.all_keys(ledger.unique_scope)
            batch_keys: dict[tuple[str, str], int] = {}
            good: list[tuple[int, dict[str, Any]]] = []
            for index, raw in enumerate(rows):
                if cancelled and cancelled():
                    raise Cancelled()
                try:
                    values = self.validate(ledger, {k: v for k, v in raw.items() if k != "status"})
                except ValidationFailed as exc:
                    result.refused.extend(RowRefusal(index, labels.get(n, n), m) for n, m in exc.errors.items())
                    continue
                except ServiceError as exc:
                    result.refused.append(RowRefusal(index, "", str(exc)))
                    continue
                refused = False
                for name, key in self.unique_keys(ledger, values):
                    if (name, key) in held:
                        other = repo.get(held[(name, key)])
                        msg = self._clash_message(ledger.field(name), values[name], key, other)
                    elif (name, key) in batch_keys:
                        msg = f"与本批第 {batch_keys[(name, key)] + 1} 条重复"
                    else:
                        continue
                    result.refused.append(RowRefusal(index, labels[name], msg))
                    refused = True
                if refused:
                    continue
                for k in self.unique_keys(ledger, values):
                    batch_keys[k] = index
                values["status"] = ledger.lifecycle.initial
                good.append((index, values))
                if progress and index % 200 == 0:
                    progress(index, total)
            result.accepted = len(good)
            if dry_run or (all_or_nothing and result.refused):
                session.rollback()
                return result
            now = self.clock()
            records = [self._new_record(ledger, values, now) for _, values in good]
            session.add_all(records)
            session.flush()
            keys = []
            for record, (_, values) in zip(records, good):
                keys.extend({"scope": ledger.unique_scope, "field": f, "value": v, "record_id": record.id}
                            for f, v in self.unique_keys(ledger, values))
                session.add(RecordEvent(record_id=record.id, at=now, actor=self.actor.name, action="import",
                                        reason=source or None))
            if keys:
                session.execute(UniqueValue.__table__.insert(), keys)
            result.created = [r.id for r in records]
            audit.append(session, self.actor, "record.import", ledger.key,
                         {"ledger": ledger.title, "created": len(records), "refused_rows": len({r.index for r in result.refused}),
                          "source": source, "asset_numbers": [r.asset_number for r in records[:1000]]}, at=now)
            if cancelled and cancelled():
                raise Cancelled()
            if progress:
                progress(total, total)
        return result

    @staticmethod
    def _flush_or_explain(session: Session) -> None:
        try:
            session.flush()
        except IntegrityError:
            # The friendly check runs first; this is the database's backstop against a race.
            raise ServiceError("编号、序列号或MAC地址与已有记录重复,未保存。请检查后重试。") from None

    def import_mapping(self, ledger_key: str | Ledger) -> dict[str, str]:
        """The column mapping the user chose in the last import of this ledger (header → field)."""
        from mibao_desktop.services import settings

        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return dict(settings.read(session, f"import_mapping.{ledger.key}", {}) or {})

    def save_import_mapping(self, ledger_key: str | Ledger, mapping: Mapping[str, str]) -> None:
        from mibao_desktop.services import settings

        ledger = self.ledger(ledger_key)
        with self._write("保存导入列对应") as session, session.begin():
            settings.write(session, f"import_mapping.{ledger.key}", dict(mapping), self.actor.name, self.clock())

    def record_output(self, action: str, ledger_key: str | Ledger, target: str, count: int,
                      detail: dict[str, Any] | None = None) -> None:
        """Audit an output of information (导出, 打印): what, how many records, to where
        (seed 002 §七.5: 严格控制信息输出)."""
        ledger = self.ledger(ledger_key)
        with self._write("输出台账信息") as session, session.begin():
            audit.append(session, self.actor, action, target,
                         {"ledger": ledger.title, "count": count, **(detail or {})}, at=self.clock())

    # -- reads -----------------------------------------------------------------------------

    def get(self, record_id: int) -> RecordView:
        with self._read() as session:
            return self.view(self._get(session, record_id))

    def find(self, ledger_key: str | Ledger, asset_number: str) -> RecordView | None:
        ledger = self.ledger(ledger_key)
        key = ledger.field(ledger.key_field).normalise(asset_number)
        with self._read() as session:
            record = RecordRepository(session).by_asset_number(ledger, key)
            return self.view(record) if record else None

    def query(self, ledger_key: str | Ledger, query: LedgerQuery) -> Page:
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            records, total = RecordRepository(session).page_with_total(ledger, query)
            return Page([self.view(r) for r in records], total)

    def count(self, ledger_key: str | Ledger, query: LedgerQuery | None = None) -> int:
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return RecordRepository(session).count(ledger, query or LedgerQuery())

    def rows(self, ledger_key: str | Ledger, query: LedgerQuery) -> list[RecordView]:
        """One page without counting (the table model fetches pages as it scrolls)."""
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return [self.view(r) for r in RecordRepository(session).page(ledger, query)]

    def iter_all(self, ledger_key: str | Ledger, query: LedgerQuery | None = None,
                 batch: int = 2000) -> Iterator[RecordView]:
        """Every matching record, page by page (exports)."""
        base = query or LedgerQuery()
        offset = 0
        while True:
            page = self.rows(ledger_key, LedgerQuery(
                text=base.text, filters=dict(base.filters), include_voided=base.include_voided,
                parent_id=base.parent_id, sort=base.sort, descending=base.descending, offset=offset, limit=batch))
            yield from page
            if len(page) < batch:
                return
            offset += batch

    def stream(self, ledger_key: str | Ledger, query: LedgerQuery | None = None, *,
               fields: Sequence[str] | None = None) -> "ValueStream":
        """For an export: the count, the highest level and every row's typed values, read in
        one transaction (a consistent snapshot) with a small page cache (each page is read
        once; a large cache would only grow the process). Use as a context manager."""
        return ValueStream(self, self.ledger(ledger_key), query or LedgerQuery(), fields)

    def distinct_values(self, ledger_key: str | Ledger, name: str) -> list[str]:
        ledger = self.ledger(ledger_key)
        with self._read() as session:
            return RecordRepository(session).distinct_values(ledger, name)

    def changes_between(self, start: dt.datetime, end: dt.datetime) -> Iterator[ChangeRow]:
        """Every event of every ledger from ``start`` up to ``end``, oldest first (streamed)."""
        last = 0
        while True:
            with self._read() as session:
                rows = session.execute(
                    select(RecordEvent, Record.ledger, Record.asset_number)
                    .join(Record, Record.id == RecordEvent.record_id)
                    .where(RecordEvent.at >= start, RecordEvent.at < end, RecordEvent.id > last)
                    .order_by(RecordEvent.id).limit(2000)
                ).all()
                out = []
                for event, ledger_key, number in rows:
                    ledger = LEDGERS[ledger_key]
                    labels = {f.name: f.label for f in ledger.fields}
                    changes = tuple(FieldChangeView(c.field, labels.get(c.field, c.field), c.old_value or "",
                                                    c.new_value or "") for c in event.changes)
                    out.append(ChangeRow(event.id, event.at, event.actor, event.action, event.reason,
                                         event.effective_date, changes, ledger, number))
                    last = event.id
            if not out:
                return
            yield from out

    def history(self, record_id: int) -> list[HistoryEntry]:
        """The record's history, newest first, with each changed field's old and new value."""
        with self._read() as session:
            record = self._get(session, record_id)
            ledger = LEDGERS[record.ledger]
            events = session.scalars(
                select(RecordEvent).where(RecordEvent.record_id == record_id).order_by(RecordEvent.id.desc())
            ).all()
            labels = {f.name: f.label for f in ledger.fields}
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
    "RecordView", "RowRefusal",
]
