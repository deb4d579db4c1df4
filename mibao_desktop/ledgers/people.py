"""The unit's people (人员名册): everyone a device, medium or carrier is in the charge of.

Person fields of every ledger (责任人, 使用人, 保管人) refer to this register, so that one
person's holdings can be listed on one page (the start of the 离岗 check), and two people of
the same name are told apart by department and number. A name typed in a form or an import
that is not yet here is added, so that entry stays as quick as typing a name. The classified
staff ledger (涉密人员) grows out of this register.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from mibao_desktop.ledgers import common, levels, samples
from mibao_desktop.ledgers.declaration import PEOPLE_LIFECYCLE, Ledger, SampleContext
from mibao_desktop.ledgers.fields import Choice, Field, Level, PersonName, Text
from mibao_desktop.ledgers.normalize import clean_text

GRADES = ("核心", "重要", "一般")  # 涉密人员 by their post (seed 002: 核心、重要、一般涉密人员, 以岗定人)
POST_LEVEL = "post_level"
# how units write a grade: 核心涉密人员, 重要涉密, 一般级; seed 003 calls the 重要 ones 重点涉密人员
_GRADE_ENDINGS = re.compile(r"(?:涉密人员|涉密岗位|涉密|人员|岗位|级)$")
_GRADE_WORDS = {"重点": "重要"}


@dataclass(frozen=True)
class StaffGrade(Choice):
    """涉密等级 (核心/重要/一般), bare or written out (核心涉密人员). A unit that grades its people
    by the post's 密级 instead (机密, 秘密) writes that under the same heading: ``level_field``
    names where such a cell goes (the import moves it there and says so), never read as a grade."""

    choices: tuple[str, ...] = GRADES
    level_field: str = POST_LEVEL

    def normalise(self, raw: Any) -> str:
        text = re.sub(r"\s", "", clean_text(raw))
        word = _GRADE_ENDINGS.sub("", text) if len(text) > 2 else text
        return super().normalise(_GRADE_WORDS.get(word, word))


def _sample(ctx: SampleContext) -> Iterator[dict]:
    for name in ctx.people:
        yield {"name": name, "department": ctx.rng.choice(samples.DEPARTMENTS)}


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
        Field("post", "岗位", Text(max_length=40), searchable=True, synonyms=("职务", "岗位名称")),
        Field("grade", "涉密等级", StaffGrade(), facet=True,
              synonyms=("涉密人员等级", "涉密人员类别", "涉密类别", "人员类别", "涉密程度", "涉密人员分类"),
              help="核心、重要或一般;不是涉密人员的留空"),
        Field(POST_LEVEL, "岗位密级", Level(levels.LEVELS), facet=True,
              synonyms=("涉密岗位密级", "岗位涉密等级", "所在岗位密级"),
              help="所在涉密岗位的密级(机密、秘密等);不是涉密人员的留空"),
        Field("id_tail", "身份证号后四位", Text(max_length=4, upper=True), synonyms=("身份证后四位",),
              help="同名时用于区分,不必填写完整身份证号"),
        Field("phone", "联系电话", Text(max_length=30), shown=False, synonyms=("电话", "手机")),
        common.status(PEOPLE_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=PEOPLE_LIFECYCLE,
    key_field="person_number",
    label_field="name",
    default_sort="person_number",
    aliases=("人员", "人员名册", "person"),
    auto_number="RY-{:04d}",
    forms=("holdings", "commitment", "departure"),
    sample=_sample,
)
