"""Importing a hand-kept ledger spreadsheet: find the header, map columns, validate every row
through the ledger service, store the good rows and name each refused one by row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mibao_desktop.excel.mapping import CHILD, columns, find_header, header_key
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

    def choices(self) -> list[tuple[str, str, bool]]:
        """What a column may be mapped to: (name, label, required)."""
        return [(name, label, required) for name, label, _headers, required in columns(self.ledger)]

    def label_of(self, name: str) -> str:
        return next((label for n, label, _r in self.choices() if n == name), name)

    def missing_required(self) -> list[str]:
        mapped = set(self.mapping.values())
        return [label for name, label, required in self.choices() if required and name not in mapped]

    @property
    def with_children(self) -> bool:
        return any(name.startswith(CHILD) for name in self.mapping.values())

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
            if name and name in {n for n, _l, _r in self.choices()}:
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
    labels = {name: label for name, label, _r in plan.choices()}
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
        if plan.with_children and key_empty and not trailer:
            pass  # a further child record of the row above (its number cell left blank or merged)
        elif (key_empty and (len(filled) <= 2 or trailer)) or (trailer and len(filled) <= 2):
            report.skipped_rows.append(number)  # 制表人、审核人 lines under the table
            continue
        formulas = [n for n, v in raw.items() if isinstance(v, FormulaCell)]
        if formulas:
            report.refused.extend(RefusedRow(number, header_text[n], f"是公式“{raw[n][:30]}”,不会被计算;请改为实际内容后再导入")
                                  for n in formulas)
            continue
        batch.append(raw)
        batch_rows.append(number)
    child_rows: list[list[int]] = []
    if plan.with_children:
        batch, batch_rows, child_rows = _group_by_parent(ledger, batch, batch_rows)
    pre_refused = bool(report.refused)
    result = service.create_many(
        ledger, batch, all_or_nothing=all_or_nothing, dry_run=dry_run or (all_or_nothing and pre_refused),
        progress=progress, cancelled=cancelled, source=plan.path.name)
    label_to_header = {labels[n]: header_text.get(n, labels[n]) for n in labels}
    # a copy's fields by their own columns (备注 of a copy is not the carrier's 备注)
    child_to_header = {label: header_text.get(CHILD + n, label) for n, label in _child_labels(ledger).items()}
    for r in result.refused:
        if r.child is not None:
            row, column = child_rows[r.index][r.child], child_to_header.get(r.field, r.field)
        else:
            row, column = batch_rows[r.index], label_to_header.get(r.field, r.field)
        report.refused.append(RefusedRow(row, column, r.message))
    report.refused.sort(key=lambda r: r.row)
    report.created = len(result.created)
    report.accepted = result.accepted
    return report


def _child_labels(ledger: Ledger) -> dict[str, str]:
    from mibao_desktop.ledgers import children_of

    return {f.name: f.label for child in children_of(ledger) for f in child.fields}


def _group_by_parent(ledger: Ledger, batch: list[dict], numbers: list[int]
                     ) -> tuple[list[dict], list[int], list[list[int]]]:
    """One row per child record (a carrier sheet listing each copy) → one parent row with its
    children. Rows with the same number belong together wherever they are in the sheet; a row
    whose number is blank continues the row above (merged cells in hand-kept sheets). A parent
    value is taken from the first of its rows that has it."""
    key = ledger.field(ledger.key_field)
    groups: dict[str, dict] = {}
    order: list[str] = []
    child_rows: dict[str, list[int]] = {}
    first_row: dict[str, int] = {}
    current = None
    for raw, number in zip(batch, numbers):
        own = {k: v for k, v in raw.items() if not k.startswith(CHILD)}
        child = {k[len(CHILD):]: v for k, v in raw.items() if k.startswith(CHILD) and v not in (None, "")}
        number_cell = own.get(ledger.key_field)
        if number_cell in (None, "") and current is not None:
            group_key = current
        else:
            try:
                group_key = str(key.normalise(number_cell)).casefold() if number_cell not in (None, "") else f"#{number}"
            except Exception:  # a wrong number is reported by the service, on this row
                group_key = f"#{number}"
        current = group_key
        if group_key not in groups:
            groups[group_key] = {"_children": []}
            order.append(group_key)
            child_rows[group_key] = []
            first_row[group_key] = number
        merged = groups[group_key]
        for k, v in own.items():
            if merged.get(k) in (None, "") and v not in (None, ""):
                merged[k] = v
        if child:
            merged["_children"].append(child)
            child_rows[group_key].append(number)
    return [groups[k] for k in order], [first_row[k] for k in order], [child_rows[k] for k in order]


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
