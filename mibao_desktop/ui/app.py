"""Start the desktop app: the bundled Chinese font, the database, setup or login, the window of
the role that logged in, the idle lock; logout returns to the login."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from mibao_desktop import paths

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

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.db = None
        self.window = None
        self.idle = None
        self.actor = None

    # -- database -------------------------------------------------------------------------

    def open(self) -> bool:
        """Open the database; a damaged one is reported and the newest good backup offered."""
        from mibao_desktop.storage import backup
        from mibao_desktop.db.database import DatabaseError
        from mibao_desktop.storage.startup import CorruptDatabase, open_database

        while True:
            try:
                self.db = open_database(self.data_dir)
                return True
            except CorruptDatabase as exc:
                if exc.good is None:
                    QMessageBox.critical(None, "数据库已损坏", str(exc))
                    return False
                box = QMessageBox(QMessageBox.Icon.Critical, "数据库已损坏", str(exc))
                restore = box.addButton("恢复该备份", QMessageBox.ButtonRole.AcceptRole)
                box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
                box.exec()
                if box.clickedButton() is not restore:
                    return False
                try:
                    backup.restore(exc.path, exc.good.path, paths.backup_dir(self.data_dir))
                except backup.BackupError as failed:
                    QMessageBox.critical(None, "恢复失败", str(failed))
                    return False
            except DatabaseError as exc:
                QMessageBox.critical(None, "无法打开数据库", str(exc))
                return False

    # -- who is working -------------------------------------------------------------------

    def accounts(self):
        from mibao_desktop.services.accounts import AccountService

        return AccountService(self.db)

    def policy(self):
        from mibao_desktop.services.settings import SettingsService
        from mibao_desktop.security import Actor, Role

        return SettingsService(self.db, Actor("", Role.SECURITY_ADMIN)).security_policy()

    def start(self) -> bool:
        from mibao_desktop.ui.login import SetupDialog

        if not self.open():
            return False
        if self.accounts().needs_setup() and SetupDialog(self.accounts(), self.policy()).exec() != QDialog.DialogCode.Accepted:
            return False
        return self.login()

    def login(self) -> bool:
        from mibao_desktop.ui.login import ChangePasswordDialog, LoginDialog

        while True:
            dialog = LoginDialog(self.accounts())
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
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
        from mibao_desktop.services.audit_service import AuditService
        from mibao_desktop.services.ledger_service import LedgerService
        from mibao_desktop.ui.idle import IdleLock
        from mibao_desktop.ui.main_window import MainWindow
        from mibao_desktop.ui.role_windows import AccountsWindow, AuditWindow

        self.actor = result.actor
        role = result.actor.role
        if role is Role.SECURITY_ADMIN:
            window = MainWindow(LedgerService(self.db, result.actor), self.data_dir)
            window.restore_requested.connect(self.restore)
        elif role is Role.SYSTEM_ADMIN:
            window = AccountsWindow(self.accounts(), result.actor)
        else:
            window = AuditWindow(AuditService(self.db, result.actor), result.actor)
        window.logout_requested.connect(self.logout)
        window.change_password_requested.connect(self.change_password)
        screen = QGuiApplication.primaryScreen().availableGeometry()
        window.resize(min(1366, screen.width()), min(768, screen.height()))
        window.show()
        QApplication.instance().setQuitOnLastWindowClosed(True)
        self.window = window
        self.idle = IdleLock(self.accounts(), result.actor, result.idle_lock_minutes, self)

    def change_password(self) -> None:
        from mibao_desktop.ui.login import ChangePasswordDialog

        ChangePasswordDialog(self.accounts(), self.actor, self.policy(), parent=self.window).exec()

    def _end_window(self) -> None:
        # Between this window and the next login no window is shown: that must not end the app.
        QApplication.instance().setQuitOnLastWindowClosed(False)
        if self.idle is not None:
            self.idle.stop()
            self.idle = None
        if self.window is not None:
            self.window.hide()
            self.window.deleteLater()
            self.window = None

    def logout(self) -> None:
        self.accounts().record(self.actor, "auth.logout")
        self._end_window()
        if not self.login():
            QApplication.instance().quit()

    def restore(self, backup_file: Path) -> None:
        from mibao_desktop.storage import backup
        from mibao_desktop.services import audit

        actor = self.actor
        self._end_window()
        self.db.close()
        try:
            aside = backup.restore(self.db.path, backup_file, paths.backup_dir(self.data_dir))
        except backup.BackupError as exc:
            QMessageBox.critical(None, "恢复失败", str(exc))
            aside = None
        if not self.open():
            QApplication.instance().quit()
            return
        with self.db.write() as session:
            audit.append(session, actor, "backup.restore", Path(backup_file).name,
                         {"file": str(backup_file), "previous_saved_as": str(aside.path) if aside else ""})
        if not self.login():
            QApplication.instance().quit()


def run(data_dir: Path) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("密保")
    app.setApplicationDisplayName("密保")
    load_chinese_font(app)
    session = AppSession(data_dir)
    if not session.start():
        return 2 if session.db is None else 0
    code = app.exec()
    if session.db is not None:
        session.db.close()
    return code
