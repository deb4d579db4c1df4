"""Setup of the three accounts, login and lockout, idle lock, and the other two roles' windows."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from mibao_desktop.services.context import Services
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.ui.idle import IdleLock
from mibao_desktop.ui.login import ChangePasswordDialog, LoginDialog, SetupDialog

PASSWORDS = {Role.SYSTEM_ADMIN: "Sys-Admin-2026", Role.SECURITY_ADMIN: "Sec-Admin-2026", Role.AUDITOR: "Aud-Itor-2026"}
NAMES = {Role.SYSTEM_ADMIN: "xitong", Role.SECURITY_ADMIN: "baomi", Role.AUDITOR: "shenji"}


@pytest.fixture
def accounts(db):
    return AccountService(db)


@pytest.fixture
def ready(accounts):
    accounts.setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    return accounts


def ok_button(dialog):
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)


def test_the_setup_dialog_makes_the_three_accounts(qtbot, accounts):
    dialog = SetupDialog(accounts, SecurityPolicy())
    qtbot.addWidget(dialog)
    dialog.show()
    for role, (name, display, password, again) in dialog.fields.items():
        name.setText(NAMES[role])
        display.setText(f"{role.value}甲")
        password.setText(PASSWORDS[role])
        again.setText(PASSWORDS[role])
    dialog.fields[Role.AUDITOR][3].setText("different-Pass-1")
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "安全审计员两次输入的口令不一致" in dialog.error.text()
    dialog.fields[Role.AUDITOR][2].setText("short")
    dialog.fields[Role.AUDITOR][3].setText("short")
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert "长度不少于 10 位" in dialog.error.text() and accounts.needs_setup()
    dialog.fields[Role.AUDITOR][2].setText(PASSWORDS[Role.AUDITOR])
    dialog.fields[Role.AUDITOR][3].setText(PASSWORDS[Role.AUDITOR])
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and not accounts.needs_setup()
    assert accounts.login("shenji", PASSWORDS[Role.AUDITOR]).actor.role is Role.AUDITOR


def test_login_names_the_failures_and_the_lockout(qtbot, ready):
    dialog = LoginDialog(ready)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "baomi")
    for attempt in range(1, 6):
        qtbot.keyClicks(dialog.password, "Wrong-pass-1")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.password.text() == ""
        if attempt < 5:
            assert "用户名或口令错误。连续 5 次口令错误" in dialog.error.text()
    assert "账户已锁定" in dialog.error.text() and "连续 5 次" in dialog.error.text()
    qtbot.keyClicks(dialog.password, PASSWORDS[Role.SECURITY_ADMIN])
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.isVisible() and "账户已锁定" in dialog.error.text()
    other = LoginDialog(ready)
    qtbot.addWidget(other)
    other.name.setText("shenji")
    other.password.setText(PASSWORDS[Role.AUDITOR])
    qtbot.mouseClick(ok_button(other), Qt.MouseButton.LeftButton)
    assert other.result() == LoginDialog.DialogCode.Accepted and other.result_.actor.role is Role.AUDITOR


def test_change_password_dialog(qtbot, ready):
    actor = Actor("baomi", Role.SECURITY_ADMIN)
    dialog = ChangePasswordDialog(ready, actor, SecurityPolicy(), "口令已使用 8 天")
    qtbot.addWidget(dialog)
    dialog.old.setText(PASSWORDS[Role.SECURITY_ADMIN])
    dialog.new.setText("abc")
    dialog.again.setText("abc")
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert "长度不少于" in dialog.error.text()
    dialog.new.setText("New-Secret-2026")
    dialog.again.setText("New-Secret-2026")
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert dialog.result() == ChangePasswordDialog.DialogCode.Accepted
    assert ready.login("baomi", "New-Secret-2026")


def test_idle_lock_hides_everything_and_keeps_unsaved_input(qtbot, ready, db, data_dir, told):
    from mibao_desktop.ui.main_window import MainWindow

    actor = Actor("baomi", Role.SECURITY_ADMIN)
    window = MainWindow(Services(db, data_dir=data_dir).acting_as(actor))
    qtbot.addWidget(window)
    window.show()
    page = window.current_page()
    page.add_record()
    page.dialog.editors["user"].set_text("未保存的张三")
    idle = IdleLock(ready, actor, minutes=0.003)  # about 0.2 s
    with qtbot.waitSignal(idle.locked, timeout=5000):
        pass
    assert not window.isVisible() and not page.dialog.isVisible()
    prompt = idle.prompt
    assert prompt.isVisible() and prompt.name.text() == "baomi" and prompt.name.isReadOnly()
    prompt.reject()  # Esc or the close button do not lift the lock
    assert prompt.isVisible()
    prompt.password.setText("Wrong-pass-1")
    qtbot.mouseClick(ok_button(prompt), Qt.MouseButton.LeftButton)
    assert prompt.isVisible() and "用户名或口令错误" in prompt.error.text()
    prompt.password.setText(PASSWORDS[Role.SECURITY_ADMIN])
    with qtbot.waitSignal(idle.unlocked, timeout=5000):
        qtbot.mouseClick(ok_button(prompt), Qt.MouseButton.LeftButton)
    assert window.isVisible() and page.dialog.isVisible()
    assert page.dialog.editors["user"].text() == "未保存的张三"
    idle.stop()
    log = AuditService(db, Actor("shenji", Role.AUDITOR))
    assert log.count(AuditFilter(action="auth.lock")) == 1
    assert log.count(AuditFilter(action="auth.unlock")) == 1
    assert log.count(AuditFilter(action="auth.unlock_failed")) == 1


def test_input_postpones_the_idle_lock(qtbot, ready):
    idle = IdleLock(ready, Actor("baomi", Role.SECURITY_ADMIN), minutes=0.005)  # 0.3 s
    widget = LoginDialog(ready)
    qtbot.addWidget(widget)
    widget.show()
    for _ in range(6):
        qtbot.wait(100)
        qtbot.keyClick(widget.name, Qt.Key.Key_A)
    assert idle.prompt is None
    idle.stop()


def test_the_system_administrator_manages_accounts(qtbot, ready, told):
    from mibao_desktop.ui.role_windows import AccountsWindow

    admin = Actor("xitong", Role.SYSTEM_ADMIN)
    window = AccountsWindow(ready, admin)
    qtbot.addWidget(window)
    window.show()
    assert window.table.rowCount() == 3
    window.new_account()
    dialog = window.dialog
    dialog.name.setText("baomi2")
    dialog.display.setText("保密员乙")
    dialog.person_id.setText("GH-0002")
    dialog.password.setText("Temp-Pass-2026")
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert window.table.rowCount() == 4
    ready.grant_role(Actor("baomi", Role.SECURITY_ADMIN), "baomi2", Role.SECURITY_ADMIN)  # the second person
    assert ready.login("baomi2", "Temp-Pass-2026").must_change_password
    row = next(i for i, a in enumerate(window.rows) if a.name == "shenji")
    window.table.selectRow(row)
    window.reset_password()
    window.dialog.password.setText("Reset-Pass-2026")
    qtbot.mouseClick(ok_button(window.dialog), Qt.MouseButton.LeftButton)
    assert ready.login("shenji", "Reset-Pass-2026").must_change_password
    window.table.selectRow(next(i for i, a in enumerate(window.rows) if a.name == "shenji"))
    window.toggle_active()  # the only auditor: refused, and said so
    assert told[-1][0] == "error" and "唯一在用" in told[-1][2]


def test_the_auditor_filters_verifies_and_exports(qtbot, ready, db, tmp_path, told):
    from mibao_desktop.ui.role_windows import AuditWindow

    ready.login("baomi", PASSWORDS[Role.SECURITY_ADMIN])
    auditor = Actor("shenji", Role.AUDITOR)
    window = AuditWindow(AuditService(db, auditor), auditor)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)  # read off the UI thread
    # two setups and a login: the auditor's own entries are the security administrator's to review
    assert window.table.rowCount() == 3 and "安全审计员" not in {window.table.item(r, 3).text() for r in range(3)}
    assert window.user.findData("shenji") == -1
    assert window.own_note.text() == "本人及其他审计员的操作由安全保密管理员审查,不在此列出。"
    window.user.setCurrentIndex(window.user.findData("baomi"))
    assert window.loading
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)
    assert window.table.rowCount() == 2
    qtbot.mouseClick(window.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.verifying, timeout=10000)  # walked off the UI thread
    assert window.result_label.text().startswith("✔") and "完整" in window.result_label.text()
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)
    out = tmp_path / "审计.xlsx"
    window.export(out)
    qtbot.waitUntil(lambda: not window.task.running, timeout=10000)
    assert out.exists() and told[-1][:2] == ("inform", "导出完成")
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)  # the list read again after the export


def test_each_role_gets_its_own_window(qtbot, ready, data_dir, db, monkeypatch):
    from mibao_desktop.ui.app import AppSession
    from mibao_desktop.ui.main_window import MainWindow
    from mibao_desktop.ui.role_windows import AccountsWindow, AuditWindow

    session = AppSession(data_dir)
    session.db, session.services = db, Services(db, data_dir=data_dir)
    for role, kind in ((Role.SECURITY_ADMIN, MainWindow), (Role.SYSTEM_ADMIN, AccountsWindow),
                       (Role.AUDITOR, AuditWindow)):
        session.show_window(ready.login(NAMES[role], PASSWORDS[role]))
        assert isinstance(session.window, kind) and session.window.isVisible()
        qtbot.addWidget(session.window)
        session._end_window()
    QApplication.instance().setQuitOnLastWindowClosed(True)


def test_a_desktop_session_opens_no_socket_and_restores_a_backup(qtbot, no_network, data_dir, tmp_path, told,
                                                                  monkeypatch):
    """Start, log in, add a record through the dialog, export, back up and restore from the
    menu: no network socket is ever opened."""
    from mibao_desktop.ui.app import AppSession
    from tests.conftest import computer

    session = AppSession(data_dir)
    assert session.open()
    session.accounts().setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    session.show_window(session.accounts().login("baomi", PASSWORDS[Role.SECURITY_ADMIN]))
    window = session.window
    qtbot.addWidget(window)
    page = window.current_page()
    page.add_record()
    for name, value in computer().items():
        if name in page.dialog.editors:
            page.dialog.editors[name].set_text(value)
    qtbot.mouseClick(page.dialog.save_button, Qt.MouseButton.LeftButton)
    assert page.model.total == 1
    page.export_file(tmp_path / "out.xlsx")
    qtbot.waitUntil(lambda: not page.task.running, timeout=10000)
    window.backup_now()
    qtbot.waitUntil(lambda: not window.task.running, timeout=10000)
    made = told[-1][2].split("\n")[-1]
    assert made.endswith(".sqlite")
    LedgerService(session.db, Actor("baomi", Role.SECURITY_ADMIN)).create(
        "computers", computer(asset_number="JM-9", serial_number="S9", disk_serials="D9", mac_addresses="00-00-00-00-00-09"))
    monkeypatch.setattr(AppSession, "login", lambda self: True)  # the login dialog after a restore
    window.choose_backup(made)  # confirmed by the `told` fixture
    assert LedgerService(session.db, Actor("baomi", Role.SECURITY_ADMIN)).count("computers") == 1
    restored = AuditService(session.db, Actor("shenji", Role.AUDITOR)).entries(limit=1)[0]
    assert restored.action == "backup.restore"
    assert no_network == []
    QApplication.instance().setQuitOnLastWindowClosed(True)


def test_the_security_policy_dialog_changes_the_settings(qtbot, ready, db):
    from mibao_desktop.services.settings import SettingsService
    from mibao_desktop.ui.settings_dialog import SettingsDialog

    settings = SettingsService(db, Actor("baomi", Role.SECURITY_ADMIN))
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.spins["max_age_days"].value() == 7
    dialog.spins["max_age_days"].setValue(30)
    dialog.spins["idle_lock_minutes"].setValue(5)
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert settings.security_policy().max_age_days == 30
    assert ready.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]).idle_lock_minutes == 5
    change = AuditService(db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="settings.change"))[0]
    assert change.detail["changed"]["口令最长使用天数"] == [7, 30]


def test_a_damaged_database_at_start_is_restored_through_the_backup_service(qtbot, data_dir, told, monkeypatch):
    """The start-up offers the newest registered good backup; on 恢复该备份 the security
    administrator logs in against the backup's own accounts (the database cannot be opened),
    and the backup service puts it in place and records it in the restored audit log."""
    import os

    from mibao_desktop import paths
    from mibao_desktop.ledgers.computers import computer_rows
    from mibao_desktop.storage import backup
    from mibao_desktop.storage.startup import open_database
    from mibao_desktop.ui import restore_dialog
    from mibao_desktop.ui.app import AppSession

    db = open_database(data_dir)
    AccountService(db).setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    LedgerService(db, Actor.local_security_admin()).create_many("computers", list(computer_rows(300)))
    db.close()
    good = backup.make_backup(paths.database_path(data_dir), paths.backup_dir(data_dir), "manual")
    with open(paths.database_path(data_dir), "r+b") as handle:
        handle.write(os.urandom(4096))  # its first page: refused before anything opens it
    session = AppSession(data_dir)
    told.answers.append(False)  # 退出: nothing is replaced
    assert not session.open()
    assert backup.integrity_problem(paths.database_path(data_dir))
    logins = [("shenji", PASSWORDS[Role.AUDITOR]), ("baomi", PASSWORDS[Role.SECURITY_ADMIN])]
    monkeypatch.setattr(restore_dialog, "ask_restore_login", lambda _parent, _name: logins.pop(0))
    assert session.open()  # 恢复该备份: the auditor is refused, then the security administrator
    assert [t[1] for t in told] == ["数据库已损坏", "数据库已损坏", "恢复失败", "数据库已损坏"]
    assert good.path.name in told[0][2] and "安全保密管理员" in told[2][2]
    try:
        assert session.services.db is session.db  # the composition root is built on the restored file
        entry = AuditService(session.db, Actor("shenji", Role.AUDITOR)).entries(limit=1)[0]
        assert entry.action == "backup.restore" and entry.detail["damaged"] is True and entry.actor == "baomi"
        assert LedgerService(session.db, Actor.local_security_admin()).count("computers") == 300
    finally:
        session.db.close()


def test_a_page_damaged_deep_inside_is_found_after_the_window_and_the_backup_offered(qtbot, data_dir, told,
                                                                                      monkeypatch):
    """The start checks only the file's structure (milliseconds); the full check runs after
    the window is up, off the UI thread, then offers the newest good backup."""
    from mibao_desktop import paths
    from mibao_desktop.ledgers.computers import computer_rows
    from mibao_desktop.storage import backup
    from mibao_desktop.storage.startup import open_database
    from mibao_desktop.ui.app import AppSession

    db = open_database(data_dir)
    AccountService(db).setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    LedgerService(db, Actor.local_security_admin()).create_many("computers", list(computer_rows(300)))
    db.close()
    path = paths.database_path(data_dir)
    good = backup.make_backup(path, paths.backup_dir(data_dir), "manual")
    import sqlite3

    with sqlite3.connect(path) as conn:  # a page of the computers' table: logging in reads none of it
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'ledger_computers' "
                                            "AND pagetype = 'leaf' ORDER BY pageno")]
    conn.close()
    with open(path, "r+b") as handle:
        handle.seek((pages[len(pages) // 2] - 1) * page_size)
        handle.write(b"\xff" * page_size)
    session = AppSession(data_dir)
    assert session.open()  # nothing seen yet
    monkeypatch.setattr(AppSession, "login", lambda self: True)  # the login dialog after the restore
    session.show_window(session.accounts().login("shenji", PASSWORDS[Role.AUDITOR]))
    qtbot.addWidget(session.window)
    qtbot.waitUntil(lambda: any(t[1] == "数据库已损坏" for t in told), timeout=20000)
    # the auditor is told whom to call; before, any role restored (issue 11 item 3)
    assert told[-1][0] == "error" and good.path.name in told[-1][2] and "须由安全保密管理员" in told[-1][2]
    assert backup.integrity_problem(path) is not None
    from mibao_desktop.storage.startup import corrupt_after_start

    session.actor = Actor("baomi", Role.SECURITY_ADMIN)  # the security administrator's window finds it
    told.answers.append(True)  # 恢复该备份
    session._checked(corrupt_after_start(session.db, data_dir))
    qtbot.waitUntil(lambda: session.window is None and backup.integrity_problem(path) is None, timeout=10000)
    entry = AuditService(session.db, Actor("shenji", Role.AUDITOR)).entries(limit=1)[0]
    assert entry.action == "backup.restore" and entry.detail["damaged"] is True and entry.actor == "baomi"
    session.db.close()
    QApplication.instance().setQuitOnLastWindowClosed(True)


def test_the_login_window_shows_before_the_database_opens_and_then_takes_the_login(qtbot, ready, db, data_dir,
                                                                                   monkeypatch):
    """Start: the login window is up at once; the database opens behind it (the 登录 button
    waits for it, what is typed stays); then the person logs in to their window."""
    from mibao_desktop.ui.app import AppSession

    db.close()
    shown = []
    session = AppSession(data_dir)
    monkeypatch.setattr(AppSession, "show_window", lambda self, result: shown.append(result.actor.name))

    def type_and_log_in():
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible())
        seen.append(session.services is None)
        if session.services is None:  # the window came first
            assert not ok_button(dialog).isEnabled() and dialog.opening.isVisible()
            dialog.name.setText("baomi")
            QTimer.singleShot(0, type_and_log_in)  # again once the database is open behind it
            return
        assert ok_button(dialog).isEnabled() and not dialog.opening.isVisible()
        assert dialog.name.text() == "baomi"  # typed while it opened
        dialog.password.setText(PASSWORDS[Role.SECURITY_ADMIN])
        ok_button(dialog).click()

    from PySide6.QtCore import QTimer

    seen: list[bool] = []
    QTimer.singleShot(0, type_and_log_in)
    assert session.start() is True
    assert seen == [True, False] and shown == ["baomi"]
    session.db.close()


def test_the_restore_login_at_start_locks_after_wrong_passwords_and_a_restart_keeps_it(qtbot, data_dir, told,
                                                                                          monkeypatch):
    """The database damaged, the security administrator's login against the backup (the real
    dialog, typed into): after the policy's number of wrong passwords it is locked, also for the
    right password and after a restart of the desktop; nothing is replaced meanwhile."""
    import os

    from PySide6.QtCore import QTimer

    from mibao_desktop import paths
    from mibao_desktop.storage import backup
    from mibao_desktop.storage.startup import open_database
    from mibao_desktop.ui import restore_dialog
    from mibao_desktop.ui.app import AppSession

    db = open_database(data_dir)
    AccountService(db).setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    db.close()
    backup.make_backup(paths.database_path(data_dir), paths.backup_dir(data_dir), "manual")
    with open(paths.database_path(data_dir), "r+b") as handle:
        handle.write(os.urandom(4096))
    damaged = paths.database_path(data_dir).read_bytes()
    typed: list[tuple[str, str]] = []
    real_ask = restore_dialog.ask_restore_login

    def ask(parent, name):
        """The real dialog: typed into and accepted with its button once it is shown."""
        login = typed.pop(0)

        def answer():
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, restore_dialog.RestoreLoginDialog)
            qtbot.keyClicks(dialog.name, login[0])
            qtbot.keyClicks(dialog.password, login[1])
            qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)

        QTimer.singleShot(0, answer)
        return real_ask(parent, name)

    monkeypatch.setattr(restore_dialog, "ask_restore_login", ask)
    typed.extend(("baomi", f"wrong-Password-{n}") for n in range(5))
    told.answers.extend([True] * 5 + [False])  # 恢复该备份 five times, then 退出
    assert not AppSession(data_dir).open()
    failures = [t[2] for t in told if t[1] == "恢复失败"]
    assert len(failures) == 5 and all("不正确" in f and "连续 5 次" in f for f in failures[:4])
    assert "已锁定" in failures[4]  # before: a sixth, seventh … guess was asked for
    del told[:]
    typed.append(("baomi", PASSWORDS[Role.SECURITY_ADMIN]))
    told.answers.extend([True, False])
    assert not AppSession(data_dir).open()  # a restart: still locked, even for the right password
    assert [t[1] for t in told] == ["数据库已损坏", "恢复失败", "数据库已损坏"] and "已锁定" in told[1][2]
    assert paths.database_path(data_dir).read_bytes() == damaged and not typed


def test_at_start_the_restore_login_names_the_trusted_accounts_and_a_planted_file_is_not_taken(qtbot, data_dir,
                                                                                                told, monkeypatch):
    """The database damaged at start. With no registered backup, a file planted in backups/
    under a backup's name, holding its own 安全保密管理员, is neither offered nor taken: the
    message says to copy a backup made here back under its name (before: only 请联系技术支持).
    With a registered one, the real login dialog says whose accounts it checks (the backup's),
    the planted file's administrator is refused there, and the unit's restores it."""
    import os

    from PySide6.QtCore import QTimer

    from mibao_desktop import paths
    from mibao_desktop.db.database import Database
    from mibao_desktop.storage import backup
    from mibao_desktop.storage.startup import open_database
    from mibao_desktop.ui import restore_dialog
    from mibao_desktop.ui.app import AppSession

    db = open_database(data_dir, daily_backup=False)  # no backup registered yet
    AccountService(db).setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    db.close()
    sound = paths.database_path(data_dir).read_bytes()
    planted = paths.backup_dir(data_dir) / "mibao-manual-20991231-235959.sqlite"  # the newest by its name
    crafted = Database.open(planted)
    AccountService(crafted).setup({Role.SYSTEM_ADMIN: ("x2", "某甲", "Sys-Admin-2099"),
                                   Role.SECURITY_ADMIN: ("hacker", "某乙", "Hack-Admin-2099"),
                                   Role.AUDITOR: ("a2", "某丙", "Aud-Itor-2099")})
    crafted.close()
    with open(paths.database_path(data_dir), "r+b") as handle:
        handle.write(os.urandom(4096))
    damaged = paths.database_path(data_dir).read_bytes()
    real_ask = restore_dialog.ask_restore_login
    monkeypatch.setattr(restore_dialog, "ask_restore_login", lambda *_a: pytest.fail("no login may be asked for"))
    assert not AppSession(data_dir).open()
    assert [t[1] for t in told] == ["数据库已损坏"] and told[0][0] == "error"
    assert "按原文件名复制回" in told[0][2] and str(paths.backup_dir(data_dir)) in told[0][2]
    assert paths.database_path(data_dir).read_bytes() == damaged
    del told[:]

    aside = data_dir / "sound.sqlite"  # a backup made while the file was sound
    aside.write_bytes(sound)
    good = backup.make_backup(aside, paths.backup_dir(data_dir), "manual")
    aside.unlink()
    seen, typed = [], [("hacker", "Hack-Admin-2099"), ("baomi", PASSWORDS[Role.SECURITY_ADMIN])]

    def ask(parent, accounts):
        """The real dialog: its words kept, typed into and accepted with its button."""
        login = typed.pop(0)

        def answer():
            dialog = QApplication.activeModalWidget()
            seen.append(dialog.note.text())
            qtbot.keyClicks(dialog.name, login[0])
            qtbot.keyClicks(dialog.password, login[1])
            qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)

        QTimer.singleShot(0, answer)
        return real_ask(parent, accounts)

    monkeypatch.setattr(restore_dialog, "ask_restore_login", ask)
    told.answers.extend([True, True])  # 恢复该备份 twice
    session = AppSession(data_dir)
    assert session.open()
    try:
        assert good.path.name in told[0][2] and planted.name not in told[0][2]  # the registered one is offered
        assert f"按所选备份 {good.path.name} 中的账户核对" in seen[0] and len(seen) == 2
        assert [t[1] for t in told] == ["数据库已损坏", "恢复失败", "数据库已损坏"] and "不正确" in told[1][2]
        entry = AuditService(session.db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="backup.restore"))[0]
        assert entry.actor == "baomi" and entry.detail["核对账户"] == f"所选备份 {good.path.name}"
        assert entry.detail["file"] == str(good.path)
    finally:
        session.db.close()
