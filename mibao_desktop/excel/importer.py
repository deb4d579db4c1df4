"""Importing a hand-kept ledger spreadsheet (导入台账): find the header, map columns, validate
every row through the ledger service, store the good rows and name each refused one by the
file's own row number and column.

What the file says is kept or refused with the reason, never dropped: cells a person merged
down fill each row they cover, a field spread over two columns is gathered, struck-through and
小计/合计 rows are shown and left out only when the user agrees, and every sheet that looks like
the ledger is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable

from mibao_desktop.excel import cell_splits, copy_numbers, form_lines
from mibao_desktop.excel.form_lines import FormLine
from mibao_desktop.excel.mapping import (
    CHILD,
    REASON_HEADER,
    STATUS,
    Header,
    columns,
    field_of,
    find_header,
    gathers,
    header_key,
)
from mibao_desktop.excel.reader import ErrorCell, FormulaCell, Sheet, SpreadsheetError, read_sheets
from mibao_desktop.ledgers import children_of
from mibao_desktop.ledgers import levels
from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Level
from mibao_desktop.ledgers.pending import PENDING as PENDING_MARK, gap_fields
from mibao_desktop.services.ledger_service import LedgerService, _collector_paused

# 合计, 合 计, 小计:, 总计 25 台: the word alone, with spaces or a colon, and at most the count it gives
_TOTAL_CELL = re.compile(rf"^\s*(?:合|小|总|共)\s*计\s*[:：]?\s*(?:\d+\s*[{form_lines.COUNT_UNITS}]?)?\s*$")
PREVIEW_ROWS = 1000  # rows to be imported shown in the preview (all notes and refusals are shown)


@dataclass(frozen=True)
class RefusedRow:
    row: int  # the row number as the spreadsheet shows it (0: the sheet as a whole)
    column: str  # the column's header (or field label); "" for the whole row
    message: str

    def __str__(self) -> str:
        column = f"[{self.column}] " if self.column else ""
        where = f"第 {self.row} 行 " if self.row else ""
        return f"{where}{column}{self.message}"


RowNote = RefusedRow  # a normalisation the preview shows: where and what was changed


@dataclass
class ImportReport:
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header text → field label
    created: int = 0
    accepted: int = 0
    refused: list[RefusedRow] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)  # signature lines and other non-records
    left_out: list[RefusedRow] = field(default_factory=list)  # struck-through and 合计 rows the user left out
    notes: list[RowNote] = field(default_factory=list)  # what was normalised on the way in
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # the first rows to be imported, as shown
    row_labels: list[str] = field(default_factory=list)  # the column labels of ``rows``
    other_sheets: list[str] = field(default_factory=list)  # further sheets that look like this ledger
    unmapped: list[str] = field(default_factory=list)  # headers of the columns no field takes (not imported)
    people_added: list[str] = field(default_factory=list)
    form_lines: list[FormLine] = field(default_factory=list)  # what the lines above and below the table say
    total_mismatch: str = ""  # a 合计 whose count is not the number of records the table holds
    pending: dict[str, int] = field(default_factory=dict)  # field label → records stored 待补充 (no column)
    pending_records: int = 0  # records with at least one field left 待补充 (its column was never kept)
    # words in a 密级 column that are no level of the unit (涉密专用 not yet set): their rows are
    # refused, and the wizard and ``mibao import --own-level`` offer to set them as the unit's own
    unknown_levels: dict[str, list[int]] = field(default_factory=dict)
    children: int = 0  # child records that came (a dry run: would come) with the records (a carrier's copies)
    children_listed: dict[int, str] = field(default_factory=dict)  # a carrier's row → its copies (共 5 份:1–5)
    # a preview's reading of the rows, for the import after it (run_import's ``preview``); used once
    reading: "_Reading | None" = field(default=None, repr=False, compare=False)
    reused: bool = False  # an import that took its preview's reading (nothing committed since it)

    @property
    def refused_rows(self) -> int:
        return len({r.row for r in self.refused})

    @property
    def not_imported(self) -> int:
        """Rows of the file that did not come in: refused, or left out by the user."""
        return self.refused_rows + len(self.left_out)


def _looks_like_total(values: list) -> bool:
    """A 小计/合计 line: its first non-empty cell is the word itself ("合 计", "合计:", "合计 25 台"),
    never a cell that only holds the characters (综合计划处 is a department)."""
    first = next((v for v in values if v is not None and v != ""), None)
    return first.__class__ is str and "计" in first and _TOTAL_CELL.match(first) is not None


PENDING, VALUE, FROM = "pending", "value", "from"
_FILL_KEY = "填补:"  # a saved mapping's entry for a field with no column (no header's key has a colon)


@dataclass(frozen=True)
class Fill:
    """How a required field the file has no column for is filled: left empty and the record
    marked 待补充 (``PENDING``), one ``value`` for every row (``VALUE``), or taken from another
    column, ``value`` its index (``FROM``: 定密时间 from 启用时间). A row whose column is
    empty there is marked 待补充 too."""

    how: str = PENDING
    value: Any = None


@dataclass
class ImportPlan:
    """What an import will read: the sheet, its header and which column fills which field.

    Found automatically (header under a title, two header rows, Chinese names and synonyms, a
    mapping saved from the last import); the import wizard lets the user change the sheet and
    each column, and agree to leave out the rows flagged.
    """

    ledger: Ledger
    path: Path
    sheets: list[Sheet]
    sheet_index: int = 0
    header: Header = field(default_factory=Header)
    include_flagged: bool = False  # import struck-through and 合计 rows as well
    fills: dict[str, Fill] = field(default_factory=dict)  # required fields with no column: how each is filled

    # -- the sheet ------------------------------------------------------------------------

    @property
    def sheet(self) -> Sheet:
        return self.sheets[self.sheet_index]

    @property
    def mapping(self) -> dict[int, str]:
        return self.header.mapping

    @mapping.setter
    def mapping(self, value: dict[int, str]) -> None:
        self.header.mapping = value

    @property
    def header_position(self) -> int:
        return self.header.position

    @property
    def header_number(self) -> int:
        """The file's row number of the (last) header row."""
        rows = self.sheet.rows
        last = self.header.position + self.header.depth - 1
        return rows[last][0] if 0 <= last < len(rows) else 0

    @property
    def headers(self) -> list[str]:
        return list(self.header.texts)

    @property
    def title_rows(self) -> list[tuple[int, list]]:
        """The rows above the table (title, 填报单位 …), and its header rows."""
        return self.sheet.rows[:self.header.position + self.header.depth]

    @cached_property
    def _filled(self) -> tuple[list[tuple[int, list]], list[RowNote]]:
        return _fill_merged_down(self.sheet, self.sheet.rows[self.header.position + self.header.depth:],
                                 self.header, self.label_of)

    @property
    def data_rows(self) -> list[tuple[int, list]]:
        """The rows under the header, cells a person merged down filled into each row."""
        return self._filled[0]

    def _reset(self) -> None:
        self.__dict__.pop("_filled", None)
        self.__dict__.pop("flagged", None)
        self.__dict__.pop("sign_offs", None)

    @cached_property
    def flagged(self) -> dict[int, str]:
        """Rows that may not be records: struck through (deleted by hand) or a 小计/合计 line."""
        out: dict[int, str] = {}
        key_columns = [i for i, n in self.mapping.items() if n == self.ledger.key_field]
        struck = self.sheet.struck
        for number, cells in self.data_rows:
            if number in struck:
                out[number] = "整行有删除线(手工台账中通常表示已删除)"
            elif _looks_like_total(cells) and (not key_columns or any(
                    i >= len(cells) or cells[i] in (None, "") or _looks_like_total([cells[i]]) for i in key_columns)
                    or sum(1 for i in self.mapping if i < len(cells) and cells[i] not in (None, "")) <= 1):
                # (合计 | 25台: a count in the number column, and nothing else a record would have)
                out[number] = "是小计/合计行,不是一条记录"
        return out

    # -- columns ----------------------------------------------------------------------------

    def choices(self) -> list[tuple[str, str, bool]]:
        """What a column may be mapped to: (name, label, required)."""
        return [(name, label, required) for name, label, _headers, required in columns(self.ledger)]

    def label_of(self, name: str) -> str:
        return next((label for n, label, _r in self.choices() if n == name), name)

    def missing_required(self) -> list[str]:
        """The labels of the required fields no column fills (each is filled as ``fills`` says,
        by default left 待补充; the number is never left to be filled later)."""
        return [self.label_of(name) for name in self.missing_fields()]

    def missing_fields(self) -> list[str]:
        mapped = set(self.mapping.values())
        return [name for name, _label, required in self.choices() if required and name not in mapped]

    def must_map(self) -> list[str]:
        """The labels of required fields that cannot be left 待补充 and have no column: the
        record's number (unless the ledger numbers its records), or a field taken from a column."""
        key = self.ledger.key_field
        return [self.label_of(name) for name in self.missing_fields()
                if name == key and self.fill_of(name).how != FROM]

    def fill_of(self, name: str) -> Fill:
        return self.fills.get(name, Fill())

    def pending_fields(self) -> frozenset[str]:
        """The fields a record may be stored without, marked 待补充: required, with no column,
        left empty or taken from a column that may be empty on a row."""
        return frozenset(n for n in self.missing_fields()
                         if n != self.ledger.key_field and self.fill_of(n).how in (PENDING, FROM))

    def field_named(self, word: str) -> str:
        """The field a person names by its label or a synonym (定密时间, 定密日期)."""
        key = header_key(word)
        for name, label, headers, _required in columns(self.ledger):
            if key in {header_key(h) for h in (label, *headers)}:
                return name
        raise SpreadsheetError(f"{self.ledger.title}没有“{word}”这一字段。")

    def column_named(self, word: str) -> int:
        """The column of the sheet whose header is ``word`` (启用时间)."""
        key = header_key(word)
        for index, text in enumerate(self.headers):
            if text and key in {header_key(text), *(header_key(part) for part in text.split("/"))}:
                return index
        shown = "、".join(t for t in self.headers if t)
        raise SpreadsheetError(f"表头中没有“{word}”这一列,有:{shown}。")

    def suggested_value(self, name: str) -> str:
        """What a form line above the table says for a field no column fills (所属部门:物理系
        for 部门), offered as the value for every row; "" when none says."""
        f = field_of(self.ledger, name)
        if f is None:
            return ""
        keys = {header_key(h) for h in f.header_names}
        return next((line.value for line in self.lines_above if line.value and header_key(line.label) in keys), "")

    def understood(self, index: int) -> str:
        """How column ``index`` was understood, as the wizard shows it."""
        name = self.mapping.get(index)
        if name is None:
            return "未识别,不导入" if index < len(self.headers) and self.headers[index] else ""
        how = self.header.how.get(index) or "列名"
        return f"按{how}识别为“{self.label_of(name)}”" if not how.startswith("按") else how

    @property
    def lines_above(self) -> list[FormLine]:
        """The form lines above the header: title, 单位(盖章), 填表人, 填表日期, 合计 …"""
        return form_lines.read_lines(self.sheet.rows[:max(self.header.position, 0)], title=True)

    def lines_below(self) -> list[FormLine]:
        """The lines under the last record: 保管人签字, 批准人签字, 制表人 … (the rows the
        import skips as :attr:`sign_offs`)."""
        sign_offs = self.sign_offs
        return form_lines.read_lines([(number, cells) for number, cells in self.data_rows if number in sign_offs])

    @cached_property
    def sign_offs(self) -> frozenset[int]:
        """The rows under a table's last row that sign it off (制表人:李娜, 保管人签字:): each
        looks like one (:func:`form_lines.is_sign_off`), and only form lines, empty rows or the
        end of the sheet follow it before the header comes again (tables one under another).
        A row amid the records is a record, whatever a cell of it says."""
        flagged, repeats_header = self.flagged, self.header_repeated()
        out: set[int] = set()
        under_a_table = True  # walking up from the end of the sheet
        for number, cells in reversed(self.data_rows):
            if all(c is None or c == "" for c in cells):
                continue
            if repeats_header(cells):
                under_a_table = True  # what is just above it is the foot of the table before
            elif under_a_table and number not in flagged and form_lines.is_sign_off(cells):
                out.add(number)
            else:
                under_a_table = False
        return frozenset(out)

    def header_repeated(self) -> Callable[[list], bool]:
        """A test of a row: is it the header again (printed on every page, or two tables pasted
        one under the other)? Built once per import: it runs for every row."""
        mapping, headers = self.mapping, self.headers
        names_of_column = {i: {header_key(part) for part in headers[i].split("/")} - {""}
                           for i in mapping if i < len(headers)}
        first_column = min(names_of_column) if names_of_column else None

        def repeats_header(cells: list) -> bool:
            # cheap test on one column first: most rows are not the header again
            cell = cells[first_column] if first_column is not None and first_column < len(cells) else None
            if cell.__class__ is not str or header_key(cell) not in names_of_column[first_column]:
                return False
            return sum(1 for i, keys in names_of_column.items()
                       if i < len(cells) and isinstance(cells[i], str) and header_key(cells[i]) in keys) * 2 > len(mapping)
        return repeats_header

    @property
    def with_children(self) -> bool:
        return any(name.startswith(CHILD) for name in self.mapping.values())

    def set_column(self, index: int, name: str | None, how: str = "按您的指定") -> None:
        """Column ``index`` fills field ``name`` (None: the column is not imported). A field
        that holds several values may be filled by several columns; another moves here."""
        self._reset()
        if name is None:
            self.mapping.pop(index, None)
            self.header.how.pop(index, None)
            return
        self.header.how[index] = how
        if not gathers(self.ledger, name):
            for other, taken in list(self.mapping.items()):
                if taken == name and other != index:
                    del self.mapping[other]
        self.mapping[index] = name

    def choose_sheet(self, index: int, saved: dict[str, str] | None = None) -> None:
        self.sheet_index = index
        sheet = self.sheet
        self.header = find_header(self.ledger, sheet.rows, sheet.merged)
        self.header.position = max(self.header.position, 0)
        if not self.header.texts and sheet.rows:
            self.header.texts = ["" if c is None else str(c).strip() for c in sheet.rows[0][1]]
        self._reset()
        self.fills = {}  # the columns another sheet lacked are not this one's
        self.apply_saved(saved)
        self.number_from_declared_column()

    def number_from_declared_column(self) -> None:
        """A book with no column for the records' number, but one for the field the ledger
        numbers them by instead (``Ledger.key_from``: a carrier book kept by 文号): the number
        is taken from that column, so that the rows of one 文号 are one carrier."""
        key, source = self.ledger.key_field, self.ledger.key_from
        if not source or key not in self.missing_fields() or key in self.fills:
            return
        column = next((i for i, name in sorted(self.mapping.items()) if name == source), None)
        if column is not None:
            self.fills[key] = Fill(FROM, column)

    def apply_saved(self, saved: dict[str, str] | None) -> None:
        """Columns whose header the user mapped by hand last time are mapped the same way."""
        names = {n for n, _l, _r in self.choices()}
        for index, text in enumerate(self.headers):
            name = (saved or {}).get(header_key(text))
            if name and name in names and index != self.header.reason_column:
                self.set_column(index, name, "按上次导入时的指定")
        # how a column never kept was filled last time (定密时间 from 启用时间), where it is missing again
        missing = set(self.missing_fields())
        for key, said in (saved or {}).items():
            name = key[len(_FILL_KEY):] if key.startswith(_FILL_KEY) else None
            if name not in missing or not isinstance(said, str):
                continue
            how, _sep, value = said.partition(":")
            if how == FROM:
                try:
                    self.fills[name] = Fill(FROM, self.column_named(value))
                except SpreadsheetError:
                    continue  # that column is not in this file: 待补充 as by default
            elif how == PENDING:
                self.fills[name] = Fill(PENDING)
            # a value for every row (部门 = 物理系) is the last file's, never the next one's: a
            # mapping saved before it stopped being kept may still hold one, and it is not taken

    def mapping_to_save(self) -> dict[str, str]:
        """What the next import of this ledger starts from: each column's field by its header, and
        how each field with no column was filled: taken from a column (by its header) or left
        待补充. One value for every row is not kept: it says what this file is (所属部门:物理系),
        and the next file, another department's, says its own."""
        saved = {header_key(self.headers[i]): n for i, n in self.mapping.items() if i < len(self.headers) and self.headers[i]}
        for name in self.missing_fields():
            fill = self.fill_of(name)
            if fill.how == FROM and isinstance(fill.value, int) and fill.value < len(self.headers):
                saved[_FILL_KEY + name] = f"{FROM}:{self.headers[fill.value]}"
            elif fill.how == PENDING and name in self.fills:
                saved[_FILL_KEY + name] = PENDING
        return saved

    # -- sheets -----------------------------------------------------------------------------

    def sheet_fields(self, index: int) -> int:
        sheet = self.sheets[index]
        return find_header(self.ledger, sheet.rows, sheet.merged).fields

    def other_sheets(self) -> list[str]:
        """The other sheets whose header names this ledger's fields as well (none is skipped
        without a word: a workbook may hold one sheet a year)."""
        return [s.name + ("(隐藏)" if s.hidden else "") for i, s in enumerate(self.sheets)
                if i != self.sheet_index and self.sheet_fields(i) >= 2]


