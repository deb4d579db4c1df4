"""The annual report (年度报表) for the secrecy office: one workbook for a year.

The 汇总 sheet is one table that prints on one A4 page: a row for each ledger and 密级 (and
the ledger's 小计; the records whose 密级 an import left empty in a row 密级待补充 of their
own), the records in each 状态 now, and what the year added, moved into each status and
voided; then the carriers' year in the same style (``excel/carrier_year.py``) and the 涉密人员
short of the year's training hours (``excel/training_year.py``). Then one sheet
per ledger and the year's changes from the history, ruled and numbered
as the ledger export. Every ledger of the registry is included by its
declaration; a new ledger needs no code. The summary never counts a ledger's rows (see
services/annual_figures.py for what it reads), so a ledger of a million records is summed up
in well under a second.

The report is marked, like a ledger export, with the highest level among the records it lists
(the highest a ledger allows while one of its records' 密级 is 待补充) unless another marking
is chosen.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from mibao_desktop.excel import export as paper
from mibao_desktop.excel.carrier_year import write_carrier_year
from mibao_desktop.excel.self_assessment import write_self_assessment
from mibao_desktop.excel.training_year import write_training_year
from mibao_desktop.excel.export import (SheetStream, column_kinds, default_marking, level_columns, ledger_rows, save_atomically,
                                        signoff_line, stream_to, unit_line)
from mibao_desktop.ledgers import Ledger, levels, top_level
from mibao_desktop.ledgers.pending import PENDING
from mibao_desktop.services import audit, report_facts
from mibao_desktop.services.annual_figures import NO_LEVEL, LedgerFigures, annual_figures
from mibao_desktop.services.carrier_registers import year_figures
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.self_assessment import due_counts, self_assessment
from mibao_desktop.services.training import compliance_of
from mibao_desktop.services.output_service import check_target

TOTAL, SUBTOTAL, ADDED, VOIDED = "合计", "小计", "本年新增", "本年作废"
NOT_KEPT = "—"  # a status the ledger does not have, or a figure it does not keep
SUMMARY_HEAD_ROWS = 5  # marking, title, 填报单位, two header rows


def _moved_into(status: str) -> str:
    return f"本年{status.removeprefix('已')}"  # 本年报废, 本年销毁, 本年借出 …


def summary_columns(ledgers: list[Ledger]) -> tuple[list[str], list[tuple[str, str]]]:
    """The statuses the table has a column for, and the year's columns: (header, status moved
    into; "" for 新增 and 作废)."""
    statuses = list(dict.fromkeys(s for l in ledgers for s in l.lifecycle.statuses))
    moves = list(dict.fromkeys(s for l in ledgers for s in l.lifecycle.statuses if s != l.lifecycle.initial))
    return statuses, [(ADDED, ""), *[(_moved_into(s), s) for s in moves], (VOIDED, "")]


def annual_summary(service: LedgerService, ledger: Ledger, year: int) -> dict[str, int]:
    """One ledger's figures for the year, summed over its levels: records in each status now
    (``状态:在用`` …) and by level, and the year's additions, moves into each status and voids."""
    figures = annual_figures(service, [ledger], year)[0]
    out: dict[str, int] = {TOTAL: figures.total()}
    for (level, status), n in figures.by_status.items():
        out[f"状态:{status}"] = out.get(f"状态:{status}", 0) + n
        if level != NO_LEVEL:
            out[level] = out.get(level, 0) + n
    if figures.added is not None:
        out[ADDED] = sum(figures.added.values())
    for (_level, status), n in figures.moved.items():
        out[_moved_into(status)] = out.get(_moved_into(status), 0) + n
    out[VOIDED] = sum(figures.voided.values())
    return out


def report_marking(service: LedgerService, ledgers: list[Ledger] | None = None) -> str:
    """The highest level among the records the report lists, by the ledger export's rule."""
    found = [default_marking(service, ledger) for ledger in (ledgers or top_level())]
    return max(found, key=levels.rank, default=levels.UNCLASSIFIED)


def _row(figures: LedgerFigures, level: str | None, statuses: list[str], year_columns) -> list[Any]:
    """The figures of one level (None: the ledger's 小计) in the table's column order."""
    ledger = figures.ledger

    def take(counter, key_status: str | None = None) -> int:
        if key_status is None:
            return sum(n for lv, n in counter.items() if level is None or lv == level)
        return sum(n for (lv, st), n in counter.items() if st == key_status and (level is None or lv == level))

    row: list[Any] = [figures.total(level)]
    row += [take(figures.by_status, st) if st in ledger.lifecycle.statuses else NOT_KEPT for st in statuses]
    for header, status in year_columns:
        if header == ADDED:
            row.append(NOT_KEPT if figures.added is None else take(figures.added))
        elif header == VOIDED:
            row.append(take(figures.voided))
        else:
            row.append(take(figures.moved, status) if status in ledger.lifecycle.statuses
                       and status != ledger.lifecycle.initial else NOT_KEPT)
    return row


