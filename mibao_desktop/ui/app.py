"""Start the desktop app: the bundled Chinese font, the database, setup or login, the window of
the role that logged in, the idle lock; logout returns to the login."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog

from mibao_desktop import paths
from mibao_desktop.errors import ServiceError
from mibao_desktop.ui import messages
from mibao_desktop.ui.input_method import fall_back_to_ibus
from mibao_desktop.ui.translations import install_qt_chinese

FONT_FILE = "wqy-microhei.ttc"
# A system font that already renders Chinese well is kept; otherwise the bundled one is used.
PREFERRED_SYSTEM_FONTS = ("Microsoft YaHei", "Microsoft YaHei UI", "PingFang SC", "Noto Sans CJK SC",
                          "Source Han Sans SC")


def load_chinese_font(app: QApplication, point_size: int = 10) -> str:
    """Register the bundled WenQuanYi Micro Hei and make a Chinese font the default one.

    Returns the family in use. A machine with no Chinese fonts (a fresh Linux install) would
    otherwise show boxes instead of characters.
    """
    families = set(QFontDatabase.families())
    for family in PREFERRED_SYSTEM_FONTS:
        if family in families:
            app.setFont(QFont(family, point_size))
            return family
    font_id = QFontDatabase.addApplicationFont(str(paths.resources_dir() / "fonts" / FONT_FILE))
    loaded = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not loaded:
        return app.font().family()
    app.setFont(QFont(loaded[0], point_size))
    return loaded[0]


class AppSession(QObject):
    """One run of the desktop app over one data folder."""

    # the account behind the session was disabled (or lost its role): from whatever thread acted
    session_ended = Signal(object, str)
    # the security policy was saved (its idle time applies to the running lock at once)
    policy_changed = Signal(object)

    def __init__(self, data_dir: Path, database: str | None = None) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.database = database  # a PostgreSQL URL, or None: the data folder's file (or its database.ini)
        self.db = None
        self.check = None  # the full check of the database after the first window (tasks.BackgroundTask)
        self._deferred_check = None  # what the check found while the screen was locked, said at unlock
        self.services = None  # the composition root once the database is open (services.context)
        self.window = None
        self.idle = None
        self.actor = None

    # -- database -------------------------------------------------------------------------

    def open(self) -> bool:
        """Open the database; a damaged one is reported and the newest good backup offered."""
        from mibao_desktop.db.database import DatabaseError, NewerDatabase
        from mibao_desktop.errors import PermissionDenied
        from mibao_desktop.services.context import Services
        from mibao_desktop.storage.backup import BackupError
        from mibao_desktop.storage.startup import CorruptDatabase, open_database
        from mibao_desktop.ui import restore_dialog

        while True:
            try:
                # In milliseconds, whatever the size: only the file's structure is checked here;
                # the full check and the day's backup run after the window is up.
                self.db = open_database(self.data_dir, daily_backup=False, database=self.database)
                self.services = Services(self.db, data_dir=self.data_dir)
                return True
            except CorruptDatabase as exc:
                if exc.good is None:
                    messages.error(None, "数据库已损坏", str(exc))
                    return False
                if not messages.confirm(None, "数据库已损坏", str(exc), action="恢复该备份", cancel="退出", grave=True):
                    return False
                # Nobody can log in to a damaged database: the security administrator logs in
                # against accounts the unit trusts (the backup service's login_source: for a
                # registered backup, its own), named in the dialog and checked by the service.
                backups = Services(None, data_dir=self.data_dir).backups
                try:
                    source = backups.login_source(exc.good.path)
                except ServiceError as refused:
                    messages.error(None, "恢复失败", str(refused))
                    return False
                login = restore_dialog.ask_restore_login(None, source.accounts)
                if login is None:
                    return False
                try:
                    backups.restore(exc.good.path, login=login)
                except PermissionDenied as refused:  # a wrong password: asked again
                    messages.error(None, "恢复失败", str(refused))
                except (BackupError, ServiceError) as failed:
                    messages.error(None, "恢复失败", str(failed))
                    return False
            except NewerDatabase as exc:
                messages.error(None, "数据库版本比程序新", str(exc))
                return False
            except DatabaseError as exc:
                messages.error(None, "无法打开数据库", str(exc))
                return False

    # -- who is working -------------------------------------------------------------------

    def accounts(self):
        return self.services.accounts

    def policy(self):
        return self.services.settings.security_policy()

    def start(self) -> bool:
        """The login window first, the database right after it: the window is up in a fraction
        of a second, and the second it takes to load the database code and open the file passes
        while the name is typed. A first start (no database yet) sets up the accounts first."""
        from mibao_desktop.ui.login import SetupDialog

        target = paths.database_target(self.data_dir, self.database)
        if isinstance(target, Path) and not target.exists():
            if not self.open():
                return False
        elif isinstance(target, Path) and not self.refuse_newer(target):
            return False
        while True:
            if self.services is not None and self.accounts().needs_setup():
                if SetupDialog(self.accounts(), self.policy()).exec() != QDialog.DialogCode.Accepted:
                    return False
            outcome = self.login()
            if outcome != "setup":
                return bool(outcome)

    def refuse_newer(self, path: Path) -> bool:
        """A file a newer MiBao upgraded is refused before the login window (a read-only look
        at its version, milliseconds): nothing is opened, written or backed up. False then."""
        from mibao_desktop.db.revisions import NewerDatabase, newer_revision

        revision = newer_revision(path)
        if revision is None:
            return True
        messages.error(None, "数据库版本比程序新", str(NewerDatabase(str(path), revision)))
        return False

    def _open_behind(self, dialog) -> None:
        """Open the database behind the login window that is already showing."""
        if not dialog.isVisible():  # closed before the database was opened: nothing to do
            return
        try:
            opened = self.open()
        except Exception as exc:  # noqa: BLE001 - a slot's exception would only reach stderr
            tell_start_failed(self.data_dir, exc)
            opened = False
        if not opened:
            self.outcome = False
        elif self.accounts().needs_setup():
            self.outcome = "setup"  # a database without accounts: set them up first
        else:
            dialog.ready(self.accounts())
            if os.environ.get("MIBAO_EXIT_AT_LOGIN"):
                print("MIBAO_LOGIN_READY", flush=True)
            return
        dialog.done(QDialog.DialogCode.Rejected)

    def login(self):
        from mibao_desktop.ui.login import ChangePasswordDialog, LoginDialog

        while True:
            dialog = LoginDialog(self.accounts() if self.services is not None else None)
            self.outcome = None
            if os.environ.get("MIBAO_EXIT_AT_LOGIN"):  # bench/bench_start.py times the start to here
                dialog.show()
                print("MIBAO_LOGIN_SHOWN", flush=True)
            if self.services is None:
                QTimer.singleShot(0, lambda: self._open_behind(dialog))
            if os.environ.get("MIBAO_EXIT_AT_LOGIN"):
                QTimer.singleShot(0, lambda: QTimer.singleShot(0, dialog.reject))  # after the database opened
                dialog.exec()
                return False
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return self.outcome if self.outcome is not None else False
            result = dialog.result_
            if result.must_change_password:
                change = ChangePasswordDialog(self.accounts(), result.actor, self.policy(), result.why_change)
                if change.exec() != QDialog.DialogCode.Accepted:
                    self.accounts().record(result.actor, "auth.logout", {"reason": "未修改口令"})
                    continue
            self.show_window(result)
            return True

    def show_window(self, result) -> None:
        from mibao_desktop.security import Role
        from mibao_desktop.ui.idle import IdleLock
        from mibao_desktop.ui.main_window import MainWindow
        from mibao_desktop.ui.role_windows import AccountsWindow, AuditWindow

        self.actor = result.actor
        working = self.services.acting_as(result.actor)
        role = result.actor.role
        if role is Role.SECURITY_ADMIN:
            window = MainWindow(working)
            window.restore_requested.connect(self.restore)
        elif role is Role.SYSTEM_ADMIN:
            window = AccountsWindow(working.accounts, result.actor)
        else:
            window = AuditWindow(working.audit, result.actor, working.oversight)
        if role is not Role.SECURITY_ADMIN:  # the main window has its 首页 first in its navigation
            window.add_home(working)
        self._listen_for_session_end()
        if role is not Role.SECURITY_ADMIN:  # the main window has its own 帮助 menu
            from mibao_desktop.ui.about import add_about_menu

            add_about_menu(window, self.db, self.data_dir)
        window.logout_requested.connect(self.logout)
        window.change_password_requested.connect(self.change_password)
        screen = QGuiApplication.primaryScreen().availableGeometry()
        window.resize(min(1366, screen.width()), min(768, screen.height()))
        window.show()
        QApplication.instance().setQuitOnLastWindowClosed(True)
        self.window = window
        self.idle = IdleLock(self.accounts(), result.actor, result.idle_lock_minutes, self)
        self.idle.logout_requested.connect(self.logout_from_lock)
        self.idle.unlocked.connect(self._after_unlock)
        if getattr(self, "_policy_connected", False) is False:
            self.policy_changed.connect(self._policy_changed)
            self._policy_connected = True
        working.settings.policy_listeners.append(self.policy_changed.emit)  # this login's services only
        if self.check is None:
            self.check_after_start()

    def _listen_for_session_end(self) -> None:
        """The accounts service tells when a session's account was disabled (at that session's
        next action, from whichever thread acted); the window then ends and the login comes
        back. Queued, so that the action that found it out finishes (and says so) first."""
        accounts = self.accounts()
        if getattr(self, "_listening_to", None) is not accounts:
            if getattr(self, "_listening_to", None) is None:
                self.session_ended.connect(self._session_ended, Qt.ConnectionType.QueuedConnection)
            accounts.session_listeners.append(self.session_ended.emit)
            self._listening_to = accounts

    def _session_ended(self, actor, why: str) -> None:
        if self.window is None or self.actor is None or actor.name != self.actor.name:
            return
        self._end_window()
        messages.error(None, "本次登录已结束", f"{why},本次登录已结束,未完成的操作没有保存。"
                       "如有疑问,请联系安全保密管理员。")
        if not self.login():
            QApplication.instance().quit()

    # -- the full check after start -----------------------------------------------------------

    def check_after_start(self) -> None:
        """Read the whole file (every page and index, the search indexes) while the user works,
        then make the day's backup; a damaged file is reported with the newest good backup
        offered. Once per run: seconds on a large file, off the UI thread, with no dialog."""
        from mibao_desktop.storage.startup import corrupt_after_start, daily_backup_if_due
        from mibao_desktop.ui.tasks import BackgroundTask

        db, data_dir = self.db, self.data_dir

        def work(_progress, _cancelled):
            found = corrupt_after_start(db, data_dir)
            if found is None:
                daily_backup_if_due(db, data_dir)  # a copy of a damaged file would be refused anyway
            return found

        self.check = BackgroundTask(self, "", work, quiet=True)
        self.check.done.connect(self._checked)
        self.check.start()

    def _checked(self, found) -> None:
        if found is None or self.window is None:
            return
        if self.idle is not None and self.idle.prompt is not None:
            # The screen is locked: a question shown now would stand over the lock prompt, and
            # 恢复该备份 would act as the locked-out account with no password asked. It waits
            # for the unlock (see _after_unlock); a 注销 at the lock drops it with the session.
            self._deferred_check = found
            return
        if found.good is None:
            messages.error(self.window, "数据库已损坏", str(found))
            return
        from mibao_desktop.security import Role

        if self.actor is None or self.actor.role is not Role.SECURITY_ADMIN:  # restoring is theirs alone
            messages.error(self.window, "数据库已损坏", f"{found}\n\n恢复备份须由安全保密管理员登录后进行,请通知安全保密管理员。")
            return
        if messages.confirm(self.window, "数据库已损坏", f"{found}\n\n恢复后需要重新登录。", action="恢复该备份",
                            cancel="暂不恢复", grave=True):
            self.restore(found.good.path)

    def _after_unlock(self) -> None:
        """The screen unlocked by the same person: what the check found while it was locked is
        said now. Queued: the lock prompt's own click finishes first."""
        found, self._deferred_check = self._deferred_check, None
        if found is not None:
            QTimer.singleShot(0, lambda: self._checked(found))

    def change_password(self) -> None:
        from mibao_desktop.ui.login import ChangePasswordDialog

        ChangePasswordDialog(self.accounts(), self.actor, self.policy(), parent=self.window).exec()

    def _end_window(self) -> None:
        from mibao_desktop.ui.tasks import wait_for_quick_reads

        # Between this window and the next login no window is shown: that must not end the app.
        QApplication.instance().setQuitOnLastWindowClosed(False)
        wait_for_quick_reads()  # a search still reading must not find the database closed
        self._deferred_check = None  # a question kept for an unlock ends with the session (注销)
        if self.idle is not None:
            self.idle.stop()
            self.idle = None
        if self.window is not None:
            self.window.hide()
            self.window.deleteLater()
            self.window = None

    def wait_for_check(self) -> None:
        if self.check is not None and self.check.running:
            self.check.wait()

    def _policy_changed(self, policy) -> None:
        if self.idle is not None:
            self.idle.set_minutes(policy.idle_lock_minutes)

    def logout(self, detail: dict | None = None) -> None:
        self.accounts().record(self.actor, "auth.logout", detail)
        self._end_window()
        if not self.login():
            QApplication.instance().quit()

    def logout_from_lock(self) -> None:
        """注销 on the lock screen: the session ends (audited as such) and the login comes back,
        for this person or another. Queued after the prompt's click has finished; until the
        login window shows no window is, which must not end the application."""
        QApplication.instance().setQuitOnLastWindowClosed(False)
        QTimer.singleShot(0, lambda: self.logout({"reason": "锁屏时注销"}))

    def restore(self, backup_file: Path, unregistered: bool = False) -> None:
        """Put a backup in place of the database and log in again: the security administrator's
        (the backup service checks the role), from the menu or when the check after start found
        the file damaged. Tells how many audit entries the restored file lacked."""
        from mibao_desktop.storage.backup import BackupError

        backups = self.services.acting_as(self.actor).backups
        self._end_window()
        self.wait_for_check()
        self.db.close()  # the backup service replaces the file: no connection may stay open
        try:
            restored = backups.restore(Path(backup_file), unregistered=unregistered)
            if restored.dropped:
                messages.inform(None, "恢复完成", f"所恢复的备份比原审计日志少 {restored.dropped} 条记录"
                                f"(原链头 {restored.previous_head});这些记录已转记到恢复后的审计日志中。")
        except (BackupError, ServiceError) as exc:
            messages.error(None, "恢复失败", str(exc))
        if not self.open():
            QApplication.instance().quit()
            return
        if not self.login():
            QApplication.instance().quit()


