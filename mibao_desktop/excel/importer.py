"""Importing a hand-kept ledger spreadsheet: find the header, map columns, validate every row
through the ledger service, store the good rows and name each refused one by row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mibao_desktop.excel.mapping import find_header, header_key
from mibao_desktop.excel.reader import FormulaCell, Sheet, SpreadsheetError, read_sheets
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.services.ledger_service import LedgerService

# Lines under a hand-kept table that are not records: 制表人, 审核人, 填表日期 …
_TRAILER_WORDS = ("制表", "审核", "填表", "签字", "签名", "负责人:", "负责人:", "合计", "备注:", "说明:")


@dataclass(frozen=True)
class RefusedRow:
    row: int  # the row number as the spreadsheet shows it
    column: str  # the column's header (or field label); "" for the whole row
    message: str

    def __str__(self) -> str:
        column = f"[{self.column}] " if self.column else ""
        return f"第 {self.row} 行 {column}{self.message}"


@dataclass
class ImportReport:
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header text → field label
    created: int = 0
    accepted: int = 0
    refused: list[RefusedRow] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)  # signature lines and other non-records

    @property
    def refused_rows(self) -> int:
        return len({r.row for r in self.refused})


def _looks_like_trailer(values: list) -> bool:
    text = "".join(str(v) for v in values if v not in (None, ""))
    return any(word in text for word in _TRAILER_WORDS)


@dataclass
class ImportPlan:
    """What an import will read: the sheet, its header row and which column fills which field.

    Found automatically (header under a title, Chinese names and synonyms, a mapping saved from
    the last import); the import wizard lets the user change the sheet and each column.
    """

    ledger: Ledger
    path: Path
    sheets: list[Sheet]
    sheet_index: int = 0
    header_position: int = 0  # index into the sheet's rows
    mapping: dict[int, str] = field(default_factory=dict)  # column index → field name

    @property
    def sheet(self) -> Sheet:
        return self.sheets[self.sheet_index]

    @property
    def header_number(self) -> int:
        return self.sheet.rows[self.header_position][0] if self.sheet.rows else 0

    @property
    def headers(self) -> list[str]:
        cells = self.sheet.rows[self.header_position][1] if self.sheet.rows else []
        return ["" if c is None else str(c).strip() for c in cells]

    @property
    def data_rows(self) -> list[tuple[int, list]]:
        return self.sheet.rows[self.header_position + 1:]

    def missing_required(self) -> list[str]:
        mapped = set(self.mapping.values())
        return [f.label for f in self.ledger.fields
                if f.required and f.editable and f.default is None and f.name not in mapped]

    def set_column(self, index: int, name: str | None) -> None:
        """Column ``index`` fills field ``name`` (None: the column is not imported)."""
        if name is None:
            self.mapping.pop(index, None)
            return
        for other, taken in list(self.mapping.items()):
            if taken == name and other != index:
                del self.mapping[other]
        self.mapping[index] = name

    def choose_sheet(self, index: int, saved: dict[str, str] | None = None) -> None:
        self.sheet_index = index
        self.header_position, self.mapping = find_header(self.ledger, self.sheet.rows)
        self.header_position = max(self.header_position, 0)
        self.apply_saved(saved)

    def apply_saved(self, saved: dict[str, str] | None) -> None:
        """Columns whose header the user mapped by hand last time are mapped the same way."""
        for index, text in enumerate(self.headers):
            name = (saved or {}).get(header_key(text))
            if name and self.ledger.has_field(name):
                self.set_column(index, name)

    def mapping_to_save(self) -> dict[str, str]:
        return {header_key(self.headers[i]): n for i, n in self.mapping.items() if i < len(self.headers) and self.headers[i]}


def plan_import(ledger: Ledger, path: Path, saved: dict[str, str] | None = None) -> ImportPlan:
    """Read the file and find the sheet and header row that name the most of the ledger's fields."""
    path = Path(path)
    sheets = read_sheets(path)
    plan = ImportPlan(ledger, path, sheets)
    best = -1
    for index, sheet in enumerate(sheets):
        _position, mapping = find_header(ledger, sheet.rows)
        if len(mapping) > best:
            best, plan.sheet_index = len(mapping), index
    plan.choose_sheet(plan.sheet_index, saved)
    return plan


