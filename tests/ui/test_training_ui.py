"""保密教育培训 in the desktop (issue 14 item 2): 记录 › 参训人员… on a session chosen on its page,
people picked from the register in a list filtered as one types, a sign-in sheet imported with
its refusals shown by row, the 培训签到表 previewed; 记录 › 培训学时… lists who is short, read
off the UI thread, and previews the list for printing."""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook
from PySide6.QtCore import Qt

from mibao_desktop.ledgers.trainings import TRAININGS
from mibao_desktop.ui.training_dialogs import AttendeesDialog, ComplianceDialog, CompliancePrintDialog, SignInPrintDialog


def year() -> int:
    """Read at each call: a run that crosses the new year must not ask for last year's hours."""
    return dt.date.today().year


def held() -> str:
    return dt.date(year(), 1, 2).isoformat()


def _menu_action(window, text):
    return next(a for menu in window.menuBar().actions() for a in menu.menu().actions() if a.text() == text)


def test_attendees_are_picked_imported_and_the_sheet_previewed(window, qtbot, services, told, tmp_path):
    for name, dept, grade in (("张伟", "科研一处", "核心"), ("刘洋", "科研一处", "一般"), ("李娜", "保密办", "重要"),
                              ("赵敏", "办公室", "一般")):
        services.ledgers.create("people", {"name": name, "department": dept, "grade": grade})
    training = services.training.register({"held_on": held(), "subject": "保密法学习", "hours": "2"})

    _menu_action(window, "参训人员…").trigger()  # nothing chosen: told to choose a session
    assert told[-1] == ("inform", "参训人员", f"请先在“{TRAININGS.title}”中选择一次培训。")
    page = window.current_page()
    assert page.ledger is TRAININGS
    page.refresh()
    qtbot.waitUntil(lambda: page.select_record(training.id), timeout=10000)
    _menu_action(window, "参训人员…").trigger()
    dialog = window.dialog
    assert isinstance(dialog, AttendeesDialog)
    qtbot.waitUntil(lambda: dialog.people.rowCount() == 4, timeout=10000)
    assert dialog.choices.model() is dialog.people  # a model: the view draws only the rows on screen

    dialog.filter.setText("科研一处")  # (QTest types no Chinese: an input method would)
    assert dialog.people.shown_names() == ["刘洋", "张伟"]
    dialog.filter.setText("ＲＹ")  # full width, as the ledgers' search box folds it: every number
    assert len(dialog.people.shown_names()) == 4
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "ZW")  # 张伟 by the initials of the name, any case
    assert dialog.people.shown_names() == ["张伟"]
    dialog.people.tick(0)
    dialog.filter.clear()
    assert dialog.people.data(dialog.people.index(dialog.people.shown_names().index("张伟")),
                              Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked  # kept through the filter
    dialog.people.tick(dialog.people.shown_names().index("李娜"))
    assert dialog.chosen.text() == "已选 2 人" and dialog.add_button.isEnabled()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.count.text() == "共 2 人", timeout=10000)
    assert dialog.people.rowCount() == 2  # those on the session are no longer offered
    assert {p["name"] for p in services.training.attendees(training.id)} == {"张伟", "李娜"}

    wb = Workbook()
    ws = wb.active
    ws.append(["保密教育培训签到表"])
    ws.append(["序号", "姓名", "部门", "签名"])
    ws.append([1, "赵敏", "办公室", "赵敏"])
    ws.append([2, "孙悟空", None, None])
    sheet = tmp_path / "签到.xlsx"
    wb.save(sheet)
    dialog.import_sheet(sheet)
    qtbot.waitUntil(lambda: dialog.count.text() == "共 3 人", timeout=10000)
    asked = next(t for kind, title, t in told if kind == "confirm" and title == "导入签到表")
    assert "可登记 1 人" in asked and "第 4 行:人员名册中没有“孙悟空”" in asked

    dialog.print_button.click()
    preview = dialog.print_dialog
    assert isinstance(preview, SignInPrintDialog)
    assert preview.pdf.startswith(b"%PDF") and preview.summary.text() == "共 1 页"
    preview.close()
    dialog.close()


