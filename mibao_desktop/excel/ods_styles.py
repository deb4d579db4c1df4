"""What calamine does not say about an .ods cell (LibreOffice, WPS), read from the package's
content.xml and styles.xml into the same Scan as an xlsx gives:

- 合并单元格(``table:number-rows-spanned`` / ``number-columns-spanned``): calamine gives no
  merged ranges for an ods, so a department merged down would fill only its first row.
- 单元格格式: a number shown through a format with leading zeros or a prefix (``000012``,
  ``"HT"00000``) or the text format is, for the unit, the text the cell shows. The file keeps
  that text in the cell's ``<text:p>``; it is taken when the cell's style has such a format.
- 删除线(``style:text-line-through-style``): rows struck out by hand, through the cell's own
  style, its row's or its column's default cell style, or a parent style.
- 错误值 (``calcext:value-type="error"``: ``#DIV/0!``, ``Err:502``) and formulas with no
  calculated value: calamine reads both as empty cells.

The styles are read with a streaming parser (styles.xml, and content.xml's automatic styles up
to the body). The body is scanned as bytes, a few megabytes at a time cut at row ends, as the
xlsx scan does: rows are counted from their tags, and only a row holding one of the things above
(a span, an error, a formula, a style that matters) has its cells taken apart. An ods cell has no
address, so its place is counted from the cells before it in its row. Measured on 100,000
rows × 15 cells (140 MB of XML): a parser's events for every cell took ~30 s; this takes 3 s
of CPU when every row has a number shown 000012, 0.5 s when nothing in the file needs it
(calamine's own reading: 2 s).

Anything this reader cannot follow gives no scan; the values still come from calamine.
"""

from __future__ import annotations

import bisect
import html
import re
import zipfile
from collections.abc import Callable
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from mibao_desktop.errors import Cancelled
from mibao_desktop.excel.xlsx_styles import Scan, Styles, row_chunks, text_format

TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
CALCEXT_NS = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_NUMBER = "{urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0}"
_BODY = "{" + OFFICE_NS + "}body"
_STYLE_TAGS = (_STYLE + "style", _NUMBER + "number-style", _NUMBER + "text-style")

