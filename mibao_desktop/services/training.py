"""保密教育培训 (seed 002 §六 1): sessions with their attendees, each person's hours in a year
against the unit's minimum for their 涉密等级, and the list of who is short (学时未达标名单).

A session and its attendees are registered in one transaction through the ledger service's own
steps (validation, uniqueness of a person within the session, history, audit). Each person's
hours of a year are a row of ``training_hours``, kept by database triggers with every write to
the sessions and their attendees, whoever writes (revision 0026): the list of 20,000 people
reads a year's rows, never the year's attendances. An attendee's own 学时 (they left early)
counts instead of the session's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Mapping, Sequence

from sqlalchemy import and_, case, func, literal, select

from mibao_desktop.db.models import TrainingHours
from mibao_desktop.db.schema import table_of
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.ledgers import PEOPLE
from mibao_desktop.ledgers.fields import SORT_KEY_SUFFIX, Ref, tenths_text
from mibao_desktop.ledgers.people import GRADES
from mibao_desktop.ledgers.trainings import (DATE, HOURS, LECTURER, MINIMUM_HOURS, OWN_HOURS, PERSON, RULE, SUBJECT,
                                             TRAININGS, TRAINING_ATTENDANCES)
from mibao_desktop.security import Role, require
from mibao_desktop.services import audit, settings
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import RecordRepository
from mibao_desktop.services.views import RecordView

SETTING = "training_minimums"  # {grade: tenths of an hour}
SETTING_LABEL = "保密教育培训最低学时"


@dataclass(frozen=True)
class HoursLine:
    """One person of a grade in a year: their hours against the minimum."""

    person_id: int
    number: str
    name: str
    department: str
    grade: str
    tenths: int  # hours × 10
    minimum: int  # hours × 10
    sessions: int

    @property
    def short_by(self) -> int:
        return max(0, self.minimum - self.tenths)

    @property
    def hours_text(self) -> str:
        return tenths_text(self.tenths)

    @property
    def minimum_text(self) -> str:
        return tenths_text(self.minimum)

    @property
    def short_text(self) -> str:
        return tenths_text(self.short_by)


@dataclass(frozen=True)
class Compliance:
    year: int
    short: list[HoursLine]  # who is short of their minimum, in department then name order (拼音)
    minimums: dict[str, int]  # grade → tenths
    counts: dict[str, tuple[int, int]]  # grade → (people of that grade 在岗, of them short)
    everyone: list[HoursLine] | None = None  # everyone of a grade, when asked for
    rule: str = RULE

    @property
    def listed(self) -> int:
        return sum(n for n, _short in self.counts.values())

    def summary(self) -> str:
        return f"应参训 {self.listed} 人,未达标 {len(self.short)} 人"


@dataclass(frozen=True)
class SignIn:
    """A row of a sign-in sheet (培训签到表) as read: the file's row number and what it says."""

    row: int
    name: str
    department: str = ""
    person_number: str = ""
    id_number: str = ""


@dataclass
class SignInResult:
    matched: list[tuple[int, int, str]]  # (row, person id, shown as 姓名(部门))
    refused: list[tuple[int, str]]  # (row, why)
    already: list[tuple[int, str]]  # (row, name): already an attendee of the session
    stored: int = 0


def _minimums_of(stored: Any) -> dict[str, int]:
    out = {g: int(h * 10) for g, h in MINIMUM_HOURS.items()}
    if isinstance(stored, Mapping):
        out.update({g: int(v) for g, v in stored.items() if g in out and isinstance(v, int)})
    return out


