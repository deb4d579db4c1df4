"""Stocktaking (盘点) of any ledger whose records carry a QR label (issue 15 item 2), and the
carriers' checks (月核对, 季检查, 年终清退归档; seed 003 保密工作制度 第十条) as stocktakings of the
copies ledger. Qt-free.

A stocktaking is of a *subject*: what it lists and how a code is read. A labelled ledger
(涉密计算机, 非涉密计算机, 移动存储介质, 办公自动化设备, 国家秘密载体 …: every ledger that declares a
``LabelSpec``; the label's QR code holds the record's number, ``printing/labels.py``) is one, by
its declaration (:class:`Subject`). The carriers' copies are the other
(``services/carrier_checks.COPIES_CHECK``), which declares what is theirs alone: the expected
list (every copy that should be in a place or with a person, inheriting its carrier's place and
keeper), the check's kind and period, a person's scope, the 登记编号#份号 of a copy's label, and
what a copy found missing starts (标为下落不明: the missing clock).

A session is opened for a subject and a scope: a department, a place (a person for the copies) or
the whole unit. It lists every record of that scope not closed (报废, 已销毁 …); one recorded
外出, 维修, 借出, 已分发 … is listed as away, one 下落不明 as such. While it is open, each scan
(a USB scanner types the QR payload and Enter), typed number or tick is stored at once
(``stocktake_items``), so that a session is saved as it goes, resumed later, and shared by every
workstation that opens the same subject, kind, period and scope: opening it again takes up the
open one (SQLite's write transaction; on PostgreSQL an advisory lock keyed on the scope). A scan
answers with what it found, for the desk to sound and colour: 已盘点 (found; 已核对 in a carriers'
check), 重复 (seen before in this session), 多出 (a record of MiBao not in this scope: where the
record says it belongs, or another ledger's), 位置不符 (here while recorded away) or 未登记 (a code
MiBao does not know).

完成盘点 stores every finding with the record as it was then — 已盘点, 缺失, 多出, 位置不符, 未登记,
外出, 下落不明, and how many times each label was seen (twice or more: 重复, a label copied or
scanned twice) — writes a 盘点 entry into each record's history (where the subject keeps one:
not for the copies, whose year-end check of a whole unit lists a million), and after that nothing
changes but the follow-up of a missing record the subject declares. The report (PDF,
``printing/stocktake_report.py``; workbook, ``excel/stocktake_report.py``) reads what was stored.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from sqlalchemy import false, insert, literal_column, select, text, update
from sqlalchemy.orm import Session

from mibao_desktop.db.models import Record, RecordEvent, Stocktake, StocktakeItem
from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import NotFound, ServiceError, ValidationFailed
from mibao_desktop.ledgers import REGISTRY, Ledger, common
from mibao_desktop.ledgers.fields import Choice, Level, Reference, Text
from mibao_desktop.services import audit
from mibao_desktop.services.ledger_service import LedgerService, _collector_paused

DEPARTMENT, PLACE, ALL = SCOPES = ("部门", "存放位置", "全部")
PERSON = "人员"  # a scope of the carriers' copies (who holds them)
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
CLOSED_MESSAGE = "该次{word}已于 {at:%Y-%m-%d %H:%M} 完成,结果已存档,不能再修改。"


def stocktake_ledgers() -> tuple[Ledger, ...]:
    """The ledgers whose records carry a QR label: what may be stocktaken by scanner."""
    return tuple(l for l in REGISTRY if l.label is not None and l.parent is None)


def ledger_of(key: str) -> Ledger:
    for ledger in stocktake_ledgers():
        if key in (ledger.key, ledger.noun, ledger.title):
            return ledger
    names = "、".join(l.noun for l in stocktake_ledgers())
    raise ValidationFailed({"ledger": f"只能盘点贴有二维码标识的台账:{names}"}, {"ledger": "台账"})


def subjects() -> tuple["Subject", ...]:
    """What may be stocktaken: each labelled ledger, then the carriers' copies (载体核对)."""
    from mibao_desktop.services.carrier_checks import COPIES_CHECK

    return (*(Subject(l) for l in stocktake_ledgers()), COPIES_CHECK)


