"""Issue 14 items 3 and 4 in the desktop: an approved trip's passport refused at 领取 before the
行前保密提醒谈话 (the refusal in the dialog naming the rule, what was typed kept), allowed after
it; then the watch list (off the UI thread) showing it overdue."""

from __future__ import annotations

import datetime as dt

from mibao_desktop.ledgers.exit_documents import EXIT_DOCUMENTS
from mibao_desktop.ledgers.trips import TRIPS
from mibao_desktop.ui.travel_dialogs import DocumentWatchDialog, TravelActionDialog
from tests.conftest import today


def _menu(page):
    page.act_button.menu().aboutToShow.emit()
    return {a.text(): a for a in page.act_button.menu().actions() if a.text()}


def test_a_passport_is_refused_before_the_briefing_and_handed_out_after(window, qtbot, services, told):
    who = services.ledgers.create("people", {"name": "李娜", "department": "科研一处", "grade": "重要"})
    doc = services.ledgers.create(EXIT_DOCUMENTS.key, {"document_number": "E12345678", "holder": who.label,
                                                       "kind": "护照", "expires_on": today().replace(year=today().year + 5)})
    trip = services.travel.apply({"traveller": who.label, "kind": "因私", "destinations": "日本", "purpose": "旅游",
                                  "leave_on": today(), "return_on": today() + dt.timedelta(days=7)})

    # 审批 through the trips page's 办理 ▸ 审批同意
    page = window.show_ledger(TRIPS.key)
    assert page.act_button.isVisible() and not page.status_button.isVisible()
    qtbot.waitUntil(lambda: page.select_record(trip.id))
    entries = _menu(page)
    assert entries["审批同意"].isEnabled() and not entries["回国报告"].isEnabled()
    entries["审批同意"].trigger()
    dialog = page.dialog
    assert isinstance(dialog, TravelActionDialog) and dialog.rule.text().startswith("依据:保密管理规定六(二)2")
    dialog.editors["approver"].set_text("张副所长")
    dialog.save()
    assert dialog.saved is not None and dialog.saved.status == "已批准", dialog.error.text()

    # 领取 on the documents page: refused, naming the briefing rule, the dialog kept open
    docs = window.show_ledger(EXIT_DOCUMENTS.key)
    qtbot.waitUntil(lambda: docs.select_record(doc.id))
    _menu(docs)["领取"].trigger()
    handing = docs.dialog
    assert isinstance(handing, TravelActionDialog)
    assert "未进行行前谈话" in handing.trip_choice.currentText()
    assert handing.editors["collector"].text() == "李娜"  # the holder by default
    handing.editors["handler"].set_text("人事处 王敏")
    handing.save()
    assert handing.saved is None and handing.isVisible()
    assert "尚未进行行前保密提醒谈话" in handing.error.text() and "依据" in handing.error.text()
    assert handing.editors["handler"].text() == "人事处 王敏"  # nothing typed lost
    handing.reject()
    assert services.ledgers.get(doc.id).status == "在库"

    # the briefing, then 领取 again: handed out, due back 10 days after the return
    window.show_ledger(TRIPS.key)
    qtbot.waitUntil(lambda: page.select_record(trip.id))
    _menu(page)["行前保密提醒谈话"].trigger()
    page.dialog.editors["briefed_by"].set_text("保密办 刘洋")
    page.dialog.save()
    assert page.dialog is None or page.dialog.saved is not None
    assert services.ledgers.get(trip.id).values["briefed_on"] == today()

    window.show_ledger(EXIT_DOCUMENTS.key)
    qtbot.waitUntil(lambda: docs.select_record(doc.id))
    _menu(docs)["领取"].trigger()
    handing = docs.dialog
    handing.editors["handler"].set_text("人事处 王敏")
    handing.save()
    assert handing.saved is not None, handing.error.text()
    stored = services.ledgers.get(doc.id)
    assert stored.status == "已领取" and stored.values["due_on"] == today() + dt.timedelta(days=17)

    # the watch list reads off the UI thread; nothing overdue yet, the person listed nowhere
    _menu(docs)["证件逾期、到期与未登记…"].trigger()
    watch = docs.dialog
    assert isinstance(watch, DocumentWatchDialog)
    qtbot.waitUntil(lambda: watch.watch is not None)
    assert watch.overdue.topLevelItemCount() == 0 and watch.tabs.tabText(2) == "未登记证件(0)"
    assert services.travel.overdue(today() + dt.timedelta(days=18))[0].number == "E12345678"


def test_an_application_entered_in_the_form_is_marked_for_a_core_persons_private_travel(window, qtbot, services):
    services.ledgers.create("people", {"name": "赵强", "department": "机要室", "grade": "核心"})
    page = window.show_ledger(TRIPS.key)
    page.add_button.click()
    form = page.dialog
    for name, value in (("traveller", "赵强"), ("kind", "因私"), ("destinations", "泰国"), ("purpose", "探亲"),
                        ("leave_on", (today() + dt.timedelta(days=20)).isoformat()),
                        ("return_on", (today() + dt.timedelta(days=27)).isoformat())):
        form.editors[name].set_text(value)
    form.save()
    assert form.saved is not None, form.banner.text()
    assert form.saved.values["restriction"] == "核心涉密人员因私出国(境),原则上不予批准"
    qtbot.waitUntil(lambda: page.select_record(form.saved.id))
    _menu(page)["审批同意"].trigger()
    dialog = page.dialog
    assert "特批理由 *" in [dialog.form.labelForField(e).text() for e in dialog.editors.values()]
    dialog.editors["approver"].set_text("张副所长")
    dialog.save()
    assert dialog.saved is None and "特批理由" in dialog.error.text()


def test_the_return_period_is_set_in_the_system_menu(window, services):
    from PySide6.QtGui import QAction

    entry = [a for a in window.findChildren(QAction) if a.text() == "出入境证件期限…"]
    assert entry
    entry[0].trigger()
    dialog = window.dialog
    assert dialog.back.value() == 10 and dialog.warn.value() == 180
    dialog.back.setValue(15)
    dialog.save()
    assert services.travel.periods() == (15, 180)


def test_the_pages_offer_what_their_lifecycle_allows(window):
    """办理 on a ledger of recorded actions, 变更状态 where a record has somewhere to go, neither
    on a ledger of one status (a training is held, and stays so)."""
    expected = {TRIPS.key: (True, False), EXIT_DOCUMENTS.key: (True, False), "trainings": (False, False),
                "computers": (False, True), "people": (False, True)}
    for key, (act, status) in expected.items():
        page = window.show_ledger(key)
        assert (page.act_button.isVisible(), page.status_button.isVisible()) == (act, status), key


def test_the_new_record_form_registers_as_the_lifecycle_declares(services):
    """新增 of a trip is its 申请 because the trips' lifecycle says so (registered_by), not because
    the page is the trips': the same ledger declaring none is stored as typed."""
    from dataclasses import replace

    from mibao_desktop.ui.travel_dialogs import creator

    assert TRIPS.lifecycle.registered_by == "apply" and creator(TRIPS, services) == services.travel.apply
    assert creator(EXIT_DOCUMENTS, services) is None
    assert creator(replace(TRIPS, lifecycle=replace(TRIPS.lifecycle, registered_by=None)), services) is None
