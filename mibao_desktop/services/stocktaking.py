"""Stocktaking (盘点) of any ledger whose records carry a QR label (issue 15 item 2). Qt-free.

A stocktaking is opened for one labelled ledger (涉密计算机, 非涉密计算机, 移动存储介质, 办公自动化
设备, 国家秘密载体 …: every ledger that declares a ``LabelSpec``; the label's QR code holds the
record's number, ``printing/labels.py``) and a scope: a department (the record's 部门), a place
(its 放置地点/存放位置) or the whole unit. It lists every record of that scope not closed (报废,
已销毁 …); one recorded 外出, 维修, 借出 … is listed as away, one 下落不明 as such.

While it is open, each scan (a USB scanner types the QR payload and Enter), typed number or tick
is stored at once (``stocktake_items``), so that a session is saved as it goes, resumed later, and
shared by every workstation that opens the same ledger and scope: opening it again takes up the
open one (SQLite's write transaction; on PostgreSQL an advisory lock keyed on the scope). A scan
answers with what it found, for the desk to sound and colour: 已盘点 (found), 重复 (seen before in
this session), 多出 (a record of MiBao not in this scope: where the record says it belongs, or
another ledger's), 位置不符 (here while recorded away) or 未登记 (a code MiBao does not know).

完成盘点 stores every finding with the record as it was then — 已盘点, 缺失, 多出, 位置不符, 未登记,
外出, 下落不明, and how many times each label was seen (twice or more: 重复, a label copied or
scanned twice) — writes a 盘点 entry into each record's history, and after that nothing changes.
The report (PDF, ``printing/stocktake_report.py``; workbook, ``excel/stocktake_report.py``) reads
what was stored.

The carriers' copies keep their own check (``services/carrier_checks.py``: a period, a person's
scope, copies inheriting their carrier's place); what the two share is the code reading
(``carrier_checks.parse_code`` reads a copy label's ``登记编号#份号`` here too, naming the carrier)
and the shape of the session, its findings and its report.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from sqlalchemy import false, insert, literal_column, select, text
from sqlalchemy.orm import Session

from mibao_desktop.db.models import Record, RecordEvent, Stocktake, StocktakeItem
from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import NotFound, ServiceError, ValidationFailed
from mibao_desktop.ledgers import REGISTRY, Ledger, common
from mibao_desktop.ledgers.fields import Choice, Level, Reference, Text
from mibao_desktop.services import audit
from mibao_desktop.services.ledger_service import LedgerService, _collector_paused

DEPARTMENT, PLACE, ALL = SCOPES = ("部门", "存放位置", "全部")
TICKED, SCANNED, TYPED = HOW = ("勾选", "扫描", "输入")
SEEN, MISSING, EXTRA, MISPLACED, UNKNOWN, AWAY, LOST = FINDINGS = (
    "已盘点", "缺失", "多出", "位置不符", "未登记", "外出", "下落不明")
AGAIN = "重复"  # a label seen more than once (a scan's answer; in the report, a list of its own)
UNCHECKED = "未盘点"
COUNTED = (SEEN, UNCHECKED, EXTRA, MISPLACED, UNKNOWN, AWAY, LOST)  # the live counts of an open session
REPORT_ORDER = (MISSING, EXTRA, MISPLACED, UNKNOWN, AWAY, LOST, SEEN)  # what must be looked for first
DOING = "盘点"
DEPARTMENT_FIELD, LOCATION = common.department().name, common.location().name
RESPONSIBLE = common.responsible_person().name
# how the record says it is: here, away with someone (the statuses of every lifecycle that mean
# the thing left its place for a while), or missing
PRESENT, ABSENT = "在位", "外出"
_AWAY = frozenset({"外出", "维修", "借出", "送修", "已分发"})
_LOST = frozenset({"下落不明"})
HISTORY_ACTION = "stocktake"  # services/views.py names it 盘点 in a record's history
OPEN_LOCK = 0x4D42_0015  # PostgreSQL advisory lock class: openings of one session follow each other
CLOSED_MESSAGE = "该次盘点已于 {at:%Y-%m-%d %H:%M} 完成,结果已存档,不能再修改。"


def stocktake_ledgers() -> tuple[Ledger, ...]:
    """The ledgers whose records carry a QR label: what may be stocktaken by scanner."""
    return tuple(l for l in REGISTRY if l.label is not None and l.parent is None)


def ledger_of(key: str) -> Ledger:
    for ledger in stocktake_ledgers():
        if key in (ledger.key, ledger.noun, ledger.title):
            return ledger
    names = "、".join(l.noun for l in stocktake_ledgers())
    raise ValidationFailed({"ledger": f"只能盘点贴有二维码标识的台账:{names}"}, {"ledger": "台账"})


def record_state(ledger: Ledger, status: str) -> str:
    if status in _LOST:
        return LOST
    return ABSENT if status in _AWAY else PRESENT


@dataclass(frozen=True)
class Shape:
    """Where a ledger keeps what a stocktaking reads, by its declaration."""

    ledger: Ledger
    person: str | None
    describe: tuple[str, ...]

    @classmethod
    def of(cls, ledger: Ledger) -> "Shape":
        people = [f.name for f in ledger.fields if f.is_person and not f.many]
        person = RESPONSIBLE if RESPONSIBLE in people else (people[0] if people else None)
        skip = {ledger.key_field, DEPARTMENT_FIELD, LOCATION, "status", person}
        describe = tuple(f.name for f in ledger.fields if f.name not in skip and f.shown and not f.many
                         and isinstance(f.type, (Text, Choice)) and not isinstance(f.type, (Level, Reference)))[:2]
        return cls(ledger, person, describe)

    @property
    def level(self) -> str | None:
        f = self.ledger.level_field
        return f.name if f else None

    def columns(self):
        t = table_of(self.ledger)
        c = t.c
        def null(name: str):  # a column this ledger does not keep
            return literal_column("NULL").label(name)
        return (c.id, c[self.ledger.key_field], *(c[n] for n in self.describe),
                *(null(f"describe_{i}") for i in range(len(self.describe), 2)),
                c[self.level] if self.level else null("level"), c[self.person] if self.person else null("person"),
                c[DEPARTMENT_FIELD] if self.ledger.has_field(DEPARTMENT_FIELD) else null("department"),
                c[LOCATION] if self.ledger.has_field(LOCATION) else null("place"), c.status)


# -- what a session is, and what it lists ----------------------------------------------------------


@dataclass(frozen=True)
class StocktakeInfo:
    id: int
    ledger: str
    scope: str
    scope_value: str
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    checkers: str | None = None
    summary: Mapping[str, int] | None = None
    note: str | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def noun(self) -> str:
        return next((l.noun for l in stocktake_ledgers() if l.key == self.ledger), self.ledger)

    @property
    def scope_text(self) -> str:
        return "全部" if self.scope == ALL else f"{self.scope}:{self.scope_value}"

    @property
    def title(self) -> str:
        """涉密计算机盘点 部门:科研一处"""
        return f"{self.noun}盘点 {self.scope_text}"


@dataclass(slots=True)
class Line:
    """One record (or unknown code) as its record has it now, or had it at the close."""

    record_id: int | None
    number: str
    title: str = ""
    level: str | None = None
    person: str = ""
    department: str = ""
    place: str = ""
    status: str = ""
    seen_how: str | None = None
    times_seen: int = 0
    finding: str = ""  # at the close (or an extra line's finding while open)
    belongs: str = ""

    @property
    def key(self) -> Any:
        return self.record_id if self.record_id is not None else f"code:{self.number}"

    def state(self, ledger: Ledger) -> str:
        return record_state(ledger, self.status)


def count_key(ledger: Ledger, x: Line) -> str:
    """Which live count (COUNTED) a line of an open session falls in."""
    if x.finding in (EXTRA, UNKNOWN):
        return x.finding
    state = x.state(ledger)
    if x.seen_how:
        return SEEN if state == PRESENT else MISPLACED
    return UNCHECKED if state == PRESENT else state


@dataclass
class StocktakeList:
    info: StocktakeInfo
    lines: list[Line]  # the records listed, then the extra ones and the unknown codes seen

    def counts(self) -> dict[str, int]:
        ledger = ledger_of(self.info.ledger)
        tally = Counter(count_key(ledger, x) for x in self.lines)
        return {k: tally[k] for k in COUNTED}


@dataclass
class StocktakeReport:
    info: StocktakeInfo
    lines: list[Line]  # every finding, in REPORT_ORDER

    def of(self, finding: str) -> list[Line]:
        if finding == AGAIN:
            return [x for x in self.lines if x.times_seen > 1]
        return [x for x in self.lines if x.finding == finding]

    def counts(self) -> dict[str, int]:
        tally = Counter(x.finding for x in self.lines)
        return {**{f: tally[f] for f in REPORT_ORDER}, AGAIN: sum(1 for x in self.lines if x.times_seen > 1)}


@dataclass(frozen=True)
class ScanResult:
    line: Line
    finding: str  # 已盘点, 重复, 多出, 位置不符 or 未登记: what the desk sounds and colours
    message: str


# -- the service -------------------------------------------------------------------------------------


class StocktakeService:
    """Stocktaking of the labelled ledgers, for the person at work (the 安全保密管理员)."""

    def __init__(self, ledgers: LedgerService) -> None:
        self.ledgers = ledgers
        self.db = ledgers.db

    @property
    def actor(self):
        return self.ledgers.actor

    def _now(self) -> dt.datetime:
        return self.ledgers.clock()

    # -- choices ---------------------------------------------------------------------------

    def scope_values(self, ledger_key: str, scope: str) -> list[str]:
        """The departments or places the ledger's records (not voided) name, sorted."""
        ledger = ledger_of(ledger_key)
        name = {DEPARTMENT: DEPARTMENT_FIELD, PLACE: LOCATION}.get(scope)
        if name is None or not ledger.has_field(name):
            return []
        t = table_of(ledger)
        with self.ledgers._read(DOING) as session:
            values = session.scalars(select(t.c[name]).where(t.c.voided == false(), t.c[name].is_not(None))
                                     .distinct()).all()
        return sorted(v for v in values if v)

    # -- opening ---------------------------------------------------------------------------

    def open(self, ledger_key: str, scope: str, value: str = "") -> StocktakeInfo:
        """Open a stocktaking (or take up the open one of the same ledger and scope)."""
        ledger = ledger_of(ledger_key)
        errors = {}
        if scope not in SCOPES:
            errors["scope"] = f"盘点范围应为:{'、'.join(SCOPES)}"
        value = unicodedata.normalize("NFKC", value or "").strip() if scope != ALL else ""
        if scope in (DEPARTMENT, PLACE) and not value:
            errors["scope_value"] = f"请填写要盘点的{scope}"
        elif len(value) > 60:
            errors["scope_value"] = "盘点范围不超过 60 字"
        if errors:
            raise ValidationFailed(errors, {"scope": "盘点范围", "scope_value": "盘点对象"})
        with self.ledgers._write(f"开始{DOING}") as session:
            if scope != ALL:
                t = table_of(ledger)
                column = t.c[DEPARTMENT_FIELD if scope == DEPARTMENT else LOCATION]
                if session.scalar(select(t.c.id).where(column == value, t.c.voided == false()).limit(1)) is None:
                    raise ValidationFailed({"scope_value": f"{ledger.title}中没有{scope}为“{value}”的记录"},
                                           {"scope_value": scope})
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:lock, hashtext(:scope))"),
                                {"lock": OPEN_LOCK, "scope": "\x1f".join((ledger.key, scope, value))})
            same = session.scalar(select(Stocktake).where(
                Stocktake.closed_at.is_(None), Stocktake.ledger == ledger.key, Stocktake.scope == scope,
                Stocktake.scope_value == value))
            if same is not None:  # taken up where it was left: one session of a scope at a time
                return _info(same)
            now = self._now()
            take = Stocktake(ledger=ledger.key, scope=scope, scope_value=value, opened_at=now,
                             opened_by=self.actor.name)
            session.add(take)
            session.flush()
            audit.append(session, self.actor, "stocktake.open", _target(take),
                         {"盘点序号": take.id, "台账": ledger.title, "范围": _info(take).scope_text}, at=now)
            return _info(take)

    # -- reading ---------------------------------------------------------------------------

    def sessions(self, *, ledger_key: str | None = None, open_only: bool = False,
                 limit: int = 50) -> list[StocktakeInfo]:
        with self.ledgers._read(DOING) as session:
            q = select(Stocktake).order_by(Stocktake.id.desc()).limit(limit)
            if ledger_key:
                q = q.where(Stocktake.ledger == ledger_of(ledger_key).key)
            if open_only:
                q = q.where(Stocktake.closed_at.is_(None))
            return [_info(c) for c in session.scalars(q)]

    def get(self, stocktake_id: int) -> StocktakeInfo:
        with self.ledgers._read(DOING) as session:
            return _info(self._take(session, stocktake_id))

    @staticmethod
    def _take(session: Session, stocktake_id: int, *, lock: bool = False) -> Stocktake:
        q = select(Stocktake).where(Stocktake.id == stocktake_id)
        take = session.scalar(q.with_for_update() if lock else q)
        if take is None:
            raise NotFound(f"找不到第 {stocktake_id} 号盘点记录。")
        return take

    def listing(self, stocktake_id: int) -> StocktakeList:
        """The records an open session lists, each with whether and how often it was seen,
        then the records and codes seen that it does not list."""
        with self.ledgers._read(DOING) as session, _collector_paused():
            return self._list(session, self._take(session, stocktake_id))

    def _list(self, session: Session, take: Stocktake) -> StocktakeList:
        info = _info(take)
        shape = Shape.of(ledger_of(take.ledger))
        items = StocktakeItem.__table__.c
        seen = {r[0]: r for r in session.execute(select(
            items.record_id, items.seen_how, items.times_seen, items.code, items.finding, items.belongs)
            .where(items.stocktake_id == take.id)).all()}
        rows = session.execute(_scope(shape, info)).all()
        names = _labels(session, {r[5] for r in rows})
        lines = []
        for r in sorted(rows, key=lambda r: r[1] or ""):
            x = _line(r, names)
            s = seen.pop(x.record_id, None)
            if s is not None:
                x.seen_how, x.times_seen = s[1], s[2]
            lines.append(x)
        extra = []
        for record_id, s in seen.items():
            if record_id is None:
                continue
            # seen, not of this scope (or moved out of it since): 多出, with where it belongs
            extra.append(replace(self._describe(session, record_id), seen_how=s[1], times_seen=s[2], finding=EXTRA,
                                 belongs=s[5] or ""))
        unknown = [Line(None, r.code, seen_how=r.seen_how, times_seen=r.times_seen, finding=UNKNOWN,
                        belongs="MiBao 中没有此编号")
                   for r in session.execute(select(items.code, items.seen_how, items.times_seen).where(
                       items.stocktake_id == take.id, items.record_id.is_(None))).all()]
        return StocktakeList(info, [*lines, *sorted(extra, key=lambda x: x.number), *unknown])

    def _describe(self, session: Session, record_id: int, ledger_key: str | None = None) -> Line:
        """A record of any labelled ledger as a line (its ledger named when not this one)."""
        if ledger_key is None:
            ledger_key = session.scalar(select(Record.ledger).where(Record.id == record_id))
        ledger = next((l for l in REGISTRY if l.key == ledger_key), None)
        if ledger is None or ledger.label is None or ledger.parent is not None:
            label = session.scalar(select(Record.label).where(Record.id == record_id)) or str(record_id)
            return Line(record_id, label)
        shape = Shape.of(ledger)
        row = session.execute(select(*shape.columns()).where(table_of(ledger).c.id == record_id)).first()
        return _line(row, _labels(session, {row[5]})) if row else Line(record_id, str(record_id))

    # -- ticking and scanning -------------------------------------------------------------------

    def scan(self, stocktake_id: int, code: str, *, how: str = SCANNED) -> ScanResult:
        """A scanned QR payload or a typed number: the record found and marked seen, or the
        code stored as unknown to MiBao. Each answer says what the desk should sound."""
        if how not in HOW:
            raise ServiceError(f"盘点方式应为:{'、'.join(HOW)}")
        code = _clean(code)
        with self.ledgers._write(DOING) as session:
            take = self._open(session, stocktake_id)
            record_id = _find(session, ledger_of(take.ledger), code)
            if record_id is None:
                return self._unknown(session, take, code, how)
            return self._mark(session, take, record_id, how)

    def save_many(self, stocktake_id: int, jobs: Sequence[tuple[str, Any]]) -> list[ScanResult | ServiceError | None]:
        """What a scanner typed while the last save ran, saved in one transaction (a scanner
        types 20 codes a second; a commit each would fall behind): each job ("scan", code),
        ("tick", record_id) or ("untick", record_id) answered in order — its ScanResult, None
        for an untick, or the ServiceError that refused it (raised before it wrote anything,
        so the others stand). Each is audited as when saved alone."""
        answers: list[ScanResult | ServiceError | None] = []
        with self.ledgers._write(DOING) as session:
            take = self._open(session, stocktake_id)
            ledger = ledger_of(take.ledger)
            for kind, what in jobs:
                try:
                    if kind == "scan":
                        code = _clean(what)
                        record_id = _find(session, ledger, code)
                        answers.append(self._mark(session, take, record_id, SCANNED) if record_id is not None
                                       else self._unknown(session, take, code, SCANNED))
                    elif kind == "tick":
                        answers.append(self._mark(session, take, what, TICKED))
                    elif kind == "untick":
                        self._unmark(session, take, what)
                        answers.append(None)
                    else:
                        raise ServiceError(f"不认识的盘点操作:{kind}")
                    session.flush()
                except ServiceError as exc:
                    answers.append(exc)
        return answers

    def mark(self, stocktake_id: int, record_id: int, how: str = TICKED) -> ScanResult:
        """Tick a record of the list as seen (勾选)."""
        if how not in HOW:
            raise ServiceError(f"盘点方式应为:{'、'.join(HOW)}")
        with self.ledgers._write(DOING) as session:
            take = self._open(session, stocktake_id)
            return self._mark(session, take, record_id, how)

    def unmark(self, stocktake_id: int, record_id: int) -> None:
        """Take back a tick or scan made by mistake while the session is open."""
        with self.ledgers._write(DOING) as session:
            self._unmark(session, self._open(session, stocktake_id), record_id)

    def _unmark(self, session: Session, take: Stocktake, record_id: int) -> None:
        item = session.scalar(select(StocktakeItem).where(StocktakeItem.stocktake_id == take.id,
                                                          StocktakeItem.record_id == record_id))
        if item is None:
            return
        session.delete(item)
        label = session.scalar(select(Record.label).where(Record.id == record_id))
        audit.append(session, self.actor, "stocktake.unmark", _target(take),
                     {"盘点序号": take.id, "record_id": record_id, "编号": label or str(record_id)}, at=self._now())

    def _open(self, session: Session, stocktake_id: int) -> Stocktake:
        take = self._take(session, stocktake_id, lock=True)
        if take.closed_at is not None:
            raise ServiceError(CLOSED_MESSAGE.format(at=take.closed_at))
        return take

    def _mark(self, session: Session, take: Stocktake, record_id: int, how: str) -> ScanResult:
        ledger = ledger_of(take.ledger)
        info = _info(take)
        known = session.execute(select(Record.ledger, Record.voided).where(Record.id == record_id)).first()
        if known is None:
            raise NotFound(f"找不到编号为 {record_id} 的记录。")
        ledger_key, voided = known
        line = self._describe(session, record_id, ledger_key)
        closed = ledger_key == ledger.key and line.status in ledger.lifecycle.closing
        listed = ledger_key == ledger.key and not closed and not voided and _in_scope(info, line)
        if listed:
            finding = SEEN if line.state(ledger) == PRESENT else MISPLACED
            belongs = "" if finding == SEEN else f"登记为“{line.status}”" + (f",{line.person}" if line.person else "")
        else:
            finding, belongs = EXTRA, _belongs(ledger, ledger_key, line)
        line.finding, line.belongs, line.seen_how = finding, belongs, how
        item = session.scalar(select(StocktakeItem).where(StocktakeItem.stocktake_id == take.id,
                                                          StocktakeItem.record_id == record_id))
        now = self._now()
        if item is not None:
            if how == TICKED:  # a tick on a line already seen changes nothing
                line.times_seen = item.times_seen
                return ScanResult(line, AGAIN, f"{line.number} 已盘点过")
            item.times_seen += 1
            line.times_seen = item.times_seen
            audit.append(session, self.actor, "stocktake.mark", _target(take),
                         {"盘点序号": take.id, "record_id": record_id, "编号": line.number, "方式": how,
                          "结果": AGAIN, "次数": item.times_seen}, at=now)
            return ScanResult(line, AGAIN, f"重复:{line.number} 本次盘点已扫描 {item.times_seen} 次")
        session.add(StocktakeItem(stocktake_id=take.id, record_id=record_id, finding=finding, seen_how=how,
                                  seen_at=now, times_seen=1, belongs=belongs[:200] or None))
        line.times_seen = 1
        audit.append(session, self.actor, "stocktake.mark", _target(take),
                     {"盘点序号": take.id, "record_id": record_id, "编号": line.number, "方式": how, "结果": finding},
                     at=now)
        if finding == SEEN:
            message = f"已盘点:{line.number}"
        elif finding == EXTRA:
            message = f"不在本次盘点范围:{line.number},{belongs}"
        else:
            message = f"位置不符:{line.number} {belongs}"
        return ScanResult(line, finding, message)

    def _unknown(self, session: Session, take: Stocktake, code: str, how: str) -> ScanResult:
        item = session.scalar(select(StocktakeItem).where(StocktakeItem.stocktake_id == take.id,
                                                          StocktakeItem.code == code))
        now = self._now()
        line = Line(None, code, seen_how=how, finding=UNKNOWN, belongs="MiBao 中没有此编号")
        if item is None:
            item = StocktakeItem(stocktake_id=take.id, code=code, finding=UNKNOWN, seen_how=how, seen_at=now,
                                 times_seen=0, belongs=line.belongs)
            session.add(item)
        item.times_seen = (item.times_seen or 0) + 1
        line.times_seen = item.times_seen
        audit.append(session, self.actor, "stocktake.mark", _target(take),
                     {"盘点序号": take.id, "编号": code, "方式": how, "结果": UNKNOWN}, at=now)
        return ScanResult(line, UNKNOWN, f"未登记:MiBao 中没有“{code}”,请查明该物品并登记")

    # -- closing ---------------------------------------------------------------------------

    def close(self, stocktake_id: int, *, checkers: str = "", note: str = "") -> StocktakeReport:
        """完成盘点: every finding stored with the record as it is now, and said in each record's
        history; nothing of the session changes after this."""
        checkers = " ".join((checkers or "").split())
        if len(checkers) > 200:
            raise ValidationFailed({"checkers": "盘点人不超过 200 字"}, {"checkers": "盘点人"})
        with self.ledgers._write(f"完成{DOING}") as session, _collector_paused():
            take = self._open(session, stocktake_id)
            ledger = ledger_of(take.ledger)
            listing = self._list(session, take)
            now = self._now()
            findings: list[Line] = []
            for x in listing.lines:
                if x.finding in (EXTRA, UNKNOWN):
                    findings.append(x)
                    continue
                state = x.state(ledger)
                if x.seen_how:
                    finding = SEEN if state == PRESENT else MISPLACED
                else:
                    finding = {PRESENT: MISSING, ABSENT: AWAY, LOST: LOST}[state]
                belongs = f"登记为“{x.status}”" + (f",{x.person}" if x.person else "") \
                    if finding in (MISPLACED, AWAY, LOST) else ""
                findings.append(replace(x, finding=finding, belongs=belongs))
            items = {(i.record_id, i.code): i for i in session.scalars(
                select(StocktakeItem).where(StocktakeItem.stocktake_id == take.id))}
            fresh = []
            for x in findings:
                values = _snapshot(x)
                item = items.get((x.record_id, None if x.record_id is not None else x.number))
                if item is not None:
                    for k, v in values.items():
                        setattr(item, k, v)
                else:
                    fresh.append({"stocktake_id": take.id, "record_id": x.record_id, "times_seen": 0, **values})
            for start in range(0, len(fresh), 5_000):
                session.execute(insert(StocktakeItem.__table__), fresh[start:start + 5_000])
            # each record's history says it was stocktaken, and what was found
            ledgers = _ledgers_of(session, [x.record_id for x in findings])
            title = _info(take).title
            events = [{"record_id": x.record_id, "ledger": ledgers.get(x.record_id, take.ledger), "at": now,
                       "actor": self.actor.name, "action": HISTORY_ACTION,
                       "reason": _history_text(take.id, title, x), "effective_date": now.date()}
                      for x in findings if x.record_id is not None]
            for start in range(0, len(events), 5_000):
                session.execute(insert(RecordEvent.__table__), events[start:start + 5_000])
            report = StocktakeReport(_info(take), sorted(findings, key=_report_order))
            counts = report.counts()
            take.closed_at, take.closed_by = now, self.actor.name
            take.checkers, take.note = checkers or None, (note or "").strip() or None
            take.summary = counts
            session.flush()
            audit.append(session, self.actor, "stocktake.close", _target(take),
                         {"盘点序号": take.id, **counts, **({"盘点人": checkers} if checkers else {})}, at=now)
            return StocktakeReport(_info(take), report.lines)

    # -- the report ------------------------------------------------------------------------

    def report(self, stocktake_id: int) -> StocktakeReport:
        with self.ledgers._read(DOING) as session, _collector_paused():
            take = self._take(session, stocktake_id)
            if take.closed_at is None:
                raise ServiceError("该次盘点尚未完成:请先“完成盘点”,再查看或打印盘点报告。")
            c = StocktakeItem.__table__.c
            rows = session.execute(select(c.record_id, c.code, c.number, c.title, c.level, c.person, c.department,
                                          c.place, c.status, c.seen_how, c.times_seen, c.finding, c.belongs)
                                   .where(c.stocktake_id == take.id)).all()
            lines = [Line(r[0], r[2] or r[1] or "", r[3] or "", r[4], r[5] or "", r[6] or "", r[7] or "", r[8] or "",
                          r[9], r[10] or 0, r[11], r[12] or "") for r in rows]
            return StocktakeReport(_info(take), sorted(lines, key=_report_order))

    def print_report(self, stocktake_id: int, target, *, printer: str = "", record: bool = True) -> int:
        """The report as PDF (A4): the unit, ledger, scope, who took stock, the counts, each
        finding's list, the duplicates and the signature lines. Returns its pages."""
        from mibao_desktop.printing.forms import render_form
        from mibao_desktop.printing.stocktake_report import stocktake_report_form
        from mibao_desktop.services import report_facts
        from mibao_desktop.services.output_service import check_target
        from mibao_desktop.services.print_service import _name, _written

        report = self.report(stocktake_id)
        check_target(self.db, target)
        anchor = audit.current_anchor(self.db)
        form = stocktake_report_form(report, unit=report_facts.unit_name(self.db),
                                     handler=report_facts.display_name(self.db, report.info.closed_by or "")
                                     or report.info.closed_by or "")
        with _written(target) as out:
            pages = render_form(out, form, anchor=anchor.label)
        if record:
            self.ledgers.record_output("ledger.print", report.info.ledger, _name(target), len(report.lines), {
                "what": f"盘点报告({report.info.title})", "pages": pages, "printer": printer,
                "anchor": str(anchor)})
        return pages


