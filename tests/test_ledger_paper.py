"""The ledger export and the annual report as paper an inspector accepts (issue 12 item 8).

The workbooks are opened with openpyxl and read back cell by cell (borders, fonts, 序号, the
unit's name, the 填表人 line, page setup, header and footer), the 汇总 table is checked against a
known data set, and an export is printed through LibreOffice to PDF, read with pdftotext page by
page and rendered to PNG with pdftoppm.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import openpyxl
import pytest
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter

from mibao_desktop.db.database import Database
from mibao_desktop.excel import export_annual_report, export_ledger, import_ledger
from mibao_desktop.excel.annual import report_marking
from mibao_desktop.ledgers import LEDGERS, levels
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.context import Services
from mibao_desktop.services.ledger_service import LedgerService
from tests.conftest import computer, medium, today

COMPUTERS = LEDGERS["computers"]
UNIT = "某市某研究所"


def last_year() -> dt.date:
    return today().replace(year=today().year - 1, month=6, day=1)


PASSWORD = "Paper-Test-2026"


@pytest.fixture
def baomi(db) -> LedgerService:
    """The security administrator 李保密 (login baomi), with the unit's name set in 打印设置."""
    AccountService(db).setup({Role.SYSTEM_ADMIN: ("xitong", "王系统", PASSWORD),
                              Role.SECURITY_ADMIN: ("baomi", "李保密", PASSWORD),
                              Role.AUDITOR: ("shenji", "赵审计", PASSWORD)})
    actor = Actor("baomi", Role.SECURITY_ADMIN)
    Services(db, actor).printing.set_unit_name(UNIT)
    return LedgerService(db, actor)


def _pc(n: int, **values) -> dict:
    return computer(**{"asset_number": f"JM-{n:04d}", "serial_number": f"S{n}", "disk_serials": f"D{n}",
                       "mac_addresses": f"00-1A-2B-3C-4D-{n:02X}", **values})


def _table(ws, first_row: int, last_row: int, last_col: int):
    """The cells of a table (of a merged range its first cell, whose border the range takes)."""
    return [ws.cell(r, c) for r in range(first_row, last_row + 1) for c in range(1, last_col + 1)
            if not isinstance(ws.cell(r, c), MergedCell)]


def _ruled(cell) -> bool:
    b = cell.border
    return all(side is not None and side.style == "thin" for side in (b.left, b.right, b.top, b.bottom))


def _fonts_at_least_9pt(ws) -> list[str]:
    return [c.coordinate for row in ws.iter_rows() for c in row
            if c.value is not None and (c.font is None or c.font.sz is None or c.font.sz < 9)]


