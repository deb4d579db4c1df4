"""Matching spreadsheet headers to ledger fields (表头识别) by Chinese names and synonyms.

Hand-kept ledgers put a title and a form line over the table, spell a column ``MAC1`` and
``MAC2``, merge ``MAC地址`` over two columns, or head the table with two rows (主表头 over 子表头).
Each such column is matched to its field; a field that holds several values (MACs, disks) or
free text (备注) gathers every column that names it, so the second column is never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field as dc_field
from typing import Any

from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Field

HEADER_SCAN_ROWS = 20  # the header may sit under a title and a form line

CHILD = "child:"  # a column of a child record imported with its parent: "child:copy_number"
PARENT = "_parent"  # the column naming a child record's parent by number
STATUS = "status"  # the lifecycle status: not typed in a form, but a hand-kept ledger has it
REASON_HEADER = "未导入原因"  # the column MiBao adds to a file of refused rows

_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_NOISE = re.compile(r"[\s*:：()（）\[\]【】]")
_ORDINAL = re.compile(r"(?:[-_#.]?\d{1,2}|[一二三四五六])$")  # MAC1, MAC-2, 硬盘序列号二


# 帐 is the older form of 账 that many hand-kept books still use (台帐, 帐号)
_VARIANTS = str.maketrans({"帐": "账"})


def header_key(text: Any) -> str:
    """``所在 部门*``, ``ＭＡＣ地址``, ``mac地址``, ``使用⏎情况``, ``编号:``, ``台帐`` → comparable
    keys: spaces, line breaks, case, full-width forms, colons and 帐/账 make no difference."""
    if text is None:
        return ""
    key = unicodedata.normalize("NFKC", str(text)).casefold().translate(_VARIANTS)
    return _NOISE.sub("", key)


def base_key(text: Any) -> str:
    """The key without a qualifier: ``MAC地址(有线)``, ``MAC2``, ``硬盘序列号1`` → their field's name."""
    if text is None:
        return ""
    key = _BRACKETED.sub("", unicodedata.normalize("NFKC", str(text)).casefold().translate(_VARIANTS))
    return _ORDINAL.sub("", _NOISE.sub("", key))


def columns(ledger: Ledger) -> list[tuple[str, str, tuple[str, ...], bool]]:
    """What a spreadsheet column may fill: (name, label, header names, required). The ledger's
    own fields and its status; for a child ledger the parent's number (所属载体); for a ledger
    with a child ledger, the child's fields too (a carrier sheet with one row per copy)."""
    from mibao_desktop.ledgers import LEDGERS, children_of

    out = [(f.name, f.label, f.header_names, f.required and f.default is None and not
            (f.name == ledger.key_field and ledger.auto_number))
           for f in ledger.fields if f.editable or f.recorded or f.name == STATUS]
    if ledger.parent is not None:
        parent = LEDGERS[ledger.parent]
        label = ledger.parent_label or f"所属{parent.noun}"
        out.append((PARENT, label, (label, *parent.field(parent.key_field).header_names), True))
    for child in children_of(ledger):
        for f in child.fields:
            # a copy's own 状态 (借出) on a row per copy, and what its register records (下落不明日期)
            if f.editable or f.recorded or f.name == STATUS:
                out.append((CHILD + f.name, f"{f.label}({child.noun})", f.header_names, False))
    return out


def field_of(ledger: Ledger, name: str) -> Field | None:
    """The declared field a column name stands for (a child's field for ``child:…``)."""
    from mibao_desktop.ledgers import children_of

    if name.startswith(CHILD):
        for child in children_of(ledger):
            if child.has_field(name[len(CHILD):]):
                return child.field(name[len(CHILD):])
        return None
    return ledger.field(name) if ledger.has_field(name) else None


def gathers(ledger: Ledger, name: str) -> bool:
    """Whether several columns may fill the field: a list (MACs, disks) or free text (备注)."""
    f = field_of(ledger, name)
    return f is not None and (f.many or bool(getattr(f.type, "multiline", False)))


def field_lookup(ledger: Ledger) -> dict[str, str]:
    return {key: name for key, (name, _how) in _lookup(ledger).items()}


def _lookup(ledger: Ledger) -> dict[str, tuple[str, str]]:
    """Header key → (field name, the declared word it is): every field's label first, so that a
    field's own label wins over another field's synonym (使用人 is the user wherever a ledger
    has one, and the 责任人 of a ledger without)."""
    lookup: dict[str, tuple[str, str]] = {}
    cols = columns(ledger)
    for name, _label, headers, _required in cols:
        lookup.setdefault(header_key(headers[0]), (name, ""))
    for name, _label, headers, _required in cols:
        for header in headers[1:]:
            lookup.setdefault(header_key(header), (name, header))
    return lookup


