"""Idle auto-lock (无操作自动锁屏): after N minutes without keyboard or mouse, every window is
hidden behind a login prompt for the same person; nothing they typed is lost. The prompt also
offers 注销: the session ends there and the login window comes back (another person may log in
at this workstation without waiting for the one who walked away)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from mibao_desktop.security import Actor
from mibao_desktop.services.accounts import AccountService

_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel}


class IdleLock(QObject):
    locked = Signal()
    unlocked = Signal()
    logout_requested = Signal()  # 注销 chosen on the lock screen

    def __init__(self, accounts: AccountService, actor: Actor, minutes: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor = accounts, actor
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self._interval(minutes))
        self.timer.timeout.connect(self.lock)
        self.prompt = None
        self._hidden: list[QWidget] = []
        QApplication.instance().installEventFilter(self)
        self.timer.start()

    @staticmethod
    def _interval(minutes: float) -> int:
        return int(minutes * 60_000)

    def set_minutes(self, minutes: float) -> None:
        """A changed 无操作自动锁屏 applies at once: the count starts again with the new time
        (while locked, it starts when the screen is unlocked)."""
        self.timer.setInterval(self._interval(minutes))
        if self.prompt is None and self.timer.isActive():
            self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.prompt is None:
            self.timer.start()  # any input restarts the count
        return False

    def lock(self) -> None:
        from mibao_desktop.ui.login import LoginDialog

        if self.prompt is not None:
            return
        self.accounts.record(self.actor, "auth.lock", {"reason": "无操作自动锁屏"})
        # Hide, not close: open forms keep what was typed and come back as they were. The
        # prompt is shown first, so that there is never a moment with no window at all.
        self._hidden = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        self.prompt = LoginDialog(self.accounts, locked_actor=self.actor)
        self.prompt.accepted.connect(self._unlocked)
        self.prompt.logout_chosen.connect(self.logout_requested.emit)
        self.prompt.show()
        for widget in self._hidden:
            widget.hide()
        self.locked.emit()

    def _unlocked(self) -> None:
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        self.prompt.deleteLater()
        self.prompt = None
        self.timer.start()
        self.unlocked.emit()

    def stop(self) -> None:
        self.timer.stop()
        QApplication.instance().removeEventFilter(self)
        if self.prompt is not None:  # the session ended under the lock (its account disabled)
            self.prompt.done(0)  # not reject(): the lock prompt refuses that
            self.prompt.deleteLater()
            self.prompt = None
