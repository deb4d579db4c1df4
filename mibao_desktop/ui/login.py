"""First-start setup of the three accounts, login, password change (UI over AccountService)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.security import Actor, Role
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the accounts service (and SQLAlchemy under it) is loaded after the window shows
    from mibao_desktop.services.accounts import AccountService, LoginResult
from mibao_desktop.errors import ServiceError, ValidationFailed
from mibao_desktop.ui import messages
from mibao_desktop.ui.messages import ERROR_STYLE

ROLE_DUTIES = {
    Role.SYSTEM_ADMIN: "新建账户、重置口令、停用、解锁,不接触台账数据",
    Role.SECURITY_ADMIN: "管理保密台账、打印、导出和安全策略,为新账户授予角色,审查安全审计员的操作",
    Role.AUDITOR: "查看、校验和导出审计日志,审查另外两员的操作",
}


def _password_field() -> QLineEdit:
    line = QLineEdit()
    line.setEchoMode(QLineEdit.EchoMode.Password)
    return line


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _buttons(dialog: QDialog, ok_text: str, slot) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.accepted.connect(slot)
    buttons.rejected.connect(dialog.reject)
    return buttons


def policy_hint(policy: SecurityPolicy) -> str:
    return (f"口令要求:不少于 {policy.min_length} 位,含大写字母、小写字母、数字、符号中至少 {policy.min_classes} 种,"
            f"每 {policy.max_age_days} 天更换。")


class SetupDialog(QDialog):
    """首次使用: one account per role, held by three different people (三员分立)."""

    def __init__(self, accounts: AccountService, policy: SecurityPolicy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.setWindowTitle("密保 · 首次使用:建立三员账户")
        self.fields: dict[Role, tuple[QLineEdit, QLineEdit, QLineEdit, QLineEdit]] = {}
        self.person_ids: dict[Role, QLineEdit] = {}
        layout = QVBoxLayout(self)
        intro = QLabel("按“三员分立”的要求,系统管理员、安全保密管理员、安全审计员须由三人分别担任。"
                       "请为每个角色设一个账户,并由本人设置口令。\n" + policy_hint(policy))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        # The unit's name goes on every form, label sheet and export: asked once here, in a field
        # wide enough for a full name; 打印设置 changes it later.
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("如:中国航天科工集团第二研究院七〇六所保密办公室")
        self.unit.setToolTip("印在审批表、标识和导出的报表上;以后可在“打印设置”中修改")
        self.unit.setMinimumWidth(self.unit.fontMetrics().horizontalAdvance("中" * 26))
        unit_form = QFormLayout()
        unit_form.addRow("单位名称", self.unit)
        layout.addLayout(unit_form)
        for role in Role:
            box = QGroupBox(f"{role.value}:{ROLE_DUTIES[role]}")
            form = QFormLayout(box)
            name, display, password, again = QLineEdit(), QLineEdit(), _password_field(), _password_field()
            form.addRow("用户名", name)
            form.addRow("姓名", display)
            person_id = QLineEdit()
            person_id.setPlaceholderText("三人中有同名者时必填,以区分本人")
            form.addRow("工号或身份证号", person_id)
            self.person_ids[role] = person_id
            form.addRow("口令", password)
            form.addRow("再次输入口令", again)
            self.fields[role] = (name, display, password, again)
            layout.addWidget(box)
        self.error = _error_label()
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "建立账户", self.save))
        self.setMinimumWidth(560)

    def save(self) -> None:
        for role, (_, _, password, again) in self.fields.items():
            if password.text() != again.text():
                return self._fail(f"{role.value}两次输入的口令不一致。")
        chosen = {role: (n.text(), d.text(), p.text(), self.person_ids[role].text())
                  for role, (n, d, p, _) in self.fields.items()}
        try:
            self.accounts.setup(chosen, unit_name=self.unit.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()


class LoginDialog(QDialog):
    """登录; with ``locked_actor`` it is the idle lock's prompt for the same person, which may
    also 注销 (end the session: the login window comes back for anyone)."""

    logout_chosen = Signal()

    def __init__(self, accounts: AccountService | None, parent: QWidget | None = None, *,
                 locked_actor: Actor | None = None) -> None:
        """``accounts`` None: the window shows at once while the database is still being opened;
        :meth:`ready` then lets the person log in."""
        super().__init__(parent)
        self.accounts = accounts
        self.locked_actor = locked_actor
        self.result_: LoginResult | None = None
        self.setWindowTitle("密保 · 已锁定" if locked_actor else "密保 · 登录")
        title = QLabel("屏幕已锁定,请输入口令继续。未保存的内容仍在。" if locked_actor else "密保 · 保密台账管理")
        title.setStyleSheet("font-size: 16px; font-weight: bold;")
        title.setWordWrap(True)
        self.name = QLineEdit(locked_actor.name if locked_actor else "")
        self.name.setReadOnly(locked_actor is not None)
        self.password = _password_field()
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("用户名", self.name)
        form.addRow("口令", self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.error)
        self.buttons = _buttons(self, "解锁" if locked_actor else "登录", self.submit)
        self.logout_button = None
        if locked_actor:  # the lock can only be lifted or the session ended, not dismissed
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).hide()
            self.logout_button = self.buttons.addButton("注销", QDialogButtonBox.ButtonRole.DestructiveRole)
            self.logout_button.setAutoDefault(False)  # Enter unlocks; 注销 only when chosen
            self.logout_button.setToolTip("结束本次登录,回到登录窗口;未保存的内容将丢失")
            self.logout_button.clicked.connect(self.log_out)
        self.opening = QLabel("正在打开数据库……")
        self.opening.setVisible(accounts is None)
        layout.addWidget(self.opening)
        layout.addWidget(self.buttons)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(accounts is not None)
        (self.password if locked_actor else self.name).setFocus()
        self.setMinimumWidth(380)

    def ready(self, accounts: AccountService) -> None:
        """The database is open: logging in may start (what was typed stays)."""
        self.accounts = accounts
        self.opening.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)

    def submit(self) -> None:
        from mibao_desktop.services.accounts import AccountLocked

        if self.accounts is None:  # Enter pressed before the database was open
            return
        try:
            if self.locked_actor:
                self.accounts.unlock_screen(self.locked_actor, self.password.text())
            else:
                self.result_ = self.accounts.login(self.name.text(), self.password.text())
        except AccountLocked as exc:
            self._fail(exc.message, locked=True)
            return
        except ServiceError as exc:
            self._fail(exc.message)
            return
        self.accept()

    def _fail(self, message: str, *, locked: bool = False) -> None:
        self.error.setText(("🔒 " if locked else "") + message)
        self.error.show()
        self.password.clear()
        self.password.setFocus()

    def log_out(self) -> None:
        """注销 from the lock screen: asked first (open forms are discarded with the session)."""
        if not messages.confirm(self, "注销", f"注销将结束 {self.locked_actor.name} 的本次登录并回到登录窗口,"
                                "锁屏前未保存的内容将丢失。确定注销吗?", action="注销"):
            return
        # Told before the prompt closes: it is the only window shown, and closing it would
        # otherwise end the application (quit on the last window closed) instead of logging out.
        self.logout_chosen.emit()
        self.done(self.LOGGED_OUT)

    LOGGED_OUT = 2  # the lock prompt's result when 注销 was chosen (neither accepted nor rejected)

    def reject(self) -> None:
        if self.locked_actor is None:
            super().reject()

    def keyPressEvent(self, event) -> None:  # Esc must not dismiss the lock screen
        if self.locked_actor is not None and event.key() == Qt.Key.Key_Escape:
            return
        super().keyPressEvent(event)


class ChangePasswordDialog(QDialog):
    def __init__(self, accounts: AccountService, actor: Actor, policy: SecurityPolicy, reason: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor = accounts, actor
        # At the login (a reset, a first login, an old password) the reason comes first: the
        # owner reads there who reset the password and when.
        self.setWindowTitle("登录 · 须修改口令" if reason else "修改口令")
        self.old, self.new, self.again = _password_field(), _password_field(), _password_field()
        form = QFormLayout()
        form.addRow("原口令", self.old)
        form.addRow("新口令", self.new)
        form.addRow("再次输入新口令", self.again)
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("font-weight: bold;")
        self.reason.setVisible(bool(reason))
        hint = QLabel(policy_hint(policy))
        hint.setWordWrap(True)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "修改口令", self.save))
        self.setMinimumWidth(420)

    def save(self) -> None:
        if self.new.text() != self.again.text():
            self.error.setText("两次输入的新口令不一致。")
            self.error.show()
            return
        try:
            self.accounts.change_password(self.actor, self.old.text(), self.new.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            if not isinstance(exc, ValidationFailed) or "old" in exc.errors:
                self.old.clear()  # a wrong old password counted: the next one is typed afresh
            return
        self.accept()
