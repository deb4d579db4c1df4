"""The auditor's window speaks the domain (issue 12 item 9), driven as the auditor: rows name the
ledger and the record (涉密计算机 JM-0001), an edit reads 字段: 旧 → 新, an undo reads 撤销修改,
a selected long entry shows whole in the pane below the list, and the export carries the
marking chosen in its dialog (on the sheet and in the print header). The list is read off the UI
thread (ui/tasks.py): 正在读取 with 取消 meanwhile, a newer filter supersedes an older read."""

from __future__ import annotations

import threading

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.audit_service import AuditService
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.services.oversight import OversightService
from mibao_desktop.ui.tasks import wait_for_quick_reads
from tests.conftest import computer

PASSWORDS = {Role.SYSTEM_ADMIN: "Sys-Admin-2026", Role.SECURITY_ADMIN: "Sec-Admin-2026", Role.AUDITOR: "Aud-Itor-2026"}
NAMES = {Role.SYSTEM_ADMIN: "xitong", Role.SECURITY_ADMIN: "baomi", Role.AUDITOR: "shenji"}
BAOMI, SHENJI = Actor("baomi", Role.SECURITY_ADMIN), Actor("shenji", Role.AUDITOR)
from tests.test_audit_lines import marked  # noqa: E402  (one reading of a sheet's marking)

LONG_REMARK = "该机因科研任务需要临时调整放置地点,经保密办审批同意," * 8 + "到此为止。"


@pytest.fixture
def worked(db):
    """Three accounts, then the security administrator's day: a computer registered, edited
    (one edit with a long remark), the first edit undone."""
    AccountService(db).setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    ledgers = LedgerService(db, BAOMI)
    made = ledgers.create("computers", computer())
    ledgers.update(made.id, {"user": "李四", "department": "科研一处"})
    first_edit = next(e.id for e in ledgers.history(made.id) if e.action == "update")
    ledgers.update(made.id, {"remarks": LONG_REMARK})
    ledgers.revert(made.id, first_edit)
    return db


def open_window(qtbot, db):
    from mibao_desktop.ui.role_windows import AuditWindow

    win = AuditWindow(AuditService(db, SHENJI), SHENJI, OversightService(db, SHENJI))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    return win


def read(qtbot, window) -> None:
    """Wait for the list the window is reading (off the UI thread)."""
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)


@pytest.fixture
def window(qtbot, worked):
    win = open_window(qtbot, worked)
    read(qtbot, win)
    yield win
    wait_for_quick_reads()  # nothing reads the database after the test closes it


@pytest.fixture
def gate(monkeypatch):
    """AuditService.lines held (on its worker thread) until the test opens the gate, for a read
    with no action filter: a slow read of 2,000 entries, at the test's pace."""
    opened, started = threading.Event(), []
    lines = AuditService.lines

    def slow(self, f, **kw):
        if not f.action:
            started.append(threading.current_thread())
            assert opened.wait(10), "the gate was never opened"
        return lines(self, f, **kw)

    monkeypatch.setattr(AuditService, "lines", slow)
    yield opened, started
    opened.set()
    wait_for_quick_reads()


def cells(window, row: int) -> list[str]:
    return [window.table.item(row, c).text() for c in range(window.table.columnCount())]


def row_of(window, action: str, *, containing: str = "") -> int:
    return next(r for r in range(window.table.rowCount())
                if cells(window, r)[4] == action and containing in cells(window, r)[6])


