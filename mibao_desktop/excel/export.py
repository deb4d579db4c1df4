"""Exporting a ledger to xlsx: streamed (write-only), atomic, never a formula from data."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet.page import PageMargins
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import levels
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Choice, Date, Integer, Level
from mibao_desktop.ledgers.pending import PENDING
from mibao_desktop import files
from mibao_desktop.errors import Cancelled, ServiceError
from mibao_desktop.services import audit, report_facts
from mibao_desktop.services.annual_figures import pending_level_count
from mibao_desktop.services.output_service import check_target
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.services.value_stream import PARENT

FORMULA_STARTS = ("=", "+", "-", "@")


def save_atomically(wb: Workbook, path: Path) -> None:
    """Save under a temporary name beside ``path``, fsync, then rename: a full disk or a
    pulled-out drive leaves no file that looks complete, and is told in Chinese (openpyxl's
    zip writer would end in a traceback). The sheets' own temporary files are removed too."""
    path = Path(path)
    try:
        with files.atomic_path(path) as temp:
            wb.save(temp)
    except WRITE_ERRORS as exc:
        raise ServiceError(files.explain(_as_os_error(exc), path)) from exc
    finally:
        _drop_sheet_temps(wb)


try:  # openpyxl writes its sheets through lxml when present, which reports a full disk its own way
    from lxml.etree import SerialisationError
    WRITE_ERRORS: tuple = (OSError, SerialisationError)
except ImportError:  # pragma: no cover
    WRITE_ERRORS = (OSError,)


def _as_os_error(exc: BaseException) -> OSError:
    if isinstance(exc, OSError):
        return exc
    text = str(exc)  # lxml: "IO_ENOSPC", "IO_EFBIG" …
    code = errno.ENOSPC if "ENOSPC" in text or "EFBIG" in text else errno.EIO
    return OSError(code, os.strerror(code))


def _drop_sheet_temps(wb: Workbook) -> None:
    """openpyxl's write-only sheets keep their rows in temporary files until saved; a failed
    save leaves them (ledger rows) behind until the process exits, or for ever if it is killed.
    A sheet never saved (no temporary file could be made beside the target) has its writers
    closed here, rows first: left to the garbage collector they end in lxml's "inconsistent
    exit action" printed as two tracebacks after the message."""
    for ws in getattr(wb, "_sheets", []):
        writer = getattr(ws, "_writer", None)
        for stream in (getattr(ws, "_rows", None), getattr(writer, "xf", None)):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        out = getattr(writer, "out", None)
        if out and os.path.exists(out):
            with contextlib.suppress(OSError, ValueError):
                writer.cleanup()


def display_width(text: str) -> int:
    """Excel column width units: a CJK character is about two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell_value(field, value: Any) -> Any:
    if value is None:
        return None
    if field.many:  # one value a line, as a hand-kept ledger writes two MACs (an import splits lines too)
        return "\n".join(field.type.display(v) for v in value) or None
    if isinstance(field.type, Date) and not field.many:
        return value
    if isinstance(field.type, Integer) and not field.many:
        return value
    return field.display(value)


def _cell(ws, value: Any, **style) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # text that merely starts like a formula stays text
    if isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = "yyyy-mm-dd"
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


MAX_ROWS = 1_048_576  # Excel's limit per sheet; the rest continues on a further sheet
HEAD_ROWS = 3  # marking, title, column headers (a sheet with a 填报单位 line: 4)
markings = levels.markings  # what a report may be marked with: the unit's levels (a function: the unit may add one)
marking_text = levels.marking_text
NUMBER_HEADER = "序号"

# The paper ledger's look: 宋体 五号 (10.5 pt) in ruled cells, the title in 小二, the marking
# in 黑体. Nothing under 9 pt is printed at 100 % (the page is fitted to the width, so a very
# wide choice of columns prints smaller; the default columns fit A4 landscape at about 90 %).
BODY_SIZE = 10.5
_THIN = Side(style="thin", color="000000")
_RULED = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BODY_FONT = Font(name="宋体", size=BODY_SIZE)
_TITLE_FONT = Font(name="宋体", size=18, bold=True)
_LINE_FONT = Font(name="宋体", size=BODY_SIZE)
_HEADER_FONT = Font(name="宋体", size=BODY_SIZE, bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_MARK_FONT = Font(name="黑体", size=14, bold=True, color="C00000")
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")
MAX_WIDTH = 24  # a longer text wraps in its cell (as on paper) rather than widening the page
MAX_ROW_HEIGHT = 409  # points: Excel's limit for a row (a longer cell's text is read in the cell)
LINE_HEIGHT = 13  # points a line of 五号 text takes in a row


def default_marking(service: LedgerService, ledger: Ledger, query: LedgerQuery | None = None) -> str:
    """The highest level among the records a report holds (非涉密 when it holds none; the
    highest the ledger allows when one of them has its 密级 still 待补充)."""
    with service.stream(ledger, query) as stream:
        return highest_level(stream)


def highest_level(stream) -> str:
    """The highest level among the records, in the unit's ranking (非涉密 when none holds one
    above it; a level of the unit's own, 涉密专用, counts where it is ranked). A record
    whose 密级 is empty (待补充, left so by an import) may be of any level: the report is then
    marked with the highest the ledger's declaration allows, so that the unit never under-marks
    (the export dialog still lets the user choose). For the whole ledger (nothing searched or
    filtered) the facet counts and the level index say it at once: a probe for a level no record
    holds would otherwise walk the ledger's rows (the dialogs ask on the UI thread)."""
    q, field = stream.query, stream.ledger.level_field
    if field is None:
        return levels.UNCLASSIFIED
    highest_allowed = levels.highest(field.type.allowed)
    if not (q.text or any(v not in (None, "") for v in q.filters.values()) or q.include_voided
            or q.parent_id is not None or getattr(q, "pending", False)):
        if pending_level_count(stream.session, stream.ledger):
            return highest_allowed
        held = {level for level, n in stream.repo.facet_counts(stream.ledger, field.name).items() if n > 0}
        return next((level for level in field.type.allowed if level in held), levels.UNCLASSIFIED)
    if _holds_empty_level(stream):
        return highest_allowed
    above = [level for level in field.type.allowed if levels.rank(level) > levels.rank(levels.UNCLASSIFIED)]
    return next((level for level in above if stream.has_level(level)), levels.UNCLASSIFIED)


