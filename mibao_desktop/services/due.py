"""What is due (首页): every reminder is one declared :class:`Rule` — what it looks at, whose job
it is, its thresholds (settings with defaults, changed by that role, audited) — and the list is
every rule's items for the person logged in, grouped 已逾期 / 7 日内 / 30 日内, most urgent
first. Qt-free; the rules themselves are declared in ``services/reminders.py``.

A rule reads in the one snapshot the list is read in (:class:`DueContext` carries the session,
the day and the thresholds) and gives :class:`DueItem`\\ s: a due date, the reason in one line,
the record it opens (or the place: 备份, 校验审计日志 …) and the action that settles it. The day
is the service's clock (injected in the tests; ``mibao due --as-of`` sees a day ahead), never
``date.today()`` inside a rule.

A rule that fails (a table of a newer revision missing, a bug) does not take the page down: its
failure is listed by its title and the other rules' items are shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from itertools import islice
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from mibao_desktop.db.database import Database
from mibao_desktop.errors import ValidationFailed
from mibao_desktop.security import Actor, Role, require
from mibao_desktop.services import audit, settings

log = logging.getLogger(__name__)

SETTING = "due_thresholds"  # {rule key: {threshold name: value}}: only what differs from the defaults
HORIZON_DAYS = 30  # the page lists what is due within a month (30 日内) and everything overdue
SOON_DAYS = 7
OVERDUE, WITHIN_7, WITHIN_30 = "已逾期", "7 日内", "30 日内"
GROUPS = (OVERDUE, WITHIN_7, WITHIN_30)
PER_RULE = 2000  # items a rule lists at most: past that the unit has a crisis, not a reminder
FIRST_SCREEN = 200  # the 首页's items of a rule: the most urgent, then a line saying there are more


@dataclass(frozen=True)
class Threshold:
    """A number a rule is tuned by (天, 学时 …): a setting with its default and bounds."""

    name: str
    label: str
    default: int
    minimum: int = 1
    maximum: int = 365
    unit: str = "天"


@dataclass(frozen=True)
class Opens:
    """What an item opens: a record of a ledger (``ledger``, ``record_id``), or a place of the
    application (``place``: one of :data:`PLACES`)."""

    ledger: str | None = None
    record_id: int | None = None
    place: str | None = None
    choice: str = ""  # what the place opens on (载体核对: 月核对, 季检查 or 年终清退归档)


# The places an item may open beside a record, with their names on screen.
PLACES = {
    "carrier_check": "载体核对", "backup": "备份", "audit_verify": "校验审计日志", "password": "修改口令",
    "accounts": "账户管理", "training": "培训学时",
}


@dataclass(frozen=True)
class DueItem:
    rule: str  # the rule's key
    area: str  # 载体, 人员, 设备和介质, 定密, 系统
    due: dt.date
    subject: str  # what it is about: a number, a name (shown in its own column)
    reason: str  # one line, in Chinese
    action: str  # what settles it (归还, 复审, 备份 …)
    opens: Opens = Opens()
    rank: int = 0  # among a rule's items due the same day, the rule's own order (the most short of hours first)

    def days(self, today: dt.date) -> int:
        return (self.due - today).days

    def group(self, today: dt.date) -> str:
        days = self.days(today)
        return OVERDUE if days < 0 else WITHIN_7 if days <= SOON_DAYS else WITHIN_30

    def days_text(self, today: dt.date) -> str:
        days = self.days(today)
        return f"逾期 {-days} 天" if days < 0 else "今日到期" if days == 0 else f"剩余 {days} 天"

    def line(self, today: dt.date) -> str:
        """One line of ``mibao due``: group, date, days, subject, reason, action."""
        return (f"{self.group(today)}\t{self.due.isoformat()}\t{self.days_text(today)}\t{self.area}\t"
                f"{self.subject}\t{self.reason}\t办理:{self.action}")


@dataclass
class DueContext:
    """What a rule reads with: the snapshot, the day, its thresholds, the person and data folder."""

    session: Any
    today: dt.date
    now: dt.datetime
    actor: Actor
    db: Database
    data_dir: Path | None
    values: Mapping[str, int] = field(default_factory=dict)
    limit: int = PER_RULE  # rows a rule reads at most (one more than it lists, to know of more)

    @property
    def horizon(self) -> dt.date:
        return self.today + dt.timedelta(days=HORIZON_DAYS)

    def __getitem__(self, name: str) -> int:
        return self.values[name]


@dataclass(frozen=True)
class Rule:
    key: str
    area: str
    title: str  # shown where thresholds are set and when the rule fails
    roles: tuple[Role, ...]  # who sees its items; the first sets its thresholds
    read: Callable[[DueContext], Iterable[DueItem]]
    thresholds: tuple[Threshold, ...] = ()
    cite: str = ""  # the rule of the seeds it reminds of

    @property
    def owner(self) -> Role:
        return self.roles[0]

    def threshold(self, name: str) -> Threshold:
        return next(t for t in self.thresholds if t.name == name)


@dataclass(frozen=True)
class DueList:
    today: dt.date
    items: tuple[DueItem, ...]  # most urgent first
    failed: tuple[str, ...] = ()  # the titles of rules that could not be read

    def group(self, name: str) -> list[DueItem]:
        return [i for i in self.items if i.group(self.today) == name]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(GROUPS, 0)
        for item in self.items:
            out[item.group(self.today)] += 1
        return out

    def summary(self) -> str:
        counts = self.counts()
        if not self.items:
            return f"截至 {self.today.isoformat()},没有已逾期或 30 日内到期的事项。"
        return f"截至 {self.today.isoformat()}:" + ",".join(f"{g} {n} 项" for g, n in counts.items())


LAST = 1 << 30  # the rank of a rule's "另有…未列出" line: after the rule's items of its day, whatever they are called


def order(items: Iterable[DueItem], rules: Sequence[Rule]) -> list[DueItem]:
    """Most urgent first: the earliest due date, then the rules' declared order, then each rule's own."""
    rank = {r.key: n for n, r in enumerate(rules)}
    return sorted(items, key=lambda i: (i.due, rank.get(i.rule, 99), i.rank, i.subject))


class DueService:
    def __init__(self, db: Database, actor: Actor, rules: Sequence[Rule], *, data_dir: Path | None = None,
                 clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.db, self.actor, self.rules, self.data_dir, self.clock = db, actor, tuple(rules), data_dir, clock

    def rules_for(self, role: Role | None = None) -> tuple[Rule, ...]:
        role = role or self.actor.role
        return tuple(r for r in self.rules if role in r.roles)

    def rule(self, key: str) -> Rule:
        for r in self.rules:
            if r.key == key:
                return r
        raise KeyError(key)

    # -- thresholds ----------------------------------------------------------------------------

    def thresholds(self) -> dict[str, dict[str, int]]:
        """Every rule's thresholds as they are now (the defaults where none was set)."""
        with self.db.session() as session:
            return _values(settings.read(session, SETTING) or {}, self.rules)

    def set_threshold(self, rule_key: str, name: str, value: Any) -> int:
        """Change one threshold: the rule's owner only, within its bounds, audited."""
        rule = self.rule(rule_key)
        t = rule.threshold(name)
        require(self.actor, rule.owner, doing=f"设置提醒“{rule.title}”")
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not t.minimum <= number <= t.maximum:
            raise ValidationFailed({name: f"请填写 {t.minimum}–{t.maximum} 之间的整数({t.unit})"}, {name: t.label})
        with self.db.write() as session:
            stored = dict(settings.read(session, SETTING) or {})
            old = _values(stored, self.rules)[rule.key][name]
            mine = dict(stored.get(rule.key) or {})
            mine[name] = number
            stored[rule.key] = mine
            now = self.clock()
            settings.write(session, SETTING, stored, self.actor.name, now)
            audit.append(session, self.actor, "settings.change", f"提醒:{rule.title}",
                         {"changed": {t.label: [old, number]}}, at=now)
        return number

    # -- the list ------------------------------------------------------------------------------

    def due(self, as_of: dt.date | None = None, *, per_rule: int = PER_RULE) -> DueList:
        """Every item of the rules of the person's role, as seen on ``as_of`` (today); at most
        ``per_rule`` of a rule (its most urgent), then one line saying how it goes on."""
        require(self.actor, *{r for rule in self.rules for r in rule.roles}, doing="查看到期事项")
        now = self.clock()
        today = as_of or now.date()
        if as_of is not None:
            now = dt.datetime.combine(as_of, now.time())
        rules = self.rules_for()
        items: list[DueItem] = []
        failed: list[str] = []
        with self.db.session() as session:
            values = _values(settings.read(session, SETTING) or {}, rules)
            for rule in rules:
                ctx = DueContext(session, today, now, self.actor, self.db, self.data_dir, values[rule.key],
                                 limit=per_rule + 1)
                try:
                    # no more than PER_RULE of a rule (each reads in its due order, most urgent first)
                    found = list(islice((i for i in rule.read(ctx) if i.due <= ctx.horizon), per_rule + 1))
                except Exception:  # noqa: BLE001 - one rule's failure must not hide the others'
                    log.exception("reminder %s failed", rule.key)
                    session.rollback()
                    failed.append(rule.title)
                    continue
                if len(found) > per_rule:  # said, never silently cut
                    last = found[per_rule - 1]
                    found = found[:per_rule] + [DueItem(
                        rule.key, rule.area, last.due, f"{rule.title}……",
                        f"另有{rule.title}未列出(每类列出最紧急的 {per_rule} 项),请在相应台账中查看或用 mibao due 列出全部",
                        "在台账中查看", rank=LAST)]
                items.extend(found)
        return DueList(today, tuple(order(items, rules)), tuple(failed))


def _values(stored: Mapping[str, Any], rules: Sequence[Rule]) -> dict[str, dict[str, int]]:
    out = {}
    for rule in rules:
        mine = stored.get(rule.key) or {}
        out[rule.key] = {t.name: int(mine.get(t.name, t.default)) for t in rule.thresholds}
    return out


__all__ = ["DueContext", "DueItem", "DueList", "DueService", "GROUPS", "Opens", "PLACES", "Rule", "Threshold"]
