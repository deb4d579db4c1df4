"""The unit's people (人员名册): everyone a device, medium or carrier is in the charge of.

Person fields of every ledger (责任人, 使用人, 保管人) refer to this register, so that one
person's holdings can be listed on one page (the start of the 离岗 check), and two people of
the same name are told apart by department and number. A name typed in a form or an import
that is not yet here is added, so that entry stays as quick as typing a name. The classified
staff ledger (涉密人员) grows out of this register.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from mibao_desktop.ledgers import common, decommission, levels, samples
from mibao_desktop.ledgers.declaration import PEOPLE_LIFECYCLE, Ledger, RuleContext, SampleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, IdNumber, Level, PersonName, Text
from mibao_desktop.ledgers.normalize import FieldError, clean_text, id_check_digit

GRADES = ("核心", "重要", "一般")  # 涉密人员 by their post (seed 002: 核心、重要、一般涉密人员, 以岗定人)
# someone who holds only unclassified devices is in the register too, graded as no 涉密人员: a
# grade of its own rather than a blank, so that "not classified staff" is said, not forgotten.
# Kept out of GRADES: the training minimums, review intervals and 脱密期 are per classified grade
UNCLASSIFIED = "非涉密"
POST_LEVEL = "post_level"
ID_NUMBER, ID_TAIL = "id_number", "id_tail"
# how units write a grade: 核心涉密人员, 重要涉密, 一般级; seed 003 calls the 重要 ones 重点涉密人员
_GRADE_ENDINGS = re.compile(r"(?:涉密人员|涉密岗位|涉密|人员|岗位|级)$")
_GRADE_WORDS = {"重点": "重要", "非": UNCLASSIFIED, "不": UNCLASSIFIED, "无": UNCLASSIFIED}


@dataclass(frozen=True)
class StaffGrade(Choice):
    """涉密等级 (核心/重要/一般, or 非涉密), bare or written out (核心涉密人员, 非涉密人员). A unit
    that grades its people by the post's 密级 instead (机密, 秘密) writes that under the same
    heading: ``level_field`` names where such a cell goes (the import moves it there and says
    so), never read as a grade."""

    choices: tuple[str, ...] = (*GRADES, UNCLASSIFIED)
    level_field: str = POST_LEVEL

    def normalise(self, raw: Any) -> str:
        text = re.sub(r"\s", "", clean_text(raw))
        word = _GRADE_ENDINGS.sub("", text) if len(text) > 2 else text
        return super().normalise(_GRADE_WORDS.get(word, word))


@dataclass(frozen=True)
class Verdict(Choice):
    """任前审查的结论: 通过 or 不通过, as units also write it (合格, 同意, 不合格 …)."""

    choices: tuple[str, ...] = ("通过", "不通过")
    _WORDS = {"合格": "通过", "同意": "通过", "符合": "通过", "审查通过": "通过", "已通过": "通过",
              "不合格": "不通过", "不同意": "不通过", "不符合": "不通过", "未通过": "不通过", "审查不通过": "不通过"}

    def normalise(self, raw: Any) -> str:
        text = re.sub(r"\s", "", clean_text(raw))
        return super().normalise(self._WORDS.get(text, text))


POLITICAL_STATUSES = ("中共党员", "中共预备党员", "共青团员", "民主党派", "无党派人士", "群众")


@dataclass(frozen=True)
class PoliticalStatus(Choice):
    """政治面貌 as the list names it, also when written short (党员, 团员, 预备党员); any other
    (a named democratic party: 民盟盟员) is kept as typed."""

    choices: tuple[str, ...] = POLITICAL_STATUSES
    open_list: bool = True
    max_length: int = 20
    _WORDS = {"党员": "中共党员", "共产党员": "中共党员", "中国共产党党员": "中共党员", "预备党员": "中共预备党员",
              "团员": "共青团员", "共青团": "共青团员", "无党派": "无党派人士"}

    def normalise(self, raw: Any) -> str:
        text = re.sub(r"\s", "", clean_text(raw))
        return super().normalise(self._WORDS.get(text, raw))

# -- 复审 (periodic re-review) --------------------------------------------------------------
# How often each grade is reviewed again is the unit's setting (PEERS.md: 核心 yearly, 重要 every
# 3 years, 一般 every 5 years is common; the seeds set no number). 下次复审日期 is stored, not
# worked out when read: the list of people due for review is then an index range, sortable
# like any date. It stays right when the setting changes because the settings service, saving
# new intervals, recomputes it for every person in the same transaction
# (services/settings.py set_review_intervals), and installs the new intervals here, as the
# unit's levels are (Database.take_unit_levels: at open, at each login, when saved), so that
# records written afterwards compute with them.
REVIEW_SETTING = "review_intervals"
REVIEW_YEARS: dict[str, int] = {"核心": 1, "重要": 3, "一般": 5}
REVIEW_YEARS_MAX = 10
_review_years: dict[str, int] = dict(REVIEW_YEARS)


def review_intervals(stored: Mapping[str, Any] | None = None) -> dict[str, int]:
    """The intervals in years by grade, from a stored setting (the defaults where it says nothing);
    with nothing given, the ones in use."""
    if stored is None:
        return dict(_review_years)
    out = dict(REVIEW_YEARS)
    for grade, years in (stored or {}).items():
        if grade in out and isinstance(years, int) and 1 <= years <= REVIEW_YEARS_MAX:
            out[grade] = years
    return out


def use_review_intervals(years: Mapping[str, int]) -> None:
    _review_years.clear()
    _review_years.update(review_intervals(years))


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none: the day before
        return day.replace(year=day.year + years, day=28)


def next_review(values: Mapping[str, Any], years: Mapping[str, int] | None = None) -> dt.date | None:
    """下次复审日期: the last 复审, or for someone never reviewed again the 任前审查, plus the
    grade's interval; none for who is no classified staff or was never reviewed, and none for
    who has left the post (脱密期, 已脱密, 调离, 退休): a 复审 is of people in post, so that every
    reader of the stored date (the 首页's 复审 due, a sort, a filter) leaves them out without
    knowing the statuses. The ledger service computes it again when the status changes
    (back to 在岗: due again from the same basis)."""
    if values.get("status") in PEOPLE_LIFECYCLE.closing:
        return None
    interval = (years or _review_years).get(values.get("grade") or "")
    basis = values.get("last_review") or values.get("vetted_on")
    return add_years(basis, interval) if interval and basis else None


def _id_tail(values: Mapping[str, Any]) -> str | None:
    """身份证号后四位 follows the full number whenever there is one (a namesake is told apart
    by it, 张伟(123X)); without one it is what the unit typed."""
    number = values.get(ID_NUMBER)
    return number[-4:] if number else values.get(ID_TAIL)


def _vetting_dated(ctx: RuleContext) -> dict[str, str]:
    if ctx.values.get("vetting_result") and not ctx.values.get("vetted_on"):
        return {"vetted_on": "填写了审查结论,请同时填写任前审查日期"}
    return {}


def _dates_in_order(ctx: RuleContext) -> dict[str, str]:
    v = ctx.values
    became, review = v.get("became_classified_on"), v.get("last_review")
    errors = {}
    if became and review and review < became:
        errors["last_review"] = f"上次复审日期 {review.isoformat()} 早于成为涉密人员日期 {became.isoformat()},请核对"
    # a period ending before it starts would be "served" at the next morning's check (已脱密)
    start, until = v.get(decommission.FROM.name), v.get(decommission.UNTIL.name)
    if start and until and until < start:
        errors[decommission.UNTIL.name] = (f"脱密期截止 {until.isoformat()} 早于脱密期开始 {start.isoformat()},"
                                           "请核对")
    return errors


def sample_id_number(rng: Any, birth: dt.date) -> str:
    """A made-up ID number with a correct check digit (演示数据: 110105 is 北京市朝阳区)."""
    first = f"{rng.choice(('110105', '110108', '320102', '330602', '440305'))}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first + id_check_digit(first)


_SAMPLE_POSTS = {"核心": ("机要员", "计算机机房管理员", "保密办主任"), "重要": ("领导秘书", "科研项目负责人", "档案管理员"),
                 "一般": ("涉密会议工作人员", "科研人员", "财务人员")}


def _sample(ctx: SampleContext) -> Iterator[dict]:
    today = dt.date.today()
    taken: set[str] = set()
    for number, name in enumerate(ctx.people, start=1):
        rng = ctx.rng
        # numbered as the register would number them, so that their files (人员档案) name them
        row: dict[str, Any] = {"person_number": f"RY-{number:04d}", "name": name,
                               "department": rng.choice(samples.DEPARTMENTS),
                               "sex": rng.choice(("男", "女")),
                               "political_status": rng.choice(("中共党员", "中共党员", "群众", "共青团员"))}
        birth = today - dt.timedelta(days=rng.randint(25 * 365, 58 * 365))
        number = sample_id_number(rng, birth)
        while number in taken:
            number = sample_id_number(rng, birth)
        taken.add(number)
        row[ID_NUMBER] = number
        grade = rng.choice((*GRADES, "一般", UNCLASSIFIED))
        row["grade"] = grade
        if grade != UNCLASSIFIED:
            became = today - dt.timedelta(days=rng.randint(200, 12 * 365))
            vetted = became - dt.timedelta(days=rng.randint(7, 40))
            row.update(post=rng.choice(_SAMPLE_POSTS[grade]), post_level="机密" if grade == "核心" else "秘密",
                       became_classified_on=became.isoformat(), appointed_on=became.isoformat(),
                       vetted_on=vetted.isoformat(), vetting_result="通过",
                       commitment_signed_on=(became - dt.timedelta(days=rng.randint(0, 6))).isoformat(),
                       phone=f"1{rng.choice('358')}{rng.randint(0, 999999999):09d}")
            interval = REVIEW_YEARS[grade]
            reviewed = add_years(vetted, interval)
            done: list[dt.date] = []
            while reviewed <= today:
                done.append(reviewed)
                reviewed = add_years(reviewed, interval)
            # reviewed on time, but for about one in ten whose latest 复审 fell due in the last
            # half year and is not done yet (a unit's books look so: a few overdue by weeks or
            # months, not a decade of reviews missed)
            if done and (today - done[-1]).days <= 180 and rng.random() < 0.3:
                done.pop()
            last = done[-1] if done else None
            if last is not None:
                row["last_review"] = last.isoformat()
        yield row
    yield from decommission.sample_rows(ctx)


PEOPLE = Ledger(
    key="people",
    title="人员名册",
    noun="人员",
    fields=(
        Field("person_number", "人员编号", Text(max_length=20, upper=True), required=True, unique=True,
              searchable=True, synonyms=("编号", "工号", "职工号", "人员编号"),
              help="留空时自动编号;同名的人凭编号、部门区分"),
        Field("name", "姓名", PersonName(max_length=20), required=True, searchable=True, pinyin_sort=True, synonyms=("名字", "人员姓名")),
        common.department(required=False),
        Field("sex", "性别", Choice(("男", "女")), synonyms=("性 别",)),
        Field("post", "岗位", Text(max_length=40), searchable=True,
              synonyms=("涉密岗位", "职务", "岗位名称", "涉密岗位名称", "所在岗位")),
        Field("grade", "涉密等级", StaffGrade(), facet=True,
              synonyms=("涉密人员等级", "涉密人员类别", "涉密类别", "人员类别", "涉密程度", "涉密人员分类"),
              help="核心、重要或一般(以岗定人);只使用非涉密设备的人员选非涉密"),
        Field(POST_LEVEL, "岗位密级", Level(levels.LEVELS), facet=True,
              synonyms=("涉密岗位密级", "岗位涉密等级", "所在岗位密级"),
              help="所在涉密岗位的密级(机密、秘密等);不是涉密人员的留空"),
        Field("political_status", "政治面貌", PoliticalStatus(), shown=False,
              synonyms=("政治身份", "党派")),
        Field(ID_NUMBER, "身份证号", IdNumber(), unique=True, searchable=True,
              synonyms=("身份证号码", "公民身份号码", "身份证", "居民身份证号码", "身份证件号码", "证件号码"),
              help="18位居民身份证号码,核对校验位;只有安全保密管理员看到完整号码"),
        Field(ID_TAIL, "身份证号后四位", Text(max_length=4, upper=True), synonyms=("身份证后四位",),
              compute=_id_tail, typed_too=True,
              help="同名时用于区分;填写了身份证号的按身份证号自动填写"),
        Field("phone", "联系电话", Text(max_length=30), shown=False, synonyms=("电话", "手机", "联系方式")),
        Field("became_classified_on", "成为涉密人员日期", Date(), shown=False,
              synonyms=("确定涉密人员日期", "涉密起始日期", "确定为涉密人员时间", "上岗日期")),
        Field("appointed_on", "任现岗日期", Date(), shown=False,
              synonyms=("任现岗时间", "任职日期", "现岗位任职时间", "任现职时间")),
        Field("vetted_on", "任前审查日期", Date(), shown=False,
              synonyms=("审查日期", "上岗前审查日期", "保密审查日期", "任前审查时间", "政审日期")),
        Field("vetting_result", "审查结论", Verdict(), shown=False,
              synonyms=("审查结果", "任前审查结果", "任前审查结论", "保密审查结果", "政审结果")),
        Field("commitment_signed_on", "保密承诺书签订日期", Date(), shown=False,
              synonyms=("承诺书签订日期", "签订保密承诺书日期", "保密承诺书签订时间", "签订承诺书时间")),
        Field("last_review", "上次复审日期", Date(), shown=False,
              synonyms=("复审日期", "最近复审日期", "上次复审时间", "复查日期")),
        Field("next_review", "下次复审日期", Date(not_future=False), compute=next_review,
              synonyms=("下次复审时间", "应复审日期"),
              help="按涉密等级的复审周期(设置)从上次复审或任前审查日期算出"),
        common.status(PEOPLE_LIFECYCLE),
        decommission.FROM,
        decommission.UNTIL,
        common.remarks(),
    ),
    lifecycle=PEOPLE_LIFECYCLE,
    rules=(_vetting_dated, _dates_in_order),
    key_field="person_number",
    label_field="name",
    default_sort="person_number",
    aliases=("人员", "人员名册", "person"),
    auto_number="RY-{:04d}",
    forms=("holdings", "commitment", "departure"),
    sample=_sample,
)
