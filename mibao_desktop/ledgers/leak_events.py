"""Leak events (泄密事件), seed 003 泄密事件报告和查处制度, and the rules of the missing clock.

第二条: a state-secret item missing (下落不明) is a leak once it has not been found within 10
days (绝密) or 60 days (机密, 秘密) of the day it was found missing. 第六条: a leak is reported
within 24 hours; a major leak (重大泄密事件: one 绝密 item, or two or more 机密 items) at once,
to the leadership and the secrecy office above. 第八条 says what the first report holds: when
and where it happened and how, who is responsible (name, post, political status, department),
the item (name, content, 密级, count), the harm, the remedial measures and the investigation.

The record is opened by the missing clock (``services/carrier_watch.py``) prefilled from the
copies and their carrier, or registered by hand for any other leak; the administrator fills in
the rest before reporting.
"""

from __future__ import annotations

import datetime as dt

from mibao_desktop.ledgers import common, levels
from mibao_desktop.ledgers.declaration import Ledger, Lifecycle, RuleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, Integer, Person, Reference, Text

# 第二条: days a missing item is searched for before it counts as leaked, by 密级
SEARCH_DAYS = {levels.TOP_SECRET: 10, levels.SECRET: 60, levels.CONFIDENTIAL: 60}
# 第六条: a leak is reported within 24 hours; a major one at once
REPORT_WITHIN = dt.timedelta(hours=24)
MAJOR, ORDINARY = "重大泄密", "一般泄密"
GRADES = (MAJOR, ORDINARY)
MAJOR_RULE = "一份绝密件或两份以上机密件"
AT_ONCE = "立即报告"
GRADE, ITEM, COUNT = "grade", "item", "count"  # fields the watch list shows (services/carrier_watch.py)


def search_until(missing_since: dt.date, level: str | None) -> dt.date | None:
    """The last day a copy missing since ``missing_since`` may still be found: after it, the
    copy is a leak (第二条 “自发现下落不明之日起,绝密级十日内……查无下落的”). None for a level
    the rule does not name (the copy's carrier has no 密级 yet: 待补充)."""
    days = SEARCH_DAYS.get(level or "")
    return None if days is None else missing_since + dt.timedelta(days=days)


def grade(level_counts: dict[str, int]) -> str:
    """重大泄密 for one 绝密 item or two or more 机密 items (第六条), else 一般泄密.
    ``level_counts``: the items of one event by 密级."""
    if level_counts.get(levels.TOP_SECRET, 0) >= 1 or level_counts.get(levels.SECRET, 0) >= 2:
        return MAJOR
    return ORDINARY


def started_at(found_on: dt.date | None, opened_at: dt.datetime) -> dt.datetime:
    """When the event counts from for its report deadline: the moment it was opened, or, when it
    was found (发现) on an earlier day than it was opened, the start of that day. A copy's search
    period that ran out while nobody opened MiBao is a leak from the day after it ended (第二条),
    so its 24 hours (第六条) do not wait for the administrator's next login."""
    if found_on is None or found_on >= opened_at.date():
        return opened_at
    return dt.datetime.combine(found_on, dt.time.min)


def report_by(opened_at: dt.datetime, grade_: str) -> dt.datetime:
    """When the report is due: at once for a major leak (its deadline is the moment it opened),
    within 24 hours of opening for any other (第六条)."""
    return opened_at if grade_ == MAJOR else opened_at + REPORT_WITHIN


def report_by_text(opened_at: dt.datetime, grade_: str) -> str:
    if grade_ == MAJOR:
        return f"{AT_ONCE}(重大泄密,须立即向领导和上级保密部门报告)"
    return f"{report_by(opened_at, grade_):%Y-%m-%d %H:%M}前(24小时内)"


