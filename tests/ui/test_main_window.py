"""Click through the main window: add, validate, search, sort, edit, history, undo, void."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer, medium
from tests.ui.conftest import wait_for_quick_reads


def fill(dialog, qtbot, **values):
    for name, text in values.items():
        editor = dialog.editors[name]
        widget = editor.focus_widget()
        if hasattr(editor, "combo"):
            editor.set_text(text)
        elif hasattr(editor, "line"):
            type_into(qtbot, widget, text)
            widget.editingFinished.emit()
        else:
            editor.set_text(text)


def type_into(qtbot, line, text):
    """Type ASCII key by key; Chinese arrives whole, as an input method commits it."""
    line.clear()
    if text.isascii():
        qtbot.keyClicks(line, text)
    else:
        line.insert(text)


def click_save(dialog, qtbot):
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)


GOOD = dict(asset_number="jm-2024-001", brand_model="联想 启天M437", serial_number="pc0a1b2c", level="机密级",
            classified_on="2023年3月5日", user="张伟", responsible_person="张伟", department="保密办",
            disk_serials="WD-WCC6Y0123456", mac_addresses="00:1a:2b:3c:4d:5e", location="行政楼301")


def test_navigation_lists_the_ledgers_with_counts(window, service):
    service.create("media", medium())
    texts = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert texts[0].startswith("涉密计算机") and texts[2].startswith("移动存储介质")
    window.refresh_counts()
    assert window.navigation.item(2).text().endswith(" 1")
    page = window.show_ledger("media")
    assert window.stack.currentWidget() is page
    assert page.count_label.text() == "共 1 条"


def test_add_a_computer_through_the_dialog(window, qtbot, service):
    page = window.current_page()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "新增涉密计算机"
    fill(dialog, qtbot, **GOOD)
    click_save(dialog, qtbot)
    assert not dialog.isVisible()
    stored = service.find("computers", "JM-2024-001")
    assert stored.values["mac_addresses"] == ["00-1A-2B-3C-4D-5E"]
    assert stored.values["level"] == "机密"
    assert page.count_label.text() == "共 1 条"
    assert page.detail.title.text().startswith("JM-2024-001")
    assert window.navigation.item(0).text().endswith(" 1")


def test_a_bad_mac_is_named_under_the_field_and_nothing_is_stored(window, qtbot, service):
    page = window.current_page()
    page.add_record()
    dialog = page.dialog
    fill(dialog, qtbot, **{**GOOD, "mac_addresses": "00-1A-2B-3C-4D"})
    message = dialog.error_labels["mac_addresses"]
    assert message.isVisible() and "MAC" in message.text()
    click_save(dialog, qtbot)
    assert dialog.isVisible()
    assert "MAC地址" in dialog.banner.text()
    assert service.count("computers") == 0
    fill(dialog, qtbot, mac_addresses="001a.2b3c.4d5e")
    assert not message.isVisible()
    click_save(dialog, qtbot)
    assert not dialog.isVisible() and service.count("computers") == 1


def test_a_duplicate_mac_names_the_record_it_clashes_with(window, qtbot, service):
    service.create("computers", computer(asset_number="JM-0007", mac_addresses="00-1A-2B-3C-4D-5E"))
    page = window.current_page()
    page.add_record()
    dialog = page.dialog
    fill(dialog, qtbot, **{**GOOD, "mac_addresses": "00-1a-2b-3c-4d-5e"})
    click_save(dialog, qtbot)
    assert dialog.isVisible()
    text = dialog.error_labels["mac_addresses"].text()
    assert "JM-0007" in text
    assert service.count("computers") == 1


def test_required_fields_left_empty_are_each_named(window, qtbot):
    page = window.current_page()
    page.add_record()
    dialog = page.dialog
    click_save(dialog, qtbot)
    assert dialog.error_labels["asset_number"].text() == "必填,不能为空"
    assert dialog.error_labels["user"].isVisible()
    assert "设备编号" in dialog.banner.text()


def seed(service):
    service.create("computers", computer(asset_number="JM-0001", user="张伟", department="保密办",
                                         serial_number="S1", disk_serials="D1", mac_addresses="00-00-00-00-00-01"))
    service.create("computers", computer(asset_number="JM-0002", user="李娜", department="科研一处",
                                         serial_number="S2", disk_serials="D2", mac_addresses="00-00-00-00-00-02"))
    service.create("computers", computer(asset_number="JM-0003", user="王强", department="科研一处",
                                         serial_number="S3", disk_serials="D3", mac_addresses="00-00-00-00-00-03"))


def test_the_search_box_filters_as_you_type(window, qtbot, service):
    seed(service)
    page = window.current_page()
    page.refresh()
    assert page.model.total == 3
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search.hasFocus()
    type_into(qtbot, page.search, "李娜")
    qtbot.waitUntil(lambda: page.model.total == 1)
    assert page.model.record_at(0).asset_number == "JM-0002"
    assert page.count_label.text() == "找到 1 条(共 3 条)"
    type_into(qtbot, page.search, "000000000003")  # a MAC typed without separators
    qtbot.waitUntil(lambda: page.model.total == 1 and page.model.record_at(0).asset_number == "JM-0003")


def test_the_department_filter(window, service):
    seed(service)
    page = window.current_page()
    page.refresh()
    combo = page.filters["department"]
    assert [combo.itemText(i) for i in range(combo.count())] == ["全部", "保密办", "科研一处"]
    combo.setCurrentText("科研一处")
    assert page.model.total == 2
    combo.setCurrentText("全部")
    assert page.model.total == 3


def test_clicking_a_header_sorts_in_the_database(window, qtbot, service):
    seed(service)
    page = window.current_page()
    page.refresh()
    header = page.table.horizontalHeader()
    column = page.model.column_of("serial_number")
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header.rect().center().__class__(x, 5))
    assert page.model.query.sort == "serial_number"
    first = page.model.record_at(0).asset_number
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header.rect().center().__class__(x, 5))
    assert page.model.query.descending != (first == page.model.record_at(0).asset_number)
    assert {page.model.record_at(0).asset_number, first} == {"JM-0001", "JM-0003"}


def press_on_row(window, qtbot, service, row, key):
    """Seed three computers, select a row in the table and press a key there."""
    seed(service)
    page = window.current_page()
    page.refresh()
    page.table.selectRow(row)
    page.table.setFocus()
    qtbot.keyClick(page.table, key)
    return page


def test_edit_with_enter_then_read_and_undo_the_history(window, qtbot, service, told):
    page = press_on_row(window, qtbot, service, 1, Qt.Key.Key_Return)
    dialog = page.dialog
    assert dialog is not None and dialog.windowTitle() == "修改涉密计算机 JM-0002"
    assert dialog.editors["user"].text() == "李娜"
    fill(dialog, qtbot, department="档案室")
    dialog.reason.setText("调岗")
    click_save(dialog, qtbot)
    assert not dialog.isVisible()
    assert service.find("computers", "JM-0002").values["department"] == "档案室"
    history = page.detail.history
    qtbot.waitUntil(lambda: not page.detail.loading)  # history is read off the UI thread
    assert history.topLevelItemCount() == 2
    latest = history.topLevelItem(0).text(0)
    assert "修改" in latest and "部门:科研一处 → 档案室" in latest and "调岗" in latest
    history.setCurrentItem(history.topLevelItem(0))
    assert page.detail.undo.isEnabled()
    qtbot.mouseClick(page.detail.undo, Qt.MouseButton.LeftButton)
    assert told[-1][0] == "confirm"
    assert service.find("computers", "JM-0002").values["department"] == "科研一处"
    qtbot.waitUntil(lambda: not page.detail.loading)
    assert page.detail.history.topLevelItemCount() == 3
    assert "撤销" in page.detail.history.topLevelItem(0).text(0)


def test_delete_voids_after_a_reason_and_the_record_can_be_restored(window, qtbot, service):
    page = press_on_row(window, qtbot, service, 0, Qt.Key.Key_Delete)
    dialog = page.dialog
    assert dialog is not None and "作废" in dialog.windowTitle()
    assert not dialog.ok.isEnabled()  # a reason is required
    dialog.reason.setCurrentText("重复登记")
    assert dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert page.model.total == 2
    voided = service.rows("computers", LedgerQuery(include_voided=True, filters={}))
    assert [r.void_reason for r in voided if r.voided] == ["重复登记"]
    page.show_voided.setChecked(True)
    assert page.model.total == 3
    row = next(i for i in range(3) if page.model.record_at(i).voided)
    page.table.selectRow(row)
    assert page.restore_button.isEnabled() and not page.edit_button.isEnabled()
    qtbot.mouseClick(page.restore_button, Qt.MouseButton.LeftButton)
    assert service.count("computers") == 3


def test_status_change_to_scrapped_needs_a_reason_and_destroyed_ends_editing(window, qtbot, service, told):
    seed(service)
    page = window.current_page()
    page.refresh()
    page.table.selectRow(0)
    page.change_status_selected()
    dialog = page.dialog
    dialog.status.setCurrentText("报废")
    assert dialog.form.labelForField(dialog.editors["reason"]).text() == "原因 *"  # the fact 报废 asks for
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "原因" in dialog.error.text()
    dialog.reason.setPlainText("超过使用年限")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert service.find("computers", "JM-0001").status == "报废"
    assert page.edit_button.isEnabled()
    page.change_status_selected()
    dialog = page.dialog
    assert [dialog.status.itemText(i) for i in range(dialog.status.count())] == ["已销毁"]
    dialog.reason.setPlainText("送交销毁")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert told[-1][0] == "confirm"
    assert service.find("computers", "JM-0001").status == "已销毁"
    assert not page.edit_button.isEnabled() and not page.status_button.isEnabled()
    assert "已销毁" in page.detail.title.text()


def test_the_column_chooser_is_remembered(window, qtbot, services):
    page = window.current_page()
    column = page.model.column_of("os")
    assert page.table.isColumnHidden(column)  # declared shown=False
    page.set_column_visible("os", True)
    page.set_column_visible("user", False)
    assert not page.table.isColumnHidden(column)
    assert "user" not in page.visible_fields() and "os" in page.visible_fields()
    from mibao_desktop.ui.main_window import MainWindow

    again = MainWindow(services)
    qtbot.addWidget(again)
    assert again.current_page().visible_fields() == page.visible_fields()


def test_every_ledger_page_fits_a_1366_pixel_wide_screen(qtbot, services, told):
    # the commonest screen of a classified computer: a page whose filter or button row needs more
    # pushes the window past the screen's right edge (with the demo's departments in the filter
    # lists, every page needed 1,376 px)
    from mibao_desktop.demo import fill_demo
    from mibao_desktop.ledgers import top_level
    from mibao_desktop.ui.main_window import MainWindow

    from PySide6.QtWidgets import QApplication

    from mibao_desktop.ui.app import load_chinese_font

    fill_demo(services.ledgers, scale=0.2)
    app = QApplication.instance()
    before = app.font()
    load_chinese_font(app)  # the font the app shows, whose glyphs decide the widths
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    for ledger in top_level():
        win.show_ledger(ledger.key)
        qtbot.wait(10)
        assert win.minimumSizeHint().width() <= 1366, ledger.title
    wait_for_quick_reads()
    app.setFont(before)
