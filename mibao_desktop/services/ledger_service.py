"""The ledger service: every read and write of ledger records.

Each write checks the role, validates against the ledger's declaration (types, required
fields, references, rules that look at other records, uniqueness), runs in one write
transaction that is begun before anything it depends on is read, records its history event
and audit entry, and either all of it is stored or none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
from typing import Any, Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence, Sized

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from mibao_desktop.db.database import Database
from mibao_desktop.db.schema import table_of
from mibao_desktop.db.models import FieldChange, Record, RecordEvent
from mibao_desktop.errors import Cancelled, LifecycleError, NotFound, ServiceError, StaleRecord, ValidationFailed
from mibao_desktop.ledgers import LEDGERS, PEOPLE, Ledger, children_of, get_ledger, staff_files
from mibao_desktop.ledgers.declaration import REASON, RuleContext
from mibao_desktop.ledgers.fields import LIST_JOINER, VOIDED_MARK, Field, FieldType, Level, Ref
from mibao_desktop.ledgers.levels import LONG_TERM, parse_marking, period_text
from mibao_desktop.ledgers.levels import unit as levels_in_use
from mibao_desktop.ledgers.normalize import FieldError, clean_text, invisible_in, is_blank, split_values
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.security.inputs import unreadable
from mibao_desktop.services import audit, missing_clock, status_facts
from mibao_desktop.services.references import Resolver, person_text
from mibao_desktop.services.repository import LedgerQuery, RecordRepository, unique_keys
from mibao_desktop.services.views import (
    BatchResult,
    ChangeRow,
    FieldChangeView,
    HistoryEntry,
    Page,
    Progress,
    RecordView,
    Referrer,
    RowNote,
    RowRefusal,
)

LEDGER_ROLES = (Role.SECURITY_ADMIN,)  # 三员分立: only the security administrator keeps ledgers
RELATED = "related"  # the error key of a fault found in another record (a rule of a referring record)


DUPLICATE = "编号、序列号或MAC地址与已有记录重复,未保存。请检查后重试。"
# PostgreSQL's deadlock and serialization failure: another workstation's transaction crossed this one
_CROSSED = frozenset({"40P01", "40001"})
log = logging.getLogger(__name__)


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
        self.typed = tuple(f for f in ledger.fields if f.compute is None or f.typed_too)
        self.computed = ledger.computed_fields
        self.marked = tuple(f for f in ledger.fields if isinstance(f.type, Level) and f.type.period_field)
        self.unmarked = tuple(f for f in ledger.fields if isinstance(f.type, Level) and not f.type.period_field)
        self.required = tuple(f.name for f in self.typed if f.required
                              and not (f.name == ledger.key_field and ledger.auto_number))
        # the cells worth remembering in an import: a unique value never comes twice
        self.repeated = frozenset(f.name for f in self.typed if not f.unique)
        self.steps = tuple((f.name, f, f.name in self.repeated, f.identifier) for f in self.typed)
        self.labels = _labels(ledger)
        self.unique = tuple(f for f in ledger.unique_fields)
        self.people = tuple(f for f in ledger.reference_fields if f.is_person)


_PLANS: dict[int, _Plan] = {}
_MEMO_TYPES = frozenset({str, int, float, dt.date, dt.datetime})  # the cells an import's memo keeps
_MEMO_LIMIT = 50_000  # values remembered per field (a field of free text repeats little)
_MISSING = object()
_MARKS = frozenset("★☆*＊")  # a level cell without one of these carries no period


class _Fault:
    """A cell's fault, as remembered by an import's memo."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _plan(ledger: Ledger) -> _Plan:
    plan = _PLANS.get(id(ledger))
    if plan is None or plan.ledger is not ledger:
        plan = _PLANS[id(ledger)] = _Plan(ledger)
    return plan


class _RowNames:
    """How a message names another row of the same import: by the spreadsheet's own row number
    when the importer gives them (与第 5 行重复), else by its place in the batch (本批第 1 条)."""

    def __init__(self, row_numbers: Sequence[int] | None) -> None:
        self.numbers = row_numbers

    def duplicate(self, index: int) -> str:
        if self.numbers is not None:
            return f"与第 {self.numbers[index]} 行重复"
        return f"与本批第 {index + 1} 条重复"

    def refused(self, text: str, index: int) -> str:
        if self.numbers is not None:
            return f"引用的“{text}”在第 {self.numbers[index]} 行,该行未能导入"
        return f"引用的“{text}”在本批第 {index + 1} 条,该条未能导入"



def _take_status(values: dict, errors: dict, notes: list, read: tuple[str, str, str]) -> None:
    """The status a row of an import gives, as read against the lifecycle: stored, or its fault
    (an unknown status); a synonym read as a status is noted for the preview."""
    status, fault, note = read
    if fault:
        errors["status"] = fault
        return
    values["status"] = status
    if note:
        notes.append(("status", note))

class _Row:
    """One row of an import on its way through the checks."""

    __slots__ = ("index", "values", "errors", "parent_id", "rid", "keys")

    def __init__(self, index: int, values: dict[str, Any], errors: dict[str, str], parent_id: int | None) -> None:
        self.index = index
        self.values = values
        self.errors = errors
        self.parent_id = parent_id
        self.rid = 0
        self.keys: list[tuple[str, str]] = []


class CheckedRows:
    """What a preview (a dry run) read from an import's rows on their own — each row's typed
    values, faults and notes, before anything in the database was asked — kept so that the
    import that follows need not read the rows again (:meth:`LedgerService.create_many`,
    ``checked``). Used only when the database's change mark is the one read by the preview
    (nothing committed by anyone in between), on the same day, with the same levels of the
    unit; what the checks ask of the database (references, people, rules, clashes with
    records held) is asked again by the import all the same, unless the preview was exact
    (SQLite: ids and new people as the import gives them): its checks' outcome is then kept
    too (:meth:`keep_outcome`) and stored as it is, the database being as the preview saw it
    (100,000 computers: 2.5-3 s of the import's CPU). Used once."""

    def __init__(self, mark: tuple, ledger: Ledger, pending: frozenset, staged: list[_Row], refused: list,
                 notes: list, children_raw: dict, waiting: list, seen_rows: int,
                 row_numbers: Sequence[int] | None, *, exact: bool = False, day: dt.date | None = None) -> None:
        names = [f.name for f in ledger.reference_fields]
        self.mark, self.ledger, self.pending = mark, ledger, pending
        # the day the rows were read (their dates checked against it), not the day they ended
        self.day, self.levels = day or dt.date.today(), levels_in_use()
        self.staged, self.refused, self.notes = staged, refused, notes
        self.children_raw, self.waiting, self.seen_rows, self.row_numbers = children_raw, waiting, seen_rows, row_numbers
        # what the checks after this change in a row, put back before they run again: the
        # references as read (resolved to records later) and the faults the row had alone
        # (not kept by an exact preview, whose checks are not made again: see keep_outcome)
        self.names = names if not exact else []
        self.refs = [tuple(row.values.get(n, _MISSING) for n in names) for row in staged] if self.names else None
        self.errors = [dict(row.errors) if row.errors else None for row in staged] if not exact else None
        self.exact = exact
        self.outcome: tuple | None = None

    def fits(self, ledger: Ledger, mark: tuple | None, pending: frozenset) -> bool:
        return ((self.staged is not None or self.outcome is not None) and mark is not None and mark == self.mark
                and ledger is self.ledger and pending == self.pending and self.day == dt.date.today()
                and self.levels == levels_in_use())

    def keep_outcome(self, good: list[_Row], children: list, new_people: list, result: BatchResult) -> None:
        """An exact preview's checks as they ended: the rows kept (their references resolved
        to the ids the import gives), their children, the new people, what was refused and
        noted. The database being as it was (the change mark), the import's checks would
        find the same, so it stores these."""
        self.outcome = (good, children, new_people, list(result.refused), list(result.notes), result.accepted,
                        list(result.rows), list(result.people_added))
        self.staged, self.waiting, self.children_raw = None, [], {}

    def take_outcome(self) -> tuple:
        """The exact preview's outcome (once)."""
        outcome, self.outcome = self.outcome, None
        return outcome

    def take(self) -> list[_Row]:
        """The rows as the preview read them (once)."""
        staged, self.staged = self.staged, None
        for n, row in enumerate(staged):
            before = self.errors[n]
            row.errors = dict(before) if before else {}
            row.parent_id, row.rid, row.keys = None, 0, []
            if self.refs is not None:
                values = row.values
                for name, value in zip(self.names, self.refs[n]):
                    if value is _MISSING:
                        values.pop(name, None)
                    else:
                        values[name] = value
        self.refs = self.errors = None
        return staged