def tell_start_failed(data_dir: Path, exc: BaseException) -> None:
    """An unexpected failure at start: its traceback to ``<data folder>/logs/mibao-errors.log``
    and a message box that names the file (started from the menu, there is no terminal)."""
    from mibao_desktop import errorlog

    log = errorlog.write(data_dir, exc, what="桌面程序启动失败")
    where = f"详细信息已写入日志文件:\n{log}\n\n请把该文件交给负责维护的技术人员。" if log else "(日志文件无法写入。)"
    messages.error(None, "密保无法启动", f"启动时发生意外错误,数据未作改动:{type(exc).__name__}: {exc}\n\n{where}")


def refuse_to_start(title: str, text: str) -> int:
    """A start that cannot go on, before any database is opened: a message box, then exit 2."""
    fall_back_to_ibus()
    install_qt_chinese(QApplication.instance() or QApplication(sys.argv[:1]))
    messages.error(None, title, text)
    return 2


def run(data_dir: Path, database: str | None = None) -> int:
    fall_back_to_ibus()  # read by Qt when the application is made
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("密保")
    app.setApplicationDisplayName("密保")
    install_qt_chinese(app)  # Qt's own buttons and dialogs (file, print) in Chinese too
    session = None
    try:
        load_chinese_font(app)
        session = AppSession(data_dir, database)
        if not session.start():
            return 2 if session.db is None else 0
    except Exception as exc:  # noqa: BLE001 - logged and told; the app then ends
        tell_start_failed(data_dir, exc)
        if session is not None and session.db is not None:
            session.db.close()
        return 2
    code = app.exec()
    from mibao_desktop.ui.tasks import wait_for_quick_reads

    wait_for_quick_reads()
    session.wait_for_check()
    if session.db is not None:
        session.db.close()
    return code
