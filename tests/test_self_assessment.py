"""The 自查自评 sheet of the annual report (issue 15 item 3) and ``mibao report annual`` (item 4)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from mibao_desktop.services.annual_figures import annual_figures
from mibao_desktop.services.carrier_registers import year_figures
from mibao_desktop.services.self_assessment import AREAS, JUDGED, due_counts, self_assessment
from mibao_desktop.services.training import compliance_of
from mibao_desktop.ledgers import top_level
from tests.conftest import computer, medium


def _assess(service, year):
    figures = annual_figures(service, list(top_level()), year)
    with service._read("测试") as session:
        due = due_counts(session, service.actor, service.db, dt.date.today())
        return self_assessment(session, year, figures, year_figures(session, year), compliance_of(session, year),
                               due=due)


def _known(service):
    a = service.create("computers", computer())
    service.create("computers", computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2",
                                         mac_addresses="AA-00-00-00-00-02", level="秘密"))
    service.create("media", medium())
    service.change_status(a.id, "报废", reason="超过使用年限")


def test_the_self_assessment_fills_each_area_from_the_data(service):
    _known(service)
    year = dt.date.today().year
    got = _assess(service, year)
    assert [a.name for a in got.areas] == list(AREAS)
    devices = got.area("信息系统和设备")
    assert devices.lines[0] == ("涉密计算机(在册,按状态)", "2(在用 1、报废 1)")
    # registered this year, none with its label printed; the scrapped one is not counted
    assert got.figure("信息系统和设备", "本年新增涉密设备和介质未打印密级标识(台)") == 2
    assert got.figure("检查", "本年盘点(次,已完成)") == 0
    assert got.figure("定密", "本年解密审查(件次)") == 0
    assert _assess(service, year - 1).figure("信息系统和设备", "本年新增涉密设备和介质未打印密级标识(台)") == 0
    assert got.area("保密制度").lines == [] and got.area("场所").lines == []
    # the first screen's rules counted on the day, in their areas
    assert got.figure("定密", "年度解密审查(截至制表日)") == "已逾期 0,30 日内 0"
    assert got.figure("信息系统和设备", "外出、借出逾期(截至制表日)") == "已逾期 0,30 日内 0"


def _sheet_areas(ws):
    """(area, item) → 情况 from the sheet read back; the area named on its first row (merged below)."""
    got, area = {}, None
    for r in ws.iter_rows(min_row=5, values_only=True):
        if r[1] is None:
            continue
        area = r[0] or area
        got[(area, r[1])] = r[2]
    return got


def test_the_annual_report_has_the_self_assessment_sheet(service, tmp_path):
    from mibao_desktop.excel import export_annual_report

    _known(service)
    year = dt.date.today().year
    out = tmp_path / "年度.xlsx"
    export_annual_report(service, year, out, marking="机密", unit="某研究所")
    ws = openpyxl.load_workbook(out)["自查自评"]
    assert ws["A1"].value == "机密★" and ws["A2"].value == f"{year} 年度保密工作自查自评表"
    assert "某研究所" in ws["A3"].value and [c.value for c in ws[4]] == ["检查项目", "内容", "情况"]
    got = _sheet_areas(ws)
    assert [a for a in dict.fromkeys(a for a, _i in got)] == [f"{n}、{a}" for n, a in zip("一二三四五六七八九十", AREAS)]
    assert got[("五、信息系统和设备", "涉密计算机(在册,按状态)")] == "2(在用 1、报废 1)"
    assert got[("五、信息系统和设备", "本年新增涉密设备和介质未打印密级标识(台)")] == 2
    assert got[("九、检查", "本年盘点(次,已完成)")] == 0
    # the areas only people judge: no figures, a line saying so; every area has the three blank rows
    assert got[("一、保密制度", "(本系统无相应数据,由自查人员填写)")] is None
    blanks = [r for r in ws.iter_rows(min_row=5) if r[1].value in JUDGED]
    assert len(blanks) == 3 * len(AREAS)
    assert all(r[2].value is None and r[2].border.left.style and r[2].border.bottom.style for r in blanks)
    assert all(ws.row_dimensions[r[1].row].height >= 40 for r in blanks)  # room to write by hand
    # print-ready: A4 portrait fitted to the width, the header repeated, marked in the page header
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0 and ws.print_title_rows == "$4:$4"
    assert ws.oddHeader.left.text == "机密★" and ws.print_area.startswith("'自查自评'!$A$2:$C$")


@pytest.mark.sqlite_only  # the command line on a --data-dir (its SQLite file)
def test_mibao_report_annual_writes_the_report_with_its_self_assessment(tmp_path, capsys, monkeypatch):
    from tests.test_cli import as_user, demo, service_for

    data = tmp_path / "data"
    passwords = demo(data, capsys)
    monkeypatch.setenv("MIBAO_DATA_DIR", str(data))
    year = dt.date.today().year
    out = tmp_path / "年度报表.xlsx"
    assert as_user(monkeypatch, passwords, "baomi", "report", "annual", "--year", str(year), "-o", str(out)) == 0
    assert f"已导出 {year} 年度报表(含自查自评)" in capsys.readouterr().out
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["汇总", "载体年度汇总", "培训学时", "自查自评"]
    got = _sheet_areas(wb["自查自评"])
    # the demo's figures, as the services count them
    svc = service_for(data)
    expected = _assess(svc, year)
    for area in expected.areas:
        for item, value in area.lines:
            assert got[(f"{'一二三四五六七八九十'[AREAS.index(area.name)]}、{area.name}", item)] == value
    people = expected.figure("涉密人员", "涉密人员(按状态)")
    assert int(people.split("(")[0]) == svc.count("people") > 0
    # the first screen's counts on the day: the demo's trip back 15 days ago without its report
    from mibao_desktop.services.due import DueService
    from mibao_desktop.services.reminders import RULES

    listed = DueService(svc.db, svc.actor, RULES).due().items
    overdue = sum(1 for i in listed if i.rule == "trips_unreported" and i.due < dt.date.today())
    soon = sum(1 for i in listed if i.rule == "trips_unreported" and i.due >= dt.date.today())
    assert overdue >= 1
    assert got[("三、涉密人员", "回国(境)未报告(截至制表日)")] == f"已逾期 {overdue},30 日内 {soon}"
    carriers = expected.figure("定密", "国家秘密载体(在册,按密级)")
    assert int(carriers.split("(")[0]) == svc.count("carriers") > 0
    # the auditor may not; a marking that is none is refused in Chinese; nothing written
    other = tmp_path / "审计员.xlsx"
    assert as_user(monkeypatch, passwords, "shenji", "report", "annual", "--year", str(year), "-o", str(other)) != 0
    assert "仅限安全保密管理员" in capsys.readouterr().err and not other.exists()
    assert as_user(monkeypatch, passwords, "baomi", "report", "annual", "--year", str(year), "-o", str(other),
                   "--marking", "特级") != 0
    assert "密级标志“特级”无法识别" in capsys.readouterr().err and not other.exists()


def test_the_staff_area_counts_people_by_grade_and_the_years_major_event_reports(service):
    core = service.create("people", {"name": "赵强", "department": "科研一处", "grade": "核心"})
    service.create("people", {"name": "钱敏", "department": "科研一处", "grade": "一般"})
    year = dt.date.today().year
    for day in (f"{year}-01-05", f"{year - 1}-12-30"):  # the second one is last year's
        service.create("major_event_reports", {"kind": 6, "reported_on": day, "content": "其他情况"},
                       parent_id=core.id)
    got = _assess(service, year)
    assert got.figure("涉密人员", "在岗涉密人员(按涉密等级)") == "2(核心 1、一般 1)"
    assert got.figure("涉密人员", "本年重大事项报告(件)") == 1
    assert _assess(service, year - 1).figure("涉密人员", "本年重大事项报告(件)") == 1
