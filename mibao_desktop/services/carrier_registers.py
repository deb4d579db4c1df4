"""The carriers' registers for a period (收文, 发文, 借阅, 复制登记簿, 销毁清单) and the carriers'
year on the annual report, read from what was recorded (issue 13 item 6). Qt-free.

Which action feeds which register, and its columns, are declared in
``ledgers/carrier_registers.py``. A register's rows are read in one snapshot:

- the copy actions of the period from the copies' history (``record_events`` of the copies'
  ledger from the period's first day, by the index on ledger and time, then by the day the
  action took effect, so an action entered later with an earlier date is in its own period);
  each with the facts it recorded (its field changes), the copy and its carrier;
- for 收文 and 发文, the carriers registered as received or made, through the index of their
  收到日期.

A 借阅 row ends with the copy's next move out of 借出 (归还, or 下落不明) and says 逾期 when it
came back after its 应还日期, or is still out past it. A status change taken back (撤销状态变更)
is left out with its reversal. Printing and export (``excel/registers.py``) are recorded as any output (seed 002 §七.5).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from sqlalchemy import and_, func, select

from mibao_desktop.db.models import Account, FieldChange, RecordEvent
from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import ServiceError
from mibao_desktop.ledgers import carrier_registers as R, levels
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.ledgers.leak_events import LEAK_EVENTS
from mibao_desktop.services import audit, report_facts, status_facts
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.output_service import check_target
from mibao_desktop.services.repository import RecordRepository

COPIES, CARRIERS = C.CARRIER_COPIES, C.CARRIERS
LEVEL = CARRIERS.level_field
PERIOD_FIELD = CARRIERS.field(LEVEL.type.period_field) if LEVEL.type.period_field else None
SOURCE, RECEIVED_ON, COUNT_FIELD = "source", CARRIERS.in_service_field.name, COPIES.counted_by
KEEPER = CARRIERS.field("keeper")
NOT_BACK, LOST = "未归还", "下落不明"
BATCH = 500
FOUND_ON = LEAK_EVENTS.field("found_on").name  # 认定日期: the day a leak was established


def numbers_text(numbers: Iterable[int]) -> str:
    """份号 as a paper register writes them: 1-5、7、9-10."""
    out, run = [], []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return "、".join(out)


def period_text(start: dt.date, end: dt.date) -> str:
    return f"{start.year} 年 {start.month} 月 {start.day} 日至 {end.year} 年 {end.month} 月 {end.day} 日"


@dataclass
class RegisterTable:
    """A register read for a period: its rows (dicts by the declaration's column keys)."""

    register: R.Register
    start: dt.date
    end: dt.date
    today: dt.date
    rows: list[dict[str, Any]]
    unit: str = ""
    filled_by: str = ""

    @property
    def marking(self) -> str:
        """The highest level among the rows (非涉密 when none; a row whose 密级 is 待补充 marks
        it with the highest a carrier may hold)."""
        held = [r.get(R.MARKING_LEVEL) for r in self.rows]
        if any(level in (None, "") for level in held) and self.rows:
            return levels.highest(LEVEL.type.allowed)
        return levels.highest(held)

    @property
    def period(self) -> str:
        return period_text(self.start, self.end)

    def summary(self) -> str:
        copies = sum(int(r.get(R.COUNT) or 0) for r in self.rows)
        unit = self.register.what
        return f"共 {len(self.rows)} {unit}" + (f"、{copies} 份" if copies and unit == "件" else
                                                 f"(涉及 {copies} 份)" if copies else "")

    def cells(self, row: dict[str, Any], *, dates_as_text: bool = False) -> list[Any]:
        out = []
        for column in self.register.columns:
            value = row.get(column.key)
            if isinstance(value, dt.date) and dates_as_text:
                value = value.isoformat()
            out.append("" if value is None else value)
        return out


@dataclass
class CarrierYear:
    """The carriers' year by 密级 (rows) and the declaration's YEAR_COLUMNS."""

    year: int
    levels: tuple[str, ...]
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # column key → level → n

    def value(self, key: str, level: str | None = None) -> int:
        counter = self.counts.get(key, Counter())
        return sum(counter.values()) if level is None else counter.get(level, 0)


class CarrierRegisters:
    """The registers and the carriers' year, for the person at work."""

    def __init__(self, ledgers: LedgerService) -> None:
        self.ledgers = ledgers
        self.db = ledgers.db

    @staticmethod
    def registers() -> tuple[R.Register, ...]:
        return R.REGISTERS

    # -- reading ---------------------------------------------------------------------------

    def read(self, key: str, start: dt.date, end: dt.date, *, unit: str | None = None,
             filled_by: str | None = None) -> RegisterTable:
        register = R.BY_KEY.get(key)
        if register is None:
            raise ServiceError(f"没有名为“{key}”的登记簿,可选:{'、'.join(r.title for r in R.REGISTERS)}")
        if start > end:
            raise ServiceError(f"起始日期 {start.isoformat()} 晚于截止日期 {end.isoformat()},请重新选择期间。")
        today = self.ledgers.clock().date()
        with self.ledgers._read(f"查看{register.title}") as session:
            rows = self._carrier_rows(session, register, start, end) + self._action_rows(session, register, start,
                                                                                          end, today)
        rows.sort(key=lambda r: (r[R.DATE], r.get(R.CARRIER_FIELDS["carrier_number"]) or "", r.get("_first", 0)))
        unit = report_facts.unit_name(self.db) if unit is None else unit
        filled_by = report_facts.display_name(self.db, self.ledgers.actor.name) if filled_by is None else filled_by
        return RegisterTable(register, start, end, today, rows, unit, filled_by)

    def _carrier_rows(self, session, register: R.Register, start: dt.date, end: dt.date) -> list[dict]:
        """收文/制作: the carriers registered so in the period, each with its copies."""
        if not register.sources:
            return []
        t = table_of(CARRIERS)
        rows = session.execute(select(t).where(t.c[SOURCE].in_(register.sources), t.c[RECEIVED_ON] >= start,
                                               t.c[RECEIVED_ON] <= end, t.c.voided.is_(False))
                               .order_by(t.c[RECEIVED_ON], t.c.id)).mappings().all()
        if not rows:
            return []
        repo = RecordRepository(session)
        ct = table_of(COPIES)
        numbers: dict[int, list[int]] = defaultdict(list)
        ids = [r["id"] for r in rows]
        for start_at in range(0, len(ids), BATCH):
            for parent, number in session.execute(select(ct.c.parent_id, ct.c[COPIES.key_field]).where(
                    repo._among(ct.c.parent_id, ids[start_at:start_at + BATCH]), ct.c.voided.is_(False))):
                numbers[parent].append(number)
        keepers = repo.labels(r[KEEPER.name] for r in rows)
        out = []
        for r in rows:
            row = self._carrier_values(r, keepers)
            held = numbers.get(r["id"], [])
            row.update({R.DATE: r[RECEIVED_ON], R.DOING: r[SOURCE], R.COUNT: len(held) or r[COUNT_FIELD],
                        R.NUMBERS: numbers_text(held), "_first": min(held, default=0)})
            scope = r[R.CARRIER_FIELDS["scope"]]
            if r[SOURCE] == R.MADE and scope:
                row[R.SENT_TO] = f"发放范围:{scope}"
            out.append(row)
        return out

    @staticmethod
    def _carrier_values(r, keepers) -> dict[str, Any]:
        row = {name: r[name] for name in R.CARRIER_FIELDS.values()}
        level = LEVEL.display(LEVEL.from_storage(r[LEVEL.name])) if r[LEVEL.name] is not None else None
        # the statutory period of its level when none is set (绝密30年、机密20年、秘密10年)
        period = (r[PERIOD_FIELD.name] if PERIOD_FIELD is not None else None) or levels.STATUTORY_YEARS.get(level or "")
        row.update({R.MARKING_LEVEL: level, R.PERIOD: levels.period_text(period) if period else "",
                    R.KEEPER: keepers[r[KEEPER.name]].text if r[KEEPER.name] in keepers else "",
                    "_carrier_id": r["id"]})
        return row

    def _action_rows(self, session, register: R.Register, start: dt.date, end: dt.date, today: dt.date) -> list[dict]:
        statuses, kinds = R.statuses_fed(register), R.kinds_fed(register)
        if not (statuses or kinds):
            return []
        begin = dt.datetime.combine(start, dt.time.min)
        base = (RecordEvent.ledger == COPIES.key, RecordEvent.at >= begin, RecordEvent.effective_date >= start,
                RecordEvent.effective_date <= end)
        found = []  # (event id, record id, day, actor, kind, old status, new status)
        if statuses:
            found += session.execute(
                select(RecordEvent.id, RecordEvent.record_id, RecordEvent.effective_date, RecordEvent.actor,
                       RecordEvent.action, FieldChange.old_value, FieldChange.new_value)
                .join(FieldChange, and_(FieldChange.event_id == RecordEvent.id, FieldChange.field == "status"))
                .where(*base, RecordEvent.action == "status", FieldChange.new_value.in_(statuses))).all()
        if kinds:
            found += session.execute(
                select(RecordEvent.id, RecordEvent.record_id, RecordEvent.effective_date, RecordEvent.actor,
                       RecordEvent.action, RecordEvent.reason, RecordEvent.reason)
                .where(*base, RecordEvent.action.in_(kinds))).all()
        void = _taken_back(session, begin, sorted({e[1] for e in found}))
        events = [e for e in found if e[0] not in void
                  and R.action_of(e[4], e[5], e[6]) in register.feeds]
        if not events:
            return []
        repo = RecordRepository(session)
        facts = _facts(session, repo, [e[0] for e in events])
        copies = {r["id"]: r for r in repo.rows_by_ids(COPIES, sorted({e[1] for e in events}))}
        carriers = {r["id"]: r for r in repo.rows_by_ids(CARRIERS, sorted({r["parent_id"] for r in copies.values()}))}
        keepers = repo.labels(r[KEEPER.name] for r in carriers.values())
        names = dict(session.execute(select(Account.name, Account.display_name)
                                     .where(Account.name.in_(sorted({e[3] for e in events})))).all())
        ends = _loan_ends(session, repo, [e for e in events if R.action_of(e[4], e[5], e[6]) == R.LEND.key], void)
        grouped: dict[tuple, dict] = {}
        for event_id, record_id, day, actor, kind, old, new in sorted(events, key=lambda e: e[0]):
            copy = copies.get(record_id)
            if copy is None or copy["voided"] or copy["parent_id"] not in carriers \
                    or carriers[copy["parent_id"]]["voided"]:
                continue  # a copy or carrier voided (作废: entered by mistake) is in no register
            action = R.ACTIONS[R.action_of(kind, old, new)]
            row = self._carrier_values(carriers[copy["parent_id"]], keepers)
            stated = facts.get(event_id, {})
            row.update(stated)
            row.update({R.DATE: day, R.DOING: action.label, R.HANDLER: names.get(actor) or actor})
            row.update(_derived(action.key, stated, ends.get(event_id), today))
            key = (copy["parent_id"], action.key, *(str(row.get(c.key)) for c in register.columns
                                                    if c.key not in (R.NUMBERS, R.COUNT)))
            number = copy[COPIES.key_field]
            if key in grouped:
                grouped[key]["_numbers_list"].append(number)
            else:
                row["_numbers_list"] = [number]
                grouped[key] = row
        out = []
        for row in grouped.values():
            held = row.pop("_numbers_list")
            row.update({R.NUMBERS: numbers_text(held), R.COUNT: len(held), "_first": min(held)})
            out.append(row)
        return out

    # -- the carriers' year (annual report) -------------------------------------------------

    def year(self, year: int) -> CarrierYear:
        """made, received, copied, lent, returned, destroyed, missing and leaks of ``year`` by
        密级 (the carrier's as it is now): carriers and their copies through the index of their
        收到日期, the actions from the copies' events of the year, the leak events by 认定日期."""
        with self.ledgers._read("导出年度报表") as session:
            return year_figures(session, year)

    # -- paper and workbook ------------------------------------------------------------------

    def print(self, table: RegisterTable, target: str | Path | BinaryIO, *, marking: str | None = None,
              printer: str = "", medium: str = "", record: bool = True) -> int:
        """The register on A4 landscape as PDF (``printing/registers.py``); returns its pages.
        Recorded as a print (打印) naming the register and its period."""
        from mibao_desktop.printing.registers import register_form
        from mibao_desktop.printing.forms import render_form
        from mibao_desktop.services.print_service import _written

        require_marking(marking)
        check_target(self.db, target)
        anchor = audit.current_anchor(self.db)
        with _written(target) as out:
            pages = render_form(out, register_form(table, marking=marking or table.marking), anchor=anchor.label)
        if record:
            self.ledgers.record_output("ledger.print", COPIES, medium or _name(target), len(table.rows), {
                "what": f"{table.register.title}({table.period})", "pages": pages, "printer": printer,
                "marking": marking or table.marking, "anchor": str(anchor)})
        return pages


def require_marking(marking: str | None) -> None:
    if marking is not None and marking not in levels.markings():
        raise ServiceError(f"“{marking}”不是可用的密级标志,可选:{'、'.join(levels.markings())}")


def _name(target) -> str:
    return str(target) if isinstance(target, (str, Path)) else "打印机"


def _taken_back(session, since: dt.datetime, record_ids: list[int] | None = None) -> set[int]:
    """The status changes taken back since ``since`` and the reversals themselves: neither stood.
    With ``record_ids``, only those copies' histories are read (a reversal is on the record it
    reverses): the index on the record, not every event of the copies since then."""
    out: set[int] = set()
    stmt = (select(FieldChange.event_id, FieldChange.new_ids).join(RecordEvent, RecordEvent.id == FieldChange.event_id)
            .where(RecordEvent.ledger == COPIES.key, RecordEvent.at >= since, RecordEvent.action == "status",
                   FieldChange.field == status_facts.REVERSES))
    if record_ids is None:
        batches = [stmt]
    else:
        repo = RecordRepository(session)
        batches = [stmt.where(repo._among(RecordEvent.record_id, record_ids[i:i + BATCH]))
                   for i in range(0, len(record_ids), BATCH)]
    for batch in batches:
        for event_id, target in session.execute(batch):
            out.add(event_id)
            if target and str(target).strip().isdigit():
                out.add(int(target))
    return out


def _facts(session, repo: RecordRepository, event_ids: list[int]) -> dict[int, dict[str, str]]:
    """Each event's facts and edits by field name, as recorded (the text shown then)."""
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(event_ids), BATCH):
        for event_id, name, value in session.execute(
                select(FieldChange.event_id, FieldChange.field, FieldChange.new_value)
                .where(repo._among(FieldChange.event_id, event_ids[start:start + BATCH]), FieldChange.field != "status")
                .order_by(FieldChange.id)):
            out[event_id].setdefault(name, value or "")
    return out


