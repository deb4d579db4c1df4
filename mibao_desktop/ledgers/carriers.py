"""State-secret carriers (国家秘密载体) and their copies (份), seed 002 §八, seed 003.

A carrier is a document or medium with its level, secrecy period (保密期限) and number of
copies; each copy (份号) is tracked on its own — who keeps it, where it is — as a child
record of the carrier: 份号 is unique within its carrier. The declassification date (解密时间)
is computed from the classification date and the period (the statutory 30/20/10 years when
none is set) and stored, so that the yearly declassification review can ask for it by date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping, Sequence

from mibao_desktop.ledgers import common, levels, samples
from mibao_desktop.ledgers.declaration import (CLOSING_FACTS, LOAN_FACTS, REPAIR_FACTS, TAKEOUT_FACTS, Action,
                                                LabelSpec, Ledger, Lifecycle, RuleContext, SampleContext,
                                                own_values_only)
from mibao_desktop.ledgers.fields import Choice, Date, Field, Integer, Person, Reference, SecrecyPeriod, Text

CARRIER_LIFECYCLE = Lifecycle(
    statuses=("在管", "清退", "已销毁"),
    initial="在管",
    closing=frozenset({"清退", "已销毁"}),
    terminal=frozenset({"已销毁"}),
    transitions={"清退": ("已销毁",)},
)

# -- the copy's life as recorded actions (seed 002 §八, seed 003 保密工作制度 第十条–第十二条) --------
# Each action is a form and a service call (services/carrier_actions.py) with the facts it
# records, kept in the copy's history event as a status change's facts are. What a refusal
# cites, in the words a unit's inspector reads:
RULE_CARRIERS = "保密管理规定八“国家秘密载体的管理”"  # seed 002 §八
RULE_SEND = RULE_CARRIERS + ":发送涉密载体要履行审批、登记、签收手续"
RULE_RECEIVE = RULE_CARRIERS + ":接收涉密载体应当履行清点、编号、加盖收文章和登记手续"
RULE_COPY = RULE_CARRIERS + "(四):机密级、秘密级载体的复制、摘录、引用、汇编,应当经制发机关批准后报本单位领导批准"
RULE_COPY_TOP = (RULE_CARRIERS + "(四):绝密级涉密载体一般不得复制、摘录、引用、汇编;"
                 "保密工作制度第十二条:复印绝密级需经原制发机关批准")  # seed 003
RULE_LEND = "保密工作制度第十条、第十一条:借阅须经批准、办理登记,借阅时限一到立即追回"  # seed 003
RULE_SCOPE = "保密工作制度第十条及载体标明的知悉范围(发放范围)"
RULE_CLEAR = RULE_CARRIERS + ":须清退的文件不得自行销毁"
RULE_DESTROY = RULE_CARRIERS + ":销毁须经主要领导或分管领导批准,清点、登记、造册,2人以上监销,承销单位应当具备相应资质"
RULE_COLLECT = RULE_CARRIERS + ":涉密载体销毁前须进行清点、登记、造册,并存放在符合保密要求的场所"
RULE_REPAIR = RULE_CARRIERS + ":确需送外维修的,应当送至有相应资质的单位,并在送修前拆除信息存储部件"
RULE_MISSING = "泄密事件报告和查处制度第二条:绝密级十日内、机密和秘密级六十日内查无下落的,按泄密事件处理"  # seed 003
RULE_BOOK = "保密工作制度第十条:收发、分送、传递、借阅、移交、销毁等环节都应履行登记签字手续"  # seed 003

MEDIA_FORMS = ("光盘", "电磁介质", "U盘", "移动硬盘", "存储卡")  # 送修 is for these, never for paper
FORMS = ("纸质", *MEDIA_FORMS, "其他")
SOURCES = ("接收", "制作", "复制")
COPY_KINDS = ("复制", "摘录", "引用", "汇编")
RECEIVED_STAMP, COPY_STAMP = "收文章", "复制戳记"

APPROVER = Field("approver", "批准人", Text(max_length=40), required=True, help="审批的领导")
RECIPIENT = Field("recipient", "接收人", Person())
RECIPIENT_UNIT = Field("recipient_unit", "接收单位", Text(max_length=60))
NEW_HOLDER = Field("new_holder", "移交给", Person(), required=True, help="接收的人,此后为持有人")
BEYOND_SCOPE = Field("beyond_scope", "超出知悉范围的批准理由", Text(max_length=200, multiline=True),
                     help="借阅人不在载体的知悉范围内时必填")
COPY_KIND = Field("copy_kind", "方式", Choice(COPY_KINDS), required=True)
COPY_COUNT = Field("copy_count", "复制份数", Integer(minimum=1, maximum=1000), required=True)
COPY_AS = Field("copy_as", "复制件登记编号", Text(max_length=40, upper=True), help="不填时按原件编号自动编为 …-F1")
ISSUER_CONSENT = Field("issuer_consent", "制发机关批准", Text(max_length=200),
                       help="机密级、秘密级:制发机关(单位)批准的文件或记录")
TOP_EXCEPTION = Field("top_secret_exception", "绝密特批依据", Text(max_length=200),
                      help="绝密级一般不得复制;确需复制的,填写原制发机关的批准依据")
RETURNED_TO = Field("returned_to", "清退至", Text(max_length=60), required=True, help="制发机关(单位)")
SUPERVISOR_1 = Field("supervisor_1", "监销人(一)", Person(), required=True)
SUPERVISOR_2 = Field("supervisor_2", "监销人(二)", Person(), required=True)
CONTRACTOR = Field("contractor", "承销单位", Text(max_length=60), required=True)
CONTRACTOR_LICENCE = Field("contractor_licence", "承销单位资质", Text(max_length=60), required=True,
                           help="资质证书名称或编号")
DESTROY_METHOD = Field("destroy_method", "销毁方式", Choice(("送交承销单位销毁", "粉碎", "消磁", "物理损毁存储部件")),
                       required=True)
INVENTORY = Field("inventory", "销毁清单编号", Text(max_length=40, upper=True), help="不填时自动编号")
CIRCUMSTANCES = Field("circumstances", "情况说明", Text(max_length=500, multiline=True), required=True,
                      help="何时何处发现、最后由谁保管")
FOUND_HOW = Field("found_how", "找到经过", Text(max_length=500, multiline=True), required=True)
RETURN_NOTE = Field("return_note", "说明", Text(max_length=200))
LENDABLE = ("在管", "已分发")

COPY_ACTIONS = (
    Action("distribute", "分发", "已分发", ("在管",), (RECIPIENT, RECIPIENT_UNIT, APPROVER), RULE_SEND),
    Action("lend", "借阅", "借出", LENDABLE, (*LOAN_FACTS, APPROVER, BEYOND_SCOPE), RULE_LEND),
    Action("give_back", "归还", "在管", ("借出", "已分发", "外出", "送修"), (RETURN_NOTE,), RULE_LEND),
    Action("copy", "复制", None, LENDABLE, (COPY_KIND, COPY_COUNT, COPY_AS, APPROVER, ISSUER_CONSENT, TOP_EXCEPTION),
           RULE_COPY),
    Action("clear", "清退", "清退", LENDABLE, (RETURNED_TO, APPROVER, *CLOSING_FACTS), RULE_CLEAR),
    Action("transfer", "移交", None, LENDABLE, (NEW_HOLDER, APPROVER), RULE_BOOK),
    Action("repair", "送修", "送修", ("在管",), (*REPAIR_FACTS, APPROVER), RULE_REPAIR),
    Action("destroy", "销毁", "已销毁", ("在管",),
           (APPROVER, SUPERVISOR_1, SUPERVISOR_2, CONTRACTOR, CONTRACTOR_LICENCE, DESTROY_METHOD, INVENTORY,
            *CLOSING_FACTS), RULE_DESTROY),
    Action("missing", "下落不明", "下落不明", ("在管", "已分发", "借出", "外出", "送修"), (CIRCUMSTANCES,), RULE_MISSING),
    Action("found", "找到", "在管", ("下落不明",), (FOUND_HOW,), RULE_MISSING),
)

COPY_LIFECYCLE = Lifecycle(
    statuses=("在管", "已分发", "借出", "外出", "送修", "下落不明", "清退", "已销毁"),
    initial="在管",
    closing=frozenset({"清退", "已销毁"}),
    # 清退 gives the copy back to its issuer: it is no longer the unit's to destroy (seed 002 §八)
    terminal=frozenset({"清退", "已销毁"}),
    synonyms={"分发": "已分发", "已发放": "已分发", "发放": "已分发", "维修": "送修", "送修中": "送修",
              "丢失": "下落不明", "遗失": "下落不明"},
    # the statuses an action leads into record its facts (a copy 借出 is away: forms warn)
    facts={"外出": TAKEOUT_FACTS, **{a.to: a.facts for a in COPY_ACTIONS if a.to not in (None, "在管")}},
    fit_to_go_out=frozenset({"在管", "外出"}),
    actions=COPY_ACTIONS,
)


def declassify_on(values: Mapping[str, Any]) -> dt.date | None:
    """解密时间: 定密时间 plus the secrecy period (the statutory years of the level when none
    is set); none for 长期."""
    start = values.get("classified_on")
    level = values.get("level")
    years = values.get("secrecy_period") or levels.STATUTORY_YEARS.get(level)
    if start is None or years is None or years >= levels.LONG_TERM:
        return None
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def _sample(ctx: SampleContext) -> Iterator[dict]:
    rng = ctx.rng
    titles = ("关于加强保密管理工作的通知", "年度科研计划", "型号设计图纸", "技术方案评审意见", "保密检查情况通报")
    for n in range(1, ctx.count(30) + 1):
        level = rng.choices(levels.LEVELS, (1, 4, 8))[0]
        made = samples.past_date(rng, 6)
        yield {
            "carrier_number": f"ZT-{made[:4]}-{n:03d}",
            "title": rng.choice(titles),
            "doc_number": f"保字〔{made[:4]}〕{rng.randint(1, 99)}号",
            "issuer": rng.choice(("上级机关", "本单位", "合作单位")),
            "level": f"{level}★{rng.choice(('', '10年', '长期'))}" if rng.random() < 0.5 else level,
            "classified_on": made,
            "form": rng.choices(FORMS, (8, 2, 1, 1, 1, 1, 1))[0],
            "copies": rng.randint(1, 5),
            "pages": rng.randint(2, 40),
            "source": rng.choice(SOURCES),
            "received_on": made,
            "keeper": rng.choice(ctx.people),
            "department": rng.choice(samples.DEPARTMENTS),
            "location": f"{rng.choice(samples.DEPARTMENTS)}保密柜",
        }


def _copy_sample(ctx: SampleContext) -> Iterator[dict]:
    for carrier in ctx.made.get("carriers", ()):
        for copy in range(1, int(carrier["copies"]) + 1):
            yield {"_parent": carrier["carrier_number"], "copy_number": copy, "holder": ctx.rng.choice(ctx.people)}


CARRIERS = Ledger(
    key="carriers",
    title="国家秘密载体台账",
    noun="涉密载体",
    fields=(
        Field("carrier_number", "登记编号", Text(max_length=40, upper=True), required=True, unique=True,
              searchable=True, synonyms=("编号", "载体编号", "登记号", "收文编号")),
        Field("title", "标题", Text(max_length=200), required=True, searchable=True,
              synonyms=("名称", "文件名称", "载体名称", "文件标题")),
        Field("doc_number", "文号", Text(max_length=60), searchable=True, synonyms=("发文字号", "文件编号"),
              carries=("copy_number",)),  # 国保发〔2024〕3号（第1-3份）: the copies' 份号 in the 文号 cell
        # seed 002 §八(四) says 制发机关、单位: the issuer of a received carrier, the unit itself for one made here
        Field("issuer", "制发单位", Text(max_length=60), searchable=True,
              synonyms=("发文单位", "来文单位", "发文机关", "制发机关", "制作单位"), help="接收的载体填发文单位;自制的填本单位"),
        common.level(period_field="secrecy_period"),
        Field("secrecy_period", "保密期限", SecrecyPeriod(), synonyms=("期限",),
              help="不填时按密级的法定期限:绝密30年、机密20年、秘密10年"),
        Field("classified_on", "定密时间", Date(), synonyms=("成文日期", "定密日期", "印发日期")),
        Field("declassify_on", "解密时间", Date(not_future=False), compute=declassify_on,
              synonyms=("解密日期",), help="按定密时间和保密期限算出"),
        Field("form", "载体形式", Choice(FORMS, open_list=True), default="纸质", facet=True,
              synonyms=("形式", "载体类型")),
        Field("copies", "份数", Integer(minimum=1, maximum=10_000), required=True, default=1, synonyms=("数量",)),
        Field("pages", "页数", Integer(minimum=0, maximum=100_000), shown=False, synonyms=("页码",)),
        Field("scope", "知悉范围", Text(max_length=200), shown=False, synonyms=("发放范围", "分发范围")),
        Field("source", "来源", Choice(SOURCES), default="接收", facet=True, synonyms=("载体来源",)),
        # a copy made by copying is a carrier of its own, linked to its source and stamped 复制
        # (seed 002 §八(四): 复制件要加盖复制戳记,并视同原件管理)
        Field("source_carrier", "复制来源", Reference(("carriers",)), shown=False, synonyms=("原件编号",)),
        Field("stamp", "加盖戳记", Choice((RECEIVED_STAMP, COPY_STAMP), open_list=True), shown=False,
              synonyms=("戳记",), help="接收时加盖收文章,复制件加盖复制戳记"),
        Field("return_required", "须清退", Choice(("是", "否")), default="否", shown=False,
              synonyms=("是否清退",), help="须清退的文件不得自行销毁"),
        Field("received_on", "收到日期", Date(), in_service=True, synonyms=("接收日期", "制作日期", "登记日期")),
        Field("keeper", "保管人", Person(in_charge=True), required=True, searchable=True, synonyms=("保管人员", "管理人", "责任人")),
        common.department(),
        common.location("存放位置"),
        common.status(CARRIER_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=CARRIER_LIFECYCLE,
    key_field="carrier_number",
    key_from="doc_number",  # a book kept by 文号 with no 登记编号 of its own
    aliases=("载体", "涉密载体", "国家秘密载体"),
    label=LabelSpec("国家秘密载体", ("国家秘密载体", "严禁私自", "留存、", "复制和", "带出"),
                    lines=("carrier_number", "keeper", "classified_on")),
    forms=("destruction", "copy", "borrowing"),
    registers=True,
    sample=_sample,
)

# The missing clock (seed 003 泄密事件报告和查处制度 第二条): a copy marked 下落不明 counts days
# from the day it was marked; not found within 10 days (绝密) or 60 (机密, 秘密) it is a leak.
# The status change stamps the day and the last day it may be found (services/missing_clock.py,
# from the copy's status history and its carrier's 密级), so the watch list is one index range
# over 查找期限; the leak event the clock opened is named on the copy, so it opens once.
MISSING = "下落不明"
DUE_BACK = ("借出",)  # statuses in which a copy is due back by its 应归还日期
DUE_ON, TITLE = "due_on", "title"  # the copy's 应归还日期 and its carrier's 标题, as the watch list shows them
DOC_NUMBER = "doc_number"  # the carrier's 文号, as its copies' cover and envelope labels show it
# The three are read from an imported register (recorded): a copy a unit's ledger lists as
# missing since a day keeps its clock, and the leak event already opened for it stays named, so
# that the check neither forgets the copy nor opens a second event. A copy imported missing
# with its day and no 查找期限 gets the deadline of its carrier's 密级 (missing_clock.imported).
MISSING_SINCE = Field("missing_since", "下落不明日期", Date(), editable=False, recorded=True,
                      help="标为下落不明之日(按状态变更记录;导入时取自台账)")
SEARCH_UNTIL = Field("search_until", "查找期限", Date(not_future=False), editable=False, indexed=True, recorded=True,
                     help="绝密10日、机密和秘密60日内查无下落的,按泄密事件处理")
LEAK_EVENT = Field("leak_event", "泄密事件", Reference(("leak_events",)), editable=False, recorded=True)


@own_values_only
def _clock_only_when_missing(ctx: RuleContext) -> dict[str, str]:
    """A copy registered (imported) with a missing clock must be 下落不明: 找到 or 清退 stopped
    the clock and cleared both days, so a day beside another status is a mistake in the file,
    not something to keep or to drop silently. (Of a record already held, the service itself
    keeps the clock: not looked at.)"""
    if ctx.record_id is not None:
        return {}
    since, until = ctx.values.get(MISSING_SINCE.name), ctx.values.get(SEARCH_UNTIL.name)
    status = ctx.values.get("status")
    if status != MISSING and (since or until):
        name = MISSING_SINCE.name if since else SEARCH_UNTIL.name
        return {name: f"状态为“{status}”的载体份不记{MISSING_SINCE.label}和{SEARCH_UNTIL.label}"
                      f"(找到、清退时已停止计时),请核对状态或删去该日期"}
    if until and not since:
        return {SEARCH_UNTIL.name: f"有{SEARCH_UNTIL.label}而无{MISSING_SINCE.label},请填写{MISSING_SINCE.label}"}
    if since and until and until < since:
        return {SEARCH_UNTIL.name: f"{SEARCH_UNTIL.label} {until.isoformat()} 早于{MISSING_SINCE.label} "
                                   f"{since.isoformat()},请核对"}
    return {}


def missing_report(carrier: Mapping[str, Any], copies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the first report of a leak (seed 003 第八条) takes from missing copies of one
    carrier: the item (title, 文号, 登记编号, 份号), its 密级, where it was kept and who held
    it (the copy's holder, else the carrier's keeper); see ``leak_events.first_report``."""
    numbers = sorted(c["copy_number"] for c in copies)
    held = [c["holder"] for c in copies if c.get("holder") is not None]
    doc = f"({carrier['doc_number']})" if carrier.get("doc_number") else ""
    return {
        "item": f"《{carrier.get('title') or ''}》{doc} {carrier['carrier_number']} 第 "
                + "、".join(map(str, numbers)) + " 份",
        "carrier_id": carrier.get("id"),
        "copy_numbers": "、".join(map(str, numbers)),
        "level": carrier.get("level"),
        "place": carrier.get("location"),
        "responsible": held[0] if held else carrier.get("keeper"),
        "department": carrier.get("department"),
    }


CARRIER_COPIES = Ledger(
    key="carrier_copies",
    title="载体份号登记",
    noun="载体份",
    fields=(
        Field("copy_number", "份号", Integer(minimum=1, maximum=10_000), required=True, unique=True,
              synonyms=("份数号", "份次")),
        Field("holder", "持有人", Person(in_charge=True), searchable=True, synonyms=("保管人", "领取人", "借阅人")),
        Field("due_on", "应归还日期", Date(not_future=False), synonyms=("归还日期", "应还日期")),
        common.location("存放位置"),
        common.status(COPY_LIFECYCLE),
        MISSING_SINCE,
        SEARCH_UNTIL,
        LEAK_EVENT,
        common.remarks(),
    ),
    lifecycle=COPY_LIFECYCLE,
    key_field="copy_number",
    parent="carriers",
    parent_label="所属载体",
    counted_by="copies",
    # what a check lists of each copy (services/carrier_checks.py): 份号, status, place, holder
    by_parent_index=("copy_number", "status", "location", "holder"),
    rules=(_clock_only_when_missing,),
    sample=_copy_sample,
)
