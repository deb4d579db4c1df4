"""The one-page sheet (or the upright form) of the annual report (汇总's style): A4, fitted to one page, the marking in
the page header and row 1, the title over the table's width, the 填报单位 line split left/right,
and the 填报人 line at the foot. Shared by the carriers' year and the 自查自评, so the header is
written once."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from mibao_desktop.excel import export as paper


def one_page_sheet(wb: Workbook, name: str, title: str, marking: str, widths: Sequence[float], *, unit: str,
                   right: str, anchor: str = "", portrait: bool = False, title_rows: str = "",
                   split: int | None = None) -> tuple[Any, Callable[..., Any]]:
    """A sheet with its first three rows written (marking, title, 填报单位 … right); returns it
    and ``cell(value, **style)`` for its rows (write-only sheets style through cells).
    ``portrait``: a long form of few columns, A4 upright, fitted to the width and as many pages
    down as it takes, ``title_rows`` (its header) repeated on each. ``split``: the columns the
    填报单位 takes (by default half the table's)."""
    last = get_column_letter(len(widths))
    ws = wb.create_sheet(name)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    shown = paper.marking_text(marking)
    paper.paper_page(ws, shown, anchor, one_page=not portrait, title_rows=title_rows)
    if portrait:
        ws.page_setup.orientation = "portrait"
    ws.row_dimensions[2].height = 30
    cell = lambda value, **style: paper._cell(ws, value, **style)  # noqa: E731
    ws.append([cell(shown, font=paper._MARK_FONT)])
    ws.append([cell(title, font=paper._TITLE_FONT, alignment=Alignment(horizontal="center", vertical="center"))])
    ws.merged_cells.add(f"A2:{last}2")
    left, right = paper.unit_line(unit, right)
    split = split or max(1, len(widths) // 2)
    ws.append([cell(left, font=paper._LINE_FONT), *[None] * (split - 1),
               cell(right, font=paper._LINE_FONT, alignment=paper._RIGHT)])
    ws.merged_cells.add(f"A3:{get_column_letter(split)}3")
    ws.merged_cells.add(f"{get_column_letter(split + 1)}3:{last}3")
    return ws, cell


def sign_off(ws: Any, cell: Callable[..., Any], row: int, columns: int, filled_by: str, today: dt.date) -> None:
    """An empty row, then the 填报人 line at ``row``; the print area from the title to it (the
    page header carries the marking)."""
    last = get_column_letter(columns)
    ws.row_dimensions[row].height = 30
    ws.append([])
    ws.append([cell(paper.signoff_line(filled_by, today), font=paper._LINE_FONT,
                    alignment=Alignment(horizontal="left", vertical="bottom"))])
    ws.merged_cells.add(f"A{row}:{last}{row}")
    ws.print_area = f"A2:{last}{row}"
