"""The reminders of the first screen (首页), one declared :class:`~services.due.Rule` each, in the
order the page lists items due the same day. Qt-free.

Why one module rather than each rule beside its ledger: a rule reads SQL, and ``ledgers/`` may
import no ``db`` (docs/ARCHITECTURE.md's layers); the services of each ledger (carrier_watch,
travel, departure …) are being changed by others as these rules are written, so the rules call
what those services expose (their queries and constants) instead of adding to them. Each rule
is an index range or a handful of rows: the first screen is computed at each login.

Whose job: the 安全保密管理员 keeps the ledgers and makes the backups (BackupService.make), so the
ledger rules and the backup are theirs; the 安全审计员's is the audit log's verification; the
系统管理员 resets passwords, so theirs is every account's password age — and each person sees
their own password's age whatever their role.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator

from sqlalchemy import and_, exists, func, select

from mibao_desktop.db.models import Account, AuditEntry, FieldChange, RecordEvent, Stocktake
from mibao_desktop.db.schema import LABEL_PRINTED, table_of
from mibao_desktop.ledgers import REGISTRY, carriers, decommission, leak_events, levels
from mibao_desktop.ledgers import exit_documents as X
from mibao_desktop.ledgers import trips as T
from mibao_desktop.ledgers.declaration import (DECOMMISSIONING, DEVICE_LIFECYCLE, LOAN_FACTS, MEDIA_LIFECYCLE,
                                               TAKEOUT_FACTS)
from mibao_desktop.ledgers.people import GRADES, PEOPLE
from mibao_desktop.security import Role
from mibao_desktop.services import carrier_checks, carrier_watch, settings
from mibao_desktop.services.due import DueContext, DueItem, Opens, Rule, Threshold
from mibao_desktop.services.print_service import LABEL_EVENT

SA, AUDITOR, SYSADMIN = Role.SECURITY_ADMIN, Role.AUDITOR, Role.SYSTEM_ADMIN
COPIES, CARRIERS, LEAKS = carriers.CARRIER_COPIES, carriers.CARRIERS, leak_events.LEAK_EVENTS
DEVICES = tuple(l for l in REGISTRY if l.lifecycle in (DEVICE_LIFECYCLE, MEDIA_LIFECYCLE))
AWAY = "外出"
LENT = "借出"
REPAIR = "维修"
RETURN_BY = TAKEOUT_FACTS[-1].name  # 预计返回日期
DUE_BACK = LOAN_FACTS[-1].name  # 应还日期
LIMIT = 2000
REVIEW_EVENT = "review"  # a carrier's 解密审查 in its history (services/declassification.py)
VERIFIED_SETTING = "audit_last_verified"  # written by AuditService.verify
SYSTEM_LEAD = 2  # a backup or verification is listed from two days before it is due, not all week


def _copy(item_id: int) -> Opens:
    return Opens(COPIES.key, item_id)


# -- 载体 -----------------------------------------------------------------------------------------

def missing_copies(ctx: DueContext) -> Iterator[DueItem]:
    for c in carrier_watch._due_copies(ctx.session.execute(carrier_watch.missing_query(LIMIT)).all(), ctx.today,
                                       by_clock=True):
        if c.leak_event or c.due is None:
            continue  # already a leak event: its report deadline is listed by the next rule
        days_missing = (ctx.today - c.since).days + 1 if c.since else None
        limit = leak_events.SEARCH_DAYS.get(c.level or "")
        yield DueItem("missing_copies", "载体", c.due, c.copy_text,
                      f"{c.level or ''}{c.title} 下落不明第 {days_missing} 天(限 {limit} 日内查找),期满未找到即按泄密事件处理",
                      "找到 或 按泄密事件处理", _copy(c.copy_id))


def leak_reports(ctx: DueContext) -> Iterator[DueItem]:
    rows = ctx.session.execute(carrier_watch.open_leaks_query(LIMIT)).mappings().all()
    for leak in (carrier_watch._open_leak(r) for r in rows):
        if leak.reported:
            continue
        how = "重大泄密事件,须立即报告" if leak.major else \
            f"须于 {leak.report_by:%Y-%m-%d %H:%M} 前报告({leak.deadline_text(ctx.now)})"
        yield DueItem("leak_reports", "载体", leak.report_by.date(), leak.number, f"{leak.item}:{how}",
                      "报告泄密事件", Opens(LEAKS.key, leak.event_id))


def carrier_loans(ctx: DueContext) -> Iterator[DueItem]:
    rows = ctx.session.execute(carrier_watch.loans_query(ctx.horizon, ctx.limit)).all()
    for c in carrier_watch._due_copies(rows, ctx.today, by_clock=False):
        yield DueItem("carrier_loans", "载体", c.due, c.copy_text,
                      f"{c.title} 借出({c.holder}),应归还日期 {c.due.isoformat()}", "归还", _copy(c.copy_id))


def _period_end(kind: str, today: dt.date) -> dt.date:
    if kind == carrier_checks.MONTHLY:
        first_next = dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)
        return first_next - dt.timedelta(days=1)
    if kind == carrier_checks.QUARTERLY:
        q_end_month = ((today.month - 1) // 3 + 1) * 3
        return dt.date(today.year + q_end_month // 12, q_end_month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(today.year, 12, 31)


def carrier_check_due(ctx: DueContext) -> Iterator[DueItem]:
    """This period's 月核对, 季检查 and 年终清退归档, until one of each is completed (any scope:
    a unit checks department by department, and any completed check shows the period begun)."""
    if not ctx.session.execute(select(table_of(CARRIERS).c.id).limit(1)).first():
        return  # a unit with no carriers has nothing to check
    for kind in carrier_checks.KINDS:
        period = carrier_checks.current_period(kind, ctx.today)
        done = ctx.session.execute(select(Stocktake.id).where(
            Stocktake.ledger == COPIES.key, Stocktake.kind == kind, Stocktake.period == period,
            Stocktake.closed_at.is_not(None)).limit(1)).first()
        if done is None:
            yield DueItem("carrier_checks", "载体", _period_end(kind, ctx.today), period,
                          f"{period}{kind}尚未完成(保密工作制度第十条)", f"开始{kind}", Opens(place="carrier_check", choice=kind))


# -- 人员 -----------------------------------------------------------------------------------------

def training_short(ctx: DueContext) -> Iterator[DueItem]:
    """The people (在岗, of a grade) short of their grade's minimum hours, from ``lead`` days
    before the year ends: the most short first, as many as the first screen lists (ordered and
    cut in SQL: training.compliance_of), each opening the person."""
    from mibao_desktop.services.training import compliance_of

    year_end = dt.date(ctx.today.year, 12, 31)
    if (year_end - ctx.today).days > ctx["lead"]:
        return
    found = compliance_of(ctx.session, ctx.today.year, ctx.today, most_short=ctx.limit)
    for n, x in enumerate(found.short):
        yield DueItem("training_short", "人员", year_end, f"{x.name}({x.department})" if x.department else x.name,
                      f"{ctx.today.year} 年保密教育培训 {x.tenths / 10:g} 学时,不足{x.grade}涉密人员的 "
                      f"{x.minimum / 10:g} 学时(差 {x.short_by / 10:g})", "登记培训", Opens(PEOPLE.key, x.person_id),
                      rank=n)


def documents_out(ctx: DueContext) -> Iterator[DueItem]:
    from mibao_desktop.services.travel import TravelService

    for d in TravelService._overdue(ctx.session, ctx.horizon + dt.timedelta(days=1)):
        yield DueItem("documents_out", "人员", d.due_on, f"{d.kind} {d.number}",
                      f"{d.holder}的{d.kind}" + (f"(出国(境) {d.trip})" if d.trip else "") +
                      f"应于 {d.due_on.isoformat()} 前交回", "交回", Opens(X.EXIT_DOCUMENTS.key, d.document_id))


def documents_expiring(ctx: DueContext) -> Iterator[DueItem]:
    """Due the day a document has less left than the unit's warning period (travel's setting):
    most countries ask six months' validity on arrival."""
    from mibao_desktop.services.travel import TravelService

    warn = TravelService._periods(ctx.session)[1]
    for d in TravelService._expiring(ctx.session, ctx.horizon, warn):
        yield DueItem("documents_expiring", "人员", d.expires_on - dt.timedelta(days=warn), f"{d.kind} {d.number}",
                      f"{d.holder}的{d.kind}有效期至 {d.expires_on.isoformat()}" +
                      ("(已过期)" if d.expires_on < ctx.today else f",不足 {warn} 天时须换发"),
                      "换发或注销", Opens(X.EXIT_DOCUMENTS.key, d.document_id))


