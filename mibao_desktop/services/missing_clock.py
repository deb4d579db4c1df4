"""The missing clock's stamp on a carrier copy (seed 003 泄密事件报告和查处制度 第二条).

A copy's status change into 下落不明 stamps on it the day it was found missing (the change's
own date, as its history keeps it) and the last day it may still be found (10 days for a 绝密
carrier, 60 for 机密 and 秘密: ``leak_events.search_until``); any change out of it (找到, 清退 …)
stops the clock and clears both. So the watch list and the check that opens a leak event read
one index range over 查找期限 (``services/carrier_watch.py``), never the history of a million
copies. Called by the ledger service for every status change (``LedgerService._move``, through
which the recorded actions pass too) in the change's own transaction.

A reversal back into 下落不明 (撤销 a 找到 entered by mistake) takes up the clock where it was:
the day of the copy's latest change into 下落不明 that was not itself a reversal, and the leak
event already opened for it stays. A carrier whose 密级 is corrected moves the clocks of its
missing copies with it (:func:`follow_level`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mibao_desktop.db.models import FieldChange, RecordEvent
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import carriers, leak_events
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.services import status_facts

COPIES, CARRIERS = carriers.CARRIER_COPIES, carriers.CARRIERS
SINCE, UNTIL, EVENT = carriers.MISSING_SINCE.name, carriers.SEARCH_UNTIL.name, carriers.LEAK_EVENT.name


def _carrier_level(session: Session, carrier_id: int) -> str | None:
    t = table_of(CARRIERS)
    return session.scalar(select(t.c[CARRIERS.level_field.name]).where(t.c.id == carrier_id))


def _first_marked(session: Session, record_id: int) -> dt.date | None:
    """The day of the copy's latest change into 下落不明 that was no reversal."""
    events = session.scalars(
        select(RecordEvent).join(FieldChange, FieldChange.event_id == RecordEvent.id)
        .where(RecordEvent.record_id == record_id, RecordEvent.action == "status", FieldChange.field == "status",
               FieldChange.new_value == carriers.MISSING)
        .order_by(RecordEvent.id.desc())).unique().all()
    for event in events:
        if not any(c.field == status_facts.REVERSES for c in event.changes):
            return event.effective_date or event.at.date()
    return None


def stamp(session: Session, ledger: Ledger, record_id: int, old: str, new: str, effective_date: dt.date, *,
          reversal: bool = False) -> None:
    """Start or stop the clock of a copy whose status changed from ``old`` to ``new``."""
    if ledger.key != COPIES.key or (new != carriers.MISSING and old != carriers.MISSING):
        return
    t = table_of(COPIES)
    if new == carriers.MISSING:
        since = (_first_marked(session, record_id) if reversal else None) or effective_date
        parent_id = session.scalar(select(t.c.parent_id).where(t.c.id == record_id))
        values = {SINCE: since, UNTIL: leak_events.search_until(since, _carrier_level(session, parent_id))}
        if not reversal:  # missing anew: a new clock, which may open a new event
            values[EVENT] = None
    else:  # 找到 (or closed): the clock stops; the event it opened, if any, stays named
        values = {SINCE: None, UNTIL: None}
    session.execute(update(t).where(t.c.id == record_id).values(**values))


def follow_level(session: Session, ledger: Ledger, record_id: int, old: Mapping[str, Any],
                 new: Mapping[str, Any]) -> None:
    """A carrier's 密级 changed (an edit): its missing copies count to the new level's deadline."""
    if ledger.key != CARRIERS.key:
        return
    name = CARRIERS.level_field.name
    if old.get(name) == new.get(name):
        return
    t = table_of(COPIES)
    rows = session.execute(select(t.c.id, t.c[SINCE]).where(t.c.parent_id == record_id,
                                                            t.c[SINCE].is_not(None))).all()
    for copy_id, since in rows:
        session.execute(update(t).where(t.c.id == copy_id)
                        .values({UNTIL: leak_events.search_until(since, new.get(name))}))


def imported(session: Session, ledger: Ledger, rows: Iterable[tuple[int, Mapping[str, Any], int | None]]) -> None:
    """Copies an import stored (id, values, carrier id): one a unit's register lists 下落不明
    since a day, with no 查找期限 beside it, counts to the deadline of its carrier's 密级 as if
    it had been marked here that day. (A 查找期限 the file gives is kept as written; a copy
    listed missing with no day stays without a clock, listed as such.) ``rows`` is read only for
    the copies' ledger: an import of any other builds nothing for it."""
    if ledger.key != COPIES.key:
        return
    waiting = [(rid, values[SINCE], parent_id) for rid, values, parent_id in rows
               if values.get(SINCE) is not None and values.get(UNTIL) is None
               and values.get("status") == carriers.MISSING and parent_id is not None]
    if not waiting:
        return
    t, c = table_of(COPIES), table_of(CARRIERS)
    parents = sorted({parent_id for _, _, parent_id in waiting})
    level_of: dict[int, str | None] = {}
    for start in range(0, len(parents), 500):
        level_of.update(session.execute(select(c.c.id, c.c[CARRIERS.level_field.name])
                                        .where(c.c.id.in_(parents[start:start + 500]))).all())
    for rid, since, parent_id in waiting:
        until = leak_events.search_until(since, level_of.get(parent_id))
        if until is not None:
            session.execute(update(t).where(t.c.id == rid).values({UNTIL: until}))
