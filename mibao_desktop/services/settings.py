"""The unit's settings (设置): read by everyone who needs them, changed only by the role whose
job they are, every change audited."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from sqlalchemy import bindparam, func, select

from mibao_desktop.db.models import FacetCount, Setting
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import levels, people
from mibao_desktop.ledgers.fields import Level
from mibao_desktop.ledgers.normalize import FieldError, clean_text
from mibao_desktop.security.inputs import unreadable
from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit
from mibao_desktop.errors import ValidationFailed

SECURITY_POLICY = "security_policy"
UNIT_NAME = "unit_name"  # 单位名称: on every form, label sheet and export; asked at the first start
UNIT_NAME_MAX = 60  # 中国航天科工集团第二研究院七〇六所保密办公室 is 22


def clean_unit_name(text: str) -> str:
    """The unit's name as it will be printed, or a refusal in Chinese (never cut short)."""
    why = unreadable(text or "")
    if why:
        raise ValidationFailed({UNIT_NAME: why}, {UNIT_NAME: "单位名称"})
    name = clean_text(text or "")
    if len(name) > UNIT_NAME_MAX:
        raise ValidationFailed({UNIT_NAME: f"最多 {UNIT_NAME_MAX} 个字,现有 {len(name)} 个字"}, {UNIT_NAME: "单位名称"})
    return name


