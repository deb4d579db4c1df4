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
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mibao_desktop.ledgers import levels
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Date, Integer
from mibao_desktop import files
from mibao_desktop.errors import Cancelled, ServiceError
from mibao_desktop.services import audit
from mibao_desktop.services.output_service import check_target
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.services.value_stream import PARENT

FORMULA_STARTS = ("=", "+", "-", "@")
_TITLE_FONT = Font(name="宋体", size=14, bold=True)
_HEADER_FONT = Font(name="宋体", bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


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
    save leaves them (ledger rows) behind until the process exits, or for ever if it is killed."""
    for ws in getattr(wb, "_sheets", []):
        writer = getattr(ws, "_writer", None)
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
HEAD_ROWS = 3  # marking, title, column headers
MARKINGS = levels.MARKINGS
marking_text = levels.marking_text
_MARK_FONT = Font(name="黑体", size=14, bold=True, color="C00000")


def default_marking(service: LedgerService, ledger: Ledger, query: LedgerQuery | None = None) -> str:
    """The highest level among the records a report holds (非涉密 when it holds none)."""
    with service.stream(ledger, query) as stream:
        return highest_level(stream)


def highest_level(stream) -> str:
    """The highest state-secret level among the records (非涉密 when none holds one)."""
    return next((level for level in levels.LEVELS if stream.has_level(level)), levels.UNCLASSIFIED)


class SheetStream:
    """One report table on write-only sheets: marking, title and header rows on each sheet,
    repeated on every printed page; A4 landscape fitted to the width; the marking also in the
    page header and footer; past Excel's row limit the rows go on to a further sheet.

    ``anchor`` (the audit chain's head when the report was written, ``审计链头 N:HASH16``) goes
    in every page's footer: a paper or USB copy then lets the auditor check that the log
    still holds that entry (``mibao audit verify --anchor``)."""

    def __init__(self, wb: Workbook, name: str, heading: str, headers: list[str], widths: list[float],
                 marking: str, *, max_rows: int = MAX_ROWS, anchor: str = "") -> None:
        self.wb, self.name, self.heading, self.headers, self.widths = wb, name, heading, headers, widths
        self.marking, self.max_rows, self.anchor = marking_text(marking), max_rows, anchor
        self.sheets: list = []
        self._open()

    def _open(self) -> None:
        part = len(self.sheets)
        title = self.name if not part else f"{self.name[:26]}(续{part})"
        ws = self.wb.create_sheet(title[:31])
        for i, width in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = f"A{HEAD_ROWS + 1}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"1:{HEAD_ROWS}"
        ws.oddHeader.center.text = self.marking
        ws.oddHeader.center.size = 14
        ws.oddFooter.center.text = f"{self.marking}    第 &P 页 共 &N 页"
        if self.anchor:
            ws.oddFooter.right.text = self.anchor
            ws.oddFooter.right.size = 8
        ws.append([_cell(ws, self.marking, font=_MARK_FONT)])
        ws.append([_cell(ws, self.heading if not part else f"{self.heading}(续)", font=_TITLE_FONT)])
        ws.append([_cell(ws, h, font=_HEADER_FONT, fill=_HEADER_FILL, alignment=Alignment(horizontal="center"))
                   for h in self.headers])
        self.ws, self.rows = ws, HEAD_ROWS
        self.sheets.append(ws)

    def _close(self) -> None:
        self.ws.auto_filter.ref = f"A{HEAD_ROWS}:{get_column_letter(len(self.headers))}{max(self.rows, HEAD_ROWS)}"

    def append(self, values: Iterable[Any]) -> None:
        if self.rows >= self.max_rows:
            self._close()
            self._open()
        # Plain values go in as they are (openpyxl reuses one cell for them, and gives dates a
        # date format); only text that starts like a formula needs a cell of its own.
        self.ws.append([_cell(self.ws, v) if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
                        for v in values])
        self.rows += 1

    def close(self) -> None:
        self._close()

    def abandon(self) -> None:
        for ws in self.sheets:
            with contextlib.suppress(Exception):  # closing a sheet whose disk is full fails again
                ws.close()


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
    widths = [display_width(h) + 2 for h in ([parent_label] if parent_label else []) + [f.label for f in chosen]]
    records = iter(stream)
    sample: list[list[Any]] = []

    def cells(values: dict) -> list:
        row = [cell_value(f, values[f.name]) for f in chosen]
        return [values.get(PARENT), *row] if parent_label else row

    for values in records:  # widths must be set before the first row is streamed
        row = cells(values)
        sample.append(row)
        for i, v in enumerate(row):
            shown = v.isoformat() if isinstance(v, dt.date) else str(v or "")
            widths[i] = max(widths[i], min(display_width(shown) + 2, 60))
        if len(sample) >= 200:
            break

    def rows():
        yield from sample
        for values in records:
            yield cells(values)

    return widths, rows()


def parent_column(ledger: Ledger) -> str:
    """The header of the column naming a child record's parent (所属载体); "" for a top ledger."""
    from mibao_desktop.excel.mapping import columns

    return next((label for name, label, _h, _r in columns(ledger) if name == PARENT), "")


def export_ledger(service: LedgerService, ledger: Ledger, path: Path, *, query: LedgerQuery | None = None,
                  fields: list[str] | None = None, marking: str | None = None, unit: str = "",
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None, max_rows: int = MAX_ROWS,
                  audit_target: str | None = None) -> int:
    """Write the ledger (with the current filter and chosen columns) to ``path``.

    The file appears only when complete: it is written to a temporary name beside the target
    and renamed, so a cancelled or failed export leaves nothing that looks finished.
    """
    path = Path(path)
    check_target(service.db, path)
    query = query or LedgerQuery()
    chosen = [ledger.field(n) for n in fields] if fields else list(ledger.fields)
    wb = Workbook(write_only=True)
    with service.stream(ledger, query, fields=[f.name for f in chosen]) as stream:
        marking = marking or highest_level(stream)
        if marking not in MARKINGS:
            raise ValueError(marking)
        total = stream.total
        parent_label = parent_column(ledger)
        widths, rows = ledger_rows(stream, chosen, parent_label)
        heading = f"{unit}{ledger.title}(共 {total} 条,导出于 {dt.date.today().isoformat()})"
        headers = ([parent_label] if parent_label else []) + [f.label for f in chosen]
        anchor = audit.current_anchor(service.db)
        sheet = SheetStream(wb, ledger.title, heading, headers, widths, marking, max_rows=max_rows,
                            anchor=anchor.label)
        done = stream_to(sheet, rows, total, progress=progress, cancelled=cancelled)
    save_atomically(wb, path)
    service.record_output("ledger.export", ledger, audit_target or str(path), done,
                          {"search": query.text, "filters": query.filters, "columns": [f.label for f in chosen],
                           "marking": marking, "anchor": str(anchor)})
    if progress:
        progress(total, total)
    return done
