"""The import wizard clicked through as a user would: real files written by openpyxl, the real
Qt-free importer and a real service; reading, the preview and the import run off the UI thread."""

from __future__ import annotations

import threading
import time

import openpyxl
import pytest
from openpyxl.styles import Font
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QProgressDialog, QPushButton, QWizard

from mibao_desktop.errors import Cancelled
from mibao_desktop.ui import excel_dialogs
from tests.conftest import computer

HEADER = ["设备编号", "设备类型", "品牌型号", "密级", "定密时间", "使用人", "责任人", "部门", "硬盘序列号", "MAC地址",
          "联网情况"]


def row(number: str, user: str = "张伟", level: str = "机密", department: str | None = "保密办", mac: str | None = None):
    return [number, "台式机", "联想 启天", level, "2020.3.5", user, user, department, f"D-{number}",
            mac or f"00-1A-2B-3C-{number[-4:-2]}-{number[-2:]}", "单机"]


def workbook(path, *sheets, title="某单位涉密计算机台账"):
    """Sheets as (name, rows, hidden); each ledger-like sheet under a title row."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows, hidden in sheets:
        ws = wb.create_sheet(name)
        if title and rows and rows[0] == HEADER:
            ws.append([title])
        for r in rows:
            ws.append(r)
        if hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def open_wizard(window, qtbot, path):
    page = window.current_page()
    page.import_file(path)
    wizard = page.dialog
    wait(qtbot, wizard)
    return wizard


def wait(qtbot, wizard):
    qtbot.waitUntil(lambda: not wizard.busy, timeout=30000)


def cancel_button(task):
    return next(b for b in task.dialog.findChildren(QPushButton) if b.text() == "取消")


def hostile_workbook(path):
    """Everything a hand-kept ledger does: a struck-through row, a 合计 row, a department merged
    down, 机密★10年, a duplicate within the file, a clash with the database, a bad MAC, a new person."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年"
    ws.append(["某单位涉密计算机台账(2024 年)"])  # row 1
    ws.append(HEADER)  # row 2
    ws.append(row("JM-0101"))  # 3
    ws.append(row("JM-0102", department=None))  # 4: 保密办 merged down from row 3
    ws.merge_cells("H3:H4")
    ws.append(row("JM-0103", level="机密★10年"))  # 5
    ws.append(row("JM-0104", mac="00-00-00-00-01"))  # 6: a bad MAC
    ws.append(row("JM-0101", user="李娜"))  # 7: the same number as row 3
    ws.append(row("JM-0900"))  # 8: already in the database
    ws.append(row("JM-0105", user="新来的人"))  # 9: not in the register yet
    ws.append(row("JM-0106"))  # 10: struck through by hand
    for cell in ws[10]:
        cell.font = Font(strike=True)
    ws.append(["合计", None, None, None, None, None, None, None, None, None, "6 台"])  # 11
    wb.save(path)
    return path



def held_until_cancelled(threads, started, steps=None):
    """A stand-in for the reading or the dry run: notes its thread (and whether it is a dry
    run), reports some progress, and runs until 取消 is pressed."""
    def slow(*_args, progress=None, cancelled=None, dry_run=False, **_kwargs):
        threads.append(threading.get_ident())
        if steps is not None:
            steps.append(dry_run)
        started.set()
        progress(1, 10)
        while not cancelled():
            time.sleep(0.01)
        raise Cancelled()

    return slow

