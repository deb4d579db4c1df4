"""因私出入境证件: the classified staff's passports and permits, held centrally by the unit
(issue 14 item 3; seed 003 涉密人员管理制度 第六条: 由单位人事部门统一管理涉密人员出入境证件;
seed 000: 因私出入境证件应在回国(境)10天内交组织人事部门集中保管).

A document is 在库 in the unit's safe; 领取 hands it to the holder for an approved trip whose
行前保密提醒谈话 was held (services/travel.py refuses it otherwise, naming the rule) and sets
the day it is due back: the trip's 回国(境)日期 plus the unit's return period (a setting, 10 days
by default as seed 000 says). 交回 puts it back in the safe. Both are recorded actions with
their signatures' names (领取人/交回人, 经办人), one history event each, as a carrier copy's
借阅 and 归还 are. 应交回日期 is stored and indexed: the overdue list is one index range.

Numbers are checked by the kind's format (护照 E/G, 往来港澳通行证 C/W, 往来台湾通行证 L/T and
the digits after): the kinds' letters differ, so a number unique in the ledger is unique per kind.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterator

from mibao_desktop.ledgers import common
from mibao_desktop.ledgers.declaration import CLOSING_FACTS, Action, Ledger, Lifecycle, RuleContext, SampleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, Person, Reference, Text

RULE_HELD = "涉密人员管理制度第六条:由单位人事部门统一管理涉密人员出入境证件"  # seed 003
RULE_BACK = "因私出入境证件应在回国(境)后规定时间内交回所在单位集中保管"  # seed 000 (10 天)

PASSPORT, HK_MACAO, TAIWAN = "护照", "往来港澳通行证", "往来台湾通行证"
KINDS = (PASSPORT, HK_MACAO, TAIWAN)
# I, O are not used as the letter after the first (they read as 1 and 0)
_SECOND = "[A-HJ-NP-Z]"
NUMBER_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    PASSPORT: (re.compile(rf"^(?:E\d{{8}}|E{_SECOND}\d{{7}}|G\d{{8}})$"), "E 或 G 开头,共 9 位(如 E12345678、EA1234567)"),
    HK_MACAO: (re.compile(rf"^(?:C\d{{8}}|C{_SECOND}\d{{7}}|W\d{{8}})$"), "C 或 W 开头,共 9 位(如 C12345678)"),
    TAIWAN: (re.compile(rf"^(?:L\d{{8}}|L{_SECOND}\d{{7}}|T\d{{8}})$"), "L 或 T 开头,共 9 位(如 L12345678)"),
}
_KIND_WORDS = {"普通护照": PASSPORT, "因私护照": PASSPORT, "港澳通行证": HK_MACAO, "往来港澳通行证": HK_MACAO,
               "港澳": HK_MACAO, "台湾通行证": TAIWAN, "台胞证": TAIWAN, "赴台证": TAIWAN, "往来台湾通行证": TAIWAN}

IN_SAFE, OUT, CANCELLED = "在库", "已领取", "已注销"
NUMBER, HOLDER, KIND, EXPIRES_ON, TRIP, DUE_ON = "document_number", "holder", "kind", "expires_on", "trip", "due_on"

# the signatures' names: who took it or brought it back, and who handed it over or took it in
COLLECTOR = Field("collector", "领取人", Person(), required=True, help="领取证件的本人")
RETURNER = Field("returner", "交回人", Person(), required=True)
HANDLER = Field("handler", "经办人", Text(max_length=40), required=True, help="人事(保密)部门办理的人")

DOCUMENT_ACTIONS = (
    Action("collect", "领取", OUT, (IN_SAFE,), (COLLECTOR, HANDLER), RULE_HELD),
    Action("hand_back", "交回", IN_SAFE, (OUT,), (RETURNER, HANDLER), RULE_BACK),
    Action("cancel", "注销", CANCELLED, (IN_SAFE,), CLOSING_FACTS, RULE_HELD),
)

DOCUMENT_LIFECYCLE = Lifecycle(
    statuses=(IN_SAFE, OUT, CANCELLED),
    initial=IN_SAFE,
    closing=frozenset({CANCELLED}),
    terminal=frozenset({CANCELLED}),
    synonyms={"在柜": IN_SAFE, "集中保管": IN_SAFE, "已交回": IN_SAFE, "领取": OUT, "借出": OUT, "已借出": OUT,
              "注销": CANCELLED, "作废": CANCELLED, "已过期": CANCELLED},
    actions=DOCUMENT_ACTIONS,
)

RETURN_SETTING = "exit_document_return_days"  # services/travel.py: days after the trip's return
RETURN_DAYS = 10  # seed 000: 回国(境)10天内交组织人事部门集中保管
EXPIRY_SETTING = "exit_document_expiry_warning_days"
EXPIRY_DAYS = 180  # a document expiring within half a year is listed (most countries ask 6 months' validity)


class _Kind(Choice):
    def normalise(self, raw):  # 港澳通行证 → 往来港澳通行证
        text = re.sub(r"\s", "", str(raw or ""))
        return super().normalise(_KIND_WORDS.get(text, text))


def _number_fits_kind(ctx: RuleContext) -> dict[str, str]:
    kind, number = ctx.values.get(KIND), ctx.values.get(NUMBER)
    if kind in NUMBER_FORMATS and number:
        pattern, words = NUMBER_FORMATS[kind]
        if not pattern.match(number):
            return {NUMBER: f"“{number}”不像{kind}号码:{words}"}
    return {}


def _dates_in_order(ctx: RuleContext) -> dict[str, str]:
    issued, expires = ctx.values.get("issued_on"), ctx.values.get(EXPIRES_ON)
    if issued and expires and expires <= issued:
        return {EXPIRES_ON: f"有效期至 {expires.isoformat()} 不晚于签发日期 {issued.isoformat()},请核对"}
    return {}


def _sample(ctx: SampleContext) -> Iterator[dict]:
    """A passport for the first sample people of the 重要/一般 grades, a 港澳 permit for one
    (the trips' sample rows travel with them); one passport expiring within the warning."""
    today = dt.date.today()
    people = [f"{r['name']}({r['person_number']})" for r in ctx.made.get("people", ())
              if r.get("grade") in ("重要", "一般") and r.get("person_number")][:4]
    for n, who in enumerate(people or [ctx.people[0]]):
        issued = today - dt.timedelta(days=400 * (n + 1))
        # ten years on; issued on 29 February (today 400 days after one), the 28th
        expires = (today + dt.timedelta(days=60) if n == 3
                   else issued.replace(year=issued.year + 10, day=min(issued.day, 28 if issued.month == 2 else 31)))
        yield {NUMBER: f"E{ctx.rng.randint(10_000_000, 99_999_999)}", HOLDER: who, KIND: PASSPORT,
               "issued_on": issued.isoformat(), EXPIRES_ON: expires.isoformat(), "location": "人事处证件保密柜"}
    if people:
        yield {NUMBER: f"C{ctx.rng.randint(10_000_000, 99_999_999)}", HOLDER: people[-1], KIND: HK_MACAO,
               "issued_on": (today - dt.timedelta(days=700)).isoformat(),
               EXPIRES_ON: (today + dt.timedelta(days=3 * 365)).isoformat(), "location": "人事处证件保密柜"}


EXIT_DOCUMENTS = Ledger(
    key="exit_documents",
    title="因私出入境证件登记",
    noun="出入境证件",
    fields=(
        Field(NUMBER, "证件号码", Text(max_length=12, upper=True), required=True, unique=True, searchable=True,
              synonyms=("证件号", "护照号", "护照号码", "通行证号码", "号码")),
        Field(HOLDER, "持证人", Person(held_in=frozenset({OUT})), required=True, searchable=True, synonyms=("姓名", "证件持有人", "持有人")),
        Field(KIND, "证件类别", _Kind(KINDS), required=True, facet=True, synonyms=("证件类型", "证件名称", "类别")),
        Field("issued_on", "签发日期", Date(), synonyms=("签发时间", "发证日期")),
        Field(EXPIRES_ON, "有效期至", Date(not_future=False), required=True,
              synonyms=("有效期", "有效期限", "到期日期", "失效日期")),
        common.location("存放位置"),
        Field(TRIP, "领取事由", Reference(("trips",)), editable=False, recorded=True, shown=False,
              help="领取时所为的出国(境),交回后保留为最近一次"),
        Field(DUE_ON, "应交回日期", Date(not_future=False), editable=False, recorded=True,
              help="领取时按出国(境)的回国(境)日期加交回期限(设置)算出"),
        common.status(DOCUMENT_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=DOCUMENT_LIFECYCLE,
    rules=(_number_fits_kind, _dates_in_order),
    key_field=NUMBER,
    aliases=("出入境证件", "证件", "护照", "exit_document"),
    forms=("document_register",),
    sample=_sample,
)