def subject_of(key: str) -> "Subject":
    from mibao_desktop.services.carrier_checks import COPIES_CHECK

    if key in (COPIES_CHECK.key, COPIES_CHECK.noun):
        return COPIES_CHECK
    return Subject(ledger_of(key))


def record_state(ledger: Ledger | None, status: str) -> str:
    if status in _LOST:
        return LOST
    return ABSENT if status in _AWAY else PRESENT


def said(word: str, finding: str) -> str:
    """A finding in the subject's word: 已盘点 is 已核对 in a carriers' check."""
    return finding.replace(DOING, word) if word != DOING else finding


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
    kind: str | None = None
    period: str | None = None
    person_id: int | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def subject(self) -> "Subject":
        return subject_of(self.ledger)

    @property
    def noun(self) -> str:
        return self.subject.noun

    @property
    def word(self) -> str:
        """盘点, or 核对 for a carriers' check: what the session is called on screen and paper."""
        return self.subject.word

    @property
    def unit(self) -> str:
        """项, or 份 (the copies): what the report counts in."""
        return self.subject.unit

    @property
    def person_title(self) -> str:
        return self.subject.person_title

    @property
    def has_parts(self) -> bool:
        return self.subject.has_parts

    @property
    def scope_text(self) -> str:
        return self.subject.scope_text(self)

    @property
    def title(self) -> str:
        """涉密计算机盘点 部门:科研一处; 月核对 2026年11月 部门:科研一处"""
        return self.subject.title(self)

    @property
    def report_title(self) -> str:
        return self.subject.report_title(self)


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
    part: int | None = None  # a carrier copy's 份号
    held: bool = False  # the person a copies' check is of holds it (lent or distributed to them)
    followed: str = ""  # what was done about it after the close (已标为下落不明)
    # the state the live counts have it in when that is not the record's now: a line made after
    # its list was read (services/expected_copies.py) counts as the read had it, so that a scan
    # taking it off those counts takes it off the count it is in
    counted: str | None = field(default=None, compare=False)

    @property
    def key(self) -> Any:
        return self.record_id if self.record_id is not None else f"code:{self.number}"

    @property
    def label(self) -> str:
        """The number as a label names it: JM-0001, ZT-2026-001 第 2 份."""
        return self.number if self.part is None else f"{self.number} 第 {self.part} 份"

    def state(self, ledger: Ledger | None = None) -> str:
        return PRESENT if self.held else record_state(ledger, self.status)


def count_key(ledger: Ledger | None, x: Line) -> str:
    """Which live count (COUNTED) a line of an open session falls in."""
    if x.finding in (EXTRA, UNKNOWN):
        return x.finding
    state = x.counted or x.state()
    if x.seen_how:
        return SEEN if state == PRESENT else MISPLACED
    return UNCHECKED if state == PRESENT else state


@dataclass
class StocktakeList:
    info: StocktakeInfo
    lines: list[Line]  # the records listed, then the extra ones and the unknown codes seen

    def counts(self) -> dict[str, int]:
        tally = tally_of(self.lines)
        return {k: tally[k] for k in COUNTED}


def tally_of(lines: Sequence[Line]) -> Counter:
    """The live counts (``count_key``) of an open session's lines. Lines made as they are looked
    at (``services/expected_copies.py``) are counted from their counts by state and the states
    of those seen, none of them made."""
    states = getattr(lines, "states", None)
    if states is None:
        return Counter(count_key(None, x) for x in lines)
    tally: Counter = Counter()
    for state, n in states.items():
        tally[UNCHECKED if state == PRESENT else state] += n
    for state in lines.seen_states.values():
        tally[UNCHECKED if state == PRESENT else state] -= 1
        tally[SEEN if state == PRESENT else MISPLACED] += 1
    tally.update(count_key(None, x) for x in lines.added)
    return tally


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

    @property
    def again(self) -> bool:
        return self.finding == AGAIN


