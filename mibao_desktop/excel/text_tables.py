"""Text tables (文本表格: .csv / .txt): the encoding (编码) and the delimiter (分隔符) found from
the bytes, never from the file name.

Units export from Excel (UTF-8 with BOM, or GBK on a Chinese Windows), from WPS ("Unicode
文本" is UTF-16LE, tab-separated) and from older systems (GB18030). European Excel writes
semicolons.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable

from mibao_desktop.errors import Cancelled

# Control characters that never appear in a text table; many of them mean a binary file.
_BINARY = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r\f\v\x1a") | {"\x7f"}
DELIMITERS = (",", "\t", ";")


class NotText(Exception):
    """The bytes are not a text table (binary, or an encoding no unit uses)."""


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding's Chinese name (for a sheet note)."""
    if raw.startswith(codecs.BOM_UTF8):
        return _strict(raw[3:], "utf-8"), "UTF-8"
    if raw.startswith(codecs.BOM_UTF16_LE):
        return _strict(raw[2:], "utf-16-le"), "UTF-16(Unicode 文本)"
    if raw.startswith(codecs.BOM_UTF16_BE):
        return _strict(raw[2:], "utf-16-be"), "UTF-16(Unicode 文本)"
    sample = raw[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        # UTF-16 without a BOM: ASCII characters have a zero byte on one side
        odd_zeros = sample[1::2].count(0)
        even_zeros = sample[0::2].count(0)
        encoding = "utf-16-le" if odd_zeros >= even_zeros else "utf-16-be"
        return _strict(raw[: len(raw) // 2 * 2], encoding), "UTF-16(Unicode 文本)"
    for encoding, label in (("utf-8", "UTF-8"), ("gb18030", "GBK/GB18030")):  # gb18030 ⊇ GBK ⊇ GB2312
        try:
            return _strict(raw, encoding), label
        except NotText:
            continue
    raise NotText


def _strict(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise NotText from None
    sample = text[:65536]
    if sample and sum(1 for ch in sample if ch in _BINARY) * 100 > len(sample):  # >1 % controls: binary
        raise NotText
    if "\x00" in text:
        raise NotText
    return text


def sniff_delimiter(text: str, max_records: int = 50) -> str | None:
    """The delimiter used in the first records, counted outside double quotes; None when no
    candidate occurs in two records (a single column, or prose).

    csv.Sniffer guesses from character frequencies and is easily fooled by commas inside
    addresses or a title line above the table; counting per record is plainer.
    """
    counts: dict[str, list[int]] = {d: [] for d in DELIMITERS}
    current = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    records = 0
    for ch in text[:200_000]:
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch in current:
            current[ch] += 1
        elif ch == "\n":
            for d in DELIMITERS:
                counts[d].append(current[d])
                current[d] = 0
            records += 1
            if records >= max_records:
                break
    else:
        for d in DELIMITERS:
            counts[d].append(current[d])
    best, best_key = None, (1, 0)
    for d in DELIMITERS:
        with_delimiter = sum(1 for c in counts[d] if c)
        key = (with_delimiter, sum(counts[d]))
        if key > best_key:
            best, best_key = d, key
    return best


def parse(text: str, delimiter: str, cancelled: Callable[[], bool] | None = None) -> list[tuple[int, list]]:
    """Records as (1-based record number, cells). A record is what Excel shows as a row: a
    quoted cell may hold line breaks."""
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=1):
            if number % 20_000 == 0 and cancelled is not None and cancelled():
                raise Cancelled()
            cells = [cell if cell.strip() else None for cell in record]
            if any(cell is not None for cell in cells):
                rows.append((number, cells))
    except csv.Error:
        raise NotText from None
    return rows
