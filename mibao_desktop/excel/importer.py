"""Importing a hand-kept ledger spreadsheet: find the header, map columns, validate every row
through the ledger service, store the good rows and name each refused one by row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mibao_desktop.excel.mapping import find_header
from mibao_desktop.excel.reader import FormulaCell, SpreadsheetError, read_sheets
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


def import_ledger(service: LedgerService, ledger: Ledger, path: Path, *, all_or_nothing: bool = False,
                  dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> ImportReport:
    path = Path(path)
    sheets = read_sheets(path)
    best = None
    for sheet in sheets:
        position, mapping = find_header(ledger, sheet.rows)
        if best is None or len(mapping) > len(best[2]):
            best = (sheet, position, mapping)
    sheet, position, mapping = best
    labels = {f.name: f.label for f in ledger.fields}
    if len(mapping) < 2:
        raise SpreadsheetError(
            f"在“{path.name}”中找不到{ledger.title}的表头。请确认表头行包含“{'”“'.join(f.label for f in ledger.fields if f.required)}”等列名。")
    mapped = set(mapping.values())
    missing = [f.label for f in ledger.fields if f.required and f.editable and f.default is None and f.name not in mapped]
    if missing:
        raise SpreadsheetError(f"“{path.name}”缺少必需的列:{'、'.join(missing)}。请在表头中加上这些列后再导入。")
    header_number, header_cells = sheet.rows[position]
    report = ImportReport(sheet=sheet.name, header_row=header_number,
                          columns={str(header_cells[i]).strip(): labels[n] for i, n in mapping.items()})
    header_text = {n: str(header_cells[i]).strip() for i, n in mapping.items()}

    batch: list[dict] = []
    batch_rows: list[int] = []
    for number, cells in sheet.rows[position + 1:]:
        raw = {name: cells[i] for i, name in mapping.items() if i < len(cells)}
        filled = [v for v in raw.values() if v not in (None, "")]
        if not filled:
            continue
        if raw.get(ledger.key_field) in (None, "") and (len(filled) <= 2 or _looks_like_trailer(cells)):
            report.skipped_rows.append(number)
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
        progress=progress, cancelled=cancelled, source=path.name)
    label_to_header = {labels[n]: header_text.get(n, labels[n]) for n in labels}
    report.refused.extend(RefusedRow(batch_rows[r.index], label_to_header.get(r.field, r.field), r.message)
                          for r in result.refused)
    report.refused.sort(key=lambda r: r.row)
    report.created = len(result.created)
    report.accepted = result.accepted
    return report
