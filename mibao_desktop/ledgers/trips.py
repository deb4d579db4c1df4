"""出国(境): the classified staff's travel abroad, from the application to the report back
(issue 14 item 4; seed 002 §六(二)2, seed 003 涉密人员管理制度 第六条, seed 000).

An application names the person, private (因私) or official (因公), where, when, why and with
whom. It is approved (审批) or refused; before the unit hands out the person's exit document
for it (ledgers/exit_documents.py) the 行前保密提醒谈话 is held and recorded; after the return
the person reports (回国报告) and gives the document back. Each step is a recorded action of
the trip (as a carrier copy's 借阅 is, ``declaration.Action``) carried out by
services/travel.py: one history event each, audited.

What the steps record is kept on the trip itself (审批人, 谈话日期 …, set by the action, not
typed in the form): the document's 领取 asks "was the briefing held?" of the trip's own row,
and the forms print from it.

Two people need more than a plain approval (seed 002 §六(二)2: 核心涉密人员因私出国(境)原则上
不予批准; seed 000, 保密法第四十六条: 脱密期内不得违反规定出境): their application is marked
(限制情形) and its approval must state the exception (特批理由).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping

from mibao_desktop.ledgers import common
from mibao_desktop.ledgers.declaration import CLOSING_FACTS, DECOMMISSIONING, Action, Ledger, Lifecycle, RuleContext, \
    SampleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, Person, Text

RULE_APPROVAL = ("保密管理规定六(二)2“出国(境)审批”:涉密人员因公、因私出国(境)必须提出申请,按照干部人事管理权限进行审批;"
                 "核心涉密人员因私出国(境)原则上不予批准")  # seed 002
RULE_DECOMMISSION = "《保密法》第四十六条:涉密人员在脱密期内,不得违反规定就业和出境"  # seed 000
RULE_BRIEFING = ("保密管理规定六(二)2:涉密人员经批准出国(境)的,应当进行行前保密提醒;"
                 "涉密人员管理制度第六条:出国(境)前必须进行保密教育")  # seed 002, seed 003
RULE_REPORT = "涉密人员出国(境)返回后,及时向所在单位报告在国(境)外期间的相关情况,并在规定时间内交回出入境证件"  # seed 000

PRIVATE, OFFICIAL = "因私", "因公"
KINDS = (PRIVATE, OFFICIAL)
CORE = "核心"
# what the mark says (限制情形), in the seeds' words
CORE_PRIVATE = "核心涉密人员因私出国(境),原则上不予批准"
IN_DECOMMISSION = "脱密期内出国(境)"

APPLIED, APPROVED, REFUSED, RETURNED, WITHDRAWN = "待审批", "已批准", "不予批准", "已回国", "已撤销"

TRAVELLER, KIND, LEAVE_ON, RETURN_ON = "traveller", "kind", "leave_on", "return_on"
RESTRICTION, EXCEPTION = "restriction", "exception_reason"
APPROVER, APPROVED_ON = "approver", "approved_on"
BRIEFED_ON, BRIEFED_BY, BRIEFING = "briefed_on", "briefed_by", "briefing_notes"
REPORTED_ON, REPORT = "reported_on", "report"

# The trip's actions. Their own facts are only a refusal's or a withdrawal's 原因: what approval,
# briefing and the report record are the trip's fields (``ACTION_FIELDS``), set with the action
# in the same history event, so that the document's 领取 and the forms read them from the row.
TRIP_ACTIONS = (
    Action("approve", "审批同意", APPROVED, (APPLIED,), (), RULE_APPROVAL),
    Action("refuse", "不予批准", REFUSED, (APPLIED,), CLOSING_FACTS, RULE_APPROVAL),
    Action("brief", "行前保密提醒谈话", None, (APPROVED,), (), RULE_BRIEFING),
    Action("report", "回国报告", RETURNED, (APPROVED,), (), RULE_REPORT),
    Action("withdraw", "撤销申请", WITHDRAWN, (APPLIED, APPROVED), CLOSING_FACTS, RULE_APPROVAL),
)
# action → (the field its date goes to, the fields it asks for)
ACTION_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "approve": (APPROVED_ON, (APPROVER, EXCEPTION)),
    "brief": (BRIEFED_ON, (BRIEFED_BY, BRIEFING)),
    "report": (REPORTED_ON, (REPORT,)),
}

TRIP_LIFECYCLE = Lifecycle(
    statuses=(APPLIED, APPROVED, REFUSED, RETURNED, WITHDRAWN),
    initial=APPLIED,
    closing=frozenset({REFUSED, WITHDRAWN}),
    terminal=frozenset({REFUSED, WITHDRAWN}),
    transitions={APPLIED: (APPROVED, REFUSED, WITHDRAWN), APPROVED: (RETURNED, WITHDRAWN), RETURNED: ()},
    synonyms={"申请": APPLIED, "审批中": APPLIED, "批准": APPROVED, "同意": APPROVED, "未批准": REFUSED,
              "不批准": REFUSED, "已返回": RETURNED, "回国": RETURNED, "已回国(境)": RETURNED, "撤销": WITHDRAWN},
    actions=TRIP_ACTIONS,
    registered_by="apply",  # 新增 is an application (services/travel.py TravelService.apply): 限制情形 marked
    # What was approved is what goes. Once approved, a change of who, where, when, why or with whom
    # is a trip nobody approved: the briefing was held for the approved one and the document's
    # 应交回日期 was set from its return date. A security administrator expects such a change to
    # be approved again, not typed over the approval, so 修改 refuses it (also while the document
    # is out, whose due date would silently stay on the old return) and points to 撤销申请 and a
    # new application, which is approved, briefed and handed out as any other.
    settled={s: (TRAVELLER, KIND, "destinations", LEAVE_ON, RETURN_ON, "purpose", "companions")
             for s in (APPROVED, RETURNED)},
    settled_why={APPROVED: "行程变更须重新审批:请“撤销申请”后重新申请出国(境),经审批、行前谈话后再领取证件。",
                 RETURNED: "已回国的出国(境)按审批的内容存档;实际行程与审批不符的,请在“备注”中说明。"},
)


def restriction(grade: str | None, status: str | None, kind: str | None) -> str | None:
    """The mark an application of this person carries, or None: a 核心 person's private trip,
    anyone travelling in their 脱密期 (either kind)."""
    marks = []
    if grade == CORE and kind == PRIVATE:
        marks.append(CORE_PRIVATE)
    if status == DECOMMISSIONING:
        marks.append(IN_DECOMMISSION)
    return ";".join(marks) or None


def rule_of(mark: str | None) -> str:
    """The rule an approval of a marked application must answer to."""
    if mark and IN_DECOMMISSION in mark and CORE_PRIVATE not in mark:
        return RULE_DECOMMISSION
    if mark and IN_DECOMMISSION in mark:
        return f"{RULE_APPROVAL};{RULE_DECOMMISSION}"
    return RULE_APPROVAL


def _dates_in_order(ctx: RuleContext) -> dict[str, str]:
    v = ctx.values
    out, back, applied = v.get(LEAVE_ON), v.get(RETURN_ON), v.get("applied_on")
    errors = {}
    if out and back and back < out:
        errors[RETURN_ON] = f"回国(境)日期 {back.isoformat()} 早于出境日期 {out.isoformat()},请核对"
    if applied and out and applied > out:
        errors["applied_on"] = f"申请日期 {applied.isoformat()} 晚于出境日期 {out.isoformat()}:出国(境)须先申请、审批"
    return errors


def _sample(ctx: SampleContext) -> Iterator[dict]:
    """Three trips of sample people: one back and reported, one approved and under way (its
    document handed out, see exit_documents), one waiting for approval."""
    today = dt.date.today()
    # named with their number (张伟(RY-0003)): a bare number would be read as a new person's name
    numbered = [f"{r['name']}({r['person_number']})" for r in ctx.made.get("people", ())
                if r.get("grade") in ("重要", "一般") and r.get("person_number")]
    who = numbered[:3] or [ctx.people[0]] * 3
    rows: list[Mapping[str, Any]] = [
        {"trip_number": "CJ-0001", TRAVELLER: who[0], KIND: PRIVATE, "destinations": "泰国", "purpose": "家庭旅游",
         LEAVE_ON: today - dt.timedelta(days=60), RETURN_ON: today - dt.timedelta(days=52),
         "applied_on": today - dt.timedelta(days=80), "companions": "配偶、子女"},
        {"trip_number": "CJ-0002", TRAVELLER: who[1 % len(who)], KIND: OFFICIAL, "destinations": "德国、法国",
         "purpose": "参加国际学术会议", LEAVE_ON: today - dt.timedelta(days=25), RETURN_ON: today - dt.timedelta(days=15),
         "applied_on": today - dt.timedelta(days=45), "companions": "科研一处 2 人"},
        {"trip_number": "CJ-0003", TRAVELLER: who[2 % len(who)], KIND: PRIVATE, "destinations": "中国香港",
         "purpose": "探亲", LEAVE_ON: today + dt.timedelta(days=30), RETURN_ON: today + dt.timedelta(days=36),
         "applied_on": today - dt.timedelta(days=2)},
    ]
    for row in rows:
        yield {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}


TRIPS = Ledger(
    key="trips",
    title="出国(境)登记",
    noun="出国(境)",
    fields=(
        Field("trip_number", "编号", Text(max_length=20, upper=True), required=True, unique=True,
              synonyms=("审批编号", "登记编号")),
        Field(TRAVELLER, "出国(境)人员", Person(), required=True, searchable=True,
              synonyms=("姓名", "申请人", "出国人员", "出境人员")),
        Field(KIND, "类别", Choice(KINDS), required=True, facet=True, synonyms=("出国类别", "因公因私", "性质")),
        Field("destinations", "前往国家(地区)", Text(max_length=100), required=True, searchable=True,
              synonyms=("前往国家", "目的地", "前往地区", "国家(地区)", "出访国家")),
        Field(LEAVE_ON, "出境日期", Date(not_future=False), required=True, synonyms=("出发日期", "出国日期", "离境日期")),
        Field(RETURN_ON, "回国(境)日期", Date(not_future=False), required=True,
              synonyms=("返回日期", "回国日期", "入境日期", "计划返回日期")),
        Field("purpose", "事由", Text(max_length=200, multiline=True), required=True, searchable=True,
              synonyms=("出国事由", "出境事由", "目的", "任务")),
        Field("companions", "同行人员", Text(max_length=100), synonyms=("随行人员", "同行人")),
        Field("applied_on", "申请日期", Date(), synonyms=("申请时间",)),
        Field(RESTRICTION, "限制情形", Text(max_length=100), editable=False, recorded=True,
              help="核心涉密人员因私出国(境)、脱密期内出国(境):审批须写明特批理由"),
        Field(APPROVER, "审批人", Text(max_length=40), editable=False, recorded=True, synonyms=("批准人",)),
        Field(APPROVED_ON, "审批日期", Date(), editable=False, recorded=True, synonyms=("批准日期",)),
        Field(EXCEPTION, "特批理由", Text(max_length=200, multiline=True), editable=False, recorded=True, shown=False),
        Field(BRIEFED_ON, "行前谈话日期", Date(), editable=False, recorded=True, synonyms=("行前提醒谈话日期", "谈话日期")),
        Field(BRIEFED_BY, "谈话人", Text(max_length=40), editable=False, recorded=True, shown=False),
        Field(BRIEFING, "谈话内容", Text(max_length=500, multiline=True), editable=False, recorded=True, shown=False),
        Field(REPORTED_ON, "回国报告日期", Date(), editable=False, recorded=True, shown=False),
        Field(REPORT, "回国报告内容", Text(max_length=1000, multiline=True), editable=False, recorded=True, shown=False),
        common.status(TRIP_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=TRIP_LIFECYCLE,
    rules=(_dates_in_order,),
    key_field="trip_number",
    default_sort="trip_number",
    aliases=("出国", "出境", "出国(境)", "出国境", "trip"),
    auto_number="CJ-{:04d}",
    forms=("trip_approval", "trip_briefing"),
    sample=_sample,
)
