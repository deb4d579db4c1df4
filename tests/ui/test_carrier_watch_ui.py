"""到期提醒 in the main window: the missing clock's check at the window's start (off the UI
thread), the three lists in Chinese, sorting, and a double click to the record."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from mibao_desktop.security import Actor
from mibao_desktop.services.context import Services
from mibao_desktop.ui.main_window import WATCH, MainWindow
from mibao_desktop.ui.tasks import wait_for_quick_reads
from tests.test_carrier_watch import DAY0, Clock, carrier, lend, mark_missing


def test_the_watch_page_opens_the_due_leak_event_and_lists_what_is_due(qtbot, db, data_dir, told):
    clock = Clock(DAY0)
    services = Services(db, Actor.local_security_admin(), data_dir=data_dir, clock=clock)
    _top, (t1, t2) = carrier(services, number="ZT-9", level="绝密", copies=2)
    _sec, (s1, s2, s3) = carrier(services, number="ZT-2", level="机密")
    mark_missing(services, [t1], DAY0)
    mark_missing(services, [s1], DAY0)
    lend(services, [s2], DAY0 + dt.timedelta(days=3), DAY0)
    lend(services, [s3], DAY0 + dt.timedelta(days=14), DAY0)
    mark_missing(services, [t2], clock.day(2))  # its ten days end on day 12
    clock.day(12)  # the 绝密 copy is past its ten days; the 机密 one has 48 left; one loan is 9 days late, one due in 2

    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.watch_page
    qtbot.waitUntil(lambda: page.watch is not None, timeout=10_000)
    assert services.ledgers.count("leak_events") == 1  # opened by the window's start

    nav = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert nav[-1] == WATCH and any(t.startswith("泄密事件") for t in nav)
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.navigation.visualItemRect(window.navigation.item(len(nav) - 1)).center())
    assert window.stack.currentWidget() is page
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)

    leaks = page.leak_table
    assert leaks.rowCount() == 1
    row = [leaks.item(0, c).text() for c in range(leaks.columnCount())]
    assert row[1] == "重大泄密" and row[3] == "绝密" and row[-1] == "立即报告" and row[5] == "待报告"
    assert "ZT-9 第 1 份" in row[2]
    assert "重大泄密事件 1 件须立即" in page.summary.text()

    missing = page.missing_table
    texts = {missing.item(r, 0).text(): missing.item(r, 6).text() for r in range(missing.rowCount())}
    assert texts == {"ZT-9 第 1 份": "已按泄密事件处理", "ZT-2 第 1 份": "剩余 48 天",
                     "ZT-9 第 2 份": "今日为查找期限最后一天"}
    loans = page.loan_table
    # most urgent first; the loan due in 2 days is listed (within 7), none due later
    assert [loans.item(r, 5).text() for r in range(loans.rowCount())] == ["逾期 9 天", "剩余 2 天"]

    # sorting by 剩余天数 orders by the days (-2 before 48), not the text (剩余 before 已按)
    missing.sortItems(6, Qt.SortOrder.AscendingOrder)
    assert missing.item(0, 0).text() == "ZT-9 第 1 份"
    missing.sortItems(6, Qt.SortOrder.DescendingOrder)
    assert missing.item(0, 0).text() == "ZT-2 第 1 份"
    missing.sortItems(0, Qt.SortOrder.AscendingOrder)
    assert [missing.item(r, 0).text() for r in range(3)] == ["ZT-2 第 1 份", "ZT-9 第 1 份", "ZT-9 第 2 份"]

    # a double click opens the leak event in its ledger's page
    rect = leaks.visualItemRect(leaks.item(0, 0))
    qtbot.mouseClick(leaks.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # (the view opens what was pressed)
    qtbot.mouseDClick(leaks.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    ledger_page = window.current_page()
    assert ledger_page.ledger.key == "leak_events" and window.stack.currentWidget() is ledger_page

    # the page's check again opens nothing more
    window.show_watch()
    page.check()
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert services.ledgers.count("leak_events") == 1 and page.leak_table.rowCount() == 1

    # the window stays open: an hour on, the timer's look redraws the deadlines, reads nothing…
    clock.now += dt.timedelta(hours=1)
    page._day_turned()
    assert not page.busy and page.leak_table.rowCount() == 1
    # …and into the next day it finds the day turned and checks
    clock.day(13)
    page._day_turned()
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert services.ledgers.count("leak_events") == 2 and page.leak_table.rowCount() == 2
    assert "本次检查新开立泄密事件 1 件" in page.summary.text()
    wait_for_quick_reads()
