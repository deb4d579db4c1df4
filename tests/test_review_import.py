"""Review of the import (issue 10): hostile but realistic hand-kept files that lost data, were
refused or accepted wrongly, or told the wrong row."""

import openpyxl

from mibao_desktop.excel.importer import plan_import, run_import, write_refused
from mibao_desktop.ledgers import LEDGERS

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
