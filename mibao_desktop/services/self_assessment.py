"""The yearly 自查自评 (issue 15 item 3): the figures MiBao can fill for each area seed 002
names, read in the annual report's snapshot. Each area is a list of (item, figure) lines; the
areas only people can judge (保密制度, 场所, 会议, 涉外 mostly) get few or none, and the sheet
(excel/self_assessment.py) leaves ruled space for 自评情况 / 存在问题 / 整改措施 under every area.

The figures come from what the report already read (annual_figures, the carriers' year,
training compliance) plus a few counts of the year's events: 解密审查 recorded, stocktakes and
carrier checks closed, devices registered this year without a printed label (the first
screen's rule, services/reminders.unlabelled, over the whole year)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from mibao_desktop.db.models import RecordEvent, Stocktake
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers.carriers import CARRIER_COPIES
from mibao_desktop.ledgers.fields import Date
from mibao_desktop.ledgers.major_events import MAJOR_EVENT_REPORTS
from mibao_desktop.ledgers.people import GRADES
from mibao_desktop.services.annual_figures import NO_LEVEL, LedgerFigures
from mibao_desktop.services.reminders import DEVICES, REVIEW_EVENT, RULES, _unlabelled

AREAS = ("保密制度", "定密", "涉密人员", "载体", "信息系统和设备", "场所", "会议", "涉外", "检查", "泄密事件")
JUDGED = ("自评情况", "存在问题", "整改措施")  # what only people can write, under every area
CARRIER_CHECKS = CARRIER_COPIES.key  # the stocktakings that are the carriers' checks (月核对 …)


@dataclass
class Area:
    name: str
    lines: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Assessment:
    year: int
    areas: list[Area]

    def area(self, name: str) -> Area:
        return next(a for a in self.areas if a.name == name)

    def figure(self, area: str, item: str) -> Any:
        return dict(self.area(area).lines)[item]


def _by(figures: LedgerFigures, *, statuses: bool = False) -> str:
    """在管 12(机密 3、秘密 9) … : the records now, by 密级 (or 涉密等级) or by status."""
    counts: dict[str, int] = {}
    for (level, status), n in figures.by_status.items():
        key = status if statuses else (level if level != NO_LEVEL else "未填")
        counts[key] = counts.get(key, 0) + n
    order = list(figures.ledger.lifecycle.statuses) if statuses else [*figures.levels, "未填"]
    shown = [f"{k} {counts[k]}" for k in order if counts.get(k)]
    return f"{sum(counts.values())}(" + "、".join(shown) + ")" if shown else "0"


def major_events_in_year(session, year: int) -> int:
    """重大事项报告 made in the year (by 报告日期, the declaration's one date), not voided."""
    ledger = MAJOR_EVENT_REPORTS
    day = next(f.name for f in ledger.fields if isinstance(f.type, Date))
    t = table_of(ledger)
    return session.scalar(select(func.count()).select_from(t).where(
        t.c[day] >= dt.date(year, 1, 1), t.c[day] <= dt.date(year, 12, 31), t.c.voided.is_(False))) or 0


def _grades(compliance: Any) -> str:
    """在岗 people by 涉密等级, as the training compliance counted them: 12(核心 2、重要 4、一般 6)."""
    shown = [f"{grade} {compliance.counts[grade][0]}" for grade in GRADES if compliance.counts.get(grade, (0,))[0]]
    return f"{compliance.listed}(" + "、".join(shown) + ")" if shown else "0"


def _year_events(session, action: str, ledger_keys, start: dt.datetime, end: dt.datetime) -> int:
    return session.scalar(select(func.count()).select_from(RecordEvent).where(
        RecordEvent.action == action, RecordEvent.ledger.in_(list(ledger_keys)),
        RecordEvent.at >= start, RecordEvent.at < end)) or 0


def unlabelled_in_year(session, start: dt.datetime, end: dt.datetime) -> int:
    """Classified devices and media registered (not imported) in the year, not closed, whose
    level label was never printed: the first screen's rule over the year instead of its window."""
    total = 0
    for ledger in DEVICES:
        if ledger.level_field is None:
            continue
        total += session.scalar(select(func.count()).select_from(_unlabelled(ledger, start, end).subquery())) or 0
    return total


# The first screen's rules whose count belongs on the self-assessment, by area: what is overdue
# and due within 30 days on the day the report is made (services/reminders.py declares them)
DUE_LINES = {
    "定密": ("declassification",),
    "涉密人员": ("reviews_due", "decommission_ending", "documents_out", "trips_unbriefed", "trips_unreported"),
    "载体": ("missing_copies", "carrier_loans"),
    "信息系统和设备": ("devices_away", "devices_in_repair", "devices_of_leavers"),
}
DUE_LIMIT = 100_000  # a rule reads at most this many: past it the figure says 以上


def due_counts(session, actor: Any, db: Any, today: dt.date) -> dict[str, str]:
    """Each rule of DUE_LINES as the first screen sees it on ``today``: 已逾期 n,30 日内 m."""
    from mibao_desktop.services import settings
    from mibao_desktop.services.due import SETTING, DueContext, _values
    rules = [r for r in RULES if any(r.key in keys for keys in DUE_LINES.values())]
    values = _values(settings.read(session, SETTING) or {}, rules)
    now = dt.datetime.combine(today, dt.datetime.now().time())
    out = {}
    for rule in rules:
        ctx = DueContext(session, today, now, actor, db, None, values[rule.key], limit=DUE_LIMIT)
        overdue = soon = 0
        for item in rule.read(ctx):
            if item.due < today:
                overdue += 1
            elif item.due <= ctx.horizon:
                soon += 1
        more = "以上" if overdue + soon >= DUE_LIMIT else ""
        out[rule.key] = f"已逾期 {overdue},30 日内 {soon}{more}"
    return out


def self_assessment(session, year: int, figures: list[LedgerFigures], carriers_year: Any,
                    compliance: Any, *, due: dict[str, str] | None = None) -> Assessment:
    """The areas' figures, in the caller's snapshot (``session``); ``due``: the first screen's
    counts (:func:`due_counts`) added to their areas."""
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    of = {f.ledger.key: f for f in figures}
    areas = {name: Area(name) for name in AREAS}

    def now(key: str, **kw) -> str:
        return _by(of[key], **kw) if key in of else "—"

    def year_sum(key: str, kind: str) -> int:
        f = of.get(key)
        if f is None:
            return 0
        return sum((f.added or {}).values()) if kind == "added" else sum(f.voided.values())

    def moved(key: str, status: str) -> int:
        f = of.get(key)
        return sum(n for (_lv, st), n in f.moved.items() if st == status) if f else 0

    def status_now(key: str, status: str) -> int:
        f = of.get(key)
        return sum(n for (_lv, st), n in f.by_status.items() if st == status) if f else 0

    cy = lambda k: carriers_year.value(k, None)  # noqa: E731  the 合计 row of the carriers' year
    areas["定密"].lines += [
        ("国家秘密载体(在册,按密级)", now("carriers")),
        ("本年制作国家秘密载体(件)", cy("made")),
        ("本年解密审查(件次)", _year_events(session, REVIEW_EVENT, ["carriers"], start, end)),
    ]
    areas["涉密人员"].lines += [
        ("在岗涉密人员(按涉密等级)", _grades(compliance)),
        ("涉密人员(按状态)", now("people", statuses=True)),
        ("在脱密期人员", status_now("people", "脱密期")),
        ("保密教育培训应参训(人)", compliance.listed),
        ("培训学时未达标(人)", len(compliance.short)),
        ("本年举办保密教育培训(次)", year_sum("trainings", "added")),
        ("本年重大事项报告(件)", major_events_in_year(session, year)),
    ]
    areas["载体"].lines += [
        ("本年接收(件)", cy("received")), ("本年制作(份)", cy("made_copies")), ("本年复制(份)", cy("copied")),
        ("本年销毁(份)", cy("destroy")), ("本年下落不明(份)", cy("missing")),
        ("本年载体核对(次,已完成)", session.scalar(select(func.count()).select_from(Stocktake).where(
            Stocktake.ledger == CARRIER_CHECKS, Stocktake.closed_at >= start, Stocktake.closed_at < end)) or 0),
    ]
    for ledger in DEVICES:
        if ledger.key in of:
            areas["信息系统和设备"].lines.append((f"{ledger.title.removesuffix('台账')}(在册,按状态)",
                                                 now(ledger.key, statuses=True)))
    areas["信息系统和设备"].lines.append(("本年新增涉密设备和介质未打印密级标识(台)", unlabelled_in_year(session, start, end)))
    areas["涉外"].lines += [
        ("出国(境)登记(在册,按状态)", now("trips", statuses=True)),
        ("因私出入境证件(在册,按状态)", now("exit_documents", statuses=True)),
    ]
    stocktakes = session.execute(select(Stocktake.ledger, func.count()).where(
        Stocktake.closed_at >= start, Stocktake.closed_at < end).group_by(Stocktake.ledger)).all()
    areas["检查"].lines += [
        ("本年盘点(次,已完成)", sum(n for ledger, n in stocktakes if ledger != CARRIER_CHECKS)),
        ("本年载体核对(次,已完成)", dict(areas["载体"].lines)["本年载体核对(次,已完成)"]),
    ]
    areas["泄密事件"].lines += [
        ("泄密事件(在册,按密级)", now("leak_events")),
        ("泄密事件(按状态)", now("leak_events", statuses=True)),
        ("本年登记泄密事件(起)", year_sum("leak_events", "added")),
        ("本年结案(起)", moved("leak_events", "已结案")),
    ]
    titles = {r.key: r.title for r in RULES}
    for area, keys in DUE_LINES.items():
        for key in keys:
            if due and key in due:
                areas[area].lines.append((f"{titles[key]}(截至制表日)", due[key]))
    return Assessment(year, [areas[name] for name in AREAS])
