"""The figures of the annual report's summary (年度汇总): one ledger's records by 密级 × 状态,
and the year's additions, status changes and voids by 密级. Qt-free.

Read in one snapshot, and never by counting the ledger's rows:

- 状态 by 密级 now: the facet counts (kept with every write) give each status's and each
  level's total. The records of every status but the most common one are read through the
  status index (one range a status) and grouped by level; the most common status is what each
  level has left. The cost is the records not 在用 (or 在管 …), whatever the ledger's size.
- 本年新增: the records whose in-service date (启用日期, a carrier's 收到日期: the field the
  declaration marks ``in_service``) falls in the year, through that date's index. The day a
  record was typed in or imported does not count, so the first year after importing a paper
  ledger is right. A record with no such date counts when it was registered through the form
  that year (its 新建 event), never for being imported. A ledger that keeps no such date (人员名册)
  has no 本年新增 (None).
- the year's status changes (by the status moved into) and voids: the ledger's events of the
  year (index on ledger and time), by the record's level as it is now; skipped when the yearly
  tallies show none. Its cost is the year's events of the ledger: in the year a million records
  were imported, a walk over their import events (seconds; the report runs off the UI thread,
  and lists those events on its 本年变更 sheet anyway).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from mibao_desktop.db.models import EventTally, FacetCount, FieldChange, RecordEvent
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import Ledger
from mibao_desktop.ledgers.pending import PENDING

NO_LEVEL = ""  # the level of every record of a ledger without one


def pending_level(ledger: Ledger) -> str:
    """The 汇总's row for the records whose 密级 is still empty (``密级待补充``): an import of a
    ledger kept without a 密级 column stores them 待补充, and they are held all the same."""
    return f"{ledger.level_field.label}{PENDING}" if ledger.level_field is not None else NO_LEVEL


def pending_level_count(session, ledger: Ledger) -> int:
    """The records (not voided) whose 密级 is empty: a range of the level's index (level IS NULL),
    as long as those records are, never a walk over the ledger (the level facet counts no empty
    level)."""
    field = ledger.level_field
    if field is None:
        return 0
    t = table_of(ledger)
    return session.execute(select(func.count()).select_from(t).where(
        t.c[field.name].is_(None), t.c.voided == False)).scalar_one()  # noqa: E712


@dataclass
class LedgerFigures:
    ledger: Ledger
    levels: tuple[str, ...]  # the rows: the ledger's levels, or (NO_LEVEL,)
    by_status: Counter = field(default_factory=Counter)  # (level, status) → records now (not voided)
    added: Counter | None = field(default_factory=Counter)  # level → 本年新增 (None: not kept, see above)
    moved: Counter = field(default_factory=Counter)  # (level, status moved into) → the year's changes
    voided: Counter = field(default_factory=Counter)  # level → the year's voids

    def total(self, level: str | None = None) -> int:
        return sum(n for (lv, _s), n in self.by_status.items() if level is None or lv == level)


def ledger_figures(session, ledger: Ledger, year: int) -> LedgerFigures:
    """One ledger's figures for ``year`` (see the module's note for what each query reads)."""
    level_field = ledger.level_field
    shown = tuple(level_field.type.allowed) if level_field is not None else (NO_LEVEL,)
    figures = LedgerFigures(ledger, shown)
    t = table_of(ledger)
    level_col = t.c[level_field.name] if level_field is not None else None

    pending = pending_level(ledger)

    def level_of(stored) -> str:
        if level_field is None:
            return NO_LEVEL
        return level_field.display(level_field.from_storage(stored)) or pending  # empty: 密级待补充

    by_status = _facet(session, ledger, "status")
    if level_field is None:
        figures.by_status.update({(NO_LEVEL, s): n for s, n in by_status.items()})
    elif by_status:
        usual = max(by_status, key=by_status.get)
        left = Counter(_facet(session, ledger, level_field.name))
        left[pending] = pending_level_count(session, ledger)  # the facet counts no empty level
        for status in by_status:
            if status == usual:
                continue
            rows = session.execute(select(level_col, func.count()).where(t.c.status == status, t.c.voided == False)  # noqa: E712
                                   .group_by(level_col))
            for stored, n in rows:
                figures.by_status[(level_of(stored), status)] += n
                left[level_of(stored)] -= n
        figures.by_status.update({(lv, usual): n for lv, n in left.items() if n > 0})

    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    in_service = ledger.in_service_field
    if in_service is None:
        figures.added = None
    else:
        col = t.c[in_service.name]
        grouped = (level_col,) if level_col is not None else ()
        dated = session.execute(select(*grouped, func.count())
                                .where(col >= start.date(), col < end.date(), t.c.voided == False)  # noqa: E712
                                .group_by(*grouped))
        for row in dated:
            figures.added[level_of(row[0]) if grouped else NO_LEVEL] += row[-1]
    # the year's events: a 新建 of a record without its date, status changes, voids. The tallies
    # kept with every event say whether there is any to split by level (often none)
    tallied = session.execute(select(func.count()).select_from(EventTally).where(
        EventTally.ledger == ledger.key, EventTally.year == year, EventTally.count > 0,
        EventTally.action.in_(("create", "status", "void")))).scalar()
    if not tallied:
        return _with_pending_row(figures, pending)
    keys = [RecordEvent.action, FieldChange.new_value]
    if level_col is not None:
        keys.append(level_col)
    if in_service is not None:
        keys.append((t.c[in_service.name].is_(None) & (t.c.voided == False)).label("undated"))  # noqa: E712
    rows = session.execute(
        select(*keys, func.count())
        .join(t, t.c.id == RecordEvent.record_id)
        .outerjoin(FieldChange, and_(FieldChange.event_id == RecordEvent.id, FieldChange.field == "status"))
        .where(RecordEvent.ledger == ledger.key, RecordEvent.at >= start, RecordEvent.at < end,
               RecordEvent.action.in_(("create", "status", "void")))
        .group_by(*keys))
    for row in rows:
        action, moved_into, n = row[0], row[1], row[-1]
        level = level_of(row[2]) if level_col is not None else NO_LEVEL
        if action == "status" and moved_into:
            figures.moved[(level, moved_into)] += n
        elif action == "void":
            figures.voided[level] += n
        elif action == "create" and in_service is not None and row[-2]:
            figures.added[level] += n
    return _with_pending_row(figures, pending)


def _with_pending_row(figures: LedgerFigures, pending: str) -> LedgerFigures:
    """A row of its own for the records of an empty 密级 when there are any (now or in the
    year's figures): the 小计 then equals the records held, and no record passes for a level."""
    if pending == NO_LEVEL:
        return figures
    held = any(lv == pending for lv, _s in (*figures.by_status, *figures.moved))
    if held or figures.voided.get(pending) or (figures.added or {}).get(pending):
        figures.levels = (*figures.levels, pending)
    return figures


def _facet(session, ledger: Ledger, name: str) -> dict[str, int]:
    rows = session.execute(select(FacetCount.value, FacetCount.count)
                           .where(FacetCount.ledger == ledger.key, FacetCount.field == name))
    return {value: n for value, n in rows if n}


def annual_figures(service, ledgers: list[Ledger], year: int) -> list[LedgerFigures]:
    """The figures of each ledger, all read in one snapshot (``service``: a LedgerService, whose
    role check this read makes)."""
    with service._read("导出年度报表") as session:
        return [ledger_figures(session, ledger, year) for ledger in ledgers]