def _match(lookup: dict[str, tuple[str, str]], texts: list[Any]) -> tuple[str, str] | None:
    """The field the first of ``texts`` that names one names, exactly, else without a qualifier,
    and how it was understood (the synonym it is, or the qualifier set aside)."""
    for text in texts:
        if text in (None, ""):
            continue
        found = lookup.get(header_key(text))
        if found is not None:
            name, synonym = found
            return name, f"同义词“{synonym}”" if synonym else "列名"
        base = base_key(text)
        found = lookup.get(base) if base else None
        if found is not None:
            return found[0], "去掉序号或括注后的列名"
    return None


@dataclass
class Header:
    """Where the table's header is and what each column fills."""

    position: int = 0  # index into the sheet's rows of the (first) header row
    depth: int = 1  # 2: a 主表头 row over a 子表头 row
    mapping: dict[int, str] = dc_field(default_factory=dict)  # column index → field name
    how: dict[int, str] = dc_field(default_factory=dict)  # column index → how it was understood (列名, 同义词“科室”)
    texts: list[str] = dc_field(default_factory=list)  # each column's header as shown (主表头/子表头)
    reason_column: int | None = None  # a 未导入原因 column from an earlier round: never imported

    @property
    def fields(self) -> int:
        return len(set(self.mapping.values()))


def _filled_header_row(cells: list[Any], number: int, merged: list[tuple[int, int, int, int]],
                       values: dict[tuple[int, int], Any]) -> list[Any]:
    """A header row with merged cells filled: ``MAC地址`` merged over two columns heads both."""
    out = list(cells)
    for r1, c1, r2, c2 in merged:
        if r1 <= number <= r2 and (r2 > r1 or c2 > c1):
            value = values.get((r1, c1))
            for c in range(c1, c2 + 1):
                while len(out) <= c:
                    out.append(None)
                if c != c1 or number != r1:
                    out[c] = value
    return out


def map_columns(ledger: Ledger, rows: list[tuple[int, list[Any]]], position: int, depth: int,
                merged: list[tuple[int, int, int, int]] | None = None) -> Header:
    """The mapping of the header at ``position`` (one row, or two: 主表头 over 子表头)."""
    merged = merged or []
    lookup = _lookup(ledger)
    top_number, top = rows[position]
    values = {(top_number, c): v for c, v in enumerate(top)}
    if depth == 2:
        values.update({(rows[position + 1][0], c): v for c, v in enumerate(rows[position + 1][1])})
    main = _filled_header_row(top, top_number, merged, values)
    if depth == 2:
        sub_number, sub_cells = rows[position + 1]
        sub = _filled_header_row(sub_cells, sub_number, merged, values)
    else:
        sub = []
    width = max(len(main), len(sub))
    header = Header(position, depth)
    taken: set[str] = set()
    for c in range(width):
        m = main[c] if c < len(main) else None
        s = sub[c] if c < len(sub) else None
        if s is not None and m is not None and str(s).strip() == str(m).strip():
            s = None  # merged down over both header rows: one name
        m_text = "" if m is None else str(m).strip()
        s_text = "" if s is None else str(s).strip()
        header.texts.append(f"{m_text}/{s_text}" if m_text and s_text else (s_text or m_text))
        if header_key(REASON_HEADER) in (header_key(s_text), header_key(m_text)):
            header.reason_column = c
            continue
        found = _match(lookup, [s_text, m_text + s_text if s_text else None, m_text] if depth == 2 else [m_text])
        if found is None or (found[0] in taken and not gathers(ledger, found[0])):
            continue
        name = found[0]
        header.mapping[c] = name
        header.how[c] = found[1]
        taken.add(name)
    return header


def find_header(ledger: Ledger, rows: list[tuple[int, list[Any]]],
                merged: list[tuple[int, int, int, int]] | None = None) -> Header:
    """The header that names the most of the ledger's fields within the first rows; a second
    header row under it is taken with it when together they name more."""
    best = Header(position=-1)
    for position in range(min(len(rows), HEADER_SCAN_ROWS)):
        single = map_columns(ledger, rows, position, 1, merged)
        candidate = single
        if position + 1 < len(rows) and rows[position + 1][0] == rows[position][0] + 1:
            double = map_columns(ledger, rows, position, 2, merged)
            below = map_columns(ledger, rows, position + 1, 1, merged)
            if double.fields > max(single.fields, below.fields) or (
                    double.fields == single.fields >= below.fields and len(double.mapping) > len(single.mapping)
                    and _names_fields(ledger, rows[position + 1][1])):
                candidate = double  # (or a sub-header that adds a column to a field: MAC地址 over MAC1, MAC2)
        if candidate.fields > best.fields:
            best = candidate
    return best


def _names_fields(ledger: Ledger, cells: list[Any]) -> bool:
    """Every text of the row names a field: a sub-header (MAC1, MAC2), not a record."""
    lookup = _lookup(ledger)
    texts = [c for c in cells if c not in (None, "")]
    return bool(texts) and all(isinstance(c, str) and _match(lookup, [c]) is not None for c in texts)


def match_headers(ledger: Ledger, cells: list[Any]) -> dict[int, str]:
    """Column index → field name for one header row."""
    return map_columns(ledger, [(1, cells)], 0, 1).mapping