def test_the_ledger_export_is_laid_out_as_the_paper_ledger(baomi, tmp_path, empty_db_target):
    baomi.create("computers", _pc(1, level="秘密"))
    baomi.create("computers", _pc(2, mac_addresses="00-1A-2B-3C-4D-02\n00-1A-2B-3C-4D-13"))
    baomi.create("computers", _pc(4, level="秘密", remarks="=HYPERLINK(\"x\") 不是公式"))
    out = tmp_path / "台账.xlsx"
    assert export_ledger(baomi, COMPUTERS, out) == 3  # marking, unit and 填表人 as MiBao knows them

    ws = openpyxl.load_workbook(out).active
    headers = [c.value for c in ws[4]]
    n = len(headers)
    last = get_column_letter(n)
    assert headers[:3] == ["序号", "设备编号", "设备类型"] and n == 1 + len(COMPUTERS.fields)
    assert ws["A1"].value == "机密★"  # the highest level present
    assert ws["A2"].value == "涉密计算机台账" and f"A2:{last}2" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A3"].value == f"填报单位:{UNIT}"
    assert [ws.cell(r, 1).value for r in (5, 6, 7)] == [1, 2, 3]
    assert [ws.cell(r, 2).value for r in (5, 6, 7)] == ["JM-0001", "JM-0002", "JM-0004"]

    # ruled: the header and every cell of every row, the empty ones too; nothing under 9 pt
    table = _table(ws, 4, 7, n)
    assert [c.coordinate for c in table if not _ruled(c)] == []
    assert _fonts_at_least_9pt(ws) == []
    assert all(c.font.sz >= 10 for c in table)
    mac = headers.index("MAC地址") + 1
    assert ws.cell(6, mac).value == "00-1A-2B-3C-4D-02\n00-1A-2B-3C-4D-13"  # one per line, as on paper
    assert ws.row_dimensions[6].height >= 2 * 13 and not ws.row_dimensions[5].height  # two lines tall
    remarks = headers.index("备注") + 1
    assert ws.cell(7, remarks).data_type == "s"
    # the 密级 in the level's colour, the palette of the table and the labels (levels.COLOURS)
    level = headers.index("密级") + 1
    shown = {ws.cell(r, level).value: ws.cell(r, level).font.color.rgb[-6:] for r in (5, 6, 7)}
    assert shown == {"秘密": levels.COLOURS["秘密"][1:], "机密": levels.COLOURS["机密"][1:]}
    assert ws.cell(5, level).font.sz >= 10 and _ruled(ws.cell(5, level))
    assert ws.cell(5, 2).font.color is None or ws.cell(5, 2).font.color.rgb[-6:] not in shown.values()

    # 填表人 / 审核人 / 日期 under the table, across it, with the account's 姓名 (not its login)
    signoff = ws.cell(ws.max_row, 1).value
    assert ws.max_row == 9 and ws.cell(8, 1).value is None
    assert signoff.startswith("填表人:李保密") and "审核人:" in signoff
    assert f"日期:{today().year} 年 {today().month} 月 {today().day} 日" in signoff
    assert f"A9:{last}9" in {str(r) for r in ws.merged_cells.ranges}
    assert not _ruled(ws.cell(9, 1))

    # printed: A4 landscape, one page wide, title and headers on every page, marked on each page
    setup = ws.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$2:$4"
    assert ws.print_area == f"'涉密计算机台账'!$A$2:${last}$9"
    assert ws.oddHeader.left.text == "机密★" and ws.oddFooter.left.text == "机密★"
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws.oddFooter.right.text.startswith("审计链头 ")
    assert ws.freeze_panes == "A5"

    # MiBao's own importer reads it back: 序号, the title, 填报单位 and 填表人 lines are not records
    target = LedgerService(Database.open(empty_db_target), baomi.actor)
    report = import_ledger(target, COMPUTERS, out)
    assert (report.created, report.refused, report.header_row) == (3, [], 4)
    again = tmp_path / "again.xlsx"
    export_ledger(target, COMPUTERS, again, filled_by="李保密", unit=UNIT)
    rows = lambda p: [r for r in openpyxl.load_workbook(p).active.iter_rows(min_row=3, values_only=True)]  # noqa: E731
    assert rows(again) == rows(out)
    target.db.close()


def test_a_unit_without_a_name_and_an_actor_without_an_account_leave_lines_to_write_by_hand(service, tmp_path):
    service.create("media", medium())
    out = tmp_path / "介质.xlsx"
    export_ledger(service, LEDGERS["media"], out)
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == "秘密★" and ws.oddHeader.left.text == "秘密★"
    assert ws["A3"].value.startswith("填报单位:\u3000")
    assert ws.cell(ws.max_row, 1).value.startswith("填表人:\u3000")  # not the login, not the role


def _summary(ws):
    """The 汇总 table as {(台账, 密级): {column: value}} (the ledger's name is merged down its rows)."""
    header = [str(c.value).replace("\n", "") if c.value else None for c in ws[5]]
    rows, ledger = {}, None
    for r in ws.iter_rows(min_row=6, values_only=True):
        if r[1] is None:
            break
        ledger = r[0] or ledger
        rows[(ledger, r[1].replace("\n", ""))] = dict(zip(header[2:], r[2:]))  # 密级/待补充 on two lines
    return rows


