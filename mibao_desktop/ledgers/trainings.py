"""保密教育培训: the training sessions and who attended each (seed 002 §六 1 在岗教育培训).

Seed 002: "保证一般涉密人员每年接受不少于4个学时,核心、重要涉密人员每年接受不少于8个学时的保密
专题教育培训". A session (培训) is a record with its date, subject and 学时; each attendee is a
child record (参训人员) naming a person of the 人员名册, once per session. A person's hours in a
year are the sum of the hours of the sessions they attended that year (an attendee who left
early may carry their own 学时), read by ``services/training.py`` against the minimums, which
are the unit's settings (these are the seed's defaults).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterator

from mibao_desktop.ledgers import common, samples
from mibao_desktop.ledgers.declaration import Ledger, Lifecycle, RuleContext, SampleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, Person, Tenths, Text

# seed 002 §六 1: hours a year by 涉密等级 (people.GRADES); a setting of the unit, these its defaults
MINIMUM_HOURS = {"核心": Decimal(8), "重要": Decimal(8), "一般": Decimal(4)}
RULE = "保密管理规定六(二)1“在岗教育培训”:一般涉密人员每年不少于4个学时,核心、重要涉密人员每年不少于8个学时"

# seed 002 §五 3 (形式) and 4 (要求: 领导小组培训班、岗位培训班、日常管理培训班、定密培训班、专题培训班)
FORMS = ("集中培训", "专题讲座", "网络培训", "会议传达", "考试", "知识竞赛", "警示教育", "其他")
DATE, SUBJECT, HOURS, LECTURER, PLACE = "held_on", "subject", "hours", "lecturer", "place"
PERSON = "person"  # the attendee (参训人员), a person of the register
OWN_HOURS = "attended_hours"  # 本人学时: of a session left early

TRAINING_LIFECYCLE = Lifecycle(statuses=("已举办",), initial="已举办",
                               synonyms={"已完成": "已举办", "完成": "已举办", "已培训": "已举办"})
ATTENDANCE_LIFECYCLE = Lifecycle(statuses=("已参加",), initial="已参加",
                                 synonyms={"已签到": "已参加", "签到": "已参加", "参加": "已参加", "出席": "已参加"})

HOURS_TYPE = Tenths(minimum=1, maximum=2000, unit="")


def _sample(ctx: SampleContext) -> Iterator[dict]:
    subjects = ("保密法及实施条例学习", "涉密人员日常管理培训", "保密警示教育", "定密工作培训", "涉密载体管理专题讲座",
                "保密技术防范知识")
    year = dt.date.today().year
    for n in range(1, ctx.count(6) + 1):
        held = dt.date(year, 1, 1) + dt.timedelta(days=ctx.rng.randint(0, max(0, dt.date.today().timetuple().tm_yday - 1)))
        yield {
            "training_number": f"PX-{year}-{n:03d}",
            DATE: held.isoformat(),
            SUBJECT: ctx.rng.choice(subjects),
            HOURS: ctx.rng.choice(("2", "1.5", "3", "4")),
            LECTURER: ctx.rng.choice(("保密办", "上级保密局", "保密办 王主任")),
            PLACE: samples.room(ctx.rng),
            "form": ctx.rng.choice(FORMS[:3]),
        }


def _attendance_sample(ctx: SampleContext) -> Iterator[dict]:
    for training in ctx.made.get("trainings", ()):
        # some people miss sessions, so the demo's compliance list has people short of hours
        for name in ctx.rng.sample(list(ctx.people), k=max(1, int(len(ctx.people) * 0.6))):
            yield {"_parent": training["training_number"], PERSON: name}


TRAININGS = Ledger(
    key="trainings",
    title="保密教育培训登记",
    noun="培训",
    fields=(
        Field("training_number", "培训编号", Text(max_length=20, upper=True), required=True, unique=True,
              searchable=True, synonyms=("编号", "序号编号"), help="留空时自动编号"),
        # a session may be entered before it is held (its 签到表 printed to be signed): its hours
        # count from its day on (services/training.py)
        Field(DATE, "培训日期", Date(not_future=False), required=True, in_service=True, synonyms=("日期", "时间", "培训时间", "举办日期")),
        Field(SUBJECT, "培训主题", Text(max_length=100), required=True, searchable=True,
              synonyms=("主题", "培训内容", "内容", "题目", "培训名称")),
        Field(HOURS, "学时", HOURS_TYPE, required=True, synonyms=("培训学时", "课时", "时长", "学时数"),
              help="可带一位小数,如 1.5"),
        Field(LECTURER, "组织者/授课人", Text(max_length=60), searchable=True,
              synonyms=("授课人", "主讲人", "组织者", "组织部门", "主办部门", "讲师")),
        Field(PLACE, "地点", Text(max_length=60), searchable=True, synonyms=("培训地点", "举办地点")),
        Field("form", "培训形式", Choice(FORMS, open_list=True), default="集中培训", facet=True,
              synonyms=("形式", "方式", "培训方式")),
        common.status(TRAINING_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=TRAINING_LIFECYCLE,
    key_field="training_number",
    default_sort="training_number",
    aliases=("培训", "保密培训", "保密教育培训", "training"),
    auto_number="PX-{:04d}",
    sample=_sample,
)

def _within_the_session(ctx: RuleContext) -> dict[str, str]:
    """本人学时 is the part of the session attended: never more than the session's 学时, or a
    typing slip (20 for 2.0) would make someone look trained enough."""
    own = ctx.values.get(OWN_HOURS)
    session = ctx.parent() if own is not None else None
    hours = session.values.get(HOURS) if session is not None else None
    if hours is not None and own > hours:
        return {OWN_HOURS: f"本人学时 {own.normalize():f} 超过培训 {session.number} 的学时 {hours.normalize():f};"
                           "只参加了部分课程时填写实际参加的学时"}
    return {}


TRAINING_ATTENDANCES = Ledger(
    key="training_attendances",
    title="参训人员",
    noun="参训人员",
    fields=(
        Field(PERSON, "姓名", Person(), required=True, unique=True, searchable=True,
              synonyms=("参训人员", "参训人", "人员", "签到人", "姓 名")),
        Field(OWN_HOURS, "本人学时", HOURS_TYPE, synonyms=("个人学时", "实际学时"),
              help="只参加了部分课程时填写;留空按培训的学时计"),
        common.status(ATTENDANCE_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=ATTENDANCE_LIFECYCLE,
    key_field=PERSON,
    parent="trainings",
    parent_label="所属培训",
    rules=(_within_the_session,),
    sample=_attendance_sample,
)
