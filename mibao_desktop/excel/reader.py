"""Reading a unit's spreadsheet (读取台账表格) into rows of cell values, keeping what the unit
wrote: xlsx/xlsm, legacy xls (BIFF8), ods (WPS/LibreOffice), and csv/txt in UTF-8, GBK/GB18030
or UTF-16. The format is told by the bytes, not the file name.

python-calamine (Rust) reads the cells; xlsx_styles, xls_styles and ods_styles add what
calamine does not give (number formats shown as text, strikethrough, formulas never
calculated, error values, centre across selection; an ods's merged cells); text_tables reads
text tables. Anything that is not a readable table is refused with a plain-Chinese
SpreadsheetError saying what to do; no exception from a library reaches the user.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import python_calamine

from mibao_desktop.errors import Cancelled
from mibao_desktop.excel import ods_styles, text_tables, xls_styles, xlsx_styles

MAX_UNCOMPRESSED = 300 * 1024 * 1024  # a ledger of 100,000 rows is ~60 MB unpacked
MAX_RATIO = 200  # ordinary xlsx pack 5-20:1; a zip bomb thousands to one
MAX_TEXT = 200 * 1024 * 1024
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound file: .xls, or an encrypted .xlsx
ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
ERROR_VALUES = frozenset({"#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!"})
PASSWORD_MESSAGE = "文件有密码保护,请先在 Excel/WPS 中去掉密码后再导入。"
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}


class SpreadsheetError(Exception):
    """The file cannot be read as a table; the message says why and what to do."""


class FormulaCell(str):
    """公式单元格: a formula with no calculated value in the file (its text, "=A2&B2"). Never
    evaluated; the importer refuses the row. A formula Excel calculated is read as its value."""


class ErrorCell(str):
    """错误值: an Excel error value, "#N/A", "#REF!", "#DIV/0!" …"""


@dataclass
class Sheet:
    """One worksheet (工作表)."""

    name: str
    rows: list[tuple[int, list[Any]]]  # (1-based row number as the file shows it, values from column A)
    hidden: bool = False  # 隐藏 or very hidden
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row, col, last row, last col); rows 1-based, cols 0-based
    struck: set[int] = field(default_factory=set)  # rows whose non-empty cells are all struck through (删除线)
    notes: list[str] = field(default_factory=list)  # what reading changed, in Chinese


def read_sheets(path, *, progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> list[Sheet]:
    path = Path(path)
    if not path.is_file():
        raise SpreadsheetError(f"找不到文件“{path}”。")
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES | TEXT_SUFFIXES:
        raise SpreadsheetError(f"不支持的文件类型“{suffix}”,请使用 Excel(.xlsx、.xls)、WPS/ODS 表格或 .csv 文件。")
    with path.open("rb") as stream:
        head = stream.read(8)
    if head.startswith(CFB_MAGIC):
        sheets = _read_compound(path, progress, cancelled)
    elif head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        sheets = _read_package(path, progress, cancelled)
    else:
        sheets = _read_text(path, progress, cancelled)
    _give_back_memory()
    if not any(s.rows for s in sheets):
        raise SpreadsheetError(f"“{path.name}”中没有任何数据。")
    return sheets


def _give_back_memory() -> None:
    """Return the reader's freed buffers to the system (glibc keeps them otherwise): calamine's
    copy of a 100,000-row sheet leaves ~45 MB of free heap that the import would sit on top of."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to give back this way
            pass


# ---------------------------------------------------------------- by kind of file

def _not_excel(path: Path) -> SpreadsheetError:
    return SpreadsheetError(f"“{path.name}”不是有效的 Excel 文件,可能是改了扩展名的其他文件。"
                            "请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入。")


def _read_compound(path: Path, progress, cancelled) -> list[Sheet]:
    data = path.read_bytes()
    if any(name in data for name in ENCRYPTED_STREAMS):
        # an encrypted xlsx is an OLE2 file holding EncryptionInfo + EncryptedPackage
        raise SpreadsheetError(f"“{path.name}”{PASSWORD_MESSAGE}")
    del data
    return _read_calamine(path, "xls", progress, cancelled)