_STRUCK = 1  # the one xf id the scan gives a struck cell (Styles.struck)
_MAX_ROWS, _MAX_COLS = 1 << 20, 1 << 14  # a sheet's size: what a repeat count is cut to
_MAX_REPEAT = 100_000  # one cell said to fill more places than this is no ledger's cell
_CHUNK = 4 * 1024 * 1024
_XMLNS = re.compile(rb"""xmlns:([\w.-]+)\s*=\s*["']([^"']*)["']""")
_ATTR = re.compile(rb"""([\w.-]+:[\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ERROR_TEXT = re.compile(r"#(?:N/A|NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!)|Err:\d{3}")


# ---------------------------------------------------------------- styles

class _StyleBook:
    """The cell styles and number styles of styles.xml and content.xml's automatic styles."""

    def __init__(self) -> None:
        self.cell: dict[str, tuple[str | None, str | None, bool | None]] = {}  # name → (parent, data style, struck)
        self.numbers: dict[str, str | None] = {}  # number style name → an Excel format code (None: not text)
        self._struck: dict[str, bool] = {}
        self._data: dict[str, str | None] = {}

    def take(self, element: ElementTree.Element) -> None:
        """A style element, complete (its children parsed)."""
        tag = element.tag
        if tag == _STYLE + "style":
            if element.get(_STYLE + "family") != "table-cell":
                return
            struck = None
            for prop in element:
                if prop.tag == _STYLE + "text-properties":
                    line = prop.get(_STYLE + "text-line-through-style")
                    kind = prop.get(_STYLE + "text-line-through-type")
                    if line is not None or kind is not None:
                        struck = (line or "solid") != "none" and kind != "none"
            self.cell[element.get(_STYLE + "name", "")] = (
                element.get(_STYLE + "parent-style-name"), element.get(_STYLE + "data-style-name"), struck)
        elif tag == _NUMBER + "number-style":
            self.numbers[element.get(_STYLE + "name", "")] = _number_code(element)
        elif tag == _NUMBER + "text-style":
            self.numbers[element.get(_STYLE + "name", "")] = "@"

    def struck(self, name: str, depth: int = 0) -> bool:
        if name not in self._struck:
            parent, _data, own = self.cell.get(name, (None, None, None))
            self._struck[name] = own if own is not None else (
                parent is not None and depth < 20 and self.struck(parent, depth + 1))
        return self._struck[name]

    def data_style(self, name: str, depth: int = 0) -> str | None:
        if name not in self._data:
            parent, data, _own = self.cell.get(name, (None, None, None))
            self._data[name] = data if data is not None else (
                self.data_style(parent, depth + 1) if parent is not None and depth < 20 else None)
        return self._data[name]

    def text_styles(self) -> dict[str, Callable[[float], str]]:
        """Cell style name → how its number format shows a number as text (000012, HT00012, @)."""
        out = {}
        for name in self.cell:
            code = self.numbers.get(self.data_style(name) or "")
            render = text_format(code) if code else None
            if render is not None:
                out[name] = render
        return out

    def struck_styles(self) -> set[str]:
        return {name for name in self.cell if self.struck(name)}


def _number_code(style: ElementTree.Element) -> str | None:
    """number:number-style → the Excel format code it equals, enough for text_format to tell
    (and render) zero padding and literal text; None for what it does not render."""
    parts = []
    for child in style:
        tag = child.tag
        if tag == _NUMBER + "text":
            text = "".join(child.itertext())
            parts.append('"' + text.replace('"', "") + '"' if text else "")
        elif tag == _NUMBER + "number":
            if len(child) or child.get(_NUMBER + "grouping") == "true" or (child.get(_NUMBER + "decimal-places") or "0") != "0":
                return None  # embedded text, thousands, decimals: shown as the number
            digits = child.get(_NUMBER + "min-integer-digits") or "1"
            if not digits.isdigit():
                return None
            parts.append("0" * int(digits) if int(digits) > 0 else "#")
        elif tag in (_STYLE + "map", _STYLE + "text-properties"):
            continue  # another style for negative numbers, a colour: the first section is what counts
        else:
            return None  # fraction, scientific …
    return "".join(parts) or None


def _read_styles(archive: zipfile.ZipFile, book: _StyleBook) -> None:
    if "styles.xml" in archive.namelist():
        with archive.open("styles.xml") as stream:
            for _event, element in ElementTree.iterparse(stream):
                if element.tag in _STYLE_TAGS:
                    book.take(element)
    with archive.open("content.xml") as stream:  # the automatic styles come before the body
        for event, element in ElementTree.iterparse(stream, ("start", "end")):
            if event == "start":
                if element.tag == _BODY:
                    return
            elif element.tag in _STYLE_TAGS:
                book.take(element)


# ---------------------------------------------------------------- the body, as bytes

def read_ods(archive: zipfile.ZipFile, cancelled: Callable[[], bool] | None = None) -> tuple[Styles, dict[str, Scan]]:
    """Each table's merged ranges, struck cells, number cells shown as text, error and formula
    cells, by sheet name."""
    styles = Styles(struck=frozenset({_STRUCK}))
    book = _StyleBook()
    try:
        _read_styles(archive, book)
        return styles, _Body(book.text_styles(), book.struck_styles(), cancelled).scan(archive)
    except (ElementTree.ParseError, KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, IndexError):
        return Styles(), {}


def _chunks(archive: zipfile.ZipFile, cancelled):
    """content.xml a few MB at a time, each piece ending just after a row's end tag."""
    return row_chunks(archive, "content.xml", cancelled, _last_row_end)


def _last_row_end(buffer: bytes) -> int:
    """Just after the last </table:table-row> of ``buffer``; 0 when it holds none."""
    cut = buffer.rfind(b"-row>")
    while cut >= 0 and buffer[buffer.rfind(b"<", 0, cut):][:2] != b"</":  # an end tag, not <table:table-row>
        cut = buffer.rfind(b"-row>", 0, cut)
    return cut + 5 if cut >= 0 else 0


class _Body:
    """The scan of content.xml's tables, chunk by chunk: the row count carried over."""

    def __init__(self, text_styles: dict[str, Callable[[float], str]], struck_styles: set[str], cancelled):
        self.text_styles, self.struck_styles, self.cancelled = text_styles, struck_styles, cancelled
        self.relevant = set(text_styles) | struck_styles
        self.scans: dict[str, Scan] = {}
        self.scan_: Scan | None = None
        self.row = 0  # rows of the current table before this one
        self.column_starts: list[int] = []
        self.column_styles: list[str | None] = []
        self.width = 0
        self.every_row = False  # a column's default style matters: every row is looked at

    def _patterns(self, head: bytes) -> None:
        prefixes: dict[bytes, bytes] = {}
        for prefix, uri in _XMLNS.findall(head):
            prefixes.setdefault(uri, prefix)
        t = self.t = prefixes.get(TABLE_NS.encode(), b"table")
        office = prefixes.get(OFFICE_NS.encode(), b"office")
        text = prefixes.get(TEXT_NS.encode(), b"text")
        calcext = prefixes.get(CALCEXT_NS.encode(), b"calcext")
        self.k_rows_repeated, self.k_cols_repeated = t + b":number-rows-repeated", t + b":number-columns-repeated"
        self.k_rows_spanned, self.k_cols_spanned = t + b":number-rows-spanned", t + b":number-columns-spanned"
        self.k_style, self.k_default, self.k_formula = t + b":style-name", t + b":default-cell-style-name", t + b":formula"
        self.k_name, self.k_value = t + b":name", office + b":value"
        self.k_type, self.k_calc_type = office + b":value-type", calcext + b":value-type"
        et, eo, ex = re.escape(t), re.escape(office), re.escape(text)
        # one search per tag, each for a literal of its own ("<table:table" alone would stop at
        # every cell): rows, columns, a table's name (its start tag around it), its end
        self.row_tag = re.compile(rb"<" + et + rb":table-row(?=[\s/>])([^>]*)>")
        self.column_open = b"<" + t + b":table-column"
        self.table_name = t + b":name="
        self.table_start = b"<" + t + b":table"
        self.table_end = b"</" + t + b":table>"
        self.cell = re.compile(rb"<" + et + rb":(table-cell|covered-table-cell)(?=[\s/>])([^>]*)>")
        self.cell_end = {b"table-cell": b"</" + t + b":table-cell>", b"covered-table-cell": b"</" + t + b":covered-table-cell>"}
        self.row_end = b"</" + t + b":table-row>"
        # what makes a row worth taking apart, each searched for on its own (an alternation is
        # tried at every byte: 4 s on 140 MB), as literals where the writer spells attributes
        # as LibreOffice and WPS do (bytes.find is three times the speed of a regex's search)
        self.odd = b"='" in head or b"= " in head or b" =" in head
        names = [escape(n, {'"': "&quot;"}).encode() for n in sorted(self.relevant)]
        if self.odd:
            self.hits = [re.compile(rb"-spanned\s*="), re.compile(rb""""error["']"""), re.compile(rb"""'error["']"""),
                         re.compile(rb":formula\s*=")]
            self.hits += [re.compile(rb"""style-name\s*=\s*["']""" + re.escape(n) + rb"""["']""") for n in names]
            self.column_tag = re.compile(rb"<" + et + rb":table-column(?=[\s/>])([^>]*)>")
            self.table_name_any = re.compile(et + rb":name\s*=")
        else:  # LibreOffice, WPS: attr="value"
            self.hits = [b"-spanned=", b'"error"', b":formula="] + [b'style-name="' + n + b'"' for n in names]
        self.p_open = b"<" + text + b":p"
        self.simple_p = re.compile(rb"<" + ex + rb":p>([^<]*)</" + ex + rb":p>")
        self.annotation = re.compile(rb"<" + eo + rb":annotation\b.*?</" + eo + rb":annotation>", re.S)
        self.paragraph = re.compile(rb"<" + ex + rb":p(?=[\s/>])[^>]*?(?:/>|>(.*?)</" + ex + rb":p>)", re.S)
        self.spaces = re.compile(rb"<" + ex + rb""":s(?:\s+[\w.-]+:c\s*=\s*["'](\d+)["'])?\s*/>""")
        self.tab = re.compile(rb"<" + ex + rb":tab\s*/>")
        self.line_break = re.compile(rb"<" + ex + rb":line-break\s*/>")

    def scan(self, archive: zipfile.ZipFile) -> dict[str, Scan]:
        if not self.relevant and not self._anything(archive):
            return {}  # no span, error or formula, and no style that matters: nothing to count rows for
        first = True
        for chunk in _chunks(archive, self.cancelled):
            if first:
                self._patterns(chunk[:65536])  # the root's namespace prefixes (table:, office: …)
                first = False
            self._chunk(chunk)
        return {name: scan for name, scan in self.scans.items()
                if scan.styled or scan.shown or scan.errors or scan.formulas or scan.merged}

    def _tables(self, chunk: bytes) -> list[tuple[int, int, bytes]]:
        """Where tables start and end and columns are declared: (position, 0 end / 1 start /
        2 column, the tag's attributes)."""
        out: list[tuple[int, int, bytes]] = [(at, 0, b"") for at in _find_all(chunk, self.table_end)]
        names = [m.start() for m in self.table_name_any.finditer(chunk)] if self.odd else _find_all(chunk, self.table_name)
        for at in names:
            start = chunk.rfind(b"<", 0, at)
            after = chunk[start + len(self.table_start):start + len(self.table_start) + 1]
            if chunk.startswith(self.table_start, start) and after.isspace():
                out.append((start, 1, chunk[start:chunk.find(b">", at)]))
        if self.odd:
            out.extend((m.start(), 2, m.group(1)) for m in self.column_tag.finditer(chunk))
        else:
            for at in _find_all(chunk, self.column_open):
                if chunk[at + len(self.column_open):at + len(self.column_open) + 1] in (b" ", b"/", b">"):
                    out.append((at, 2, chunk[at:chunk.find(b">", at)]))
        out.sort(key=lambda item: (item[0], item[1]))
        return out

    def _anything(self, archive: zipfile.ZipFile) -> bool:
        """Whether content.xml holds a span, an error or a formula anywhere: one pass, stopped
        at the first (a plain ods of 100,000 rows: 0.5 s instead of a second and a half)."""
        tail = b""
        with archive.open("content.xml") as stream:
            while chunk := stream.read(_CHUNK):
                if self.cancelled is not None and self.cancelled():
                    raise Cancelled()
                if not tail:
                    self._patterns(chunk[:65536])
                piece = tail + chunk
                if any((pattern in piece) if type(pattern) is bytes else pattern.search(piece) for pattern in self.hits):
                    return True
                tail = chunk[-64:]
        return False

    def _chunk(self, chunk: bytes) -> None:
        hits = []
        for pattern in self.hits:
            hits += _find_all(chunk, pattern) if type(pattern) is bytes else [m.start() for m in pattern.finditer(chunk)]
        hits.sort()
        tables = self._tables(chunk)
        h, count, t, t_count = 0, len(hits), 0, len(tables)
        row_end = self.row_end
        for m in self.row_tag.finditer(chunk):
            start = m.start()
            while t < t_count and tables[t][0] < start:
                self._table_tag(*tables[t])
                t += 1
            raw = m.group(1)
            rows, default = 1, None
            if b"-repeated" in raw or b"default-cell" in raw:
                attrs = _attrs(raw)
                rows = _number(attrs.get(self.k_rows_repeated), _MAX_ROWS)
                default = attrs.get(self.k_default)
            start = m.end()
            while h < count and hits[h] < start:
                h += 1  # in the row's own tag, or between rows
            whole = self.every_row or (default is not None and default in self.relevant)
            if self.scan_ is not None and not raw.endswith(b"/") and (h < count or whole):
                end = chunk.find(row_end, start)
                if end < 0:
                    end = len(chunk)
                first = h
                while h < count and hits[h] < end:
                    h += 1
                if whole or h > first:
                    self._row(chunk, start, end, rows, default, hits[first:h], whole)
            self.row += rows
            if self.cancelled is not None and self.row % 8192 < rows and self.cancelled():
                raise Cancelled()
        for item in tables[t:]:
            self._table_tag(*item)

    def _table_tag(self, _position: int, kind: int, tag: bytes) -> None:
        if kind == 2:  # <table:table-column>
            attrs = _attrs(tag)
            style = attrs.get(self.k_default)
            self.column_starts.append(self.width)
            self.column_styles.append(style)
            self.width += _number(attrs.get(self.k_cols_repeated), _MAX_COLS)
            if style in self.relevant:
                self.every_row = True
        elif kind == 1:  # <table:table table:name="…">
            name = _attrs(tag).get(self.k_name, "")
            self.scan_ = self.scans[name] = Scan()
            self.row, self.width, self.every_row = 0, 0, False
            self.column_starts, self.column_styles = [], []
        else:  # </table:table>
            self.scan_ = None

    def _row(self, chunk: bytes, start: int, end: int, rows: int, default: str | None, hits: list[int],
             whole: bool) -> None:
        """The cells of a row that holds something: each counted up to the last that matters,
        and those read (every cell with a value, when the row's or a column's style matters)."""
        stop = end if whole else hits[-1] + 1
        col, pos, h, count = 0, start, 0, len(hits)
        search, cell_end = self.cell.search, self.cell_end
        while pos < stop:
            m = search(chunk, pos, end)
            if m is None:
                break
            raw = m.group(2)
            if raw.endswith(b"/"):
                content_end = pos = m.end()
            else:
                close = cell_end[m.group(1)]
                content_end = chunk.find(close, m.end(), end)
                if content_end < 0:
                    content_end = end
                pos = content_end + len(close)
            attrs = _attrs(raw) if raw else {}
            repeat = _number(attrs.get(self.k_cols_repeated), _MAX_COLS) if b"repeated" in raw else 1
            while h < count and hits[h] < m.start():
                h += 1
            if (whole or (h < count and hits[h] < pos)) and m.group(1) == b"table-cell":
                self._cell(attrs, chunk[m.end():content_end], col, rows, repeat, default)
            col += repeat

    def _style_of(self, attrs: dict[bytes, str], default: str | None, col: int) -> str | None:
        """A cell's style: its own, else its row's default, else its column's."""
        own = attrs.get(self.k_style)
        if own is not None:
            return own
        if default is not None:
            return default
        if not self.column_starts:
            return None
        return self.column_styles[max(0, bisect.bisect_right(self.column_starts, col) - 1)]

    def _cell(self, attrs: dict[bytes, str], content: bytes, col: int, rows: int, repeat: int,
              default: str | None) -> None:
        """What one cell (repeated ``repeat`` times, on ``rows`` rows) adds to the scan."""
        scan, row = self.scan_, self.row
        if self.k_rows_spanned in attrs or self.k_cols_spanned in attrs:
            down = _number(attrs.get(self.k_rows_spanned), _MAX_ROWS)
            across = _number(attrs.get(self.k_cols_spanned), _MAX_COLS)
            if down > 1 or across > 1:
                scan.merged.append((row + 1, col, row + down, col + across - 1))
        value_type = attrs.get(self.k_type)
        calc_type = attrs.get(self.k_calc_type)
        formula = attrs.get(self.k_formula)
        has_text = self.p_open in content
        if value_type is None and formula is None and not has_text:
            return  # an empty cell: no value, and nothing struck that matters
        if rows * repeat > _MAX_REPEAT:
            return
        style = self._style_of(attrs, default, col)
        target: dict[tuple[int, int], str] | None = None
        found = ""
        if calc_type == "error":
            target, found = scan.errors, self._text(content).strip() or "#VALUE!"
        elif (formula is not None and calc_type is None and value_type in (None, "string") and has_text
              and _ERROR_TEXT.fullmatch(self._text(content).strip())):
            target, found = scan.errors, self._text(content).strip()  # an error as files before calcext say it
        elif formula is not None and value_type is None and not has_text:
            target, found = scan.formulas, _formula_text(formula)  # written by a script, never calculated
        elif value_type == "float" and style in self.text_styles:
            try:
                value = float(attrs.get(self.k_value) or "")
            except ValueError:
                value = None
            if value is not None:
                shown = self._text(content)
                # what LibreOffice/WPS wrote as the cell's text; a generator that wrote the bare
                # number there leaves the text to the format, as the spreadsheet shows it
                target = scan.shown
                found = shown if shown and shown != _plain(value) else self.text_styles[style](value)
        struck = style in self.struck_styles
        if target is None and not struck:
            return
        for r in range(row + 1, row + rows + 1):
            for c in range(col, col + repeat):
                if target is not None:
                    target[(r, c)] = found
                if struck:
                    scan.styled[(r, c)] = _STRUCK

    def _text(self, content: bytes) -> str:
        """The text a cell shows: its paragraphs (not a note's), spaces written as <text:s/>."""
        simple = self.simple_p.fullmatch(content)
        if simple is not None:  # <text:p>000012</text:p>: most cells
            return html.unescape(simple.group(1).decode("utf-8", "replace"))
        content = self.annotation.sub(b"", content)
        lines = []
        for p in self.paragraph.finditer(content):
            inner = p.group(1) or b""
            inner = self.spaces.sub(lambda s: b" " * min(int(s.group(1) or 1), 1000), inner)
            inner = self.line_break.sub(b"\n", self.tab.sub(b"\t", inner))
            inner = _TAG.sub(b"", inner)
            lines.append(html.unescape(inner.decode("utf-8", "replace")))
        return "\n".join(lines)


_TAG = re.compile(rb"<[^>]*>")


def _find_all(chunk: bytes, literal: bytes) -> list[int]:
    out = []
    at = chunk.find(literal)
    while at >= 0:
        out.append(at)
        at = chunk.find(literal, at + 1)
    return out


def _attrs(raw: bytes) -> dict[bytes, str]:
    out = {}
    for name, double, single in _ATTR.findall(raw):
        value = (double or single).decode("utf-8", "replace")
        out[name] = html.unescape(value) if "&" in value else value
    return out


def _number(value: str | None, limit: int) -> int:
    if value is None or not value.isdigit():
        return 1
    return max(1, min(int(value), limit))


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _formula_text(formula: str) -> str:
    """``of:=A1&B1`` (OpenFormula, as LibreOffice writes it; ``oooc:`` in older files) → ``=A1&B1``."""
    prefix, sep, rest = formula.partition(":")
    if sep and prefix.isalpha() and rest.startswith("="):
        formula = rest
    return "=" + formula.lstrip("=")