def _holds_empty_level(stream) -> bool:
    """Whether a searched or filtered report holds a record whose 密级 is empty: one row read
    where the level index has NULL under the report's conditions (no order: the first ends it)."""
    field = stream.ledger.level_field
    if stream.query.filters.get(field.name) not in (None, ""):  # one level chosen: none is empty
        return False
    t = table_of(stream.ledger)
    conds = stream.repo.conditions(stream.ledger, stream.query.but(offset=0, limit=1))
    return stream.session.execute(select(t.c.id).where(*conds, t.c[field.name].is_(None)).limit(1)).first() is not None


def signoff_line(filled_by: str, day: dt.date) -> str:
    """填表人 / 审核人 / 日期 under the table, as on the paper ledger (审核人 is signed by hand)."""
    gap = "\u3000" * 8
    return f"填表人:{filled_by or gap}{gap}审核人:{gap}{gap}日期:{day.year} 年 {day.month} 月 {day.day} 日"


def paper_page(ws, marking: str, anchor: str = "", *, title_rows: str = "", one_page: bool = False) -> None:
    """A4 landscape, fitted to the page width (``one_page``: to one page), centred; the marking
    (``机密★``) in every page's header and footer, 第 N 页 共 M 页 and the audit chain's head in
    the footer. ``marking`` is the text shown (see :func:`levels.marking_text`)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0  # 0: as many pages down as the rows take
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.3, right=0.3, top=0.8, bottom=0.7, header=0.3, footer=0.3)
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddHeader.left.text = marking
    ws.oddHeader.left.size = 14
    ws.oddHeader.left.font = "黑体,Bold"
    ws.oddFooter.left.text = marking
    ws.oddFooter.left.size = 10
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = 10
    if anchor:
        ws.oddFooter.right.text = anchor
        ws.oddFooter.right.size = 8


class _StyledCell(Cell):
    """A cell of a data column, written row after row with new values: its style is the
    column's, resolved once (openpyxl would look it up for each of a million cells)."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        return self._style_id


class _DataRow(list):
    """A row of values for the sheet's ruled data cells (title and sign-off rows are plain)."""


