"""Idle lock and session (issue 12 item 10): a changed idle time applies to the running lock at
once, and the lock screen offers 注销 — the session ends (audited), the login window comes back
and another account logs in."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.audit_service import AuditFilter, AuditService
from mibao_desktop.services.context import Services
from mibao_desktop.services.oversight import OversightService
from mibao_desktop.ui.login import LoginDialog

PASSWORDS = {Role.SYSTEM_ADMIN: "Sys-Admin-2026", Role.SECURITY_ADMIN: "Sec-Admin-2026", Role.AUDITOR: "Aud-Itor-2026"}
NAMES = {Role.SYSTEM_ADMIN: "xitong", Role.SECURITY_ADMIN: "baomi", Role.AUDITOR: "shenji"}


@pytest.fixture
def ready(db):
    accounts = AccountService(db)
    accounts.setup({r: (NAMES[r], f"{r.value}甲", PASSWORDS[r]) for r in Role})
    return accounts


@pytest.fixture
def session(qtbot, ready, db, data_dir):
    from mibao_desktop.ui.app import AppSession

    app_session = AppSession(data_dir)
    app_session.db, app_session.services = db, Services(db, data_dir=data_dir)
    app_session.check = object()  # no full check after start in these tests
    yield app_session
    if app_session.window is not None:
        app_session._end_window()
    QApplication.instance().setQuitOnLastWindowClosed(True)


def ok_button(dialog):
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)


def test_a_changed_idle_time_applies_to_the_running_lock_at_once(qtbot, session, ready, told):
    session.show_window(ready.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]))
    window = session.window  # ended by the fixture
    assert session.idle.timer.interval() == 10 * 60_000 and session.idle.timer.isActive()
    window.edit_policy()  # 系统 → 安全策略…
    dialog = window.dialog
    dialog.spins["idle_lock_minutes"].setValue(3)
    qtbot.mouseClick(ok_button(dialog), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert session.idle.timer.interval() == 3 * 60_000 and session.idle.timer.isActive()
    # and the lock follows the new time: shortened to a fraction of a second, it locks
    policy = window.services.settings.security_policy()
    session.idle.set_minutes(0.003)
    with qtbot.waitSignal(session.idle.locked, timeout=5000):
        pass
    assert policy.idle_lock_minutes == 3 and not window.isVisible()


def test_the_lock_screen_logs_out_to_the_login_and_another_account_logs_in(qtbot, session, ready, db, told):
    from mibao_desktop.ui.main_window import MainWindow
    from mibao_desktop.ui.role_windows import AuditWindow

    session.show_window(ready.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]))
    first = session.window
    assert isinstance(first, MainWindow)  # deleted at 注销; the fixture ends the next window
    idle = session.idle
    idle.lock()
    prompt = idle.prompt
    assert prompt.isVisible() and not first.isVisible()
    assert prompt.logout_button is not None and prompt.logout_button.text() == "注销"
    told.answers.append(False)  # 注销 asked first: declined, the lock stays
    qtbot.mouseClick(prompt.logout_button, Qt.MouseButton.LeftButton)
    assert told[-1][:2] == ("confirm", "注销") and "未保存的内容将丢失" in told[-1][2]
    assert prompt.isVisible() and idle.prompt is prompt

    logins: list[LoginDialog] = []

    def log_in_as_the_auditor() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, LoginDialog) and w.isVisible() and w.locked_actor is None), None)
        if dialog is None:
            QTimer.singleShot(20, log_in_as_the_auditor)
            return
        logins.append(dialog)
        assert dialog.name.text() == "" and not dialog.name.isReadOnly()  # anyone may log in
        qtbot.keyClicks(dialog.name, "shenji")
        qtbot.keyClicks(dialog.password, PASSWORDS[Role.AUDITOR])
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    QTimer.singleShot(0, log_in_as_the_auditor)
    # the prompt is the only window shown: its closing must not end the application
    quits_when_closed = []
    prompt.finished.connect(lambda _r: quits_when_closed.append(QApplication.instance().quitOnLastWindowClosed()))
    qtbot.mouseClick(prompt.logout_button, Qt.MouseButton.LeftButton)  # confirmed this time
    assert quits_when_closed == [False]
    qtbot.waitUntil(lambda: isinstance(session.window, AuditWindow), timeout=10000)
    assert len(logins) == 1 and not prompt.isVisible()
    assert session.actor.name == "shenji" and session.window.isVisible() and session.idle is not idle
    # the session ended on the record, then the other account's login
    logout = AuditService(db, Actor("shenji", Role.AUDITOR)).entries(AuditFilter(action="auth.logout"))[0]
    assert logout.actor == "baomi" and logout.detail == {"reason": "锁屏时注销"}
    auditor = OversightService(db, Actor("baomi", Role.SECURITY_ADMIN)).auditor_actions()
    assert auditor[0].action == "auth.login" and auditor[0].actor == "shenji"
    assert logout.id < auditor[0].id


class _Damaged:
    """What the check after start reports of a damaged file with a good backup."""

    def __init__(self, path: str) -> None:
        from types import SimpleNamespace

        self.good = SimpleNamespace(path=path)

    def __str__(self) -> str:
        return "数据库文件已损坏(测试)"


def test_a_damage_found_while_locked_is_asked_after_the_unlock_not_over_the_lock(qtbot, session, ready, told,
                                                                                 monkeypatch):
    """The check after start may finish while the screen is locked: its 恢复该备份 question would
    stand over the lock prompt and restore as the locked-out account with no password. It waits
    for the unlock by the same person, and is asked then."""
    session.show_window(ready.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]))
    restored = []
    monkeypatch.setattr(session, "restore", lambda path, *a, **k: restored.append(path))
    idle = session.idle
    idle.lock()
    session._checked(_Damaged("/tmp/好备份.sqlite"))
    qtbot.wait(50)
    assert told == [] and restored == [] and idle.prompt.isVisible()
    qtbot.keyClicks(idle.prompt.password, PASSWORDS[Role.SECURITY_ADMIN])
    qtbot.keyClick(idle.prompt.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(restored), timeout=5000)
    assert [t[:2] for t in told] == [("confirm", "数据库已损坏")] and "数据库文件已损坏(测试)" in told[0][2]
    assert restored == ["/tmp/好备份.sqlite"] and idle.prompt is None


def test_a_damage_found_while_locked_is_dropped_at_注销(qtbot, session, ready, told, monkeypatch):
    from mibao_desktop.ui.role_windows import AuditWindow

    session.show_window(ready.login("baomi", PASSWORDS[Role.SECURITY_ADMIN]))
    restored = []
    monkeypatch.setattr(session, "restore", lambda path, *a, **k: restored.append(path))
    idle = session.idle
    idle.lock()
    session._checked(_Damaged("/tmp/好备份.sqlite"))
    prompt = idle.prompt

    def log_in_as_the_auditor() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, LoginDialog) and w.isVisible() and w.locked_actor is None), None)
        if dialog is None:
            QTimer.singleShot(20, log_in_as_the_auditor)
            return
        qtbot.keyClicks(dialog.name, "shenji")
        qtbot.keyClicks(dialog.password, PASSWORDS[Role.AUDITOR])
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    QTimer.singleShot(0, log_in_as_the_auditor)
    qtbot.mouseClick(prompt.logout_button, Qt.MouseButton.LeftButton)  # 注销, confirmed
    qtbot.waitUntil(lambda: isinstance(session.window, AuditWindow), timeout=10000)
    qtbot.wait(100)
    assert [t[:2] for t in told] == [("confirm", "注销")] and restored == []