def _note(ledgers: list[Ledger]) -> str:
    """How 本年新增 was counted, said from the declarations."""
    dated = {}
    for l in ledgers:
        if l.in_service_field is not None:
            dated.setdefault(l.in_service_field.label, []).append(l.noun)
    undated = [l.title for l in ledgers if l.in_service_field is None]
    parts = []
    for i, (label, nouns) in enumerate(dated.items()):
        parts.append(label if i == 0 else f"{'、'.join(nouns)}按{label}")
    text = f"说明:本年新增按{parts[0]}" + (f"({';'.join(parts[1:])})" if len(parts) > 1 else "") if parts else "说明:"
    text += "统计,不按录入或导入日期;未填该日期的记录按本年在本系统中新建的计入,导入的不计入"
    if undated:
        text += f";{'、'.join(undated)}无此日期,不统计本年新增(记为“{NOT_KEPT}”)"
    return text + "。状态为截至制表日的在册记录数(不含作废记录);本年各列按记录现在的密级统计。"


def write_summary(wb: Workbook, all_figures: list[LedgerFigures], year: int, marking: str, *, unit: str,
                  filled_by: str, today: dt.date, anchor: str = "") -> Any:
    """The 汇总 sheet: one ruled table, fitted to one A4 page."""
    ledgers = [f.ledger for f in all_figures]
    statuses, year_columns = summary_columns(ledgers)
    headers = ["台账", "密级", TOTAL, *statuses, *[h for h, _s in year_columns]]
    last = get_column_letter(len(headers))
    ws = wb.create_sheet("汇总")
    table = [_row(f, level, statuses, year_columns) for f in all_figures for level in (*f.levels, None)]
    # each column as wide as its largest figure (a million records must not show as ###)
    widths = [12, 7] + [max(5.5, len(str(max((r[i] for r in table if isinstance(r[i], int)), default=0))) + 2.5)
                        for i in range(len(headers) - 2)]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    shown = paper.marking_text(marking)
    paper.paper_page(ws, shown, anchor, one_page=True)
    ws.row_dimensions[2].height = 30
    ws.row_dimensions[5].height = 30
    cell = lambda value, **style: paper._cell(ws, value, **style)  # noqa: E731
    ws.append([cell(shown, font=paper._MARK_FONT)])
    ws.append([cell(f"{year} 年度保密台账汇总表", font=paper._TITLE_FONT,
                    alignment=Alignment(horizontal="center", vertical="center"))])
    ws.merged_cells.add(f"A2:{last}2")
    left, right = unit_line(unit, f"截至 {today.isoformat()}")
    split = len(headers) // 2
    ws.append([cell(left, font=paper._LINE_FONT), *[None] * (split - 1),
               cell(right, font=paper._LINE_FONT, alignment=paper._RIGHT)])
    ws.merged_cells.add(f"A3:{get_column_letter(split)}3")
    ws.merged_cells.add(f"{get_column_letter(split + 1)}3:{last}3")
    head = dict(font=paper._HEADER_FONT, fill=paper._HEADER_FILL, border=paper._RULED, alignment=paper._CENTRE)
    now_span = 1 + len(statuses)
    groups = ["台账", "密级", f"在册记录(截至 {today.month} 月 {today.day} 日)", *[None] * (now_span - 1),
              f"{year} 年度变动", *[None] * (len(year_columns) - 1)]
    ws.append([cell(g, **head) for g in groups])  # the merged-over cells ruled too: Excel draws their edges
    # 本年报废 over two lines as 本年/报废, not 本年报/废
    ws.append([cell(None if i < 2 else h.replace("本年", "本年\n", 1) if h.startswith("本年") else h, **head)
               for i, h in enumerate(headers)])
    ws.merged_cells.add("A4:A5")
    ws.merged_cells.add("B4:B5")
    ws.merged_cells.add(f"C4:{get_column_letter(2 + now_span)}4")
    ws.merged_cells.add(f"{get_column_letter(3 + now_span)}4:{last}4")
    body = dict(font=paper._BODY_FONT, border=paper._RULED, alignment=paper._CENTRE)
    bold = dict(body, font=Font(name="宋体", size=paper.BODY_SIZE, bold=True))
    row_number = SUMMARY_HEAD_ROWS
    for figures in all_figures:
        first = row_number + 1
        levelled = figures.levels != (NO_LEVEL,)
        lines = [(lv, lv) for lv in figures.levels] if levelled else [(None, NOT_KEPT)]
        if levelled:
            lines.append((None, SUBTOTAL))
        if len(lines) == 1 and paper.display_width(figures.ledger.title) > widths[0] - 1:
            ws.row_dimensions[first].height = 2 * paper.LINE_HEIGHT + 1  # its name on two lines
        for i, (level, shown_level) in enumerate(lines):
            if paper.display_width(shown_level) > widths[1] - 1:  # 密级待补充 as 密级/待补充, not 密级待补/充
                shown_level = shown_level.replace(PENDING, f"\n{PENDING}", 1)
                ws.row_dimensions[row_number + 1].height = 2 * paper.LINE_HEIGHT + 1
            style = bold if shown_level == SUBTOTAL else body
            name = cell(figures.ledger.title if i == 0 else None, **body)
            ws.append([name, cell(shown_level, **style),
                       *[cell(v, **style) for v in _row(figures, level, statuses, year_columns)]])
            row_number += 1
        if row_number > first:
            ws.merged_cells.add(f"A{first}:A{row_number}")
    row_number += 1
    ws.row_dimensions[row_number].height = 30  # a row's height is written with the row: set first
    ws.append([cell(_note(ledgers), font=Font(name="宋体", size=9),
                    alignment=Alignment(horizontal="left", vertical="top", wrap_text=True))])
    ws.merged_cells.add(f"A{row_number}:{last}{row_number}")
    row_number += 2
    ws.row_dimensions[row_number].height = 30
    ws.append([])
    ws.append([cell(signoff_line(filled_by, today), font=paper._LINE_FONT,
                    alignment=Alignment(horizontal="left", vertical="bottom"))])
    ws.merged_cells.add(f"A{row_number}:{last}{row_number}")
    ws.print_area = f"A2:{last}{row_number}"  # from the title: the page header carries the marking
    return ws


