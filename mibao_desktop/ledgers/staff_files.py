"""The file a unit keeps on each of its classified staff (人员档案), seed 002 §六, seed 003 涉密人员
管理制度 第三条–第五条: the political review form (政审表), the certificate of no criminal record,
the signed 保密承诺书 and 保密责任书, rewards and penalties (奖惩), and the classified projects
and meetings the person took part in — each entry with its date and outcome or content.

A child ledger of the 人员名册, as a carrier's copies are of the carrier: the entries show under
the person, import on their own with 所属人员 naming the person by 人员编号, and are numbered
DA-00001… (unique within the person).
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator

from mibao_desktop.ledgers import common
from mibao_desktop.ledgers.declaration import Ledger, Lifecycle, SampleContext
from mibao_desktop.ledgers.fields import Choice, Date, Field, Text

KINDS = ("政审表", "无犯罪记录证明", "保密承诺书", "保密责任书", "奖惩", "涉密项目", "涉密会议")

# A 保密承诺书 filed dates the person's 保密承诺书签订日期 (people.py): the person's date is the
# latest one filed, kept by the ledger service whenever an entry is added, edited, voided,
# restored or imported (LedgerService._follow_commitments). Not the other way round: a date
# typed on the person (a staff sheet's column) makes no entry, since the file lists paper the
# unit holds (its 档案编号, where the original is), which a typed date does not show it has.
COMMITMENT = "保密承诺书"
PERSON_DATE = "commitment_signed_on"


def person_date(held: dt.date | None, former: Iterable[dt.date | None], filed: dt.date | None) -> dt.date | None:
    """The person's 保密承诺书签订日期 after a write to their file: ``held`` the date now,
    ``former`` the dates of commitments the write took away (an entry voided, or its date or
    kind changed), ``filed`` the latest commitment in the file now. The later of the person's
    date and the file's, unless the person's date came from an entry taken away: then the
    file's alone (none when none is left). An older commitment filed late takes nothing back."""
    if held is not None and held in set(former):
        return filed
    if held is None or filed is None:
        return held or filed
    return max(held, filed)


# An entry of a person's file is kept, never held: nothing of it is handed back when the person
# leaves. Its one status is therefore a closing one, so that the person may be moved to 调离 or
# 退休 (a parent closes only once its child records are closed) and an entry may still be added
# to the file of someone who has left (the 脱密期 goes on).
FILE_LIFECYCLE = Lifecycle(
    statuses=("在档",),
    initial="在档",
    closing=frozenset({"在档"}),
    synonyms={"存档": "在档", "已归档": "在档", "归档": "在档"},
)


def _sample(ctx: SampleContext) -> Iterator[dict]:
    for person in ctx.made.get("people", ()):
        became = person.get("became_classified_on")
        if not became:
            continue
        day = dt.date.fromisoformat(became)
        yield {"_parent": person["person_number"], "kind": "政审表", "entry_date": (day - dt.timedelta(days=20)).isoformat(),
               "outcome": "政审合格"}
        yield {"_parent": person["person_number"], "kind": "保密承诺书", "entry_date": person.get("commitment_signed_on") or became,
               "outcome": "已签订,原件存人事处"}
        if ctx.rng.random() < 0.3:
            yield {"_parent": person["person_number"], "kind": "涉密会议",
                   "entry_date": (day + dt.timedelta(days=ctx.rng.randint(30, 300))).isoformat(),
                   "outcome": ctx.rng.choice(("年度保密工作会议(机密级)", "项目评审会(秘密级)", "专项工作部署会(机密级)"))}


STAFF_FILES = Ledger(
    key="staff_files",
    title="人员档案",
    noun="档案材料",
    fields=(
        Field("entry_number", "档案编号", Text(max_length=20, upper=True), required=True, unique=True,
              synonyms=("材料编号", "档案号"), help="留空时自动编号"),
        Field("kind", "材料类别", Choice(KINDS), required=True, facet=True,
              synonyms=("材料名称", "档案类别", "材料类型", "档案材料")),
        # the words of a file's own list only: a staff sheet's 日期, 结果 and 审查结论 are the person's
        Field("entry_date", "材料日期", Date(), required=True, synonyms=("材料时间", "出具日期", "形成日期")),
        Field("outcome", "结果或内容", Text(max_length=300, multiline=True), searchable=True,
              synonyms=("材料内容", "奖惩情况", "涉密项目名称", "涉密会议名称"),
              help="政审结论、证明结果、奖惩内容,或涉密项目、会议的名称和密级"),
        common.status(FILE_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=FILE_LIFECYCLE,
    key_field="entry_number",
    parent="people",
    parent_label="所属人员",
    aliases=("档案", "人员档案", "staff-file"),
    auto_number="DA-{:05d}",
    sample=_sample,
)
