"""批量修改 and 查找替换: one field set, or one value replaced, across many records of a ledger.

A department is renamed, a batch of U盘 changes hands: the administrator sets one field on
the rows selected, or replaces a value wherever a field holds it. Both first preview what
would happen (each record's old → new value, the records refused and why, the people that
would be added), then apply it. The preview makes every check the apply makes (fields, the
ledger's rules, the rules of referring records) in the write transaction, without writing the
records, and is rolled back (with the people it added), so it does not promise what the apply
then refuses.

Each record is edited as the form would edit it (:meth:`LedgerService._edit`: the field's
checks, the ledger's rules, the rules of records that refer to it, one history event and one
audit entry per record), each in a savepoint so that one refused record leaves the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from sqlalchemy import select

from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import Cancelled, ServiceError
from mibao_desktop.ledgers import Ledger
from mibao_desktop.ledgers.fields import Field
from mibao_desktop.ledgers.normalize import FieldError
from mibao_desktop.services import audit
from mibao_desktop.services.references import Resolver
from mibao_desktop.services.repository import LedgerQuery, RecordRepository
from mibao_desktop.services.views import Progress


@dataclass
class BulkChange:
    """One record's change: 编号, 旧值 → 新值 as shown."""

    record_id: int
    number: str
    old: str
    new: str


@dataclass
class BulkRefusal:
    record_id: int
    number: str
    reason: str


@dataclass
class BulkEdit:
    """What a bulk edit did, or would do (``applied`` False: a preview)."""

    field: Field
    changes: list[BulkChange] = field(default_factory=list)
    refused: list[BulkRefusal] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # numbers of records that already hold the value
    people_added: list[str] = field(default_factory=list)
    applied: bool = False


class _Preview(Exception):
    """Ends a preview's transaction (rolled back) with its result."""

    def __init__(self, result: BulkEdit) -> None:
        super().__init__("preview")
        self.result = result


def bulk_fields(ledger: Ledger) -> list[Field]:
    """The fields one value may be given to many records at once: editable in the form, and
    not the number, a unique value (a serial, a MAC) or a computed one."""
    return [f for f in ledger.fields
            if f.editable and not f.unique and f.compute is None and f.name != ledger.key_field]


def replace_fields(ledger: Ledger) -> list[Field]:
    """The fields 查找替换 works in: one value each (a list is edited record by record)."""
    return [f for f in bulk_fields(ledger) if not f.many]