def test_reading_runs_off_the_ui_thread_and_can_be_cancelled(window, qtbot, tmp_path, monkeypatch):
    source = workbook(tmp_path / "台账.xlsx", ("台账", [HEADER, row("JM-0101")], False))
    started, threads = threading.Event(), []
    real = excel_dialogs.plan_import

    monkeypatch.setattr(excel_dialogs, "plan_import", held_until_cancelled(threads, started))
    page = window.current_page()
    page.import_file(source)
    wizard = page.dialog
    assert started.wait(10) and wizard.busy and not wizard.file_page.isComplete()
    assert isinstance(wizard.task.dialog, QProgressDialog)
    cancel_button(wizard.task).click()
    wait(qtbot, wizard)
    assert threads[0] != threading.get_ident()
    assert wizard.plan is None and not wizard.file_page.isComplete()
    assert "已取消" in wizard.file_page.info.text() and wizard.file_page.error.text() == ""
    monkeypatch.setattr(excel_dialogs, "plan_import", real)
    wizard.file_page.open_file(source)  # choosing the file again reads it
    wait(qtbot, wizard)
    assert wizard.file_page.isComplete() and wizard.file_page.path.text() == str(source)


def test_the_file_dialog_offers_every_format_the_reader_reads(window, qtbot, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(excel_dialogs.QFileDialog, "getOpenFileName",
                        staticmethod(lambda _parent, _title, _dir, filters: seen.append(filters) or ("", "")))
    page = window.current_page()
    page.import_file()
    wizard = page.dialog
    wizard.file_page.choose.click()
    assert all(f"*{ext}" in seen[0] for ext in (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"))
    subtitle = wizard.file_page.subTitle()
    assert all(ext in subtitle for ext in (".xlsx", ".xls", ".ods", ".csv", ".txt"))
    assert wizard.plan is None and not wizard.busy


def test_an_unreadable_file_is_explained_in_red_in_the_page(window, qtbot, tmp_path):
    bogus = tmp_path / "不是表格.xlsx"
    bogus.write_bytes(b"PK\x03\x04 this is not a workbook")
    wizard = open_wizard(window, qtbot, bogus)
    page = wizard.file_page
    assert page.error.text() and "Error" not in page.error.text() and "发生了意外错误" not in page.error.text()
    assert "color" in page.error.styleSheet() and not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_every_sheet_is_listed_and_the_other_ledger_sheets_are_named(window, qtbot, tmp_path):
    source = workbook(tmp_path / "三年.xlsx",
                      ("填表说明", [["本表由各处室填报"], ["请勿修改表头"]], False),
                      ("2023年", [HEADER, row("JM-0001"), row("JM-0002")], False),
                      ("2024年", [HEADER, row("JM-0101"), row("JM-0102"), row("JM-0103")], False),
                      ("旧表", [HEADER, row("JM-0901")], True))
    wizard = open_wizard(window, qtbot, source)
    page = wizard.file_page
    items = [page.sheet.itemText(i) for i in range(page.sheet.count())]
    assert len(items) == 4  # every sheet, with its row count
    assert items[0].startswith("填表说明(2 行)") and "未识别表头" in items[0]
    assert items[1].startswith("2023年(4 行)") and "未识别表头" not in items[1]
    assert "(隐藏)" in items[3] and "(隐藏)" not in items[1] + items[2]
    chosen = page.sheet.currentIndex()
    assert chosen in (1, 2)
    others = [name for name in ("2023年", "2024年", "旧表") if name != wizard.plan.sheets[chosen].name]
    assert all(f"“{name}" in page.info.text() for name in others)  # none skipped silently
    page.sheet.setCurrentIndex(2)  # 2024年: the header is found again (off the UI thread)
    wait(qtbot, wizard)
    assert wizard.plan.sheet_index == 2 and "第 2 行" in page.info.text() and "其下有 3 行" in page.info.text()
    assert "“2023年”" in page.info.text() and "“2024年”" not in page.info.text()
    page.sheet.setCurrentIndex(0)  # no ledger header there: said so, and the mapping can be done by hand
    wait(qtbot, wizard)
    assert "找不到" in page.info.text() and page.isComplete()
    page.sheet.setCurrentIndex(2)
    wait(qtbot, wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.mapping_page and wizard.mapping_page.isComplete()


def test_the_mapping_offers_status_and_gathers_several_columns(window, qtbot, tmp_path):
    header = [*HEADER[:9], "MAC1", "MAC2", "状态", "备注", "说明", "联网情况"]
    first = [*row("JM-0101")[:9], "00-1A-2B-3C-01-01", "00-1A-2B-3C-01-02", "在用", "三楼", "加装防护", "单机"]
    source = workbook(tmp_path / "两个MAC.xlsx", ("台账", [header, first], False))
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    page = wizard.mapping_page
    combo = page.combos[11]
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items[0] == "(不导入)" and "状态" in items and "设备编号 *" in items and "备注" in items
    assert [combo.itemData(i) for i in range(1, combo.count())] == [n for n, _l, _r in wizard.plan.choices()]
    assert combo.currentData() == "status"
    assert page.combos[9].currentData() == page.combos[10].currentData() == "mac_addresses"
    assert "“MAC地址”由 2 列合并导入" in page.gathered.text()
    assert page.table.item(9, 1).text() == "00-1A-2B-3C-01-01"  # the example is the first data row
    assert page.table.item(0, 1).text() == "JM-0101"
    page.set_column(13, "remarks")  # 说明 with 备注: a gathering field keeps both columns
    assert page.combos[12].currentData() == page.combos[13].currentData() == "remarks"
    page.set_column(14, "department")  # a field of one value moves: 部门 goes back to 不导入
    assert page.combos[14].currentData() == "department" and page.combos[7].currentData() is None
    assert wizard.plan.mapping.get(7) is None and page.isComplete()
    page.set_column(0, None)  # the required 设备编号 unmapped: said so, and 下一步 waits
    assert "设备编号" in page.missing.text() and not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_the_preview_shows_every_problem_the_rows_the_notes_and_the_rows_left_out(window, qtbot, service, tmp_path):
    service.create("computers", computer(asset_number="JM-0900", serial_number="S900", disk_serials="D900",
                                         mac_addresses="00-1A-2B-3C-09-00"))
    source = hostile_workbook(tmp_path / "手工台账.xlsx")
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    wizard.next()
    preview = wizard.preview_page
    assert wizard.busy and not preview.isComplete()  # the dry run is off the UI thread
    wait(qtbot, wizard)
    report = wizard.preview
    assert preview.isComplete() and service.count("computers") == 1  # nothing stored by the preview
    summary = preview.summary.text()
    assert f"{report.accepted} 行可导入,{report.refused_rows} 行有错,2 行不导入(删除线/合计)" in summary
    assert report.refused_rows >= 3 and "新来的人" in summary
    assert [preview.tabs.tabText(i).split("(")[0] for i in range(preview.tabs.count())] == [
        "问题", "将导入的行", "不导入的行", "说明", "表头上下的文字"]
    problems = [[preview.table.item(i, j).text() for j in range(3)] for i in range(preview.table.rowCount())]
    assert problems == [[str(r.row), r.column, r.message] for r in report.refused]
    refused_at = {p[0] for p in problems}
    assert {"6", "8"} <= refused_at and refused_at & {"3", "7"}  # the bad MAC, the clash, the duplicate
    assert preview.rows.columnCount() == len(report.row_labels) + 1
    assert [preview.rows.horizontalHeaderItem(i).text() for i in range(preview.rows.columnCount())] == [
        "行号", *report.row_labels]
    assert [preview.rows.item(i, 0).text() for i in range(preview.rows.rowCount())] == [str(n) for n, _ in report.rows]
    assert preview.rows.rowCount() == report.accepted
    level = report.row_labels.index("密级") + 1
    row5 = next(i for i in range(preview.rows.rowCount()) if preview.rows.item(i, 0).text() == "5")
    assert preview.rows.item(row5, level).text().startswith("机密")  # 机密★10年 as it will be stored
    assert preview.notes.rowCount() == len(report.notes) and report.notes
    notes = " ".join(preview.notes.item(i, 2).text() for i in range(preview.notes.rowCount()))
    assert "合并单元格" in notes
    left = [[preview.left_out.item(i, j).text() for j in range(2)] for i in range(preview.left_out.rowCount())]
    assert [r[0] for r in left] == ["10", "11"] and "删除线" in left[0][1] and "合计" in left[1][1]
    assert preview.include_flagged.isVisible() and preview.include_flagged.text() == "也导入有删除线的行和小计/合计行"
    assert preview.good_rows.isChecked() and wizard.button(QWizard.WizardButton.CommitButton).text() == "导入"

    preview.include_flagged.click()  # the preview runs again with the flagged rows taken
    assert wizard.plan.include_flagged and wizard.busy
    wait(qtbot, wizard)
    again = wizard.preview
    assert again is not report and not again.left_out and preview.left_out.rowCount() == 0
    assert again.accepted == report.accepted + 1  # the struck-through row is checked like any other
    assert 11 in {r.row for r in again.refused}  # and the 合计 line is refused as a record
    preview.include_flagged.click()
    wait(qtbot, wizard)
    assert not wizard.plan.include_flagged and len(wizard.preview.left_out) == 2


def test_the_import_says_what_came_in_and_saves_what_did_not(window, qtbot, service, tmp_path):
    service.create("computers", computer(asset_number="JM-0900", serial_number="S900", disk_serials="D900",
                                         mac_addresses="00-1A-2B-3C-09-00"))
    source = hostile_workbook(tmp_path / "手工台账.xlsx")
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    wizard.next()
    wait(qtbot, wizard)
    accepted, refused_rows = wizard.preview.accepted, wizard.preview.refused_rows
    wizard.next()  # 导入
    assert wizard.busy and wizard.importing
    qtbot.waitUntil(lambda: wizard.result_ is not None, timeout=30000)
    assert wizard.currentPage() is wizard.done_page
    report = wizard.result_
    assert report.created == accepted and service.count("computers") == 1 + accepted
    text = wizard.done_page.summary.text()
    assert f"已导入 {accepted} 条,未导入 {refused_rows + 2} 行" in text and "删除线/合计 2 行" in text
    assert wizard.done_page.save_button.isEnabled()
    saved = wizard.done_page.save_refused(tmp_path / "未导入.xlsx")
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0][0] == "某单位涉密计算机台账(2024 年)" and rows[1][:len(HEADER)] == tuple(HEADER)
    assert rows[1][-1] == "未导入原因"
    written = {r[-1].split(" ")[1] for r in rows[2:]}  # 第 6 行:[MAC地址] ……
    assert written == {str(r.row) for r in report.refused}


def hand_kept(path, kind):
    """A hand-kept ledger as an .ods (LibreOffice/WPS) or .xls (older Excel/WPS) keeps it: a title
    over the table, a department merged down, an asset number shown 000012 by its format, a
    computer struck through by hand, and an Excel error cell."""
    import xlwt

    from tests import spreadsheets

    rows = [["某单位涉密计算机台账"], HEADER, row("JM-0101", department="科研一处"), row("JM-0102", department=None),
            row("JM-0103"), row("JM-0104"), row("JM-0105")]
    rows[4][0] = 12  # 000012
    if kind == "ods":
        cell = spreadsheets.OdsCell
        rows[0] = [cell(rows[0][0], cols=len(HEADER))]
        rows[2][7] = cell("科研一处", rows=2)
        rows[4][0] = cell(12, style="zeros", shown="000012")
        rows[5] = [cell(v, style="struck") for v in rows[5]]
        rows[6][2] = cell(error="#N/A", formula="=VLOOKUP(A7;型号表;2;0)")
        return spreadsheets.ods(path, [("台账", rows, False)])
    rows[6][2] = spreadsheets.XlsError("#N/A")
    struck, padded = xlwt.easyxf("font: struck_out on"), xlwt.easyxf(num_format_str="000000")
    styles = {(5, c): struck for c in range(len(HEADER))} | {(4, 0): padded}
    return spreadsheets.xls(path, rows, merges=((0, 0, 0, len(HEADER) - 1), (2, 3, 7, 7)), styles=styles)


@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_an_ods_and_an_xls_preview_import_and_save_what_did_not_come_in(window, qtbot, service, tmp_path, kind):
    source = hand_kept(tmp_path / f"手工台账.{kind}", kind)
    wizard = open_wizard(window, qtbot, source)
    assert wizard.plan.header_number == 2
    wizard.next()
    wizard.next()
    wait(qtbot, wizard)
    report, preview = wizard.preview, wizard.preview_page
    assert (report.accepted, [r.row for r in report.left_out]) == (3, [6])
    assert [(r.row, r.column) for r in report.refused] == [(7, "品牌型号")] and "#N/A" in report.refused[0].message
    problems = [[preview.table.item(i, j).text() for j in range(3)] for i in range(preview.table.rowCount())]
    assert problems == [["7", "品牌型号", report.refused[0].message]]
    shown = {preview.rows.item(i, 0).text(): preview.rows.item(i, 1).text() for i in range(preview.rows.rowCount())}
    assert shown == {"3": "JM-0101", "4": "JM-0102", "5": "000012"}
    notes = " ".join(preview.notes.item(i, 2).text() for i in range(preview.notes.rowCount()))
    assert "第 3–4 行是合并单元格“科研一处”" in notes and "000012" in notes
    assert [preview.left_out.item(0, j).text() for j in range(2)][0] == "6"
    wizard.next()  # 导入
    qtbot.waitUntil(lambda: wizard.result_ is not None, timeout=30000)
    assert wizard.result_.created == 3 and service.find("computers", "JM-0102").values["department"] == "科研一处"
    saved = wizard.done_page.save_refused(tmp_path / "未导入.xlsx")
    sheet = openpyxl.load_workbook(saved).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "某单位涉密计算机台账" and rows[1][-1] == "未导入原因"
    assert rows[2][:3] == ("JM-0105", "台式机", "#N/A") and rows[2][-1].startswith("第 7 行:")
    assert "A1:K1" in {str(r) for r in sheet.merged_cells.ranges}


def test_all_or_nothing_imports_nothing_and_says_so(window, qtbot, service, tmp_path):
    source = hostile_workbook(tmp_path / "手工台账.xlsx")
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    wizard.next()
    wait(qtbot, wizard)
    wizard.preview_page.nothing.click()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.result_ is not None, timeout=30000)
    assert service.count("computers") == 0
    text = wizard.done_page.summary.text()
    assert "已导入 0 条" in text and "一行也不导入" in text


def test_every_control_is_reached_by_tab_and_esc_closes(window, qtbot, tmp_path):
    source = workbook(tmp_path / "台账.xlsx", ("台账", [HEADER, row("JM-0101")], False))
    wizard = open_wizard(window, qtbot, source)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitExposed(wizard)

    def tab_round(start, count=60):
        start.setFocus()
        seen = []
        for _ in range(count):
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            seen.append(QApplication.focusWidget())
        return seen

    page = wizard.file_page
    seen = tab_round(page.choose)
    assert page.sheet in seen and wizard.button(QWizard.WizardButton.NextButton) in seen
    wizard.next()
    mapping = wizard.mapping_page
    seen = tab_round(mapping.table)
    assert all(c in seen for c in mapping.combos)
    assert wizard.button(QWizard.WizardButton.NextButton) in seen
    wizard.next()
    wait(qtbot, wizard)
    preview = wizard.preview_page
    seen = tab_round(preview.tabs)
    for widget in (preview.good_rows, wizard.button(QWizard.WizardButton.CommitButton),
                   wizard.button(QWizard.WizardButton.CancelButton)):
        assert widget in seen
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not wizard.isVisible() and wizard.result() == 0


def test_closing_while_the_import_runs_asks_and_cancels_it(window, qtbot, service, tmp_path, told, monkeypatch):
    source = workbook(tmp_path / "台账.xlsx", ("台账", [HEADER, row("JM-0101"), row("JM-0102")], False))
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    wizard.next()
    wait(qtbot, wizard)
    real = excel_dialogs.run_import
    release = threading.Event()

    def held(service_, plan, *, all_or_nothing=False, dry_run=False, progress=None, cancelled=None, preview=None):
        def waiting():
            release.wait(10)
            return cancelled()
        return real(service_, plan, all_or_nothing=all_or_nothing, dry_run=dry_run, progress=progress,
                    cancelled=waiting, preview=preview)

    monkeypatch.setattr(excel_dialogs, "run_import", held)
    wizard.next()  # 导入
    assert wizard.busy and wizard.importing
    told.answers.append(False)  # 继续导入
    wizard.reject()
    assert told[-1][:2] == ("confirm", "正在导入") and wizard.isVisible() and wizard.busy
    told.answers.append(True)  # 取消导入
    wizard.reject()
    release.set()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=30000)
    assert wizard.result_ is None and service.count("computers") == 0  # nothing of it kept
    assert any(t[1] == "导入已取消" for t in told)


def test_esc_while_reading_closes_without_asking(window, qtbot, tmp_path, told, monkeypatch):
    release = threading.Event()

    def slow(ledger, path, saved, *, progress=None, cancelled=None, sheet=None):
        release.wait(10)
        raise Cancelled()

    monkeypatch.setattr(excel_dialogs, "plan_import", slow)
    page = window.current_page()
    page.import_file(tmp_path / "任意.xlsx")
    wizard = page.dialog
    assert wizard.busy
    wizard.reject()
    release.set()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=10000)
    assert not [t for t in told if t[0] == "confirm"]


