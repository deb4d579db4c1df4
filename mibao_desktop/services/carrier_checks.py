"""Checks of the carriers' copies (载体核对): 月核对, 季检查 and 年终清退归档 (seed 003 保密工作制度
第十条: 管理坚持月核对、季检查、年终清退归档,如发现丢失应及时报告并积极查找). Qt-free.

A check is opened for a kind, a period and a scope — a department (the carriers registered to
it), a place (a copy's 存放位置, else its carrier's), a person (a copy's 持有人, else its
carrier's 保管人) or the whole unit — and lists every copy that should be there: every copy
not closed (清退, 已销毁). A copy 借出, 外出, 送修 or 已分发 is listed as away, with who has it
(a copy 已分发: the unit or person its latest 分发 went to, ``services/distributions.py``); one
already 下落不明 as such. The administrator ticks what is there, or scans the QR of a copy's
cover or envelope label, or types 登记编号 and 份号 (:func:`parse_code`).

Closing the check stores every finding with the copy's record as it was then: 已核对; 缺失
(should be here, not seen); 多出 (seen, not of this scope: the record says where it belongs);
位置不符 (seen here while the record says it is away or missing); 外出 and 下落不明 (listed,
not seen, as the record says). After the close nothing of it changes, except that a copy found
missing may be marked 下落不明 from the report (through the carrier actions, which start the
missing clock), noted on its line. Every write checks the role, runs in one transaction and
writes its audit entry.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict
from operator import itemgetter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import false, func, insert, select, text, union_all, update
from sqlalchemy.orm import Session

from mibao_desktop.db.models import CarrierCheck, CarrierCheckItem, Record
from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import NotFound, ServiceError, ValidationFailed
from mibao_desktop.ledgers import PEOPLE, common
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.services import audit, distributions
from mibao_desktop.services.ledger_service import LedgerService, _collector_paused

COPIES, CARRIERS = C.CARRIER_COPIES, C.CARRIERS
# the fields a check reads, by their declarations: who has a copy (its 持有人, else the carrier's
# 保管人), where it is kept (存放位置) and the carrier's 部门
HOLDER = next(f.name for f in COPIES.fields if f.is_person)
KEEPER = next(f.name for f in CARRIERS.fields if f.is_person)
LOCATION, DEPARTMENT_FIELD = common.location().name, common.department().name
KINDS = ("月核对", "季检查", "年终清退归档")  # seed 003 第十条
MONTHLY, QUARTERLY, YEARLY = KINDS
DEPARTMENT, PLACE, PERSON, ALL = SCOPES = ("部门", "存放位置", "人员", "全部")
TICKED, SCANNED, TYPED = HOW = ("勾选", "扫描", "输入")
SEEN, MISSING, EXTRA, MISPLACED, AWAY, LOST = FINDINGS = ("已核对", "缺失", "多出", "位置不符", "外出", "下落不明")
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")

# How the record says a copy is: here (在位), away with someone (借出, 外出, 送修, 已分发), or missing.
PRESENT, ABSENT = "在位", "外出"
DISTRIBUTED = distributions.DISTRIBUTED
_AWAY_STATUSES = frozenset({"借出", "外出", "送修", DISTRIBUTED}) & frozenset(COPIES.lifecycle.statuses)
CLOSED = COPIES.lifecycle.closing
# a copy lent out is away from its place and its keeper, but with its borrower (its 持有人): in a
# check of that person it should be there; so is a copy distributed to a person (分发 made them its
# 持有人), not one distributed to a unit (its 持有人 is still whoever had it before)
_WITH_HOLDER = frozenset({"借出"}) & frozenset(COPIES.lifecycle.statuses)
DOING = "载体核对"
# PostgreSQL advisory lock class (with the scope's hash): openings of one check follow each other
OPEN_LOCK = 0x4D42_0003
CLOSED_MESSAGE = "该次核对已于 {at:%Y-%m-%d %H:%M} 完成,结果已存档,不能再修改。"


def record_state(status: str) -> str:
    if status == C.MISSING:
        return LOST
    return ABSENT if status in _AWAY_STATUSES else PRESENT


# -- what a check is, and what it lists ------------------------------------------------------------


@dataclass(frozen=True)
class CheckInfo:
    id: int
    kind: str
    period: str
    scope: str
    scope_value: str
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    checkers: str | None = None
    summary: Mapping[str, int] | None = None
    note: str | None = None
    person_id: int | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def scope_text(self) -> str:
        return "全部载体" if self.scope == ALL else f"{self.scope}:{self.scope_value}"

    @property
    def title(self) -> str:
        """月核对 2026年11月 部门:科研一处"""
        return f"{self.kind} {self.period} {self.scope_text}"


@dataclass(slots=True)
class CheckLine:
    """One copy as its record has it now (while the check is open) or had it at the close."""

    copy_id: int
    carrier_number: str
    copy_number: int
    title: str
    level: str | None
    holder: str
    place: str
    status: str
    department: str = ""
    seen_how: str | None = None
    finding: str = ""  # at the close; while open, what the line would be now
    belongs: str = ""
    followed: str = ""
    held: bool = False  # the person checked holds it (a copy lent to them): expected with them

    @property
    def number(self) -> str:
        return f"{self.carrier_number} 第 {self.copy_number} 份"

    @property
    def state(self) -> str:
        return PRESENT if self.held else record_state(self.status)


@dataclass
class CheckList:
    """An open check as it stands: the copies listed and the copies seen that are not."""

    check: CheckInfo
    lines: list[CheckLine]
    extra: list[CheckLine] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """已核对 / 未核对 / 多出 (seen but not listed) / 位置不符 (seen, listed as away or
        missing), and the copies listed as away or missing and not seen."""
        tally = Counter(map(count_key, self.lines))
        tally[EXTRA] += len(self.extra)
        return {key: tally[key] for key in COUNTED}


UNCHECKED = "未核对"
COUNTED = (SEEN, UNCHECKED, EXTRA, MISPLACED, AWAY, LOST)  # the live counts of an open check


def count_key(x: CheckLine) -> str:
    """Which of the live counts (COUNTED) a line of an open check falls in."""
    if x.finding == EXTRA:
        return EXTRA
    state = x.state
    if x.seen_how:
        return SEEN if state == PRESENT else MISPLACED
    return UNCHECKED if state == PRESENT else state


@dataclass
class CheckReport:
    check: CheckInfo
    lines: list[CheckLine]  # every finding, in FINDINGS order

    def of(self, finding: str) -> list[CheckLine]:
        return [x for x in self.lines if x.finding == finding]

    def counts(self) -> dict[str, int]:
        return {f: sum(1 for x in self.lines if x.finding == f) for f in FINDINGS}


@dataclass(frozen=True)
class ScanResult:
    line: CheckLine
    finding: str  # 已核对, 多出 or 位置不符 (as it would be at the close)
    message: str
    again: bool = False  # seen before in this check


# -- periods and codes ---------------------------------------------------------------------------


def period_text(kind: str, year: int, part: int = 0) -> str:
    """2026年11月 (月核对, part = month), 2026年第四季度 (季检查, part = quarter), 2026年度."""
    if kind == MONTHLY:
        if not 1 <= part <= 12:
            raise ValidationFailed({"period": "月份应为 1 至 12"}, {"period": "期间"})
        return f"{year}年{part}月"
    if kind == QUARTERLY:
        if not 1 <= part <= 4:
            raise ValidationFailed({"period": "季度应为 1 至 4"}, {"period": "期间"})
        return f"{year}年{QUARTERS[part - 1]}"
    if kind == YEARLY:
        return f"{year}年度"
    raise ValidationFailed({"kind": f"核对类别应为:{'、'.join(KINDS)}"}, {"kind": "核对类别"})


def current_period(kind: str, today: dt.date) -> str:
    part = today.month if kind == MONTHLY else (today.month - 1) // 3 + 1 if kind == QUARTERLY else 0
    return period_text(kind, today.year, part)


_PERIOD = {MONTHLY: re.compile(r"\d{4}年(?:[1-9]|1[0-2])月"), QUARTERLY: re.compile(r"\d{4}年第[一二三四]季度"),
           YEARLY: re.compile(r"\d{4}年度")}

# where a 份号 may follow a carrier's number, as a cover label's QR holds it or a person types
# it: ZT-2024-001-3, ZT-2024-001/3, ZT-2024-001#3, ZT-2024-001 3, ZT-2024-001 第3份, …·份号3
_SEPARATOR = re.compile(r"[#/|_\-—·:;,\s]|份号|第")
_COPY_NUMBER = re.compile(r"(?:份号|第)?\s*(\d{1,5})\s*份?")


def parse_code(text: str) -> list[tuple[str, int | None]]:
    """The readings of a scanned or typed code, most literal first: the whole text as a
    carrier's 登记编号 (its copy to be found), then 登记编号 + 份号 split at each place a 份号
    may follow. Full-width characters are folded, letters upper-cased (numbers are stored so)."""
    code = unicodedata.normalize("NFKC", text or "").strip().upper()
    code = re.sub(r"^(?:MIBAO|密保)[::]\s*", "", code)  # a payload may name the app that printed it
    if not code:
        return []
    readings: list[tuple[str, int | None]] = [(code, None)]
    for sep in _SEPARATOR.finditer(code):
        head, tail = code[:sep.start()].strip(), code[sep.end():].strip()
        m = _COPY_NUMBER.fullmatch(tail)
        if head and m and (head, int(m.group(1))) not in readings:
            readings.append((head, int(m.group(1))))
    return readings


# -- the service -------------------------------------------------------------------------------------


class CarrierCheckService:
    """Checks of the carriers' copies, for the person at work (the 安全保密管理员)."""

    def __init__(self, ledgers: LedgerService, *, actions: Callable[[], Any] | None = None) -> None:
        self.ledgers = ledgers
        self.db = ledgers.db
        self._actions = actions  # the carrier actions (下落不明 from the report), built by the composition root

    @property
    def actor(self):
        return self.ledgers.actor

    def _now(self) -> dt.datetime:
        return self.ledgers.clock()

    # -- choices ---------------------------------------------------------------------------

    def scope_values(self, scope: str) -> list[str]:
        """What a scope may name: the departments of the carriers, or the places of copies and
        carriers (for 人员 a name is typed)."""
        with self.ledgers._read(DOING) as session:
            if scope == DEPARTMENT:
                col = table_of(CARRIERS).c[DEPARTMENT_FIELD]
                return [v for v in session.scalars(select(col).where(col.is_not(None)).distinct().order_by(col)) if v]
            if scope == PLACE:
                places = set()
                for ledger in (COPIES, CARRIERS):
                    col = table_of(ledger).c[LOCATION]
                    places |= set(session.scalars(select(col).where(col.is_not(None)).distinct()))
                return sorted(p for p in places if p)
        return []

    # -- opening ---------------------------------------------------------------------------

    def open(self, kind: str, period: str, scope: str, value: str = "") -> CheckInfo:
        """Open a check (or take up the one of the same kind, period and scope still open)."""
        errors = {}
        if kind not in KINDS:
            errors["kind"] = f"核对类别应为:{'、'.join(KINDS)}"
        elif not _PERIOD[kind].fullmatch(period or ""):
            errors["period"] = f"期间应写作 {current_period(kind, self._now().date())}"
        if scope not in SCOPES:
            errors["scope"] = f"核对范围应为:{'、'.join(SCOPES)}"
        value = unicodedata.normalize("NFKC", value or "").strip() if scope != ALL else ""
        if scope in (DEPARTMENT, PLACE, PERSON) and not value:
            errors["scope_value"] = f"请填写要核对的{scope}"
        elif len(value) > 60:
            errors["scope_value"] = "核对对象不超过 60 字"
        if errors:
            raise ValidationFailed(errors, {"kind": "核对类别", "period": "期间", "scope": "核对范围",
                                            "scope_value": "核对对象"})
        with self.ledgers._write(f"开始{kind}") as session:
            person_id = None
            if scope == PERSON:
                person_id, value = self._person(session, value)
            elif scope == DEPARTMENT and value not in self._departments(session):
                raise ValidationFailed({"scope_value": f"没有登记在“{value}”名下的涉密载体"}, {"scope_value": "部门"})
            elif scope == PLACE and not self._has_place(session, value):
                raise ValidationFailed({"scope_value": f"没有存放在“{value}”的涉密载体"}, {"scope_value": "存放位置"})
            _serialise_opening(session, kind, period, scope, value)
            same = session.scalar(select(CarrierCheck).where(
                CarrierCheck.closed_at.is_(None), CarrierCheck.kind == kind, CarrierCheck.period == period,
                CarrierCheck.scope == scope, CarrierCheck.scope_value == value))
            if same is not None:  # taken up where it was left: one check of a scope at a time
                return _info(same)
            now = self._now()
            check = CarrierCheck(kind=kind, period=period, scope=scope, scope_value=value, person_id=person_id,
                                 opened_at=now, opened_by=self.actor.name)
            session.add(check)
            session.flush()
            audit.append(session, self.actor, "check.open", _target(check),
                         {"核对序号": check.id, "核对类别": kind, "期间": period, "范围": _info(check).scope_text},
                         at=now)
            return _info(check)

    def _departments(self, session: Session) -> set[str]:
        col = table_of(CARRIERS).c[DEPARTMENT_FIELD]
        return set(session.scalars(select(col).where(col.is_not(None)).distinct()))

    @staticmethod
    def _has_place(session: Session, place: str) -> bool:
        return any(session.scalar(select(table_of(ledger).c.id).where(table_of(ledger).c[LOCATION] == place).limit(1))
                   is not None for ledger in (COPIES, CARRIERS))

    def _person(self, session: Session, text: str) -> tuple[int, str]:
        """A person of the register by 姓名, 张伟(科研一处) or 人员编号."""
        t = table_of(PEOPLE)
        m = re.fullmatch(r"(.+?)[((](.+)[))]", text)
        name, hint = (m.group(1).strip(), m.group(2).strip()) if m else (text, "")
        rows = session.execute(select(t.c.id, t.c[PEOPLE.label_field].label("name"),
                                      t.c[DEPARTMENT_FIELD].label("department"),
                                      t.c[PEOPLE.key_field].label("number")).where(
            t.c.voided == false(), (t.c[PEOPLE.label_field] == name) | (t.c[PEOPLE.key_field] == text.upper()))).all()
        if hint:
            rows = [r for r in rows if hint in (r.department, r.number)]
        if not rows:
            raise ValidationFailed({"scope_value": f"人员名册中没有“{text}”"}, {"scope_value": "人员"})
        if len(rows) > 1:
            options = "、".join(f"{r.name}({r.department or r.number})" for r in rows)
            raise ValidationFailed({"scope_value": f"有 {len(rows)} 人名为“{name}”,请写明是哪一位:{options}"},
                                   {"scope_value": "人员"})
        r = rows[0]
        return r.id, f"{r.name}({r.department})" if r.department else r.name

    # -- reading ---------------------------------------------------------------------------

    def checks(self, *, open_only: bool = False, limit: int = 50) -> list[CheckInfo]:
        with self.ledgers._read(DOING) as session:
            q = select(CarrierCheck).order_by(CarrierCheck.id.desc()).limit(limit)
            if open_only:
                q = q.where(CarrierCheck.closed_at.is_(None))
            return [_info(c) for c in session.scalars(q)]

    def get(self, check_id: int) -> CheckInfo:
        with self.ledgers._read(DOING) as session:
            return _info(self._check(session, check_id))

    @staticmethod
    def _check(session: Session, check_id: int, *, lock: bool = False) -> CarrierCheck:
        q = select(CarrierCheck).where(CarrierCheck.id == check_id)
        check = session.scalar(q.with_for_update() if lock else q)
        if check is None:
            raise NotFound(f"找不到第 {check_id} 号核对记录。")
        return check

    def check_list(self, check_id: int) -> CheckList:
        """The copies an open check lists, each with whether it has been seen, and the copies
        seen that it does not list (a closed check: its report)."""
        # the cycle collector paused while a department's 20,000 lines are made: it would walk
        # them again and again for no garbage (a third of the list's time, measured)
        with self.ledgers._read(DOING) as session, _collector_paused():
            check = self._check(session, check_id)
            return self._list(session, check)

    def _list(self, session: Session, check: CarrierCheck) -> CheckList:
        info = _info(check)
        items = CarrierCheckItem.__table__  # (a Core select: the driver's rows)
        seen = dict(_fetch(session, select(items.c.copy_id, items.c.seen_how).where(items.c.check_id == check.id)))
        # the copies from their index by parent, their carriers read once each: a department's
        # 100,000 copies carry their 10,000 carriers' numbers, titles and departments as shared
        # strings, not 100,000 copies of each read from the database (a third of the list's time)
        copies = _fetch(session, _scope_copies(info))
        carriers = _scope_carriers(session, info, copies)
        groups: defaultdict[int, list[tuple]] = defaultdict(list)
        for r in copies:
            groups[r[_PARENT]].append(r)
        listed = set(map(itemgetter(0), copies)) if seen else set()  # (nothing seen yet: no stray)
        strays = [cid for cid in seen if cid not in listed]
        extra_rows = sorted(_fetch(session, _base_query(closed_too=True).where(table_of(COPIES).c.id.in_(strays))),
                            key=_BY_NUMBER) if strays else []
        people = set(map(itemgetter(_HOLDER), copies))
        people.update(p[_KEEPER] for p in carriers.values())
        people.update(r[_PERSON] for r in extra_rows)
        names = _labels(session, people)
        get_name, get_seen = names.get, seen.get
        lines: list[CheckLine] = []
        # in 登记编号 order, then 份号 (here: asked to sort, SQLite walks every carrier by number)
        for parent_id in sorted(groups, key=lambda i: carriers[i][_CARRIER_NUMBER]):
            number, title, level, place, department, keeper = carriers[parent_id][1:]
            title, department = title or "", department or ""
            group = groups[parent_id]
            group.sort(key=_BY_COPY_NUMBER)
            # (one comprehension, positional, the row unpacked: at 100,000 copies each call or
            # lookup saved is milliseconds; the columns as _scope_copies reads them)
            lines += [CheckLine(copy_id, number, copy_number, title, level,
                                get_name(keeper if holder is None else holder, ""),
                                (place if location is None else location) or "", status, department,
                                get_seen(copy_id))
                      for copy_id, _parent, copy_number, location, status, holder in group]
        extra = [_line(r, names, seen.get(r[_ID]), finding=EXTRA, belongs=_belongs(r, names))
                 for r in extra_rows]
        sent = _sent(session, [*lines, *extra])
        if info.scope == PERSON:
            for x in lines:
                x.held = _held(x.status, sent.get(x.copy_id))
        return CheckList(info, lines, extra)

    # -- ticking and scanning -------------------------------------------------------------------

    def mark(self, check_id: int, copy_id: int, how: str = TICKED) -> ScanResult:
        """Tick a copy as seen (勾选), or record it scanned or typed."""
        if how not in HOW:
            raise ServiceError(f"核对方式应为:{'、'.join(HOW)}")
        with self.ledgers._write(DOING) as session:
            check = self._open_check(session, check_id)
            return self._mark(session, check, copy_id, how)

    def scan(self, check_id: int, text: str, *, how: str = SCANNED) -> ScanResult:
        """A scanned QR payload or a typed 登记编号+份号: the copy found and marked seen."""
        if how not in HOW:
            raise ServiceError(f"核对方式应为:{'、'.join(HOW)}")
        with self.ledgers._write(DOING) as session:
            check = self._open_check(session, check_id)
            copy_id = self._find(session, check, text)
            return self._mark(session, check, copy_id, how)

    def unmark(self, check_id: int, copy_id: int) -> None:
        """Take back a tick (ticked by mistake) while the check is open."""
        with self.ledgers._write(DOING) as session:
            check = self._open_check(session, check_id)
            item = session.scalar(select(CarrierCheckItem).where(CarrierCheckItem.check_id == check.id,
                                                                 CarrierCheckItem.copy_id == copy_id))
            if item is None:
                return
            row = _fetch(session, _base_query(closed_too=True).where(table_of(COPIES).c.id == copy_id))
            session.delete(item)
            audit.append(session, self.actor, "check.unmark", _target(check),
                         {"核对序号": check.id, "record_id": copy_id,
                          "载体份": _number(row[0]) if row else str(copy_id)}, at=self._now())

    def _open_check(self, session: Session, check_id: int) -> CarrierCheck:
        check = self._check(session, check_id, lock=True)
        if check.closed_at is not None:
            raise ServiceError(CLOSED_MESSAGE.format(at=check.closed_at))
        return check

    def _find(self, session: Session, check: CarrierCheck, text: str) -> int:
        readings = parse_code(text)
        if not readings:
            raise ServiceError("请扫描载体份封面或信封标签上的二维码,或输入登记编号和份号(如 ZT-2024-001 3)。")
        p, t = table_of(CARRIERS), table_of(COPIES)
        for number, copy_number in readings:
            carrier_id = session.scalar(select(p.c.id).where(p.c[CARRIERS.key_field] == number, p.c.voided == false()))
            if carrier_id is None:
                continue
            number_col = t.c[COPIES.key_field]
            copies = session.execute(select(t.c.id, number_col.label("copy_number"), t.c.status).where(
                t.c.parent_id == carrier_id, t.c.voided == false()).order_by(number_col)).all()
            if copy_number is not None:
                hit = [c.id for c in copies if c.copy_number == copy_number]
                if hit:
                    return hit[0]
                raise ServiceError(f"{number} 没有第 {copy_number} 份(共登记 {len(copies)} 份)。")
            live = [c for c in copies if c.status not in CLOSED]
            if len(copies) == 1 or len(live) == 1:
                return (live or copies)[0].id
            if not copies:
                raise ServiceError(f"{number} 没有登记份号。")
            listed = {r[_ID] for r in _fetch(session, _scope_query(_info(check)).where(t.c.parent_id == carrier_id))} \
                if check.scope != ALL else set()
            if len(listed) == 1:
                return listed.pop()
            raise ServiceError(f"{number} 共有 {len(live)} 份在管,请扫描该份封面上的二维码,"
                               f"或输入登记编号和份号(如 {number} 1)。")
        raise ServiceError(f"找不到“{text.strip()}”:没有此登记编号的涉密载体。请核对后重新扫描或输入。")

    def _mark(self, session: Session, check: CarrierCheck, copy_id: int, how: str) -> ScanResult:
        rows = _fetch(session, _base_query(closed_too=True).where(table_of(COPIES).c.id == copy_id))
        if not rows:
            raise NotFound(f"找不到编号为 {copy_id} 的载体份。")
        row = rows[0]
        names = _labels(session, {row[_PERSON]} - {None})
        info = _info(check)
        listed = _in_scope(info, row) and row[_STATUS] not in CLOSED
        line = _line(row, names, how, belongs="" if listed else _belongs(row, names))
        sent = _sent(session, [line])
        held = info.scope == PERSON and _held(row[_STATUS], sent.get(copy_id))
        state = PRESENT if held else record_state(row[_STATUS])
        finding = (SEEN if state == PRESENT else MISPLACED) if listed else EXTRA
        item = session.scalar(select(CarrierCheckItem).where(CarrierCheckItem.check_id == check.id,
                                                             CarrierCheckItem.copy_id == copy_id))
        line.finding, line.held = finding, held
        if item is not None:
            return ScanResult(line, finding, f"{line.number} 已核对过", again=True)
        now = self._now()
        session.add(CarrierCheckItem(check_id=check.id, copy_id=copy_id, finding=finding, seen_how=how, seen_at=now))
        audit.append(session, self.actor, "check.mark", _target(check),
                     {"核对序号": check.id, "record_id": copy_id, "载体份": line.number, "方式": how, "结果": finding},
                     at=now)
        if finding == SEEN:
            message = f"已核对:{line.number}"
        elif finding == EXTRA:
            message = f"多出:{line.number} 不在本次核对范围,{line.belongs}"
        else:
            message = f"位置不符:{line.number} 登记为“{line.status}”" + (f"({_who(line)})" if line.holder else "")
        return ScanResult(line, finding, message)

    # -- closing ---------------------------------------------------------------------------

    def close(self, check_id: int, *, checkers: str = "", note: str = "") -> CheckReport:
        """完成核对: every finding stored with the copy's record as it is now; nothing of the
        check changes after this."""
        checkers = " ".join((checkers or "").split())
        if len(checkers) > 200:
            raise ValidationFailed({"checkers": "核对人不超过 200 字"}, {"checkers": "核对人"})
        with self.ledgers._write(f"完成{DOING}") as session, _collector_paused():
            check = self._open_check(session, check_id)
            listing = self._list(session, check)
            now = self._now()
            findings: dict[int, CheckLine] = {}
            for x in listing.lines:
                if x.seen_how:
                    finding = SEEN if x.state == PRESENT else MISPLACED
                else:
                    finding = {PRESENT: MISSING, ABSENT: AWAY, LOST: LOST}[x.state]
                belongs = f"登记为“{x.status}”" + (f",{_who(x)}" if x.holder else "") \
                    if finding in (MISPLACED, AWAY, LOST) else ""
                findings[x.copy_id] = _with(x, finding, belongs)
            for x in listing.extra:
                findings[x.copy_id] = x
            seen = {i.copy_id: i for i in session.scalars(select(CarrierCheckItem)
                                                          .where(CarrierCheckItem.check_id == check.id))}
            fresh = []
            for copy_id, x in findings.items():
                values = _snapshot(x)
                if copy_id in seen:
                    for k, v in values.items():
                        setattr(seen[copy_id], k, v)
                else:
                    fresh.append({"check_id": check.id, "copy_id": copy_id, **values})
            for start in range(0, len(fresh), 5_000):
                session.execute(insert(CarrierCheckItem.__table__), fresh[start:start + 5_000])
            counts = {f: 0 for f in FINDINGS}
            for x in findings.values():
                counts[x.finding] += 1
            check.closed_at, check.closed_by = now, self.actor.name
            check.checkers, check.note = checkers or None, (note or "").strip() or None
            check.summary = counts
            session.flush()
            audit.append(session, self.actor, "check.close", _target(check),
                         {"核对序号": check.id, **counts, **({"核对人": checkers} if checkers else {})}, at=now)
            return CheckReport(_info(check), sorted(findings.values(), key=_report_order))

    # -- the report ------------------------------------------------------------------------

    def report(self, check_id: int) -> CheckReport:
        with self.ledgers._read(DOING) as session, _collector_paused():
            check = self._check(session, check_id)
            if check.closed_at is None:
                raise ServiceError("该次核对尚未完成:请先“完成核对”,再查看或打印核对报告。")
            c = CarrierCheckItem.__table__.c  # plain rows: a whole unit's year-end check holds a million
            rows = _fetch(session, select(c.copy_id, c.carrier_number, c.copy_number, c.title, c.level, c.holder,
                                          c.place, c.status, c.seen_how, c.finding, c.belongs, c.followed)
                          .where(c.check_id == check.id))
            lines = [CheckLine(r[0], r[1] or "", r[2] or 0, r[3] or "", r[4], r[5] or "", r[6] or "", r[7] or "", "",
                               r[8], r[9], r[10] or "", r[11] or "") for r in rows]
            return CheckReport(_info(check), sorted(lines, key=_report_order))

    def mark_missing(self, check_id: int, copy_ids: Sequence[int], circumstances: str) -> list[int]:
        """标为下落不明 the copies a closed check found 缺失, through the carrier actions (which
        start the missing clock); each is noted on its line of the report. Returns the copies."""
        ids = list(dict.fromkeys(copy_ids))
        if not ids:
            raise ServiceError("请先选择核对中缺失的载体份。")
        with self.ledgers._read(DOING) as session:
            check = self._check(session, check_id)
            if check.closed_at is None:
                raise ServiceError("请先完成核对,再将缺失的载体份标为下落不明。")
            found = dict(session.execute(select(CarrierCheckItem.copy_id, CarrierCheckItem.finding).where(
                CarrierCheckItem.check_id == check_id, CarrierCheckItem.copy_id.in_(ids))).all())
        wrong = [i for i in ids if found.get(i) != MISSING]
        if wrong:
            raise ServiceError("只能将本次核对中“缺失”的载体份标为下落不明。")
        if self._actions is None:
            raise ServiceError("载体手续不可用。")
        why = (circumstances or "").strip()
        check_info = self.get(check_id)
        facts = {C.CIRCUMSTANCES.name: f"{check_info.title}时未见" + (f"。{why}" if why else "")}
        self._actions().missing(ids, facts)  # refused as a whole when any is refused (its message names why)
        with self.ledgers._write(DOING) as session:
            check = self._check(session, check_id, lock=True)
            now = self._now()
            session.execute(update(CarrierCheckItem).where(CarrierCheckItem.check_id == check.id,
                                                           CarrierCheckItem.copy_id.in_(ids))
                            .values(followed=f"{now:%Y-%m-%d} 已标为下落不明"))
            audit.append(session, self.actor, "check.follow_up", _target(check),
                         {"核对序号": check.id, "标为下落不明": len(ids)}, at=now)
        return ids

    # -- paper and workbook ----------------------------------------------------------------------

    def print_report(self, check_id: int, target, *, printer: str = "", record: bool = True) -> int:
        """The report as PDF (A4): the unit, kind, period, scope, who checked, the counts, each
        finding's list and the signature lines. Returns its pages; recorded as a print."""
        from mibao_desktop.printing.check_report import check_report_form
        from mibao_desktop.printing.forms import render_form
        from mibao_desktop.services import report_facts
        from mibao_desktop.services.output_service import check_target
        from mibao_desktop.services.print_service import _name, _written

        report = self.report(check_id)
        check_target(self.db, target)
        anchor = audit.current_anchor(self.db)
        form = check_report_form(report, unit=report_facts.unit_name(self.db),
                                 handler=report_facts.display_name(self.db, report.check.closed_by or "")
                                 or report.check.closed_by or "")
        with _written(target) as out:
            pages = render_form(out, form, anchor=anchor.label)
        if record:
            self.ledgers.record_output("ledger.print", COPIES, _name(target), len(report.lines), {
                "what": f"载体核对报告({report.check.title})", "pages": pages, "printer": printer,
                "anchor": str(anchor)})
        return pages


