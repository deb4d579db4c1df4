"""The import wizard with a unit's own layout (issue 18): it shows how each column was
understood, offers a choice for each required column the file never kept, shows the form
lines and the 合计 check, and the records it marks 待补充 are listed on the ledger page."""

from __future__ import annotations

import datetime as dt

import openpyxl
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from mibao_desktop.excel.importer import FROM, PENDING, VALUE

HEADER = ["序号", "保密\n编号", "设备类型", "品牌 型号", "密  级", "责任人", "科室/课题组", "磁盘序列号", "mac地址",
          "使用\n情况", "启用时间:", "备注"]


def university(path):
    """A title-less header in row 1, no 定密时间 and no 使用人; a 合计 row and sign-off lines under it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([1, "BM-001", "台式机", "联想 启天", "秘密", "陈明", "物理系", "WD-A1", "00-1A-2B-3C-4D-01", "在用",
               dt.datetime(2019, 3, 5), None])
    ws.append([2, "BM-002", "便携机", "华为 MateBook", "机密", "刘洋", "化学系", "WD-B2", "00-1A-2B-3C-4D-02", "在用",
               dt.datetime(2020, 9, 1), None])
    ws.append(["合计", None, None, None, None, None, None, None, None, None, None, "3 台"])
    ws.append(["保管人签字:", None, None, None, None, "批准人签字:"])
    wb.save(path)
    return path


def test_the_wizard_shows_each_column_understood_and_offers_a_choice_for_a_column_never_kept(
        window, qtbot, service, tmp_path):
    page = window.current_page()
    assert page.ledger.key == "computers"
    page.import_file(university(tmp_path / "计算机台帐.xlsx"))
    wizard = page.dialog
    qtbot.waitUntil(lambda: not wizard.busy, timeout=30000)
    assert "表头在第 1 行" in wizard.file_page.info.text()
    wizard.next()
    mapping = wizard.mapping_page
    understood = {mapping.table.item(i, 0).text(): mapping.table.item(i, 2).text() for i in range(len(HEADER))}
    assert understood["科室/课题组"] == "按同义词“科室/课题组”识别为“部门”"
    assert understood["使用情况"] == "按同义词“使用情况”识别为“状态”"  # a line break in a header is not shown
    assert understood["mac地址"] == "按列名识别为“MAC地址”" and understood["序号"] == "未识别,不导入"
    assert mapping.combos[6].currentData() == "department"
    # the two required fields the unit never kept: a choice each, 待补充 by default, and 下一步 open
    assert list(mapping.fill_widgets) == ["classified_on", "user"]
    assert "定密时间、使用人" in mapping.missing.text() and mapping.isComplete()
    how, value, source = mapping.fill_widgets["classified_on"]
    assert [how.itemText(i) for i in range(how.count())] == ["留空,标为“待补充”", "每一行都填:", "取自另一列:"]
    mapping.set_fill("user", VALUE, "")
    assert not mapping.isComplete()  # a value for every row must be given
    mapping.set_fill("user", PENDING)
    mapping.set_fill("classified_on", FROM, 10)  # 定密时间 from 启用时间
    assert source.currentText() == "启用时间:" and mapping.isComplete()
    mapping.combos[0].setCurrentIndex(mapping.combos[0].findData("remarks"))  # the user changes a column
    assert mapping.table.item(0, 2).text() == "按您的指定"

    wizard.next()
    qtbot.waitUntil(lambda: not wizard.busy, timeout=30000)
    preview = wizard.preview_page
    summary = preview.summary.text()
    assert "其中 2 条缺少使用人,将标为“待补充”" in summary
    assert "第 4 行的合计写的是 3,表中有 2 条记录" in summary
    assert preview.tabs.tabText(4) == "表头上下的文字(2)"
    assert [[preview.form.item(i, j).text() for j in range(3)] for i in range(preview.form.rowCount())] == [
        ["5", "保管人签字", ""], ["5", "批准人签字", ""]]
    labels = wizard.preview.row_labels
    first = [preview.rows.item(0, j).text() for j in range(preview.rows.columnCount())]
    assert first[labels.index("定密时间") + 1] == "2019-03-05" and first[labels.index("部门") + 1] == "物理系"
    assert first[labels.index("使用人") + 1] == "待补充"

    wizard.next()  # 导入
    qtbot.waitUntil(lambda: wizard.result_ is not None, timeout=30000)
    assert "其中 2 条标为“待补充”(缺少使用人)" in wizard.done_page.summary.text()
    assert service.find("computers", "BM-001").values["classified_on"] == dt.date(2019, 3, 5)
    assert service.find("computers", "BM-001").values["remarks"] == "1"
    wizard.accept()

    # the ledger page lists them on their own, the gap shown in the table
    page.refresh()
    page.only_pending.setChecked(True)
    qtbot.waitUntil(lambda: page.model.total == 2, timeout=10000)
    user = next(i for i, f in enumerate(page.model.fields) if f.name == "user")
    assert page.model.index(0, user).data(Qt.ItemDataRole.DisplayRole) == "待补充"
    assert "找到 2 条" in page.count_label.text()
    page.table.selectRow(0)  # the detail pane names the gap too
    qtbot.waitUntil(lambda: "待补充" in [label.text() for label in page.detail.findChildren(QLabel)], timeout=10000)
    service.update(service.find("computers", "BM-001").id, {"user": "陈明"})
    page.refresh()
    qtbot.waitUntil(lambda: page.model.total == 1, timeout=10000)
    page.only_pending.setChecked(False)
    qtbot.waitUntil(lambda: page.model.total == 2, timeout=10000)