class BulkEditService:
    """Built by the composition root beside the ledger service it edits through."""

    def __init__(self, ledgers) -> None:
        self.ledgers = ledgers

    def set_field(self, ledger_key: str | Ledger, record_ids: Sequence[int], field_name: str, value: Any, *,
                  reason: str | None = None, preview: bool = False, progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> BulkEdit:
        """Give ``field_name`` the value ``value`` (as typed in the form) on each record."""
        ledger = self.ledgers.ledger(ledger_key)
        f = self._field(ledger, field_name, bulk_fields(ledger))
        return self._run(ledger, f, list(dict.fromkeys(record_ids)), lambda _current: value, reason=reason,
                         preview=preview, progress=progress, cancelled=cancelled)

    def replace_value(self, ledger_key: str | Ledger, field_name: str, find: str, replacement: str, *,
                      whole: bool = True, query: LedgerQuery | None = None, reason: str | None = None,
                      preview: bool = False, progress: Progress | None = None,
                      cancelled: Callable[[], bool] | None = None) -> BulkEdit:
        """Where ``field_name`` shows ``find`` (the whole value, or with ``whole`` False a part
        of a text), put ``replacement`` instead; in the records ``query`` finds (default: the
        whole ledger, voided records left out)."""
        ledger = self.ledgers.ledger(ledger_key)
        f = self._field(ledger, field_name, replace_fields(ledger))
        find = str(find).strip()
        if not find:
            raise ServiceError("请填写要查找的内容。")
        if not whole and f.is_reference:
            raise ServiceError(f"“{f.label}”只能按整个值替换。")
        ids = self._holding(ledger, f, find, whole, query or LedgerQuery())

        def new_value(current) -> Any:
            if whole:
                return replacement
            return f.display(current.values.get(f.name)).replace(find, replacement)

        return self._run(ledger, f, ids, new_value, reason=reason, preview=preview, progress=progress,
                         cancelled=cancelled)

    # -- the work -------------------------------------------------------------------------

    @staticmethod
    def _field(ledger: Ledger, name: str, allowed: list[Field]) -> Field:
        f = ledger.field(name)
        if f not in allowed:
            raise ServiceError(f"“{f.label}”不能批量修改(编号、唯一值、状态和自动计算的字段只能逐条处理)。")
        return f

    def _holding(self, ledger: Ledger, f: Field, find: str, whole: bool, query: LedgerQuery) -> list[int]:
        """The ids of the records (of ``query``) whose ``f`` shows ``find``."""
        with self.ledgers._read("查找台账") as session:
            repo = RecordRepository(session)
            t = table_of(ledger)
            conds = repo.conditions(ledger, query.but(offset=0, limit=None))
            if f.is_reference:  # a person or a record named by its label (namesakes all)
                targets = [r["id"] for key in f.type.targets
                           for r in repo.find_labelled(self.ledgers.ledger(key), find)]
                if not targets:
                    return []
                conds.append(t.c[f.name].in_(targets))
            elif whole:
                try:
                    stored = f.to_storage(f.normalise(find))
                except FieldError as exc:
                    raise ServiceError(f"要查找的“{find}”不是有效的{f.label}:{exc}") from None
                conds.append(t.c[f.name] == stored)
            else:
                escaped = find.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                conds.append(t.c[f.name].like(f"%{escaped}%", escape="\\"))
            return [rid for (rid,) in session.execute(select(t.c.id).where(*conds).order_by(t.c.id))]

    def _run(self, ledger: Ledger, f: Field, ids: list[int], new_value: Callable[[Any], Any], *,
             reason: str | None, preview: bool, progress: Progress | None,
             cancelled: Callable[[], bool] | None) -> BulkEdit:
        service = self.ledgers
        result = BulkEdit(field=f)
        try:
            with service._write("批量修改台账") as session:
                added: list[str] = []

                def add_person(name: str, department: str | None) -> int:
                    added.append(name)
                    return service._add_person(session, name, department)

                resolver = Resolver(RecordRepository(session), add_person)
                for done, rid in enumerate(ids):
                    if cancelled is not None and cancelled():
                        raise Cancelled("已取消,没有记录被修改。")
                    self._one(session, ledger, f, rid, new_value, reason, resolver, result, preview)
                    if progress is not None and (done % 50 == 0 or done == len(ids) - 1):
                        progress(done + 1, len(ids))
                result.people_added = list(dict.fromkeys(added))
                if preview:
                    raise _Preview(result)
                if result.changes:
                    audit.append(session, service.actor, "record.bulk_update", f"{ledger.key}:{f.name}",
                                 {"field": f.label, "records": len(result.changes), "refused": len(result.refused),
                                  "reason": reason or ""}, at=service.clock())
                result.applied = True
        except _Preview as ended:
            return ended.result
        return result

    def _one(self, session, ledger: Ledger, f: Field, rid: int, new_value, reason, resolver, result: BulkEdit,
             preview: bool) -> None:
        service = self.ledgers
        located = RecordRepository(session).locate(rid)  # its number, for a refusal that comes before the record
        number = located.label if located is not None else str(rid)
        try:
            with session.begin_nested():  # a refused record leaves the others as they were
                _ledger, current = service._editable(session, rid)
                number = current.number
                old = f.display(current.values.get(f.name))
                value = new_value(current)
                # a preview makes every check and writes nothing (the people it adds are rolled back)
                edited = service._edit(session, ledger, current, {f.name: value}, reason=reason or "批量修改",
                                       resolver=resolver, check_only=preview, fresh=False)
                new = f.display(edited.values.get(f.name))
                if edited is current:
                    result.unchanged.append(number)
                else:
                    result.changes.append(BulkChange(rid, number, old, new))
        except ServiceError as exc:
            result.refused.append(BulkRefusal(rid, number, str(exc)))