def _people(ctx: DueContext, where, order):
    p = table_of(PEOPLE)
    return ctx.session.execute(select(p.c.id, p.c[PEOPLE.key_field], p.c.name, p.c.grade, order)
                               .where(*where, p.c.voided.is_(False)).order_by(order, p.c.id).limit(ctx.limit)).all()


def reviews_due(ctx: DueContext) -> Iterator[DueItem]:
    p = table_of(PEOPLE)
    nxt = p.c.next_review
    for pid, number, name, grade, due in _people(ctx, [nxt <= ctx.horizon, p.c.status == PEOPLE.lifecycle.initial,
                                                      p.c.grade.in_(GRADES)], nxt):
        yield DueItem("reviews_due", "人员", due, f"{name}({number})", f"{grade}涉密人员下次复审日期 {due.isoformat()}",
                      "复审", Opens(PEOPLE.key, pid))


def decommission_ending(ctx: DueContext) -> Iterator[DueItem]:
    p = table_of(PEOPLE)
    until = p.c[decommission.UNTIL.name]
    for pid, number, name, grade, due in _people(ctx, [until <= ctx.horizon, p.c.status == DECOMMISSIONING], until):
        yield DueItem("decommission_ending", "人员", due, f"{name}({number})",
                      f"{grade or ''}脱密期截止 {due.isoformat()},期满转为已脱密(此前限制出境、就业)",
                      "转为已脱密", Opens(PEOPLE.key, pid))


