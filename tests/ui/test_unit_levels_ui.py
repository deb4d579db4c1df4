"""本单位密级 in the desktop (issue 18 item 5): the security administrator sets 涉密专用 in the
settings dialog, ranked under 秘密, and the record form and the filter offer it there; the
import wizard offers to set a level the file uses that the unit has not."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from mibao_desktop.ledgers import LEDGERS, levels
from mibao_desktop.ui.record_dialog import RecordDialog

MEDIA = LEDGERS["media"]


@pytest.fixture(autouse=True)
def _three_again():
    yield
    levels.use(levels.UnitLevels())


def save_dialog(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_a_level_set_in_the_settings_dialog_is_a_choice_of_the_form_and_the_filter(window, qtbot, service):
    media_page = window.page("media")  # built before: its filter must learn the new level too
    window.edit_unit_levels()
    dialog = window.dialog
    assert dialog.order() == ["绝密", "机密", "秘密", "非涉密"]
    dialog.name.setText("涉密专用")
    dialog.below.setCurrentText("秘密")
    dialog.classified.setChecked(True)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    dialog.name.setText("内部")
    dialog.below.setCurrentText("机密")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.order() == ["绝密", "机密", "内部", "秘密", "涉密专用", "非涉密"]
    # 内部 moved down past 秘密 and 涉密专用, to just above 非涉密; never below it
    dialog.list.setCurrentRow(2)
    qtbot.mouseClick(dialog.down, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.down, Qt.MouseButton.LeftButton)
    assert dialog.order() == ["绝密", "机密", "秘密", "涉密专用", "内部", "非涉密"]
    assert not dialog.down.isEnabled()
    save_dialog(dialog)
    assert not dialog.isVisible() and not dialog.error.isVisible()
    assert levels.unit().classified == {"涉密专用"}

    form = RecordDialog(service, MEDIA, parent=window)
    qtbot.addWidget(form)
    combo = form.editors["level"].combo
    assert [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)] == ["绝密", "机密", "秘密", "涉密专用", "内部", "非涉密"]
    level_filter = media_page.filters["level"]
    assert "涉密专用" in [level_filter.itemText(i) for i in range(level_filter.count())]
    computers = RecordDialog(service, LEDGERS["computers"], parent=window)
    qtbot.addWidget(computers)
    combo = computers.editors["level"].combo
    assert [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)] == ["绝密", "机密", "秘密", "涉密专用"]


def test_an_own_level_placed_above_秘密_unticked_is_refused_in_the_dialog(window, qtbot):
    window.edit_unit_levels()
    dialog = window.dialog
    dialog.name.setText("核心秘密")
    dialog.below.setCurrentText("机密")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    save_dialog(dialog)
    assert dialog.isVisible() and "应按涉密管理" in dialog.error.text()
    assert levels.unit().order == levels.DEVICE_LEVELS


def test_the_import_wizard_offers_to_set_a_level_the_file_uses_and_checks_again(window, qtbot, tmp_path):
    from tests.test_unit_levels import media_book

    window.navigation.setCurrentRow([l.key for l in window.ledgers].index("media"))
    page = window.current_page()
    page.import_file(media_book(tmp_path / "介质台账.xlsx"))
    wizard = page.dialog
    qtbot.waitUntil(lambda: not wizard.busy, timeout=30000)
    wizard.next()
    wizard.next()  # the preview
    qtbot.waitUntil(lambda: wizard.preview is not None and not wizard.busy, timeout=30000)
    preview = wizard.preview_page
    assert preview.add_level.isVisible()
    assert "“涉密专用”(2 行)、“内部”(1 行) 不是本单位的密级" in preview.unknown_level.text()
    assert wizard.preview.accepted == 1  # nothing read as one of the three
    offer = preview.offer_level()
    assert offer.word == "涉密专用"
    offer.below.setCurrentText("秘密")
    offer.classified.setChecked(True)
    save_dialog(offer)
    qtbot.waitUntil(lambda: wizard.preview is not None and not wizard.busy, timeout=30000)
    assert levels.unit().order == ("绝密", "机密", "秘密", "涉密专用", "非涉密")
    assert wizard.preview.accepted == 3 and list(wizard.preview.unknown_levels) == ["内部"]
    assert "“内部”(1 行)" in preview.unknown_level.text()