def _loan_ends(session, repo: RecordRepository, loans: list, void: set[int]) -> dict[int, tuple[dt.date, str]]:
    """Each loan's end: the copy's first move out of 借出 after it (day, status moved into)."""
    if not loans:
        return {}
    records = sorted({e[1] for e in loans})
    moves: dict[int, list] = defaultdict(list)
    for start in range(0, len(records), BATCH):
        for event_id, record_id, day, new in session.execute(
                select(RecordEvent.id, RecordEvent.record_id, RecordEvent.effective_date, FieldChange.new_value)
                .join(FieldChange, and_(FieldChange.event_id == RecordEvent.id, FieldChange.field == "status"))
                .where(repo._among(RecordEvent.record_id, records[start:start + BATCH]), RecordEvent.action == "status",
                       FieldChange.old_value == R.LEND.to).order_by(RecordEvent.id)):
            if event_id not in void:
                moves[record_id].append((event_id, day, new))
    out = {}
    for loan_id, record_id, *_rest in loans:
        after = next((m for m in moves.get(record_id, ()) if m[0] > loan_id), None)
        if after is not None:
            out[loan_id] = (after[1], after[2])
    return out


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _derived(action: str, facts: dict[str, str], end: tuple[dt.date, str] | None, today: dt.date) -> dict[str, Any]:
    """What a row says beyond the recorded facts: a loan's return and 逾期, who received a copy,
    both 监销人, the 承销单位 with its 资质, the issuer's consent or the 绝密 exception."""
    out: dict[str, Any] = {}
    if action == R.LEND.key:
        due = _date(facts.get(R.DUE_BACK))
        if end is None:
            out[R.RETURNED_ON] = NOT_BACK
            if due is not None and today > due:
                out[R.OVERDUE] = f"逾期未还 {(today - due).days} 天"
        elif end[1] == R.GIVE_BACK.to:
            out[R.RETURNED_ON] = end[0]
            if due is not None and end[0] > due:
                out[R.OVERDUE] = f"逾期 {(end[0] - due).days} 天"
        else:
            out[R.RETURNED_ON] = f"{end[1]}({end[0].isoformat()})"
            out[R.OVERDUE] = end[1]
    elif action == "distribute":
        out[R.SENT_TO] = "、".join(v for v in (facts.get(C.RECIPIENT_UNIT.name), facts.get(C.RECIPIENT.name)) if v)
    elif action == "destroy":
        out[R.SUPERVISORS] = "、".join(v for v in (facts.get(C.SUPERVISOR_1.name), facts.get(C.SUPERVISOR_2.name)) if v)
        licence = facts.get(C.CONTRACTOR_LICENCE.name)
        out[R.CONTRACTOR] = (facts.get(C.CONTRACTOR.name) or "") + (f"({licence})" if licence else "")
    elif action == "copy":
        top = facts.get(C.TOP_EXCEPTION.name)
        out[R.CONSENT] = facts.get(C.ISSUER_CONSENT.name) or (f"绝密特批:{top}" if top else "")
    return out