def test_the_list_of_who_is_short_is_read_off_the_ui_thread_and_previewed(window, qtbot, services):
    made = {name: services.ledgers.create("people", {"name": name, "department": "保密办", "grade": grade})
            for name, grade in (("张伟", "核心"), ("李娜", "一般"), ("赵敏", None))}
    services.training.register({"held_on": held(), "subject": "保密法学习", "hours": "4.5"}, [made["李娜"].id, made["张伟"].id])
    _menu_action(window, "培训学时…").trigger()
    dialog = window.dialog
    assert isinstance(dialog, ComplianceDialog)
    qtbot.waitUntil(lambda: dialog.compliance is not None, timeout=10000)
    assert dialog.summary.text().startswith("应参训 2 人,未达标 1 人")
    assert dialog.table.rowCount() == 1
    assert [dialog.table.item(0, c).text() for c in range(8)] == [made["张伟"].values["person_number"], "张伟", "保密办",
                                                                 "核心", "1", "4.5", "8", "3.5"]
    dialog.year.setValue(year() - 1)  # last year: nobody trained
    qtbot.waitUntil(lambda: dialog.compliance.year == year() - 1, timeout=10000)
    assert dialog.table.rowCount() == 2
    dialog.print_button.click()
    preview = dialog.print_dialog
    assert isinstance(preview, CompliancePrintDialog) and preview.pdf.startswith(b"%PDF")
    preview.close()
    dialog.close()


def test_the_minimum_hours_are_set_in_the_system_menu(window, qtbot, services):
    """系统 › 培训最低学时… shows the seed's 8/8/4; a minimum typed with its decimal is saved
    through the service (audited) and the list of who is short counts against it at once."""
    from PySide6.QtTest import QTest

    from mibao_desktop.ui.settings_dialog import TrainingMinimumsDialog

    person = services.ledgers.create("people", {"name": "刘洋", "department": "科研一处", "grade": "一般"})
    services.training.register({"held_on": held(), "subject": "保密法学习", "hours": "3"}, [person.id])
    assert [ln.name for ln in services.training.compliance(year()).short] == ["刘洋"]  # 3 of the seed's 4

    _menu_action(window, "培训最低学时…").trigger()
    dialog = window.dialog
    assert isinstance(dialog, TrainingMinimumsDialog)
    assert {g: spin.text() for g, spin in dialog.spins.items()} == {"核心": "8.0 学时", "重要": "8.0 学时",
                                                                    "一般": "4.0 学时"}
    for grade, typed in (("重要", "6.5"), ("一般", "2.5")):
        line = dialog.spins[grade].lineEdit()
        line.selectAll()
        QTest.keyClicks(line, typed)
        dialog.spins[grade].interpretText()
    dialog.save()
    assert not dialog.isVisible() and not dialog.error.isVisible()
    assert services.training.minimums() == {"核心": 80, "重要": 65, "一般": 25}
    from sqlalchemy import select

    from mibao_desktop.db.models import AuditEntry

    with services.db.session() as read:
        entry = read.scalars(select(AuditEntry).where(AuditEntry.action == "settings.change")
                             .order_by(AuditEntry.id.desc())).first()
    assert entry.detail["changed"] == {"重要": ["8", "6.5"], "一般": ["4", "2.5"]}
    assert services.training.compliance(year()).short == []  # 3 ≥ 2.5
    _menu_action(window, "培训最低学时…").trigger()  # opened again: what was saved
    assert window.dialog.spins["重要"].value() == 6.5


def test_the_register_is_spelt_out_for_the_filter_off_the_ui_thread(window, qtbot, services, monkeypatch):
    """Each name's 拼音 initials (what 'zw' finds 张伟 by) were made on the UI thread at the first
    keystroke: about 2.3 s for 20,000 people of distinct names, the window frozen. They are made
    with the reading of the register, in the background."""
    import threading

    from mibao_desktop.ledgers import pinyin

    for name in ("张伟", "刘洋"):
        services.ledgers.create("people", {"name": name, "department": "科研一处", "grade": "一般"})
    training = services.training.register({"held_on": held(), "subject": "保密法学习", "hours": "2"})
    threads = []
    spell = pinyin.initials
    monkeypatch.setattr(pinyin, "initials", lambda text: (threads.append(threading.current_thread()), spell(text))[1])
    dialog = AttendeesDialog(services, services.ledgers.get(training.id), window)
    qtbot.waitUntil(lambda: dialog.people.rowCount() == 2, timeout=10000)
    qtbot.keyClicks(dialog.filter, "zw")
    assert dialog.people.shown_names() == ["张伟"]
    assert threads and threading.main_thread() not in threads
    dialog.people.tick(0)
    assert dialog.chosen.text() == "已选 1 人"
    dialog.close()
