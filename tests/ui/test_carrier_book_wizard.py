"""A hand-kept carrier book through the import wizard (issue 13 item 7): the preview shows how
many copies each row gives and names the row whose 份号 disagree with its 份数; the import
registers the copies under their carriers."""

from __future__ import annotations

from tests.test_carrier_book_import import book
from tests.ui.test_import_wizard import wait


def test_the_wizard_previews_the_copies_each_row_gives_and_imports_them(window, qtbot, service, tmp_path):
    path = book(tmp_path / "登记簿.xlsx", [
        [1, "ZT-1", "关于加强保密管理的通知", "保字〔2024〕3号", "机密★10年", 5, "1-5", "李娜", "李娜", None],
        [2, "ZT-2", "年度科研计划", None, "秘密", 2, "第1、2份", "王芳", None, None],
        [3, "ZT-3", "型号设计图纸", None, "绝密", 3, "1-5", "赵强", None, None],  # 5 copies, 份数 3
    ])
    page = window.show_ledger("carriers")
    page.import_file(path)
    wizard = page.dialog
    wait(qtbot, wizard)
    wizard.next()
    wizard.next()
    wait(qtbot, wizard)
    preview = wizard.preview_page
    assert "2 行可导入(其下载体份 7 份),1 行有错" in preview.summary.text()
    problems = [[preview.table.item(i, j).text() for j in range(3)] for i in range(preview.table.rowCount())]
    assert problems == [["6", "份号", "份号“1-5”共 5 份,与份数 3 不符:请改正份号或份数"]]
    headers = [preview.rows.horizontalHeaderItem(i).text() for i in range(preview.rows.columnCount())]
    column = headers.index("份号(载体份)")
    assert [(preview.rows.item(i, 0).text(), preview.rows.item(i, column).text())
            for i in range(preview.rows.rowCount())] == [("4", "共 5 份:1–5"), ("5", "共 2 份:1、2")]
    wizard.next()  # 导入
    qtbot.waitUntil(lambda: wizard.result_ is not None, timeout=30000)
    assert "已导入 2 条(其下载体份 7 份),未导入 1 行" in wizard.done_page.summary.text()
    carrier = service.find("carriers", "ZT-1")
    assert [(c.number, c.display("holder")) for c in service.children(carrier.id)] == [(n, "李娜") for n in range(1, 6)]


def test_a_book_kept_by_文号_is_numbered_by_it_in_the_wizard(window, qtbot, service, tmp_path):
    path = book(tmp_path / "收文.xlsx", [
        ["保字〔2024〕3号", "通知", "机密", 2, "李娜", 1, "李娜"],
        ["保字〔2024〕3号", "通知", "机密", 2, "李娜", 2, "王芳"],
    ], header=["文号", "标题", "密级", "份数", "保管人", "份号", "持有人"])
    page = window.show_ledger("carriers")
    page.import_file(path)
    wizard = page.dialog
    wait(qtbot, wizard)
    wizard.next()  # the columns: 登记编号 has none, and is taken from 文号 unless the user says otherwise
    mapping = wizard.mapping_page
    how, _value, source = mapping.fill_widgets["carrier_number"]
    assert how.currentText() == "取自另一列:" and source.currentText() == "文号"
    assert "还缺少" not in mapping.missing.text()
    wizard.next()
    wait(qtbot, wizard)
    assert "1 行可导入(其下载体份 2 份)" in wizard.preview_page.summary.text()