def _fill_merged_down(sheet: Sheet, rows: list[tuple[int, list]], header: Header, label_of: Callable[[str], str]
                      ) -> tuple[list[tuple[int, list]], list[RowNote]]:
    """A department or person merged down over several rows fills each of them."""
    if not rows:
        return rows, []
    first, last = rows[0][0], rows[-1][0]
    spans = [(r1, c1, r2) for r1, c1, r2, _c2 in sheet.merged if r2 > r1 and r2 >= first and r1 <= last]
    if not spans:
        return rows, []
    by_number = {number: i for i, (number, _cells) in enumerate(rows)}
    out = [(number, list(cells)) for number, cells in rows]
    notes = []
    for r1, c1, r2 in spans:
        top = by_number.get(r1)
        value = out[top][1][c1] if top is not None and c1 < len(out[top][1]) else None
        if value in (None, ""):
            continue
        filled = 0
        for number in range(max(r1 + 1, first), r2 + 1):
            i = by_number.get(number)
            if i is None:
                continue
            cells = out[i][1]
            while len(cells) <= c1:
                cells.append(None)
            if cells[c1] in (None, ""):
                cells[c1] = value
                filled += 1
        if filled:
            name = header.mapping.get(c1)
            column = header.texts[c1] if c1 < len(header.texts) and header.texts[c1] else (label_of(name) if name else "")
            notes.append(RowNote(r1, column, f"第 {r1}–{r2} 行是合并单元格“{value}”,已填入每一行"))
    return out, notes


