"""Import of what the reader once lost outside an xlsx (issue 10): an .ods's merged cells,
number formats and struck-through rows; an .xls's error cells; a header centred across
selection instead of merged; and two new people of one name in two departments."""

import openpyxl
import pytest
from openpyxl.styles import Alignment

from mibao_desktop.excel.importer import REASON_HEADER, plan_import, run_import, write_refused
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.services.repository import LedgerQuery
from tests.spreadsheets import OdsCell, XlsError, ods, xls

COMPUTERS = LEDGERS["computers"]
HEADER = ["设备编号", "设备类型", "品牌型号", "密级", "定密时间", "使用人", "责任人", "部门", "硬盘序列号", "MAC地址", None]


def cells(n, *, number=None, department="保密办", macs=None, **over):
    values = {"设备编号": f"JM-{n:02d}" if number is None else number, "设备类型": "台式机", "品牌型号": "联想",
              "密级": "机密", "定密时间": "2019-03-05", "使用人": "张伟", "责任人": "张伟", "部门": department,
              "硬盘序列号": f"D{n}"}
    values.update(over)
    return list(values.values()) + list(macs or (f"00-1A-2B-3C-4D-{n:02d}", None))


def hand_kept_ods(path):
    """A unit's ods as LibreOffice/WPS keep it: a title over the table, MAC地址 over two columns,
    a department merged down over three computers, numbers shown 000012 by their format, a
    computer struck through by hand, and a row with a wrong MAC."""
    rows = [
        [OdsCell("2024年涉密计算机台账", cols=11)],  # 1
        [*HEADER[:9], OdsCell("MAC地址", cols=2)],  # 2
        cells(1, department=OdsCell("科研一处", rows=3), macs=("00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-11")),  # 3
        cells(2, department=None),  # 4
        cells(3, number=OdsCell(12, style="zeros", shown="000012"), department=None),  # 5
        [OdsCell(v, style="struck") for v in cells(4)],  # 6: deleted by hand
        cells(5, macs=("00-1A-2B-3C-4D",)),  # 7: a MAC cut short
    ]
    return ods(path, [("台账", rows, False)])


def test_a_hand_kept_ods_keeps_its_merged_cells_formats_and_struck_rows(service, tmp_path):
    path = hand_kept_ods(tmp_path / "台账.ods")
    plan = plan_import(COMPUTERS, path)
    assert plan.header_number == 2 and plan.headers[9:] == ["MAC地址", "MAC地址"]
    assert plan.flagged == {6: "整行有删除线(手工台账中通常表示已删除)"}
    preview = run_import(service, plan, dry_run=True)
    assert preview.accepted == 3 and [r.row for r in preview.left_out] == [6]
    assert [(r.row, r.column) for r in preview.refused] == [(7, "MAC地址、MAC地址")]
    assert any("第 3–5 行是合并单元格“科研一处”" in n.message and n.column == "部门" for n in preview.notes)
    assert any("按单元格格式读作文本(如 000012)" in n.message for n in preview.notes)
    report = run_import(service, plan)
    assert report.created == 3
    stored = {r.values["asset_number"]: r for r in service.query("computers", LedgerQuery()).rows}
    assert set(stored) == {"JM-01", "JM-02", "000012"}
    assert {r.values["department"] for r in stored.values()} == {"科研一处"}
    assert stored["JM-01"].values["mac_addresses"] == ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-11"]
    # the refused row in the file's own layout: title and header merged as in the ods
    fix = tmp_path / "未导入.xlsx"
    assert write_refused(plan, report, fix) == 1
    sheet = openpyxl.load_workbook(fix).active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:K1", "J2:K2"}
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][-1] == REASON_HEADER and rows[2][0] == "JM-05" and rows[2][-1].startswith("第 7 行:")
    again = plan_import(COMPUTERS, fix)
    assert again.headers[9:11] == ["MAC地址", "MAC地址"] and again.header.reason_column == 11


def test_an_xls_error_cell_refuses_its_row_as_an_xlsx_one_does(service, tmp_path):
    """calamine reads #N/A of an .xls as an empty cell: a row whose 备注 was an error came in
    without it, and one whose 品牌型号 was was refused as “必填” (the cell looked empty)."""
    path = xls(tmp_path / "台账.xls", [
        HEADER[:10] + ["备注"],
        cells(1)[:10] + ["三楼"],
        cells(2, 品牌型号=XlsError("#N/A"))[:10] + ["三楼"],
        cells(3)[:10] + [XlsError("#REF!", formula="A1+1")],  # =A1+1 once, its row since deleted
    ])
    plan = plan_import(COMPUTERS, path)
    report = run_import(service, plan)
    assert report.created == 1
    assert [(r.row, r.column) for r in report.refused] == [(3, "品牌型号"), (4, "备注")]
    assert "Excel 错误值“#N/A”" in report.refused[0].message and "#REF!" in report.refused[1].message
    fix = tmp_path / "未导入.xlsx"
    assert write_refused(plan, report, fix) == 2
    rows = list(openpyxl.load_workbook(fix).active.iter_rows(values_only=True))
    assert rows[1][2] == "#N/A" and rows[2][10] == "#REF!"  # the cell as the file had it, to correct


