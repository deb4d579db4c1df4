"""What calamine does not say about an xlsx cell, read from the package's XML bytes.

- 单元格格式(number formats): a number shown through ``000000`` or ``"HT"00000`` or the
  text format ``@`` is, for the unit, the text it shows (设备编号 000012, 合同号 HT00012).
- 删除线(strikethrough): rows a unit struck out by hand instead of deleting them.
- 公式(formulas) that have no cached value (a script wrote them; Excel never calculated them).
- 错误值(error values, ``t="e"``): calamine reads them as empty cells.
- 跨列居中(centre across selection, ``centerContinuous``): a title or header shown over the
  empty cells to its right without a merge; taken as merged, as a person reads it.

The sheet XML is scanned as bytes with regular expressions that only match the cells
concerned, a few megabytes at a time, cut at row ends. Nothing is scanned for styles when
styles.xml has no such format or font (the common case); formulas and error values are looked
for only in the parts of the sheet that contain ``<f`` or ``t="e"``.
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from xml.etree import ElementTree

from mibao_desktop.errors import Cancelled

_CHUNK = 4 * 1024 * 1024
_PREFIX = re.compile(rb"<([\w.-]+:)?sheetData[\s>/]")
_ATTR = re.compile(rb"""(?:^|\s)(r|s|t)\s*=\s*["']([^"']*)["']""")
_REF = re.compile(rb"([A-Za-z]{1,3})(\d+)")
_R = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{1,3})(\d+)["']""")
_SPACE = frozenset(b" \t\r\n")


class _Patterns:
    """The regular expressions for one namespace prefix (b"" or b"x:": some generators write
    <x:c>). The searches over the whole sheet start with a literal (' s="', ' t="e"', '<f')
    that the regex engine finds at memchr speed; a cell's tag is then found around the hit.
    A pattern that starts at every "<c" costs ~10× more on a 100,000-row sheet."""

    def __init__(self, prefix: bytes, ids: frozenset[int]):
        p = re.escape(prefix)
        self.prefix = prefix
        self.cell = b"<" + prefix + b"c"
        self.formula_tag = re.compile(rb"<" + p + rb"f[\s>/]")
        self.formula = re.compile(
            rb"<" + p + rb"c(?=[\s>])([^>]*?)>\s*"
            rb"<" + p + rb"f\b([^>]*?)(?:/>|>([^<]*)</" + p + rb"f>)\s*"
            rb"(<" + p + rb"v\b[^>]*?(?:/>|>([^<]*)</" + p + rb"v>))?")
        self.error_fast = re.compile(rb' t="e"')
        self.error_any = re.compile(rb"""\st\s*=\s*["']e["']""")
        self.error = re.compile(
            rb"<" + p + rb"""c(?=\s)([^>]*?\st\s*=\s*["']e["'][^>]*?)>\s*"""
            rb"(?:<" + p + rb"f\b[^>]*?(?:/>|>[^<]*</" + p + rb"f>)\s*)?"
            rb"<" + p + rb"v\b[^>]*>([^<]*)<")
        self.token = re.compile(rb"<" + p + rb"(row|c)(?=[\s/>])([^>]*?)(/?)>")
        self.styled_fast = self.styled_any = None
        if ids:
            alternatives = b"|".join(str(i).encode() for i in sorted(ids))
            self.styled_fast = re.compile(rb' s="(' + alternatives + rb')"')
            self.styled_any = re.compile(rb"""\ss\s*=\s*["'](""" + alternatives + rb""")["']""")
        self.odd_s = self.odd_t = False  # set from the sheet's first piece: a writer spells alike


def _odd_spelling(buffer: bytes, name: bytes) -> bool:
    """An attribute written other than ' s="…"' (single quotes, a line break, spaces around =)."""
    return any(spelling in buffer for spelling in
               (name + b"='", b"\t" + name + b"=", b"\n" + name + b"=", b"\r" + name + b"=", b" " + name + b" ="))