class TrainingService:
    def __init__(self, ledgers: LedgerService) -> None:
        self.ledgers = ledgers
        self.db, self.actor = ledgers.db, ledgers.actor

    # -- settings ------------------------------------------------------------------------

    def minimums(self) -> dict[str, int]:
        """Each grade's minimum hours a year, in tenths (the seed's 8/8/4 until the unit sets its own)."""
        with self.ledgers._read() as session:
            return _minimums_of(settings.read(session, SETTING))

    def set_minimums(self, hours: Mapping[str, Any]) -> dict[str, int]:
        """The security administrator's: each grade's minimum, in hours (4, 8, 1.5); audited."""
        require(self.actor, Role.SECURITY_ADMIN, doing="设置培训最低学时")
        new, errors = {}, {}
        for grade in GRADES:
            raw = hours.get(grade)
            try:
                value = Decimal(str(raw).strip())
                if not value.is_finite() or value < 0 or value > 1000 or value * 10 != int(value * 10):
                    raise InvalidOperation
                new[grade] = int(value * 10)
            except (InvalidOperation, ValueError):
                errors[grade] = f"“{raw}”不是有效的学时(0 到 1000,最多一位小数)"
        if errors:
            raise ValidationFailed(errors, {g: f"{g}涉密人员每年最低学时" for g in GRADES})
        with self.db.write() as session:
            old = _minimums_of(settings.read(session, SETTING))
            if old == new:
                return new
            now = self.ledgers.clock()
            settings.write(session, SETTING, new, self.actor.name, now)
            changed = {g: [tenths_text(old[g]), tenths_text(new[g])] for g in GRADES if old[g] != new[g]}
            audit.append(session, self.actor, "settings.change", SETTING_LABEL, {"changed": changed}, at=now)
        return new

    # -- sessions and attendees ------------------------------------------------------------

    def register(self, values: Mapping[str, Any], people: Iterable[int] = ()) -> RecordView:
        """登记 a session with its attendees (ids of the register's people), all or nothing."""
        ids = list(dict.fromkeys(people))
        with self.ledgers._write(f"登记{TRAININGS.noun}") as session:
            training_id = self.ledgers._create(session, TRAININGS, dict(values), None,
                                               audit_detail={"attendees": len(ids)})
            self._add(session, training_id, ids)
            self.ledgers._flush_or_explain(session)
            return self.ledgers._get_view(session, training_id)

    def add_attendees(self, training_id: int, people: Iterable[int]) -> int:
        """Add people to a session; those already attending are left as they are. How many were added."""
        ids = list(dict.fromkeys(people))
        with self.ledgers._write(f"登记{TRAINING_ATTENDANCES.noun}") as session:
            held = self._attendee_ids(session, training_id)
            added = self._add(session, training_id, [i for i in ids if i not in held])
            self.ledgers._flush_or_explain(session)
            return added

    def void(self, training_id: int, reason: str) -> None:
        """作废 a session entered by mistake with its attendees, together (a parent is voided
        only with its children: the ledger service refuses one alone)."""
        with self.ledgers._read() as session:
            t = table_of(TRAINING_ATTENDANCES)
            ids = list(session.scalars(select(t.c.id).where(t.c.parent_id == training_id, t.c.voided.is_(False))))
        self.ledgers.void_many([training_id, *ids], reason)

    def _add(self, session, training_id: int, person_ids: Sequence[int]) -> int:
        for pid in person_ids:
            self.ledgers._create(session, TRAINING_ATTENDANCES, {PERSON: Ref(pid)}, training_id)
        return len(person_ids)

    def _attendee_ids(self, session, training_id: int) -> set[int]:
        t = table_of(TRAINING_ATTENDANCES)
        return set(session.scalars(select(t.c[PERSON]).where(t.c.parent_id == training_id, t.c.voided.is_(False))))

    def attendees(self, training_id: int) -> list[dict[str, Any]]:
        """The session's attendees with their 人员编号, 姓名, 部门, in department and name order."""
        a, p = table_of(TRAINING_ATTENDANCES), table_of(PEOPLE)
        with self.ledgers._read() as session:
            rows = session.execute(
                select(p.c.id, p.c[PEOPLE.key_field], p.c.name, p.c.department, p.c.grade, a.c[OWN_HOURS])
                .join(a, a.c[PERSON] == p.c.id)
                .where(a.c.parent_id == training_id, a.c.voided.is_(False))
                .order_by(p.c.department__pinyin, p.c.name__pinyin, p.c.id))
            return [{"id": r[0], "number": r[1], "name": r[2], "department": r[3] or "", "grade": r[4] or "",
                     "own_tenths": r[5]} for r in rows]

    def people_to_choose(self) -> list[dict[str, Any]]:
        """The people in post to pick attendees from (人员编号, 姓名, 部门, 涉密等级), in department and
        name order: read once when the picker opens, then filtered in memory as the user types."""
        p = table_of(PEOPLE)
        with self.ledgers._read() as session:
            rows = session.execute(
                select(p.c.id, p.c[PEOPLE.key_field], p.c.name, p.c.department, p.c.grade)
                .where(p.c.voided.is_(False), p.c.status == PEOPLE.lifecycle.initial)
                .order_by(p.c[f"department{SORT_KEY_SUFFIX}"], p.c[f"name{SORT_KEY_SUFFIX}"], p.c.id))
            return [{"id": r[0], "number": r[1] or "", "name": r[2], "department": r[3] or "", "grade": r[4] or ""}
                    for r in rows]

    # -- hours against the minimum ------------------------------------------------------------

    def compliance(self, year: int, *, everyone: bool = False) -> Compliance:
        """Who of the 在岗 people of a grade is short of hours in ``year`` (see :func:`compliance_of`)."""
        with self.ledgers._read("查看培训学时") as session:
            return compliance_of(session, year, self.ledgers.clock().date(), everyone=everyone)

    def person_hours(self, person_id: int, year: int) -> list[dict[str, Any]]:
        """The sessions one person attended in ``year``, by date, with the hours each counted."""
        a, t = table_of(TRAINING_ATTENDANCES), table_of(TRAININGS)
        with self.ledgers._read() as session:
            rows = session.execute(
                select(t.c.id, t.c[DATE], t.c[SUBJECT], func.coalesce(a.c[OWN_HOURS], t.c[HOURS]))
                .join(a, and_(a.c.parent_id == t.c.id, a.c.voided.is_(False)))
                .where(a.c[PERSON] == person_id, t.c.voided.is_(False),
                       t.c[DATE] >= dt.date(year, 1, 1), t.c[DATE] <= dt.date(year, 12, 31))
                .order_by(t.c[DATE], t.c.id))
            return [{"training_id": r[0], "date": r[1], "subject": r[2], "tenths": int(r[3])} for r in rows]

    # -- a sign-in sheet ------------------------------------------------------------------------

    def sign_in(self, training_id: int, rows: Sequence[SignIn], *, dry_run: bool = False) -> SignInResult:
        """The people of a sign-in sheet added to a session. Each name is matched against the
        register: one person of that name; namesakes told apart by 人员编号, 身份证号 (its last
        four against 身份证号后四位) or 部门. A name not in the register, or namesakes the row does
        not tell apart, refuses the row with the reason; nobody is added to the register (an
        attendance counts towards a 涉密人员's hours: a misspelt name would add a stranger and
        leave the real person short). The good rows are stored together."""
        with self.ledgers._write(f"导入{TRAINING_ATTENDANCES.noun}") as session:
            located = RecordRepository(session).locate(training_id)
            if located is None or located.ledger != TRAININGS.key or located.voided:
                raise ServiceError("请选择一次培训,再导入它的签到表。")
            result = SignInResult([], [], [])
            people = self._people_named(session, {r.name for r in rows if r.name})
            held = self._attendee_ids(session, training_id)
            seen: dict[int, int] = {}
            for row in rows:
                why, person = _match(row, people.get(row.name, []))
                if person is None:
                    result.refused.append((row.row, why))
                elif person["id"] in seen:
                    result.refused.append((row.row, f"与第 {seen[person['id']]} 行是同一人"))
                elif person["id"] in held:
                    result.already.append((row.row, row.name))
                else:
                    seen[person["id"]] = row.row
                    shown = f"{person['name']}({person['department'] or person['number']})"
                    result.matched.append((row.row, person["id"], shown))
            if not dry_run and result.matched:
                self._add(session, training_id, [pid for _r, pid, _s in result.matched])
                self.ledgers._flush_or_explain(session)
                result.stored = len(result.matched)
            return result

    def _people_named(self, session, names: set[str]) -> dict[str, list[dict[str, Any]]]:
        p = table_of(PEOPLE)
        cols = [p.c.id, p.c[PEOPLE.key_field], p.c.name, p.c.department, p.c.status]
        extra = [c for c in ("id_tail", "id_number") if c in p.c]
        out: dict[str, list[dict[str, Any]]] = {}
        ordered = sorted(names)
        for start in range(0, len(ordered), 500):
            stmt = select(*cols, *[p.c[c] for c in extra]).where(p.c.name.in_(ordered[start:start + 500]),
                                                                  p.c.voided.is_(False))
            for r in session.execute(stmt):
                person = {"id": r[0], "number": r[1] or "", "name": r[2], "department": r[3] or "", "status": r[4],
                          **{c: (r[5 + i] or "") for i, c in enumerate(extra)}}
                out.setdefault(r[2], []).append(person)
        return out

    # -- paper ----------------------------------------------------------------------------------

    def print_compliance(self, compliance: Compliance, target: str | Path | BinaryIO, *, unit: str = "",
                         only_short: bool = True, printer: str = "", medium: str = "", record: bool = True) -> int:
        """学时未达标名单 (or the whole list) on A4 as PDF; returns its pages. Recorded as a print."""
        from mibao_desktop.printing.forms import render_form
        from mibao_desktop.printing.trainings import compliance_form

        return self._print(compliance_form(compliance, unit=unit, only_short=only_short), target,
                           f"保密教育培训学时{'未达标' if only_short else ''}名单({compliance.year}年)",
                           len(compliance.short if only_short else compliance.everyone or ()), printer, medium, record,
                           render_form)

    def print_sign_in(self, training_id: int, target: str | Path | BinaryIO, *, unit: str = "",
                      printer: str = "", medium: str = "", record: bool = True) -> int:
        """培训签到表 of one session, filled (unit, subject, date, hours, lecturer, a row per attendee
        with 姓名 and 部门, 签名 left blank); returns its pages."""
        from mibao_desktop.printing.forms import render_form
        from mibao_desktop.printing.trainings import sign_in_form

        training = self.ledgers.get(training_id)
        if training.ledger.key != TRAININGS.key:
            raise ServiceError("请选择一次培训。")
        people = self.attendees(training_id)
        form = sign_in_form({f.name: training.display(f.name) for f in TRAININGS.fields}, people, unit=unit)
        return self._print(form, target, f"培训签到表({training.display(SUBJECT)})", len(people), printer, medium,
                           record, render_form)

    def _print(self, form, target, what: str, count: int, printer: str, medium: str, record: bool, render) -> int:
        from mibao_desktop.services.output_service import check_target
        from mibao_desktop.services.print_service import _name, _written

        check_target(self.db, target)
        anchor = audit.current_anchor(self.db)
        with _written(target) as out:
            pages = render(out, form, anchor=anchor.label)
        if record:
            self.ledgers.record_output("ledger.print", TRAININGS, medium or _name(target), count,
                                       {"what": what, "pages": pages, "printer": printer, "anchor": str(anchor)})
        return pages