def test_the_rows_name_ledgers_and_records_and_say_what_changed(window):
    shown = [cells(window, r) for r in range(window.table.rowCount())]
    assert all("computers:" not in c and "people:" not in c and "record_id" not in c for row in shown for c in row)
    edit = cells(window, row_of(window, "修改记录", containing="使用人"))
    assert edit[5] == "涉密计算机 JM-0001"
    assert edit[6] == "使用人:张伟 → 李四;部门:保密办 → 科研一处"
    undo = cells(window, row_of(window, "撤销修改"))
    assert undo[5] == "涉密计算机 JM-0001"
    assert "撤销 " in undo[6] and "使用人:李四 → 张伟;部门:科研一处 → 保密办" in undo[6]
    people = [row[5] for row in shown if row[4] == "登记" and row[5].startswith("人员")]
    assert people == ["人员 RY-0002(李四)", "人员 RY-0001(张伟)"]  # newest first
    assert [row[4] for row in shown].count("初始化账户") == 2  # the auditor's own setup is not listed


def test_a_selected_long_entry_shows_whole_in_the_pane(qtbot, window):
    assert window.detail.toPlainText() == "" and window.detail.isReadOnly()
    row = row_of(window, "修改记录", containing="备注")
    cell = window.table.item(row, 6)
    # the row is one line, cut by the column; the pane below holds it all
    assert window.table.visualItemRect(cell).width() < window.table.fontMetrics().horizontalAdvance(cell.text())
    window.table.setFocus()
    window.table.selectRow(row)
    text = window.detail.toPlainText()
    assert text.startswith(f"第 {window.rows[row].id} 条")
    assert "用户:baomi(安全保密管理员)" in text and "操作:修改记录" in text and "对象:涉密计算机 JM-0001" in text
    assert f"  备注:(空) → {LONG_REMARK}" in text.split("\n")
    assert window.detail.lineWrapMode() == window.detail.LineWrapMode.WidgetWidth
    assert window.detail.horizontalScrollBar().maximum() == 0  # wrapped, not scrolled sideways
    window.refresh()  # a refresh keeps the entry chosen
    assert window.loading
    read(qtbot, window)
    assert window.selected().id == window.rows[row].id and window.detail.toPlainText() == text
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    assert window.detail.toPlainText().startswith(f"第 {window.rows[row + 1].id} 条")


def test_the_export_carries_the_marking_chosen_in_its_dialog(qtbot, window, worked, tmp_path, told):
    qtbot.mouseClick(window.export_button, Qt.MouseButton.LeftButton)
    dialog = window.export_dialog
    assert dialog.isVisible() and dialog.marking.currentText() == "内部"
    assert [dialog.marking.itemText(i) for i in range(dialog.marking.count())] == [
        "绝密★", "机密★", "秘密★", "内部", "非涉密"]
    dialog.marking.setCurrentIndex(dialog.marking.findText("机密★"))
    out = tmp_path / "审计日志"
    dialog.path.setText(str(out))
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: window.task is not None and not window.task.running, timeout=10000)
    written = out.with_name("审计日志.xlsx")
    assert told[-1][:2] == ("inform", "导出完成") and "密级标志:机密★" in told[-1][2]
    ws = openpyxl.load_workbook(written).active
    assert marked(ws, "机密★")
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    undo = next(r for r in rows if r[4] == "撤销修改")
    assert undo[5] == "涉密计算机 JM-0001" and "使用人:李四 → 张伟" in undo[6]
    long_edit = next(r for r in rows if r[4] == "修改记录" and "备注" in r[6])
    assert long_edit[6] == f"备注:(空) → {LONG_REMARK}"  # whole in the workbook too
    recorded = OversightService(worked, BAOMI).auditor_actions()[0]
    assert recorded.action == "audit.export" and recorded.detail["marking"] == "机密"
    assert AuditService(worked, SHENJI).verify().ok