def _trips(ctx: DueContext, where, order):
    t, p = table_of(T.TRIPS), table_of(PEOPLE)
    return ctx.session.execute(
        select(t.c.id, t.c[T.TRIPS.key_field], p.c.name, t.c.destinations, t.c[T.LEAVE_ON], t.c[T.RETURN_ON])
        .select_from(t.outerjoin(p, p.c.id == t.c[T.TRAVELLER]))
        .where(*where, t.c.status == T.APPROVED, t.c.voided.is_(False)).order_by(order, t.c.id).limit(ctx.limit)).all()


def trips_unbriefed(ctx: DueContext) -> Iterator[DueItem]:
    t = table_of(T.TRIPS)
    for tid, number, name, where, leave, _back in _trips(ctx, [t.c[T.BRIEFED_ON].is_(None),
                                                              t.c[T.LEAVE_ON] <= ctx.horizon], t.c[T.LEAVE_ON]):
        yield DueItem("trips_unbriefed", "人员", leave, number,
                      f"{name or ''}经批准赴{where},{leave.isoformat()} 出境,尚无行前保密提醒谈话",
                      "行前保密提醒谈话", Opens(T.TRIPS.key, tid))


def trips_unreported(ctx: DueContext) -> Iterator[DueItem]:
    t = table_of(T.TRIPS)
    days = dt.timedelta(days=ctx["days"])
    for tid, number, name, where, _leave, back in _trips(ctx, [t.c[T.RETURN_ON] <= ctx.horizon - days],
                                                         t.c[T.RETURN_ON]):
        yield DueItem("trips_unreported", "人员", back + days, number,
                      f"{name or ''}赴{where},{back.isoformat()} 回国(境),尚未回国报告", "回国报告",
                      Opens(T.TRIPS.key, tid))


# -- 设备和介质 -------------------------------------------------------------------------------------

def _latest_status(t):
    """The id of a device's latest status change (a correlated subquery on the history's record
    index): what its facts are read from."""
    return (select(func.max(RecordEvent.id)).where(RecordEvent.record_id == t.c.id, RecordEvent.action == "status")
            .correlate(t).scalar_subquery())


def _in_status(ctx: DueContext, ledger, statuses: Iterable[str], *extra):
    """The devices of a ledger in ``statuses`` (a range of its status index), with ``extra``
    columns."""
    t = table_of(ledger)
    wanted = [s for s in statuses if s in ledger.lifecycle.statuses]
    if not wanted:
        return []
    return ctx.session.execute(select(t.c.id, t.c[ledger.key_field], t.c.status, *extra).where(
        t.c.status.in_(wanted), t.c.voided.is_(False)).order_by(t.c.status, t.c.id).limit(LIMIT)).all()


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def devices_away(ctx: DueContext) -> Iterator[DueItem]:
    """外出 (预计返回日期) or 借出 (应还日期) past or near the date their latest status change
    recorded: one query a ledger, the fact read by correlated subqueries (9 ms for 600 away)."""
    for ledger in DEVICES:
        t = table_of(ledger)
        fact = (select(FieldChange.new_value).where(FieldChange.event_id == _latest_status(t),
                                                    FieldChange.field.in_((RETURN_BY, DUE_BACK)))
                .correlate(t).limit(1).scalar_subquery())
        for rid, number, status, when in _in_status(ctx, ledger, (AWAY, LENT), fact):
            due = _day(when)
            if due is None or due > ctx.horizon:
                continue
            what = "预计返回日期" if status == AWAY else "应还日期"
            yield DueItem("devices_away", "设备和介质", due, number,
                          f"{ledger.noun}{status},{what} {due.isoformat()}", "归还(变更为在用)", Opens(ledger.key, rid))


