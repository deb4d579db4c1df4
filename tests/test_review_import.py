"""Review of the import (issue 10): hostile but realistic hand-kept files that lost data, were
refused or accepted wrongly, or told the wrong row."""

import datetime as dt

import openpyxl
import pytest

from mibao_desktop.excel.importer import plan_import, run_import, write_refused
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.fields import FieldError
from tests import spreadsheets

COMPUTERS = LEDGERS["computers"]
HEADER = ["设备编号", "设备类型", "品牌型号", "密级", "定密时间", "使用人", "责任人", "部门", "硬盘序列号"]


def computer_cells(n, **over):
    values = {"设备编号": f"JM-{n:02d}", "设备类型": "台式机", "品牌型号": "联想", "密级": "机密",
              "定密时间": "2019-03-05", "使用人": "张伟", "责任人": "张伟", "部门": "保密办", "硬盘序列号": f"D{n}"}
    values.update(over)
    return list(values.values())


def save(path, rows, *, merges=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in rows:
        ws.append(line)
    for cells in merges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def test_the_refused_file_keeps_a_header_merged_over_several_columns(service, tmp_path):
    """MAC地址 merged over three columns: the refused-rows file must keep the merge, or its
    second and third MAC columns have no header and are dropped when it is imported again."""
    macs = ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02", "00-1A-2B-3C-4D-03"]
    path = save(tmp_path / "a.xlsx", [["涉密计算机台账"], [], HEADER + ["MAC地址", None, None, "状态"],
                                     computer_cells(1) + macs + ["坏了"]],
                merges=["A1:M1", "J3:L3"])
    plan = plan_import(COMPUTERS, path)
    report = run_import(service, plan)
    assert report.created == 0 and [r.row for r in report.refused] == [4]
    write_refused(plan, report, tmp_path / "refused.xlsx")
    again = plan_import(COMPUTERS, tmp_path / "refused.xlsx")
    assert sorted(i for i, n in again.mapping.items() if n == "mac_addresses") == [9, 10, 11]
    fixed = openpyxl.load_workbook(tmp_path / "refused.xlsx")
    fixed.active.cell(row=3, column=13).value = "在用"  # the blank row 2 is not written again
    fixed.save(tmp_path / "fixed.xlsx")
    report = run_import(service, plan_import(COMPUTERS, tmp_path / "fixed.xlsx"))
    assert (report.created, report.refused) == (1, [])
    assert service.find("computers", "JM-01").values["mac_addresses"] == macs


CARRIERS = LEDGERS["carriers"]
CARRIER_HEADER = ["登记编号", "标题", "密级", "份数", "保管人", "部门", "份号", "持有人", "状态", "备注"]


def carrier_sheet(path, copy_rows):
    """ZT-001 with one row per copy, its own cells merged down over them, and ZT-002 under it."""
    rows = [["国家秘密载体台账"], CARRIER_HEADER]
    for i, (copy, holder, status, remark) in enumerate(copy_rows):
        own = ["ZT-001", "关于某事的通知", "机密", len(copy_rows), "张伟", "保密办"] if i == 0 else [None] * 6
        rows.append(own + [copy, holder, status, remark])
    rows.append(["ZT-002", "关于另一事", "秘密", 1, "张伟", "保密办", 1, "李娜", "在管", None])
    last = 2 + len(copy_rows)
    return save(path, rows, merges=[f"{c}3:{c}{last}" for c in "ABCDEF"])


def test_a_carriers_value_that_differs_on_a_copys_row_is_not_dropped(service, tmp_path):
    """One row per copy, the 状态 written on each row: the second copy's 已销毁 was dropped
    (the carrier took the first row's 在管) and the carrier came in as if all were 在管."""
    path = carrier_sheet(tmp_path / "k.xlsx", [(1, "李娜", "在管", "第一份"), (2, "王五", "已销毁", "第二份")])
    report = run_import(service, plan_import(CARRIERS, path))
    assert report.created == 1 and service.find("carriers", "ZT-001") is None
    assert {r.row for r in report.refused} == {3, 4}
    message = next(str(r) for r in report.refused if r.row == 4)
    assert "状态" in message and "已销毁" in message and "在管" in message and "第 3 行" in message


def test_free_text_on_a_copys_row_is_gathered_into_the_carrier(service, tmp_path):
    path = carrier_sheet(tmp_path / "k.xlsx", [(1, "李娜", "在管", "第一份"), (2, "王五", None, "第二份"),
                                              (3, "赵六", None, "第一份")])
    report = run_import(service, plan_import(CARRIERS, path))
    assert (report.created, report.refused) == (2, [])
    assert service.find("carriers", "ZT-001").values["remarks"] == "第一份\n第二份"


def test_a_copy_row_with_an_error_cell_refuses_its_carrier_whole(service, tmp_path):
    """A copy row refused for an error cell (#N/A) left its carrier stored with the other copies:
    a carrier registered with a copy missing, which importing the corrected row could not add."""
    path = carrier_sheet(tmp_path / "k.xlsx", [(1, "李娜", None, None), (2, "#N/A", None, None)])
    report = run_import(service, plan_import(CARRIERS, path))
    assert report.created == 1 and service.find("carriers", "ZT-001") is None
    assert {r.row for r in report.refused} == {3, 4}
    assert any("#N/A" in r.message for r in report.refused if r.row == 4)


def test_a_sub_header_that_only_adds_a_second_column_of_a_field(service, tmp_path):
    """MAC地址 over MAC1 and MAC2 (not merged; the other sub-header cells empty): the two rows
    name no more fields than the first alone, so the first was taken alone, and the MAC2 column
    under its empty top cell was dropped from every row without a word."""
    path = save(tmp_path / "a.xlsx", [HEADER + ["MAC地址", None],
                                     [None] * 9 + ["MAC1", "MAC2"],
                                     computer_cells(1) + ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02"]])
    plan = plan_import(COMPUTERS, path)
    assert plan.header.depth == 2 and plan.header_number == 2
    report = run_import(service, plan)
    assert (report.created, report.refused) == (1, [])
    assert service.find("computers", "JM-01").values["mac_addresses"] == ["00-1A-2B-3C-4D-01", "00-1A-2B-3C-4D-02"]


def test_a_first_record_is_not_taken_for_a_sub_header(service, tmp_path):
    """A record under a one-row header, one of whose cells happens to name a field, stays a record."""
    path = save(tmp_path / "a.xlsx", [HEADER + ["MAC地址", None],
                                     computer_cells(1, 品牌型号="备注") + ["00-1A-2B-3C-4D-01", "备注2"],
                                     computer_cells(2) + ["00-1A-2B-3C-4D-02", None]])
    plan = plan_import(COMPUTERS, path)
    assert plan.header.depth == 1
    assert run_import(service, plan, dry_run=True).accepted == 2


def test_dates_with_a_time_as_excel_and_wps_write_them_in_a_csv(service, tmp_path):
    """A csv saved by Excel/WPS writes a date-and-time cell as 2019/3/5 14:30 (and other systems
    2019-3-5 0:00:00): the date was refused as not a date."""
    rows = [HEADER + ["MAC地址"]]
    for n, when in enumerate(["2019/3/5 14:30", "2019-3-5 0:00:00", "2019/03/05 9:05:00", "2019.3.5 14:30"], 1):
        rows.append(computer_cells(n, 定密时间=when) + [f"00-1A-2B-3C-4D-0{n}"])
    path = spreadsheets.text_table(tmp_path / "a.csv", rows)
    report = run_import(service, plan_import(COMPUTERS, path))
    assert (report.created, report.refused) == (4, [])
    assert service.find("computers", "JM-02").values["classified_on"] == dt.date(2019, 3, 5)


@pytest.mark.parametrize("typed", [2019, 2019.03, "2019"])
def test_a_year_alone_in_a_date_cell_is_told_as_such(typed):
    """2019 typed in a date cell was read as Excel's day number 2019 and refused as
    “日期 1905-07-11 过早”, a date the user never wrote."""
    with pytest.raises(FieldError) as caught:
        COMPUTERS.field("classified_on").normalise(typed)
    assert "1905" not in str(caught.value) and "只有年份" in str(caught.value)


def test_a_two_character_name_padded_with_a_space_is_the_same_person(service, tmp_path):
    """Hand-kept lists pad two-character names to line up with three-character ones (张  伟,
    张　伟): the import added a second person “张 伟” beside 张伟, and beside two registered
    张伟 it even passed over the namesakes' question."""
    service.create_many("people", [{"name": "张伟", "department": "保密办"}, {"name": "李娜", "department": "保密办"}])
    path = save(tmp_path / "a.xlsx", [HEADER + ["MAC地址"],
                                     computer_cells(1, 使用人="张  伟", 责任人="李　娜") + ["00-1A-2B-3C-4D-01"],
                                     computer_cells(2, 使用人="王 小 明", 责任人="张伟") + ["00-1A-2B-3C-4D-02"]])
    report = run_import(service, plan_import(COMPUTERS, path))
    assert (report.created, report.refused, report.people_added) == (2, [], ["王小明"])
    first = service.find("computers", "JM-01")
    assert (first.display("user"), first.display("responsible_person")) == ("张伟", "李娜")
    assert service.count("people") == 3


def test_an_xls_keeps_numbers_shown_as_text_and_struck_through_rows(service, tmp_path):
    """A .xls (what WPS saves by default) lost what calamine does not give: 000123 came in as
    123, and a computer struck through by hand came back as a live record 在用."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    padded, struck = xlwt.easyxf(num_format_str="000000"), xlwt.easyxf("font: struck_out on")
    rows = [HEADER + ["MAC地址"], computer_cells(1, 设备编号=123) + ["00-1A-2B-3C-4D-01"],
            computer_cells(2) + ["00-1A-2B-3C-4D-02"]]
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            style = padded if (r, c) == (1, 0) else struck if r == 2 else xlwt.Style.default_style
            ws.write(r, c, value, style)
    wb.save(str(tmp_path / "a.xls"))
    report = run_import(service, plan_import(COMPUTERS, tmp_path / "a.xls"))
    assert (report.created, report.refused) == (1, [])
    assert [r.row for r in report.left_out] == [3]
    assert service.find("computers", "000123") is not None and service.find("computers", "JM-02") is None


def test_a_total_line_with_its_count_in_the_number_column_is_flagged(service, tmp_path):
    """序号 | 设备编号 …, and under the table 合计 | 2台: the count sits in the number column, so
    the line was taken for a record and refused with ten “必填” faults."""
    path = save(tmp_path / "a.xlsx", [["序号"] + HEADER + ["MAC地址"],
                                     [1] + computer_cells(1) + ["00-1A-2B-3C-4D-01"],
                                     [2] + computer_cells(2) + ["00-1A-2B-3C-4D-02"],
                                     ["合计", "2台"]])
    report = run_import(service, plan_import(COMPUTERS, path))
    assert (report.created, report.refused) == (2, [])
    assert [r.row for r in report.left_out] == [4]


def test_the_command_line_names_the_columns_it_does_not_import(service, tmp_path, capsys, monkeypatch):
    """A column no field takes (IP地址 on a computer sheet) was left out of the import without a
    word on the command line: only the columns recognised were listed."""
    from mibao_desktop import cli

    path = save(tmp_path / "a.xlsx", [HEADER + ["MAC地址", "IP地址"],
                                     computer_cells(1) + ["00-1A-2B-3C-4D-01", "10.0.0.5"]])
    monkeypatch.setattr(cli, "_login", lambda db, args: service.actor)
    monkeypatch.setattr(cli, "_ledger_service", lambda db, actor: service)
    monkeypatch.setattr("mibao_desktop.storage.startup.open_database", lambda *a, **k: service.db)
    assert cli.main(["--data-dir", str(tmp_path), "--user", "baomi", "import", "computers", str(path)]) == 0
    assert "未导入的列:IP地址" in capsys.readouterr().out