def _check_zip(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_excel(path) from None
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if unpacked > MAX_UNCOMPRESSED or unpacked / packed > MAX_RATIO and unpacked > 20 * 1024 * 1024:
        archive.close()
        raise SpreadsheetError(f"“{path.name}”解压后过大({unpacked // (1024 * 1024)} MB),疑似异常文件,已拒绝读取。")
    return archive


def _read_package(path: Path, progress, cancelled) -> list[Sheet]:
    archive = _check_zip(path)
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" in names:
            return _read_calamine(path, "xlsx", progress, cancelled, archive)
        if "xl/workbook.bin" in names:
            return _read_calamine(path, "xlsb", progress, cancelled)
        if "content.xml" in names:
            try:
                mimetype = archive.read("mimetype") if "mimetype" in names else b""
            except (zipfile.BadZipFile, OSError, ValueError):
                mimetype = b""
            if b"spreadsheet" in mimetype or not mimetype:
                return _read_calamine(path, "ods", progress, cancelled, archive)
        if "word/document.xml" in names or "ppt/presentation.xml" in names:
            raise SpreadsheetError(f"“{path.name}”是 Word/PowerPoint 文档,不是表格。请把表格复制到 Excel 或 WPS 表格中保存为 .xlsx 再导入。")
    raise _not_excel(path)


def _read_text(path: Path, progress, cancelled) -> list[Sheet]:
    if path.stat().st_size > MAX_TEXT:
        raise SpreadsheetError(f"“{path.name}”过大({path.stat().st_size // (1024 * 1024)} MB),已拒绝读取。")
    raw = path.read_bytes()
    spreadsheet_name = path.suffix.lower() in SPREADSHEET_SUFFIXES
    lowered = raw[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if spreadsheet_name and (lowered.startswith((b"<html", b"<!doctype", b"<table", b"<meta"))
                             or (lowered.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in raw[:4096])):
        # web systems export "xls" files that are really HTML or Excel 2003 XML
        raise SpreadsheetError(f"“{path.name}”实际是网页(HTML/XML)格式,不是真正的 Excel 文件。"
                               "请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入。")
    try:
        text, encoding = text_tables.decode(raw)
    except text_tables.NotText:
        if spreadsheet_name:
            raise _not_excel(path) from None
        raise SpreadsheetError(f"“{path.name}”不是文本表格(含有二进制内容或无法识别的编码)。"
                               "请在 Excel 或 WPS 中打开后另存为 .xlsx 或 UTF-8 编码的 .csv 再导入。") from None
    del raw
    delimiter = text_tables.sniff_delimiter(text)
    notes = []
    if spreadsheet_name:
        if delimiter is None:
            raise _not_excel(path)  # prose or a single column of text: not what was meant
        notes.append(f"文件名是 {path.suffix},内容实际是文本表格,已按文本读取({encoding} 编码)。")
    elif encoding not in ("UTF-8",):
        notes.append(f"按 {encoding} 编码读取。")
    try:
        rows = text_tables.parse(text, delimiter or ",", cancelled)
    except text_tables.NotText:
        raise SpreadsheetError(f"“{path.name}”的内容不是规范的表格(引号或分隔符错乱),请在 Excel 或 WPS 中打开后另存再导入。") from None
    for _number, cells in rows:
        for i, value in enumerate(cells):
            if value in ERROR_VALUES:  # a text table keeps no types: Excel wrote its error value as text
                cells[i] = ErrorCell(value)
    if progress is not None:
        progress(1, 1)
    return [Sheet(path.stem, rows, notes=notes)]


# ---------------------------------------------------------------- workbooks through calamine

_CALAMINE_SUFFIX = {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",), "xlsb": (".xlsb",), "ods": (".ods",)}


def _open_workbook(path: Path, kind: str):
    if path.suffix.lower() in _CALAMINE_SUFFIX[kind]:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    # the name says another format (an xlsx named .xls, a .et): calamine tries each format on the bytes
    with path.open("rb") as stream:
        return python_calamine.CalamineWorkbook.from_filelike(stream)


def _calamine_error(path: Path, exc: Exception, sheet: str | None = None) -> SpreadsheetError:
    if isinstance(exc, python_calamine.PasswordError) or "password" in str(exc).lower():
        return SpreadsheetError(f"“{path.name}”{PASSWORD_MESSAGE}")
    if sheet is not None:
        return SpreadsheetError(f"“{path.name}”中工作表“{sheet}”的内容已损坏,无法读取。"
                                "请在 Excel/WPS 中打开后另存为新的 .xlsx 文件再导入。")
    return SpreadsheetError(f"无法读取“{path.name}”:文件已损坏或不是 Excel 工作簿。"
                            "请在 Excel/WPS 中打开后另存为新的 .xlsx 文件再导入。")


def _read_calamine(path: Path, kind: str, progress, cancelled, archive: zipfile.ZipFile | None = None) -> list[Sheet]:
    styles = parts = None
    scans: dict[str, xlsx_styles.Scan] = {}
    if kind == "xls":
        # number formats, struck-through rows and error cells from the BIFF records; read before
        # calamine opens the workbook, which holds every sheet of a .xls from the start (140 MB
        # at 100,000 rows): the file's bytes read here are gone by then, not on top of it
        styles, scans = xls_styles.read_xls(path)
    try:
        workbook = _open_workbook(path, kind)
    except Exception as exc:  # calamine raises CalamineError, its subclasses, OSError, ValueError …
        raise _calamine_error(path, exc) from None
    if kind == "xlsx":
        styles = xlsx_styles.read_styles(archive)
        parts = xlsx_styles.sheet_parts(archive)
    elif kind == "ods":  # merged cells, formats, struck-through rows and error cells from content.xml
        styles, scans = ods_styles.read_ods(archive, cancelled)
    with workbook:
        metadata = [m for m in workbook.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        sheets = []
        for done, meta in enumerate(metadata):
            if cancelled is not None and cancelled():
                raise Cancelled()
            try:
                calamine_sheet = workbook.get_sheet_by_name(meta.name)
                start, height = calamine_sheet.start, calamine_sheet.height
                merged_ranges = calamine_sheet.merged_cell_ranges or []
                # row by row, each row's texts shared as it comes (see _rows): the whole grid
                # at once (to_python) held a copy of every repeated text until it was shared,
                # ~30 MB more at the top of reading 60,000 rows of a .xls
                values = calamine_sheet.iter_rows()
                del calamine_sheet  # calamine's own copy of the cells (~100 MB at 100,000 rows) goes with the rows
                rows = _rows(values, start, height)
            except Exception as exc:
                raise _calamine_error(path, exc, meta.name) from None
            del values
            sheet = Sheet(meta.name, rows,
                          hidden=meta.visible != python_calamine.SheetVisibleEnum.Visible,
                          merged=[(r0 + 1, c0, r1 + 1, c1) for (r0, c0), (r1, c1) in merged_ranges])
            del rows
            if parts and meta.name in parts:
                _apply_scan(sheet, xlsx_styles.scan_sheet(archive, parts[meta.name], styles, cancelled), styles)
            elif meta.name in scans:
                _apply_scan(sheet, scans.pop(meta.name), styles)
            sheets.append(sheet)
            if progress is not None:
                progress(done + 1, len(metadata))
    return sheets


_MIDNIGHT = dt.time()


def _rows(values: Iterable[list[Any]], start: tuple[int, int] | None,
          height: int | None = None) -> list[tuple[int, list[Any]]]:
    """calamine's grid (from its first used column; rows from its first used row, or from the
    sheet's first row when ``iter_rows`` gives the rows above it empty, as python-calamine 0.2
    does: told apart by counting them against the range's ``height``) → file row numbers and
    values from column A."""
    if not start:
        return []
    first_row, first_col = start
    pad = [None] * first_col
    rows = []
    index = -1
    # One object per distinct short text: a ledger repeats its departments, levels, types and
    # names down 100,000 rows, and a copy of each per cell is a third of the sheet's memory.
    shared: dict[str, str] = {}
    for index, row in enumerate(values):
        cells = pad + row if first_col else row
        kept = False
        for i, v in enumerate(cells):
            kind = type(v)
            if kind is str:
                if not v or v.isspace():
                    cells[i] = None
                    continue
                if v in ERROR_VALUES:
                    cells[i] = ErrorCell(v)  # see _apply_scan: calamine gives "" for error cells
                elif len(v) <= 24:
                    cells[i] = shared.setdefault(v, v)
            elif kind is float:
                if v.is_integer():
                    cells[i] = int(v)
            elif kind is dt.datetime:
                if v.time() == _MIDNIGHT and v.tzinfo is None:
                    cells[i] = v.date()
            elif kind is dt.timedelta:  # a duration format ([h]:mm): a time of day when under a day
                cells[i] = (dt.datetime.min + v).time() if dt.timedelta(0) <= v < dt.timedelta(days=1) else str(v)
            elif v is None:
                continue
            kept = True
        if kept:
            rows.append((index + 1, cells))
    # the grid's first row is the sheet's row first_row (0-based) when it holds height rows;
    # given from the sheet's first row it holds first_row more
    above = first_row if height is None else first_row + height - (index + 1)
    if not 0 <= above <= first_row:
        raise ValueError(f"calamine gave {index + 1} rows for a range of {height} from row {first_row}")
    return [(number + above, cells) for number, cells in rows] if above else rows


def _apply_scan(sheet: Sheet, scan: xlsx_styles.Scan, styles: xlsx_styles.Styles) -> None:
    if not (scan.styled or scan.formulas or scan.errors or scan.shown or scan.merged):
        return
    by_number = {number: cells for number, cells in sheet.rows}

    def put(row: int, col: int, value: Any) -> None:
        cells = by_number.get(row)
        if cells is None:
            cells = by_number[row] = []
            sheet.rows.append((row, cells))
        if col >= len(cells):
            cells.extend([None] * (col + 1 - len(cells)))
        cells[col] = value

    added = len(sheet.rows)
    formatted, example = 0, None
    struck_cols: dict[int, set[int]] = {}
    for (row, col), xf in scan.styled.items():
        render = styles.text_formats.get(xf)
        if render is not None:
            cells = by_number.get(row)
            value = cells[col] if cells is not None and col < len(cells) else None
            if type(value) in (int, float):
                text = render(value)
                cells[col] = text
                formatted += 1
                example = example or text
        if xf in styles.struck:
            struck_cols.setdefault(row, set()).add(col)
    for (row, col), text in scan.shown.items():  # ods: the text its number format shows
        cells = by_number.get(row)
        if cells is not None and col < len(cells) and type(cells[col]) in (int, float):
            cells[col] = text
            formatted += 1
            example = example or text
    for (row, col), formula in scan.formulas.items():
        put(row, col, FormulaCell(formula))
    for (row, col), code in scan.errors.items():
        put(row, col, ErrorCell(code))
    if len(sheet.rows) != added:
        sheet.rows.sort(key=lambda r: r[0])
    sheet.merged.extend(scan.merged)
    if styles.centred:
        sheet.merged.extend(_centred_spans(sheet, scan, styles.centred, by_number))
    for row, cols in struck_cols.items():
        cells = by_number.get(row)
        filled = {i for i, v in enumerate(cells or ()) if v is not None}
        if filled and filled <= cols:
            sheet.struck.add(row)
    if formatted:
        sheet.notes.append(f"{formatted} 个数字按单元格格式读作文本(如 {example})")
    if scan.formulas:
        sheet.notes.append(f"{len(scan.formulas)} 个公式单元格没有计算结果(文件未在 Excel/WPS 中保存过),"
                           "所在行不能导入;请在 Excel/WPS 中打开并保存后再导入")
    if scan.errors:
        sheet.notes.append(f"{len(scan.errors)} 个单元格是错误值(如 {next(iter(scan.errors.values()))})")
    if sheet.struck:
        sheet.notes.append(f"{len(sheet.struck)} 行整行带删除线")


def _centred_spans(sheet: Sheet, scan: xlsx_styles.Scan, centred: frozenset[int],
                   by_number: dict[int, list[Any]]) -> list[tuple[int, int, int, int]]:
    """跨列居中 (centre across selection): a text over the empty cells to its right that are
    centred across as well is shown over all of them, as a merged cell is; it is taken as one
    (MAC地址 over MAC1 and MAC2 heads both columns)."""
    by_row: dict[int, set[int]] = {}
    for (row, col), xf in scan.styled.items():
        if xf in centred:
            by_row.setdefault(row, set()).add(col)
    merged = sheet.merged
    spans = []
    for row, cols in by_row.items():
        cells = by_number.get(row) or []
        for col in sorted(cols):
            if col >= len(cells) or cells[col] is None:
                continue
            end = col
            while end + 1 in cols and (end + 1 >= len(cells) or cells[end + 1] is None) and not any(
                    r1 <= row <= r2 and c1 <= end + 1 <= c2 for r1, c1, r2, c2 in merged):
                end += 1
            if end > col and not any(r1 <= row <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in merged):
                spans.append((row, col, row, end))
    return spans