def devices_in_repair(ctx: DueContext) -> Iterator[DueItem]:
    days = dt.timedelta(days=ctx["days"])
    for ledger in DEVICES:
        t = table_of(ledger)
        e = RecordEvent.__table__.alias("latest")
        since = (select(func.coalesce(e.c.effective_date, e.c.at)).where(e.c.id == _latest_status(t))
                 .correlate(t).scalar_subquery())
        for rid, number, _status, day in _in_status(ctx, ledger, (REPAIR,), since):
            day = _day(str(day)) if day is not None else None
            if day is None or day + days > ctx.horizon:
                continue
            yield DueItem("devices_in_repair", "设备和介质", day + days, number,
                          f"{ledger.noun}自 {day.isoformat()} 维修,超过 {ctx['days']} 天未结束", "维修结束(变更状态)",
                          Opens(ledger.key, rid))




def devices_of_leavers(ctx: DueContext) -> Iterator[DueItem]:
    """A device or medium still in the charge of someone who left (调离, 退休) or is in the
    脱密期: the departure asks for everything back, but a record edited or imported since may
    still name them."""
    p = table_of(PEOPLE)
    gone = {pid: (name, status, since) for pid, name, status, since in ctx.session.execute(
        select(p.c.id, p.c.name, p.c.status, p.c[decommission.FROM.name])
        .where(p.c.status.in_(sorted(PEOPLE.lifecycle.closing)), p.c.voided.is_(False)))}
    if not gone:
        return
    for ledger in DEVICES:
        t = table_of(ledger)
        closed = sorted(ledger.lifecycle.closing)
        seen: set[int] = set()
        for f in (f for f in ledger.reference_fields if f.is_person):
            # the leavers are few (a range of the people's status index): each probes the
            # devices' index of that person field
            rows = ctx.session.execute(
                select(t.c.id, t.c[ledger.key_field], t.c[f.name]).join(p, p.c.id == t.c[f.name])
                .where(p.c.status.in_(sorted(PEOPLE.lifecycle.closing)), p.c.voided.is_(False),
                       t.c.status.not_in(closed), t.c.voided.is_(False)).limit(ctx.limit)).all()
            for rid, number, pid in rows:
                if rid in seen:
                    continue
                seen.add(rid)
                name, status, since = gone[pid]
                yield DueItem("devices_of_leavers", "设备和介质", since or ctx.today, number,
                              f"{ledger.noun}的{f.label}{name}已{status}" if status != DECOMMISSIONING else
                              f"{ledger.noun}的{f.label}{name}在脱密期", "收回或移交", Opens(ledger.key, rid))


def unlabelled(ctx: DueContext) -> Iterator[DueItem]:
    """A classified device or medium registered within the last ``window`` days whose level
    label was never printed (no ``label_printed_at``, written with each 打印标识), due ``days``
    after it was registered (by 新增, not brought in by an import). Only recent ones: labels
    were recorded from this reminder on, and a ledger kept before it would list every device as
    never labelled. The records never labelled since a day are one index range
    (label_printed_at, created_at), walked in its order (earliest registered, most overdue, first)
    and asked whether they came by import only until the first screen has its items."""
    days = dt.timedelta(days=ctx["days"])
    since = dt.datetime.combine(ctx.today - dt.timedelta(days=ctx["window"]), dt.time())
    for ledger in DEVICES:
        if ledger.level_field is None:
            continue
        t = table_of(ledger)
        # earliest registered first (the most overdue), the index's own order: the walk stops at the limit
        rows = ctx.session.execute(_unlabelled(ledger, since).with_only_columns(
            t.c.id, t.c[ledger.key_field], t.c.level, t.c.created_at).order_by(t.c.created_at, t.c.id)
            .limit(ctx.limit)).all()
        for rid, number, level, created in rows:
            yield DueItem("unlabelled", "设备和介质", created.date() + days, number,
                          f"{level}{ledger.noun}尚未打印密级标识", "打印标识", Opens(ledger.key, rid))


