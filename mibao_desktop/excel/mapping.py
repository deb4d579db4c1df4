"""Matching spreadsheet headers to ledger fields by Chinese names and synonyms."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from mibao_desktop.ledgers.declaration import Ledger

HEADER_SCAN_ROWS = 20  # the header may sit under a title and a form line


def header_key(text: Any) -> str:
    """``所在 部门*``, ``ＭＡＣ地址``, ``MAC 地址`` → comparable keys."""
    if text is None:
        return ""
    key = unicodedata.normalize("NFKC", str(text)).casefold()
    key = re.sub(r"[\s*:：()（）\[\]【】]", "", key)
    return key


CHILD = "child:"  # a column of a child record imported with its parent: "child:copy_number"
PARENT = "_parent"  # the column naming a child record's parent by number


def columns(ledger: Ledger) -> list[tuple[str, str, tuple[str, ...], bool]]:
    """What a spreadsheet column may fill: (name, label, header names, required). The ledger's
    own fields; for a child ledger the parent's number (所属载体); for a ledger with a child
    ledger, the child's fields too (a carrier sheet with one row per copy)."""
    from mibao_desktop.ledgers import LEDGERS, children_of

    out = [(f.name, f.label, f.header_names, f.required and f.default is None and not
            (f.name == ledger.key_field and ledger.auto_number))
           for f in ledger.fields if f.editable]
    if ledger.parent is not None:
        parent = LEDGERS[ledger.parent]
        label = ledger.parent_label or f"所属{parent.noun}"
        out.append((PARENT, label, (label, *parent.field(parent.key_field).header_names), True))
    for child in children_of(ledger):
        for f in child.fields:
            if f.editable:
                out.append((CHILD + f.name, f"{f.label}({child.noun})", f.header_names, False))
    return out


def field_lookup(ledger: Ledger) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, _label, headers, _required in columns(ledger):
        for header in headers:
            lookup.setdefault(header_key(header), name)  # the ledger's own label wins over another's synonym
    return lookup


def match_headers(ledger: Ledger, cells: list[Any]) -> dict[int, str]:
    """Column index → field name, for the columns whose header names a field (first wins)."""
    lookup = field_lookup(ledger)
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        name = lookup.get(header_key(cell))
        if name and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def find_header(ledger: Ledger, rows: list[tuple[int, list[Any]]]) -> tuple[int, dict[int, str]]:
    """The position (in ``rows``) of the row that names the most fields, and its mapping."""
    best = (-1, {})
    for position, (_number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping = match_headers(ledger, cells)
        if len(mapping) > len(best[1]):
            best = (position, mapping)
    return best
