"""Issue 13 item 2 in the desktop: a carrier received with its copies through the 新增 form, then
the copies selected under it and 办理 ▸ 借阅 clicked; the form shows the action's facts in Tab
order, refuses a borrower outside the 知悉范围 naming the rule, keeps what was typed, and with
the reason given stores the loan in the copy's history. Esc on a changed form asks first."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from mibao_desktop.ledgers.carriers import CARRIERS
from mibao_desktop.ui.carrier_dialogs import CarrierActionDialog
from mibao_desktop.ui.record_dialog import RecordDialog
from tests.ui.test_keyboard_and_table import tab_stops
from tests.ui.test_status_facts_ui import typed


def _copies_tab(page):
    section = page.detail.child_sections["carrier_copies"]
    page.detail.tabs.setCurrentWidget(section)
    return section


def test_receive_then_lend_a_copy_through_its_form(window, qtbot, services, told):
    for name, dept in (("李娜", "保密办"), ("王芳", "科研二处")):
        services.ledgers.create("people", {"name": name, "department": dept})
    page = window.show_ledger(CARRIERS.key)

    # 新增涉密载体 registers the carrier and its copies 1…份数 together
    page.add_button.click()
    form = page.dialog
    assert isinstance(form, RecordDialog)
    scope_label = [w for w in form.findChildren(type(form.banner)) if w.text().startswith("知悉范围")]
    assert scope_label and scope_label[0].text() == "知悉范围 *"  # the registration needs it: marked
    for name, value in (("carrier_number", "SW-9"), ("title", "年度保密工作要点"), ("level", "机密★10年"),
                        ("copies", "3"), ("scope", "保密办"), ("keeper", "李娜"), ("department", "保密办"),
                        ("classified_on", "2026-01-05")):
        form.editors[name].set_text(value)
    form.save()
    assert form.saved is not None, form.banner.text()
    carrier = services.ledgers.find(CARRIERS.key, "SW-9")
    assert carrier.values["stamp"] == "收文章"
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == carrier.id
                    and len(page.detail.children.get("carrier_copies", [])) == 3)

    section = _copies_tab(page)
    section.table.selectRow(1)
    assert section.act_button.isEnabled()
    section.act_button.menu().aboutToShow.emit()
    entries = {a.text(): a for a in section.act_button.menu().actions()}
    assert entries["借阅"].isEnabled() and not entries["找到"].isEnabled()
    entries["借阅"].trigger()
    qtbot.waitUntil(lambda: isinstance(page.dialog, CarrierActionDialog))  # the copies read off the UI thread
    dialog = page.dialog
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    assert dialog.rule.text().startswith("依据:保密工作制度第十条")
    labels = [dialog.form.labelForField(e).text() for e in dialog.editors.values()]
    assert labels == ["借用人 *", "应还日期 *", "批准人 *", "超出知悉范围的批准理由"]
    fields = [e.focus_widget() for e in dialog.editors.values()]
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    stops = tab_stops(qtbot, dialog, fields[0])
    assert stops[:4] == fields and stops[4:7] == [dialog.print_after, ok, dialog.buttons.button(
        QDialogButtonBox.StandardButton.Cancel)]  # reading order, then round to the date

    fields[0].setFocus()
    typed(qtbot, "王芳")
    dialog.editors["due_back"].set_text((dt.date.today() + dt.timedelta(days=7)).isoformat())
    fields[2].setFocus()
    typed(qtbot, "王局长")
    ok.click()  # stored off the UI thread: the refusal comes back into the dialog
    qtbot.waitUntil(lambda: not dialog.busy and dialog.error.isVisible())
    assert dialog.saved is None and dialog.isVisible()
    assert "不在载体 SW-9 的知悉范围内" in dialog.error.text() and "依据" in dialog.error.text()
    assert dialog.editors["borrower"].text() == "王芳"  # nothing typed is lost

    # Esc with the form changed asks; answering 继续编辑 keeps it open
    told.answers.append(False)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and told[-1][0] == "confirm"

    fields[3].setFocus()
    fields[3].insertPlainText("联合检查组成员,经分管领导批准")  # as an input method commits it
    ok.click()
    qtbot.waitUntil(lambda: dialog.saved is not None)
    assert dialog.saved.status == "借出"
    copy = services.ledgers.children(carrier.id)[1]
    assert (copy.status, copy.display("holder")) == ("借出", "王芳")
    entry = services.ledgers.history(copy.id)[0]
    assert entry.status_moved == ("在管", "借出") and entry.fact("beyond_scope") == "联合检查组成员,经分管领导批准"

    # the copy's own 变更记录: its loan with the facts, then its 登记
    qtbot.waitUntil(lambda: page.dialog is None and len(page.detail.children.get("carrier_copies", [])) == 3)
    section = _copies_tab(page)
    section.table.selectRow(1)
    assert section.history_button.isEnabled()
    section.history_button.click()
    history = page.dialog
    texts = [history.list.topLevelItem(i).text(0) for i in range(history.list.topLevelItemCount())]
    assert len(texts) == 2 and "借阅" in texts[0] and "在管 → 借出" in texts[0] and "借用人:王芳" in texts[0]
    assert "持有人:李娜 → 王芳" in texts[0] and "登记" in texts[1]
    history.reject()
    QApplication.processEvents()
