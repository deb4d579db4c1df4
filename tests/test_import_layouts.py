"""Import of the layouts real units keep (issue 18): their own header words, form lines above
and below the table, a 合计 row inside it, and the columns they never kept (待补充).

Every spreadsheet is written here by openpyxl in the layout the issue describes, imported
through the real importer and service into a real SQLite file, and every value is checked
where it lands."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select

from mibao_desktop.db.models import AuditEntry
from mibao_desktop.excel import import_ledger
from mibao_desktop.excel.importer import FROM, PENDING, VALUE, Fill, plan_import, run_import
from mibao_desktop.excel.mapping import header_key
from mibao_desktop.excel.reader import SpreadsheetError
from mibao_desktop.ledgers import LEDGERS
from mibao_desktop.ledgers.pending import gap_text
from mibao_desktop.services.repository import LedgerQuery

COMPUTERS, MEDIA, OFFICE = LEDGERS["computers"], LEDGERS["media"], LEDGERS["office_devices"]


def save(path, rows, *, merges=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in rows:
        ws.append(line)
    for cells in merges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def import_entries(db) -> list[AuditEntry]:
    with db.session() as s:
        return [e for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all() if e.action == "record.import"]


# -- a university's computer ledger: its own words, header in row 1 with no title, no 定密时间 ----------

UNIVERSITY_HEADER = ["序号", "保密\n编号", "设备类型", "品牌 型号", "密  级", "责任人", "科室/课题组", "磁盘序列号",
                     "mac地址", "使用\n情况", "启用时间:", "备注"]


def university_rows():
    return [
        UNIVERSITY_HEADER,
        [1, "BM-2019-001", "台式机", "联想 启天M430", "秘密", "陈明", "物理系/量子课题组", "WD-AAA111",
         "00-1A-2B-3C-4D-01", "在用", dt.datetime(2019, 3, 5), "三楼"],
        [2, "BM-2019-002", "便携机", "华为 MateBook", "机密", "刘洋", "化学系", "WD-BBB222",
         "00-1A-2B-3C-4D-02", "停用", dt.datetime(2020, 9, 1), None],
    ]


def test_header_words_are_compared_without_spaces_breaks_case_widths_colons_or_帐(service):
    assert header_key("使用\n情况") == header_key("使用情况") == header_key("使用 情况:")
    assert header_key("ＭＡＣ地址：") == header_key("mac地址") == header_key("MAC地址")
    assert header_key("台帐编号") == header_key("台账编号")
    assert header_key("姓 名") == header_key("姓名")


def test_a_university_ledger_in_its_own_words_maps_every_column(service, tmp_path):
    path = save(tmp_path / "计算机台帐.xlsx", university_rows())
    plan = plan_import(COMPUTERS, path)
    assert plan.header_number == 1  # no title above it
    by_header = {plan.headers[i]: plan.label_of(n) for i, n in plan.mapping.items()}
    assert by_header == {"保密\n编号": "设备编号", "设备类型": "设备类型", "品牌 型号": "品牌型号", "密  级": "密级",
                         "责任人": "责任人", "科室/课题组": "部门", "磁盘序列号": "硬盘序列号", "mac地址": "MAC地址",
                         "使用\n情况": "状态", "启用时间:": "启用日期", "备注": "备注"}
    # how each column was understood, for the wizard to show
    assert plan.understood(6) == "按同义词“科室/课题组”识别为“部门”"
    assert plan.understood(3) == "按列名识别为“品牌型号”"
    assert plan.understood(0) == "未识别,不导入"
    assert plan.missing_required() == ["定密时间", "使用人"]


def test_an_office_device_names_its_computer_under_连接计算机编号(service, tmp_path):
    from tests.conftest import computer

    service.create("computers", computer(asset_number="JM-0001"))
    path = save(tmp_path / "oa.xlsx", [
        ["编号", "设备名称", "品牌型号", "密级", "保管人", "部门", "连接计算机编号", "使用情况"],
        ["JB-01", "打印机", "惠普 M403d", "机密", "张伟", "保密办", "JM-0001", "在用"]])
    report = import_ledger(service, OFFICE, path)
    assert (report.created, report.refused) == (1, [])
    values = service.find("office_devices", "JB-01").values
    assert [r.text for r in values["connected_computers"]] == ["JM-0001"]
    assert (values["device_type"], values["responsible_person"].text) == ("打印机", "张伟")


# -- 1. a column the unit never kept ------------------------------------------------------------

def test_with_no_choice_the_records_come_in_marked_待补充_and_the_summary_says_how_many(service, db, tmp_path):
    path = save(tmp_path / "计算机台帐.xlsx", university_rows())
    report = import_ledger(service, COMPUTERS, path)
    assert (report.created, report.refused) == (2, [])
    assert report.pending == {"定密时间": 2, "使用人": 2} and report.pending_records == 2
    first = service.find("computers", "BM-2019-001").values
    assert first["classified_on"] is None and first["user"] is None
    assert first["responsible_person"].text == "陈明"
    assert first["department"] == "物理系/量子课题组"
    assert first["disk_serials"] == ["WD-AAA111"] and first["mac_addresses"] == ["00-1A-2B-3C-4D-01"]
    assert first["start_date"] == dt.date(2019, 3, 5) and first["remarks"] == "三楼"
    assert first["level"] == "秘密" and first["brand_model"] == "联想 启天M430"
    second = service.find("computers", "BM-2019-002")
    assert second.status == "停用" and second.values["device_type"] == "便携机"
    assert import_entries(db)[-1].detail["pending"] == 2


def test_a_record_marked_待补充_can_still_be_changed_and_is_complete_once_filled(service, tmp_path):
    import_ledger(service, COMPUTERS, save(tmp_path / "a.xlsx", university_rows()))
    record = service.find("computers", "BM-2019-001")
    edited = service.update(record.id, {"location": "行政楼 301"})  # the gaps do not block other changes
    assert edited.values["location"] == "行政楼 301" and edited.values["classified_on"] is None
    filled = service.update(record.id, {"classified_on": "2019-03-05", "user": "陈明"})
    assert filled.values["classified_on"] == dt.date(2019, 3, 5) and filled.values["user"].text == "陈明"
    from mibao_desktop.errors import ValidationFailed

    with pytest.raises(ValidationFailed):  # once filled, a required field may not be emptied again
        service.update(record.id, {"classified_on": None})


def test_one_value_for_every_row_and_a_field_taken_from_another_column(service, tmp_path):
    path = save(tmp_path / "a.xlsx", university_rows())
    plan = plan_import(COMPUTERS, path)
    plan.fills["classified_on"] = Fill(FROM, plan.column_named("启用时间"))
    plan.fills["user"] = Fill(VALUE, "王芳")
    report = run_import(service, plan)
    assert (report.created, report.refused, report.pending) == (2, [], {})
    first = service.find("computers", "BM-2019-001").values
    assert first["classified_on"] == dt.date(2019, 3, 5) and first["user"].text == "王芳"
    assert service.find("computers", "BM-2019-002").values["classified_on"] == dt.date(2020, 9, 1)


def test_a_value_for_every_row_is_checked_like_any_cell(service, tmp_path):
    plan = plan_import(COMPUTERS, save(tmp_path / "a.xlsx", university_rows()))
    plan.fills["classified_on"] = Fill(VALUE, "去年")
    report = run_import(service, plan, dry_run=True)
    assert {(r.row, r.column) for r in report.refused} == {(2, "定密时间"), (3, "定密时间")}


def test_the_number_cannot_be_left_to_be_filled_later(service, tmp_path):
    rows = [[c for c in r[2:]] for r in university_rows()]  # no 序号, no 保密编号
    plan = plan_import(COMPUTERS, save(tmp_path / "a.xlsx", rows))
    with pytest.raises(SpreadsheetError, match="缺少必需的列:设备编号"):
        run_import(service, plan, dry_run=True)


def test_the_pending_records_are_listed_in_a_view_of_their_own(service, tmp_path):
    from tests.conftest import computer

    service.create("computers", computer(asset_number="JM-0001"))
    import_ledger(service, COMPUTERS, save(tmp_path / "a.xlsx", university_rows()))
    query = LedgerQuery(pending=True, limit=None)
    pending = service.query("computers", query)
    assert [v.number for v in pending.rows] == ["BM-2019-001", "BM-2019-002"] and pending.total == 2
    assert gap_text(COMPUTERS, pending.rows[0].values) == "待补充:定密时间、使用人"
    assert gap_text(COMPUTERS, service.find("computers", "JM-0001").values) == ""
    service.update(pending.rows[0].id, {"classified_on": "2019-03-05", "user": "陈明"})
    assert [v.number for v in service.query("computers", query).rows] == ["BM-2019-002"]
    assert service.count("computers", query) == 1 and service.count("computers") == 3


def test_a_media_ledger_without_a_部门_column_is_imported(service, tmp_path):
    path = save(tmp_path / "介质.xlsx", [
        ["编号", "介质类型", "品牌型号", "序列号", "容量", "密级", "保管人", "存放地点"],
        ["JMU-01", "U盘", "金士顿 DT50", "KS-1", "32G", "秘密", "李娜", "保密柜"]])
    report = import_ledger(service, MEDIA, path)
    assert (report.created, report.refused, report.pending) == (1, [], {"部门": 1})
    values = service.find("media", "JMU-01").values
    assert values["department"] is None and values["responsible_person"].text == "李娜"
    assert values["location"] == "保密柜" and values["capacity"] == "32G"


# -- 3. form lines above and below the table ---------------------------------------------------

def media_form(path, *, total="合计:2 个"):
    """A title, a form line of merged blocks, the header in row 3; a 合计 line above; sign-off
    lines under the table."""
    return save(path, [
        ["某研究所涉密移动存储介质台帐"],
        ["单位（盖章）：某研究所", None, total, "填表人:", "王芳", "填表日期：", dt.datetime(2024, 1, 5), None],
        ["编号", "介质\n类型", "品牌 型号", "序列号", "密级", "保管人", "所属 部门", "存放地点"],
        ["JMU-01", "U盘", "金士顿 DT50", "KS-1", "秘密", "李娜", "综合办公室", "保密柜"],
        ["JMU-02", "移动硬盘", "希捷 2TB", "ST-2", "机密", "赵强", "综合办公室", "保密柜"],
        [None, None, None, None, None, None, None, None],
        ["保管人签字:", None, None, None, "批准人签字:", None, None, None],
    ], merges=["A1:H1", "A2:B2", "G2:H2"])


def test_a_header_under_a_title_and_a_form_line_and_the_form_kept_with_the_import(service, db, tmp_path):
    path = media_form(tmp_path / "介质.xlsx")
    plan = plan_import(MEDIA, path)
    assert plan.header_number == 3
    report = run_import(service, plan)
    assert (report.created, report.refused) == (2, [])
    said = {line.label: line.value for line in report.form_lines}
    assert said == {"标题": "某研究所涉密移动存储介质台帐", "单位(盖章)": "某研究所", "填表人": "王芳",
                    "填表日期": "2024-01-05", "保管人签字": "", "批准人签字": "", "合计": "2 个"}
    assert service.count("media") == 2  # none of the form lines is a record
    second = service.find("media", "JMU-02").values
    assert (second["media_type"], second["brand_model"], second["level"]) == ("移动硬盘", "希捷 2TB", "机密")
    assert (second["responsible_person"].text, second["department"]) == ("赵强", "综合办公室")
    form = import_entries(db)[-1].detail["form"]
    assert form["填表人"] == "王芳" and form["单位(盖章)"] == "某研究所" and form["填表日期"] == "2024-01-05"
    assert report.total_mismatch == ""


def test_a_合计_line_that_does_not_match_the_rows_is_shown(service, tmp_path):
    report = run_import(service, plan_import(MEDIA, media_form(tmp_path / "a.xlsx", total="合计:3 个")), dry_run=True)
    assert report.total_mismatch == "表头上方第 2 行的合计写的是 3,表中有 2 条记录,请核对是否漏行或合计有误"
    assert report.notes[0].message == report.total_mismatch and report.notes[0].row == 2


def test_a_合计_row_inside_the_table_is_checked_and_not_imported(service, db, tmp_path):
    header = ["设备编号", "品牌型号", "密级", "定密时间", "使用人", "责任人", "部门", "硬盘序列号", "MAC地址"]

    def computer_row(n):
        return [f"JM-0{n}", "联想", "机密", "2020-01-0" + str(n), "张伟", "张伟", "保密办", f"D{n}", f"00-1A-2B-3C-4D-0{n}"]

    rows = [["涉密计算机台账"], header, computer_row(1), computer_row(2), computer_row(3),
            ["合计", None, None, None, None, None, None, None, "3 台"], ["制表人:李娜", None, None, "审核人:王芳"]]
    report = import_ledger(service, COMPUTERS, save(tmp_path / "a.xlsx", rows))
    assert (report.created, report.refused, report.total_mismatch) == (3, [], "")
    assert [r.row for r in report.left_out] == [6]
    assert {line.label: line.value for line in report.form_lines if line.row == 7} == {"制表人": "李娜", "审核人": "王芳"}
    assert import_entries(db)[-1].detail["form"]["审核人"] == "王芳"
    rows[5][-1] = "4 台"
    report = import_ledger(service, COMPUTERS, save(tmp_path / "b.xlsx", rows), dry_run=True)
    assert report.total_mismatch.startswith("第 6 行的合计写的是 4,表中有 3 条记录")