def plan_import(ledger: Ledger, path: Path, saved: dict[str, str] | None = None, *,
                progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None, sheet: str | None = None) -> ImportPlan:
    """Read the file and find the sheet and header that name the most of the ledger's fields
    (``sheet`` names the sheet to take)."""
    path = Path(path)
    with _collector_paused():  # a 100,000-row sheet is 1.5 million cells and no garbage (~1 s of collection)
        sheets = read_sheets(path, progress=progress, cancelled=cancelled)
    plan = ImportPlan(ledger, path, sheets)
    if sheet is not None:
        names = [s.name for s in sheets]
        if sheet not in names:
            raise SpreadsheetError(f"“{path.name}”中没有名为“{sheet}”的工作表,有:{'、'.join(names)}。")
        plan.sheet_index = names.index(sheet)
    else:
        best = -1
        for index, s in enumerate(sheets):
            score = plan.sheet_fields(index) - (0.5 if s.hidden else 0)  # a visible sheet first
            if score > best:
                best, plan.sheet_index = score, index
    plan.choose_sheet(plan.sheet_index, saved)
    return plan


def _check_plan(plan: ImportPlan) -> None:
    from mibao_desktop.excel.mapping import HEADER_SCAN_ROWS

    if len(plan.mapping) < 2:
        raise SpreadsheetError(
            f"在“{plan.path.name}”工作表“{plan.sheet.name}”的前 {HEADER_SCAN_ROWS} 行中找不到{plan.ledger.title}的表头。"
            "请确认表头行包含“" + "”“".join(f.label for f in plan.ledger.fields if f.required) +
            "”等列名,或在导入向导中手工对应各列。")
    missing = plan.must_map()
    if missing:
        raise SpreadsheetError(f"“{plan.path.name}”缺少必需的列:{'、'.join(missing)}。请在表头中加上这些列,"
                               "或在导入向导中指定对应的列。")
    for name, fill in plan.fills.items():
        if fill.how == VALUE and fill.value in (None, ""):
            raise SpreadsheetError(f"请填写“{plan.label_of(name)}”统一使用的值,或改为留空待补充。")
        if fill.how == FROM and not isinstance(fill.value, int):
            raise SpreadsheetError(f"请选择“{plan.label_of(name)}”取自哪一列。")