def read(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def write(session: Session, key: str, value: Any, by: str, at: dt.datetime) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=at, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = value, at, by


def security_policy(session: Session) -> SecurityPolicy:
    return SecurityPolicy.from_dict(read(session, SECURITY_POLICY))


UNIT_LEVELS_LABEL = "本单位密级"


def unit_levels(session: Session) -> levels.UnitLevels:
    return levels.UnitLevels.from_stored(read(session, levels.SETTING))


def _still_held(session: Session, new: levels.UnitLevels) -> list[str]:
    """The levels records hold that ``new`` would no longer let their ledger hold (a level
    taken away, or no longer 涉密 where a ledger of classified items holds it), with counts."""
    from mibao_desktop.ledgers import REGISTRY

    out = []
    for ledger in REGISTRY:
        # every level a record holds, not only its register's 密级: a person's 岗位密级 too
        for field in (f for f in ledger.fields if isinstance(f.type, Level)):
            allowed = new.accepted(field.type.declared)
            if field.facet:
                rows = session.execute(select(FacetCount.value, FacetCount.count).where(
                    FacetCount.ledger == ledger.key, FacetCount.field == field.name, FacetCount.count > 0))
            else:
                t = table_of(ledger)
                rows = session.execute(select(t.c[field.name], func.count()).where(
                    t.c.voided.is_(False), t.c[field.name].is_not(None)).group_by(t.c[field.name]))
            said = "" if field is ledger.level_field else f"的{field.label}"
            out.extend(f"{ledger.title}有 {n} 条记录{said}为“{value}”" for value, n in rows if value not in allowed)
    return out


class SettingsService:
    def __init__(self, db: Database, actor: Actor, *, clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.clock = db, actor, clock
        # Told the new policy once it is saved (the desktop's idle lock takes its new time at
        # once, not at the next login).
        self.policy_listeners: list[Callable[[SecurityPolicy], None]] = []

    def security_policy(self) -> SecurityPolicy:
        with self.db.session() as session:
            return security_policy(session)

    def set_security_policy(self, policy: SecurityPolicy) -> SecurityPolicy:
        """口令策略、锁定、自动锁屏与备份保留: the security administrator's settings."""
        require(self.actor, Role.SECURITY_ADMIN, doing="修改安全策略")
        problems = policy.problems()
        if problems:
            raise ValidationFailed(problems, dict(SecurityPolicy.LABELS))
        with self.db.write() as session:
            old = security_policy(session)
            now = self.clock()
            write(session, SECURITY_POLICY, policy.as_dict(), self.actor.name, now)
            changed = {SecurityPolicy.LABELS[k]: [old.as_dict()[k], v] for k, v in policy.as_dict().items()
                       if old.as_dict()[k] != v}
            audit.append(session, self.actor, "settings.change", "安全策略", {"changed": changed}, at=now)
        for listener in list(self.policy_listeners):
            listener(policy)
        return policy

    def unit_levels(self) -> levels.UnitLevels:
        with self.db.session() as session:
            return unit_levels(session)

    def set_unit_levels(self, order, classified=()) -> levels.UnitLevels:
        """本单位密级: the levels the unit uses beyond the three (涉密专用, 内部), each ranked where
        the security administrator puts it in ``order`` (highest first, the built-in levels
        among them), ``classified`` those managed as 涉密. A level records still hold may not
        be taken away (nor stop being 涉密 where a ledger of classified items holds it): they
        would hold a level their ledger no longer knows."""
        require(self.actor, Role.SECURITY_ADMIN, doing="设置本单位密级")
        try:
            new = levels.make(order, classified)
        except FieldError as exc:
            raise ValidationFailed({levels.SETTING: str(exc)}, {levels.SETTING: UNIT_LEVELS_LABEL}) from None
        with self.db.write() as session:
            old = unit_levels(session)
            held = _still_held(session, new)
            if held:
                raise ValidationFailed({levels.SETTING: "、".join(held) + ",请先修改这些记录的密级"},
                                       {levels.SETTING: UNIT_LEVELS_LABEL})
            if new == old:
                return new
            now = self.clock()
            write(session, levels.SETTING, new.as_stored(), self.actor.name, now)
            said = {"顺序": ["、".join(old.order), "、".join(new.order)],
                    "按涉密管理": ["、".join(sorted(old.classified)), "、".join(sorted(new.classified))]}
            audit.append(session, self.actor, "settings.change", UNIT_LEVELS_LABEL,
                         {"changed": {k: v for k, v in said.items() if v[0] != v[1]}}, at=now)
        levels.use(new)
        return new

    def with_level(self, name: str, below: str, *, classified: bool = False,
                   base: levels.UnitLevels | None = None) -> levels.UnitLevels:
        """The unit's levels (or ``base``) with one of its own added just under ``below``
        (涉密专用 under 秘密), not saved: what an import's preview reads with (``mibao import
        --own-level --dry-run``)."""
        current = base or self.unit_levels()
        try:
            own, under = levels.own_name(name), levels.normalise_level(below, current.order[:-1])
            if own in current.order:
                return current
            order = list(current.order)
            order.insert(order.index(under) + 1, own)
            return levels.make(order, {*current.classified, *([own] if classified else [])})
        except FieldError as exc:
            raise ValidationFailed({levels.SETTING: str(exc)}, {levels.SETTING: UNIT_LEVELS_LABEL}) from None

    def add_unit_level(self, name: str, below: str, *, classified: bool = False) -> levels.UnitLevels:
        """One level of the unit's own, ranked just under ``below``, saved: what an import offers
        for a level word the unit has not set yet."""
        made = self.with_level(name, below, classified=classified)
        return self.set_unit_levels(made.order, made.classified)

    # -- 复审周期 (issue 14): how often each grade of 涉密人员 is reviewed again --------------------

    def review_intervals(self) -> dict[str, int]:
        with self.db.session() as session:
            return review_intervals(session)

    def set_review_intervals(self, years: Mapping[str, Any]) -> dict[str, int]:
        """复审周期 by grade, in whole years (1 to 10; a grade not named keeps its interval).
        Saving recomputes every person's stored 下次复审日期 of a grade whose interval changed,
        in the same transaction: the date is stored so that who is due is an index range, and
        it must never disagree with the setting (ledgers/people.py says why it is stored)."""
        require(self.actor, Role.SECURITY_ADMIN, doing="修改复审周期")
        labels = {grade: f"{grade}涉密人员复审周期" for grade in people.GRADES}
        errors = {}
        for grade, value in years.items():
            if grade not in people.GRADES:
                errors[grade] = f"“{grade}”不是涉密等级,应为:{'、'.join(people.GRADES)}"
            elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= people.REVIEW_YEARS_MAX:
                errors[grade] = f"应为 1 到 {people.REVIEW_YEARS_MAX} 年的整数"
        if errors:
            raise ValidationFailed(errors, labels)
        with self.db.write() as session:
            old = review_intervals(session)
            new = {**old, **years}
            if new == old:
                return new
            now = self.clock()
            write(session, people.REVIEW_SETTING, new, self.actor.name, now)
            changed = [g for g in people.GRADES if new[g] != old[g]]
            moved = _recompute_reviews(session, changed, new)
            audit.append(session, self.actor, "settings.change", "复审周期",
                         {"changed": {labels[g]: [f"{old[g]} 年", f"{new[g]} 年"] for g in changed},
                          "下次复审日期重算": moved}, at=now)
        people.use_review_intervals(new)
        return new


def review_intervals(session: Session) -> dict[str, int]:
    return people.review_intervals(read(session, people.REVIEW_SETTING) or {})


def _recompute_reviews(session: Session, grades: list[str], years: Mapping[str, int]) -> int:
    """Every person of ``grades`` gets 下次复审日期 anew from the new intervals; how many moved.
    Read and written in batches by id (bench/bench_review_intervals.py, 20,000 staff on SQLite,
    a loaded machine: 270 ms for one grade's 5,000 people, 1.0 s for all three grades)."""
    if not grades:
        return 0
    t = table_of(people.PEOPLE)
    moved = 0
    rows = session.execute(select(t.c.id, t.c.grade, t.c.last_review, t.c.vetted_on, t.c.next_review, t.c.status)
                           .where(t.c.grade.in_(grades)).order_by(t.c.id)).all()
    updates = []
    for row in rows:
        due = people.next_review({"grade": row.grade, "last_review": row.last_review, "vetted_on": row.vetted_on,
                                  "status": row.status}, years)
        if due != row.next_review:
            updates.append({"rid": row.id, "due": due})
    for start in range(0, len(updates), 500):
        session.execute(t.update().where(t.c.id == bindparam("rid")).values(next_review=bindparam("due")),
                        updates[start:start + 500])
        moved += len(updates[start:start + 500])
    return moved

