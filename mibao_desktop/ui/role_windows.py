"""The windows of the system administrator (账户管理) and the security auditor (审计日志).

Each role sees only its own work (三员分立); the services refuse anything else as well.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mibao_desktop.excel.audit_export import export_audit
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.audit_service import ACTION_LABELS, AuditFilter, AuditService
from mibao_desktop.errors import ServiceError
from mibao_desktop.ui import messages
from mibao_desktop.ui.login import _buttons, _error_label, _password_field
from mibao_desktop.ui.tasks import run_in_background
from mibao_desktop.ui.widgets import fill_table, read_only_table


class RoleWindow(QMainWindow):
    """Common frame: who is logged in, 修改口令 and 退出登录."""

    logout_requested = Signal()
    change_password_requested = Signal()

    def __init__(self, actor: Actor, title: str) -> None:
        super().__init__()
        self.actor = actor
        self.setWindowTitle(f"密保 · {title}")
        menu = self.menuBar().addMenu("账户(&A)")
        menu.addAction("修改口令…", self.change_password_requested.emit)
        menu.addAction("退出登录", self.logout_requested.emit)
        self.statusBar().addPermanentWidget(QLabel(f"当前用户:{actor.name}({actor.role.value})"))


class NewAccountDialog(QDialog):
    def __init__(self, accounts: AccountService, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor = accounts, actor
        self.setWindowTitle("新建账户")
        self.name, self.display, self.password = QLineEdit(), QLineEdit(), _password_field()
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.value, role)
        form = QFormLayout()
        form.addRow("用户名", self.name)
        form.addRow("姓名", self.display)
        form.addRow("角色", self.role)
        form.addRow("临时口令", self.password)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("新账户首次登录时须修改口令。"))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "建立", self.save))

    def save(self) -> None:
        try:
            self.accounts.create_account(self.actor, self.name.text(), self.display.text(), self.role.currentData(),
                                         self.password.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class ResetPasswordDialog(QDialog):
    def __init__(self, accounts: AccountService, actor: Actor, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts, self.actor, self.name = accounts, actor, name
        self.setWindowTitle(f"重置口令 · {name}")
        self.password = _password_field()
        form = QFormLayout()
        form.addRow("临时口令", self.password)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"为 {name} 设一个临时口令;其下次登录时须改为自己的口令。"))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "重置", self.save))

    def save(self) -> None:
        try:
            self.accounts.reset_password(self.actor, self.name, self.password.text())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class AccountsWindow(RoleWindow):
    """系统管理员: accounts, and nothing of the ledgers."""

    HEADERS = ["用户名", "姓名", "角色", "状态", "锁定至", "口令修改于", "最近登录"]

    def __init__(self, accounts: AccountService, actor: Actor) -> None:
        super().__init__(actor, "账户管理(系统管理员)")
        self.accounts = accounts
        self.dialog = None
        self.table = read_only_table(self.HEADERS)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        bar = QHBoxLayout()
        self.new_button = QPushButton("新建账户…")
        self.reset_button = QPushButton("重置口令…")
        self.toggle_button = QPushButton("停用")
        self.unlock_button = QPushButton("解锁")
        for button, slot in ((self.new_button, self.new_account), (self.reset_button, self.reset_password),
                             (self.toggle_button, self.toggle_active), (self.unlock_button, self.unlock)):
            button.clicked.connect(slot)
            bar.addWidget(button)
        bar.addStretch(1)
        host = QWidget()
        layout = QVBoxLayout(host)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self.setCentralWidget(host)
        self.refresh()

    def refresh(self) -> None:
        self.rows = self.accounts.accounts(self.actor)
        stamp = lambda t: t.strftime("%Y-%m-%d %H:%M") if t else ""  # noqa: E731
        now = dt.datetime.now()
        fill_table(self.table, [[a.name, a.display_name, a.role.value, "在用" if a.active else "已停用",
                            stamp(a.locked_until) if a.locked_until and a.locked_until > now else "",
                            stamp(a.password_changed_at) + ("(待修改)" if a.must_change_password else ""),
                            stamp(a.last_login_at)] for a in self.rows])
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def selected(self):
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) and self.table.selectedItems() else None

    def _update_buttons(self) -> None:
        account = self.selected()
        for button in (self.reset_button, self.toggle_button, self.unlock_button):
            button.setEnabled(account is not None)
        self.toggle_button.setText("启用" if account is not None and not account.active else "停用")

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def new_account(self) -> None:
        self._open(NewAccountDialog(self.accounts, self.actor, self))

    def reset_password(self) -> None:
        if self.selected():
            self._open(ResetPasswordDialog(self.accounts, self.actor, self.selected().name, self))

    def toggle_active(self) -> None:
        account = self.selected()
        if account is None:
            return
        verb = "启用" if not account.active else "停用"
        if not messages.confirm(self, f"{verb}账户", f"确定{verb}账户 {account.name}({account.display_name})吗?",
                                action=verb):
            return
        try:
            self.accounts.set_active(self.actor, account.name, not account.active)
        except ServiceError as exc:
            messages.error(self, f"无法{verb}", exc.message)
        self.refresh()

    def unlock(self) -> None:
        account = self.selected()
        if account is not None:
            self.accounts.unlock_account(self.actor, account.name)
            self.refresh()


class AuditWindow(RoleWindow):
    """安全审计员: the audit log by time, user and action; verify; export."""

    HEADERS = ["序号", "时间", "用户", "角色", "操作", "对象", "详情"]
    LIMIT = 2000

    def __init__(self, audit: AuditService, actor: Actor) -> None:
        super().__init__(actor, "审计日志(安全审计员)")
        self.audit = audit
        self.task = None
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-30))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.user = QComboBox()
        self.action = QComboBox()
        self.action.addItem("全部操作", "")
        for prefix, label in (("auth.", "登录与锁屏"), ("account.", "账户管理"), ("record.", "台账修改"),
                              ("ledger.", "打印与导出"), ("audit.", "审计"), ("backup.", "备份与恢复")):
            self.action.addItem(f"{label}(全部)", prefix)
        for action, label in ACTION_LABELS.items():
            self.action.addItem(label, action)
        self.user.currentIndexChanged.connect(lambda _i: self.refresh())
        self.action.currentIndexChanged.connect(lambda _i: self.refresh())
        self.verify_button = QPushButton("校验完整性")
        self.verify_button.clicked.connect(lambda: self.verify())
        self.anchor_button = QPushButton("核对凭证…")  # anchors from paper and USB copies (restore_dialog)
        self.anchor_button.clicked.connect(lambda: self.verify_anchors())
        self.export_button = QPushButton("导出Excel…")
        self.export_button.clicked.connect(lambda: self.export())
        self.count_label = QLabel()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        bar = QHBoxLayout()
        for label, widget in (("从", self.since), ("到", self.until), ("用户", self.user), ("操作", self.action)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.verify_button)
        bar.addWidget(self.anchor_button)
        bar.addWidget(self.export_button)
        self.table = read_only_table(self.HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        host = QWidget()
        layout = QVBoxLayout(host)
        layout.addLayout(bar)
        layout.addWidget(self.result_label)
        layout.addWidget(self.table)
        self.setCentralWidget(host)
        self._fill_users()
        self.refresh()

    def _fill_users(self) -> None:
        self.user.blockSignals(True)
        self.user.clear()
        self.user.addItem("全部用户", "")
        for name in self.audit.actors():
            self.user.addItem(name, name)
        self.user.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        since, until = self.since.date(), self.until.date().addDays(1)
        return AuditFilter(since=dt.datetime(since.year(), since.month(), since.day()),
                           until=dt.datetime(until.year(), until.month(), until.day()),
                           actor=self.user.currentData() or "", action=self.action.currentData() or "")

    def refresh(self) -> None:
        f = self.current_filter()
        self.rows = self.audit.entries(f, limit=self.LIMIT)
        total = self.audit.count(f)
        fill_table(self.table, [[str(r.id), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.role, r.action_label,
                            r.target, r.detail_text] for r in self.rows])
        self.table.resizeColumnsToContents()
        shown = f"(显示最近 {self.LIMIT} 条,全部请导出)" if total > self.LIMIT else ""
        self.count_label.setText(f"共 {total} 条{shown}")

    def verify_anchors(self, anchors: list[str] | None = None) -> None:
        """校验 against the anchors (审计链头 N:HASH16) typed from exports, printouts, backups."""
        from mibao_desktop.ui.restore_dialog import AnchorDialog

        if anchors is None:
            dialog = AnchorDialog(self)
            if dialog.exec() != AnchorDialog.DialogCode.Accepted:
                return
            anchors = dialog.anchors()
        try:
            self.verify(anchors)
        except ServiceError as exc:  # an anchor typed wrongly
            messages.show_error(self, "核对凭证", exc)

    def verify(self, anchors: list[str] | None = None) -> None:
        result = self.audit.verify(anchors or [])
        colour = "#1a7f37" if result.ok else "#b00020"
        self.result_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.result_label.setText(("✔ " if result.ok else "✘ ") + result.message
                                  + "".join(f"\n{note}" for note in result.anchors))
        if not result.ok and result.broken_id is not None:
            for row, entry in enumerate(self.rows):
                if entry.id == result.broken_id:
                    self.table.selectRow(row)
        self.refresh()

    def export(self, path: str | Path | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "导出审计日志", f"审计日志-{dt.date.today()}.xlsx",
                                                  "Excel 工作簿 (*.xlsx)")
            if not path:
                return
        target, f = Path(path), self.current_filter()
        self.task = run_in_background(
            self, "正在导出审计日志……",
            lambda progress, cancelled: export_audit(self.audit, target, f, progress=progress, cancelled=cancelled),
            on_done=lambda n: (messages.inform(self, "导出完成", f"已导出 {n} 条审计记录到\n{target}"), self.refresh()),
            on_error=lambda e: messages.show_error(self, "导出失败", e))


__all__ = ["AccountsWindow", "AuditWindow"]
