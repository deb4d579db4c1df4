"""Issue 12 item 5 at the keyboard: 变更状态 shows exactly the facts the chosen status asks for,
Tab walks them in reading order, a missing one is named in Chinese, and they are saved with the
change; the history shows them and offers 撤销此状态变更, which is recorded as a reversal."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from mibao_desktop.services.repository import LedgerQuery
from mibao_desktop.ui.lifecycle_dialogs import StatusDialog
from tests.ui.test_keyboard_and_table import tab_stops
from tests.ui.test_main_window import seed


def open_status_dialog(window, qtbot, service, number="JM-0001"):
    page = window.current_page()
    page.refresh()
    page.select_record(service.find("computers", number).id)
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    dialog = page.dialog
    assert isinstance(dialog, StatusDialog)
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return page, dialog


def choose_by_keyboard(qtbot, combo, text):
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText() == text:
            break
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == text
    qtbot.wait(10)  # the fields of the status chosen are shown by the event loop, as on screen


def typed(qtbot, text):
    """Type into the focused widget: ASCII key by key, Chinese whole (as an input method commits it)."""
    widget = QApplication.focusWidget()
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        widget.insert(text)


def test_takeout_by_keyboard_shows_its_facts_checks_them_and_saves_them(window, qtbot, service):
    seed(service)
    page, dialog = open_status_dialog(window, qtbot, service)
    choose_by_keyboard(qtbot, dialog.status, "停用")
    assert list(dialog.editors) == ["reason"]  # a status without facts asks only an optional 原因
    choose_by_keyboard(qtbot, dialog.status, "外出")
    assert list(dialog.editors) == ["destination", "trip_purpose", "carried_by", "return_by"]
    assert dialog.reason is None  # 外出 asks no 原因: exactly its facts
    labels = [dialog.form.labelForField(e).text() for e in dialog.editors.values()]
    assert labels == ["外出地点 *", "外出事由 *", "携带人 *", "预计返回日期 *"]
    fields = [e.focus_widget() for e in dialog.editors.values()]
    stops = tab_stops(qtbot, dialog, dialog.status)
    assert stops[:6] == [dialog.status, dialog.date, *fields]  # reading order
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert stops[6] is ok

    # Tab from the date into the facts, typing each; the carrier is left out at first
    dialog.status.setFocus()
    qtbot.keyClick(dialog.status, Qt.Key.Key_Tab)
    qtbot.keyClick(dialog.date, Qt.Key.Key_Tab)
    assert fields[0].hasFocus()
    typed(qtbot, "北京航天城")
    qtbot.keyClick(fields[0], Qt.Key.Key_Tab)
    assert fields[1].hasFocus()
    typed(qtbot, "型号评审会")
    qtbot.keyClick(fields[1], Qt.Key.Key_Tab)
    assert fields[2].hasFocus()
    qtbot.keyClick(fields[2], Qt.Key.Key_Tab)
    assert fields[3].hasFocus()
    back = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    typed(qtbot, back)
    qtbot.keyClick(fields[3], Qt.Key.Key_Tab)
    assert ok.hasFocus()
    qtbot.keyClick(ok, Qt.Key.Key_Space)
    assert dialog.saved is None and dialog.isVisible()
    assert dialog.error.text() == "请填写:携带人"
    assert fields[2].hasFocus()  # taken to what is missing
    typed(qtbot, "周敏")
    qtbot.keyClick(fields[2], Qt.Key.Key_Tab)
    qtbot.keyClick(fields[3], Qt.Key.Key_Tab)
    qtbot.keyClick(ok, Qt.Key.Key_Space)
    assert dialog.saved is not None and dialog.saved.status == "外出"
    assert dialog.people_added == ["周敏"]  # a carrier new to the register is added, and the page says so
    assert [p.label for p in service.query("people", LedgerQuery(text="周敏")).rows] == ["周敏"]
    entry = service.history(dialog.saved.id)[0]
    assert [(c.label, c.new) for c in entry.facts] == [
        ("外出地点", "北京航天城"), ("外出事由", "型号评审会"), ("携带人", "周敏"), ("预计返回日期", back)]


def test_what_was_typed_stays_while_another_status_is_looked_at(window, qtbot, service):
    seed(service)
    _page, dialog = open_status_dialog(window, qtbot, service)
    choose_by_keyboard(qtbot, dialog.status, "外出")
    dialog.editors["destination"].set_text("上海")
    choose_by_keyboard(qtbot, dialog.status, "维修")
    assert list(dialog.editors) == ["repaired_by", "escort", "storage_removed"]
    assert dialog.editors["storage_removed"].text() == ""  # chosen, never taken by default
    choose_by_keyboard(qtbot, dialog.status, "外出")
    assert dialog.editors["destination"].text() == "上海"
    dialog.saved = dialog  # closing without the discard question
    dialog.reject()


def test_the_history_shows_the_facts_and_reverses_a_status_change(window, qtbot, service, told):
    seed(service)
    record = service.find("computers", "JM-0001")
    service.change_status(record.id, "外出", facts={"destination": "北京", "trip_purpose": "评审",
                                                    "carried_by": "李娜", "return_by": dt.date.today()})
    page = window.current_page()
    page.refresh()
    page.select_record(record.id)
    detail = page.detail
    qtbot.waitUntil(lambda: not detail.loading and detail.history.topLevelItemCount() == 2)
    shown = detail.history.topLevelItem(0).text(0)
    assert "在用 → 外出" in shown and "外出地点:北京" in shown and "携带人:李娜" in shown
    detail.history.setCurrentItem(detail.history.topLevelItem(1))  # 登记: nothing to reverse
    assert not detail.undo_status.isEnabled()
    detail.history.setFocus()
    qtbot.keyClick(detail.history, Qt.Key.Key_Up)
    assert detail.selected_entry().action == "status"
    assert detail.undo_status.isEnabled() and not detail.undo.isEnabled()
    detail.undo_status.setFocus()
    qtbot.keyClick(detail.undo_status, Qt.Key.Key_Space)
    assert told[-1][0] == "confirm" and "从“外出”改回“在用”" in told[-1][2]
    assert service.get(record.id).status == "在用"
    qtbot.waitUntil(lambda: not detail.loading and detail.history.topLevelItemCount() == 3)
    top = detail.history.topLevelItem(0).text(0)
    assert "撤销状态变更" in top and "外出 → 在用" in top and "在用 → 外出 的状态变更" in top
    assert "(已撤销)" in detail.history.topLevelItem(1).text(0)
    detail.history.setCurrentItem(detail.history.topLevelItem(0))
    assert not detail.undo_status.isEnabled()  # a reversal is not reversed again


def test_the_first_start_asks_the_unit_name_first_in_a_field_wide_enough(qtbot, db):
    """Issue 12 item 6: the unit's name is asked at the first start, before the accounts, in a
    field that shows a real name whole; it is kept for every form and label sheet."""
    from mibao_desktop.security import Actor, Role
    from mibao_desktop.security.passwords import SecurityPolicy
    from mibao_desktop.services.accounts import AccountService
    from mibao_desktop.services.print_service import PrintService
    from mibao_desktop.ui.login import SetupDialog

    unit = "中国航天科工集团第二研究院七〇六所保密办公室"
    accounts = AccountService(db)
    dialog = SetupDialog(accounts, SecurityPolicy())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    first_name = dialog.fields[Role.SYSTEM_ADMIN][0]
    dialog.unit.setFocus()
    qtbot.keyClick(dialog.unit, Qt.Key.Key_Tab)
    assert first_name.hasFocus()  # asked first, in reading order
    dialog.unit.insert(unit)
    assert dialog.unit.fontMetrics().horizontalAdvance(unit) < dialog.unit.width() - 8  # shown whole
    logins = {Role.SYSTEM_ADMIN: ("xitong", "赵系统", "Qz8#mW2vLp4x"),
              Role.SECURITY_ADMIN: ("baomi", "王保密", "Rt5%nB7kPs3y"),
              Role.AUDITOR: ("shenji", "钱审计", "Hv9@cX6jDf2u")}
    for role, (name, display, password, again) in dialog.fields.items():
        name.setText(logins[role][0])
        display.setText(logins[role][1])
        password.setText(logins[role][2])
        again.setText(logins[role][2])
    dialog.save()
    assert not dialog.isVisible() and not accounts.needs_setup()
    assert PrintService(db, Actor("baomi", Role.SECURITY_ADMIN)).unit_name() == unit


def test_the_take_out_form_warns_before_printing_a_device_under_repair(window, qtbot, service, told, tmp_path):
    import subprocess

    seed(service)
    record = service.find("computers", "JM-0002")
    service.change_status(record.id, "维修", facts={"repaired_by": "航天信息维修中心", "escort": "王强",
                                                    "storage_removed": "是"})
    page = window.current_page()
    page.refresh()
    page.select_record(record.id)
    page.print_forms()
    dialog = page.dialog
    dialog.form_choice.setCurrentIndex(dialog.form_choice.findData("takeout"))
    dialog.refresh()
    assert dialog.warning.text() == "注意:涉密计算机 JM-0002 当前为“维修”,不应外出。"
    assert "一次填写一条记录" in dialog.hint.text()
    told.answers.append(False)  # 请注意 … 仍要输出吗? — no: nothing is written
    assert dialog.save_pdf(tmp_path / "no.pdf") is None and not (tmp_path / "no.pdf").exists()
    assert told[-1][:2] == ("confirm", "请注意") and "不应外出" in told[-1][2]
    out = dialog.save_pdf(tmp_path / "takeout.pdf")  # yes, printed with the warning on it
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout.replace(" ", "")
    assert "注意:涉密计算机JM-0002当前为“维修”,不应外出。" in text
    dialog.form_choice.setCurrentIndex(dialog.form_choice.findData("destruction"))
    dialog.refresh()
    assert "可列入所选的多条记录" in dialog.hint.text() and "一次只填一条记录的表" not in dialog.hint.text()


def test_the_label_dialog_prints_the_unit_name_unless_unticked(window, qtbot, service, tmp_path):
    import subprocess

    from mibao_desktop.services.print_service import PrintService

    seed(service)
    PrintService(service.db, service.actor).set_unit_name("中国航天科工集团第二研究院七〇六所保密办公室")
    page = window.current_page()
    page.refresh()
    page.select_record(service.find("computers", "JM-0001").id)
    page.print_labels()
    dialog = page.dialog
    assert dialog.unit.isChecked()  # on every label sheet by default, once the unit's name is known
    out = tmp_path / "labels.pdf"
    dialog.save_pdf(out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "中国航天科工集团第二研究院七〇六所保密办公室" in text.replace(" ", "").replace("\n", "")
