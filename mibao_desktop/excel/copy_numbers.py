"""份号 as hand-kept carrier books write them, and the copies a carrier's rows list.

A carrier book keeps either one row per document, its 份数 beside a 份号 range or list
("1-5", "1、3、7", "1,3,7", "第1-5份", "1至5", "第一至五份"), or one row per copy, the
document's number repeated with one 份号 each. Either way the copies are checked together,
carrier by carrier, before anything is stored: a cell that is no 份号, a 份号 listed twice, one
beyond the 份数, a list whose count is not the 份数 — each named on its row, so that the
preview shows every problem at once and no carrier is registered with copies missing
(seed 003 第十条: 事事有手续,件件有着落).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")
# between the ends of a range: 1-5, 1–5, 1~5, 1至5, 1到5 (after NFKC: － is -, ～ is ~)
_RANGE = re.compile(r"^(\d+)(?:-|–|—|~|至|到)+(\d+)$")
# between the items of a list: 1、3、7; 1,3,7 (full-width too); 1;3; 1 3 7
_LIST_SEP = re.compile(r"[、,;/\s]+")
_WRAP = re.compile(r"^第?(.*?)(?:份|号)?$")  # 第1-5份, 第3号, 3份 → what is between
# spaces typed beside a range's dash or the words around a number (1 - 5, 第 1-5 份) are no
# list's separators: only spaces between two numbers are (1 3 7)
_LOOSE = re.compile(r"\s*(-|–|—|~|至|到|第|份|号)\s*")


class CopyNumberError(ValueError):
    """A cell that is not a 份号 or a list of them; the message says why, in Chinese."""


def _chinese_number(text: str) -> str:
    """一 → 1, 十二 → 12, 二十 → 20, 一百 → 100: the small numbers a book may write in words."""
    total, digit = 0, None
    for ch in text:
        if ch == "百":
            total += (digit if digit is not None else 1) * 100
            digit = None
        elif ch == "十":
            total += (digit if digit is not None else 1) * 10
            digit = None
        else:
            digit = _CN_DIGITS[ch] if digit is None else digit * 10 + _CN_DIGITS[ch]  # 一〇 → 10
    return str(total + (digit or 0))


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    return _LOOSE.sub(r"\1", _CN_NUMBER.sub(lambda m: _chinese_number(m.group(0)), text))


def parse(cell: Any, maximum: int = 10_000) -> list[int]:
    """The 份号 a cell lists, in the order written: ``3``, ``"1-5"``, ``"1、3、7"``,
    ``"第1-5份"``, ``"1至5"``, ``"第1份至第5份"``, ``"1-3、7"``. Raises
    :class:`CopyNumberError` naming what is wrong (a range backwards, a 份号 twice, 0, a date
    that Excel made of 1-5)."""
    if isinstance(cell, bool):
        raise CopyNumberError(f"“{cell}”不是份号")
    if isinstance(cell, (dt.date, dt.datetime)):
        raise CopyNumberError(
            f"是日期“{cell.month}月{cell.day}日”,不是份号:Excel 常把输入的“{cell.month}-{cell.day}”自动改成日期。"
            "请把这一列设为文本格式后重新输入份号(如 1-5),再导入")
    if isinstance(cell, float):
        if not cell.is_integer():
            raise CopyNumberError(f"“{cell:g}”不是份号:份号是整数")
        cell = int(cell)
    if isinstance(cell, int):
        numbers = [cell]
    else:
        text = _plain(str(cell))
        if not text:
            return []
        numbers = []
        for part in _LIST_SEP.split(text):
            if part:
                numbers.extend(_part(part, str(cell).strip()))
    seen: set[int] = set()
    for n in numbers:
        if not 1 <= n <= maximum:
            raise CopyNumberError(f"份号 {n} 不在 1 到 {maximum} 之间")
        if n in seen:
            raise CopyNumberError(f"“{str(cell).strip()}”中份号 {n} 写了两次")
        seen.add(n)
    return numbers


def _part(part: str, written: str) -> list[int]:
    # 第1份至第5份: the words around each end go first, then the range is plain
    inner = "-".join(_WRAP.match(end).group(1) for end in re.split(r"(?:-|–|—|~|至|到)+", part))
    if inner.isdigit():
        return [int(inner)]
    match = _RANGE.match(inner)
    if match is None:
        raise CopyNumberError(f"“{written}”不是份号:应写成 3、1-5、1、3、7 或 第1-5份")
    first, last = int(match.group(1)), int(match.group(2))
    if first > last:
        raise CopyNumberError(f"“{written}”的范围 {first}-{last} 前大后小,应写成 {last}-{first}")
    if last - first >= 10_000:
        raise CopyNumberError(f"“{written}”的范围太大")
    return list(range(first, last + 1))


def spans(numbers: list[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` → ``1–3、5、7–8``: a list of 份号 as a person reads it."""
    out: list[str] = []
    ordered = sorted(numbers)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}–{ordered[j]}" if j > i + 1
                   else f"{ordered[i]}、{ordered[j]}")
        i = j + 1
    return "、".join(out)