class SheetStream:
    """One report table on write-only sheets, laid out as the paper ledger a unit files:

    the marking (标密) and the title over the table, with a line naming the unit (填报单位) when
    ``info`` is given; ruled cells in 宋体 of at least 9 pt, a 序号 column when ``numbered``;
    the 填表人/审核人/日期 line under the table when ``signoff`` is given. Printed on A4 landscape
    fitted to the page width, the title and header rows repeated on every page, the marking in
    every page's header (and footer), 第 N 页 共 M 页 in the footer. Past Excel's row limit the
    rows go on to a further sheet (…(续1)), numbered on.

    ``anchor`` (the audit chain's head when the report was written, ``审计链头 N:HASH16``) goes
    in every page's footer: a paper or USB copy then lets the auditor check that the log
    still holds that entry (``mibao audit verify --anchor``).

    ``centred`` and ``dates`` are indexes into ``headers`` (not counting 序号): columns shown
    centred (levels, statuses, dates) and columns holding dates (shown yyyy-mm-dd). ``max_width``:
    the widest a column may be before its text wraps (the audit log's 详情 wants more room)."""

    def __init__(self, wb: Workbook, name: str, heading: str, headers: list[str], widths: list[float],
                 marking: str, *, max_rows: int = MAX_ROWS, anchor: str = "",
                 info: tuple[str, str] | None = None, numbered: bool = False, signoff: str = "",
                 centred: Iterable[int] = (), dates: Iterable[int] = (), max_width: float = MAX_WIDTH,
                 levelled: Iterable[int] = ()) -> None:
        self.wb, self.name, self.heading = wb, name, heading
        self.numbered, self.info, self.signoff = numbered, info, signoff
        shift = 1 if numbered else 0
        self.headers = ([NUMBER_HEADER] if numbered else []) + list(headers)
        self.widths = ([max(5, display_width(NUMBER_HEADER) + 1)] if numbered else []) + [min(w, max_width) for w in widths]
        self.centred = {i + shift for i in centred} | ({0} if numbered else set())
        self.dates = {i + shift for i in dates}
        self.levelled = {i + shift for i in levelled}  # 密级 columns, in the level's colour
        self.head_rows = HEAD_ROWS + (1 if info else 0)
        self.marking, self.max_rows, self.anchor = marking_text(marking), max_rows, anchor
        self.sheets: list = []
        self.number = 0  # the 序号 of the last row written, counted on across sheets
        self._open()

    @property
    def last_column(self) -> str:
        return get_column_letter(len(self.headers))

    def _open(self) -> None:
        part = len(self.sheets)
        title = self.name if not part else f"{self.name[:26]}(续{part})"
        ws = self.wb.create_sheet(title[:31])
        for i, width in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        self._page_setup(ws)
        ws.freeze_panes = f"A{self.head_rows + 1}"  # the sheet view is written with the first row: set before
        last, n = self.last_column, len(self.headers)
        ws.row_dimensions[2].height = 30
        ws.append([_cell(ws, self.marking, font=_MARK_FONT)])
        ws.append([_cell(ws, self.heading if not part else f"{self.heading}(续)", font=_TITLE_FONT,
                         alignment=Alignment(horizontal="center", vertical="center"))])
        ws.merged_cells.add(f"A2:{last}2")
        if self.info:
            left, right = self.info
            split = max(1, n // 2)
            ws.append([_cell(ws, left, font=_LINE_FONT, alignment=Alignment(horizontal="left", vertical="center")),
                       *[None] * (split - 1),
                       _cell(ws, right, font=_LINE_FONT, alignment=_RIGHT)])
            ws.merged_cells.add(f"A3:{get_column_letter(split)}3")
            if split < n:
                ws.merged_cells.add(f"{get_column_letter(split + 1)}3:{last}3")
        ws.append([_cell(ws, h, font=_HEADER_FONT, fill=_HEADER_FILL, border=_RULED, alignment=_CENTRE)
                   for h in self.headers])
        self._styled_rows(ws)
        self.ws, self.rows = ws, self.head_rows
        self.sheets.append(ws)

    def _page_setup(self, ws) -> None:
        # the title and the column headers on every page; the marking row is not repeated, the
        # page header carries it (a page would otherwise show it twice)
        paper_page(ws, self.marking, self.anchor, title_rows=f"2:{self.head_rows}")

    def _styled_rows(self, ws) -> None:
        """Data rows go through one ruled cell per column (see :class:`_StyledCell`)."""
        cells = []
        for i in range(len(self.headers)):
            cell = _StyledCell(ws)
            cell.font, cell.border = _BODY_FONT, _RULED
            cell.alignment = _CENTRE if i in self.centred else _LEFT
            if i in self.dates:
                cell.number_format = "yyyy-mm-dd"
            cell._style_id = self.wb._cell_styles.add(cell._style)
            cells.append(cell)
        dates = frozenset(self.dates)
        # a 密级 cell's style by its level: the column's, with the font in the level's colour
        coloured = {}
        for i in self.levelled:
            base = cells[i]
            by_level = {}
            for level, colour in levels.colours().items():
                style = StyleArray(base._style)
                style.fontId = self.wb._fonts.add(Font(name=_BODY_FONT.name, size=BODY_SIZE, color=colour.lstrip("#")))
                by_level[level] = self.wb._cell_styles.add(style)
            coloured[i + 1] = (base._style_id, by_level)
        plain = ws._values_to_row

        def styled(values: list, row_idx: int):
            for col_idx, (value, cell) in enumerate(zip(values, cells), 1):
                if value.__class__ in _DATES and col_idx - 1 not in dates:
                    value = value.isoformat()  # a date in a text column: as text, not a bare number
                cell.value = value
                if value.__class__ is str and value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"  # text that merely starts like a formula stays text
                cell.row, cell.column = row_idx, col_idx
                if col_idx in coloured:
                    usual, by_level = coloured[col_idx]
                    cell._style_id = by_level.get(value, usual)
                yield cell

        ws._values_to_row = lambda values, row_idx: (styled(values, row_idx) if values.__class__ is _DataRow
                                                     else plain(values, row_idx))

    def _close(self, last_row: int | None = None) -> None:
        self.ws.auto_filter.ref = f"A{self.head_rows}:{self.last_column}{max(self.rows, self.head_rows)}"
        # printed from the title down: the page header carries the marking on every page
        self.ws.print_area = f"A2:{self.last_column}{last_row or max(self.rows, self.head_rows)}"

    def append(self, values: Iterable[Any]) -> None:
        if self.rows >= self.max_rows:
            self._close()
            self._open()
        row = _DataRow(values)
        if self.numbered:
            self.number += 1
            row.insert(0, self.number)
        if len(row) < len(self.headers):  # every cell of the table ruled, the empty ones too
            row.extend([None] * (len(self.headers) - len(row)))
        lines = self._lines(row)
        if lines > 1:  # a wrapped text: the row as tall as its lines (no reader measures them on load)
            dims = self.ws.row_dimensions
            dims[self.rows + 1].height = min(lines * LINE_HEIGHT + 1, MAX_ROW_HEIGHT)
            self.ws.append(row)
            del dims[self.rows + 1]  # written: not kept for each of a million rows
        else:
            self.ws.append(row)
        self.rows += 1

    def _lines(self, row: list) -> int:
        """How many lines the tallest cell of the row takes in its column's width."""
        most = 1
        for value, width in zip(row, self.widths):
            if value.__class__ is str and ("\n" in value or len(value) * 2 > width - 1):
                room = max(width - 1, 1)
                most = max(most, sum(-(-max(display_width(part), 1) // room) for part in value.split("\n")))
        return most

    def close(self) -> None:
        if not self.signoff:
            self._close()
            return
        row = self.rows + 2  # under an empty line
        self.ws.row_dimensions[row].height = 30
        self.ws.append([])
        self.ws.append([_cell(self.ws, self.signoff, font=_LINE_FONT,
                              alignment=Alignment(horizontal="left", vertical="bottom"))])
        self.ws.merged_cells.add(f"A{row}:{self.last_column}{row}")
        self._close(last_row=row)

    def abandon(self) -> None:
        for ws in self.sheets:
            with contextlib.suppress(Exception):  # closing a sheet whose disk is full fails again
                ws.close()


_DATES = (dt.date, dt.datetime)


def stream_to(sheet: SheetStream, rows: Iterable[Iterable[Any]], total: int, *,
              progress: Callable[[int, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> int:
    done = 0
    try:
        for values in rows:
            sheet.append(values)
            done += 1
            if done % 500 == 0:
                if cancelled and cancelled():
                    raise Cancelled("导出已取消,未生成文件")
                if progress:
                    progress(done, total)
        if cancelled and cancelled():
            raise Cancelled("导出已取消,未生成文件")
    except WRITE_ERRORS as exc:  # the sheet's temporary file: a full disk shows here before the save
        sheet.abandon()
        _drop_sheet_temps(sheet.wb)
        raise ServiceError(files.explain(_as_os_error(exc), Path(tempfile.gettempdir()))) from exc
    except BaseException:
        sheet.abandon()
        _drop_sheet_temps(sheet.wb)
        raise
    sheet.close()
    return done


def ledger_rows(stream, chosen: list, parent_label: str = "") -> tuple[list[float], Iterator]:
    """Column widths fitted to the first rows, and every row's cell values (streamed). A child
    ledger's rows begin with their parent's number (``parent_label``: 所属载体)."""
    widths = [display_width(h) + 1 for h in ([parent_label] if parent_label else []) + [f.label for f in chosen]]
    records = iter(stream)
    sample: list[list[Any]] = []

    # a required field still empty is 待补充 (its column was never kept): said so in the cell,
    # which an import of the file reads back as 待补充
    gaps = {f.name for f in chosen if f.required and f.compute is None}

    def cells(values: dict) -> list:
        row = [cell_value(f, values[f.name]) if values[f.name] is not None or f.name not in gaps else PENDING
               for f in chosen]
        return [values.get(PARENT), *row] if parent_label else row

    for values in records:  # widths must be set before the first row is streamed
        row = cells(values)
        sample.append(row)
        for i, v in enumerate(row):
            shown = v.isoformat() if isinstance(v, dt.date) else str(v or "")
            widths[i] = max(widths[i], min(max(map(display_width, shown.split("\n"))) + 1, MAX_WIDTH))
        if len(sample) >= 200:
            break

    def rows():
        yield from sample
        for values in records:
            yield cells(values)

    return widths, rows()


def column_kinds(chosen: list, parent_label: str = "") -> tuple[list[int], list[int]]:
    """Which columns (as ``ledger_rows`` gives them) are shown centred, and which hold dates:
    a date, a level, a choice or a number is short and reads best centred in its ruled cell."""
    shift = 1 if parent_label else 0
    centred = [i + shift for i, f in enumerate(chosen)
               if not f.many and isinstance(f.type, (Date, Integer, Choice, Level))]
    dates = [i + shift for i, f in enumerate(chosen) if not f.many and isinstance(f.type, Date)]
    return centred, dates


def level_columns(chosen: list, parent_label: str = "") -> list[int]:
    """The columns holding a 密级: printed in the level's colour, as the table and the labels
    show it (one palette, ``levels.colours()``)."""
    shift = 1 if parent_label else 0
    return [i + shift for i, f in enumerate(chosen) if not f.many and isinstance(f.type, Level)]


def parent_column(ledger: Ledger) -> str:
    """The header of the column naming a child record's parent (所属载体); "" for a top ledger."""
    from mibao_desktop.excel.mapping import columns

    return next((label for name, label, _h, _r in columns(ledger) if name == PARENT), "")


def export_ledger(service: LedgerService, ledger: Ledger, path: Path, *, query: LedgerQuery | None = None,
                  fields: list[str] | None = None, marking: str | None = None, unit: str | None = None,
                  filled_by: str | None = None, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None, max_rows: int = MAX_ROWS,
                  audit_target: str | None = None) -> int:
    """Write the ledger (with the current filter and chosen columns) to ``path``, laid out as
    the paper ledger (see :class:`SheetStream`): marked with ``marking`` (by default the highest
    level among the rows), the unit's name (``unit``; by default the one set in 打印设置), and
    signed off by ``filled_by`` (by default the exporting account's 姓名).

    The file appears only when complete: it is written to a temporary name beside the target
    and renamed, so a cancelled or failed export leaves nothing that looks finished.
    """
    path = Path(path)
    check_target(service.db, path)
    query = query or LedgerQuery()
    chosen = [ledger.field(n) for n in fields] if fields else list(ledger.fields)
    unit = report_facts.unit_name(service.db) if unit is None else unit
    filled_by = report_facts.display_name(service.db, service.actor.name) if filled_by is None else filled_by
    today = dt.date.today()
    wb = Workbook(write_only=True)
    with service.stream(ledger, query, fields=[f.name for f in chosen]) as stream:
        marking = marking or highest_level(stream)
        if marking not in markings():
            raise ValueError(marking)
        total = stream.total
        parent_label = parent_column(ledger)
        widths, rows = ledger_rows(stream, chosen, parent_label)
        centred, dates = column_kinds(chosen, parent_label)
        levelled = level_columns(chosen, parent_label)
        headers = ([parent_label] if parent_label else []) + [f.label for f in chosen]
        anchor = audit.current_anchor(service.db)
        sheet = SheetStream(wb, ledger.title, ledger.title, headers, widths, marking, max_rows=max_rows,
                            anchor=anchor.label, info=unit_line(unit, f"共 {total} 条    导出日期:{today.isoformat()}"),
                            numbered=True, signoff=signoff_line(filled_by, today), centred=centred, dates=dates,
                            levelled=levelled)
        done = stream_to(sheet, rows, total, progress=progress, cancelled=cancelled)
    save_atomically(wb, path)
    service.record_output("ledger.export", ledger, audit_target or str(path), done,
                          {"search": query.text, "filters": query.filters, "columns": [f.label for f in chosen],
                           "marking": marking, "anchor": str(anchor)})
    if progress:
        progress(total, total)
    return done


def unit_line(unit: str, right: str) -> tuple[str, str]:
    """The line under the title: 填报单位 (left blank to be written by hand when not set) and
    what the table holds."""
    return f"填报单位:{unit or chr(0x3000) * 12}", right
