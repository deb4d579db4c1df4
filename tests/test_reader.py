"""The spreadsheet reader on the files units really send: every format told by its bytes, the
text a formatted number shows, formulas, error values, struck rows, hidden sheets, and hostile
files refused in plain Chinese."""

import datetime as dt
import zipfile

import openpyxl
import pytest

from mibao_desktop.errors import Cancelled
from mibao_desktop.excel.reader import ErrorCell, FormulaCell, SpreadsheetError, read_sheets
from mibao_desktop.excel.xlsx_styles import text_format
from tests.spreadsheets import (OdsCell, OdsRow, XlsError, encrypted_xls, encrypted_xlsx, ods, replace_sheet_data,
                                rewrite_part, shared_strings_xlsx, text_table, xls, xlsx)

ROWS = [["设备编号", "密级", "责任人"], ["JM-01", "机密", "张伟"], ["JM-02", "秘密", "李娜"]]


def values(sheet):
    return {number: [v for v in cells] for number, cells in sheet.rows}


# ---------------------------------------------------------------- formats, by content

@pytest.mark.parametrize("name", ["a.xlsx", "a.xlsm", "a.xls", "a.ods", "a.et"])
def test_a_workbook_is_read_by_what_it_is_whatever_its_name(tmp_path, name):
    for source in (xlsx(tmp_path / "src.xlsx", ROWS), xls(tmp_path / "src.xls", ROWS),
                   ods(tmp_path / "src.ods", [("Sheet1", ROWS, False)])):
        path = tmp_path / name
        path.write_bytes(source.read_bytes())
        (sheet,) = read_sheets(path)
        assert sheet.rows == [(1, ROWS[0]), (2, ROWS[1]), (3, ROWS[2])], (source.name, name)


def test_values_keep_their_types_in_xlsx_xls_and_ods(tmp_path):
    row = ["文本", 12, 1.5, dt.datetime(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4), True]
    for path in (xlsx(tmp_path / "t.xlsx", [row]), xls(tmp_path / "t.xls", [row]),
                 ods(tmp_path / "t.ods", [("表", [row[:4] + [dt.date(2020, 1, 2), True]], False)])):
        (sheet,) = read_sheets(path)
        cells = sheet.rows[0][1]
        assert cells[:4] == ["文本", 12, 1.5, dt.date(2020, 1, 2)], path.name  # midnight → date
        assert type(cells[1]) is int and type(cells[3]) is dt.date
        assert cells[5] is True
    (sheet,) = read_sheets(tmp_path / "t.xlsx")
    assert sheet.rows[0][1][4] == dt.datetime(2020, 1, 2, 3, 4)


@pytest.mark.parametrize("encoding,bom,delimiter", [
    ("utf-8", False, ","), ("utf-8", True, ","), ("gb18030", False, ","), ("gbk", False, ";"),
    ("utf-16-le", True, "\t"), ("utf-16-be", True, ","), ("utf-8", True, ";"), ("gbk", False, "\t"),
])
def test_text_tables_in_every_encoding_and_delimiter(tmp_path, encoding, bom, delimiter):
    rows = [["某单位涉密计算机台账"], *ROWS, ["JM-03", "机密", "王芳,科研一处"], ["JM-04", "秘密", "赵六\n(借用)"]]
    for name in ("t.csv", "t.txt"):
        path = text_table(tmp_path / name, rows, encoding=encoding, delimiter=delimiter, bom=bom)
        (sheet,) = read_sheets(path)
        assert [cells for _n, cells in sheet.rows] == rows
        assert [n for n, _c in sheet.rows] == [1, 2, 3, 4, 5, 6]  # a quoted line break stays in its row


def test_wps_unicode_text_is_utf16le_with_tabs(tmp_path):
    path = tmp_path / "导出.txt"
    path.write_bytes("\ufeff设备编号\t密级\r\n000012\t机密\r\n".encode("utf-16-le"))
    (sheet,) = read_sheets(path)
    assert sheet.rows == [(1, ["设备编号", "密级"]), (2, ["000012", "机密"])]  # text stays text