def _check_plan(plan: ImportPlan) -> None:
    if len(plan.mapping) < 2:
        raise SpreadsheetError(
            f"在“{plan.path.name}”中找不到{plan.ledger.title}的表头。请确认表头行包含“"
            + "”“".join(f.label for f in plan.ledger.fields if f.required) + "”等列名,或在导入向导中手工对应各列。")
    missing = plan.missing_required()
    if missing:
        raise SpreadsheetError(f"“{plan.path.name}”缺少必需的列:{'、'.join(missing)}。请在表头中加上这些列,"
                               "或在导入向导中指定对应的列。")


def run_import(service: LedgerService, plan: ImportPlan, *, all_or_nothing: bool = False, dry_run: bool = False,
               progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> ImportReport:
    """Validate every row as the ledger declares; store the good ones (or, with
    ``all_or_nothing``, none while any is bad; with ``dry_run`` none at all: the preview)."""
    _check_plan(plan)
    ledger, mapping = plan.ledger, plan.mapping
    labels = {f.name: f.label for f in ledger.fields}
    headers = plan.headers
    header_text = {n: (headers[i] if i < len(headers) and headers[i] else labels[n]) for i, n in mapping.items()}
    report = ImportReport(sheet=plan.sheet.name, header_row=plan.header_number,
                          columns={header_text[n]: labels[n] for n in mapping.values()})
    batch: list[dict] = []
    batch_rows: list[int] = []
    for number, cells in plan.data_rows:
        raw = {name: cells[i] for i, name in mapping.items() if i < len(cells)}
        filled = [v for v in raw.values() if v not in (None, "")]
        if not filled:
            continue
        key_empty, trailer = raw.get(ledger.key_field) in (None, ""), _looks_like_trailer(cells)
        if (key_empty and (len(filled) <= 2 or trailer)) or (trailer and len(filled) <= 2):
            report.skipped_rows.append(number)  # 制表人、审核人 lines under the table
            continue
        formulas = [n for n, v in raw.items() if isinstance(v, FormulaCell)]
        if formulas:
            report.refused.extend(RefusedRow(number, header_text[n], f"是公式“{raw[n][:30]}”,不会被计算;请改为实际内容后再导入")
                                  for n in formulas)
            continue
        batch.append(raw)
        batch_rows.append(number)
    pre_refused = bool(report.refused)
    result = service.create_many(
        ledger, batch, all_or_nothing=all_or_nothing, dry_run=dry_run or (all_or_nothing and pre_refused),
        progress=progress, cancelled=cancelled, source=plan.path.name)
    label_to_header = {labels[n]: header_text.get(n, labels[n]) for n in labels}
    report.refused.extend(RefusedRow(batch_rows[r.index], label_to_header.get(r.field, r.field), r.message)
                          for r in result.refused)
    report.refused.sort(key=lambda r: r.row)
    report.created = len(result.created)
    report.accepted = result.accepted
    return report


def import_ledger(service: LedgerService, ledger: Ledger, path: Path, *, all_or_nothing: bool = False,
                  dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> ImportReport:
    """The command line's import: the plan found automatically (with the saved mapping)."""
    plan = plan_import(ledger, path, service.import_mapping(ledger))
    return run_import(service, plan, all_or_nothing=all_or_nothing, dry_run=dry_run, progress=progress,
                      cancelled=cancelled)


REASON_HEADER = "未导入原因"


def write_refused(plan: ImportPlan, report: ImportReport, path: Path) -> int:
    """The refused rows in the file's own layout, with a reason column, to correct and import
    again. Returns the number of rows written."""
    from openpyxl import Workbook

    from mibao_desktop.excel.export import _cell, save_atomically

    reasons: dict[int, list[str]] = {}
    for r in report.refused:
        reasons.setdefault(r.row, []).append(f"[{r.column}] {r.message}" if r.column else r.message)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(plan.sheet.name[:31])
    width = max(len(plan.headers), max((len(c) for _, c in plan.data_rows), default=0))
    ws.append([_cell(ws, v) for v in [*plan.headers, *[""] * (width - len(plan.headers)), REASON_HEADER]])
    written = 0
    for number, cells in plan.data_rows:
        if number in reasons:
            values = [str(v) if isinstance(v, FormulaCell) else v for v in cells]
            values += [None] * (width - len(values))
            ws.append([_cell(ws, v) for v in [*values, f"第 {number} 行:" + ";".join(reasons[number])]])
            written += 1
    save_atomically(wb, Path(path))
    return written
