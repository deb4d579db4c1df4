"""The report of a check of the carriers' copies (月核对, 季检查, 年终清退归档) as a form on A4:
the unit, the kind, period and scope, who checked and when, the counts, each finding's list
(缺失 first: what must be looked for) and the signature lines. Drawn from the stored report
(services/carrier_checks.py), which no later change of a copy alters."""

from __future__ import annotations

from typing import Any

from mibao_desktop.ledgers import levels
from mibao_desktop.printing.forms import Form, Grid, L, Signatures, Table, Text, V

# the lists in the order an inspector reads them, with what each means
SECTIONS = (
    ("缺失", "应在而未见"),
    ("多出", "见到但不属于本次核对范围"),
    ("位置不符", "登记为借出、外出、送修或下落不明,核对时却在此见到"),
    ("外出", "登记为借出、外出或送修,未在此见到"),
    ("下落不明", "此前已登记为下落不明,核对时仍未见到"),
    ("已核对", "应在且已见到"),
)
NUMERALS = "一二三四五六七八九十"
HEADERS = ("序号", "登记编号", "份号", "标题", "密级", "持有人", "存放位置", "状态", "说明")
WIDTHS = (2.6, 7, 2.6, 8.5, 2.8, 4, 6.5, 3.2, 14)


def check_report_form(report: Any, *, unit: str = "", handler: str = "") -> Form:
    check = report.check
    counts = report.counts()
    summary = ",".join(f"{name} {counts.get(name, 0)} 份" for name, _ in SECTIONS)
    # it names classified copies: marked, top and foot of every page, with the highest level listed
    marking = levels.marking_text(levels.highest(x.level for x in report.lines))
    form = Form(title=f"涉密载体{check.kind}报告", note=f"单位:{unit or chr(0x3000) * 12}",
                note_right=f"第 {check.id} 号", marking=marking)
    form.blocks.append(Grid(rows=[
        (9, [L("核对类别"), V(check.kind), L("核对期间"), V(check.period)]),
        (9, [L("核对范围"), V(check.scope_text), L("核对人"), V(check.checkers or handler)]),
        (9, [L("开始时间"), V(f"{check.opened_at:%Y-%m-%d %H:%M}"), L("完成时间"),
             V(f"{check.closed_at:%Y-%m-%d %H:%M}" if check.closed_at else "未完成")]),
        (12, [L("核对结果"), V(summary + "。", 3)]),
        *([(14, [L("说明"), V(check.note, 3)])] if check.note else []),
    ], widths=(1, 2, 1, 2)))
    for i, (name, meaning) in enumerate(SECTIONS):
        lines = report.of(name)
        form.blocks.append(Text([f"{NUMERALS[i]}、{name}({meaning}):{len(lines)} 份" + ("" if lines else ",无。")],
                                size=11))
        if lines:
            form.blocks.append(Table(HEADERS, WIDTHS, [
                (n, x.carrier_number, x.copy_number, x.title, x.level or "", x.holder, x.place, x.status,
                 ";".join(p for p in (x.belongs, x.followed) if p))
                for n, x in enumerate(lines, start=1)], row_height=7))
    form.blocks.append(Signatures(("核对人:", "部门负责人:", "保密办:", "日期:", "日期:", "日期:")))
    return form
