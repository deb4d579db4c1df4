"""首页 (issue 15 item 2): the first screen after login, shown at once and filled off the UI
thread; it absorbed 到期提醒 (the missing clock's check at the window's start and each new day);
a double click or Enter on an item opens its record."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from mibao_desktop.security import Actor
from mibao_desktop.services.context import Services
from mibao_desktop.ui.due_page import TITLE
from mibao_desktop.ui.main_window import MainWindow
from mibao_desktop.ui.tasks import wait_for_quick_reads
from tests.test_carrier_watch import DAY0, Clock, carrier, lend, mark_missing


def test_the_first_screen_lists_what_is_due_and_opens_the_record(qtbot, db, data_dir, told):
    clock = Clock(DAY0)
    services = Services(db, Actor.local_security_admin(), data_dir=data_dir, clock=clock)
    _top, (t1, _t2) = carrier(services, number="ZT-9", level="绝密", copies=2)
    _sec, (s1, s2, s3) = carrier(services, number="ZT-2", level="机密")
    mark_missing(services, [t1], DAY0)
    mark_missing(services, [s1], DAY0)
    lend(services, [s2], DAY0 + dt.timedelta(days=3), DAY0)
    lend(services, [s3], DAY0 + dt.timedelta(days=14), DAY0)
    today = clock.day(12)  # the 绝密 copy is past its ten days; one loan is 9 days late, one due in 2

    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.home_page
    assert window.stack.currentWidget() is page and window.home_nav.item(0).text() == TITLE
    assert all(not window.navigation.item(i).text().startswith("到期提醒") for i in range(window.navigation.count()))
    qtbot.waitUntil(lambda: page.listed is not None, timeout=15_000)
    assert services.ledgers.count("leak_events") == 1  # opened by the window's start, off the UI thread
    assert "本次检查新开立泄密事件 1 件" in page.summary.text()

    groups = [page.tree.topLevelItem(g).text(0) for g in range(page.tree.topLevelItemCount())]
    assert groups == ["已逾期", "7 日内", "30 日内"]
    overdue = page.tree.topLevelItem(0)
    rows = [[overdue.child(i).text(c) for c in range(6)] for i in range(overdue.childCount())]
    loan = next(r for r in rows if r[3] == "ZT-2 第 2 份")
    assert loan[1] == "逾期 9 天" and loan[5] == "归还" and "应归还日期" in loan[4]
    leak = next(r for r in rows if r[5] == "报告泄密事件")
    assert "须立即报告" in leak[4]
    soon = page.tree.topLevelItem(1)
    assert any(soon.child(i).text(3) == "ZT-2 第 3 份" for i in range(soon.childCount()))
    dates = [r[0] for r in rows]
    assert dates == sorted(dates)  # the most urgent first

    # a double click opens the copy under its carrier
    row = next(overdue.child(i) for i in range(overdue.childCount()) if overdue.child(i).text(3) == "ZT-2 第 2 份")
    page.tree.scrollToItem(row)
    rect = page.tree.visualItemRect(row)
    qtbot.mouseClick(page.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # (Qt opens what was pressed)
    qtbot.mouseDClick(page.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    ledger_page = window.current_page()
    assert ledger_page.ledger.key == "carriers" and window.stack.currentWidget() is ledger_page

    # back on the 首页, Enter on the leak event opens it in its ledger's page
    window.show_home()
    leak_row = next(overdue.child(i) for i in range(overdue.childCount()) if overdue.child(i).text(5) == "报告泄密事件")
    page.tree.setCurrentItem(leak_row)
    page.tree.setFocus()
    qtbot.keyClick(page.tree, Qt.Key.Key_Return)
    assert window.current_page().ledger.key == "leak_events"

    # the window stays open into the next day: the check runs again, off the UI thread
    window.show_home()
    clock.day(13)
    page._day_turned()
    qtbot.waitUntil(lambda: not page.busy and page.listed.today == DAY0 + dt.timedelta(days=13), timeout=15_000)
    assert today < page.listed.today
    wait_for_quick_reads()


def test_the_page_is_shown_before_the_numbers_arrive(qtbot, db, data_dir, monkeypatch, told):
    """The list is computed off the UI thread: the page shows 正在计算…… while it runs."""
    import threading

    services = Services(db, Actor.local_security_admin(), data_dir=data_dir)
    gate = threading.Event()
    real = services.due.due

    def slow(as_of=None, **kw):
        gate.wait(10)
        return real(as_of, **kw)

    monkeypatch.setattr(services.due, "due", slow)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    page = window.home_page
    assert page.listed is None and "正在" in page.summary.text()  # the window is up, the numbers not yet
    gate.set()
    qtbot.waitUntil(lambda: page.listed is not None, timeout=15_000)
    assert "截至" in page.summary.text()
    wait_for_quick_reads()


def test_the_auditors_first_screen_says_the_log_is_not_verified_and_settles_it(qtbot, db, data_dir, told):
    from mibao_desktop.security import Role
    from mibao_desktop.ui.role_windows import AuditWindow

    clock = Clock(DAY0)
    admin = Services(db, Actor.local_security_admin(), data_dir=data_dir, clock=clock)
    carrier(admin)  # entries in the log, the first one on DAY0
    clock.day(10)
    auditor = Services(db, Actor("shenji", Role.AUDITOR), data_dir=data_dir, clock=clock)
    window = AuditWindow(auditor.audit, auditor.actor, auditor.oversight)
    window.add_home(auditor)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    home = window.home
    qtbot.waitUntil(lambda: home.listed is not None, timeout=15_000)
    [row] = [r for r in home.items_shown() if r.text(3) == "审计日志"]
    assert row.text(4) == "审计日志从未校验" and row.text(1) == "逾期 3 天" and row.text(5) == "校验审计日志"
    assert not any("尚未打印" in r.text(4) for r in home.items_shown())  # the ledgers are not the auditor's
    home.tree.setCurrentItem(row)
    qtbot.keyClick(home.tree, Qt.Key.Key_Return)  # Enter runs the check the item asks for
    qtbot.waitUntil(lambda: not window.verifying and home.listed is not None and not home.busy
                    and not [r for r in home.items_shown() if r.text(3) == "审计日志"], timeout=20_000)
    wait_for_quick_reads()


def test_the_repair_threshold_is_set_from_the_first_screen_and_audited(qtbot, db, data_dir, told):
    from mibao_desktop.db.models import AuditEntry
    from sqlalchemy import select

    services = Services(db, Actor.local_security_admin(), data_dir=data_dir)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    page = window.home_page
    qtbot.waitUntil(lambda: page.listed is not None, timeout=15_000)
    assert page.settings_button.isVisible()
    page.edit_settings()
    dialog = page.dialog
    box = dialog.boxes[("devices_in_repair", "days")]
    assert box.value() == 30 and ("audit_unverified", "days") not in dialog.boxes  # the auditor's, not here
    box.setValue(14)
    dialog.save()
    assert services.due.thresholds()["devices_in_repair"]["days"] == 14
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target == "提醒:维修时间过长")).one()
    assert entry.detail["changed"] == {"维修超过多少天提醒": [30, 14]}
    qtbot.waitUntil(lambda: not page.busy, timeout=15_000)
    wait_for_quick_reads()


def test_a_carrier_due_for_its_declassification_review_is_reviewed_from_the_first_screen(qtbot, db, data_dir, told):
    clock = Clock(DAY0)
    services = Services(db, Actor.local_security_admin(), data_dir=data_dir, clock=clock)
    made, _ids = carrier(services, number="ZT-5", level="秘密", copies=1, secrecy_period="1年",
                         classified_on="2025-03-20")
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.home_page
    qtbot.waitUntil(lambda: page.listed is not None and not page.busy, timeout=15_000)
    [row] = [r for r in page.items_shown() if r.text(3) == "ZT-5"]
    assert row.text(2) == "定密" and "列入年度解密审查" in row.text(4)
    page.tree.setCurrentItem(row)
    qtbot.keyClick(page.tree, Qt.Key.Key_Return)
    assert window.current_page().ledger.key == "carriers"
    dialog = window.dialog
    assert dialog.isVisible() and dialog.windowTitle() == "解密审查"
    dialog.outcome.setCurrentText("延期")
    dialog.save()  # no approver, no period: refused in the dialog, nothing stored
    assert dialog.isVisible() and "批准人" in dialog.error.text()
    dialog.period.setText("3年")
    dialog.approver.setText("张处长")
    dialog.save()
    assert not dialog.isVisible()
    assert services.ledgers.get(made.id).display("declassify_on") == "2028-03-20"
    qtbot.waitUntil(lambda: not page.busy and not [r for r in page.items_shown() if r.text(3) == "ZT-5"],
                    timeout=15_000)
    wait_for_quick_reads()


def test_a_quarterly_check_due_opens_the_carriers_check_on_that_check(qtbot, db, data_dir, told):
    clock = Clock(DAY0)
    services = Services(db, Actor.local_security_admin(), data_dir=data_dir, clock=clock)
    carrier(services, number="ZT-9", level="机密", copies=1)
    clock.day(12)  # 2026-03-14: the month's and the quarter's checks both end on 03-31
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    page = window.home_page
    qtbot.waitUntil(lambda: page.listed is not None, timeout=15_000)
    rows = [g.child(i) for g in (page.tree.topLevelItem(n) for n in range(page.tree.topLevelItemCount()))
            for i in range(g.childCount())]
    by_action = {row.text(5): row for row in rows}
    assert {"开始月核对", "开始季检查"} <= set(by_action)
    page.tree.setCurrentItem(by_action["开始季检查"])
    qtbot.keyClick(page.tree, Qt.Key.Key_Return)
    dialog = window.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.kind.currentText() == "季检查" and dialog.part.currentIndex() == 0  # the first quarter
    dialog.reject()
