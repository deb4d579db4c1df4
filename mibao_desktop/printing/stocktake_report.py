"""The report of a stocktaking (盘点) of a labelled ledger, or of a check of the carriers' copies
(月核对, 季检查, 年终清退归档), as a form on A4: the unit, what was stocktaken (with the check's
kind and period), the scope, who took stock and when, the counts, each finding's list (缺失
first: what must be looked for), the labels seen more than once, and the signature lines. Drawn
from the stored report (services/stocktaking.py), which no later change of a record alters."""

from __future__ import annotations

from typing import Any

from mibao_desktop.ledgers import levels
from mibao_desktop.printing.forms import Form, Grid, L, Signatures, Table, Text, V

# the lists in the order an inspector reads them, with what each means (盘点 said as the session's
# word: 核对 in a carriers' check)
SECTIONS = (
    ("缺失", "应在而未见"),
    ("多出", "见到但不属于本次盘点范围,说明中为登记的所在"),
    ("位置不符", "登记为外出、维修、借出、已分发或下落不明,盘点时却在此见到"),
    ("未登记", "扫描到的编号在台账中没有登记"),
    ("重复", "同一标识扫描两次以上:标识重复粘贴或重复扫描,应核实"),
    ("外出", "登记为外出、维修、借出或已分发,未在此见到"),
    ("下落不明", "此前已登记为下落不明,盘点时仍未见到"),
    ("已盘点", "应在且已见到"),
)
NUMERALS = "一二三四五六七八九十"
WIDTHS = (2.4, 6.5, 8, 2.6, 3.6, 4.5, 5.5, 2.8, 2.8, 11.4)
COPY_WIDTHS = (2.4, 9.3, 8, 2.6, 3.6, 4.5, 5.5, 2.8, 2.4, 9)  # 编号 with its 第 N 份


def stocktake_report_form(report: Any, *, unit: str = "", handler: str = "") -> Form:
    info = report.info
    word, each = info.word, info.unit
    counts = report.counts()

    def say(text: str) -> str:
        return text.replace("盘点", word)

    summary = ",".join(f"{say(name)} {counts.get(name, 0)} {each}" for name, _ in SECTIONS)
    # it names classified things: marked, top and foot of every page, with the highest level listed
    marking = levels.marking_text(levels.highest(x.level for x in report.lines))
    form = Form(title=info.report_title, note=f"单位:{unit or chr(0x3000) * 12}",
                note_right=f"第 {info.id} 号", marking=marking)
    form.blocks.append(Grid(rows=[
        (9, [L(f"{word}台账"), V(info.noun), L(f"{word}范围"), V(info.scope_text)]),
        *([(9, [L(f"{word}类别"), V(info.kind), L(f"{word}期间"), V(info.period or "")])] if info.kind else []),
        (9, [L("开始时间"), V(f"{info.opened_at:%Y-%m-%d %H:%M}"), L("完成时间"),
             V(f"{info.closed_at:%Y-%m-%d %H:%M}" if info.closed_at else "未完成")]),
        (9, [L(f"{word}人"), V(info.checkers or handler, 3)]),
        (12, [L(f"{word}结果"), V(summary + "。", 3)]),
        *([(14, [L("说明"), V(info.note, 3)])] if info.note else []),
    ], widths=(1, 2, 1, 2)))
    headers = ("序号", "编号", "名称", "密级", info.person_title, "部门", "存放位置", "状态", "次数", "说明")
    for i, (name, meaning) in enumerate(SECTIONS):
        lines = report.of(name)
        form.blocks.append(Text([f"{NUMERALS[i]}、{say(name)}({say(meaning)}):{len(lines)} {each}"
                                 + ("" if lines else ",无。")], size=11))
        if lines:
            form.blocks.append(Table(headers, COPY_WIDTHS if info.has_parts else WIDTHS, [
                (n, x.label, x.title, x.level or "", x.person, x.department, x.place, x.status, x.times_seen or "",
                 ";".join(p for p in (f"{word}结果:{say(x.finding)}" if name == "重复" else "", x.belongs, x.followed)
                          if p))
                for n, x in enumerate(lines, start=1)], row_height=7))
    form.blocks.append(Signatures((f"{word}人:", "部门负责人:", "保密办:", "日期:", "日期:", "日期:")))
    return form
