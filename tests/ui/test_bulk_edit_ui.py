"""批量修改 and 查找替换 clicked through offscreen: the preview lists each change before
anything is written, a changed input asks for a new preview, 确定修改 asks, then writes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mibao_desktop.ledgers.computers import computer_rows
from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.ui.bulk_edit_dialog import BulkEditDialog


@pytest.fixture
def computers(service):
    rows = list(computer_rows(5, seed=31))
    for row in rows:
        row["department"] = "科研一处"
    return [service.get(rid) for rid in service.create_many("computers", rows).created]


def _wait(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.task is not None and not dialog.task.running, timeout=10_000)


def test_set_a_field_on_the_selected_records(qtbot, services, told, computers):
    ledger = services.ledgers.ledger("computers")
    chosen = [c.id for c in computers[:3]]
    dialog = BulkEditDialog(services.bulk_edit, ledger, chosen,
                            suggest=lambda f: (lambda text: services.ledgers.suggestions(ledger, f.name, text)))
    qtbot.addWidget(dialog)
    dialog.show()
    assert "批量修改" in dialog.windowTitle() and "3" in dialog.windowTitle()
    labels = [dialog.field.itemText(i) for i in range(dialog.field.count())]
    assert "部门" in labels and "设备编号" not in labels and "状态" not in labels
    dialog.field.setCurrentIndex(labels.index("部门"))
    dialog.editors["department"].set_text("科研1处")
    assert not dialog.ok.isEnabled()  # nothing to apply before a preview
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    _wait(qtbot, dialog)
    assert dialog.ok.isEnabled()
    assert dialog.changes.rowCount() == 3
    assert [dialog.changes.item(r, 2).text() for r in range(3)] == ["科研1处"] * 3
    assert "将修改 3 条" in dialog.summary.text()
    assert {services.ledgers.get(i).values["department"] for i in chosen} == {"科研一处"}  # the preview wrote nothing
    dialog.editors["department"].set_text("科研2处")  # changed after the preview: it must be previewed again
    assert not dialog.ok.isEnabled() and "重新预览" in dialog.summary.text()
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    _wait(qtbot, dialog)
    dialog.reason.setText("处室更名")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    _wait(qtbot, dialog)
    assert told[0][0] == "confirm" and "3 条" in told[0][2]
    assert [services.ledgers.get(i).values["department"] for i in chosen] == ["科研2处"] * 3
    assert services.ledgers.get(computers[3].id).values["department"] == "科研一处"
    assert services.ledgers.history(chosen[0])[0].reason == "处室更名"
    assert dialog.result is not None and dialog.result.applied


def test_find_and_replace_shows_refusals_and_writes_only_after_asking(qtbot, services, told, computers):
    services.ledgers.change_status(computers[0].id, "已销毁", reason="报废销毁")
    ledger = services.ledgers.ledger("computers")
    dialog = BulkEditDialog(services.bulk_edit, ledger, query=LedgerQuery())
    qtbot.addWidget(dialog)
    dialog.show()
    assert "查找替换" in dialog.windowTitle()
    dialog.field.setCurrentIndex(dialog.field.findData("department"))
    dialog.find.setText("科研一处")
    dialog.replacement.setText("第一研究室")
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    _wait(qtbot, dialog)
    assert dialog.changes.rowCount() == 4 and dialog.refused.rowCount() == 1
    assert dialog.refused.item(0, 0).text() == computers[0].number
    told.answers.append(False)  # 取消 at the confirmation: nothing written
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert services.ledgers.facet_counts("computers", "department") == {"科研一处": 5}
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    _wait(qtbot, dialog)
    assert services.ledgers.facet_counts("computers", "department") == {"第一研究室": 4, "科研一处": 1}  # the destroyed one kept


def test_the_main_window_opens_both_from_the_records_menu(qtbot, window, told, computers):
    page = window.current_page()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 5, timeout=5000)
    page.table.clearSelection()
    page.bulk_edit_selected()  # nothing selected
    assert told[-1][0] == "inform" and "请先在表中选择" in told[-1][2]
    page.table.selectAll()
    page.bulk_button.click()
    dialog = page.dialog
    assert dialog is not None and "所选 5 条" in dialog.windowTitle()
    dialog.field.setCurrentIndex(dialog.field.findData("location"))
    dialog.editors["location"].set_text("机房")
    dialog.run_preview()
    _wait(qtbot, dialog)
    dialog.ok.click()
    _wait(qtbot, dialog)
    qtbot.waitUntil(lambda: page.dialog is None, timeout=5000)
    assert all(r.values["location"] == "机房" for r in page.service.query("computers", LedgerQuery(limit=None)).rows)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)  # 查找替换 from the keyboard
    assert page.dialog is not None and "查找替换" in page.dialog.windowTitle()
    page.dialog.reject()


def test_the_shortcut_help_names_the_new_keys(window, told):
    window._show_shortcuts()
    text = told[-1][2]
    for key in ("Ctrl+H 查找替换", "Ctrl+C 复制所选行", "Alt+↓"):
        assert key in text
