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


def field_lookup(ledger: Ledger) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for f in ledger.fields:
        for name in f.header_names:
            lookup.setdefault(header_key(name), f.name)  # the label wins over another field's synonym
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