def compliance_of(session, year: int, today: dt.date | None = None, *, everyone: bool = False,
                  names: bool = True, most_short: int | None = None) -> Compliance:
    """Everyone of a grade who is 在岗 (the people lifecycle's initial status) against their
    grade's minimum in ``year``; read in the caller's snapshot (the annual report reads it with
    its other figures). A session entered ahead of its day counts from that day (``today``, by
    default the calendar's).

    Each person's hours are their row of ``training_hours`` (kept by the database's triggers with
    every write to the sessions and their attendees, revision 0026) less the year's sessions
    dated after ``today`` (entered ahead of their day: few, summed here). The comparison with the
    grade's minimum is made in SQL, so two reads return few rows: the people and the short of each
    grade counted, then (``names``) those listed (the short, unless ``everyone``) with their names
    and departments, put in 拼音 order by the stored sort keys. ``names`` False: the counts only
    (the annual report's figures). ``most_short``: only that many of the short, the most short
    first (the 首页 lists them; ordered and cut in SQL), and no counts. Summing the year from the attendances,
    then comparing 20,000 people in Python, took 310-440 ms CPU."""
    p, h = table_of(PEOPLE), TrainingHours.__table__
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today or dt.date.today())
    minimums = _minimums_of(settings.read(session, SETTING))
    source = p
    if end < start:  # a year not begun: nothing counts yet
        tenths, held = literal(0), literal(0)
    else:
        source = source.outerjoin(h, and_(h.c.person == p.c.id, h.c.year == year))
        tenths, held = func.coalesce(h.c.tenths, 0), func.coalesce(h.c.sessions, 0)
        if end < dt.date(year, 12, 31):
            a, t = table_of(TRAINING_ATTENDANCES), table_of(TRAININGS)
            ahead = (select(a.c[PERSON].label("person"), func.sum(func.coalesce(a.c[OWN_HOURS], t.c[HOURS]))
                            .label("tenths"), func.count().label("sessions"))
                     .join(t, t.c.id == a.c.parent_id)
                     .where(t.c[DATE] > end, t.c[DATE] <= dt.date(year, 12, 31), t.c.voided.is_(False),
                            a.c.voided.is_(False))
                     .group_by(a.c[PERSON]).subquery())
            source = source.outerjoin(ahead, ahead.c.person == p.c.id)
            tenths = tenths - func.coalesce(ahead.c.tenths, 0)
            held = held - func.coalesce(ahead.c.sessions, 0)
    short = tenths < case(minimums, value=p.c.grade)
    in_post = and_(p.c.grade.in_(list(minimums)), p.c.voided.is_(False), p.c.status == PEOPLE.lifecycle.initial)
    counts = {g: (0, 0) for g in minimums}
    for grade, n, n_short in (() if most_short is not None else session.execute(  # (the 首页 needs no counts)
            select(p.c.grade, func.count(), func.sum(case((short, 1), else_=0)))
            .select_from(source).where(in_post).group_by(p.c.grade))):
        counts[grade] = (int(n), int(n_short or 0))
    lines: list[HoursLine] = []
    if names:
        q = (select(p.c.id, p.c[PEOPLE.key_field], p.c.name, p.c.department, p.c.grade, tenths, held,
                    p.c[f"department{SORT_KEY_SUFFIX}"], p.c[f"name{SORT_KEY_SUFFIX}"])
             .select_from(source).where(in_post, *(() if everyone else (short,))))
        if most_short is not None:
            q = q.order_by((case(minimums, value=p.c.grade) - tenths).desc(), p.c[f"name{SORT_KEY_SUFFIX}"], p.c.id)
            rows = session.execute(q.limit(most_short)).all()
        else:
            rows = sorted(session.execute(q).all(), key=lambda r: (r[7] or "", r[8] or "", r[0]))
        lines = [HoursLine(r[0], r[1], r[2], r[3] or "", r[4], int(r[5]), minimums[r[4]], int(r[6])) for r in rows]
    return Compliance(year, [ln for ln in lines if ln.short_by > 0], minimums, counts, lines if everyone else None)


def _match(row: SignIn, namesakes: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """The one person a sign-in row names, or why not."""
    if not row.name:
        return "没有填写姓名", None
    if not namesakes:
        return f"人员名册中没有“{row.name}”,请核对姓名,或先在人员名册中登记此人", None
    found = namesakes
    if row.person_number:
        found = [p for p in found if p["number"].casefold() == row.person_number.casefold()]
        if not found:
            return f"人员名册中没有编号为 {row.person_number} 的“{row.name}”", None
    if row.id_number and len(found) > 1:
        tail = row.id_number[-4:].upper()
        by_id = [p for p in found if (p.get("id_number") or "").upper() == row.id_number.upper()
                 or (p.get("id_tail") or "").upper() == tail]
        found = by_id or found
    if row.department and len(found) > 1:
        found = [p for p in found if p["department"] == row.department] or found
    if len(found) > 1:
        listed = "、".join(f"{p['department'] or '未填部门'} {p['number']}" for p in found[:5])
        return f"人员名册中有 {len(found)} 个“{row.name}”({listed}),请在签到表中填写部门或人员编号以区分", None
    return "", found[0]
