"""Excel export and import on real files: round trip, messy hand-kept sheets, hostile input."""

import datetime as dt

import openpyxl
import pytest

from mibao_desktop.excel import SpreadsheetError, export_ledger, import_ledger
from mibao_desktop.ledgers import LEDGERS, top_level
from mibao_desktop.errors import Cancelled
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer, medium

COMPUTERS = LEDGERS["computers"]


def workbook(path, rows, title=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.append(["填报单位:某研究所", None, "填报日期:2025年1月"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


HEADER = ["序号", "设备编号", "品牌型号", "密级", "定密日期", "使用人", "责任人", "所在部门", "硬盘序号", "物理地址"]


def test_export_then_import_changes_nothing(service, tmp_path, db):
    service.create("computers", computer(remarks="=SUM(A1:A2) 不是公式", protection="三合一、主机审计",
                                         mac_addresses="00-1A-2B-3C-4D-5E\n00-1A-2B-3C-4D-5F"))
    service.create("computers", computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2;D3",
                                         mac_addresses="AA-00-00-00-00-02", user="-李娜", start_date="2020.1.2"))
    out = tmp_path / "台账.xlsx"
    assert export_ledger(service, COMPUTERS, out) == 2
    before = [dict(r.values) for r in service.query("computers", LedgerQuery()).rows]

    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == "机密★"  # the highest level in the data marks the report
    assert ws["A2"].value == "涉密计算机台账" and ws["A3"].value.startswith("填报单位:")
    assert [c.value for c in ws[4]][:4] == ["序号", "设备编号", "设备类型", "品牌型号"]
    assert ws.freeze_panes == "A5" and ws.auto_filter.ref == "A4:T6"
    assert ws.print_title_rows == "$2:$4" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert "机密★" in ws.oddHeader.left.text and "机密★" in ws.oddFooter.left.text
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    date_col = [c.value for c in ws[4]].index("定密时间") + 1
    assert isinstance(ws.cell(5, date_col).value, dt.datetime)

    for r in service.query("computers", LedgerQuery()).rows:
        service.void(r.id, "测试导入")
    report = import_ledger(service, COMPUTERS, out)  # the title, 填报单位 and 填表人 lines are not records
    assert (report.created, report.refused, report.header_row) == (2, [], 4)
    after = [dict(r.values) for r in service.query("computers", LedgerQuery()).rows]
    assert after == before


def test_hand_kept_sheet_with_title_synonyms_and_spellings(service, tmp_path):
    path = workbook(tmp_path / "旧台账.xlsx", [
        HEADER,
        [1, "JM-01", "联想 M720", "机密级", "2019.3.5", "张伟", "张伟", "保密办", "WD1；WD2", "00:1a:2b:3c:4d:5e"],
        [2, "JM-02", "华为", "秘 密", "2019年3月6日", "李娜", "李娜", "科研一处", "WD3", "001a.2b3c.4d60\n001a.2b3c.4d61"],
        [3, "ＪＭ－０３", "浪潮", "秘密★", dt.datetime(2019, 3, 7), "王芳", "王芳", "办公室", "WD4", "00-1A-2B-3C-4D-62"],
        [4, "JM-04", "长城", "绝密", 43531, "赵六", "赵六", "财务处", "WD5", "00-1A-2B-3C-4D-63"],
        [None] * 10,
        ["制表人:张伟", None, None, "审核人:", None],
    ], title="2024年度涉密计算机台账")
    report = import_ledger(service, COMPUTERS, path)
    assert report.refused == []
    assert (report.created, report.header_row, report.skipped_rows) == (4, 3, [9])
    rows = {r.asset_number: r for r in service.query("computers", LedgerQuery()).rows}
    assert rows["JM-01"].values["disk_serials"] == ["WD1", "WD2"]
    assert rows["JM-02"].values["mac_addresses"] == ["00-1A-2B-3C-4D-60", "00-1A-2B-3C-4D-61"]
    assert rows["JM-02"].values["classified_on"] == dt.date(2019, 3, 6)
    assert rows["JM-03"].values["level"] == "秘密"
    assert rows["JM-04"].values["classified_on"] == dt.date(2019, 3, 7)  # Excel serial 43531
    assert rows["JM-01"].values["department"] == "保密办"


def test_bad_rows_are_named_by_row_and_column_and_good_rows_stored(service, tmp_path):
    service.create("computers", computer(asset_number="JM-EXIST", serial_number="E", disk_serials="E",
                                         mac_addresses="EE-00-00-00-00-01"))
    path = workbook(tmp_path / "a.xlsx", [
        HEADER,
        [1, "JM-01", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01"],
        [2, "JM-01", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D2", "00-1A-2B-3C-4D-02"],
        [3, "jm-exist", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D3", "00-1A-2B-3C-4D-03"],
        [4, "JM-04", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D4", "00-1A-2B-3C-4D"],
        [5, "JM-05", "=HYPERLINK(\"http://x\")", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D5", "00-1A-2B-3C-4D-05"],
        [6, "JM-06", "联想", "机密", "2019-03-05", "张" * 10000, "张伟", "保密办", "D6", "00-1A-2B-3C-4D-06"],
        [7, "JM-07", "联想", "机密", "下周", "张伟", "张伟", "保密办", "D7", "00-1A-2B-3C-4D-07"],
    ])
    report = import_ledger(service, COMPUTERS, path)
    found = {(r.row, r.column): r.message for r in report.refused}
    assert found[(3, "设备编号")] == "与第 2 行重复"  # the file's own row numbers
    assert "JM-EXIST" in found[(4, "设备编号")]
    assert "MAC" in found[(5, "物理地址")]
    assert "公式" in found[(6, "品牌型号")]
    assert "最多 20 个字" in found[(7, "使用人")]
    assert "日期" in found[(8, "定密日期")]
    assert str(report.refused[0]).startswith("第 3 行 [设备编号]")
    assert report.created == 1 and report.refused_rows == 6
    assert [r.asset_number for r in service.query("computers", LedgerQuery()).rows] == ["JM-01", "JM-EXIST"]


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(service, tmp_path):
    path = workbook(tmp_path / "a.xlsx", [
        HEADER,
        [1, "JM-01", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01"],
        [2, "JM-02", "=1+1", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D2", "00-1A-2B-3C-4D-02"],
    ])
    report = import_ledger(service, COMPUTERS, path, all_or_nothing=True)
    assert report.created == 0 and report.refused_rows == 1
    assert service.count("computers") == 0


def test_gbk_and_bom_csv(service, tmp_path):
    text = "介质编号,介质类型,品牌型号,密级,责任人,使用部门\nU-1,U盘,金士顿,秘密,李娜,科研一处\nU-2,光盘,铼德,机密级,王芳,办公室\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "bom.csv").write_bytes(text.replace("U-", "V-").encode("utf-8-sig"))
    assert import_ledger(service, LEDGERS["media"], tmp_path / "gbk.csv").created == 2
    assert import_ledger(service, LEDGERS["media"], tmp_path / "bom.csv").created == 2
    assert service.find("media", "U-2").values["level"] == "机密"


@pytest.mark.parametrize("maker,message", [
    (lambda p: p.write_text("这不是表格"), "不是有效的 Excel"),
    (lambda p: openpyxl.Workbook().save(p), "没有任何数据"),
    (lambda p: workbook(p, [["甲", "乙"], [1, 2]]), "找不到涉密计算机台账的表头"),
    # a column the unit never kept comes in 待补充 (issue 18); only the number cannot wait
    (lambda p: workbook(p, [["品牌型号", "使用人", "密级"], ["B", "C", "机密"]]), "缺少必需的列:设备编号"),
])
def test_unreadable_files_get_a_clear_error_and_change_nothing(service, tmp_path, maker, message):
    path = tmp_path / "x.xlsx"
    maker(path)
    with pytest.raises(SpreadsheetError, match=message):
        import_ledger(service, COMPUTERS, path)
    assert service.count("computers") == 0


def test_zip_bomb_is_refused_before_unpacking(service, zip_bomb):
    with pytest.raises(SpreadsheetError, match="过大"):
        import_ledger(service, COMPUTERS, zip_bomb)


def test_cancelled_export_leaves_no_file(service, tmp_path):
    service.create("media", medium())
    out = tmp_path / "out.xlsx"
    with pytest.raises(Cancelled):
        export_ledger(service, LEDGERS["media"], out, cancelled=lambda: True)
    assert list(tmp_path.glob("*.xlsx*")) + list(tmp_path.glob(".mibao-export-*")) == []


def test_rows_past_the_sheet_limit_continue_on_a_further_sheet(service, tmp_path):
    from mibao_desktop.demo import computer_rows

    service.create_many("computers", list(computer_rows(5)))
    out = tmp_path / "long.xlsx"
    assert export_ledger(service, COMPUTERS, out, max_rows=6, marking="秘密") == 5  # 4 heading rows + 2 records a sheet
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["涉密计算机台账", "涉密计算机台账(续1)", "涉密计算机台账(续2)"]
    rows = [row for ws in wb.worksheets for row in ws.iter_rows(min_row=5, values_only=True) if row[1]]
    assert [r[1] for r in rows] == sorted(r["asset_number"] for r in computer_rows(5))
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]  # 序号 counted on across the sheets
    assert all(ws["A1"].value == "秘密★" and ws[4][1].value == "设备编号" for ws in wb.worksheets)
    assert str(wb.worksheets[-1].cell(wb.worksheets[-1].max_row, 1).value).startswith("填表人:")  # under the last


def test_the_annual_report_summarises_the_year(service, tmp_path):
    from mibao_desktop.excel import export_annual_report
    from tests.conftest import medium

    a = service.create("computers", computer(start_date=dt.date.today().replace(month=1, day=1)))
    b = service.create("computers", computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2",
                                             mac_addresses="AA-00-00-00-00-02", level="秘密"))
    service.create("media", medium())
    service.change_status(a.id, "报废", reason="超过使用年限")
    service.change_status(a.id, "已销毁", reason="送销毁")
    service.void(b.id, "重复登记")
    out = tmp_path / "年度.xlsx"
    year = dt.date.today().year
    listed = export_annual_report(service, year, out, marking="机密", unit="某研究所")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总", "载体年度汇总", "培训学时", "自查自评", *[l.title for l in top_level()], "本年变更"]
    summary = wb["汇总"]
    header = [str(c.value).replace("\n", "") for c in summary[5]]
    rows, ledger = {}, None
    for r in summary.iter_rows(min_row=6, values_only=True):
        ledger = r[0] or ledger
        if r[1]:
            rows[(ledger, r[1])] = dict(zip(header[2:], r[2:]))
    computers = rows[("涉密计算机台账", "小计")]
    assert computers["合计"] == 1 and rows[("涉密计算机台账", "机密")]["已销毁"] == 1
    # 本年新增 by 启用日期: only the record in service this year (the voided one is not counted)
    assert (computers["本年新增"], computers["本年报废"], computers["本年销毁"], computers["本年作废"]) == (1, 1, 1, 1)
    assert summary["A1"].value == "机密★" and "某研究所" in summary["A3"].value
    changes = [c[1:] for c in wb["本年变更"].iter_rows(min_row=5, values_only=True) if c[2] and c[2] != "人员名册"]
    assert [c[3] for c in changes] == ["登记", "登记", "登记", "状态变更", "状态变更", "作废"]
    assert "在用 → 报废" in changes[3][4] and changes[3][5] == "超过使用年限"
    # the people named (张伟, 李娜) were added to the register: it keeps no in-service date
    assert rows[("人员名册", "—")]["本年新增"] == "—"
    assert listed == 2 + 2  # records on the ledger sheets (the voided one is not listed)


def test_merged_cells_and_wrong_types_are_named(service, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某研究所涉密计算机台账"])
    ws.merge_cells("A1:J1")  # a merged title over the table
    ws.append(HEADER)
    ws.append([1, "JM-01", "联想", "机密", dt.datetime(2019, 3, 5), "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01"])
    ws.append([2, 12345, "联想", "机密", 43531, "张伟", "张伟", "保密办", "D2", "00-1A-2B-3C-4D-02"])  # numbers
    ws.append([3, "JM-03", "联想", True, "2019-03-05", "张伟", "张伟", "保密办", "D3", "00-1A-2B-3C-4D-03"])  # a bool
    ws.append([4, "JM-04", "联想", "机密", "2019-03-05", "张伟", "张伟", None, "D4", "00-1A-2B-3C-4D-04"])
    ws.merge_cells("H5:H6")  # a department merged over two rows: the second row has it empty
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    report = import_ledger(service, COMPUTERS, path)
    found = {(r.row, r.column): r.message for r in report.refused}
    assert found[(5, "密级")] == "密级“True”无法识别,应为:绝密、机密、秘密"
    assert (6, "所在部门") not in found  # merged down: row 6 has the department of row 5
    assert service.find("computers", "JM-04").values["department"] == "保密办"
    assert any(n.row == 5 and "合并单元格" in n.message for n in report.notes)
    assert service.find("computers", "12345").values["classified_on"] == dt.date(2019, 3, 7)
    assert report.created == 3


def test_the_user_maps_a_column_by_hand_and_it_is_remembered(service, tmp_path):
    from mibao_desktop.excel.importer import plan_import, run_import

    path = workbook(tmp_path / "odd.xlsx", [
        ["编号", "机型", "密级", "定密日期", "使用人", "责任人", "部门", "盘号", "网卡号"],
        ["JM-01", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01"],
    ])
    plan = plan_import(COMPUTERS, path)
    assert set(plan.missing_required()) == {"品牌型号", "硬盘序列号", "MAC地址"}
    unmapped = run_import(service, plan, dry_run=True)  # would come in 待补充 (issue 18), until mapped by hand
    assert unmapped.pending == {"品牌型号": 1, "硬盘序列号": 1, "MAC地址": 1} and unmapped.refused == []
    plan.set_column(1, "brand_model")
    plan.set_column(7, "disk_serials")
    plan.set_column(8, "mac_addresses")
    preview = run_import(service, plan, dry_run=True)
    assert (preview.accepted, preview.created, preview.refused, preview.pending) == (1, 0, [], {})
    assert service.count("computers") == 0  # the preview stores nothing
    service.save_import_mapping(COMPUTERS, plan.mapping_to_save())
    again = plan_import(COMPUTERS, path, service.import_mapping(COMPUTERS))
    assert again.mapping == plan.mapping and again.missing_required() == []
    assert import_ledger(service, COMPUTERS, path).created == 1  # the command line uses the saved mapping too


def test_refused_rows_are_saved_to_fix_and_import_again(service, tmp_path):
    from mibao_desktop.excel.importer import REASON_HEADER, plan_import, run_import, write_refused

    path = workbook(tmp_path / "a.xlsx", [
        HEADER,
        [1, "JM-01", "联想", "机密", "2019-03-05", "张伟", "张伟", "保密办", "D1", "00-1A-2B-3C-4D-01"],
        [2, "JM-02", "联想", "机密", "2019-03-05", "李娜", "李娜", "保密办", "D2", "00-1A-2B-3C-4D"],
        [3, "JM-03", "联想", "绝密级", "明天", "王强", "王强", "保密办", "D3", "00-1A-2B-3C-4D-03"],
    ], title="涉密计算机台账")
    plan = plan_import(COMPUTERS, path)
    report = run_import(service, plan)
    assert report.created == 1 and report.refused_rows == 2
    fix = tmp_path / "未导入.xlsx"
    assert write_refused(plan, report, fix) == 2
    ws = openpyxl.load_workbook(fix).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "涉密计算机台账" and rows[1][0] == "填报单位:某研究所"  # the title rows as the file has them
    assert list(rows[2]) == HEADER + [REASON_HEADER]
    assert rows[3][1] == "JM-02" and "第 5 行" in rows[3][-1] and "物理地址" in rows[3][-1]
    ws.cell(4, 10).value = "00-1A-2B-3C-4D-02"
    ws.cell(5, 5).value = "2019-03-07"  # the user corrects the two cells and saves
    ws.parent.save(fix)
    second = import_ledger(service, COMPUTERS, fix)
    assert (second.created, second.refused) == (2, [])
    assert service.count("computers") == 3


def test_exported_files_open_in_libreoffice_with_values_intact(service, tmp_path, libreoffice_profile):
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice Calc is installed by scripts/setup test")
    service.create("computers", computer(remarks="=SUM(A1:A2) 不是公式", user="-李娜"))
    out = tmp_path / "台账.xlsx"
    export_ledger(service, COMPUTERS, out, marking="机密")
    subprocess.run([soffice, "--headless", "--norestore", libreoffice_profile,
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(out)],
                   check=True, capture_output=True, timeout=180)
    text = (tmp_path / "台账.csv").read_text(encoding="utf-8")
    assert text.startswith("机密★")
    assert "JM-0001" in text and "00-1A-2B-3C-4D-5E" in text and "2023-03-05" in text
    assert "=SUM(A1:A2) 不是公式" in text and "-李娜" in text  # formula-like text stayed text