def test_a_text_table_named_xlsx_is_read_as_text_and_said_so(tmp_path):
    path = tmp_path / "台账.xlsx"
    text_table(path, ROWS, encoding="gbk")
    (sheet,) = read_sheets(path)
    assert sheet.rows[1] == (2, ROWS[1])
    assert "实际是文本表格" in sheet.notes[0]


@pytest.mark.parametrize("content,message", [
    ("这不是表格".encode(), "不是有效的 Excel"),
    (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页"),
    (bytes(range(256)) * 8, "不是有效的 Excel"),
])
def test_what_is_not_a_workbook_is_refused_by_name(tmp_path, content, message):
    path = tmp_path / "x.xls"
    path.write_bytes(content)
    with pytest.raises(SpreadsheetError, match=message):
        read_sheets(path)


def test_binary_junk_named_csv_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(SpreadsheetError, match="不是文本表格"):
        read_sheets(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 400)
    with pytest.raises(SpreadsheetError, match="不是文本表格"):
        read_sheets(path)


# ---------------------------------------------------------------- every row, whatever the file says

def test_a_stale_dimension_does_not_hide_rows(tmp_path):
    path = xlsx(tmp_path / "d.xlsx", ROWS + [[f"JM-{i}", "秘密", "王"] for i in range(10, 60)])
    rewrite_part(path, "xl/worksheets/sheet1.xml",
                 lambda xml: xml.replace(b'<dimension ref="A1:C53"/>', b'<dimension ref="A1:C3"/>'))
    assert b'<dimension ref="A1:C3"/>' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    (sheet,) = read_sheets(path)
    assert len(sheet.rows) == 53 and sheet.rows[-1] == (53, ["JM-59", "秘密", "王"])


def test_row_numbers_are_the_files_own_when_the_table_starts_lower_and_to_the_right(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["C5"] = "设备编号"
    wb.active["D9"] = "JM-01"
    wb.save(tmp_path / "o.xlsx")
    (sheet,) = read_sheets(tmp_path / "o.xlsx")
    assert sheet.rows == [(5, [None, None, "设备编号", None]), (9, [None, None, None, "JM-01"])]


def test_row_numbers_of_a_xls_are_the_files_own_when_the_table_starts_lower(tmp_path):
    """(calamine gives a .xls's rows row by row from the sheet's first row, the grid from its
    first used row: the reader counts them against the range's height)"""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    ws.write(4, 2, "设备编号")
    ws.write(8, 3, "JM-01")
    ws.write(9, 2, 7)
    wb.save(str(tmp_path / "o.xls"))
    (sheet,) = read_sheets(tmp_path / "o.xls")
    assert sheet.rows == [(5, [None, None, "设备编号", None]), (9, [None, None, None, "JM-01"]),
                          (10, [None, None, 7, None])]


# ---------------------------------------------------------------- what a formatted number shows

def test_numbers_read_as_the_text_their_format_shows(tmp_path):
    path = xlsx(tmp_path / "f.xlsx", [["编号", "合同", "文本", "小数", "百分比", "日期", "前缀"],
                                      [12, 12, 345, 1.25, 0.5, dt.datetime(2021, 5, 6), 7]],
                formats={"A2": "000000", "B2": '"HT"00000', "C2": "@", "D2": "0.00", "E2": "0%",
                         "F2": "yyyy/m/d", "G2": "\\J\\M\\-000"})
    (sheet,) = read_sheets(path)
    assert sheet.rows[1][1] == ["000012", "HT00012", "345", 1.25, 0.5, dt.date(2021, 5, 6), "JM-007"]
    assert sheet.notes == ["4 个数字按单元格格式读作文本(如 000012)"]


def test_the_common_number_formats_render_like_excel():
    assert text_format("000000")(12) == "000012"
    assert text_format("000000")(1234567) == "1234567"
    assert text_format('"HT"00000')(12) == "HT00012"
    assert text_format('"GD-"0000"号"')(3) == "GD-0003号"
    assert text_format("00000;[Red]-00000")(-42) == "-00042"
    assert text_format("@")(12.0) == "12"
    assert text_format("@")(1.5) == "1.5"
    assert text_format("0000")(12.5) == "0013"  # Excel rounds half away from zero
    for plain in ("General", "0", "0.00", "#,##0", "0%", "yyyy-mm-dd", "[h]:mm", "0.00E+00"):
        assert text_format(plain) is None, plain


def test_rows_struck_through_are_told(tmp_path):
    path = xlsx(tmp_path / "s.xlsx", ROWS + [["JM-03", "机密", "王芳"]], struck_rows=(2, 4))
    wb = openpyxl.load_workbook(path)
    from openpyxl.styles import Font
    wb.active["C4"].font = Font(strike=False)  # one cell of row 4 not struck: the row is not
    wb.save(path)
    (sheet,) = read_sheets(path)
    assert sheet.struck == {2}
    assert "1 行整行带删除线" in sheet.notes


# ---------------------------------------------------------------- formulas and error values

def test_a_formula_with_a_cached_value_reads_as_the_value_and_one_without_is_refused(tmp_path):
    path = xlsx(tmp_path / "f.xlsx", [["a"]])
    replace_sheet_data(path, '<sheetData>'
                       '<row r="1"><c r="A1" t="str"><f>B1&amp;C1</f><v>JM-01</v></c><c r="B1"><v>5</v></c></row>'
                       '<row r="2"><c r="A2"><f>B1*2</f><v>10</v></c><c r="B2" t="str"><f>""</f><v></v></c></row>'
                       '<row r="3"><c s="0" r="A3"><f>B1&amp;"号"</f></c><c r="B3"><f t="shared" ref="B3:B4" si="0">A1&amp;B1</f><v></v></c></row>'
                       '<row r="4"><c r="B4"><f t="shared" si="0"/></c></row>'
                       '</sheetData>')
    (sheet,) = read_sheets(path)
    rows = values(sheet)
    assert rows[1] == ["JM-01", 5] and rows[2] == [10, None]
    assert rows[3] == ["=B1&\"号\"", "=A1&B1"] and all(type(v) is FormulaCell for v in rows[3])
    assert rows[4] == [None, "=A1&B1"]
    assert any("3 个公式单元格没有计算结果" in note for note in sheet.notes)


def test_formulas_written_by_openpyxl_are_refused(tmp_path):
    (sheet,) = read_sheets(xlsx(tmp_path / "o.xlsx", [["JM-01", "=A1&\"-1\""]]))
    assert sheet.rows == [(1, ["JM-01", FormulaCell('=A1&"-1"')])]
    assert isinstance(sheet.rows[0][1][1], FormulaCell)


def test_error_values_are_error_cells(tmp_path):
    path = xlsx(tmp_path / "e.xlsx", [["a"]])
    replace_sheet_data(path, '<sheetData><row r="1">'
                       '<c r="A1" t="e"><v>#N/A</v></c>'
                       '<c r="B1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
                       "<c r='C1' t='e'><v>#REF!</v></c>"
                       '<c t="e" r="D1"><v>#NAME?</v></c>'
                       '</row></sheetData>')
    (sheet,) = read_sheets(path)
    assert sheet.rows[0][1] == ["#N/A", "#DIV/0!", "#REF!", "#NAME?"]
    assert all(type(v) is ErrorCell for v in sheet.rows[0][1])
    # a text table keeps no types: Excel's error text is taken for the error it was
    (sheet,) = read_sheets(text_table(tmp_path / "e.csv", [["JM-01", "#N/A", "#VALUE!"]]))
    assert [type(v) for v in sheet.rows[0][1]] == [str, ErrorCell, ErrorCell]


def test_error_cells_of_xls_and_ods_are_error_cells(tmp_path):
    """calamine 0.9.1 reads the error cells of an .xls and an .ods as empty: the records
    (BOOLERR, a FORMULA whose result is an error) and content.xml say what they are."""
    (sheet,) = read_sheets(xls(tmp_path / "e.xls", [
        ["设备编号", "品牌型号", "序列号"],
        ["JM-01", XlsError("#N/A"), "SN-1"],
        ["JM-02", XlsError("#DIV/0!", formula="1/0"), XlsError("#REF!", formula="A1+1")],
        ["JM-03", True, 1.5],  # a boolean and a number are not errors
    ]))
    assert values(sheet)[2] == ["JM-01", "#N/A", "SN-1"] and values(sheet)[3] == ["JM-02", "#DIV/0!", "#REF!"]
    assert [type(v) for v in values(sheet)[3]] == [str, ErrorCell, ErrorCell]
    assert values(sheet)[4] == ["JM-03", True, 1.5]
    assert "3 个单元格是错误值(如 #N/A)" in sheet.notes
    (sheet,) = read_sheets(ods(tmp_path / "e.ods", [("S", [
        ["JM-01", OdsCell(error="#DIV/0!", formula="=1/0"), OdsCell(error="Err:502", formula="=SQRT(-1)")],
        ["JM-02", OdsCell(error="#N/A", formula="=NA()", calcext=False), OdsCell(formula="=A1&A2")],
        ["JM-03", "#N/A", 7],  # the text of an error value, as a csv has it: taken for the error too
    ], False)]))
    assert values(sheet)[1] == ["JM-01", "#DIV/0!", "Err:502"] and values(sheet)[2] == ["JM-02", "#N/A", "=A1&A2"]
    assert [type(v) for v in values(sheet)[1] + values(sheet)[2]] == [str, ErrorCell, ErrorCell, str, ErrorCell, FormulaCell]
    assert values(sheet)[3] == ["JM-03", "#N/A", 7] and type(values(sheet)[3][1]) is ErrorCell


# ---------------------------------------------------------------- escapes, sheets, merges

def test_xml_escapes_in_strings_are_decoded(tmp_path):
    path = shared_strings_xlsx(tmp_path / "x.xlsx", ["第一行_x000D_\n第二行", "字面_x005F_x000D_", "制表_x0009_符"])
    (sheet,) = read_sheets(path)
    assert [cells[0] for _n, cells in sheet.rows] == ["第一行\r\n第二行", "字面_x000D_", "制表\t符"]
    wb = openpyxl.Workbook()
    wb.active["A1"] = "内联_x000D_串"
    wb.save(tmp_path / "i.xlsx")
    assert read_sheets(tmp_path / "i.xlsx")[0].rows == [(1, ["内联\r串"])]


def test_hidden_sheets_are_marked_and_chart_sheets_skipped(tmp_path):
    from openpyxl.chart import BarChart, Reference
    wb = openpyxl.Workbook()
    wb.active.append(["设备编号"])
    wb.active.append([1])
    hidden = wb.create_sheet("旧表")
    hidden.append(["x"])
    hidden.sheet_state = "hidden"
    very = wb.create_sheet("参数")
    very.append(["y"])
    very.sheet_state = "veryHidden"
    chart = BarChart()
    chart.add_data(Reference(wb.active, min_col=1, min_row=2, max_row=2))
    wb.create_chartsheet("图").add_chart(chart)
    wb.save(tmp_path / "h.xlsx")
    sheets = read_sheets(tmp_path / "h.xlsx")
    assert [(s.name, s.hidden) for s in sheets] == [("Sheet", False), ("旧表", True), ("参数", True)]
    sheets = read_sheets(xls(tmp_path / "h.xls", ROWS, hidden_sheet="隐藏表"))
    assert [(s.name, s.hidden) for s in sheets] == [("Sheet1", False), ("隐藏表", True)]
    sheets = read_sheets(ods(tmp_path / "h.ods", [("甲", ROWS, False), ("乙", ROWS, True)]))
    assert [(s.name, s.hidden) for s in sheets] == [("甲", False), ("乙", True)]


def test_merged_ranges_in_file_row_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某单位台账"])
    ws.append(ROWS[0])
    ws.append(ROWS[1])
    ws.append(["JM-02", None, "李娜"])
    ws.merge_cells("A1:C1")
    ws.merge_cells("B3:B4")
    wb.save(tmp_path / "m.xlsx")
    (sheet,) = read_sheets(tmp_path / "m.xlsx")
    assert sorted(sheet.merged) == [(1, 0, 1, 2), (3, 1, 4, 1)]
    (sheet,) = read_sheets(xls(tmp_path / "m.xls", [["某单位台账"], *ROWS[:2], ["JM-02", None, "李娜"]], merges=((0, 0, 0, 2), (2, 3, 1, 1))))
    assert sorted(sheet.merged) == [(1, 0, 1, 2), (3, 1, 4, 1)]


def test_centre_across_selection_is_read_as_a_merge(tmp_path):
    """跨列居中 (centerContinuous, no merge): a text over the empty cells to its right that are
    centred across too shows over all of them; it is taken as merged over them."""
    from openpyxl.styles import Alignment

    across = Alignment(horizontal="centerContinuous")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某单位台账"])
    ws.append(["设备编号", "MAC地址", None, "备注", "x", "y", None])
    ws.append(["JM-01", "00-1A", "00-1B", "三楼"])
    for ref in ("A1", "B1", "C1", "D1", "B2", "C2", "E2", "F2"):
        ws[ref].alignment = across  # E2 spans nothing (F2 has text), nor F2 (G2 is centred, not across)
    ws["G2"].alignment = Alignment(horizontal="center")
    wb.save(tmp_path / "c.xlsx")
    (sheet,) = read_sheets(tmp_path / "c.xlsx")
    assert sorted(sheet.merged) == [(1, 0, 1, 3), (2, 1, 2, 2)]
    assert values(sheet)[2] == ["设备编号", "MAC地址", None, "备注", "x", "y"]  # the cells are as they were
    # the same in a legacy .xls (XF alignment 6), the empty cells written as BLANK records
    rows = [["某单位台账"], ["设备编号", "MAC地址", None, "备注", "x", "y", None], ["JM-01", "00-1A", "00-1B", "三楼"]]
    centred = "align: horiz centre_across_selection"
    styles = {(0, c): centred for c in range(4)} | {(1, c): centred for c in (1, 2, 4, 5)} | {(1, 6): "align: horiz centre"}
    (sheet,) = read_sheets(xls(tmp_path / "c.xls", rows, styles=styles))
    assert sorted(sheet.merged) == [(1, 0, 1, 3), (2, 1, 2, 2)]


def test_ods_merged_cells_are_merged_ranges_as_in_an_xlsx(tmp_path):
    """calamine gives no merged ranges for an .ods: a title over the table, MAC地址 over two
    columns and a department merged down were read as their first cell only."""
    rows = [
        OdsRow(repeat=2),  # two empty rows above, written once (rows 1-2)
        [OdsCell("某单位涉密计算机台账", cols=4)],  # row 3
        ["设备编号", "所在部门", OdsCell("MAC地址", cols=2)],  # row 4
        ["JM-01", OdsCell("科研一处", rows=2), "00-1A", "00-1B"],
        ["JM-02", None, "00-1C", None],
        [OdsCell("JM-03", repeat=2), "00-1D"],  # identical neighbours written once
    ]
    (sheet,) = read_sheets(ods(tmp_path / "m.ods", [("台账", rows, False)]))
    assert sorted(sheet.merged) == [(3, 0, 3, 3), (4, 2, 4, 3), (5, 1, 6, 1)]
    assert [n for n, _ in sheet.rows] == [3, 4, 5, 6, 7]
    assert values(sheet)[7][:3] == ["JM-03", "JM-03", "00-1D"]
    # the same table in an xlsx reads the same
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in ([], [], ["某单位涉密计算机台账"], ["设备编号", "所在部门", "MAC地址"], ["JM-01", "科研一处", "00-1A", "00-1B"],
                 ["JM-02", None, "00-1C"], ["JM-03", "JM-03", "00-1D"]):
        ws.append(line)
    for cells in ("A3:D3", "C4:D4", "B5:B6"):
        ws.merge_cells(cells)
    wb.save(tmp_path / "m.xlsx")
    (twin,) = read_sheets(tmp_path / "m.xlsx")
    assert sorted(twin.merged) == sorted(sheet.merged)
    assert twin.rows == sheet.rows


def test_ods_numbers_read_as_the_text_their_format_shows(tmp_path):
    rows = [
        ["设备编号", "合同号", "数量"],
        [OdsCell(12, style="zeros", shown="000012"), OdsCell(12, style="contract", shown="HT00012"),
         OdsCell(1234567, style="grouped", shown="1,234,567")],
        # a generator that wrote the bare number as the cell's text: the format still shows 000013
        [OdsCell(13, style="zeros"), OdsCell(13, style="contract", shown=""), OdsCell(7, style="grouped")],
        OdsRow([OdsCell(14, shown="14"), 5], style="zeros"),  # the row's default style
    ]
    (sheet,) = read_sheets(ods(tmp_path / "f.ods", [("S", rows, False)]))
    assert values(sheet)[2] == ["000012", "HT00012", 1234567]  # thousands are a number shown, not text
    assert values(sheet)[3] == ["000013", "HT00013", 7]
    assert values(sheet)[4] == ["000014", "000005", None]
    assert "6 个数字按单元格格式读作文本(如 000012)" in sheet.notes
    # a column whose default cell style has the format
    columns = '<table:table-column table:default-cell-style-name="zeros"/><table:table-column table:number-columns-repeated="2"/>'
    (sheet,) = read_sheets(ods(tmp_path / "c.ods", [("S", [[12, 12], [OdsCell(3, style="grouped"), 4]], False)],
                               columns=columns))
    assert values(sheet) == {1: ["000012", 12], 2: [3, 4]}


def test_ods_rows_struck_through_are_told(tmp_path):
    struck = OdsCell("JM-02", style="struck")
    rows = [
        ROWS[0],
        ROWS[1],
        [struck, OdsCell("秘密", style="struck"), OdsCell("李娜", style="inherits")],  # 2: all struck (one by its parent)
        [OdsCell("JM-03", style="struck"), "机密", OdsCell("王芳", style="struck")],  # 4: one cell not
        [OdsCell("JM-04", style="struck"), OdsCell("机密", style="unstruck"), None],  # 5: the parent's strike undone
        OdsRow(["JM-05", "机密", "赵六"], style="struck"),  # 6: the row's default style
        [OdsCell(6, style="struck-zeros"), OdsCell(None, style="struck"), OdsCell("周七", style="struck")],  # 7
    ]
    (sheet,) = read_sheets(ods(tmp_path / "s.ods", [("S", rows, False)]))
    assert sheet.struck == {3, 6, 7}
    assert values(sheet)[7][0] == "000006"
    assert "3 行整行带删除线" in sheet.notes
    # a column struck through by its default style strikes the rows whose cells are all in it
    columns = '<table:table-column table:default-cell-style-name="struck"/><table:table-column/>'
    (sheet,) = read_sheets(ods(tmp_path / "c.ods", [("S", [["JM-01"], ["JM-02", "机密"]], False)], columns=columns))
    assert sheet.struck == {1}


def test_an_ods_whose_attributes_are_spelled_otherwise_is_read_alike(tmp_path):
    """attr = 'value' (single quotes, spaces around =) as some generators write: the scan that
    looks for LibreOffice's spelling first finds these too."""
    import re

    rows = [OdsRow(repeat=2), [OdsCell("标题", cols=3)],
            ["设备编号", OdsCell("科研一处", rows=2), OdsCell(12, style="zeros", shown="000012")],
            ["JM-02", None, OdsCell(error="#N/A", formula="=NA()")],
            [OdsCell("JM-03", style="struck"), OdsCell("综合处", style="inherits")]]
    path = ods(tmp_path / "o.ods", [("S", rows, False)])
    (plain,) = read_sheets(path)
    rewrite_part(path, "content.xml", lambda xml: re.sub(rb'(\s[\w-]+:[\w.-]+)="([^"]*)"', rb"\1 = '\2'", xml))
    assert b"table:number-rows-spanned = '2'" in zipfile.ZipFile(path).read("content.xml")
    (odd,) = read_sheets(path)
    assert values(odd) == values(plain) == {3: ["标题", None, None], 4: ["设备编号", "科研一处", "000012"],
                                            5: ["JM-02", None, "#N/A"], 6: ["JM-03", "综合处", None]}
    assert sorted(odd.merged) == sorted(plain.merged) == [(3, 0, 3, 2), (4, 1, 5, 1)]
    assert odd.struck == plain.struck == {6}


def test_an_ods_as_libreoffice_writes_it_reads_as_the_xlsx_it_came_from(tmp_path, libreoffice_profile):
    """An xlsx with every such thing, saved as .ods and .xls by LibreOffice itself: the three
    read alike (namespaces, repeated cells and rows, styles as LibreOffice writes them)."""
    import shutil
    import subprocess

    from openpyxl.styles import Alignment, Font

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice Calc is installed by scripts/setup test")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    for line in (["某单位涉密计算机台账"], ["设备编号", "密级", "责任人", "所在部门", "MAC地址", None],
                 [12, "机密", "张伟", "科研一处", "00-1A", "00-1B"], [13, "机密", "李娜", None, "00-1C", None],
                 [14, "秘密", "王芳", "综合处", "00-1D", None], [15, "秘密", "王芳", "综合处", "=1/0", 1234567],
                 [15, "秘密", "王芳", "综合处", "=NA()", 1234567]):
        ws.append(line)
    for cells in ("A1:F1", "D3:D4", "E2:F2"):
        ws.merge_cells(cells)
    for r in range(3, 6):
        ws[f"A{r}"].number_format = "000000"
    ws["A6"].number_format = '"HT"00000'
    ws["F6"].number_format = "#,##0"
    for cell in ws[5]:
        cell.font = Font(strike=True)
    ws["A2"].alignment = Alignment(horizontal="center")
    source = tmp_path / "源.xlsx"
    wb.save(source)
    for kind in ("ods", "xls"):
        subprocess.run([soffice, "--headless", "--norestore", libreoffice_profile,
                        "--convert-to", kind, "--outdir", str(tmp_path), str(source)],
                       check=True, capture_output=True, timeout=180)
    expected = {1: ["某单位涉密计算机台账", None, None, None, None, None],
                2: ["设备编号", "密级", "责任人", "所在部门", "MAC地址", None],
                3: ["000012", "机密", "张伟", "科研一处", "00-1A", "00-1B"],
                4: ["000013", "机密", "李娜", None, "00-1C", None],
                5: ["000014", "秘密", "王芳", "综合处", "00-1D", None],
                6: ["HT00015", "秘密", "王芳", "综合处", "#DIV/0!", 1234567],
                7: [15, "秘密", "王芳", "综合处", "#N/A", 1234567]}
    for name in ("源.ods", "源.xls"):
        (sheet,) = read_sheets(tmp_path / name)
        assert values(sheet) == expected, name
        assert type(values(sheet)[6][4]) is ErrorCell and type(values(sheet)[7][4]) is ErrorCell
        assert sorted(sheet.merged) == [(1, 0, 1, 5), (2, 4, 2, 5), (3, 3, 4, 3)], name
        assert sheet.struck == {5}, name


# ---------------------------------------------------------------- refusals

def test_encrypted_workbooks_are_refused_with_what_to_do(tmp_path):
    for path in (encrypted_xlsx(tmp_path / "密.xlsx"), encrypted_xls(tmp_path / "密.xls")):
        with pytest.raises(SpreadsheetError) as caught:
            read_sheets(path)
        assert str(caught.value) == f"“{path.name}”文件有密码保护,请先在 Excel/WPS 中去掉密码后再导入。"


@pytest.mark.parametrize("damage", [
    lambda xml: xml[: len(xml) // 2],  # cut mid-tag
    lambda xml: xml[: xml.index(b"</row>") + 6],  # cut after a row: rows would silently be lost
    lambda xml: b"\x00\xff\xfe" + xml[3:],
])
def test_a_damaged_sheet_is_named(tmp_path, damage):
    path = xlsx(tmp_path / "坏.xlsx", ROWS)
    rewrite_part(path, "xl/worksheets/sheet1.xml", damage)
    with pytest.raises(SpreadsheetError, match="工作表“Sheet1”的内容已损坏.*请在 Excel/WPS 中打开后另存"):
        read_sheets(path)


def test_other_refusals(tmp_path, zip_bomb):
    openpyxl.Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(SpreadsheetError, match="没有任何数据"):
        read_sheets(tmp_path / "empty.xlsx")
    with pytest.raises(SpreadsheetError, match="过大"):
        read_sheets(zip_bomb)
    with zipfile.ZipFile(tmp_path / "doc.xlsx", "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(SpreadsheetError, match="Word/PowerPoint"):
        read_sheets(tmp_path / "doc.xlsx")
    with zipfile.ZipFile(tmp_path / "zip.xlsx", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(SpreadsheetError, match="不是有效的 Excel"):
        read_sheets(tmp_path / "zip.xlsx")
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(SpreadsheetError, match="不支持的文件类型"):
        read_sheets(tmp_path / "x.pdf")
    with pytest.raises(SpreadsheetError, match="找不到文件"):
        read_sheets(tmp_path / "none.xlsx")
    (tmp_path / "empty.csv").write_bytes(b"\xef\xbb\xbf,,\r\n ,\r\n")
    with pytest.raises(SpreadsheetError, match="没有任何数据"):
        read_sheets(tmp_path / "empty.csv")


def test_progress_per_sheet_and_cancel(tmp_path):
    path = xls(tmp_path / "p.xls", ROWS, hidden_sheet="二")
    seen = []
    read_sheets(path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
    with pytest.raises(Cancelled):
        read_sheets(path, cancelled=lambda: True)


def test_the_scan_finds_cells_whatever_the_attribute_order_prefix_or_missing_references(tmp_path):
    import re

    path = xlsx(tmp_path / "p.xlsx", [[1]], formats={"A1": "000000"})  # cellXfs 1 is 000000
    replace_sheet_data(path, '<sheetData><row r="1"><c s="1" r="A1"><v>12</v></c>'
                       '<c t="e" r="B1"><v>#N/A</v></c></row>'
                       '<row r="3"><c s="1"><v>7</v></c><c><f>A1</f></c><c s="1" t="n"><v>8</v></c></row></sheetData>')
    (sheet,) = read_sheets(path)
    assert sheet.rows == [(1, ["000012", "#N/A", None]), (3, ["000007", '=A1', "000008"])]
    # the same with every element prefixed (<x:c>), as some generators write
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        rb"<(/?)(?=[a-zA-Z])", rb"<\1x:", xml).replace(b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x="))
    assert b"<x:c " in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    (sheet,) = read_sheets(path)
    assert sheet.rows == [(1, ["000012", "#N/A", None]), (3, ["000007", '=A1', "000008"])]