# -- what is stocktaken ------------------------------------------------------------------------------


class Subject:
    """What a stocktaking lists and how it reads a code: a labelled ledger's records, by its
    declaration. The carriers' copies declare their own (``carrier_checks.CopiesCheck``)."""

    word = DOING  # 盘点; 核对 for the carriers' checks
    unit = "项"  # what the report counts in
    person_title = "责任人"  # who the line's person is
    kinds: tuple[str, ...] = ()  # a kind and a period to choose (the carriers' 月核对 …)
    scopes: tuple[str, ...] = SCOPES
    history = True  # the close says the finding in each record's history
    missing_action: str | None = None  # what a record found missing may start from the report

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.shape = Shape.of(ledger)

    def __eq__(self, other) -> bool:
        return isinstance(other, Subject) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> str:
        return self.ledger.key

    @property
    def noun(self) -> str:
        return self.ledger.noun

    @property
    def choice_text(self) -> str:
        """How the subject is offered for choice."""
        return self.noun

    @property
    def has_parts(self) -> bool:
        return False

    def scope_text(self, info: StocktakeInfo) -> str:
        return "全部" if info.scope == ALL else f"{info.scope}:{info.scope_value}"

    def title(self, info: StocktakeInfo) -> str:
        return f"{self.noun}盘点 {self.scope_text(info)}"

    def report_title(self, info: StocktakeInfo) -> str:
        return f"{self.noun}盘点报告"

    def check_kind(self, kind: str | None, period: str | None, today: dt.date) -> dict[str, str]:
        """What is wrong with the kind and period asked for (none for a ledger's stocktaking)."""
        return {}

    def scope_values(self, session: Session, scope: str) -> list[str]:
        """The departments or places the ledger's records (not voided) name, sorted."""
        name = {DEPARTMENT: DEPARTMENT_FIELD, PLACE: LOCATION}.get(scope)
        if name is None or not self.ledger.has_field(name):
            return []
        t = table_of(self.ledger)
        values = session.scalars(select(t.c[name]).where(t.c.voided == false(), t.c[name].is_not(None))
                                 .distinct()).all()
        return sorted(v for v in values if v)

    def resolve_scope(self, session: Session, scope: str, value: str) -> tuple[str, int | None]:
        """The scope's value as kept (and the person's id where it is one), or refused."""
        if scope != ALL:
            t = table_of(self.ledger)
            column = t.c[DEPARTMENT_FIELD if scope == DEPARTMENT else LOCATION]
            if session.scalar(select(t.c.id).where(column == value, t.c.voided == false()).limit(1)) is None:
                raise ValidationFailed({"scope_value": f"{self.ledger.title}中没有{scope}为“{value}”的记录"},
                                       {"scope_value": scope})
        return value, None

    def expected(self, session: Session, info: StocktakeInfo, seen: Mapping[int, str],
                 times: Mapping[int, int], later: Any = None) -> Sequence[Line]:
        """Every record the session lists, in number order, each with how it was seen (``seen``)
        and how often (``times``). A list, or any sequence that ``append``s (the lines of a
        list may be made as they are looked at: ``later()`` then gives a read session to make
        them in once ``session`` has closed; None when they are all walked in ``session``)."""
        rows = session.execute(_scope(self.shape, info)).all()
        names = _labels(session, {r[5] for r in rows})
        lines = []
        for r in sorted(rows, key=lambda r: r[1] or ""):
            x = _line(r, names)
            x.seen_how, x.times_seen = seen.get(x.record_id), times.get(x.record_id, 0)
            lines.append(x)
        return lines

    def listed(self, session: Session, info: StocktakeInfo, lines: Sequence[Line], ids: Sequence[int]) -> set[int]:
        """Which of the records seen (``ids``) the session lists (the others are 多出)."""
        wanted = set(ids)
        return {x.record_id for x in lines if x.record_id in wanted}

    def find(self, session: Session, info: StocktakeInfo, code: str) -> int | None:
        """The record a code names, of this ledger first, then of any other labelled ledger."""
        return _find(session, self.ledger, code)

    def describe(self, session: Session, info: StocktakeInfo, record_id: int) -> tuple[Line, bool]:
        """A record of this ledger as a line, and whether the session lists it (when not: the
        line says where it belongs)."""
        line = _describe(session, record_id, self.ledger.key)
        voided = session.scalar(select(Record.voided).where(Record.id == record_id))
        listed = not voided and line.status not in self.ledger.lifecycle.closing and _in_scope(info, line)
        if not listed:
            line.belongs = _belongs(self.ledger, self.ledger.key, line)
        return line, listed

    def who(self, x: Line) -> str:
        """Who has a record away, as its line says it."""
        return x.person

    def follow_missing(self, actions: Any, info: StocktakeInfo, record_ids: Sequence[int], why: str) -> None:
        raise ServiceError(f"{self.noun}盘点中缺失的记录没有可办理的后续手续,请按本单位规定查找并报告。")