def first_report(*, item: str, level: str | None, count: int, occurred_on: dt.date, found_on: dt.date,
                 search_days: int | None, opened_at: dt.datetime, carrier_id: int | None = None,
                 copy_numbers: str = "", place: str | None = None, responsible=None,
                 department: str | None = None, level_counts: dict[str, int] | None = None) -> dict:
    """A leak event's values as the missing clock opens it, prefilled with what the first report
    asks (第八条): when and where, who, the item with its 密级 and count, how it came about and
    the first measures; the harm, the responsible person's post and political status and the
    investigation are left for the administrator. ``grade`` and the report deadline follow
    第六条, by ``level_counts`` (the items by 密级) when the items are of several levels."""
    grade_ = grade(level_counts or {level or "": count})
    days = f"{search_days} 日" if search_days else "规定期限"
    return {
        GRADE: grade_,
        "report_by": report_by_text(opened_at, grade_),
        "found_on": found_on,
        "occurred_on": occurred_on,
        "place": place or None,
        ITEM: item,
        "carrier": carrier_id,
        "copy_numbers": copy_numbers or None,
        "level": level,
        COUNT: count,
        "responsible": responsible,
        "department": department or None,
        "account": (f"{item}于 {occurred_on.isoformat()} 发现下落不明,至 {found_on.isoformat()} 已逾 {days}"
                    "查无下落,依《泄密事件报告和查处制度》第二条按泄密事件处理。"),
        "measures": "继续查找;核查该载体其余各份和同批载体的去向;询问持有人及接触人员;"
                    "封存相关登记记录和签收凭证。",
    }


def _major_is_major(ctx: RuleContext) -> dict[str, str]:
    """A leak of one 绝密 item or two or more 机密 items is 重大泄密 whoever registers it (第六条):
    it is reported at once, never within the ordinary 24 hours."""
    values = ctx.values
    if values.get(GRADE) != MAJOR and grade({values.get("level") or "": values.get(COUNT) or 0}) == MAJOR:
        return {GRADE: f"{values.get('level')}{values.get(COUNT)}份属重大泄密事件({MAJOR_RULE}),"
                       "须立即报告(《泄密事件报告和查处制度》第六条),事件等级应为“重大泄密”"}
    return {}


LEAK_LIFECYCLE = Lifecycle(
    statuses=("待报告", "已报告", "查处中", "已结案"),
    initial="待报告",
    closing=frozenset({"已结案"}),
    synonyms={"未报告": "待报告", "已上报": "已报告", "调查中": "查处中", "查处终结": "已结案", "结案": "已结案"},
)
OPEN_STATUSES = ("待报告", "已报告", "查处中")  # the events the watch list shows
UNREPORTED = "待报告"  # the status whose report deadline is still running

LEAK_EVENTS = Ledger(
    key="leak_events",
    title="泄密事件登记",
    noun="泄密事件",
    fields=(
        Field("event_number", "事件编号", Text(max_length=20, upper=True), required=True, unique=True,
              searchable=True, synonyms=("编号",), help="留空时自动编号"),
        Field(GRADE, "事件等级", Choice(GRADES), required=True, default=ORDINARY, facet=True,
              help=f"重大泄密:{MAJOR_RULE},须立即报告"),
        Field("report_by", "报告时限", Text(max_length=60), editable=False,
              help="一般泄密事件24小时内报告;重大泄密事件立即报告(第六条)"),
        Field("found_on", "认定日期", Date(), required=True, synonyms=("发现日期", "发现时间")),
        Field("occurred_on", "发生日期", Date(), synonyms=("发生时间", "下落不明日期")),
        Field("place", "地点", Text(max_length=100), searchable=True, synonyms=("发生地点",)),
        Field(ITEM, "泄密事项", Text(max_length=300), required=True, searchable=True,
              synonyms=("事项名称", "名称", "泄密事项名称")),
        Field("carrier", "所涉载体", Reference(("carriers",)), synonyms=("载体编号",)),
        Field("copy_numbers", "份号", Text(max_length=200), synonyms=("涉及份号",)),
        common.level(),
        Field(COUNT, "数量", Integer(minimum=1, maximum=100_000), required=True, default=1,
              synonyms=("份数", "件数")),
        Field("responsible", "泄密责任人", Person(), searchable=True, synonyms=("责任人", "当事人")),
        Field("post", "职务岗位", Text(max_length=60), shown=False, synonyms=("职务", "岗位")),
        Field("political_status", "政治面貌", Text(max_length=20), shown=False),
        common.department(required=False),
        Field("account", "简要经过", Text(max_length=2000, multiline=True), required=True, synonyms=("经过",)),
        Field("harm", "危害评估", Text(max_length=2000, multiline=True), shown=False),
        Field("measures", "补救措施", Text(max_length=2000, multiline=True), shown=False,
              synonyms=("应当采取的补救措施",)),
        Field("investigation", "调查方案", Text(max_length=2000, multiline=True), shown=False),
        common.status(LEAK_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=LEAK_LIFECYCLE,
    key_field="event_number",
    default_sort="event_number",
    aliases=("泄密事件", "泄密事件登记", "leaks"),
    auto_number="XM-{:04d}",
    rules=(_major_is_major,),
)