def _unlabelled(ledger, since: dt.datetime, until: dt.datetime | None = None):
    """The classified records of ``ledger`` registered from ``since`` (before ``until``), not
    closed, whose label was never printed and that did not come by an import (a record that came
    in with a unit's own ledger was on the unit's books, labelled by its old process, before
    MiBao: the first import would otherwise fill the first screen with every device it brought)."""
    t = table_of(ledger)
    classified = [lv for lv in levels.unit().ranked if levels.is_classified(lv)]
    imported = exists().where(and_(RecordEvent.record_id == t.c.id, RecordEvent.action == "import"))
    q = select(t.c.id).where(t.c[LABEL_PRINTED].is_(None), t.c.created_at >= since, t.c.level.in_(classified),
                             t.c.status.not_in(sorted(ledger.lifecycle.closing)), t.c.voided.is_(False), ~imported)
    return q.where(t.c.created_at < until) if until is not None else q


# -- 定密 -----------------------------------------------------------------------------------------

def declassification_review(ctx: DueContext) -> Iterator[DueItem]:
    """Carriers whose 解密时间 falls within the year (seed 002 定密管理: 每年至少一次解密审查),
    each from a month before it, until its review of this year is recorded."""
    k = table_of(CARRIERS)
    until = min(ctx.horizon, dt.date(ctx.today.year, 12, 31))
    due = k.c[carriers.CARRIERS.field("declassify_on").name]
    reviewed = exists().where(and_(RecordEvent.record_id == k.c.id, RecordEvent.action == REVIEW_EVENT,
                                   RecordEvent.at >= dt.datetime(ctx.today.year, 1, 1)))
    rows = ctx.session.execute(
        select(k.c.id, k.c[CARRIERS.key_field], k.c[carriers.TITLE], k.c.level, due)
        .where(due.is_not(None), due <= until, k.c.status.not_in(sorted(CARRIERS.lifecycle.closing)),
               k.c.voided.is_(False), ~reviewed).order_by(due, k.c.id).limit(ctx.limit)).all()
    for cid, number, title, level, day in rows:
        yield DueItem("declassification", "定密", day, number,
                      f"{level or ''}{title} 保密期限于 {day.isoformat()} 届满,列入年度解密审查",
                      "解密审查(解密/延期/变更密级)", Opens(CARRIERS.key, cid))


# -- 系统 -----------------------------------------------------------------------------------------

def backup_age(ctx: DueContext) -> Iterator[DueItem]:
    if ctx.db.path is None or ctx.data_dir is None:
        return  # PostgreSQL: the server administrator's pg_dump, not MiBao's
    last = max((b.made_at for b in _backups(ctx)), default=None)
    days = ctx["days"]
    if last is None:
        yield DueItem("backup_age", "系统", ctx.today, "数据库备份", "尚无备份", "备份", Opens(place="backup"))
        return
    due = last.date() + dt.timedelta(days=days)
    if (due - ctx.today).days > SYSTEM_LEAD:
        return  # a backup made yesterday is no reminder
    yield DueItem("backup_age", "系统", due, "数据库备份",
                  f"最近一次备份为 {last:%Y-%m-%d %H:%M},应每 {days} 天至少备份一次", "备份", Opens(place="backup"))


def _backups(ctx: DueContext):
    from mibao_desktop.services.backup_service import BackupService

    # the register and the files' sizes: no file is hashed here (a year of backups)
    return BackupService(ctx.data_dir, None).backups()


def audit_unverified(ctx: DueContext) -> Iterator[DueItem]:
    stored = settings.read(ctx.session, VERIFIED_SETTING)
    last = dt.datetime.fromisoformat(stored) if stored else ctx.session.execute(
        select(func.max(AuditEntry.at)).where(AuditEntry.action == "audit.verify")).scalar()
    days = ctx["days"]
    if last is None:
        first = ctx.session.execute(select(AuditEntry.at).order_by(AuditEntry.id).limit(1)).scalar()
        if first is None:
            return
        yield DueItem("audit_unverified", "系统", first.date() + dt.timedelta(days=days), "审计日志",
                      "审计日志从未校验", "校验审计日志", Opens(place="audit_verify"))
        return
    if (last.date() + dt.timedelta(days=days) - ctx.today).days > SYSTEM_LEAD:
        return
    yield DueItem("audit_unverified", "系统", last.date() + dt.timedelta(days=days), "审计日志",
                  f"审计日志最近一次校验为 {last:%Y-%m-%d %H:%M},应每 {days} 天至少校验一次", "校验审计日志",
                  Opens(place="audit_verify"))