# -- the service -------------------------------------------------------------------------------------


class StocktakeService:
    """Stocktakings and the carriers' checks, for the person at work (the 安全保密管理员)."""

    def __init__(self, ledgers: LedgerService, *, actions: Any = None) -> None:
        self.ledgers = ledgers
        self.db = ledgers.db
        self._actions = actions  # the carrier actions (下落不明 from a check's report), from the composition root

    @property
    def actor(self):
        return self.ledgers.actor

    def _now(self) -> dt.datetime:
        return self.ledgers.clock()

    # -- choices ---------------------------------------------------------------------------

    def scope_values(self, ledger_key: str, scope: str) -> list[str]:
        """The departments or places a subject's records name, sorted."""
        subject = subject_of(ledger_key)
        with self.ledgers._read(DOING) as session:
            return subject.scope_values(session, scope)

    # -- opening ---------------------------------------------------------------------------

    def open(self, ledger_key: str, scope: str, value: str = "", *, kind: str | None = None,
             period: str | None = None) -> StocktakeInfo:
        """Open a stocktaking (or take up the open one of the same subject, kind, period and
        scope). A carriers' check names its kind (月核对, 季检查, 年终清退归档) and period."""
        subject = subject_of(ledger_key)
        word = subject.word
        errors = subject.check_kind(kind, period, self._now().date())
        if not subject.kinds:
            kind = period = None
        if scope not in subject.scopes:
            errors["scope"] = f"{word}范围应为:{'、'.join(subject.scopes)}"
        value = unicodedata.normalize("NFKC", value or "").strip() if scope != ALL else ""
        if scope in subject.scopes and scope != ALL and not value:
            errors["scope_value"] = f"请填写要{word}的{scope}"
        elif len(value) > 60:
            errors["scope_value"] = f"{word}对象不超过 60 字"
        if errors:
            raise ValidationFailed(errors, {"kind": f"{word}类别", "period": "期间", "scope": f"{word}范围",
                                            "scope_value": f"{word}对象"})
        with self.ledgers._write(f"开始{kind or word}") as session:
            value, person_id = subject.resolve_scope(session, scope, value)
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:lock, hashtext(:scope))"), {
                    "lock": OPEN_LOCK, "scope": "\x1f".join((subject.key, kind or "", period or "", scope, value))})
            same = session.scalar(select(Stocktake).where(
                Stocktake.closed_at.is_(None), Stocktake.ledger == subject.key, Stocktake.kind == kind,
                Stocktake.period == period, Stocktake.scope == scope, Stocktake.scope_value == value))
            if same is not None:  # taken up where it was left: one session of a scope at a time
                return _info(same)
            now = self._now()
            take = Stocktake(ledger=subject.key, kind=kind, period=period, scope=scope, scope_value=value,
                             person_id=person_id, opened_at=now, opened_by=self.actor.name)
            session.add(take)
            session.flush()
            info = _info(take)
            audit.append(session, self.actor, "stocktake.open", _target(info),
                         {"盘点序号": take.id, "台账": subject.noun, **_kind_of(info), "范围": info.scope_text}, at=now)
            return info

    # -- reading ---------------------------------------------------------------------------

    def sessions(self, *, ledger_key: str | None = None, open_only: bool = False,
                 limit: int = 50) -> list[StocktakeInfo]:
        with self.ledgers._read(DOING) as session:
            q = select(Stocktake).order_by(Stocktake.id.desc()).limit(limit)
            if ledger_key:
                q = q.where(Stocktake.ledger == subject_of(ledger_key).key)
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
        # the cycle collector paused while a department's 100,000 lines are made: it would walk
        # them again and again for no garbage (a third of a carriers' list's time, measured)
        with self.ledgers._read(DOING) as session, _collector_paused():
            return self._list(session, self._take(session, stocktake_id), later=lambda: self.ledgers._read(DOING))

    def _list(self, session: Session, take: Stocktake, *, later: Any = None) -> StocktakeList:
        info = _info(take)
        subject = info.subject
        items = StocktakeItem.__table__.c
        seen = {r[0]: r for r in session.execute(select(
            items.record_id, items.seen_how, items.times_seen, items.belongs)
            .where(items.stocktake_id == take.id, items.record_id.is_not(None))).all()}
        lines = subject.expected(session, info, {k: r[1] for k, r in seen.items()},
                                 {k: r[2] for k, r in seen.items()}, later)
        listed = subject.listed(session, info, lines, list(seen)) if seen else set()  # (nothing seen: no stray)
        extra = []
        for record_id, s in seen.items():
            if record_id in listed:
                continue
            # seen, not of this scope (or moved out of it since): 多出, with where it belongs
            line = self._describe(session, info, record_id)
            extra.append(replace(line, seen_how=s[1], times_seen=s[2], finding=EXTRA, belongs=s[3] or line.belongs))
        unknown = [Line(None, r.code, seen_how=r.seen_how, times_seen=r.times_seen, finding=UNKNOWN,
                        belongs="MiBao 中没有此编号")
                   for r in session.execute(select(items.code, items.seen_how, items.times_seen).where(
                       items.stocktake_id == take.id, items.record_id.is_(None))).all()]
        for x in [*sorted(extra, key=_by_label), *unknown]:
            lines.append(x)
        return StocktakeList(info, lines)

    def _describe(self, session: Session, info: StocktakeInfo, record_id: int) -> Line:
        """A record seen as a line: of the subject's ledger, or of another (named there)."""
        ledger_key = session.scalar(select(Record.ledger).where(Record.id == record_id))
        if ledger_key == info.subject.key:
            return info.subject.describe(session, info, record_id)[0]
        line = _describe(session, record_id, ledger_key)
        line.belongs = _belongs(None, ledger_key, line)
        return line

    # -- ticking and scanning -------------------------------------------------------------------

    def scan(self, stocktake_id: int, code: str, *, how: str = SCANNED) -> ScanResult:
        """A scanned QR payload or a typed number: the record found and marked seen, or the
        code stored as unknown to MiBao. Each answer says what the desk should sound."""
        if how not in HOW:
            raise ServiceError(f"盘点方式应为:{'、'.join(HOW)}")
        code = _clean(code)
        with self.ledgers._write(DOING) as session:
            take = self._open(session, stocktake_id)
            info = _info(take)
            record_id = info.subject.find(session, info, code)
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
            info = _info(take)
            for kind, what in jobs:
                try:
                    if kind == "scan":
                        code = _clean(what)
                        record_id = info.subject.find(session, info, code)
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
        info = _info(take)
        label = self._describe(session, info, record_id).label
        audit.append(session, self.actor, "stocktake.unmark", _target(info),
                     {"盘点序号": take.id, "record_id": record_id, "编号": label or str(record_id)}, at=self._now())

    def _open(self, session: Session, stocktake_id: int) -> Stocktake:
        take = self._take(session, stocktake_id, lock=True)
        if take.closed_at is not None:
            raise ServiceError(CLOSED_MESSAGE.format(word=_info(take).word, at=take.closed_at))
        return take

    def _mark(self, session: Session, take: Stocktake, record_id: int, how: str) -> ScanResult:
        info = _info(take)
        subject, word = info.subject, info.word
        known = session.execute(select(Record.ledger, Record.voided).where(Record.id == record_id)).first()
        if known is None:
            raise NotFound(f"找不到编号为 {record_id} 的记录。")
        ledger_key, voided = known
        if ledger_key == subject.key:
            line, listed = subject.describe(session, info, record_id)
        else:
            line, listed = _describe(session, record_id, ledger_key), False
            line.belongs = _belongs(None, ledger_key, line)
        if listed:
            finding = SEEN if line.state() == PRESENT else MISPLACED
            belongs = "" if finding == SEEN else \
                f"登记为“{line.status}”" + (f",{subject.who(line)}" if line.person else "")
        else:
            finding, belongs = EXTRA, line.belongs
        line.finding, line.belongs, line.seen_how = finding, belongs, how
        item = session.scalar(select(StocktakeItem).where(StocktakeItem.stocktake_id == take.id,
                                                          StocktakeItem.record_id == record_id))
        now = self._now()
        if item is not None:
            if how == TICKED:  # a tick on a line already seen changes nothing
                line.times_seen = item.times_seen
                return ScanResult(line, AGAIN, f"{line.label} 已{word}过")
            item.times_seen += 1
            line.times_seen = item.times_seen
            audit.append(session, self.actor, "stocktake.mark", _target(info),
                         {"盘点序号": take.id, "record_id": record_id, "编号": line.label, "方式": how,
                          "结果": AGAIN, "次数": item.times_seen}, at=now)
            return ScanResult(line, AGAIN, f"重复:{line.label} 本次{word}已扫描 {item.times_seen} 次")
        session.add(StocktakeItem(stocktake_id=take.id, record_id=record_id, finding=finding, seen_how=how,
                                  seen_at=now, times_seen=1, belongs=belongs[:200] or None))
        line.times_seen = 1
        audit.append(session, self.actor, "stocktake.mark", _target(info),
                     {"盘点序号": take.id, "record_id": record_id, "编号": line.label, "方式": how,
                      "结果": said(word, finding)}, at=now)
        if finding == SEEN:
            message = f"{said(word, SEEN)}:{line.label}"
        elif finding == EXTRA:
            message = f"多出:{line.label} 不在本次{word}范围,{belongs}"
        else:
            message = f"位置不符:{line.label} {belongs}"
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
        audit.append(session, self.actor, "stocktake.mark", _target(_info(take)),
                     {"盘点序号": take.id, "编号": code, "方式": how, "结果": UNKNOWN}, at=now)
        return ScanResult(line, UNKNOWN, f"未登记:MiBao 中没有“{code}”,请查明该物品并登记")

    # -- closing ---------------------------------------------------------------------------

    def close(self, stocktake_id: int, *, checkers: str = "", note: str = "") -> StocktakeReport:
        """完成盘点: every finding stored with the record as it is now, and said in each record's
        history (where the subject keeps it); nothing of the session changes after this."""
        checkers = " ".join((checkers or "").split())
        if len(checkers) > 200:
            raise ValidationFailed({"checkers": "盘点人不超过 200 字"}, {"checkers": "盘点人"})
        with self.ledgers._write(f"完成{DOING}") as session, _collector_paused():
            take = self._open(session, stocktake_id)
            info = _info(take)
            subject = info.subject
            listing = self._list(session, take)
            now = self._now()
            findings: list[Line] = []
            for x in listing.lines:
                if x.finding in (EXTRA, UNKNOWN):
                    findings.append(x)
                    continue
                state = x.state()
                if x.seen_how:
                    finding = SEEN if state == PRESENT else MISPLACED
                else:
                    finding = {PRESENT: MISSING, ABSENT: AWAY, LOST: LOST}[state]
                belongs = f"登记为“{x.status}”" + (f",{subject.who(x)}" if x.person else "") \
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
            if subject.history:  # each record's history says it was stocktaken, and what was found
                ledgers = _ledgers_of(session, [x.record_id for x in findings])
                events = [{"record_id": x.record_id, "ledger": ledgers.get(x.record_id, take.ledger), "at": now,
                           "actor": self.actor.name, "action": HISTORY_ACTION,
                           "reason": _history_text(take.id, info.title, x), "effective_date": now.date()}
                          for x in findings if x.record_id is not None]
                for start in range(0, len(events), 5_000):
                    session.execute(insert(RecordEvent.__table__), events[start:start + 5_000])
            report = StocktakeReport(info, sorted(findings, key=_report_order))
            counts = report.counts()
            take.closed_at, take.closed_by = now, self.actor.name
            take.checkers, take.note = checkers or None, (note or "").strip() or None
            take.summary = counts
            session.flush()
            audit.append(session, self.actor, "stocktake.close", _target(info),
                         {"盘点序号": take.id, **{said(info.word, k): v for k, v in counts.items()},
                          **({f"{info.word}人": checkers} if checkers else {})}, at=now)
            return StocktakeReport(_info(take), report.lines)

    # -- the report ------------------------------------------------------------------------

    def report(self, stocktake_id: int) -> StocktakeReport:
        with self.ledgers._read(DOING) as session, _collector_paused():
            take = self._take(session, stocktake_id)
            word = _info(take).word
            if take.closed_at is None:
                raise ServiceError(f"该次{word}尚未完成:请先“完成{word}”,再查看或打印{word}报告。")
            c = StocktakeItem.__table__.c  # plain rows: a whole unit's year-end check of the copies holds a million
            rows = session.execute(select(c.record_id, c.code, c.number, c.title, c.level, c.person, c.department,
                                          c.place, c.status, c.seen_how, c.times_seen, c.finding, c.belongs, c.part,
                                          c.followed)
                                   .where(c.stocktake_id == take.id)).all()
            lines = [Line(r[0], r[2] or r[1] or "", r[3] or "", r[4], r[5] or "", r[6] or "", r[7] or "", r[8] or "",
                          r[9], r[10] or 0, r[11], r[12] or "", r[13], False, r[14] or "") for r in rows]
            return StocktakeReport(_info(take), sorted(lines, key=_report_order))

    def mark_missing(self, stocktake_id: int, record_ids: Sequence[int], circumstances: str) -> list[int]:
        """What the subject starts for records a closed session found 缺失 (the carriers' copies:
        标为下落不明 through the carrier actions, which start the missing clock); each is noted on
        its line of the report. Returns the records."""
        ids = list(dict.fromkeys(record_ids))
        info = self.get(stocktake_id)
        if not ids:
            raise ServiceError(f"请先选择{info.word}中缺失的记录。")
        if info.subject.missing_action is None:
            info.subject.follow_missing(None, info, ids, circumstances)  # (refuses, naming why)
        if not info.closed:
            raise ServiceError(f"请先完成{info.word},再将缺失的记录{info.subject.missing_action}。")
        with self.ledgers._read(DOING) as session:
            found = dict(session.execute(select(StocktakeItem.record_id, StocktakeItem.finding).where(
                StocktakeItem.stocktake_id == stocktake_id, StocktakeItem.record_id.in_(ids))).all())
        if any(found.get(i) != MISSING for i in ids):
            raise ServiceError(f"只能将本次{info.word}中“缺失”的记录{info.subject.missing_action}。")
        info.subject.follow_missing(self._actions() if self._actions else None, info, ids, circumstances)
        with self.ledgers._write(DOING) as session:
            self._take(session, stocktake_id, lock=True)
            now = self._now()
            session.execute(update(StocktakeItem).where(StocktakeItem.stocktake_id == stocktake_id,
                                                        StocktakeItem.record_id.in_(ids))
                            .values(followed=f"{now:%Y-%m-%d} 已{info.subject.missing_action}"))
            audit.append(session, self.actor, "stocktake.follow_up", _target(info),
                         {"盘点序号": stocktake_id, info.subject.missing_action: len(ids)}, at=now)
        return ids

    def print_report(self, stocktake_id: int, target, *, printer: str = "", record: bool = True) -> int:
        """The report as PDF (A4): the unit, subject, kind and period, scope, who took stock, the
        counts, each finding's list, the duplicates and the signature lines. Returns its pages."""
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
                "what": f"{report.info.report_title}({report.info.title})", "pages": pages, "printer": printer,
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


