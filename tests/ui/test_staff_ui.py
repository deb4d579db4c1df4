"""涉密人员 on screen (issue 14 item 1): the security administrator sees and edits the ID number
whole in the people page and its form, a wrong check digit is told in the form, the person's
file (档案材料) shows under the person; the auditor, reading the same edit in the audit log, sees
the number masked."""

from __future__ import annotations

from PySide6.QtCore import Qt

from mibao_desktop.security import Actor, Role
from mibao_desktop.services.audit_service import AuditService
from mibao_desktop.services.oversight import OversightService
from tests.test_staff import ID_2, ID_X, staff, wrong_check
from tests.ui.test_audit_window import cells, read

MASKED_X = "1101**********002X"


def test_the_id_number_is_whole_to_the_security_administrator_and_masked_to_the_auditor(window, qtbot, service, db):
    person = service.create("people", staff(name="李敏", id_number=ID_X))
    service.create("staff_files", {"kind": "政审表", "entry_date": "2020-02-10", "outcome": "政审合格"},
                   parent_id=person.id)
    page = window.show_ledger("people")
    page.refresh(select_id=person.id)
    qtbot.waitUntil(lambda: not page.detail.loading)
    # the table and the record's page: whole
    row = next(r for r in range(page.model.rowCount()) if page.model.record_at(r).id == person.id)
    shown = page.model.data(page.model.index(row, page.model.column_of("id_number")), Qt.ItemDataRole.DisplayRole)
    assert shown == ID_X
    files = page.detail.child_sections["staff_files"]
    assert page.detail.tabs.tabText(page.detail.tabs.indexOf(files)) == "档案材料(1)"
    # the form: whole, and a wrong check digit told beside the field, nothing stored
    page.edit_selected()
    dialog = page.dialog
    assert dialog.editors["id_number"].text() == ID_X
    dialog.editors["id_number"].set_text(wrong_check(ID_2))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    message = dialog.error_labels["id_number"]
    assert message.isVisible() and "校验位不符" in message.text()
    dialog.editors["id_number"].set_text(ID_2)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    stored = service.get(person.id).values
    assert (stored["id_number"], stored["id_tail"]) == (ID_2, ID_2[-4:])

    # the auditor's window, reading that edit: masked, never whole
    from mibao_desktop.ui.role_windows import AuditWindow

    auditor = Actor("shenji", Role.AUDITOR)
    audit_window = AuditWindow(AuditService(db, auditor), auditor, OversightService(db, auditor))
    qtbot.addWidget(audit_window)
    audit_window.resize(1366, 768)
    audit_window.show()
    read(qtbot, audit_window)
    rows = [cells(audit_window, r) for r in range(audit_window.table.rowCount())]
    edit = next(r for r in rows if r[4] == "修改记录" and "身份证号" in r[6])
    assert f"身份证号:{MASKED_X} → {ID_2[:4]}**********{ID_2[-4:]}" in edit[6]
    assert all(ID_X not in c and ID_2 not in c for r in rows for c in r)
    audit_window.table.selectRow(rows.index(edit))
    assert MASKED_X in audit_window.detail.toPlainText() and ID_X not in audit_window.detail.toPlainText()


def test_the_review_intervals_are_set_in_their_dialog_and_the_dates_follow(window, qtbot, service):
    from PySide6.QtWidgets import QPushButton

    person = service.create("people", staff(grade="一般", last_review="2022-06-01"))
    page = window.show_ledger("people")
    page.refresh(select_id=person.id)
    action = next(a for a in window.menuBar().actions() if a.text() == "系统(&S)")
    chosen = next(a for a in action.menu().actions() if a.text() == "复审周期…")
    chosen.trigger()
    dialog = window.dialog
    assert dialog.isVisible() and [s.value() for s in dialog.spins.values()] == [1, 3, 5]
    dialog.spins["一般"].setValue(4)
    save = next(b for b in dialog.findChildren(QPushButton) if b.text() == "保存")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert service.get(person.id).display("next_review") == "2026-06-01"
    qtbot.waitUntil(lambda: not page.detail.loading)
    row = next(r for r in range(page.model.rowCount()) if page.model.record_at(r).id == person.id)
    shown = page.model.data(page.model.index(row, page.model.column_of("next_review")), Qt.ItemDataRole.DisplayRole)
    assert shown == "2026-06-01"
