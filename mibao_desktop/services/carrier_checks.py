"""The checks of the carriers' copies (载体核对): 月核对, 季检查 and 年终清退归档 (seed 003 保密工作制度
第十条: 管理坚持月核对、季检查、年终清退归档,如发现丢失应及时报告并积极查找), as stocktakings of the
copies ledger (``services/stocktaking.py``, one service, one dialog, one report). Qt-free.

What is the carriers' own is declared here (:class:`CopiesCheck`, ``COPIES_CHECK``):

- **the kind and period**: 月核对 of a month, 季检查 of a quarter, 年终清退归档 of a year;
- **the expected list**: every copy not closed (清退, 已销毁) that should be in the scope — a
  department (the carriers registered to it, then their copies by parent), a place (a copy's
  存放位置, else its carrier's) or a person (a copy's 持有人, else its carrier's 保管人), or the whole
  unit. A copy 借出, 外出, 送修 or 已分发 is listed as away, with who has it (a copy 已分发: the unit
  or person its latest 分发 went to, ``services/distributions.py``); a copy lent or distributed to
  a person is expected in that person's check; one already 下落不明 as such;
- **the code**: a copy's cover or envelope label holds 登记编号#份号, or a person types 登记编号
  and 份号 (:func:`parse_code`), or a carrier's own number when it has one copy in the scope;
- **what a missing copy starts**: 标为下落不明 through the carrier actions (the missing clock).

Each copy's history is not written at the close (a whole unit's year-end check lists a million
copies); the check's items keep what was found.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from contextlib import nullcontext
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import false, func, select, true, union_all
from sqlalchemy.orm import Session

from mibao_desktop.db.models import Record
from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.ledgers import PEOPLE, common
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.services import distributions, expected_copies
from mibao_desktop.services.stocktaking import (ABSENT, ALL, DEPARTMENT, LOST, PERSON, PLACE, PRESENT, Line,
                                                StocktakeInfo, Subject)
from mibao_desktop.services.stocktaking import _find as find_labelled

COPIES, CARRIERS = C.CARRIER_COPIES, C.CARRIERS
# the fields a check reads, by their declarations: who has a copy (its 持有人, else the carrier's
# 保管人), where it is kept (存放位置) and the carrier's 部门
HOLDER = next(f.name for f in COPIES.fields if f.is_person)
KEEPER = next(f.name for f in CARRIERS.fields if f.is_person)
LOCATION, DEPARTMENT_FIELD = common.location().name, common.department().name
KINDS = ("月核对", "季检查", "年终清退归档")  # seed 003 第十条
MONTHLY, QUARTERLY, YEARLY = KINDS
SCOPES = (DEPARTMENT, PLACE, PERSON, ALL)
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")

# How the record says a copy is: here (在位), away with someone (借出, 外出, 送修, 已分发), or missing.
DISTRIBUTED = distributions.DISTRIBUTED
_AWAY_STATUSES = frozenset({"借出", "外出", "送修", DISTRIBUTED}) & frozenset(COPIES.lifecycle.statuses)
CLOSED = COPIES.lifecycle.closing
# a copy lent out is away from its place and its keeper, but with its borrower (its 持有人): in a
# check of that person it should be there; so is a copy distributed to a person (分发 made them its
# 持有人), not one distributed to a unit (its 持有人 is still whoever had it before)
_WITH_HOLDER = frozenset({"借出"}) & frozenset(COPIES.lifecycle.statuses)
MISSING_ACTION = "标为下落不明"


def record_state(status: str) -> str:
    if status == C.MISSING:
        return LOST
    return ABSENT if status in _AWAY_STATUSES else PRESENT


class CopiesCheck(Subject):
    """The carriers' copies as a stocktaking's subject: 月核对, 季检查, 年终清退归档."""

    word = "核对"
    unit = "份"
    person_title = "持有人"
    kinds = KINDS
    scopes = SCOPES
    history = False
    missing_action = MISSING_ACTION

    def __init__(self) -> None:
        self.ledger = COPIES

    @property
    def noun(self) -> str:
        return "涉密载体份"

    @property
    def choice_text(self) -> str:
        return "涉密载体份(月核对、季检查、年终清退归档)"

    @property
    def has_parts(self) -> bool:
        return True

    def scope_text(self, info: StocktakeInfo) -> str:
        return "全部载体" if info.scope == ALL else f"{info.scope}:{info.scope_value}"

    def title(self, info: StocktakeInfo) -> str:
        """月核对 2026年11月 部门:科研一处"""
        return f"{info.kind} {info.period} {self.scope_text(info)}"

    def report_title(self, info: StocktakeInfo) -> str:
        return f"涉密载体{info.kind}报告"

    def check_kind(self, kind: str | None, period: str | None, today: dt.date) -> dict[str, str]:
        if kind not in KINDS:
            return {"kind": f"核对类别应为:{'、'.join(KINDS)}"}
        if not _PERIOD[kind].fullmatch(period or ""):
            return {"period": f"期间应写作 {current_period(kind, today)}"}
        return {}

    def scope_values(self, session: Session, scope: str) -> list[str]:
        """What a scope may name: the departments of the carriers, or the places of copies and
        carriers (for 人员 a name is typed)."""
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

    def resolve_scope(self, session: Session, scope: str, value: str) -> tuple[str, int | None]:
        if scope == PERSON:
            person_id, value = _person(session, value)
            return value, person_id
        if scope == DEPARTMENT and value not in _departments(session):
            raise ValidationFailed({"scope_value": f"没有登记在“{value}”名下的涉密载体"}, {"scope_value": "部门"})
        if scope == PLACE and not _has_place(session, value):
            raise ValidationFailed({"scope_value": f"没有存放在“{value}”的涉密载体"}, {"scope_value": "存放位置"})
        return value, None

    def expected(self, session: Session, info: StocktakeInfo, seen: Mapping[int, str],
                 times: Mapping[int, int], later: Callable[[], Any] | None = None) -> Sequence[Line]:
        """The copies a check lists, each with how it was seen, each line made when it is looked
        at (``services/expected_copies.py``): a department's 100,000 copies are their carriers'
        counts and ids read in one aggregate query, a screenful of lines made at a time, so the
        list is there in a fifth of the time every line took. ``later`` gives the session
        lines are made in once ``session`` has closed (None: they are all walked in it)."""
        lines = expected_copies.read(session, info, seen, later or (lambda: nullcontext(session)),
                                     decorate=(lambda x: setattr(x, "times_seen", times.get(x.record_id, 0)))
                                     if times else None)
        lines.seen_states = expected_copies.seen_states(session, info, list(seen)) if seen else {}
        return lines

    def listed(self, session: Session, info: StocktakeInfo, lines: Sequence[Line], ids: Sequence[int]) -> set[int]:
        """Of the copies seen, those the check lists: asked of the scope's index ranges, never of
        the lines (which may be made only as they are looked at)."""
        known = getattr(lines, "seen_states", None)  # (read with them)
        if known is not None:
            return set(known) & set(ids)
        t = table_of(COPIES)
        ids = sorted(set(ids))
        return {r[0] for start in range(0, len(ids), 5_000)
                for r in _fetch(session, _scope_query(info, (t.c.id,)).where(t.c.id.in_(ids[start:start + 5_000])))}

    def find(self, session: Session, info: StocktakeInfo, code: str) -> int | None:
        """The copy a code names; a code naming no carrier may be another labelled ledger's
        (said as such), else it is unknown (None)."""
        copy_id = _find(session, info, code)
        return copy_id if copy_id is not None else find_labelled(session, None, code)

    def describe(self, session: Session, info: StocktakeInfo, record_id: int) -> tuple[Line, bool]:
        rows = _fetch(session, _base_query(closed_too=True).where(table_of(COPIES).c.id == record_id))
        if not rows:  # voided (or its carrier is)
            label = session.scalar(select(Record.label).where(Record.id == record_id)) or str(record_id)
            return Line(record_id, label, belongs="已作废"), False
        row = rows[0]
        names = _labels(session, {row[_PERSON]} - {None})
        listed = _in_scope(info, row) and row[_STATUS] not in CLOSED
        line = _line(row, names, None, belongs="" if listed else _belongs(row, names))
        sent = _sent(session, [line])
        line.held = info.scope == PERSON and _held(row[_STATUS], sent.get(record_id))
        return line, listed

    def who(self, x: Line) -> str:
        return f"分发至 {x.person}" if x.status == DISTRIBUTED else f"持有人 {x.person}"

    def follow_missing(self, actions: Any, info: StocktakeInfo, record_ids: Sequence[int], why: str) -> None:
        """标为下落不明 through the carrier actions, which start the missing clock; refused as a
        whole when any copy is refused (its message names why)."""
        if actions is None:
            raise ServiceError("载体手续不可用。")
        why = (why or "").strip()
        actions.missing(list(record_ids), {C.CIRCUMSTANCES.name: f"{info.title}时未见" + (f"。{why}" if why else "")})


COPIES_CHECK = CopiesCheck()


def _departments(session: Session) -> set[str]:
    col = table_of(CARRIERS).c[DEPARTMENT_FIELD]
    return set(session.scalars(select(col).where(col.is_not(None)).distinct()))


def _has_place(session: Session, place: str) -> bool:
    return any(session.scalar(select(table_of(ledger).c.id).where(table_of(ledger).c[LOCATION] == place).limit(1))
               is not None for ledger in (COPIES, CARRIERS))


def _person(session: Session, text: str) -> tuple[int, str]:
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


def _find(session: Session, info: StocktakeInfo, text: str) -> int | None:
    """The copy a scanned or typed code names (None when no carrier has its number); a carrier
    named without a 份号 is its one copy (or its one copy in the scope), else refused."""
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
            # a copy voided (after the list was read, or long before) whose label is on the shelf:
            # the record is named, and the scan kept as 多出 (已作废), as any ledger's voided record
            voided = session.scalar(select(t.c.id).where(t.c.parent_id == carrier_id, number_col == copy_number,
                                                         t.c.voided == true()).order_by(t.c.id.desc()).limit(1))
            if voided is not None:
                return voided
            raise ServiceError(f"{number} 没有第 {copy_number} 份(共登记 {len(copies)} 份)。")
        live = [c for c in copies if c.status not in CLOSED]
        if len(copies) == 1 or len(live) == 1:
            return (live or copies)[0].id
        if not copies:
            raise ServiceError(f"{number} 没有登记份号。")
        listed = {r[_ID] for r in _fetch(session, _scope_query(info).where(t.c.parent_id == carrier_id))} \
            if info.scope != ALL else set()
        if len(listed) == 1:
            return listed.pop()
        raise ServiceError(f"{number} 共有 {len(live)} 份在管,请扫描该份封面上的二维码,"
                           f"或输入登记编号和份号(如 {number} 1)。")
    return None


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


# -- queries -------------------------------------------------------------------------------------


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


def _scope_copies(info: StocktakeInfo):
    """The copies a check lists, as _scope_query, with only their own columns and the parent's
    id: (id, parent_id, 份号, 存放位置, status, 持有人), each part read from the copies' index by
    parent (``by_parent_index``) or by place or holder."""
    t = table_of(COPIES)
    return _scope_query(info, (t.c.id, t.c.parent_id, t.c[COPIES.key_field], t.c[LOCATION], t.c.status, t.c[HOLDER]))


def _scope_carriers(session: Session, info: StocktakeInfo, copies: Sequence[tuple]) -> dict[int, tuple]:
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


def _scope_query(info: StocktakeInfo, columns: Sequence | None = None):
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


def _in_scope(info: StocktakeInfo, row: tuple) -> bool:
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
          belongs: str = "") -> Line:
    copy_id, number, copy_number, title, level, place, status, department, person = row
    return Line(copy_id, number, title or "", level, names.get(person, ""), department or "", place or "", status,
                seen_how, 0, finding, belongs, copy_number)


def _sent(session: Session, lines: Sequence[Line]) -> dict[int, distributions.Recipient]:
    """The lines 已分发 show whom they went to (the unit, else the person) where the others show
    their 持有人; their recipients, by copy."""
    away = [x for x in lines if x.status == DISTRIBUTED]
    sent = distributions.last_recipients(session, [x.record_id for x in away]) if away else {}
    for x in away:
        to = sent.get(x.record_id)
        if to is not None and to.text:
            x.person = to.text
    return sent


def _held(status: str, sent: distributions.Recipient | None) -> bool:
    """Whether the person a check is of should have the copy: lent to them, or distributed to them
    (a 接收人 named, whom 分发 made its 持有人, which is how the check's scope took it in)."""
    if status == DISTRIBUTED:
        return sent is not None and bool(sent.person)
    return status in _WITH_HOLDER