def test_the_annual_summary_is_one_table_counted_by_in_service_date(baomi, tmp_path):
    new_jan = baomi.create("computers", _pc(1, level="机密", start_date=today().replace(month=1, day=1)))
    old = baomi.create("computers", _pc(2, level="秘密", start_date=last_year()))  # entered this year, in use since last
    baomi.create("computers", _pc(3, level="绝密"))  # no 启用日期: registered through the form this year
    baomi.create_many("computers", [_pc(4, level="秘密", start_date=last_year()), _pc(5, level="秘密")])  # imported
    wrong = baomi.create("computers", _pc(6, level="秘密", start_date=today().replace(month=1, day=1)))
    baomi.change_status(new_jan.id, "停用", reason="暂不使用")
    baomi.change_status(old.id, "报废", reason="超过使用年限")
    baomi.void(wrong.id, "重复登记")
    baomi.create("media", medium(level="秘密", start_date=today().replace(month=1, day=1)))
    baomi.create("media", medium(asset_number="JMU-0002", serial_number="K2", level="非涉密", start_date=last_year()))

    out = tmp_path / "年度.xlsx"
    export_annual_report(baomi, today().year, out)
    ws = openpyxl.load_workbook(out)["汇总"]
    rows = _summary(ws)
    pcs = {lv: rows[("涉密计算机台账", lv)] for lv in ("绝密", "机密", "秘密", "小计")}
    assert [pcs[lv]["合计"] for lv in pcs] == [1, 1, 3, 5]
    assert (pcs["秘密"]["在用"], pcs["秘密"]["报废"], pcs["机密"]["停用"], pcs["小计"]["在用"]) == (2, 1, 1, 3)
    # 本年新增 by 启用日期: the record in use since last year is not new, though entered this year;
    # the imported ones are not new; the one without a date typed in this year is; the voided is not
    assert [pcs[lv]["本年新增"] for lv in pcs] == [1, 1, 0, 2]
    assert (pcs["机密"]["本年停用"], pcs["秘密"]["本年报废"], pcs["秘密"]["本年作废"], pcs["小计"]["本年作废"]) == (1, 1, 1, 1)
    assert pcs["小计"]["借出"] == "—" and pcs["小计"]["本年借出"] == "—"  # statuses a computer has not
    media = {lv: rows[("涉密移动存储介质台账", lv)] for lv in ("秘密", "非涉密", "小计")}
    assert (media["秘密"]["本年新增"], media["非涉密"]["本年新增"], media["小计"]["合计"]) == (1, 0, 2)
    assert rows[("非涉密计算机台账", "—")]["合计"] == 0
    people = rows[("人员名册", "—")]
    assert people["合计"] == 2 and people["在岗"] == 2 and people["本年新增"] == "—"  # no in-service date kept
    note = next(r[0] for r in ws.iter_rows(min_row=6, values_only=True) if r[0] and str(r[0]).startswith("说明"))
    assert "启用日期" in note and "收到日期" in note
    assert re.search(r"、人员名册、.*无此日期", note)  # ledgers with no in-service date are named

    # one page: A4 landscape fitted to width and height, ruled, nothing under 9 pt, marked
    last_row = 5 + len(rows)
    table = _table(ws, 4, last_row, ws.max_column)
    assert [c.coordinate for c in table if not _ruled(c)] == []
    assert _fonts_at_least_9pt(ws) == []
    setup = ws.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 1)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws["A1"].value == "绝密★" and ws.oddHeader.left.text == "绝密★"  # the highest level present
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws["A3"].value == f"填报单位:{UNIT}"
    assert ws.cell(ws.max_row, 1).value.startswith("填表人:李保密")
    book = openpyxl.load_workbook(out)
    assert all(s.oddHeader.left.text == "绝密★" for s in book.worksheets)
    assert book["涉密计算机台账"]["A4"].value == "序号" and book["涉密计算机台账"]["A5"].value == 1


def test_the_report_is_marked_by_the_highest_level_it_lists(service, tmp_path):
    assert report_marking(service) == "非涉密"
    service.create("media", medium(level="非涉密"))
    assert report_marking(service) == "非涉密"
    service.create("media", medium(asset_number="JMU-0002", serial_number="K2", level="秘密"))
    assert report_marking(service) == "秘密"
    top = service.create("computers", _pc(1, level="绝密"))
    assert report_marking(service) == "绝密"
    service.void(top.id, "登记有误")  # no longer listed
    assert report_marking(service) == "秘密"
    out = tmp_path / "年度.xlsx"
    export_annual_report(service, today().year, out)
    assert openpyxl.load_workbook(out)["汇总"]["A1"].value == "秘密★"


# -- printed through LibreOffice ---------------------------------------------------------------

