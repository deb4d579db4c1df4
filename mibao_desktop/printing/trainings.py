"""保密教育培训 on paper: the 培训签到表 of one session (filled, 签名 left for each attendee's own
hand) and the 学时未达标名单 of a year. Only values here: what was read by
``services/training.py`` (a compliance with ``short``, ``everyone``, ``year``, ``minimums``)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from mibao_desktop.ledgers.fields import tenths_text
from mibao_desktop.ledgers.people import GRADES
from mibao_desktop.printing.forms import BLANK_DATE, Form, Grid, L, Signatures, Table, Text, V

BLANK_ROWS = 3  # for people who come without being listed beforehand


def sign_in_form(training: Mapping[str, str], people: Sequence[Mapping[str, Any]], *, unit: str = "") -> Form:
    """``training`` is the session's values as shown, by field name; ``people`` its attendees."""
    form = Form(title="保密教育培训签到表", note=f"单位:{unit or chr(0x3000) * 12}",
                note_right=f"编号:{training.get('training_number', '')}")
    form.blocks.append(Grid([
        (10, (L("培训主题"), V(training.get("subject", ""), span=3))),
        (10, (L("培训日期"), V(training.get("held_on", "")), L("学时"), V(training.get("hours", "")))),
        (10, (L("组织者/授课人"), V(training.get("lecturer", "")), L("培训形式"), V(training.get("form", "")))),
        (10, (L("地点"), V(training.get("place", ""), span=3))),
    ], columns=4, widths=(1, 1.6, 1, 1.6)))
    rows = [(n, p.get("name", ""), p.get("department", ""), "", "") for n, p in enumerate(people, start=1)]
    form.blocks.append(Table(("序号", "姓名", "部门", "签名", "备注"), (7, 18, 26, 24, 14), rows, row_height=10,
                             blank_rows=BLANK_ROWS, totals=(f"应到 {len(people)} 人    实到      人",)))
    form.blocks.append(Signatures(("组织者(签字):", "日期:" + BLANK_DATE), per_line=2))
    return form


def compliance_form(compliance: Any, *, unit: str = "", only_short: bool = True) -> Form:
    lines = compliance.short if only_short else (compliance.everyone or [])
    minimums = "、".join(f"{g} {tenths_text(compliance.minimums[g])} 学时" for g in GRADES if g in compliance.minimums)
    title = f"{compliance.year}年度保密教育培训学时{'未达标人员名单' if only_short else '统计表'}"
    form = Form(title=title, note=f"填报单位:{unit or chr(0x3000) * 12}",
                note_right=f"{compliance.summary()}")
    form.blocks.append(Text([f"每年最低学时:{minimums}(保密管理规定六(二)1“在岗教育培训”)。"], size=10))
    if lines:
        rows = [(n, ln.number, ln.name, ln.department, ln.grade, ln.sessions, ln.hours_text, ln.minimum_text,
                 ln.short_text if ln.short_by else "") for n, ln in enumerate(lines, start=1)]
        form.blocks.append(Table(("序号", "人员编号", "姓名", "部门", "涉密等级", "参训次数", "已完成学时",
                                  "最低学时", "尚差学时"), (7, 14, 12, 20, 10, 10, 12, 11, 11), rows))
    else:
        form.blocks.append(Text(["本年度全部涉密人员已达到最低学时。" if only_short else "没有涉密人员。"], size=11))
    form.blocks.append(Signatures(("填表人:", "审核人:", "日期:" + BLANK_DATE), per_line=3))
    return form
