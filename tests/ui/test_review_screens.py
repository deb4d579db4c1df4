"""Found looking at the real desktop at 1366×768 on the demo data, as a security administrator
would (review of the screens): what was cut off, misleading or left in English."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWizard

from tests.conftest import computer



def computers_shown(window, qtbot, service, count):
    """``count`` computers registered and the ledger's page showing them."""
    for i in range(count):
        service.create("computers", computer(asset_number=f"JM-{i:04d}", serial_number=f"S{i}", disk_serials=f"D{i}",
                                             mac_addresses=f"00-00-00-00-03-{i:02X}"))
    page = window.current_page()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.total == count)
    return page

def test_the_row_numbers_title_is_not_cut_off_in_a_short_ledger(window, qtbot, service):
    """A ledger (or a search) of fewer than 100 rows: the 序号 over the row numbers was cut to
    half a character (the column was as wide as two digits)."""
    page = computers_shown(window, qtbot, service, 3)
    corner = page.table.corner
    assert corner.text() == "序号"
    assert corner.width() >= corner.fontMetrics().horizontalAdvance("序号") + 4, corner.width()


def test_a_form_s_hint_names_only_the_kinds_of_field_it_has(qtbot, service):
    """The line over every form said “日期、MAC地址、密级可按常见写法填写”: a carrier's and a
    person's form have no MAC address, and 密级 is chosen from a list, not typed."""
    from mibao_desktop.ledgers import LEDGERS
    from mibao_desktop.ledgers.fields import Level
    from mibao_desktop.ui.record_dialog import RecordDialog

    def hint(key):
        dialog = RecordDialog(service, LEDGERS[key])
        qtbot.addWidget(dialog)
        for f in LEDGERS[key].form_fields:
            if isinstance(f.type, Level):  # 密级 is picked, never typed
                assert not dialog.editors[f.name].focus_widget().isEditable()
        return next(label.text() for label in dialog.findChildren(QLabel) if label.text().startswith("带 *"))

    assert hint("computers") == "带 * 的为必填项。日期、MAC地址可按常见写法填写,保存时自动规范。"
    assert hint("carriers") == "带 * 的为必填项。日期可按常见写法填写,保存时自动规范。"
    assert "MAC" not in hint("people") and "密级" not in hint("media")


def test_after_the_import_the_wizard_offers_no_cancel_and_names_the_register_of_people(window, qtbot, service,
                                                                                        tmp_path):
    """The import's last page showed 取消 beside 完成, when nothing can be cancelled any more,
    and it and the preview called the 人员名册 “人员台账”."""
    from tests.ui.test_import_wizard import HEADER, open_wizard, row, wait, workbook

    source = workbook(tmp_path / "台账.xlsx", ("涉密计算机", [HEADER, row("JM-0001", user="新来的")], False))
    wizard = open_wizard(window, qtbot, source)
    wizard.next()
    wizard.next()
    wait(qtbot, wizard)
    assert any("人员名册中没有的 1 人将加入名册:新来的" in label.text()
               for label in wizard.preview_page.findChildren(QLabel))
    assert wizard.button(QWizard.WizardButton.CancelButton).isVisible()  # before the import: 取消 stops it
    wizard.next()  # 导入
    qtbot.waitUntil(lambda: wizard.result_ is not None, timeout=30000)
    assert wizard.currentPage() is wizard.done_page
    assert "已在人员名册中新增 1 人:新来的" in wizard.done_page.summary.text()
    assert wizard.button(QWizard.WizardButton.FinishButton).isVisible()
    assert not wizard.button(QWizard.WizardButton.CancelButton).isVisible()


def test_qt_s_file_dialog_calls_a_folder_a_folder_in_chinese(qapp, qtbot, tmp_path):
    """Qt's own file dialog (选择文件…, 另存为) showed “Folder” in its 类型 column: qtbase_zh_CN
    lacks the word."""
    from PySide6.QtWidgets import QFileSystemModel

    from mibao_desktop.ui.translations import install_qt_chinese

    assert install_qt_chinese(qapp)
    (tmp_path / "台账").mkdir()
    model = QFileSystemModel()
    model.setRootPath(str(tmp_path))
    folder = model.index(str(tmp_path / "台账"))
    qtbot.waitUntil(lambda: model.data(model.index(folder.row(), 2, folder.parent())) not in (None, ""), timeout=5000)
    assert model.data(model.index(folder.row(), 2, folder.parent())) == "文件夹"