def _describe(session: Session, record_id: int, ledger_key: str | None) -> Line:
    """A record of any labelled ledger as a line."""
    ledger = next((l for l in REGISTRY if l.key == ledger_key), None)
    if ledger is None or ledger.label is None or ledger.parent is not None:
        label = session.scalar(select(Record.label).where(Record.id == record_id)) or str(record_id)
        return Line(record_id, label)
    shape = Shape.of(ledger)
    row = session.execute(select(*shape.columns()).where(table_of(ledger).c.id == record_id)).first()
    return _line(row, _labels(session, {row[5]})) if row else Line(record_id, str(record_id))


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


def _find(session: Session, ledger: Ledger | None, code: str) -> int | None:
    """The record a label's code names: this ledger's first, then any other labelled ledger's
    (a medium's label scanned among the computers is named as such, not as unknown). A copy
    label's 登记编号#份号 names its carrier (``carrier_checks.parse_code``)."""
    from mibao_desktop.services.carrier_checks import parse_code

    readings = list(dict.fromkeys([code, *(r for r, _copy in parse_code(code))]))
    for other in (*((ledger,) if ledger else ()), *(l for l in stocktake_ledgers() if l is not ledger)):
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


def _belongs(ledger: Ledger | None, record_ledger: str, x: Line) -> str:
    other = next((l for l in REGISTRY if l.key == record_ledger), None)
    if ledger is None or record_ledger != ledger.key:
        where = "·".join(p for p in (x.department, x.place) if p)
        return f"属于{other.title if other else record_ledger}" + (f",应在:{where}" if where else "")
    if x.status in ledger.lifecycle.closing:
        return f"登记为“{x.status}”"
    parts = [None if x.department and x.place and x.department in x.place else x.department, x.place,
             x.person and f"责任人 {x.person}"]
    return "应在:" + "·".join(p for p in parts if p) if any(parts) else "登记中未写明部门和存放位置"


def _snapshot(x: Line) -> dict[str, Any]:
    return {"finding": x.finding, "number": x.number[:60], "part": x.part, "title": x.title[:200] or None, "level": x.level,
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
    return (rank, x.number, x.part or 0)


def _by_label(x: Line) -> tuple:
    return (x.number, x.part or 0)


def _target(info: StocktakeInfo) -> str:
    return f"第 {info.id} 号{info.title}"


def _kind_of(info: StocktakeInfo) -> dict[str, str]:
    return {"核对类别": info.kind, "期间": info.period} if info.kind else {}


def _info(c: Stocktake) -> StocktakeInfo:
    return StocktakeInfo(id=c.id, ledger=c.ledger, scope=c.scope, scope_value=c.scope_value or "",
                         opened_at=c.opened_at, opened_by=c.opened_by, closed_at=c.closed_at, closed_by=c.closed_by,
                         checkers=c.checkers, summary=dict(c.summary) if c.summary else None, note=c.note,
                         kind=c.kind, period=c.period, person_id=c.person_id)