def _centred(path, rows, spans):
    """An xlsx whose cells in ``spans`` ("I1:J1") are centred across selection, not merged."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in rows:
        ws.append(line)
    for span in spans:
        for line in ws[span]:
            for cell in line:
                cell.alignment = Alignment(horizontal="centerContinuous")
    wb.save(path)
    return path


def test_a_header_centred_across_two_columns_heads_both(service, tmp_path):
    """MAC地址 centred across MAC1 and MAC2's columns (跨列居中, which a person reads as a merge):
    the second column had no header, and its MAC was dropped without a word."""
    path = _centred(tmp_path / "a.xlsx", [HEADER, cells(1, macs=("00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02")),
                                          cells(2, macs=("00-1A-2B-3C-4D-03", "00-1A-2B-3C-4D"))], ["J1:K1"])
    plan = plan_import(COMPUTERS, path)
    assert plan.mapping[9] == plan.mapping[10] == "mac_addresses"
    report = run_import(service, plan)
    assert report.created == 1 and [(r.row, r.column) for r in report.refused] == [(3, "MAC地址、MAC地址")]
    assert service.find("computers", "JM-01").values["mac_addresses"] == ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02"]
    fix = write_refused(plan, report, tmp_path / "未导入.xlsx") and tmp_path / "未导入.xlsx"
    assert {str(r) for r in openpyxl.load_workbook(fix).active.merged_cells.ranges} == {"J1:K1"}
    assert plan_import(COMPUTERS, fix).mapping[10] == "mac_addresses"  # the corrected file heads both again


def test_a_title_and_a_main_header_centred_across_do_not_move_the_header(service, tmp_path):
    """Centred across a title over the table, and 主表头 over their 子表头: the header was found
    without the spans (the sub-header names the fields) and is found the same with them."""
    top = ["设备编号", "设备信息", None, "密级", "定密时间", "人员", None, "部门", "硬盘序列号", "MAC地址"]
    sub = [None, "设备类型", "品牌型号", None, None, "使用人", "责任人", None, None, None]
    path = _centred(tmp_path / "a.xlsx", [["2024年涉密计算机台账"], top, sub, cells(1)[:10]], ["A1:J1", "B2:C2", "F2:G2"])
    plan = plan_import(COMPUTERS, path)
    assert (plan.header.position, plan.header.depth, plan.header_number) == (1, 2, 3)
    assert [plan.mapping[i] for i in range(10)] == [
        "asset_number", "device_type", "brand_model", "level", "classified_on", "user", "responsible_person",
        "department", "disk_serials", "mac_addresses"]
    assert (run_import(service, plan).created, service.find("computers", "JM-01").values["device_type"]) == (1, "台式机")


@pytest.mark.xfail(strict=True, reason="kept as one person for now: the department on a device's row is often not "
                   "its user's (a 科研一处 person using a 综合处 computer), and one person per department made a "
                   "100,000-row import create up to ten times the people (+35 MB, +6 s); to be decided with the "
                   "staff ledger (issue 14)")
def test_one_new_name_in_two_departments_is_two_new_people(service, tmp_path):
    """张伟 of 科研一处 and 张伟 of 综合处, neither in the register yet: the second row was given
    the person the first row added (one 张伟, of 科研一处, for both)."""
    path = _centred(tmp_path / "a.xlsx", [HEADER[:10], cells(1, department="科研一处")[:10],
                                          cells(2, department="综合处")[:10], cells(3, department="科研一处")[:10]], [])
    plan = plan_import(COMPUTERS, path)
    preview = run_import(service, plan, dry_run=True)
    assert preview.accepted == 3 and sorted(preview.people_added) == ["张伟", "张伟"]
    report = run_import(service, plan)
    assert report.created == 3 and sorted(report.people_added) == ["张伟", "张伟"]
    people = {p.values["department"]: p.id for p in service.query("people", LedgerQuery()).rows}
    assert set(people) == {"科研一处", "综合处"}
    by_number = {n: service.find("computers", n).values["user"].id for n in ("JM-01", "JM-02", "JM-03")}
    assert by_number == {"JM-01": people["科研一处"], "JM-02": people["综合处"], "JM-03": people["科研一处"]}
