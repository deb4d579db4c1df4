"""The 盘点 dialog on a real SQLite file, offscreen, driven as a USB scanner drives it: each code
typed by synthetic key events (QTest.keyClicks) and ended with Enter, faster than 20 codes a
second, through the real dialog while its saves run off the UI thread. Every code must be in
the database afterwards (none lost), each answered with its colour and sound, the focus kept in
the scan box; then 完成盘点, the report printed and exported from the dialog."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from mibao_desktop.security import Actor
from mibao_desktop.services import stocktaking as ST
from mibao_desktop.services.context import Services
from mibao_desktop.ui.stocktake_dialog import COLOURS, StocktakeDialog
from mibao_desktop.ui.tasks import wait_for_quick_reads
from tests.conftest import computer

N = 30


def _computers(services, n):
    for i in range(1, n + 1):
        services.ledgers.create("computers", computer(
            asset_number=f"JM-{i:04d}", department="科研一处" if i <= n - 2 else "科研二处", location="科研楼201",
            serial_number=f"PC0A{i:04d}", disk_serials=f"WD-WCC6Y0{i:06d}", mac_addresses=f"00-1A-2B-3C-4D-{i:02X}"))


def _type_code(qtbot, box, code):
    qtbot.keyClicks(box, code)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_a_scanner_at_more_than_20_codes_a_second_loses_no_scan(qtbot, db, told, tmp_path, monkeypatch):
    services = Services(db, Actor.local_security_admin())
    _computers(services, N)
    dialog = StocktakeDialog(services, ledger_key="computers")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.ledger.currentText() == "涉密计算机"
    dialog.scope.setCurrentText("部门")
    qtbot.waitUntil(lambda: dialog.value.count() == 2)  # the departments, read off the UI thread
    dialog.value.setCurrentText("科研一处")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == N - 2)
    assert dialog.scan_box.hasFocus()

    # a burst: codes typed back to back with no pause at all (the saves queue behind them)
    burst = [f"JM-{i:04d}" for i in range(1, 16)]
    started = time.perf_counter()
    for code in burst:
        _type_code(qtbot, dialog.scan_box, code)
    burst_rate = len(burst) / (time.perf_counter() - started)
    assert burst_rate > 20, burst_rate
    # then on a scanner's schedule, one code each 50 ms (20 a second), the event loop running between
    # codes so that the saves' answers arrive in the middle of the next code's keystrokes; where the
    # loaded machine falls behind, the next code follows at once (a scanner's keys queue likewise)
    paced = [f"JM-{i:04d}" for i in range(16, N - 2)] + ["JM-0001", "JM-0029", "XX-404"]
    started = time.perf_counter()
    for n, code in enumerate(paced, start=1):
        _type_code(qtbot, dialog.scan_box, code)
        assert dialog.scan_box.text() == "" and dialog.scan_box.hasFocus()
        qtbot.wait(max(0, int((started + n * 0.05 - time.perf_counter()) * 1000)))
    paced_rate = len(paced) / (time.perf_counter() - started)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)

    # nothing lost: each code in the database, and answered once with a sound
    stored = services.stocktaking.listing(dialog.take.id)
    seen = {x.number: x.times_seen for x in stored.lines if x.seen_how}
    assert seen == {**{f"JM-{i:04d}": 1 for i in range(2, N - 2)}, "JM-0001": 2, "JM-0029": 1, "XX-404": 1}
    assert len(dialog.sound.played) == len(burst) + len(paced)
    assert dialog.sound.played[-3:] == [ST.AGAIN, ST.EXTRA, ST.UNKNOWN]
    assert dialog.said.text().startswith("未登记") and COLOURS[ST.UNKNOWN] in dialog.said.styleSheet()
    assert "已盘点 27" in dialog.counts.text() and "未盘点 1" in dialog.counts.text()
    assert "多出 1" in dialog.counts.text() and "未登记 1" in dialog.counts.text()
    assert dialog.scan_box.hasFocus()

    # a tick by hand, then 完成盘点
    row = next(r for r, x in enumerate(dialog.model.lines) if x.number == f"JM-{N - 2:04d}")
    dialog.model.setData(dialog.model.index(row, 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    qtbot.waitUntil(lambda: not dialog.busy and "未盘点 0" in dialog.counts.text())
    dialog.checkers.setText("李娜")
    qtbot.mouseClick(dialog.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.closed)
    report = services.stocktaking.report(dialog.take.id)
    counts = report.counts()
    assert (counts["已盘点"], counts["缺失"], counts["多出"], counts["未登记"], counts["重复"]) == (N - 2, 0, 1, 1, 1)
    assert not dialog.scan_box.isEnabled() and dialog.print_button.isEnabled()

    saved = iter([str(tmp_path / "盘点.pdf"), str(tmp_path / "盘点.xlsx")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (next(saved), ""))
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "报告已保存" in dialog.said.text(), timeout=10000)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已导出" in dialog.said.text(), timeout=10000)
    assert (tmp_path / "盘点.pdf").stat().st_size > 0 and (tmp_path / "盘点.xlsx").stat().st_size > 0
    print(f"burst {burst_rate:.0f} codes/s, paced {paced_rate:.1f} codes/s")
    wait_for_quick_reads()


def test_the_ledger_page_offers_stocktaking(window, qtbot):
    """记录 › 盘点… opens on the page's own ledger."""
    from PySide6.QtGui import QAction

    window.show_ledger("media")
    action = next(a for a in window.findChildren(QAction) if a.text() == "盘点…")
    action.trigger()
    assert isinstance(window.dialog, StocktakeDialog)
    assert window.dialog.ledger.currentData() == "media"
    window.dialog.close()


def test_codes_refused_as_a_batch_wait_in_the_queue_and_closing_asks(qtbot, db, told):
    """The session closed at another desk: the codes typed here are refused as a batch, kept in
    the queue (said, sounded), and the window asks before it drops them."""
    services = Services(db, Actor.local_security_admin())
    _computers(services, 4)
    dialog = StocktakeDialog(services, ledger_key="computers")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.scope.setCurrentText("全部")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4)
    Services(db, Actor.local_security_admin()).stocktaking.close(dialog.take.id)  # another desk finished it
    for code in ("JM-0001", "JM-0002"):
        _type_code(qtbot, dialog.scan_box, code)
    qtbot.waitUntil(lambda: dialog.queue.stalled and dialog.queue.saving is None)
    assert list(dialog.queue.pending) == [("scan", "JM-0001"), ("scan", "JM-0002")]  # kept, in order
    assert "保存失败" in dialog.said.text() and "已于" in dialog.said.text() and dialog.sound.played[-1] == "错误"
    told.answers.append(False)
    dialog.reject()
    assert dialog.isVisible() and [k for k, t, _ in told if k == "confirm"] == ["confirm"]  # asked; kept open
    assert "2 条扫描未能保存" in told[-1][2]
    told.answers.append(True)
    dialog.reject()
    assert not dialog.isVisible()
    wait_for_quick_reads()
