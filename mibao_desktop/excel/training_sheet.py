"""A training sign-in sheet (培训签到表) read into the attendees of one session.

The sheet is a unit's own: a title and the session's lines above, a header with 姓名 and
perhaps 部门, 身份证号 or 人员编号, a row per person (签名 in their own hand), and 应到/实到 or
the organiser's signature under it. It is read by ``excel/reader.py`` (xlsx, xls, ods, csv),
the header found as the importer finds one (``mapping.header_key``, the register's own labels
and synonyms), and each row handed to ``TrainingService.sign_in``, which matches the people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mibao_desktop.excel.mapping import header_key
from mibao_desktop.excel.reader import Sheet, SpreadsheetError, read_sheets
from mibao_desktop.ledgers import PEOPLE
from mibao_desktop.ledgers.normalize import FieldError, clean_text, is_blank
from mibao_desktop.services.training import SignIn, SignInResult

HEADER_ROWS = 20
ID_HEADERS = ("身份证号", "身份证号码", "公民身份号码", "身份证", "证件号码")
# lines under the table that are no attendee (a sheet printed by MiBao says 应到 N 人 …)
_FOOTERS = ("应到", "实到", "合计", "小计", "组织者", "填表", "审核", "日期", "备注", "说明")


@dataclass
class SignInSheet:
    rows: list[SignIn]
    sheet: str
    header_row: int
    refused: list[tuple[int, str]] = field(default_factory=list)  # rows refused while reading
    notes: list[str] = field(default_factory=list)


def _columns() -> dict[str, set[str]]:
    def keys(name: str, *more: str) -> set[str]:
        f = PEOPLE.field(name)
        return {header_key(h) for h in (*f.header_names, *more)}

    return {"name": keys("name", "参训人员", "参训人", "签到人", "姓 名"), "department": keys("department", "单位"),
            "person_number": keys(PEOPLE.key_field),
            "id_number": {header_key(h) for h in ID_HEADERS}}


def _header(sheet: Sheet, columns: dict[str, set[str]]) -> tuple[int, dict[str, int]] | None:
    best = None
    for number, values in sheet.rows[:HEADER_ROWS]:
        found: dict[str, int] = {}
        for col, value in enumerate(values):
            key = header_key(value)
            for name, keys in columns.items():
                if key in keys and name not in found:
                    found[name] = col
        if "name" in found and (best is None or len(found) > len(best[1])):
            best = (number, found)
    return best


def read_sign_in(path: str | Path) -> SignInSheet:
    """The rows of the first sheet with a 姓名 column; refused in Chinese when none has one."""
    columns = _columns()
    sheets = read_sheets(path)
    for sheet in sheets:
        if sheet.hidden:
            continue
        found = _header(sheet, columns)
        if found is None:
            continue
        header, cols = found
        out = SignInSheet([], sheet.name, header, notes=list(sheet.notes))
        name_field = PEOPLE.field("name")
        for number, values in sheet.rows:
            if number <= header or number in sheet.struck:
                continue

            def cell(name: str) -> str:
                col = cols.get(name)
                raw: Any = values[col] if col is not None and col < len(values) else None
                return "" if is_blank(raw) else clean_text(raw)

            name = cell("name")
            if not name:
                if any(not is_blank(v) for v in values) and (cell("department") or cell("person_number")):
                    out.refused.append((number, "没有填写姓名"))
                continue
            if name.startswith(_FOOTERS) or ":" in name or ":" in name:
                continue
            try:
                name = name_field.normalise(name)
            except FieldError as exc:
                out.refused.append((number, f"姓名“{name}”:{exc}"))
                continue
            ident = cell("id_number").upper()
            if isinstance(values[cols["id_number"]] if "id_number" in cols and cols["id_number"] < len(values)
                          else None, float):
                out.notes.append(f"第 {number} 行的身份证号存为数字,Excel 可能已改动其末几位,请核对")
            out.rows.append(SignIn(number, name, cell("department"), cell("person_number"), ident))
        if sheet.struck:
            out.notes.append(f"有删除线的 {len(sheet.struck)} 行未读取")
        return out
    raise SpreadsheetError("文件中没有带“姓名”列的签到表,请确认表头有“姓名”一列。")


def import_sign_in(training, training_id: int, path: str | Path, *, dry_run: bool = False
                   ) -> tuple[SignInSheet, SignInResult]:
    """Read the sheet and add its people to the session (``training`` is ``Services.training``).
    Rows refused while reading are added to the result's refusals, by row number."""
    sheet = read_sign_in(path)
    result = training.sign_in(training_id, sheet.rows, dry_run=dry_run)
    result.refused = sorted(sheet.refused + result.refused)
    return sheet, result