# -- helpers ---------------------------------------------------------------------------------------


def _scope(shape: Shape, info: StocktakeInfo):
    t = table_of(shape.ledger)
    q = select(*shape.columns()).where(t.c.voided == false(),
                                       t.c.status.not_in(sorted(shape.ledger.lifecycle.closing)))
    if info.scope == DEPARTMENT:
        return q.where(t.c[DEPARTMENT_FIELD] == info.scope_value)
    if info.scope == PLACE:
        return q.where(t.c[LOCATION] == info.scope_value)
    return q


def _line(r: Sequence, names: Mapping[int, str]) -> Line:
    record_id, number, a, b, level, person, department, place, status = r
    title = " ".join(str(v) for v in (a, b) if v)
    return Line(record_id, str(number or ""), title, level, names.get(person, "") if person else "",
                department or "", place or "", status or "")


def _labels(session: Session, ids) -> dict[int, str]:
    ids = sorted(i for i in ids if isinstance(i, int))
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        names.update(session.execute(select(Record.id, Record.label).where(Record.id.in_(ids[start:start + 500]))).all())
    return names


def _ledgers_of(session: Session, ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ids = [i for i in ids if i is not None]
    for start in range(0, len(ids), 500):
        found.update(session.execute(select(Record.id, Record.ledger).where(Record.id.in_(ids[start:start + 500]))).all())
    return found


def _clean(code: str) -> str:
    code = unicodedata.normalize("NFKC", code or "").strip()
    if not code:
        raise ServiceError("请扫描标识上的二维码,或输入编号后按回车。")
    if len(code) > 200:
        raise ServiceError("扫描内容过长(超过 200 字),不是 MiBao 打印的标识。")
    return code


def _find(session: Session, ledger: Ledger, code: str) -> int | None:
    """The record a label's code names: this ledger's first, then any other labelled ledger's
    (a medium's label scanned among the computers is named as such, not as unknown). A copy
    label's 登记编号#份号 names its carrier (``carrier_checks.parse_code``)."""
    from mibao_desktop.services.carrier_checks import parse_code

    readings = list(dict.fromkeys([code, *(r for r, _copy in parse_code(code))]))
    for other in (ledger, *(l for l in stocktake_ledgers() if l is not ledger)):
        key = other.field(other.key_field)
        for reading in readings:
            try:
                number = key.normalise(reading)
            except Exception:  # not a number this ledger could hold  # noqa: BLE001
                continue
            t = table_of(other)
            found = session.scalar(select(t.c.id).where(t.c[other.key_field] == number)
                                   .order_by(t.c.voided, t.c.id.desc()).limit(1))
            if found is not None:
                return found
    return None


def _in_scope(info: StocktakeInfo, x: Line) -> bool:
    if info.scope == DEPARTMENT:
        return x.department == info.scope_value
    if info.scope == PLACE:
        return x.place == info.scope_value
    return True


def _belongs(ledger: Ledger, record_ledger: str, x: Line) -> str:
    other = next((l for l in REGISTRY if l.key == record_ledger), None)
    if record_ledger != ledger.key:
        where = "·".join(p for p in (x.department, x.place) if p)
        return f"属于{other.title if other else record_ledger}" + (f",应在:{where}" if where else "")
    if x.status in ledger.lifecycle.closing:
        return f"登记为“{x.status}”"
    parts = [None if x.department and x.place and x.department in x.place else x.department, x.place,
             x.person and f"责任人 {x.person}"]
    return "应在:" + "·".join(p for p in parts if p) if any(parts) else "登记中未写明部门和存放位置"


def _snapshot(x: Line) -> dict[str, Any]:
    return {"finding": x.finding, "number": x.number[:60], "title": x.title[:200] or None, "level": x.level,
            "person": x.person[:60] or None, "department": x.department[:60] or None, "place": x.place[:60] or None,
            "status": x.status[:20] or None, "belongs": x.belongs[:200] or None,
            "code": None if x.record_id is not None else x.number[:200]}


def _history_text(take_id: int, title: str, x: Line) -> str:
    said = f"第 {take_id} 号{title}:{x.finding}"
    if x.belongs:
        said += f"({x.belongs})"
    if x.times_seen > 1:
        said += f",标识扫描 {x.times_seen} 次"
    return said[:1000]


def _report_order(x: Line) -> tuple:
    rank = REPORT_ORDER.index(x.finding) if x.finding in REPORT_ORDER else len(REPORT_ORDER)
    return (rank, x.number)


def _target(take: Stocktake) -> str:
    return f"第 {take.id} 号{_info(take).title}"


def _info(c: Stocktake) -> StocktakeInfo:
    return StocktakeInfo(id=c.id, ledger=c.ledger, scope=c.scope, scope_value=c.scope_value or "",
                         opened_at=c.opened_at, opened_by=c.opened_by, closed_at=c.closed_at, closed_by=c.closed_by,
                         checkers=c.checkers, summary=dict(c.summary) if c.summary else None, note=c.note)
