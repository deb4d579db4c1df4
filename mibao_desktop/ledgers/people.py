"""The unit's people (人员名册): everyone a device, medium or carrier is in the charge of.

Person fields of every ledger (责任人, 使用人, 保管人) refer to this register, so that one
person's holdings can be listed on one page (the start of the 离岗 check), and two people of
the same name are told apart by department and number. A name typed in a form or an import
that is not yet here is added, so that entry stays as quick as typing a name. The classified
staff ledger (涉密人员) grows out of this register.
"""

from __future__ import annotations

from typing import Iterator

from mibao_desktop.ledgers import common, samples
from mibao_desktop.ledgers.declaration import PEOPLE_LIFECYCLE, Ledger, SampleContext
from mibao_desktop.ledgers.fields import Field, PersonName, Text


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
