"""批量修改 and 查找替换: one field set, or one value replaced, across many records of a ledger.

A department is renamed, a batch of U盘 changes hands: the administrator sets one field on
the rows selected, or replaces a value wherever a field holds it. Both first preview what
would happen (each record's old → new value, the records refused and why, the people that
would be added), then apply it. The preview makes every check the apply makes (fields, the
ledger's rules, the rules of referring records) in the read transaction, without writing
anything or holding the write lock while the user reads it; the apply then edits only the
records the preview listed, each only if it has not changed since.

Each record is edited as the form would edit it (:meth:`LedgerService._edit`: the field's
checks, the ledger's rules, the rules of records that refer to it, one history event and one
audit entry per record), each in a savepoint so that one refused record leaves the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from sqlalchemy import func, select

from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import Cancelled, ServiceError
from mibao_desktop.ledgers import Ledger
from mibao_desktop.ledgers.fields import Field, Text
from mibao_desktop.ledgers.normalize import FieldError, is_blank
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
    version: int = 0  # the record's version when it was previewed: the apply edits it only as it was


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
                  reason: str | None = None, preview: bool = False, previewed: BulkEdit | None = None,
                  progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> BulkEdit:
        """Give ``field_name`` the value ``value`` (as typed in the form) on each record.
        ``previewed`` (the preview the user read): only its changes are made, each only if the
        record is still as it was then."""
        ledger = self.ledgers.ledger(ledger_key)
        f = self._field(ledger, field_name, bulk_fields(ledger))
        return self._run(ledger, f, record_ids, lambda _current, settled: settled, value, reason=reason,
                         preview=preview, previewed=previewed, progress=progress, cancelled=cancelled)

    def replace_value(self, ledger_key: str | Ledger, field_name: str, find: str, replacement: str, *,
                      whole: bool = True, query: LedgerQuery | None = None, reason: str | None = None,
                      preview: bool = False, previewed: BulkEdit | None = None, progress: Progress | None = None,
                      cancelled: Callable[[], bool] | None = None) -> BulkEdit:
        """Where ``field_name`` shows ``find`` (the whole value, or with ``whole`` False a part
        of a text, matched case by case), put ``replacement`` instead; in the records ``query``
        finds (default: the whole ledger, voided records left out). ``previewed``: as for
        :meth:`set_field`."""
        ledger = self.ledgers.ledger(ledger_key)
        f = self._field(ledger, field_name, replace_fields(ledger))
        find = str(find).strip()
        if not find:
            raise ServiceError("请填写要查找的内容。")
        if not whole and not part_replaceable(f):
            raise ServiceError(f"“{f.label}”只能按整个值替换(部分替换只用于文字)。")
        ids = [c.record_id for c in previewed.changes] if previewed is not None else \
            self._holding(ledger, f, find, whole, query or LedgerQuery())

        def new_value(current, settled) -> Any:
            if whole:
                return settled
            return f.display(current.values.get(f.name)).replace(find, replacement)

        return self._run(ledger, f, ids, new_value, replacement if whole else None, reason=reason,
                         preview=preview, previewed=previewed, progress=progress, cancelled=cancelled)

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
            else:  # a part, as Python's replace will find it: case by case (LIKE ignores ASCII case)
                position = func.instr if repo.sqlite else func.strpos
                conds.append(position(t.c[f.name], find) > 0)
            return [rid for (rid,) in session.execute(select(t.c.id).where(*conds).order_by(t.c.id))]

    def _run(self, ledger: Ledger, f: Field, ids: Sequence[int], new_value: Callable[[Any, Any], Any], typed: Any, *,
             reason: str | None, preview: bool, previewed: BulkEdit | None, progress: Progress | None,
             cancelled: Callable[[], bool] | None) -> BulkEdit:
        service = self.ledgers
        result = BulkEdit(field=f)
        expected = {c.record_id: c.version for c in previewed.changes} if previewed is not None else None
        # in id order: two workstations locking the same records lock them in the same order
        ids = sorted(set(expected if expected is not None else ids))
        # a preview reads (no write lock held while the user reads it, nobody added); the apply writes
        session_of = service._read("批量修改预览") if preview else service._write("批量修改台账")
        with session_of as session:
            added: list[str] = []

            def add_person(name: str, department: str | None) -> int | None:
                added.append(name)
                return None if preview else service._add_person(session, name, department)

            resolver = Resolver(RecordRepository(session), add_person)
            # a person or record typed once is one for every record, resolved (and a new person
            # added) once, before any record's savepoint: a record refused later cannot take
            # the new person with it, and 新来的 is not a new person in each department
            settled = self._settled(ledger, f, typed, resolver)
            for done, rid in enumerate(ids):
                if cancelled is not None and cancelled():
                    raise Cancelled("已取消,没有记录被修改。")
                self._one(session, ledger, f, rid, new_value, settled, reason, resolver, result, preview,
                          None if expected is None else expected[rid])
                if progress is not None and (done % 50 == 0 or done == len(ids) - 1):
                    progress(done + 1, len(ids))
            result.people_added = list(dict.fromkeys(added))
            if not preview:
                if result.changes:
                    audit.append(session, service.actor, "record.bulk_update", f"{ledger.key}:{f.name}",
                                 {"field": f.label, "records": len(result.changes), "refused": len(result.refused),
                                  "reason": reason or ""}, at=service.clock())
                result.applied = True
        return result

    @staticmethod
    def _settled(ledger: Ledger, f: Field, typed: Any, resolver: Resolver) -> Any:
        if not f.is_reference or typed is None or is_blank(typed):
            return typed
        try:
            return resolver.resolve(ledger, f, f.normalise(typed), {})
        except FieldError as exc:
            raise ServiceError(f"{f.label}:{exc}") from None

    def _one(self, session, ledger: Ledger, f: Field, rid: int, new_value, settled, reason, resolver,
             result: BulkEdit, preview: bool, version: int | None) -> None:
        service = self.ledgers
        located = RecordRepository(session).locate(rid)  # its number, for a refusal that comes before the record
        number = located.label if located is not None else str(rid)
        try:
            with session.begin_nested():  # a refused record leaves the others as they were
                _ledger, current = service._editable(session, rid, lock=not preview)
                number = current.number
                if version is not None and current.version != version:
                    raise ServiceError("预览之后这条记录已被修改,没有改动;请重新预览。")
                old = f.display(current.values.get(f.name))
                edited = service._edit(session, ledger, current, {f.name: new_value(current, settled)},
                                       reason=reason or "批量修改", resolver=resolver, check_only=preview,
                                       fresh=False)
                new = f.display(edited.values.get(f.name))
                if edited is current:
                    result.unchanged.append(number)
                else:
                    result.changes.append(BulkChange(rid, number, old, new, current.version))
        except ServiceError as exc:
            result.refused.append(BulkRefusal(rid, number, str(exc)))


def part_replaceable(f: Field) -> bool:
    """A field whose stored value is its text (not a date, a choice or a number)."""
    return isinstance(f.type, Text) and not f.is_reference