def _gatherer(ledger: Ledger, mapping: dict[int, str]) -> Callable[[list], dict[str, Any]]:
    """A function from one row's cells to its raw values by field; several columns of one field
    are gathered in order (a list for MACs and disks, lines of text for 备注). Built once per
    import: it runs for every row."""
    items = list(mapping.items())
    names = [name for _i, name in items]
    gathered = {name for name in names if names.count(name) > 1}
    if not gathered:
        indexes = [i for i, _name in items]
        last = max(indexes, default=-1)
        # a row that reaches the last column (most rows): its cells taken in C
        take = itemgetter(*indexes) if len(indexes) > 1 else None

        def gather(cells: list) -> dict[str, Any]:
            n = len(cells)
            if take is not None and n > last:
                return dict(zip(names, take(cells)))
            return {name: cells[i] if i < n else None for i, name in items}
        return gather
    joined = {name for name in gathered if (f := field_of(ledger, name)) is None or not f.many}

    def gather_columns(cells: list) -> dict[str, Any]:
        n = len(cells)
        raw: dict[str, Any] = {}
        for i, name in items:
            value = cells[i] if i < n else None
            if name not in gathered:
                raw[name] = value
            elif value not in (None, ""):
                raw.setdefault(name, []).append(value)
        for name in gathered:
            values = raw.get(name)
            if not values:
                raw[name] = None
            elif name in joined:
                raw[name] = "\n".join(map(str, values))  # free text (备注) from two columns, one per line
            elif len(values) == 1:
                raw[name] = values[0]
        return raw
    return gather_columns


_FAULTS = (FormulaCell, ErrorCell)
_FAULT_TYPES = frozenset(_FAULTS)


