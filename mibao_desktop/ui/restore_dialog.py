"""The desktop's restore and 校验 dialogs: choosing a backup (registered ones only, any other
file after a warning), the security administrator's login for a restore when the database
cannot be opened, and the anchors (审计链头 N:HASH16) the auditor checks the log against.
Widgets only: what is registered, who may restore and what an anchor proves are the
services' (backup_service, audit)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit,
    QPushButton, QVBoxLayout, QWidget,
)

from mibao_desktop.ui import messages
from mibao_desktop.ui.widgets import fill_table, read_only_table

KIND_NAMES = {"daily": "每日自动", "manual": "手动", "before-upgrade": "升级前", "before-restore": "恢复前"}
UNREGISTERED_WARNING = ("{name} 不在备份登记中:无法确认它由密保在本机建立,也无法确认建立后未被改动。\n"
                        "用它恢复可能带入被篡改的数据。确定要用这个文件恢复吗?")


def _ok_cancel(dialog: QDialog, ok: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class RestoreLoginDialog(QDialog):
    """The security administrator's name and password for a restore while nobody can log in to
    the database, checked by the backup service against accounts the unit trusts (its
    ``login_source``: the chosen registered backup's own, …), which the dialog names."""

    def __init__(self, accounts: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("恢复备份须由安全保密管理员登录")
        self.setMinimumWidth(460)  # a backup's file name on one line, not broken at its hyphen
        layout = QVBoxLayout(self)
        self.note = QLabel(f"当前数据库无法打开。请输入安全保密管理员的用户名和口令。\n按{accounts}核对。")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        form = QFormLayout()
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("用户名", self.name)
        form.addRow("口令", self.password)
        layout.addLayout(form)
        layout.addWidget(_ok_cancel(self, "登录并恢复"))


def ask_restore_login(parent: QWidget | None, accounts: str) -> tuple[str, str] | None:
    """(name, password), or None when cancelled; ``accounts`` names whose accounts they are
    checked against (LoginSource.accounts). One function, so tests can answer it."""
    dialog = RestoreLoginDialog(accounts, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.name.text(), dialog.password.text()


class BackupChooser(QDialog):
    """The registered backups, newest first, with their audit head; 其他文件… after a warning."""

    HEADERS = ["建立时间", "种类", "文件", "审计链头"]

    def __init__(self, backups, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("从备份恢复")
        self.backups = backups
        self.listed = backups.backups()
        self.chosen: Path | None = None
        self.unregistered = False
        layout = QVBoxLayout(self)
        note = QLabel("只列出备份登记中的备份(由密保在本机建立、建立后未被改动)。恢复后需要重新登录。"
                      if self.listed else "备份登记中没有可用的备份。")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.table = read_only_table(self.HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        fill_table(self.table, [[f"{b.made_at:%Y-%m-%d %H:%M:%S}", KIND_NAMES.get(b.kind, b.kind), b.path.name,
                                 b.anchor or "—"] for b in self.listed])
        if self.listed:
            self.table.selectRow(0)
        layout.addWidget(self.table)
        self.other_button = QPushButton("恢复未登记的文件…")
        self.other_button.clicked.connect(self.choose_other)
        layout.addWidget(self.other_button)
        layout.addWidget(_ok_cancel(self, "恢复"))

    def accept(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            messages.error(self, "从备份恢复", "请先选择一个备份。")
            return
        self.chosen, self.unregistered = self.listed[rows[0].row()].path, False
        super().accept()

    def choose_other(self, path: str | Path | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "选择未登记的文件", str(self.backups.folder),
                                                  "密保数据库 (*.sqlite)")
            if not path:
                return
        path = Path(path)
        registered = self.backups.is_registered(path)
        if not registered and not messages.confirm(self, "未登记的文件", UNREGISTERED_WARNING.format(name=path.name),
                                                   action="仍然恢复", grave=True):
            return
        self.chosen, self.unregistered = path, not registered
        super().accept()


class AnchorDialog(QDialog):
    """核对凭证: the anchors copied from the footers of exports and printouts, or the backup
    register, one a line; the audit service checks each against the chain."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("核对凭证")
        layout = QVBoxLayout(self)
        note = QLabel("请输入导出文件、打印件页脚或备份登记上的“审计链头 序号:校验值前16位”,每行一个。"
                      "审计日志被截断、整体重算或回退到更早的状态时,凭证会不符。")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("例如:1234:0123456789abcdef")
        layout.addWidget(self.text)
        layout.addWidget(_ok_cancel(self, "校验"))

    def anchors(self) -> list[str]:
        return [line.strip() for line in self.text.toPlainText().splitlines() if line.strip()]


__all__ = ["AnchorDialog", "BackupChooser", "RestoreLoginDialog", "ask_restore_login"]
