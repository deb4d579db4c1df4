"""Major-event reports (重大事项报告) of the classified staff: a child ledger of the 人员名册.

Seed 002 §六(二)4 lists what a 涉密人员 reports: six kinds, written here as the seed words them
(the list a report is filed under). Each report keeps its date, what was reported, how it was
handled (处理情况) and to whom it was made. It belongs to the person (a child record, like a
carrier's copies), so the person's page lists it; registering one also writes it into the
person's own history (``Ledger.parent_history``), and every report goes into the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator

from mibao_desktop.ledgers import common
from mibao_desktop.ledgers.declaration import Ledger, Lifecycle, SampleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, Text

KINDS = (  # seed 002 §六(二)4 重大事项报告 (1)–(6)
    "发生泄密或者造成重大泄密隐患的",
    "发现敌对势力和境外情报机构针对本人渗透、策反行为的",
    "接受境外机构、组织和非亲属人员资助的",
    "与境外人员结婚的",
    "配偶、子女获得境外永久居留资格或者取得外国国籍的",
    "其他可能影响国家秘密和工作秘密安全的个人情况",
)
# how a hand-kept list names them, short
KIND_WORDS = {"泄密": KINDS[0], "泄密隐患": KINDS[0], "渗透策反": KINDS[1], "策反": KINDS[1], "渗透": KINDS[1],
              "境外资助": KINDS[2], "资助": KINDS[2], "涉外婚姻": KINDS[3], "与境外人员结婚": KINDS[3],
              "配偶子女移居境外": KINDS[4], "境外永久居留": KINDS[4], "加入外国国籍": KINDS[4], "其他": KINDS[5]}

# A report is on file once made (its 处理情况 says how it was handled): closed from the start, so
# that it is never "held" (a person with reports may leave the post) and may be added under a
# person who has left (a 脱密期 person still reports).
REPORT_LIFECYCLE = Lifecycle(statuses=("已报告",), initial="已报告", closing=frozenset({"已报告"}))


class _Kind(Choice):
    def normalise(self, raw):  # 涉外婚姻 → 与境外人员结婚的; (4) → the fourth kind
        text = str(raw or "").strip().strip("()()。;;")
        if text.isdigit() and 1 <= int(text) <= len(KINDS):
            return KINDS[int(text) - 1]
        return super().normalise(KIND_WORDS.get(text) or (f"{text}的" if f"{text}的" in KINDS else text))


def _sample(ctx: SampleContext) -> Iterator[dict]:
    """One report, by the first sample person of the register (numbered RY-0001 when the sample
    rows give no number: the register numbers them in order)."""
    numbered = [r["person_number"] for r in ctx.made.get("people", ()) if r.get("person_number")]
    yield {"_parent": numbered[0] if numbered else "RY-0001", "report_number": "ZX-0001", "kind": KINDS[4],
           "reported_on": dt.date.today() - dt.timedelta(days=40), "content": "本人之子取得加拿大永久居留资格。",
           "handling": "已谈话提醒,调整其不再接触核心涉密事项,登记备案。", "reported_to": "保密办"}


MAJOR_EVENT_REPORTS = Ledger(
    key="major_event_reports",
    title="重大事项报告",
    noun="重大事项报告",
    fields=(
        # not 序号 nor 编号: a staff sheet's first column is its 序号 and its 编号 is the person's;
        # taken for a report's number, every staff sheet would bring reports row by row
        Field("report_number", "报告编号", Text(max_length=20, upper=True), required=True, unique=True,
              synonyms=("报告序号", "事项编号")),
        Field("kind", "事项类别", _Kind(KINDS), required=True, facet=True,
              synonyms=("事项", "报告事项", "类别", "重大事项")),
        Field("reported_on", "报告日期", Date(), required=True, synonyms=("日期", "报告时间")),
        Field("content", "报告内容", Text(max_length=1000, multiline=True), required=True, searchable=True,
              synonyms=("内容", "具体情况", "事项内容")),
        Field("handling", "处理情况", Text(max_length=1000, multiline=True), searchable=True,
              synonyms=("处理结果", "处理意见")),
        Field("reported_to", "报告对象", Text(max_length=40), synonyms=("接收人", "报告给", "受理人")),
        common.status(REPORT_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=REPORT_LIFECYCLE,
    key_field="report_number",
    parent="people",
    parent_label="报告人",
    auto_number="ZX-{:04d}",
    parent_history="major_event",
    sample=_sample,
)