def _tools():
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
        pytest.skip("LibreOffice and poppler-utils are installed by scripts/setup test")
    return soffice


def _pdf(soffice: str, xlsx, tmp_path, profile: str):
    subprocess.run([soffice, "--headless", "--norestore", profile,
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
                   check=True, capture_output=True, timeout=240)
    pdf = xlsx.with_suffix(".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    texts = [re.sub(r"\s+", "", subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                                               check=True, capture_output=True, text=True).stdout)
             for i in range(1, pages + 1)]
    return pdf, (float(size.group(1)), float(size.group(2))), texts


def test_a_printed_ledger_has_the_marking_and_page_numbers_on_every_page(baomi, tmp_path, libreoffice_profile):
    from mibao_desktop.demo import computer_rows

    soffice = _tools()
    baomi.create_many("computers", [{**r, "level": "秘密"} for r in computer_rows(90)])
    out = tmp_path / "台账.xlsx"
    export_ledger(baomi, COMPUTERS, out, fields=[f.name for f in COMPUTERS.fields if f.shown])
    pdf, (width, height), pages = _pdf(soffice, out, tmp_path, libreoffice_profile)
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert text.count("秘密★") >= 2, number  # page header and footer
        assert f"第{number}页共{len(pages)}页" in text
        assert "涉密计算机台账" in text and "序号" in text and "设备编号" in text  # repeated on every page
    assert "填表人:李保密" in pages[-1] and "审核人:" in pages[-1] and f"日期:{today().year}年" in pages[-1]
    assert f"填报单位:{UNIT}" in pages[0] and "填表人" not in pages[0]
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == len(pages) and all(p.stat().st_size > 10_000 for p in pngs)


def test_the_printed_annual_summary_fits_one_a4_page(baomi, tmp_path, libreoffice_profile):
    soffice = _tools()
    baomi.create("computers", _pc(1, level="机密", start_date=today().replace(month=1, day=1)))
    baomi.create("media", medium())
    out = tmp_path / "年度.xlsx"
    export_annual_report(baomi, today().year, out)
    pdf, (width, height), pages = _pdf(soffice, out, tmp_path, libreoffice_profile)
    assert (round(width), round(height)) == (842, 595)
    summary = [i for i, text in enumerate(pages) if f"{today().year}年度保密台账汇总表" in text]
    assert summary == [0]  # the whole table, its note and the sign-off on the first page
    assert "说明" in pages[0] and "填表人:李保密" in pages[0] and "人员名册" in pages[0]
    assert all("机密★" in text and f"第{i}页共{len(pages)}页" in text for i, text in enumerate(pages, start=1))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "summary")],
                   check=True, timeout=120)
    assert next(tmp_path.glob("summary*.png")).stat().st_size > 10_000


def test_an_exports_default_marking_is_the_highest_level_of_the_rows_it_holds(service):
    from mibao_desktop.excel.export import default_marking
    from mibao_desktop.services.repository import LedgerQuery

    service.create("computers", _pc(1, level="绝密", department="保密办"))
    service.create("computers", _pc(2, level="秘密", department="科研一处"))
    assert default_marking(service, COMPUTERS) == "绝密"  # the whole ledger: from the level counts
    assert default_marking(service, COMPUTERS, LedgerQuery(text="JM-0002")) == "秘密"  # what a search holds
    assert default_marking(service, COMPUTERS, LedgerQuery(filters={"department": "科研一处"})) == "秘密"
    assert default_marking(service, COMPUTERS, LedgerQuery(text="没有这台")) == "非涉密"


def _import_without_levels(service, tmp_path, count: int) -> None:
    """Computers from a paper ledger kept without a 密级 column: stored 待补充 (level empty)."""
    from tests.test_import_layouts import save

    day = today().replace(month=1, day=1).isoformat()
    header = ["设备编号", "品牌型号", "定密时间", "使用人", "责任人", "部门", "硬盘序列号", "MAC地址", "机器序列号", "启用日期"]
    rows = [header] + [[f"JM-{n:04d}", "联想", day, "张伟", "张伟", "保密办", f"WD-{n}", f"00-1A-2B-3C-4D-{n:02X}",
                        f"SN-{n}", day] for n in range(11, 11 + count)]
    report = import_ledger(service, COMPUTERS, save(tmp_path / "无密级.xlsx", rows))
    assert report.created == count and report.pending_records == count