def export_annual_report(service: LedgerService, year: int, path: Path, *, marking: str | None = None,
                         unit: str | None = None, filled_by: str | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] | None = None) -> int:
    """Write the year's report; returns the number of records listed on the ledger sheets.
    ``marking`` by default the highest level listed; ``unit`` and ``filled_by`` by default the
    unit's name (打印设置) and the account's 姓名."""
    path = Path(path)
    check_target(service.db, path)
    ledgers = list(top_level())
    marking = marking or report_marking(service, ledgers)
    if marking not in paper.markings():
        raise ValueError(marking)
    unit = report_facts.unit_name(service.db) if unit is None else unit
    filled_by = report_facts.display_name(service.db, service.actor.name) if filled_by is None else filled_by
    today = dt.date.today()
    wb = Workbook(write_only=True)
    anchor = audit.current_anchor(service.db)
    all_figures = annual_figures(service, ledgers, year)
    write_summary(wb, all_figures, year, marking, unit=unit, filled_by=filled_by, today=today, anchor=anchor.label)
    # the carriers' year (made, received, copied, lent, returned, destroyed, missing, leaks by 密级)
    with service._read("导出年度报表") as session:
        carriers_year = year_figures(session, year)
    write_carrier_year(wb, carriers_year, marking, unit=unit, filled_by=filled_by, today=today, anchor=anchor.label)
    # the 涉密人员 short of the year's minimum training hours (seed 002 §六 1)
    with service._read("导出年度报表") as session:
        training_year = compliance_of(session, year)
    write_training_year(wb, training_year, marking, unit=unit, filled_by=filled_by, today=today, anchor=anchor.label)
    # the 自查自评 by seed 002's areas: what the data fills, ruled space for what people judge
    with service._read("导出年度报表") as session:
        due = due_counts(session, service.actor, service.db, today)
        assessment = self_assessment(session, year, all_figures, carriers_year, training_year, due=due)
    write_self_assessment(wb, assessment, marking, unit=unit, filled_by=filled_by, today=today, anchor=anchor.label)
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    total = sum(f.total() for f in all_figures)
    done = 0
    for ledger in ledgers:
        chosen = list(ledger.fields)
        with service.stream(ledger) as stream:
            widths, rows = ledger_rows(stream, chosen)
            centred, dates = column_kinds(chosen)
            sheet = SheetStream(wb, ledger.title, f"{ledger.title}({year} 年度)", [f.label for f in chosen],
                                widths, marking, anchor=anchor.label,
                                info=unit_line(unit, f"共 {stream.total} 条    截至 {today.isoformat()}"),
                                numbered=True, centred=centred, dates=dates, levelled=level_columns(chosen))
            done += stream_to(sheet, rows, total, progress=lambda d, t: progress and progress(done + d, t),
                              cancelled=cancelled)
    change_sheet = SheetStream(wb, "本年变更", f"{year} 年度台账变更记录",
                               ["日期", "台账", "编号", "操作", "内容", "原因", "操作人"], [12, 18, 16, 10, 40, 24, 12],
                               marking, anchor=anchor.label, info=unit_line(unit, f"{year} 年 1 月 1 日至 12 月 31 日"),
                               numbered=True, centred=[0, 3], dates=[0])
    listed = done
    counted = {"changes": 0}

    def change_rows():
        for c in service.changes_between(start, end):
            counted["changes"] += 1
            what = ";".join(f"{ch.label}:{ch.old or '(空)'} → {ch.new or '(空)'}" for ch in c.changes)
            yield [(c.effective_date or c.at.date()), c.ledger.title, c.asset_number, c.action_label, what,
                   c.reason or "", c.actor]

    stream_to(change_sheet, change_rows(), total, cancelled=cancelled)
    save_atomically(wb, path)
    service.record_output("report.annual", ledgers[0], str(path), listed,
                          {"year": year, "marking": marking, "changes": counted["changes"], "anchor": str(anchor)})
    if progress:
        progress(total, total)
    return listed
