"""What is due about the carrier copies: copies missing with the days left before they count as
a leak, loans overdue or soon due back, the leak events not yet closed with their reporting
deadline — and the check that opens a 泄密事件 when a missing copy's clock has run out
(seed 003 泄密事件报告和查处制度 第二条, 第六条, 第八条).

**When a leak event is opened.** :meth:`CarrierWatchService.open_due_events` opens one for
every missing copy whose 查找期限 (``ledgers/carriers.py``, stamped by
``services/missing_clock.py``) is before today and that has none yet. The desktop runs it off the
UI thread when the security administrator's window opens and again each day while it stays open
(the 首页, ``ui/due_page.py``); ``mibao missing-check`` runs it from the command line (a task
scheduler may run that each morning). Each run is one write transaction that locks the copies it
opens events for and names the event on each copy, so running it twice, or on two workstations
at once, opens one event per copy. Nothing is opened for a copy found (找到) before its
deadline: the change out of 下落不明 cleared its clock.

**One incident, one report** (一事一报, 第三条): the copies marked missing together are one
event, graded by all its copies: its 事件等级 is 重大泄密 for one 绝密 copy or two or more 机密
copies (第六条), so two 机密 documents lost in one briefcase are one major leak, not two ordinary
ones. Nothing stored names the action a copy was marked missing in (each copy's history event
is its own, its time the clock's at that copy), so "together" is read from what the action
wrote on each copy: the same 下落不明日期, the same person and the same 情况说明 — one action
writes the one text on every copy it marks. A copy with no 情况说明 in its history (marked so
before the actions existed) is grouped with the copies of its carrier missing since that day.
Copies marked on other days, or with another account, are events of their own.

The opening is a new 泄密事件 record (history 登记, audit ``record.create`` saying it was opened
by the missing clock and for which copies) and, on each copy, an edit naming the event (history
修改 泄密事件, audit ``record.update``), all in the one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

from sqlalchemy import func, select, update

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import FieldChange, Record, RecordEvent
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import carriers, leak_events, levels
from mibao_desktop.security import Actor, require
from mibao_desktop.services import audit
from mibao_desktop.services.ledger_service import LEDGER_ROLES, LedgerService
from mibao_desktop.services.repository import RecordRepository
from mibao_desktop.services.views import RecordView

COPIES, CARRIERS, LEAKS = carriers.CARRIER_COPIES, carriers.CARRIERS, leak_events.LEAK_EVENTS
SINCE, UNTIL, EVENT = carriers.MISSING_SINCE.name, carriers.SEARCH_UNTIL.name, carriers.LEAK_EVENT.name
SOON_DAYS = 7  # a loan due back within this many days is listed before it is overdue
LIMIT = 2000  # rows per list: more missing copies or overdue loans than this is a unit in crisis


class DueCopy(NamedTuple):
    """A copy on the watch list: missing (``due`` its 查找期限) or lent (``due`` its 应归还日期).
    ``days`` is the days left (0: the last day is today), negative when past. (A tuple: a list of
    a thousand is made in a millisecond.)"""

    copy_id: int
    carrier_id: int
    carrier_number: str
    title: str
    copy_number: int
    level: str | None
    status: str
    holder: str
    since: dt.date | None  # 下落不明日期 (a missing copy)
    due: dt.date | None
    days: int | None
    leak_event: str | None = None  # the 泄密事件 opened for it

    @property
    def copy_text(self) -> str:
        return f"{self.carrier_number} 第 {self.copy_number} 份"

    @property
    def missing(self) -> bool:
        return self.status == carriers.MISSING

    @property
    def days_text(self) -> str:
        """剩余 3 天, 今日到期, 逾期 2 天 (a loan), 超过查找期限 1 天 / 已按泄密事件处理 (missing)."""
        if self.missing and self.leak_event:
            return "已按泄密事件处理"
        if self.days is None:
            if not self.missing:
                return ""
            if self.since is None:
                return "未记下落不明日期,未计时"
            # 第二条 counts days for the three state-secret levels only: a level of the unit's own
            # (涉密专用) gets no 查找期限, and neither does a 密级 still 待补充
            return "本单位密级,未计时" if self.level else "密级待补充,未计时"
        if self.days > 0:
            return f"剩余 {self.days} 天"
        if self.days == 0:
            return "今日为查找期限最后一天" if self.missing else "今日到期"
        return f"超过查找期限 {-self.days} 天" if self.missing else f"逾期 {-self.days} 天"


@dataclass(frozen=True)
class OpenLeak:
    """A 泄密事件 not yet closed, with the time its report is due (第六条)."""

    event_id: int
    number: str
    grade: str
    item: str
    level: str | None
    count: int | None
    status: str
    opened_at: dt.datetime
    report_by: dt.datetime
    reported: bool  # past 待报告: its deadline no longer runs

    @property
    def major(self) -> bool:
        return self.grade == leak_events.MAJOR

    def hours_left(self, now: dt.datetime) -> float:
        return (self.report_by - now).total_seconds() / 3600

    def deadline_text(self, now: dt.datetime) -> str:
        """立即报告 (重大泄密), 剩余 5 小时 20 分, 已超过报告时限 2 小时, 已报告."""
        if self.reported:
            return self.status
        if self.major:
            return "立即报告"
        minutes = int((self.report_by - now).total_seconds() // 60)
        if minutes >= 0:
            return f"剩余 {minutes // 60} 小时 {minutes % 60} 分"
        return f"已超过报告时限 {(-minutes) // 60} 小时 {(-minutes) % 60} 分"


@dataclass(frozen=True)
class Watch:
    today: dt.date
    missing: list[DueCopy]
    loans: list[DueCopy]
    leaks: list[OpenLeak]


class CarrierWatchService:
    def __init__(self, db: Database, actor: Actor, *, ledgers: LedgerService,
                 clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db = db
        self.actor = actor
        self.ledgers = ledgers
        self.clock = clock

    # -- reading -----------------------------------------------------------------------------

    def watch(self, *, today: dt.date | None = None, soon_days: int = SOON_DAYS, limit: int = LIMIT) -> Watch:
        """The three lists, in one snapshot: missing copies by 查找期限 (one index range), copies
        lent and due back within ``soon_days`` or overdue by 应归还日期, and the open leak
        events by reporting deadline."""
        require(self.actor, *LEDGER_ROLES, doing="查看到期和下落不明的载体")
        today = today or self.clock().date()
        with self.db.session() as session:
            missing = _due_copies(session.execute(missing_query(limit)).all(), today, by_clock=True)
            undated = undated_ids(session, limit)
            if undated:
                t = table_of(COPIES)
                missing += _due_copies(session.execute(_listed([t.c.id.in_(undated)], t.c.id)).all(), today,
                                       by_clock=True)
            loans = _due_copies(session.execute(loans_query(today + dt.timedelta(days=soon_days), limit)).all(),
                                today, by_clock=False)
            leak_rows = session.execute(open_leaks_query(limit)).mappings().all()
        leaks = [_open_leak(r) for r in leak_rows]
        leaks.sort(key=lambda e: (e.reported, e.report_by))
        return Watch(today, missing, loans, leaks)

    # -- the check ---------------------------------------------------------------------------

    def open_due_events(self, *, today: dt.date | None = None) -> list[RecordView]:
        """Open a 泄密事件 for each incident whose missing copies were not found by their
        查找期限 (see the module's doc); the events opened (none when nothing is due)."""
        today = today or self.clock().date()
        require(self.actor, *LEDGER_ROLES, doing="按泄密事件处理下落不明的载体")
        with self.db.session() as session:  # most days nothing is due: no write lock taken at each start
            if session.execute(_due_query(today).with_only_columns(table_of(COPIES).c.id).limit(1)).first() is None:
                return []
        opened: list[int] = []
        with self.ledgers._write("按泄密事件处理下落不明的载体") as session:
            rows = session.execute(_due_query(today).with_for_update()).mappings().all()  # again, locked
            accounts = _accounts(session, [r["id"] for r in rows])
            incidents: dict[tuple, list] = defaultdict(list)
            for r in rows:
                said = accounts.get(r["id"])
                incidents[(r[SINCE], *said) if said else (r[SINCE], r["parent_id"])].append(r)
            for (since, *_how), copies in incidents.items():
                opened.append(self._open(session, since, copies, today))
            views = [self.ledgers._get_view(session, i) for i in opened]
        return views

    def _open(self, session, since: dt.date, copies: Sequence, today: dt.date) -> int:
        ledgers, repo = self.ledgers, RecordRepository(session)
        copy_views = [ledgers._view(session, COPIES, r) for r in copies]
        by_carrier: dict[int, list] = defaultdict(list)
        for view, r in zip(copy_views, copies):
            by_carrier[r["parent_id"]].append(view.values)
        reports, counts = [], Counter()
        for carrier_id, values in by_carrier.items():
            carrier = ledgers._get_view(session, carrier_id)
            reports.append({**carriers.missing_report({**carrier.values, "id": carrier.id}, values),
                            "number": carrier.number})
            counts[carrier.values.get(CARRIERS.level_field.name) or ""] += len(values)
        facts = reports[0]  # where and who: the first carrier's (the item names every one)
        level = facts["level"]
        item, numbers = facts["item"], facts["copy_numbers"]
        if len(reports) > 1:  # one incident of several carriers: the highest 密级, every item named
            level = levels.highest((r["level"] for r in reports), default=level)
            item = _clipped(";".join(r["item"] for r in reports), LEAKS.field(leak_events.ITEM))
            numbers = _clipped("、".join(f"{r['number']} 第 {r['copy_numbers']} 份" for r in reports),
                               LEAKS.field("copy_numbers"))
        now = self.clock()
        # the incident became a leak the day after its first copy's search period ended (第二条),
        # whenever MiBao happens to open it
        ended = [r[UNTIL] for r in copies if r[UNTIL] is not None]
        found_on = min(min(ended) + dt.timedelta(days=1), today) if ended else today
        raw = leak_events.first_report(
            item=item, level=level, count=len(copies), occurred_on=since, found_on=found_on,
            search_days=leak_events.SEARCH_DAYS.get(level or ""), opened_at=leak_events.started_at(found_on, now),
            carrier_id=facts["carrier_id"],
            copy_numbers=numbers, place=facts["place"], responsible=facts["responsible"],
            department=facts["department"], level_counts=dict(counts))
        raw[LEAKS.key_field] = ledgers._next_number(session, LEAKS)
        values = ledgers.validate(LEAKS, raw, session=session)
        values["status"] = LEAKS.lifecycle.initial
        event_id = repo.allocate_ids(1)[0]
        repo.insert(LEAKS, [(event_id, values, None)], now, lambda _p: LEAKS.unique_scope)
        ledgers._event(session, LEAKS, event_id, now, "create",
                       reason=f"{item}查无下落期满,按泄密事件处理")
        number = values[LEAKS.key_field]
        audit.append(session, self.actor, "record.create", f"{LEAKS.key}:{number}", {
            "ledger": LEAKS.title, "record_id": event_id, "opened_by": "下落不明查找期满",
            "copies": [c.id for c in copy_views], "grade": values[leak_events.GRADE],
        }, at=now)
        t = table_of(COPIES)
        label = LEAKS.field(LEAKS.key_field).label
        for view in copy_views:
            session.execute(update(t).where(t.c.id == view.id)
                            .values({EVENT: event_id, "updated_at": now, "version": t.c.version + 1}))
            ledgers._event(session, COPIES, view.id, now, "update", reason="查无下落期满,按泄密事件处理",
                           changes=[(EVENT, None, number)], ids={EVENT: (None, str(event_id))})
            audit.append(session, self.actor, "record.update", f"{COPIES.key}:{view.number}", {
                "record_id": view.id, "fields": [carriers.LEAK_EVENT.label],
                "changes": [[carriers.LEAK_EVENT.label, "", number]], "reason": f"查无下落期满,{label} {number}",
            }, at=now)
        return event_id


def _accounts(session, copy_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Who marked each copy 下落不明 and the 情况说明 they wrote (its latest 下落不明 action's),
    read for all the copies in two queries per 500: what tells the copies of one action."""
    said = carriers.CIRCUMSTANCES.name
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(copy_ids), 500):
        part = list(copy_ids[start:start + 500])
        latest = (select(RecordEvent.record_id, func.max(RecordEvent.id).label("id"))
                  .join(FieldChange, FieldChange.event_id == RecordEvent.id)
                  .where(RecordEvent.record_id.in_(part), RecordEvent.action == "status", FieldChange.field == said)
                  .group_by(RecordEvent.record_id).subquery())
        rows = session.execute(
            select(latest.c.record_id, RecordEvent.actor, FieldChange.new_value)
            .join(RecordEvent, RecordEvent.id == latest.c.id)
            .join(FieldChange, FieldChange.event_id == latest.c.id).where(FieldChange.field == said))
        out.update((record_id, (actor or "", text or "")) for record_id, actor, text in rows if text)
    return out


def _clipped(text: str, f) -> str:
    """``text`` within the field's length (an incident of many carriers names them all if it can)."""
    most = getattr(f.type, "max_length", None)
    return text if most is None or len(text) <= most else text[:most - 2] + "……"


def _listed(where, order):
    """A list's rows: the copies the ``where`` picks in the ``order`` of its index, each with its
    carrier's number, title and 密级 and the names of its holder and its leak event (lookups by
    primary key), only the columns shown: a row a list shows costs no ledger view."""
    t, k = table_of(COPIES), table_of(CARRIERS)
    holder = next(f.name for f in COPIES.reference_fields if f.is_person)
    person, event = Record.__table__.alias("holder_record"), Record.__table__.alias("event_record")
    return (select(t.c.id, t.c.parent_id, t.c[COPIES.key_field].label("copy_number"), t.c.status,
                   t.c[SINCE].label("missing_since"), t.c[UNTIL].label("search_until"),
                   t.c[carriers.DUE_ON].label("due_on"), k.c[CARRIERS.key_field].label("carrier_number"),
                   k.c[carriers.TITLE].label("title"), k.c[CARRIERS.level_field.name].label("level"),
                   person.c.label.label("holder"), event.c.label.label("leak_event"))
            .select_from(t).join(k, k.c.id == t.c.parent_id)
            .outerjoin(person, person.c.id == t.c[holder]).outerjoin(event, event.c.id == t.c[EVENT])
            .where(*where, t.c.voided.is_(False)).order_by(order, t.c.id))


def _due_query(today: dt.date):
    """The copies whose clock has run out before ``today`` and that name no leak event yet."""
    t = table_of(COPIES)
    return (select(t).where(t.c[UNTIL] < today, t.c[EVENT].is_(None), t.c.status == carriers.MISSING,
                            t.c.voided.is_(False)).order_by(t.c[UNTIL], t.c.id))


def missing_query(limit: int = LIMIT):
    """The copies with a running or run-out clock, by 查找期限: a range of its index (only a
    copy 下落不明 has one)."""
    t = table_of(COPIES)
    return _listed([t.c[UNTIL].is_not(None)], t.c[UNTIL]).limit(limit)


def undated_ids(session, limit: int = LIMIT) -> list[int]:
    """Copies 下落不明 with no clock: no 下落不明日期 (imported so: a hand-kept book says 下落不明
    but not since when; or so before the clock existed with nothing in their history), or a
    day but no 查找期限 (their carrier's 密级 is one of the unit's own, 涉密专用, or still 待补充:
    第二条 names only the three). Shown, never counted down. Read by a range of the status index
    (few copies are missing) and told apart here: asked for 查找期限 IS NULL, SQLite would walk
    that index, whose NULL is almost every copy."""
    t = table_of(COPIES)
    rows = session.execute(select(t.c.id, t.c[UNTIL]).where(t.c.status == carriers.MISSING, t.c.voided.is_(False))
                           .order_by(t.c.status, t.c.id))
    return [copy_id for copy_id, until in rows if until is None][:limit]


def loans_query(due_by: dt.date, limit: int = LIMIT):
    """The copies lent and due back by ``due_by``, by 应归还日期: a range of its index (a copy
    given back has it cleared)."""
    t = table_of(COPIES)
    due = t.c[carriers.DUE_ON]
    return _listed([due.is_not(None), due <= due_by, t.c.status.in_(carriers.DUE_BACK)], due).limit(limit)


def _due_copies(rows, today: dt.date, *, by_clock: bool) -> list[DueCopy]:
    """The rows of :func:`_listed` (in its column order) as DueCopy: due by 查找期限 (``by_clock``)
    or by 应归还日期."""
    out = []
    for (copy_id, parent_id, number, status, since, until, due_on, carrier_number, title, level, holder,
         event) in rows:
        due = until if by_clock else due_on
        out.append(DueCopy(copy_id, parent_id, carrier_number or "", title or "", number, level, status,
                           holder or "", since, due, (due - today).days if due is not None else None, event))
    return out


def open_leaks_query(limit: int = LIMIT):
    lt = table_of(LEAKS)
    return (select(lt).where(lt.c.status.in_(leak_events.OPEN_STATUSES), lt.c.voided.is_(False))
            .order_by(lt.c.created_at, lt.c.id).limit(limit))


def _open_leak(row) -> OpenLeak:
    grade = row[leak_events.GRADE] or leak_events.ORDINARY
    opened = row["created_at"]
    since = leak_events.started_at(row["found_on"], opened)
    return OpenLeak(event_id=row["id"], number=row[LEAKS.key_field], grade=grade, item=row[leak_events.ITEM] or "",
                    level=row[LEAKS.level_field.name], count=row[leak_events.COUNT], status=row["status"], opened_at=opened,
                    report_by=leak_events.report_by(since, grade), reported=row["status"] != leak_events.UNREPORTED)
