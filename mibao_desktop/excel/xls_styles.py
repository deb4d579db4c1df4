"""What calamine does not give of a legacy .xls (BIFF8, what WPS and older Excel save): the
number format that shows a number as text (000123, "HT"00000), the struck-through font of a
row deleted by hand, a title or header centred across selection (跨列居中), and the error
cells (#N/A, #REF!, #DIV/0!: a BOOLERR record, or a FORMULA whose result is an error), which
calamine reads as empty. Read from the workbook's records, as xlsx_styles reads them from an
xlsx, into the same Styles and Scan; the values themselves come from calamine.

A sheet's records are walked only when the styles name a format, font or alignment that
matters, or when its bytes hold something shaped like an error record (a search at C speed).
Anything this reader cannot follow (a damaged or encrypted file) gives no styles: the values
are still read, only these things are not.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from mibao_desktop.excel.xlsx_styles import BUILTIN_TEXT_FORMATS, Scan, Styles, text_format

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE
_BOF, _EOF, _FONT, _FORMAT, _XF, _SHEET, _FILEPASS = 0x0809, 0x000A, 0x0031, 0x041E, 0x00E0, 0x0085, 0x002F
_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x0006, 0x00D6, 0x0201}  # NUMBER RK LABELSST LABEL BOOLERR FORMULA RSTRING BLANK
_MULRK, _MULBLANK, _BOOLERR, _FORMULA = 0x00BD, 0x00BE, 0x0205, 0x0006
_CENTRE_ACROSS = 6  # XF horizontal alignment: centred across selection
ERROR_CODES = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
               0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
# BOOLERR with fError = 1; FORMULA whose cached result is an error (result type 2, then 0xFFFF).
# Two patterns, each led by its record id, which the regex engine searches for at memchr speed
# (their alternation is tried at every byte: 0.13 s more on a 65,000-row sheet).
_ERROR_RECORDS = (re.compile(rb"\x05\x02\x08\x00.{6}[\x00\x07\x0f\x17\x1d\x24\x2a\x2b]\x01", re.S),
                  re.compile(rb"\x06\x00.{8}\x02.[\x00\x07\x0f\x17\x1d\x24\x2a\x2b].{3}\xff\xff", re.S))


def _stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """The named stream of an OLE2 compound file (regular or mini sectors)."""
    if len(data) < 512:
        return None
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
    first_dir, cutoff, first_mini, _n_mini, first_difat, n_difat = struct.unpack_from("<I4xIIIII", data, 0x30)
    difat = list(struct.unpack_from("<109I", data, 0x4C))
    sector = first_difat
    for _ in range(n_difat):
        if sector in (_FREE, _END):
            break
        entries = struct.unpack_from(f"<{size // 4}I", data, (sector + 1) * size)
        difat.extend(entries[:-1])
        sector = entries[-1]
    fat: list[int] = []
    for s in difat:
        if s in (_FREE, _END):
            continue
        fat.extend(struct.unpack_from(f"<{size // 4}I", data, (s + 1) * size))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        out = []
        while start not in (_FREE, _END) and start < len(table) and len(out) < limit:
            out.append(start)
            start = table[start]
        return out

    def read(start: int, length: int) -> bytes:
        return b"".join(data[(s + 1) * size:(s + 2) * size] for s in chain(start, fat, len(fat)))[:length]

    directory = read(first_dir, len(data))
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        return None
    root_start, root_size = struct.unpack_from("<II", entries[0], 0x74)
    for entry in entries:
        length = struct.unpack_from("<H", entry, 0x40)[0]
        name = entry[:max(length - 2, 0)].decode("utf-16-le", "replace")
        if name not in names or entry[0x42] != 2:
            continue
        start, stream_size = struct.unpack_from("<II", entry, 0x74)
        if stream_size >= cutoff:
            return read(start, stream_size)
        minifat = [v for s in chain(first_mini, fat, len(fat))
                   for v in struct.unpack_from(f"<{size // 4}I", data, (s + 1) * size)]
        mini = read(root_start, root_size)
        return b"".join(mini[s * mini_size:(s + 1) * mini_size]
                        for s in chain(start, minifat, len(minifat)))[:stream_size]
    return None


def _records(book: bytes, offset: int):
    end = len(book)
    while offset + 4 <= end:
        kind, length = struct.unpack_from("<HH", book, offset)
        yield kind, offset + 4, length
        offset += 4 + length


def _unicode(book: bytes, at: int, count: int) -> str:
    flags = book[at]
    at += 1
    if flags & 0x08:  # rich text: a run count before the characters
        at += 2
    if flags & 0x04:  # phonetic: a size before the characters
        at += 4
    if flags & 0x01:
        return book[at:at + 2 * count].decode("utf-16-le", "replace")
    return book[at:at + count].decode("latin-1")


def read_xls(path: Path) -> tuple[Styles, dict[str, Scan]]:
    """The text formats and struck fonts of a .xls, and each worksheet's styled cells by name."""
    try:
        return _read(path.read_bytes())
    except (struct.error, IndexError, ValueError):
        return Styles(), {}


