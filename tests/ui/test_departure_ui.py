"""Issue 14 item 6 in the desktop: a 核心 person taken through 离岗离职 from their page, offscreen
on a real SQLite file: the dialog lists what they hold (read off the UI thread), refuses to
close them while anything is held (naming the items) or before the access is revoked, gives a
lent copy back and hands the rest to a named person, prints the 离岗保密承诺书 filled, and
closes them into 脱密期 with its computed end."""

from __future__ import annotations

import datetime as dt

from mibao_desktop.ledgers import PEOPLE
from mibao_desktop.ui.departure_dialog import DepartureDialog
from mibao_desktop.ui.print_dialog import FormPrintDialog
from tests.conftest import computer


def test_a_core_person_is_taken_through_departure(window, qtbot, services, told):
    ledgers = services.ledgers
    who = ledgers.create("people", {"name": "赵强", "department": "科研一处", "grade": "核心", "post": "机要员"})
    pc = ledgers.create("computers", computer(responsible_person="赵强", user="赵强"))
    carrier = ledgers.create("carriers", dict(carrier_number="ZT-2", title="年度计划", level="秘密",
                                              classified_on="2026-01-05", copies=1, keeper="李娜",
                                              department="保密办", scope="全体人员"))
    copy = ledgers.create("carrier_copies", {"copy_number": 1, "holder": "李娜"}, parent_id=carrier.id)
    services.carrier_actions.lend([copy.id], {"borrower": "赵强", "due_back": dt.date.today() + dt.timedelta(days=5),
                                              "approver": "王主任"})

    page = window.open_record(PEOPLE.key, who.id)
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == who.id)
    assert page.detail.departure_button.isEnabled()
    page.detail.departure_button.click()
    dialog = page.dialog
    assert isinstance(dialog, DepartureDialog)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.held_table.rowCount() == 2)
    assert dialog.status.currentText() == "脱密期"  # a graded person goes into the 脱密期
    assert [dialog.held_table.item(r, 1).text() for r in range(2)] == ["JM-0001", "ZT-2·份号1"]
    assert dialog.plan_label.text().startswith("3年(")

    # step 1: the talk, and the pledge printed filled
    dialog.editors["reason"].set_text("调往市档案局工作")
    dialog.editors["briefed_by"].set_text("保密办 王主任")
    dialog.print_button.click()
    assert isinstance(dialog.pledge_dialog, FormPrintDialog)
    assert dialog.pledge_dialog.departure["briefed_by"] == "保密办 王主任"
    assert dialog.pledge_dialog.departure["end"] == dialog.plan.end
    dialog.pledge_dialog.reject()

    # closing while things are held: refused in the dialog, naming them
    dialog.revoked.setChecked(True)
    dialog.editors["access_revoked_by"].set_text("信息中心 刘工")
    dialog.finish_button.click()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.error.isVisible())
    assert "手中还有 2 件未清退" in dialog.error.text() and "JM-0001" in dialog.error.text()
    assert ledgers.get(who.id).status == "在岗"

    # step 2: the lent copy goes back, the computer to 孙丽
    dialog.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not dialog.busy)
    dialog.held_table.selectRow(1)
    dialog.give_back_button.click()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.held_table.rowCount() == 1)
    dialog.held_table.selectRow(0)
    dialog.hand_over_button.click()  # no receiver typed: refused, nothing moved
    qtbot.waitUntil(lambda: not dialog.busy and dialog.error.isVisible())
    assert "接收人" in dialog.error.text()
    dialog.to.set_text("孙丽")
    dialog.approver.set_text("王主任")
    dialog.held_table.selectRow(0)
    dialog.hand_over_button.click()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.held_table.rowCount() == 0)
    assert dialog.held_summary.text() == "所持设备、介质和载体已全部清退。"
    assert ledgers.get(pc.id).display("responsible_person") == "孙丽"

    # step 3: access revoked, then 办理离岗
    dialog.revoked.setChecked(False)
    dialog.finish_button.click()
    assert "取消其涉密信息系统账户" in dialog.error.text()
    dialog.revoked.setChecked(True)
    dialog.finish_button.click()
    qtbot.waitUntil(lambda: dialog.left is not None)
    assert dialog.left.status == "脱密期"
    assert dialog.left.values["decommission_until"] == dialog.plan.end
    assert any(kind == "inform" and "脱密期至" in text for kind, _t, text in told)
    qtbot.waitUntil(lambda: not page.detail.departure_button.isEnabled())  # the page shows them left


