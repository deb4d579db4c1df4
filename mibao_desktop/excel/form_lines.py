"""The form lines around a hand-kept table (表头上下的表单行): what they say is kept with the
import, never imported as a record.

Above the table a unit writes its title, 单位(盖章), 填表人 and 填表日期 (often each in a block
of merged cells), 所属部门, 登记日期 and a 合计 line with counts; under it 保管人签字 and
批准人签字. Each line is read as label and value pairs ("填表人:王芳", or 填表人 in one cell
and 王芳 in the next), so that the import's audit entry can say who filled the form, when and
for which department, and the counts a 合计 gives can be checked against the rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Labels a form line starts with: a cell that is exactly one of them names the next cell's value
FORM_LABELS = ("单位(盖章)", "填报单位(盖章)", "填报单位", "单位名称", "单位", "填表人", "制表人", "填报人", "经办人",
               "填表日期", "制表日期", "填报日期", "日期", "所属部门", "登记日期", "合计", "共计", "总计",
               "保管人签字", "批准人签字", "审核人", "审批人", "负责人", "保密员", "签字", "签名", "部门负责人")
TOTAL_LABELS = ("合计", "共计", "总计")
# Labels a sign-off line under the table starts with (制表人:李娜, 保管人签字:, 审核人 | 王芳)
SIGN_OFF_LABELS = frozenset(("制表人", "制表", "填表人", "填报人", "经办人", "审核人", "审核", "审批人", "批准人",
                             "负责人", "部门负责人", "保管人签字", "批准人签字", "签字", "签名", "盖章", "单位(盖章)",
                             "填表日期", "制表日期", "填报日期", "日期", "备注", "说明", "注"))
SIGN_OFF_CELLS = 4  # at most this many cells filled: 制表人 | 李娜 | 审核人 | 王芳
COUNT_UNITS = "台个件份张条人套部块只本盘"

# 填表人:王芳   填表日期:2024年1月5日 — several pairs in one cell, split where the next label starts
_PAIR = re.compile(r"([^\s:]{1,14}?)\s*:\s*(.*?)(?=\s+[^\s:]{1,14}\s*:|$)")
_COUNT = re.compile(rf"(\d+)\s*([{COUNT_UNITS}])?")


@dataclass(frozen=True)
class FormLine:
    """One thing a form line says: ``label`` (填表人, 合计, 标题; "" for text without a label)
    and ``value`` as written, on the file's row ``row``."""

    row: int
    label: str
    value: str

    def __str__(self) -> str:
        return f"{self.label}:{self.value}" if self.label else self.value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _folded(text: str) -> str:
    """The colon in one width, so that a line splits the same whichever the unit typed; the
    values keep what they were typed as (only labels are folded, by :func:`_label`)."""
    return text.replace("：", ":")


def _label(text: str) -> str:
    """单位（盖章）, ``填 表 人`` → 单位(盖章), 填表人."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).rstrip(":")


def _is_label(text: str) -> bool:
    return _label(text) in FORM_LABELS


def read_line(number: int, cells: list[Any]) -> list[FormLine]:
    """What one line says, pair by pair; a cell of text with no label is kept as it is."""
    out: list[FormLine] = []
    waiting: str | None = None  # a label whose value is in the next cell (填表人 | 王芳)
    for cell in cells:
        text = _text(cell)
        if not text:
            continue
        folded = _folded(text)
        if ":" in folded:
            pairs = [(_label(m.group(1)), m.group(2).strip()) for m in _PAIR.finditer(folded.strip())]
            pairs = [(label, value) for label, value in pairs if label]
            if pairs:
                if waiting is not None:
                    out.append(FormLine(number, waiting, ""))
                    waiting = None
                for label, value in pairs[:-1]:
                    out.append(FormLine(number, label, value))
                label, value = pairs[-1]
                if value:
                    out.append(FormLine(number, label, value))
                else:
                    waiting = label
                continue
        if _is_label(text):  # 保管人签字 | 批准人签字: the first left blank
            if waiting is not None:
                out.append(FormLine(number, waiting, ""))
            waiting = _label(text)
            continue
        if waiting is not None:
            out.append(FormLine(number, waiting, text))
            waiting = None
        else:
            out.append(FormLine(number, "", text))
    if waiting is not None:
        out.append(FormLine(number, waiting, ""))  # 保管人签字: (left blank, still a line of the form)
    return out


def _sign_off_label(text: str) -> bool:
    label = _label(text)
    return label in SIGN_OFF_LABELS or label.endswith(("签字", "签名", "签章", "(盖章)"))


def is_sign_off(cells: list[Any]) -> bool:
    """Whether a line looks like one that signs a table off: few cells filled, the first a label
    (审核人, 保管人签字, 制表日期 …) followed by a colon ("审核人:王芳", "批准人签字:") or by an
    empty cell, or the whole line label and value pairs of such labels (制表人 | 李娜 | 审核人 |
    王芳). A row of a table's values never is, whatever word a value holds (岗位 审核员)."""
    texts = [_text(c) for c in cells]
    filled = [i for i, text in enumerate(texts) if text]
    if not filled or len(filled) > SIGN_OFF_CELLS:
        return False
    first = filled[0]
    label, colon, _value = _folded(texts[first]).partition(":")
    if not _sign_off_label(label):
        return False
    if colon or first + 1 >= len(texts) or not texts[first + 1]:
        return True
    return all(line.label and _sign_off_label(line.label) for line in read_line(0, cells))


def read_lines(rows: list[tuple[int, list[Any]]], *, title: bool = False) -> list[FormLine]:
    """Every line of ``rows``; with ``title`` the first line that is one text and no label is
    the table's title (标题)."""
    out: list[FormLine] = []
    for number, cells in rows:
        line = read_line(number, cells)
        if title and len(line) == 1 and not line[0].label and not any(o.label == "标题" for o in out):
            line = [FormLine(number, "标题", line[0].value)]
        out.extend(line)
    return out


def stated_count(text: str) -> int | None:
    """The number a 合计 gives: ``25台``, ``共 25 台``, ``计算机 25 台,其中机密 3 台`` → 25."""
    match = _COUNT.search(_folded(text))
    return int(match.group(1)) if match else None


def total_in_row(cells: list[Any]) -> int | None:
    """The count of a 合计 row inside the table: the first number after the word 合计."""
    texts = [_text(c) for c in cells]
    for i, text in enumerate(texts):
        compact = _label(text)
        if any(compact.startswith(word) for word in TOTAL_LABELS):
            rest = [compact[2:].lstrip(":")] + texts[i + 1:]
            for part in rest:
                count = stated_count(part) if part else None
                if count is not None:
                    return count
            return None
    return None


def as_record(lines: list[FormLine]) -> dict[str, str]:
    """The lines as the import's record keeps them: label → value (a label said twice, its
    values joined; text without a label under 其他)."""
    out: dict[str, str] = {}
    for line in lines:
        label = line.label or "其他"
        if not line.value and label in out:
            continue
        out[label] = f"{out[label]};{line.value}" if out.get(label) and line.value else (line.value or out.get(label, ""))
    return out