def _read(data: bytes) -> tuple[Styles, dict[str, Scan]]:
    book = _stream(data, ("Workbook", "Book"))
    if not book:
        return Styles(), {}
    codes: dict[int, str] = dict(BUILTIN_TEXT_FORMATS)
    struck_fonts: set[int] = set()
    xfs: list[tuple[int, int]] = []
    centred: set[int] = set()
    sheets: list[tuple[str, int]] = []
    fonts = 0
    for kind, at, length in _records(book, 0):
        if kind == _EOF:
            break
        if kind == _FILEPASS:
            return Styles(), {}  # encrypted: calamine says so
        if kind == _FONT:
            index = fonts if fonts < 4 else fonts + 1  # font 4 does not exist in BIFF
            if struct.unpack_from("<H", book, at + 2)[0] & 0x0008:
                struck_fonts.add(index)
            fonts += 1
        elif kind == _FORMAT:
            number, count = struct.unpack_from("<HH", book, at)
            codes[number] = _unicode(book, at + 4, count)
        elif kind == _XF:
            font, fmt = struct.unpack_from("<HH", book, at)
            if book[at + 6] & 0x07 == _CENTRE_ACROSS:
                centred.add(len(xfs))
            xfs.append((fmt, font))
        elif kind == _SHEET:
            position, _state, sheet_type, count = struct.unpack_from("<IBBB", book, at)
            if sheet_type == 0:
                sheets.append((_unicode(book, at + 7, count), position))
    formatters: dict[str, object] = {}
    text_formats, struck = {}, set()
    for index, (fmt, font) in enumerate(xfs):
        code = codes.get(fmt)
        if code is not None:
            if code not in formatters:
                formatters[code] = text_format(code)
            if formatters[code] is not None:
                text_formats[index] = formatters[code]
        if font in struck_fonts:
            struck.add(index)
    styles = Styles(text_formats, frozenset(struck), frozenset(centred))
    wanted = styles.ids
    scans: dict[str, Scan] = {}
    ends = sorted({position for _name, position in sheets} | {len(book)})
    for name, position in sheets:
        end = ends[ends.index(position) + 1]
        if not wanted and not any(pattern.search(book, position, end) for pattern in _ERROR_RECORDS):
            continue
        scan = _scan_sheet(book, position, wanted)
        if scan.styled or scan.errors:
            scans[name] = scan
    return styles, scans


def _scan_sheet(book: bytes, position: int, wanted: frozenset[int]) -> Scan:
    """The cells of one worksheet whose XF matters, and its error cells."""
    styled: dict[tuple[int, int], int] = {}
    errors: dict[tuple[int, int], str] = {}
    for kind, at, length in _records(book, position):
        if kind == _EOF:
            break
        if kind in _CELLS:
            row, col, xf = struct.unpack_from("<HHH", book, at)
            if xf in wanted:
                styled[(row + 1, col)] = xf
            if kind == _BOOLERR and book[at + 7] == 1:
                errors[(row + 1, col)] = ERROR_CODES.get(book[at + 6], "#VALUE!")
            elif kind == _FORMULA and book[at + 6] == 2 and book[at + 12:at + 14] == b"\xff\xff":
                errors[(row + 1, col)] = ERROR_CODES.get(book[at + 8], "#VALUE!")
        elif kind == _MULRK:
            row, first = struct.unpack_from("<HH", book, at)
            for i in range((length - 6) // 6):
                xf = struct.unpack_from("<H", book, at + 4 + 6 * i)[0]
                if xf in wanted:
                    styled[(row + 1, first + i)] = xf
        elif kind == _MULBLANK and wanted:
            row, first = struct.unpack_from("<HH", book, at)
            for i in range((length - 6) // 2):
                xf = struct.unpack_from("<H", book, at + 4 + 2 * i)[0]
                if xf in wanted:
                    styled[(row + 1, first + i)] = xf
    return Scan(styled=styled, errors=errors)