def test_the_combo_boxes_are_the_plans_choices(window, qtbot, tmp_path):
    source = workbook(tmp_path / "台账.xlsx", ("台账", [HEADER, row("JM-0101")], False))
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    required = {label for _n, label, r in wizard.plan.choices() if r}
    combo: QComboBox = wizard.mapping_page.combos[0]
    marked = {combo.itemText(i)[:-2] for i in range(combo.count()) if combo.itemText(i).endswith(" *")}
    assert marked == required


def test_the_preview_runs_off_the_ui_thread_with_progress_and_can_be_cancelled(window, qtbot, service, tmp_path,
                                                                                 monkeypatch):
    """Issue 10 item 4: the dry run, like the reading, is off the UI thread, shows its progress and
    stops at 取消; the page then says so and 重新检查 runs it again."""
    source = workbook(tmp_path / "台账.xlsx", ("台账", [HEADER, row("JM-0101"), row("JM-0102")], False))
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    real = excel_dialogs.run_import
    started, threads, steps = threading.Event(), [], []

    monkeypatch.setattr(excel_dialogs, "run_import", held_until_cancelled(threads, started, steps))
    wizard.next()  # the preview
    page = wizard.preview_page
    assert started.wait(10) and wizard.busy and not page.isComplete()
    assert isinstance(wizard.task.dialog, QProgressDialog)
    cancel_button(wizard.task).click()
    wait(qtbot, wizard)
    assert threads[0] != threading.get_ident() and steps == [True]
    assert wizard.preview is None and not page.isComplete() and wizard.currentPage() is page
    assert "检查已取消" in page.summary.text() and page.retry.isVisible()
    assert service.count("computers") == 0
    monkeypatch.setattr(excel_dialogs, "run_import", real)
    page.retry.click()
    wait(qtbot, wizard)
    assert page.isComplete() and wizard.preview.accepted == 2 and service.count("computers") == 0
