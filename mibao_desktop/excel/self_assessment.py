"""The 自查自评 sheet of the annual report (issue 15 item 3): one ruled table by the areas of
seed 002 — for each area the figures MiBao fills from its data (services/self_assessment.py),
then three ruled blank rows, 自评情况 / 存在问题 / 整改措施, for what only people can judge.
Printed like the 汇总, marked (excel/one_page.py), but upright: A4 portrait, fitted to the
width, the header row repeated on each page (ten areas do not fit one page legibly)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.pagebreak import Break

from mibao_desktop.excel import export as paper
from mibao_desktop.excel.one_page import one_page_sheet, sign_off
from mibao_desktop.services.self_assessment import JUDGED, Assessment

SHEET = "自查自评"
HEADERS = ("检查项目", "内容", "情况")
WIDTHS = (16, 36, 46)
NUMERALS = "一二三四五六七八九十"
JUDGED_HEIGHT = 42  # room for two or three handwritten lines
ROW_HEIGHT = paper.LINE_HEIGHT  # a figure's row
# The table is fitted to the page's width: a column character printed about 7 pt wide (the
# workbook's default font; 96 characters measured 680 pt in LibreOffice's PDF), so the page holds
# more unscaled height than A4's. An area that would not fit what is left of a page starts the
# next one, never split in two. A4 upright less the margins (0.8 + 0.7 in, excel/export.paper_page)
# and the repeated header row; 0.95 for the printers that draw rows a little taller.
_SCALE = min(1.0, (595 - 0.6 * 72) / (sum(WIDTHS) * 7))
PAGE_HEIGHT = 0.95 * (842 - 1.5 * 72) / _SCALE - ROW_HEIGHT
NO_DATA = "(本系统无相应数据,由自查人员填写)"


def write_self_assessment(wb: Workbook, assessment: Assessment, marking: str, *, unit: str, filled_by: str,
                          today: dt.date, anchor: str = "") -> Any:
    ws, cell = one_page_sheet(wb, SHEET, f"{assessment.year} 年度保密工作自查自评表", marking, WIDTHS, unit=unit,
                              right=f"{assessment.year} 年 1 月 1 日至 12 月 31 日", anchor=anchor,
                              portrait=True, title_rows="4:4", split=2)
    head = dict(font=paper._HEADER_FONT, fill=paper._HEADER_FILL, border=paper._RULED, alignment=paper._CENTRE)
    ws.append([cell(h, **head) for h in HEADERS])
    body = dict(font=paper._BODY_FONT, border=paper._RULED,
                alignment=Alignment(horizontal="left", vertical="center", wrap_text=True))
    figure = dict(body, alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
    area_style = dict(body, font=Font(name="宋体", size=paper.BODY_SIZE, bold=True),
                      alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
    row = 4
    used = 30 + 2 * ROW_HEIGHT  # the title and the 填报单位 line on the first page
    for i, area in enumerate(assessment.areas):
        first = row + 1
        lines = area.lines or [(NO_DATA, None)]
        height = len(lines) * ROW_HEIGHT + len(JUDGED) * JUDGED_HEIGHT
        if used + height > PAGE_HEIGHT and row > 4:
            ws.row_breaks.append(Break(id=row))
            used = 0
        used += height
        for j, (item, value) in enumerate(lines):
            ws.append([cell(f"{NUMERALS[i]}、{area.name}" if j == 0 else None, **area_style),
                       cell(item, **body), cell(value, **figure)])
            row += 1
        for label in JUDGED:
            row += 1
            ws.row_dimensions[row].height = JUDGED_HEIGHT
            ws.append([cell(None, **area_style), cell(label, **dict(body, font=paper._HEADER_FONT)),
                       cell(None, **body)])
        ws.merged_cells.add(f"A{first}:A{row}")
    row += 1
    ws.row_dimensions[row].height = 30
    note = ("说明:“情况”栏中的数字由本系统按台账自动统计,在册数截至制表日(不含作废记录),本年数按"
            f"{assessment.year} 年内的办理日期;自评情况、存在问题、整改措施由自查人员据实填写。")
    ws.append([cell(note, font=Font(name="宋体", size=9),
                    alignment=Alignment(horizontal="left", vertical="top", wrap_text=True))])
    ws.merged_cells.add(f"A{row}:C{row}")
    sign_off(ws, cell, row + 2, len(HEADERS), filled_by, today)
    return ws
