"""Exporting a ledger to xlsx: streamed (write-only), atomic, never a formula from data."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Date, Integer
from mibao_desktop.services.errors import Cancelled
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.repository import LedgerQuery

FORMULA_STARTS = ("=", "+", "-", "@")
_TITLE_FONT = Font(name="宋体", size=14, bold=True)
_HEADER_FONT = Font(name="宋体", bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def stream_rows(ws, rows: Iterable[Iterable[Any]], total: int, *,
                progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> int:
    """Append rows to a write-only sheet, reporting progress and stopping on cancel."""
    done = 0
    try:
        for values in rows:
            ws.append([_cell(ws, v) for v in values])
            done += 1
            if done % 500 == 0:
                if cancelled and cancelled():
                    raise Cancelled("导出已取消,未生成文件")
                if progress:
                    progress(done, total)
        if cancelled and cancelled():
            raise Cancelled("导出已取消,未生成文件")
    except BaseException:
        ws.close()  # end openpyxl's streaming writer cleanly; its temp file is discarded
        raise
    return done


def save_atomically(wb: Workbook, path: Path) -> None:
    """Save under a temporary name beside ``path``, fsync, then rename: a full disk or a
    pulled-out drive leaves no file that looks complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".mibao-export-", suffix=".xlsx.part", dir=path.parent)
    os.close(fd)
    try:
        wb.save(temp_name)
        with open(temp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


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


def export_ledger(service: LedgerService, ledger: Ledger, path: Path, *, query: LedgerQuery | None = None,
                  fields: list[str] | None = None, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> int:
    """Write the ledger (with the current filter and chosen columns) to ``path``.

    The file appears only when complete: it is written to a temporary name beside the target
    and renamed, so a cancelled or failed export leaves nothing that looks finished.
    """
    path = Path(path)
    query = query or LedgerQuery()
    chosen = [ledger.field(n) for n in fields] if fields else list(ledger.fields)
    total = service.count(ledger, query)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ledger.title[:31])
    widths = [display_width(f.label) + 2 for f in chosen]
    sample: list[list[Any]] = []
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(chosen))}{total + 2}"
    # widths must be set before the first row is streamed: measure the first rows first
    records = service.iter_all(ledger, query)
    for record in records:
        values = [cell_value(f, record.values.get(f.name)) for f in chosen]
        sample.append(values)
        for i, v in enumerate(values):
            shown = v.isoformat() if isinstance(v, dt.date) else str(v or "")
            widths[i] = max(widths[i], min(display_width(shown) + 2, 60))
        if len(sample) >= 200:
            break
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.append([_cell(ws, f"{ledger.title}(共 {total} 条,导出于 {dt.date.today().isoformat()})", font=_TITLE_FONT)])
    ws.append([_cell(ws, f.label, font=_HEADER_FONT, fill=_HEADER_FILL,
                     alignment=Alignment(horizontal="center")) for f in chosen])
    done = 0

    def rows():
        yield from sample
        for record in records:
            yield [cell_value(f, record.values.get(f.name)) for f in chosen]

    done = stream_rows(ws, rows(), total, progress=progress, cancelled=cancelled)
    save_atomically(wb, path)
    service.record_output("ledger.export", ledger, str(path), done,
                          {"search": query.text, "filters": query.filters, "columns": [f.label for f in chosen]})
    if progress:
        progress(total, total)
    return done
