"""Builders of the spreadsheets units send, hostile ones included, for the reader and importer
tests: xlsx (openpyxl, then its XML rewritten), legacy xls (xlwt), ods (written by hand), text
tables in the encodings Chinese offices use, OLE2 compound files (encrypted workbooks)."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import xlwt


# ---------------------------------------------------------------- xlsx

def xlsx(path: Path, rows: list[list], *, title: str = "Sheet1", formats: dict[str, str] | None = None,
         struck_rows: tuple[int, ...] = ()) -> Path:
    """A workbook of one sheet. ``formats`` maps a cell ("D3") to a number format; the cells of
    ``struck_rows`` (1-based) get a struck-through font."""
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for ref, code in (formats or {}).items():
        ws[ref].number_format = code
    for number in struck_rows:
        for cell in ws[number]:
            cell.font = Font(strike=True)
    wb.save(path)
    return path


def rewrite_part(path: Path, part: str, change) -> Path:
    """Rewrite one member of a zip package: ``change(bytes) -> bytes``."""
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members:
            out.writestr(name, change(data) if name == part else data)
    return path


def sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(part)


def replace_sheet_data(path: Path, sheet_data: str, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """Put hand-written <sheetData> (cells as Excel or a script wrote them) into a workbook."""
    return rewrite_part(path, part, lambda xml: re.sub(
        rb"<sheetData>.*</sheetData>|<sheetData/>", sheet_data.encode().replace(b"\\", b"\\\\"), xml, flags=re.S))


def shared_strings_xlsx(path: Path, strings: list[str]) -> Path:
    """A workbook whose A column cells are shared strings (how Excel stores text), written raw."""
    xlsx(path, [["x"]])
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">'
           .format(len(strings)) + "".join(f"<si><t xml:space=\"preserve\">{escape(s)}</t></si>" for s in strings) + "</sst>")
    rows = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>' for i in range(len(strings)))
    replace_sheet_data(path, f"<sheetData>{rows}</sheetData>")
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members:
            if name == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if name == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            out.writestr(name, data)
        out.writestr("xl/sharedStrings.xml", sst)
    return path


# ---------------------------------------------------------------- xls (BIFF8)

XLS_ERRORS = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D, "#NUM!": 0x24, "#N/A": 0x2A}


class XlsError:
    """An error cell of an .xls: a BOOLERR record (what Excel keeps for a typed #N/A), or with
    ``formula`` a FORMULA record whose calculated result is the error (=1/0 → #DIV/0!)."""

    def __init__(self, code: str, formula: str | None = None):
        self.code, self.formula = code, formula


def xls(path: Path, rows: list[list], *, title: str = "Sheet1", hidden_sheet: str | None = None,
        merges: tuple[tuple[int, int, int, int], ...] = (), styles: dict | None = None) -> Path:
    """A legacy .xls. Dates are written with a date format; ``merges`` are 0-based
    (first_row, last_row, first_col, last_col) as xlwt takes them; ``styles`` give a cell
    (0-based row, col; the cell may be None: a blank cell with a style) an xlwt easyxf text or
    an xlwt style; an XlsError value is an error cell."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(title)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    easy = {text: xlwt.easyxf(text) if isinstance(text, str) else text for text in (styles or {}).values()}
    patches = []
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            style = easy[styles[(r, c)]] if styles and (r, c) in styles else None
            if isinstance(value, XlsError):
                if value.formula:
                    ws.write(r, c, xlwt.Formula(value.formula), style or xlwt.Style.default_style)
                    patches.append((r, c, XLS_ERRORS[value.code]))
                else:
                    ws.row(r).set_cell_error(c, XLS_ERRORS[value.code], style or xlwt.Style.default_style)
            elif value is None:
                if style is not None:
                    ws.write(r, c, None, style)
            elif isinstance(value, dt.date):
                ws.write(r, c, value, style or date_style)
            else:
                ws.write(r, c, value, style or xlwt.Style.default_style)
    for (r, c), text in (styles or {}).items():
        if c >= len(rows[r]):  # a blank cell with a style beyond the values given
            ws.write(r, c, None, easy[text])
    for first_row, last_row, first_col, last_col in merges:
        ws.merge(first_row, last_row, first_col, last_col)
    if hidden_sheet:
        other = wb.add_sheet(hidden_sheet)
        other.write(0, 0, "隐藏")
        other.visibility = 1
    wb.save(str(path))
    if patches:
        data = bytearray(path.read_bytes())
        for r, c, code in patches:
            # xlwt writes a formula's result as an empty text (type 3); Excel keeps the error it gave
            cached = re.compile(rb"\x06\x00..(" + re.escape(struct.pack("<HH", r, c)) + rb"..)\x03\0\0\0\0\0\xff\xff", re.S)
            found = cached.search(data)
            assert found, (r, c)
            data[found.end(1):found.end(1) + 8] = bytes([2, 0, code, 0, 0, 0, 0xFF, 0xFF])
        path.write_bytes(bytes(data))
    return path


# ---------------------------------------------------------------- ods (OpenDocument, by hand)

class OdsCell:
    """An ods cell with what a plain value cannot say: spans, an error value, a formula, a cell
    style (``style``), the text the cell shows (``shown``: what LibreOffice writes in <text:p>
    for a number through its format), and a repeat (``repeat``: LibreOffice writes identical
    neighbours once, with table:number-columns-repeated)."""

    def __init__(self, value=None, *, cols: int = 1, rows: int = 1, error: str | None = None, formula: str | None = None,
                 style: str | None = None, shown: str | None = None, repeat: int = 1, calcext: bool = True):
        self.value, self.cols, self.rows, self.error, self.formula = value, cols, rows, error, formula
        self.style, self.shown, self.repeat, self.calcext = style, shown, repeat, calcext


class OdsRow(list):
    """An ods row with a default cell style (``style``) or repeated (``repeat`` rows alike)."""

    def __init__(self, cells=(), *, style: str | None = None, repeat: int = 1):
        super().__init__(cells)
        self.style, self.repeat = style, repeat


# Styles every ods of these tests has (content.xml's automatic styles): number formats that show
# a number as text, one that does not (thousands), a struck-through font, and a cell style that
# inherits the strikethrough from a common style (ODS_COMMON_STYLES, in styles.xml).
ODS_STYLES = (
    '<number:number-style style:name="N6"><number:number number:decimal-places="0" number:min-decimal-places="0" '
    'number:min-integer-digits="6"/></number:number-style>'
    '<number:number-style style:name="NHT"><number:text>HT</number:text><number:number number:decimal-places="0" '
    'number:min-decimal-places="0" number:min-integer-digits="5"/></number:number-style>'
    '<number:number-style style:name="NG"><number:number number:decimal-places="0" number:min-integer-digits="1" '
    'number:grouping="true"/></number:number-style>'
    '<style:style style:name="zeros" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N6"/>'
    '<style:style style:name="contract" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="NHT"/>'
    '<style:style style:name="grouped" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="NG"/>'
    '<style:style style:name="struck" style:family="table-cell" style:parent-style-name="Default">'
    '<style:text-properties style:text-line-through-style="solid" style:text-line-through-type="single"/></style:style>'
    '<style:style style:name="struck-zeros" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N6">'
    '<style:text-properties style:text-line-through-style="solid"/></style:style>'
    '<style:style style:name="inherits" style:family="table-cell" style:parent-style-name="删除"/>'
    '<style:style style:name="unstruck" style:family="table-cell" style:parent-style-name="删除">'
    '<style:text-properties style:text-line-through-style="none"/></style:style>')
ODS_COMMON_STYLES = (
    '<style:style style:name="Default" style:family="table-cell"/>'
    '<style:style style:name="删除" style:family="table-cell" style:parent-style-name="Default">'
    '<style:text-properties style:text-line-through-style="solid"/></style:style>')

_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
           'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
           'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
           'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
           'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"')


def _ods_cell(value, covered: bool = False) -> str:
    element = "table:covered-table-cell" if covered else "table:table-cell"
    attrs, text = "", ""
    if isinstance(value, OdsCell):
        cell = value
        if cell.style:
            attrs += f' table:style-name="{escape(cell.style)}"'
        if cell.repeat > 1:
            attrs += f' table:number-columns-repeated="{cell.repeat}"'
        if cell.cols > 1 or cell.rows > 1:
            attrs += f' table:number-columns-spanned="{cell.cols}" table:number-rows-spanned="{cell.rows}"'
        if cell.formula:
            attrs += f' table:formula="of:{escape(cell.formula, {chr(34): "&quot;"})}"'
        if cell.error:
            calc = ' calcext:value-type="error"' if cell.calcext else ""
            return (f'<{element}{attrs} office:value-type="string" office:string-value=""{calc}>'
                    f'<text:p>{escape(cell.error)}</text:p></{element}>')
        if cell.formula and cell.value is None:
            return f"<{element}{attrs}/>"  # a formula a script wrote: no value, never calculated
        value = cell.value
        shown = cell.shown
    else:
        shown = None
    if value is None:
        return f"<{element}{attrs}/>"
    if isinstance(value, bool):
        attrs += f' office:value-type="boolean" office:boolean-value="{str(value).lower()}"'
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, (int, float)):
        attrs += f' office:value-type="float" office:value="{value}"'
        text = str(value)
    elif isinstance(value, dt.date):
        attrs += f' office:value-type="date" office:date-value="{value.isoformat()}"'
        text = value.isoformat()
    else:
        attrs += ' office:value-type="string"'
        text = str(value)
    if shown is not None:
        text = shown
    return f"<{element}{attrs}><text:p>{escape(text)}</text:p></{element}>"


def _ods_table(rows: list[list]) -> str:
    """The rows of one table; the cells a span covers are written as LibreOffice writes them
    (<table:covered-table-cell>), whatever the row gives there (None, or a hidden value)."""
    covered: set[tuple[int, int]] = set()
    out = []
    number = 0
    for row in rows:
        cells, col = [], 0
        for value in row:
            if isinstance(value, OdsCell) and (value.cols > 1 or value.rows > 1):
                covered.update((number + r, col + c) for r in range(value.rows) for c in range(value.cols)
                               if (r, c) != (0, 0))
            cells.append(_ods_cell(value, covered=(number, col) in covered))
            col += value.repeat if isinstance(value, OdsCell) else 1
        attrs = ""
        if isinstance(row, OdsRow):
            if row.style:
                attrs += f' table:default-cell-style-name="{escape(row.style)}"'
            if row.repeat > 1:
                attrs += f' table:number-rows-repeated="{row.repeat}"'
        number += row.repeat if isinstance(row, OdsRow) else 1
        out.append(f"<table:table-row{attrs}>{''.join(cells) or '<table:table-cell/>'}</table:table-row>")
    return "".join(out)


def ods(path: Path, sheets: list[tuple[str, list[list], bool]], *, columns: str = "", styles: bool = True) -> Path:
    """A minimal valid .ods: mimetype (stored, first), manifest, content.xml and styles.xml.
    ``sheets`` are (name, rows, hidden); ``columns`` are <table:table-column> elements each table
    starts with (a column's default cell style). The styles of ODS_STYLES may be named by cells."""
    tables = []
    for name, rows, hidden in sheets:
        style = ' table:style-name="hidden"' if hidden else ""
        tables.append(f'<table:table table:name="{escape(name)}"{style}>{columns}{_ods_table(rows)}</table:table>')
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
        '<office:automatic-styles><style:style style:name="hidden" style:family="table">'
        f'<style:table-properties table:display="false"/></style:style>{ODS_STYLES if styles else ""}</office:automatic-styles>'
        f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
        '</office:document-content>')
    common = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {_ODS_NS}>'
              f'<office:styles>{ODS_COMMON_STYLES if styles else ""}</office:styles></office:document-styles>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("styles.xml", common, zipfile.ZIP_DEFLATED)
    return path


# ---------------------------------------------------------------- text tables

def text_table(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",",
               bom: bool = False) -> Path:
    """Rows joined by the delimiter, cells quoted when they hold it, a quote or a line break."""
    def cell(value: str) -> str:
        value = str(value)
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "".join(delimiter.join(cell(v) for v in row) + "\r\n" for row in rows)
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding] + data
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- OLE2 compound files

_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal valid OLE2/CFB (version 3, 512-byte sectors) holding ``streams`` at its root.
    Each stream is padded to 4,096 bytes so that all live in regular sectors (no mini stream)."""
    names = list(streams)
    datas = [streams[n].ljust(4096, b"\0") for n in names]
    dir_sectors = (len(names) + 1 + 3) // 4
    sectors_of = [(len(d) + 511) // 512 for d in datas]
    total = 1 + dir_sectors + sum(sectors_of)
    assert total <= 128, "one FAT sector is enough for a fixture"
    fat = [_FREE] * 128
    fat[0] = _FAT
    for i in range(dir_sectors):
        fat[1 + i] = 2 + i if i < dir_sectors - 1 else _END
    starts, sector = [], 1 + dir_sectors
    for count in sectors_of:
        starts.append(sector)
        for k in range(count):
            fat[sector + k] = sector + k + 1 if k < count - 1 else _END
        sector += count

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, _FREE, right, child)
                + b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16 + struct.pack("<IQ", start, size))

    directory = entry("Root Entry", 5, _FREE, 1 if names else _FREE, _END, 0)
    for i, (name, data) in enumerate(zip(names, datas)):
        directory += entry(name, 2, i + 2 if i + 1 < len(names) else _FREE, _FREE, starts[i], len(data))
    directory = directory.ljust(dir_sectors * 512, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<109I", 0, *([_FREE] * 108)))
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + b"".join(d.ljust(-(-len(d) // 512) * 512, b"\0") for d in datas)


def encrypted_xlsx(path: Path) -> Path:
    """What Excel writes for an xlsx with a password to open: an OLE2 file with the
    EncryptionInfo and EncryptedPackage streams (here with agile-encryption-like bytes)."""
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><encryption/>'
    package = struct.pack("<Q", 12345) + bytes(range(256)) * 20
    path.write_bytes(compound_file({"EncryptionInfo": info, "EncryptedPackage": package}))
    return path


def encrypted_xls(path: Path) -> Path:
    """A BIFF8 workbook stream that starts BOF, FILEPASS (RC4): an .xls with a password to open."""
    bof = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHII", 0x0600, 0x0005, 0x1F12, 1997, 0x000100C1, 0x00000406)
    filepass = struct.pack("<HH", 0x002F, 54) + struct.pack("<HHH", 1, 1, 1) + bytes(range(48))
    eof = struct.pack("<HH", 0x000A, 0)
    path.write_bytes(compound_file({"Workbook": bof + filepass + eof}))
    return path