def _faults(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """The formula and error cells of a row: (field, cell)."""
    out = []
    for name, value in raw.items():
        cls = value.__class__
        if cls in _FAULTS:
            out.append((name, value))
        elif cls is list:
            out.extend((name, item) for item in value if item.__class__ in _FAULTS)
    return out


class _Reading:
    """What one pass over the plan's rows found before the service checked them: the rows
    handed on (by their file row numbers), those that are no record (the header again, a
    signature line), those left out or refused for their cells, the cells split. A preview
    keeps it, with the service's own reading (``checked``), for the import after it."""

    def __init__(self, signature: tuple, sheet: Sheet) -> None:
        self.signature = signature
        # the sheet itself, compared by identity: an ``id()`` in the signature could be taken
        # again by another file's sheet once this one is freed (and a Sheet's ``==`` compares cells)
        self.sheet = sheet
        self.batch_rows: list[int] = []
        self.repeated: list[int] = []
        self.skipped: list[int] = []
        self.left_out: list[RefusedRow] = []
        self.refused: list[RefusedRow] = []
        self.splits: dict[tuple[str, str], list[int]] = {}  # (field, what was split) → the rows
        self.checked: Any = None


def _signature(plan: ImportPlan, known: dict[str, set[str]]) -> tuple:
    """What the rows handed to the service follow from: the sheet, its header and mapping, the
    fills, the flagged rows' choice, and the names a code may be split from (read from the
    database). An import whose plan says the same reads the same rows as its preview."""
    return (plan.ledger.key, plan.sheet_index, plan.header.position, plan.header.depth,
            tuple(sorted(plan.mapping.items())), tuple(sorted(plan.fills.items())), plan.include_flagged,
            plan.with_children, tuple(sorted((k, frozenset(v)) for k, v in known.items())))


def run_import(service: LedgerService, plan: ImportPlan, *, all_or_nothing: bool = False, dry_run: bool = False,
               progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None, preview: ImportReport | None = None) -> ImportReport:
    """Validate every row as the ledger declares; store the good ones (or, with
    ``all_or_nothing``, none while any is bad; with ``dry_run`` none at all: the preview).

    A preview keeps what it read of the rows (``reading``); the import given it as ``preview``
    takes that reading instead of reading the rows again when the plan is unchanged and
    nothing was committed to the database since (another workstation's record, a setting):
    the checks against the database run all the same. Otherwise it reads the rows again."""
    earlier = None
    if preview is not None and not dry_run:
        earlier, preview.reading = preview.reading, None  # (used once: the import changes its rows)
    # the cycle collector off for the whole of it, not only while the service checks and stores:
    # the rows filled, flagged and gathered before are hundreds of thousands of objects too
    with _collector_paused():
        return _run_import(service, plan, all_or_nothing=all_or_nothing, dry_run=dry_run, progress=progress,
                           cancelled=cancelled, earlier=earlier)


def _run_import(service: LedgerService, plan: ImportPlan, *, all_or_nothing: bool, dry_run: bool,
                progress: Callable[[int, int], None] | None,
                cancelled: Callable[[], bool] | None, earlier: _Reading | None) -> ImportReport:
    _check_plan(plan)
    ledger, mapping = plan.ledger, dict(sorted(plan.mapping.items()))
    labels = {name: label for name, label, _r in plan.choices()}
    headers = plan.headers
    header_text: dict[str, str] = {}
    for i, n in mapping.items():
        text = headers[i] if i < len(headers) and headers[i] else labels[n]
        header_text[n] = f"{header_text[n]}、{text}" if n in header_text else text
    report = ImportReport(sheet=plan.sheet.name, header_row=plan.header_number,
                          columns={header_text[n]: labels[n] for n in mapping.values()},
                          other_sheets=plan.other_sheets(),
                          unmapped=[t for i, t in enumerate(headers) if t and i not in mapping
                                    and i != plan.header.reason_column])
    report.notes.extend(RowNote(0, "", note) for note in plan.sheet.notes)
    number_from = plan.fills.get(ledger.key_field) if ledger.key_field in plan.missing_fields() else None
    if number_from is not None and number_from.how == FROM and isinstance(number_from.value, int) \
            and number_from.value < len(headers):  # (a carrier book kept by 文号)
        source = headers[number_from.value]
        report.notes.append(RowNote(0, "", f"表中没有“{labels[ledger.key_field]}”列,取自“{source}”列:"
                                           f"“{source}”相同的各行是同一{ledger.noun}"))
    report.notes.extend(plan._filled[1])
    flagged, sign_offs = plan.flagged, plan.sign_offs

    gather = _gatherer(ledger, mapping)
    fills = [(name, fill) for name, fill in plan.fills.items() if name in plan.missing_fields()]
    missing = plan.missing_fields()
    pending = plan.pending_fields()
    for name in missing:  # named where a refusal or a note points at the field
        fill = plan.fill_of(name)
        header_text[name] = (f"{labels[name]}(取自“{headers[fill.value]}”)"
                             if fill.how == FROM and isinstance(fill.value, int) and fill.value < len(headers)
                             else labels[name])
    mapped_fields = {n: f for n in dict.fromkeys(mapping.values()) if (f := field_of(ledger, n)) is not None}
    known = _known_names(service, plan, mapped_fields)
    split = cell_splits.splitter(ledger, mapped_fields, known)
    reading = _Reading(_signature(plan, known), plan.sheet)
    if earlier is not None and (earlier.sheet is not plan.sheet or earlier.signature != reading.signature
                                or earlier.checked is None):
        earlier = None
    batch_rows, repeated, splits = reading.batch_rows, reading.repeated, reading.splits
    with_children, include_flagged = plan.with_children, plan.include_flagged
    key_field = ledger.key_field
    repeats_header = plan.header_repeated()

    def rows_to_check():
        """Each row that may be a record, as raw values by field; what is not is noted on the way."""
        for number, cells in plan.data_rows:
            raw = gather(cells)
            if all(v is None or v == "" for v in raw.values()):
                continue
            if repeats_header(cells):
                repeated.append(number)  # the header again (printed on every page, or two tables pasted together)
                continue
            if number in flagged and not include_flagged:
                reading.left_out.append(RefusedRow(number, "", flagged[number]))
                continue
            if number in sign_offs:  # 制表人:李娜 under the table: kept as a form line, not a record
                reading.skipped.append(number)
                continue
            # (the row's cells asked first, in C: a formula or error cell is rare, and raw holds
            # no cell its row does not)
            bad = None if _FAULT_TYPES.isdisjoint(map(type, cells)) else _faults(raw)
            if bad:
                reading.refused.extend(RefusedRow(number, header_text[n], _cell_fault(v)) for n, v in bad)
                if with_children:  # its carrier is refused with it (no carrier stored with a copy missing)
                    batch_rows.append(number)
                    yield {key_field: raw.get(key_field), _FAULTED: True}
                continue
            batch_rows.append(number)
            if split is not None:  # two things in one cell: split by the field's rule, said in the preview
                for said in split(raw):
                    splits.setdefault(said, []).append(number)
            for name, fill in fills:  # the columns the unit never kept (after the tests above: not a row's content)
                if fill.how == VALUE:
                    raw[name] = fill.value
                elif fill.how == FROM:
                    raw[name] = cells[fill.value] if fill.value < len(cells) else None
            yield raw

    child_rows: list[list[int]] = []
    copies_listed: dict[int, str] = {}  # a carrier's row → the copies its rows list (共 5 份:1–5)
    if plan.with_children or all_or_nothing:
        batch = list(rows_to_check())
        if plan.with_children:
            batch, grouped_rows, child_rows, refused, listed = _group_by_parent(ledger, batch, batch_rows, header_text)
            batch_rows[:] = grouped_rows
            report.refused.extend(refused)
            report.notes.extend(listed.notes)
            copies_listed = report.children_listed = listed.summaries
    else:
        # streamed: the service keeps only each row's normalised values, not the raw cells as well
        batch = rows_to_check()
    above, below = plan.lines_above, plan.lines_below()
    report.form_lines = above + below
    result = service.create_many(
        ledger, batch, all_or_nothing=all_or_nothing,
        dry_run=dry_run or (all_or_nothing and bool(report.refused or reading.refused)),
        progress=progress, cancelled=cancelled, source=plan.path.name, row_numbers=batch_rows,
        total=len(plan.data_rows), pending=pending, form=form_lines.as_record(report.form_lines),
        keep=dry_run, checked=earlier.checked if earlier is not None else None)
    if result.reused:  # the rows were not read again: what the preview's pass over them found
        reading = earlier
        batch_rows, repeated, splits = reading.batch_rows, reading.repeated, reading.splits
        report.reused = True
    report.refused.extend(reading.refused)
    report.left_out.extend(reading.left_out)
    report.skipped_rows.extend(reading.skipped)
    if dry_run and result.checked is not None:
        reading.checked = result.checked
        report.reading = reading
    if repeated:
        report.skipped_rows.extend(repeated)
        report.skipped_rows.sort()
        report.notes.append(RowNote(repeated[0], "", f"第 {'、'.join(map(str, repeated[:20]))} 行重复了表头,不是记录,已跳过"))
    label_to_header = {labels[n]: header_text.get(n, labels[n]) for n in labels}
    # a copy's fields by their own columns (备注 of a copy is not the carrier's 备注)
    child_to_header = {label: header_text.get(CHILD + n, label) for n, label in _child_labels(ledger).items()}
    for r in result.refused:
        if r.child is not None:
            row, column = child_rows[r.index][r.child], child_to_header.get(r.field, r.field)
        else:
            row, column = batch_rows[r.index], label_to_header.get(r.field, r.field)
        report.refused.append(RefusedRow(row, column, r.message))
    for n in result.notes:
        report.notes.append(RowNote(batch_rows[n.index], label_to_header.get(n.field, n.field), n.message))
    for (name, said), rows in splits.items():
        where = "" if len(rows) == 1 else "第 " + "、".join(map(str, rows[:20])) + (" 等" if len(rows) > 20 else "") + " 行:"
        report.notes.append(RowNote(rows[0], header_text.get(name, labels.get(name, name)), where + said))
    report.refused.sort(key=lambda r: r.row)
    report.notes.sort(key=lambda r: r.row)
    shown = [f for f in ledger.fields if f.name in set(mapping.values()) or f.name == STATUS or f.name in missing]
    report.row_labels = [f.label for f in shown]
    if copies_listed:  # how many copies each carrier comes with, and which (the 份号 its rows list)
        report.row_labels.append(plan.label_of(CHILD + _counted_key(ledger)))
    for index, values in result.rows[:PREVIEW_ROWS]:
        report.rows.append((batch_rows[index], [
            f.display(values.get(f.name)) or (PENDING_MARK if f.required and values.get(f.name) is None else "")
            for f in shown] + ([copies_listed.get(batch_rows[index], "")] if copies_listed else [])))
    if plan.with_children:
        report.children = sum(len(batch[index].get("_children") or ()) for index, _v in result.rows)
    if pending or any(said[1].endswith("留待补充") for said in splits):
        # a record kept without a required field: its column was never kept, or its cell said 待补充
        gaps = {f.name: 0 for f in gap_fields(ledger)}  # in the ledger's order
        for _index, values in result.rows:
            empty = [name for name in gaps if values.get(name) is None]
            for name in empty:
                gaps[name] += 1
            report.pending_records += bool(empty)
        report.pending = {ledger.field(name).label: n for name, n in gaps.items() if n}
    if not plan.with_children:
        report.total_mismatch = _check_total(plan, report, above, [batch_rows[i] for i, _v in result.rows])
        if report.total_mismatch:
            row = next((line.row for line in above if line.label in form_lines.TOTAL_LABELS), 0)
            report.notes.insert(0, RowNote(_total_row(plan) or row, "", report.total_mismatch))
    report.unknown_levels = unknown_levels(plan)
    report.created = len(result.created)
    report.accepted = result.accepted
    report.people_added = list(result.people_added)
    return report


def unknown_levels(plan: ImportPlan) -> dict[str, list[int]]:
    """The words of the plan's 密级 columns that would be levels of the unit's own, were they
    set (涉密专用, 内部 before the unit has set it), with the rows that hold them: never read as
    one of the three, but offered to be set (ranked where the security administrator says)."""
    columns = [i for i, name in plan.mapping.items() if isinstance(getattr(field_of(plan.ledger, name), "type", None), Level)]
    if not columns:
        return {}
    seen: dict[Any, str | None] = {}
    found: dict[str, list[int]] = {}
    for number, cells in plan.data_rows:
        for i in columns:
            cell = cells[i] if i < len(cells) else None
            if cell.__class__ is not str:
                continue
            word = seen.get(cell, "")
            if word == "":
                word = seen[cell] = levels.unknown_word(cell)
                if word in (PENDING_MARK, *cell_splits.NOTHING):
                    word = seen[cell] = None
            if word is not None:
                found.setdefault(word, []).append(number)
    return found


def _total_row(plan: ImportPlan) -> int:
    """The file's row of a 合计 line inside the table (0: none)."""
    cells_of = dict(plan.data_rows)
    return next((n for n, why in plan.flagged.items() if "合计" in why
                 and form_lines.total_in_row(cells_of.get(n, [])) is not None), 0)


def _check_total(plan: ImportPlan, report: ImportReport, above: list[FormLine], accepted_rows: list[int]) -> str:
    """A 合计 (above the table, or a row inside it) whose count is not the number of records
    the table holds: what to tell the user ("" when they agree or no 合计 gives a count)."""
    stated, where = None, ""
    row = _total_row(plan)
    if row:
        stated, where = form_lines.total_in_row(dict(plan.data_rows)[row]), f"第 {row} 行的合计"
    else:
        for line in above:
            if line.label in form_lines.TOTAL_LABELS and form_lines.stated_count(line.value) is not None:
                stated, where = form_lines.stated_count(line.value), f"表头上方第 {line.row} 行的{line.label}"
                break
    if stated is None:
        return ""
    flagged = plan.flagged
    records = len(({r.row for r in report.refused if r.row} | set(accepted_rows)) - set(flagged))
    if stated == records:
        return ""
    struck = sum(1 for why in flagged.values() if "删除线" in why)
    also = f"(另有 {struck} 行有删除线,未计入)" if struck else ""
    return f"{where}写的是 {stated},表中有 {records} 条记录{also},请核对是否漏行或合计有误"


def _known_names(service: LedgerService, plan: ImportPlan, fields: dict[str, Any]) -> dict[str, set[str]]:
    """By coded field of the import (部门): the names a code before a cell's name may be set
    apart from. The values every ledger holds in a field of that name (a unit's departments
    are one list, whichever ledger a file is for), and this file's own written without a code
    (综合办公室 beside 03 综合办公室)."""
    from mibao_desktop.ledgers import REGISTRY

    out: dict[str, set[str]] = {}
    for name, f in fields.items():
        if not f.coded:
            continue
        known = out[name] = set()
        for other in REGISTRY:
            held = field_of(other, name)
            if held is not None and held.coded:
                known.update(cell_splits.name_key(v) for v in service.distinct_values(other, name))
        columns = [i for i, n in plan.mapping.items() if n == name]
        known |= cell_splits.uncoded_names(cells[i] for _number, cells in plan.data_rows for i in columns if i < len(cells))
    return out


def _cell_fault(value: Any) -> str:
    if isinstance(value, ErrorCell):
        return f"是 Excel 错误值“{value}”(公式出错或引用失效),请改为实际内容后再导入"
    return f"是公式“{value[:30]}”,文件中没有它的计算结果;请在 Excel/WPS 中打开并保存,或改为实际内容后再导入"


def _child_labels(ledger: Ledger) -> dict[str, str]:
    from mibao_desktop.ledgers import children_of

    return {f.name: f.label for child in children_of(ledger) for f in child.fields}


_FAULTED = "_faulted"  # a row of a carrier sheet refused for its cells: its carrier is refused too


def _group_by_parent(ledger: Ledger, batch: list[dict], numbers: list[int], header_text: dict[str, str]
                     ) -> tuple[list[dict], list[int], list[list[int]], list[RefusedRow], "_Listed"]:
    """One row per child record (a carrier sheet listing each copy) → one parent row with its
    children. Rows with the same number belong together wherever they are in the sheet; a row
    whose number is blank continues the row above (merged cells in hand-kept sheets). A parent
    value is taken from the first of its rows that has it; free text (备注) on several of its
    rows is gathered. A row that gives a parent value differing from an earlier row's (状态
    written on each copy's row) refuses the parent whole, as does a row refused for its cells:
    nothing the file says is dropped, and no parent is stored with a child missing.

    Where the child ledger is counted by a parent field (载体份 by 份数), the 份号 a row lists
    ("1-5", "1、3、7") become a child each, and each parent's are checked against its 份数
    (:func:`copy_numbers.list_copies`): a wrong one refuses the parent whole, named by row."""
    key = ledger.field(ledger.key_field)
    groups: dict[str, dict] = {}
    order: list[str] = []
    child_rows: dict[str, list[int]] = {}
    first_row: dict[str, int] = {}
    taken_from: dict[tuple[str, str], int] = {}
    refusals: dict[str, list[RefusedRow]] = {}
    faulted: dict[str, set[int]] = {}
    current = None
    for raw, number in zip(batch, numbers):
        own = {k: v for k, v in raw.items() if not k.startswith(CHILD) and k != _FAULTED}
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
        if raw.get(_FAULTED):  # refused already, for its cells
            faulted.setdefault(group_key, set()).add(number)
            continue
        merged = groups[group_key]
        for k, v in own.items():
            if v in (None, ""):
                continue
            held = merged.get(k)
            if held in (None, ""):
                merged[k] = v
                taken_from[(group_key, k)] = number
            elif str(held).strip() != str(v).strip():
                f = field_of(ledger, k)
                if f is not None and not f.many and gathers(ledger, k):
                    if str(v).strip() not in str(held).split("\n"):
                        merged[k] = f"{held}\n{v}"  # 备注 written on a copy's row: kept with the rest
                    continue
                refusals.setdefault(group_key, []).append(RefusedRow(
                    number, header_text.get(k, k),
                    f"与第 {taken_from[(group_key, k)]} 行是同一{ledger.noun},但这一列不同(“{held}”与“{v}”)。"
                    f"若这一列是每一{_child_noun(ledger)}的,请在导入向导中把它对应到{_child_noun(ledger)}的列"))
        if child:
            merged["_children"].append(child)
            child_rows[group_key].append(number)
    listed = _Listed()
    counted = next((c for c in children_of(ledger) if c.counted_by), None)
    for k in order if counted is not None else ():
        if k in faulted or k in refusals:
            continue
        merged = groups[k]
        found = copy_numbers.list_copies(
            merged["_children"], child_rows[k], key=counted.key_field, count_field=counted.counted_by,
            count_cell=merged.get(counted.counted_by), count_row=taken_from.get((k, counted.counted_by), first_row[k]),
            parent=f"{ledger.noun} {merged.get(ledger.key_field) or ''}".strip(),
            maximum=getattr(counted.field(counted.key_field).type, "maximum", 10_000))
        column = {counted.key_field: header_text.get(CHILD + counted.key_field, counted.field(counted.key_field).label),
                  counted.counted_by: header_text.get(counted.counted_by, ledger.field(counted.counted_by).label)}
        if found.problems:
            refusals.setdefault(k, []).extend(RefusedRow(row, column[name], message)
                                              for row, name, message in found.problems)
            continue
        listed.notes.extend(RefusedRow(row, column[name], message) for row, name, message in found.notes)
        merged["_children"], child_rows[k] = found.children, found.rows
        if found.count is not None and merged.get(counted.counted_by) in (None, ""):
            merged[counted.counted_by] = found.count
        if found.summary:
            listed.summaries[first_row[k]] = found.summary
    refused: list[RefusedRow] = []
    for k in order:
        if k in faulted or k in refusals:
            refused.extend(refusals.get(k, ()))
            refused.extend(RefusedRow(n, "", f"同一{ledger.noun}的其他行有误,这条{ledger.noun}连同其各行都未导入")
                           for n in sorted({first_row[k], *child_rows[k]} - {r.row for r in refusals.get(k, ())}
                                           - faulted.get(k, set())))
    kept = [k for k in order if k not in faulted and k not in refusals]
    return [groups[k] for k in kept], [first_row[k] for k in kept], [child_rows[k] for k in kept], refused, listed


@dataclass
class _Listed:
    """What the 份号 of a carrier sheet were read as: notes (本行登记 5 份), and by carrier's row
    the copies listed (共 5 份:1–5), shown in the preview."""

    notes: list[RowNote] = field(default_factory=list)
    summaries: dict[int, str] = field(default_factory=dict)


def _counted_key(ledger: Ledger) -> str:
    """The key field of the child ledger a parent field counts (份号 of 载体份, counted by 份数)."""
    return next((c.key_field for c in children_of(ledger) if c.counted_by), "")


def _child_noun(ledger: Ledger) -> str:
    return "、".join(child.noun for child in children_of(ledger))


def import_ledger(service: LedgerService, ledger: Ledger, path: Path, *, all_or_nothing: bool = False,
                  dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None, sheet: str | None = None,
                  include_flagged: bool = False) -> ImportReport:
    """The command line's import: the plan found automatically (with the saved mapping)."""
    plan = plan_import(ledger, path, service.import_mapping(ledger), sheet=sheet)
    plan.include_flagged = include_flagged
    return run_import(service, plan, all_or_nothing=all_or_nothing, dry_run=dry_run, progress=progress,
                      cancelled=cancelled)


def write_refused(plan: ImportPlan, report: ImportReport, path: Path) -> int:
    """The refused rows in the file's own layout, to correct and import again: the title rows
    and header as the file has them, and one 未导入原因 column (an earlier round's replaced).
    Returns the number of rows written."""
    from openpyxl import Workbook
    from openpyxl.worksheet.cell_range import CellRange

    from mibao_desktop.excel.export import _cell, save_atomically

    reasons: dict[int, list[str]] = {}
    for r in report.refused:
        reasons.setdefault(r.row, []).append(f"[{r.column}] {r.message}" if r.column else r.message)
    drop = plan.header.reason_column
    width = max([len(c) for _, c in plan.title_rows] + [len(c) for _, c in plan.data_rows] + [len(plan.headers)])
    keep = [i for i in range(width) if i != drop]

    def row(cells: list) -> list:
        cells = list(cells) + [None] * (width - len(cells))
        return [str(cells[i]) if isinstance(cells[i], (FormulaCell, ErrorCell)) else cells[i] for i in keep]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(plan.sheet.name[:31])
    header_numbers = {n for n, _ in plan.title_rows[plan.header.position:]}
    written_as: dict[int, int] = {}  # the file's row number → the row it is written as
    for number, cells in plan.title_rows:
        out = row(cells)
        if number == max(header_numbers):
            out.append(REASON_HEADER)
        ws.append([_cell(ws, v) for v in out])
        written_as[number] = len(written_as) + 1
    # the title's and header's merged cells as the file has them: MAC地址 merged over three
    # columns heads all three when the file is imported again
    for r1, c1, r2, c2 in plan.sheet.merged:
        top, bottom = written_as.get(r1), written_as.get(r2)
        if top is None or bottom is None or bottom - top != r2 - r1 or (drop is not None and c1 <= drop <= c2):
            continue
        shift = 0 if drop is None or c1 < drop else 1
        ws.merged_cells.add(CellRange(min_row=top, max_row=bottom, min_col=c1 + 1 - shift, max_col=c2 + 1 - shift))
    written = 0
    for number, cells in plan.data_rows:
        if number in reasons:
            ws.append([_cell(ws, v) for v in [*row(cells), f"第 {number} 行:" + ";".join(reasons[number])]])
            written += 1
    save_atomically(wb, Path(path))
    return written
