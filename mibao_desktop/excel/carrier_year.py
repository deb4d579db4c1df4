"""The carriers' year on the annual report (issue 13 item 6): one ruled table in the 汇总's
one-page style — a row per 密级 and the 合计, a column per figure the declaration names
(``ledgers/carrier_registers.YEAR_COLUMNS``: made, received, copied, lent, returned, destroyed,
missing, leaks). The figures are read by ``services/carrier_registers.year_figures``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from mibao_desktop.excel import export as paper
from mibao_desktop.excel.one_page import one_page_sheet, sign_off
from mibao_desktop.ledgers.carrier_registers import YEAR_COLUMNS

SHEET = "载体年度汇总"
TOTAL = "合计"


def write_carrier_year(wb: Workbook, figures: Any, marking: str, *, unit: str, filled_by: str, today: dt.date,
                       anchor: str = "") -> Any:
    headers = ["密级", *[h for h, _k in YEAR_COLUMNS]]
    last = get_column_letter(len(headers))
    widths = [12] + [max(9.0, paper.display_width(h) / 2 + 3) for h, _k in YEAR_COLUMNS]
    ws, cell = one_page_sheet(wb, SHEET, f"{figures.year} 年度国家秘密载体汇总表", marking, widths, unit=unit,
                              right=f"{figures.year} 年 1 月 1 日至 12 月 31 日", anchor=anchor)
    ws.row_dimensions[4].height = 30
    head = dict(font=paper._HEADER_FONT, fill=paper._HEADER_FILL, border=paper._RULED, alignment=paper._CENTRE)
    ws.append([cell(h.replace("(", "\n(", 1), **head) for h in headers])
    body = dict(font=paper._BODY_FONT, border=paper._RULED, alignment=paper._CENTRE)
    bold = dict(body, font=Font(name="宋体", size=paper.BODY_SIZE, bold=True))
    for level in (*figures.levels, None):
        style = bold if level is None else body
        ws.append([cell(level or TOTAL, **style), *[cell(figures.value(k, level), **style) for _h, k in YEAR_COLUMNS]])
    row = 4 + len(figures.levels) + 2
    ws.row_dimensions[row].height = 30
    note = ("说明:制作、接收按载体的收到(制作)日期统计,件为载体、份为其下各份;复制为本年复制、摘录、汇编所得份数;"
            "借阅、归还、销毁、下落不明按各份的办理日期统计(已撤销的不计);泄密事件按认定日期统计;各行按载体现在的密级。")
    ws.append([cell(note, font=Font(name="宋体", size=9),
                    alignment=Alignment(horizontal="left", vertical="top", wrap_text=True))])
    ws.merged_cells.add(f"A{row}:{last}{row}")
    sign_off(ws, cell, row + 2, len(headers), filled_by, today)
    return ws