def year_figures(session, year: int) -> CarrierYear:
    """The carriers' year (see :meth:`CarrierRegisters.year`), in the caller's snapshot."""
    shown = tuple(LEVEL.type.allowed)
    figures = CarrierYear(year, shown)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)

    def level_of(stored) -> str:
        return (LEVEL.display(LEVEL.from_storage(stored)) if stored is not None else "") or f"{LEVEL.label}待补充"

    t = table_of(CARRIERS)
    for source, stored, n, copies in session.execute(
            select(t.c[SOURCE], t.c[LEVEL.name], func.count(), func.sum(t.c[COUNT_FIELD]))
            .where(t.c[SOURCE].in_((R.MADE, R.RECEIVED_SOURCE)), t.c[RECEIVED_ON] >= first, t.c[RECEIVED_ON] <= last,
                   t.c.voided.is_(False)).group_by(t.c[SOURCE], t.c[LEVEL.name])):
        key = "made" if source == R.MADE else "received"
        figures.counts[key][level_of(stored)] += n
        figures.counts[f"{key}_copies"][level_of(stored)] += int(copies or 0)
    ct = table_of(COPIES)
    begin = dt.datetime(year, 1, 1)
    void = _taken_back(session, begin)
    counted = {"lend", "give_back", "destroy", "missing", "copy"}
    rows = session.execute(
        select(RecordEvent.id, RecordEvent.action, FieldChange.old_value, FieldChange.new_value, t.c[LEVEL.name])
        .outerjoin(FieldChange, and_(FieldChange.event_id == RecordEvent.id, FieldChange.field == "status"))
        .join(ct, ct.c.id == RecordEvent.record_id).join(t, t.c.id == ct.c.parent_id)
        .where(RecordEvent.ledger == COPIES.key, RecordEvent.at >= begin, RecordEvent.effective_date >= first,
               RecordEvent.effective_date <= last, RecordEvent.action.in_(("status", *R.kinds_fed(R.COPIES))),
               ct.c.voided.is_(False), t.c.voided.is_(False)))
    copy_events = {}
    for event_id, kind, old, new, stored in rows:
        if event_id in void:
            continue
        action = R.action_of(kind, old, new)
        if action == "give_back" and old != R.LEND.to:
            continue  # 归还 of a loan: a copy back from 分发, 外出 or 送修 is no loan returned
        if action in counted:
            if action == "copy":
                copy_events[event_id] = level_of(stored)
            else:
                figures.counts[action][level_of(stored)] += 1
    if copy_events:
        repo = RecordRepository(session)
        ids = sorted(copy_events)
        for start in range(0, len(ids), BATCH):
            for event_id, value in session.execute(select(FieldChange.event_id, FieldChange.new_value).where(
                    repo._among(FieldChange.event_id, ids[start:start + BATCH]),
                    FieldChange.field == C.COPY_COUNT.name)):
                figures.counts["copied"][copy_events[event_id]] += int(value) if str(value or "").isdigit() else 1
    lt = table_of(LEAK_EVENTS)
    leak_level = LEAK_EVENTS.level_field
    for stored, n in session.execute(
            select(lt.c[leak_level.name], func.count()).where(lt.c[FOUND_ON] >= first, lt.c[FOUND_ON] <= last,
                                                              lt.c.voided.is_(False)).group_by(lt.c[leak_level.name])):
        figures.counts["leaks"][level_of(stored)] += n
    extra = sorted({lv for counter in figures.counts.values() for lv in counter if lv not in shown})
    figures.levels = (*shown, *extra)
    return figures