@dataclass
class Listed:
    """The copies a carrier's rows list, checked together."""

    children: list[dict] = field(default_factory=list)  # one dict per copy, 份号 as an integer
    rows: list[int] = field(default_factory=list)  # the file's row of each copy
    count: int | None = None  # 份数 to store when the file gave none (the copies listed)
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (row, field name, message)
    notes: list[tuple[int, str, str]] = field(default_factory=list)  # (row, field name, message)
    numbers: list[int] = field(default_factory=list)  # every 份号 listed, as written

    @property
    def summary(self) -> str:
        """共 5 份:1–5 (what the preview shows on the carrier's row)."""
        return f"共 {len(self.numbers)} 份:{spans(self.numbers)}" if self.numbers else ""


def _count(cell: Any) -> int | None:
    """份数 as written (5, 5.0, "5"); None when blank or no whole number (the service then
    refuses the 份数 cell itself, in its own words)."""
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, int):
        return cell if cell >= 1 else None
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    return int(text) if text.isdigit() and int(text) >= 1 else None


def list_copies(children: list[dict], rows: list[int], *, key: str, count_field: str, count_cell: Any,
                count_row: int, parent: str, maximum: int = 10_000) -> Listed:
    """Check and expand the copies listed for one carrier (``parent``: 涉密载体 ZT-1).

    ``children`` are the copy cells of its rows (``rows``: the file's row of each), ``key``
    the 份号 field, ``count_cell`` its 份数 as written (on ``count_row``; None when the file
    gives none: the copies listed are its 份数). A row listing several 份号 becomes a copy
    each, with the row's other cells (持有人) on every one of them. One row without a 份号 is
    every copy of the 份数 (1…N), said in the notes; a 份号 left out beside others is a
    problem."""
    out = Listed()
    count = _count(count_cell)
    if not children and count is not None:
        children, rows = [{}], [count_row]  # the book has a 份号 column, this carrier's cell is blank
    seen: dict[int, int] = {}
    per_row: list[tuple[int, dict, list[int]]] = []
    filled = False  # one row, no 份号: copies 1…份数, said once
    for child, row in zip(children, rows):
        cell = child.get(key)
        try:
            numbers = parse(cell, maximum) if cell not in (None, "") else []
        except CopyNumberError as exc:
            out.problems.append((row, key, str(exc)))
            continue
        if not numbers:
            if len(children) == 1 and count is not None:
                numbers = list(range(1, count + 1))  # one row, no 份号: copies 1…份数
                out.notes.append((row, key, f"份号未填,按份数登记第 {spans(numbers)} 份"))
                filled = True
            else:
                out.problems.append((row, key, f"未填份号:{parent} 列出了多份,每一份都要有份号"))
                continue
        for n in numbers:
            if n in seen:
                where = "本行" if seen[n] == row else f"第 {seen[n]} 行"
                out.problems.append((row, key, f"份号 {n} 与{where}重复:{parent} 的份号不能重复"))
            else:
                seen[n] = row
        per_row.append((row, child, numbers))
        out.numbers.extend(numbers)
    if out.problems:
        return out
    if count is None:
        out.count = len(out.numbers)
        if count_cell in (None, "") and out.numbers:
            first = per_row[0][0]
            out.notes.append((first, count_field, f"份数未填,按所列份号计为 {out.count} 份"))
    elif len(out.numbers) != count:
        if len(per_row) == 1:
            row, child, numbers = per_row[0]
            out.problems.append((row, key, f"份号“{str(child.get(key)).strip()}”共 {len(numbers)} 份,"
                                           f"与份数 {count} 不符:请改正份号或份数"))
        else:
            first, last = per_row[0][0], per_row[-1][0]
            out.problems.append((count_row or first, count_field,
                                 f"份数为 {count},而第 {first}–{last} 行列出的份号共 {len(out.numbers)} 份"
                                 f"({spans(out.numbers)}):请补齐各份的行,或改正份数"))
        return out
    else:
        beyond = sorted((n, row) for row, _c, numbers in per_row for n in numbers if n > count)
        for n, row in beyond:
            out.problems.append((row, key, f"份号 {n} 超出份数 {count}:份号应为 1–{count}"))
        if beyond:
            return out
    for row, child, numbers in per_row:
        if len(numbers) > 1 and not filled:
            out.notes.append((row, key, f"本行登记 {len(numbers)} 份:第 {spans(numbers)} 份"))
        for n in numbers:
            out.children.append({**child, key: n})
            out.rows.append(row)
    return out