def test_records_whose_level_is_pending_are_counted_and_not_under_marked(baomi, tmp_path):
    from mibao_desktop.excel.export import default_marking
    from mibao_desktop.services.repository import LedgerQuery

    baomi.create("computers", _pc(1, level="秘密"))
    assert default_marking(baomi, COMPUTERS) == "秘密"
    _import_without_levels(baomi, tmp_path, 3)
    # a record of an empty 密级 may be of any level: the highest the ledger allows, never 非涉密
    assert default_marking(baomi, COMPUTERS) == "绝密"
    assert default_marking(baomi, COMPUTERS, LedgerQuery(text="JM-0012")) == "绝密"  # a search holding one
    assert default_marking(baomi, COMPUTERS, LedgerQuery(text="JM-0001")) == "秘密"  # a search holding none
    assert default_marking(baomi, COMPUTERS, LedgerQuery(filters={"level": "秘密"})) == "秘密"
    assert report_marking(baomi) == "绝密"
    baomi.change_status(baomi.find("computers", "JM-0012").id, "停用", reason="暂不使用")  # read by the status index
    baomi.void(baomi.find("computers", "JM-0013").id, "重复登记")  # no longer held
    out = tmp_path / "年度.xlsx"
    export_annual_report(baomi, today().year, out)
    ws = openpyxl.load_workbook(out)["汇总"]
    rows = _summary(ws)
    pcs = {lv: rows[("涉密计算机台账", lv)] for lv in ("秘密", "密级待补充", "小计")}
    # in a row of their own, so that the 小计 is the records held
    assert [pcs[lv]["合计"] for lv in pcs] == [1, 2, 3]
    assert [pcs["密级待补充"][c] for c in ("在用", "停用", "本年新增", "本年停用", "本年作废")] == [1, 1, 2, 1, 1]
    assert "密级\n待补充" in [c.value for c in ws["B"]]  # over two lines, where the word breaks
    assert ws["A1"].value == "绝密★"
    assert ("涉密移动存储介质台账", "密级待补充") not in rows  # a ledger with none has no such row


def test_a_persons_holdings_export_names_the_unit_set_in_print_settings(baomi, tmp_path):
    """Every export carries the unit's name (issue 12 item 6), the holdings list too, whoever
    calls it: the name set in 打印设置 when the caller gives none."""
    from mibao_desktop.excel.person_holdings import export_person_holdings
    from mibao_desktop.services.context import Services
    from mibao_desktop.services.holdings import collect

    made = baomi.create("computers", _pc(1))
    Services(baomi.db, baomi.actor).printing.set_unit_name(UNIT)
    out = tmp_path / "清单.xlsx"
    assert export_person_holdings(baomi, collect(baomi, made.values["user"].id), out) == 1
    cells = [c for row in openpyxl.load_workbook(out).active.iter_rows(values_only=True) for c in row if c]
    assert any(str(c).startswith(UNIT) for c in cells)


def test_the_printed_self_assessment_is_upright_a4_with_its_header_on_each_page(baomi, tmp_path,
                                                                                libreoffice_profile):
    from openpyxl import load_workbook

    soffice = _tools()
    baomi.create("computers", _pc(1, level="机密"))
    out = tmp_path / "年度.xlsx"
    export_annual_report(baomi, today().year, out)
    wb = load_workbook(out)
    for name in wb.sheetnames:  # the 自查自评 alone, as printed from its sheet
        if name != "自查自评":
            del wb[name]
    wb.save(out)
    pdf, (width, height), pages = _pdf(soffice, out, tmp_path, libreoffice_profile)
    assert (round(width), round(height)) == (595, 842)  # A4 portrait
    assert f"{today().year}年度保密工作自查自评表" in pages[0] and "填报单位" in pages[0]
    assert all("检查项目" in text and "机密★" in text for text in pages)  # header and marking on each page
    assert "十、泄密事件" in "".join(pages) and "填表人:李保密" in pages[-1]
    assert sum(text.count("整改措施") for text in pages) == 10 + 1  # a row under each area, and the note
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "self")], check=True, timeout=120)
    assert all(p.stat().st_size > 10_000 for p in tmp_path.glob("self*.png"))