# -- queries -------------------------------------------------------------------------------------


def _serialise_opening(session: Session, *scope: str) -> None:
    """Openings of the same check (kind, period, scope) follow each other, so that a second
    workstation finds the first one's check open and takes it up instead of opening another.
    SQLite's write transactions (BEGIN IMMEDIATE) already do; on PostgreSQL each would read
    "none open" in its own transaction, so a transaction-scoped advisory lock keyed on the
    scope is taken first (freed at commit; other scopes open freely)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock, hashtext(:scope))"),
                        {"lock": OPEN_LOCK, "scope": "\x1f".join(scope)})


# the columns of _base_query's rows, in order
_ID, _NUMBER, _COPY, _TITLE, _LEVEL, _PLACE, _STATUS, _DEPT, _PERSON = range(9)
_BY_NUMBER = itemgetter(_NUMBER, _COPY)


def _base_query(*, closed_too: bool = False):
    """Each copy with its carrier: where it should be (its own 存放位置, else the carrier's) and
    who has it (its own 持有人, else the carrier's 保管人)."""
    t, p = table_of(COPIES), table_of(CARRIERS)
    q = (select(t.c.id.label("copy_id"), p.c[CARRIERS.key_field].label("carrier_number"),
                t.c[COPIES.key_field].label("copy_number"), p.c[C.TITLE].label("title"),
                p.c[CARRIERS.level_field.name].label("level"),
                func.coalesce(t.c[LOCATION], p.c[LOCATION]).label("place"), t.c.status.label("status"),
                p.c[DEPARTMENT_FIELD].label("department"), func.coalesce(t.c[HOLDER], p.c[KEEPER]).label("person"))
         .select_from(t.join(p, p.c.id == t.c.parent_id))
         .where(t.c.voided == false(), p.c.voided == false()))
    if not closed_too:
        q = q.where(t.c.status.not_in(sorted(CLOSED)))
    return q


# the columns of _scope_copies' rows, and of _scope_carriers'
_PARENT, _COPY_NUMBER_AT, _HOLDER = 1, 2, 5
_BY_COPY_NUMBER = itemgetter(_COPY_NUMBER_AT)
_CARRIER_NUMBER, _KEEPER = 1, 6


def _scope_copies(info: CheckInfo):
    """The copies a check lists, as _scope_query, with only their own columns and the parent's
    id: (id, parent_id, 份号, 存放位置, status, 持有人), each part read from the copies' index by
    parent (``by_parent_index``) or by place or holder."""
    t = table_of(COPIES)
    return _scope_query(info, (t.c.id, t.c.parent_id, t.c[COPIES.key_field], t.c[LOCATION], t.c.status, t.c[HOLDER]))


def _scope_carriers(session: Session, info: CheckInfo, copies: Sequence[tuple]) -> dict[int, tuple]:
    """The carriers of the listed copies by id: (id, 登记编号, 标题, 密级, 存放位置, 部门, 保管人).
    A department's are its carriers; a place's or a person's, those the copies belong to."""
    p = table_of(CARRIERS)
    q = select(p.c.id, p.c[CARRIERS.key_field], p.c[C.TITLE], p.c[CARRIERS.level_field.name], p.c[LOCATION],
               p.c[DEPARTMENT_FIELD], p.c[KEEPER]).where(p.c.voided == false())
    if info.scope in (DEPARTMENT, ALL):
        rows = _fetch(session, q.where(p.c[DEPARTMENT_FIELD] == info.scope_value) if info.scope == DEPARTMENT else q)
        return {r[0]: r for r in rows}
    ids = sorted({r[_PARENT] for r in copies})
    return {r[0]: r for start in range(0, len(ids), 500)
            for r in _fetch(session, q.where(p.c.id.in_(ids[start:start + 500])))}


def _scope_query(info: CheckInfo, columns: Sequence | None = None):
    """The copies a check lists, each part of it an index range: the carriers of a department
    (then their copies by parent), a place or a person on the copy itself, or on the carrier
    for copies that name none of their own."""
    t, p = table_of(COPIES), table_of(CARRIERS)
    q = _base_query()
    if columns is not None:  # the same copies, other columns
        q = q.with_only_columns(*columns)
    if info.scope == DEPARTMENT:
        return q.where(p.c[DEPARTMENT_FIELD] == info.scope_value)
    if info.scope == PLACE:
        return _union(q.where(t.c[LOCATION] == info.scope_value),
                      q.where(t.c[LOCATION].is_(None), p.c[LOCATION] == info.scope_value))
    if info.scope == PERSON:
        return _union(q.where(t.c[HOLDER] == info.person_id),
                      q.where(t.c[HOLDER].is_(None), p.c[KEEPER] == info.person_id))
    return q


class _union:
    """Two selects read as one (UNION ALL), narrowed alike by ``where``."""

    def __init__(self, a, b) -> None:
        self.a, self.b = a, b

    def where(self, *conditions) -> "_union":
        return _union(self.a.where(*conditions), self.b.where(*conditions))


def _fetch(session: Session, q) -> list[tuple]:
    """The rows as the driver gives them: plain tuples (a department's 20,000 copies are read
    a quarter faster than as SQLAlchemy rows). The columns are texts and integers only, which
    need no conversion on either engine."""
    if isinstance(q, _union):
        q = union_all(q.a, q.b)
    result = session.execute(q)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _labels(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(i for i in ids if i is not None)
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        names.update(session.execute(select(Record.id, Record.label).where(Record.id.in_(ids[start:start + 500]))).all())
    return names


def _in_scope(info: CheckInfo, row: tuple) -> bool:
    if info.scope == DEPARTMENT:
        return row[_DEPT] == info.scope_value
    if info.scope == PLACE:
        return row[_PLACE] == info.scope_value
    if info.scope == PERSON:
        return row[_PERSON] == info.person_id
    return True


def _number(row: tuple) -> str:
    return f"{row[_NUMBER]} 第 {row[_COPY]} 份"


def _belongs(row: tuple, names: Mapping[int, str]) -> str:
    if row[_STATUS] in CLOSED:
        return f"登记为“{row[_STATUS]}”"
    dept, place = row[_DEPT], row[_PLACE]
    parts = [None if dept and place and dept in place else dept, place,  # 科研二处保密柜 says its department
             names.get(row[_PERSON]) and f"持有人 {names[row[_PERSON]]}"]
    return "应在:" + "·".join(p for p in parts if p) if any(parts) else "登记中未写明存放位置"


def _line(row: Any, names: Mapping[int, str], seen_how: str | None, *, finding: str = "",
          belongs: str = "") -> CheckLine:
    copy_id, number, copy_number, title, level, place, status, department, person = row
    return CheckLine(copy_id, number, copy_number, title or "", level, names.get(person, ""), place or "", status,
                     department or "", seen_how, finding, belongs)


def _sent(session: Session, lines: Sequence[CheckLine]) -> dict[int, distributions.Recipient]:
    """The lines 已分发 show whom they went to (the unit, else the person) where the others show
    their 持有人; their recipients, by copy."""
    away = [x for x in lines if x.status == DISTRIBUTED]
    sent = distributions.last_recipients(session, [x.copy_id for x in away]) if away else {}
    for x in away:
        to = sent.get(x.copy_id)
        if to is not None and to.text:
            x.holder = to.text
    return sent


def _held(status: str, sent: distributions.Recipient | None) -> bool:
    """Whether the person a check is of should have the copy: lent to them, or distributed to them
    (a 接收人 named, whom 分发 made its 持有人, which is how the check's scope took it in)."""
    if status == DISTRIBUTED:
        return sent is not None and bool(sent.person)
    return status in _WITH_HOLDER


def _who(x: CheckLine) -> str:
    return f"分发至 {x.holder}" if x.status == DISTRIBUTED else f"持有人 {x.holder}"


def _with(x: CheckLine, finding: str, belongs: str) -> CheckLine:
    return replace(x, finding=finding, belongs=belongs)


def _snapshot(x: CheckLine) -> dict[str, Any]:
    return {"finding": x.finding, "carrier_number": x.carrier_number[:40], "copy_number": x.copy_number,
            "title": x.title[:200], "level": x.level, "holder": x.holder[:60] or None, "place": x.place[:60] or None,
            "status": x.status, "belongs": x.belongs[:200] or None}


REPORT_ORDER = (MISSING, EXTRA, MISPLACED, AWAY, LOST, SEEN)  # what must be looked for first


def _report_order(x: CheckLine) -> tuple:
    rank = REPORT_ORDER.index(x.finding) if x.finding in REPORT_ORDER else len(REPORT_ORDER)
    return (rank, x.carrier_number, x.copy_number)


def _target(check: CarrierCheck) -> str:
    return f"第 {check.id} 号{_info(check).title}"


def _info(c: CarrierCheck) -> CheckInfo:
    return CheckInfo(id=c.id, kind=c.kind, period=c.period, scope=c.scope, scope_value=c.scope_value or "",
                     opened_at=c.opened_at, opened_by=c.opened_by, closed_at=c.closed_at, closed_by=c.closed_by,
                     checkers=c.checkers, summary=dict(c.summary) if c.summary else None, note=c.note,
                     person_id=c.person_id)