def password_age(ctx: DueContext) -> Iterator[DueItem]:
    policy = settings.security_policy(ctx.session)
    q = select(Account.name, Account.display_name, Account.password_changed_at).where(Account.active.is_(True))
    if ctx.actor.role != SYSADMIN:
        q = q.where(Account.name == ctx.actor.name)
    for name, display, changed in ctx.session.execute(q.order_by(Account.name)):
        due = changed.date() + dt.timedelta(days=policy.max_age_days)
        if (due - ctx.today).days > ctx["lead"]:
            continue
        own = name == ctx.actor.name
        yield DueItem("password_age", "系统", due, f"{display}({name})",
                      f"口令于 {changed:%Y-%m-%d} 设置,使用期限 {policy.max_age_days} 天",
                      "修改口令" if own else "提醒本人修改口令", Opens(place="password" if own else "accounts"))


RULES: tuple[Rule, ...] = (
    Rule("leak_reports", "载体", "泄密事件报告时限", (SA,), leak_reports,
         cite="泄密事件报告和查处制度第六条:一般泄密事件二十四小时内报告,重大泄密事件立即报告"),
    Rule("missing_copies", "载体", "下落不明的载体", (SA,), missing_copies, cite=carriers.RULE_MISSING),
    Rule("carrier_loans", "载体", "借出到期的载体", (SA,), carrier_loans, cite=carriers.RULE_LEND),
    Rule("carrier_checks", "载体", "月核对、季检查、年终清退归档", (SA,), carrier_check_due,
         cite="保密工作制度第十条:每月核对、每季检查、年终清退归档"),
    Rule("training_short", "人员", "培训学时未达标", (SA,), training_short,
         (Threshold("lead", "年底前开始提醒的天数", 60, 1, 365),), cite="保密管理规定六:核心、重要每年不少于8学时,一般不少于4学时"),
    Rule("documents_out", "人员", "出入境证件未交回", (SA,), documents_out, cite=X.RULE_BACK),
    Rule("documents_expiring", "人员", "出入境证件即将到期", (SA,), documents_expiring, cite=X.RULE_HELD),
    Rule("reviews_due", "人员", "涉密人员复审", (SA,), reviews_due),
    Rule("decommission_ending", "人员", "脱密期届满", (SA,), decommission_ending, cite=T.RULE_DECOMMISSION),
    Rule("trips_unbriefed", "人员", "出国(境)未行前谈话", (SA,), trips_unbriefed, cite=T.RULE_BRIEFING),
    Rule("trips_unreported", "人员", "回国(境)未报告", (SA,), trips_unreported,
         (Threshold("days", "回国后报告期限(天)", 10, 1, 90),), cite=T.RULE_REPORT),
    Rule("devices_away", "设备和介质", "外出、借出逾期", (SA,), devices_away),
    Rule("devices_in_repair", "设备和介质", "维修时间过长", (SA,), devices_in_repair,
         (Threshold("days", "维修超过多少天提醒", 30, 1, 365),)),
    Rule("devices_of_leavers", "设备和介质", "责任人已离岗的设备和介质", (SA,), devices_of_leavers),
    Rule("unlabelled", "设备和介质", "未打印密级标识", (SA,), unlabelled,
         (Threshold("days", "登记后几天内须打印标识", 7, 0, 90), Threshold("window", "检查最近登记的天数", 180, 7, 3650)),
         cite="保密管理规定七.4:涉密设备应粘贴密级标识"),
    Rule("declassification", "定密", "年度解密审查", (SA,), declassification_review,
         cite="定密管理:每年至少开展一次解密审查"),
    Rule("backup_age", "系统", "数据库备份", (SA,), backup_age, (Threshold("days", "备份间隔(天)", 7, 1, 90),)),
    Rule("audit_unverified", "系统", "审计日志校验", (AUDITOR,), audit_unverified,
         (Threshold("days", "校验间隔(天)", 7, 1, 90),)),
    Rule("password_age", "系统", "口令即将到期", (SYSADMIN, SA, AUDITOR), password_age,
         (Threshold("lead", "到期前几天提醒", 3, 0, 60),)),
)

__all__ = ["LABEL_EVENT", "REVIEW_EVENT", "RULES", "VERIFIED_SETTING"]
