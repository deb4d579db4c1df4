"""Reading hand-kept spreadsheets (xlsx, csv in UTF-8 or GBK) into rows of raw cell values.

Refuses, with a plain-Chinese message, anything that is not a readable table: a text file
named .xlsx, an empty workbook, a zip bomb.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

MAX_UNCOMPRESSED = 300 * 1024 * 1024  # a ledger of 100,000 rows is ~60 MB unpacked
MAX_RATIO = 200  # ordinary xlsx pack 5-20:1; a zip bomb thousands to one


class SpreadsheetError(Exception):
    """The file cannot be read as a table; the message says why and what to do."""


class FormulaCell(str):
    """A cell holding a formula (its text). Never evaluated; the importer refuses the row."""


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[tuple[int, list[Any]]]  # (1-based row number in the file, cell values)


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise SpreadsheetError(f"“{path.name}”不是有效的 Excel 文件(.xlsx),可能是改了扩展名的其他文件。"
                               "请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入。") from None
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if unpacked > MAX_UNCOMPRESSED or unpacked / packed > MAX_RATIO and unpacked > 20 * 1024 * 1024:
        raise SpreadsheetError(f"“{path.name}”解压后过大({unpacked // (1024 * 1024)} MB),疑似异常文件,已拒绝读取。")


def read_sheets(path: Path) -> list[Sheet]:
    path = Path(path)
    if not path.exists():
        raise SpreadsheetError(f"找不到文件“{path}”。")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [Sheet(path.stem, _read_csv(path))]
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".xls":
        raise SpreadsheetError("暂不支持旧版 .xls 文件,请在 Excel 或 WPS 中另存为 .xlsx 后再导入。")
    raise SpreadsheetError(f"不支持的文件类型“{suffix}”,请使用 .xlsx 或 .csv 文件。")


def _read_xlsx(path: Path) -> list[Sheet]:
    _check_zip(path)
    try:
        # data_only=False: formulas are seen as formulas, never evaluated or trusted as values
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for broken packages
        raise SpreadsheetError(f"无法读取“{path.name}”:文件已损坏或不是 Excel 工作簿({type(exc).__name__})。") from None
    sheets = []
    try:
        for ws in workbook.worksheets:
            rows = []
            for number, row in enumerate(ws.iter_rows(), start=1):
                values = []
                for cell in row:
                    value = getattr(cell, "value", None)
                    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")
                                                                   and getattr(cell, "data_type", "s") == "f"):
                        value = FormulaCell(str(value))
                    values.append(value)
                if any(v not in (None, "") for v in values):
                    rows.append((number, values))
            sheets.append(Sheet(ws.title, rows))
    finally:
        workbook.close()
    if not any(s.rows for s in sheets):
        raise SpreadsheetError(f"“{path.name}”中没有任何数据。")
    return sheets


def _read_csv(path: Path) -> list[tuple[int, list[Any]]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK and GB2312
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise SpreadsheetError(f"无法识别“{path.name}”的文字编码,请另存为 UTF-8 或 Excel 格式。")
    if "\x00" in text:
        raise SpreadsheetError(f"“{path.name}”不是文本表格(含有二进制内容)。")
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if any(cell.strip() for cell in row):
            rows.append((number, list(row)))
    if not rows:
        raise SpreadsheetError(f"“{path.name}”中没有任何数据。")
    return rows