def test_the_decommission_periods_are_set_in_the_system_menu(window, qtbot, services):
    from mibao_desktop.ui.settings_dialog import DecommissionDialog

    action = next(a for a in window.menuBar().actions() if a.text().startswith("系统"))
    entry = next(a for a in action.menu().actions() if a.text() == "脱密期…")
    entry.trigger()
    dialog = window.dialog
    assert isinstance(dialog, DecommissionDialog)
    assert {g: s.value() for g, s in dialog.spins.items()} == {"核心": 36, "重要": 24, "一般": 12}
    assert dialog.spins["核心"].maximum() == 36 and dialog.spins["一般"].minimum() == 6  # 6个月至3年
    dialog.spins["一般"].setValue(6)
    dialog.save()
    assert services.departure.periods()["一般"] == 6


def test_a_major_event_report_is_added_on_the_persons_page_even_in_the_decommissioning_period(
        window, qtbot, services):
    from mibao_desktop.ledgers.major_events import KINDS, MAJOR_EVENT_REPORTS
    from mibao_desktop.ui.record_dialog import RecordDialog

    who = services.ledgers.create("people", {"name": "钱进", "department": "科研一处", "grade": "重要"})
    day = dt.date.today()
    services.departure.leave(who.id, "脱密期", {"reason": "辞职", "briefed_on": day, "briefed_by": "王主任",
                                               "pledge_signed_on": day, "access_revoked_by": "刘工",
                                               "access_revoked_on": day})
    page = window.open_record(PEOPLE.key, who.id)
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == who.id
                    and not page.detail.loading)
    assert not page.detail.departure_button.isEnabled()  # already left
    section = page.detail.child_sections[MAJOR_EVENT_REPORTS.key]
    page.detail.tabs.setCurrentWidget(section)
    assert section.add_button.isEnabled()  # a person in 脱密期 still reports
    section.add_button.click()
    form = page.dialog
    assert isinstance(form, RecordDialog)
    assert form.editors["kind"].combo.findText(KINDS[2]) >= 0  # the seed's six kinds, in its words
    form.editors["kind"].set_text(KINDS[2])
    form.editors["reported_on"].set_text(day.isoformat())
    form.editors["content"].set_text("境外某基金会提出资助本人赴境外访学。")
    form.editors["handling"].set_text("已婉拒,报保密办备案")
    form.save()
    assert form.saved is not None, form.banner.text()
    entry = services.ledgers.history(who.id)[0]
    assert entry.action_label == "重大事项报告" and KINDS[2] in entry.changes[0].new
    qtbot.waitUntil(lambda: len(page.detail.children.get(MAJOR_EVENT_REPORTS.key, [])) == 1)


def test_the_pledge_names_the_period_the_departure_stores_when_the_talk_was_earlier(window, qtbot, services):
    """The 保密提醒谈话 held ten days before the procedure is closed: the dialog counted the
    脱密期 printed on the pledge from the talk's day, while 办理离岗 stores it from the day of
    leaving, so the signed pledge and the register named different periods. The plan starts
    on the day of leaving too (and the worker reads no widget)."""
    from mibao_desktop.ledgers import decommission

    who = services.ledgers.create("people", {"name": "钱进", "department": "科研一处", "grade": "一般", "post": "文书"})
    page = window.open_record(PEOPLE.key, who.id)
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == who.id)
    page.detail.departure_button.click()
    dialog = page.dialog
    qtbot.waitUntil(lambda: not dialog.busy and dialog.plan is not None)
    talk = dt.date.today() - dt.timedelta(days=10)
    dialog.editors["briefed_on"].set_text(talk.isoformat())
    dialog.reload()
    qtbot.waitUntil(lambda: not dialog.busy)
    today = dt.date.today()
    assert (dialog.plan.start, dialog.plan.end) == (today, decommission.end_of(today, 12))
    dialog.print_pledge()
    assert dialog.pledge_dialog.departure["start"] == today
    dialog.pledge_dialog.close()
    dialog.editors["reason"].set_text("调往市档案局工作")
    dialog.editors["briefed_by"].set_text("保密办 王主任")
    dialog.editors["access_revoked_by"].set_text("信息中心 刘工")
    dialog.revoked.setChecked(True)
    dialog.finish_button.click()
    qtbot.waitUntil(lambda: dialog.left is not None)
    assert dialog.left.values["decommission_from"] == dialog.plan.start
    assert dialog.left.values["decommission_until"] == dialog.plan.end