class _StatusReader:
    """The status a file gives, as the ledger's lifecycle has it (停用 , 使用中 → 在用,
    已报废 → 报废); blank is the initial status. Each distinct word is read once."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.read: dict[Any, tuple[str | None, str, str]] = {}

    def __call__(self, cell: Any) -> tuple[str | None, str, str]:
        """(status or None, the fault, a note of what it was read as)."""
        try:
            return self.read[cell]
        except (KeyError, TypeError):
            pass
        lifecycle = self.ledger.lifecycle
        if is_blank(cell):
            found: tuple[str | None, str, str] = (lifecycle.initial, "", "")
        else:
            try:
                text = clean_text(cell)
            except FieldError as exc:
                text, found = "", (None, str(exc), "")
            if text:
                status = lifecycle.status_of(text)
                if status is None:
                    found = (None, f"“{text}”不是{self.ledger.noun}的状态,应为:{'、'.join(lifecycle.statuses)}", "")
                else:
                    found = (status, "", "" if status == text.replace(" ", "") else f"状态“{text}”读作 {status}")
        if cell.__class__ in _MEMO_TYPES:
            self.read[cell] = found
        return found


_SPECIAL = frozenset({"status", "_parent", "_children", "_pending"})  # keys of an import's row that are not typed fields


class _Ticker:
    """An import's progress in three stages (reading the rows, checking them, storing), and
    its cancel button, asked every few hundred rows."""

    def __init__(self, progress: Progress | None, cancelled: Callable[[], bool] | None, total: int, rows: int) -> None:
        self.progress, self.cancelled, self.total, self.rows = progress, cancelled, total, max(rows, 1)

    def __call__(self, stage: int, done: int) -> None:
        if self.cancelled and self.cancelled():
            raise Cancelled()
        if self.progress:
            rows = max(self.rows, done, 1)
            self.progress(min(self.total, self.total * (stage * rows + min(done, rows)) // (3 * rows)), self.total)

    def done(self) -> None:
        if self.progress:
            self.progress(self.total, self.total)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while an import holds its rows: it would walk the hundreds
    of thousands of values held, again and again, for no garbage (a third of a large import's
    time); what cycles there are are collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _would_change(f: Field, cell: Any, value: Any) -> bool:
    """Whether ``cell`` would change a field the form does not edit (the status): a value the
    field cannot even take (a status the lifecycle does not know) is a change all the same, to
    be made through the status action, not a raw fault of the field."""
    try:
        return f.normalise(cell) != value
    except FieldError:
        return True


def _ids(f: Field, value: Any) -> str | None:
    """The ids a reference field's value holds, one per line, as the history keeps them beside
    the text shown (None for other fields and for no value)."""
    if not f.is_reference or value is None:
        return None
    return "\n".join(str(r.id) for r in f.refs(value) if r.id is not None) or None


AUDITED_VALUE_CHARS = 500  # a value in an audit entry; the history keeps it whole


def _audited(shown: str | None) -> str:
    """A field's value as shown, for an audit entry: long lists (a printer's computers) cut."""
    text = shown or ""
    return text if len(text) <= AUDITED_VALUE_CHARS else text[:AUDITED_VALUE_CHARS] + "…"


def _value_before(f: Field, change: FieldChange, held: Any) -> Any:
    """What a field held before an edit, from the history's entry of the change: the text shown
    (which reads back as the value for every kind of field but a reference), or, for a
    reference, the records by id. History without ids (before revision 0010) gives a reference
    only as the text shown, each item marked if voided: the mark is dropped, and an item the
    record still holds (``held``) stays that record."""
    if not f.is_reference:
        return change.old_value or None
    if change.old_ids:
        refs = [Ref(int(i)) for i in change.old_ids.split("\n") if i]
        return refs if f.many else refs[0]
    if not change.old_value:
        return None
    kept = {r.text.casefold(): r for r in f.refs(held)}
    items = [item.removesuffix(VOIDED_MARK) for item in (change.old_value.split(LIST_JOINER) if f.many
                                                         else [change.old_value])]
    refs = [kept.get(item.casefold(), item) for item in items if item]
    return refs if f.many else (refs[0] if refs else None)


def _nobody_new(name: str, _department: str | None) -> int | None:
    """An undo puts back a person who was in the register: a name that finds nobody now
    (renamed since, in history that kept no ids) is refused, not registered anew."""
    raise FieldError(f"人员名册中已没有“{name}”(可能已改名),无法按变更记录恢复;请直接修改这一项")


def _labels(ledger: Ledger) -> dict[str, str]:
    """Field names → Chinese labels, the facts of status changes with them (the history's words)."""
    return (status_facts.labels(ledger) | {f.name: f.label for f in ledger.fields}
            | {RELATED: "相关记录", "_parent": ledger.parent_label or "所属记录"})



_PLAIN, _REFERENCE, _CONVERTED = "plain", "reference", "converted"
_VIEW_PLANS: dict[str, tuple[Ledger, list]] = {}


def _view_plan(ledger: Ledger) -> list[tuple[str, str, Field]]:
    """How each field's value comes out of a row: as stored (most text fields), from the
    resolved references, or converted. Worked out once per ledger: a page of 200 rows asks it
    3,400 times."""
    known = _VIEW_PLANS.get(ledger.key)
    if known is None or known[0] is not ledger:
        plan = []
        for f in ledger.fields:
            if f.is_reference:
                kind = _REFERENCE
            elif not f.many and type(f.type).from_storage is FieldType.from_storage:
                kind = _PLAIN
            else:
                kind = _CONVERTED
            plan.append((f.name, kind, f))
        known = _VIEW_PLANS[ledger.key] = (ledger, plan)
    return known[1]


def _searchable(query: LedgerQuery | None) -> None:
    """A search typed or pasted with a control character or a lone surrogate is refused in
    words (issue 11); the surrogate would otherwise end in the database driver's traceback."""
    why = unreadable(query.text) if query is not None and query.text else None
    if why:
        raise ValidationFailed({"text": why}, {"text": "搜索词"})


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
            if isinstance(exc, DBAPIError):  # the driver's own words are English: the user reads Chinese
                log.warning("%s: database error", doing, exc_info=exc)
                if getattr(exc.orig, "sqlstate", None) in _CROSSED:
                    raise ServiceError(f"“{doing}”与另一工作站同时进行的操作相互等待,已由数据库中止:"
                                       "本次操作没有保存任何内容,请重试。") from None
                raise ServiceError(f"数据库未能完成“{doing}”,本次操作没有保存任何内容。请稍后重试;"
                                   "如仍不能完成,请联系系统管理员检查数据库。") from None
            raise

    @staticmethod
    def ledger(key: str | Ledger) -> Ledger:
        return key if isinstance(key, Ledger) else get_ledger(key)

    def _views(self, session: Session, ledger: Ledger, rows: Sequence[RowMapping]) -> list[RecordView]:
        refs = RecordRepository(session).resolve(ledger, rows)
        views = []
        child = ledger.parent is not None  # (asking a row for a column it lacks costs an exception)
        plan = _view_plan(ledger)
        for row in rows:
            rid = row["id"]
            values = {}
            for name, kind, f in plan:
                if kind is _PLAIN:
                    values[name] = row[name]
                elif kind is _REFERENCE:
                    values[name] = refs.get((rid, name))
                else:
                    values[name] = f.from_storage(row[name])
            views.append(RecordView(
                id=row["id"], ledger=ledger, values=values, voided=bool(row["voided"]), void_reason=row["void_reason"],
                version=row["version"], created_at=row["created_at"], updated_at=row["updated_at"],
                parent_id=row["parent_id"] if child else None))
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

    def _views_by_id(self, session: Session, ids: Collection[int]) -> dict[int, RecordView]:
        """The records of ``ids`` that exist, read together: their ledgers from the register,
        then each ledger's rows a few hundred per query."""
        repo = RecordRepository(session)
        ids = sorted(ids)
        by_ledger: dict[str, list[int]] = {}
        for start in range(0, len(ids), 500):
            for rid, key in session.execute(select(Record.id, Record.ledger).where(Record.id.in_(ids[start:start + 500]))):
                if key in LEDGERS:
                    by_ledger.setdefault(key, []).append(rid)
        views: dict[int, RecordView] = {}
        for key, wanted in by_ledger.items():
            for start in range(0, len(wanted), 500):
                views.update((v.id, v) for v in self._views(session, LEDGERS[key],
                                                             repo.rows_by_ids(LEDGERS[key], wanted[start:start + 500])))
        return views

    def _get_view(self, session: Session, record_id: int, *, lock: bool = False) -> RecordView:
        ledger, row = self._locate(session, record_id, lock=lock)
        return self._view(session, ledger, row)

    def _scope(self, ledger: Ledger, parent_id: int | None) -> str:
        """The space a record's unique values may not repeat in: the ledger's scope, or, for a
        child ledger, its parent's (份号 is unique within its carrier)."""
        return f"{ledger.unique_scope}#{parent_id}" if ledger.parent is not None else ledger.unique_scope

    # -- validation ------------------------------------------------------------------------

    def normalise(self, ledger: Ledger, raw: Mapping[str, Any], *, current: Mapping[str, Any] | None = None,
                  notes: list[tuple[str, str]] | None = None, memo: dict | None = None,
                  may_be_empty: Collection[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
        """Typed values from ``raw`` over ``current`` (or the defaults) and the faults found,
        without looking at the database: types, 密级 with its period, required fields and
        computed values.

        ``notes`` (an import's preview) receives (field name, message) for what a person should
        see the value was read as: invisible characters removed from an identifier, a period
        read from ``机密★10年``, a period a ledger keeps no field for (the period is not kept).
        Without ``notes`` (one record, from a form) such a period is a fault of the level
        instead: nothing would tell the user it was dropped. A period in the level and one in
        the period field must agree; in an edit (``current``) the period field's own value, as
        the form hands it back unchanged, gives way to the one typed in the level.

        ``memo`` (one dict for the rows of one import) remembers what each repeated cell of a
        field that is not unique was read as: a ledger's departments, models, places and people
        repeat on every row.

        A required field may stay empty when it is in ``may_be_empty`` (an import of a file
        that never kept it), or when ``current`` has it empty too: the record is 待补充 and
        stays so until the field is filled, without blocking its other changes."""
        plan = _plan(ledger)
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        if not raw.keys() <= plan.names:
            unknown = set(raw) - plan.names
            raise ServiceError(f"{ledger.title}没有这些字段:{'、'.join(sorted(unknown))}")
        for name, f, repeated, identifier in plan.steps:
            cell = raw.get(name, _MISSING)
            if cell is _MISSING:
                values[name] = f.default if current is None else current.get(name)
                continue
            if repeated and memo is not None:
                known = memo.get(name)
                if known is None:
                    known = memo[name] = {}
                try:
                    found = known[cell]
                except (KeyError, TypeError):  # not seen yet, or a list (not remembered)
                    try:
                        found = f.normalise(cell)
                    except FieldError as exc:
                        found = _Fault(str(exc))
                    if len(known) < _MEMO_LIMIT and cell.__class__ in _MEMO_TYPES:
                        known[cell] = found
                if found.__class__ is _Fault:
                    errors[name] = found.message
                    continue
                values[name] = list(found) if found.__class__ is list else found
            else:
                try:
                    values[name] = f.normalise(cell)
                except FieldError as exc:
                    errors[name] = str(exc)
                    continue
            if identifier and notes is not None and not (cell.__class__ is str and cell.isascii()):
                hidden = invisible_in("".join(map(str, cell)) if isinstance(cell, (list, tuple)) else cell)
                if hidden:
                    notes.append((name, f"{f.label}中的不可见字符({'、'.join(hidden)})已去除"))
        for f in plan.unmarked:  # 机密★10年 where the ledger keeps no period
            cell = raw.get(f.name)
            if cell.__class__ is str and _MARKS.intersection(cell) and f.name not in errors:
                try:
                    level, period = parse_marking(cell, f.type.allowed)
                except FieldError:
                    continue
                if period is None:
                    continue
                if notes is not None:  # an import's preview says the period is not kept
                    notes.append((f.name, f"{f.label}“{clean_text(cell)}”读作 {level};{ledger.title}不记保密期限,"
                                          f"“{period_text(period)}”未保存"))
                else:  # one record, with nowhere to say so: refused rather than dropped silently
                    errors[f.name] = (f"{ledger.title}不记保密期限,“{period_text(period)}”无法保存;"
                                      f"请只填写{f.label}“{level}”")
        for f in plan.marked:  # 机密★10年 fills the period too
            if f.name not in raw or f.name in errors or f.type.period_field in errors:
                continue
            cell = raw[f.name]
            if cell.__class__ is str and not _MARKS.intersection(cell):
                continue  # a bare level (most rows): no period in it
            try:
                level, period = parse_marking(cell, f.type.allowed)
            except FieldError:
                period = None
            if period is None:
                continue
            period_name = f.type.period_field
            given = None if is_blank(raw.get(period_name)) else values.get(period_name)
            if current is not None and given == current.get(period_name):
                given = None  # the form hands back the period it showed: not one given anew
            if given is not None and given != period:  # two periods: which one is meant is not ours to guess
                errors[f.name] = (f"{f.label}“{clean_text(cell)}”中的保密期限“{period_text(period)}”与"
                                  f"{plan.labels[period_name]}“{period_text(given)}”不一致,请改为一致或只填写一处")
                continue
            values[period_name] = period
            if notes is not None and given is None:
                notes.append((f.name, f"{f.label}“{clean_text(cell)}”读作 {level},保密期限 "
                                      + (period_text(period) if period >= LONG_TERM else f"{period} 年")))
        for name in plan.required:
            if values.get(name) is None and name not in errors and name not in may_be_empty and (
                    current is None or current.get(name) is not None):
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
                errors.update(self._rules(session, ledger, values, record_id, parent_id=parent_id))
            if not errors:
                errors.update(self._unique_errors(session, ledger, values, record_id, parent_id))
        if errors:
            raise ValidationFailed(errors, _labels(ledger))
        return values

    def _resolve(self, ledger: Ledger, values: dict[str, Any], resolver: Resolver,
                 current: Mapping[str, Any] | None = None, *, memo: dict | None = None,
                 skip: Container[str] = ()) -> dict[str, str]:
        """Resolve the references; a voided record may stay where the record (``current``)
        already names it, but is not named anew (chosen by id before it was voided).

        ``memo`` (an import) remembers how each person's name was resolved, for as long as no
        one of that name has been added since; ``skip`` names fields already found wrong."""
        errors = {}
        for f in ledger.reference_fields:
            name = f.name
            if name in skip:
                continue
            value = values.get(name)
            try:
                if memo is not None and value is not None and f.is_person and not f.many and value.id is None:
                    resolved = self._person_memo(ledger, f, value, values, resolver, memo)
                else:
                    resolved = resolver.resolve(ledger, f, value, values)
            except FieldError as exc:
                errors[name] = str(exc)
                continue
            values[name] = resolved
            if resolved is None:
                continue
            held = {r.id for r in f.refs(current.get(name))} if current else ()
            gone = [r for r in f.refs(resolved) if r.voided and r.id not in held]
            if gone:
                errors[name] = f"“{gone[0].text}”已作废,不能引用"
        return errors

    @staticmethod
    def _person_memo(ledger: Ledger, f: Field, ref: Ref, values: Mapping[str, Any], resolver: Resolver,
                     memo: dict) -> Ref:
        """A person's name resolved as the resolver would: the answer depends on the name, its
        hint, the row's department and the people of that name added so far in the import."""
        added = resolver._added
        folded = ref.text.casefold()
        registered = resolver._people.get(folded)
        # the row's department tells namesakes apart, and is a new person's: it matters unless
        # the name has one person (prefetched) and no hint
        alone = not ref.hint and registered is not None and len(registered) + len(added.get(folded, ())) == 1
        key = (ref.text, ref.hint, None if alone else values.get("department"))
        known = memo.get(key)
        if known is None or known[0] != len(added.get(folded, ())):
            try:
                found: Any = resolver.resolve(ledger, f, ref, values)
            except FieldError as exc:
                found = _Fault(str(exc))
            known = memo[key] = (len(added.get(folded, ())), found)
        if known[1].__class__ is _Fault:
            raise FieldError(known[1].message)
        return known[1]

    def _rules(self, session: Session, ledger: Ledger, values: Mapping[str, Any], record_id: int | None,
               *, replaced: RecordView | None = None, parent_id: int | None = None,
               views: Mapping[int, RecordView] | None = None) -> dict[str, str]:
        """Run the ledger's rules; ``replaced`` stands in for the stored version of a record
        being changed (a referring record's rules are checked against the change); ``views``
        are records read beforehand (an import's), as they are in this transaction."""
        if not ledger.rules:
            return {}
        loaded: dict[str, list[RecordView]] = {}
        views = views or {}

        def referenced(name: str) -> list[RecordView]:
            if name not in loaded:
                refs = [r for r in ledger.field(name).refs(values.get(name)) if r.id is not None]
                loaded[name] = [replaced if replaced is not None and r.id == replaced.id
                                else views.get(r.id) or self._get_view(session, r.id) for r in refs]
            return loaded[name]

        errors: dict[str, str] = {}
        def parent() -> RecordView | None:
            return self._get_view(session, parent_id) if parent_id is not None and ledger.parent else None

        context = RuleContext(values=values, record_id=record_id, referenced=referenced, parent=parent)
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
            if not ledger.rules_read_others:
                continue
            other = self._get_view(session, rid)
            found = self._rules(session, ledger, other.values, rid, replaced=changed)
            if found:
                errors[RELATED] = f"{ledger.noun} {other.label} 将不符合规定:" + ";".join(found.values())
                break
        return errors

    @staticmethod
    def unique_keys(ledger: Ledger, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        return unique_keys(ledger, values)

    def _unique_errors(self, session: Session, ledger: Ledger, values: Mapping[str, Any], record_id: int | None,
                       parent_id: int | None = None) -> dict[str, str]:
        repo = RecordRepository(session)
        clashes = repo.clashes(self._scope(ledger, parent_id), self.unique_keys(ledger, values), record_id)
        errors: dict[str, str] = {}
        for (name, key), other in clashes.items():
            errors.setdefault(name, self._clash_message(session, ledger.field(name), values[name], key, other))
        return errors

    def _clash_messages(self, session: Session, clashes: Sequence[tuple[Field, Any, str, int]]) -> list[str]:
        """The messages of many clashes (an import of a file already imported), each naming the
        record that holds the value: the records are read a few hundred at a time."""
        repo = RecordRepository(session)
        others: dict[int, Record] = {}
        ids = sorted({rid for _f, _v, _k, rid in clashes})
        for start in range(0, len(ids), 500):
            others.update((r.id, r) for r in session.scalars(select(Record).where(Record.id.in_(ids[start:start + 500]))))
        views: dict[int, RecordView] = {}
        by_ledger: dict[str, list[int]] = {}
        for rid, other in others.items():
            by_ledger.setdefault(other.ledger, []).append(rid)
        for key, rids in by_ledger.items():
            if key in LEDGERS:
                for start in range(0, len(rids), 500):
                    rows = repo.rows_by_ids(LEDGERS[key], rids[start:start + 500])
                    views.update((v.id, v) for v in self._views(session, LEDGERS[key], rows))
        return [self._clash_message(session, f, value, key, others[rid], views.get(rid))
                for f, value, key, rid in clashes]

    def _clash_message(self, session: Session, f: Field, value: Any, key: str, other: Record,
                       view: RecordView | None = None) -> str:
        values = value if f.many else [value]
        shown = next((f.type.display(v) for v in values if str(f.type.to_storage(v)).casefold() == key), key)
        other_ledger = LEDGERS.get(other.ledger)
        noun = other_ledger.noun if other_ledger else other.ledger
        owner_text = ""
        if other_ledger is not None:
            view = view or self._get_view(session, other.id)
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
        pool: list[int] = []  # ids for the new people of an import, taken a few hundred at a time

        def add_person(name: str, department: str | None) -> int | None:
            if preview:
                return None
            if pending is not None:
                self._person_values(name, department)
                if not pool:
                    pool.extend(reversed(RecordRepository(session).allocate_ids(256)))
                record_id = pool.pop()
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
        (case-folded) ``taken`` ones (numbers given to other rows of the same import)."""
        return self._next_numbers(session, ledger, 1, taken)[0]

    def _next_numbers(self, session: Session, ledger: Ledger, n: int,
                      taken: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """The next ``n`` free automatic numbers. The highest number in use is read once per
        transaction (an import numbering many records); the candidates are checked against the
        numbers held in one query per few hundred."""
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
        out: list[str] = []
        while len(out) < n:
            candidates = []
            while len(candidates) < n - len(out):
                counters[ledger.key] += 1
                number = ledger.auto_number.format(counters[ledger.key])
                if number.casefold() not in taken:
                    candidates.append(number)
            held = repo.all_keys(ledger.unique_scope, [(ledger.key_field, c.casefold()) for c in candidates])
            out.extend(c for c in candidates if (ledger.key_field, c.casefold()) not in held)
        return out

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
        # a status change's person (携带人, 借用人) completes from the register like a field's
        f = ledger.field(field_name) if ledger.has_field(field_name) else ledger.lifecycle.fact_fields[field_name]
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
               changes: Iterable[tuple[str, str | None, str | None]] = (),
               ids: Mapping[str, tuple[str | None, str | None]] | None = None) -> None:
        """``ids``: field name → the ids a reference held before and after (see :func:`_ids`)."""
        ids = ids or {}
        event = RecordEvent(record_id=record_id, ledger=ledger.key, at=now, actor=self.actor.name, action=action,
                            reason=reason, effective_date=effective_date)
        event.changes = [FieldChange(field=n, old_value=o, new_value=v, old_ids=ids.get(n, (None, None))[0],
                                     new_ids=ids.get(n, (None, None))[1]) for n, o, v in changes]
        session.add(event)
        moved_into = next((v for n, _o, v in changes if n == "status"), "") if action == "status" else ""
        RecordRepository(session).tally(ledger, now.year, action, moved_into or "")

    def create(self, ledger_key: str | Ledger, raw: Mapping[str, Any], *, parent_id: int | None = None) -> RecordView:
        """登记 a new record. Status starts at the lifecycle's initial status."""
        ledger = self.ledger(ledger_key)
        with self._write(f"登记{ledger.noun}") as session:
            record_id = self._create(session, ledger, raw, parent_id)
            self._flush_or_explain(session)
            return self._get_view(session, record_id)

    def _create(self, session: Session, ledger: Ledger, raw: Mapping[str, Any], parent_id: int | None, *,
                audit_detail: Mapping[str, Any] | None = None) -> int:
        """登记 one record in the caller's transaction (a carrier and its copies registered
        together); its id. ``audit_detail`` adds to its audit entry (接收: count, stamp)."""
        raw = {k: v for k, v in raw.items() if k != "status"}
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
        if ledger.parent_history and parent_id is not None:  # a person's 重大事项报告: in their history too
            said = "、".join(filter(None, (f.display(values.get(f.name)) for f in ledger.facet_fields if f.name != "status")))
            self._event(session, LEDGERS[ledger.parent], parent_id, now, ledger.parent_history,
                        changes=[(RELATED, None, f"{ledger.noun} {values[ledger.key_field]}" + (f":{said}" if said else ""))])
        audit.append(session, self.actor, "record.create", f"{ledger.key}:{values[ledger.key_field]}",
                     {"ledger": ledger.title, "record_id": record_id, **(audit_detail or {})}, at=now)
        self._follow_commitments(session, ledger, _commitments_touched(ledger, parent_id, None, values))
        return record_id

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
        ended = self._ended_parent(session, ledger, parent_id, ledger.lifecycle.initial)
        if ended:
            raise LifecycleError(f"{ended},其下不能再添加{ledger.noun}。")

    def _ended_parent(self, session: Session, ledger: Ledger, parent_id: int, status: str) -> str:
        """Why a child record in ``status`` may not be under this parent: the parent's life has
        ended (a carrier 已销毁) and the child would still be held (see
        :meth:`_refuse_if_children_held`); "" when it may."""
        parent = LEDGERS[ledger.parent]
        row = RecordRepository(session).row(parent, parent_id)
        if row is None or row["status"] not in parent.lifecycle.closing or status in ledger.lifecycle.closing:
            return ""
        return f"{parent.noun} {row[parent.key_field]} 为“{row['status']}”"

    def update(self, record_id: int, raw: Mapping[str, Any], *, expected_version: int | None = None,
               reason: str | None = None) -> RecordView:
        """修改 editable fields; each changed field goes into the history with old and new value.
        A new number or name carries through to every record that refers to this one."""
        with self._write("修改台账") as session:
            ledger, current = self._editable(session, record_id, expected_version)
            return self._edit(session, ledger, current, raw, reason=reason)

    def _editable(self, session: Session, record_id: int, expected_version: int | None = None, *,
                  lock: bool = True) -> tuple[Ledger, RecordView]:
        """The record to be edited, locked (unless ``lock`` is False: a preview that will write
        nothing), as it is now; refused if it may not be edited."""
        ledger, row = self._locate(session, record_id, lock=lock)
        current = self._view(session, ledger, row)
        if expected_version is not None and expected_version != current.version:
            raise StaleRecord("这条记录在您打开后已被修改,请关闭窗口重新打开后再改。")
        if current.voided:
            raise LifecycleError(f"{current.number} 已作废,不能修改;如需修改请先恢复。")
        if current.status in ledger.lifecycle.terminal:
            raise LifecycleError(f"{current.number} 为“{current.status}”,记录只能查看,不能修改。")
        return ledger, current

    def _edit(self, session: Session, ledger: Ledger, current: RecordView, raw: Mapping[str, Any], *,
              reason: str | None, resolver: Resolver | None = None, check_only: bool = False,
              fresh: bool = True, undoes: RecordEvent | None = None) -> RecordView:
        """An edit of ``current`` (locked by :meth:`_editable`) with the values ``raw`` gives;
        ``current`` itself when nothing changes. ``check_only`` (a bulk edit's preview) makes
        every check and writes nothing; ``fresh`` False returns the edited values without
        reading the record again (a bulk edit needs only them). ``undoes``: the edit this one
        takes back (撤销), named in its audit entry."""
        record_id = current.id
        unknown = set(raw) - {f.name for f in ledger.fields}
        if unknown:
            raise ServiceError(f"{ledger.title}没有这些字段:{'、'.join(sorted(unknown))}")
        locked = [ledger.field(n).label for n in raw if not ledger.field(n).editable
                  and ledger.field(n).compute is None and not is_blank(raw[n])
                  and _would_change(ledger.field(n), raw[n], current.values.get(n))]
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
                               parent_id=current.parent_id, resolver=resolver)
        changes = [(f, f.display(current.values.get(f.name)), f.display(values.get(f.name)))
                   for f in ledger.fields if values.get(f.name) != current.values.get(f.name)
                   or (f.many and f.is_reference and f.display(values.get(f.name)) != f.display(current.values.get(f.name)))]
        if not changes:
            return current
        settled = [f.label for f, _o, _n in changes if f.name in ledger.lifecycle.settled.get(current.status, ())]
        if settled:
            raise LifecycleError(f"{ledger.noun} {current.number} 已为“{current.status}”,"
                                 f"{'、'.join(settled)}不能修改。{ledger.lifecycle.settled_why.get(current.status, '')}")
        changed = RecordView(**{**current.__dict__, "values": values})
        related = self._referrers_rules(session, changed)
        if related:
            raise ValidationFailed(related, _labels(ledger))
        if check_only:
            return changed
        now = self.clock()
        repo = RecordRepository(session)
        repo.write_values(ledger, record_id, current.values, values, now, voided=False)
        repo.set_keys(record_id, self._scope(ledger, current.parent_id), self.unique_keys(ledger, values))
        self._event(session, ledger, record_id, now, "update", reason=reason,
                    changes=[(f.name, old, new) for f, old, new in changes],
                    ids={f.name: (_ids(f, current.values.get(f.name)), _ids(f, values.get(f.name)))
                         for f, _old, _new in changes if f.is_reference})
        # The values themselves go into the chained entry too: the history can be edited by
        # whoever holds the file, the audit log cannot without showing (字段: 旧 → 新).
        detail: dict[str, Any] = {"record_id": record_id, "fields": [f.label for f, _, _ in changes],
                                  # an ID number goes in masked: the auditor reads this entry, not the register
                                  "changes": [[f.label, _audited(f.type.masked(old)), _audited(f.type.masked(new))]
                                              for f, old, new in changes]}
        if reason:
            detail["reason"] = reason
        if undoes is not None:
            detail["undoes"] = {"event": undoes.id, "at": undoes.at.strftime("%Y-%m-%d %H:%M:%S")}
        audit.append(session, self.actor, "record.update", f"{ledger.key}:{values[ledger.key_field]}", detail, at=now)
        self._follow_commitments(session, ledger, _commitments_touched(ledger, current.parent_id, current.values, values))
        missing_clock.follow_level(session, ledger, record_id, current.values, values)
        if current.label != str(values.get(ledger.label_field) or ""):
            self._carry_label(session, record_id)
        self._flush_or_explain(session)
        if not fresh:
            return RecordView(**{**changed.__dict__, "version": current.version + 1, "updated_at": now})
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
                      facts: Mapping[str, Any] | None = None, effective_date: dt.date | None = None,
                      confirm_referenced: bool = False) -> RecordView:
        """停用/维修/外出/报废/销毁 …: a status change with its date, reason and the facts its
        lifecycle declares for the new status (``Lifecycle.facts_for``: 外出 where, why, who
        carries it and until when …), all kept in the history event of the change.

        A closing status (报废, 已销毁, a person's 脱密期 or 调离) needs a reason, and is refused while
        other records refer to the record until the user has seen which (``confirm_referenced``):
        a retired computer still named by a printer, a leaver still holding devices. A terminal
        status ends the record's life.
        """
        raw = dict(facts or {})
        if reason and is_blank(raw.get(REASON)):
            raw[REASON] = reason
        with self._write("变更状态") as session:
            ledger, row = self._locate(session, record_id, lock=True)
            if ledger.lifecycle.actions:  # a carrier copy: its rules are the actions' (services/carrier_actions.py)
                raise LifecycleError(f"{ledger.noun}的状态随办理的手续改变,请在“办理”中选择:"
                                     f"{'、'.join(a.label for a in ledger.lifecycle.actions)}。")
            procedure = ledger.lifecycle.procedures.get(row["status"])
            if procedure and new_status in ledger.lifecycle.closing:  # a person leaving 在岗: services/departure.py
                raise LifecycleError(f"{ledger.noun} {row[ledger.label_field]} 由“{row['status']}”改为“{new_status}”"
                                     f"须办理“{procedure}”:保密提醒谈话、离岗保密承诺书、清退所持设备和载体、"
                                     f"取消涉密系统权限,并确定脱密期。请选择“{procedure}…”办理。")
            return self._change_status(session, ledger, row, new_status, raw, effective_date,
                                       confirm_referenced=confirm_referenced)

    def _change_status(self, session: Session, ledger: Ledger, row: RowMapping, new_status: str | None,
                       raw: Mapping[str, Any], effective_date: dt.date | None, *, confirm_referenced: bool = False,
                       asked: Sequence[Field] | None = None, edits: Mapping[str, Any] | None = None,
                       audit_detail: Mapping[str, Any] | None = None, doing: str = "",
                       kind: str = "status") -> RecordView:
        """A status change of the locked ``row`` in the caller's transaction, checked and
        stored. A recorded action (a carrier copy's 借阅, 销毁 …) gives the facts it ``asked``
        for instead of the status's own, ``edits`` of the record's fields made with it (the
        copy's 持有人 and 应归还日期, by field name: kept in the same history event, after the
        facts) and what its audit entry adds (``audit_detail``). An action that leaves the
        status as it is (移交, 复制: ``new_status`` None) is an event of its own ``kind``, its
        facts and edits kept the same way, audited as ``record.action``."""
        lifecycle = ledger.lifecycle
        record_id = row["id"]
        number = row[ledger.key_field]
        if row["voided"]:
            raise LifecycleError(f"{number} 已作废,不能{doing or '变更状态'}。")
        if new_status is None:
            new_status = row["status"]
            if new_status in lifecycle.terminal:
                raise LifecycleError(f"{number} 为“{new_status}”,记录只能查看。")
        elif new_status not in lifecycle.statuses:
            raise LifecycleError(f"“{new_status}”不是{ledger.noun}的状态,应为:{'、'.join(lifecycle.statuses)}")
        if kind == "status" and new_status not in lifecycle.allowed_next(row["status"]):
            allowed = "、".join(lifecycle.allowed_next(row["status"])) or "无"
            raise LifecycleError(f"{number} 当前为“{row['status']}”,不能改为“{new_status}”。可改为:{allowed}")
        effective_date = effective_date or self.clock().date()
        if effective_date > self.clock().date():
            raise ValidationFailed({"effective_date": "日期晚于今天,请核对"}, {"effective_date": "日期"})
        resolver = self._resolver(session, preview=False)
        reason, stated, errors = status_facts.check(
            ledger, new_status, raw, effective_date, lambda f, v: resolver.resolve(ledger, f, v, row), asked=asked,
            doing=doing)
        if errors:
            raise ValidationFailed(errors, status_facts.labels(ledger))
        moving = kind == "status"
        if moving and new_status in lifecycle.closing:  # 清退 too: closing, though not terminal
            self._refuse_if_children_held(session, ledger, record_id, number, new_status)
        if moving and new_status in lifecycle.closing and not confirm_referenced:
            self._refuse_if_referenced(session, ledger, record_id, number, f"改为“{new_status}”")
        changes = [(f.name, None, f.display(v)) for f, v in stated]
        ids = {f.name: (None, _ids(f, v)) for f, v in stated if f.is_reference}
        if edits:
            current = self._view(session, ledger, row).values
            values = self.validate(ledger, edits, current=current, record_id=record_id, session=session,
                                   parent_id=row["parent_id"] if ledger.parent is not None else None)
            edited = [f for f in ledger.fields if f.name in edits and values.get(f.name) != current.get(f.name)]
            if edited:
                RecordRepository(session).write_values(ledger, record_id, current, values, self.clock(), voided=False)
                changes += [(f.name, f.display(current.get(f.name)), f.display(values.get(f.name))) for f in edited]
                ids |= {f.name: (_ids(f, current.get(f.name)), _ids(f, values.get(f.name)))
                        for f in edited if f.is_reference}
        if not moving:
            now = self.clock()
            self._event(session, ledger, record_id, now, kind, reason=reason or None, effective_date=effective_date,
                        changes=changes, ids=ids)
            labels = {**_labels(ledger), **status_facts.labels(ledger)}
            audit.append(session, self.actor, "record.action", f"{ledger.key}:{number}", {
                "record_id": record_id, "status": new_status, "reason": reason, "date": effective_date.isoformat(),
                "facts": {labels.get(n, n): v for n, _o, v in changes}, **(audit_detail or {})}, at=now)
            return self._get_view(session, record_id)
        return self._move(session, ledger, record_id, number, row["status"], new_status, reason, effective_date,
                          changes, ids, audit_detail=audit_detail)

    def _move(self, session: Session, ledger: Ledger, record_id: int, number: str, old: str, new_status: str,
              reason: str, effective_date: dt.date, facts: list[tuple[str, str | None, str | None]],
              ids: Mapping[str, tuple[str | None, str | None]], reverses: Mapping[str, Any] | None = None,
              audit_detail: Mapping[str, Any] | None = None) -> RecordView:
        """Store a status change checked by the caller: the status, its history event (the
        status first, then the facts) and its audit entry."""
        now = self.clock()
        followed = self._follow_status(session, ledger, record_id, new_status, now)
        RecordRepository(session).set_status(ledger, record_id, old, new_status, now)
        missing_clock.stamp(session, ledger, record_id, old, new_status, effective_date, reversal=bool(reverses))
        self._event(session, ledger, record_id, now, "status", reason=reason or None,
                    effective_date=effective_date, changes=[("status", old, new_status), *facts, *followed], ids=ids)
        labels = _labels(ledger)  # the facts' names, and a field's changed with them (a copy's 持有人)
        detail = {"record_id": record_id, "from": old, "to": new_status, "reason": reason,
                  "date": effective_date.isoformat(), **(audit_detail or {})}
        if facts:
            detail["facts"] = {labels.get(n, n): v for n, _o, v in facts if n != status_facts.REVERSES}
        if reverses:
            detail["reverses"] = dict(reverses)
        audit.append(session, self.actor, "record.status", f"{ledger.key}:{number}", detail, at=now)
        return self._get_view(session, record_id)

    def _follow_commitments(self, session: Session, ledger: Ledger,
                            touched: Mapping[int, Iterable[dt.date | None]]) -> None:
        """Each person whose file's 保密承诺书 a write touched gets their 保密承诺书签订日期 from it
        (``staff_files.person_date``; ``touched``: person id → the commitment dates the write
        took away), as an edit of the person in the same transaction: in their history and the
        audit log, saying why."""
        if ledger.key != staff_files.STAFF_FILES.key or not touched:
            return
        t = table_of(ledger)
        latest = dict(session.execute(
            select(t.c.parent_id, func.max(t.c.entry_date))
            .where(t.c.parent_id.in_(list(touched)), t.c.kind == staff_files.COMMITMENT,
                   t.c.voided == False).group_by(t.c.parent_id)).all())  # noqa: E712
        for person_id in sorted(touched):
            people, row = self._locate(session, person_id, lock=True)
            if row["voided"]:
                continue
            person = self._view(session, people, row)
            held = person.values.get(staff_files.PERSON_DATE)
            due = staff_files.person_date(held, touched[person_id], latest.get(person_id))
            if due != held:
                self._edit(session, people, person, {staff_files.PERSON_DATE: due},
                           reason=f"人员档案中的{staff_files.COMMITMENT}")

    def _follow_status(self, session: Session, ledger: Ledger, record_id: int, new_status: str,
                       now: dt.datetime) -> list[tuple[str, str | None, str | None]]:
        """Computed values that depend on the status follow it (a person's 下次复审日期, none
        while out of post, due again on return); the changes, for the status change's history
        event. Written before the status itself, which moves its own facet count."""
        if not ledger.computed_fields:
            return []
        current = self._get_view(session, record_id).values
        moved = {**current, "status": new_status}
        changed = [f for f in ledger.computed_fields if f.compute(moved) != current.get(f.name)]
        if not changed:
            return []
        values = {**current, **{f.name: f.compute(moved) for f in changed}}
        RecordRepository(session).write_values(ledger, record_id, current, values, now, voided=False)
        return [(f.name, f.display(current.get(f.name)), f.display(values.get(f.name))) for f in changed]

    def reverse_status(self, record_id: int, event_id: int, *, confirm_referenced: bool = False) -> RecordView:
        """撤销此状态变更: put the record back into the status it left by the change ``event_id``
        (a status set by mistake, a trip cut short), as a new status change that says which
        change it reverses, so nothing leaves the history.

        Only the record's latest status change may be reversed, not a reversal itself, and not
        a change that ended the record's life (已销毁: it no longer changes). Going back does not
        ask the lifecycle's order (报废 entered by mistake goes back to 在用): the change never
        stood. Going back into a status with facts (外出 after a return entered too early)
        carries the facts that status was entered with."""
        with self._write("撤销状态变更") as session:
            ledger, row = self._locate(session, record_id, lock=True)
            number = row[ledger.key_field]
            event = session.get(RecordEvent, event_id)
            if event is None or event.record_id != record_id or event.action != "status" or not event.changes:
                raise LifecycleError("只能撤销“状态变更”记录。")
            if row["voided"]:
                raise LifecycleError(f"{number} 已作废,不能变更状态。")
            latest = session.scalars(select(RecordEvent).where(RecordEvent.record_id == record_id,
                                                               RecordEvent.action == "status")
                                     .order_by(RecordEvent.id.desc()).limit(1)).first()
            if any(c.field == status_facts.REVERSES for c in event.changes):
                raise LifecycleError("这条记录本身是一次撤销,不能再撤销;如需要请重新变更状态。")
            if latest is None or latest.id != event.id:
                raise LifecycleError("只能撤销最近一次状态变更;其后已有新的状态变更。")
            status_change = event.changes[0]
            old, new = status_change.old_value or "", status_change.new_value or ""
            if row["status"] in ledger.lifecycle.terminal:
                raise LifecycleError(f"{number} 为“{row['status']}”,记录只能查看,不能撤销状态变更。")
            if row["status"] != new or old not in ledger.lifecycle.statuses:
                raise LifecycleError(f"{number} 当前为“{row['status']}”,这次变更({old} → {new})已不能撤销。")
            if ledger.parent is not None and row["parent_id"] is not None:
                ended = self._ended_parent(session, ledger, row["parent_id"], old)
                if ended:
                    raise LifecycleError(f"{ended},其下{ledger.noun}不能再改回“{old}”。")
            if old in ledger.lifecycle.closing and not confirm_referenced:
                self._refuse_if_referenced(session, ledger, record_id, number, f"改回“{old}”")
            if new in ledger.lifecycle.closing and old not in ledger.lifecycle.closing:
                self._refuse_if_children_all_closed(session, ledger, record_id, number, old)
            # the facts the status gone back to was entered with (the change before this one into it)
            before = session.scalars(select(RecordEvent).where(RecordEvent.record_id == record_id,
                                                               RecordEvent.action == "status",
                                                               RecordEvent.id < event.id)
                                     .order_by(RecordEvent.id.desc()).limit(1)).first()
            carried = [c for c in before.changes[1:] if c.field != status_facts.REVERSES
                       and not self._edited_with_status(ledger, c.field)] \
                if before is not None and before.changes and before.changes[0].new_value == old else []
            what = status_facts.describe_change(event.at, old, new)
            reason = f"撤销 {what} 的状态变更"
            facts = [(status_facts.REVERSES, None, what), *((c.field, None, c.new_value) for c in carried)]
            ids = {status_facts.REVERSES: (None, str(event.id))} | {c.field: (None, c.new_ids) for c in carried
                                                                   if c.new_ids}
            # the record's own fields changed with the status (a copy's 持有人 and 应归还日期 set by
            # 借阅, put back by 归还) return to what they held before the change taken back
            current = self._view(session, ledger, row).values
            restore = {c.field: _value_before(ledger.field(c.field), c, current.get(c.field))
                       for c in event.changes[1:] if self._edited_with_status(ledger, c.field)}
            if restore:
                values = self.validate(ledger, restore, current=current, record_id=record_id, session=session,
                                       parent_id=row["parent_id"] if ledger.parent is not None else None,
                                       resolver=Resolver(RecordRepository(session), _nobody_new))
                edited = [f for f in ledger.fields if f.name in restore and values.get(f.name) != current.get(f.name)]
                if edited:
                    RecordRepository(session).write_values(ledger, record_id, current, values, self.clock(),
                                                           voided=False)
                    facts += [(f.name, f.display(current.get(f.name)), f.display(values.get(f.name))) for f in edited]
                    ids |= {f.name: (_ids(f, current.get(f.name)), _ids(f, values.get(f.name)))
                            for f in edited if f.is_reference}
            return self._move(session, ledger, record_id, number, new, old, reason, self.clock().date(), facts, ids,
                              reverses={"event_id": event.id, "change": what})

    @staticmethod
    def _edited_with_status(ledger: Ledger, name: str) -> bool:
        """Whether a status change's history entry ``name`` is one of the record's own fields
        changed with it (``_change_status``'s edits: a copy's 持有人), not a fact of the change."""
        return name != status_facts.REVERSES and name not in ledger.lifecycle.fact_fields and ledger.has_field(name)

    def _refuse_if_children_all_closed(self, session: Session, ledger: Ledger, record_id: int, number: str,
                                       old: str) -> None:
        """A parent closed with its children (a carrier 清退 because each copy went back) is not
        reopened while they all stay closed: the ledger would show a carrier 在管 of which no copy
        is held. Its children's own changes are taken back first; the carrier then follows."""
        repo = RecordRepository(session)
        for child in children_of(ledger):
            rows = [r for r in repo.page(child, LedgerQuery(parent_id=record_id, limit=None)) if not r["voided"]]
            if rows and all(r["status"] in child.lifecycle.closing for r in rows):
                reached = "、".join(dict.fromkeys(f"“{r['status']}”" for r in rows))
                raise LifecycleError(f"{ledger.noun} {number} 的{child.noun}均为{reached},不能改回“{old}”:"
                                     f"请先撤销其{child.noun}的状态变更。")

    def _refuse_if_children_held(self, session: Session, ledger: Ledger, record_id: int, number: str,
                                 new_status: str) -> None:
        """A record that closes (a carrier 清退 or 已销毁) leaves nothing of it in anyone's hands:
        each of its child records (a copy, tracked on its own, seed 002 §八) must first be
        closed itself (清退 or 已销毁), or the ledger would show copies held of a carrier that
        was given back or no longer exists. Children closed by recorded actions (a copy's 清退,
        its 销毁 with two 监销人 …) decide how the parent closes: it follows them, and is not
        closed by hand into a status none of them reached (a carrier whose copies all went back
        to the issuer is not then 已销毁 with no destruction recorded). Voided children are no
        records of it."""
        repo = RecordRepository(session)
        for child in children_of(ledger):
            rows = [r for r in repo.page(child, LedgerQuery(parent_id=record_id, limit=None)) if not r["voided"]]
            held = self._views(session, child, [r for r in rows if r["status"] not in child.lifecycle.closing])
            if not held and child.lifecycle.actions and rows and all(r["status"] != new_status for r in rows):
                reached = "、".join(dict.fromkeys(f"“{r['status']}”" for r in rows))
                raise LifecycleError(f"{ledger.noun} {number} 的{child.noun}均为{reached},不能改为“{new_status}”:"
                                     f"{ledger.noun}随其{child.noun}办理的手续了结。")
            if not held:
                continue
            key_label = child.field(child.key_field).label
            person = next((f.name for f in child.reference_fields if f.is_person), None)
            shown = "、".join(f"{key_label} {v.display(child.key_field)}("
                             + ",".join(filter(None, (v.status, v.display(person) if person else "")))
                             + ")" for v in held[:20]) + (f" 等 {len(held)} 条" if len(held) > 20 else "")
            closing = "或".join(f"“{s}”" for s in child.lifecycle.statuses if s in child.lifecycle.closing)
            if child.lifecycle.actions:  # a copy closes only through its actions; the carrier follows its last
                ends = "或".join(f"“{a.label}”" for a in child.lifecycle.actions if a.to in child.lifecycle.closing)
                raise LifecycleError(f"{ledger.noun} {number} 下还有未了结的{child.noun}:{shown},不能改为“{new_status}”。"
                                     f"请先在“办理”中为这些{child.noun}办理{ends},"
                                     f"最后一份了结时{ledger.noun}随之了结。")
            raise LifecycleError(f"{ledger.noun} {number} 下还有未了结的{child.noun}:{shown}。"
                                 f"请先把这些{child.noun}改为{closing},再改为“{new_status}”。")

    def _refuse_if_referenced(self, session: Session, ledger: Ledger, record_id: int, number: str, doing: str) -> None:
        referrers = self._referrers(session, record_id)
        if referrers:
            shown = "、".join(str(r) for r in referrers[:10]) + (f" 等 {len(referrers)} 条" if len(referrers) > 10 else "")
            raise StillReferenced(f"{ledger.noun} {number} 仍被以下记录引用:{shown}。{doing}后这些记录仍会显示它"
                                  "(标注已作废或已销毁),请确认。", referrers)

    @staticmethod
    def open_for_change(record: RecordView | None) -> bool:
        """Whether 修改 and 变更状态 may act on the record: not voided, and its lifecycle has not
        ended (a terminal status such as 已销毁 leaves it only to be read)."""
        return (record is not None and not record.voided
                and record.status not in record.ledger.lifecycle.terminal)

    @staticmethod
    def void_refusal(record: RecordView) -> str:
        """Why 作废 may not act on the record as shown, "" when it may. A record whose lifecycle
        has ended (已销毁) is a fact of the ledger, not an entry made by mistake: voiding it
        would take a destroyed device out of the ledger and free its number and serials."""
        if record.voided:
            return f"{record.number} 已经作废。"
        if record.status in record.ledger.lifecycle.terminal:
            return f"{record.number} 为“{record.status}”,记录只能查看,不能作废。"
        return ""

    def void(self, record_id: int, reason: str, *, confirm_referenced: bool = False) -> RecordView:
        """作废 a record entered by mistake. It stays, marked, with its history; its number,
        serials and MACs are freed so the record can be entered again correctly. While other
        records refer to it, the user must first have been told which."""
        return self.void_many([record_id], reason, confirm_referenced=confirm_referenced)[0]

    def void_many(self, record_ids: Sequence[int], reason: str, *,
                  confirm_referenced: bool = False) -> list[RecordView]:
        """作废 several records at once (a batch entered twice), with one reason, in one
        transaction: all of them or, when any may not be voided, none, the refusal naming
        every record refused. While any is referred to, the user must first have seen which
        records refer to them (one :class:`StillReferenced` listing them all)."""
        reason = clean_text(reason or "", multiline=True)
        if not reason:
            raise ValidationFailed({"reason": "作废必须填写原因,例如“重复登记”或“录入错误”"}, {"reason": "原因"})
        with self._write("作废记录") as session:
            repo = RecordRepository(session)
            located = []
            refused = []
            # locked in id order first: two workstations voiding overlapping selections made in
            # different orders would otherwise wait for each other (a deadlock on PostgreSQL)
            for record_id in sorted(set(record_ids)):
                self._locate(session, record_id, lock=True)
            selected = set(record_ids)
            for record_id in dict.fromkeys(record_ids):
                ledger, row = self._locate(session, record_id, lock=True)
                number = row[ledger.key_field]
                current = self._view(session, ledger, row)
                why = self.void_refusal(current)
                # its children in use, those voided with it in the same selection left aside
                children = [c for c in children_of(ledger)
                            if any(r["id"] not in selected
                                   for r in repo.page(c, LedgerQuery(parent_id=record_id, limit=None)))]
                if not why and children:
                    why = (f"{ledger.noun} {number} 下还有在册的{'、'.join(c.noun for c in children)},"
                           "请先处理这些记录。")
                if why:
                    refused.append(why)
                located.append((ledger, number, current))
            if refused:
                raise LifecycleError("".join(refused) if len(refused) == 1
                                     else f"以下 {len(refused)} 条记录不能作废,均未作废:" + "".join(refused))
            if not confirm_referenced:
                batch = {current.id for _l, _n, current in located}  # voided together: no one left to show it
                referrers = [r for _l, _n, current in located for r in self._referrers(session, current.id)
                             if r.id not in batch]
                if referrers:
                    ledger, number, _current = located[0]
                    if len(located) == 1:
                        self._refuse_if_referenced(session, ledger, located[0][2].id, number, "作废")
                    shown = "、".join(str(r) for r in referrers[:10]) + (f" 等 {len(referrers)} 条" if len(referrers) > 10 else "")
                    raise StillReferenced(f"所选记录仍被以下记录引用:{shown}。作废后这些记录仍会显示它们"
                                          "(标注已作废),请确认。", referrers)
            now = self.clock()
            voided = []
            for ledger, number, current in located:
                repo.set_voided(ledger, current.id, True, reason, now, current.values)
                repo.release_keys(current.id)
                self._event(session, ledger, current.id, now, "void", reason=reason)
                audit.append(session, self.actor, "record.void", f"{ledger.key}:{number}",
                             {"record_id": current.id, "reason": reason}, at=now)
                voided.append(self._get_view(session, current.id))
            for ledger, _number, current in located:
                self._follow_commitments(session, ledger,
                                         _commitments_touched(ledger, current.parent_id, current.values, None))
            return voided

    def restore(self, record_id: int) -> RecordView:
        """恢复 a voided record (undo of a mistaken void), if it may be as it stands today: its
        unique values still free, its rules still kept, and (a child record) its parent in use.

        While it was voided the world moved on: its number given to another record, a computer
        it serves raised above its level (a voided record's rules are not asked when the
        records it names change). It comes back only if it would be accepted as a new entry,
        and the refusal names the other records."""
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
                ended = self._ended_parent(session, ledger, current.parent_id, current.status)
                if ended:
                    raise LifecycleError(f"{ended},不能恢复其下{current.status}的{ledger.noun}。")
            errors = self._unique_errors(session, ledger, current.values, record_id, current.parent_id)
            if not errors:
                errors = self._rules(session, ledger, current.values, record_id, parent_id=current.parent_id)
            if not errors:
                errors = self._referrers_rules(session, current)
            if errors:
                raise ValidationFailed(errors, _labels(ledger), lead=f"{ledger.noun} {current.number} 不能恢复:")
            now = self.clock()
            repo = RecordRepository(session)
            repo.set_voided(ledger, record_id, False, None, now, current.values)
            repo.set_keys(record_id, self._scope(ledger, current.parent_id), self.unique_keys(ledger, current.values))
            self._event(session, ledger, record_id, now, "restore")
            audit.append(session, self.actor, "record.restore", f"{ledger.key}:{current.number}",
                         {"record_id": record_id}, at=now)
            self._follow_commitments(session, ledger, _commitments_touched(ledger, current.parent_id, None, current.values))
            self._flush_or_explain(session)
            return self._get_view(session, record_id)

    def revert(self, record_id: int, event_id: int) -> RecordView:
        """撤销 one edit: put back the old values of the fields it changed (itself a new,
        recorded edit, so nothing leaves the history).

        A reference comes back as the record or person it held (by the ids the history keeps),
        whatever number or name it has now; one voided since is refused like any reference
        named anew. History written before the ids were kept gives only the text shown: it is
        resolved as typed, but never registers a new person (the person it named existed)."""
        with self._write("撤销修改") as session:
            event = session.get(RecordEvent, event_id)
            if event is None or event.record_id != record_id or event.action != "update":
                raise LifecycleError("只能撤销“修改”记录。")
            ledger, current = self._editable(session, record_id)
            old = {c.field: _value_before(ledger.field(c.field), c, current.values.get(c.field))
                   for c in event.changes if ledger.has_field(c.field)}
            stamp = event.at.strftime("%Y-%m-%d %H:%M")
            return self._edit(session, ledger, current, old, reason=f"撤销 {stamp} 的修改",
                              resolver=Resolver(RecordRepository(session), _nobody_new), undoes=event)

    def create_many(self, ledger_key: str | Ledger, rows: Iterable[Mapping[str, Any]], *,
                    all_or_nothing: bool = False, dry_run: bool = False, progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None, total: int | None = None,
                    source: str = "", row_numbers: Sequence[int] | None = None,
                    pending: Collection[str] = (), form: Mapping[str, str] | None = None,
                    keep: bool = False, checked: CheckedRows | None = None) -> BatchResult:
        """Register many records in one transaction (import, sample data).

        ``rows`` may be any iterable (an importer streaming a large file: give ``total``); each
        row is read once, and only its normalised values are kept.

        Every row is validated like :meth:`create`, and each reports all that is wrong with it
        at once: its fields' faults, and, for the values that are right, duplicates within the
        batch and against the database, references (resolved against the database and against
        the other rows, in any order; new people are added to the register) and rules. Good
        rows are stored and bad ones named in the result; with ``all_or_nothing`` nothing is
        stored while any row is bad. A ``dry_run`` checks every row and stores nothing (an
        import preview). Cancelling stores nothing.

        A row may give its ``status`` as the file has it (``停用``, ``已报废``, ``使用中``): read
        against the ledger's lifecycle (its synonyms), stored, and recorded in the import event
        of the record's history (导入,状态 维修); blank is the initial status; a word the
        lifecycle does not know refuses the row. ``row_numbers`` (the spreadsheet's own number
        of each row) are how messages name another row (与第 5 行重复). The result's ``notes``
        say what cells were read as, its ``rows`` the values of each row stored (or, in a dry
        run, that would be).

        A row of a child ledger names its parent by number under the key ``_parent``. A row of
        a ledger with a child ledger may bring its child records under ``_children`` (a carrier
        with its copies): they are checked with it, and a carrier any of whose copies is wrong
        is refused whole, so that no carrier is registered with copies missing.

        ``pending`` names required fields the file has no column for (the unit never kept
        them): a row may leave them empty, and the record is stored 待补充 (a required field
        empty), to be completed later; a row's ``_pending`` names such fields of that row alone
        (its cell said 待补充). ``form`` is what the lines around the file's table say
        (填表人, 填表日期, 合计 …), kept in the import's audit entry.

        A preview asked to ``keep`` what it read gives it as the result's ``checked``; the
        import after it passes that as ``checked`` and the same ``rows``. When nothing was
        committed to the database since the preview (its change mark), the rows are not read
        again (``rows`` is left unread, the result says ``reused``): only what the checks ask of
        the database (references, people, rules, clashes with records held) is asked again, so
        that a record another workstation stored in between is still refused as a clash. On
        SQLite the preview is exact: it hands out the ids and new people the import will (the
        write transaction holds the database, so the next ids are the same), and the import
        stores its outcome without asking again (the database is as the preview saw it).
        """
        ledger = self.ledger(ledger_key)
        pending = frozenset(pending)
        result = BatchResult()
        count = len(rows) if isinstance(rows, Sized) else (total or 0)
        if row_numbers is not None and isinstance(rows, Sized) and len(row_numbers) != count:
            raise ValueError(f"row_numbers: {len(row_numbers)} numbers for {count} rows")
        plan = _plan(ledger)
        labels = plan.labels
        names = _RowNames(row_numbers)
        tick = _Ticker(progress, cancelled, total or count, count)
        with _collector_paused(), self._write(f"导入{ledger.noun}") as session:
            repo = RecordRepository(session)
            if keep or checked is not None:
                # the write transaction begun first (SQLite: BEGIN IMMEDIATE, holding the write lock), so
                # that no one commits between the mark and what this transaction reads
                session.connection()
            mark = self.db.change_mark(session) if keep or checked is not None else None
            # 1. each row on its own: types, required fields, computed values, status
            staged: list[_Row] = []
            children_raw: dict[int, list[Mapping[str, Any]]] = {}
            memo: dict = {}
            found: list[tuple[str, str]] = []
            statuses = _StatusReader(ledger)
            initial, computed = ledger.lifecycle.initial, ledger.computed_fields
            waiting: list[tuple[_Row, Any]] = []  # child rows, their parents looked up together after the pass
            seen_rows = 0
            # an exact preview (SQLite) hands out ids and new people as the import will, so that an
            # import after it, nothing committed since, may take its checks' outcome whole
            exact = dry_run and keep and mark is not None and self.db.is_sqlite
            day = dt.date.today()  # (before the rows: a preview crossing midnight is not taken the day after)
            outcome = None
            if checked is not None and checked.fits(ledger, mark, pending):
                # the preview's reading of the rows, nothing committed since: not read again
                result.reused = True
                seen_rows, row_numbers = checked.seen_rows, checked.row_numbers
                names = _RowNames(row_numbers)
                tick.rows = count = max(count, seen_rows)
                rows = ()
                if checked.outcome is not None:  # and what the database said of them: not asked again
                    outcome = checked.take_outcome()
                else:
                    staged = checked.take()
                    result.refused.extend(checked.refused)
                    result.notes.extend(checked.notes)
                    children_raw, waiting = checked.children_raw, checked.waiting
            key_field = ledger.key_field
            if outcome is None:
                for index, raw in enumerate(rows):
                    seen_rows = index + 1
                    if index % 500 == 0:
                        tick(0, index)
                    status_cell = parent_text = None
                    may_be_empty = pending
                    if "status" in raw or "_parent" in raw or "_children" in raw or "_pending" in raw:
                        status_cell, parent_text = raw.get("status"), raw.get("_parent")
                        if "_children" in raw:
                            children_raw[index] = list(raw["_children"] or ())
                        if "_pending" in raw:  # this row's cells that say 待补充 (an export of such a record)
                            may_be_empty = pending | frozenset(raw["_pending"] or ())
                        raw = dict(raw)  # (a copy, then the few special keys taken out: cheaper than a filter)
                        for k in _SPECIAL:
                            raw.pop(k, None)
                    try:
                        values, errors = self.normalise(ledger, raw, notes=found, memo=memo, may_be_empty=may_be_empty)
                    except ServiceError as exc:
                        result.refused.append(RowRefusal(index, "", str(exc)))
                        found.clear()
                        continue
                    _take_status(values, errors, found, statuses(status_cell))
                    if not errors and values.get("status", initial) != initial:
                        for f in computed:  # computed from the status too (a leaver's 下次复审日期: none)
                            values[f.name] = f.compute(values)
                    if found:
                        result.notes.extend(RowNote(index, labels.get(n, n), m) for n, m in found)
                        found.clear()
                    staged.append(_Row(index, values, errors, None))
                    if ledger.parent is not None:
                        waiting.append((staged[-1], parent_text))
                if row_numbers is not None and len(row_numbers) < seen_rows:
                    raise ValueError(f"row_numbers: {len(row_numbers)} numbers for {seen_rows} rows")
                tick.rows = seen_rows
                memo.clear()
                if keep and mark is not None and not result.reused:
                    result.checked = CheckedRows(mark, ledger, pending, staged, list(result.refused), list(result.notes),
                                                 children_raw, waiting, seen_rows, row_numbers, exact=exact, day=day)
                if waiting:
                    self._find_parents(session, ledger, waiting)
                waiting = []
                # 2. ids for the new records, so that rows may refer to rows further down (and a
                # reference to a row that is refused is told as such)
                ids = repo.allocate_ids(len(staged)) if not dry_run or exact else range(-len(staged), 0)
                batch: dict[tuple[str, str], int] = {}
                label_field = ledger.label_field
                for row, rid in zip(staged, ids):
                    row.rid = rid
                    if row.values.get(key_field) and row.values.get(label_field):
                        batch.setdefault((ledger.key, str(row.values[label_field]).casefold()), rid)
                # new people, stored if a row kept names them (not ``pending``: that names the fields
                # left 待补充, which the audit entry counts)
                people_waiting: dict[int, tuple[str, str | None]] = {}
                resolver = self._resolver(session, preview=dry_run and not exact, batch=batch, pending=people_waiting)
                named: set[str] = set()
                for f in plan.people:  # (field by field: a loop over the rows with no call per row)
                    name, many = f.name, f.many
                    for value in [row.values.get(name) for row in staged]:
                        if value is None:
                            continue
                        for ref in (value if many else (value,)):
                            if ref.id is None and ref.text:
                                named.add(ref.text)
                resolver.prefetch_people(named)
                del named
                views: dict[int, RecordView] = {}  # the records the rows refer to, for the rules
                for f in ledger.reference_fields:  # the numbers the rows name, looked up together
                    if f.is_person:
                        continue
                    name, many = f.name, f.many
                    texts = {ref.text for row in staged if (value := row.values.get(name)) is not None
                             for ref in (value if many else (value,)) if ref.id is None and ref.text}
                    if texts:
                        resolver.prefetch_labels(f, texts)
                if ledger.rules_read_others and resolver.prefetched_ids():  # (the records they point to, read once)
                    views = self._views_by_id(session, resolver.prefetched_ids())
                unique = plan.unique
                # the keys the database holds already, asked for all rows at once: a child ledger's
                # keys are held within their parent's scope (份号 within its carrier), so they are
                # asked for with their scope (one query per few hundred parents, not per row)
                if not unique:
                    held_all = {}
                elif ledger.parent is None:
                    held_all = repo.all_keys(ledger.unique_scope, (
                        key for row in staged for key in unique_keys(ledger, row.values)))
                else:
                    held_all = repo.scoped_keys((self._scope(ledger, row.parent_id), name, key) for row in staged
                                                if row.parent_id is not None
                                                for name, key in unique_keys(ledger, row.values))
                # 3. what each row's right values say: references, rules, duplicates
                # (scope, field) → key → the first row holding it: a dict per field rather than one
                # keyed by (scope, field, key) triples, whose 400,000 tuples at 100,000 computers were
                # 25 MB of the import's peak
                seen: dict[tuple[str, str], dict[str, int]] = {}
                stored: list[tuple[int, tuple[Field, Any, str, int]]] = []  # clashes with the database
                people_memo: dict = {}
                good: list[_Row] = []
                for n, row in enumerate(staged):
                    if n % 500 == 0:
                        tick(1, n)
                    values, errors = row.values, row.errors
                    found_refs = self._resolve(ledger, values, resolver, memo=people_memo, skip=errors)
                    if ledger.rules and not errors and not found_refs:
                        found_refs = self._rules(session, ledger, values, None, parent_id=row.parent_id, views=views)
                    for name, message in found_refs.items():
                        errors.setdefault(name, message)
                    clashes: list[RowRefusal] = []
                    if unique and (ledger.parent is None or row.parent_id is not None):
                        scope = self._scope(ledger, row.parent_id)
                        keys = unique_keys(ledger, values)
                        for name, key in keys:
                            holder = held_all.get((name, key) if ledger.parent is None else (scope, name, key))
                            if holder is not None:  # told below, with the records that hold them read together
                                message = ""
                                stored.append((len(result.refused) + len(errors) + len(clashes),
                                               (ledger.field(name), values[name], key, holder)))
                            else:
                                first = (seen.get((scope, name)) or seen.setdefault((scope, name), {})).setdefault(
                                    key, row.index)
                                if first == row.index:
                                    continue
                                message = names.duplicate(first)
                            clashes.append(RowRefusal(row.index, labels[name], message))
                    if errors or clashes:
                        result.refused.extend(RowRefusal(row.index, labels.get(k, k), m) for k, m in errors.items())
                        result.refused.extend(clashes)
                    else:
                        good.append(row)
                if stored:
                    for (at, _clash), message in zip(stored, self._clash_messages(session, [c for _a, c in stored])):
                        r = result.refused[at]
                        result.refused[at] = RowRefusal(r.index, r.field, message)
                held_all = seen = people_memo = stored = None  # type: ignore[assignment]
                good = self._drop_dangling(ledger, good, staged, result, labels, names)
                children: list[tuple[Ledger, int, dict[str, Any], int]] = []
                if children_raw:
                    parents = len(good)
                    good, children = self._stage_children(session, ledger, good, children_raw, resolver, result,
                                                          dry_run and not exact)
                    if len(good) < parents:  # a row naming a parent refused for its children: refused too
                        good = self._drop_dangling(ledger, good, staged, result, labels, names)
                        kept = {row.rid for row in good}
                        children = [c for c in children if c[3] in kept]
                result.accepted = len(good)
                result.rows = [(row.index, row.values) for row in good]
                named = [ref for owner, values in [(ledger, row.values) for row in good] + [(c, v) for c, _, v, _ in children]
                         for f in owner.reference_fields if f.is_person for ref in f.refs(values.get(f.name))]
                used = {ref.id for ref in named}
                new_people = [(pid, name, department) for pid, (name, department) in people_waiting.items() if pid in used]
                # (an exact preview knows the people as the import adds them: two namesakes told apart
                # by their departments are two; another preview knows only the names)
                result.people_added = (list(dict.fromkeys(ref.text for ref in named if ref.id is None))
                                       if dry_run and not exact else [name for _, name, _ in new_people])
                del named, used
                if exact and result.checked is not None:
                    result.checked.keep_outcome(good, children, new_people, result)
            else:
                good, children, new_people, refused, notes, result.accepted, result.rows, result.people_added = outcome
                result.refused.extend(refused)
                result.notes.extend(notes)
                del outcome, refused, notes
            if dry_run or (all_or_nothing and result.refused):
                session.rollback()
                tick.done()
                return result
            # 4. store
            tick(2, 0)
            now = self.clock()
            self._add_people(session, new_people, now)  # before the rows that refer to them
            if ledger.auto_number:
                unnumbered = [row for row in good if row.values.get(key_field) is None]
                if unnumbered:
                    given = {key for row in good for name, key in self.unique_keys(ledger, row.values)
                             if name == key_field}  # numbers typed in other rows are not given again
                    for row, number in zip(unnumbered, self._next_numbers(session, ledger, len(unnumbered), given)):
                        row.values[key_field] = number
            repo.insert(ledger, [(row.rid, row.values, row.parent_id) for row in good], now,
                        lambda p: self._scope(ledger, p), progress=lambda done: tick(2, done))
            self._import_events(session, ledger, [(row.rid, row.values["status"]) for row in good], now, source)
            missing_clock.imported(session, ledger, ((row.rid, row.values, row.parent_id) for row in good))
            for child in {c.key: c for c, _, _, _ in children}.values():
                mine = [(rid, v, pid) for c, rid, v, pid in children if c is child]
                repo.insert(child, mine, now, lambda p, c=child: self._scope(c, p))
                self._import_events(session, child, [(rid, v["status"]) for rid, v, _ in mine], now, source)
                missing_clock.imported(session, child, mine)
            for owner, filed in ((ledger, [(row.parent_id, row.values) for row in good]),
                                 (staff_files.STAFF_FILES, [(pid, v) for c, _rid, v, pid in children
                                                            if c.key == staff_files.STAFF_FILES.key])):
                touched: dict[int, list] = {}
                for pid, v in filed:
                    for person, former in _commitments_touched(owner, pid, None, v).items():
                        touched.setdefault(person, []).extend(former)
                self._follow_commitments(session, owner, touched)
            result.created = [row.rid for row in good]
            audit.append(session, self.actor, "record.import", ledger.key,
                         {"ledger": ledger.title, "created": len(good),
                          "refused_rows": len({r.index for r in result.refused}), "source": source,
                          "people_added": result.people_added[:200],
                          # a ledger keyed by a person (参训人员: one a session) lists their names
                          "asset_numbers": [_key_text(row.values[key_field]) for row in good[:1000]],
                          **({"form": dict(form)} if form else {}),
                          **({"pending": sum(1 for row in good if any(row.values.get(n) is None for n in pending))}
                             if pending else {})}, at=now)
            if cancelled and cancelled():
                raise Cancelled()
            tick.done()
        return result

    def _import_events(self, session: Session, ledger: Ledger, stored: Sequence[tuple[int, str]], now: dt.datetime,
                       source: str) -> None:
        """The import event of each record stored, and the year's tally. A record that came with
        a status other than the initial one has it in its event (导入,状态 维修(台账.xlsx), with
        the change 状态: → 维修), so that its history says where the status came from."""
        if not stored:
            return
        repo = RecordRepository(session)
        initial = ledger.lifecycle.initial
        where = f"({source})" if source else ""

        def event(rid: int, reason: str | None) -> dict[str, Any]:
            return {"record_id": rid, "ledger": ledger.key, "at": now, "actor": self.actor.name, "action": "import",
                    "reason": reason, "effective_date": None}

        repo.insert_events(ledger.key, [rid for rid, status in stored if status == initial], now, self.actor.name,
                           "import", source or None)
        moved = [(rid, status) for rid, status in stored if status != initial]
        if moved:
            event_ids = repo.insert_returning_ids(RecordEvent.__table__, [
                event(rid, f"导入,状态 {status}{where}") for rid, status in moved])
            repo.bulk_insert(FieldChange.__table__, [
                {"event_id": eid, "field": "status", "old_value": None, "new_value": status}
                for eid, (_rid, status) in zip(event_ids, moved)])
        repo.tally(ledger, now.year, "import", n=len(stored))

    def _add_people(self, session: Session, people: Sequence[tuple[int, str, str | None]], now: dt.datetime) -> None:
        """The people rows of an import name who are not in the register yet, added with the
        ids they were given: numbered, stored, each with its history event, and audited (one
        entry naming them all)."""
        if not people:
            return
        repo = RecordRepository(session)
        items = []
        for (pid, name, department), number in zip(people, self._next_numbers(session, PEOPLE, len(people))):
            values = self._person_values(name, department)
            values["status"] = PEOPLE.lifecycle.initial
            values[PEOPLE.key_field] = number
            items.append((pid, values, None))
        repo.insert(PEOPLE, items, now, lambda p: self._scope(PEOPLE, p))
        repo.bulk_insert(RecordEvent.__table__, [
            {"record_id": pid, "ledger": PEOPLE.key, "at": now, "actor": self.actor.name, "action": "create",
             "reason": "登记其他台账时新增", "effective_date": None} for pid, _v, _p in items])
        repo.tally(PEOPLE, now.year, "create", n=len(items))
        numbers = [v[PEOPLE.key_field] for _pid, v, _p in items]
        if len(items) == 1:
            detail: dict[str, Any] = {"ledger": PEOPLE.title, "record_id": items[0][0], "name": items[0][1]["name"]}
        else:
            detail = {"ledger": PEOPLE.title, "count": len(items),
                      "people": [[pid, v[PEOPLE.key_field], v["name"]] for pid, v, _p in items]}
        target = f"{PEOPLE.key}:{numbers[0]}" + (f"…{numbers[-1]}" if len(numbers) > 1 else "")
        audit.append(session, self.actor, "record.create", target, detail, at=now)

    def _stage_children(self, session: Session, ledger: Ledger, good: list[_Row], children_raw: dict,
                        resolver: Resolver, result: BatchResult, dry_run: bool):
        """Check the child records brought with each good parent row; a parent with any bad
        child is refused with it. Returns the parents kept and their children to store."""
        kinds = children_of(ledger)
        if len(kinds) != 1:
            raise ServiceError(f"{ledger.noun}没有可以一同导入的下级记录。")
        child = kinds[0]
        labels = _labels(child)
        statuses = _StatusReader(child)
        own_rules = child.own_value_rules
        kept, out = [], []
        held: list[tuple[int, list[dict[str, Any]]]] = []  # (parent's id, its children's values)
        for row in good:
            index = row.index
            bad = False
            seen: dict[tuple[str, str], int] = {}
            staged_children = []
            for position, raw in enumerate(children_raw.get(index, ())):
                status_cell = raw.get("status")
                raw = {k: v for k, v in raw.items() if k not in _SPECIAL}
                found: list[tuple[str, str]] = []
                cvalues, errors = self.normalise(child, raw, notes=found)
                _take_status(cvalues, errors, found, statuses(status_cell))
                result.notes.extend(RowNote(index, labels.get(n, n), m, child=position) for n, m in found)
                errors.update({k: m for k, m in self._resolve(child, cvalues, resolver, skip=errors).items()
                               if k not in errors})
                if own_rules and not errors:  # (its parent is not stored yet: the rules of its own values)
                    context = RuleContext(values=cvalues, record_id=None, referenced=lambda _name: ())
                    for rule in own_rules:
                        for name, message in rule(context).items():
                            errors.setdefault(name, message)
                if row.values["status"] in ledger.lifecycle.closing and "status" not in errors \
                        and cvalues["status"] not in child.lifecycle.closing:
                    # a carrier 清退 or 已销毁 comes with no copy still held (see _refuse_if_children_held)
                    errors["status"] = (f"{ledger.noun}为“{row.values['status']}”,其下的{child.noun}不能为"
                                        f"“{cvalues['status']}”,应为"
                                        + "或".join(f"“{s}”" for s in child.lifecycle.statuses
                                                    if s in child.lifecycle.closing))
                for name, key in self.unique_keys(child, cvalues):
                    if (name, key) in seen:
                        errors.setdefault(name, f"与同一{ledger.noun}的另一行重复")
                    seen.setdefault((name, key), position)
                if errors:
                    bad = True
                    result.refused.extend(RowRefusal(index, labels.get(k, k), m, child=position)
                                          for k, m in errors.items())
                    continue
                staged_children.append(cvalues)
            if bad:
                result.refused.append(RowRefusal(index, "", f"其下的{child.noun}有误,这条{ledger.noun}连同其{child.noun}都未导入"))
                continue
            kept.append(row)
            held.append((row.rid, staged_children))
        # the ids of every child at once: a carrier book of 2,000 carriers asked 2,000 times (6 of 20 s)
        total = sum(len(staged) for _rid, staged in held)
        ids = iter(RecordRepository(session).allocate_ids(total) if not dry_run else [-1] * total)
        for rid, staged in held:
            out.extend((child, next(ids), cvalues, rid) for cvalues in staged)
        return kept, out

    @staticmethod
    def _drop_dangling(ledger: Ledger, good: list[_Row], staged: list[_Row], result: BatchResult,
                       labels: dict[str, str], names: _RowNames) -> list[_Row]:
        """Rows that refer to a row of the same import which was refused cannot be stored
        either: refuse them too, naming the row they depend on."""
        fields = [f for f in ledger.reference_fields if ledger.key in f.type.targets]
        if not fields or len(good) == len(staged):
            return good
        index_of = {row.rid: row.index for row in staged}
        while True:
            refused = index_of.keys() - {row.rid for row in good}
            kept, dropped = [], False
            for row in good:
                missing = [(f, ref) for f in fields for ref in f.refs(row.values.get(f.name)) if ref.id in refused]
                if missing:
                    f, ref = missing[0]
                    result.refused.append(RowRefusal(row.index, labels[f.name], names.refused(ref.text, index_of[ref.id])))
                    dropped = True
                else:
                    kept.append(row)
            good = kept
            if not dropped:
                return good

    def _find_parents(self, session: Session, ledger: Ledger, waiting: Sequence[tuple[_Row, Any]]) -> None:
        """Each child row's parent, named by number (``_parent``), as its ``parent_id``, or the
        fault in its errors. The numbers are looked up together, a few hundred per query: a
        carrier book of 100,000 documents brings a million copies, and one lookup per parent
        cost 6 ms."""
        parent = LEDGERS[ledger.parent]
        key_field = parent.field(parent.key_field)
        read: dict[Any, Any] = {}  # cell → number (or the fault), each distinct cell read once
        rows_of: dict[str, list[tuple[_Row, Any]]] = {}
        for row, text in waiting:
            if is_blank(text):
                row.errors["_parent"] = f"须填写所属{parent.noun}的编号"
                continue
            number = read.get(text) if text.__class__ in _MEMO_TYPES else None
            if number is None:
                try:
                    number = key_field.normalise(text)
                except FieldError as exc:  # too long, control characters: this row's fault, not the import's
                    number = _Fault(f"所属{parent.noun}的编号有误:{exc}")
                if text.__class__ in _MEMO_TYPES:
                    read[text] = number
            if number.__class__ is _Fault:
                row.errors["_parent"] = number.message
                continue
            rows_of.setdefault(number, []).append((row, text))
        found = RecordRepository(session).in_use_by_keys(parent, list(rows_of))
        for number, rows in rows_of.items():
            hit = found.get(number)
            for row, text in rows:
                if hit is None:
                    row.errors["_parent"] = f"没有编号为“{number}”的{parent.noun}"
                    continue
                row.parent_id, status = hit
                if status in parent.lifecycle.closing and row.values.get("status") not in ledger.lifecycle.closing:
                    # nothing still held comes under a record that has closed (a carrier 清退 or 已销毁)
                    row.errors["_parent"] = (f"{parent.noun} {text} 为“{status}”,"
                                             f"其下不能再添加{row.values.get('status')}的{ledger.noun}")

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
        """Records by id, in that order (a selection of the table), read together: the register
        says each one's ledger, then each ledger's rows come a few hundred per query and are
        made views in one pass (a 销毁审批表 of 500 copies names 500 copies and their carriers:
        one record at a time cost 5 ms each)."""
        ids = list(ids)
        with self._read() as session:
            repo = RecordRepository(session)
            ledger_of: dict[int, str] = {}
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                ledger_of.update(session.execute(select(Record.id, Record.ledger).where(Record.id.in_(part))).all())
            missing = next((i for i in ids if ledger_of.get(i) not in LEDGERS), None)
            if missing is not None:
                raise NotFound(f"找不到编号为 {missing} 的记录,它可能已被删除或数据库已更换。")
            views: dict[int, RecordView] = {}
            by_ledger: dict[str, list[int]] = {}
            for i in dict.fromkeys(ids):
                by_ledger.setdefault(ledger_of[i], []).append(i)
            for key, wanted in by_ledger.items():
                ledger = LEDGERS[key]
                for start in range(0, len(wanted), 500):
                    rows = repo.rows_by_ids(ledger, wanted[start:start + 500])
                    views.update((v.id, v) for v in self._views(session, ledger, rows))
            missing = next((i for i in ids if i not in views), None)
            if missing is not None:
                raise NotFound(f"找不到编号为 {missing} 的记录,它可能已被删除或数据库已更换。")
            return [views[i] for i in ids]

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
        _searchable(query)
        with self._read() as session:
            rows, total = RecordRepository(session).page_with_total(ledger, query, count=count)
            return Page(self._views(session, ledger, rows), total)

    def count(self, ledger_key: str | Ledger, query: LedgerQuery | None = None) -> int:
        ledger = self.ledger(ledger_key)
        _searchable(query)
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
        _searchable(query)
        with self._read() as session:
            rows, _total = RecordRepository(session).page_with_total(ledger, query, count=False)
            return self._views(session, ledger, rows)

    def children(self, parent_id: int, ledger_key: str | Ledger | None = None, *, include_voided: bool = False
                 ) -> list[RecordView]:
        """The records that belong to a parent (a carrier's copies), in number order."""
        with self._read() as session:
            parent_ledger, _row = self._locate(session, parent_id)  # NotFound, in Chinese, if there is none
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
        _searchable(query)
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
            reverses = {e.id: next((int(c.new_ids) for c in e.changes if c.field == status_facts.REVERSES
                                    and c.new_ids), None) for e in events if e.action == "status"}
            reversed_by = {target: e for e, target in reverses.items() if target is not None}
            latest = next((e for e in events if e.action == "status"), None)
            open_now = not _row["voided"] and _row["status"] not in ledger.lifecycle.terminal
            return [
                HistoryEntry(
                    id=e.id, at=e.at, actor=e.actor, action=e.action, reason=e.reason, effective_date=e.effective_date,
                    changes=tuple(FieldChangeView(c.field, labels.get(c.field, c.field), c.old_value or "",
                                                  c.new_value or "") for c in e.changes),
                    reverses=reverses.get(e.id), reversed_by=reversed_by.get(e.id),
                    reversible=(e is latest and open_now and reverses.get(e.id) is None and bool(e.changes)
                                and e.changes[0].new_value == _row["status"]),
                )
                for e in events
            ]

    def latest_status_changes(self, record_ids: Sequence[int]) -> dict[int, HistoryEntry]:
        """Each record's latest status change (with its facts), for many records in a few
        queries: a form listing hundreds of copies (销毁审批表, 分发签收单) reads them at once
        rather than each record's whole history."""
        out: dict[int, HistoryEntry] = {}
        with self._read() as session:
            for start in range(0, len(record_ids), 500):
                ids = list(record_ids[start:start + 500])
                newest = (select(RecordEvent.record_id, func.max(RecordEvent.id).label("id"))
                          .where(RecordEvent.record_id.in_(ids), RecordEvent.action == "status")
                          .group_by(RecordEvent.record_id).subquery())
                events = session.scalars(select(RecordEvent).join(newest, RecordEvent.id == newest.c.id)
                                         .options(selectinload(RecordEvent.changes))).all()
                for e in events:
                    labels = _labels(LEDGERS[e.ledger]) if e.ledger in LEDGERS else {}
                    out[e.record_id] = HistoryEntry(
                        id=e.id, at=e.at, actor=e.actor, action=e.action, reason=e.reason,
                        effective_date=e.effective_date,
                        changes=tuple(FieldChangeView(c.field, labels.get(c.field, c.field), c.old_value or "",
                                                      c.new_value or "") for c in e.changes))
        return out


__all__ = [
    "BatchResult", "ChangeRow", "FieldChangeView", "HistoryEntry", "LedgerQuery", "LedgerService", "Page",
    "RecordView", "Referrer", "RowRefusal", "StillReferenced",
]


def _commitments_touched(ledger: Ledger, parent_id: int | None, old: Mapping[str, Any] | None,
                         new: Mapping[str, Any] | None) -> dict[int, list[dt.date | None]]:
    """The person whose file's 保密承诺书 an entry written from ``old`` to ``new`` (None: not in
    the file, created or voided) touches, with the commitment date it took away; {} when none."""
    if ledger.key != staff_files.STAFF_FILES.key or parent_id is None:
        return {}
    def dated(values: Mapping[str, Any] | None) -> dt.date | None | bool:
        return values.get("entry_date") if values and values.get("kind") == staff_files.COMMITMENT else False
    before, after = dated(old), dated(new)
    if before is False and after is False or before == after:
        return {}
    return {parent_id: [] if before is False else [before]}


def _key_text(value: Any) -> Any:
    """A record's number as the audit log keeps it: a reference (a person keying a record) as its text."""
    return value.text if isinstance(value, Ref) else value