def test_the_list_is_read_off_the_ui_thread_and_a_newer_filter_supersedes_it(qtbot, worked, gate):
    opened, started = gate
    window = open_window(qtbot, worked)
    qtbot.waitUntil(lambda: bool(started), timeout=10000)  # the read is under way, held at the gate
    assert started[0] is not threading.main_thread()
    # the window is drawn and says it is reading, with 取消; the filters still answer
    assert window.loading and window.reading.isVisible() and "正在读取" in window.reading.label.text()
    assert window.reading.cancel_button.isVisible() and window.reading.cancel_button.text() == "取消"
    assert window.table.rowCount() == 0
    window.action.setCurrentIndex(window.action.findData("record."))  # 台账修改(全部): not held
    read(qtbot, window)
    edits = [window.table.item(r, 4).text() for r in range(window.table.rowCount())]
    assert edits and set(edits) <= {"登记", "修改记录", "撤销修改"}
    assert window.count_label.text() == f"共 {len(edits)} 条" and not window.reading.isVisible()
    assert window.user.findData("baomi") != -1  # the users to filter by came with the first read done
    opened.set()  # the older read ends now: its list (every action) is dropped unseen
    assert wait_for_quick_reads()
    qtbot.wait(50)
    assert [window.table.item(r, 4).text() for r in range(window.table.rowCount())] == edits
    assert not window.loading and window.count_label.text() == f"共 {len(edits)} 条"


def test_cancel_stops_waiting_for_the_read(qtbot, worked, gate):
    opened, started = gate
    window = open_window(qtbot, worked)
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    qtbot.mouseClick(window.reading.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.loading and not window.reading.isVisible() and window.count_label.text() == "已取消读取"
    opened.set()
    assert wait_for_quick_reads()
    qtbot.wait(50)
    assert window.table.rowCount() == 0 and window.count_label.text() == "已取消读取"  # nothing shown late
    qtbot.mouseClick(window.refresh_button, Qt.MouseButton.LeftButton)  # 刷新 reads it again
    read(qtbot, window)
    assert window.table.rowCount() > 0 and window.count_label.text().startswith("共 ")


def test_a_failed_read_is_said_in_chinese(qtbot, worked, monkeypatch, told):
    def broken(self, f, **kw):
        raise OSError(5, "输入/输出错误", "mibao.db")

    monkeypatch.setattr(AuditService, "lines", broken)
    window = open_window(qtbot, worked)
    read(qtbot, window)
    assert told[-1][:2] == ("error", "读取审计日志失败") and "读写文件失败" in told[-1][2]
    assert window.count_label.text() == "读取失败" and not window.reading.isVisible()
    wait_for_quick_reads()


def test_the_security_administrator_reviews_the_auditor_off_the_ui_thread(qtbot, worked, monkeypatch):
    from mibao_desktop.ui.role_windows import AuditorActionsDialog

    AuditService(worked, SHENJI).verify()
    opened, started = threading.Event(), []
    actions = OversightService.auditor_actions

    def slow(self, **kw):
        started.append(threading.current_thread())
        assert opened.wait(10)
        return actions(self, **kw)

    monkeypatch.setattr(OversightService, "auditor_actions", slow)
    dialog = AuditorActionsDialog(OversightService(worked, BAOMI))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    assert started[0] is not threading.main_thread()
    assert dialog.loading and dialog.reading.isVisible() and "正在读取" in dialog.reading.label.text()
    opened.set()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10000)
    shown = [[dialog.table.item(r, c).text() for c in (2, 3)] for r in range(dialog.table.rowCount())]
    assert shown == [["shenji", "校验审计日志"], ["shenji", "初始化账户"]]
    assert dialog.count_label.text() == "共 2 条" and not dialog.reading.isVisible()
    wait_for_quick_reads()


def test_a_failed_check_selects_the_changed_entry_once_the_list_is_read(qtbot, window, worked):
    from sqlalchemy import text

    changed = window.rows[row_of(window, "撤销修改")].id
    with worked.engine.begin() as conn:  # past the services, as someone tampering with the file would
        conn.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = :id"), {"id": changed})
    window.table.selectRow(0)  # another entry chosen before the check
    qtbot.mouseClick(window.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.verifying, timeout=10000)  # walked off the UI thread
    assert window.result_label.text().startswith("✘")
    read(qtbot, window)  # the list read again (at once on a fast machine: not asserted as still loading)
    assert window.selected().id == changed and window.detail.toPlainText().startswith(f"第 {changed} 条")
    assert cells(window, window.table.currentRow())[2] == "someone"


