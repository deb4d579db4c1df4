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


def xls(path: Path, rows: list[list], *, title: str = "Sheet1", hidden_sheet: str | None = None,
        merges: tuple[tuple[int, int, int, int], ...] = ()) -> Path:
    """A legacy .xls. Dates are written with a date format; ``merges`` are 0-based
    (first_row, last_row, first_col, last_col) as xlwt takes them."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(title)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    for first_row, last_row, first_col, last_col in merges:
        ws.merge(first_row, last_row, first_col, last_col)
    if hidden_sheet:
        other = wb.add_sheet(hidden_sheet)
        other.write(0, 0, "隐藏")
        other.visibility = 1
    wb.save(str(path))
    return path


# ---------------------------------------------------------------- ods (OpenDocument, by hand)

class OdsCell:
    """An ods cell with what a plain value cannot say: spans, an error value, a formula."""

    def __init__(self, value=None, *, cols: int = 1, rows: int = 1, error: str | None = None, formula: str | None = None):
        self.value, self.cols, self.rows, self.error, self.formula = value, cols, rows, error, formula


def _ods_cell(value) -> str:
    attrs, text = "", ""
    if isinstance(value, OdsCell):
        cell = value
        if cell.cols > 1 or cell.rows > 1:
            attrs += f' table:number-columns-spanned="{cell.cols}" table:number-rows-spanned="{cell.rows}"'
        if cell.formula:
            attrs += f' table:formula="of:{escape(cell.formula, {chr(34): "&quot;"})}"'
        if cell.error:
            return (f'<table:table-cell{attrs} office:value-type="string" office:string-value="" '
                    f'calcext:value-type="error"><text:p>{escape(cell.error)}</text:p></table:table-cell>')
        value = cell.value
    if value is None:
        return f"<table:table-cell{attrs}/>"
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
    return f"<table:table-cell{attrs}><text:p>{escape(text)}</text:p></table:table-cell>"


def ods(path: Path, sheets: list[tuple[str, list[list], bool]]) -> Path:
    """A minimal valid .ods: mimetype (stored, first), manifest, content.xml. ``sheets`` are
    (name, rows, hidden); a cell after a spanned one should be covered (write None)."""
    tables = []
    for name, rows, hidden in sheets:
        style = ' table:style-name="hidden"' if hidden else ""
        body = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
        tables.append(f'<table:table table:name="{escape(name)}"{style}>{body}</table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
        'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2">'
        '<office:automatic-styles><style:style style:name="hidden" style:family="table">'
        '<style:table-properties table:display="false"/></style:style></office:automatic-styles>'
        f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
        '</office:document-content>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
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