def test_an_empty_table_says_why_and_what_to_do(window, qtbot, service):
    """A ledger with no record yet and a search that finds nothing showed a blank table."""
    page = window.current_page()
    empty = page.table.empty
    assert empty.isVisible() and f"台账中还没有{page.ledger.noun}" in empty.text()
    assert f"“新增{page.ledger.noun}”(Ctrl+N)" in empty.text() and "从Excel导入" in empty.text()
    assert empty.geometry().intersects(page.table.viewport().geometry())
    service.create("computers", computer(asset_number="JM-0001", serial_number="S1", disk_serials="D1",
                                         mac_addresses="00-00-00-00-04-01"))
    page.refresh()
    qtbot.waitUntil(lambda: page.model.total == 1)
    assert not empty.isVisible()
    page.search.setText("没有这个词")
    qtbot.waitUntil(lambda: page.model.query.text == "没有这个词" and page.model.total == 0, timeout=5000)
    assert empty.isVisible() and "没有找到符合条件的记录" in empty.text()
    page.search.clear()
    qtbot.waitUntil(lambda: page.model.total == 1, timeout=5000)
    assert not empty.isVisible()


def test_the_search_box_s_hint_is_never_cut_off_at_1366(window, qtbot):
    """At 1366×768 the search box beside a ledger's filter lists is narrow: its hint was cut
    with “…” (涉密计算机: 输入即查找:设备编号、品牌型号…, 涉密载体: …或拼…). The longest hint
    that fits is shown; a wide box keeps the whole one."""
    from PySide6.QtWidgets import QStyle, QStyleOptionFrame

    from mibao_desktop.ledgers import top_level

    def room(search):  # where Qt draws the hint: the contents less 2 px each side (the box is empty)
        option = QStyleOptionFrame()
        search.initStyleOption(option)
        return search.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, search).width() - 4

    for ledger in top_level():
        page = window.show_ledger(ledger.key)
        qtbot.waitUntil(page.search.isVisible)
        search = page.search
        assert search.fontMetrics().horizontalAdvance(search.placeholderText()) <= room(search), (
            ledger.key, search.placeholderText(), search.width())
        assert search.placeholderText().endswith("(Ctrl+F)")
    search.resize(900, search.height())
    assert "拼音首字母" in search.placeholderText()


def test_the_shortcut_help_names_every_key_of_the_menus(window, told):
    """帮助 ▸ 快捷键 left out Ctrl+P (打印标识) and Ctrl+L (退出登录), which the menus have."""
    from PySide6.QtGui import QAction, QKeySequence

    window._show_shortcuts()
    text = told[-1][2]
    keys = {action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
            for action in window.findChildren(QAction) if not action.shortcut().isEmpty()}
    assert {"Ctrl+P", "Ctrl+L", "Ctrl+N", "F5"} <= keys
    assert [key for key in sorted(keys) if key not in text] == []


def test_tab_leaves_the_ledger_table_for_the_record_s_pane_and_comes_round(window, qtbot, service):
    """Tab went from cell to cell round the ledger's table (and the copies' table in the pane)
    and never left it: the record's pane (its history, 撤销, the copies' 办理, a person's
    打印清单 and 离岗离职…) and the navigation could not be reached from the keyboard."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractItemView, QApplication

    page = computers_shown(window, qtbot, service, 2)
    page.search.setFocus()
    stops = []
    for _ in range(80):
        widget = QApplication.focusWidget()
        if stops and widget is page.search:
            break
        stops.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    assert page.table in stops
    after = stops[stops.index(page.table) + 1:]
    assert after and page.detail.isAncestorOf(after[0]), [type(w).__name__ for w in after[:3]]
    assert widget is page.search  # round the window and back to the search box
    for key in ("people", "carriers"):  # the pages with tables in their record's pane
        window.show_ledger(key)
    tables = [view for view in window.findChildren(QAbstractItemView)
              if view.focusPolicy() & Qt.FocusPolicy.TabFocus and view.tabKeyNavigation()]
    assert tables == []


def test_esc_on_a_changed_settings_form_asks_first(window, qtbot, told):
    """Esc on 系统 ▸ 安全策略… (or any settings form, 新建账户 …) with a value changed closed it
    and lost the change without a word; the record form already asked. A close by the app (the
    window's end, the idle lock) asks nothing."""
    from PySide6.QtCore import Qt

    window.edit_policy()
    dialog = window.dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # nothing changed: closes without a question
    assert not dialog.isVisible() and told == []

    window.edit_policy()
    dialog = window.dialog
    qtbot.waitExposed(dialog)
    spin = next(iter(dialog.spins.values()))
    spin.setValue(spin.value() + 1)
    told.answers.append(False)  # 继续编辑
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert told[-1][:2] == ("confirm", "放弃修改") and dialog.isVisible()
    told.answers.append(True)  # 放弃修改
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and len(told) == 2
    window.edit_policy()
    dialog = window.dialog
    qtbot.waitExposed(dialog)
    spin = next(iter(dialog.spins.values()))
    spin.setValue(spin.value() + 1)
    dialog.close()  # closed by the app, not by the key
    assert not dialog.isVisible() and len(told) == 2