_SI = re.compile(rb"""\bsi\s*=\s*["'](\d+)["']""")
_ENTITIES = {b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'", b"&amp;": b"&"}
_ENTITY = re.compile(rb"&(?:lt|gt|quot|apos|amp);")

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
BUILTIN_TEXT_FORMATS = {49: "@"}  # the built-in ids with zero padding or text: only 49 (文本)


@dataclass
class Styles:
    """The xf (cell format) indices that matter: those showing numbers as text, and those
    whose font is struck through."""

    text_formats: dict[int, Callable[[float], str]] = field(default_factory=dict)
    struck: frozenset[int] = frozenset()
    centred: frozenset[int] = frozenset()  # 跨列居中 (centre across selection): a title or header over several columns

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(self.text_formats) | self.struck | self.centred


@dataclass
class Scan:
    styled: dict[tuple[int, int], int] = field(default_factory=dict)  # (row, col) → xf index
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # no cached value: "=A2&B2"
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # "#N/A"
    shown: dict[tuple[int, int], str] = field(default_factory=dict)  # ods: the text a number cell shows ("000012")
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # ods: spans calamine does not give


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_styles(archive: zipfile.ZipFile) -> Styles:
    try:
        data = archive.read("xl/styles.xml")
    except KeyError:
        return Styles()
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return Styles()  # calamine reads the values; only the formats are lost
    codes: dict[int, str] = dict(BUILTIN_TEXT_FORMATS)
    struck_fonts: set[int] = set()
    xfs: list[tuple[int, int]] = []
    centred: set[int] = set()
    for child in root:
        name = _local(child.tag)
        if name == "numFmts":
            for fmt in child:
                try:
                    codes[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
                except ValueError:
                    continue
        elif name == "fonts":
            for index, font in enumerate(child):
                for prop in font:
                    if _local(prop.tag) == "strike" and prop.get("val", "1").lower() in ("1", "true"):
                        struck_fonts.add(index)
        elif name == "cellXfs":
            for xf in child:
                try:
                    xfs.append((int(xf.get("numFmtId", "0")), int(xf.get("fontId", "0"))))
                except ValueError:
                    xfs.append((0, 0))
                if any(_local(a.tag) == "alignment" and a.get("horizontal") == "centerContinuous" for a in xf):
                    centred.add(len(xfs) - 1)
    formatters: dict[str, Callable[[float], str] | None] = {}
    text_formats = {}
    struck = set()
    for index, (fmt_id, font_id) in enumerate(xfs):
        code = codes.get(fmt_id)
        if code is not None:
            if code not in formatters:
                formatters[code] = text_format(code)
            if formatters[code] is not None:
                text_formats[index] = formatters[code]
        if font_id in struck_fonts:
            struck.add(index)
    return Styles(text_formats, frozenset(struck), frozenset(centred))


# ---------------------------------------------------------------- number formats (单元格格式)

_LITERAL_CHARS = set("$-+/():!^&'~{}<>= ")
_COLOURS = re.compile(r"\[(?:black|blue|cyan|green|magenta|red|white|yellow|color\s*\d+|\$[^\]]*)\]", re.I)


def _sections(code: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for ch in code:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == '"':
            current.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _tokens(section: str) -> list[tuple[str, str]] | None:
    """('lit', text) and ('digit', '0' | '#' | '?') tokens; None for anything this module does
    not render (decimals, thousands, percent, exponent, dates, conditions): calamine's value
    is kept for those."""
    section = _COLOURS.sub("", section)
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(("lit", section[i + 1:end]))
            i = end + 1
            continue
        if ch == "\\" and i + 1 < len(section):
            tokens.append(("lit", section[i + 1]))
            i += 2
            continue
        if ch == "_" and i + 1 < len(section):  # the width of the next character, as a space
            tokens.append(("lit", " "))
            i += 2
            continue
        if ch == "*" and i + 1 < len(section):  # fill to the column width: nothing to keep
            i += 2
            continue
        if ch in "0#?":
            tokens.append(("digit", ch))
        elif ch in _LITERAL_CHARS:
            tokens.append(("lit", ch))
        else:
            return None
        i += 1
    return tokens


def _general(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


def text_format(code: str) -> Callable[[float], str] | None:
    """A function giving the text Excel shows for a number in this format, or None when the
    format shows nothing a unit would call text: only zero padding (two or more ``0``),
    literal text around the digits, and ``@`` are rendered."""
    sections = _sections(code)
    if sections[0].strip() == "@":
        return _general
    parsed = [_tokens(s) for s in sections[:3]]
    if not parsed or parsed[0] is None or any(p is None for p in parsed[1:2]):
        return None
    first = parsed[0]
    if not any(kind == "digit" for kind, _ in first):
        return None
    zeros = sum(1 for kind, ch in first if kind == "digit" and ch == "0")
    literal = any(kind == "lit" and text.strip() for kind, text in first)
    if zeros < 2 and not literal:
        return None
    negative = parsed[1] if len(parsed) > 1 else None
    zero = parsed[2] if len(parsed) > 2 and parsed[2] else None

    def render(value: float) -> str:
        if value < 0 and negative is not None:
            return _render(negative, -value, sign="")
        if value == 0 and zero is not None:
            return _render(zero, 0, sign="")
        return _render(first, abs(value), sign="-" if value < 0 else "")

    return render


def _render(tokens: list[tuple[str, str]], value: float, sign: str) -> str:
    digits = str(int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    places = [ch for kind, ch in tokens if kind == "digit"]
    if digits == "0":
        digits = ""  # '#' shows nothing for zero, '0' shows 0
    # placeholders are filled from the right; extra leading digits go into the first one
    spare = max(0, len(digits) - len(places))
    padded = [""] * (len(places) - len(digits)) + ([digits[:spare + 1]] + list(digits[spare + 1:]) if digits else [])
    out = []
    position = 0
    for kind, text in tokens:
        if kind == "lit":
            out.append(text)
            continue
        digit = padded[position]
        position += 1
        out.append(digit or {"0": "0", "#": "", "?": " "}[text])
    return sign + "".join(out)


# ---------------------------------------------------------------- workbook parts

def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part inside the package (xl/worksheets/sheet1.xml)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {}
    for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
        target = rel.get("Target", "")
        if target.startswith("/"):
            target = target.lstrip("/")
        else:
            target = posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = target
    parts = {}
    for sheet in workbook.iter(f"{MAIN_NS}sheet"):
        part = targets.get(sheet.get(f"{REL_NS}id"))
        if part:
            parts[sheet.get("name", "")] = part
    return parts


# ---------------------------------------------------------------- the byte scan

def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) for m in _ATTR.finditer(raw)}


@functools.lru_cache(maxsize=4096)
def _column(letters: bytes) -> int:
    """b"AB" → 27 (0-based)."""
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col - 1


def _ref(raw: bytes | None) -> tuple[int, int] | None:
    """b"AB12" → (12, 27): the file's row number and the 0-based column."""
    if not raw:
        return None
    m = _REF.fullmatch(raw)
    if not m:
        return None
    return int(m.group(2)), _column(m.group(1))


def _unescape(raw: bytes) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], raw).decode("utf-8", "replace")


class _NoRefs(Exception):
    """A cell without its r="B3": positions must be counted, so the whole sheet is tokenised."""


def scan_sheet(archive: zipfile.ZipFile, part: str, styles: Styles,
               cancelled: Callable[[], bool] | None = None) -> Scan:
    scan = Scan()
    shared: dict[bytes, str] = {}  # shared formula index → the master's formula text
    patterns = None
    try:
        for buffer in row_chunks(archive, part, cancelled):
            if patterns is None:
                found = _PREFIX.search(buffer)
                patterns = _Patterns(found.group(1) or b"" if found else b"", styles.ids)
                patterns.odd_s, patterns.odd_t = _odd_spelling(buffer, b"s"), _odd_spelling(buffer, b"t")
            _scan_buffer(buffer, patterns, scan, shared)
    except _NoRefs:
        scan = Scan()
        _scan_counting(archive.read(part), styles.ids, patterns, scan, {})
    return scan


def row_chunks(archive: zipfile.ZipFile, part: str, cancelled, last_end=None):
    """The sheet XML a few MB at a time, each piece ending at a row end (</row>, or where
    ``last_end(buffer)`` says the last row ends: the .ods scan's </table:table-row>)."""
    last_end = last_end or _last_row_end
    rest = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if cancelled is not None and cancelled():
                raise Cancelled()
            if not chunk:
                if rest:
                    yield rest
                return
            buffer = rest + chunk
            cut = last_end(buffer)
            if cut <= 0:
                rest = buffer
                continue
            yield buffer[:cut]
            rest = buffer[cut:]


def _last_row_end(buffer: bytes) -> int:
    end = len(buffer)
    while True:
        index = buffer.rfind(b"row>", 0, end)
        if index < 0:
            return -1
        if buffer[index - 2:index] == b"</" or (buffer[index - 1:index] == b":" and b"</" in buffer[index - 12:index]):
            return index + 4
        end = index


def _cell_tag(buffer: bytes, pos: int, patterns: _Patterns) -> tuple[int, int] | None:
    """The start and end of the <c …> tag around an attribute found at ``pos``; None when the
    attribute belongs to another element (<row s="3" customFormat="1">)."""
    start = buffer.rfind(b"<", 0, pos)
    name_end = start + len(patterns.cell)
    if start < 0 or buffer[start:name_end] != patterns.cell or buffer[name_end:name_end + 1] not in b" \t\r\n":
        return None
    return start, buffer.find(b">", pos)


def _scan_buffer(buffer: bytes, patterns: _Patterns, scan: Scan, shared: dict[bytes, str]) -> None:
    if patterns.styled_fast is not None:
        pattern = patterns.styled_any if patterns.odd_s else patterns.styled_fast
        cell, cell_len, find_r, column = patterns.cell, len(patterns.cell), _R.search, _column
        for m in pattern.finditer(buffer):  # ~100,000 hits on a formatted ledger: kept lean
            start = buffer.rfind(b"<", 0, m.start())
            if buffer[start:start + cell_len] != cell or buffer[start + cell_len] not in _SPACE:
                continue  # <row s="3" customFormat="1">
            r = find_r(buffer, start + cell_len, buffer.find(b">", m.end()))
            if r is None:
                raise _NoRefs
            scan.styled[int(r.group(2)), column(r.group(1))] = int(m.group(1))
    for m in patterns.formula_tag.finditer(buffer):
        start = buffer.rfind(patterns.cell, 0, m.start())
        cell = patterns.formula.match(buffer, start) if start >= 0 else None
        if cell is not None and cell.start(2) <= m.start() + len(patterns.prefix) + 2:
            _formula(cell, scan, shared, None)
    if b'"e"' in buffer or b"'e'" in buffer:
        pattern = patterns.error_any if patterns.odd_t else patterns.error_fast
        for m in pattern.finditer(buffer):
            tag = _cell_tag(buffer, m.start() + 1, patterns)
            cell = patterns.error.match(buffer, tag[0]) if tag is not None else None
            if cell is None:
                continue
            where = _ref(_attrs(cell.group(1)).get(b"r"))
            if where is None:
                raise _NoRefs
            scan.errors[where] = _unescape(cell.group(2)).strip()


def _formula(m: re.Match, scan: Scan, shared: dict[bytes, str], where) -> None:
    attrs = _attrs(m.group(1))
    if where is None:
        where = _ref(attrs.get(b"r"))
        if where is None:
            raise _NoRefs
    f_attrs, text, v_element, cached = m.group(2), m.group(3), m.group(4), m.group(5)
    si = _SI.search(f_attrs or b"")
    formula = _unescape(text) if text else ""
    if si:
        if formula:
            shared[si.group(1)] = formula
        else:
            formula = shared.get(si.group(1), "")
    # an empty <v></v> is a cached empty text only for a string formula (t="str")
    has_value = v_element is not None and (bool(cached) or attrs.get(b"t") == b"str")
    if not has_value:
        scan.formulas[where] = "=" + formula


def _scan_counting(xml: bytes, ids: frozenset[int], patterns: _Patterns, scan: Scan, shared: dict[bytes, str]) -> None:
    """Every row and cell tag in turn, positions counted where r= is missing (slow; rare)."""
    row, col = 0, -1
    for m in patterns.token.finditer(xml):
        attrs = _attrs(m.group(2))
        if m.group(1) == b"row":
            r = attrs.get(b"r")
            row = int(r) if r and r.isdigit() else row + 1
            col = -1
            continue
        where = _ref(attrs.get(b"r"))
        if where is None:
            col += 1
            where = (row, col)
        else:
            row, col = where
        s = attrs.get(b"s")
        if s and s.isdigit() and int(s) in ids:
            scan.styled[where] = int(s)
        if m.group(3):
            continue  # <c .../>: no content
        formula = patterns.formula.match(xml, m.start())
        if formula:
            _formula(formula, scan, shared, where)
        if attrs.get(b"t") == b"e":
            error = patterns.error.match(xml, m.start())
            if error:
                scan.errors[where] = _unescape(error.group(2)).strip()
