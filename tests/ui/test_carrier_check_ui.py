"""The 载体核对 (the stocktaking dialog on the carriers' copies) on a real SQLite file, offscreen: a
department's list read off the UI thread, a copy typed into the scan box with Enter (as a barcode
scanner does: the focus stays there for the next), another ticked, the counts following, and
完成核对 confirmed."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from mibao_desktop.security import Actor
from mibao_desktop.services.context import Services
from mibao_desktop.services import stocktaking as ST
from mibao_desktop.ui.stocktake_dialog import StocktakeDialog
from mibao_desktop.ui.tasks import wait_for_quick_reads
from tests.conftest import today


def test_scan_by_typing_and_enter_then_complete(qtbot, db, told, tmp_path, monkeypatch):
    services = Services(db, Actor.local_security_admin())
    services.ledgers.create("people", {"name": "李娜", "department": "科研一处"})
    services.carrier_actions.register(dict(
        carrier_number="ZT-2026-001", title="年度保密检查通知", level="机密", classified_on="2026-01-05", copies=3,
        scope="全体人员", source="接收", received_on=(today() - dt.timedelta(days=5)).isoformat(), keeper="李娜",
        department="科研一处", location="科研一处保密柜"))
    dialog = StocktakeDialog(services, ledger_key="carrier_copies")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.kind.isVisible() and dialog.part.currentText() == f"{today().month} 月"  # this month's 月核对
    assert dialog.start_button.text() == "开始核对" and dialog.missing_button.isVisible()
    assert dialog.scope.findText("人员") >= 0
    dialog.scope.setCurrentText("部门")
    qtbot.waitUntil(lambda: dialog.value.count() == 1)  # the departments, read off the UI thread
    dialog.value.setCurrentText("科研一处")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3)
    assert dialog.scan_box.hasFocus()
    assert "未核对 3" in dialog.counts.text()

    qtbot.keyClicks(dialog.scan_box, "ZT-2026-001-2")
    qtbot.keyClick(dialog.scan_box, Qt.Key.Key_Return)
    assert dialog.scan_box.text() == "" and dialog.scan_box.hasFocus()
    qtbot.waitUntil(lambda: not dialog.queue.busy)  # saved off the UI thread (ui/scan_queue.py)
    assert "已核对:ZT-2026-001 第 2 份" in dialog.said.text() and dialog.sound.played == ["已核对"]
    assert "已核对 1" in dialog.counts.text() and "未核对 2" in dialog.counts.text()
    qtbot.keyClicks(dialog.scan_box, "ZT-2026-009 1")  # no such carrier: kept as unknown to MiBao
    qtbot.keyClick(dialog.scan_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.queue.busy)
    assert "MiBao 中没有" in dialog.said.text() and dialog.sound.played[-1] == "未登记"
    qtbot.keyClicks(dialog.scan_box, "ZT-2026-001-9")  # a copy its carrier does not have: refused, said
    qtbot.keyClick(dialog.scan_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.queue.busy)
    assert "没有第 9 份" in dialog.said.text() and dialog.sound.played[-1] == "错误"
    dialog.model.setData(dialog.model.index(0, 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    qtbot.waitUntil(lambda: not dialog.queue.busy)
    assert "已核对 2" in dialog.counts.text()

    dialog.checkers.setText("李娜")
    qtbot.mouseClick(dialog.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.closed)
    assert [t for kind, t, _ in told if kind == "confirm"] == ["完成核对"]
    assert [dialog.model.lines[r].finding for r in range(4)] == ["缺失", "未登记", ST.SEEN, ST.SEEN]
    assert dialog.model.data(dialog.model.index(2, 0)) == "已核对"  # said in the check's word
    assert not dialog.scan_box.isEnabled() and dialog.print_button.isEnabled()
    report = services.stocktaking.report(dialog.take.id)
    assert report.info.checkers == "李娜" and report.counts()["缺失"] == 1

    # the report printed and exported from the dialog, the missing copy marked 下落不明 from it
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    saved = iter([str(tmp_path / "报告.pdf"), str(tmp_path / "报告.xlsx")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (next(saved), ""))
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "报告已保存" in dialog.said.text(), timeout=10000)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已导出" in dialog.said.text(), timeout=10000)
    assert (tmp_path / "报告.pdf").stat().st_size > 0 and (tmp_path / "报告.xlsx").stat().st_size > 0
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("柜内未找到", True))
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.missing_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已标为下落不明" in dialog.model.data(dialog.model.index(0, 9)))
    assert services.ledgers.get(dialog.model.lines[0].record_id).status == "下落不明"

    # a finished check's report is opened again from 已有的核对 (to print it another day)
    dialog.model.reset([], closed=False)
    assert "已完成" in dialog.history.itemText(0)
    qtbot.mouseClick(dialog.history_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4)
    assert dialog.model.closed and dialog.print_button.isEnabled()
    wait_for_quick_reads()


def test_a_copy_given_back_after_the_list_was_read_is_counted_right_when_scanned(qtbot, db):
    """Lent when the list was read (外出), given back, its line made after (scrolled away and back),
    then scanned: the counts are those a new read has (found by this session's reviewer: 已核对 1,
    未核对 2, 外出 1 where a new read says 已核对 1, 未核对 3, 外出 0)."""
    services = Services(db, Actor.local_security_admin())
    for name in ("李娜", "王芳"):
        services.ledgers.create("people", {"name": name, "department": "科研一处"})
    services.carrier_actions.register(dict(
        carrier_number="ZT-2026-001", title="年度保密检查通知", level="机密", classified_on="2026-01-05", copies=4,
        scope="全体人员", source="接收", received_on=(today() - dt.timedelta(days=5)).isoformat(), keeper="李娜",
        department="科研一处", location="科研一处保密柜"))
    carrier = services.ledgers.find("carriers", "ZT-2026-001")
    second = services.carrier_actions.copies(carrier.id)[1].id
    services.carrier_actions.lend([second], {"borrower": "王芳", "approver": "王处长",
                                             "due_back": (today() + dt.timedelta(days=7)).isoformat()})
    dialog = StocktakeDialog(services, ledger_key="carrier_copies")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.scope.setCurrentText("部门")
    qtbot.waitUntil(lambda: dialog.value.count() == 1)
    dialog.value.setCurrentText("科研一处")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4)
    assert "未核对 3" in dialog.counts.text() and "外出 1" in dialog.counts.text()
    services.carrier_actions.give_back([second], {})
    dialog.model.lines._blocks.clear()  # as when scrolled far away and back: the lines made again, now

    qtbot.keyClicks(dialog.scan_box, "ZT-2026-001-2")
    qtbot.keyClick(dialog.scan_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.queue.busy)
    assert "已核对:ZT-2026-001 第 2 份" in dialog.said.text()
    counts = dialog.model.counts()
    assert (counts["已核对"], counts["未核对"], counts["外出"]) == (1, 3, 0), dialog.counts.text()
    wait_for_quick_reads()


def test_the_main_windows_menu_opens_the_check(window):
    from PySide6.QtGui import QAction

    action = next(a for a in window.findChildren(QAction) if a.text() == "载体核对…")
    action.trigger()
    assert isinstance(window.dialog, StocktakeDialog) and window.dialog.isVisible()
    assert window.dialog.ledger.currentData() == "carrier_copies"
    window.dialog.reject()
    wait_for_quick_reads()


def test_esc_while_its_work_runs_keeps_the_dialog_open_until_the_work_ends(qtbot, db):
    """A report or 标为下落不明 under way: Esc does not close the dialog over it (the work would
    go on against a dialog that is gone); once the work ends, Esc closes."""
    import threading

    from mibao_desktop.ui.tasks import run_in_background

    dialog = StocktakeDialog(Services(db, Actor.local_security_admin()), ledger_key="carrier_copies")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    release = threading.Event()
    dialog.task = run_in_background(dialog, "正在生成核对报告……", lambda _p, _c: release.wait(5),
                                    on_done=lambda _r: None, on_error=lambda _e: None, cancellable=False)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and "请稍候" in dialog.said.text()
    release.set()
    qtbot.waitUntil(lambda: not dialog.task.running)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    wait_for_quick_reads()
