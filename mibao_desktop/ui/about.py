"""帮助 → 关于密保: the program's name and version, where its data is, and the Qt it runs on —
what a maintainer asks for first (the version also shows in ``mibao --version``)."""

from __future__ import annotations

import platform
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from mibao_desktop import APP_TITLE, __version__
from mibao_desktop.errorlog import log_path


def database_text(db) -> str:
    """The SQLite file, or the PostgreSQL server and database (no password)."""
    if db.path is not None:
        return f"SQLite 文件 {db.path}"
    from sqlalchemy import make_url

    url = make_url(db.url)
    server = f"{url.host or 'localhost'}{':' + str(url.port) if url.port else ''}"
    return f"PostgreSQL 服务器 {server},数据库 {url.database}(用户 {url.username})"


class AboutDialog(QDialog):
    def __init__(self, db, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("关于密保")
        title = QLabel(f"<b>{APP_TITLE}</b>")
        title.setStyleSheet("font-size: 16px;")
        form = QFormLayout()
        self.rows: dict[str, str] = {
            "版本": __version__,
            "数据库": database_text(db),
            "数据文件夹": str(data_dir),
            "错误日志": str(log_path(data_dir)),
            "Qt 版本": f"Qt {qVersion()}(PySide6 {PySide6.__version__})",
            "Python": f"{platform.python_version()}({platform.system()} {platform.machine()})",
        }
        for name, value in self.rows.items():
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy into a report
            label.setWordWrap(True)
            form.addRow(f"{name}:", label)
        note = QLabel("保密台账管理:涉密计算机、存储介质、办公设备、载体和人员。\n"
                      "安装新版本或卸载都不会改动数据文件夹。")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def text(self) -> str:
        return "\n".join(f"{k}:{v}" for k, v in self.rows.items())


def add_about_menu(window, db, data_dir: Path) -> None:
    """帮助 → 关于密保 on a window that has no 帮助 menu of its own (the system administrator's and
    the auditor's windows): every role can tell a maintainer the version and where the data is."""
    menu = window.menuBar().addMenu("帮助(&H)")

    def show() -> None:
        window.about = AboutDialog(db, data_dir, window)
        window.about.open()

    menu.addAction("关于密保", show)