@pytest.fixture
def held_check(monkeypatch):
    """The chain walk (services.audit.verify, on its worker) held after its first progress
    report until the test opens the gate: a check of a million entries, at the test's pace."""
    from mibao_desktop.services import audit

    opened, started = threading.Event(), []
    walk = audit.verify

    def held(session, *args, progress=None, cancelled=None, **kw):
        def report(done, total):
            progress(done, total)
            if not started:
                started.append(threading.current_thread())
                assert opened.wait(10), "the gate was never opened"
        return walk(session, *args, progress=report, cancelled=cancelled, **kw)

    monkeypatch.setattr(audit, "verify", held)
    yield opened, started
    opened.set()


def test_the_check_walks_the_chain_off_the_ui_thread_with_progress(qtbot, window, worked, held_check):
    import shiboken6
    from PySide6.QtCore import QTimer

    from mibao_desktop.db.models import AuditEntry
    from sqlalchemy import func, select

    opened, started = held_check
    with worked.session() as s:
        entries = s.scalar(select(func.count(AuditEntry.id)))
    qtbot.mouseClick(window.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    assert started[0] is not threading.main_thread()
    assert window.verifying and not window.verify_button.isEnabled() and not window.anchor_button.isEnabled()
    assert window.result_label.text() == "正在校验审计日志……"  # no earlier result stands for it
    dialog = window.verify_task.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)  # shown once the check has taken 300 ms
    assert dialog.labelText() == "正在校验审计日志……" and dialog.maximum() == entries and dialog.value() == 0
    ticked = []
    QTimer.singleShot(0, lambda: ticked.append(1))  # the UI thread is free while the chain is walked
    qtbot.waitUntil(lambda: bool(ticked), timeout=2000)
    assert window.verifying
    opened.set()
    qtbot.waitUntil(lambda: not window.verifying, timeout=10000)
    assert window.result_label.text() == f"✔ 审计日志完整:共 {entries} 条,逐条校验无误。"
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()  # closed (and let go)
    assert window.verify_button.isEnabled() and window.anchor_button.isEnabled()
    read(qtbot, window)  # the list read again, as after every check


def test_a_cancelled_check_says_so_and_never_complete(qtbot, window, worked, held_check):
    from PySide6.QtWidgets import QPushButton

    from mibao_desktop.db.models import AuditEntry
    from sqlalchemy import select

    opened, started = held_check
    window.result_label.setText("✔ 审计日志完整:共 1 条,逐条校验无误。")  # an earlier check's result
    qtbot.mouseClick(window.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    dialog = window.verify_task.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "取消")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert dialog.labelText() == "正在取消……" and window.verifying
    opened.set()
    qtbot.waitUntil(lambda: not window.verifying, timeout=10000)
    said = window.result_label.text()
    assert said == "校验已取消:只核对了前 0 条,其余未核对,没有得出结论。"
    assert "完整" not in said and "✔" not in said and window.verify_button.isEnabled()
    with worked.session() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.actor, last.detail["result"]) == ("audit.verify", "shenji", "已取消")


def test_a_check_in_flight_is_stopped_when_the_window_is_put_away(qtbot, window, worked, held_check):
    """Logout hides the window before the database closes: the walk is cancelled and waited
    for there, not left reading a closed database."""
    from mibao_desktop.db.models import AuditEntry
    from sqlalchemy import select

    opened, started = held_check
    qtbot.mouseClick(window.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    threading.Timer(0.3, opened.set).start()  # the walk goes on once hide() is waiting for it
    window.hide()
    assert window.verify_task.worker.isFinished()
    with worked.session() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.detail["result"]) == ("audit.verify", "已取消")
